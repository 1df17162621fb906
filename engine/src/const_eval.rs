//! Evaluation of constant expressions at instantiation: global initialisers, table
//! initial values, segment offsets and element items.
//!
//! GC objects are allocated in the store's heap through the same path as compiled code's
//! (`StoreOpaque::alloc_gc`, with its limits and collections), never staged on the host.
//! Every GC reference on the evaluation stack holds a count while it is there, so an
//! allocation may collect: nothing the expression has built so far can be freed.

use crate::limits::{ResourceLimiter, reborrow};
use crate::module::{ConstExpr, ConstOp};
use crate::store::StoreOpaque;
use crate::trap::Trap;
use crate::types::CompositeType;
use crate::vm::{InstanceData, ValRaw};
use anyhow::{Context, Result, bail};
use gc_core::{GcFieldKind, VMGcKind, VMGcRef};

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
    let layouts = opaque.engine.gc_runtime().layouts();
    for op in &expr.ops {
        let v = match *op {
            ConstOp::StructNew(t) | ConstOp::StructNewDefault(t) => {
                let CompositeType::Struct(fields) = &info.types[t as usize].composite else {
                    bail!("struct.new of a non-struct type");
                };
                let layout = crate::gc_layout::struct_layout(layouts, fields);
                let n = match op {
                    ConstOp::StructNew(_) => fields.len(),
                    _ => 0,
                };
                top(stack, n)?;
                let r = alloc(
                    opaque,
                    reborrow(&mut limiter),
                    VMGcKind::StructRef,
                    info.type_ids[t as usize],
                    Some(layout.size),
                )?;
                let values = stack.split_off(stack.len() - n);
                for (&(offset, kind), v) in layout.fields.iter().zip(&values) {
                    let bits = opaque.gc_field_bits(kind, v.raw.get_u128());
                    opaque.write_gc_field(r, offset, kind, bits);
                }
                for v in values {
                    v.release(opaque);
                }
                owned(opaque, r)
            }
            ConstOp::ArrayNew(t) | ConstOp::ArrayNewDefault(t) | ConstOp::ArrayNewFixed(t, _) => {
                let CompositeType::Array(elem) = &info.types[t as usize].composite else {
                    bail!("array.new of a non-array type");
                };
                let layout = crate::gc_layout::array_layout(layouts, elem);
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
                let r = alloc(
                    opaque,
                    reborrow(&mut limiter),
                    VMGcKind::ArrayRef,
                    info.type_ids[t as usize],
                    layout.size(len),
                )?;
                opaque.write_gc_field(r, layout.length_offset, GcFieldKind::I32, len.into());
                let values = stack.split_off(stack.len() - operands);
                match *op {
                    ConstOp::ArrayNew(_) => {
                        let bits = opaque.gc_field_bits(layout.elem, values[0].raw.get_u128());
                        // The new array is zeroed already.
                        if bits != 0 {
                            opaque.fill_gc_array(r, &layout, 0, len, bits);
                        }
                    }
                    ConstOp::ArrayNewFixed(..) => {
                        for (i, v) in (0..).zip(&values) {
                            let bits = opaque.gc_field_bits(layout.elem, v.raw.get_u128());
                            opaque.fill_gc_array(r, &layout, i, 1, bits);
                        }
                    }
                    _ => {}
                }
                for v in values {
                    v.release(opaque);
                }
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
            ConstOp::ConvertRef => continue,
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

/// Allocates a zeroed object of `size` bytes (`None`: larger than any heap) like compiled
/// code does: collecting first if the heap asks, then making room if it is full.
fn alloc(
    opaque: &mut StoreOpaque,
    limiter: Option<&mut dyn ResourceLimiter>,
    kind: VMGcKind,
    ty: u32,
    size: Option<u32>,
) -> Result<VMGcRef> {
    let size = size.ok_or(Trap::AllocationTooLarge)?;
    opaque.maybe_gc();
    opaque.alloc_gc_object(limiter, kind, ty, size, true)
}
