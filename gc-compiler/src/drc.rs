//! The deferred-reference-counting collector's barriers.

use crate::access::object_flags;
use crate::{GC_REF_TYPE, GcCompileEnv, GcCompiler};
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, Value, types::*};
use cranelift_frontend::FunctionBuilder;
use gc_core::{GcLayouts, VMGcRef};

/// Code emission for the DRC collector.
#[derive(Clone, Copy, Debug)]
pub struct DrcCompiler {
    layouts: GcLayouts,
    ref_count_offset: u32,
    bounds_checks: bool,
}

impl DrcCompiler {
    /// A compiler for heaps with `layouts` (`gc_core::DRC_LAYOUTS`). `bounds_checks` says
    /// whether header accesses must check the heap bound: not needed when every heap
    /// reserves [`GcLayouts::index_space_reservation`] bytes, so that no 32-bit reference
    /// plus a header offset can leave it. Panics if the layouts have no reference count.
    pub fn new(layouts: &GcLayouts, bounds_checks: bool) -> Self {
        let ref_count_offset = layouts
            .ref_count_offset
            .expect("the DRC collector's layouts have a reference count");
        DrcCompiler {
            layouts: *layouts,
            ref_count_offset,
            bounds_checks,
        }
    }

    /// Branches to `yes` if `r` refers to a heap object (non-null and not an `i31`), to
    /// `no` otherwise: two well-predicted branches, no flag arithmetic.
    fn branch_if_heap_object(b: &mut FunctionBuilder<'_>, r: Value, yes: ir::Block, no: ir::Block) {
        let non_null = b.create_block();
        b.ins().brif(r, non_null, &[], no, &[]);
        b.seal_block(non_null);
        b.switch_to_block(non_null);
        let tag = b.ins().band_imm_u(r, i64::from(VMGcRef::I31_TAG));
        b.ins().brif(tag, no, &[], yes, &[]);
    }

    /// Emits: if `r` is a heap object, add `delta` to its count; for a decrement, call the
    /// runtime (in a cold block) when the count reaches zero.
    fn emit_adjust(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
        delta: i64,
    ) {
        let adjust = b.create_block();
        let done = b.create_block();
        Self::branch_if_heap_object(b, r, adjust, done);
        b.seal_block(adjust);
        b.switch_to_block(adjust);
        let offset = self.ref_count_offset;
        let addr = self.object_addr(env, b, r, offset + 4);
        let flags = object_flags();
        let count = b.ins().load(I32, flags, addr, offset as i32);
        let count = b.ins().iadd_imm_s(count, delta);
        b.ins().store(flags, count, addr, offset as i32);
        if delta < 0 {
            let zero = b.create_block();
            b.ins().brif(count, done, &[], zero, &[]);
            b.seal_block(zero);
            b.switch_to_block(zero);
            b.set_cold_block(zero);
            env.gc_note_zero_count(b, r);
        }
        b.ins().jump(done, &[]);
        b.seal_block(done);
        b.switch_to_block(done);
    }
}

// No read barrier (the default plain load): frames are scanned at collection time instead.
impl GcCompiler for DrcCompiler {
    fn layouts(&self) -> &GcLayouts {
        &self.layouts
    }

    fn bounds_checks(&self) -> bool {
        self.bounds_checks
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
        self.emit_adjust(env, b, value, 1);
        let old = b.ins().load(GC_REF_TYPE, flags, addr, offset);
        b.ins().store(flags, value, addr, offset);
        self.emit_adjust(env, b, old, -1);
    }

    fn init_gc_ref(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        flags: MemFlagsData,
        addr: Value,
        offset: i32,
        value: Value,
    ) {
        self.emit_adjust(env, b, value, 1);
        b.ins().store(flags, value, addr, offset);
    }
}
