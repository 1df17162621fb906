//! `ExternRef`: a host reference that Wasm can hold as an `externref`.
//!
//! The value lives in the store's host-data table; the GC heap holds a small object naming
//! it. A host handle owns one counted reference to that object: cloning a handle is an
//! `Arc` clone (no heap access), and dropping the last clone queues the reference for
//! release, which the store performs before its next collection. Once no handle, table,
//! global or Wasm frame holds the object, a collection frees it and drops the host value,
//! exactly once.

use crate::runtime::rooted::HostRoot;
use crate::store::{AsContextMut, StoreContext, StoreContextMut, StoreId, StoreOpaque};
use anyhow::Result;
use gc_core::VMGcRef;
use std::any::Any;
use std::sync::Arc;

/// A reference to a host value, usable as a Wasm `externref`. Cloning is cheap.
///
/// A host value lives as long as some handle to it or some reference from Wasm (a global,
/// a table, a GC object, a frame) does; the collector drops it at the first collection
/// after the last one is gone, cycles through GC objects included.
///
/// ```
/// use engine::{Engine, ExternRef, Instance, Module, Store};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module (global $g (mut externref) (ref.null extern))
///     (func (export "swap") (param externref) (result externref)
///       (global.get $g) (global.set $g (local.get 0))))"#)?;
/// let mut store = Store::new(&engine, ());
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let swap = instance.get_typed_func::<Option<ExternRef>, Option<ExternRef>>(&store, "swap")?;
/// let value = ExternRef::new(&mut store, vec![1, 2, 3])?;
/// assert!(swap.call(&mut store, Some(value))?.is_none());
/// let back = swap.call(&mut store, None)?.unwrap();
/// assert_eq!(back.data(&store).unwrap().downcast_ref::<Vec<i32>>(), Some(&vec![1, 2, 3]));
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone)]
pub struct ExternRef {
    root: Arc<HostRoot>,
}

impl std::fmt::Debug for ExternRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExternRef({:#x})", self.root.gc_ref().as_raw())
    }
}

impl ExternRef {
    /// Allocates an `externref` holding `value` in `store`.
    pub fn new<T: Any + Send + Sync>(mut store: impl AsContextMut, value: T) -> Result<ExternRef> {
        let cx = store.as_context_mut();
        let crate::store::StoreParts { opaque, limiter } = cx.0.parts();
        opaque.maybe_gc();
        let id = opaque.gc.host_data.alloc(Box::new(value));
        let size = opaque.engine.gc_runtime().layouts().externref_size;
        match opaque.alloc_gc(limiter, size, true, |heap| heap.alloc_externref(id)) {
            Ok(gc_ref) => Ok(ExternRef::from_gc_ref(opaque, gc_ref)),
            Err(err) => {
                opaque.gc.host_data.dealloc(id);
                Err(err.context("cannot allocate an externref"))
            }
        }
    }

    /// A new handle counting one more reference to `gc_ref`.
    pub(crate) fn from_gc_ref(opaque: &mut StoreOpaque, gc_ref: VMGcRef) -> ExternRef {
        ExternRef {
            root: HostRoot::new(opaque, gc_ref),
        }
    }

    /// A handle for raw reference `raw` (0 is null).
    pub(crate) fn from_raw(opaque: &mut StoreOpaque, raw: u32) -> Option<ExternRef> {
        VMGcRef::from_raw(raw).map(|r| ExternRef::from_gc_ref(opaque, r))
    }

    pub(crate) fn store_id(&self) -> StoreId {
        self.root.store()
    }

    /// The raw reference, for handing to Wasm in `store`.
    pub(crate) fn to_raw(&self, opaque: &mut StoreOpaque) -> u32 {
        self.root.to_raw(opaque)
    }

    /// The host value, or `None` if this `externref` is an internal reference converted
    /// with `extern.convert_any` (an `i31` or a GC object, which has no host value).
    pub fn data<'a, T: 'a>(
        &self,
        store: impl Into<StoreContext<'a, T>>,
    ) -> Option<&'a (dyn Any + Send + Sync)> {
        let cx = store.into();
        let opaque = &cx.0.opaque;
        opaque.check(self.root.store());
        let id = self.host_data_id(opaque)?;
        Some(opaque.gc.host_data.get(id))
    }

    /// The host value, mutably (`None` as for [`ExternRef::data`]).
    pub fn data_mut<'a, T: 'a>(
        &self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> Option<&'a mut (dyn Any + Send + Sync)> {
        let cx = store.into();
        let opaque = &mut cx.0.opaque;
        opaque.check(self.root.store());
        let id = self.host_data_id(opaque)?;
        Some(opaque.gc.host_data.get_mut(id))
    }

    fn host_data_id(&self, opaque: &StoreOpaque) -> Option<gc_core::ExternRefHostDataId> {
        let r = self.root.gc_ref();
        let is_host =
            !r.is_i31() && opaque.gc.heap.header(r).kind() == Some(gc_core::VMGcKind::ExternRef);
        is_host.then(|| opaque.gc.heap.externref_host_data(r))
    }

    /// The `any` reference `a` seen as an `externref` (`extern.convert_any`): the same
    /// object or `i31`, with no host value of its own.
    pub fn convert_any(mut store: impl AsContextMut, a: &crate::AnyRef) -> ExternRef {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        let raw = a.to_raw(opaque);
        if let Some(r) = gc_core::VMGcRef::from_raw(raw)
            && !r.is_i31()
        {
            opaque.gc.heap.externalize(r);
        }
        ExternRef::from_raw(opaque, raw).expect("an any reference is non-null")
    }

    /// Whether two handles refer to the same object.
    pub fn ptr_eq(a: &ExternRef, b: &ExternRef) -> bool {
        a.root.store() == b.root.store() && a.root.gc_ref() == b.root.gc_ref()
    }
}
