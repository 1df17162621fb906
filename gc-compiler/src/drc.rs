//! The deferred-reference-counting collector's barriers.
//!
//! A store into a young object (see `gc_core::DrcHeader::YOUNG`) is a plain store. A
//! store into an old object, a table or a global counts the new reference and releases
//! the old one, unless they are equal. A young new value not yet in the young log, and an
//! old value whose count reached zero and which is not in the zero-count table, are
//! appended to the heap's barrier log inline (`gc_core::DrcHeader::LOG_CURSOR_OFFSET`);
//! only a full log calls the runtime. Initialising stores into a new object, which is
//! young, are plain stores.

use crate::access::{cursor_take, object_flags};
use crate::{GC_REF_TYPE, GcCompileEnv, GcCompiler, GcRefKind};
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, Value, condcodes::IntCC, types::*};
use cranelift_frontend::FunctionBuilder;
use gc_core::{DrcHeader, GcLayouts, VMGcHeader, VMGcRef};

/// Offset of the kind word, whose collector bits say whether an object is young.
const KIND_OFFSET: i32 = VMGcHeader::KIND_OFFSET as i32;
/// The young object bit, and the bit saying a young object is in the young log.
const YOUNG: u32 = DrcHeader::YOUNG;
const LOGGED: u32 = DrcHeader::LOGGED;
/// The kind word's bit saying an object is in the zero-count table (or the barrier log).
const IN_ZCT: u32 = DrcHeader::IN_ZCT;
/// The barrier log's cursor, from the heap base.
const LOG_CURSOR: i32 = DrcHeader::LOG_CURSOR_OFFSET as i32;

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
    /// returns the object's address and its new count, in the block where `r` is one (the
    /// caller ends it). A non-object continues in `skip`.
    fn emit_adjust(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
        kind: GcRefKind,
        delta: i64,
        skip: ir::Block,
    ) -> (Value, Value) {
        let adjust = b.create_block();
        Self::branch_if_heap_object(b, r, kind, adjust, skip);
        b.seal_block(adjust);
        b.switch_to_block(adjust);
        let offset = self.ref_count_offset;
        let addr = self.object_addr(env, b, r, offset + 4);
        let flags = object_flags();
        let count = b.ins().load(I32, flags, addr, offset as i32);
        let count = b.ins().iadd_imm_s(count, delta);
        b.ins().store(flags, count, addr, offset as i32);
        (addr, count)
    }

    /// Emits: if `r` (of static kind `kind`) is a heap object, add one to its count; if `r`
    /// is then young and not logged (which only a first count can make it), branch to
    /// `log`, else continue in the block this returns into. Returns the object's address
    /// and its kind word, for `log`.
    fn emit_increment(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
        kind: GcRefKind,
        log: ir::Block,
    ) -> (Value, Value) {
        let done = b.create_block();
        let (addr, count) = self.emit_adjust(env, b, r, kind, 1, done);
        // A young object with a count is logged already: only a first count can need the
        // log, so the header is read only then.
        let first = b.ins().icmp_imm_u(IntCC::Equal, count, 1);
        let check = b.create_block();
        b.ins().brif(first, check, &[], done, &[]);
        b.seal_block(check);
        b.switch_to_block(check);
        let header = b.ins().load(I32, object_flags(), addr, KIND_OFFSET);
        let bits = b.ins().band_imm_u(header, i64::from(YOUNG | LOGGED));
        let young_unlogged = b.ins().icmp_imm_u(IntCC::Equal, bits, i64::from(YOUNG));
        b.ins().brif(young_unlogged, log, &[], done, &[]);
        b.seal_block(done);
        b.switch_to_block(done);
        (addr, header)
    }

    /// Emits: if `r` (of static kind `kind`) is a heap object, add one to its count.
    fn emit_plain_increment(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
        kind: GcRefKind,
    ) {
        let done = b.create_block();
        self.emit_adjust(env, b, r, kind, 1, done);
        b.ins().jump(done, &[]);
        b.seal_block(done);
        b.switch_to_block(done);
    }

    /// Emits: if `r` (of static kind `kind`) is a heap object, subtract one from its count
    /// and return its address and new count, in the block where `r` is one (the caller
    /// ends it). A non-object continues in `done`.
    fn emit_decrement(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
        kind: GcRefKind,
        done: ir::Block,
    ) -> (Value, Value) {
        self.emit_adjust(env, b, r, kind, -1, done)
    }

    /// Emits, in a cold block: if the barrier log has room, append `entry` to it, set
    /// `bit` in `kind_word` (the kind word of the object at `addr`) and jump to `done`;
    /// else jump to `full`.
    #[allow(clippy::too_many_arguments)]
    fn emit_log_append(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        entry: Value,
        addr: Value,
        kind_word: Value,
        bit: u32,
        done: ir::Block,
        full: ir::Block,
    ) {
        let flags = object_flags();
        let base = env.gc_heap_base(b);
        let four = b.ins().iconst(I64, 4);
        let (_, next64) = cursor_take(self.bounds_checks, env, b, base, LOG_CURSOR, four, full);
        b.set_cold_block(b.current_block().expect("in the appending block"));
        let slot = b.ins().iadd(base, next64);
        b.ins().store(flags, entry, slot, 0);
        let flagged = b.ins().bor_imm_u(kind_word, i64::from(bit));
        b.ins().store(flags, flagged, addr, KIND_OFFSET);
        b.ins().jump(done, &[]);
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
        object: Option<Value>,
    ) {
        let done = b.create_block();
        if let Some(object) = object {
            // A young object's fields are not counted: a plain store.
            let header = self.load_header_word(env, b, object, KIND_OFFSET as u32);
            let young = b.ins().band_imm_u(header, i64::from(YOUNG));
            let plain = b.create_block();
            let counted = b.create_block();
            b.ins().brif(young, plain, &[], counted, &[]);
            b.seal_block(plain);
            b.switch_to_block(plain);
            b.ins().store(flags, value, addr, offset);
            b.ins().jump(done, &[]);
            b.seal_block(counted);
            b.switch_to_block(counted);
        }
        // Storing the reference a slot already holds changes no count: skip both.
        let old = b.ins().load(GC_REF_TYPE, flags, addr, offset);
        // The blocks of the changed-value path are the ones created from here on.
        let first_changed = b.func.dfg.num_blocks();
        let store = b.create_block();
        let same = b.ins().icmp(IntCC::Equal, old, value);
        b.ins().brif(same, done, &[], store, &[]);
        b.seal_block(store);
        b.switch_to_block(store);
        b.ins().store(flags, value, addr, offset);
        // The old value if its count reached zero, and a young new value not yet logged, go
        // to the barrier log once both counts are right; only a full log calls the runtime
        // (once, for both). Neither value is used after the call, so neither needs a stack
        // slot for it.
        let null = b.ins().iconst(GC_REF_TYPE, 0);
        let release = b.create_block();
        if slot.may_be_young && !Self::is_null_constant(b, value) {
            let log = b.create_block();
            let (addr, header) = self.emit_increment(env, b, value, slot, log);
            b.ins().jump(release, &[]);
            // Cold: the new value needs logging, into the barrier log if it has room.
            b.switch_to_block(log);
            let first_cold = b.func.dfg.num_blocks();
            let full = b.create_block();
            self.emit_log_append(env, b, value, addr, header, LOGGED, release, full);
            b.seal_block(log);
            // The log is full: release the old value first, then call the runtime for both.
            b.seal_block(full);
            b.switch_to_block(full);
            let call = b.create_block();
            let released = b.append_block_param(call, GC_REF_TYPE);
            let skip = b.create_block();
            let (_, count) = self.emit_decrement(env, b, old, slot, skip);
            let reached_zero = b.ins().icmp_imm_u(IntCC::Equal, count, 0);
            let released_value = b.ins().select(reached_zero, old, null);
            b.ins().jump(call, &[ir::BlockArg::Value(released_value)]);
            b.seal_block(skip);
            b.switch_to_block(skip);
            b.ins().jump(call, &[ir::BlockArg::Value(null)]);
            b.seal_block(call);
            b.switch_to_block(call);
            env.gc_barrier_slow_path(b, [value, released]);
            b.ins().jump(done, &[]);
            // All of this path is out of the way.
            b.set_cold_block(log);
            for i in first_cold..b.func.dfg.num_blocks() {
                b.set_cold_block(ir::Block::from_u32(i as u32));
            }
        } else {
            if !Self::is_null_constant(b, value) {
                // No young object to log: a plain increment.
                self.emit_plain_increment(env, b, value, slot);
            }
            b.ins().jump(release, &[]);
        }
        b.seal_block(release);
        b.switch_to_block(release);
        let (addr, count) = self.emit_decrement(env, b, old, slot, done);
        let zero = b.create_block();
        b.ins().brif(count, done, &[], zero, &[]);
        // Cold: the old value's count reached zero. An old object not yet in the ZCT goes
        // to the barrier log (a young one is the young collection's to judge).
        b.seal_block(zero);
        b.switch_to_block(zero);
        b.set_cold_block(zero);
        let header = b.ins().load(I32, object_flags(), addr, KIND_OFFSET);
        let listed = b.ins().band_imm_u(header, i64::from(IN_ZCT | YOUNG));
        let unlisted = b.create_block();
        b.ins().brif(listed, done, &[], unlisted, &[]);
        b.seal_block(unlisted);
        b.switch_to_block(unlisted);
        b.set_cold_block(unlisted);
        let entry = b.ins().bor_imm_u(old, i64::from(DrcHeader::LOG_ZCT_TAG));
        let full = b.create_block();
        self.emit_log_append(env, b, entry, addr, header, IN_ZCT, done, full);
        b.seal_block(full);
        b.switch_to_block(full);
        b.set_cold_block(full);
        env.gc_barrier_slow_path(b, [null, old]);
        b.ins().jump(done, &[]);
        if object.is_none() {
            // A table or global store of the value the slot holds falls through: the
            // changed-value path, which does the count updates, is out of line. Measured:
            // re-storing the held reference runs about twice as fast, a changed one as
            // fast as inline. For fields of old objects, the out-of-line path measured a
            // few percent slower (splay, hash_map, large_heap), so it stays inline there.
            for i in first_changed..b.func.dfg.num_blocks() {
                b.set_cold_block(ir::Block::from_u32(i as u32));
            }
        }
        b.seal_block(done);
        b.switch_to_block(done);
    }

    fn extern_convert_any(
        &self,
        env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        r: Value,
    ) -> Value {
        // An `externref` is never young (its slots' barriers skip the young test): a young
        // object is promoted as it crosses.
        let object = b.create_block();
        let young = b.create_block();
        let done = b.create_block();
        Self::branch_if_heap_object(b, r, GcRefKind::ANY, object, done);
        b.seal_block(object);
        b.switch_to_block(object);
        let header = self.load_header_word(env, b, r, KIND_OFFSET as u32);
        let bit = b.ins().band_imm_u(header, i64::from(YOUNG));
        b.ins().brif(bit, young, &[], done, &[]);
        b.seal_block(young);
        b.switch_to_block(young);
        b.set_cold_block(young);
        env.gc_externalize(b, r);
        b.ins().jump(done, &[]);
        b.seal_block(done);
        b.switch_to_block(done);
        r
    }

    fn init_gc_ref(
        &self,
        _env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        flags: MemFlagsData,
        addr: Value,
        offset: i32,
        value: Value,
        _slot: GcRefKind,
        _object: Value,
    ) {
        // A new object is young: its fields are not counted.
        b.ins().store(flags, value, addr, offset);
    }
}
