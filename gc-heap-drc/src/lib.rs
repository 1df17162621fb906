//! The deferred-reference-counting GC heap.
//!
//! [`DrcRuntime`] implements `gc-core`'s [`GcRuntime`] and creates [`DrcHeap`]s: one
//! reserved region per store, 16-byte-aligned objects with a reference count in the
//! header, bump chunks that compiled code allocates from inline (`GcLayouts::bump`), a
//! coalescing free list, a zero-count table reconciled against the precise stack roots at
//! each collection, and an incremental backup trace that frees cycles (see `heap.rs` and
//! `heap/trace.rs` for the scheme and `ARCHITECTURE.md` for why it needs no read barrier).
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
#![deny(missing_docs)]

mod free_list;
mod heap;

pub use heap::DrcHeap;

use gc_core::{GcHeap, GcHeapConfig, GcLayouts, GcRuntime};

/// The name under which the engine's configuration selects this collector.
pub const COLLECTOR_NAME: &str = "drc";

/// The object layouts of DRC heaps.
pub const DRC_LAYOUTS: GcLayouts = GcLayouts {
    header_size: 16,
    object_align: 16,
    ref_count_offset: Some(8),
    externref_host_data_offset: 16,
    externref_size: 32,
    bump: Some(gc_core::GcBumpLayout {
        cursor_offset: heap::CURSOR as u32,
        new_object_kind_bits: heap::IN_ZCT,
        size_offset: Some(heap::SIZE as u32),
        max_object_size: heap::BUMP_MAX,
    }),
};

/// The deferred-reference-counting collector.
#[derive(Clone, Copy, Debug, Default)]
pub struct DrcRuntime;

// SAFETY: `DrcHeap` lays objects out exactly as `DRC_LAYOUTS` says.
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
