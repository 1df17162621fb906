//! The deferred-reference-counting GC heap.
//!
//! Not built yet: this crate will implement `gc-core`'s `GcRuntime` and `GcHeap` with a
//! free-list heap in one reserved region, the activations table reconciled against precise
//! stack roots, and cycle collection (see the deferred-reference-counting issue and
//! `ARCHITECTURE.md`). Until then it only names the collector.
//!
//! ```
//! assert_eq!(gc_heap_drc::COLLECTOR_NAME, "drc");
//! ```
#![deny(missing_docs)]

/// The name under which the engine's configuration selects this collector.
pub const COLLECTOR_NAME: &str = "drc";
