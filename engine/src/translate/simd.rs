//! 128-bit SIMD operators. Every `v128` on the operand stack, in locals and at block
//! boundaries is an `i8x16`; an operator bitcasts its operands to the lane type it works
//! on (little-endian, as Wasm lays lanes out) and its result back.

use super::State;
use super::env::FuncEnv;
use anyhow::Result;
use cranelift_codegen::ir::{
    self, ConstantData, Endianness, InstBuilder, MemFlagsData, Value, condcodes::FloatCC,
    condcodes::IntCC, types::*,
};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

/// Little-endian lane reinterpretation.
fn lanes() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// `v` (an `i8x16`, or any 128-bit vector) as a vector of type `ty`.
fn cast(b: &mut FunctionBuilder<'_>, v: Value, ty: ir::Type) -> Value {
    if b.func.dfg.value_type(v) == ty {
        v
    } else {
        b.ins().bitcast(ty, lanes(), v)
    }
}

/// Pushes vector `v` as the canonical `i8x16`.
fn push(b: &mut FunctionBuilder<'_>, state: &mut State, v: Value) {
    let v = cast(b, v, I8X16);
    state.stack.push(v);
}

fn unop(
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    ty: ir::Type,
    f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value,
) {
    let x = state.pop();
    let x = cast(b, x, ty);
    let r = f(b, x);
    push(b, state, r);
}

fn binop(
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    ty: ir::Type,
    f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
) {
    let (x, y) = state.pop2();
    let (x, y) = (cast(b, x, ty), cast(b, y, ty));
    let r = f(b, x, y);
    push(b, state, r);
}

fn icmp(b: &mut FunctionBuilder<'_>, state: &mut State, ty: ir::Type, cc: IntCC) {
    binop(b, state, ty, |b, x, y| b.ins().icmp(cc, x, y));
}

fn fcmp(b: &mut FunctionBuilder<'_>, state: &mut State, ty: ir::Type, cc: FloatCC) {
    binop(b, state, ty, |b, x, y| b.ins().fcmp(cc, x, y));
}

/// A shift of each lane of type `ty` by the i32 on top (Cranelift, like Wasm, takes the
/// amount modulo the lane width).
fn shift(
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    ty: ir::Type,
    f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
) {
    let (x, amount) = state.pop2();
    let x = cast(b, x, ty);
    let r = f(b, x, amount);
    push(b, state, r);
}

/// An i32 (0 or 1) from a test of the vector on top as `ty`.
fn test(
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    ty: ir::Type,
    f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value,
) {
    let x = state.pop();
    let x = cast(b, x, ty);
    let r = f(b, x);
    let r = b.ins().uextend(I32, r);
    state.stack.push(r);
}

/// Translates `op` if it is a SIMD operator; `Ok(false)` if it is not.
pub(super) fn translate_simd(
    op: &Operator<'_>,
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    env: &mut FuncEnv<'_>,
) -> Result<bool> {
    use Operator as O;
    match *op {
        O::V128Const { value } => {
            let c = b
                .func
                .dfg
                .constants
                .insert(ConstantData::from(value.bytes().as_slice()));
            let v = b.ins().vconst(I8X16, c);
            state.stack.push(v);
        }
        O::I8x16Shuffle { lanes } => {
            let (x, y) = state.pop2();
            let mask = b
                .func
                .dfg
                .immediates
                .push(ConstantData::from(lanes.as_slice()));
            let v = b.ins().shuffle(x, y, mask);
            state.stack.push(v);
        }
        O::I8x16Swizzle => binop(b, state, I8X16, |b, x, y| b.ins().swizzle(x, y)),

        // ---------------------------------------------------------------- memory
        O::V128Load { memarg } => {
            let addr = state.pop();
            let (ptr, off) = env.heap_addr(b, mem(&memarg), addr, memarg.offset, 16);
            let v = b.ins().load(I8X16, lanes(), ptr, off);
            state.stack.push(v);
        }
        O::V128Store { memarg } => {
            let (addr, v) = state.pop2();
            let (ptr, off) = env.heap_addr(b, mem(&memarg), addr, memarg.offset, 16);
            b.ins().store(lanes(), v, ptr, off);
        }
        O::V128Load8x8S { memarg } => load_extend(b, state, env, memarg, I16X8, true),
        O::V128Load8x8U { memarg } => load_extend(b, state, env, memarg, I16X8, false),
        O::V128Load16x4S { memarg } => load_extend(b, state, env, memarg, I32X4, true),
        O::V128Load16x4U { memarg } => load_extend(b, state, env, memarg, I32X4, false),
        O::V128Load32x2S { memarg } => load_extend(b, state, env, memarg, I64X2, true),
        O::V128Load32x2U { memarg } => load_extend(b, state, env, memarg, I64X2, false),
        O::V128Load8Splat { memarg } => load_scalar(b, state, env, memarg, I8, I8X16, true),
        O::V128Load16Splat { memarg } => load_scalar(b, state, env, memarg, I16, I16X8, true),
        O::V128Load32Splat { memarg } => load_scalar(b, state, env, memarg, I32, I32X4, true),
        O::V128Load64Splat { memarg } => load_scalar(b, state, env, memarg, I64, I64X2, true),
        O::V128Load32Zero { memarg } => load_scalar(b, state, env, memarg, I32, I32X4, false),
        O::V128Load64Zero { memarg } => load_scalar(b, state, env, memarg, I64, I64X2, false),
        O::V128Load8Lane { memarg, lane } => load_lane(b, state, env, memarg, lane, I8, I8X16),
        O::V128Load16Lane { memarg, lane } => load_lane(b, state, env, memarg, lane, I16, I16X8),
        O::V128Load32Lane { memarg, lane } => load_lane(b, state, env, memarg, lane, I32, I32X4),
        O::V128Load64Lane { memarg, lane } => load_lane(b, state, env, memarg, lane, I64, I64X2),
        O::V128Store8Lane { memarg, lane } => store_lane(b, state, env, memarg, lane, I8X16),
        O::V128Store16Lane { memarg, lane } => store_lane(b, state, env, memarg, lane, I16X8),
        O::V128Store32Lane { memarg, lane } => store_lane(b, state, env, memarg, lane, I32X4),
        O::V128Store64Lane { memarg, lane } => store_lane(b, state, env, memarg, lane, I64X2),

        // ---------------------------------------------------------------- lanes
        O::I8x16Splat => splat(b, state, I8X16),
        O::I16x8Splat => splat(b, state, I16X8),
        O::I32x4Splat => splat(b, state, I32X4),
        O::I64x2Splat => splat(b, state, I64X2),
        O::F32x4Splat => splat(b, state, F32X4),
        O::F64x2Splat => splat(b, state, F64X2),
        O::I8x16ExtractLaneS { lane } => extract(b, state, I8X16, lane, Some(true)),
        O::I8x16ExtractLaneU { lane } => extract(b, state, I8X16, lane, Some(false)),
        O::I16x8ExtractLaneS { lane } => extract(b, state, I16X8, lane, Some(true)),
        O::I16x8ExtractLaneU { lane } => extract(b, state, I16X8, lane, Some(false)),
        O::I32x4ExtractLane { lane } => extract(b, state, I32X4, lane, None),
        O::I64x2ExtractLane { lane } => extract(b, state, I64X2, lane, None),
        O::F32x4ExtractLane { lane } => extract(b, state, F32X4, lane, None),
        O::F64x2ExtractLane { lane } => extract(b, state, F64X2, lane, None),
        O::I8x16ReplaceLane { lane } => replace(b, state, I8X16, lane),
        O::I16x8ReplaceLane { lane } => replace(b, state, I16X8, lane),
        O::I32x4ReplaceLane { lane } => replace(b, state, I32X4, lane),
        O::I64x2ReplaceLane { lane } => replace(b, state, I64X2, lane),
        O::F32x4ReplaceLane { lane } => replace(b, state, F32X4, lane),
        O::F64x2ReplaceLane { lane } => replace(b, state, F64X2, lane),

        // ---------------------------------------------------------------- comparisons
        O::I8x16Eq => icmp(b, state, I8X16, IntCC::Equal),
        O::I8x16Ne => icmp(b, state, I8X16, IntCC::NotEqual),
        O::I8x16LtS => icmp(b, state, I8X16, IntCC::SignedLessThan),
        O::I8x16LtU => icmp(b, state, I8X16, IntCC::UnsignedLessThan),
        O::I8x16GtS => icmp(b, state, I8X16, IntCC::SignedGreaterThan),
        O::I8x16GtU => icmp(b, state, I8X16, IntCC::UnsignedGreaterThan),
        O::I8x16LeS => icmp(b, state, I8X16, IntCC::SignedLessThanOrEqual),
        O::I8x16LeU => icmp(b, state, I8X16, IntCC::UnsignedLessThanOrEqual),
        O::I8x16GeS => icmp(b, state, I8X16, IntCC::SignedGreaterThanOrEqual),
        O::I8x16GeU => icmp(b, state, I8X16, IntCC::UnsignedGreaterThanOrEqual),
        O::I16x8Eq => icmp(b, state, I16X8, IntCC::Equal),
        O::I16x8Ne => icmp(b, state, I16X8, IntCC::NotEqual),
        O::I16x8LtS => icmp(b, state, I16X8, IntCC::SignedLessThan),
        O::I16x8LtU => icmp(b, state, I16X8, IntCC::UnsignedLessThan),
        O::I16x8GtS => icmp(b, state, I16X8, IntCC::SignedGreaterThan),
        O::I16x8GtU => icmp(b, state, I16X8, IntCC::UnsignedGreaterThan),
        O::I16x8LeS => icmp(b, state, I16X8, IntCC::SignedLessThanOrEqual),
        O::I16x8LeU => icmp(b, state, I16X8, IntCC::UnsignedLessThanOrEqual),
        O::I16x8GeS => icmp(b, state, I16X8, IntCC::SignedGreaterThanOrEqual),
        O::I16x8GeU => icmp(b, state, I16X8, IntCC::UnsignedGreaterThanOrEqual),
        O::I32x4Eq => icmp(b, state, I32X4, IntCC::Equal),
        O::I32x4Ne => icmp(b, state, I32X4, IntCC::NotEqual),
        O::I32x4LtS => icmp(b, state, I32X4, IntCC::SignedLessThan),
        O::I32x4LtU => icmp(b, state, I32X4, IntCC::UnsignedLessThan),
        O::I32x4GtS => icmp(b, state, I32X4, IntCC::SignedGreaterThan),
        O::I32x4GtU => icmp(b, state, I32X4, IntCC::UnsignedGreaterThan),
        O::I32x4LeS => icmp(b, state, I32X4, IntCC::SignedLessThanOrEqual),
        O::I32x4LeU => icmp(b, state, I32X4, IntCC::UnsignedLessThanOrEqual),
        O::I32x4GeS => icmp(b, state, I32X4, IntCC::SignedGreaterThanOrEqual),
        O::I32x4GeU => icmp(b, state, I32X4, IntCC::UnsignedGreaterThanOrEqual),
        O::I64x2Eq => icmp(b, state, I64X2, IntCC::Equal),
        O::I64x2Ne => icmp(b, state, I64X2, IntCC::NotEqual),
        O::I64x2LtS => icmp(b, state, I64X2, IntCC::SignedLessThan),
        O::I64x2GtS => icmp(b, state, I64X2, IntCC::SignedGreaterThan),
        O::I64x2LeS => icmp(b, state, I64X2, IntCC::SignedLessThanOrEqual),
        O::I64x2GeS => icmp(b, state, I64X2, IntCC::SignedGreaterThanOrEqual),
        O::F32x4Eq => fcmp(b, state, F32X4, FloatCC::Equal),
        O::F32x4Ne => fcmp(b, state, F32X4, FloatCC::NotEqual),
        O::F32x4Lt => fcmp(b, state, F32X4, FloatCC::LessThan),
        O::F32x4Gt => fcmp(b, state, F32X4, FloatCC::GreaterThan),
        O::F32x4Le => fcmp(b, state, F32X4, FloatCC::LessThanOrEqual),
        O::F32x4Ge => fcmp(b, state, F32X4, FloatCC::GreaterThanOrEqual),
        O::F64x2Eq => fcmp(b, state, F64X2, FloatCC::Equal),
        O::F64x2Ne => fcmp(b, state, F64X2, FloatCC::NotEqual),
        O::F64x2Lt => fcmp(b, state, F64X2, FloatCC::LessThan),
        O::F64x2Gt => fcmp(b, state, F64X2, FloatCC::GreaterThan),
        O::F64x2Le => fcmp(b, state, F64X2, FloatCC::LessThanOrEqual),
        O::F64x2Ge => fcmp(b, state, F64X2, FloatCC::GreaterThanOrEqual),

        // ---------------------------------------------------------------- bitwise
        O::V128Not => unop(b, state, I8X16, |b, x| b.ins().bnot(x)),
        O::V128And => binop(b, state, I8X16, |b, x, y| b.ins().band(x, y)),
        O::V128AndNot => binop(b, state, I8X16, |b, x, y| b.ins().band_not(x, y)),
        O::V128Or => binop(b, state, I8X16, |b, x, y| b.ins().bor(x, y)),
        O::V128Xor => binop(b, state, I8X16, |b, x, y| b.ins().bxor(x, y)),
        O::V128Bitselect => {
            let (x, y, c) = state.pop3();
            let v = b.ins().bitselect(c, x, y);
            state.stack.push(v);
        }
        O::V128AnyTrue => test(b, state, I8X16, |b, x| b.ins().vany_true(x)),
        O::I8x16AllTrue => test(b, state, I8X16, |b, x| b.ins().vall_true(x)),
        O::I16x8AllTrue => test(b, state, I16X8, |b, x| b.ins().vall_true(x)),
        O::I32x4AllTrue => test(b, state, I32X4, |b, x| b.ins().vall_true(x)),
        O::I64x2AllTrue => test(b, state, I64X2, |b, x| b.ins().vall_true(x)),
        O::I8x16Bitmask => bitmask(b, state, I8X16),
        O::I16x8Bitmask => bitmask(b, state, I16X8),
        O::I32x4Bitmask => bitmask(b, state, I32X4),
        O::I64x2Bitmask => bitmask(b, state, I64X2),

        // ---------------------------------------------------------------- integers
        O::I8x16Abs => unop(b, state, I8X16, |b, x| b.ins().iabs(x)),
        O::I16x8Abs => unop(b, state, I16X8, |b, x| b.ins().iabs(x)),
        O::I32x4Abs => unop(b, state, I32X4, |b, x| b.ins().iabs(x)),
        O::I64x2Abs => unop(b, state, I64X2, |b, x| b.ins().iabs(x)),
        O::I8x16Neg => unop(b, state, I8X16, |b, x| b.ins().ineg(x)),
        O::I16x8Neg => unop(b, state, I16X8, |b, x| b.ins().ineg(x)),
        O::I32x4Neg => unop(b, state, I32X4, |b, x| b.ins().ineg(x)),
        O::I64x2Neg => unop(b, state, I64X2, |b, x| b.ins().ineg(x)),
        O::I8x16Popcnt => unop(b, state, I8X16, |b, x| b.ins().popcnt(x)),
        O::I8x16Add => binop(b, state, I8X16, |b, x, y| b.ins().iadd(x, y)),
        O::I16x8Add => binop(b, state, I16X8, |b, x, y| b.ins().iadd(x, y)),
        O::I32x4Add => binop(b, state, I32X4, |b, x, y| b.ins().iadd(x, y)),
        O::I64x2Add => binop(b, state, I64X2, |b, x, y| b.ins().iadd(x, y)),
        O::I8x16Sub => binop(b, state, I8X16, |b, x, y| b.ins().isub(x, y)),
        O::I16x8Sub => binop(b, state, I16X8, |b, x, y| b.ins().isub(x, y)),
        O::I32x4Sub => binop(b, state, I32X4, |b, x, y| b.ins().isub(x, y)),
        O::I64x2Sub => binop(b, state, I64X2, |b, x, y| b.ins().isub(x, y)),
        O::I16x8Mul => binop(b, state, I16X8, |b, x, y| b.ins().imul(x, y)),
        O::I32x4Mul => binop(b, state, I32X4, |b, x, y| b.ins().imul(x, y)),
        O::I64x2Mul => binop(b, state, I64X2, |b, x, y| b.ins().imul(x, y)),
        O::I8x16AddSatS => binop(b, state, I8X16, |b, x, y| b.ins().sadd_sat(x, y)),
        O::I8x16AddSatU => binop(b, state, I8X16, |b, x, y| b.ins().uadd_sat(x, y)),
        O::I16x8AddSatS => binop(b, state, I16X8, |b, x, y| b.ins().sadd_sat(x, y)),
        O::I16x8AddSatU => binop(b, state, I16X8, |b, x, y| b.ins().uadd_sat(x, y)),
        O::I8x16SubSatS => binop(b, state, I8X16, |b, x, y| b.ins().ssub_sat(x, y)),
        O::I8x16SubSatU => binop(b, state, I8X16, |b, x, y| b.ins().usub_sat(x, y)),
        O::I16x8SubSatS => binop(b, state, I16X8, |b, x, y| b.ins().ssub_sat(x, y)),
        O::I16x8SubSatU => binop(b, state, I16X8, |b, x, y| b.ins().usub_sat(x, y)),
        O::I8x16MinS => binop(b, state, I8X16, |b, x, y| b.ins().smin(x, y)),
        O::I8x16MinU => binop(b, state, I8X16, |b, x, y| b.ins().umin(x, y)),
        O::I8x16MaxS => binop(b, state, I8X16, |b, x, y| b.ins().smax(x, y)),
        O::I8x16MaxU => binop(b, state, I8X16, |b, x, y| b.ins().umax(x, y)),
        O::I16x8MinS => binop(b, state, I16X8, |b, x, y| b.ins().smin(x, y)),
        O::I16x8MinU => binop(b, state, I16X8, |b, x, y| b.ins().umin(x, y)),
        O::I16x8MaxS => binop(b, state, I16X8, |b, x, y| b.ins().smax(x, y)),
        O::I16x8MaxU => binop(b, state, I16X8, |b, x, y| b.ins().umax(x, y)),
        O::I32x4MinS => binop(b, state, I32X4, |b, x, y| b.ins().smin(x, y)),
        O::I32x4MinU => binop(b, state, I32X4, |b, x, y| b.ins().umin(x, y)),
        O::I32x4MaxS => binop(b, state, I32X4, |b, x, y| b.ins().smax(x, y)),
        O::I32x4MaxU => binop(b, state, I32X4, |b, x, y| b.ins().umax(x, y)),
        O::I8x16AvgrU => binop(b, state, I8X16, |b, x, y| b.ins().avg_round(x, y)),
        O::I16x8AvgrU => binop(b, state, I16X8, |b, x, y| b.ins().avg_round(x, y)),
        O::I16x8Q15MulrSatS => binop(b, state, I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y)),
        O::I8x16Shl => shift(b, state, I8X16, |b, x, n| b.ins().ishl(x, n)),
        O::I8x16ShrS => shift(b, state, I8X16, |b, x, n| b.ins().sshr(x, n)),
        O::I8x16ShrU => shift(b, state, I8X16, |b, x, n| b.ins().ushr(x, n)),
        O::I16x8Shl => shift(b, state, I16X8, |b, x, n| b.ins().ishl(x, n)),
        O::I16x8ShrS => shift(b, state, I16X8, |b, x, n| b.ins().sshr(x, n)),
        O::I16x8ShrU => shift(b, state, I16X8, |b, x, n| b.ins().ushr(x, n)),
        O::I32x4Shl => shift(b, state, I32X4, |b, x, n| b.ins().ishl(x, n)),
        O::I32x4ShrS => shift(b, state, I32X4, |b, x, n| b.ins().sshr(x, n)),
        O::I32x4ShrU => shift(b, state, I32X4, |b, x, n| b.ins().ushr(x, n)),
        O::I64x2Shl => shift(b, state, I64X2, |b, x, n| b.ins().ishl(x, n)),
        O::I64x2ShrS => shift(b, state, I64X2, |b, x, n| b.ins().sshr(x, n)),
        O::I64x2ShrU => shift(b, state, I64X2, |b, x, n| b.ins().ushr(x, n)),

        // ---------------------------------------------------------------- widening, narrowing
        O::I8x16NarrowI16x8S => binop(b, state, I16X8, |b, x, y| b.ins().snarrow(x, y)),
        O::I8x16NarrowI16x8U => binop(b, state, I16X8, |b, x, y| b.ins().unarrow(x, y)),
        O::I16x8NarrowI32x4S => binop(b, state, I32X4, |b, x, y| b.ins().snarrow(x, y)),
        O::I16x8NarrowI32x4U => binop(b, state, I32X4, |b, x, y| b.ins().unarrow(x, y)),
        O::I16x8ExtendLowI8x16S => unop(b, state, I8X16, |b, x| b.ins().swiden_low(x)),
        O::I16x8ExtendHighI8x16S => unop(b, state, I8X16, |b, x| b.ins().swiden_high(x)),
        O::I16x8ExtendLowI8x16U => unop(b, state, I8X16, |b, x| b.ins().uwiden_low(x)),
        O::I16x8ExtendHighI8x16U => unop(b, state, I8X16, |b, x| b.ins().uwiden_high(x)),
        O::I32x4ExtendLowI16x8S => unop(b, state, I16X8, |b, x| b.ins().swiden_low(x)),
        O::I32x4ExtendHighI16x8S => unop(b, state, I16X8, |b, x| b.ins().swiden_high(x)),
        O::I32x4ExtendLowI16x8U => unop(b, state, I16X8, |b, x| b.ins().uwiden_low(x)),
        O::I32x4ExtendHighI16x8U => unop(b, state, I16X8, |b, x| b.ins().uwiden_high(x)),
        O::I64x2ExtendLowI32x4S => unop(b, state, I32X4, |b, x| b.ins().swiden_low(x)),
        O::I64x2ExtendHighI32x4S => unop(b, state, I32X4, |b, x| b.ins().swiden_high(x)),
        O::I64x2ExtendLowI32x4U => unop(b, state, I32X4, |b, x| b.ins().uwiden_low(x)),
        O::I64x2ExtendHighI32x4U => unop(b, state, I32X4, |b, x| b.ins().uwiden_high(x)),
        O::I16x8ExtMulLowI8x16S => extmul(b, state, I8X16, true, false),
        O::I16x8ExtMulHighI8x16S => extmul(b, state, I8X16, true, true),
        O::I16x8ExtMulLowI8x16U => extmul(b, state, I8X16, false, false),
        O::I16x8ExtMulHighI8x16U => extmul(b, state, I8X16, false, true),
        O::I32x4ExtMulLowI16x8S => extmul(b, state, I16X8, true, false),
        O::I32x4ExtMulHighI16x8S => extmul(b, state, I16X8, true, true),
        O::I32x4ExtMulLowI16x8U => extmul(b, state, I16X8, false, false),
        O::I32x4ExtMulHighI16x8U => extmul(b, state, I16X8, false, true),
        O::I64x2ExtMulLowI32x4S => extmul(b, state, I32X4, true, false),
        O::I64x2ExtMulHighI32x4S => extmul(b, state, I32X4, true, true),
        O::I64x2ExtMulLowI32x4U => extmul(b, state, I32X4, false, false),
        O::I64x2ExtMulHighI32x4U => extmul(b, state, I32X4, false, true),
        O::I16x8ExtAddPairwiseI8x16S => pairwise(b, state, I8X16, true),
        O::I16x8ExtAddPairwiseI8x16U => pairwise(b, state, I8X16, false),
        O::I32x4ExtAddPairwiseI16x8S => pairwise(b, state, I16X8, true),
        O::I32x4ExtAddPairwiseI16x8U => pairwise(b, state, I16X8, false),
        O::I32x4DotI16x8S => binop(b, state, I16X8, widening_dot),

        // ---------------------------------------------------------------- floats
        O::F32x4Abs => unop(b, state, F32X4, |b, x| b.ins().fabs(x)),
        O::F64x2Abs => unop(b, state, F64X2, |b, x| b.ins().fabs(x)),
        O::F32x4Neg => unop(b, state, F32X4, |b, x| b.ins().fneg(x)),
        O::F64x2Neg => unop(b, state, F64X2, |b, x| b.ins().fneg(x)),
        O::F32x4Sqrt => unop(b, state, F32X4, |b, x| b.ins().sqrt(x)),
        O::F64x2Sqrt => unop(b, state, F64X2, |b, x| b.ins().sqrt(x)),
        O::F32x4Ceil => unop(b, state, F32X4, |b, x| b.ins().ceil(x)),
        O::F64x2Ceil => unop(b, state, F64X2, |b, x| b.ins().ceil(x)),
        O::F32x4Floor => unop(b, state, F32X4, |b, x| b.ins().floor(x)),
        O::F64x2Floor => unop(b, state, F64X2, |b, x| b.ins().floor(x)),
        O::F32x4Trunc => unop(b, state, F32X4, |b, x| b.ins().trunc(x)),
        O::F64x2Trunc => unop(b, state, F64X2, |b, x| b.ins().trunc(x)),
        O::F32x4Nearest => unop(b, state, F32X4, |b, x| b.ins().nearest(x)),
        O::F64x2Nearest => unop(b, state, F64X2, |b, x| b.ins().nearest(x)),
        O::F32x4Add => binop(b, state, F32X4, |b, x, y| b.ins().fadd(x, y)),
        O::F64x2Add => binop(b, state, F64X2, |b, x, y| b.ins().fadd(x, y)),
        O::F32x4Sub => binop(b, state, F32X4, |b, x, y| b.ins().fsub(x, y)),
        O::F64x2Sub => binop(b, state, F64X2, |b, x, y| b.ins().fsub(x, y)),
        O::F32x4Mul => binop(b, state, F32X4, |b, x, y| b.ins().fmul(x, y)),
        O::F64x2Mul => binop(b, state, F64X2, |b, x, y| b.ins().fmul(x, y)),
        O::F32x4Div => binop(b, state, F32X4, |b, x, y| b.ins().fdiv(x, y)),
        O::F64x2Div => binop(b, state, F64X2, |b, x, y| b.ins().fdiv(x, y)),
        O::F32x4Min => binop(b, state, F32X4, |b, x, y| b.ins().fmin(x, y)),
        O::F64x2Min => binop(b, state, F64X2, |b, x, y| b.ins().fmin(x, y)),
        O::F32x4Max => binop(b, state, F32X4, |b, x, y| b.ins().fmax(x, y)),
        O::F64x2Max => binop(b, state, F64X2, |b, x, y| b.ins().fmax(x, y)),
        // pmin(x, y) = y < x ? y : x; pmax(x, y) = x < y ? y : x, lane by lane.
        O::F32x4PMin => binop(b, state, F32X4, |b, x, y| pminmax(b, x, y, true)),
        O::F64x2PMin => binop(b, state, F64X2, |b, x, y| pminmax(b, x, y, true)),
        O::F32x4PMax => binop(b, state, F32X4, |b, x, y| pminmax(b, x, y, false)),
        O::F64x2PMax => binop(b, state, F64X2, |b, x, y| pminmax(b, x, y, false)),

        // ---------------------------------------------------------------- conversions
        O::F32x4ConvertI32x4S => unop(b, state, I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x)),
        O::F32x4ConvertI32x4U => unop(b, state, I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x)),
        O::F64x2ConvertLowI32x4S => unop(b, state, I32X4, |b, x| {
            let wide = b.ins().swiden_low(x);
            b.ins().fcvt_from_sint(F64X2, wide)
        }),
        O::F64x2ConvertLowI32x4U => unop(b, state, I32X4, |b, x| {
            let wide = b.ins().uwiden_low(x);
            b.ins().fcvt_from_uint(F64X2, wide)
        }),
        O::I32x4TruncSatF32x4S => unop(b, state, F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x)),
        O::I32x4TruncSatF32x4U => unop(b, state, F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x)),
        O::I32x4TruncSatF64x2SZero => unop(b, state, F64X2, |b, x| {
            let wide = b.ins().fcvt_to_sint_sat(I64X2, x);
            let zero = zeros(b, I64X2);
            b.ins().snarrow(wide, zero)
        }),
        O::I32x4TruncSatF64x2UZero => unop(b, state, F64X2, |b, x| {
            let wide = b.ins().fcvt_to_uint_sat(I64X2, x);
            let zero = zeros(b, I64X2);
            b.ins().uunarrow(wide, zero)
        }),
        O::F32x4DemoteF64x2Zero => unop(b, state, F64X2, |b, x| b.ins().fvdemote(x)),
        O::F64x2PromoteLowF32x4 => unop(b, state, F32X4, |b, x| b.ins().fvpromote_low(x)),

        // ---------------------------------------------------------------- relaxed SIMD
        // Each has the result of the spec's deterministic profile, on every host, except
        // `relaxed_madd`/`nmadd` outside that profile on a host without FMA (see
        // `Config::relaxed_simd_deterministic`).
        O::I8x16RelaxedSwizzle => binop(b, state, I8X16, |b, x, y| b.ins().swizzle(x, y)),
        O::I32x4RelaxedTruncF32x4S => {
            unop(b, state, F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x))
        }
        O::I32x4RelaxedTruncF32x4U => {
            unop(b, state, F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x))
        }
        O::I32x4RelaxedTruncF64x2SZero => unop(b, state, F64X2, |b, x| {
            let wide = b.ins().fcvt_to_sint_sat(I64X2, x);
            let zero = zeros(b, I64X2);
            b.ins().snarrow(wide, zero)
        }),
        O::I32x4RelaxedTruncF64x2UZero => unop(b, state, F64X2, |b, x| {
            let wide = b.ins().fcvt_to_uint_sat(I64X2, x);
            let zero = zeros(b, I64X2);
            b.ins().uunarrow(wide, zero)
        }),
        O::F32x4RelaxedMadd => madd(b, state, env, F32X4, false),
        O::F32x4RelaxedNmadd => madd(b, state, env, F32X4, true),
        O::F64x2RelaxedMadd => madd(b, state, env, F64X2, false),
        O::F64x2RelaxedNmadd => madd(b, state, env, F64X2, true),
        O::I8x16RelaxedLaneselect
        | O::I16x8RelaxedLaneselect
        | O::I32x4RelaxedLaneselect
        | O::I64x2RelaxedLaneselect => {
            let (x, y, c) = state.pop3();
            let v = b.ins().bitselect(c, x, y);
            state.stack.push(v);
        }
        O::F32x4RelaxedMin => binop(b, state, F32X4, |b, x, y| b.ins().fmin(x, y)),
        O::F64x2RelaxedMin => binop(b, state, F64X2, |b, x, y| b.ins().fmin(x, y)),
        O::F32x4RelaxedMax => binop(b, state, F32X4, |b, x, y| b.ins().fmax(x, y)),
        O::F64x2RelaxedMax => binop(b, state, F64X2, |b, x, y| b.ins().fmax(x, y)),
        O::I16x8RelaxedQ15mulrS => binop(b, state, I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y)),
        O::I16x8RelaxedDotI8x16I7x16S => binop(b, state, I8X16, widening_dot),
        O::I32x4RelaxedDotI8x16I7x16AddS => {
            let (x, y, acc) = state.pop3();
            let (x, y) = (cast(b, x, I8X16), cast(b, y, I8X16));
            let dot = widening_dot(b, x, y);
            let (lo, hi) = (b.ins().swiden_low(dot), b.ins().swiden_high(dot));
            let sum = b.ins().iadd_pairwise(lo, hi);
            let acc = cast(b, acc, I32X4);
            let r = b.ins().iadd(sum, acc);
            push(b, state, r);
        }

        _ => return Ok(false),
    }
    Ok(true)
}

/// Adjacent pairs of signed lanes multiplied and added into lanes twice as wide
/// (wrapping): `i32x4.dot_i16x8_s`, and the relaxed dot products of i8 lanes as the
/// deterministic profile defines them.
fn widening_dot(b: &mut FunctionBuilder<'_>, x: Value, y: Value) -> Value {
    let lo = {
        let (x, y) = (b.ins().swiden_low(x), b.ins().swiden_low(y));
        b.ins().imul(x, y)
    };
    let hi = {
        let (x, y) = (b.ins().swiden_high(x), b.ins().swiden_high(y));
        b.ins().imul(x, y)
    };
    b.ins().iadd_pairwise(lo, hi)
}

/// `relaxed_madd` (`a * b + c`) and `relaxed_nmadd` (`-(a * b) + c`): fused, as the
/// deterministic profile requires, unless that profile is off and the host has no FMA
/// instructions, where the multiply and the add round separately.
fn madd(
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    env: &FuncEnv<'_>,
    ty: ir::Type,
    negate: bool,
) {
    let (x, y, z) = state.pop3();
    let (x, y, z) = (cast(b, x, ty), cast(b, y, ty), cast(b, z, ty));
    let x = if negate { b.ins().fneg(x) } else { x };
    let r = if env.fused_madd() {
        b.ins().fma(x, y, z)
    } else {
        let p = b.ins().fmul(x, y);
        b.ins().fadd(p, z)
    };
    push(b, state, r);
}

fn zeros(b: &mut FunctionBuilder<'_>, ty: ir::Type) -> Value {
    let c = b
        .func
        .dfg
        .constants
        .insert(ConstantData::from([0u8; 16].as_slice()));
    b.ins().vconst(ty, c)
}

fn pminmax(b: &mut FunctionBuilder<'_>, x: Value, y: Value, min: bool) -> Value {
    let pick_y = if min {
        b.ins().fcmp(FloatCC::LessThan, y, x)
    } else {
        b.ins().fcmp(FloatCC::LessThan, x, y)
    };
    let ty = b.func.dfg.value_type(x);
    let mask = b.ins().bitcast(ty, lanes(), pick_y);
    b.ins().bitselect(mask, y, x)
}

fn splat(b: &mut FunctionBuilder<'_>, state: &mut State, ty: ir::Type) {
    let x = state.pop();
    let lane = ty.lane_type();
    let x = if lane.is_int() && lane.bits() < b.func.dfg.value_type(x).bits() {
        b.ins().ireduce(lane, x)
    } else {
        x
    };
    let v = b.ins().splat(ty, x);
    push(b, state, v);
}

fn extract(
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    ty: ir::Type,
    lane: u8,
    signed: Option<bool>,
) {
    let v = state.pop();
    let v = cast(b, v, ty);
    let x = b.ins().extractlane(v, lane);
    let x = match signed {
        Some(true) => b.ins().sextend(I32, x),
        Some(false) => b.ins().uextend(I32, x),
        None => x,
    };
    state.stack.push(x);
}

fn replace(b: &mut FunctionBuilder<'_>, state: &mut State, ty: ir::Type, lane: u8) {
    let (v, x) = state.pop2();
    let v = cast(b, v, ty);
    let lane_ty = ty.lane_type();
    let x = if lane_ty.is_int() && lane_ty.bits() < b.func.dfg.value_type(x).bits() {
        b.ins().ireduce(lane_ty, x)
    } else {
        x
    };
    let r = b.ins().insertlane(v, x, lane);
    push(b, state, r);
}

fn bitmask(b: &mut FunctionBuilder<'_>, state: &mut State, ty: ir::Type) {
    let v = state.pop();
    let v = cast(b, v, ty);
    let r = b.ins().vhigh_bits(I32, v);
    state.stack.push(r);
}

fn extmul(b: &mut FunctionBuilder<'_>, state: &mut State, ty: ir::Type, signed: bool, high: bool) {
    binop(b, state, ty, |b, x, y| {
        let widen = |b: &mut FunctionBuilder<'_>, v| match (signed, high) {
            (true, false) => b.ins().swiden_low(v),
            (true, true) => b.ins().swiden_high(v),
            (false, false) => b.ins().uwiden_low(v),
            (false, true) => b.ins().uwiden_high(v),
        };
        let (x, y) = (widen(b, x), widen(b, y));
        b.ins().imul(x, y)
    });
}

fn pairwise(b: &mut FunctionBuilder<'_>, state: &mut State, ty: ir::Type, signed: bool) {
    unop(b, state, ty, |b, x| {
        let (lo, hi) = if signed {
            (b.ins().swiden_low(x), b.ins().swiden_high(x))
        } else {
            (b.ins().uwiden_low(x), b.ins().uwiden_high(x))
        };
        b.ins().iadd_pairwise(lo, hi)
    });
}

fn load_extend(
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    env: &FuncEnv<'_>,
    memarg: wasmparser::MemArg,
    wide: ir::Type,
    signed: bool,
) {
    let addr = state.pop();
    let (ptr, off) = env.heap_addr(b, mem(&memarg), addr, memarg.offset, 8);
    let v = b.ins().load(I64, lanes(), ptr, off);
    let v = cast_narrow(b, v, wide);
    let v = if signed {
        b.ins().swiden_low(v)
    } else {
        b.ins().uwiden_low(v)
    };
    push(b, state, v);
}

/// 8 loaded bytes (an i64) as the low half of a 128-bit vector of the lanes that widen to
/// `wide`'s.
fn cast_narrow(b: &mut FunctionBuilder<'_>, bits: Value, wide: ir::Type) -> Value {
    let v = b.ins().scalar_to_vector(I64X2, bits);
    let narrow_lanes = wide
        .split_lanes()
        .expect("a widened type has narrower lanes");
    b.ins().bitcast(narrow_lanes, lanes(), v)
}

/// A scalar load of `lane` bytes into every lane of a vector of type `ty` (`splat`), or
/// into lane 0 with the rest zero (`zero`).
fn load_scalar(
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    env: &FuncEnv<'_>,
    memarg: wasmparser::MemArg,
    lane: ir::Type,
    ty: ir::Type,
    splat: bool,
) {
    let addr = state.pop();
    let (ptr, off) = env.heap_addr(b, mem(&memarg), addr, memarg.offset, lane.bytes() as u8);
    let x = b.ins().load(lane, lanes(), ptr, off);
    let v = if splat {
        b.ins().splat(ty, x)
    } else {
        b.ins().scalar_to_vector(ty, x)
    };
    push(b, state, v);
}

fn load_lane(
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    env: &FuncEnv<'_>,
    memarg: wasmparser::MemArg,
    lane: u8,
    lane_ty: ir::Type,
    ty: ir::Type,
) {
    let (addr, v) = state.pop2();
    let (ptr, off) = env.heap_addr(b, mem(&memarg), addr, memarg.offset, lane_ty.bytes() as u8);
    let x = b.ins().load(lane_ty, lanes(), ptr, off);
    let v = cast(b, v, ty);
    let r = b.ins().insertlane(v, x, lane);
    push(b, state, r);
}

fn store_lane(
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    env: &FuncEnv<'_>,
    memarg: wasmparser::MemArg,
    lane: u8,
    ty: ir::Type,
) {
    let (addr, v) = state.pop2();
    let v = cast(b, v, ty);
    let x = b.ins().extractlane(v, lane);
    let (ptr, off) = env.heap_addr(
        b,
        mem(&memarg),
        addr,
        memarg.offset,
        ty.lane_type().bytes() as u8,
    );
    b.ins().store(lanes(), x, ptr, off);
}

/// The memory an access names (array-targeted accesses are not a feature this engine
/// enables, so validation has ruled them out).
fn mem(memarg: &wasmparser::MemArg) -> u32 {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(i) => i,
        wasmparser::MemArgTarget::Array(_) => {
            unreachable!("array-targeted accesses are not enabled")
        }
    }
}
