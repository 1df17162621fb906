//! Helpers shared by the workspace integration tests in `tests/tests/`, and the fuzzing
//! logic: [`fuzz`] (this engine alone) and [`differential`] (two engines compared, used by
//! the `fuzz/` workspace against Wasmtime).

pub mod differential;
pub mod fuzz;

use engine::{Config, Engine, Func, FuncType, Instance, Linker, Module, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A host value that counts its drops into a shared counter.
pub struct Counted(pub Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Resident set size of this process in bytes (Linux).
pub fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * 4096
}

/// Compiles `wat` and instantiates it without imports in a fresh store.
pub fn instantiate(wat: &str) -> anyhow::Result<(Store<()>, Instance)> {
    let engine = Engine::default();
    let module = Module::new(&engine, wat)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    Ok((store, instance))
}

/// Compiles `wat` with `config` and instantiates it in a fresh store, offering one import:
/// `host.gc`, a host function that runs a full collection.
pub fn instantiate_with_gc(config: &Config, wat: &str) -> anyhow::Result<(Store<()>, Instance)> {
    let engine = Engine::new(config)?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let gc = Func::new(&mut store, FuncType::new([], []), |mut caller, _, _| {
        caller.gc();
        Ok(())
    });
    linker.define(&store, "host", "gc", gc)?;
    let module = Module::new(&engine, wat)?;
    let instance = linker.instantiate(&mut store, &module)?;
    Ok((store, instance))
}
