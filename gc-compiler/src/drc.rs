//! The deferred-reference-counting collector's barriers.

use crate::access::object_flags;
use crate::{GC_REF_TYPE, GcCompileEnv, GcCompiler, GcRefKind};
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, Value, condcodes::IntCC, types::*};
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

    /// Branches to `yes` if `r`, of static kind `kind`, refers to a heap object, to `no`
    /// otherwise: a null test unless `kind` rules out null, an `i31` tag test unless it
    /// rules out `i31`s; two well-predicted branches at most, no flag arithmetic.
    fn branch_if_heap_object(
        b: &mut FunctionBuilder<'_>,
        r: Value,
        kind: GcRefKind,
        yes: ir::Block,
        no: ir::Block,
    ) {
        let tag_test = |b: &mut FunctionBuilder<'_>| {
            let tag = b.ins().band_imm_u(r, i64::from(VMGcRef::I31_TAG));
            b.ins().brif(tag, no, &[], yes, &[]);
        };
        match (kind.nullable, kind.may_be_i31) {
            (false, false) => {
                b.ins().jump(yes, &[]);
            }
            (true, false) => {
                b.ins().brif(r, yes, &[], no, &[]);
            }
            (false, true) => tag_test(b),
            (true, true) => {
                let non_null = b.create_block();
                b.ins().brif(r, non_null, &[], no, &[]);
                b.seal_block(non_null);
                b.switch_to_block(non_null);
                tag_test(b);
            }
        }
    }

    /// Whether `v` is the constant null (`ref.null` translates to `iconst 0`).
    fn is_null_constant(b: &FunctionBuilder<'_>, v: Value) -> bool {
        let dfg = &b.func.dfg;
        let ir::ValueDef::Result(inst, _) = dfg.value_def(v) else {
            return false;
        };
        matches!(
            dfg.insts[inst],
            ir::InstructionData::UnaryImm {
                opcode: ir::Opcode::Iconst,
                imm,
            } if imm.bits() == 0
        )
    }

    /// Emits: if `r` (of static kind `kind`) is a heap object, add `delta` to its count;
    /// for a decrement, call the runtime (in a cold block) when the count reaches zero.
    fn emit_adjust(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
        kind: GcRefKind,
        delta: i64,
    ) {
        if Self::is_null_constant(b, r) {
            return;
        }
        let adjust = b.create_block();
        let done = b.create_block();
        Self::branch_if_heap_object(b, r, kind, adjust, done);
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
        slot: GcRefKind,
    ) {
        // Storing the reference a slot already holds changes no count: skip both.
        let old = b.ins().load(GC_REF_TYPE, flags, addr, offset);
        let store = b.create_block();
        let done = b.create_block();
        let same = b.ins().icmp(IntCC::Equal, old, value);
        b.ins().brif(same, done, &[], store, &[]);
        b.seal_block(store);
        b.switch_to_block(store);
        b.ins().store(flags, value, addr, offset);
        self.emit_adjust(env, b, value, slot, 1);
        self.emit_adjust(env, b, old, slot, -1);
        b.ins().jump(done, &[]);
        b.seal_block(done);
        b.switch_to_block(done);
    }

    fn init_gc_ref(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        flags: MemFlagsData,
        addr: Value,
        offset: i32,
        value: Value,
        slot: GcRefKind,
    ) {
        // The slot held null: only the new reference is counted.
        b.ins().store(flags, value, addr, offset);
        self.emit_adjust(env, b, value, slot, 1);
    }
}
