//! A free list over a heap's index space: best fit by size with neighbours merged on free,
//! a bump frontier for never-used space, and exact size classes for small blocks.
//!
//! Small blocks (at most `SMALL_MAX` bytes) are cached per size on free, and reused by the
//! next allocation of that size, or as a bump chunk, without touching the tree: in a heap
//! fragmented by scattered deaths, most free blocks are small and isolated, and a tree
//! insertion and removal for each would cost more than the objects' whole lives.
//! `merge_small` (the heap runs it after each collection) joins adjacent cached blocks and
//! moves the runs larger than a small block to the tree; `flush_small` (before a backup
//! trace, which walks the heap by the tree) moves them all, merging with tree neighbours.

use crate::radix::sort_by_high_half;
use std::collections::{BTreeMap, BTreeSet};

/// Free space of a heap, in bytes from its base. All sizes and starts are multiples of
/// the allocation alignment.
#[derive(Debug)]
pub(crate) struct FreeList {
    /// Free blocks by start: start -> length.
    by_start: BTreeMap<u32, u32>,
    /// Free blocks by (length, start), for best fit.
    by_size: BTreeSet<(u32, u32)>,
    /// The length of the largest block in the tree (0: none), so that a chunk request the
    /// tree cannot serve does not search it.
    largest: u32,
    /// Everything at or above this offset has never been allocated.
    frontier: u32,
    /// The highest the frontier has been: everything ever handed out lies below.
    high_water: u32,
    /// The end of the space that may be allocated (the heap's capacity).
    limit: u32,
    /// Freed small blocks by size class (`size / ALIGN - 1`), reused last-in first-out.
    small: Vec<Vec<u32>>,
    /// Bit `c` set: class `c` holds a block (so a chunk request finds one without looking).
    small_classes: u32,
    /// Scratch space for merging cached blocks: blocks as `start << 32 | size`.
    merge_scratch: Vec<u64>,
    /// Scratch space for `sort_by_high_half`.
    sort_scratch: Vec<u64>,
}

/// The allocation granularity.
const ALIGN: u32 = 16;
/// The largest block cached by size class.
const SMALL_MAX: u32 = 256;
/// A tree block at least this large is preferred for a bump chunk over a cached small
/// block: compiled code then allocates many objects before it calls the runtime again.
const USEFUL_CHUNK: u32 = 1024;

impl FreeList {
    /// Free space `[start, limit)`.
    pub(crate) fn new(start: u32, limit: u32) -> Self {
        FreeList {
            by_start: BTreeMap::new(),
            by_size: BTreeSet::new(),
            largest: 0,
            frontier: start,
            high_water: start,
            limit,
            small: vec![Vec::new(); (SMALL_MAX / ALIGN) as usize],
            small_classes: 0,
            merge_scratch: Vec::new(),
            sort_scratch: Vec::new(),
        }
    }

    /// Allocates `size` bytes (a multiple of the alignment); the start, or `None` if
    /// nothing fits.
    pub(crate) fn alloc(&mut self, size: u32) -> Option<u32> {
        if let Some(start) = self.small_class(size).and_then(|c| self.pop_small(c)) {
            return Some(start);
        }
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
        self.high_water = self.high_water.max(end);
        Some(start)
    }

    fn push_small(&mut self, c: usize, start: u32) {
        self.small[c].push(start);
        self.small_classes |= 1 << c;
    }

    fn pop_small(&mut self, c: usize) -> Option<u32> {
        let start = self.small[c].pop();
        if self.small[c].is_empty() {
            self.small_classes &= !(1 << c);
        }
        start
    }

    fn small_class(&self, size: u32) -> Option<usize> {
        (ALIGN..=SMALL_MAX)
            .contains(&size)
            .then(|| (size / ALIGN - 1) as usize)
    }

    /// Frees `[start, start + size)`: small blocks go to their size class, others merge
    /// with free neighbours.
    pub(crate) fn free(&mut self, start: u32, size: u32) {
        match self.small_class(size) {
            Some(c) => self.push_small(c, start),
            None => self.free_coalescing(start, size),
        }
    }

    /// Returns every cached small block to the coalescing tree, merged with its free
    /// neighbours.
    pub(crate) fn flush_small(&mut self) {
        self.merge_cached(true);
    }

    /// Joins adjacent cached small blocks: a run larger than `SMALL_MAX` goes to the tree
    /// (merged with its tree neighbours), a smaller one back to its size class. Blocks that
    /// neighbour a tree block stay apart from it until the next `flush_small`.
    pub(crate) fn merge_small(&mut self) {
        self.merge_cached(false);
    }

    /// `flush_small` (`all`) or `merge_small`. The blocks are sorted and adjacent ones
    /// merged first, so the tree sees one insertion per run of free space, not one per
    /// block.
    fn merge_cached(&mut self, all: bool) {
        let mut blocks = std::mem::take(&mut self.merge_scratch);
        blocks.clear();
        self.small_classes = 0;
        for c in 0..self.small.len() {
            let size = (c as u32 + 1) * ALIGN;
            blocks.extend(
                self.small[c]
                    .drain(..)
                    .map(|start| u64::from(start) << 32 | u64::from(size)),
            );
        }
        sort_by_high_half(&mut blocks, &mut self.sort_scratch, self.high_water);
        let mut run: Option<(u32, u32)> = None;
        for &block in &blocks {
            let (start, size) = ((block >> 32) as u32, block as u32);
            run = match run {
                Some((s, len)) if s + len == start => Some((s, len + size)),
                Some((s, len)) => {
                    self.release_run(s, len, all);
                    Some((start, size))
                }
                None => Some((start, size)),
            };
        }
        if let Some((s, len)) = run {
            self.release_run(s, len, all);
        }
        self.merge_scratch = blocks;
    }

    /// Frees a run of merged cached blocks: to the tree if `all` or if it is not small, or
    /// at the frontier, else back to its size class.
    fn release_run(&mut self, start: u32, len: u32, all: bool) {
        match self.small_class(len) {
            Some(c) if !all && start + len != self.frontier => self.push_small(c, start),
            _ => self.free_coalescing(start, len),
        }
    }

    /// A block of free space for bump allocation, at least `min` and at most `max` bytes
    /// (multiples of the alignment). In order: the largest tree block if it holds
    /// `USEFUL_CHUNK` bytes, a cached small block (of the largest class cached up to
    /// `max`), the largest tree block, and the frontier, so that bumping reuses freed space
    /// first.
    pub(crate) fn alloc_chunk(&mut self, min: u32, max: u32) -> Option<(u32, u32)> {
        debug_assert_eq!(
            self.largest,
            self.by_size.last().map_or(0, |&(l, _)| l),
            "the largest tree block"
        );
        debug_assert!(
            (0..self.small.len())
                .all(|c| (self.small_classes >> c & 1 == 1) != self.small[c].is_empty()),
            "the cached classes"
        );
        if let Some(chunk) = self.chunk_from_tree(min.max(USEFUL_CHUNK.min(max)), max) {
            return Some(chunk);
        }
        if let Some(first) = self.small_class(min) {
            // Classes `first..end` hold blocks of `min` to `max` bytes: the largest cached.
            let end = self.small_class(max).map_or(self.small.len(), |c| c + 1);
            let wanted = self.small_classes & ((1u32 << end) - 1) & !((1u32 << first) - 1);
            if wanted != 0 {
                let c = (31 - wanted.leading_zeros()) as usize;
                let start = self.pop_small(c).expect("the class holds a block");
                return Some((start, (c as u32 + 1) * ALIGN));
            }
        }
        if let Some(chunk) = self.chunk_from_tree(min, max) {
            return Some(chunk);
        }
        let available = self.limit - self.frontier;
        if available < min {
            return None;
        }
        let take = available.min(max);
        let start = self.frontier;
        self.frontier += take;
        self.high_water = self.high_water.max(self.frontier);
        Some((start, take))
    }

    /// Up to `max` bytes from the largest tree block, if it holds at least `min`.
    fn chunk_from_tree(&mut self, min: u32, max: u32) -> Option<(u32, u32)> {
        if self.largest < min {
            return None;
        }
        let &(len, start) = self.by_size.last()?;
        let take = len.min(max);
        self.remove(start, len);
        if len > take {
            self.insert(start + take, len - take);
        }
        Some((start, take))
    }

    /// Frees `[start, start + size)`, merging it with free neighbours.
    fn free_coalescing(&mut self, mut start: u32, mut size: u32) {
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
        self.largest = self.largest.max(len);
    }

    fn remove(&mut self, start: u32, len: u32) {
        self.by_start.remove(&start);
        self.by_size.remove(&(len, start));
        if len == self.largest {
            self.largest = self.by_size.last().map_or(0, |&(l, _)| l);
        }
    }

    /// The first free block (start, length) starting at or after `pos`.
    pub(crate) fn next_free_block(&self, pos: u32) -> Option<(u32, u32)> {
        self.by_start.range(pos..).next().map(|(&s, &l)| (s, l))
    }

    /// Every free block below the frontier, `(start, length)`, in no particular order.
    pub(crate) fn blocks(&self) -> Vec<(u32, u32)> {
        let mut out: Vec<(u32, u32)> = self.by_start.iter().map(|(&s, &l)| (s, l)).collect();
        for (c, blocks) in self.small.iter().enumerate() {
            let size = (c as u32 + 1) * ALIGN;
            out.extend(blocks.iter().map(|&start| (start, size)));
        }
        out
    }

    /// Bytes below the frontier that are free.
    pub(crate) fn free_bytes(&self) -> u64 {
        self.by_start.values().map(|&l| u64::from(l)).sum::<u64>() + self.small_cached_bytes()
    }

    /// Bytes held in the small-block caches.
    fn small_cached_bytes(&self) -> u64 {
        self.small
            .iter()
            .enumerate()
            .map(|(c, blocks)| (c as u64 + 1) * u64::from(ALIGN) * blocks.len() as u64)
            .sum()
    }

    /// The highest the frontier has been: no allocation ever reached beyond it.
    pub(crate) fn high_water(&self) -> u32 {
        self.high_water
    }

    /// The frontier.
    pub(crate) fn frontier(&self) -> u32 {
        self.frontier
    }

    /// The end of the allocatable space.
    pub(crate) fn limit(&self) -> u32 {
        self.limit
    }

    /// Moves the end of the allocatable space up to `limit` (never down).
    pub(crate) fn raise_limit(&mut self, limit: u32) {
        self.limit = self.limit.max(limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_and_coalesces() {
        let mut f = FreeList::new(16, 16 + 1024);
        let a = f.alloc(32).unwrap();
        let b = f.alloc(32).unwrap();
        let c = f.alloc(32).unwrap();
        assert_eq!((a, b, c), (16, 48, 80));
        f.free(a, 32);
        f.free(b, 32);
        // Small blocks are cached by size: the next 32-byte request reuses b.
        assert_eq!(f.alloc(32), Some(b));
        f.free(b, 32);
        assert_eq!(f.free_bytes(), 64);
        // Flushed to the tree, a and b merge: a 64-byte request fits there.
        f.flush_small();
        assert_eq!(f.alloc(64), Some(16));
        f.free(16, 64);
        f.free(c, 32);
        f.flush_small();
        // Everything free again: the frontier is back at the start.
        assert_eq!(f.frontier(), 16);
        assert_eq!(f.free_bytes(), 0);
        // Large blocks coalesce at once.
        let big = f.alloc(512).unwrap();
        let next = f.alloc(512).unwrap();
        f.free(big, 512);
        f.free(next, 512);
        assert_eq!(f.frontier(), 16);
    }

    #[test]
    fn chunks_come_from_merged_free_space_before_the_frontier() {
        let mut f = FreeList::new(16, 16 + 4096);
        let blocks: Vec<u32> = (0..8).map(|_| f.alloc(64).unwrap()).collect();
        let _kept = f.alloc(64).unwrap();
        // Freed out of order, cached by size class: the merge joins them into one run,
        // larger than a small block, so it goes to the tree.
        for &b in blocks
            .iter()
            .rev()
            .step_by(2)
            .chain(blocks.iter().step_by(2))
        {
            f.free(b, 64);
        }
        f.merge_small();
        assert_eq!(f.alloc_chunk(128, 256), Some((16, 256)));
        assert_eq!(f.alloc_chunk(128, 1024), Some((16 + 256, 256)));
        // Nothing freed is large enough: the frontier.
        assert_eq!(f.alloc_chunk(128, 1024), Some((16 + 9 * 64, 1024)));
        assert_eq!(f.alloc_chunk(4096, 4096), None);
    }

    #[test]
    fn isolated_small_blocks_stay_cached_and_serve_as_chunks() {
        let mut f = FreeList::new(16, 16 + 4096);
        let blocks: Vec<u32> = (0..8).map(|_| f.alloc(32).unwrap()).collect();
        // Every other block freed: isolated, they stay in their class after a merge; two
        // neighbours freed together become one block of the next class.
        f.free(blocks[1], 32);
        f.free(blocks[3], 32);
        f.free(blocks[5], 32);
        f.free(blocks[6], 32);
        f.merge_small();
        assert_eq!(f.free_bytes(), 4 * 32);
        assert_eq!(f.next_free_block(0), None, "nothing went to the tree");
        // A chunk comes from the largest cached class first, with no tree work.
        assert_eq!(f.alloc_chunk(32, 1024), Some((blocks[5], 64)));
        assert_eq!(f.alloc(32), Some(blocks[3]));
        // A chunk larger than every cached block comes from the frontier.
        assert_eq!(f.alloc_chunk(64, 1024), Some((16 + 8 * 32, 1024)));
        // A cached block never makes a chunk larger than asked.
        f.free(blocks[5], 64);
        assert_eq!(f.alloc_chunk(32, 32), Some((blocks[1], 32)));
        assert_eq!(f.alloc_chunk(32, 32), Some((16 + 8 * 32 + 1024, 32)));
        // Flushing moves what is left to the tree.
        f.flush_small();
        assert_eq!(f.next_free_block(0), Some((blocks[5], 64)));
    }

    #[test]
    fn best_fit_splits_and_respects_the_limit() {
        let mut f = FreeList::new(0, 128);
        let a = f.alloc(64).unwrap();
        let _b = f.alloc(32).unwrap();
        f.free(a, 64);
        f.flush_small();
        assert_eq!(f.alloc(16), Some(0));
        assert_eq!(f.alloc(48), Some(16));
        assert_eq!(f.alloc(32), Some(96));
        assert_eq!(f.alloc(16), None);
        f.raise_limit(64);
        assert_eq!(f.limit(), 128, "the limit never goes down");
        f.raise_limit(160);
        assert_eq!(f.alloc(32), Some(128));
        assert_eq!(f.alloc_chunk(16, 16), None);
    }
}
