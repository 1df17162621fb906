//! The deferred-reference-counting collector's barriers.

use crate::{GC_REF_TYPE, GcCompileEnv, GcCompiler};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, condcodes::IntCC, types::*};
use cranelift_frontend::FunctionBuilder;
use gc_core::{GcBumpLayout, GcLayouts, VMGcHeader, VMGcKind, VMGcRef};

/// Barriers for the DRC collector.
#[derive(Clone, Copy, Debug)]
pub struct DrcCompiler {
    ref_count_offset: u32,
    bump: Option<GcBumpLayout>,
    object_align: u32,
    bounds_checks: bool,
}

impl DrcCompiler {
    /// A compiler for heaps with `layouts`. `bounds_checks` says whether header accesses
    /// must check the heap bound: not needed when every heap reserves
    /// [`GcLayouts::index_space_reservation`] bytes, so that no 32-bit reference plus a
    /// header offset can leave it. Panics if the layouts have no reference count.
    pub fn new(layouts: &GcLayouts, bounds_checks: bool) -> Self {
        let ref_count_offset = layouts
            .ref_count_offset
            .expect("the DRC collector's layouts have a reference count");
        DrcCompiler {
            ref_count_offset,
            bump: layouts.bump,
            object_align: layouts.object_align,
            bounds_checks,
        }
    }

    /// Flags for accesses to object headers: bounds-checked, so they cannot fault, but a
    /// corrupt reference may be misaligned.
    fn header_flags() -> MemFlagsData {
        MemFlagsData::new().with_notrap()
    }

    /// Branches to `yes` if `r` refers to a heap object (non-null and not an `i31`), to
    /// `no` otherwise: two well-predicted branches, no flag arithmetic.
    fn branch_if_heap_object(
        b: &mut FunctionBuilder<'_>,
        r: Value,
        yes: cranelift_codegen::ir::Block,
        no: cranelift_codegen::ir::Block,
    ) {
        let non_null = b.create_block();
        b.ins().brif(r, non_null, &[], no, &[]);
        b.seal_block(non_null);
        b.switch_to_block(non_null);
        let tag = b.ins().band_imm_u(r, i64::from(VMGcRef::I31_TAG));
        b.ins().brif(tag, no, &[], yes, &[]);
    }

    /// The address of `r`'s reference count, trapping (when bounds checks are on) if the
    /// count lies outside the heap.
    fn ref_count_addr(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
    ) -> Value {
        let r64 = b.ins().uextend(I64, r);
        if self.bounds_checks {
            // `r + offset + 4 <= bound`, as `r <= bound - (offset + 4)`: the right side is
            // loop-invariant (the bound never changes).
            let bound = env.gc_heap_bound(b);
            let limit = b
                .ins()
                .iadd_imm_s(bound, -i64::from(self.ref_count_offset + 4));
            let oob = b.ins().icmp(IntCC::UnsignedGreaterThan, r64, limit);
            b.ins().trapnz(oob, env.gc_heap_out_of_bounds());
        }
        let base = env.gc_heap_base(b);
        let addr = b.ins().iadd(base, r64);
        b.ins().iadd_imm_u(addr, i64::from(self.ref_count_offset))
    }

    /// Loads the 32-bit header word at `offset` (see `gc_core::VMGcHeader`) of heap object
    /// `r` (non-null, not an `i31`), checking bounds when enabled.
    pub fn load_header_word(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
        offset: u32,
    ) -> Value {
        let r64 = b.ins().uextend(I64, r);
        if self.bounds_checks {
            let bound = env.gc_heap_bound(b);
            let limit = b.ins().iadd_imm_s(bound, -i64::from(offset + 4));
            let oob = b.ins().icmp(IntCC::UnsignedGreaterThan, r64, limit);
            b.ins().trapnz(oob, env.gc_heap_out_of_bounds());
        }
        let base = env.gc_heap_base(b);
        let addr = b.ins().iadd(base, r64);
        b.ins().load(I32, Self::header_flags(), addr, offset as i32)
    }

    /// Whether [`DrcCompiler::emit_bump_alloc`] handles objects of `size` bytes.
    pub fn can_bump_alloc(&self, size: u32) -> bool {
        self.bump
            .is_some_and(|bump| size.next_multiple_of(self.object_align) <= bump.max_object_size)
    }

    /// Emits the inline allocation of a `size`-byte object of `kind` and canonical type
    /// `ty` (an `i32`), per the heap's [`GcBumpLayout`]: continues in the current block with
    /// the new reference if it fits, and jumps to `slow` (which calls the runtime) if not.
    /// `size` is rounded up to the object alignment; the caller checks
    /// [`DrcCompiler::can_bump_alloc`] first.
    pub fn emit_bump_alloc(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        kind: VMGcKind,
        ty: Value,
        size: u32,
        slow: cranelift_codegen::ir::Block,
    ) -> Value {
        let size = size.next_multiple_of(self.object_align);
        assert!(self.can_bump_alloc(size), "checked by can_bump_alloc");
        let size = b.ins().iconst(I64, i64::from(size));
        self.bump(env, b, kind, ty, size, slow)
    }

    /// Like [`DrcCompiler::emit_bump_alloc`] for a size known only at run time (an `i64`
    /// below 2^40, such as an array's): sizes above the inline limit also go to `slow`.
    /// Does nothing but jump to `slow` if the heap offers no inline allocation.
    pub fn emit_bump_alloc_dynamic(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        kind: VMGcKind,
        ty: Value,
        size: Value,
        slow: cranelift_codegen::ir::Block,
    ) -> Option<Value> {
        let bump = self.bump?;
        let mask = i64::from(self.object_align - 1);
        let padded = b.ins().iadd_imm_u(size, mask);
        let size = b.ins().band_imm_u(padded, !mask);
        let small = b.ins().icmp_imm_u(
            IntCC::UnsignedLessThanOrEqual,
            size,
            i64::from(bump.max_object_size),
        );
        let checked = b.create_block();
        b.ins().brif(small, checked, &[], slow, &[]);
        b.seal_block(checked);
        b.switch_to_block(checked);
        Some(self.bump(env, b, kind, ty, size, slow))
    }

    /// The bump fast path for an aligned `size` (an `i64`) of at most the inline limit.
    fn bump(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        kind: VMGcKind,
        ty: Value,
        size: Value,
        slow: cranelift_codegen::ir::Block,
    ) -> Value {
        let bump = self.bump.expect("checked by the callers");
        // The cursor lies below the first object: always inside the heap.
        let flags = Self::header_flags();
        let base = env.gc_heap_base(b);
        let cursor = bump.cursor_offset as i32;
        let next = b.ins().load(I32, flags, base, cursor);
        let limit = b.ins().load(I32, flags, base, cursor + 4);
        let next64 = b.ins().uextend(I64, next);
        let end = b.ins().iadd(next64, size);
        let limit64 = b.ins().uextend(I64, limit);
        let mut fits = b.ins().icmp(IntCC::UnsignedLessThanOrEqual, end, limit64);
        if self.bounds_checks {
            // A corrupt cursor must not lead outside the heap.
            let bound = env.gc_heap_bound(b);
            let in_heap = b.ins().icmp(IntCC::UnsignedLessThanOrEqual, end, bound);
            fits = b.ins().band(fits, in_heap);
        }
        let fast = b.create_block();
        b.ins().brif(fits, fast, &[], slow, &[]);
        b.seal_block(fast);
        b.switch_to_block(fast);
        let end32 = b.ins().ireduce(I32, end);
        b.ins().store(flags, end32, base, cursor);
        let object = b.ins().iadd(base, next64);
        let kind_word = b
            .ins()
            .iconst(I32, i64::from(kind as u32 | bump.new_object_kind_bits));
        b.ins()
            .store(flags, kind_word, object, VMGcHeader::KIND_OFFSET as i32);
        b.ins()
            .store(flags, ty, object, VMGcHeader::TYPE_OFFSET as i32);
        if let Some(size_offset) = bump.size_offset {
            let size = b.ins().ireduce(I32, size);
            b.ins().store(flags, size, object, size_offset as i32);
        }
        next
    }

    /// Emits: if `r` is a heap object, increment its count.
    pub fn emit_inc_ref(&self, env: &mut dyn GcCompileEnv, b: &mut FunctionBuilder<'_>, r: Value) {
        let inc = b.create_block();
        let done = b.create_block();
        Self::branch_if_heap_object(b, r, inc, done);
        b.seal_block(inc);
        b.switch_to_block(inc);
        let addr = self.ref_count_addr(env, b, r);
        let count = b.ins().load(I32, Self::header_flags(), addr, 0);
        let count = b.ins().iadd_imm_u(count, 1);
        b.ins().store(Self::header_flags(), count, addr, 0);
        b.ins().jump(done, &[]);
        b.seal_block(done);
        b.switch_to_block(done);
    }

    /// Emits: if `r` is a heap object, decrement its count, calling the runtime when the
    /// count reaches zero.
    pub fn emit_dec_ref(&self, env: &mut dyn GcCompileEnv, b: &mut FunctionBuilder<'_>, r: Value) {
        let dec = b.create_block();
        let zero = b.create_block();
        let done = b.create_block();
        Self::branch_if_heap_object(b, r, dec, done);
        b.seal_block(dec);
        b.switch_to_block(dec);
        let addr = self.ref_count_addr(env, b, r);
        let count = b.ins().load(I32, Self::header_flags(), addr, 0);
        let count = b.ins().iadd_imm_s(count, -1);
        b.ins().store(Self::header_flags(), count, addr, 0);
        b.ins().brif(count, done, &[], zero, &[]);
        b.seal_block(zero);
        b.switch_to_block(zero);
        b.set_cold_block(zero);
        env.gc_note_zero_count(b, r);
        b.ins().jump(done, &[]);
        b.seal_block(done);
        b.switch_to_block(done);
    }
}

impl GcCompiler for DrcCompiler {
    fn load_gc_ref(
        &self,
        _env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        flags: MemFlagsData,
        addr: Value,
        offset: i32,
    ) -> Value {
        // No read barrier: frames are scanned at collection time instead.
        b.ins().load(GC_REF_TYPE, flags, addr, offset)
    }

    fn store_gc_ref(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        flags: MemFlagsData,
        addr: Value,
        offset: i32,
        value: Value,
    ) {
        // Increment first: storing a reference over itself must not free it.
        self.emit_inc_ref(env, b, value);
        let old = b.ins().load(GC_REF_TYPE, flags, addr, offset);
        b.ins().store(flags, value, addr, offset);
        self.emit_dec_ref(env, b, old);
    }
}
