//! Precompiled modules: `Module::serialize` / `Engine::precompile_module` and
//! `Module::deserialize`, in this process and in a new one, with traps, backtraces,
//! exceptions and GC stack maps working in loaded code, and bad bytes refused.

use anyhow::Result;
use engine::{Config, Engine, Module, Store, Trap};

const MODULE: &str = r#"(module $m
  (type $node (struct (field i32) (field (ref null $node))))
  (tag $oops (param i32))
  (func $list (param $n i32) (result (ref null $node))
    (local $l (ref null $node))
    (loop $more
      (if (local.get $n)
        (then
          (local.set $l (struct.new $node (local.get $n) (local.get $l)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $more))))
    (local.get $l))
  (func $sum (param $l (ref null $node)) (result i32)
    (if (result i32) (ref.is_null (local.get $l))
      (then (i32.const 0))
      (else (i32.add (struct.get $node 0 (local.get $l))
                     (call $sum (struct.get $node 1 (local.get $l)))))))
  (func (export "sum_to") (param i32) (result i32) (call $sum (call $list (local.get 0))))
  (func (export "ceil") (param f32) (result f32) (f32.ceil (local.get 0)))
  (func $inner (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
  (func (export "divide") (param i32) (result i32) (call $inner (local.get 0)))
  (func (export "catch") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $oops $h) (call $thrower (local.get 0)))
      (i32.const -1)))
  (func $thrower (param i32) (throw $oops (local.get 0)))
  (type $bytes (array (mut i8)))
  (func (export "copy") (param $n i32) (result i32)
    (local $a (ref $bytes))
    (local.set $a (array.new $bytes (i32.const 7) (i32.const 16)))
    (array.set $bytes (local.get $a) (i32.const 0) (i32.const 9))
    ;; Numeric array.copy is a memmove from compiled code: a runtime-library relocation.
    (array.copy $bytes $bytes (local.get $a) (i32.const 1) (local.get $a) (i32.const 0) (local.get $n))
    (array.get_u $bytes (local.get $a) (local.get $n))))"#;

fn stress() -> Config {
    let mut config = Config::new();
    config.gc_stress(true);
    config
}

/// Runs every export of an instance of `module` and checks the answers.
fn exercise(engine: &Engine, module: &Module) -> Result<()> {
    let mut store = Store::new(engine, ());
    let instance = engine::Instance::new(&mut store, module, &[])?;
    let sum = instance.get_typed_func::<i32, i32>(&store, "sum_to")?;
    assert_eq!(sum.call(&mut store, 100)?, 5050);
    let ceil = instance.get_typed_func::<f32, f32>(&store, "ceil")?;
    assert_eq!(ceil.call(&mut store, 1.25)?, 2.0);
    let copy = instance.get_typed_func::<i32, i32>(&store, "copy")?;
    assert_eq!(copy.call(&mut store, 3)?, 7);
    assert_eq!(copy.call(&mut store, 1)?, 9);
    let catch = instance.get_typed_func::<i32, i32>(&store, "catch")?;
    assert_eq!(catch.call(&mut store, 7)?, 7);
    let divide = instance.get_typed_func::<i32, i32>(&store, "divide")?;
    let err = divide.call(&mut store, 0).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::IntegerDivisionByZero)
    );
    let trace = err.downcast_ref::<engine::WasmBacktrace>().unwrap();
    let names: Vec<_> = trace.frames().iter().map(|f| f.func_name.clone()).collect();
    assert_eq!(names, [Some("inner".to_string()), None]);
    Ok(())
}

#[test]
fn a_serialized_module_loads_without_compiling_and_runs() -> Result<()> {
    let bytes = Engine::new(&stress())?.precompile_module(MODULE)?;
    // A fresh engine: the module's types get the indices they had when compiled.
    let engine = Engine::new(&stress())?;
    // SAFETY: made above by an engine of this version and configuration.
    let module = unsafe { Module::deserialize(&engine, &bytes)? };
    assert_eq!(engine.compiled_functions(), 0);
    exercise(&engine, &module)?;
    // Serializing the loaded module gives a module that loads and runs again.
    let again = module.serialize()?;
    // SAFETY: as above.
    let module = unsafe { Module::deserialize(&engine, &again)? };
    exercise(&engine, &module)?;
    assert_eq!(engine.compiled_functions(), 0);
    Ok(())
}

#[test]
fn an_engine_holding_other_types_compiles_instead() -> Result<()> {
    let bytes = Engine::new(&stress())?.precompile_module(MODULE)?;
    let engine = Engine::new(&stress())?;
    // Registers other types first, so the module's get other canonical indices.
    let other = Module::new(
        &engine,
        "(module (type (struct (field f64) (field i64))) (func))",
    )?;
    let before = engine.compiled_functions();
    // SAFETY: as above.
    let module = unsafe { Module::deserialize(&engine, &bytes)? };
    assert!(engine.compiled_functions() > before);
    exercise(&engine, &module)?;
    drop(other);
    Ok(())
}

#[test]
fn bad_bytes_are_refused() -> Result<()> {
    let engine = Engine::default();
    let bytes = engine.precompile_module(MODULE)?;
    let load = |b: &[u8]| {
        // SAFETY: every one of these is refused before its code could run.
        unsafe { Module::deserialize(&engine, b) }
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default()
    };
    assert!(load(b"\0asm\x01\0\0\0").contains("bad magic number"));
    assert!(load(&bytes[..bytes.len() / 2]).contains("corrupt precompiled module"));
    // Another configuration's code.
    let mut fuel = Config::new();
    fuel.consume_fuel(true);
    let fuel_bytes = Engine::new(&fuel)?.precompile_module(MODULE)?;
    assert!(
        load(&fuel_bytes).contains("another configuration"),
        "{}",
        load(&fuel_bytes)
    );
    // A text or binary module is not a precompiled one.
    let wasm = wat::parse_str(MODULE)?;
    assert!(load(&wasm).contains("bad magic number"));
    Ok(())
}

/// The parent half of the new-process test: writes the artifact, then runs this test
/// binary's `child_loads_a_precompiled_module` in a new process on it.
#[test]
fn a_precompiled_module_loads_in_a_new_process() -> Result<()> {
    let path = std::env::temp_dir().join(format!("precompiled-{}.gcwasm", std::process::id()));
    std::fs::write(&path, Engine::new(&stress())?.precompile_module(MODULE)?)?;
    let out = std::process::Command::new(std::env::current_exe()?)
        .args([
            "--exact",
            "child_loads_a_precompiled_module",
            "--ignored",
            "--nocapture",
        ])
        .env("PRECOMPILED_MODULE", &path)
        .output()?;
    std::fs::remove_file(&path)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    Ok(())
}

/// The child half: run only by the parent test, in its own process.
#[test]
#[ignore = "run by a_precompiled_module_loads_in_a_new_process in a new process"]
fn child_loads_a_precompiled_module() -> Result<()> {
    let path = std::env::var("PRECOMPILED_MODULE").expect("run by the parent test");
    let engine = Engine::new(&stress())?;
    // SAFETY: the parent test wrote the file with an engine of this build.
    let module = unsafe { Module::deserialize_file(&engine, &path)? };
    assert_eq!(engine.compiled_functions(), 0);
    exercise(&engine, &module)?;
    assert_eq!(engine.compiled_functions(), 0);
    Ok(())
}
