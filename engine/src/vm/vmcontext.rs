//! The structures compiled code reads and writes, and their offsets: defined once here and
//! used by both the translator and the runtime.
//!
//! An instance's `VMContext` is one allocation laid out as:
//!
//! ```text
//! 0   instance:   *mut InstanceData      back pointer for libcalls
//! 8   store:      *mut VMStoreContext    stack limit, exit frame, store pointer
//! 16  builtins:   *const VMBuiltins      libcall function pointers
//! 24  type_ids:   *const u32             module type index -> VMSharedTypeIndex
//! 32  memories:   [*mut VMMemoryDefinition; num_memories]
//!     tables:     [*mut VMTableDefinition; num_tables]
//!     globals:    [*mut VMGlobalDefinition; num_globals]
//!     funcrefs:   [VMFuncRef; num_funcs]   imported first, then defined
//!     tags:       [u32; num_tags]          each tag's identity in the store
//!     data:       [(*const u8, usize); num_data]  each data segment's bytes (8-aligned;
//!                                          length 0 once dropped)
//! ```

use std::mem::{offset_of, size_of};

/// A raw Wasm value as passed between host and compiled code: 16 bytes, little-endian from
/// offset 0, so that a `v128` fits.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct ValRaw([u8; 16]);

impl std::fmt::Debug for ValRaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ValRaw({:#x})", u128::from_le_bytes(self.0))
    }
}

impl ValRaw {
    /// From a 32-bit integer (or float bits).
    pub fn from_u32(v: u32) -> ValRaw {
        ValRaw::from_u128(u128::from(v))
    }
    /// From a 64-bit integer (or float bits, or a pointer).
    pub fn from_u64(v: u64) -> ValRaw {
        ValRaw::from_u128(u128::from(v))
    }
    /// From 128 bits.
    pub fn from_u128(v: u128) -> ValRaw {
        ValRaw(v.to_le_bytes())
    }
    /// The low 32 bits.
    pub fn get_u32(&self) -> u32 {
        self.get_u128() as u32
    }
    /// The low 64 bits.
    pub fn get_u64(&self) -> u64 {
        self.get_u128() as u64
    }
    /// All 128 bits.
    pub fn get_u128(&self) -> u128 {
        u128::from_le_bytes(self.0)
    }
}

/// A function reference as compiled code sees it: where to call, with which callee
/// `VMContext`, and the callee's canonical type for `call_indirect` checks.
#[derive(Debug)]
#[repr(C)]
pub struct VMFuncRef {
    /// Code with the Wasm (tail) calling convention: `(callee_vmctx, caller_vmctx, params..)`.
    pub wasm_call: *const u8,
    /// The callee's context: an instance `VMContext`, or a host function's context.
    pub vmctx: *mut u8,
    /// The engine-wide canonical index of the function's type.
    pub type_index: u32,
    _pad: u32,
}

impl VMFuncRef {
    /// A function reference.
    pub fn new(wasm_call: *const u8, vmctx: *mut u8, type_index: u32) -> Self {
        VMFuncRef {
            wasm_call,
            vmctx,
            type_index,
            _pad: 0,
        }
    }
}

/// A linear memory as compiled code sees it.
#[derive(Debug)]
#[repr(C)]
pub struct VMMemoryDefinition {
    /// The start of the memory. Never moves: the whole reservation is made up front.
    pub base: *mut u8,
    /// The accessible length in bytes.
    pub current_length: usize,
}

/// A table as compiled code sees it: an array of pointer-sized elements.
#[derive(Debug)]
#[repr(C)]
pub struct VMTableDefinition {
    /// The first element. Moves when the table grows.
    pub base: *mut usize,
    /// The number of elements.
    pub current_elements: usize,
}

/// A global's storage.
#[derive(Debug, Default)]
#[repr(C)]
pub struct VMGlobalDefinition {
    /// The value, laid out as a `ValRaw`.
    pub value: ValRaw,
}

/// Per-store state compiled code reads: one per store, shared by all its instances.
#[derive(Debug)]
#[repr(C)]
pub struct VMStoreContext {
    /// The lowest stack address Wasm may use; prologues compare the stack pointer with it.
    pub stack_limit: usize,
    /// The frame pointer of the last Wasm frame that called out to the host, or 0.
    pub last_exit_fp: usize,
    /// The return address of that call, or 0.
    pub last_exit_pc: usize,
    /// The GC heap's base address.
    pub gc_heap_base: usize,
    /// The number of bytes compiled code may access from `gc_heap_base`.
    pub gc_heap_bound: usize,
    /// The store's function-reference table: GC objects hold indices into it, not
    /// pointers. Moves when the table grows.
    pub func_table_base: *const usize,
    /// Its number of entries.
    pub func_table_len: usize,
    /// The whole store (`StoreInner<T>`, whose `StoreOpaque` comes first) as the innermost
    /// host-to-Wasm entry derived it from its unique borrow; null outside Wasm. Host code
    /// that Wasm calls (builtins, host functions) borrows the store through this pointer
    /// only, so that its borrow is derived from the entry's, which is not used meanwhile.
    pub store: *mut u8,
    /// Fuel consumed, counting up from minus the fuel set: compiled code (with
    /// `Config::consume_fuel`) traps once it is no longer negative.
    pub fuel_consumed: i64,
    /// The epoch at which compiled code (with `Config::epoch_interruption`) stops to ask
    /// the store what to do.
    pub epoch_deadline: u64,
    /// The engine's epoch counter, which outlives the store.
    pub epoch_ptr: *const std::sync::atomic::AtomicU64,
    /// The result of the last builtin called through a register-preserving trampoline
    /// (`Builtin::preserves_all`), which returns nothing in registers.
    pub builtin_status: u32,
}

// SAFETY: the pointers point into the owning store (its function table, the store itself)
// and move with it.
unsafe impl Send for VMStoreContext {}

impl Default for VMStoreContext {
    fn default() -> Self {
        VMStoreContext {
            stack_limit: usize::MAX,
            last_exit_fp: 0,
            last_exit_pc: 0,
            gc_heap_base: 0,
            gc_heap_bound: 0,
            func_table_base: std::ptr::null(),
            func_table_len: 0,
            store: std::ptr::null_mut(),
            fuel_consumed: 0,
            epoch_deadline: 0,
            epoch_ptr: std::ptr::null(),
            builtin_status: 0,
        }
    }
}

/// Offsets of the `VMContext` header fields.
pub mod header {
    /// `*mut InstanceData`.
    pub const INSTANCE: i32 = 0;
    /// `*mut VMStoreContext`.
    pub const STORE: i32 = 8;
    /// `*const VMBuiltins`.
    pub const BUILTINS: i32 = 16;
    /// `*const u32` type id array.
    pub const TYPE_IDS: i32 = 24;
    /// Size of the header.
    pub const SIZE: u32 = 32;
}

/// Field offsets within the structures above, as `i32` for Cranelift immediates.
pub mod field {
    use super::*;
    /// `VMFuncRef::wasm_call`.
    pub const FUNCREF_WASM_CALL: i32 = offset_of!(VMFuncRef, wasm_call) as i32;
    /// `VMFuncRef::vmctx`.
    pub const FUNCREF_VMCTX: i32 = offset_of!(VMFuncRef, vmctx) as i32;
    /// `VMFuncRef::type_index`.
    pub const FUNCREF_TYPE_INDEX: i32 = offset_of!(VMFuncRef, type_index) as i32;
    /// `VMMemoryDefinition::base`.
    pub const MEMORY_BASE: i32 = offset_of!(VMMemoryDefinition, base) as i32;
    /// `VMMemoryDefinition::current_length`.
    pub const MEMORY_LENGTH: i32 = offset_of!(VMMemoryDefinition, current_length) as i32;
    /// `VMTableDefinition::base`.
    pub const TABLE_BASE: i32 = offset_of!(VMTableDefinition, base) as i32;
    /// `VMTableDefinition::current_elements`.
    pub const TABLE_LENGTH: i32 = offset_of!(VMTableDefinition, current_elements) as i32;
    /// `VMStoreContext::stack_limit`.
    pub const STORE_STACK_LIMIT: i32 = offset_of!(VMStoreContext, stack_limit) as i32;
    /// `VMStoreContext::last_exit_fp`.
    pub const STORE_LAST_EXIT_FP: i32 = offset_of!(VMStoreContext, last_exit_fp) as i32;
    /// `VMStoreContext::last_exit_pc`.
    pub const STORE_LAST_EXIT_PC: i32 = offset_of!(VMStoreContext, last_exit_pc) as i32;
    /// `VMStoreContext::gc_heap_base`.
    pub const STORE_GC_HEAP_BASE: i32 = offset_of!(VMStoreContext, gc_heap_base) as i32;
    /// `VMStoreContext::gc_heap_bound`.
    pub const STORE_GC_HEAP_BOUND: i32 = offset_of!(VMStoreContext, gc_heap_bound) as i32;
    /// `VMStoreContext::func_table_base`.
    pub const STORE_FUNC_TABLE_BASE: i32 = offset_of!(VMStoreContext, func_table_base) as i32;
    /// `VMStoreContext::func_table_len`.
    pub const STORE_FUNC_TABLE_LEN: i32 = offset_of!(VMStoreContext, func_table_len) as i32;
    /// `VMStoreContext::fuel_consumed`.
    pub const STORE_FUEL_CONSUMED: i32 = offset_of!(VMStoreContext, fuel_consumed) as i32;
    /// `VMStoreContext::epoch_deadline`.
    pub const STORE_EPOCH_DEADLINE: i32 = offset_of!(VMStoreContext, epoch_deadline) as i32;
    /// `VMStoreContext::epoch_ptr`.
    pub const STORE_EPOCH_PTR: i32 = offset_of!(VMStoreContext, epoch_ptr) as i32;
    /// `VMStoreContext::builtin_status`.
    pub const STORE_BUILTIN_STATUS: i32 = offset_of!(VMStoreContext, builtin_status) as i32;
    /// Size of a `VMFuncRef`.
    pub const FUNCREF_SIZE: u32 = size_of::<VMFuncRef>() as u32;
    /// Size of a data segment's entry (pointer and length).
    pub const DATA_SIZE: u32 = 16;
    /// Offset of a data segment's length in its entry.
    pub const DATA_LENGTH: i32 = 8;
    /// Size of a `ValRaw`.
    pub const VALRAW_SIZE: u32 = size_of::<ValRaw>() as u32;
}

/// Where each region of a module's `VMContext` starts.
#[derive(Clone, Debug, Default)]
pub struct VMOffsets {
    /// Number of memories, imported and defined.
    pub num_memories: u32,
    /// Number of tables, imported and defined.
    pub num_tables: u32,
    /// Number of globals, imported and defined.
    pub num_globals: u32,
    /// Number of functions, imported and defined.
    pub num_funcs: u32,
    /// Number of tags, imported and defined.
    pub num_tags: u32,
    /// Number of data segments.
    pub num_data: u32,
}

impl VMOffsets {
    /// Offset of the pointer to memory `i`'s definition.
    pub fn memory(&self, i: u32) -> u32 {
        header::SIZE + 8 * i
    }
    /// Offset of the pointer to table `i`'s definition.
    pub fn table(&self, i: u32) -> u32 {
        self.memory(self.num_memories) + 8 * i
    }
    /// Offset of the pointer to global `i`'s storage.
    pub fn global(&self, i: u32) -> u32 {
        self.table(self.num_tables) + 8 * i
    }
    /// Offset of function `i`'s `VMFuncRef`.
    pub fn funcref(&self, i: u32) -> u32 {
        self.global(self.num_globals) + field::FUNCREF_SIZE * i
    }
    /// Offset of tag `i`'s identity (a `u32`: its index in the store).
    pub fn tag(&self, i: u32) -> u32 {
        self.funcref(self.num_funcs) + 4 * i
    }
    /// Offset of data segment `i`'s bytes: a pointer, then (8 bytes later) the length, 0
    /// once the segment is dropped. Compiled `array.new_data` copies from there.
    pub fn data(&self, i: u32) -> u32 {
        self.tag(self.num_tags).next_multiple_of(8) + field::DATA_SIZE * i
    }
    /// Total size in bytes.
    pub fn size(&self) -> u32 {
        self.data(self.num_data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_the_offsets_compiled_code_uses() {
        assert_eq!(size_of::<VMFuncRef>(), 24);
        assert_eq!(size_of::<ValRaw>(), 16);
        assert_eq!(field::FUNCREF_WASM_CALL, 0);
        assert_eq!(field::FUNCREF_VMCTX, 8);
        assert_eq!(field::FUNCREF_TYPE_INDEX, 16);
        assert_eq!(field::MEMORY_LENGTH, 8);
        assert_eq!(field::STORE_STACK_LIMIT, 0);
    }

    #[test]
    fn regions_follow_each_other() {
        let o = VMOffsets {
            num_memories: 1,
            num_tables: 2,
            num_globals: 3,
            num_funcs: 4,
            num_tags: 3,
            num_data: 2,
        };
        assert_eq!(o.memory(0), 32);
        assert_eq!(o.table(0), 40);
        assert_eq!(o.global(0), 56);
        assert_eq!(o.funcref(0), 80);
        assert_eq!(o.tag(0), 80 + 4 * 24);
        // Data segments' pointers are 8-aligned after the tags.
        assert_eq!(o.data(0), 80 + 4 * 24 + 16);
        assert_eq!(o.size(), 80 + 4 * 24 + 16 + 2 * 16);
    }

    #[test]
    fn valraw_is_little_endian() {
        let v = ValRaw::from_u64(0x1122_3344_5566_7788);
        assert_eq!(v.get_u32(), 0x5566_7788);
        assert_eq!(v.0[0], 0x88);
    }
}
