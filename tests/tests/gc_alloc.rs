//! Structs and small arrays allocated inline by compiled code (the bump path of the DRC
//! heap) are traced and counted like any other object: a reachable list built among garbage
//! survives many collections intact, and every unreachable object (with its host value) is
//! freed once.

use engine::{Config, ExternRef, Val};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::{Counted, instantiate_with_gc};

const MODULE: &str = r#"(module
  (import "host" "gc" (func $gc))
  (type $node (struct (field $next (ref null $node)) (field $v i64) (field $host externref)))
  (global $head (mut (ref null $node)) (ref.null $node))
  ;; Prepends nodes n..1 to the list; before each, a garbage node holding `host`. Collects
  ;; every 1000 nodes, while the newest garbage node is still in a local.
  (func (export "build") (param $n i32) (param $host externref)
    (local $garbage (ref null $node))
    (loop $l
      (local.set $garbage
        (struct.new $node (ref.null $node) (i64.const -1) (local.get $host)))
      (global.set $head
        (struct.new $node (global.get $head) (i64.extend_i32_u (local.get $n))
          (ref.null extern)))
      (if (i32.eqz (i32.rem_u (local.get $n) (i32.const 1000)))
        (then (call $gc)
              (drop (struct.get $node $v (local.get $garbage)))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "sum") (result i64) (local $p (ref null $node)) (local $s i64)
    (local.set $p (global.get $head))
    (block $done
      (loop $l
        (br_if $done (ref.is_null (local.get $p)))
        (local.set $s (i64.add (local.get $s) (struct.get $node $v (local.get $p))))
        (local.set $p (struct.get $node $next (local.get $p)))
        (br $l)))
    (local.get $s))
  (func (export "clear") (global.set $head (ref.null $node)))
)"#;

fn run(config: &Config) {
    let (mut store, instance) = instantiate_with_gc(config, MODULE).unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let n: u32 = 20_000;
    let host = ExternRef::new(&mut store, Counted(drops.clone())).unwrap();
    let build = instance.get_func(&store, "build").unwrap();
    build
        .call(
            &mut store,
            &[Val::I32(n as i32), Val::ExternRef(Some(host.clone()))],
            &mut [],
        )
        .unwrap();
    let sum = instance.get_func(&store, "sum").unwrap();
    let mut result = [Val::I64(0)];
    sum.call(&mut store, &[], &mut result).unwrap();
    let n = u64::from(n);
    assert_eq!(result[0].i64().expect("i64") as u64, n * (n + 1) / 2);
    // The list survives; the garbage goes (the host value stays held by `host`).
    store.gc();
    assert_eq!(
        store.gc_live_objects(),
        n as usize + 1,
        "list and host value"
    );
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    let clear = instance.get_func(&store, "clear").unwrap();
    clear.call(&mut store, &[], &mut []).unwrap();
    drop(host);
    store.gc();
    assert_eq!(store.gc_live_objects(), 0);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn inline_allocated_structs_are_traced_counted_and_freed() {
    run(&Config::new());
}

#[test]
fn inline_allocation_with_bounds_checked_heaps() {
    let mut config = Config::new();
    config
        .gc_heap_reserve_index_space(false)
        .gc_heap_max_size(4 << 20);
    run(&config);
}

#[test]
fn stress_mode_collects_at_every_allocation() {
    let mut config = Config::new();
    config.gc_stress(true);
    run(&config);
}

const ARRAYS: &str = r#"(module
  (import "host" "gc" (func $gc))
  (type $bytes (array (mut i8)))
  (type $cell (struct (field i32)))
  (type $cells (array (ref null $cell)))
  (global $keep (mut (ref null $cells)) (ref.null $cells))
  ;; Each round: garbage byte arrays of growing length (inline up to the limit, then by the
  ;; runtime), and a kept array of three cells replacing the previous one. Returns the sum
  ;; of the kept cells' values plus the garbage arrays' lengths.
  (func (export "run") (param $rounds i32) (result i64) (local $i i32) (local $sum i64)
    (loop $l
      (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_u (array.len
        (array.new_default $bytes (i32.rem_u (i32.mul (local.get $i) (i32.const 7))
                                             (i32.const 1200)))))))
      (global.set $keep (array.new_fixed $cells 3
        (struct.new $cell (local.get $i))
        (struct.new $cell (i32.add (local.get $i) (i32.const 1)))
        (struct.new $cell (i32.add (local.get $i) (i32.const 2)))))
      (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 500))) (then (call $gc)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $rounds))))
    (i64.add (local.get $sum) (i64.extend_i32_u (i32.add (i32.add
      (struct.get $cell 0 (array.get $cells (global.get $keep) (i32.const 0)))
      (struct.get $cell 0 (array.get $cells (global.get $keep) (i32.const 1))))
      (struct.get $cell 0 (array.get $cells (global.get $keep) (i32.const 2)))))))
)"#;

#[test]
fn inline_allocated_arrays_are_traced_and_freed() {
    let mut stress = Config::new();
    stress.gc_stress(true);
    let mut checked = Config::new();
    checked
        .gc_heap_reserve_index_space(false)
        .gc_heap_max_size(4 << 20);
    for config in [Config::new(), stress, checked] {
        let (mut store, instance) = instantiate_with_gc(&config, ARRAYS).unwrap();
        let rounds: u64 = 5000;
        let run = instance.get_func(&store, "run").unwrap();
        let mut result = [Val::I64(0)];
        run.call(&mut store, &[Val::I32(rounds as i32)], &mut result)
            .unwrap();
        let lengths: u64 = (0..rounds).map(|i| i * 7 % 1200).sum();
        let last = rounds - 1;
        assert_eq!(result[0].i64().expect("i64") as u64, lengths + 3 * last + 3);
        store.gc();
        assert_eq!(store.gc_live_objects(), 4, "the kept array and its cells");
    }
}
