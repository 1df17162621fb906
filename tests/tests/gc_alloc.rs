//! Structs allocated inline by compiled code (the bump path of the DRC heap) are traced and
//! counted like any other object: a reachable list built among garbage survives many
//! collections intact, and every unreachable node (with its host value) is freed once.

use engine::{Config, Engine, ExternRef, Func, FuncType, Linker, Module, Store, Val};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::Counted;

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
    let engine = Engine::new(config).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let gc = Func::new(&mut store, FuncType::new([], []), |mut caller, _, _| {
        caller.gc();
        Ok(())
    });
    linker.define(&store, "host", "gc", gc).unwrap();
    let module = Module::new(&engine, MODULE).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
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
