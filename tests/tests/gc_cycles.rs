//! Cyclic garbage is reclaimed: `../shared/bench/cycles.wast`'s loop (two-struct cycles,
//! each dropped at once) runs in bounded memory, and host values reachable only from a
//! cycle are dropped. In a file of its own so no other test shares the process whose
//! memory it measures.

use engine::{Config, Engine, ExternRef, Instance, Module, Store, Val};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::{Counted, rss};

const CYCLES: &str = r#"(module
  (type $pair (struct (field (mut (ref null $pair))) (field i64) (field (mut externref))))
  (func (export "run") (param $n i32) (param $host externref) (result i32)
    (local $a (ref null $pair)) (local $b (ref null $pair)) (local $i i32)
    (loop $l
      (local.set $a (struct.new $pair (ref.null $pair) (i64.const 1) (local.get $host)))
      (local.set $b (struct.new $pair (local.get $a) (i64.const 2) (ref.null extern)))
      (struct.set $pair 0 (local.get $a) (local.get $b))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (local.get $i)))"#;

#[test]
fn cycles_are_collected_in_bounded_memory() {
    // A 16 MiB heap: without cycle collection the loop below would exhaust it six times.
    let mut config = Config::new();
    config.gc_heap_max_size(16 << 20);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, CYCLES).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let run = instance.get_func(&store, "run").unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let host = ExternRef::new(&mut store, Counted(drops.clone())).unwrap();
    let before = rss();
    // A million cycles of 2 x 48 bytes: 96 MB if never freed.
    let mut out = [Val::I32(0)];
    run.call(
        &mut store,
        &[Val::I32(1_000_000), Val::ExternRef(Some(host))],
        &mut out,
    )
    .unwrap();
    assert_eq!(out[0].i32(), Some(1_000_000));
    let growth = rss().saturating_sub(before);
    assert!(growth < 32 << 20, "RSS grew by {growth} bytes");
    // Only cycles held the host value: once they are collected, it is dropped, once.
    store.gc();
    assert_eq!(store.gc_live_objects(), 0);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}
