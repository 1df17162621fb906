//! `StructType` and `StructRef`: struct types built by the host, and host access to the
//! fields of Wasm GC structs.

use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::types::{CompositeType, FieldType};
use crate::{AnyRef, Engine, VMSharedTypeIndex, Val};
use anyhow::{Result, bail};
use gc_core::VMGcRef;

/// A struct type registered with an engine by the host: final, with no supertype, in a rec
/// group of its own, so it is the same type as a module's `(type (struct ...))` with the
/// same fields.
#[derive(Clone, Debug)]
pub struct StructType {
    index: VMSharedTypeIndex,
    fields: Box<[FieldType]>,
    engine: Engine,
}

impl StructType {
    /// Registers the struct type with `fields`. Concrete reference types in them must name
    /// types registered with `engine` (as [`HeapType`](crate::HeapType) canonical indices).
    pub fn new(engine: &Engine, fields: impl IntoIterator<Item = FieldType>) -> Result<Self> {
        let fields: Box<[FieldType]> = fields.into_iter().collect();
        let index = engine
            .registry()
            .register_host_gc_type(CompositeType::Struct(fields.clone()))?;
        Ok(StructType {
            index,
            fields,
            engine: engine.clone(),
        })
    }

    /// The fields.
    pub fn fields(&self) -> &[FieldType] {
        &self.fields
    }

    /// The engine-wide canonical index, as in [`HeapType::ConcreteStruct`](crate::HeapType).
    pub fn index(&self) -> VMSharedTypeIndex {
        self.index
    }
}

/// A reference to a struct object, from [`AnyRef::as_struct`] or [`StructRef::new`].
/// Cloning is cheap; the object stays alive while any handle to it does.
///
/// ```
/// use engine::{Engine, FieldType, StorageType, Store, StructRef, StructType, Val, ValType};
/// let engine = Engine::default();
/// let point = StructType::new(&engine, [
///     FieldType { storage: StorageType::Val(ValType::F64), mutable: true },
///     FieldType { storage: StorageType::I8, mutable: false },
/// ])?;
/// let mut store = Store::new(&engine, ());
/// let p = StructRef::new(&mut store, &point, &[Val::F64(1.5f64.to_bits()), Val::I32(200)])?;
/// p.set_field(&mut store, 0, Val::F64(2.5f64.to_bits()))?;
/// assert_eq!(p.field(&mut store, 0)?.f64(), Some(2.5));
/// assert_eq!(p.field(&mut store, 1)?.i32(), Some(200)); // an i8, read zero-extended
/// assert!(p.set_field(&mut store, 1, Val::I32(0)).is_err()); // immutable
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct StructRef {
    any: AnyRef,
}

impl StructRef {
    pub(crate) fn from_anyref(any: AnyRef) -> StructRef {
        StructRef { any }
    }

    /// Allocates a struct of type `ty` with `fields` (one value per field, immutable ones
    /// included, each matching its field's type). May collect first.
    pub fn new(mut store: impl AsContextMut, ty: &StructType, fields: &[Val]) -> Result<StructRef> {
        let cx = store.as_context_mut();
        let crate::store::StoreParts { opaque, limiter } = cx.0.parts();
        if !Engine::same(&opaque.engine, &ty.engine) {
            bail!("struct type of a different engine");
        }
        if fields.len() != ty.fields.len() {
            bail!(
                "expected {} field values, got {}",
                ty.fields.len(),
                fields.len()
            );
        }
        let bits = ty
            .fields
            .iter()
            .zip(fields)
            .map(|(field, value)| opaque.field_bits(field, value))
            .collect::<Result<Vec<_>>>()?;
        let r = opaque.new_struct(limiter, ty.index, &bits)?;
        let any = crate::AnyRef::from_raw(opaque, r.as_raw()).expect("a new object is non-null");
        Ok(StructRef { any })
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
        let ty = opaque.gc.heap.header(r).ty();
        let offset = opaque.engine.registry().struct_layout(ty).fields[index].0;
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
