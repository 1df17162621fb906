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
