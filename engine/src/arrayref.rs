//! `ArrayType` and `ArrayRef`: array types built by the host, and host access to the
//! elements of Wasm GC arrays.

use crate::runtime::gc::ArrayInit;
use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::types::{CompositeType, FieldType, Finality};
use crate::{AnyRef, Engine, VMSharedTypeIndex, Val};
use anyhow::{Result, bail};
use gc_core::{GcArrayLayout, VMGcRef};

/// An array type of an engine: registered by the host ([`ArrayType::new`],
/// [`ArrayType::with_finality_and_supertype`]), or a module's, found by its canonical
/// index ([`ArrayType::from_index`], [`ArrayRef::ty`]). A host type is alone in its rec
/// group, so it is the same type as a module's `(type (sub final? $super (array ...)))`
/// with the same element type, finality and supertype.
#[derive(Clone, Debug)]
pub struct ArrayType {
    index: VMSharedTypeIndex,
    elem: FieldType,
    engine: Engine,
}

impl ArrayType {
    /// Registers the final array type of `elem`, with no supertype. A concrete reference
    /// type must name a type registered with `engine` (as a
    /// [`HeapType`](crate::HeapType) canonical index).
    pub fn new(engine: &Engine, elem: FieldType) -> Result<Self> {
        ArrayType::with_finality_and_supertype(engine, Finality::Final, None, elem)
    }

    /// Registers the array type of `elem`, final or not, declaring `supertype`, which must
    /// be non-final with a matching element type (the same if mutable; a subtype if not).
    pub fn with_finality_and_supertype(
        engine: &Engine,
        finality: Finality,
        supertype: Option<&ArrayType>,
        elem: FieldType,
    ) -> Result<Self> {
        if let Some(sup) = supertype
            && !Engine::same(&sup.engine, engine)
        {
            bail!("supertype of a different engine");
        }
        let index = engine.registry().register_host_gc_type(
            CompositeType::Array(elem),
            supertype.map(|s| s.index),
            finality == Finality::Final,
        )?;
        Ok(ArrayType {
            index,
            elem,
            engine: engine.clone(),
        })
    }

    /// The array type with canonical index `index` (as in
    /// [`HeapType::ConcreteArray`](crate::HeapType)); `None` if there is no such array type.
    pub fn from_index(engine: &Engine, index: VMSharedTypeIndex) -> Option<ArrayType> {
        match engine.registry().try_sub_type(index)?.composite {
            CompositeType::Array(elem) => Some(ArrayType {
                index,
                elem,
                engine: engine.clone(),
            }),
            _ => None,
        }
    }

    /// The declared supertype, if any.
    pub fn supertype(&self) -> Option<ArrayType> {
        let sup = self.engine.registry().sub_type(self.index).supertype?;
        ArrayType::from_index(&self.engine, sup)
    }

    /// Whether no type may declare this one as its supertype.
    pub fn is_final(&self) -> bool {
        self.engine.registry().sub_type(self.index).is_final
    }

    /// Whether this is `other` or a subtype of it.
    pub fn matches(&self, other: &ArrayType) -> bool {
        Engine::same(&self.engine, &other.engine)
            && self.engine.registry().is_subtype(self.index, other.index)
    }

    /// The element type.
    pub fn element(&self) -> &FieldType {
        &self.elem
    }

    /// The engine-wide canonical index, as in [`HeapType::ConcreteArray`](crate::HeapType).
    pub fn index(&self) -> VMSharedTypeIndex {
        self.index
    }
}

/// A reference to an array object, from [`AnyRef::as_array`], [`ArrayRef::new`] or
/// [`ArrayRef::new_fixed`]. Cloning is cheap; the object stays alive while any handle to it
/// does.
///
/// ```
/// use engine::{ArrayRef, ArrayType, Engine, FieldType, StorageType, Store, Val};
/// let engine = Engine::default();
/// let bytes = ArrayType::new(&engine, FieldType { storage: StorageType::I8, mutable: true })?;
/// let mut store = Store::new(&engine, ());
/// let a = ArrayRef::new(&mut store, &bytes, &Val::I32(7), 16)?;
/// a.set(&mut store, 3, Val::I32(42))?;
/// assert_eq!(a.len(&store), 16);
/// assert_eq!(a.get(&mut store, 3)?.i32(), Some(42));
/// assert!(a.get(&mut store, 16).is_err()); // out of bounds: an error, not a crash
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ArrayRef {
    any: AnyRef,
}

impl ArrayRef {
    pub(crate) fn from_anyref(any: AnyRef) -> ArrayRef {
        ArrayRef { any }
    }

    /// Allocates an array of type `ty` with `len` copies of `elem`. May collect first.
    pub fn new(store: impl AsContextMut, ty: &ArrayType, elem: &Val, len: u32) -> Result<ArrayRef> {
        Self::allocate(store, ty, len, std::slice::from_ref(elem))
    }

    /// Allocates an array of type `ty` holding `elems`. May collect first.
    pub fn new_fixed(store: impl AsContextMut, ty: &ArrayType, elems: &[Val]) -> Result<ArrayRef> {
        let len = u32::try_from(elems.len())?;
        Self::allocate(store, ty, len, elems)
    }

    /// An array of `len` elements: each of `values` in turn, or, given one value, that
    /// value `len` times.
    fn allocate(
        mut store: impl AsContextMut,
        ty: &ArrayType,
        len: u32,
        values: &[Val],
    ) -> Result<ArrayRef> {
        let cx = store.as_context_mut();
        let crate::store::StoreParts { opaque, limiter } = cx.0.parts();
        if !Engine::same(&opaque.engine, &ty.engine) {
            bail!("array type of a different engine");
        }
        let bits = values
            .iter()
            .map(|value| opaque.field_bits(&ty.elem, value))
            .collect::<Result<Vec<_>>>()?;
        let init = match bits[..] {
            [one] => ArrayInit::Fill(one),
            ref each => ArrayInit::Elems(each),
        };
        let r = opaque.new_array(limiter, ty.index, len, init)?;
        let any = crate::AnyRef::from_raw(opaque, r.as_raw()).expect("a new object is non-null");
        Ok(ArrayRef { any })
    }

    /// The array's type (its most precise one).
    pub fn ty(&self, store: impl AsContext) -> ArrayType {
        let cx = store.as_context();
        let opaque = &cx.0.opaque;
        let r = self
            .any
            .heap_ref(opaque)
            .expect("an array is a heap object");
        let index = opaque.gc.heap.header(r).ty();
        ArrayType::from_index(&opaque.engine, index).expect("an array has an array type")
    }

    /// The same reference as an `anyref`.
    pub fn as_anyref(&self) -> &AnyRef {
        &self.any
    }

    /// The number of elements.
    pub fn len(&self, store: impl AsContext) -> u32 {
        let cx = store.as_context();
        let opaque = &cx.0.opaque;
        let (r, _, layout) = self.info(opaque);
        opaque.array_len(r, &layout)
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self, store: impl AsContext) -> bool {
        self.len(store) == 0
    }

    /// Element `index`: packed `i8`/`i16` elements as a zero-extended `Val::I32`,
    /// references as new handles.
    pub fn get(&self, mut store: impl AsContextMut, index: u32) -> Result<Val> {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        let (r, elem, layout) = self.info(opaque);
        let offset = element_offset(opaque, r, &layout, index)?;
        Ok(opaque.read_field_val(r, offset, &elem))
    }

    /// Writes element `index` of a mutable array; `value` must match the element type (an
    /// `i32` for packed elements, which keep its low bits).
    pub fn set(&self, mut store: impl AsContextMut, index: u32, value: Val) -> Result<()> {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        let (r, elem, layout) = self.info(opaque);
        if !elem.mutable {
            bail!("the array is immutable");
        }
        let offset = element_offset(opaque, r, &layout, index)?;
        opaque.write_field_val(r, offset, &elem, &value)
    }

    /// The object, its element type and its layout.
    fn info(&self, opaque: &StoreOpaque) -> (VMGcRef, FieldType, GcArrayLayout) {
        let r = self
            .any
            .heap_ref(opaque)
            .expect("an array is a heap object");
        let (elem, layout) = opaque.array_type(opaque.gc.heap.header(r).ty());
        (r, elem, layout)
    }
}

/// The offset of element `index`, or an error if it is out of bounds.
fn element_offset(
    opaque: &StoreOpaque,
    r: VMGcRef,
    layout: &GcArrayLayout,
    index: u32,
) -> Result<u32> {
    let len = opaque.array_len(r, layout);
    if index >= len {
        bail!("array index {index} out of bounds for an array of {len} elements");
    }
    // The object's size covers every element; a corrupt length fails here or in the heap's
    // bounds check of the access.
    Ok(index
        .checked_mul(layout.elem.size())
        .and_then(|o| o.checked_add(layout.elems_offset))
        .expect("corrupt array length"))
}
