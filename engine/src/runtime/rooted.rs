//! `HostRoot`: one counted reference to a GC object, held by host handles (`ExternRef`,
//! `AnyRef`, `ExnRef`). Cloning a handle clones the `Arc`, not the count; dropping the
//! last clone queues the reference for release, which the store performs before its next
//! collection (a `Drop` cannot reach the heap).

use crate::runtime::gc::DroppedRefs;
use crate::store::{StoreId, StoreOpaque};
use gc_core::VMGcRef;
use std::sync::Arc;

/// A counted reference owned by host handles.
pub(crate) struct HostRoot {
    store: StoreId,
    gc_ref: VMGcRef,
    dropped: DroppedRefs,
}

impl HostRoot {
    /// A new root counting one more reference to `gc_ref` in `opaque`'s heap.
    pub(crate) fn new(opaque: &mut StoreOpaque, gc_ref: VMGcRef) -> Arc<HostRoot> {
        opaque.gc.heap.clone_gc_ref(&gc_ref);
        Arc::new(HostRoot {
            store: opaque.id,
            gc_ref,
            dropped: opaque.gc.dropped.clone(),
        })
    }

    /// The store the reference belongs to.
    pub(crate) fn store(&self) -> StoreId {
        self.store
    }

    /// The reference.
    pub(crate) fn gc_ref(&self) -> VMGcRef {
        self.gc_ref
    }

    /// The raw reference, for handing to Wasm in `opaque` (which must own it): the heap
    /// learns that Wasm may now hold it.
    pub(crate) fn to_raw(&self, opaque: &mut StoreOpaque) -> u32 {
        opaque.check(self.store);
        opaque.gc.heap.expose_gc_ref_to_wasm(self.gc_ref);
        self.gc_ref.as_raw()
    }
}

impl Drop for HostRoot {
    fn drop(&mut self) {
        self.dropped.push(self.gc_ref.as_raw());
    }
}
