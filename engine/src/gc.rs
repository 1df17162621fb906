//! The store's side of garbage collection: its heap and host-data table, the queue of
//! references released by dropped host handles, and collections (roots from Wasm frames,
//! globals, tables and element segments).

use crate::store::StoreOpaque;
use anyhow::Result;
use gc_core::{ExternRefHostDataTable, GcHeap, GcHeapConfig, GcRootsList, VMGcRef};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

/// Host handles dropped since the last drain, as raw references to release.
pub(crate) type DroppedRefs = Arc<Mutex<Vec<u32>>>;

/// Drained once this many dropped host handles are waiting.
const DROPPED_LIMIT: usize = 4096;

/// A store's GC state.
pub(crate) struct StoreGc {
    pub heap: Box<dyn GcHeap>,
    pub host_data: ExternRefHostDataTable,
    /// References whose host handles were dropped (a `Drop` impl cannot reach the heap).
    pub dropped: DroppedRefs,
    /// Collect at every opportunity.
    pub stress: bool,
    /// Collections run so far.
    pub collections: u64,
}

impl StoreGc {
    pub(crate) fn new(engine: &crate::Engine) -> Result<StoreGc> {
        let config = GcHeapConfig {
            max_size: engine.config().gc_heap_max_size,
            stress: engine.config().gc_stress,
            reserve_index_space: engine.config().gc_heap_reserve_index_space,
        };
        Ok(StoreGc {
            heap: engine.gc_runtime().new_gc_heap(&config)?,
            host_data: ExternRefHostDataTable::default(),
            dropped: Arc::default(),
            stress: engine.config().gc_stress,
            collections: 0,
        })
    }

    /// Releases the references of dropped host handles.
    pub(crate) fn drain_dropped(&mut self) {
        let dropped = std::mem::take(&mut *self.dropped.lock().unwrap_or_else(|e| e.into_inner()));
        for r in dropped.into_iter().filter_map(VMGcRef::from_raw) {
            self.heap.drop_gc_ref(r);
        }
    }

    fn dropped_len(&self) -> usize {
        self.dropped.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl StoreOpaque {
    /// Collects if the heap asks for it (or in stress mode).
    pub(crate) fn maybe_gc(&mut self) {
        if self.gc.stress || self.gc.heap.needs_gc() || self.gc.dropped_len() >= DROPPED_LIMIT {
            self.gc_now();
        }
    }

    /// Runs a full collection.
    ///
    /// Must be called from host code: either with no Wasm running in this store, or from a
    /// host function or builtin whose exit frame compiled code recorded.
    pub(crate) fn gc_now(&mut self) {
        self.gc.drain_dropped();
        let mut roots = GcRootsList::new();
        // SAFETY: Wasm code of this store is suspended in a host call (or not running), so
        // its frames and the slots the walk finds stay put until the collection ends.
        unsafe { crate::traphandlers::wasm_stack_roots(&self.vm, &mut roots) };
        if self.gc.heap.needs_non_stack_roots() {
            self.add_non_stack_roots(&mut roots);
        }
        log::debug!(
            "gc: {} roots, {} live objects",
            roots.len(),
            self.gc.heap.live_objects()
        );
        let StoreGc {
            heap, host_data, ..
        } = &mut self.gc;
        heap.gc(roots.iter(), host_data).collect();
        self.gc.collections += 1;
    }

    /// Adds the GC references held by globals, tables and passive element segments.
    fn add_non_stack_roots(&mut self, roots: &mut GcRootsList) {
        for g in &mut self.globals {
            if g.ty.content().is_gc_ref() && g.def.value.get_u32() != 0 {
                let slot = NonNull::from(&mut g.def.value).cast::<u32>();
                // SAFETY: the global outlives the collection and nothing else touches it.
                unsafe { roots.add_root(slot) };
            }
        }
        for t in &mut self.tables {
            for slot in t.gc_slots() {
                // SAFETY: as for globals; the low 32 bits of a little-endian element hold
                // the reference.
                unsafe { roots.add_root(NonNull::from(slot).cast::<u32>()) };
            }
        }
        for inst in &mut self.instances {
            let segments = inst
                .elems
                .iter_mut()
                .zip(&inst.elem_is_gc)
                .filter(|(_, gc)| **gc);
            for (values, _) in segments {
                for v in values
                    .iter_mut()
                    .flat_map(|v| v.iter_mut())
                    .filter(|v| **v != 0)
                {
                    // SAFETY: as for globals.
                    unsafe { roots.add_root(NonNull::from(v).cast::<u32>()) };
                }
            }
        }
    }
}
