//! Resources a module asks for: failed instantiations leave nothing behind, and large empty
//! tables cost no memory. In a file of its own so that no other test shares the process
//! whose memory it measures, and one test at a time (`ONE_AT_A_TIME`) for the same reason.

use engine::{Engine, Instance, Module, Store};
use std::sync::Mutex;

/// Held by each test while it measures the process.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A field of `/proc/self/status` in KiB.
fn status_kib(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches(" kB").trim().parse().ok())
        .expect("field present")
}

#[test]
fn failed_instantiations_release_what_they_reserved() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let engine = Engine::default();
    // The memory would reserve 8 GiB of address space; the table is over the engine's limit.
    let module = Module::new(&engine, "(module (memory 1) (table 10000001 funcref))").unwrap();
    let mut store = Store::new(&engine, ());
    let before = status_kib("VmSize:");
    for _ in 0..100 {
        let err = Instance::new(&mut store, &module, &[]).unwrap_err();
        assert!(
            err.to_string().contains("larger than this engine allows"),
            "{err:#}"
        );
    }
    // The first failure's memory reservation may stay in the pool of released
    // reservations (8 GiB of address space, no memory); the others reuse it.
    let growth_gib = status_kib("VmSize:").saturating_sub(before) >> 20;
    assert!(growth_gib <= 8, "address space grew by {growth_gib} GiB");
}

#[test]
fn large_empty_tables_cost_no_memory() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let engine = Engine::default();
    let tables = "(table 10000000 funcref) ".repeat(10);
    let module = Module::new(&engine, format!("(module {tables})")).unwrap();
    let mut store = Store::new(&engine, ());
    let before = status_kib("VmRSS:");
    Instance::new(&mut store, &module, &[]).unwrap();
    let growth_mib = status_kib("VmRSS:").saturating_sub(before) >> 10;
    assert!(
        growth_mib < 64,
        "RSS grew by {growth_mib} MiB for 100M null elements"
    );
}

#[test]
fn oversized_constant_expression_arrays_cost_no_host_memory() {
    // 3·10^8 one-byte elements: larger than the heap, so refused before anything is
    // allocated (once staged on the host as 16 bytes per element: 4.7 GB).
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (type $a (array i8))
            (global (ref $a) (array.new_default $a (i32.const 300000000))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let before = status_kib("VmHWM:");
    for _ in 0..3 {
        let err = Instance::new(&mut store, &module, &[]).unwrap_err();
        assert_eq!(
            err.downcast_ref::<engine::Trap>(),
            Some(&engine::Trap::AllocationTooLarge),
            "{err:#}"
        );
    }
    let growth_mib = status_kib("VmHWM:").saturating_sub(before) >> 10;
    assert!(growth_mib < 64, "peak RSS grew by {growth_mib} MiB");
}
