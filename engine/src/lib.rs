//! A WebAssembly engine that compiles Wasm to native code with Cranelift.
//!
//! The embedding API follows Wasmtime's shape: an [`Engine`] compiles [`Module`]s, a
//! [`Store`] owns the runtime objects an [`Instance`] creates, a [`Linker`] resolves
//! imports by name, and [`Func`]s are called with [`Val`]s or through a [`TypedFunc`].
//! Traps come back as errors carrying a [`Trap`] and a [`WasmBacktrace`]. GC references
//! reach the host as [`ExternRef`] and [`AnyRef`] handles; [`StructRef`] and [`ArrayRef`]
//! read and write the fields of GC objects and allocate objects of host-built
//! [`StructType`]s and [`ArrayType`]s.
//!
//! ```
//! use engine::{Engine, Module, Store, Instance};
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"(module
//!     (func (export "add") (param i32 i32) (result i32)
//!         local.get 0 local.get 1 i32.add))"#)?;
//! let mut store = Store::new(&engine, ());
//! let instance = Instance::new(&mut store, &module, &[])?;
//! let add = instance.get_typed_func::<(i32, i32), i32>(&store, "add")?;
//! assert_eq!(add.call(&mut store, (2, 3))?, 5);
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Layout: every top-level file is embedding API (one file per host-facing type or
//! family); every folder is internal. `environ/` parses and validates with wasmparser
//! (into `ModuleInfo`, the parsed form), `runtime/` holds the store's internals (the GC
//! side of a store, the type registry with its GC layouts, host roots, instantiation and
//! constant expressions), `translate/` turns each function body into Cranelift IR,
//! `compile/` produces and places machine code, `vm/` holds the structures compiled code
//! shares with the runtime, and `traphandlers/` turns faults in compiled code into errors.
//! See `ARCHITECTURE.md` at the repository root.
#![deny(missing_docs)]

mod anyref;
mod arrayref;
mod compile;
mod config;
mod engine;
mod environ;
mod eqref;
mod exnref;
mod externals;
mod externref;
mod func;
mod instance;
mod limits;
mod linker;
mod module;
mod recgroup;
mod runtime;
mod store;
mod structref;
mod tag;
mod translate;
mod trap;
mod traphandlers;
mod typed;
mod types;
mod values;
mod vm;

pub use anyref::{AnyRef, I31};
pub use arrayref::{ArrayRef, ArrayType};
pub use config::{Collector, Config, OptLevel};
pub use engine::Engine;
pub use eqref::EqRef;
pub use exnref::{ExnRef, ThrownException};
pub use externals::{Extern, Global, Memory, MemoryAccessError, Table};
pub use externref::ExternRef;
pub use func::{Caller, Func};
pub use instance::Instance;
pub use limits::{
    DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT, ResourceLimiter,
    StoreLimits, StoreLimitsBuilder,
};
pub use linker::{InstancePre, Linker};
pub use module::{ExportType, ImportType, Module};
pub use recgroup::{GroupType, RecGroupBuilder};
pub use runtime::registry::VMSharedTypeIndex;
pub use store::{AsContext, AsContextMut, Store, StoreContext, StoreContextMut, UpdateDeadline};
pub use structref::{StructRef, StructType};
pub use tag::{Tag, TagType};
pub use translate::TranslateError;
pub use trap::{FrameInfo, Trap, WasmBacktrace, error_report};
pub use typed::{
    IntoFunc, MAX_TYPED_ARITY, TypedFunc, V128, WasmParams, WasmResults, WasmRet, WasmTy,
    WithCaller,
};
pub use types::{
    ExternType, FieldType, Finality, FuncType, GlobalType, HeapType, MemoryType, Mutability,
    RefType, StorageType, TableType, ValType,
};
pub use values::{Ref, Val};
pub use vm::ValRaw;
pub use wasmparser::WasmFeatures;
