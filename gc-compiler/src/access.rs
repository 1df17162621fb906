//! Object addresses and their bounds checks: the one place compiled code turns a GC
//! reference into a native address.

use crate::GcCompileEnv;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, condcodes::IntCC, types::*};
use cranelift_frontend::FunctionBuilder;

/// Flags for accesses to objects: in bounds by construction or by check, so they cannot
/// fault, but a corrupt reference may be misaligned.
pub(crate) fn object_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// Traps unless `start + len <= bound`, `start` an `i64` offset from the heap base. The
/// compare is `start <= bound - len`, whose right side is loop-invariant.
fn check(env: &mut dyn GcCompileEnv, b: &mut FunctionBuilder<'_>, start: Value, len: u32) {
    let bound = env.gc_heap_bound(b);
    let limit = b.ins().iadd_imm_s(bound, -i64::from(len));
    let oob = b.ins().icmp(IntCC::UnsignedGreaterThan, start, limit);
    b.ins().trapnz(oob, env.gc_heap_out_of_bounds());
}

/// `base + r`, checking `r + end <= bound` first if `bounds_checks`.
pub(crate) fn object_addr(
    bounds_checks: bool,
    env: &mut dyn GcCompileEnv,
    b: &mut FunctionBuilder<'_>,
    r: Value,
    end: u32,
) -> Value {
    let r64 = b.ins().uextend(I64, r);
    if bounds_checks {
        check(env, b, r64, end);
    }
    let base = env.gc_heap_base(b);
    b.ins().iadd(base, r64)
}

/// `base + r + offset`, checking that `size` bytes fit below the bound.
pub(crate) fn elem_addr(
    env: &mut dyn GcCompileEnv,
    b: &mut FunctionBuilder<'_>,
    r: Value,
    offset: Value,
    size: u32,
) -> Value {
    let r64 = b.ins().uextend(I64, r);
    let start = b.ins().iadd(r64, offset);
    let end = b.ins().iadd_imm_u(start, i64::from(size));
    let bound = env.gc_heap_bound(b);
    let oob = b.ins().icmp(IntCC::UnsignedGreaterThan, end, bound);
    b.ins().trapnz(oob, env.gc_heap_out_of_bounds());
    let base = env.gc_heap_base(b);
    b.ins().iadd(base, start)
}

/// Takes `size` bytes (an `i64`) from the cursor at `base + offset`: a `u32` `next`, then a
/// `u32` `limit`, heap offsets, lying below the first object (so always inside the heap).
/// Branches to `no_room` unless `next + size <= limit` (and, if `bounds_checks`, the end
/// is inside the heap too: a corrupt cursor must not lead outside it); otherwise
/// continues in a new block, where it advances the cursor and returns `next` as a `u32`
/// and as an `i64`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn cursor_take(
    bounds_checks: bool,
    env: &mut dyn GcCompileEnv,
    b: &mut FunctionBuilder<'_>,
    base: Value,
    offset: i32,
    size: Value,
    no_room: cranelift_codegen::ir::Block,
) -> (Value, Value) {
    let flags = object_flags();
    let next = b.ins().load(I32, flags, base, offset);
    let limit = b.ins().load(I32, flags, base, offset + 4);
    let next64 = b.ins().uextend(I64, next);
    let end = b.ins().iadd(next64, size);
    let limit64 = b.ins().uextend(I64, limit);
    let mut fits = b.ins().icmp(IntCC::UnsignedLessThanOrEqual, end, limit64);
    if bounds_checks {
        let bound = env.gc_heap_bound(b);
        let in_heap = b.ins().icmp(IntCC::UnsignedLessThanOrEqual, end, bound);
        fits = b.ins().band(fits, in_heap);
    }
    let taken = b.create_block();
    b.ins().brif(fits, taken, &[], no_room, &[]);
    b.seal_block(taken);
    b.switch_to_block(taken);
    let end32 = b.ins().ireduce(I32, end);
    b.ins().store(flags, end32, base, offset);
    (next, next64)
}

/// Loads the `u32` at `addr + offset` of an object.
pub(crate) fn load_u32(b: &mut FunctionBuilder<'_>, addr: Value, offset: u32) -> Value {
    b.ins().load(I32, object_flags(), addr, offset as i32)
}
