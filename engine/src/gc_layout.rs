//! Layouts of this engine's struct and array types, from `gc-core`'s layout rules: which
//! `GcFieldKind` each Wasm storage type becomes, and the trace information the heap needs.

use crate::types::{CompositeType, FieldType, HeapType, StorageType, SubType, ValType};
use gc_core::{GcArrayLayout, GcFieldKind, GcLayouts, GcStructLayout, GcTypeTrace};

/// How a field of type `field` is stored.
pub(crate) fn field_kind(field: &FieldType) -> GcFieldKind {
    match field.storage {
        StorageType::I8 => GcFieldKind::I8,
        StorageType::I16 => GcFieldKind::I16,
        StorageType::Val(ValType::I32) => GcFieldKind::I32,
        StorageType::Val(ValType::I64) => GcFieldKind::I64,
        StorageType::Val(ValType::F32) => GcFieldKind::F32,
        StorageType::Val(ValType::F64) => GcFieldKind::F64,
        StorageType::Val(ValType::V128) => GcFieldKind::V128,
        StorageType::Val(ValType::Ref(r)) if r.heap_type().top() == HeapType::Func => {
            GcFieldKind::FuncRef
        }
        StorageType::Val(ValType::Ref(_)) => GcFieldKind::GcRef,
    }
}

/// The layout of a struct type's fields.
pub(crate) fn struct_layout(layouts: &GcLayouts, fields: &[FieldType]) -> GcStructLayout {
    let kinds: Vec<GcFieldKind> = fields.iter().map(field_kind).collect();
    layouts.struct_layout(&kinds)
}

/// The layout of an array type.
pub(crate) fn array_layout(layouts: &GcLayouts, elem: &FieldType) -> GcArrayLayout {
    layouts.array_layout(field_kind(elem))
}

/// The layout of an exception with payload `payload`: the thrower's tag identity (an `i32`,
/// field 0) followed by the payload, laid out like a struct's fields.
pub(crate) fn exn_layout(layouts: &GcLayouts, payload: &[ValType]) -> GcStructLayout {
    let kinds: Vec<GcFieldKind> = std::iter::once(GcFieldKind::I32)
        .chain(payload.iter().map(|&t| field_kind(&exn_field(t))))
        .collect();
    layouts.struct_layout(&kinds)
}

/// Payload value `ty` as the (immutable) field it is stored in.
pub(crate) fn exn_field(ty: ValType) -> FieldType {
    FieldType {
        storage: StorageType::Val(ty),
        mutable: false,
    }
}

/// The offset of an exception's tag identity.
pub(crate) fn exn_tag_offset(layouts: &GcLayouts) -> u32 {
    exn_layout(layouts, &[]).fields[0].0
}

/// The trace information for exceptions of function type `ty` (a tag's type): exceptions
/// use the function type's canonical index as their type, which no struct or array has.
pub(crate) fn exn_trace(layouts: &GcLayouts, ty: &crate::types::FuncType) -> GcTypeTrace {
    GcTypeTrace::Struct {
        gc_ref_offsets: exn_layout(layouts, ty.params()).gc_ref_offsets().collect(),
    }
}

/// The trace information for objects of `ty`, if it is a struct or array type.
pub(crate) fn trace(layouts: &GcLayouts, ty: &SubType) -> Option<GcTypeTrace> {
    match &ty.composite {
        CompositeType::Struct(fields) => Some(GcTypeTrace::Struct {
            gc_ref_offsets: struct_layout(layouts, fields).gc_ref_offsets().collect(),
        }),
        CompositeType::Array(elem) => Some(GcTypeTrace::Array {
            elems_are_gc_refs: field_kind(elem) == GcFieldKind::GcRef,
            layout: array_layout(layouts, elem),
        }),
        CompositeType::Func(_) => None,
    }
}
