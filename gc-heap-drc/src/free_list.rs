//! A coalescing free list over a heap's index space: best fit by size, neighbours merged
//! on free, and a bump frontier for never-used space.

use std::collections::{BTreeMap, BTreeSet};

/// Free space of a heap, in bytes from its base. All sizes and starts are multiples of
/// the allocation alignment.
#[derive(Debug)]
pub(crate) struct FreeList {
    /// Free blocks by start: start -> length.
    by_start: BTreeMap<u32, u32>,
    /// Free blocks by (length, start), for best fit.
    by_size: BTreeSet<(u32, u32)>,
    /// Everything at or above this offset has never been allocated.
    frontier: u32,
    /// The end of the heap's region.
    limit: u32,
}

impl FreeList {
    /// Free space `[start, limit)`.
    pub(crate) fn new(start: u32, limit: u32) -> Self {
        FreeList {
            by_start: BTreeMap::new(),
            by_size: BTreeSet::new(),
            frontier: start,
            limit,
        }
    }

    /// Allocates `size` bytes; the start, or `None` if nothing fits.
    pub(crate) fn alloc(&mut self, size: u32) -> Option<u32> {
        if let Some(&(len, start)) = self.by_size.range((size, 0)..).next() {
            self.remove(start, len);
            if len > size {
                self.insert(start + size, len - size);
            }
            return Some(start);
        }
        let end = self.frontier.checked_add(size)?;
        if end > self.limit {
            return None;
        }
        let start = self.frontier;
        self.frontier = end;
        Some(start)
    }

    /// Frees `[start, start + size)`, merging it with free neighbours.
    pub(crate) fn free(&mut self, mut start: u32, mut size: u32) {
        if let Some((&prev, &prev_len)) = self.by_start.range(..start).next_back() {
            debug_assert!(prev + prev_len <= start, "double free at {start}");
            if prev + prev_len == start {
                self.remove(prev, prev_len);
                start = prev;
                size += prev_len;
            }
        }
        if let Some(&next_len) = self.by_start.get(&(start + size)) {
            self.remove(start + size, next_len);
            size += next_len;
        }
        if start + size == self.frontier {
            self.frontier = start;
        } else {
            self.insert(start, size);
        }
    }

    fn insert(&mut self, start: u32, len: u32) {
        self.by_start.insert(start, len);
        self.by_size.insert((len, start));
    }

    fn remove(&mut self, start: u32, len: u32) {
        self.by_start.remove(&start);
        self.by_size.remove(&(len, start));
    }

    /// Bytes below the frontier that are free.
    pub(crate) fn free_bytes(&self) -> u64 {
        self.by_start.values().map(|&l| u64::from(l)).sum()
    }

    /// The frontier.
    pub(crate) fn frontier(&self) -> u32 {
        self.frontier
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_and_coalesces() {
        let mut f = FreeList::new(16, 16 + 160);
        let a = f.alloc(32).unwrap();
        let b = f.alloc(32).unwrap();
        let c = f.alloc(32).unwrap();
        assert_eq!((a, b, c), (16, 48, 80));
        f.free(a, 32);
        f.free(b, 32);
        // a and b merged into one 64-byte block: a 64-byte request fits there.
        assert_eq!(f.alloc(64), Some(16));
        f.free(16, 64);
        f.free(c, 32);
        // Everything free again: the frontier is back at the start.
        assert_eq!(f.frontier(), 16);
        assert_eq!(f.free_bytes(), 0);
    }

    #[test]
    fn best_fit_splits_and_respects_the_limit() {
        let mut f = FreeList::new(0, 128);
        let a = f.alloc(64).unwrap();
        let _b = f.alloc(32).unwrap();
        f.free(a, 64);
        assert_eq!(f.alloc(16), Some(0));
        assert_eq!(f.alloc(48), Some(16));
        assert_eq!(f.alloc(32), Some(96));
        assert_eq!(f.alloc(16), None);
    }
}
