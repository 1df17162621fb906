//! The backup trace, which frees cycles, run in steps of bounded work.
//!
//! The roots need no list from the engine. Each object's count includes every counted
//! reference to it (tables, globals, element segments, host handles, other objects). So
//! after subtracting the references from other heap objects (trial deletion), an object left
//! with a positive count is held from outside the heap. Those objects and the stack roots
//! (uncounted frame references, flagged `STACK_ROOT` by the collection) are the roots. The
//! counts are then rebuilt from the survivors' references only, which releases the
//! garbage's references; a survivor left at count zero joins the ZCT. Unmarked objects are
//! garbage and are freed.
//!
//! Each call to [`Trace::run`] does at most a budget of work (objects visited; an array's
//! references count one unit per `CHILD_CHUNK` of them), so a collection's increments stay
//! bounded however large the heap or its arrays. Nothing else touches the
//! heap between increments: the collection borrows it.

use super::{DrcHeap, KIND, MARK, REF_COUNT, SIZE, STACK_ROOT};
use gc_core::DRC_LAYOUTS;
use gc_core::{ExternRefHostDataTable, VMGcRef};

/// Where a trace is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Listing the objects, in address order, from `walk`.
    Walk,
    /// Subtracting the references of `objects[next..]` from their children's counts.
    Subtract,
    /// Finding roots among `objects[next..]`.
    Roots,
    /// Marking from the worklist.
    Mark,
    /// Sorting `objects[next..]` into survivors (counts rebuilt, marks cleared) and garbage.
    Restore,
    /// Listing survivors left at count zero, from `survivors[next..]`.
    Requeue,
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
    /// Every object, in address order.
    objects: Vec<u32>,
    /// The position in the current step's list.
    next: usize,
    /// Where the current object's references resume (an array's are visited in chunks).
    child_from: u32,
    /// Objects to mark, with the reference position to continue from.
    worklist: Vec<(u32, u32)>,
    children: Vec<u32>,
    survivors: Vec<u32>,
    /// Unmarked objects, in address order.
    garbage: Vec<u32>,
}

fn object(raw: u32) -> VMGcRef {
    VMGcRef::from_raw(raw).expect("objects are above 0")
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
            children: Vec::new(),
            survivors: Vec::new(),
            garbage: Vec::new(),
        }
    }

    /// Does at most `budget` units of work; true when the trace is complete.
    pub(super) fn run(
        &mut self,
        heap: &mut DrcHeap,
        host_data: &mut ExternRefHostDataTable,
        mut budget: usize,
    ) -> bool {
        while budget > 0 {
            budget -= 1;
            match self.step {
                Step::Walk => self.walk_one(heap),
                Step::Subtract => self.subtract_one(heap),
                Step::Roots => self.root_one(heap),
                Step::Mark => self.mark_one(heap),
                Step::Restore => self.restore_one(heap),
                Step::Requeue => self.requeue_one(heap),
                Step::Free => {
                    let Some(&g) = self.garbage.get(self.next) else {
                        return true;
                    };
                    self.next += 1;
                    // References to survivors were not restored: free without cascading.
                    heap.write_u32(object(g), REF_COUNT, 0);
                    heap.unlink_object(object(g), host_data);
                }
            }
        }
        false
    }

    fn advance(&mut self, step: Step) {
        self.step = step;
        self.next = 0;
        self.child_from = 0;
    }

    /// Loads the current object's next chunk of references into `children`, and moves on
    /// to the next object once they are all visited.
    fn next_children(&mut self, heap: &DrcHeap, o: u32) {
        match heap.collect_children_chunk(o, self.child_from, &mut self.children) {
            Some(from) => self.child_from = from,
            None => {
                self.child_from = 0;
                self.next += 1;
            }
        }
    }

    fn walk_one(&mut self, heap: &DrcHeap) {
        let pos = self.walk;
        if pos >= heap.free.frontier() {
            self.advance(Step::Subtract);
            return;
        }
        if let Some((start, len)) = self.next_free
            && start == pos
        {
            self.walk += len;
            self.next_free = heap.free.next_free_block(self.walk);
            return;
        }
        self.objects.push(pos);
        let size = heap.read_u32(object(pos), SIZE);
        assert!(
            size >= DRC_LAYOUTS.header_size,
            "corrupt object size {size} at {pos:#x}"
        );
        self.walk += size;
    }

    fn subtract_one(&mut self, heap: &mut DrcHeap) {
        let Some(&o) = self.objects.get(self.next) else {
            self.advance(Step::Roots);
            return;
        };
        self.next_children(heap, o);
        for &c in &self.children {
            let count = heap.ref_count(object(c));
            assert!(
                count > 0,
                "object {c:#x} has more references than its count"
            );
            heap.write_u32(object(c), REF_COUNT, count - 1);
        }
    }

    /// Adds back the counts `children` took away.
    fn add_back_children(&self, heap: &mut DrcHeap) {
        for &c in &self.children {
            let count = heap.ref_count(object(c));
            heap.write_u32(object(c), REF_COUNT, count + 1);
        }
    }

    /// Undoes the subtraction of `o`'s references before position `until` (all of them
    /// for `u32::MAX`).
    fn add_back(&mut self, heap: &mut DrcHeap, o: u32, until: u32) {
        let mut from = 0;
        while from < until {
            let more = heap.collect_children_chunk(o, from, &mut self.children);
            self.add_back_children(heap);
            match more {
                Some(next) => from = next,
                None => break,
            }
        }
    }

    fn root_one(&mut self, heap: &DrcHeap) {
        let Some(&o) = self.objects.get(self.next) else {
            self.advance(Step::Mark);
            return;
        };
        self.next += 1;
        if heap.read_u32(object(o), KIND) & STACK_ROOT != 0 || heap.ref_count(object(o)) > 0 {
            self.worklist.push((o, 0));
        }
    }

    fn mark_one(&mut self, heap: &mut DrcHeap) {
        let Some((o, from)) = self.worklist.pop() else {
            self.advance(Step::Restore);
            return;
        };
        if from == 0 {
            let kind = heap.read_u32(object(o), KIND);
            if kind & MARK != 0 {
                return;
            }
            heap.write_u32(object(o), KIND, kind | MARK);
        }
        if let Some(next) = heap.collect_children_chunk(o, from, &mut self.children) {
            self.worklist.push((o, next));
        }
        self.worklist.extend(self.children.iter().map(|&c| (c, 0)));
    }

    fn restore_one(&mut self, heap: &mut DrcHeap) {
        let Some(&o) = self.objects.get(self.next) else {
            self.advance(Step::Requeue);
            return;
        };
        // On the first chunk of an object: garbage stays as it is, a survivor loses its
        // mark (later chunks of it come with `child_from` past 0).
        if self.child_from == 0 {
            let kind = heap.read_u32(object(o), KIND);
            if kind & MARK == 0 {
                self.garbage.push(o);
                self.next += 1;
                return;
            }
            heap.write_u32(object(o), KIND, kind & !MARK);
            self.survivors.push(o);
        }
        self.next_children(heap, o);
        self.add_back_children(heap);
    }

    fn requeue_one(&mut self, heap: &mut DrcHeap) {
        let Some(&o) = self.survivors.get(self.next) else {
            // The ZCT forgets the garbage before anything is freed: a panicking host
            // `Drop` then leaves a consistent heap. `garbage` is in address order.
            let garbage = &self.garbage;
            heap.zct.retain(|z| garbage.binary_search(z).is_err());
            self.advance(Step::Free);
            return;
        };
        self.next += 1;
        // A survivor only the garbage referenced is now at zero: a candidate again.
        if heap.ref_count(object(o)) == 0 {
            heap.zct_push(object(o));
        }
    }

    /// Leaves the heap consistent when the collection is dropped before the trace ends.
    ///
    /// Before the counts are rebuilt, the trace is undone: counts restored, marks cleared.
    /// From then on it is finished, except that the host values of the remaining garbage
    /// are not dropped here (a `Drop` may panic, and this may run while unwinding): they
    /// are queued on the heap for the next collection.
    pub(super) fn abandon(mut self, heap: &mut DrcHeap) {
        match self.step {
            Step::Walk => {}
            Step::Subtract => {
                for i in 0..self.next {
                    self.add_back(heap, self.objects[i], u32::MAX);
                }
                if let Some(&o) = self.objects.get(self.next) {
                    self.add_back(heap, o, self.child_from);
                }
            }
            Step::Roots | Step::Mark => {
                for i in 0..self.objects.len() {
                    let o = self.objects[i];
                    self.add_back(heap, o, u32::MAX);
                    let kind = heap.read_u32(object(o), KIND);
                    heap.write_u32(object(o), KIND, kind & !MARK);
                }
            }
            Step::Restore | Step::Requeue | Step::Free => {
                while self.step != Step::Free {
                    match self.step {
                        Step::Restore => self.restore_one(heap),
                        _ => self.requeue_one(heap),
                    }
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
