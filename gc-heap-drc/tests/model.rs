//! The DRC heap against a reachability model. Seeded random programs allocate structs with
//! two reference fields and `externref` objects owning host values, write fields through
//! the barrier the engine uses (count the new reference, release the old), hold objects in
//! counted host roots and in uncounted Wasm-stack slots, and collect, sometimes fully.
//! After each collection:
//! - every object the model reaches is alive, and its count equals the counted references
//!   to it (fields of objects still in the heap, and host roots);
//! - nothing the model reaches is freed, and after a full collection nothing it cannot
//!   reach survives (cycles included);
//! - every host value is dropped exactly once, when its object is freed, and never before.

use gc_core::{
    DRC_LAYOUTS, ExternRefHostDataTable, GcFieldKind, GcHeap, GcHeapConfig, GcRootsList,
    GcTypeTrace, VMGcKind, VMGcRef,
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
        if let Some(v) = VMGcRef::from_raw(value) {
            self.heap.clone_gc_ref(&v);
        }
        let bytes = self.heap.object_bytes_mut(r, self.offsets[field], 4);
        let old = u32::from_le_bytes((&*bytes).try_into().unwrap());
        bytes.copy_from_slice(&value.to_le_bytes());
        if let Some(o) = VMGcRef::from_raw(old) {
            self.heap.drop_gc_ref(o);
        }
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

    fn check(&mut self, full: bool) {
        let reachable = self.reachable();
        // Which objects the heap freed: their kind word is cleared.
        let freed: Vec<u32> = self
            .objs
            .keys()
            .copied()
            .filter(|&r| {
                self.heap
                    .header(VMGcRef::from_raw(r).unwrap())
                    .kind()
                    .is_none()
            })
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
        // Counts: fields of every object still in the heap, and host roots.
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for r in self
            .objs
            .values()
            .flat_map(|o| &o.fields)
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
        assert_eq!(self.heap.live_objects(), self.objs.len(), "live objects");
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
            18 => self.collect(false),
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
    }
    // The programs exercise what the checks are about.
    assert!(freed > 10_000, "{freed} objects freed");
    assert!(in_cycles > 100, "{in_cycles} freed by full collections");
    assert!(host_drops > 1_000, "{host_drops} host values dropped");
    assert!(traces > 40, "{traces} backup traces");
}
