//! A seeded run against Wasmtime 48: random GC modules agree in both engines, in this
//! engine's normal and GC stress modes and against both of Wasmtime's collectors.

use fuzz::{Wasmtime, WasmtimeCollector};
use tests::differential::{CaseOutcome, Features, Plan, ThisEngine, run_case};
use tests::fuzz::seeded_bytes;

#[test]
fn this_engine_and_wasmtime_agree_on_random_modules() {
    let features = Features {
        gc: true,
        exceptions: true,
        termination_fuel: 1_000,
    };
    let mut modules = 0;
    for (stress, collector) in [
        (false, WasmtimeCollector::Drc),
        (true, WasmtimeCollector::Copying),
    ] {
        let mut ours = ThisEngine::new(stress, false).unwrap();
        let mut theirs = Wasmtime::new(features, collector, false).unwrap();
        for seed in 0..200u64 {
            let data = seeded_bytes(seed, 16 << 10);
            let plan = Plan { seed, fuel: None };
            match run_case(&data, features, &plan, &mut ours, &mut theirs) {
                CaseOutcome::Agreed { .. } => modules += 1,
                CaseOutcome::NoModule => {}
                CaseOutcome::Diverged { divergence, .. } => {
                    panic!("seed {seed} (stress {stress}, {collector:?}): {divergence}")
                }
            }
        }
    }
    assert!(modules >= 300, "{modules} modules");
}
