//! Threads: engines and modules are shared between threads, stores run Wasm on threads
//! other than the one that made them, and traps (whose handler state is per thread) are
//! caught on whichever thread raised them, also when several threads trap at once.

use anyhow::Result;
use engine::{Engine, Instance, Module, Store, Trap};
use std::sync::{Arc, Barrier};

const MODULE: &str = r#"(module
    (memory 1)
    (func (export "ok") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
    (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
    (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
    (func $recurse (export "recurse") (param i32) (result i32)
        (call $recurse (i32.add (local.get 0) (i32.const 1)))))"#;

// What the tests below rely on, checked when this file compiles: engines, modules and
// handles are shared freely, and a store whose data is `Send` can move to another thread.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    const fn send<T: Send>() {}
    send_sync::<Engine>();
    send_sync::<Module>();
    send_sync::<Instance>();
    send_sync::<engine::Func>();
    send_sync::<engine::Memory>();
    send_sync::<engine::TypedFunc<(i32, i32), i32>>();
    send::<Store<()>>();
    send::<Store<Vec<u8>>>();
};

/// Runs a fixed sequence of calls and traps in `store`, checking each result.
fn exercise(store: &mut Store<()>, instance: Instance, round: i32) -> Result<()> {
    let ok = instance.get_typed_func::<i32, i32>(&*store, "ok")?;
    let div = instance.get_typed_func::<(i32, i32), i32>(&*store, "div")?;
    let load = instance.get_typed_func::<i32, i32>(&*store, "load")?;
    let recurse = instance.get_typed_func::<i32, i32>(&*store, "recurse")?;

    assert_eq!(ok.call(&mut *store, round)?, round * 3);
    let err = div.call(&mut *store, (round, 0)).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::IntegerDivisionByZero),
        "{err:?}"
    );
    assert_eq!(div.call(&mut *store, (round * 10, 5))?, round * 2);
    let err = load.call(&mut *store, 65536 + round).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::MemoryOutOfBounds),
        "{err:?}"
    );
    let err = recurse.call(&mut *store, 0).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::StackOverflow),
        "{err:?}"
    );
    assert_eq!(ok.call(&mut *store, -round)?, -round * 3);
    Ok(())
}

#[test]
fn stores_on_spawned_threads_run_and_trap() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE)?;
    let threads = 4;
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (engine, module, barrier) = (engine.clone(), module.clone(), barrier.clone());
            std::thread::spawn(move || -> Result<usize> {
                let mut store = Store::new(&engine, ());
                let instance = Instance::new(&mut store, &module, &[])?;
                // Start together, so that traps on different threads overlap.
                barrier.wait();
                let mut rounds = 0;
                for round in 1..=20 {
                    exercise(&mut store, instance, round * (t as i32 + 1))?;
                    rounds += 1;
                }
                Ok(rounds)
            })
        })
        .collect();

    // This thread traps too, meanwhile.
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    barrier.wait();
    for round in 1..=20 {
        exercise(&mut store, instance, round)?;
    }

    for handle in handles {
        let rounds = handle.join().expect("the thread did not panic")?;
        assert_eq!(rounds, 20);
    }
    Ok(())
}

#[test]
fn store_moved_between_threads_keeps_working() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    exercise(&mut store, instance, 1)?;

    // To another thread and back, twice: the trap handler and the stack limit are set up
    // afresh on whichever thread calls in.
    for round in 2..4 {
        store = std::thread::spawn(move || -> Result<Store<()>> {
            exercise(&mut store, instance, round)?;
            Ok(store)
        })
        .join()
        .expect("the thread did not panic")?;
        exercise(&mut store, instance, round * 10)?;
    }
    Ok(())
}
