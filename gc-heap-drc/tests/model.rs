//! The DRC heap against a reachability model. Seeded random programs allocate structs with
//! two reference fields and `externref` objects owning host values, write fields through
//! the barrier the engine uses (`GcHeap::write_field_gc_ref`: a plain store into a young
//! object, else count the new reference and release the old), hold objects in counted host
//! roots and in uncounted Wasm-stack slots, and collect: sometimes fully, sometimes
//! dropping the collection after a few increments of a small budget. After each
//! collection:
//! - every object the model reaches is alive, and its count equals the counted references
//!   to it (fields of old objects still in the heap, and host roots); after a complete
//!   collection no object is young;
//! - nothing the model reaches is freed, and after a full collection nothing it cannot
//!   reach survives (cycles included);
//! - every host value is dropped exactly once, when its object is freed, and never before.

use gc_core::{
    DRC_LAYOUTS, ExternRefHostDataTable, GcFieldKind, GcHeap, GcHeapConfig, GcProgress,
    GcRootsList, GcTypeTrace, VMGcKind, VMGcRef,
};
use gc_heap_drc::DrcHeap;
use std::collections::{HashMap, HashSet};
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The struct type of the program's nodes: two reference fields.
const NODE: u32 = 3;

/// xorshift64*: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A host value that counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// What the model knows of an object.
struct Obj {
    /// Raw references in the fields (nodes), or none (`externref`s).
    fields: Vec<u32>,
    /// The drop counter of an `externref`'s host value.
    host: Option<Arc<AtomicUsize>>,
}

struct Program {
    heap: DrcHeap,
    host_data: ExternRefHostDataTable,
    objs: HashMap<u32, Obj>,
    host_roots: Vec<u32>,
    stack: Vec<u32>,
    offsets: Vec<u32>,
    rng: Rng,
    /// Drop counters of host values whose objects were freed.
    dropped: Vec<Arc<AtomicUsize>>,
    /// Objects freed so far, and of them those freed while a cycle held them (by a full
    /// collection, after the last non-full one left them).
    freed: usize,
    freed_in_cycles: usize,
    /// Collections dropped before they completed.
    abandoned: usize,
}

impl Program {
    fn new(seed: u64) -> Program {
        let mut heap = DrcHeap::new(&GcHeapConfig {
            max_size: 1 << 20,
            initial_size: 1 << 20,
            ..GcHeapConfig::default()
        })
        .unwrap();
        let layout = DRC_LAYOUTS.struct_layout(&[GcFieldKind::GcRef, GcFieldKind::GcRef]);
        let offsets: Vec<u32> = layout.gc_ref_offsets().collect();
        heap.register_type(
            NODE,
            GcTypeTrace::Struct {
                gc_ref_offsets: offsets.clone().into(),
            },
        );
        Program {
            heap,
            host_data: ExternRefHostDataTable::default(),
            objs: HashMap::new(),
            host_roots: Vec::new(),
            stack: Vec::new(),
            offsets,
            rng: Rng(seed | 1),
            dropped: Vec::new(),
            freed: 0,
            freed_in_cycles: 0,
            abandoned: 0,
        }
    }

    /// What the model reaches from the roots.
    fn reachable(&self) -> HashSet<u32> {
        let mut seen = HashSet::new();
        let mut work: Vec<u32> = self.host_roots.iter().chain(&self.stack).copied().collect();
        while let Some(r) = work.pop() {
            if r != 0 && seen.insert(r) {
                work.extend(&self.objs[&r].fields);
            }
        }
        seen
    }

    /// A random object the model reaches, if any.
    fn pick(&mut self) -> Option<u32> {
        let mut all: Vec<u32> = self.reachable().into_iter().collect();
        all.sort_unstable();
        (!all.is_empty()).then(|| all[self.rng.below(all.len())])
    }

    /// Pushes a new object onto the stack (uncounted, as a Wasm frame holds it).
    fn push(&mut self, r: VMGcRef, obj: Obj) {
        self.objs.insert(r.as_raw(), obj);
        self.stack.push(r.as_raw());
        if self.stack.len() > 8 {
            self.stack.remove(0);
        }
    }

    fn alloc_node(&mut self) {
        let size = DRC_LAYOUTS
            .struct_layout(&[GcFieldKind::GcRef, GcFieldKind::GcRef])
            .size;
        let Some(r) = self
            .heap
            .alloc_object(VMGcKind::StructRef, NODE, size)
            .unwrap()
        else {
            return self.collect(true);
        };
        self.push(
            r,
            Obj {
                fields: vec![0, 0],
                host: None,
            },
        );
    }

    fn alloc_externref(&mut self) {
        let drops = Arc::new(AtomicUsize::new(0));
        let id = self.host_data.alloc(Box::new(Counted(drops.clone())));
        let Some(r) = self.heap.alloc_externref(id).unwrap() else {
            self.host_data.dealloc(id);
            return self.collect(true);
        };
        self.push(
            r,
            Obj {
                fields: Vec::new(),
                host: Some(drops),
            },
        );
    }

    /// Writes a random reachable object (or null) into a field of a reachable node.
    fn write_field(&mut self) {
        let Some(parent) = self.pick() else { return };
        if self.objs[&parent].fields.is_empty() {
            return;
        }
        let field = self.rng.below(2);
        let value = if self.rng.below(4) == 0 {
            0
        } else {
            self.pick().unwrap_or(0)
        };
        let r = VMGcRef::from_raw(parent).unwrap();
        let offset = self.offsets[field];
        let old = u32::from_le_bytes(self.heap.object_bytes(r, offset, 4).try_into().unwrap());
        self.heap
            .write_field_gc_ref(r, offset, VMGcRef::from_raw(value));
        let fields = &mut self.objs.get_mut(&parent).unwrap().fields;
        assert_eq!(fields[field], old, "the heap holds what the model wrote");
        fields[field] = value;
    }

    fn collect(&mut self, full: bool) {
        if full {
            self.heap.request_full_collection();
        }
        let mut roots = GcRootsList::new();
        for slot in &mut self.stack {
            // SAFETY: the slot holds a non-null reference and lives, untouched, until
            // `roots` is dropped at the end of this function.
            unsafe { roots.add_wasm_stack_root(NonNull::from(slot)) };
        }
        self.heap.gc(roots.iter(), &mut self.host_data).collect();
        drop(roots);
        self.check(full);
    }

    /// Runs a collection for at most `increments` increments of a small budget, then drops
    /// it: the heap must be as consistent as after a complete one, minus what it did not
    /// get to.
    fn collect_abandoned(&mut self) {
        let budget = 1 + self.rng.below(8);
        let increments = self.rng.below(12);
        self.heap.set_increment_budget(budget);
        let mut roots = GcRootsList::new();
        for slot in &mut self.stack {
            // SAFETY: as in `collect`.
            unsafe { roots.add_wasm_stack_root(NonNull::from(slot)) };
        }
        let mut c = self.heap.gc(roots.iter(), &mut self.host_data);
        let mut complete = false;
        for _ in 0..increments {
            if c.collect_increment() == GcProgress::Complete {
                complete = true;
                break;
            }
        }
        drop(c);
        drop(roots);
        self.heap.set_increment_budget(4096);
        self.abandoned += usize::from(!complete);
        self.check_after(false, complete);
    }

    fn check(&mut self, full: bool) {
        self.check_after(full, true);
    }

    /// Checks the heap against the model after a collection, `complete` or not.
    fn check_after(&mut self, full: bool, complete: bool) {
        let reachable = self.reachable();
        // Which objects the heap freed: no longer among its objects (young garbage is not
        // even visited: its space just becomes free).
        let in_heap: HashSet<u32> = self.heap.objects().iter().map(|r| r.as_raw()).collect();
        let freed: Vec<u32> = self
            .objs
            .keys()
            .copied()
            .filter(|r| !in_heap.contains(r))
            .collect();
        self.freed += freed.len();
        if full {
            // What a non-full collection would have left: garbage that a garbage cycle
            // holds, which only the backup trace frees.
            self.freed_in_cycles += freed
                .iter()
                .filter(|r| self.objs[r].fields.iter().any(|f| *f != 0))
                .count();
        }
        for r in &freed {
            assert!(!reachable.contains(r), "reachable object {r:#x} was freed");
            let obj = self.objs.remove(r).unwrap();
            if let Some(drops) = obj.host {
                self.dropped.push(drops);
            }
        }
        if full {
            assert_eq!(
                self.objs.len(),
                reachable.len(),
                "a full collection leaves only what is reachable"
            );
        }
        if complete {
            for &r in self.objs.keys() {
                assert!(
                    !self.heap.is_young(VMGcRef::from_raw(r).unwrap()),
                    "{r:#x} young after a collection"
                );
            }
        }
        // Counts: fields of every old object still in the heap (a young object's are not
        // counted), and host roots.
        let mut counts: HashMap<u32, u32> = HashMap::new();
        let heap = &self.heap;
        for r in self
            .objs
            .iter()
            .filter(|(r, _)| !heap.is_young(VMGcRef::from_raw(**r).unwrap()))
            .flat_map(|(_, o)| &o.fields)
            .chain(&self.host_roots)
        {
            if *r != 0 {
                *counts.entry(*r).or_default() += 1;
            }
        }
        for (&r, obj) in &self.objs {
            let gc_ref = VMGcRef::from_raw(r).unwrap();
            assert_eq!(
                self.heap.ref_count(gc_ref),
                counts.get(&r).copied().unwrap_or(0),
                "count of {r:#x}"
            );
            if let Some(drops) = &obj.host {
                assert_eq!(
                    drops.load(Ordering::SeqCst),
                    0,
                    "host value of a live object dropped"
                );
            }
        }
        for drops in &self.dropped {
            assert_eq!(
                drops.load(Ordering::SeqCst),
                1,
                "host value dropped exactly once"
            );
        }
        if complete {
            assert_eq!(self.heap.live_objects(), self.objs.len(), "live objects");
        }
    }

    fn step(&mut self) {
        match self.rng.below(20) {
            0..=5 => self.alloc_node(),
            6..=7 => self.alloc_externref(),
            8..=13 => self.write_field(),
            14..=15 => {
                if let Some(r) = self.stack.last().copied() {
                    self.heap.clone_gc_ref(&VMGcRef::from_raw(r).unwrap());
                    self.host_roots.push(r);
                }
            }
            16 => {
                if !self.host_roots.is_empty() {
                    let i = self.rng.below(self.host_roots.len());
                    let r = self.host_roots.swap_remove(i);
                    self.heap.drop_gc_ref(VMGcRef::from_raw(r).unwrap());
                }
            }
            17 => {
                if !self.stack.is_empty() {
                    let i = self.rng.below(self.stack.len());
                    self.stack.remove(i);
                }
            }
            18 => {
                if self.rng.below(2) == 0 {
                    self.collect(false)
                } else {
                    self.collect_abandoned()
                }
            }
            _ => {
                let full = self.rng.below(4) == 0;
                self.collect(full);
            }
        }
    }
}

#[test]
fn random_programs_agree_with_the_reachability_model() {
    let (mut freed, mut in_cycles, mut host_drops, mut traces) = (0, 0, 0, 0);
    let (mut abandoned, mut young_collections) = (0, 0);
    for seed in 0..40 {
        let mut p = Program::new(seed);
        for _ in 0..2000 {
            p.step();
        }
        // Everything goes: no roots, a full collection frees every object and host value.
        for r in std::mem::take(&mut p.host_roots) {
            p.heap.drop_gc_ref(VMGcRef::from_raw(r).unwrap());
        }
        p.stack.clear();
        p.collect(true);
        assert_eq!(p.heap.live_objects(), 0, "seed {seed}");
        assert!(p.host_data.is_empty(), "seed {seed}");
        freed += p.freed;
        in_cycles += p.freed_in_cycles;
        host_drops += p.dropped.len();
        traces += p.heap.traces();
        abandoned += p.abandoned;
        young_collections += p.heap.young_collections();
    }
    // The programs exercise what the checks are about.
    assert!(freed > 10_000, "{freed} objects freed");
    assert!(in_cycles > 100, "{in_cycles} freed by full collections");
    assert!(host_drops > 1_000, "{host_drops} host values dropped");
    assert!(traces > 40, "{traces} backup traces");
    assert!(abandoned > 500, "{abandoned} collections abandoned");
    assert!(
        young_collections > 2_000,
        "{young_collections} young collections"
    );
}
