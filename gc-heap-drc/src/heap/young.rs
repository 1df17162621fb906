//! The young generation: objects born uncounted, and the young collection that promotes
//! the reachable ones and frees the rest without visiting them.
//!
//! Every struct, array and exception starts young (`DrcHeader::YOUNG`): it is listed
//! nowhere, the references in its fields are not counted, and stores into it are plain
//! stores. Its own count is kept like any object's: the counted references to it (from
//! old objects, tables, globals, segments and host handles). A young object whose count
//! becomes non-zero is put in the young log, once (`DrcHeader::LOGGED`), by the barrier
//! that counted it.
//!
//! The young collection runs first in every collection. Its roots are the young objects
//! Wasm frames hold and the logged ones still counted; it marks through young-to-young
//! references and promotes what it reaches: the object's fields become counted (each
//! referent's count goes up), the young bit is cleared, and an object left at count zero
//! (held by a frame only) joins the zero-count table like any old object. Everything else
//! in the young ranges (the bump chunks used since the last young collection) is garbage:
//! the ranges are freed in bulk around the survivors, sorted by address, and no dead young
//! object is read. The freed space becomes holes, from which the next bump chunks are cut
//! in address order. Since dead young objects hold no counted references, nothing needs
//! releasing. Young objects allocated outside a chunk (larger than a chunk holds) are few
//! and large; those left young are freed one by one.
//!
//! Invariant (checked after each collection in debug builds, `DrcHeap::check_invariants`):
//! between collections, an object's count is the number of counted references to it, where
//! counted means held by an old object's field, a table, a global, a segment or a host
//! handle; a young object with a non-zero count is logged; an old object with count zero
//! is in the zero-count table. After a collection completes no object is young.
//!
//! The collection works in bounded units, like the rest (one root, one object, one range),
//! except that promoting an array counts all of its references at once: work in
//! proportion to what the program did to fill it. A collection dropped while marking
//! clears its marks and logs the objects it had reached but not promoted (a promoted
//! parent counted them); promoted objects stay promoted and the next young collection
//! starts over from its roots. Dropped while sweeping, the ranges not yet swept stay for
//! the next one.

use super::{DrcHeap, KIND, REF_COUNT, SIZE, TYPE, visit_children};
use crate::radix::{sort_offsets, sort_pairs};
use gc_core::{DrcHeader, VMGcRef};

/// Collector bit in the kind word: the object is young.
pub(super) const YOUNG: u32 = DrcHeader::YOUNG;
/// Collector bit in the kind word: the young object is in the young log.
pub(super) const LOGGED: u32 = DrcHeader::LOGGED;
/// Collector bit in the kind word: reached by the young collection in progress, not yet
/// promoted (on its worklist).
pub(super) const YOUNG_MARK: u32 = 32;

/// The smallest hole bump chunks are cut from: smaller free space between survivors goes
/// to the free list, since a chunk that holds an object or two would send compiled code to
/// the runtime for nearly every allocation.
pub(super) const MIN_HOLE: u32 = 2 << 10;

/// The young objects since the last young collection, and what the collection needs to
/// find and free them.
#[derive(Debug, Default)]
pub(super) struct YoungSpace {
    /// The used parts of retired bump chunks, `(start, end)`: every young object but the
    /// large ones lies in one of these (or in the current chunk).
    pub(super) ranges: Vec<(u32, u32)>,
    /// Young objects allocated outside a bump chunk.
    pub(super) large: Vec<u32>,
    /// Young objects with a non-zero count, each with `LOGGED` set: the young
    /// collection's roots besides the frames. Entries promoted since are skipped.
    pub(super) log: Vec<u32>,
    /// Objects inside `ranges` that are not young, which the sweep keeps: objects promoted
    /// by this or an abandoned young collection, and `externref` objects (counted from
    /// birth). Promoted large objects may be listed too, and after an abandoned sweep
    /// objects of ranges already swept; the sweep skips what lies outside its ranges. Every
    /// entry is a live object: nothing is freed before a young collection completes, and
    /// completing clears the list.
    pub(super) kept: Vec<u32>,
    /// Bytes of the retired ranges and the large young objects: with the current chunk's
    /// used part, the young bytes allocated since the last young collection.
    pub(super) bytes: u64,
    /// Bytes of the objects in `kept` and of the promoted large objects: when they are all
    /// of `bytes`, nothing died and the sweep has nothing to do.
    pub(super) kept_bytes: u64,
    /// Free space the young collections left between survivors, `(start, length)` in
    /// address order, not in the free list: new bump chunks are cut from these holes in
    /// order, so allocation sweeps through the freed space the way it was laid out.
    /// Entries may have length zero.
    pub(super) holes: Vec<(u32, u32)>,
    /// The first hole not yet tried for a chunk (holes before it were too small).
    pub(super) hole_next: usize,
    /// Young collections completed.
    pub(super) collections: u64,
}

impl YoungSpace {
    /// Forgets everything (the heap is being emptied).
    pub(super) fn clear(&mut self) {
        self.ranges.clear();
        self.large.clear();
        self.log.clear();
        self.kept.clear();
        self.bytes = 0;
        self.kept_bytes = 0;
        self.holes.clear();
        self.hole_next = 0;
    }

    /// Bytes in the holes.
    pub(super) fn hole_bytes(&self) -> u64 {
        self.holes.iter().map(|&(_, len)| u64::from(len)).sum()
    }
}

impl DrcHeap {
    /// Promotes young object `r` between collections (it becomes an `externref`, and
    /// `externref`s are never young): its fields become counted, and its young referents,
    /// now counted, are logged.
    pub(super) fn promote_now(&mut self, r: VMGcRef) {
        let kind = self.read_u32(r, KIND);
        debug_assert_eq!(kind & YOUNG_MARK, 0, "no young collection is in progress");
        self.write_u32(r, KIND, kind & !(YOUNG | LOGGED));
        let ty = self.read_u32(r, TYPE);
        let mut from = 0;
        let mut children = std::mem::take(&mut self.children_scratch);
        loop {
            children.clear();
            let more = visit_children(self, r.as_raw(), ty, from, |_, c| children.push(c));
            for &c in &children {
                let c = object(c);
                let count = self.ref_count(c);
                self.write_u32(
                    c,
                    REF_COUNT,
                    count.checked_add(1).expect("reference count overflow"),
                );
                let kind = self.read_u32(c, KIND);
                self.log_young(c, kind);
            }
            match more {
                Some(next) => from = next,
                None => break,
            }
        }
        self.children_scratch = children;
        let size = u64::from(self.read_u32(r, SIZE));
        self.live_objects += 1;
        self.bytes_in_use += size;
        // Inside a young range (or a large young object, which the sweep skips here).
        self.young.kept.push(r.as_raw());
        self.young.kept_bytes += size;
        if self.ref_count(r) == 0 {
            self.zct_push(r);
        }
    }
}

/// Where a young collection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Marking the logged objects still counted, from `log[next..]`.
    Log,
    /// Promoting the objects on the worklist.
    Mark,
    /// Freeing the garbage in `ranges[next..]` around the kept objects from
    /// `kept[kept_next..]`.
    Sweep,
    /// Freeing the large objects left young, from `large[next..]`.
    Large,
}

/// A young collection in progress.
pub(super) struct YoungCollection {
    step: Step,
    /// Whether the sweep walks the ranges' objects instead of sorting the kept ones: when
    /// most young bytes survived, reading the few dead objects' headers costs less than
    /// the sort.
    walk: bool,
    next: usize,
    kept_next: usize,
    /// Reached, not yet promoted: young objects with `YOUNG_MARK` set.
    worklist: Vec<u32>,
    /// The free space the sweep found so far, in address order.
    gaps: Vec<(u32, u32)>,
    /// Working space for sorting the ranges and the kept objects.
    sort_words: Vec<u64>,
    promoted_objects: u64,
    promoted_bytes: u64,
}

/// How many young-log entries ahead the collection prefetches headers.
const LOG_PREFETCH: usize = 8;

fn object(raw: u32) -> VMGcRef {
    VMGcRef::from_raw(raw).expect("objects are above 0")
}

impl YoungCollection {
    /// Starts a young collection whose frame-held objects are `stack_roots`. The current
    /// bump chunk must be retired already, so that every young object lies in a range.
    pub(super) fn start(heap: &mut DrcHeap, stack_roots: &[u32]) -> YoungCollection {
        debug_assert_eq!(heap.chunk_end, 0, "the bump chunk is retired");
        let mut c = YoungCollection {
            step: Step::Log,
            walk: false,
            next: 0,
            kept_next: 0,
            worklist: Vec::new(),
            gaps: Vec::new(),
            sort_words: Vec::new(),
            promoted_objects: 0,
            promoted_bytes: 0,
        };
        for &r in stack_roots {
            c.reach(heap, r);
        }
        c
    }

    /// Marks `r`, whose kind word is `kind`, if it is young and not marked yet; true if so.
    fn mark(heap: &mut DrcHeap, r: u32, kind: u32) -> bool {
        let unmarked = kind & (YOUNG | YOUNG_MARK) == YOUNG;
        if unmarked {
            heap.write_u32(object(r), KIND, kind | YOUNG_MARK);
        }
        unmarked
    }

    /// Marks `r` and puts it on the worklist if it is young and not marked yet.
    fn reach(&mut self, heap: &mut DrcHeap, r: u32) {
        let kind = heap.read_u32(object(r), KIND);
        if Self::mark(heap, r, kind) {
            self.worklist.push(r);
        }
    }

    /// Does about `budget` units of work, charging them (moving from one step to the next
    /// is free); true when the collection is complete.
    pub(super) fn run(&mut self, heap: &mut DrcHeap, budget: &mut usize) -> bool {
        loop {
            if *budget == 0 {
                return false;
            }
            match self.step {
                Step::Log => {
                    // Logged objects are scattered: fetch a header a few entries ahead.
                    if let Some(&ahead) = heap.young.log.get(self.next + LOG_PREFETCH) {
                        heap.region.prefetch(ahead);
                    }
                    let Some(&r) = heap.young.log.get(self.next) else {
                        self.step = Step::Mark;
                        continue;
                    };
                    self.next += 1;
                    let [kind, _, count, _] = heap.header_words(object(r));
                    // Promoted at once, without a trip through the worklist.
                    if count > 0 && Self::mark(heap, r, kind) {
                        let units = 1 + self.promote(heap, r);
                        *budget = budget.saturating_sub(units);
                    } else {
                        *budget -= 1;
                    }
                }
                Step::Mark => {
                    let Some(o) = self.worklist.pop() else {
                        self.start_sweep(heap);
                        continue;
                    };
                    let units = 1 + self.promote(heap, o);
                    *budget = budget.saturating_sub(units);
                }
                Step::Sweep => {
                    let Some(&range) = heap.young.ranges.get(self.next) else {
                        self.release_gaps(heap);
                        self.step = Step::Large;
                        self.next = 0;
                        continue;
                    };
                    self.next += 1;
                    let units = 1 + self.sweep_range(heap, range);
                    *budget = budget.saturating_sub(units);
                }
                Step::Large => {
                    let Some(&l) = heap.young.large.get(self.next) else {
                        self.finish(heap);
                        return true;
                    };
                    *budget -= 1;
                    self.next += 1;
                    let kind = heap.read_u32(object(l), KIND);
                    if kind & YOUNG != 0 {
                        let size = heap.read_u32(object(l), SIZE);
                        // Poison the header so stale references fail loudly.
                        heap.write_u32(object(l), KIND, 0);
                        heap.free.free(l, size);
                    }
                }
            }
        }
    }

    /// Promotes `o`: counts the references in its fields (marking the young ones, one
    /// header read each), clears its young bits and lists it as kept. Returns the units of
    /// work it took beyond one (an array's references, per `child_chunk`).
    fn promote(&mut self, heap: &mut DrcHeap, o: u32) -> usize {
        let r = object(o);
        let [kind, ty, _, size] = heap.header_words(r);
        let worklist = &mut self.worklist;
        let mut from = 0;
        let mut units = 0;
        while let Some(next) = visit_children(heap, o, ty, from, |region, c| {
            let child = object(c);
            let [kind, _, count, _] = region.read_words(child);
            let count = count.checked_add(1).expect("reference count overflow");
            region.write_u32(child, REF_COUNT, count);
            if kind & (YOUNG | YOUNG_MARK) == YOUNG {
                region.write_u32(child, KIND, kind | YOUNG_MARK);
                worklist.push(c);
            }
        }) {
            from = next;
            units += 1;
        }
        units + self.finish_promotion(heap, r, kind, size)
    }

    /// Clears promoted object `r`'s young bits (its kind word is `kind`, its size `size`)
    /// and lists it as kept; no further units of work.
    fn finish_promotion(&mut self, heap: &mut DrcHeap, r: VMGcRef, kind: u32, size: u32) -> usize {
        heap.write_u32(r, KIND, kind & !(YOUNG | YOUNG_MARK | LOGGED));
        heap.live_objects += 1;
        heap.bytes_in_use += u64::from(size);
        self.promoted_objects += 1;
        self.promoted_bytes += u64::from(size);
        heap.young.kept.push(r.as_raw());
        heap.young.kept_bytes += u64::from(size);
        // Read again: a reference to itself among its fields counted it.
        if heap.ref_count(r) == 0 {
            // Held by a frame only: an old object at zero, so a zero-count candidate.
            heap.zct_push(r);
        }
        0
    }

    /// Every reachable young object is promoted: the log has served, and the sweep needs
    /// the ranges and the kept objects in address order.
    fn start_sweep(&mut self, heap: &mut DrcHeap) {
        let young = &mut heap.young;
        young.log.clear();
        if young.kept_bytes >= young.bytes {
            // Everything survived: no garbage to free.
            young.ranges.clear();
            young.large.clear();
            self.step = Step::Large;
            self.next = 0;
            return;
        }
        self.walk = self.promoted_bytes * 2 >= young.bytes;
        let limit = heap.free.high_water();
        let young = &mut heap.young;
        if !self.walk {
            sort_offsets(&mut young.kept, &mut self.sort_words, limit);
        }
        sort_pairs(&mut young.ranges, &mut self.sort_words, limit);
        // Chunks cut one after another from a free block are adjacent: merge them, so the
        // garbage between survivors is freed in as few blocks as possible.
        young.ranges.dedup_by(|next, prev| {
            if prev.1 == next.0 {
                prev.1 = next.1;
                true
            } else {
                false
            }
        });
        self.step = Step::Sweep;
        self.next = 0;
        self.kept_next = 0;
    }

    /// Frees the space of `(start, end)` outside its kept objects; returns the units of
    /// work beyond one (one per kept object, or per 16 objects walked).
    fn sweep_range(&mut self, heap: &mut DrcHeap, range: (u32, u32)) -> usize {
        if self.walk {
            return self.walk_range(heap, range);
        }
        self.sweep_range_sorted(heap, range)
    }

    /// `sweep_range` by walking the objects of the range: the young ones are garbage.
    fn walk_range(&mut self, heap: &DrcHeap, range: (u32, u32)) -> usize {
        let mut gap: Option<(u32, u32)> = None;
        let mut objects = 0;
        let gaps = &mut self.gaps;
        heap.for_each_object_in(range, |pos, size| {
            objects += 1;
            if heap.read_u32(object(pos), KIND) & YOUNG != 0 {
                gap = Some(match gap {
                    Some((s, l)) => (s, l + size),
                    None => (pos, size),
                });
            } else if let Some(g) = gap.take() {
                gaps.push(g);
            }
        });
        gaps.extend(gap);
        objects / 16
    }

    /// `sweep_range` around the kept objects, in address order from `kept_next`.
    fn sweep_range_sorted(&mut self, heap: &mut DrcHeap, (start, end): (u32, u32)) -> usize {
        let mut pos = start;
        let mut units = 0;
        while let Some(&k) = heap.young.kept.get(self.kept_next) {
            if k >= end {
                break;
            }
            self.kept_next += 1;
            if k < start {
                // A promoted large object, outside every range.
                continue;
            }
            units += 1;
            assert!(k >= pos, "kept object {k:#x} overlaps its predecessor");
            if k > pos {
                self.gaps.push((pos, k - pos));
            }
            let size = heap.read_u32(object(k), SIZE);
            pos = k + size;
            assert!(
                size >= gc_core::DRC_LAYOUTS.header_size && pos <= end,
                "corrupt object size {size} at {k:#x}"
            );
        }
        if pos < end {
            self.gaps.push((pos, end - pos));
        }
        units
    }

    /// Makes the gaps found so far holes: merged with the holes left (both are in address
    /// order and disjoint), adjacent ones joined; runs smaller than `MIN_HOLE` go to the
    /// free list.
    fn release_gaps(&mut self, heap: &mut DrcHeap) {
        let old = std::mem::take(&mut heap.young.holes);
        let mut merged = Vec::with_capacity(old.len() + self.gaps.len());
        let (mut a, mut b) = (old.into_iter().peekable(), self.gaps.drain(..).peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x.0 <= y.0 => a.next(),
                (Some(_), Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => break,
            };
            let Some((start, len)) = next.filter(|&(_, len)| len > 0) else {
                continue;
            };
            match merged.last_mut() {
                Some((s, l)) if *s + *l == start => *l += len,
                Some(&mut (s, l)) => {
                    assert!(s + l < start, "overlapping free space at {start:#x}");
                    merged.push((start, len));
                }
                None => merged.push((start, len)),
            }
        }
        merged.retain(|&(start, len)| {
            let keep = len >= MIN_HOLE;
            if !keep {
                heap.free.free(start, len);
            }
            keep
        });
        heap.young.holes = merged;
        heap.young.hole_next = 0;
    }

    fn finish(&mut self, heap: &mut DrcHeap) {
        let young = &mut heap.young;
        let swept = young.bytes;
        young.ranges.clear();
        young.kept.clear();
        young.large.clear();
        young.bytes = 0;
        young.kept_bytes = 0;
        young.collections += 1;
        log::trace!(
            "gc: young collection {}: {} of {swept} young bytes promoted ({} objects, {}); \
             {} holes",
            young.collections,
            self.promoted_bytes,
            self.promoted_objects,
            if self.walk { "walked" } else { "sorted" },
            young.holes.len()
        );
    }

    /// Leaves the heap consistent when the collection is dropped before it completes.
    pub(super) fn abandon(mut self, heap: &mut DrcHeap) {
        match self.step {
            Step::Log | Step::Mark => {
                // Reached but not promoted: still young. A promoted parent may have counted
                // it, and the log must then hold it.
                for &r in &self.worklist {
                    let kind = heap.read_u32(object(r), KIND) & !YOUNG_MARK;
                    if kind & LOGGED == 0 && heap.ref_count(object(r)) > 0 {
                        heap.write_u32(object(r), KIND, kind | LOGGED);
                        heap.young.log.push(r);
                    } else {
                        heap.write_u32(object(r), KIND, kind);
                    }
                }
            }
            Step::Sweep => {
                self.release_gaps(heap);
                heap.young.ranges.drain(..self.next);
                heap.young.kept.drain(..self.kept_next);
            }
            Step::Large => {
                heap.young.ranges.clear();
                heap.young.kept.clear();
                heap.young.large.drain(..self.next);
            }
        }
    }
}
