//! WASI preview 1 (`wasi_snapshot_preview1`) for the engine.
//!
//! The system interface itself, every function of preview 1 with its errno rules and its
//! sandbox, is `wasi-common`'s, run through its `sync` implementation on `cap-std`. Guest
//! paths resolve inside their preopened directory by capability (`openat2`-style), never by
//! checking path strings, so `..`, absolute paths and symlinks cannot leave it. This crate
//! holds what joins that to the engine:
//!
//! - [`WasiCtxBuilder`] (`builder.rs`): the arguments, environment, stdio and preopened
//!   directories (host path mapped to guest path) a program sees;
//! - [`add_to_linker`] (`preview1.rs`): defines all 46 functions of
//!   `wasi_snapshot_preview1` on an [`engine::Linker`] as typed host functions;
//! - [`exit_status`]: a run's result as a process exit status; `proc_exit(n)` ends a run
//!   with an error carrying [`I32Exit`], which unwinds through Wasm frames only.
//!
//! ```no_run
//! use engine::{Engine, Linker, Module, Store};
//! use wasi::{WasiCtx, WasiCtxBuilder};
//! let engine = Engine::default();
//! let module = Module::from_file(&engine, "hello.wasm")?;
//! let mut linker = Linker::<WasiCtx>::new(&engine);
//! wasi::add_to_linker(&mut linker, |cx| cx)?;
//! let ctx = WasiCtxBuilder::new().arg("hello")?.inherit_stdio().preopened_dir(".", "/")?.build();
//! let mut store = Store::new(&engine, ctx);
//! let instance = linker.instantiate(&mut store, &module)?;
//! let start = instance.get_typed_func::<(), ()>(&store, "_start")?;
//! let status = wasi::exit_status(start.call(&mut store, ()))?;
//! std::process::exit(status);
//! # Ok::<(), anyhow::Error>(())
//! ```
#![deny(missing_docs)]

mod builder;
mod preview1;

pub use builder::WasiCtxBuilder;
pub use preview1::{MODULE, add_to_linker};
pub use wasi_common::pipe::{ReadPipe, WritePipe};
pub use wasi_common::{I32Exit, WasiCtx, WasiFile};

/// The exit status of a run that returned `result`: 0 if it returned, `n` if it called
/// `proc_exit(n)`; any other error (a trap, a host error) is passed on.
pub fn exit_status<R>(result: anyhow::Result<R>) -> anyhow::Result<i32> {
    match result {
        Ok(_) => Ok(0),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => Ok(exit.0),
            None => Err(e),
        },
    }
}
