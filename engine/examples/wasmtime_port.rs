//! A small Wasmtime 48 embedding, ported: the code as a Wasmtime user writes it, with the
//! renames listed in README.md ("Porting from Wasmtime"). `cargo test` builds and runs it.
//!
//! It links two modules (a library exporting a memory and an allocator, and an app
//! importing both), gives them a host function of 9 parameters that reads and writes
//! guest memory through its `Caller`, passes host values as `Option<ExternRef>` through
//! typed calls, and reads a GC struct the app returns as a `StructRef`.

use anyhow::{Context, Result, bail};
use engine::{Caller, Engine, ExternRef, Linker, Module, Store, StructRef, TypedFunc};

/// The store's host state.
#[derive(Default)]
struct Host {
    opened: Vec<String>,
}

const LIB: &str = r#"(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (func (export "alloc") (param $n i32) (result i32)
    (global.get $next)
    (global.set $next (i32.add (global.get $next) (local.get $n)))))"#;

const APP: &str = r#"(module
  (import "lib" "memory" (memory $memory 1))
  (export "memory" (memory $memory))
  (import "lib" "alloc" (func $alloc (param i32) (result i32)))
  ;; Shaped like WASI's path_open: 9 parameters, the result through a pointer.
  (import "host" "open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (type $point (struct (field $x i32) (field $y i32)))
  (data (i32.const 0) "notes.txt")
  (func (export "open_notes") (result i32)
    (local $out i32)
    (local.set $out (call $alloc (i32.const 4)))
    (if (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 9) (i32.const 1)
                    (i64.const 0x1ff) (i64.const 0) (i32.const 0) (local.get $out))
      (then (return (i32.const -1))))
    (i32.load (local.get $out)))
  (func (export "keep") (param externref) (result externref) (local.get 0))
  (func (export "point") (param i32 i32) (result (ref $point))
    (struct.new $point (local.get 0) (local.get 1))))"#;

fn main() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, Host::default());
    let mut linker = Linker::<Host>::new(&engine);

    // A host function of 9 parameters reading and writing the caller's memory.
    #[allow(clippy::too_many_arguments)]
    fn open(
        mut caller: Caller<'_, Host>,
        _dir: i32,
        _flags: i32,
        path: i32,
        path_len: i32,
        _oflags: i32,
        _rights: i64,
        _inheriting: i64,
        _fdflags: i32,
        out: i32,
    ) -> Result<i32> {
        let memory = caller
            .get_export("memory")
            .and_then(|e| e.into_memory())
            .context("no memory export")?;
        let mut name = vec![0; path_len as usize];
        memory.read(&caller, path as usize, &mut name)?;
        let name = String::from_utf8(name)?;
        caller.data_mut().opened.push(name);
        let fd = 2 + caller.data().opened.len() as u32;
        memory.write(&mut caller, out as usize, &fd.to_le_bytes())?;
        Ok(0)
    }
    linker.func_wrap("host", "open", open)?;

    // Two modules: the library's exports become the app's imports.
    let lib = Module::new(&engine, LIB)?;
    linker.module(&mut store, "lib", &lib)?;
    let app = Module::new(&engine, APP)?;
    let instance = linker.instantiate(&mut store, &app)?;

    let open_notes = instance.get_typed_func::<(), i32>(&store, "open_notes")?;
    assert_eq!(open_notes.call(&mut store, ())?, 3);
    assert_eq!(open_notes.call(&mut store, ())?, 4);
    assert_eq!(store.data().opened, ["notes.txt", "notes.txt"]);

    // Host values through typed calls as `Option<ExternRef>`.
    let keep: TypedFunc<Option<ExternRef>, Option<ExternRef>> =
        instance.get_typed_func(&store, "keep")?;
    let value = ExternRef::new(&mut store, String::from("kept by the host"))?;
    let back = keep
        .call(&mut store, Some(value))?
        .context("null came back")?;
    let text = back
        .data(&store)
        .and_then(|d| d.downcast_ref::<String>())
        .context("not a string")?;
    assert_eq!(text, "kept by the host");
    assert!(keep.call(&mut store, None)?.is_none());

    // A GC struct as a `StructRef`.
    let point = instance.get_typed_func::<(i32, i32), StructRef>(&store, "point")?;
    let p = point.call(&mut store, (3, 4))?;
    let (x, y) = (p.field(&mut store, 0)?.i32(), p.field(&mut store, 1)?.i32());
    if (x, y) != (Some(3), Some(4)) {
        bail!("point has fields {x:?}, {y:?}");
    }
    println!("ported embedding: ok");
    Ok(())
}
