//! Runtime structures shared with compiled code: the `VMContext` layout, memories, tables,
//! instances' runtime data, and the builtins compiled code calls.

mod func_table;
mod instance;
mod libcalls;
mod memory;
mod table;
mod vmcontext;

pub(crate) use func_table::FuncRefTable;
pub(crate) use instance::{GlobalData, InstanceData};
pub(crate) use libcalls::{Builtin, GROW_TRAP, GcStatus};
pub(crate) use memory::LinearMemory;
pub(crate) use table::TableData;
pub use vmcontext::{
    VMFuncRef, VMGlobalDefinition, VMMemoryDefinition, VMOffsets, VMStoreContext,
    VMTableDefinition, ValRaw, field, header,
};
