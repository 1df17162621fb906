//! Helpers shared by the workspace integration tests in `tests/tests/`, and the fuzzing
//! logic ([`fuzz`]).

pub mod fuzz;

use engine::{Engine, Instance, Module, Store};
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
