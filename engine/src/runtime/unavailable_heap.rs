//! `UnavailableHeap`: the GC heap of a store whose real heap could not be reserved (the
//! process is out of address space). It holds no objects and allocates none, so the store
//! still runs code that allocates nothing, and every allocation fails with an error that
//! says why (`StoreOpaque::alloc_gc`). Its region is one zeroed page: compiled code's
//! inline allocation reads a cursor of zeros there, finds no room and calls the runtime.

use anyhow::Result;
use gc_core::{
    ExternRefHostDataId, ExternRefHostDataTable, GarbageCollection, GcHeap, GcProgress,
    GcRootsIter, GcTypeTrace, VMGcHeader, VMGcKind, VMGcRef,
};

/// A heap without objects or room (see the module documentation).
pub(crate) struct UnavailableHeap {
    /// What compiled code reads: zeros, 8-byte aligned.
    zeros: Box<[u64; 512]>,
}

impl UnavailableHeap {
    pub(crate) fn new() -> UnavailableHeap {
        UnavailableHeap {
            zeros: Box::new([0; 512]),
        }
    }
}

/// No reference into this heap can exist; one reaching it is a bug in the engine.
fn no_objects(r: VMGcRef) -> ! {
    panic!(
        "reference {:#x} into a store whose GC heap is unavailable",
        r.as_raw()
    )
}

/// A collection with nothing to do.
struct Nothing;

impl GarbageCollection<'_> for Nothing {
    fn collect_increment(&mut self) -> GcProgress {
        GcProgress::Complete
    }
}

// SAFETY: the region is the boxed page, owned by the heap for its whole life and never
// moved; it holds no objects, and its zeros are an exhausted bump cursor for every layout.
unsafe impl GcHeap for UnavailableHeap {
    fn alloc_externref(&mut self, _host_data: ExternRefHostDataId) -> Result<Option<VMGcRef>> {
        Ok(None)
    }

    fn register_type(&mut self, _ty: u32, _trace: GcTypeTrace) {}

    fn has_type(&self, _ty: u32) -> bool {
        true
    }

    fn alloc_object(&mut self, _kind: VMGcKind, _ty: u32, _size: u32) -> Result<Option<VMGcRef>> {
        Ok(None)
    }

    fn object_bytes(&self, r: VMGcRef, _offset: u32, _len: u32) -> &[u8] {
        no_objects(r)
    }

    fn object_bytes_mut(&mut self, r: VMGcRef, _offset: u32, _len: u32) -> &mut [u8] {
        no_objects(r)
    }

    fn copy_object_bytes(&mut self, dst: VMGcRef, _: u32, _: VMGcRef, _: u32, _: u32) {
        no_objects(dst)
    }

    fn externref_host_data(&self, r: VMGcRef) -> ExternRefHostDataId {
        no_objects(r)
    }

    fn header(&self, r: VMGcRef) -> VMGcHeader {
        no_objects(r)
    }

    fn clone_gc_ref(&mut self, r: &VMGcRef) -> VMGcRef {
        *r
    }

    fn drop_gc_ref(&mut self, _r: VMGcRef) {}

    fn barrier_slow_path(&mut self, r: VMGcRef) {
        no_objects(r)
    }

    fn expose_gc_ref_to_wasm(&mut self, _r: VMGcRef) {}

    fn enter_no_gc_scope(&mut self) {}

    fn exit_no_gc_scope(&mut self) {}

    fn needs_non_stack_roots(&self) -> bool {
        false
    }

    fn needs_gc(&self) -> bool {
        false
    }

    fn gc<'a>(
        &'a mut self,
        _roots: GcRootsIter<'a>,
        _host_data_table: &'a mut ExternRefHostDataTable,
    ) -> Box<dyn GarbageCollection<'a> + 'a> {
        Box::new(Nothing)
    }

    fn vmctx_gc_heap_base(&self) -> *mut u8 {
        self.zeros.as_ptr().cast_mut().cast()
    }

    fn vmctx_gc_heap_bound(&self) -> usize {
        std::mem::size_of_val(&*self.zeros)
    }

    fn capacity(&self) -> usize {
        0
    }

    fn max_capacity(&self) -> usize {
        0
    }

    fn grow_capacity(&mut self, _bytes: usize) {}

    fn reset(&mut self) {}

    fn live_objects(&self) -> usize {
        0
    }

    fn bytes_in_use(&self) -> usize {
        0
    }
}
