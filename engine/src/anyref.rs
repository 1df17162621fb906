//! `AnyRef` and `I31`: references of the `any` hierarchy as the host sees them.
//!
//! An `AnyRef` is either an unboxed 31-bit integer (`i31ref`, no heap object) or a counted
//! reference to a GC object (see `rooted.rs`): a struct, an array, or a host reference that
//! Wasm converted with `any.convert_extern`.

use crate::runtime::rooted::HostRoot;
use crate::store::{AsContext, AsContextMut, StoreId, StoreOpaque};
use crate::types::HeapType;
use gc_core::{VMGcKind, VMGcRef};
use std::sync::Arc;

/// An unboxed 31-bit integer, the payload of an `i31ref`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct I31(u32);

impl I31 {
    /// The low 31 bits of `value`.
    pub fn wrapping_i32(value: i32) -> I31 {
        I31(value as u32 & 0x7fff_ffff)
    }

    /// The low 31 bits of `value`.
    pub fn wrapping_u32(value: u32) -> I31 {
        I31(value & 0x7fff_ffff)
    }

    /// The value sign-extended from 31 bits (`i31.get_s`).
    pub fn get_i32(self) -> i32 {
        ((self.0 << 1) as i32) >> 1
    }

    /// The value zero-extended from 31 bits (`i31.get_u`).
    pub fn get_u32(self) -> u32 {
        self.0
    }

    /// The tagged reference compiled code uses: the payload shifted left, tag bit set.
    pub(crate) fn to_raw(self) -> u32 {
        (self.0 << 1) | VMGcRef::I31_TAG
    }

    /// The payload of tagged reference `raw`.
    pub(crate) fn from_raw(raw: u32) -> I31 {
        I31(raw >> 1)
    }
}

/// A non-null reference in the `any` hierarchy. Cloning is cheap.
///
/// ```
/// use engine::{AnyRef, Engine, I31, Instance, Module, Store};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module (type $pair (struct (field i32) (field i32)))
///     (func (export "make") (param i32) (result anyref)
///       (if (result anyref) (local.get 0)
///         (then (struct.new $pair (i32.const 1) (i32.const 2)))
///         (else (ref.i31 (i32.const 99))))))"#)?;
/// let mut store = Store::new(&engine, ());
/// let make = Instance::new(&mut store, &module, &[])?
///     .get_typed_func::<i32, Option<AnyRef>>(&store, "make")?;
/// let small = make.call(&mut store, 0)?.unwrap();
/// assert_eq!(small.as_i31().map(|i| i.get_i32()), Some(99));
/// let pair = make.call(&mut store, 1)?.unwrap().as_struct(&store).unwrap();
/// assert_eq!(pair.field(&mut store, 1)?.i32(), Some(2));
/// let _ = AnyRef::from_i31(I31::wrapping_i32(5)); // an i31ref made by the host
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone)]
pub struct AnyRef {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    I31(I31),
    Heap(Arc<HostRoot>),
}

impl std::fmt::Debug for AnyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Inner::I31(i) => write!(f, "AnyRef(i31 {})", i.get_i32()),
            Inner::Heap(root) => write!(f, "AnyRef({:#x})", root.gc_ref().as_raw()),
        }
    }
}

impl AnyRef {
    /// The `i31ref` holding `value`.
    pub fn from_i31(value: I31) -> AnyRef {
        AnyRef {
            inner: Inner::I31(value),
        }
    }

    /// The integer, if this is an `i31ref`.
    pub fn as_i31(&self) -> Option<I31> {
        match self.inner {
            Inner::I31(i) => Some(i),
            Inner::Heap(_) => None,
        }
    }

    /// Whether this is an `i31ref`.
    pub fn is_i31(&self) -> bool {
        self.as_i31().is_some()
    }

    /// Whether two references are the same (`ref.eq`): equal integers, or the same object.
    pub fn ptr_eq(a: &AnyRef, b: &AnyRef) -> bool {
        match (&a.inner, &b.inner) {
            (Inner::I31(x), Inner::I31(y)) => x == y,
            (Inner::Heap(x), Inner::Heap(y)) => x.store() == y.store() && x.gc_ref() == y.gc_ref(),
            _ => false,
        }
    }

    /// The host reference `e` seen as an `anyref` (`any.convert_extern`): the same object.
    pub fn convert_extern(mut store: impl AsContextMut, e: &crate::ExternRef) -> AnyRef {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        let raw = e.to_raw(opaque);
        AnyRef::from_raw(opaque, raw).expect("a host reference is non-null")
    }

    /// The host value, if this is a host reference converted with `any.convert_extern`.
    pub fn host_data<'a, T: 'a>(
        &self,
        store: impl Into<crate::StoreContext<'a, T>>,
    ) -> Option<&'a (dyn std::any::Any + Send + Sync)> {
        let Inner::Heap(root) = &self.inner else {
            return None;
        };
        let cx = store.into();
        let opaque = &cx.0.opaque;
        opaque.check(root.store());
        let r = root.gc_ref();
        (opaque.gc.heap.header(r).kind() == Some(VMGcKind::ExternRef)).then(|| {
            opaque
                .gc
                .host_data
                .get(opaque.gc.heap.externref_host_data(r))
        })
    }

    /// Whether this reference is of heap type `ty` (or a subtype of it).
    pub fn matches_ty(&self, store: impl AsContext, ty: &HeapType) -> bool {
        let cx = store.as_context();
        let opaque = &cx.0.opaque;
        opaque
            .engine
            .registry()
            .heap_matches(&self.heap_type(opaque), ty)
    }

    /// The most precise heap type of the referenced value.
    pub(crate) fn heap_type(&self, opaque: &StoreOpaque) -> HeapType {
        let root = match &self.inner {
            Inner::I31(_) => return HeapType::I31,
            Inner::Heap(root) => root,
        };
        opaque.check(root.store());
        let header = opaque.gc.heap.header(root.gc_ref());
        match header.kind() {
            Some(VMGcKind::StructRef) => HeapType::ConcreteStruct(header.ty()),
            Some(VMGcKind::ArrayRef) => HeapType::ConcreteArray(header.ty()),
            // A host reference converted with `any.convert_extern` is only an `anyref`.
            _ => HeapType::Any,
        }
    }

    /// This reference as an `eqref`, if it refers to an `i31`, a struct or an array (not
    /// to a host value converted with `any.convert_extern`).
    pub fn as_eqref(&self, store: impl AsContext) -> Option<crate::EqRef> {
        let cx = store.as_context();
        let eq = match self.heap_ref(&cx.0.opaque) {
            None => true,
            Some(_) => matches!(
                self.kind(&cx.0.opaque),
                Some(VMGcKind::StructRef | VMGcKind::ArrayRef)
            ),
        };
        eq.then(|| crate::EqRef::from_anyref(self.clone()))
    }

    /// The struct this refers to, if it is one, for field access.
    pub fn as_struct(&self, store: impl AsContext) -> Option<crate::StructRef> {
        let cx = store.as_context();
        (self.kind(&cx.0.opaque) == Some(VMGcKind::StructRef))
            .then(|| crate::StructRef::from_anyref(self.clone()))
    }

    /// The array this refers to, if it is one, for element access.
    pub fn as_array(&self, store: impl AsContext) -> Option<crate::ArrayRef> {
        let cx = store.as_context();
        (self.kind(&cx.0.opaque) == Some(VMGcKind::ArrayRef))
            .then(|| crate::ArrayRef::from_anyref(self.clone()))
    }

    /// The kind of the referenced heap object; `None` for an `i31ref`.
    fn kind(&self, opaque: &StoreOpaque) -> Option<VMGcKind> {
        let r = self.heap_ref(opaque)?;
        opaque.gc.heap.header(r).kind()
    }

    /// The heap object this refers to (`None` for an `i31ref`), checking the store.
    pub(crate) fn heap_ref(&self, opaque: &StoreOpaque) -> Option<VMGcRef> {
        match &self.inner {
            Inner::I31(_) => None,
            Inner::Heap(root) => {
                opaque.check(root.store());
                Some(root.gc_ref())
            }
        }
    }

    pub(crate) fn store_id(&self) -> Option<StoreId> {
        match &self.inner {
            Inner::I31(_) => None,
            Inner::Heap(root) => Some(root.store()),
        }
    }

    /// A handle for raw reference `raw` (0 is null); a heap reference is counted.
    pub(crate) fn from_raw(opaque: &mut StoreOpaque, raw: u32) -> Option<AnyRef> {
        let r = VMGcRef::from_raw(raw)?;
        let inner = if r.is_i31() {
            Inner::I31(I31::from_raw(raw))
        } else {
            Inner::Heap(HostRoot::new(opaque, r))
        };
        Some(AnyRef { inner })
    }

    /// The raw reference, for handing to Wasm in `store`.
    pub(crate) fn to_raw(&self, opaque: &mut StoreOpaque) -> u32 {
        match &self.inner {
            Inner::I31(i) => i.to_raw(),
            Inner::Heap(root) => root.to_raw(opaque),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i31_wraps_and_extends() {
        assert_eq!(I31::wrapping_i32(-1).get_i32(), -1);
        assert_eq!(I31::wrapping_i32(-1).get_u32(), 0x7fff_ffff);
        assert_eq!(I31::wrapping_u32(0x8000_0001).get_u32(), 1);
        assert_eq!(I31::wrapping_i32(0x4000_0000).get_i32(), -0x4000_0000);
        let i = I31::wrapping_i32(12345);
        assert_eq!(I31::from_raw(i.to_raw()), i);
        assert_eq!(i.to_raw() & 1, 1);
    }
}
