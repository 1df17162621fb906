//! Cranelift IR for garbage-collected references.
//!
//! [`GcCompiler`] is what the engine's translator asks for whenever a GC reference is
//! loaded from or stored to memory the collector watches (a table element, a global, later
//! a struct field or array element). [`DrcCompiler`] implements it for the
//! deferred-reference-counting collector: stores pay the write barrier (increment the new
//! value, store, decrement the old one, calling the runtime when a count reaches zero) and
//! loads are plain loads, because references held by Wasm frames are not counted. It also
//! emits inline allocation by bumping the heap's cursor ([`DrcCompiler::emit_bump_alloc`]).
//! Everything runtime-specific comes through [`GcCompileEnv`]; every offset comes from
//! `gc-core`'s [`GcLayouts`].
//!
//! ```
//! use gc_compiler::{DrcCompiler, GC_REF_TYPE};
//! let drc = DrcCompiler::new(&gc_heap_layouts(), true);
//! assert_eq!(GC_REF_TYPE.bits(), 32);
//! # fn gc_heap_layouts() -> gc_core::GcLayouts {
//! #     gc_core::GcLayouts { header_size: 16, object_align: 16, ref_count_offset: Some(8),
//! #         externref_host_data_offset: 16, externref_size: 32, bump: None }
//! # }
//! # let _ = drc;
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod drc;

pub use drc::DrcCompiler;

use cranelift_codegen::ir::{MemFlagsData, TrapCode, Type, Value, types};
use cranelift_frontend::FunctionBuilder;
pub use gc_core::GcLayouts;

/// The Cranelift type of a GC reference in compiled code: a 32-bit heap index.
pub const GC_REF_TYPE: Type = types::I32;

/// What GC code emission needs from the function being translated.
pub trait GcCompileEnv {
    /// The GC heap's base address (pointer-sized).
    fn gc_heap_base(&mut self, b: &mut FunctionBuilder<'_>) -> Value;
    /// The number of bytes accessible from the base (pointer-sized).
    fn gc_heap_bound(&mut self, b: &mut FunctionBuilder<'_>) -> Value;
    /// Emits the runtime call for a reference whose count compiled code just set to zero.
    fn gc_note_zero_count(&mut self, b: &mut FunctionBuilder<'_>, gc_ref: Value);
    /// The trap raised when a reference points outside the heap (a corrupt heap).
    fn gc_heap_out_of_bounds(&self) -> TrapCode;
}

/// Emits loads and stores of GC references for one collector.
pub trait GcCompiler {
    /// Loads a GC reference from `addr + offset`, with any read barrier the collector
    /// needs.
    fn load_gc_ref(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        flags: MemFlagsData,
        addr: Value,
        offset: i32,
    ) -> Value;

    /// Stores GC reference `value` to `addr + offset`, with the write barrier.
    fn store_gc_ref(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        flags: MemFlagsData,
        addr: Value,
        offset: i32,
        value: Value,
    );
}
