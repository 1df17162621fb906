//! Struct and array instructions: allocation, field and element access and barriers, all
//! emitted by the collector's `GcCompiler` with the layouts the type registry computed
//! once per type, and the function-reference table for function fields (the heap holds no
//! host pointers).
//!
//! Struct fields lie within `GcLayouts::MAX_STRUCT_SIZE` of the object, which the heap's
//! index-space reservation covers; array elements can lie further out, so their addresses
//! are always checked against the heap bound (after the spec's check against the length).

use super::env::{FuncEnv, gc_ref_kind, readonly, trusted};
use crate::trap::Trap;
use crate::types::{CompositeType, FieldType, StorageType};
use crate::vm::{Builtin, GcStatus, field};
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, Value, condcodes::IntCC, types::*};
use cranelift_frontend::FunctionBuilder;
use gc_compiler::{GcRefKind, GcSize};
use gc_core::{GcArrayLayout, GcFieldKind, GcStructLayout, VMGcKind};
use std::sync::Arc;

/// Flags for object field accesses: in bounds by construction or by check, so they cannot
/// fault, but a corrupt object may be misaligned.
fn field_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// How a field is read: packed fields are extended to i32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extend {
    None,
    Signed,
    Unsigned,
}

/// The canonical index of module type `type_index`.
fn canonical(env: &FuncEnv<'_>, type_index: u32) -> u32 {
    env.info.type_ids[type_index as usize]
}

/// What the static type of field `field` says about the references it holds.
fn refs_of(field: &FieldType) -> GcRefKind {
    match field.storage {
        StorageType::Val(ty) => gc_ref_kind(&ty),
        _ => GcRefKind::ANY,
    }
}

/// The field types of struct type `type_index` of the module.
fn struct_fields<'a>(env: &'a FuncEnv<'_>, type_index: u32) -> &'a [FieldType] {
    match &env.info.types[type_index as usize].composite {
        CompositeType::Struct(fields) => fields,
        other => panic!("validated: struct type expected, got {other:?}"),
    }
}

/// What the element type of array type `type_index` says about its references.
fn array_refs(env: &FuncEnv<'_>, type_index: u32) -> GcRefKind {
    match &env.info.types[type_index as usize].composite {
        CompositeType::Array(elem) => refs_of(elem),
        other => panic!("validated: array type expected, got {other:?}"),
    }
}

fn struct_layout(env: &FuncEnv<'_>, type_index: u32) -> Arc<GcStructLayout> {
    env.registry.struct_layout(canonical(env, type_index))
}

fn array_layout(env: &FuncEnv<'_>, type_index: u32) -> GcArrayLayout {
    env.registry.array_layout(canonical(env, type_index))
}

/// Traps on `status` values other than `Ok`.
fn check_status(b: &mut FunctionBuilder<'_>, status: Value) {
    for (code, trap) in GcStatus::TRAPS {
        let is = b
            .ins()
            .icmp_imm_u(IntCC::Equal, status, i64::from(code as u32));
        b.ins().trapnz(is, trap.to_cranelift());
    }
}

/// The reference an allocating builtin returned packed as `(status << 32) | ref`; traps on
/// failure.
pub(super) fn allocated(b: &mut FunctionBuilder<'_>, packed: Value) -> Value {
    let status = b.ins().ushr_imm_u(packed, 32);
    check_status(b, status);
    let r = b.ins().ireduce(I32, packed);
    b.declare_value_needs_stack_map(r);
    r
}

/// Allocates a zeroed object of module type `type_index` through the collector.
fn alloc(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    type_index: u32,
    kind: VMGcKind,
    size: GcSize,
) -> Value {
    let ty = b.ins().iconst(I32, i64::from(canonical(env, type_index)));
    let gc = env.gc_compiler();
    gc.alloc(env, b, kind, ty, size)
}

/// The native address of object `r`, whose bytes up to `end` are accessed at immediate
/// offsets from it.
fn object_addr(env: &mut FuncEnv<'_>, b: &mut FunctionBuilder<'_>, r: Value, end: u32) -> Value {
    let gc = env.gc_compiler();
    gc.object_addr(env, b, r, end)
}

/// Reads a field or element of `kind` at `addr + offset`.
fn read(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    kind: GcFieldKind,
    extend: Extend,
    addr: Value,
    offset: i32,
) -> Value {
    let f = field_flags();
    match kind {
        GcFieldKind::I8 if extend == Extend::Signed => b.ins().sload8(I32, f, addr, offset),
        GcFieldKind::I8 => b.ins().uload8(I32, f, addr, offset),
        GcFieldKind::I16 if extend == Extend::Signed => b.ins().sload16(I32, f, addr, offset),
        GcFieldKind::I16 => b.ins().uload16(I32, f, addr, offset),
        GcFieldKind::I32 => b.ins().load(I32, f, addr, offset),
        GcFieldKind::I64 => b.ins().load(I64, f, addr, offset),
        GcFieldKind::F32 => b.ins().load(F32, f, addr, offset),
        GcFieldKind::F64 => b.ins().load(F64, f, addr, offset),
        GcFieldKind::V128 => b.ins().load(I8X16, f, addr, offset),
        GcFieldKind::GcRef => {
            let gc = env.gc_compiler();
            let v = gc.load_gc_ref(env, b, f, addr, offset);
            b.declare_value_needs_stack_map(v);
            v
        }
        GcFieldKind::FuncRef => {
            // An index into the store's function-reference table; 0 is null.
            let index = b.ins().load(I32, f, addr, offset);
            let index = b.ins().uextend(I64, index);
            let store = b.ins().load(
                I64,
                super::env::readonly(),
                env.vmctx,
                crate::vm::header::STORE,
            );
            let len = b
                .ins()
                .load(I64, trusted(), store, field::STORE_FUNC_TABLE_LEN);
            let oob = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
            b.ins().trapnz(oob, Trap::GcHeapOutOfBounds.to_cranelift());
            let table = b
                .ins()
                .load(I64, trusted(), store, field::STORE_FUNC_TABLE_BASE);
            let scaled = b.ins().ishl_imm_u(index, 3);
            let slot = b.ins().iadd(table, scaled);
            b.ins().load(I64, trusted(), slot, 0)
        }
    }
}

/// Writes `value` to a field or element of `kind` at `addr + offset` in object `object`,
/// whose static type says `refs` about the references it holds. `fresh` marks the first
/// write into a new object (see `GcCompiler::init_gc_ref`).
#[allow(clippy::too_many_arguments)]
fn write(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    kind: GcFieldKind,
    refs: GcRefKind,
    object: Value,
    addr: Value,
    offset: i32,
    value: Value,
    fresh: bool,
) {
    let f = field_flags();
    match kind {
        GcFieldKind::I8 => {
            b.ins().istore8(f, value, addr, offset);
        }
        GcFieldKind::I16 => {
            b.ins().istore16(f, value, addr, offset);
        }
        GcFieldKind::GcRef if fresh => {
            let gc = env.gc_compiler();
            gc.init_gc_ref(env, b, f, addr, offset, value, refs, object);
        }
        GcFieldKind::GcRef => {
            let gc = env.gc_compiler();
            gc.store_gc_ref(env, b, f, addr, offset, value, refs, Some(object));
        }
        GcFieldKind::FuncRef => {
            let index = env
                .builtin(b, Builtin::InternFuncRef, &[value])
                .expect("returns");
            b.ins().store(f, index, addr, offset);
        }
        _ => {
            b.ins().store(f, value, addr, offset);
        }
    }
}

/// `struct.new` (with `values`) or `struct.new_default` (`None`).
pub(crate) fn struct_new(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    type_index: u32,
    values: Option<&[Value]>,
) -> Value {
    let layout = struct_layout(env, type_index);
    let size = GcSize::Const(layout.size);
    let r = alloc(env, b, type_index, VMGcKind::StructRef, size);
    if let Some(values) = values {
        let base = object_addr(env, b, r, layout.size);
        let refs: Vec<GcRefKind> = struct_fields(env, type_index).iter().map(refs_of).collect();
        for ((&(offset, kind), &v), &refs) in layout.fields.iter().zip(values).zip(&refs) {
            write(env, b, kind, refs, r, base, offset as i32, v, true);
        }
    }
    r
}

/// The module type index of tag `tag`, and the layout of its exceptions.
fn tag_layout(env: &FuncEnv<'_>, tag: u32) -> (u32, Arc<GcStructLayout>) {
    let type_index = env.info.tags[tag as usize];
    (
        type_index,
        env.registry.exn_layout(canonical(env, type_index)),
    )
}

/// Allocates the exception `throw $tag` throws: the tag's identity (from the `VMContext`)
/// and `values`, its payload.
pub(crate) fn exn_new(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    tag: u32,
    values: &[Value],
) -> Value {
    let (type_index, layout) = tag_layout(env, tag);
    let r = alloc(
        env,
        b,
        type_index,
        VMGcKind::ExnRef,
        GcSize::Const(layout.size),
    );
    let base = object_addr(env, b, r, layout.size);
    let id = env.tag_id(b, tag);
    let (tag_offset, tag_kind) = layout.fields[0];
    write(
        env,
        b,
        tag_kind,
        GcRefKind::ANY,
        r,
        base,
        tag_offset as i32,
        id,
        true,
    );
    let payload = env.info.func_type_at(type_index).params().to_vec();
    for ((&(offset, kind), &v), ty) in layout.fields[1..].iter().zip(values).zip(&payload) {
        write(
            env,
            b,
            kind,
            gc_ref_kind(ty),
            r,
            base,
            offset as i32,
            v,
            true,
        );
    }
    r
}

/// The tag identity stored in exception `exn` (non-null).
pub(crate) fn exn_tag_id(env: &mut FuncEnv<'_>, b: &mut FunctionBuilder<'_>, exn: Value) -> Value {
    let offset = crate::runtime::gc_layout::exn_tag_offset(env.gc_compiler().layouts());
    let base = object_addr(env, b, exn, offset + 4);
    read(env, b, GcFieldKind::I32, Extend::None, base, offset as i32)
}

/// The payload of exception `exn`, thrown with tag `tag` (a handler's unpacking).
pub(crate) fn exn_payload(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    tag: u32,
    exn: Value,
) -> Vec<Value> {
    let (_, layout) = tag_layout(env, tag);
    let base = object_addr(env, b, exn, layout.size);
    layout.fields[1..]
        .iter()
        .map(|&(offset, kind)| read(env, b, kind, Extend::None, base, offset as i32))
        .collect()
}

/// `struct.get` / `struct.get_s` / `struct.get_u`.
pub(crate) fn struct_get(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    type_index: u32,
    field_index: u32,
    r: Value,
    extend: Extend,
) -> Value {
    env.null_check(b, r, Trap::NullStructReference);
    let (offset, kind) = struct_layout(env, type_index).fields[field_index as usize];
    let base = object_addr(env, b, r, offset + kind.size());
    read(env, b, kind, extend, base, offset as i32)
}

/// `struct.set`.
pub(crate) fn struct_set(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    type_index: u32,
    field_index: u32,
    r: Value,
    value: Value,
) {
    env.null_check(b, r, Trap::NullStructReference);
    let (offset, kind) = struct_layout(env, type_index).fields[field_index as usize];
    let refs = refs_of(&struct_fields(env, type_index)[field_index as usize]);
    let base = object_addr(env, b, r, offset + kind.size());
    write(env, b, kind, refs, r, base, offset as i32, value, false);
}

/// Allocates an array of `len` elements (all zero) and writes its length.
fn array_alloc(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    type_index: u32,
    len: Value,
) -> Value {
    let layout = array_layout(env, type_index);
    let len64 = b.ins().uextend(I64, len);
    let bytes = b.ins().imul_imm_u(len64, i64::from(layout.elem.size()));
    let size = b.ins().iadd_imm_u(bytes, i64::from(layout.elems_offset));
    let r = alloc(
        env,
        b,
        type_index,
        VMGcKind::ArrayRef,
        GcSize::Dynamic(size),
    );
    let base = object_addr(env, b, r, layout.length_offset + 4);
    b.ins()
        .store(field_flags(), len, base, layout.length_offset as i32);
    r
}

/// The value an array element of `kind` holds, as raw bits for the fill builtin.
fn to_bits(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    kind: GcFieldKind,
    value: Value,
) -> Value {
    let v = match kind {
        GcFieldKind::F32 => b.ins().bitcast(I32, MemFlagsData::new(), value),
        GcFieldKind::F64 => b.ins().bitcast(I64, MemFlagsData::new(), value),
        GcFieldKind::FuncRef => env
            .builtin(b, Builtin::InternFuncRef, &[value])
            .expect("returns"),
        _ => value,
    };
    match b.func.dfg.value_type(v) {
        I64 => v,
        _ => b.ins().uextend(I64, v),
    }
}

/// `array.new` (filled with `init`) or `array.new_default` (`None`).
pub(crate) fn array_new(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    type_index: u32,
    init: Option<Value>,
    len: Value,
) -> Value {
    let r = array_alloc(env, b, type_index, len);
    if let Some(init) = init {
        let kind = array_layout(env, type_index).elem;
        if kind == GcFieldKind::V128 {
            // Elements wider than the fill builtin's 64 bits: store each in a loop.
            let zero = b.ins().iconst(I32, 0);
            fill_loop(env, b, type_index, r, zero, len, init, true);
            return r;
        }
        let bits = to_bits(env, b, kind, init);
        let zero = b.ins().iconst(I32, 0);
        let status = env
            .builtin(b, Builtin::ArrayFill, &[r, zero, bits, len])
            .expect("returns");
        check_status(b, status);
    }
    r
}

/// Writes `value` to elements `[from, to)` of array `r` (checked against its length by the
/// caller), one by one; `fresh` as for `write`.
#[allow(clippy::too_many_arguments)]
fn fill_loop(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    type_index: u32,
    r: Value,
    from: Value,
    to: Value,
    value: Value,
    fresh: bool,
) {
    let layout = array_layout(env, type_index);
    let header = b.create_block();
    let body = b.create_block();
    let done = b.create_block();
    let i = b.append_block_param(header, I32);
    b.ins().jump(header, &[ir::BlockArg::Value(from)]);
    b.switch_to_block(header);
    let more = b.ins().icmp(IntCC::UnsignedLessThan, i, to);
    b.ins().brif(more, body, &[], done, &[]);
    b.switch_to_block(body);
    b.seal_block(body);
    let addr = elem_addr_unchecked(env, b, r, i, &layout);
    let refs = array_refs(env, type_index);
    write(env, b, layout.elem, refs, r, addr, 0, value, fresh);
    let next = b.ins().iadd_imm_u(i, 1);
    b.ins().jump(header, &[ir::BlockArg::Value(next)]);
    b.seal_block(header);
    b.seal_block(done);
    b.switch_to_block(done);
}

/// `array.new_fixed`.
pub(crate) fn array_new_fixed(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    type_index: u32,
    values: &[Value],
) -> Value {
    let len = b.ins().iconst(I32, values.len() as i64);
    let r = array_alloc(env, b, type_index, len);
    let layout = array_layout(env, type_index);
    let end = layout
        .size(values.len() as u32)
        .expect("validated: a fixed array fits");
    let base = object_addr(env, b, r, end);
    let refs = array_refs(env, type_index);
    for (i, &v) in values.iter().enumerate() {
        let offset = layout.elems_offset + i as u32 * layout.elem.size();
        write(env, b, layout.elem, refs, r, base, offset as i32, v, true);
    }
    r
}

/// The address of element `i` of `r`, which the caller has checked against the length;
/// checked here against the heap bound.
fn elem_addr_unchecked(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    r: Value,
    i: Value,
    layout: &GcArrayLayout,
) -> Value {
    let size = layout.elem.size();
    let i64_ = b.ins().uextend(I64, i);
    let scaled = b.ins().imul_imm_u(i64_, i64::from(size));
    let offset = b.ins().iadd_imm_u(scaled, i64::from(layout.elems_offset));
    let gc = env.gc_compiler();
    gc.elem_addr(env, b, r, offset, size)
}

/// The length of array `r`, trapping on null.
pub(crate) fn array_len(env: &mut FuncEnv<'_>, b: &mut FunctionBuilder<'_>, r: Value) -> Value {
    env.null_check(b, r, Trap::NullArrayReference);
    let gc = env.gc_compiler();
    gc.load_array_len(env, b, r)
}

/// The address of element `i` of `r`, trapping on null and out-of-bounds `i`.
fn elem_addr(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    type_index: u32,
    r: Value,
    i: Value,
) -> (Value, GcFieldKind) {
    let len = array_len(env, b, r);
    let oob = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, i, len);
    b.ins().trapnz(oob, Trap::ArrayOutOfBounds.to_cranelift());
    let layout = array_layout(env, type_index);
    (elem_addr_unchecked(env, b, r, i, &layout), layout.elem)
}

/// `array.get` / `array.get_s` / `array.get_u`.
pub(crate) fn array_get(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    type_index: u32,
    r: Value,
    i: Value,
    extend: Extend,
) -> Value {
    let (addr, kind) = elem_addr(env, b, type_index, r, i);
    read(env, b, kind, extend, addr, 0)
}

/// `array.set`.
pub(crate) fn array_set(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    type_index: u32,
    r: Value,
    i: Value,
    value: Value,
) {
    let (addr, kind) = elem_addr(env, b, type_index, r, i);
    let refs = array_refs(env, type_index);
    write(env, b, kind, refs, r, addr, 0, value, false);
}

/// `array.fill`.
pub(crate) fn array_fill(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    type_index: u32,
    r: Value,
    offset: Value,
    value: Value,
    len: Value,
) {
    env.null_check(b, r, Trap::NullArrayReference);
    let kind = array_layout(env, type_index).elem;
    if kind == GcFieldKind::V128 {
        // Bounds first, then element by element.
        let array_len = array_len(env, b, r);
        let end = b
            .ins()
            .uadd_overflow_trap(offset, len, Trap::ArrayOutOfBounds.to_cranelift());
        let oob = b.ins().icmp(IntCC::UnsignedGreaterThan, end, array_len);
        b.ins().trapnz(oob, Trap::ArrayOutOfBounds.to_cranelift());
        fill_loop(env, b, type_index, r, offset, end, value, false);
        return;
    }
    let bits = to_bits(env, b, kind, value);
    let status = env
        .builtin(b, Builtin::ArrayFill, &[r, offset, bits, len])
        .expect("returns");
    check_status(b, status);
}

/// `array.copy` into an array of module type `dst_type`. Reference elements go through
/// the builtin, which counts them in bulk; other elements are one `memmove` from compiled
/// code, after the bounds checks (the source's elements are the same size: validation
/// requires its element type to match).
pub(crate) fn array_copy(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    dst_type: u32,
    args: [Value; 5],
) {
    let [dst, dst_off, src, src_off, len] = args;
    env.null_check(b, dst, Trap::NullArrayReference);
    env.null_check(b, src, Trap::NullArrayReference);
    let layout = array_layout(env, dst_type);
    if layout.elem == GcFieldKind::GcRef {
        let status = env.builtin(b, Builtin::ArrayCopy, &args).expect("returns");
        check_status(b, status);
        return;
    }
    let dst_end = array_range_end(env, b, dst, dst_off, len, &layout);
    let src_end = array_range_end(env, b, src, src_off, len, &layout);
    let len64 = b.ins().uextend(I64, len);
    let bytes = b.ins().imul_imm_u(len64, i64::from(layout.elem.size()));
    let to = b.ins().isub(dst_end, bytes);
    let from = b.ins().isub(src_end, bytes);
    b.call_memmove(env.frontend, to, from, bytes);
}

/// The address just past elements `[offset, offset + len)` of array `r` (not null),
/// trapping unless they lie inside it and inside the heap.
fn array_range_end(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    r: Value,
    offset: Value,
    len: Value,
    layout: &GcArrayLayout,
) -> Value {
    let gc = env.gc_compiler();
    let array_len = gc.load_array_len(env, b, r);
    let end = b
        .ins()
        .uadd_overflow_trap(offset, len, Trap::ArrayOutOfBounds.to_cranelift());
    let oob = b.ins().icmp(IntCC::UnsignedGreaterThan, end, array_len);
    b.ins().trapnz(oob, Trap::ArrayOutOfBounds.to_cranelift());
    let end64 = b.ins().uextend(I64, end);
    let scaled = b.ins().imul_imm_u(end64, i64::from(layout.elem.size()));
    let end_offset = b.ins().iadd_imm_u(scaled, i64::from(layout.elems_offset));
    // The heap bound is checked for the end, which covers the whole range.
    gc.elem_addr(env, b, r, end_offset, 0)
}

/// `array.new_data`, compiled inline: the segment's bytes (`VMOffsets::data`, empty once
/// dropped) are checked first, then the array is allocated (zeroed; this may collect) and
/// filled with one `memmove`.
pub(crate) fn array_new_data(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    type_index: u32,
    segment: u32,
    offset: Value,
    len: Value,
) -> Value {
    let layout = array_layout(env, type_index);
    let entry = env.offsets.data(segment) as i32;
    let segment_base = b.ins().load(I64, readonly(), env.vmctx, entry);
    let segment_len = b
        .ins()
        .load(I64, trusted(), env.vmctx, entry + field::DATA_LENGTH);
    let len64 = b.ins().uextend(I64, len);
    let bytes = b.ins().imul_imm_u(len64, i64::from(layout.elem.size()));
    let offset64 = b.ins().uextend(I64, offset);
    // At most 2^32 + 16 * 2^32: no overflow.
    let end = b.ins().iadd(offset64, bytes);
    let oob = b.ins().icmp(IntCC::UnsignedGreaterThan, end, segment_len);
    b.ins().trapnz(oob, Trap::MemoryOutOfBounds.to_cranelift());
    let r = array_alloc(env, b, type_index, len);
    let end_offset = b.ins().iadd_imm_u(bytes, i64::from(layout.elems_offset));
    let gc = env.gc_compiler();
    let elems_end = gc.elem_addr(env, b, r, end_offset, 0);
    let to = b.ins().isub(elems_end, bytes);
    let from = b.ins().iadd(segment_base, offset64);
    b.call_memmove(env.frontend, to, from, bytes);
    r
}

/// `array.new_elem`.
pub(crate) fn array_new_segment(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    builtin: Builtin,
    type_index: u32,
    segment: u32,
    offset: Value,
    len: Value,
) -> Value {
    let ty = b.ins().iconst(I32, i64::from(canonical(env, type_index)));
    let seg = b.ins().iconst(I32, i64::from(segment));
    let packed = env
        .builtin(b, builtin, &[ty, seg, offset, len])
        .expect("returns");
    allocated(b, packed)
}

/// `array.init_data` / `array.init_elem`.
pub(crate) fn array_init_segment(
    env: &mut FuncEnv<'_>,
    b: &mut FunctionBuilder<'_>,
    builtin: Builtin,
    segment: u32,
    args: [Value; 4],
) {
    let [r, dst, src, len] = args;
    env.null_check(b, r, Trap::NullArrayReference);
    let seg = b.ins().iconst(I32, i64::from(segment));
    let status = env
        .builtin(b, builtin, &[r, dst, seg, src, len])
        .expect("returns");
    check_status(b, status);
}
