//! Allocation: the inline bump fast path of `gc_core::GcBumpLayout`, and the runtime call
//! as its cold slow path.

use crate::access::{cursor_take, object_flags};
use crate::{GcCompileEnv, GcSize};
use cranelift_codegen::ir::{self, InstBuilder, Value, condcodes::IntCC, types::*};
use cranelift_frontend::FunctionBuilder;
use gc_core::{GcBumpLayout, GcLayouts, VMGcHeader, VMGcKind};

/// See `GcCompiler::alloc`.
pub(crate) fn alloc(
    layouts: &GcLayouts,
    bounds_checks: bool,
    env: &mut dyn GcCompileEnv,
    b: &mut FunctionBuilder<'_>,
    kind: VMGcKind,
    ty: Value,
    size: GcSize,
) -> Value {
    let align = layouts.object_align;
    let (size_value, inline) = match (size, layouts.bump) {
        (GcSize::Const(size), Some(bump)) => {
            let fits = size.next_multiple_of(align) <= bump.max_object_size;
            (b.ins().iconst(I64, i64::from(size)), fits.then_some(bump))
        }
        (GcSize::Const(size), None) => (b.ins().iconst(I64, i64::from(size)), None),
        (GcSize::Dynamic(size), bump) => (size, bump),
    };
    let Some(bump) = inline else {
        let r = env.gc_alloc_slow(b, kind, ty, size_value);
        b.declare_value_needs_stack_map(r);
        return r;
    };
    let slow = b.create_block();
    let done = b.create_block();
    b.append_block_param(done, I32);
    let mask = i64::from(align - 1);
    let aligned = match size {
        GcSize::Const(size) => b.ins().iconst(I64, i64::from(size.next_multiple_of(align))),
        GcSize::Dynamic(size) => {
            // Sizes above the inline limit take the slow path.
            let padded = b.ins().iadd_imm_u(size, mask);
            let aligned = b.ins().band_imm_u(padded, !mask);
            let small = b.ins().icmp_imm_u(
                IntCC::UnsignedLessThanOrEqual,
                aligned,
                i64::from(bump.max_object_size),
            );
            let checked = b.create_block();
            b.ins().brif(small, checked, &[], slow, &[]);
            b.seal_block(checked);
            b.switch_to_block(checked);
            aligned
        }
    };
    let r = bump_fast_path(&bump, bounds_checks, env, b, kind, ty, aligned, slow);
    b.ins().jump(done, &[ir::BlockArg::Value(r)]);
    b.seal_block(slow);
    b.switch_to_block(slow);
    b.set_cold_block(slow);
    let r = env.gc_alloc_slow(b, kind, ty, size_value);
    b.ins().jump(done, &[ir::BlockArg::Value(r)]);
    b.seal_block(done);
    b.switch_to_block(done);
    let r = b.block_params(done)[0];
    b.declare_value_needs_stack_map(r);
    r
}

/// Bumps the cursor by `size` (an aligned `i64` of at most the inline limit) and writes the
/// header, continuing in the current block with the new reference; jumps to `slow` if the
/// region has no room.
#[allow(clippy::too_many_arguments)]
fn bump_fast_path(
    bump: &GcBumpLayout,
    bounds_checks: bool,
    env: &mut dyn GcCompileEnv,
    b: &mut FunctionBuilder<'_>,
    kind: VMGcKind,
    ty: Value,
    size: Value,
    slow: ir::Block,
) -> Value {
    // The cursor lies below the first object: always inside the heap.
    let flags = object_flags();
    let base = env.gc_heap_base(b);
    let cursor = bump.cursor_offset as i32;
    let (next, next64) = cursor_take(bounds_checks, env, b, base, cursor, size, slow);
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
