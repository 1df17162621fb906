//! Layouts of this engine's struct, array and exception types, from `gc-core`'s layout
//! rules: which `GcFieldKind` each Wasm storage type becomes. The type registry computes
//! each type's layout once with these; everything else asks the registry.

use crate::types::{FieldType, HeapType, StorageType, ValType};
use gc_core::{GcArrayLayout, GcFieldKind, GcLayouts, GcStructLayout};

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
