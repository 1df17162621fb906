//! `Region`: one heap's reserved memory and the bounds-checked accesses every heap of this
//! crate makes through a `VMGcRef`, shared by the DRC and the null heap.

use anyhow::Result;
use gc_core::{ExternRefHostDataId, GcHeapConfig, GcLayouts, VMGcHeader, VMGcKind, VMGcRef};

/// Up to this many used bytes, `clear` writes zeroes (and the pages stay resident for the
/// next user); beyond it, it discards the pages.
const CLEAR_BY_WRITING: usize = 256 << 10;

/// Where transparent huge pages start: the heap's first 4 MiB, all that a small heap
/// touches, stay in small pages, so a small store keeps a small resident set; beyond
/// them, 2 MiB pages spare the TLB misses of a large heap's scattered reference counts.
const HUGE_PAGES_FROM: usize = 4 << 20;

/// A heap's mapping: `size` usable bytes (its maximum), within a reservation that may be
/// larger (`GcHeapConfig::reserve_index_space`). Dereferences to the whole mapping.
pub(crate) struct Region {
    mmap: memmap2::MmapMut,
    /// The mapping's base address, kept beside it so that the hot word accesses do not go
    /// through the mapping's `Deref` (whose slice indexing checks the bound a second time).
    base: *mut u8,
    size: usize,
}

// SAFETY: `base` points into `mmap`, which the region owns; the region is `Send` and `Sync`
// exactly as the mapping is, and all access goes through `&self` / `&mut self`.
unsafe impl Send for Region {}
// SAFETY: as for `Send`: shared access only reads.
unsafe impl Sync for Region {}

impl Region {
    /// The region of a heap with `config`, whose objects are laid out by `layouts`: at most
    /// `config.max_size` bytes (rounded down to the object alignment, at most 4 GiB).
    pub(crate) fn new(config: &GcHeapConfig, layouts: &GcLayouts) -> Result<Region> {
        let align_mask = layouts.object_align as usize - 1;
        let size = config.max_size.clamp(64, u32::MAX as usize) & !align_mask;
        let reservation = if config.reserve_index_space {
            layouts.index_space_reservation().max(size)
        } else {
            size
        };
        // Untouched pages cost nothing; never reserve swap for them.
        let mmap = memmap2::MmapOptions::new()
            .len(reservation)
            .no_reserve_swap()
            .map_anon()?;
        let mut mmap = mmap;
        if size > HUGE_PAGES_FROM {
            // Best effort: the kernel may not offer transparent huge pages.
            let _ = mmap.advise_range(
                memmap2::Advice::HugePage,
                HUGE_PAGES_FROM,
                size - HUGE_PAGES_FROM,
            );
        }
        let base = mmap.as_mut_ptr();
        Ok(Region { mmap, base, size })
    }

    /// The most bytes objects may occupy: every runtime access is checked against it.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The byte range of `len` bytes at `r + offset`, panicking if outside the heap.
    pub(crate) fn range(&self, r: VMGcRef, offset: usize, len: usize) -> std::ops::Range<usize> {
        let start = r.as_raw() as usize + offset;
        assert!(
            !r.is_i31() && start + len <= self.size,
            "GC reference {:#x} out of bounds of a {}-byte heap",
            r.as_raw(),
            self.size
        );
        start..start + len
    }

    /// The `u32` at `r + offset`.
    pub(crate) fn read_u32(&self, r: VMGcRef, offset: usize) -> u32 {
        let range = self.range(r, offset, 4);
        // SAFETY: `range` lies within `size` bytes of the base, inside the mapping, which
        // lives as long as `self`; any bit pattern is a valid `u32`.
        let word = unsafe { self.base.add(range.start).cast::<u32>().read_unaligned() };
        u32::from_le(word)
    }

    /// Hints the processor to fetch the header of object `raw` (a heap offset) into the
    /// cache: for loops over scattered objects, a few entries ahead, so that their cache
    /// misses overlap. Never faults and reads nothing; an offset outside the heap is
    /// ignored.
    #[inline]
    pub(crate) fn prefetch(&self, raw: u32) {
        #[cfg(target_arch = "x86_64")]
        if (raw as usize) < self.size {
            let p = self.base.wrapping_add(raw as usize).cast::<i8>();
            // SAFETY: `prefetch` needs SSE, part of every x86_64 target; it is a hint that
            // neither dereferences `p`, faults, nor changes memory.
            unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = raw;
    }

    /// The `N` `u32`s at `r`.
    pub(crate) fn read_words<const N: usize>(&self, r: VMGcRef) -> [u32; N] {
        let range = self.range(r, 0, 4 * N);
        // SAFETY: as in `read_u32`, for `4 * N` bytes.
        let words = unsafe {
            self.base
                .add(range.start)
                .cast::<[u32; N]>()
                .read_unaligned()
        };
        words.map(u32::from_le)
    }

    /// Writes the `u32` at `r + offset`.
    pub(crate) fn write_u32(&mut self, r: VMGcRef, offset: usize, value: u32) {
        let range = self.range(r, offset, 4);
        // SAFETY: as in `read_u32`; `&mut self` excludes every other access to the mapping.
        unsafe {
            self.base
                .add(range.start)
                .cast::<u32>()
                .write_unaligned(value.to_le())
        };
    }

    /// The byte range `[offset, offset + len)` of object `r`, whose size is the `u32` at
    /// `size_offset` of its header; panics unless it lies inside the object.
    pub(crate) fn object_range(
        &self,
        r: VMGcRef,
        size_offset: usize,
        offset: u32,
        len: u32,
    ) -> std::ops::Range<usize> {
        let size = self.read_u32(r, size_offset);
        let end = offset.checked_add(len).filter(|&e| e <= size);
        assert!(
            end.is_some(),
            "access of {len} bytes at {offset} outside a {size}-byte object"
        );
        self.range(r, offset as usize, len as usize)
    }

    /// `len` bytes of object `r` from `offset` (see `object_range`).
    pub(crate) fn object_bytes(
        &self,
        r: VMGcRef,
        size_offset: usize,
        offset: u32,
        len: u32,
    ) -> &[u8] {
        let range = self.object_range(r, size_offset, offset, len);
        &self.mmap[range]
    }

    /// `len` bytes of object `r` from `offset`, mutably (see `object_range`).
    pub(crate) fn object_bytes_mut(
        &mut self,
        r: VMGcRef,
        size_offset: usize,
        offset: u32,
        len: u32,
    ) -> &mut [u8] {
        let range = self.object_range(r, size_offset, offset, len);
        &mut self.mmap[range]
    }

    /// Copies `len` bytes of object `src` from `src_offset` to object `dst` at
    /// `dst_offset` (see `object_range`), as `memmove`.
    pub(crate) fn copy_object_bytes(
        &mut self,
        size_offset: usize,
        (dst, dst_offset): (VMGcRef, u32),
        (src, src_offset): (VMGcRef, u32),
        len: u32,
    ) {
        let from = self.object_range(src, size_offset, src_offset, len);
        let to = self.object_range(dst, size_offset, dst_offset, len);
        self.mmap.copy_within(from, to.start);
    }

    /// The header of object `r`.
    pub(crate) fn header(&self, r: VMGcRef) -> VMGcHeader {
        VMGcHeader::from_words([
            self.read_u32(r, VMGcHeader::KIND_OFFSET as usize),
            self.read_u32(r, VMGcHeader::TYPE_OFFSET as usize),
        ])
    }

    /// The host-data id of `externref` object `r`, kept at `offset`; panics if `r` is not
    /// an `externref`.
    pub(crate) fn externref_host_data(&self, r: VMGcRef, offset: usize) -> ExternRefHostDataId {
        assert_eq!(
            self.header(r).kind(),
            Some(VMGcKind::ExternRef),
            "not an externref"
        );
        ExternRefHostDataId::from_raw(self.read_u32(r, offset))
    }

    /// Zeroes the first `used` bytes for reuse by a new heap: small ranges by writing, large
    /// ones by handing their pages back to the system (which maps zero pages on next use).
    pub(crate) fn clear(&mut self, used: usize) {
        let used = used.min(self.size);
        if used <= CLEAR_BY_WRITING {
            self.mmap[..used].fill(0);
            return;
        }
        // SAFETY: the heap owns the mapping and no reference into it is live (`&mut self`);
        // discarding the pages of a private anonymous mapping makes them read as zero, which
        // is the state wanted.
        let discarded = unsafe {
            self.mmap
                .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, 0, used)
        };
        if discarded.is_err() {
            self.mmap[..used].fill(0);
        }
    }

    /// The bump cursor (`next`, `limit`) at `at`, unchecked: the caller checks it, since
    /// compiled code moves it.
    pub(crate) fn cursor(&self, at: usize) -> (u32, u32) {
        let word = |at: usize| u32::from_le_bytes(self.mmap[at..at + 4].try_into().expect("4"));
        (word(at), word(at + 4))
    }

    /// Sets the bump cursor at `at`.
    pub(crate) fn set_cursor(&mut self, at: usize, next: u32, limit: u32) {
        self.mmap[at..at + 4].copy_from_slice(&next.to_le_bytes());
        self.mmap[at + 4..at + 8].copy_from_slice(&limit.to_le_bytes());
    }
}

impl std::ops::Deref for Region {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.mmap
    }
}

impl std::ops::DerefMut for Region {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.mmap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetching_any_offset_is_harmless() {
        let config = GcHeapConfig {
            max_size: 8 << 20,
            ..GcHeapConfig::default()
        };
        let mut region = Region::new(&config, &gc_core::DRC_LAYOUTS).unwrap();
        // Past the heap, at its end, inside untouched (huge-page) space, and at 0.
        for raw in [u32::MAX, region.size() as u32, (5 << 20) + 16, 0] {
            region.prefetch(raw);
        }
        let near = |at: usize| at..at + 64;
        for range in [near(0), near(5 << 20), near(region.size() - 64)] {
            assert!(
                region[range].iter().all(|&b| b == 0),
                "a prefetch writes nothing"
            );
        }
        region[16] = 1;
        region.prefetch(16);
        assert_eq!(region[16], 1);
    }
}
