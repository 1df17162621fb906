//! Stopping runaway Wasm: epoch deadlines (from another thread, with a callback that extends
//! them) and fuel (exact accounting, refuelling), with GC references live in the stopped
//! frames.

use engine::{Config, Engine, Instance, Module, Store, Trap, UpdateDeadline};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

fn engine(configure: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    configure(&mut config);
    Engine::new(&config).unwrap()
}

/// The trap an error carries, if any.
fn trap(err: &anyhow::Error) -> Option<Trap> {
    err.downcast_ref::<Trap>().copied()
}

const SPIN: &str = r#"(module
    (func (export "spin") (loop (br 0)))
    (func $recurse (export "recurse") (return_call $recurse))
    (func (export "add") (result i32) (i32.add (i32.const 1) (i32.const 2))))"#;

#[test]
fn an_epoch_deadline_stops_a_loop_from_another_thread() {
    let engine = engine(|c| {
        c.epoch_interruption(true);
    });
    let module = Module::new(&engine, SPIN).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = instance.get_func(&store, "spin").unwrap();
    for name in ["spin", "recurse"] {
        let f = instance.get_func(&store, name).unwrap();
        store.set_epoch_deadline(1);
        let ticker = {
            let engine = engine.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                engine.increment_epoch();
            })
        };
        let started = Instant::now();
        let err = f.call(&mut store, &[], &mut []).unwrap_err();
        ticker.join().unwrap();
        assert_eq!(trap(&err), Some(Trap::Interrupt), "{name}: {err:#}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    // The store stays usable, and a passed deadline stops the next call at once.
    let err = spin.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::Interrupt));
    store.set_epoch_deadline(1_000);
    let add = instance.get_typed_func::<(), i32>(&store, "add").unwrap();
    assert_eq!(add.call(&mut store, ()).unwrap(), 3);
}

#[test]
fn an_epoch_callback_extends_the_deadline_then_fails_the_call() {
    let engine = engine(|c| {
        c.epoch_interruption(true);
    });
    let module = Module::new(&engine, SPIN).unwrap();
    let mut store = Store::new(&engine, 0u32);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = instance.get_func(&store, "spin").unwrap();
    store.epoch_deadline_callback(|mut cx| {
        *cx.data_mut() += 1;
        if *cx.data() < 5 {
            Ok(UpdateDeadline::Continue(1))
        } else {
            anyhow::bail!("enough after {} ticks", cx.data())
        }
    });
    store.set_epoch_deadline(1);
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (engine, stop) = (engine.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
                engine.increment_epoch();
            }
        })
    };
    let err = spin.call(&mut store, &[], &mut []).unwrap_err();
    stop.store(true, Ordering::Relaxed);
    ticker.join().unwrap();
    assert!(
        format!("{err:#}").contains("enough after 5 ticks"),
        "{err:#}"
    );
    assert_eq!(*store.data(), 5);
    // Back to trapping.
    store.epoch_deadline_trap();
    let err = spin.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::Interrupt));
}

#[test]
fn fuel_is_counted_exactly_and_stops_loops() {
    let engine = engine(|c| {
        c.consume_fuel(true);
    });
    let module = Module::new(&engine, SPIN).unwrap();
    let mut store = Store::new(&engine, ());
    assert_eq!(store.get_fuel().unwrap(), 0, "a store starts with none");
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let add = instance.get_typed_func::<(), i32>(&store, "add").unwrap();
    let err = add.call(&mut store, ()).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::OutOfFuel));
    assert_eq!(
        err.root_cause().to_string(),
        "all fuel consumed by WebAssembly"
    );

    // The call, two constants and an add: four units (Wasmtime's costs).
    store.set_fuel(100).unwrap();
    assert_eq!(add.call(&mut store, ()).unwrap(), 3);
    assert_eq!(store.get_fuel().unwrap(), 96);

    for name in ["spin", "recurse"] {
        store.set_fuel(10_000).unwrap();
        let f = instance.get_func(&store, name).unwrap();
        let err = f.call(&mut store, &[], &mut []).unwrap_err();
        assert_eq!(trap(&err), Some(Trap::OutOfFuel), "{name}");
        assert_eq!(store.get_fuel().unwrap(), 0);
    }
    // Four units run it; three stop it at its end (checks come at entries and loops, so
    // straight-line code finishes its block).
    store.set_fuel(5).unwrap();
    assert_eq!(add.call(&mut store, ()).unwrap(), 3);
    store.set_fuel(1).unwrap();
    let err = add.call(&mut store, ()).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::OutOfFuel));
}

/// Legacy exception handling costs what its `try_table` counterpart does: `try` and
/// `rethrow` one each, the clauses nothing, whether the body throws or falls through.
#[test]
fn fuel_counts_legacy_exception_handling() {
    let engine = engine(|c| {
        c.consume_fuel(true).wasm_legacy_exceptions(true);
    });
    let module = Module::new(
        &engine,
        r#"(module
            (tag $e (param i32))
            (func (export "try") (param i32) (result i32)
              try (result i32)
                local.get 0
                if
                  i32.const 7
                  throw $e
                end
                i32.const 1
              catch $e
                i32.const 2
                i32.add
              end)
            (func (export "rethrow") (result i32)
              try (result i32)
                try
                  i32.const 3
                  throw $e
                catch_all
                  rethrow 0
                end
                i32.const 0
              catch $e
              end))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let try_ = instance.get_typed_func::<i32, i32>(&store, "try").unwrap();
    let rethrow = instance
        .get_typed_func::<(), i32>(&store, "rethrow")
        .unwrap();
    // Entry, try, local.get, if, i32.const: five.
    store.set_fuel(100).unwrap();
    assert_eq!(try_.call(&mut store, 0).unwrap(), 1);
    assert_eq!(store.get_fuel().unwrap(), 95);
    // Then i32.const, throw, and in the clause i32.const, i32.add: eight.
    store.set_fuel(100).unwrap();
    assert_eq!(try_.call(&mut store, 1).unwrap(), 9);
    assert_eq!(store.get_fuel().unwrap(), 92);
    // Entry, two trys, i32.const, throw, rethrow: six.
    store.set_fuel(100).unwrap();
    assert_eq!(rethrow.call(&mut store, ()).unwrap(), 3);
    assert_eq!(store.get_fuel().unwrap(), 94);
}

#[test]
fn host_functions_see_and_set_the_fuel_of_their_caller() {
    let engine = engine(|c| {
        c.consume_fuel(true);
    });
    let mut store = Store::new(&engine, Vec::new());
    let mut linker = engine::Linker::new(&engine);
    let probe = engine::Func::wrap(&mut store, |mut caller: engine::Caller<'_, Vec<u64>>| {
        let fuel = caller.get_fuel().unwrap();
        caller.data_mut().push(fuel);
        caller.set_fuel(fuel + 1_000).unwrap();
    });
    linker.define(&store, "host", "probe", probe).unwrap();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "probe" (func $probe))
            (func (export "f") (result i32)
                (call $probe) (call $probe) (i32.const 7)))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let f = instance.get_typed_func::<(), i32>(&store, "f").unwrap();
    store.set_fuel(50).unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 7);
    // Entering `f` and each call cost one unit before the host sees the fuel; `i32.const`
    // one more.
    assert_eq!(*store.data(), [48, 1_047]);
    assert_eq!(store.get_fuel().unwrap(), 2_046);
}

#[test]
fn fuel_and_epochs_fail_cleanly_when_not_configured() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    assert!(store.set_fuel(1).is_err());
    assert!(store.get_fuel().is_err());
    // Without epoch interruption the deadline is never checked.
    let module = Module::new(&engine, SPIN).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let add = instance.get_typed_func::<(), i32>(&store, "add").unwrap();
    assert_eq!(add.call(&mut store, ()).unwrap(), 3);
}

/// A loop holding a struct, an array and an externref in locals, allocating as it goes.
const GC_LOOP: &str = r#"(module
    (type $node (struct (field (mut (ref null $node))) (field externref)))
    (type $arr (array (mut (ref null $node))))
    (func (export "churn") (param $e externref)
        (local $n (ref null $node)) (local $a (ref null $arr))
        (local.set $a (array.new_default $arr (i32.const 16)))
        (loop $l
            (local.set $n (struct.new $node (local.get $n) (local.get $e)))
            (array.set $arr (local.get $a) (i32.const 3) (local.get $n))
            (drop (struct.get $node 0 (local.get $n)))
            (br $l))))"#;

#[test]
fn stopping_a_loop_that_holds_gc_references_leaves_the_heap_consistent() {
    for (stress, fuel) in [(false, false), (false, true), (true, false), (true, true)] {
        let engine = engine(|c| {
            c.gc_stress(stress)
                .consume_fuel(fuel)
                .epoch_interruption(!fuel);
        });
        let module = Module::new(&engine, GC_LOOP).unwrap_or_else(|e| panic!("{e:#}"));
        let drops = Arc::new(AtomicU32::new(0));
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let churn = instance.get_func(&store, "churn").unwrap();
        for round in 0..3 {
            let host = engine::ExternRef::new(&mut store, Dropped(drops.clone())).unwrap();
            if fuel {
                store
                    .set_fuel(if stress { 2_000 } else { 200_000 })
                    .unwrap();
            } else {
                store.set_epoch_deadline(1);
                let engine = engine.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(30));
                    engine.increment_epoch();
                });
            }
            let err = churn
                .call(&mut store, &[engine::Val::ExternRef(Some(host))], &mut [])
                .unwrap_err();
            let expected = if fuel {
                Trap::OutOfFuel
            } else {
                Trap::Interrupt
            };
            assert_eq!(trap(&err), Some(expected), "round {round}: {err:#}");
            // Everything the stopped frames held is garbage now, cycles included.
            store.gc();
            assert_eq!(store.gc_live_objects(), 0, "stress {stress}, fuel {fuel}");
            assert_eq!(drops.load(Ordering::SeqCst), round + 1);
        }
    }
}

struct Dropped(Arc<AtomicU32>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
