//! The collector abstraction shared by every GC heap and the engine that drives it.
//!
//! This crate will hold `GcRuntime`, `GcHeap`, `GarbageCollection`, `GcProgress`, the root
//! lists, `VMGcRef`, `VMGcHeader` and the object layouts that compiled code uses (see
//! `ARCHITECTURE.md` and the deferred-reference-counting issue). For now it defines only the
//! GC reference type that the engine's value representation reserves room for.
//!
//! ```
//! use gc_core::VMGcRef;
//! let r = VMGcRef::from_raw(32).unwrap();
//! assert_eq!(r.as_raw(), 32);
//! assert!(VMGcRef::from_raw(0).is_none());
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod gc_ref;

pub use gc_ref::VMGcRef;
