//! Inlining of tiny leaf functions (`Config::inlining`): calls of them compute the same
//! results, traps after them report the same backtraces, references their bodies store
//! are counted the same, and epoch deadlines still stop loops that call them, with inlining
//! on (the default) and off.

use engine::{Config, Engine, ExternRef, Instance, Module, Store, Trap, Val, WasmBacktrace};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tests::Counted;

const LEAVES: &str = r#"(module $leaves
  (type $box (struct (field i32)))
  (tag $e (param i32))
  (global $g (mut externref) (ref.null extern))
  (global $n (mut i32) (i32.const 0))
  (func $id (param externref) (result externref) (local.get 0))
  (func $set (param externref) (global.set $g (local.get 0)))
  (func $held (result i32) (i32.eqz (ref.is_null (global.get $g))))
  (func $add3 (param i32 i32 i32) (result i32)
    (i32.add (i32.add (local.get 0) (local.get 1)) (local.get 2)))
  (func $pick (param i32 i32) (result i32)
    (if (result i32) (i32.lt_s (local.get 0) (local.get 1))
      (then (local.get 1)) (else (local.get 0))))
  (func $bump (result i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (global.get $n))
  (func $half (param f64) (result f64) (f64.mul (local.get 0) (f64.const 0.5)))
  (func $early (param i32) (result i32)
    (if (local.get 0) (then (return (i32.const 10))))
    (i32.const 20))
  (func $swap (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
  (func $classify (param i32) (result i32)
    (block $two (block $one (block $zero
      (br_table $zero $one $two (i32.and (local.get 0) (i32.const 3))))
      (return (i32.const 100)))
    (return (i32.const 200)))
    (i32.const 300))

  ;; Mixes every leaf in a loop (one returns two values, one branches through a
  ;; `br_table`), some of them inside a `try_table`.
  (func (export "run") (param $x externref) (param $k i32) (result i32)
    (local $acc i32) (local $i i32) (local $w i64)
    (loop $l
      (call $set (call $id (local.get $x)))
      (local.set $acc (call $add3 (local.get $acc) (call $held) (call $bump)))
      (block $h (result i32)
        (try_table (catch $e $h)
          (local.set $acc (call $pick (local.get $acc) (call $early (local.get $i)))))
        (i32.const 0))
      (drop)
      (local.set $acc (i32.add (local.get $acc)
        (i32.trunc_sat_f64_s (call $half (f64.convert_i32_s (local.get $i))))))
      (local.set $acc (i32.add (local.get $acc) (call $classify (local.get $i))))
      (call $swap (local.get $acc) (i64.extend_i32_u (local.get $i)))
      (local.set $acc)
      (local.set $w)
      (local.set $acc (i32.add (local.get $acc) (i32.wrap_i64 (local.get $w))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $k))))
    (local.get $acc))
  ;; Stores a fresh reference through the inlined `$set` inside a `try_table` (where its
  ;; barrier's runtime call becomes a `try_call`), with a reference and a number live
  ;; across it; every store releases the previous box, so the barrier log fills.
  (func (export "set_in_try") (param $k i32) (result i32)
    (local $i i32) (local $keep (ref null $box)) (local $acc i32)
    (local.set $keep (struct.new $box (i32.const 5)))
    (loop $l
      (block $h (result i32)
        (try_table (catch $e $h)
          (call $set (extern.convert_any (struct.new $box (local.get $i)))))
        (i32.const 0))
      (drop)
      (local.set $acc (i32.add (local.get $acc) (struct.get $box 0 (local.get $keep))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $k))))
    (i32.add (local.get $acc)
      (struct.get $box 0 (ref.cast (ref $box) (any.convert_extern (global.get $g))))))
  (func (export "store") (param externref) (call $set (local.get 0)))
  (func (export "clear") (call $set (ref.null extern)))
  ;; Traps right after an inlined call.
  (func (export "trap_after") (param i32) (result i32)
    (i32.div_s (call $add3 (local.get 0) (i32.const 1) (i32.const 2)) (i32.const 0)))
  ;; Never returns unless interrupted.
  (func (export "spin") (local $i i32)
    (loop $l
      (local.set $i (call $add3 (local.get $i) (i32.const 1) (call $early (local.get $i))))
      (br $l))))"#;

fn instantiate(inlining: bool, configure: impl FnOnce(&mut Config)) -> (Store<()>, Instance) {
    let mut config = Config::new();
    config.inlining(inlining);
    configure(&mut config);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, LEAVES).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn call(store: &mut Store<()>, instance: &Instance, name: &str, args: &[Val]) -> Vec<Val> {
    let f = instance.get_func(&*store, name).unwrap();
    let mut results = vec![Val::I32(0); f.ty(&*store).results().len()];
    f.call(store, args, &mut results).unwrap();
    results
}

#[test]
fn inlined_calls_compute_what_calls_compute() {
    let mut results = Vec::new();
    for inlining in [true, false] {
        let (mut store, instance) = instantiate(inlining, |_| {});
        let x = ExternRef::new(&mut store, 7u32).unwrap();
        let out = call(
            &mut store,
            &instance,
            "run",
            &[Val::ExternRef(Some(x)), Val::I32(1000)],
        );
        let Val::I32(acc) = out[0] else {
            panic!("run returns an i32")
        };
        results.push(acc);
    }
    assert_eq!(results[0], results[1]);
    assert_ne!(results[0], 0, "the loop ran");
}

#[test]
fn a_trap_after_an_inlined_call_has_the_same_backtrace() {
    let mut backtraces = Vec::new();
    for inlining in [true, false] {
        let (mut store, instance) = instantiate(inlining, |_| {});
        let f = instance.get_func(&store, "trap_after").unwrap();
        let err = f
            .call(&mut store, &[Val::I32(1)], &mut [Val::I32(0)])
            .unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::IntegerDivisionByZero)
        );
        let frames = err
            .downcast_ref::<WasmBacktrace>()
            .expect("a backtrace")
            .frames()
            .to_vec();
        assert_eq!(frames.len(), 1, "only the trapping function is active");
        backtraces.push(frames);
    }
    assert_eq!(backtraces[0], backtraces[1]);
}

#[test]
fn references_that_inlined_bodies_store_are_counted() {
    for inlining in [true, false] {
        let (mut store, instance) = instantiate(inlining, |_| {});
        let drops = Arc::new(AtomicUsize::new(0));
        let r = ExternRef::new(&mut store, Counted(drops.clone())).unwrap();
        call(&mut store, &instance, "store", &[Val::ExternRef(Some(r))]);
        store.gc();
        assert_eq!(drops.load(Ordering::SeqCst), 0, "the global holds it");
        call(&mut store, &instance, "clear", &[]);
        store.gc();
        assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped once cleared");
        assert_eq!(store.gc_live_objects(), 0);
    }
}

#[test]
fn an_inlined_barrier_in_a_try_table_keeps_what_is_live_across_it() {
    for inlining in [true, false] {
        for stress in [false, true] {
            let (mut store, instance) = instantiate(inlining, |c| {
                c.gc_stress(stress);
            });
            let k = 5000;
            let out = call(&mut store, &instance, "set_in_try", &[Val::I32(k)]);
            let Val::I32(acc) = out[0] else {
                panic!("set_in_try returns an i32")
            };
            assert_eq!(acc, 5 * k + (k - 1), "inlining {inlining}, stress {stress}");
            call(&mut store, &instance, "clear", &[]);
            store.gc();
            assert_eq!(store.gc_live_objects(), 0, "every box was freed");
        }
    }
}

#[test]
fn an_epoch_deadline_stops_a_loop_of_inlined_calls() {
    for inlining in [true, false] {
        let (mut store, instance) = instantiate(inlining, |c| {
            c.epoch_interruption(true);
        });
        let engine = store.engine().clone();
        store.set_epoch_deadline(1);
        let ticker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            engine.increment_epoch();
        });
        let f = instance.get_func(&store, "spin").unwrap();
        let err = f.call(&mut store, &[], &mut []).unwrap_err();
        ticker.join().unwrap();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
    }
}
