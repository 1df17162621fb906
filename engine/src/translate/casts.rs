//! `ref.test`, `ref.cast`, `br_on_cast` and `br_on_cast_fail`: whether a reference is of a
//! target type. By hierarchy: function references by the type index in their `VMFuncRef`;
//! host references by nullness; `any` references by the `i31` tag, the kind bits in the
//! object header (subtyping between kinds is one AND) and, for concrete targets, the
//! header's canonical type index with the supertype-chain check as a cold fallback.

use super::env::FuncEnv;
use crate::types::{HeapType, RefType};
use crate::vm::field;
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, Value, condcodes::IntCC, types::*};
use cranelift_frontend::FunctionBuilder;
use gc_core::{VMGcHeader, VMGcKind, VMGcRef};

/// Emits the test of `r` (a reference in `target`'s hierarchy) against `target`; the
/// result is an `i32` 0 or 1.
pub(crate) fn ref_test(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    r: Value,
    target: &RefType,
) -> Value {
    let done = b.create_block();
    let result = b.append_block_param(done, I32);
    let non_null = b.create_block();
    let nullable = b.ins().iconst(I32, i64::from(target.is_nullable()));
    b.ins()
        .brif(r, non_null, &[], done, &[ir::BlockArg::Value(nullable)]);
    b.seal_block(non_null);
    b.switch_to_block(non_null);
    let heap = *target.heap_type();
    match heap.top() {
        HeapType::Func => test_func(env, b, r, heap, done),
        HeapType::Any => test_any(env, b, r, heap, done),
        // Host (and exception) references: every non-null one is of the top type only.
        _ => {
            let ok = b.ins().iconst(I32, i64::from(heap == heap.top()));
            b.ins().jump(done, &[ir::BlockArg::Value(ok)]);
        }
    }
    b.seal_block(done);
    b.switch_to_block(done);
    result
}

fn constant(b: &mut FunctionBuilder<'_>, done: ir::Block, value: bool) {
    let v = b.ins().iconst(I32, i64::from(value));
    b.ins().jump(done, &[ir::BlockArg::Value(v)]);
}

/// Jumps to `done` with 1 if canonical type `actual` is `expected` or a subtype of it.
fn type_check(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    actual: Value,
    expected: u32,
    done: ir::Block,
) {
    let expected = b.ins().iconst(I32, i64::from(expected));
    let one = b.ins().iconst(I32, 1);
    let sub = env.subtype_slow_path(b, actual, expected, done, &[ir::BlockArg::Value(one)]);
    let sub = b.ins().uextend(I32, sub);
    b.ins().jump(done, &[ir::BlockArg::Value(sub)]);
}

fn test_func(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    r: Value,
    heap: HeapType,
    done: ir::Block,
) {
    match heap {
        HeapType::Func => constant(b, done, true),
        HeapType::ConcreteFunc(t) => {
            let flags = MemFlagsData::trusted();
            let actual = b.ins().load(I32, flags, r, field::FUNCREF_TYPE_INDEX);
            type_check(env, b, actual, t, done);
        }
        _ => constant(b, done, false),
    }
}

fn test_any(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    r: Value,
    heap: HeapType,
    done: ir::Block,
) {
    if heap == HeapType::Any {
        return constant(b, done, true);
    }
    if heap == HeapType::None {
        return constant(b, done, false);
    }
    let (i31, object) = (b.create_block(), b.create_block());
    let tag = b.ins().band_imm_u(r, i64::from(VMGcRef::I31_TAG));
    b.ins().brif(tag, i31, &[], object, &[]);
    b.seal_block(i31);
    b.seal_block(object);
    b.switch_to_block(i31);
    constant(b, done, matches!(heap, HeapType::Eq | HeapType::I31));
    b.switch_to_block(object);
    let kind = match heap {
        HeapType::Eq => VMGcKind::EqRef,
        HeapType::Struct | HeapType::ConcreteStruct(_) => VMGcKind::StructRef,
        HeapType::Array | HeapType::ConcreteArray(_) => VMGcKind::ArrayRef,
        _ => return constant(b, done, false),
    };
    let gc = env.gc_compiler();
    let word = gc.load_header_word(env, b, r, VMGcHeader::KIND_OFFSET);
    let masked = b.ins().band_imm_u(word, i64::from(kind as u32));
    let kind_ok = b
        .ins()
        .icmp_imm_u(IntCC::Equal, masked, i64::from(kind as u32));
    let kind_ok = b.ins().uextend(I32, kind_ok);
    let Some(t) = heap.concrete_index() else {
        b.ins().jump(done, &[ir::BlockArg::Value(kind_ok)]);
        return;
    };
    let check_type = b.create_block();
    let zero = b.ins().iconst(I32, 0);
    b.ins()
        .brif(kind_ok, check_type, &[], done, &[ir::BlockArg::Value(zero)]);
    b.seal_block(check_type);
    b.switch_to_block(check_type);
    let actual = gc.load_header_word(env, b, r, VMGcHeader::TYPE_OFFSET);
    type_check(env, b, actual, t, done);
}
