//! `StructRef`: host access to the fields of a Wasm GC struct.

use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::types::{CompositeType, FieldType};
use crate::{AnyRef, Val};
use anyhow::{Result, bail};
use gc_core::VMGcRef;

/// A reference to a struct object, from [`AnyRef::as_struct`]. Cloning is cheap; the object
/// stays alive while any handle to it does.
#[derive(Clone, Debug)]
pub struct StructRef {
    any: AnyRef,
}

impl StructRef {
    pub(crate) fn new(any: AnyRef) -> StructRef {
        StructRef { any }
    }

    /// The same reference as an `anyref`.
    pub fn as_anyref(&self) -> &AnyRef {
        &self.any
    }

    /// The number of fields.
    pub fn fields_len(&self, store: impl AsContext) -> usize {
        let cx = store.as_context();
        self.fields(&cx.0.opaque).1.len()
    }

    /// Field `index`: packed `i8`/`i16` fields as a zero-extended `Val::I32`, references as
    /// new handles.
    pub fn field(&self, mut store: impl AsContextMut, index: usize) -> Result<Val> {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        let (r, field, offset) = self.field_at(opaque, index)?;
        Ok(opaque.read_field_val(r, offset, &field))
    }

    /// Writes field `index`, which must be mutable; `value` must match its type (an `i32`
    /// for packed fields, which keep its low bits).
    pub fn set_field(&self, mut store: impl AsContextMut, index: usize, value: Val) -> Result<()> {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        let (r, field, offset) = self.field_at(opaque, index)?;
        if !field.mutable {
            bail!("field {index} is immutable");
        }
        opaque.write_field_val(r, offset, &field, &value)
    }

    /// The object, field `index`'s type and its offset, or an error if there is no such
    /// field.
    fn field_at(&self, opaque: &StoreOpaque, index: usize) -> Result<(VMGcRef, FieldType, u32)> {
        let (r, fields) = self.fields(opaque);
        let Some(&field) = fields.get(index) else {
            bail!(
                "field index {index} out of bounds for a struct of {} fields",
                fields.len()
            );
        };
        let layouts = opaque.engine.gc_runtime().layouts();
        let offset = crate::gc_layout::struct_layout(layouts, &fields).fields[index].0;
        Ok((r, field, offset))
    }

    /// The object and its type's fields.
    fn fields(&self, opaque: &StoreOpaque) -> (VMGcRef, Box<[FieldType]>) {
        let r = self
            .any
            .heap_ref(opaque)
            .expect("a struct is a heap object");
        let ty = opaque.gc.heap.header(r).ty();
        match opaque.engine.registry().sub_type(ty).composite {
            CompositeType::Struct(fields) => (r, fields),
            other => panic!("struct object of non-struct type {other:?}"),
        }
    }
}
