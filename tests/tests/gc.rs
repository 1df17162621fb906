//! Deferred reference counting of `externref`s, observed through host-data drops: every host
//! value is dropped exactly once after it becomes unreachable and a collection runs, and
//! never while a table, a global, a live Wasm frame or a host handle still holds it.

use engine::{Config, ExternRef, Instance, Ref, Store, Val};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::Counted;

const MODULE: &str = r#"(module
  (import "host" "gc" (func $gc))
  (table $t (export "table") 4 externref)
  (global $g (export "global") (mut externref) (ref.null extern))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "table_set") (param i32 externref) (table.set $t (local.get 0) (local.get 1)))
  (func (export "global_set") (param externref) (global.set $g (local.get 0)))
  ;; Moves slot 0 into a local, clears the slot, collects, and returns the local: during the
  ;; collection only this frame holds the reference.
  (func (export "take_across_gc") (result externref) (local $x externref)
    (local.set $x (table.get $t (i32.const 0)))
    (table.set $t (i32.const 0) (ref.null extern))
    (call $gc)
    (local.get $x))
  ;; The same, then traps (after using the local, so it is live across the collection).
  (func (export "take_and_trap") (local $x externref)
    (local.set $x (table.get $t (i32.const 0)))
    (table.set $t (i32.const 0) (ref.null extern))
    (call $gc)
    (drop (ref.is_null (local.get $x)))
    (unreachable))
)"#;

struct Fixture {
    store: Store<()>,
    instance: Instance,
}

fn fixture(config: &Config) -> Fixture {
    let (store, instance) = tests::instantiate_with_gc(config, MODULE).unwrap();
    Fixture { store, instance }
}

impl Fixture {
    fn call(&mut self, name: &str, args: &[Val]) -> anyhow::Result<Vec<Val>> {
        let f = self.instance.get_func(&self.store, name).unwrap();
        let mut results = vec![Val::ExternRef(None); f.ty(&self.store).results().len()];
        f.call(&mut self.store, args, &mut results)?;
        Ok(results)
    }

    fn new_ref(&mut self, drops: &Arc<AtomicUsize>) -> ExternRef {
        ExternRef::new(&mut self.store, Counted(drops.clone())).unwrap()
    }
}

/// The default configuration, GC stress mode, and heaps that reserve only their maximum size
/// (so compiled barriers check bounds).
fn configs() -> [Config; 3] {
    let mut stress = Config::new();
    stress.gc_stress(true);
    let mut checked = Config::new();
    checked
        .gc_heap_reserve_index_space(false)
        .gc_heap_max_size(1 << 20);
    [Config::new(), stress, checked]
}

#[test]
fn unreachable_host_data_is_dropped_exactly_once() {
    for config in configs() {
        let mut fx = fixture(&config);
        let drops = Arc::new(AtomicUsize::new(0));
        let r = fx.new_ref(&drops);
        let copy = r.clone();
        drop(r);
        fx.store.gc();
        assert_eq!(drops.load(Ordering::SeqCst), 0, "a clone still holds it");
        drop(copy);
        fx.store.gc();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        fx.store.gc();
        assert_eq!(drops.load(Ordering::SeqCst), 1, "never twice");
        assert_eq!(fx.store.gc_live_objects(), 0);
    }
}

#[test]
fn tables_and_globals_keep_references_alive() {
    for config in configs() {
        let mut fx = fixture(&config);
        let (in_table, in_global) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let a = fx.new_ref(&in_table);
        let b = fx.new_ref(&in_global);
        fx.call("table_set", &[Val::I32(2), Val::ExternRef(Some(a))])
            .unwrap();
        fx.call("global_set", &[Val::ExternRef(Some(b))]).unwrap();
        fx.store.gc();
        assert_eq!(in_table.load(Ordering::SeqCst), 0);
        assert_eq!(in_global.load(Ordering::SeqCst), 0);

        // The host reads them back: still the same values.
        let table = fx.instance.get_table(&fx.store, "table").unwrap();
        let Some(Ref::Extern(Some(from_table))) = table.get(&mut fx.store, 2) else {
            panic!("table slot 2 holds the reference")
        };
        assert!(from_table.data(&fx.store).unwrap().is::<Counted>());
        drop(from_table);

        // Overwriting releases them.
        fx.call("table_set", &[Val::I32(2), Val::ExternRef(None)])
            .unwrap();
        fx.store.gc();
        assert_eq!(in_table.load(Ordering::SeqCst), 1);
        assert_eq!(in_global.load(Ordering::SeqCst), 0);
        let global = fx.instance.get_global(&fx.store, "global").unwrap();
        global.set(&mut fx.store, Val::ExternRef(None)).unwrap();
        fx.store.gc();
        assert_eq!(in_global.load(Ordering::SeqCst), 1);
        assert_eq!(fx.store.gc_live_objects(), 0);
    }
}

#[test]
fn a_live_wasm_frame_keeps_its_reference_across_a_collection() {
    for config in configs() {
        let mut fx = fixture(&config);
        let drops = Arc::new(AtomicUsize::new(0));
        let r = fx.new_ref(&drops);
        fx.call("table_set", &[Val::I32(0), Val::ExternRef(Some(r))])
            .unwrap();
        // Now only table slot 0 holds it; `take_across_gc` moves it into a local, clears the
        // slot and collects while its frame is the only holder.
        let results = fx.call("take_across_gc", &[]).unwrap();
        assert_eq!(
            drops.load(Ordering::SeqCst),
            0,
            "freed while a frame held it"
        );
        let Val::ExternRef(Some(back)) = &results[0] else {
            panic!("got {results:?}")
        };
        assert!(
            back.data(&fx.store).unwrap().is::<Counted>(),
            "host data intact"
        );
        drop(results);
        fx.store.gc();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn references_crossing_the_boundary_many_times_are_dropped_once() {
    for config in configs() {
        let mut fx = fixture(&config);
        let drops = Arc::new(AtomicUsize::new(0));
        let mut r = fx.new_ref(&drops);
        let first = r.clone();
        for i in 0..2_000 {
            let out = fx.call("id", &[Val::ExternRef(Some(r))]).unwrap();
            let Val::ExternRef(Some(next)) = &out[0] else {
                panic!("iteration {i}: {out:?}")
            };
            assert!(ExternRef::ptr_eq(next, &first));
            r = next.clone();
            if i % 500 == 0 {
                fx.store.gc();
            }
        }
        fx.store.gc();
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop((r, first));
        fx.store.gc();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(fx.store.gc_live_objects(), 0);
    }
}

#[test]
fn a_trap_mid_call_releases_frame_references_but_not_stored_ones() {
    for config in configs() {
        let mut fx = fixture(&config);
        let (held, stored) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let h = fx.new_ref(&held);
        let s = fx.new_ref(&stored);
        fx.call("table_set", &[Val::I32(0), Val::ExternRef(Some(h))])
            .unwrap();
        fx.call("table_set", &[Val::I32(1), Val::ExternRef(Some(s))])
            .unwrap();
        let err = fx.call("take_and_trap", &[]).unwrap_err();
        assert_eq!(
            err.downcast_ref::<engine::Trap>(),
            Some(&engine::Trap::Unreachable)
        );
        assert_eq!(
            held.load(Ordering::SeqCst),
            0,
            "the frame held it during the collection"
        );
        // The trapped frame is gone: its reference is garbage now; the stored one is not.
        fx.store.gc();
        assert_eq!(held.load(Ordering::SeqCst), 1);
        assert_eq!(stored.load(Ordering::SeqCst), 0);
        // The store is still usable.
        let out = fx.call("id", &[Val::ExternRef(None)]).unwrap();
        assert!(matches!(out[0], Val::ExternRef(None)));
    }
}

/// A host value whose `Drop` panics.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("bomb dropped");
    }
}

#[test]
fn a_panicking_host_drop_during_a_collection_in_wasm_unwinds_to_the_caller() {
    // The barrier's slow path never collects; the collection the released `Bomb` waits
    // for runs in the next allocation Wasm makes (in stress mode, every allocation that
    // leaves compiled code), which drops it inside a builtin called from Wasm: the panic
    // must reach the host's call, not abort.
    const ALLOCATING: &str = r#"(module
      (type $s (struct (field i32)))
      (table $t (export "table") 4 externref)
      (func (export "table_set") (param i32 externref) (table.set $t (local.get 0) (local.get 1)))
      (func (export "id") (param externref) (result externref) (local.get 0))
      (func (export "alloc") (param i32)
        (loop $l
          (drop (struct.new $s (local.get 0)))
          (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))"#;
    let mut config = Config::new();
    config.gc_stress(true);
    let (store, instance) = tests::instantiate_with_gc(&config, ALLOCATING).unwrap();
    let mut fx = Fixture { store, instance };
    let bomb = ExternRef::new(&mut fx.store, Bomb).unwrap();
    fx.call("table_set", &[Val::I32(3), Val::ExternRef(Some(bomb))])
        .unwrap();
    // Released by compiled code; nothing collects yet.
    fx.call("table_set", &[Val::I32(3), Val::ExternRef(None)])
        .unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fx.call("alloc", &[Val::I32(100)])
    }));
    let panic = result.expect_err("the Drop's panic propagates");
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"bomb dropped"));
    // The store is still usable and its heap consistent.
    fx.call("alloc", &[Val::I32(100)]).unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let r = fx.new_ref(&drops);
    let out = fx.call("id", &[Val::ExternRef(Some(r))]).unwrap();
    drop(out);
    fx.store.gc();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(fx.store.gc_live_objects(), 0);
}
