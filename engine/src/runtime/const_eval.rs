//! Evaluation of constant expressions at instantiation: global initialisers, table
//! initial values, segment offsets and element items.
//!
//! GC objects are built by the store's one object builder (`StoreOpaque::new_struct` /
//! `new_array`, with the allocation path, limits and collections of compiled code's slow
//! path), never staged on the host.
//! Every GC reference on the evaluation stack holds a count while it is there, so an
//! allocation may collect: nothing the expression has built so far can be freed.

use crate::environ::{ConstExpr, ConstOp};
use crate::limits::{ResourceLimiter, reborrow};
use crate::runtime::gc::ArrayInit;
use crate::runtime::gc_layout::field_kind;
use crate::store::StoreOpaque;
use crate::types::CompositeType;
use crate::vm::{InstanceData, ValRaw};
use anyhow::{Context, Result, bail};
use gc_core::VMGcRef;

/// The value of a constant expression. A GC object reference (`counted`) owns one count,
/// which the receiver takes over or gives back with [`ConstValue::release`].
#[derive(Clone, Copy, Debug)]
#[must_use = "a counted reference must be kept or released"]
pub(crate) struct ConstValue {
    pub raw: ValRaw,
    counted: bool,
}

impl ConstValue {
    fn plain(raw: ValRaw) -> ConstValue {
        ConstValue {
            raw,
            counted: false,
        }
    }

    /// Gives back the count this value owns, if any.
    pub(crate) fn release(self, opaque: &mut StoreOpaque) {
        if self.counted
            && let Some(r) = VMGcRef::from_raw(self.raw.get_u32())
        {
            opaque.gc.heap.drop_gc_ref(r);
        }
    }

    /// The raw value, whose count (if any) the caller now owns.
    pub(crate) fn into_counted_raw(self) -> ValRaw {
        self.raw
    }
}

/// Evaluates `expr` in the context of the (partly built) instance `data`.
///
/// # Safety
/// `data` must be a live instance of `opaque`, boxed apart from the rest of the store;
/// evaluation never touches the store's instance list.
pub(crate) unsafe fn eval(
    opaque: &mut StoreOpaque,
    limiter: Option<&mut dyn ResourceLimiter>,
    data: *const InstanceData,
    expr: &ConstExpr,
) -> Result<ConstValue> {
    // SAFETY: per the contract.
    let data = unsafe { &*data };
    let mut stack = Vec::with_capacity(2);
    let result = run(opaque, limiter, data, expr, &mut stack);
    let value = match result {
        Ok(()) if stack.len() == 1 => return Ok(stack.pop().expect("one value")),
        Ok(()) => Err(anyhow::anyhow!(
            "constant expression left {} values",
            stack.len()
        )),
        Err(err) => Err(err),
    };
    for v in stack {
        v.release(opaque);
    }
    value
}

fn underflow() -> anyhow::Error {
    anyhow::anyhow!("constant expression stack underflow")
}

/// The top `n` values of `stack`, without removing them.
fn top(stack: &[ConstValue], n: usize) -> Result<&[ConstValue]> {
    let at = stack.len().checked_sub(n).ok_or_else(underflow)?;
    Ok(&stack[at..])
}

fn pop(stack: &mut Vec<ConstValue>) -> Result<ConstValue> {
    stack.pop().ok_or_else(underflow)
}

/// Runs `expr`'s operators, leaving what they produce on `stack`. Operands stay on the
/// stack (counted) until the operation that consumes them has allocated.
fn run(
    opaque: &mut StoreOpaque,
    mut limiter: Option<&mut dyn ResourceLimiter>,
    data: &InstanceData,
    expr: &ConstExpr,
    stack: &mut Vec<ConstValue>,
) -> Result<()> {
    let info = data.module.info();
    for op in &expr.ops {
        let v = match *op {
            ConstOp::StructNew(t) | ConstOp::StructNewDefault(t) => {
                let CompositeType::Struct(fields) = &info.types[t as usize].composite else {
                    bail!("struct.new of a non-struct type");
                };
                let n = match op {
                    ConstOp::StructNew(_) => fields.len(),
                    _ => 0,
                };
                let values = top(stack, n)?;
                let bits = fields
                    .iter()
                    .zip(values)
                    .map(|(field, v)| opaque.gc_field_bits(field_kind(field), v.raw.get_u128()))
                    .collect::<Vec<_>>();
                let r =
                    opaque.new_struct(reborrow(&mut limiter), info.type_ids[t as usize], &bits)?;
                release_top(opaque, stack, n);
                owned(opaque, r)
            }
            ConstOp::ArrayNew(t) | ConstOp::ArrayNewDefault(t) | ConstOp::ArrayNewFixed(t, _) => {
                let CompositeType::Array(elem) = &info.types[t as usize].composite else {
                    bail!("array.new of a non-array type");
                };
                let kind = field_kind(elem);
                // Operands: [init] len for array.new(_default), the elements for _fixed.
                let (len, operands) = match *op {
                    ConstOp::ArrayNew(_) => (top(stack, 2)?[1].raw.get_u32(), 2),
                    ConstOp::ArrayNewDefault(_) => (top(stack, 1)?[0].raw.get_u32(), 1),
                    ConstOp::ArrayNewFixed(_, n) => {
                        top(stack, n as usize)?;
                        (n, n as usize)
                    }
                    _ => unreachable!("matched above"),
                };
                let values = &stack[stack.len() - operands..];
                let mut bits = |v: &ConstValue| opaque.gc_field_bits(kind, v.raw.get_u128());
                let (fill, elems) = match *op {
                    ConstOp::ArrayNew(_) => (bits(&values[0]), Vec::new()),
                    ConstOp::ArrayNewFixed(..) => (0, values.iter().map(bits).collect()),
                    _ => (0, Vec::new()),
                };
                let init = match *op {
                    ConstOp::ArrayNewFixed(..) => ArrayInit::Elems(&elems),
                    _ => ArrayInit::Fill(fill),
                };
                let ty = info.type_ids[t as usize];
                let r = opaque.new_array(reborrow(&mut limiter), ty, len, init)?;
                release_top(opaque, stack, operands);
                owned(opaque, r)
            }
            ConstOp::I32(v) => ConstValue::plain(ValRaw::from_u32(v as u32)),
            ConstOp::I64(v) => ConstValue::plain(ValRaw::from_u64(v as u64)),
            ConstOp::F32(v) => ConstValue::plain(ValRaw::from_u32(v)),
            ConstOp::F64(v) => ConstValue::plain(ValRaw::from_u64(v)),
            ConstOp::V128(v) => ConstValue::plain(ValRaw::from_u128(v)),
            ConstOp::RefNull => ConstValue::plain(ValRaw::from_u64(0)),
            ConstOp::RefFunc(f) => ConstValue::plain(ValRaw::from_u64(data.funcref(f) as u64)),
            ConstOp::GlobalGet(g) => {
                let id = *data
                    .global_ids
                    .get(g as usize)
                    .context("global used before definition")?;
                let global = &opaque.globals[id];
                let raw = global.def.value;
                if global.ty.content().is_gc_ref()
                    && let Some(r) = VMGcRef::from_raw(raw.get_u32())
                {
                    owned(opaque, r)
                } else {
                    ConstValue::plain(raw)
                }
            }
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let b = pop(stack)?.raw.get_u32();
                let a = pop(stack)?.raw.get_u32();
                ConstValue::plain(ValRaw::from_u32(match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }))
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let b = pop(stack)?.raw.get_u64();
                let a = pop(stack)?.raw.get_u64();
                ConstValue::plain(ValRaw::from_u64(match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }))
            }
            ConstOp::RefI31 => {
                let x = pop(stack)?.raw.get_u32();
                ConstValue::plain(ValRaw::from_u32(
                    crate::anyref::I31::wrapping_u32(x).to_raw(),
                ))
            }
            ConstOp::ConvertRef => {
                // Either direction: what becomes an `externref` may matter to the collector
                // (an `externref` already is one, so this is harmless the other way).
                if let Some(v) = stack.last()
                    && let Some(r) = VMGcRef::from_raw(v.raw.get_u32())
                    && !r.is_i31()
                {
                    opaque.gc.heap.externalize(r);
                }
                continue;
            }
        };
        stack.push(v);
    }
    Ok(())
}

/// `r` with a count of its own (the caller's).
fn owned(opaque: &mut StoreOpaque, r: VMGcRef) -> ConstValue {
    opaque.gc.heap.clone_gc_ref(&r);
    ConstValue {
        raw: ValRaw::from_u32(r.as_raw()),
        counted: true,
    }
}

/// Removes the top `n` values of `stack`, giving back their counts: the operands of an
/// operation that has allocated its result.
fn release_top(opaque: &mut StoreOpaque, stack: &mut Vec<ConstValue>, n: usize) {
    for v in stack.split_off(stack.len() - n) {
        v.release(opaque);
    }
}
