//! The externref churn benchmark ten times longer, plus a variant that allocates a fresh
//! externref on every iteration: the GC heap stays bounded and the process memory flat. In a
//! file of its own so that no other test shares the process whose memory it measures.

use engine::{Engine, ExternRef, Func, FuncType, Instance, Module, Store, Val};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::{Counted, rss};

/// `../shared/bench/externref_churn.wast` ten times longer, plus a variant that allocates a
/// fresh externref each iteration: the heap stays bounded and the process memory flat.
#[test]
fn long_churn_keeps_memory_flat() {
    let churn = r#"(module
      (import "host" "fresh" (func $fresh (result externref)))
      (table $t 16 externref)
      (global $g (mut externref) (ref.null extern))
      (func $id (param externref) (result externref) (local.get 0))
      (func (export "init") (param $e externref)
        (table.fill $t (i32.const 0) (local.get $e) (i32.const 16)))
      (func (export "run") (param $n i32) (result i32)
        (local $i i32) (local $x externref) (local $cnt i32)
        (loop $l
          (local.set $x (call $id (table.get $t (i32.and (local.get $i) (i32.const 15)))))
          (table.set $t (i32.and (i32.add (local.get $i) (i32.const 7)) (i32.const 15)) (local.get $x))
          (global.set $g (local.get $x))
          (if (i32.eqz (ref.is_null (global.get $g)))
            (then (local.set $cnt (i32.add (local.get $cnt) (i32.const 1)))))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (local.get $cnt))
      (func (export "allocating") (param $n i32)
        (local $i i32)
        (loop $l
          (table.set $t (i32.and (local.get $i) (i32.const 15)) (call $fresh))
          (global.set $g (call $fresh))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
    )"#;
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let drops = Arc::new(AtomicUsize::new(0));
    let fresh_drops = drops.clone();
    let fresh = Func::new(
        &mut store,
        FuncType::new([], [engine::ValType::EXTERNREF]),
        move |mut caller, _, results| {
            results[0] = Val::ExternRef(Some(ExternRef::new(
                &mut caller,
                Counted(fresh_drops.clone()),
            )?));
            Ok(())
        },
    );
    let module = Module::new(&engine, churn).unwrap();
    let instance = Instance::new(&mut store, &module, &[fresh.into()]).unwrap();
    let r = ExternRef::new(&mut store, 1u32).unwrap();
    instance
        .get_func(&store, "init")
        .unwrap()
        .call(&mut store, &[Val::ExternRef(Some(r))], &mut [])
        .unwrap();
    let run = instance.get_typed_func::<i32, i32>(&store, "run").unwrap();
    let allocating = instance
        .get_typed_func::<i32, ()>(&store, "allocating")
        .unwrap();

    let before = rss();
    // Ten times the benchmark's 200 million iterations, in ten calls.
    for _ in 0..10 {
        assert_eq!(run.call(&mut store, 200_000_000).unwrap(), 200_000_000);
    }
    assert_eq!(
        store.gc_live_objects(),
        1,
        "the churn moves one reference around"
    );

    // Two million fresh references: all but the ones still in the table and the global are
    // reclaimed along the way.
    for _ in 0..20 {
        allocating.call(&mut store, 50_000).unwrap();
        assert!(
            store.gc_live_objects() < 20_000,
            "{} live",
            store.gc_live_objects()
        );
    }
    store.gc();
    // Sixteen table slots and the global; the first reference was overwritten too.
    assert_eq!(store.gc_live_objects(), 16 + 1);
    assert_eq!(drops.load(Ordering::SeqCst), 2_000_000 - 17);
    let growth = rss().saturating_sub(before);
    assert!(growth < 32 << 20, "RSS grew by {growth} bytes");
}
