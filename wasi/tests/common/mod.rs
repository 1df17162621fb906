//! What the wasi crate's test programs share: running a command and reading its output.

use engine::{Linker, Module, Store};
use std::io::Cursor;
use wasi::{WasiCtx, WritePipe};

/// Instantiates `module` in `store` and runs its `_start`: the exit status, or the error.
pub fn run_start(
    linker: &Linker<WasiCtx>,
    store: &mut Store<WasiCtx>,
    module: &Module,
) -> anyhow::Result<i32> {
    let result = linker
        .instantiate(&mut *store, module)
        .and_then(|i| i.get_typed_func::<(), ()>(&*store, "_start"))
        .and_then(|start| start.call(&mut *store, ()));
    wasi::exit_status(result)
}

/// What was written to an in-memory pipe, once the store that shared it is dropped.
pub fn text(pipe: WritePipe<Cursor<Vec<u8>>>) -> String {
    let bytes = pipe
        .try_into_inner()
        .unwrap_or_else(|_| panic!("the store sharing the pipe is still alive"))
        .into_inner();
    String::from_utf8_lossy(&bytes).into_owned()
}
