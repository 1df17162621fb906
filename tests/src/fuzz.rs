//! Fuzzing logic, shared by the seeded smoke test in `tests/tests/fuzz_smoke.rs` and any
//! fuzz target (a thin wrapper calling [`run`] on the fuzzer's input).
//!
//! From arbitrary bytes, wasm-smith builds a valid module using only features the engine
//! supports, with every loop and call charged against a fuel global so it terminates. The
//! module must compile; then it is instantiated and every exported function is called with
//! default arguments. Traps and errors are fine; a panic or a crash is a bug.

use anyhow::{Context, Result, bail};
use arbitrary::Unstructured;
use engine::{Config, Engine, Extern, Instance, Module, Store, Trap, Val};

/// What one input exercised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the bytes were enough to build a module.
    pub built: bool,
    /// Whether instantiation succeeded (it may trap in a segment or the start function).
    pub instantiated: bool,
    /// Exported functions called.
    pub calls: usize,
    /// Of those, calls that trapped.
    pub traps: usize,
}

/// The wasm-smith configuration: the engine's features only, no imports, small memories
/// and tables, and every item exported.
pub fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        simd_enabled: true,
        relaxed_simd_enabled: true,
        exceptions_enabled: true,
        gc_enabled: true,
        threads_enabled: false,
        memory64_enabled: true,
        wide_arithmetic_enabled: true,
        custom_page_sizes_enabled: true,
        shared_everything_threads_enabled: false,
        reference_types_enabled: true,
        tail_call_enabled: true,
        multi_value_enabled: true,
        bulk_memory_enabled: true,
        extended_const_enabled: true,
        max_imports: 0,
        max_memories: 2,
        max_memory32_bytes: 16 << 20,
        max_memory64_bytes: 16 << 20,
        max_tables: 3,
        max_table_elements: 10_000,
        export_everything: true,
        min_funcs: 1,
        ..wasm_smith::Config::default()
    }
}

/// Runs one input: builds, compiles, instantiates and calls. Traps and uncaught exceptions
/// are fine. `Err` means the engine did
/// something wrong short of a crash (a valid module that failed to compile).
pub fn run(data: &[u8], gc_stress: bool) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    let mut u = Unstructured::new(data);
    let Ok(mut module) = wasm_smith::Module::new(smith_config(), &mut u) else {
        return Ok(outcome);
    };
    module.ensure_termination(1_000).context("adding fuel")?;
    outcome.built = true;
    let bytes = module.to_bytes();

    let mut config = Config::new();
    // Arrays of hundreds of megabytes exhaust a small heap at once instead of being zeroed.
    config.gc_stress(gc_stress).gc_heap_max_size(32 << 20);
    let engine = Engine::new(&config)?;
    let module = Module::from_binary(&engine, &bytes)
        .context("a valid module generated for the engine's features failed to compile")?;
    let mut store = Store::new(&engine, ());
    let instance = match Instance::new(&mut store, &module, &[]) {
        Ok(instance) => instance,
        Err(err) if trapped(&err) => return Ok(outcome),
        Err(err) => bail!("instantiation without imports failed without a trap: {err:#}"),
    };
    outcome.instantiated = true;
    for (_, export) in instance.exports(&store) {
        let Extern::Func(func) = export else { continue };
        let ty = func.ty(&store);
        let params: Vec<Val> = ty.params().iter().map(Val::default_for).collect();
        let mut results: Vec<Val> = ty.results().iter().map(Val::default_for).collect();
        outcome.calls += 1;
        // Errors other than traps are argument type errors (a non-nullable reference
        // parameter has no default value): fine.
        if let Err(err) = func.call(&mut store, &params, &mut results)
            && trapped(&err)
        {
            outcome.traps += 1;
        }
    }
    store.gc();
    Ok(outcome)
}

/// Whether a call's error is Wasm's doing: a trap or an uncaught exception.
fn trapped(err: &anyhow::Error) -> bool {
    err.downcast_ref::<Trap>().is_some() || err.downcast_ref::<engine::ThrownException>().is_some()
}

/// `len` deterministic pseudo-random bytes for `seed` (SplitMix64).
pub fn seeded_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}
