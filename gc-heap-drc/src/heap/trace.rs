//! The backup trace, which frees cycles, run in steps of bounded work.
//!
//! The roots need no list from the engine. Each object's count includes every counted
//! reference to it (tables, globals, element segments, host handles, other objects). So
//! after subtracting the references from other heap objects (trial deletion), an object left
//! with a positive count is held from outside the heap. Those objects and the stack roots
//! (uncounted frame references, flagged `STACK_ROOT` by the collection) are the roots.
//! Marking rebuilds the counts from the survivors' references only (each marked object
//! gives its children their counts back), which releases the garbage's references; a
//! survivor left at count zero joins the ZCT. Unmarked objects are garbage and are freed.
//!
//! Each object's references are visited twice: once by the walk that lists it (subtracting),
//! once when it is marked (giving back). The sweep reads headers only.
//!
//! Each call to [`Trace::run`] does at most a budget of work (objects visited; an array's
//! references count one unit per `CHILD_CHUNK` of them), so a collection's increments stay
//! bounded however large the heap or its arrays. Nothing else touches the
//! heap between increments: the collection borrows it.

use super::{DrcHeap, KIND, MARK, REF_COUNT, STACK_ROOT, TYPE, visit_children};
use crate::region::Region;
use gc_core::DRC_LAYOUTS;
use gc_core::{ExternRefHostDataTable, VMGcRef};

/// Where a trace is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Listing the objects, in address order, from `walk`, and subtracting each one's
    /// references from its children's counts as it is listed.
    Walk,
    /// Marking: from the worklist while it has entries, else from the next root among
    /// `objects[next..]` (a stack root, or an object whose count is positive). Marking an
    /// object gives its children back the counts the walk took: a survivor's references
    /// are counted again, the garbage's stay subtracted. (A count given back can make an
    /// object look like a root, but only an object a marked one holds, live anyway.)
    Mark,
    /// Sorting `objects[next..]` into survivors (marks cleared; one left at count zero
    /// joins the ZCT, a candidate again) and garbage.
    Sweep,
    /// Freeing `garbage[next..]`.
    Free,
}

/// A backup trace in progress.
pub(super) struct Trace {
    step: Step,
    /// The walk's position in the heap.
    walk: u32,
    /// The first free block at or after `walk`, if any (looked up once per block).
    next_free: Option<(u32, u32)>,
    /// Every object, in address order. While walking, all but the last have had their
    /// references subtracted; the last has too unless `child_from` is past 0.
    objects: Vec<u32>,
    /// The position in the current step's list.
    next: usize,
    /// Where the current object's references resume (an array's are visited in chunks).
    child_from: u32,
    /// Objects to mark, with the reference position to continue from.
    worklist: Vec<(u32, u32)>,
    /// Unmarked objects, in address order.
    garbage: Vec<u32>,
}

/// How many worklist entries ahead marking prefetches headers.
const MARK_PREFETCH: usize = 8;

fn object(raw: u32) -> VMGcRef {
    VMGcRef::from_raw(raw).expect("objects are above 0")
}

/// Takes one from the count of `c`, a child of another heap object.
fn subtract(region: &mut Region, c: u32) {
    let count = region.read_u32(object(c), REF_COUNT);
    assert!(
        count > 0,
        "object {c:#x} has more references than its count"
    );
    region.write_u32(object(c), REF_COUNT, count - 1);
}

/// Gives back the one `subtract` took.
fn add_back(region: &mut Region, c: u32) {
    let count = region.read_u32(object(c), REF_COUNT);
    region.write_u32(object(c), REF_COUNT, count + 1);
}

impl Trace {
    /// Starts a trace: the bump chunk's unused tail and the cached small blocks go back to
    /// the free tree, where the walk recognises free space (and fragmentation is bounded).
    pub(super) fn start(heap: &mut DrcHeap) -> Trace {
        heap.traces += 1;
        heap.retire_chunk();
        heap.release_holes();
        heap.free.flush_small();
        Trace {
            step: Step::Walk,
            walk: heap.first_object,
            next_free: heap.free.next_free_block(heap.first_object),
            objects: Vec::with_capacity(heap.live_objects),
            next: 0,
            child_from: 0,
            worklist: Vec::new(),
            garbage: Vec::new(),
        }
    }

    /// Does at most `budget` units of work (each step's loop counts its own); true when the
    /// trace is complete.
    pub(super) fn run(
        &mut self,
        heap: &mut DrcHeap,
        host_data: &mut ExternRefHostDataTable,
        mut budget: usize,
    ) -> bool {
        while budget > 0 {
            let used = match self.step {
                Step::Walk => self.walk(heap, budget),
                Step::Mark => self.mark(heap, budget),
                Step::Sweep => self.sweep(heap, budget),
                Step::Free => {
                    if self.free(heap, host_data, &mut budget) {
                        return true;
                    }
                    continue;
                }
            };
            budget -= used.min(budget);
        }
        false
    }

    fn advance(&mut self, step: Step) {
        self.step = step;
        self.next = 0;
        self.child_from = 0;
    }

    /// Walks at most `budget` objects or free blocks; returns the units used.
    fn walk(&mut self, heap: &mut DrcHeap, budget: usize) -> usize {
        let frontier = heap.free.frontier();
        let mut used = 0;
        while used < budget {
            used += 1;
            if self.child_from > 0 {
                // The rest of an array listed last.
                let o = *self.objects.last().expect("an object is being walked");
                let ty = heap.read_u32(object(o), TYPE);
                self.child_from =
                    visit_children(heap, o, ty, self.child_from, subtract).unwrap_or(0);
                continue;
            }
            let pos = self.walk;
            if pos >= frontier {
                self.advance(Step::Mark);
                return used;
            }
            if let Some((start, len)) = self.next_free
                && start == pos
            {
                self.walk += len;
                self.next_free = heap.free.next_free_block(self.walk);
                continue;
            }
            let [_, ty, _, size] = heap.header_words(object(pos));
            assert!(
                size >= DRC_LAYOUTS.header_size,
                "corrupt object size {size} at {pos:#x}"
            );
            self.walk += size;
            self.objects.push(pos);
            self.child_from = visit_children(heap, pos, ty, 0, subtract).unwrap_or(0);
        }
        used
    }

    /// Marks from at most `budget` worklist entries or root candidates; returns the units
    /// used. An object is marked when it is put on the worklist, so it is put there once.
    fn mark(&mut self, heap: &mut DrcHeap, budget: usize) -> usize {
        let mut used = 0;
        while used < budget {
            used += 1;
            // Worklist entries are scattered: fetch a header a few entries ahead.
            if let Some(i) = self.worklist.len().checked_sub(MARK_PREFETCH) {
                heap.region.prefetch(self.worklist[i].0);
            }
            let (o, from) = match self.worklist.pop() {
                Some(entry) => entry,
                None => {
                    let Some(&o) = self.objects.get(self.next) else {
                        self.advance(Step::Sweep);
                        return used;
                    };
                    self.next += 1;
                    let [kind, _, count, _] = heap.header_words(object(o));
                    if kind & MARK != 0 || (kind & STACK_ROOT == 0 && count == 0) {
                        continue;
                    }
                    heap.write_u32(object(o), KIND, kind | MARK);
                    (o, 0)
                }
            };
            let ty = heap.read_u32(object(o), TYPE);
            let worklist = &mut self.worklist;
            let at = worklist.len();
            let more = visit_children(heap, o, ty, from, |region, c| {
                let child = object(c);
                let [kind, _, count, _] = region.read_words(child);
                region.write_u32(child, REF_COUNT, count + 1);
                if kind & MARK == 0 {
                    region.write_u32(child, KIND, kind | MARK);
                    worklist.push((c, 0));
                }
            });
            if let Some(next) = more {
                // The rest of the array after the children of this chunk.
                worklist.insert(at, (o, next));
            }
        }
        used
    }

    /// Sweeps at most `budget` objects; returns the units used.
    fn sweep(&mut self, heap: &mut DrcHeap, budget: usize) -> usize {
        let mut used = 0;
        while used < budget {
            used += 1;
            let Some(&o) = self.objects.get(self.next) else {
                // The ZCT forgets the garbage before anything is freed: a panicking host
                // `Drop` then leaves a consistent heap. `garbage` is in address order.
                let garbage = &self.garbage;
                heap.zct.retain(|z| garbage.binary_search(z).is_err());
                self.advance(Step::Free);
                return used;
            };
            self.next += 1;
            let [kind, _, count, _] = heap.header_words(object(o));
            if kind & MARK == 0 {
                self.garbage.push(o);
                continue;
            }
            heap.write_u32(object(o), KIND, kind & !MARK);
            // A survivor only the garbage referenced is now at zero: a candidate again.
            if count == 0 {
                heap.zct_push(object(o));
            }
        }
        used
    }

    /// Frees garbage while `budget` lasts; true when all is freed. Each object is taken
    /// off the list before its host value's `Drop` runs (which may panic).
    fn free(
        &mut self,
        heap: &mut DrcHeap,
        host_data: &mut ExternRefHostDataTable,
        budget: &mut usize,
    ) -> bool {
        while *budget > 0 {
            *budget -= 1;
            let Some(&g) = self.garbage.get(self.next) else {
                return true;
            };
            self.next += 1;
            // References to survivors were not restored: free without cascading.
            heap.write_u32(object(g), REF_COUNT, 0);
            heap.unlink_object(object(g), host_data);
        }
        false
    }

    /// Undoes the subtraction of `o`'s references from position `from` on.
    fn add_back_from(heap: &mut DrcHeap, o: u32, mut from: u32) {
        let ty = heap.read_u32(object(o), TYPE);
        while let Some(next) = visit_children(heap, o, ty, from, add_back) {
            from = next;
        }
    }

    /// Undoes the subtraction of `o`'s references before position `until` (all of them
    /// for `u32::MAX`).
    fn add_back_until(heap: &mut DrcHeap, o: u32, until: u32) {
        let ty = heap.read_u32(object(o), TYPE);
        let mut from = 0;
        while from < until {
            match visit_children(heap, o, ty, from, add_back) {
                Some(next) => from = next,
                None => break,
            }
        }
    }

    /// Leaves the heap consistent when the collection is dropped before the trace ends.
    ///
    /// Before the sweep, the trace is undone: the counts marking has not given back yet
    /// are restored, and marks cleared. From the sweep on it is finished, except that the host values of the remaining garbage
    /// are not dropped here (a `Drop` may panic, and this may run while unwinding): they
    /// are queued on the heap for the next collection.
    pub(super) fn abandon(mut self, heap: &mut DrcHeap) {
        match self.step {
            Step::Walk => {
                let partial = self.child_from > 0;
                let done = self.objects.len() - usize::from(partial);
                for &o in &self.objects[..done] {
                    Self::add_back_until(heap, o, u32::MAX);
                }
                if partial {
                    Self::add_back_until(heap, self.objects[done], self.child_from);
                }
            }
            Step::Mark => {
                // A marked object's children have their counts back, except those from
                // the position of its worklist entry on (all of them for an entry at 0,
                // one not visited yet; an array's continuation from its next chunk); an
                // unmarked object's have not.
                let mut pending = std::mem::take(&mut self.worklist);
                pending.sort_unstable();
                for &o in &self.objects {
                    let kind = heap.read_u32(object(o), KIND);
                    if kind & MARK == 0 {
                        Self::add_back_until(heap, o, u32::MAX);
                        continue;
                    }
                    heap.write_u32(object(o), KIND, kind & !MARK);
                    if let Ok(i) = pending.binary_search_by_key(&o, |&(p, _)| p) {
                        Self::add_back_from(heap, o, pending[i].1);
                    }
                }
            }
            Step::Sweep | Step::Free => {
                if self.step == Step::Sweep {
                    self.sweep(heap, usize::MAX);
                }
                for &g in &self.garbage[self.next..] {
                    heap.write_u32(object(g), REF_COUNT, 0);
                    if let Some(id) = heap.unlink_object_keeping_host_data(object(g)) {
                        heap.deferred_host_drops.push(id);
                    }
                }
            }
        }
    }
}
