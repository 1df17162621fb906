//! The collector abstraction shared by every GC heap and the engine that drives it.
//!
//! - [`GcRuntime`] creates [`GcHeap`]s and publishes the [`GcLayouts`] compiled code uses,
//!   including the [`GcBumpLayout`] contract for allocating inline.
//! - [`GcHeap`] is one store's heap: allocation, the barriers the runtime calls, no-GC
//!   scopes, collection, and the base and bound compiled code reads.
//! - [`GarbageCollection`] is one collection, run in increments ([`GcProgress`]); with the
//!   `async` feature, `collect_async` yields between increments.
//! - [`GcRootsList`] / [`GcRootsIter`] / [`GcRoot`]: the roots of a collection, on Wasm
//!   stacks or not.
//! - [`VMGcRef`] (a non-null 32-bit index; the low bit tags an `i31`), [`VMGcHeader`] and
//!   [`VMGcKind`] (kinds whose subtyping is one AND), [`VMExternRef`].
//! - [`ExternRefHostDataTable`]: host values behind `externref`s, kept outside the heap.
//! - Each collector's object header, defined once: [`DrcHeader`] / [`DRC_LAYOUTS`] for the
//!   deferred-reference-counting heap, [`NullHeader`] / [`NULL_LAYOUTS`] for the null heap.
//!
//! This crate knows nothing of Cranelift or the engine.
//!
//! ```
//! use gc_core::{VMGcKind, VMGcRef};
//! let r = VMGcRef::from_raw(32).unwrap();
//! assert_eq!(r.as_raw(), 32);
//! assert!(VMGcRef::from_raw(0).is_none());
//! assert!(VMGcKind::StructRef.matches(VMGcKind::EqRef));
//! ```
//!
//! Features: `async` adds `collect_async`.
#![deny(missing_docs)]

mod gc_ref;
mod header;
mod heap;
mod host_data;
mod layout;
mod roots;
#[cfg(feature = "async")]
mod yield_now;

pub use gc_ref::{VMExternRef, VMGcRef};
pub use header::{VMGcHeader, VMGcKind};
#[cfg(feature = "async")]
pub use heap::collect_async;
pub use heap::{GarbageCollection, GcHeap, GcHeapConfig, GcProgress, GcRuntime};
pub use host_data::{ExternRefHostDataId, ExternRefHostDataTable};
pub use layout::{
    DRC_LAYOUTS, DrcExternRef, DrcHeader, GcArrayLayout, GcBumpLayout, GcFieldKind, GcLayouts,
    GcStructLayout, GcTypeTrace, NULL_LAYOUTS, NullExternRef, NullHeader,
};
pub use roots::{GcRoot, GcRootsIter, GcRootsList};
#[cfg(feature = "async")]
pub(crate) use yield_now::yield_now;
