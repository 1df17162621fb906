//! `StructType` and `StructRef`: struct types built by the host, and host access to the
//! fields of Wasm GC structs.

use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::types::{CompositeType, FieldType, Finality};
use crate::{AnyRef, Engine, VMSharedTypeIndex, Val};
use anyhow::{Result, bail};
use gc_core::VMGcRef;

/// A struct type of an engine: registered by the host ([`StructType::new`],
/// [`StructType::with_finality_and_supertype`]), or a module's, found by its canonical
/// index ([`StructType::from_index`], [`StructRef::ty`]). A host type is alone in its rec
/// group, so it is the same type as a module's `(type (sub final? $super (struct ...)))`
/// with the same fields, finality and supertype.
#[derive(Clone, Debug)]
pub struct StructType {
    index: VMSharedTypeIndex,
    fields: Box<[FieldType]>,
    engine: Engine,
}

impl StructType {
    /// Registers the final struct type with `fields` and no supertype. Concrete reference
    /// types in them must name types registered with `engine` (as
    /// [`HeapType`](crate::HeapType) canonical indices).
    pub fn new(engine: &Engine, fields: impl IntoIterator<Item = FieldType>) -> Result<Self> {
        StructType::with_finality_and_supertype(engine, Finality::Final, None, fields)
    }

    /// Registers the struct type with `fields`, final or not, declaring `supertype`, which
    /// must be non-final and whose fields must be a prefix of these (immutable ones may
    /// narrow their types).
    ///
    /// ```
    /// # use engine::{Engine, FieldType, Finality, StorageType, StructType, ValType};
    /// let engine = Engine::default();
    /// let i32_field = FieldType { storage: StorageType::Val(ValType::I32), mutable: false };
    /// let shape = StructType::with_finality_and_supertype(&engine, Finality::NonFinal, None, [i32_field])?;
    /// let circle = StructType::with_finality_and_supertype(
    ///     &engine, Finality::Final, Some(&shape), [i32_field, i32_field])?;
    /// assert!(circle.matches(&shape) && !shape.matches(&circle));
    /// assert_eq!(circle.supertype().unwrap().index(), shape.index());
    /// // A final type cannot be extended.
    /// assert!(StructType::with_finality_and_supertype(&engine, Finality::Final, Some(&circle), [i32_field; 2]).is_err());
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn with_finality_and_supertype(
        engine: &Engine,
        finality: Finality,
        supertype: Option<&StructType>,
        fields: impl IntoIterator<Item = FieldType>,
    ) -> Result<Self> {
        if let Some(sup) = supertype
            && !Engine::same(&sup.engine, engine)
        {
            bail!("supertype of a different engine");
        }
        let fields: Box<[FieldType]> = fields.into_iter().collect();
        let index = engine.registry().register_host_gc_type(
            CompositeType::Struct(fields.clone()),
            supertype.map(|s| s.index),
            finality == Finality::Final,
        )?;
        Ok(StructType {
            index,
            fields,
            engine: engine.clone(),
        })
    }

    /// The struct type with canonical index `index` (as in
    /// [`HeapType::ConcreteStruct`](crate::HeapType)), for example from a module's import
    /// or export signature; `None` if there is no such struct type.
    pub fn from_index(engine: &Engine, index: VMSharedTypeIndex) -> Option<StructType> {
        match engine.registry().try_sub_type(index)?.composite {
            CompositeType::Struct(fields) => Some(StructType {
                index,
                fields,
                engine: engine.clone(),
            }),
            _ => None,
        }
    }

    /// The declared supertype, if any.
    pub fn supertype(&self) -> Option<StructType> {
        let sup = self.engine.registry().sub_type(self.index).supertype?;
        StructType::from_index(&self.engine, sup)
    }

    /// Whether no type may declare this one as its supertype.
    pub fn is_final(&self) -> bool {
        self.engine.registry().sub_type(self.index).is_final
    }

    /// Whether this is `other` or a subtype of it.
    pub fn matches(&self, other: &StructType) -> bool {
        Engine::same(&self.engine, &other.engine)
            && self.engine.registry().is_subtype(self.index, other.index)
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

    /// The struct's type (its most precise one).
    pub fn ty(&self, store: impl AsContext) -> StructType {
        let cx = store.as_context();
        let opaque = &cx.0.opaque;
        let index = self.type_index(opaque);
        StructType::from_index(&opaque.engine, index).expect("a struct has a struct type")
    }

    fn type_index(&self, opaque: &StoreOpaque) -> VMSharedTypeIndex {
        let r = self
            .any
            .heap_ref(opaque)
            .expect("a struct is a heap object");
        opaque.gc.heap.header(r).ty()
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
