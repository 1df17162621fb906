//! Cranelift IR for garbage-collected objects: the whole compile-time interface between the
//! engine's translator and a collector.
//!
//! - [`GcCompiler`]: what the translator asks of a collector: its object layouts,
//!   allocation (inline fast path and runtime slow path), initialising stores into new
//!   objects, loads and stores of references with their barriers, header and array-length
//!   loads, and object addresses with their bounds checks. The layout-driven parts are
//!   provided methods, written once; a collector supplies its barriers.
//! - [`GcCompileEnv`]: what emission needs from the function being translated (heap base
//!   and bound, runtime calls, the trap for a corrupt reference).
//! - [`DrcCompiler`]: the deferred-reference-counting collector (stores pay the write
//!   barrier; loads are plain, since references held by Wasm frames are not counted).
//! - [`NullCompiler`]: the null collector (no barriers at all).
//!
//! Every offset comes from `gc-core`'s [`GcLayouts`].
//!
//! ```
//! use gc_compiler::{DrcCompiler, GcCompiler, GC_REF_TYPE};
//! let drc = DrcCompiler::new(&gc_core::DRC_LAYOUTS, true);
//! assert_eq!(drc.layouts().header_size, gc_core::DrcHeader::SIZE);
//! assert_eq!(GC_REF_TYPE.bits(), 32);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod access;
mod alloc;
mod drc;
mod null;

pub use drc::DrcCompiler;
pub use null::NullCompiler;

use cranelift_codegen::ir::{InstBuilder, MemFlagsData, TrapCode, Type, Value, types};
use cranelift_frontend::FunctionBuilder;
pub use gc_core::GcLayouts;
use gc_core::VMGcKind;

/// The Cranelift type of a GC reference in compiled code: a 32-bit heap index.
pub const GC_REF_TYPE: Type = types::I32;

/// What GC code emission needs from the function being translated.
pub trait GcCompileEnv {
    /// The GC heap's base address (pointer-sized).
    fn gc_heap_base(&mut self, b: &mut FunctionBuilder<'_>) -> Value;
    /// The number of bytes accessible from the base (pointer-sized).
    fn gc_heap_bound(&mut self, b: &mut FunctionBuilder<'_>) -> Value;
    /// Emits the runtime call of the write barrier's slow path
    /// (`gc_core::GcHeap::barrier_slow_path`) for each of `[logged, released]` that is not
    /// null (`i32` zero): `logged` is a young object compiled code just counted and that is
    /// not logged, `released` one whose count it just set to zero. The DRC barriers call it
    /// only when the heap's barrier log is full (or the heap has none). The call never
    /// collects, so it is no safepoint: values live across it need no stack slot.
    fn gc_barrier_slow_path(&mut self, b: &mut FunctionBuilder<'_>, refs: [Value; 2]);
    /// Emits the runtime call that makes heap object `r` (not null, not an `i31`) an
    /// `externref` (`gc_core::GcHeap::externalize`).
    fn gc_externalize(&mut self, b: &mut FunctionBuilder<'_>, r: Value);
    /// Emits the runtime's allocation of a zeroed `size`-byte object (an `i64`) of `kind`
    /// and canonical type `ty` (an `i32`), which may collect and traps if the heap cannot
    /// hold the object; returns the new reference.
    fn gc_alloc_slow(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        kind: VMGcKind,
        ty: Value,
        size: Value,
    ) -> Value;
    /// The trap raised when a reference points outside the heap (a corrupt heap).
    fn gc_heap_out_of_bounds(&self) -> TrapCode;
}

/// What a slot's static type says about the references it holds, so that barriers can skip
/// the tests it rules out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcRefKind {
    /// Whether the slot may hold null.
    pub nullable: bool,
    /// Whether the slot may hold an `i31` (no heap object).
    pub may_be_i31: bool,
    /// Whether the slot may hold a young object of a generational collector: not an
    /// `externref` slot, since converting to `externref` promotes
    /// ([`GcCompiler::extern_convert_any`]).
    pub may_be_young: bool,
}

impl GcRefKind {
    /// Nothing known: null, `i31` and young objects all possible.
    pub const ANY: GcRefKind = GcRefKind {
        nullable: true,
        may_be_i31: true,
        may_be_young: true,
    };
}

/// The size of an object to allocate.
#[derive(Clone, Copy, Debug)]
pub enum GcSize {
    /// Known at compile time (a struct's, an exception's).
    Const(u32),
    /// Known at run time: an `i64` below 2^40 (an array's).
    Dynamic(Value),
}

/// A collector's code emission. The provided methods follow the collector's
/// [`GcLayouts`]; a collector implements its barriers.
pub trait GcCompiler: Send + Sync {
    /// The layouts of the collector's objects.
    fn layouts(&self) -> &GcLayouts;

    /// Whether header and field accesses check the heap bound (needed unless every heap
    /// reserves [`GcLayouts::index_space_reservation`] bytes). Array elements are always
    /// checked.
    fn bounds_checks(&self) -> bool;

    /// Loads a GC reference from `addr + offset`, with any read barrier the collector
    /// needs: by default none, a plain load.
    fn load_gc_ref(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        flags: MemFlagsData,
        addr: Value,
        offset: i32,
    ) -> Value {
        let _ = env;
        b.ins().load(GC_REF_TYPE, flags, addr, offset)
    }

    /// Stores GC reference `value` to `addr + offset`, a slot of static kind `slot` (which
    /// `value`, a subtype, fits too), with the write barrier. `object` is the GC object the
    /// slot belongs to (a field or an array element; non-null), `None` for a table element
    /// or a global.
    #[allow(clippy::too_many_arguments)]
    fn store_gc_ref(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        flags: MemFlagsData,
        addr: Value,
        offset: i32,
        value: Value,
        slot: GcRefKind,
        object: Option<Value>,
    );

    /// Stores GC reference `value` into a field of object `object`, just allocated (the
    /// field holds null, and nothing has run since the allocation), of static kind `slot`.
    /// By default the full write barrier; a collector may drop what a null old value and a
    /// new object make unnecessary.
    #[allow(clippy::too_many_arguments)]
    fn init_gc_ref(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        flags: MemFlagsData,
        addr: Value,
        offset: i32,
        value: Value,
        slot: GcRefKind,
        object: Value,
    ) {
        self.store_gc_ref(env, b, flags, addr, offset, value, slot, Some(object));
    }

    /// `extern.convert_any` of `r`: the same reference, seen as an `externref`. By default
    /// nothing; a collector whose `externref` slots must not hold some objects (the DRC's
    /// young ones) calls [`GcCompileEnv::gc_externalize`] for them.
    fn extern_convert_any(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
    ) -> Value {
        let _ = (env, b);
        r
    }

    /// Allocates a zeroed object of `kind`, canonical type `ty` (an `i32`) and `size`
    /// bytes: inline when the layouts offer a bump region ([`gc_core::GcBumpLayout`]) and
    /// the object is small enough, with [`GcCompileEnv::gc_alloc_slow`] as the cold slow
    /// path. Returns the new reference, declared for stack maps.
    fn alloc(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        kind: VMGcKind,
        ty: Value,
        size: GcSize,
    ) -> Value {
        alloc::alloc(self.layouts(), self.bounds_checks(), env, b, kind, ty, size)
    }

    /// The native address of object `r` (non-null, not an `i31`), whose bytes up to `end`
    /// the caller accesses at immediate offsets: checked against the heap bound when
    /// [`bounds_checks`](GcCompiler::bounds_checks) says so. `end` is at most
    /// [`GcLayouts::MAX_STRUCT_SIZE`].
    fn object_addr(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
        end: u32,
    ) -> Value {
        access::object_addr(self.bounds_checks(), env, b, r, end)
    }

    /// The native address of the `size` bytes at `offset` (an `i64`) within object `r`,
    /// always checked against the heap bound: array elements can lie beyond the region
    /// that makes header accesses safe.
    fn elem_addr(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
        offset: Value,
        size: u32,
    ) -> Value {
        access::elem_addr(env, b, r, offset, size)
    }

    /// Loads the 32-bit header word at `offset` (see [`gc_core::VMGcHeader`]) of heap
    /// object `r`.
    fn load_header_word(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
        offset: u32,
    ) -> Value {
        let addr = self.object_addr(env, b, r, offset + 4);
        access::load_u32(b, addr, offset)
    }

    /// Loads the length of array `r` (non-null).
    fn load_array_len(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
    ) -> Value {
        let offset = self.layouts().array_length_offset();
        self.load_header_word(env, b, r, offset)
    }
}
