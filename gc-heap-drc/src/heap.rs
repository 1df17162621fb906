//! `DrcHeap`: objects in one reserved region, counted references, a zero-count table, and
//! a young generation whose objects are born uncounted.
//!
//! Objects are laid out as `gc_core::DrcHeader` says (kind, type, count, size; an
//! `externref` then holds its host-data id, `gc_core::DrcExternRef`); index 0 is null.
//!
//! Small objects are bump-allocated from a zeroed chunk of free space (by compiled code
//! inline, or by `alloc_raw`), see `gc_core::GcBumpLayout`; the cursor lives at
//! `CURSOR` in the heap's first object slot, where no object is. Beside it lies the barrier
//! log's cursor (`gc_core::DrcHeader::LOG_CURSOR_OFFSET`): barriers append the young
//! objects they log and the objects whose count reached zero to a buffer just above the
//! first slot, and `drain_log` moves them to the young log and the ZCT. New structs, arrays and
//! exceptions are young (`heap/young.rs`): listed nowhere, their fields uncounted, freed in
//! bulk by the young collection that starts every collection unless it promotes them.
//! `externref` objects are counted from birth, so that host values are dropped promptly.
//!
//! References held by Wasm frames are not counted (deferred reference counting). An old
//! object whose count drops to zero is not freed at once: it goes to the zero-count table
//! (ZCT), and a collection frees the ZCT entries that no Wasm frame holds, as found by
//! walking the frames with stack maps. So reads of references (`table.get`, `global.get`,
//! field loads) need no barrier at all.

mod trace;
mod young;

use crate::free_list::FreeList;
use crate::region::Region;
use anyhow::{Result, bail};
use gc_core::{
    DRC_LAYOUTS, DrcHeader, ExternRefHostDataId, ExternRefHostDataTable, GarbageCollection, GcHeap,
    GcHeapConfig, GcProgress, GcRootsIter, GcTypeTrace, VMGcHeader, VMGcKind, VMGcRef,
};
use trace::Trace;
use young::{LOGGED, YOUNG, YOUNG_MARK, YoungCollection, YoungSpace};

// Header offsets, from the one definition of the layout.
const KIND: usize = VMGcHeader::KIND_OFFSET as usize;
const TYPE: usize = VMGcHeader::TYPE_OFFSET as usize;
const REF_COUNT: usize = DrcHeader::REF_COUNT_OFFSET as usize;
const SIZE: usize = DrcHeader::SIZE_OFFSET as usize;
const HOST_DATA: usize = DRC_LAYOUTS.externref_host_data_offset as usize;
const CURSOR: usize = DrcHeader::CURSOR_OFFSET as usize;
const LOG_CURSOR: usize = DrcHeader::LOG_CURSOR_OFFSET as usize;
/// The barrier log buffer starts right after the first object slot.
const LOG_START: u32 = DRC_LAYOUTS.object_align;
/// Entries of the barrier log buffer (4 bytes each).
const LOG_ENTRIES: u32 = 1024;
/// Entries of the barrier log in stress mode: few, so the runtime path runs often too.
const STRESS_LOG_ENTRIES: u32 = 4;
/// Heaps smaller than this have no barrier log (every barrier that logs calls the
/// runtime): the buffer would take too much of them.
const MIN_LOG_HEAP: usize = 256 << 10;
const BUMP_MAX: u32 = DrcHeader::BUMP_MAX;
const IN_ZCT: u32 = DrcHeader::IN_ZCT;
/// Alignment mask of objects.
const ALIGN_MASK: usize = DrcHeader::ALIGN as usize - 1;
/// The size of a bump chunk.
const CHUNK: u32 = 32 << 10;
/// The size of a bump chunk in stress mode: room for a few small objects, so compiled code
/// still allocates inline, and reaches the runtime (which collects) every few objects.
const STRESS_CHUNK: u32 = 96;
/// Collector bit in the kind word: marked live by the backup trace.
const MARK: u32 = 2;
/// Collector bit in the kind word: a Wasm frame holds the object (an uncounted reference),
/// set for the duration of one collection.
const STACK_ROOT: u32 = 4;
/// Live bytes that trigger the first backup trace.
const MIN_TRACE_LIMIT: u64 = 4 << 20;
/// The most the live bytes may grow, as a factor, between backup traces that find little.
const MAX_TRACE_GROWTH: u64 = 16;
/// Units of work (ZCT entries examined, objects visited by the backup trace) per
/// collection increment.
const INCREMENT_BUDGET: usize = 4096;
/// Elements of a reference array visited per unit of collection work: a larger array is
/// released from its end in chunks (its length shrinking) and traced in chunks, so no unit
/// is unbounded.
const CHILD_CHUNK: u32 = 1024;
/// The zero-count table size that triggers a collection, at least.
const MIN_ZCT_LIMIT: usize = 4096;
/// How many ZCT entries ahead the collection prefetches headers.
const ZCT_PREFETCH: usize = 8;
/// Bytes of old objects allocated (`externref`s) between collections, at least.
const MIN_ALLOC_LIMIT: u64 = 1 << 20;
/// Young bytes allocated that trigger a collection, at least: the young generation's size
/// while the old one is small.
const MIN_YOUNG_LIMIT: u64 = 1 << 20;
/// Young bytes allocated that trigger a collection, at most.
const MAX_YOUNG_LIMIT: u64 = 16 << 20;

/// A deferred-reference-counting heap.
pub struct DrcHeap {
    region: Region,
    /// How to find the references inside objects, by canonical type.
    types: Vec<Option<GcTypeTrace>>,
    /// The heap's memory; its size is the heap's most bytes. The capacity, what may be
    /// allocated now, is the free list's limit.
    free: FreeList,
    /// The zero-count table: old objects with `IN_ZCT` set (besides those only in the
    /// barrier log so far, which `drain_log` moves here).
    zct: Vec<u32>,
    /// An empty buffer with capacity, swapped with `zct` when a collection takes it, so
    /// steady-state collections do not reallocate the table.
    zct_spare: Vec<u32>,
    /// Scratch space for an object's children while it is freed.
    children_scratch: Vec<u32>,
    /// Scratch space for a collection's list of stack roots.
    stack_roots_scratch: Vec<u32>,
    /// The young objects and their log.
    young: YoungSpace,
    /// The start of the current bump chunk.
    chunk_start: u32,
    /// The hole the current chunk was cut from (the hole then starts at `chunk_end`), if
    /// it was.
    chunk_hole: Option<usize>,
    /// The end of the current bump chunk (0: none).
    chunk_end: u32,
    /// Host values of objects freed by an abandoned trace, dropped by the next collection.
    deferred_host_drops: Vec<ExternRefHostDataId>,
    /// Work per collection increment (`INCREMENT_BUDGET`; tests lower it).
    increment_budget: usize,
    /// Array references visited per unit of work (`CHILD_CHUNK`; tests lower it).
    child_chunk: u32,
    zct_limit: usize,
    /// Bytes of old objects allocated since the last collection.
    allocated_since_gc: u64,
    alloc_limit: u64,
    /// Young bytes allocated that trigger the next collection: the old generation's bytes,
    /// between `MIN_YOUNG_LIMIT` and `MAX_YOUNG_LIMIT` (see `next_young_limit`).
    young_limit: u64,
    /// Live bytes after a collection above which the backup trace runs.
    trace_limit: u64,
    /// How much the live bytes may grow before the next backup trace: 2, doubled after
    /// each trace that freed less than an eighth of the live bytes (a heap without cycles
    /// gains nothing from tracing), up to `MAX_TRACE_GROWTH`.
    trace_growth: u64,
    /// Old bytes when the current backup trace started.
    live_at_trace_start: u64,
    /// Backup traces run so far.
    traces: u64,
    /// Old objects and their bytes (young ones are counted by walking their ranges).
    live_objects: usize,
    bytes_in_use: u64,
    no_gc_depth: u32,
    stress: bool,
    /// Debug builds: objects the invariant check may walk before it runs again.
    check_credit: usize,
    /// The capacity when created, restored by `reset`.
    initial_capacity: u32,
    /// The end of the barrier log buffer, which starts at `LOG_START`; `LOG_START` if the
    /// heap has none.
    log_end: u32,
    /// Where objects start: after the barrier log buffer.
    first_object: u32,
}

impl std::fmt::Debug for DrcHeap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DrcHeap")
            .field("size", &self.region.size())
            .field("live_objects", &self.live_objects)
            .field("zct", &self.zct.len())
            .finish_non_exhaustive()
    }
}

impl DrcHeap {
    /// A heap of at most `config.max_size` bytes (rounded to the object alignment, at most 4 GiB), with room
    /// for `config.initial_size` of them at first, reserving the whole index space if
    /// `config.reserve_index_space`.
    pub fn new(config: &GcHeapConfig) -> Result<DrcHeap> {
        let region = Region::new(config, &DRC_LAYOUTS)?;
        let entries = match (region.size() >= MIN_LOG_HEAP, config.stress) {
            (false, _) => 0,
            (true, false) => LOG_ENTRIES,
            (true, true) => STRESS_LOG_ENTRIES,
        };
        let log_end = LOG_START + 4 * entries;
        let first_object = log_end.next_multiple_of(DRC_LAYOUTS.object_align);
        let capacity = (config.initial_size.clamp(64, region.size()) & !ALIGN_MASK)
            .max((first_object as usize).min(region.size()));
        let mut heap = DrcHeap {
            region,
            types: Vec::new(),
            free: FreeList::new(first_object, capacity as u32),
            zct: Vec::new(),
            zct_spare: Vec::new(),
            children_scratch: Vec::new(),
            stack_roots_scratch: Vec::new(),
            young: YoungSpace::default(),
            chunk_start: 0,
            chunk_hole: None,
            chunk_end: 0,
            deferred_host_drops: Vec::new(),
            increment_budget: INCREMENT_BUDGET,
            child_chunk: CHILD_CHUNK,
            zct_limit: MIN_ZCT_LIMIT,
            allocated_since_gc: 0,
            alloc_limit: MIN_ALLOC_LIMIT,
            young_limit: MIN_YOUNG_LIMIT,
            trace_limit: MIN_TRACE_LIMIT,
            trace_growth: 2,
            live_at_trace_start: 0,
            traces: 0,
            live_objects: 0,
            bytes_in_use: 0,
            no_gc_depth: 0,
            stress: config.stress,
            check_credit: 0,
            initial_capacity: capacity as u32,
            log_end,
            first_object,
        };
        heap.reset_log();
        Ok(heap)
    }

    /// Empties the barrier log buffer.
    fn reset_log(&mut self) {
        self.region.set_cursor(LOG_CURSOR, LOG_START, self.log_end);
    }

    /// Moves the barrier log buffer's entries to the young log and the ZCT (their flags are
    /// set already) and empties it.
    fn drain_log(&mut self) {
        let (next, limit) = self.region.cursor(LOG_CURSOR);
        if next == LOG_START {
            return;
        }
        assert!(
            (LOG_START..=self.log_end).contains(&next)
                && limit == self.log_end
                && next.is_multiple_of(4),
            "corrupt barrier log cursor {next:#x}, {limit:#x}"
        );
        let entries = &self.region[LOG_START as usize..next as usize];
        for entry in entries.chunks_exact(4) {
            let entry = u32::from_le_bytes(entry.try_into().expect("4 bytes"));
            let raw = entry & !DrcHeader::LOG_ZCT_TAG;
            // Checked here so that a corrupt entry fails at once; every later access
            // through it is bounds-checked too.
            assert!(
                raw != 0 && raw & VMGcRef::I31_TAG == 0,
                "corrupt barrier log entry {entry:#x}"
            );
            if entry & DrcHeader::LOG_ZCT_TAG != 0 {
                self.zct.push(raw);
            } else {
                self.young.log.push(raw);
            }
        }
        self.reset_log();
    }

    fn read_u32(&self, r: VMGcRef, offset: usize) -> u32 {
        self.region.read_u32(r, offset)
    }

    fn write_u32(&mut self, r: VMGcRef, offset: usize, value: u32) {
        self.region.write_u32(r, offset, value);
    }

    /// The four words of `r`'s header: kind, type, count, size (one bounds check).
    fn header_words(&self, r: VMGcRef) -> [u32; 4] {
        self.region.read_words(r)
    }

    /// The reference count of `r`.
    pub fn ref_count(&self, r: VMGcRef) -> u32 {
        self.read_u32(r, REF_COUNT)
    }

    /// Whether `r` is young (its fields uncounted).
    pub fn is_young(&self, r: VMGcRef) -> bool {
        self.read_u32(r, KIND) & YOUNG != 0
    }

    /// Sets the units of work a collection increment does (4096 by default): smaller
    /// budgets make collections take more increments, for tests of abandoned collections.
    pub fn set_increment_budget(&mut self, units: usize) {
        self.increment_budget = units.max(1);
    }

    /// The bump cursor's `next`, checked against the chunk (compiled code moves it).
    fn cursor_next(&self) -> u32 {
        let (next, _) = self.region.cursor(CURSOR);
        assert!(
            self.chunk_start <= next
                && next <= self.chunk_end
                && next.is_multiple_of(DRC_LAYOUTS.object_align),
            "corrupt bump cursor {next:#x} (chunk {:#x}..{:#x})",
            self.chunk_start,
            self.chunk_end
        );
        next
    }

    fn set_cursor(&mut self, next: u32, limit: u32) {
        self.region.set_cursor(CURSOR, next, limit);
    }

    /// Young bytes allocated since the last young collection.
    fn young_bytes(&self) -> u64 {
        let current = if self.chunk_end == 0 {
            0
        } else {
            self.cursor_next() - self.chunk_start
        };
        self.young.bytes + u64::from(current)
    }

    /// Calls `f(start, size)` for each object in `[start, end)`, a run of objects laid out
    /// back to back (a young range, or the current chunk's used part).
    fn for_each_object_in(&self, (start, end): (u32, u32), mut f: impl FnMut(u32, u32)) {
        let mut pos = start;
        while pos < end {
            let size = self.read_u32(VMGcRef::from_raw(pos).expect("above 0"), SIZE);
            assert!(
                size >= DRC_LAYOUTS.header_size
                    && size.is_multiple_of(DRC_LAYOUTS.object_align)
                    && size <= end - pos,
                "corrupt object size {size} at {pos:#x}"
            );
            f(pos, size);
            pos += size;
        }
    }

    /// Calls `f(start, size)` for each young object.
    fn for_each_young_object(&self, mut f: impl FnMut(u32, u32)) {
        let current = (self.chunk_end != 0).then(|| (self.chunk_start, self.cursor_next()));
        for &range in self.young.ranges.iter().chain(current.iter()) {
            self.for_each_object_in(range, |pos, size| {
                if self.read_u32(VMGcRef::from_raw(pos).expect("above 0"), KIND) & YOUNG != 0 {
                    f(pos, size);
                }
            });
        }
        for &l in &self.young.large {
            let r = VMGcRef::from_raw(l).expect("above 0");
            if self.read_u32(r, KIND) & YOUNG != 0 {
                f(l, self.read_u32(r, SIZE));
            }
        }
    }

    /// Every object in the heap, young or old, in address order: a walk over the heap
    /// (for tests and checks). Young garbage counts until a young collection frees it.
    pub fn objects(&self) -> Vec<VMGcRef> {
        let mut out = Vec::new();
        self.walk_objects(|pos, _| out.push(VMGcRef::from_raw(pos).expect("above 0")));
        out
    }

    /// Calls `f(start, size)` for every object in address order, skipping free space.
    fn walk_objects(&self, mut f: impl FnMut(u32, u32)) {
        let mut free = self.free.blocks();
        free.extend(self.young.holes.iter().filter(|h| h.1 > 0));
        if self.chunk_end != 0 {
            let next = self.cursor_next();
            if next < self.chunk_end {
                free.push((next, self.chunk_end - next));
            }
        }
        free.sort_unstable();
        let mut free = free.into_iter().peekable();
        let mut pos = self.first_object;
        let end = self.free.frontier();
        while pos < end {
            if let Some(&(start, len)) = free.peek()
                && start == pos
            {
                free.next();
                pos += len;
                continue;
            }
            let size = self.read_u32(VMGcRef::from_raw(pos).expect("above 0"), SIZE);
            assert!(
                size >= DRC_LAYOUTS.header_size && size <= end - pos,
                "corrupt object size {size} at {pos:#x}"
            );
            f(pos, size);
            pos += size;
        }
    }

    /// Checks the heap's invariants after a completed collection (debug builds; see
    /// `heap/young.rs`): no object is young or carries a trace's marks; every count
    /// covers the references other objects and `counted_slots` hold (tables, globals and
    /// segments, when the engine passes them; host handles may add more); an object at
    /// count zero is in the ZCT; and the statistics match the objects.
    fn check_invariants(&self, counted_slots: &[u32]) {
        let mut objects = std::collections::HashMap::new();
        let mut bytes = 0u64;
        self.walk_objects(|pos, size| {
            objects.insert(pos, 0u32);
            bytes += u64::from(size);
        });
        assert_eq!(self.chunk_end, 0, "no bump chunk after a collection");
        let starts: Vec<u32> = objects.keys().copied().collect();
        for &o in &starts {
            let r = VMGcRef::from_raw(o).expect("above 0");
            let kind = self.read_u32(r, KIND);
            assert_eq!(
                kind & (YOUNG | LOGGED | YOUNG_MARK | MARK),
                0,
                "object {o:#x} keeps collection bits {kind:#x}"
            );
            self.for_each_child(r, |c| {
                if c != 0 && c & VMGcRef::I31_TAG == 0 {
                    *objects
                        .get_mut(&c)
                        .unwrap_or_else(|| panic!("{o:#x} refers to {c:#x}, no object")) += 1;
                }
            });
        }
        for &c in counted_slots {
            if c != 0 && c & VMGcRef::I31_TAG == 0 {
                *objects.get_mut(&c).unwrap_or_else(|| {
                    panic!("a table, global or segment holds {c:#x}, no object")
                }) += 1;
            }
        }
        for (&o, &held) in &objects {
            let r = VMGcRef::from_raw(o).expect("above 0");
            let count = self.ref_count(r);
            assert!(
                count >= held,
                "object {o:#x}: count {count}, but {held} objects and slots refer to it"
            );
            assert!(
                count > 0 || self.read_u32(r, KIND) & IN_ZCT != 0,
                "object {o:#x} at count zero is not in the ZCT"
            );
        }
        assert!(self.young.ranges.is_empty() && self.young.log.is_empty());
        assert_eq!(
            self.region.cursor(LOG_CURSOR).0,
            LOG_START,
            "the barrier log is empty"
        );
        assert_eq!(
            (self.live_objects, self.bytes_in_use),
            (objects.len(), bytes),
            "statistics"
        );
    }

    /// Ends the current bump chunk: its used part becomes a young range (or nothing) and
    /// its unused tail is freed.
    fn retire_chunk(&mut self) {
        if self.chunk_end == 0 {
            return;
        }
        let next = self.cursor_next();
        if next > self.chunk_start {
            self.young.ranges.push((self.chunk_start, next));
            self.young.bytes += u64::from(next - self.chunk_start);
        }
        if next < self.chunk_end {
            let tail = self.chunk_end - next;
            match self.chunk_hole.take() {
                // Back into its hole, which starts where the chunk ended.
                Some(i) => {
                    let hole = &mut self.young.holes[i];
                    debug_assert!(hole.1 == 0 || hole.0 == self.chunk_end);
                    *hole = (next, hole.1 + tail);
                }
                None => self.free.free(next, tail),
            }
        }
        self.chunk_hole = None;
        self.chunk_start = 0;
        self.chunk_end = 0;
        self.set_cursor(0, 0);
    }

    /// Zeroes `[start, end)`, new space for objects, except what lies at or above
    /// `untouched`: the free list's high-water mark before the space was taken. Nothing was
    /// ever written there since the heap was created or reset, so it is zero already (and
    /// its pages need not be touched before the objects are written).
    fn zero(&mut self, start: u32, end: u32, untouched: u32) {
        let written_end = end.min(untouched.max(start));
        self.region[start as usize..written_end as usize].fill(0);
        debug_assert!(
            self.region[written_end as usize..end as usize]
                .iter()
                .all(|&b| b == 0),
            "space above the high-water mark {untouched:#x} was written"
        );
    }

    /// Starts a new zeroed bump chunk with room for at least `min` bytes; false if no free
    /// block is that large.
    fn refill_chunk(&mut self, min: u32) -> bool {
        self.retire_chunk();
        let max = if self.stress {
            STRESS_CHUNK.max(min)
        } else {
            CHUNK
        };
        let untouched = self.free.high_water();
        let Some((start, len)) = self.chunk_from_holes(min, max).or_else(|| {
            self.chunk_hole = None;
            self.free.alloc_chunk(min, max)
        }) else {
            return false;
        };
        let end = start + len;
        self.zero(start, end, untouched);
        self.chunk_start = start;
        self.chunk_end = end;
        self.set_cursor(start, end);
        true
    }

    /// Cuts a chunk of at least `min` and at most `max` bytes from the first hole (in
    /// address order) large enough; holes passed over stay for the next young collection.
    fn chunk_from_holes(&mut self, min: u32, max: u32) -> Option<(u32, u32)> {
        let young = &mut self.young;
        while let Some(hole) = young.holes.get_mut(young.hole_next) {
            // A hole's remainder below `MIN_HOLE` waits for the next young collection.
            if hole.1 >= min.max(young::MIN_HOLE.min(max)) {
                let take = hole.1.min(max);
                let start = hole.0;
                *hole = (start + take, hole.1 - take);
                self.chunk_hole = Some(young.hole_next);
                return Some((start, take));
            }
            young.hole_next += 1;
        }
        None
    }

    /// Returns the holes to the free list (before a backup trace, which walks the heap
    /// knowing only the free list).
    fn release_holes(&mut self) {
        debug_assert_eq!(self.chunk_end, 0, "the bump chunk is retired");
        for (start, len) in std::mem::take(&mut self.young.holes) {
            if len > 0 {
                self.free.free(start, len);
            }
        }
        self.young.hole_next = 0;
    }

    /// Bump-allocates `size` bytes (aligned, at most `BUMP_MAX`), refilling the chunk once.
    fn bump_alloc(&mut self, size: u32) -> Option<u32> {
        for _ in 0..2 {
            if self.chunk_end != 0 {
                let next = self.cursor_next();
                if self.chunk_end - next >= size {
                    let limit = self.chunk_end;
                    self.set_cursor(next + size, limit);
                    return Some(next);
                }
            }
            if !self.refill_chunk(size) {
                return None;
            }
        }
        None
    }

    fn zct_push(&mut self, r: VMGcRef) {
        let kind = self.read_u32(r, KIND);
        if kind & IN_ZCT == 0 {
            self.write_u32(r, KIND, kind | IN_ZCT);
            self.zct.push(r.as_raw());
        }
    }

    /// Lists young object `r` (of kind word `kind`) in the young log, once.
    fn log_young(&mut self, r: VMGcRef, kind: u32) {
        if kind & (YOUNG | LOGGED) == YOUNG {
            self.write_u32(r, KIND, kind | LOGGED);
            self.young.log.push(r.as_raw());
        }
    }

    /// Bytes of freed space below the frontier, available for reuse.
    pub fn free_bytes(&self) -> u64 {
        self.free.free_bytes() + self.young.hole_bytes()
    }

    /// The end of the space ever allocated, in bytes from the base.
    pub fn frontier(&self) -> u32 {
        self.free.frontier()
    }

    /// The number of backup traces run so far.
    pub fn traces(&self) -> u64 {
        self.traces
    }

    /// The number of young collections completed so far.
    pub fn young_collections(&self) -> u64 {
        self.young.collections
    }

    /// The number of entries in the zero-count table.
    pub fn zct_len(&self) -> usize {
        self.zct.len()
    }

    fn alloc_raw(&mut self, kind: VMGcKind, ty: u32, size: u32) -> Option<VMGcRef> {
        let size = size.next_multiple_of(DRC_LAYOUTS.object_align);
        // Host data is dropped promptly: `externref` objects are counted from birth.
        let young = kind != VMGcKind::ExternRef;
        let bits = if young { YOUNG } else { 0 };
        let (start, bumped) = match (size <= BUMP_MAX).then(|| self.bump_alloc(size)).flatten() {
            // Zeroed by the chunk.
            Some(start) => (start, true),
            None => {
                let untouched = self.free.high_water();
                let start = self.free.alloc(size)?;
                self.zero(start, start + size, untouched);
                (start, false)
            }
        };
        let r = VMGcRef::from_raw(start).expect("allocations start above 0");
        self.write_u32(r, KIND, VMGcHeader::new(kind, ty).to_words()[0] | bits);
        self.write_u32(r, TYPE, ty);
        self.write_u32(r, SIZE, size);
        match (young, bumped) {
            (true, true) => {}
            (true, false) => {
                self.young.large.push(start);
                self.young.bytes += u64::from(size);
            }
            (false, _) => {
                if bumped {
                    // An old object inside a young range: the sweep must keep it.
                    self.young.kept.push(start);
                    self.young.kept_bytes += u64::from(size);
                }
                self.live_objects += 1;
                self.bytes_in_use += u64::from(size);
                self.allocated_since_gc += u64::from(size);
                // A new object has no counted references yet: it starts in the ZCT.
                self.zct_push(r);
            }
        }
        Some(r)
    }
    /// Calls `f` with each GC reference object `r` holds, per its registered type.
    fn for_each_child(&self, r: VMGcRef, mut f: impl FnMut(u32)) {
        match self
            .types
            .get(self.read_u32(r, TYPE) as usize)
            .and_then(Option::as_ref)
        {
            Some(GcTypeTrace::Struct { gc_ref_offsets }) => {
                for &o in gc_ref_offsets.iter() {
                    f(self.read_u32(r, o as usize));
                }
            }
            Some(GcTypeTrace::Array {
                elems_are_gc_refs: true,
                layout,
            }) => {
                let len = self.read_u32(r, layout.length_offset as usize);
                for i in 0..len {
                    f(self.read_u32(r, (layout.elems_offset + 4 * i) as usize));
                }
            }
            _ => {}
        }
    }

    /// Frees `r` (whose count is zero and which no frame holds), dropping its host data and
    /// releasing its children: a child whose count reaches zero is flagged as a ZCT entry
    /// and appended to `zeroed`, for the collection to free or keep like any other.
    ///
    /// The object is unlinked first and the host value dropped last, so a panicking `Drop`
    /// leaves the heap consistent.
    fn free_object(
        &mut self,
        r: VMGcRef,
        host_data: &mut ExternRefHostDataTable,
        zeroed: &mut Vec<u32>,
    ) {
        let mut children = std::mem::take(&mut self.children_scratch);
        children.clear();
        let unfinished = self.release_array_chunk(r, &mut children);
        if !unfinished {
            self.for_each_child(r, |c| children.push(c));
        }
        for child in children.iter().copied().filter_map(VMGcRef::from_raw) {
            if child.is_i31() {
                continue;
            }
            let count = self.ref_count(child);
            assert!(
                count > 0,
                "child {:#x} of a freed object has count 0",
                child.as_raw()
            );
            self.write_u32(child, REF_COUNT, count - 1);
            let kind = self.read_u32(child, KIND);
            if count == 1 && kind & IN_ZCT == 0 {
                self.write_u32(child, KIND, kind | IN_ZCT);
                zeroed.push(child.as_raw());
            }
        }
        self.children_scratch = children;
        if unfinished {
            // Garbage (count zero, no frame holds it): back on the worklist for the next
            // chunk, listed like any ZCT entry so an abandoned collection keeps it.
            let kind = self.read_u32(r, KIND);
            self.write_u32(r, KIND, kind | IN_ZCT);
            zeroed.push(r.as_raw());
            return;
        }
        self.unlink_object(r, host_data);
    }

    /// If `r` is an array of references longer than `CHILD_CHUNK`, moves its last
    /// `CHILD_CHUNK` elements into `out` and shortens it (unobservable: it is garbage);
    /// true if so, and elements remain.
    fn release_array_chunk(&mut self, r: VMGcRef, out: &mut Vec<u32>) -> bool {
        let ty = self.read_u32(r, TYPE);
        let Some(Some(GcTypeTrace::Array {
            elems_are_gc_refs: true,
            layout,
        })) = self.types.get(ty as usize)
        else {
            return false;
        };
        let (length_offset, elems_offset) = (layout.length_offset, layout.elems_offset);
        let len = self.read_u32(r, length_offset as usize);
        if len <= self.child_chunk {
            return false;
        }
        let rest = len - self.child_chunk;
        for i in rest..len {
            out.push(self.read_u32(r, (elems_offset + 4 * i) as usize));
        }
        self.write_u32(r, length_offset as usize, rest);
        true
    }

    /// Returns `r`'s space to the free list and drops its host value (last, so a panicking
    /// `Drop` leaves the heap consistent). Does not touch its children.
    fn unlink_object(&mut self, r: VMGcRef, host_data: &mut ExternRefHostDataTable) {
        if let Some(id) = self.unlink_object_keeping_host_data(r) {
            host_data.dealloc(id);
        }
    }

    /// Returns `r`'s space to the free list; its host value, if any, is the caller's to
    /// drop.
    fn unlink_object_keeping_host_data(&mut self, r: VMGcRef) -> Option<ExternRefHostDataId> {
        let header = self.header(r);
        let host =
            (header.kind() == Some(VMGcKind::ExternRef)).then(|| self.externref_host_data(r));
        let size = self.read_u32(r, SIZE);
        // Poison the header so stale references fail loudly.
        self.write_u32(r, KIND, 0);
        self.free.free(r.as_raw(), size);
        self.live_objects -= 1;
        self.bytes_in_use -= u64::from(size);
        host
    }
}

// SAFETY: the region is one mapping owned by the heap, never moved or unmapped before the
// heap is dropped, and objects are laid out by `DrcHeader` / `DrcExternRef`, which
// `DRC_LAYOUTS` describes.
unsafe impl GcHeap for DrcHeap {
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

    fn register_type(&mut self, ty: u32, trace: GcTypeTrace) {
        let i = ty as usize;
        if self.types.len() <= i {
            self.types.resize(i + 1, None);
        }
        self.types[i].get_or_insert(trace);
    }

    fn has_type(&self, ty: u32) -> bool {
        self.types.get(ty as usize).is_some_and(Option::is_some)
    }

    fn alloc_object(&mut self, kind: VMGcKind, ty: u32, size: u32) -> Result<Option<VMGcRef>> {
        if matches!(
            kind,
            VMGcKind::StructRef | VMGcKind::ArrayRef | VMGcKind::ExnRef
        ) && !self.has_type(ty)
        {
            bail!("type {ty} allocated before it was registered");
        }
        let size = size.max(DRC_LAYOUTS.header_size);
        if size as usize > self.region.size() {
            return Ok(None);
        }
        Ok(self.alloc_raw(kind, ty, size))
    }

    fn alloc_externref(&mut self, host_data: ExternRefHostDataId) -> Result<Option<VMGcRef>> {
        let Some(r) = self.alloc_raw(
            VMGcKind::ExternRef,
            VMGcHeader::NO_TYPE,
            DRC_LAYOUTS.externref_size,
        ) else {
            return Ok(None);
        };
        self.write_u32(r, HOST_DATA, host_data.as_raw());
        Ok(Some(r))
    }

    fn externref_host_data(&self, r: VMGcRef) -> ExternRefHostDataId {
        self.region.externref_host_data(r, HOST_DATA)
    }

    fn header(&self, r: VMGcRef) -> VMGcHeader {
        self.region.header(r)
    }

    fn clone_gc_ref(&mut self, r: &VMGcRef) -> VMGcRef {
        if !r.is_i31() {
            let count = self.ref_count(*r);
            self.write_u32(
                *r,
                REF_COUNT,
                count.checked_add(1).expect("reference count overflow"),
            );
            let kind = self.read_u32(*r, KIND);
            self.log_young(*r, kind);
        }
        *r
    }

    fn drop_gc_ref(&mut self, r: VMGcRef) {
        if r.is_i31() {
            return;
        }
        let count = self.ref_count(r);
        assert!(
            count > 0,
            "dropping a reference to {:#x} whose count is zero",
            r.as_raw()
        );
        self.write_u32(r, REF_COUNT, count - 1);
        if count == 1 && !self.is_young(r) {
            self.zct_push(r);
        }
    }

    fn externalize(&mut self, r: VMGcRef) {
        if self.is_young(r) {
            self.promote_now(r);
        }
    }

    fn check_counts(&self, counted_slots: &[u32]) {
        self.check_invariants(counted_slots);
    }

    fn fields_are_counted(&self, r: VMGcRef) -> bool {
        !self.is_young(r)
    }

    fn barrier_slow_path(&mut self, r: VMGcRef) {
        // Called when the barrier log is full, or when there is none.
        self.drain_log();
        let kind = self.read_u32(r, KIND);
        let count = self.ref_count(r);
        if kind & YOUNG != 0 {
            if count > 0 {
                self.log_young(r, kind);
            }
        } else if count == 0 {
            self.zct_push(r);
        }
    }

    fn request_full_collection(&mut self) {
        // The backup trace runs at the end of the next collection.
        self.trace_limit = 0;
    }

    fn needs_non_stack_roots(&self) -> bool {
        // Globals, tables and host handles hold counted references.
        false
    }

    fn expose_gc_ref_to_wasm(&mut self, _r: VMGcRef) {
        // Frames are found by stack maps at collection time; nothing to record.
    }

    fn enter_no_gc_scope(&mut self) {
        self.no_gc_depth += 1;
    }

    fn exit_no_gc_scope(&mut self) {
        self.no_gc_depth = self
            .no_gc_depth
            .checked_sub(1)
            .expect("balanced no-GC scopes");
    }

    fn needs_gc(&self) -> bool {
        self.stress
            || self.young_bytes() >= self.young_limit
            || self.zct.len() >= self.zct_limit
            || self.allocated_since_gc >= self.alloc_limit
    }

    fn gc<'a>(
        &'a mut self,
        roots: GcRootsIter<'a>,
        host_data_table: &'a mut ExternRefHostDataTable,
    ) -> Box<dyn GarbageCollection<'a> + 'a> {
        assert_eq!(
            self.no_gc_depth, 0,
            "garbage collection inside a no-GC scope"
        );
        // Every young object now lies in a range the young collection sweeps, and the
        // young log and the ZCT hold every entry.
        self.retire_chunk();
        self.drain_log();
        // Flag each object a frame holds; the collection clears the flags when dropped.
        let mut stack_roots = std::mem::take(&mut self.stack_roots_scratch);
        stack_roots.clear();
        for root in roots.filter(|r| r.is_on_wasm_stack()) {
            let r = root.get();
            if r.is_i31() {
                continue;
            }
            let kind = self.read_u32(r, KIND);
            if kind & STACK_ROOT == 0 {
                self.write_u32(r, KIND, kind | STACK_ROOT);
                stack_roots.push(r.as_raw());
            }
        }
        let young = YoungCollection::start(self, &stack_roots);
        Box::new(DrcCollection {
            heap: self,
            host_data: host_data_table,
            stack_roots,
            young: Some(young),
            pending: Vec::new(),
            trace: None,
            traced: false,
        })
    }

    fn vmctx_gc_heap_base(&self) -> *mut u8 {
        self.region.as_ptr().cast_mut()
    }

    fn vmctx_gc_heap_bound(&self) -> usize {
        self.region.len()
    }

    fn capacity(&self) -> usize {
        self.free.limit() as usize
    }

    fn max_capacity(&self) -> usize {
        self.region.size()
    }

    fn grow_capacity(&mut self, bytes: usize) {
        let limit = bytes.min(self.region.size()) & !ALIGN_MASK;
        self.free.raise_limit(limit as u32);
    }

    fn reset(&mut self) {
        assert_eq!(self.no_gc_depth, 0, "reset inside a no-GC scope");
        // Every object, chunk and cursor lies below the free list's high-water mark.
        let used = self.free.high_water() as usize;
        self.region.clear(used);
        self.free = FreeList::new(self.first_object, self.initial_capacity);
        self.zct.clear();
        self.zct_spare.clear();
        self.young.clear();
        self.chunk_start = 0;
        self.chunk_hole = None;
        self.chunk_end = 0;
        self.set_cursor(0, 0);
        self.reset_log();
        self.deferred_host_drops.clear();
        self.zct_limit = MIN_ZCT_LIMIT;
        self.allocated_since_gc = 0;
        self.alloc_limit = MIN_ALLOC_LIMIT;
        self.young_limit = MIN_YOUNG_LIMIT;
        self.trace_limit = MIN_TRACE_LIMIT;
        self.trace_growth = 2;
        self.traces = 0;
        self.live_objects = 0;
        self.bytes_in_use = 0;
    }

    fn live_objects(&self) -> usize {
        let mut young = 0;
        self.for_each_young_object(|_, _| young += 1);
        self.live_objects + young
    }

    fn bytes_in_use(&self) -> usize {
        let mut young = 0;
        self.for_each_young_object(|_, size| young += size as usize);
        self.bytes_in_use as usize + young
    }
}

/// Calls `f` with the region and each heap object (not null, not an `i31`) among object
/// `o`'s (of type `ty`) references from position `from` on, at most `heap.child_chunk` of an array's;
/// returns the position to continue from if any remain. Positions are array indices; a
/// struct's references all come at position 0. The heap is taken apart so that `f` may
/// write the region (counts, marks) while the type table is read. Inlined into each
/// collection step's loop: it runs once per object and step.
#[inline(always)]
fn visit_children(
    heap: &mut DrcHeap,
    o: u32,
    ty: u32,
    from: u32,
    mut f: impl FnMut(&mut Region, u32),
) -> Option<u32> {
    let DrcHeap {
        region,
        types,
        child_chunk,
        ..
    } = heap;
    let r = VMGcRef::from_raw(o).expect("objects are above 0");
    let mut visit = |region: &mut Region, offset: u32| {
        let c = region.read_u32(r, offset as usize);
        if c != 0 && c & VMGcRef::I31_TAG == 0 {
            f(region, c);
        }
    };
    match types.get(ty as usize).and_then(Option::as_ref) {
        Some(GcTypeTrace::Struct { gc_ref_offsets }) => {
            if from == 0 {
                for &offset in gc_ref_offsets.iter() {
                    visit(region, offset);
                }
            }
            None
        }
        Some(GcTypeTrace::Array {
            elems_are_gc_refs: true,
            layout,
        }) => {
            let len = region.read_u32(r, layout.length_offset as usize);
            let end = len.min(from.saturating_add(*child_chunk));
            for i in from..end {
                visit(region, layout.elems_offset + 4 * i);
            }
            (end < len).then_some(end)
        }
        _ => None,
    }
}

/// The live bytes at which the next backup trace runs, after one left `live` bytes in a
/// heap of at most `max`: `growth` times the live bytes, but no later than halfway to the
/// maximum, so that a heap with much live data traces before cyclic garbage has filled it.
fn next_trace_limit(live: u64, max: u64, growth: u64) -> u64 {
    let halfway = live + max.saturating_sub(live) / 2;
    MIN_TRACE_LIMIT.max(live.saturating_mul(growth).min(halfway))
}

/// The next `trace_growth`, after a trace found `live_before` bytes and left `live_after`:
/// 2 when it freed at least an eighth, else twice `growth` (at most `MAX_TRACE_GROWTH`).
fn next_trace_growth(growth: u64, live_before: u64, live_after: u64) -> u64 {
    let freed = live_before.saturating_sub(live_after);
    if freed.saturating_mul(8) >= live_before {
        2
    } else {
        (growth * 2).min(MAX_TRACE_GROWTH)
    }
}

/// The young bytes that trigger the next collection when `old` bytes of old objects are
/// live: as many as the old generation holds, within `MIN_YOUNG_LIMIT..=MAX_YOUNG_LIMIT`.
///
/// A young generation too small for the program's short-lived structures promotes them
/// before they die (a tree under construction, a table being filled), and each promoted
/// object then costs its counting and its freeing. Sized like the old generation, the
/// young one keeps the heap within about twice its live data, what a copying collector's
/// two spaces take, while a program with little live data keeps a small, cache-resident
/// young generation.
///
/// It is also at most half the room left below the heap's maximum `max`, so that a heap
/// near its maximum collects young objects before it fills (and needs a full collection).
fn next_young_limit(old: u64, max: u64) -> u64 {
    old.min(max.saturating_sub(old) / 2)
        .clamp(MIN_YOUNG_LIMIT, MAX_YOUNG_LIMIT)
}

/// One collection: the young collection, then a walk of the zero-count table freeing
/// entries no frame holds, then the backup trace if live bytes call for one.
struct DrcCollection<'a> {
    heap: &'a mut DrcHeap,
    host_data: &'a mut ExternRefHostDataTable,
    /// The objects flagged `STACK_ROOT` for this collection.
    stack_roots: Vec<u32>,
    /// The young collection, until it completes.
    young: Option<YoungCollection>,
    /// The ZCT entries left to examine, taken when the young collection completes (its
    /// promotions count the references young objects held, which the ZCT walk relies on).
    pending: Vec<u32>,
    /// The backup trace, once started.
    trace: Option<Trace>,
    /// Whether this collection has started a backup trace (it runs at most one).
    traced: bool,
}

impl DrcCollection<'_> {
    /// Sets the next collection's triggers and hands the ZCT buffer back.
    fn finish(&mut self) -> GcProgress {
        let heap = &mut *self.heap;
        heap.zct_limit = MIN_ZCT_LIMIT.max(2 * heap.zct.len());
        heap.alloc_limit = MIN_ALLOC_LIMIT.max(heap.bytes_in_use);
        heap.young_limit = next_young_limit(heap.bytes_in_use, heap.region.size() as u64);
        heap.allocated_since_gc = 0;
        // What this collection freed, joined into runs where it lies together.
        heap.free.merge_small();
        heap.zct_spare = std::mem::take(&mut self.pending);
        // The check walks the heap: after every collection of a small heap, and at most
        // once per `live / 1024` collections of a large one, so that it costs about 1024
        // objects per collection (stress mode collects every few allocations).
        if cfg!(debug_assertions) {
            heap.check_credit += 1024;
            if heap.check_credit >= heap.live_objects {
                heap.check_credit = 0;
                heap.check_invariants(&[]);
            }
        }
        GcProgress::Complete
    }
}

impl GarbageCollection<'_> for DrcCollection<'_> {
    fn collect_increment(&mut self) -> GcProgress {
        let heap = &mut *self.heap;
        let mut budget = heap.increment_budget;
        // Host values left by an abandoned trace go first, each popped before its `Drop`
        // runs (which may panic).
        while budget > 0
            && let Some(id) = heap.deferred_host_drops.pop()
        {
            budget -= 1;
            self.host_data.dealloc(id);
        }
        if let Some(young) = &mut self.young {
            if !young.run(heap, &mut budget) {
                return GcProgress::Continue;
            }
            self.young = None;
            let spare = std::mem::take(&mut heap.zct_spare);
            self.pending = std::mem::replace(&mut heap.zct, spare);
        }
        if let Some(trace) = &mut self.trace {
            if !trace.run(heap, self.host_data, budget) {
                return GcProgress::Continue;
            }
            self.trace = None;
            log::debug!(
                "gc: backup trace {}: {} of {} live bytes left",
                heap.traces,
                heap.bytes_in_use,
                heap.live_at_trace_start
            );
            heap.trace_growth = next_trace_growth(
                heap.trace_growth,
                heap.live_at_trace_start,
                heap.bytes_in_use,
            );
            heap.trace_limit = next_trace_limit(
                heap.bytes_in_use,
                heap.region.size() as u64,
                heap.trace_growth,
            );
            return self.finish();
        }
        for _ in 0..budget {
            // The entries are scattered over the heap: fetch a header a few entries ahead.
            if let Some(i) = self.pending.len().checked_sub(ZCT_PREFETCH) {
                heap.region.prefetch(self.pending[i]);
            }
            let Some(raw) = self.pending.pop() else {
                if !self.traced && heap.bytes_in_use >= heap.trace_limit {
                    self.traced = true;
                    heap.live_at_trace_start = heap.bytes_in_use;
                    self.trace = Some(Trace::start(heap));
                    return GcProgress::Continue;
                }
                return self.finish();
            };
            let r = VMGcRef::from_raw(raw).expect("ZCT entries are non-null");
            let kind = heap.read_u32(r, KIND);
            if kind == 0 {
                // Freed since it was listed (never expected; kept as a guard).
                continue;
            }
            heap.write_u32(r, KIND, kind & !IN_ZCT);
            if heap.ref_count(r) != 0 {
                continue;
            }
            if kind & STACK_ROOT != 0 {
                heap.zct_push(r);
            } else {
                // Children that drop to zero join `pending`: the cascade is a worklist,
                // never a recursion, and is bounded per increment like everything else.
                heap.free_object(r, self.host_data, &mut self.pending);
            }
        }
        GcProgress::Continue
    }
}

impl Drop for DrcCollection<'_> {
    fn drop(&mut self) {
        if let Some(young) = self.young.take() {
            young.abandon(self.heap);
        }
        if let Some(trace) = self.trace.take() {
            trace.abandon(self.heap);
        }
        // An abandoned collection keeps its unexamined entries in the ZCT.
        for raw in std::mem::take(&mut self.pending) {
            let r = VMGcRef::from_raw(raw).expect("ZCT entries are non-null");
            let kind = self.heap.read_u32(r, KIND);
            if kind & IN_ZCT != 0 {
                self.heap.write_u32(r, KIND, kind & !IN_ZCT);
            }
            self.heap.zct_push(r);
        }
        // Stack roots are never freed by a collection, so each flagged object is still there.
        for &raw in &self.stack_roots {
            let r = VMGcRef::from_raw(raw).expect("roots are non-null");
            let kind = self.heap.read_u32(r, KIND);
            self.heap.write_u32(r, KIND, kind & !STACK_ROOT);
        }
        self.heap.stack_roots_scratch = std::mem::take(&mut self.stack_roots);
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use gc_core::GcRootsList;
    use std::ptr::NonNull;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct CountDrops(Arc<AtomicUsize>);
    impl Drop for CountDrops {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn setup() -> (DrcHeap, ExternRefHostDataTable, Arc<AtomicUsize>) {
        setup_with(1 << 16)
    }

    /// A heap of `max_size` bytes, a host-data table and a drop counter.
    fn setup_with(max_size: usize) -> (DrcHeap, ExternRefHostDataTable, Arc<AtomicUsize>) {
        let config = GcHeapConfig {
            max_size,
            ..GcHeapConfig::default()
        };
        let heap = DrcHeap::new(&config).unwrap();
        (
            heap,
            ExternRefHostDataTable::default(),
            Arc::new(AtomicUsize::new(0)),
        )
    }

    #[test]
    fn reset_gives_a_fresh_heap_at_the_same_address() {
        let (mut heap, mut host, drops) = setup_with(1 << 22);
        heap.register_type(
            5,
            GcTypeTrace::Struct {
                gc_ref_offsets: Box::new([16]),
            },
        );
        let first = externref(&mut heap, &mut host, &drops);
        // Objects of both paths: bumped, and (larger than a chunk) from the free list.
        for _ in 0..100 {
            heap.alloc_object(VMGcKind::StructRef, 5, 32)
                .unwrap()
                .unwrap();
        }
        let big = heap.alloc_object(VMGcKind::StructRef, 5, 1 << 20).unwrap();
        heap.grow_capacity(4 << 20);
        let big = big.or_else(|| heap.alloc_object(VMGcKind::StructRef, 5, 1 << 20).unwrap());
        heap.object_bytes_mut(big.unwrap(), 100, 4).fill(0xff);
        let base = heap.vmctx_gc_heap_base();
        heap.reset();
        assert_eq!(heap.vmctx_gc_heap_base(), base);
        assert_eq!((heap.live_objects(), heap.bytes_in_use()), (0, 0));
        assert_eq!(heap.capacity(), GcHeapConfig::default().initial_size);
        assert_eq!(
            heap.region.cursor(LOG_CURSOR),
            (LOG_START, LOG_START + 4 * LOG_ENTRIES),
            "an empty barrier log"
        );
        assert!(
            heap.region[LOG_CURSOR + 8..4 << 20].iter().all(|&b| b == 0),
            "memory reads as zero"
        );
        assert!(heap.has_type(5), "types stay registered");
        let again = externref(&mut heap, &mut host, &drops);
        assert_eq!(again, first, "allocation starts over");
        drop(host);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            2,
            "host data is its table's to drop"
        );
    }

    fn externref(
        heap: &mut DrcHeap,
        t: &mut ExternRefHostDataTable,
        d: &Arc<AtomicUsize>,
    ) -> VMGcRef {
        let id = t.alloc(Box::new(CountDrops(d.clone())));
        heap.alloc_externref(id).unwrap().unwrap()
    }

    fn collect(heap: &mut DrcHeap, t: &mut ExternRefHostDataTable, stack: &mut [u32]) {
        let mut roots = GcRootsList::new();
        for slot in stack.iter_mut() {
            // SAFETY: the slots outlive the collection below and are not otherwise used.
            unsafe { roots.add_wasm_stack_root(NonNull::from(slot)) };
        }
        heap.gc(roots.iter(), t).collect();
    }

    /// Registers struct types 7 (`node`: one reference, at 16) and 8 (`pair`: two, at 16
    /// and 20); returns `(node, pair)`.
    fn register_node_and_pair(heap: &mut DrcHeap) -> (u32, u32) {
        heap.register_type(
            7,
            GcTypeTrace::Struct {
                gc_ref_offsets: Box::new([16]),
            },
        );
        heap.register_type(
            8,
            GcTypeTrace::Struct {
                gc_ref_offsets: Box::new([16, 20]),
            },
        );
        (7, 8)
    }

    /// A 32-byte struct of type `ty`.
    fn alloc(heap: &mut DrcHeap, ty: u32) -> VMGcRef {
        heap.alloc_object(VMGcKind::StructRef, ty, 32)
            .unwrap()
            .unwrap()
    }

    /// Stores `child` at `offset` of `parent` through the write barrier: counted if
    /// `parent` is old, a plain store if it is young.
    fn link(heap: &mut DrcHeap, parent: VMGcRef, offset: usize, child: VMGcRef) {
        heap.write_field_gc_ref(parent, offset as u32, Some(child));
    }

    /// Makes `objects` old: a collection in which a frame holds them promotes them.
    fn promote(heap: &mut DrcHeap, t: &mut ExternRefHostDataTable, objects: &[VMGcRef]) {
        let mut stack: Vec<u32> = objects.iter().map(|r| r.as_raw()).collect();
        collect(heap, t, &mut stack);
        assert!(objects.iter().all(|&r| !heap.is_young(r)));
    }

    #[test]
    fn counted_objects_survive_and_uncounted_ones_are_freed_once() {
        let (mut heap, mut t, drops) = setup();
        let kept = externref(&mut heap, &mut t, &drops);
        let garbage = externref(&mut heap, &mut t, &drops);
        heap.clone_gc_ref(&kept);
        assert_eq!(heap.zct_len(), 2);
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(heap.live_objects(), 1);
        assert_eq!(heap.ref_count(kept), 1);
        let _ = garbage;
        // Dropping the last count puts it in the ZCT; the next collection frees it.
        heap.drop_gc_ref(kept);
        assert_eq!(heap.zct_len(), 1);
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        assert_eq!(heap.live_objects(), 0);
        assert!(t.is_empty());
        // Nothing is freed twice.
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn stack_roots_keep_zero_count_objects() {
        let (mut heap, mut t, drops) = setup();
        let on_stack = externref(&mut heap, &mut t, &drops);
        let mut stack = [on_stack.as_raw()];
        collect(&mut heap, &mut t, &mut stack);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        assert_eq!(heap.zct_len(), 1, "still a zero-count candidate");
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn an_abandoned_collection_clears_its_stack_root_flags() {
        let (mut heap, mut t, drops) = setup();
        let on_stack = externref(&mut heap, &mut t, &drops);
        let mut stack = [on_stack.as_raw(), on_stack.as_raw()];
        let mut roots = GcRootsList::new();
        for slot in stack.iter_mut() {
            // SAFETY: the slots outlive the collection and are not otherwise used.
            unsafe { roots.add_wasm_stack_root(NonNull::from(slot)) };
        }
        drop(heap.gc(roots.iter(), &mut t));
        assert_eq!(heap.read_u32(on_stack, KIND) & STACK_ROOT, 0);
        assert_eq!(heap.zct_len(), 1, "the unexamined entry stays listed");
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    /// Reads the bump cursor as compiled code does.
    fn cursor(heap: &DrcHeap) -> (u32, u32) {
        let word = |at: usize| u32::from_le_bytes(heap.region[at..at + 4].try_into().unwrap());
        (word(CURSOR), word(CURSOR + 4))
    }

    #[test]
    fn objects_bumped_by_compiled_code_are_young_and_freed_unvisited() {
        let (mut heap, mut t, drops) = setup();
        externref(&mut heap, &mut t, &drops);
        // What compiled code does (see `GcBumpLayout`): check, advance, write the header.
        let (next, limit) = cursor(&heap);
        assert!(next + 64 <= limit, "the first allocation opened a chunk");
        assert!(
            heap.region[next as usize..limit as usize]
                .iter()
                .all(|&b| b == 0),
            "the chunk is zeroed"
        );
        heap.region[CURSOR..CURSOR + 4].copy_from_slice(&(next + 64).to_le_bytes());
        let r = VMGcRef::from_raw(next).unwrap();
        let kind = VMGcKind::StructRef as u32 | DRC_LAYOUTS.bump.unwrap().new_object_kind_bits;
        heap.write_u32(r, KIND, kind);
        heap.write_u32(r, TYPE, 3);
        heap.write_u32(r, SIZE, 64);
        assert!(heap.is_young(r));
        assert_eq!(heap.live_objects(), 2);
        assert_eq!(heap.bytes_in_use(), 32 + 64);
        assert_eq!(heap.zct_len(), 1, "only the externref is listed");
        // Counted, then released: logged once, never in the ZCT.
        heap.clone_gc_ref(&r);
        heap.drop_gc_ref(r);
        assert_eq!((heap.zct_len(), heap.young.log.len()), (1, 1));
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(heap.live_objects(), 0);
        assert_eq!(heap.bytes_in_use(), 0);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(heap.zct_len(), 0);
        assert_eq!(
            heap.read_u32(r, KIND),
            kind | LOGGED,
            "the dead young object was never visited"
        );
        assert_eq!(heap.young_collections(), 1);
    }

    #[test]
    fn a_young_cycle_is_freed_without_a_backup_trace() {
        let (mut heap, mut t, _) = setup();
        let (node, _) = register_node_and_pair(&mut heap);
        let (a, b) = (alloc(&mut heap, node), alloc(&mut heap, node));
        link(&mut heap, a, 16, b);
        link(&mut heap, b, 16, a);
        assert_eq!((heap.ref_count(a), heap.ref_count(b)), (0, 0), "uncounted");
        heap.trace_limit = u64::MAX;
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(heap.live_objects(), 0);
        assert_eq!(heap.traces(), 0);
        // The space is free again: the whole chunk went back to the free list.
        assert_eq!(
            heap.free_bytes() + u64::from(DRC_LAYOUTS.object_align),
            u64::from(heap.frontier())
        );
    }

    #[test]
    fn a_young_value_in_a_counted_slot_survives_with_what_it_holds() {
        let (mut heap, mut t, _) = setup();
        let (node, _) = register_node_and_pair(&mut heap);
        let (held, child, garbage) = (
            alloc(&mut heap, node),
            alloc(&mut heap, node),
            alloc(&mut heap, node),
        );
        link(&mut heap, held, 16, child);
        link(&mut heap, garbage, 16, held);
        // As a table or global store counts it: the young object is logged.
        heap.clone_gc_ref(&held);
        assert_eq!(heap.young.log, [held.as_raw()]);
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(
            heap.live_objects(),
            2,
            "held and its child; the garbage went"
        );
        assert!(!heap.is_young(held) && !heap.is_young(child));
        assert_eq!((heap.ref_count(held), heap.ref_count(child)), (1, 1));
        // Promoted, its fields are counted: a store into it pays the barrier.
        link(&mut heap, held, 16, held);
        assert_eq!((heap.ref_count(held), heap.ref_count(child)), (2, 0));
        assert_eq!(heap.zct, [child.as_raw()]);
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(heap.live_objects(), 1);
    }

    #[test]
    fn a_young_to_old_edge_keeps_the_old_object_alive() {
        let (mut heap, mut t, _) = setup();
        let (node, _) = register_node_and_pair(&mut heap);
        let old = alloc(&mut heap, node);
        promote(&mut heap, &mut t, &[old]);
        assert_eq!((heap.ref_count(old), heap.zct_len()), (0, 1));
        // A young object refers to it (uncounted); only the young one is on the stack.
        let young = alloc(&mut heap, node);
        link(&mut heap, young, 16, old);
        assert_eq!(heap.ref_count(old), 0);
        let mut stack = [young.as_raw()];
        collect(&mut heap, &mut t, &mut stack);
        assert_eq!(
            heap.live_objects(),
            2,
            "the promotion counted the edge first"
        );
        assert_eq!(heap.ref_count(old), 1);
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(heap.live_objects(), 0);
    }

    #[test]
    fn young_bytes_trigger_collections() {
        let (mut heap, mut t, _) = setup_with(4 << 20);
        heap.grow_capacity(4 << 20);
        let (node, _) = register_node_and_pair(&mut heap);
        let mut n = 0;
        while !heap.needs_gc() {
            alloc(&mut heap, node);
            n += 1;
        }
        assert_eq!(
            n * 32,
            MIN_YOUNG_LIMIT,
            "after the young limit, not a table length"
        );
        collect(&mut heap, &mut t, &mut []);
        assert!(!heap.needs_gc());
    }

    /// A young generation for abandonment tests: a frame-held chain `[root, x1, .., x5]`
    /// (`root` also referring to an old object), a logged object with a young child, young
    /// garbage referring to the survivors, a large young array, and an old externref the
    /// garbage holds. Returns the heap, table, stack and the survivors with their final
    /// counts.
    fn young_fixture() -> Fixture {
        let (mut heap, mut t, drops) = setup_with(1 << 20);
        let (node, pair) = register_node_and_pair(&mut heap);
        let old = alloc(&mut heap, node);
        promote(&mut heap, &mut t, &[old]);
        let chain: Vec<VMGcRef> = (0..6).map(|_| alloc(&mut heap, pair)).collect();
        for w in chain.windows(2) {
            link(&mut heap, w[0], 16, w[1]);
        }
        link(&mut heap, chain[0], 20, old);
        let (logged, child) = (alloc(&mut heap, node), alloc(&mut heap, node));
        link(&mut heap, logged, 16, child);
        heap.clone_gc_ref(&logged);
        let e = externref(&mut heap, &mut t, &drops);
        let big = heap
            .alloc_object(VMGcKind::StructRef, pair, 4096)
            .unwrap()
            .unwrap();
        assert!(heap.young.large.contains(&big.as_raw()));
        for _ in 0..10 {
            let g = alloc(&mut heap, pair);
            link(&mut heap, g, 16, chain[3]);
            link(&mut heap, g, 20, e);
        }
        link(&mut heap, big, 16, logged);
        let stack = vec![chain[0].as_raw()];
        let mut survivors = vec![(old, 1), (chain[0], 0), (logged, 1), (child, 1)];
        survivors.extend(chain[1..].iter().map(|&x| (x, 1)));
        (heap, t, drops, stack, survivors)
    }

    #[test]
    fn a_young_collection_abandoned_at_any_increment_loses_nothing() {
        let mut abandoned_at = 0;
        loop {
            let (mut heap, mut t, drops, mut stack, survivors) = young_fixture();
            heap.increment_budget = 1;
            let mut roots = GcRootsList::new();
            for slot in stack.iter_mut() {
                // SAFETY: the slots outlive the collections below and are not otherwise used.
                unsafe { roots.add_wasm_stack_root(NonNull::from(slot)) };
            }
            let mut c = heap.gc(roots.iter(), &mut t);
            let completed =
                (0..abandoned_at).any(|_| c.collect_increment() == GcProgress::Complete);
            drop(c);
            // Between collections only what was promoted is counted: no count is beyond
            // its final value, and a young object with a count is logged.
            for &(r, count) in &survivors {
                assert!(heap.ref_count(r) <= count, "at {abandoned_at}");
                if heap.is_young(r) && heap.ref_count(r) > 0 {
                    assert!(heap.young.log.contains(&r.as_raw()), "at {abandoned_at}");
                }
            }
            assert!(drops.load(Ordering::SeqCst) <= 1, "at {abandoned_at}");
            // Whatever the point of abandonment, a complete collection ends in the same state.
            heap.increment_budget = INCREMENT_BUDGET;
            heap.gc(roots.iter(), &mut t).collect();
            assert_eq!(heap.live_objects(), survivors.len(), "at {abandoned_at}");
            for &(r, count) in &survivors {
                assert_eq!(heap.ref_count(r), count, "at {abandoned_at}");
            }
            assert_eq!(drops.load(Ordering::SeqCst), 1, "the garbage's externref");
            assert!(heap.young.log.is_empty() && heap.young.ranges.is_empty());
            if completed {
                assert!(
                    abandoned_at > 12,
                    "the young collection took many increments"
                );
                break;
            }
            abandoned_at += 1;
        }
    }

    #[test]
    #[should_panic(expected = "corrupt bump cursor")]
    fn a_corrupt_cursor_panics_instead_of_escaping_the_chunk() {
        let (mut heap, mut t, drops) = setup();
        externref(&mut heap, &mut t, &drops);
        let (_, limit) = cursor(&heap);
        heap.region[CURSOR..CURSOR + 4].copy_from_slice(&(limit + 16).to_le_bytes());
        externref(&mut heap, &mut t, &drops);
    }

    /// What a compiled barrier does with room in the barrier log: append `entry`, set
    /// `bit` in `r`'s kind word.
    fn log_inline(heap: &mut DrcHeap, r: VMGcRef, entry: u32, bit: u32) {
        let (next, limit) = heap.region.cursor(LOG_CURSOR);
        assert!(next < limit, "room in the log");
        heap.region[next as usize..next as usize + 4].copy_from_slice(&entry.to_le_bytes());
        heap.region[LOG_CURSOR..LOG_CURSOR + 4].copy_from_slice(&(next + 4).to_le_bytes());
        let kind = heap.read_u32(r, KIND);
        heap.write_u32(r, KIND, kind | bit);
    }

    #[test]
    fn barrier_log_entries_reach_the_young_log_and_the_zct() {
        let (mut heap, mut t, _) = setup_with(1 << 20);
        let (node, _) = register_node_and_pair(&mut heap);
        let old = alloc(&mut heap, node);
        heap.clone_gc_ref(&old);
        promote(&mut heap, &mut t, &[old]);
        assert_eq!(heap.zct_len(), 0);
        let young = alloc(&mut heap, node);
        // A table took `young` (count 1, logged inline) and dropped `old`'s last count.
        heap.write_u32(young, REF_COUNT, 1);
        log_inline(&mut heap, young, young.as_raw(), LOGGED);
        heap.write_u32(old, REF_COUNT, 0);
        let tagged = old.as_raw() | DrcHeader::LOG_ZCT_TAG;
        log_inline(&mut heap, old, tagged, IN_ZCT);
        assert_eq!(
            (heap.zct_len(), heap.young.log.len()),
            (0, 0),
            "not drained yet"
        );
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(
            heap.objects(),
            [young],
            "the logged one survives, the released is freed"
        );
        assert_eq!(heap.ref_count(young), 1);
        assert!(!heap.is_young(young));
        assert_eq!(heap.region.cursor(LOG_CURSOR).0, LOG_START, "drained");
        // A full log sends barriers to the runtime, which drains it first.
        let (_, limit) = heap.region.cursor(LOG_CURSOR);
        let others: Vec<VMGcRef> = (0..(limit - LOG_START) / 4)
            .map(|_| alloc(&mut heap, node))
            .collect();
        for &o in &others {
            heap.write_u32(o, REF_COUNT, 1);
            log_inline(&mut heap, o, o.as_raw(), LOGGED);
        }
        let last = alloc(&mut heap, node);
        heap.write_u32(last, REF_COUNT, 1);
        heap.barrier_slow_path(last);
        assert_eq!(heap.young.log.len(), others.len() + 1);
        assert_eq!(heap.region.cursor(LOG_CURSOR).0, LOG_START);
    }

    #[test]
    #[should_panic(expected = "corrupt barrier log entry")]
    fn a_corrupt_barrier_log_entry_panics() {
        let (mut heap, mut t, _) = setup_with(1 << 20);
        let (node, _) = register_node_and_pair(&mut heap);
        let r = alloc(&mut heap, node);
        log_inline(&mut heap, r, 0, 0);
        collect(&mut heap, &mut t, &mut []);
    }

    #[test]
    fn stress_heaps_hand_out_small_chunks() {
        let config = GcHeapConfig {
            max_size: 1 << 16,
            stress: true,
            ..GcHeapConfig::default()
        };
        let mut heap = DrcHeap::new(&config).unwrap();
        let mut t = ExternRefHostDataTable::default();
        let drops = Arc::new(AtomicUsize::new(0));
        externref(&mut heap, &mut t, &drops);
        let (next, limit) = cursor(&heap);
        assert!(
            limit - next < STRESS_CHUNK,
            "a small chunk: compiled code calls the runtime every few objects"
        );
        assert_eq!(heap.zct_len(), 1);
    }

    #[test]
    fn freed_space_is_reused() {
        let (mut heap, mut t, drops) = setup();
        let refs: Vec<_> = (0..10)
            .map(|_| externref(&mut heap, &mut t, &drops))
            .collect();
        let frontier = heap.frontier();
        collect(&mut heap, &mut t, &mut []);
        heap.retire_chunk();
        heap.free.flush_small();
        assert_eq!(
            heap.frontier(),
            DRC_LAYOUTS.object_align,
            "all space returned"
        );
        for _ in 0..10 {
            externref(&mut heap, &mut t, &drops);
        }
        assert_eq!(heap.frontier(), frontier);
        assert_eq!(refs.len(), 10);
    }

    #[test]
    fn full_heap_reports_none() {
        let (mut heap, mut t, drops) = setup();
        let mut n = 0;
        while heap
            .alloc_externref(t.alloc(Box::new(CountDrops(drops.clone()))))
            .unwrap()
            .is_some()
        {
            n += 1;
        }
        assert_eq!(n, ((1 << 16) - 16) / 32);
    }

    #[test]
    fn the_next_trace_comes_no_later_than_halfway_to_the_maximum() {
        let mib = 1 << 20;
        assert_eq!(next_trace_limit(0, 256 * mib, 2), MIN_TRACE_LIMIT);
        assert_eq!(next_trace_limit(10 * mib, 256 * mib, 2), 20 * mib);
        assert_eq!(next_trace_limit(10 * mib, 256 * mib, 8), 80 * mib);
        assert_eq!(next_trace_limit(150 * mib, 256 * mib, 2), 203 * mib);
        assert_eq!(next_trace_limit(150 * mib, 256 * mib, 16), 203 * mib);
        assert_eq!(next_trace_limit(256 * mib, 256 * mib, 2), 256 * mib);
    }

    #[test]
    fn the_young_generation_follows_the_old_within_the_room_left() {
        let mib = 1 << 20;
        assert_eq!(next_young_limit(0, 256 * mib), MIN_YOUNG_LIMIT);
        assert_eq!(next_young_limit(5 * mib, 256 * mib), 5 * mib);
        assert_eq!(next_young_limit(100 * mib, 256 * mib), MAX_YOUNG_LIMIT);
        // Near the maximum: half the room left, and never below the minimum.
        assert_eq!(next_young_limit(5 * mib, 8 * mib), 3 * mib / 2);
        assert_eq!(next_young_limit(8 * mib, 8 * mib), MIN_YOUNG_LIMIT);
    }

    #[test]
    fn traces_that_find_little_come_less_often() {
        let mib = 1 << 20;
        // Nothing freed: the live bytes may grow further before the next one.
        assert_eq!(next_trace_growth(2, 10 * mib, 10 * mib), 4);
        assert_eq!(next_trace_growth(8, 10 * mib, 10 * mib), 16);
        assert_eq!(next_trace_growth(16, 10 * mib, 10 * mib), MAX_TRACE_GROWTH);
        // An eighth or more freed: back to twice the live bytes.
        assert_eq!(next_trace_growth(16, 8 * mib, 7 * mib), 2);
        assert_eq!(next_trace_growth(4, 8 * mib, 7 * mib + 1), 8);
    }

    #[test]
    fn capacity_grows_up_to_the_maximum_only() {
        let config = GcHeapConfig {
            max_size: 1 << 16,
            initial_size: 1 << 12,
            ..GcHeapConfig::default()
        };
        let mut heap = DrcHeap::new(&config).unwrap();
        assert_eq!((heap.capacity(), heap.max_capacity()), (1 << 12, 1 << 16));
        let big = |heap: &mut DrcHeap| heap.alloc_object(VMGcKind::ArrayRef, 0, 8 << 10);
        heap.register_type(
            0,
            GcTypeTrace::Struct {
                gc_ref_offsets: Box::new([]),
            },
        );
        assert_eq!(big(&mut heap).unwrap(), None, "beyond the capacity");
        heap.grow_capacity(1 << 14);
        assert!(big(&mut heap).unwrap().is_some(), "room after growing");
        heap.grow_capacity(1 << 13);
        assert_eq!(heap.capacity(), 1 << 14, "never shrinks");
        heap.grow_capacity(usize::MAX);
        assert_eq!(heap.capacity(), 1 << 16, "clamped to the maximum");
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn bogus_references_panic_instead_of_escaping_the_heap() {
        let (heap, _, _) = setup();
        heap.header(VMGcRef::from_raw(1 << 20).unwrap());
    }

    #[test]
    #[should_panic(expected = "no-GC scope")]
    fn gc_in_a_no_gc_scope_panics() {
        let (mut heap, mut t, _) = setup();
        heap.enter_no_gc_scope();
        collect(&mut heap, &mut t, &mut []);
    }

    #[test]
    fn collection_runs_in_bounded_increments() {
        let (mut heap, mut t, drops) = setup();
        for _ in 0..(INCREMENT_BUDGET + 10).min(2000) {
            externref(&mut heap, &mut t, &drops);
        }
        let mut roots = GcRootsList::new();
        let mut c = heap.gc(roots.iter(), &mut t);
        let mut increments = 1;
        while c.collect_increment() == GcProgress::Continue {
            increments += 1;
        }
        drop(c);
        assert!(increments >= 1);
        assert_eq!(heap.live_objects(), 0);
    }

    #[test]
    fn freeing_cascades_through_children_and_stops_at_stack_roots() {
        let (mut heap, mut t, _) = setup();
        // A struct type with one reference field at offset 16.
        let node = 7;
        heap.register_type(
            node,
            GcTypeTrace::Struct {
                gc_ref_offsets: Box::new([16]),
            },
        );
        let alloc = |heap: &mut DrcHeap| {
            heap.alloc_object(VMGcKind::StructRef, node, 32)
                .unwrap()
                .unwrap()
        };
        let link = |heap: &mut DrcHeap, parent: VMGcRef, child: VMGcRef| {
            heap.write_field_gc_ref(parent, 16, Some(child));
        };
        let (a, b, c, d) = (
            alloc(&mut heap),
            alloc(&mut heap),
            alloc(&mut heap),
            alloc(&mut heap),
        );
        promote(&mut heap, &mut t, &[a, b, c, d]);
        link(&mut heap, a, b);
        link(&mut heap, b, c);
        link(&mut heap, c, d);
        // Only `c` is held by a frame: `a` and `b` go, `c` stays (count 0, in the ZCT), and
        // `d` stays because `c` still holds it.
        let mut stack = [c.as_raw()];
        collect(&mut heap, &mut t, &mut stack);
        assert_eq!(heap.live_objects(), 2);
        assert_eq!(heap.ref_count(c), 0);
        assert_eq!(heap.ref_count(d), 1);
        // Once the frame is gone, the rest of the chain goes in one collection.
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(heap.live_objects(), 0);
        assert!(
            heap.alloc_object(VMGcKind::StructRef, 99, 32).is_err(),
            "unregistered type"
        );
    }

    #[test]
    fn the_backup_trace_frees_cycles_and_keeps_what_roots_reach() {
        let (mut heap, mut t, _) = setup();
        let (node, pair) = register_node_and_pair(&mut heap);
        // Garbage: the cycle a <-> b, with a also pointing at e, and e at survivor s. s is
        // held from outside the heap (one count, as a table would hold it). The cycle
        // c <-> d is held only by a frame.
        let (a, b, e, s) = (
            alloc(&mut heap, pair),
            alloc(&mut heap, node),
            alloc(&mut heap, node),
            alloc(&mut heap, node),
        );
        let (c, d) = (alloc(&mut heap, node), alloc(&mut heap, node));
        promote(&mut heap, &mut t, &[a, b, e, s, c, d]);
        link(&mut heap, a, 16, b);
        link(&mut heap, a, 20, e);
        link(&mut heap, b, 16, a);
        link(&mut heap, e, 16, s);
        heap.clone_gc_ref(&s);
        link(&mut heap, c, 16, d);
        link(&mut heap, d, 16, c);
        heap.trace_limit = 0;
        let mut stack = [c.as_raw()];
        collect(&mut heap, &mut t, &mut stack);
        assert_eq!(heap.traces(), 1);
        // a, b and e are gone; s (held from outside), c and d (reached from a frame) stay.
        assert_eq!(heap.live_objects(), 3);
        assert_eq!(
            heap.ref_count(s),
            1,
            "the garbage's reference to s was released"
        );
        assert_eq!(heap.ref_count(c), 1);
        // Without the frame, the c <-> d cycle goes too.
        heap.trace_limit = 0;
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(heap.live_objects(), 1);
        heap.drop_gc_ref(s);
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(heap.live_objects(), 0);

        // A frame-held object that only garbage counted drops to zero and becomes a ZCT
        // candidate again: freed by the next collection that no frame keeps it through.
        let (g, h, f) = (
            alloc(&mut heap, pair),
            alloc(&mut heap, node),
            alloc(&mut heap, node),
        );
        promote(&mut heap, &mut t, &[g, h, f]);
        link(&mut heap, g, 16, h);
        link(&mut heap, h, 16, g);
        link(&mut heap, g, 20, f);
        heap.trace_limit = 0;
        let mut stack = [f.as_raw()];
        collect(&mut heap, &mut t, &mut stack);
        assert_eq!(heap.live_objects(), 1);
        assert_eq!(heap.ref_count(f), 0);
        assert_eq!(heap.zct, [f.as_raw()]);
        collect(&mut heap, &mut t, &mut []);
        assert_eq!(heap.live_objects(), 0);
    }

    /// A test heap, its host-data table and drop counter, the Wasm stack, and the objects
    /// that must survive with their final counts.
    type Fixture = (
        DrcHeap,
        ExternRefHostDataTable,
        Arc<AtomicUsize>,
        Vec<u32>,
        Vec<(VMGcRef, u32)>,
    );

    /// A heap for trace tests: garbage cycles holding host values and references to
    /// survivors, a survivor only garbage and a frame hold, and a frame-held cycle. Returns
    /// the heap, the host-data table, the drop counter, the stack, and the survivors
    /// `[s, t, f, c, d]` with their expected final counts.
    fn trace_fixture() -> Fixture {
        let (mut heap, mut t, drops) = setup_with(1 << 20);
        let (node, pair) = register_node_and_pair(&mut heap);
        // Old objects: the garbage needs the backup trace.
        let (s, t_) = (alloc(&mut heap, node), alloc(&mut heap, node));
        let cycles: Vec<_> = (0..20)
            .map(|_| (alloc(&mut heap, pair), alloc(&mut heap, node)))
            .collect();
        let (f, g) = (alloc(&mut heap, node), alloc(&mut heap, pair));
        let (c, d) = (alloc(&mut heap, node), alloc(&mut heap, node));
        let mut all = vec![s, t_, f, g, c, d];
        all.extend(cycles.iter().flat_map(|&(a, b)| [a, b]));
        promote(&mut heap, &mut t, &all);
        // s is held from outside (one count) and refers to t.
        heap.clone_gc_ref(&s);
        link(&mut heap, s, 16, t_);
        // 20 garbage cycles a <-> b; a also refers to a host value or to s.
        for (i, &(a, b)) in cycles.iter().enumerate() {
            link(&mut heap, a, 16, b);
            link(&mut heap, b, 16, a);
            let other = if i % 2 == 0 {
                s
            } else {
                externref(&mut heap, &mut t, &drops)
            };
            link(&mut heap, a, 20, other);
        }
        // f: held by a frame and by a self-referencing garbage object.
        link(&mut heap, g, 16, f);
        link(&mut heap, g, 20, g);
        // c <-> d, held by a frame.
        link(&mut heap, c, 16, d);
        link(&mut heap, d, 16, c);
        let stack = vec![f.as_raw(), c.as_raw()];
        let survivors = vec![(s, 1), (t_, 1), (f, 0), (c, 1), (d, 1)];
        (heap, t, drops, stack, survivors)
    }

    /// Starts a collection with a backup trace, drops it after `increments` increments,
    /// then runs a full one (trace included); true if the first completed in time.
    fn abandon_trace_then_collect(
        heap: &mut DrcHeap,
        t: &mut ExternRefHostDataTable,
        roots: &mut GcRootsList,
        increments: usize,
    ) -> bool {
        heap.trace_limit = 0;
        let mut c = heap.gc(roots.iter(), t);
        let completed = (0..increments).any(|_| c.collect_increment() == GcProgress::Complete);
        drop(c);
        heap.trace_limit = 0;
        heap.gc(roots.iter(), t).collect();
        completed
    }

    #[test]
    fn the_backup_trace_runs_in_bounded_increments_and_survives_abandonment() {
        let mut abandoned_at = 0;
        loop {
            let (mut heap, mut t, drops, mut stack, survivors) = trace_fixture();
            heap.increment_budget = 8;
            heap.trace_limit = 0;
            let mut roots = GcRootsList::new();
            for slot in stack.iter_mut() {
                // SAFETY: the slots outlive the collections below and are not otherwise used.
                unsafe { roots.add_wasm_stack_root(NonNull::from(slot)) };
            }
            let completed = abandon_trace_then_collect(&mut heap, &mut t, &mut roots, abandoned_at);
            assert!(drops.load(Ordering::SeqCst) <= 10);
            // Whatever the point of abandonment, a full collection ends in the same state.
            assert_eq!(heap.live_objects(), survivors.len(), "at {abandoned_at}");
            for &(r, count) in &survivors {
                assert_eq!(heap.ref_count(r), count, "at {abandoned_at}");
            }
            assert_eq!(
                drops.load(Ordering::SeqCst),
                10,
                "each host value dropped once"
            );
            assert_eq!(
                heap.zct,
                [survivors[2].0.as_raw()],
                "f is a candidate again"
            );
            if completed {
                assert!(abandoned_at > 20, "the trace took many increments");
                break;
            }
            abandoned_at += 1;
        }
    }

    #[test]
    fn large_reference_arrays_are_released_in_bounded_chunks() {
        for abandon_after in [None, Some(1), Some(2)] {
            let (mut heap, mut t, drops) = setup_with(1 << 20);
            let layout = gc_core::GcArrayLayout {
                length_offset: 16,
                elems_offset: 20,
                elem: gc_core::GcFieldKind::GcRef,
            };
            heap.register_type(
                9,
                GcTypeTrace::Array {
                    elems_are_gc_refs: true,
                    layout,
                },
            );
            heap.child_chunk = 4;
            let n = 3 * 4 + 1;
            let array = heap
                .alloc_object(VMGcKind::ArrayRef, 9, layout.size(n).unwrap())
                .unwrap()
                .unwrap();
            heap.write_u32(array, 16, n);
            for i in 0..n {
                let e = externref(&mut heap, &mut t, &drops);
                link(&mut heap, array, (20 + 4 * i) as usize, e);
            }
            // A collection while the array is held settles the children (count one each);
            // then only the array is a candidate. Each increment releases at most one chunk
            // of it, or frees at most as many children as the budget allows.
            heap.clone_gc_ref(&array);
            collect(&mut heap, &mut t, &mut []);
            assert_eq!(heap.live_objects(), n as usize + 1);
            heap.drop_gc_ref(array);
            assert_eq!(heap.zct, [array.as_raw()]);
            heap.increment_budget = 1;
            let mut roots = GcRootsList::new();
            let mut c = heap.gc(roots.iter(), &mut t);
            let mut increments = 0;
            while c.collect_increment() == GcProgress::Continue {
                increments += 1;
                if Some(increments) == abandon_after {
                    break;
                }
            }
            drop(c);
            if abandon_after == Some(1) {
                assert_eq!(heap.read_u32(array, 16), n - 4, "one chunk released");
            }
            if abandon_after.is_some() {
                assert!(drops.load(Ordering::SeqCst) < n as usize, "stopped midway");
                heap.increment_budget = INCREMENT_BUDGET;
                collect(&mut heap, &mut t, &mut []);
            } else {
                assert!(increments > n as usize, "one child or chunk per increment");
            }
            assert_eq!(
                drops.load(Ordering::SeqCst),
                n as usize,
                "each dropped once"
            );
            assert_eq!(heap.live_objects(), 0);
        }
    }

    #[test]
    fn the_backup_trace_visits_large_arrays_in_chunks_and_survives_abandonment() {
        let n = 2 * 4 + 2;
        let layout = gc_core::GcArrayLayout {
            length_offset: 16,
            elems_offset: 20,
            elem: gc_core::GcFieldKind::GcRef,
        };
        let mut abandoned_at = 0;
        loop {
            let (mut heap, mut t, drops) = setup_with(1 << 20);
            heap.child_chunk = 4;
            let (node, _) = register_node_and_pair(&mut heap);
            heap.register_type(
                9,
                GcTypeTrace::Array {
                    elems_are_gc_refs: true,
                    layout,
                },
            );
            let new_array = |heap: &mut DrcHeap| {
                let a = heap
                    .alloc_object(VMGcKind::ArrayRef, 9, layout.size(n).unwrap())
                    .unwrap()
                    .unwrap();
                heap.write_u32(a, 16, n);
                a
            };
            // `kept`, held from outside, refers to n nodes; `garbage` refers to itself and
            // to n - 1 host values.
            let kept = new_array(&mut heap);
            heap.clone_gc_ref(&kept);
            let mut nodes = Vec::new();
            for _ in 0..n {
                nodes.push(alloc(&mut heap, node));
            }
            let garbage = new_array(&mut heap);
            let mut all = nodes.clone();
            all.extend([kept, garbage]);
            promote(&mut heap, &mut t, &all);
            for (i, &x) in nodes.iter().enumerate() {
                link(&mut heap, kept, 20 + 4 * i, x);
            }
            link(&mut heap, garbage, 20, garbage);
            for i in 1..n {
                let e = externref(&mut heap, &mut t, &drops);
                link(&mut heap, garbage, (20 + 4 * i) as usize, e);
            }
            heap.increment_budget = 1;
            let mut roots = GcRootsList::new();
            let completed = abandon_trace_then_collect(&mut heap, &mut t, &mut roots, abandoned_at);
            assert_eq!(heap.live_objects(), n as usize + 1, "at {abandoned_at}");
            assert_eq!(heap.ref_count(kept), 1, "at {abandoned_at}");
            assert!(
                nodes.iter().all(|&x| heap.ref_count(x) == 1),
                "at {abandoned_at}"
            );
            assert_eq!(
                drops.load(Ordering::SeqCst),
                n as usize - 1,
                "at {abandoned_at}"
            );
            if completed {
                break;
            }
            abandoned_at += 1;
        }
    }
}
