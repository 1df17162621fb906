//! A seeded run of the fuzzing logic (`tests::fuzz`): random valid modules compile, and
//! instantiating them and calling their exports traps or succeeds, never panics or crashes,
//! normally and in GC stress mode.

use tests::fuzz::{run, seeded_bytes};

#[test]
fn random_modules_compile_and_run_without_panics() {
    let mut totals = (0, 0, 0, 0);
    for seed in 0..200u64 {
        let data = seeded_bytes(seed, 16 << 10);
        for gc_stress in [false, true] {
            let outcome = run(&data, gc_stress).unwrap_or_else(|e| panic!("seed {seed}: {e:#}"));
            totals.0 += usize::from(outcome.built);
            totals.1 += usize::from(outcome.instantiated);
            totals.2 += outcome.calls;
            totals.3 += outcome.traps;
        }
    }
    // The run must exercise something: modules built, instances made, functions called.
    let (built, instantiated, calls, traps) = totals;
    println!("built {built}, instantiated {instantiated}, calls {calls}, traps {traps}");
    assert_eq!(built, 400, "every input builds a module");
    // Observed with these seeds (GC, exceptions, SIMD, relaxed SIMD, memory64, wide
    // arithmetic and custom page sizes on): 370 instantiated, 328 calls, 250 traps or
    // uncaught exceptions (mostly wasm-smith's termination fuel).
    assert!(instantiated >= 300, "only {instantiated} instantiated");
    assert!(calls >= 250, "only {calls} calls ({traps} trapped)");
    assert!(calls > traps, "every call trapped");
}
