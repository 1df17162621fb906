//! Calls at the ABI level, from WAT: bad guest pointers and descriptors give errnos, not
//! host crashes; modules without a memory; one linker serving many stores.

use engine::{Engine, Linker, Module, Store};
use wasi::{WasiCtx, WasiCtxBuilder, WritePipe};

const EBADF: i32 = 8;
const EFAULT: i32 = 21;

fn instantiate(wat: &str, ctx: WasiCtx) -> (Store<WasiCtx>, engine::Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, wat).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    wasi::add_to_linker(&mut linker, |cx| cx).unwrap();
    let mut store = Store::new(&engine, ctx);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

#[test]
fn bad_pointers_and_descriptors_are_errnos() {
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "fd_write"
        (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "random_get"
        (func $random_get (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "\20\00\00\00\05\00\00\00")
      (data (i32.const 32) "hello")
      (func (export "write") (param $fd i32) (param $iovs i32) (param $out i32) (result i32)
        (call $fd_write (local.get $fd) (local.get $iovs) (i32.const 1) (local.get $out)))
      (func (export "random") (param $at i32) (param $len i32) (result i32)
        (call $random_get (local.get $at) (local.get $len))))"#;
    let out = WritePipe::new_in_memory();
    let ctx = WasiCtxBuilder::new().stdout(out.clone()).build();
    let (mut store, instance) = instantiate(wat, ctx);
    let write = instance
        .get_typed_func::<(i32, i32, i32), i32>(&store, "write")
        .unwrap();
    assert_eq!(write.call(&mut store, (1, 16, 0)).unwrap(), 0);
    // An iovec list outside memory, a buffer running off its end, a result pointer outside
    // it: each is `EFAULT` or ends the run with an error naming the bad region (as
    // wasi-common decides per argument), and the store stays usable.
    for (iovs, out) in [(65534, 0), (-8, 0), (16, 65535)] {
        match write.call(&mut store, (1, iovs, out)) {
            Ok(errno) => assert_eq!(errno, EFAULT),
            Err(e) => assert!(format!("{e:#}").contains("out of bounds"), "{e:#}"),
        }
    }
    assert_eq!(write.call(&mut store, (7, 16, 0)).unwrap(), EBADF);
    let random = instance
        .get_typed_func::<(i32, i32), i32>(&store, "random")
        .unwrap();
    match random.call(&mut store, (65000, 1000)) {
        Ok(errno) => assert_eq!(errno, EFAULT),
        Err(e) => assert!(format!("{e:#}").contains("out of bounds"), "{e:#}"),
    }
    assert_eq!(random.call(&mut store, (0, 64)).unwrap(), 0);
    drop(store);
    let bytes = out.try_into_inner().ok().unwrap().into_inner();
    // The write with a bad result pointer wrote before its result could not be stored.
    assert_eq!(bytes, b"hellohello");
}

#[test]
fn a_module_without_memory_can_exit() {
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
      (import "wasi_snapshot_preview1" "fd_write"
        (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (func (export "_start")
        (if (call $yield) (then unreachable))
        (call $exit (i32.const 7))
        unreachable))"#;
    let (mut store, instance) = instantiate(wat, WasiCtxBuilder::new().build());
    let start = instance.get_typed_func::<(), ()>(&store, "_start").unwrap();
    assert_eq!(wasi::exit_status(start.call(&mut store, ())).unwrap(), 7);
    // A function that takes a pointer sees a memory of no bytes: any pointer is outside.
    let no_memory = r#"(module
      (import "wasi_snapshot_preview1" "fd_write"
        (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (func (export "_start")
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 0)))))"#;
    let (mut s2, i2) = instantiate(no_memory, WasiCtxBuilder::new().build());
    let f = i2.get_typed_func::<(), ()>(&s2, "_start").unwrap();
    let err = f.call(&mut s2, ()).unwrap_err();
    assert!(format!("{err:#}").contains("out of bounds"), "{err:#}");
    // The store is still usable after the exit unwound.
    let start = instance.get_typed_func::<(), ()>(&store, "_start").unwrap();
    assert_eq!(wasi::exit_status(start.call(&mut store, ())).unwrap(), 7);
}

#[test]
fn one_linker_serves_many_stores() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
          (import "wasi_snapshot_preview1" "args_sizes_get"
            (func $sizes (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "argc") (result i32)
            (drop (call $sizes (i32.const 0) (i32.const 4)))
            (i32.load (i32.const 0))))"#,
    )
    .unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    wasi::add_to_linker(&mut linker, |cx| cx).unwrap();
    for n in 1..4 {
        let mut b = WasiCtxBuilder::new();
        for i in 0..n {
            b.arg(&format!("a{i}")).unwrap();
        }
        let mut store = Store::new(&engine, b.build());
        let i = linker.instantiate(&mut store, &module).unwrap();
        let argc = i.get_typed_func::<(), i32>(&store, "argc").unwrap();
        assert_eq!(argc.call(&mut store, ()).unwrap(), n);
    }
}
