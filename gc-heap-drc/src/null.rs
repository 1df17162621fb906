//! `NullHeap`: the null collector. Objects are bump-allocated from one region and never
//! freed; when the region is full, allocation fails and the engine traps with its
//! out-of-memory trap. Compiled code allocates inline from the same cursor (the whole free
//! space is the bump region, `gc_core::NULL_LAYOUTS`), and barriers are plain stores.
//!
//! It is the allocation floor against which the DRC heap is measured, and the proof that
//! the engine reaches a collector only through `gc-core`'s traits.

use crate::region::Region;
use anyhow::{Result, bail};
use gc_core::{
    ExternRefHostDataId, ExternRefHostDataTable, GarbageCollection, GcHeap, GcHeapConfig,
    GcProgress, GcRootsIter, GcTypeTrace, NULL_LAYOUTS, NullHeader, VMGcHeader, VMGcKind, VMGcRef,
};

const KIND: usize = VMGcHeader::KIND_OFFSET as usize;
const TYPE: usize = VMGcHeader::TYPE_OFFSET as usize;
const SIZE: usize = NullHeader::SIZE_OFFSET as usize;
const HOST_DATA: usize = NULL_LAYOUTS.externref_host_data_offset as usize;
const CURSOR: usize = NullHeader::CURSOR_OFFSET as usize;
const ALIGN: u32 = NullHeader::ALIGN;

/// A heap that never frees.
pub struct NullHeap {
    region: Region,
    /// What may be allocated now (the bump limit).
    capacity: u32,
    /// Registered types, by canonical index.
    types: Vec<bool>,
    no_gc_depth: u32,
    /// The capacity when created, restored by `reset`.
    initial_capacity: u32,
}

impl std::fmt::Debug for NullHeap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NullHeap")
            .field("size", &self.region.size())
            .field("capacity", &self.capacity)
            .field("next", &self.cursor_next())
            .finish_non_exhaustive()
    }
}

impl NullHeap {
    /// A heap of at most `config.max_size` bytes (rounded to the alignment, at most 4 GiB),
    /// `config.initial_size` of them usable at first.
    pub fn new(config: &GcHeapConfig) -> Result<NullHeap> {
        let region = Region::new(config, &NULL_LAYOUTS)?;
        let mut heap = NullHeap {
            region,
            capacity: 0,
            types: Vec::new(),
            no_gc_depth: 0,
            initial_capacity: 0,
        };
        heap.set_cursor(ALIGN, 0);
        heap.grow_capacity(config.initial_size);
        heap.initial_capacity = heap.capacity;
        Ok(heap)
    }

    fn read_u32(&self, r: VMGcRef, offset: usize) -> u32 {
        self.region.read_u32(r, offset)
    }

    fn write_u32(&mut self, r: VMGcRef, offset: usize, value: u32) {
        self.region.write_u32(r, offset, value);
    }

    /// The cursor's `next`, checked (compiled code moves it).
    fn cursor_next(&self) -> u32 {
        let (next, limit) = self.region.cursor(CURSOR);
        assert!(
            (ALIGN..=limit).contains(&next) && limit == self.capacity && next.is_multiple_of(ALIGN),
            "corrupt bump cursor {next:#x} (limit {limit:#x}, capacity {:#x})",
            self.capacity
        );
        next
    }

    fn set_cursor(&mut self, next: u32, limit: u32) {
        self.region.set_cursor(CURSOR, next, limit);
    }

    /// Bump-allocates `size` bytes (at least a header, rounded to the alignment).
    fn alloc_raw(&mut self, kind: VMGcKind, ty: u32, size: u32) -> Option<VMGcRef> {
        let size = size.max(NullHeader::SIZE).checked_next_multiple_of(ALIGN)?;
        let next = self.cursor_next();
        let end = next.checked_add(size).filter(|&e| e <= self.capacity)?;
        self.set_cursor(end, self.capacity);
        let r = VMGcRef::from_raw(next).expect("objects lie above 0");
        self.write_u32(r, KIND, VMGcHeader::new(kind, ty).to_words()[0]);
        self.write_u32(r, TYPE, ty);
        self.write_u32(r, SIZE, size);
        Some(r)
    }

    /// Calls `f(size)` for each object, in address order.
    fn for_each_object(&self, mut f: impl FnMut(u32)) {
        let end = self.cursor_next();
        let mut pos = ALIGN;
        while pos < end {
            let size = self.read_u32(VMGcRef::from_raw(pos).expect("above 0"), SIZE);
            assert!(
                size >= NullHeader::SIZE && size.is_multiple_of(ALIGN) && size <= end - pos,
                "corrupt object size {size} at {pos:#x}"
            );
            f(size);
            pos += size;
        }
    }
}

// SAFETY: the region is one mapping owned by the heap, never moved or unmapped before the
// heap is dropped, and objects are laid out by `NullHeader` / `NullExternRef`, which
// `NULL_LAYOUTS` describes.
unsafe impl GcHeap for NullHeap {
    fn alloc_externref(&mut self, host_data: ExternRefHostDataId) -> Result<Option<VMGcRef>> {
        let size = NULL_LAYOUTS.externref_size;
        let Some(r) = self.alloc_raw(VMGcKind::ExternRef, VMGcHeader::NO_TYPE, size) else {
            return Ok(None);
        };
        self.write_u32(r, HOST_DATA, host_data.as_raw());
        Ok(Some(r))
    }

    fn register_type(&mut self, ty: u32, _trace: GcTypeTrace) {
        let i = ty as usize;
        if self.types.len() <= i {
            self.types.resize(i + 1, false);
        }
        self.types[i] = true;
    }

    fn has_type(&self, ty: u32) -> bool {
        self.types.get(ty as usize).copied().unwrap_or(false)
    }

    fn alloc_object(&mut self, kind: VMGcKind, ty: u32, size: u32) -> Result<Option<VMGcRef>> {
        if kind != VMGcKind::ExternRef && !self.has_type(ty) {
            bail!("type {ty} allocated before it was registered");
        }
        Ok(self.alloc_raw(kind, ty, size))
    }

    fn object_bytes(&self, r: VMGcRef, offset: u32, len: u32) -> &[u8] {
        self.region.object_bytes(r, SIZE, offset, len)
    }

    fn object_bytes_mut(&mut self, r: VMGcRef, offset: u32, len: u32) -> &mut [u8] {
        self.region.object_bytes_mut(r, SIZE, offset, len)
    }

    fn copy_object_bytes(
        &mut self,
        dst: VMGcRef,
        dst_offset: u32,
        src: VMGcRef,
        src_offset: u32,
        len: u32,
    ) {
        self.region
            .copy_object_bytes(SIZE, (dst, dst_offset), (src, src_offset), len);
    }

    fn externref_host_data(&self, r: VMGcRef) -> ExternRefHostDataId {
        self.region.externref_host_data(r, HOST_DATA)
    }

    fn header(&self, r: VMGcRef) -> VMGcHeader {
        self.region.header(r)
    }

    fn clone_gc_ref(&mut self, r: &VMGcRef) -> VMGcRef {
        *r
    }

    fn drop_gc_ref(&mut self, _r: VMGcRef) {}

    fn barrier_slow_path(&mut self, _r: VMGcRef) {
        // The null collector's compiled code has no counts, so never calls this.
    }

    fn expose_gc_ref_to_wasm(&mut self, _r: VMGcRef) {}

    fn enter_no_gc_scope(&mut self) {
        self.no_gc_depth += 1;
    }

    fn exit_no_gc_scope(&mut self) {
        self.no_gc_depth = self
            .no_gc_depth
            .checked_sub(1)
            .expect("balanced no-GC scopes");
    }

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
        assert_eq!(
            self.no_gc_depth, 0,
            "garbage collection inside a no-GC scope"
        );
        Box::new(NoCollection)
    }

    fn vmctx_gc_heap_base(&self) -> *mut u8 {
        self.region.as_ptr().cast_mut()
    }

    fn vmctx_gc_heap_bound(&self) -> usize {
        self.region.len()
    }

    fn capacity(&self) -> usize {
        self.capacity as usize
    }

    fn max_capacity(&self) -> usize {
        self.region.size()
    }

    fn grow_capacity(&mut self, bytes: usize) {
        let capacity = (bytes.min(self.region.size()) as u32 & !(ALIGN - 1)).max(self.capacity);
        let next = if self.capacity == 0 {
            ALIGN
        } else {
            self.cursor_next()
        };
        self.capacity = capacity.max(ALIGN);
        self.set_cursor(next, self.capacity);
    }

    fn reset(&mut self) {
        assert_eq!(self.no_gc_depth, 0, "reset inside a no-GC scope");
        let used = self.cursor_next() as usize;
        self.region.clear(used);
        self.capacity = self.initial_capacity;
        self.set_cursor(ALIGN, self.capacity);
    }

    fn live_objects(&self) -> usize {
        let mut n = 0;
        self.for_each_object(|_| n += 1);
        n
    }

    fn bytes_in_use(&self) -> usize {
        (self.cursor_next() - ALIGN) as usize
    }
}

/// A null heap's collection: there is nothing to do.
struct NoCollection;

impl GarbageCollection<'_> for NoCollection {
    fn collect_increment(&mut self) -> GcProgress {
        GcProgress::Complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gc_core::GcRootsList;

    fn heap(max_size: usize) -> NullHeap {
        NullHeap::new(&GcHeapConfig {
            max_size,
            initial_size: 256,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn allocates_until_full_and_never_frees() {
        let mut h = heap(1 << 12);
        let mut host = ExternRefHostDataTable::default();
        h.register_type(
            3,
            GcTypeTrace::Struct {
                gc_ref_offsets: Box::new([]),
            },
        );
        let a = h.alloc_object(VMGcKind::StructRef, 3, 20).unwrap().unwrap();
        assert_eq!(a.as_raw(), ALIGN, "the first object follows the cursor");
        assert_eq!(h.header(a).kind(), Some(VMGcKind::StructRef));
        assert_eq!(h.object_bytes(a, 12, 8), &[0; 8]);
        let e = h
            .alloc_externref(host.alloc(Box::new(7u8)))
            .unwrap()
            .unwrap();
        assert_eq!(e.as_raw(), ALIGN + 24);
        h.gc(GcRootsList::new().iter(), &mut host).collect();
        assert_eq!(h.live_objects(), 2, "nothing is ever freed");
        assert_eq!(host.len(), 1);
        // The capacity bounds allocation until it is raised.
        while h
            .alloc_object(VMGcKind::StructRef, 3, 16)
            .unwrap()
            .is_some()
        {}
        assert_eq!(h.bytes_in_use() + ALIGN as usize, h.capacity());
        h.grow_capacity(1 << 12);
        assert!(
            h.alloc_object(VMGcKind::StructRef, 3, 16)
                .unwrap()
                .is_some()
        );
        assert!(
            h.alloc_object(VMGcKind::StructRef, 3, 1 << 13)
                .unwrap()
                .is_none()
        );
        assert!(
            h.alloc_object(VMGcKind::ArrayRef, 9, 16).is_err(),
            "unregistered"
        );
    }

    #[test]
    fn reset_starts_over() {
        let mut h = heap(1 << 12);
        h.register_type(
            1,
            GcTypeTrace::Struct {
                gc_ref_offsets: Box::new([]),
            },
        );
        let a = h.alloc_object(VMGcKind::StructRef, 1, 24).unwrap().unwrap();
        h.object_bytes_mut(a, 16, 8).fill(0xff);
        h.grow_capacity(1 << 12);
        h.reset();
        assert_eq!((h.live_objects(), h.capacity()), (0, 256));
        let b = h.alloc_object(VMGcKind::StructRef, 1, 24).unwrap().unwrap();
        assert_eq!(b, a);
        assert_eq!(h.object_bytes(b, 12, 12), &[0; 12], "zeroed");
    }

    #[test]
    #[should_panic(expected = "outside a 24-byte object")]
    fn accesses_are_checked_against_the_object() {
        let mut h = heap(1 << 12);
        h.register_type(
            1,
            GcTypeTrace::Struct {
                gc_ref_offsets: Box::new([]),
            },
        );
        let a = h.alloc_object(VMGcKind::StructRef, 1, 24).unwrap().unwrap();
        h.object_bytes(a, 20, 8);
    }
}
