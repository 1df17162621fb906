//! Numeric operators: constants, integer and float arithmetic, comparisons, conversions,
//! reinterpretations, sign extension and saturating truncation.
use cranelift_codegen::ir::{
    self, InstBuilder, Value,
    condcodes::{FloatCC, IntCC},
    types::*,
};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

/// Translates `op` if it is a numeric operator, popping its operands from and pushing its
/// result onto `stack` (top of stack = last element). Returns `false`, touching nothing, for
/// any operator that is not numeric.
///
/// Covered: the `i32`/`i64`/`f32`/`f64` constants; integer tests, comparisons and arithmetic
/// (including `clz`/`ctz`/`popcnt`, division and remainder, shifts and rotates); float
/// comparisons and arithmetic (including `min`/`max`, rounding, `sqrt` and `copysign`); every
/// scalar conversion and reinterpretation; the sign-extension operators; and the saturating
/// truncations.
///
/// Traps follow Wasm through Cranelift's own trapping instructions: `sdiv`/`udiv`/`srem`/`urem`
/// trap on a zero divisor (and `sdiv` on `INT_MIN / -1`), and `fcvt_to_sint`/`fcvt_to_uint`
/// trap on NaN or an out-of-range input. Cranelift defines `srem` of `INT_MIN` by `-1` as `0`
/// without trapping (every backend special-cases a divisor of `-1`), which is exactly Wasm's
/// `rem_s`, so no guard is emitted for it.
///
/// The operand stack must have been validated: popping a missing operand panics.
pub(crate) fn translate_numeric(
    op: &Operator<'_>,
    builder: &mut FunctionBuilder<'_>,
    stack: &mut Vec<Value>,
) -> bool {
    use Operator as O;

    match *op {
        // ---------------------------------------------------------------- constants
        O::I32Const { value } => {
            // The verifier wants narrow immediates zero-extended to 64 bits.
            let v = builder.ins().iconst(I32, i64::from(value.cast_unsigned()));
            stack.push(v);
        }
        O::I64Const { value } => {
            let v = builder.ins().iconst(I64, value);
            stack.push(v);
        }
        O::F32Const { value } => {
            let bits = ir::immediates::Ieee32::with_bits(value.bits());
            let v = builder.ins().f32const(bits);
            stack.push(v);
        }
        O::F64Const { value } => {
            let bits = ir::immediates::Ieee64::with_bits(value.bits());
            let v = builder.ins().f64const(bits);
            stack.push(v);
        }

        // ---------------------------------------------------------------- integer tests
        O::I32Eqz | O::I64Eqz => unop(builder, stack, |b, x| {
            let c = b.ins().icmp_imm_u(IntCC::Equal, x, 0);
            b.ins().uextend(I32, c)
        }),
        O::I32Eq | O::I64Eq => icmp(builder, stack, IntCC::Equal),
        O::I32Ne | O::I64Ne => icmp(builder, stack, IntCC::NotEqual),
        O::I32LtS | O::I64LtS => icmp(builder, stack, IntCC::SignedLessThan),
        O::I32LtU | O::I64LtU => icmp(builder, stack, IntCC::UnsignedLessThan),
        O::I32GtS | O::I64GtS => icmp(builder, stack, IntCC::SignedGreaterThan),
        O::I32GtU | O::I64GtU => icmp(builder, stack, IntCC::UnsignedGreaterThan),
        O::I32LeS | O::I64LeS => icmp(builder, stack, IntCC::SignedLessThanOrEqual),
        O::I32LeU | O::I64LeU => icmp(builder, stack, IntCC::UnsignedLessThanOrEqual),
        O::I32GeS | O::I64GeS => icmp(builder, stack, IntCC::SignedGreaterThanOrEqual),
        O::I32GeU | O::I64GeU => icmp(builder, stack, IntCC::UnsignedGreaterThanOrEqual),

        // ---------------------------------------------------------------- integer arithmetic
        O::I32Clz | O::I64Clz => unop(builder, stack, |b, x| b.ins().clz(x)),
        O::I32Ctz | O::I64Ctz => unop(builder, stack, |b, x| b.ins().ctz(x)),
        O::I32Popcnt | O::I64Popcnt => unop(builder, stack, |b, x| b.ins().popcnt(x)),
        O::I32Add | O::I64Add => binop(builder, stack, |b, x, y| b.ins().iadd(x, y)),
        O::I32Sub | O::I64Sub => binop(builder, stack, |b, x, y| b.ins().isub(x, y)),
        O::I32Mul | O::I64Mul => binop(builder, stack, |b, x, y| b.ins().imul(x, y)),
        O::I32DivS | O::I64DivS => binop(builder, stack, |b, x, y| b.ins().sdiv(x, y)),
        O::I32DivU | O::I64DivU => binop(builder, stack, |b, x, y| b.ins().udiv(x, y)),
        O::I32RemS | O::I64RemS => binop(builder, stack, |b, x, y| b.ins().srem(x, y)),
        O::I32RemU | O::I64RemU => binop(builder, stack, |b, x, y| b.ins().urem(x, y)),
        O::I32And | O::I64And => binop(builder, stack, |b, x, y| b.ins().band(x, y)),
        O::I32Or | O::I64Or => binop(builder, stack, |b, x, y| b.ins().bor(x, y)),
        O::I32Xor | O::I64Xor => binop(builder, stack, |b, x, y| b.ins().bxor(x, y)),
        // Cranelift masks shift and rotate amounts by the bit width, as Wasm requires.
        O::I32Shl | O::I64Shl => binop(builder, stack, |b, x, y| b.ins().ishl(x, y)),
        O::I32ShrS | O::I64ShrS => binop(builder, stack, |b, x, y| b.ins().sshr(x, y)),
        O::I32ShrU | O::I64ShrU => binop(builder, stack, |b, x, y| b.ins().ushr(x, y)),
        O::I32Rotl | O::I64Rotl => binop(builder, stack, |b, x, y| b.ins().rotl(x, y)),
        O::I32Rotr | O::I64Rotr => binop(builder, stack, |b, x, y| b.ins().rotr(x, y)),

        // ---------------------------------------------------------------- float comparisons
        // Only `ne` is true for unordered operands; the others are ordered comparisons.
        O::F32Eq | O::F64Eq => fcmp(builder, stack, FloatCC::Equal),
        O::F32Ne | O::F64Ne => fcmp(builder, stack, FloatCC::NotEqual),
        O::F32Lt | O::F64Lt => fcmp(builder, stack, FloatCC::LessThan),
        O::F32Gt | O::F64Gt => fcmp(builder, stack, FloatCC::GreaterThan),
        O::F32Le | O::F64Le => fcmp(builder, stack, FloatCC::LessThanOrEqual),
        O::F32Ge | O::F64Ge => fcmp(builder, stack, FloatCC::GreaterThanOrEqual),

        // ---------------------------------------------------------------- float arithmetic
        O::F32Abs | O::F64Abs => unop(builder, stack, |b, x| b.ins().fabs(x)),
        O::F32Neg | O::F64Neg => unop(builder, stack, |b, x| b.ins().fneg(x)),
        O::F32Ceil | O::F64Ceil => unop(builder, stack, |b, x| b.ins().ceil(x)),
        O::F32Floor | O::F64Floor => unop(builder, stack, |b, x| b.ins().floor(x)),
        O::F32Trunc | O::F64Trunc => unop(builder, stack, |b, x| b.ins().trunc(x)),
        O::F32Nearest | O::F64Nearest => unop(builder, stack, |b, x| b.ins().nearest(x)),
        O::F32Sqrt | O::F64Sqrt => unop(builder, stack, |b, x| b.ins().sqrt(x)),
        O::F32Add | O::F64Add => binop(builder, stack, |b, x, y| b.ins().fadd(x, y)),
        O::F32Sub | O::F64Sub => binop(builder, stack, |b, x, y| b.ins().fsub(x, y)),
        O::F32Mul | O::F64Mul => binop(builder, stack, |b, x, y| b.ins().fmul(x, y)),
        O::F32Div | O::F64Div => binop(builder, stack, |b, x, y| b.ins().fdiv(x, y)),
        O::F32Min | O::F64Min => binop(builder, stack, |b, x, y| b.ins().fmin(x, y)),
        O::F32Max | O::F64Max => binop(builder, stack, |b, x, y| b.ins().fmax(x, y)),
        O::F32Copysign | O::F64Copysign => binop(builder, stack, |b, x, y| b.ins().fcopysign(x, y)),

        // ---------------------------------------------------------------- integer conversions
        O::I32WrapI64 => unop(builder, stack, |b, x| b.ins().ireduce(I32, x)),
        O::I64ExtendI32S => unop(builder, stack, |b, x| b.ins().sextend(I64, x)),
        O::I64ExtendI32U => unop(builder, stack, |b, x| b.ins().uextend(I64, x)),

        // ---------------------------------------------------------------- trapping truncation
        O::I32TruncF32S | O::I32TruncF64S => {
            unop(builder, stack, |b, x| b.ins().fcvt_to_sint(I32, x))
        }
        O::I32TruncF32U | O::I32TruncF64U => {
            unop(builder, stack, |b, x| b.ins().fcvt_to_uint(I32, x))
        }
        O::I64TruncF32S | O::I64TruncF64S => {
            unop(builder, stack, |b, x| b.ins().fcvt_to_sint(I64, x))
        }
        O::I64TruncF32U | O::I64TruncF64U => {
            unop(builder, stack, |b, x| b.ins().fcvt_to_uint(I64, x))
        }

        // ---------------------------------------------------------------- saturating truncation
        O::I32TruncSatF32S | O::I32TruncSatF64S => {
            unop(builder, stack, |b, x| b.ins().fcvt_to_sint_sat(I32, x))
        }
        O::I32TruncSatF32U | O::I32TruncSatF64U => {
            unop(builder, stack, |b, x| b.ins().fcvt_to_uint_sat(I32, x))
        }
        O::I64TruncSatF32S | O::I64TruncSatF64S => {
            unop(builder, stack, |b, x| b.ins().fcvt_to_sint_sat(I64, x))
        }
        O::I64TruncSatF32U | O::I64TruncSatF64U => {
            unop(builder, stack, |b, x| b.ins().fcvt_to_uint_sat(I64, x))
        }

        // ---------------------------------------------------------------- int -> float
        O::F32ConvertI32S | O::F32ConvertI64S => {
            unop(builder, stack, |b, x| b.ins().fcvt_from_sint(F32, x))
        }
        O::F32ConvertI32U | O::F32ConvertI64U => {
            unop(builder, stack, |b, x| b.ins().fcvt_from_uint(F32, x))
        }
        O::F64ConvertI32S | O::F64ConvertI64S => {
            unop(builder, stack, |b, x| b.ins().fcvt_from_sint(F64, x))
        }
        O::F64ConvertI32U | O::F64ConvertI64U => {
            unop(builder, stack, |b, x| b.ins().fcvt_from_uint(F64, x))
        }

        // ---------------------------------------------------------------- float <-> float
        O::F32DemoteF64 => unop(builder, stack, |b, x| b.ins().fdemote(F32, x)),
        O::F64PromoteF32 => unop(builder, stack, |b, x| b.ins().fpromote(F64, x)),

        // ---------------------------------------------------------------- reinterpretations
        O::I32ReinterpretF32 => reinterpret(builder, stack, I32),
        O::I64ReinterpretF64 => reinterpret(builder, stack, I64),
        O::F32ReinterpretI32 => reinterpret(builder, stack, F32),
        O::F64ReinterpretI64 => reinterpret(builder, stack, F64),

        // ---------------------------------------------------------------- sign extension
        O::I32Extend8S => sign_extend(builder, stack, I8, I32),
        O::I32Extend16S => sign_extend(builder, stack, I16, I32),
        O::I64Extend8S => sign_extend(builder, stack, I8, I64),
        O::I64Extend16S => sign_extend(builder, stack, I16, I64),
        O::I64Extend32S => sign_extend(builder, stack, I32, I64),

        // ---------------------------------------------------------------- wide arithmetic
        // 128-bit values as (low, high) pairs of i64, computed in Cranelift's i128.
        O::I64Add128 | O::I64Sub128 => {
            let (y_hi, y_lo, x_hi, x_lo) = (pop(stack), pop(stack), pop(stack), pop(stack));
            let x = builder.ins().iconcat(x_lo, x_hi);
            let y = builder.ins().iconcat(y_lo, y_hi);
            let r = if matches!(op, O::I64Add128) {
                builder.ins().iadd(x, y)
            } else {
                builder.ins().isub(x, y)
            };
            let (lo, hi) = builder.ins().isplit(r);
            stack.extend([lo, hi]);
        }
        O::I64MulWideS | O::I64MulWideU => {
            let (y, x) = (pop(stack), pop(stack));
            let lo = builder.ins().imul(x, y);
            let hi = if matches!(op, O::I64MulWideS) {
                builder.ins().smulhi(x, y)
            } else {
                builder.ins().umulhi(x, y)
            };
            stack.extend([lo, hi]);
        }

        _ => return false,
    }
    true
}

/// Pops the top of the operand stack.
fn pop(stack: &mut Vec<Value>) -> Value {
    stack.pop().expect("validated")
}

/// Replaces the top operand `x` with `f(x)`.
fn unop(
    builder: &mut FunctionBuilder<'_>,
    stack: &mut Vec<Value>,
    f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value,
) {
    let x = pop(stack);
    let r = f(builder, x);
    stack.push(r);
}

/// Replaces the top two operands `x y` (with `y` on top) by `f(x, y)`.
fn binop(
    builder: &mut FunctionBuilder<'_>,
    stack: &mut Vec<Value>,
    f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
) {
    let y = pop(stack);
    let x = pop(stack);
    let r = f(builder, x, y);
    stack.push(r);
}

/// Integer comparison producing a Wasm `i32` boolean (0 or 1).
fn icmp(builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>, cc: IntCC) {
    binop(builder, stack, |b, x, y| {
        let c = b.ins().icmp(cc, x, y);
        b.ins().uextend(I32, c)
    });
}

/// Float comparison producing a Wasm `i32` boolean (0 or 1).
fn fcmp(builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>, cc: FloatCC) {
    binop(builder, stack, |b, x, y| {
        let c = b.ins().fcmp(cc, x, y);
        b.ins().uextend(I32, c)
    });
}

/// Reinterprets the bits of the top operand as type `to` (same width, scalar).
fn reinterpret(builder: &mut FunctionBuilder<'_>, stack: &mut Vec<Value>, to: ir::Type) {
    unop(builder, stack, |b, x| {
        b.ins().bitcast(to, ir::MemFlagsData::new(), x)
    });
}

/// Sign-extends the low `narrow` bits of the top operand to the full `wide` type.
fn sign_extend(
    builder: &mut FunctionBuilder<'_>,
    stack: &mut Vec<Value>,
    narrow: ir::Type,
    wide: ir::Type,
) {
    unop(builder, stack, |b, x| {
        let low = b.ins().ireduce(narrow, x);
        b.ins().sextend(wide, low)
    });
}
