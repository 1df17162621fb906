//! Exception handling end to end: across instances and imported tags, across host frames
//! both ways, through tail calls, through deep stacks, with counted payloads and cycles,
//! normally and in GC stress mode.

use engine::{
    Caller, Config, Engine, ExnRef, Extern, ExternRef, Func, FuncType, Instance, Linker, Module,
    Store, Tag, TagType, ThrownException, Trap, Val, ValType,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::Counted;

/// An engine in normal and one in GC stress mode.
fn engines() -> [Engine; 2] {
    [false, true].map(|stress| {
        let mut config = Config::new();
        config.gc_stress(stress);
        Engine::new(&config).unwrap()
    })
}

fn thrown(err: &anyhow::Error) -> &ThrownException {
    err.downcast_ref::<ThrownException>()
        .unwrap_or_else(|| panic!("expected an exception, got {err:#}"))
}

#[test]
fn exceptions_cross_instances_through_imported_and_aliased_tags() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let a = Module::new(
            &engine,
            r#"(module
                (tag $e (export "e") (param i32))
                (func (export "throw") (param i32) (throw $e (local.get 0))))"#,
        )
        .unwrap();
        let a = Instance::new(&mut store, &a, &[]).unwrap();
        let e = a.get_tag(&store, "e").unwrap();
        let throw = a.get_func(&store, "throw").unwrap();
        // The importer knows the tag under two names; both are the exporter's tag.
        let b = Module::new(
            &engine,
            r#"(module
                (import "a" "e" (tag $e (param i32)))
                (import "a" "e" (tag $alias (param i32)))
                (tag $other (param i32))
                (import "a" "throw" (func $throw (param i32)))
                (func (export "catch") (param i32) (result i32)
                    (block $other (result i32)
                      (block $h (result i32)
                        (try_table (catch $other $other) (catch $alias $h)
                          (call $throw (local.get 0)))
                        (i32.const -1))
                      (i32.const 100) (i32.add))
                    (i32.const 1000) (i32.add)))"#,
        )
        .unwrap();
        let b = Instance::new(&mut store, &b, &[e.into(), e.into(), throw.into()]).unwrap();
        let catch = b.get_typed_func::<i32, i32>(&store, "catch").unwrap();
        assert_eq!(catch.call(&mut store, 5).unwrap(), 1105);
        // A different tag with the same type does not match.
        let ty = e.ty(&store);
        let other = Tag::new(&mut store, &ty).unwrap();
        assert_ne!(other, e);
    }
}

#[test]
fn exceptions_cross_host_frames_both_ways() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let ty = TagType::new(&engine, FuncType::new([ValType::I32], [])).unwrap();
        let tag = Tag::new(&mut store, &ty).unwrap();
        let mut linker = Linker::new(&engine);
        linker.define(&store, "host", "tag", tag).unwrap();
        // A host function that throws an exception Wasm catches.
        let throws = Func::wrap(&mut store, move |mut caller: Caller<'_, ()>, x: i32| {
            let exn = ExnRef::new(&mut caller, &tag, &[Val::I32(x * 2)])?;
            Err::<(), _>(ThrownException::new(exn).into())
        });
        linker.define(&store, "host", "throws", throws).unwrap();
        // A host function that calls back into Wasm, which throws; the host lets the
        // exception through to its Wasm caller.
        let reenter = Func::wrap(&mut store, |mut caller: Caller<'_, ()>, x: i32| {
            let inner = caller
                .get_export("inner_throw")
                .and_then(Extern::into_func)
                .unwrap();
            let err = inner
                .call(&mut caller, &[Val::I32(x)], &mut [])
                .unwrap_err();
            assert!(err.downcast_ref::<ThrownException>().is_some());
            Err::<(), _>(err)
        });
        linker.define(&store, "host", "reenter", reenter).unwrap();
        let module = Module::new(
            &engine,
            r#"(module
                (import "host" "tag" (tag $t (param i32)))
                (import "host" "throws" (func $throws (param i32)))
                (import "host" "reenter" (func $reenter (param i32)))
                (func (export "inner_throw") (param i32) (throw $t (local.get 0)))
                (func (export "from_host") (param i32) (result i32)
                    (block $h (result i32)
                      (try_table (catch $t $h) (call $throws (local.get 0)))
                      (i32.const -1)))
                (func (export "through_host") (param i32) (result i32)
                    (block $h (result i32)
                      (try_table (catch $t $h) (call $reenter (local.get 0)))
                      (i32.const -1)))
                (func (export "escapes") (call $throws (i32.const 21))))"#,
        )
        .unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let from_host = instance
            .get_typed_func::<i32, i32>(&store, "from_host")
            .unwrap();
        assert_eq!(from_host.call(&mut store, 4).unwrap(), 8);
        let through_host = instance
            .get_typed_func::<i32, i32>(&store, "through_host")
            .unwrap();
        assert_eq!(through_host.call(&mut store, 9).unwrap(), 9);
        // Uncaught anywhere: the host gets the exception, with its tag and payload.
        let escapes = instance.get_func(&store, "escapes").unwrap();
        let err = escapes.call(&mut store, &[], &mut []).unwrap_err();
        assert!(err.downcast_ref::<Trap>().is_none(), "not a trap: {err:#}");
        let exn = thrown(&err).exn().clone();
        assert_eq!(exn.tag(&store), tag);
        assert_eq!(exn.fields_len(&store), 1);
        assert_eq!(exn.field(&mut store, 0).unwrap().i32(), Some(42));
        // The store stays usable.
        assert_eq!(from_host.call(&mut store, 1).unwrap(), 2);
    }
}

#[test]
fn exceptions_unwind_through_tail_calls_and_escape_return_calls() {
    for engine in engines() {
        let module = Module::new(
            &engine,
            r#"(module
                (tag $t (param i32))
                (func $countdown (param i32)
                    (if (i32.eqz (local.get 0)) (then (throw $t (i32.const 77))))
                    (return_call $countdown (i32.sub (local.get 0) (i32.const 1))))
                (func (export "chain") (result i32)
                    (block $h (result i32)
                      (try_table (catch $t $h) (call $countdown (i32.const 100000)))
                      (i32.const -1)))
                (func $thrower (result i32) (throw $t (i32.const 5)))
                (func $escaping (result i32)
                    (block $h (result i32)
                      ;; A tail call leaves the try_table: its exception is not caught here.
                      (try_table (catch $t $h) (return_call $thrower))
                      (i32.const -1)))
                (func (export "escape") (result i32)
                    (block $h (result i32)
                      (try_table (result i32) (catch $t $h) (call $escaping))
                      (i32.const 1000) (i32.add))))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let chain = instance.get_typed_func::<(), i32>(&store, "chain").unwrap();
        assert_eq!(chain.call(&mut store, ()).unwrap(), 77);
        let escape = instance
            .get_typed_func::<(), i32>(&store, "escape")
            .unwrap();
        assert_eq!(escape.call(&mut store, ()).unwrap(), 5);
    }
}

#[test]
fn exceptions_unwind_a_hundred_thousand_frames() {
    let mut config = Config::new();
    config.max_wasm_stack(48 << 20);
    let engine = Engine::new(&config).unwrap();
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let module = Module::new(
                &engine,
                r#"(module
                    (tag $t (param i32))
                    (func $down (param i32) (result i32)
                        (if (i32.eqz (local.get 0)) (then (throw $t (i32.const 3))))
                        (i32.add (call $down (i32.sub (local.get 0) (i32.const 1)))
                                 (i32.const 1)))
                    (func (export "deep") (param i32) (result i32)
                        (block $h (result i32)
                          (try_table (result i32) (catch $t $h)
                            (call $down (local.get 0))))))"#,
            )
            .unwrap();
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &module, &[]).unwrap();
            let deep = instance.get_typed_func::<i32, i32>(&store, "deep").unwrap();
            for _ in 0..3 {
                assert_eq!(deep.call(&mut store, 100_000).unwrap(), 3);
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

/// A module whose exceptions carry host references and structs.
const PAYLOADS: &str = r#"(module
    (type $box (struct (field (mut exnref))))
    (tag $t (param externref))
    (tag $c (param (ref null $box)))
    (func (export "round_trip") (param externref) (result externref)
        (block $h (result externref)
          (try_table (catch $t $h) (throw $t (local.get 0)))
          (ref.null extern)))
    (func (export "escape") (param externref) (throw $t (local.get 0)))
    ;; An exception holding a struct that holds the exception: a cycle.
    (func (export "cycle") (param externref)
        (local $b (ref null $box))
        (local.set $b (struct.new $box (ref.null exn)))
        (block $h (result (ref null $box) exnref)
          (try_table (catch_ref $c $h) (throw $c (local.get $b)))
          (unreachable))
        (struct.set $box 0)
        ;; Another exception that carries the host reference, dropped at once.
        (block $h2 (result externref)
          (try_table (catch $t $h2) (throw $t (local.get 0)))
          (unreachable))
        (drop))
    (func (export "keep") (param externref) (result exnref)
        (block $h (result exnref)
          (try_table (catch_all_ref $h) (throw $t (local.get 0)))
          (unreachable)))
    (func (export "rethrow") (param exnref) (throw_ref (local.get 0)))
    (func (export "rethrow_caught") (param exnref) (result externref)
        (block $h (result externref)
          (try_table (catch $t $h) (throw_ref (local.get 0)))
          (ref.null extern))))"#;

#[test]
fn exception_payloads_are_counted_and_cycles_reclaimed() {
    for engine in engines() {
        let module = Module::new(&engine, PAYLOADS).unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let host = |store: &mut Store<()>| {
            Val::ExternRef(Some(
                ExternRef::new(&mut *store, Counted(drops.clone())).unwrap(),
            ))
        };
        // Caught and returned: the same host value comes back.
        let round_trip = instance.get_func(&store, "round_trip").unwrap();
        let arg = host(&mut store);
        let mut out = [Val::ExternRef(None)];
        round_trip
            .call(&mut store, std::slice::from_ref(&arg), &mut out)
            .unwrap();
        let (Val::ExternRef(Some(a)), Val::ExternRef(Some(b))) = (&arg, &out[0]) else {
            panic!("expected host references");
        };
        assert!(ExternRef::ptr_eq(a, b));
        drop((arg, out));
        // Escaping to the host: the exception holds the value until the error is dropped.
        let escape = instance.get_func(&store, "escape").unwrap();
        let arg = host(&mut store);
        let err = escape.call(&mut store, &[arg], &mut []).unwrap_err();
        store.gc();
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "only the first value is gone"
        );
        drop(err);
        store.gc();
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        // A cycle through an exception and a struct is reclaimed with its host value.
        let cycle = instance.get_func(&store, "cycle").unwrap();
        let arg = host(&mut store);
        cycle.call(&mut store, &[arg], &mut []).unwrap();
        store.gc();
        assert_eq!(drops.load(Ordering::SeqCst), 3);
        assert_eq!(
            store.gc_live_objects(),
            0,
            "exceptions and structs all freed"
        );
    }
}

#[test]
fn a_caught_exnref_rethrows_after_its_catching_frame_returned() {
    for engine in engines() {
        let module = Module::new(&engine, PAYLOADS).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let keep = instance.get_func(&store, "keep").unwrap();
        let arg = Val::ExternRef(Some(ExternRef::new(&mut store, 17u32).unwrap()));
        let mut exn = [Val::ExnRef(None)];
        keep.call(&mut store, &[arg], &mut exn).unwrap();
        store.gc();
        // Caught again, by tag, in another frame.
        let rethrow_caught = instance.get_func(&store, "rethrow_caught").unwrap();
        let mut out = [Val::ExternRef(None)];
        rethrow_caught
            .call(&mut store, &exn.clone(), &mut out)
            .unwrap();
        let Val::ExternRef(Some(e)) = &out[0] else {
            panic!("expected the payload back");
        };
        assert_eq!(
            e.data(&store).and_then(|d| d.downcast_ref::<u32>()),
            Some(&17)
        );
        // Uncaught: the host gets the very same exception.
        let rethrow = instance.get_func(&store, "rethrow").unwrap();
        let err = rethrow.call(&mut store, &exn, &mut []).unwrap_err();
        let Val::ExnRef(Some(original)) = &exn[0] else {
            panic!("expected an exception");
        };
        assert!(ExnRef::ptr_eq(thrown(&err).exn(), original));
        // Null traps.
        let err = rethrow
            .call(&mut store, &[Val::ExnRef(None)], &mut [])
            .unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::NullExceptionReference)
        );
    }
}

/// A module that keeps caught exceptions in every place an `exnref` can live.
const STORAGE: &str = r#"(module
    (type $arr (array (mut exnref)))
    (type $rec (struct (field (mut exnref))))
    (tag $t (param externref))
    (table $tab 2 exnref)
    (global $g (mut exnref) (ref.null exn))
    (global $a (mut (ref null $arr)) (ref.null $arr))
    (global $s (mut (ref null $rec)) (ref.null $rec))
    (func $catch (param externref) (result exnref)
        (block $h (result exnref)
          (try_table (catch_all_ref $h) (throw $t (local.get 0)))
          (unreachable)))
    ;; One exception per place: table (grown, then filled), global, array, struct.
    (func (export "store") (param externref)
        (local $e exnref)
        (local.set $e (call $catch (local.get 0)))
        (drop (table.grow $tab (local.get $e) (i32.const 2)))
        (table.fill $tab (i32.const 0) (local.get $e) (i32.const 1))
        (global.set $g (call $catch (local.get 0)))
        (global.set $a (array.new $arr (call $catch (local.get 0)) (i32.const 3)))
        (global.set $s (struct.new $rec (call $catch (local.get 0)))))
    ;; Rethrows what place `i` holds and returns the payload it catches.
    (func (export "rethrow") (param $i i32) (result externref)
        (block $h (result externref)
          (try_table (catch $t $h)
            (block $b3 (block $b2 (block $b1 (block $b0
              (br_table $b0 $b1 $b2 $b3 (local.get $i)))
              (throw_ref (table.get $tab (i32.const 3))))
              (throw_ref (global.get $g)))
              (throw_ref (array.get $arr (global.get $a) (i32.const 2))))
            (throw_ref (struct.get $rec 0 (global.get $s))))
          (unreachable)))
    (func (export "size") (result i32) (table.size $tab))
    (func (export "clear")
        (table.fill $tab (i32.const 0) (ref.null exn) (table.size $tab))
        (global.set $g (ref.null exn))
        (global.set $a (ref.null $arr))
        (global.set $s (ref.null $rec))))"#;

#[test]
fn exnrefs_live_in_tables_globals_arrays_and_structs() {
    for engine in engines() {
        let module = Module::new(&engine, STORAGE).unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let payload = ExternRef::new(&mut store, Counted(drops.clone())).unwrap();
        let store_all = instance.get_func(&store, "store").unwrap();
        store_all
            .call(
                &mut store,
                &[Val::ExternRef(Some(payload.clone()))],
                &mut [],
            )
            .unwrap();
        store.gc();
        let size = instance.get_typed_func::<(), i32>(&store, "size").unwrap();
        assert_eq!(size.call(&mut store, ()).unwrap(), 4);
        let rethrow = instance.get_func(&store, "rethrow").unwrap();
        for i in 0..4 {
            let mut out = [Val::ExternRef(None)];
            rethrow.call(&mut store, &[Val::I32(i)], &mut out).unwrap();
            let Val::ExternRef(Some(back)) = &out[0] else {
                panic!("place {i}: expected the payload");
            };
            assert!(ExternRef::ptr_eq(back, &payload), "place {i}");
            store.gc();
        }
        // The stored exceptions alone keep the payload alive, until they are cleared.
        drop(payload);
        store.gc();
        assert_eq!(drops.load(Ordering::SeqCst), 0, "held by the exceptions");
        let clear = instance.get_func(&store, "clear").unwrap();
        clear.call(&mut store, &[], &mut []).unwrap();
        store.gc();
        assert_eq!(drops.load(Ordering::SeqCst), 1, "the payload dropped once");
        assert_eq!(store.gc_live_objects(), 0, "every exception freed");
    }
}

#[test]
fn traps_inside_try_table_are_not_caught() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (func $trap (unreachable))
            (func (export "f") (result i32)
                (block $h
                  (try_table (catch_all $h) (call $trap)))
                (i32.const 1)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_typed_func::<(), i32>(&store, "f").unwrap();
    let err = f.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Unreachable));
}

#[test]
fn the_host_api_creates_compares_and_inspects_tags_and_exceptions() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let ty = TagType::new(&engine, FuncType::new([ValType::I64, ValType::F32], [])).unwrap();
    assert!(TagType::new(&engine, FuncType::new([], [ValType::I32])).is_err());
    let a = Tag::new(&mut store, &ty).unwrap();
    let b = Tag::new(&mut store, &ty).unwrap();
    assert_ne!(a, b);
    assert_eq!(a.ty(&store), ty);
    assert_eq!(a.ty(&store).payload(), &[ValType::I64, ValType::F32]);
    let exn = ExnRef::new(&mut store, &a, &[Val::I64(-3), Val::F32(1.5f32.to_bits())]).unwrap();
    assert_eq!(exn.tag(&store), a);
    assert_eq!(exn.field(&mut store, 0).unwrap().i64(), Some(-3));
    assert_eq!(exn.field(&mut store, 1).unwrap().f32(), Some(1.5));
    assert!(exn.field(&mut store, 2).is_err());
    assert!(
        ExnRef::new(&mut store, &a, &[Val::I64(1)]).is_err(),
        "too few values"
    );
    assert!(
        ExnRef::new(&mut store, &a, &[Val::I32(1), Val::F32(0)]).is_err(),
        "wrong type"
    );
    // Importing with the wrong type is a link error.
    let module = Module::new(&engine, r#"(module (import "m" "t" (tag (param i32))))"#).unwrap();
    let err = Instance::new(&mut store, &module, &[a.into()]).unwrap_err();
    assert!(
        err.to_string().contains("incompatible import type"),
        "{err:#}"
    );
    let import_ty = module.imports().next().unwrap().ty;
    assert!(matches!(import_ty, engine::ExternType::Tag(t) if t.payload() == [ValType::I32]));
}
