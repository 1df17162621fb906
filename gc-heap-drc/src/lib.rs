//! The deferred-reference-counting GC heap, and the null heap beside it.
//!
//! [`DrcRuntime`] implements `gc-core`'s [`GcRuntime`] and creates [`DrcHeap`]s: one
//! reserved region per store, 16-byte-aligned objects with a reference count in the
//! header, bump chunks that compiled code allocates from inline (`GcLayouts::bump`), a
//! young generation whose objects are born uncounted and freed in bulk unless a young
//! collection promotes them, a coalescing free list, a zero-count table reconciled against
//! the precise stack roots at each collection, and an incremental backup trace that frees
//! cycles (see `heap.rs`, `heap/young.rs` and `heap/trace.rs` for the scheme and
//! `ARCHITECTURE.md` for why it needs no read barrier).
//!
//! ```
//! use gc_core::{ExternRefHostDataTable, GcHeap, GcHeapConfig, GcRootsList, GcRuntime};
//! let runtime = gc_heap_drc::DrcRuntime;
//! let mut heap = runtime.new_gc_heap(&GcHeapConfig::default())?;
//! let mut host_data = ExternRefHostDataTable::default();
//! let id = host_data.alloc(Box::new("hello"));
//! let r = heap.alloc_externref(id)?.expect("room");
//! // Not held by anything: the next collection frees it and its host data.
//! let mut roots = GcRootsList::new();
//! heap.gc(roots.iter(), &mut host_data).collect();
//! assert_eq!(heap.live_objects(), 0);
//! assert!(host_data.is_empty());
//! # let _ = r;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! [`NullRuntime`] creates [`NullHeap`]s, which bump-allocate and never free (`null.rs`): the
//! allocation floor for benchmarks, and a second collector behind the same traits.
#![deny(missing_docs)]

mod free_list;
mod heap;
mod null;
mod radix;
mod region;

pub use heap::DrcHeap;
pub use null::NullHeap;

use gc_core::{DRC_LAYOUTS, GcHeap, GcHeapConfig, GcLayouts, GcRuntime, NULL_LAYOUTS};

/// The name under which the engine's configuration selects this collector.
pub const COLLECTOR_NAME: &str = "drc";

/// The deferred-reference-counting collector.
#[derive(Clone, Copy, Debug, Default)]
pub struct DrcRuntime;

// SAFETY: `DrcHeap` lays objects out by `gc_core::DrcHeader`, which `DRC_LAYOUTS` describes.
unsafe impl GcRuntime for DrcRuntime {
    fn name(&self) -> &'static str {
        COLLECTOR_NAME
    }

    fn layouts(&self) -> &GcLayouts {
        &DRC_LAYOUTS
    }

    fn new_gc_heap(&self, config: &GcHeapConfig) -> anyhow::Result<Box<dyn GcHeap>> {
        Ok(Box::new(DrcHeap::new(config)?))
    }
}

/// The null collector: never frees.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullRuntime;

// SAFETY: `NullHeap` lays objects out by `gc_core::NullHeader`, which `NULL_LAYOUTS`
// describes.
unsafe impl GcRuntime for NullRuntime {
    fn name(&self) -> &'static str {
        "null"
    }

    fn layouts(&self) -> &GcLayouts {
        &NULL_LAYOUTS
    }

    fn new_gc_heap(&self, config: &GcHeapConfig) -> anyhow::Result<Box<dyn GcHeap>> {
        Ok(Box::new(NullHeap::new(config)?))
    }
}
