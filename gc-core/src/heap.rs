//! The collector abstraction: `GcRuntime` creates heaps, `GcHeap` is one store's heap
//! (allocation, barriers the runtime calls, collection, what compiled code sees), and
//! `GarbageCollection` is one collection run in bounded increments.

use crate::{
    ExternRefHostDataId, ExternRefHostDataTable, GcLayouts, GcRootsIter, GcTypeTrace, VMGcHeader,
    VMGcKind, VMGcRef,
};
use anyhow::Result;

/// Settings for a new heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcHeapConfig {
    /// The most bytes the heap may ever use (its address-space reservation).
    pub max_size: usize,
    /// The bytes the heap may use when created (at most `max_size`): its capacity. The
    /// engine raises the capacity with [`GcHeap::grow_capacity`] when an allocation does not
    /// fit, after asking the embedder's resource limiter.
    pub initial_size: usize,
    /// Collect at every opportunity (allocation, barrier slow path, host call), to expose
    /// missing roots and barriers.
    pub stress: bool,
    /// Reserve address space for every 32-bit reference plus an object header
    /// ([`GcLayouts::index_space_reservation`]), so that no access through a `VMGcRef` can
    /// leave the heap's region and compiled code needs no bounds checks on header accesses.
    /// Pages beyond `max_size` are never touched by the allocator.
    pub reserve_index_space: bool,
}

impl Default for GcHeapConfig {
    fn default() -> Self {
        GcHeapConfig {
            max_size: 256 << 20,
            initial_size: 1 << 20,
            stress: false,
            reserve_index_space: false,
        }
    }
}

/// A kind of collector: creates heaps and describes their object layouts.
///
/// # Safety
/// The layouts returned must describe the heaps this runtime creates exactly: compiled code
/// reads and writes objects at these offsets without asking the heap.
pub unsafe trait GcRuntime: Send + Sync {
    /// The collector's name (for configuration and logs).
    fn name(&self) -> &'static str;
    /// The object layouts of this collector's heaps.
    fn layouts(&self) -> &GcLayouts;
    /// A new, empty heap.
    fn new_gc_heap(&self, config: &GcHeapConfig) -> Result<Box<dyn GcHeap>>;
}

/// The result of one increment of a collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GcProgress {
    /// More work remains: call `collect_increment` again.
    Continue,
    /// The collection is done.
    Complete,
}

/// One collection, performed in increments of bounded work.
pub trait GarbageCollection<'a>: Send {
    /// Does a bounded amount of work.
    fn collect_increment(&mut self) -> GcProgress;

    /// Runs the collection to completion.
    fn collect(mut self: Box<Self>) {
        while self.collect_increment() == GcProgress::Continue {}
    }
}

/// Runs `collection` to completion, yielding to the executor between increments.
#[cfg(feature = "async")]
pub async fn collect_async<'a>(mut collection: Box<dyn GarbageCollection<'a> + 'a>) {
    while collection.collect_increment() == GcProgress::Continue {
        crate::yield_now().await;
    }
}

/// One store's GC heap.
///
/// References are `VMGcRef` indices from the heap's base. Every access the heap makes
/// through a reference it was handed is bounds-checked: a bogus reference panics (or
/// returns an error) and never reads or writes outside the heap's own region.
///
/// # Safety
/// Compiled code reads the heap through `vmctx_gc_heap_base` / `vmctx_gc_heap_bound` and
/// the runtime's `GcLayouts`: the region `[base, base + bound)` must stay mapped and
/// readable and writable, at the same address, for the heap's whole life, and objects must
/// be laid out as the layouts say.
pub unsafe trait GcHeap: Send {
    /// Allocates an `externref` object owning host data `host_data`; `Ok(None)` if the
    /// heap is full (the caller may collect and retry).
    fn alloc_externref(&mut self, host_data: ExternRefHostDataId) -> Result<Option<VMGcRef>>;

    /// Records how to find the references inside objects of canonical type `ty`. Must
    /// happen before the first object of that type is allocated; registering again is a
    /// no-op.
    fn register_type(&mut self, ty: u32, trace: GcTypeTrace);

    /// Whether `ty` has been registered.
    fn has_type(&self, ty: u32) -> bool;

    /// Allocates a zero-filled object of `kind` and canonical type `ty`, `size` bytes
    /// including the header; `Ok(None)` if the heap is full (the caller may collect and
    /// retry). Struct and array types must be registered first.
    fn alloc_object(&mut self, kind: VMGcKind, ty: u32, size: u32) -> Result<Option<VMGcRef>>;

    /// `len` bytes of object `r` from `offset`. Panics if the range is not inside the
    /// object (or `r` not inside the heap).
    fn object_bytes(&self, r: VMGcRef, offset: u32, len: u32) -> &[u8];

    /// `len` bytes of object `r` from `offset`, mutably; as for `object_bytes`.
    fn object_bytes_mut(&mut self, r: VMGcRef, offset: u32, len: u32) -> &mut [u8];

    /// Copies `len` bytes of object `src` from `src_offset` to object `dst` at
    /// `dst_offset`, as `memmove` (the ranges may overlap, within one object). Panics as
    /// `object_bytes` does if either range is not inside its object.
    fn copy_object_bytes(
        &mut self,
        dst: VMGcRef,
        dst_offset: u32,
        src: VMGcRef,
        src_offset: u32,
        len: u32,
    );

    /// The host data id of `externref` object `r`. Panics if `r` is not one.
    fn externref_host_data(&self, r: VMGcRef) -> ExternRefHostDataId;

    /// The header of object `r`. Panics if `r` is out of bounds.
    fn header(&self, r: VMGcRef) -> VMGcHeader;

    /// Read barrier for a reference the host is copying: returns the copy, counted.
    fn clone_gc_ref(&mut self, r: &VMGcRef) -> VMGcRef;

    /// Write barrier: stores `src` (cloned) into `dest`, releasing what `dest` held.
    fn write_gc_ref(&mut self, dest: &mut Option<VMGcRef>, src: Option<&VMGcRef>) {
        let new = src.map(|r| self.clone_gc_ref(r));
        if let Some(old) = std::mem::replace(dest, new) {
            self.drop_gc_ref(old);
        }
    }

    /// Releases a counted reference.
    fn drop_gc_ref(&mut self, r: VMGcRef);

    /// Whether the references held in object `r`'s fields are counted: true unless the
    /// collector leaves some objects' fields uncounted (the DRC heap's young objects).
    /// Writers that bypass [`write_field_gc_ref`](GcHeap::write_field_gc_ref) (bulk
    /// copies) must ask.
    fn fields_are_counted(&self, r: VMGcRef) -> bool {
        let _ = r;
        true
    }

    /// Write barrier for a reference field: stores `new` at `offset` of object `obj`
    /// (bounds-checked like `object_bytes_mut`), counting it and releasing the reference
    /// it replaces if `obj`'s fields are counted, else as a plain store.
    fn write_field_gc_ref(&mut self, obj: VMGcRef, offset: u32, new: Option<VMGcRef>) {
        let raw = new.map_or(0, |r| r.as_raw());
        if !self.fields_are_counted(obj) {
            self.object_bytes_mut(obj, offset, 4)
                .copy_from_slice(&raw.to_le_bytes());
            return;
        }
        if let Some(new) = new {
            self.clone_gc_ref(&new);
        }
        let slot = self.object_bytes_mut(obj, offset, 4);
        let old = u32::from_le_bytes((&*slot).try_into().expect("4 bytes"));
        slot.copy_from_slice(&raw.to_le_bytes());
        if let Some(old) = VMGcRef::from_raw(old) {
            self.drop_gc_ref(old);
        }
    }

    /// Debug builds' check after a collection, for heaps that count references:
    /// `counted_slots` are the references held by globals, tables and element segments (raw;
    /// 0 for null), and every count must cover those plus the references objects hold
    /// (host handles may add more). Panics if not. By default nothing.
    fn check_counts(&self, counted_slots: &[u32]) {
        let _ = counted_slots;
    }

    /// Called when `r` becomes an `externref` (`extern.convert_any`, in compiled code or a
    /// constant expression, or the host's conversion). The DRC heap promotes a young
    /// object then, so that no `externref` is ever young and barriers on `externref`
    /// slots need no young test. By default nothing.
    fn externalize(&mut self, r: VMGcRef) {
        let _ = r;
    }

    /// The slow path of compiled code's write barrier (for reference-counting collectors;
    /// others never emit that call): compiled code has just set `r`'s count to zero, or
    /// counted a reference to a young object it has not logged, and could not record it
    /// itself (the DRC heap's barrier log is full: the heap drains it first). Must not
    /// collect: compiled code calls it without a stack map. A collection it makes due
    /// shows in [`GcHeap::needs_gc`].
    fn barrier_slow_path(&mut self, r: VMGcRef);

    /// Notes that `r` is being handed to Wasm code, where it will be held by frames the
    /// heap does not count.
    fn expose_gc_ref_to_wasm(&mut self, r: VMGcRef);

    /// Enters a scope in which `gc` must not run (it panics).
    fn enter_no_gc_scope(&mut self);

    /// Leaves a scope entered with `enter_no_gc_scope`.
    fn exit_no_gc_scope(&mut self);

    /// Whether collections need the non-stack roots (globals, tables, host handles) as
    /// well as the Wasm stack roots. Reference-counting heaps count those references
    /// instead; tracing heaps need them. The engine skips gathering them when `false`.
    fn needs_non_stack_roots(&self) -> bool {
        true
    }

    /// Makes the next collection complete: for a heap that reclaims some garbage (like
    /// cycles) only from time to time, the next `gc` reclaims all of it. Explicit
    /// collections (`Store::gc`) ask for this.
    fn request_full_collection(&mut self) {}

    /// Whether the heap would like a collection soon (allocation volume, pending work).
    fn needs_gc(&self) -> bool;

    /// Starts a collection with `roots`; freed `externref`s drop their host data from
    /// `host_data_table`. Panics inside a no-GC scope.
    fn gc<'a>(
        &'a mut self,
        roots: GcRootsIter<'a>,
        host_data_table: &'a mut ExternRefHostDataTable,
    ) -> Box<dyn GarbageCollection<'a> + 'a>;

    /// The heap's base address, for compiled code.
    fn vmctx_gc_heap_base(&self) -> *mut u8;

    /// The size of the region compiled code may access from the base.
    fn vmctx_gc_heap_bound(&self) -> usize;

    /// The bytes the heap may use now: allocations that do not fit below it fail
    /// (`Ok(None)`) until the capacity is raised.
    fn capacity(&self) -> usize;

    /// The most bytes the heap can ever use: no capacity beyond it, and no object larger.
    fn max_capacity(&self) -> usize;

    /// Raises the capacity to `bytes` (clamped to `max_capacity`); never lowers it.
    fn grow_capacity(&mut self, bytes: usize);

    /// Empties the heap so that it can serve a new store, as a fresh heap of the same
    /// configuration would: every object is gone (their host data belongs to the old
    /// store's host-data table, which its owner drops), the capacity is back to its initial
    /// size, the memory the old store used reads as zero, and registered types stay
    /// registered (canonical type indices are engine-wide). The base address does not
    /// change. Panics inside a no-GC scope.
    fn reset(&mut self);

    /// The number of live objects.
    fn live_objects(&self) -> usize;

    /// Bytes held by live objects (excluding free space).
    fn bytes_in_use(&self) -> usize;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A collection that takes a fixed number of increments.
    struct Steps(u32);

    impl GarbageCollection<'_> for Steps {
        fn collect_increment(&mut self) -> GcProgress {
            self.0 -= 1;
            if self.0 == 0 {
                GcProgress::Complete
            } else {
                GcProgress::Continue
            }
        }
    }

    #[test]
    fn collect_runs_every_increment() {
        let mut steps = Steps(5);
        let mut n = 0;
        while steps.collect_increment() == GcProgress::Continue {
            n += 1;
        }
        assert_eq!(n, 4);
        Box::new(Steps(3)).collect();
    }

    #[cfg(feature = "async")]
    #[test]
    fn collect_async_yields_between_increments() {
        use std::future::Future;
        use std::pin::pin;
        use std::task::{Context, Poll, Waker};
        let mut future = pin!(collect_async(Box::new(Steps(4))));
        let mut cx = Context::from_waker(Waker::noop());
        let mut pending = 0;
        while future.as_mut().poll(&mut cx) == Poll::Pending {
            pending += 1;
        }
        assert_eq!(pending, 3, "one yield after each increment but the last");
    }
}
