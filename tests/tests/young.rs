//! The DRC's young generation seen from Wasm: new objects are young (their fields are not
//! counted); storing one into a table, a global or an old object logs it, and it survives
//! the next collection with everything it holds; young garbage, cycles included, goes at
//! the next collection without a backup trace; a young object converted to `externref`
//! is promoted on the spot. Each case runs under `GcStress` too, where the runtime collects
//! every few allocations.

use engine::{Config, Store};
use tests::instantiate_with_gc;

const YOUNG: &str = r#"(module
  (import "host" "gc" (func $gc))
  (type $node (struct (field $v i32) (field $next (mut (ref null $node)))))
  (type $box (struct (field $x (mut externref))))
  (table $t 4 anyref)
  (table $e 4 externref)
  (global $g (mut (ref null $node)) (ref.null $node))
  (global $old (mut (ref null $node)) (ref.null $node))

  ;; A young node holding a young child, stored into the table: both survive.
  (func (export "into_table")
    (table.set $t (i32.const 0)
      (struct.new $node (i32.const 1) (struct.new $node (i32.const 2) (ref.null $node)))))
  (func (export "table_sum") (result i32) (local $n (ref $node))
    (local.set $n (ref.cast (ref $node) (table.get $t (i32.const 0))))
    (i32.add (struct.get $node $v (local.get $n))
      (struct.get $node $v (ref.as_non_null (struct.get $node $next (local.get $n))))))

  ;; `n` young two-node cycles, dropped at once.
  (func (export "cycles") (param $n i32) (local $a (ref null $node)) (local $b (ref null $node))
    (loop $l
      (local.set $a (struct.new $node (i32.const 1) (ref.null $node)))
      (local.set $b (struct.new $node (i32.const 2) (local.get $a)))
      (struct.set $node $next (local.get $a) (local.get $b))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))

  ;; An old node (promoted by a collection) given a young child through a store: the
  ;; barrier logs the child.
  (func (export "make_old") (global.set $old (struct.new $node (i32.const 10) (ref.null $node))))
  (func (export "old_gets_young")
    (struct.set $node $next (ref.as_non_null (global.get $old))
      (struct.new $node (i32.const 20) (ref.null $node))))
  (func (export "old_sum") (result i32) (local $n (ref $node))
    (local.set $n (ref.as_non_null (global.get $old)))
    (i32.add (struct.get $node $v (local.get $n))
      (struct.get $node $v (ref.as_non_null (struct.get $node $next (local.get $n))))))

  ;; A young node made an `externref` and kept only in an `externref` table, and one kept
  ;; in a young box's `externref` field that is itself made an `externref`.
  (func (export "externalize")
    (table.set $e (i32.const 0)
      (extern.convert_any (struct.new $node (i32.const 5) (ref.null $node))))
    (table.set $e (i32.const 1) (extern.convert_any
      (struct.new $box (extern.convert_any (struct.new $node (i32.const 6) (ref.null $node)))))))
  (func (export "extern_sum") (result i32)
    (i32.add
      (struct.get $node $v
        (ref.cast (ref $node) (any.convert_extern (table.get $e (i32.const 0)))))
      (struct.get $node $v (ref.cast (ref $node) (any.convert_extern
        (struct.get $box $x
          (ref.cast (ref $box) (any.convert_extern (table.get $e (i32.const 1))))))))))

  ;; A young node held only by a global, then replaced: the first one dies young.
  (func (export "replace_global") (param $n i32)
    (loop $l
      (global.set $g (struct.new $node (local.get $n) (global.get $g)))
      (global.set $g (struct.new $node (local.get $n) (ref.null $node)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "global_v") (result i32) (struct.get $node $v (ref.as_non_null (global.get $g))))
  (func (export "clear") (global.set $g (ref.null $node)) (global.set $old (ref.null $node))
    (table.fill $t (i32.const 0) (ref.null any) (i32.const 4))
    (table.fill $e (i32.const 0) (ref.null extern) (i32.const 4)))
)"#;

fn configs() -> [Config; 2] {
    let mut stress = Config::new();
    stress.gc_stress(true);
    [Config::new(), stress]
}

fn call(store: &mut Store<()>, instance: &engine::Instance, name: &str) {
    let f = instance
        .get_typed_func::<(), ()>(&mut *store, name)
        .unwrap();
    f.call(&mut *store, ()).unwrap();
}

fn call_i32(store: &mut Store<()>, instance: &engine::Instance, name: &str) -> i32 {
    let f = instance
        .get_typed_func::<(), i32>(&mut *store, name)
        .unwrap();
    f.call(&mut *store, ()).unwrap()
}

#[test]
fn young_values_in_counted_slots_survive_with_what_they_hold() {
    for config in configs() {
        let (mut store, instance) = instantiate_with_gc(&config, YOUNG).unwrap();
        call(&mut store, &instance, "into_table");
        store.gc();
        assert_eq!(store.gc_live_objects(), 2, "the node and its child");
        assert_eq!(call_i32(&mut store, &instance, "table_sum"), 3);
        // An old object's new young child is kept by the old object alone.
        call(&mut store, &instance, "make_old");
        store.gc();
        call(&mut store, &instance, "old_gets_young");
        store.gc();
        assert_eq!(store.gc_live_objects(), 4);
        assert_eq!(call_i32(&mut store, &instance, "old_sum"), 30);
        call(&mut store, &instance, "clear");
        store.gc();
        assert_eq!(store.gc_live_objects(), 0);
    }
}

#[test]
fn young_cycles_go_without_a_backup_trace() {
    for (config, n) in configs().into_iter().zip([100_000, 10_000]) {
        let (mut store, instance) = instantiate_with_gc(&config, YOUNG).unwrap();
        let f = instance
            .get_typed_func::<i32, ()>(&mut store, "cycles")
            .unwrap();
        // 100,000 cycles of two 32-byte nodes: 6.4 MB of garbage, collected as it goes
        // within the default heap (10,000 under stress, which collects every few nodes).
        f.call(&mut store, n).unwrap();
        assert!(store.gc_count() > 0, "collections ran");
        store.gc();
        assert_eq!(store.gc_live_objects(), 0);
    }
}

#[test]
fn young_objects_made_externrefs_are_promoted() {
    for config in configs() {
        let (mut store, instance) = instantiate_with_gc(&config, YOUNG).unwrap();
        call(&mut store, &instance, "externalize");
        store.gc();
        assert_eq!(store.gc_live_objects(), 3, "two nodes and the box");
        assert_eq!(call_i32(&mut store, &instance, "extern_sum"), 11);
        call(&mut store, &instance, "clear");
        store.gc();
        assert_eq!(store.gc_live_objects(), 0);
    }
}

#[test]
fn replaced_young_values_die_young() {
    for config in configs() {
        let (mut store, instance) = instantiate_with_gc(&config, YOUNG).unwrap();
        let f = instance
            .get_typed_func::<i32, ()>(&mut store, "replace_global")
            .unwrap();
        f.call(&mut store, 50_000).unwrap();
        assert_eq!(call_i32(&mut store, &instance, "global_v"), 1);
        store.gc();
        assert_eq!(store.gc_live_objects(), 1, "only the global's last node");
    }
}
