//! `ExnRef`: a host handle to an exception object, and `ThrownException`, the error a call
//! returns when a Wasm exception escapes to the host (or a host function throws one).
//!
//! An exception is a GC object in the store's heap: the identity of the tag it was thrown
//! with and its payload, laid out like a struct's fields (`gc_layout::exn_layout`). It is
//! counted, traced and freed like a struct; a handle holds one counted reference.

use crate::runtime::rooted::HostRoot;
use crate::store::{AsContext, AsContextMut, StoreId, StoreOpaque};
use crate::{Tag, Val};
use anyhow::{Result, bail};
use gc_core::{VMGcKind, VMGcRef};
use std::sync::Arc;

/// A reference to an exception. Cloning is cheap; the exception stays alive while any
/// handle to it does.
///
/// ```
/// use engine::{Engine, ExnRef, FuncType, Store, Tag, TagType, Val, ValType};
/// let engine = Engine::default();
/// let mut store = Store::new(&engine, ());
/// let tag = Tag::new(&mut store, &TagType::new(&engine, FuncType::new([ValType::I32], []))?)?;
/// let exn = ExnRef::new(&mut store, &tag, &[Val::I32(7)])?;
/// assert_eq!(exn.tag(&store), tag);
/// assert_eq!(exn.field(&mut store, 0)?.i32(), Some(7));
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone)]
pub struct ExnRef {
    root: Arc<HostRoot>,
}

impl std::fmt::Debug for ExnRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExnRef({:#x})", self.root.gc_ref().as_raw())
    }
}

impl ExnRef {
    /// Allocates an exception of `tag` carrying `payload` (one value per parameter of the
    /// tag's type). May collect first.
    pub fn new(mut store: impl AsContextMut, tag: &Tag, payload: &[Val]) -> Result<ExnRef> {
        let cx = store.as_context_mut();
        let crate::store::StoreParts { opaque, limiter } = cx.0.parts();
        opaque.check(tag.store_id());
        let ty = opaque.tags[tag.index as usize].ty.clone();
        let types = ty.payload();
        if payload.len() != types.len() {
            bail!(
                "expected {} payload values, got {}",
                types.len(),
                payload.len()
            );
        }
        let bits = payload
            .iter()
            .zip(types)
            .map(|(value, &t)| opaque.field_bits(&crate::runtime::gc_layout::exn_field(t), value))
            .collect::<Result<Vec<_>>>()?;
        // The payload values are counted host handles, so the allocation may collect.
        let r = opaque.new_exn(limiter, ty.index(), tag.index, &bits)?;
        let exn = ExnRef::from_gc_ref(opaque, r);
        Ok(exn)
    }

    /// The tag the exception was thrown with.
    pub fn tag(&self, store: impl AsContext) -> Tag {
        let cx = store.as_context();
        let opaque = &cx.0.opaque;
        Tag::from_index(opaque.id, self.tag_index(opaque))
    }

    /// The number of payload values.
    pub fn fields_len(&self, store: impl AsContext) -> usize {
        let cx = store.as_context();
        let opaque = &cx.0.opaque;
        opaque.tags[self.tag_index(opaque) as usize]
            .ty
            .payload()
            .len()
    }

    /// Payload value `index`; references as new handles.
    pub fn field(&self, mut store: impl AsContextMut, index: usize) -> Result<Val> {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        let r = self.gc_ref(opaque);
        let ty = opaque.tags[self.tag_index(opaque) as usize].ty.clone();
        let Some(&t) = ty.payload().get(index) else {
            bail!(
                "payload index {index} out of bounds for an exception of {} values",
                ty.payload().len()
            );
        };
        let offset = opaque.engine.registry().exn_layout(ty.index()).fields[index + 1].0;
        Ok(opaque.read_field_val(r, offset, &crate::runtime::gc_layout::exn_field(t)))
    }

    /// Whether two handles refer to the same exception.
    pub fn ptr_eq(a: &ExnRef, b: &ExnRef) -> bool {
        a.root.store() == b.root.store() && a.root.gc_ref() == b.root.gc_ref()
    }

    /// The tag identity stored in the exception.
    fn tag_index(&self, opaque: &StoreOpaque) -> u32 {
        opaque.exn_tag(self.gc_ref(opaque))
    }

    fn gc_ref(&self, opaque: &StoreOpaque) -> VMGcRef {
        opaque.check(self.root.store());
        let r = self.root.gc_ref();
        assert_eq!(
            opaque.gc.heap.header(r).kind(),
            Some(VMGcKind::ExnRef),
            "not an exception"
        );
        r
    }

    /// A new handle counting one more reference to `gc_ref`.
    pub(crate) fn from_gc_ref(opaque: &mut StoreOpaque, gc_ref: VMGcRef) -> ExnRef {
        ExnRef {
            root: HostRoot::new(opaque, gc_ref),
        }
    }

    /// A handle for raw reference `raw` (0 is null).
    pub(crate) fn from_raw(opaque: &mut StoreOpaque, raw: u32) -> Option<ExnRef> {
        VMGcRef::from_raw(raw).map(|r| ExnRef::from_gc_ref(opaque, r))
    }

    pub(crate) fn store_id(&self) -> StoreId {
        self.root.store()
    }

    /// The raw reference, for handing to Wasm in `store`.
    pub(crate) fn to_raw(&self, opaque: &mut StoreOpaque) -> u32 {
        self.root.to_raw(opaque)
    }
}

impl StoreOpaque {
    /// The identity of the tag exception `r` was thrown with. Panics if the object is
    /// corrupt.
    pub(crate) fn exn_tag(&self, r: VMGcRef) -> u32 {
        let bytes = self.gc.heap.object_bytes(r, self.gc.exn_tag_offset, 4);
        let index = u32::from_le_bytes(bytes.try_into().expect("4 bytes"));
        assert!(
            (index as usize) < self.tags.len(),
            "corrupt exception: tag {index}"
        );
        index
    }
}

/// The error of a call from which a Wasm exception escaped, uncaught: `err.downcast_ref::<
/// ThrownException>()` finds it, and its [`exn`](Self::exn) is the exception. Distinct
/// from a [`Trap`](crate::Trap). A host function that returns this error throws the
/// exception into its Wasm caller.
///
/// ```
/// use engine::{Engine, Instance, Module, Store, ThrownException, Val};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module
///     (tag $t (param i32))
///     (func (export "f") (throw $t (i32.const 42))))"#)?;
/// let mut store = Store::new(&engine, ());
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let f = instance.get_func(&store, "f").unwrap();
/// let err = f.call(&mut store, &[], &mut []).unwrap_err();
/// let thrown = err.downcast_ref::<ThrownException>().expect("an exception");
/// assert_eq!(thrown.exn().field(&mut store, 0)?.i32(), Some(42));
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ThrownException {
    exn: ExnRef,
}

impl ThrownException {
    /// The error that throws `exn` (from a host function) or reports it (from a call).
    ///
    /// A host function throws into its Wasm caller by returning this error:
    ///
    /// ```
    /// use engine::*;
    /// let engine = Engine::default();
    /// let mut store = Store::new(&engine, ());
    /// let tag = Tag::new(&mut store, &TagType::new(&engine, FuncType::new([ValType::I32], []))?)?;
    /// let fail = Func::wrap(&mut store, move |mut caller: Caller<'_, ()>, code: i32| {
    ///     let exn = ExnRef::new(&mut caller, &tag, &[Val::I32(code)])?;
    ///     Err::<(), _>(ThrownException::new(exn).into())
    /// });
    /// let module = Module::new(&engine, r#"(module
    ///     (import "host" "tag" (tag $t (param i32)))
    ///     (import "host" "fail" (func $fail (param i32)))
    ///     (func (export "f") (result i32)
    ///       (block $caught (result i32)
    ///         (try_table (catch $t $caught) (call $fail (i32.const 7)))
    ///         (i32.const 0))))"#)?;
    /// let instance = Instance::new(&mut store, &module, &[tag.into(), fail.into()])?;
    /// let f = instance.get_typed_func::<(), i32>(&store, "f")?;
    /// assert_eq!(f.call(&mut store, ())?, 7);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn new(exn: ExnRef) -> ThrownException {
        ThrownException { exn }
    }

    /// The exception.
    pub fn exn(&self) -> &ExnRef {
        &self.exn
    }

    /// The exception, by value.
    pub fn into_exn(self) -> ExnRef {
        self.exn
    }
}

impl std::fmt::Display for ThrownException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("uncaught Wasm exception")
    }
}

impl std::error::Error for ThrownException {}
