//! Linking: `Linker::define` and `Linker::instance`, imports shared between instances
//! (memory, table, mutable global, function), cross-instance `call_indirect`, and the
//! errors for unknown and incompatible imports.

use anyhow::Result;
use engine::{
    Engine, Func, Global, GlobalType, Instance, Linker, Memory, MemoryType, Module, Mutability,
    Ref, RefType, Store, Table, TableType, Trap, Val, ValType,
};

/// The module whose exports the others import.
const PROVIDER: &str = r#"(module $provider
    (type $v_i (func (result i32)))
    (memory (export "memory") 1)
    (table $table (export "table") 4 funcref)
    (global $counter (export "counter") (mut i32) (i32.const 0))
    (elem (table $table) (i32.const 0) func $forty)
    (func $forty (result i32) i32.const 40)
    (func (export "bump") (param i32) (result i32)
        (global.set $counter (i32.add (global.get $counter) (local.get 0)))
        (global.get $counter))
    (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
    (func (export "call_slot") (param i32) (result i32)
        (call_indirect (type $v_i) (local.get 0)))
)"#;

/// Imports everything `PROVIDER` exports, and puts a function of its own in the table.
const CONSUMER: &str = r#"(module $consumer
    (type $v_i (func (result i32)))
    (import "provider" "memory" (memory 1))
    (import "provider" "table" (table 4 funcref))
    (import "provider" "counter" (global $counter (mut i32)))
    (import "provider" "bump" (func $bump (param i32) (result i32)))
    (global $secret i32 (i32.const 777))
    (elem (i32.const 1) func $secret)
    ;; Reads a global of this instance: only right if called with this instance's context.
    (func $secret (result i32) global.get $secret)
    (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
    (func (export "set_counter") (param i32) (global.set $counter (local.get 0)))
    (func (export "get_counter") (result i32) (global.get $counter))
    (func (export "bump_twice") (param i32) (result i32)
        (drop (call $bump (local.get 0)))
        (call $bump (local.get 0)))
    (func (export "call_slot") (param i32) (result i32)
        (call_indirect (type $v_i) (local.get 0)))
)"#;

/// Instantiates `PROVIDER`, registers it as "provider", and instantiates `CONSUMER`.
fn provider_and_consumer() -> Result<(Store<()>, Instance, Instance)> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let provider = Instance::new(&mut store, &Module::new(&engine, PROVIDER)?, &[])?;
    linker.instance(&mut store, "provider", provider)?;
    let consumer = linker.instantiate(&mut store, &Module::new(&engine, CONSUMER)?)?;
    Ok((store, provider, consumer))
}

#[test]
fn linker_instance_shares_memory() -> Result<()> {
    let (mut store, provider, consumer) = provider_and_consumer()?;
    let poke = consumer.get_typed_func::<(i32, i32), ()>(&store, "poke")?;
    let peek = provider.get_typed_func::<i32, i32>(&store, "peek")?;
    poke.call(&mut store, (1000, 0xab))?;
    assert_eq!(peek.call(&mut store, 1000)?, 0xab);
    let memory = provider.get_memory(&store, "memory").expect("exported");
    assert_eq!(memory.data(&store)[1000], 0xab);
    assert_eq!(
        consumer.get_memory(&store, "memory"),
        None,
        "the consumer exports no memory"
    );
    Ok(())
}

#[test]
fn linker_instance_shares_mutable_global() -> Result<()> {
    let (mut store, provider, consumer) = provider_and_consumer()?;
    let set = consumer.get_typed_func::<i32, ()>(&store, "set_counter")?;
    let get = consumer.get_typed_func::<(), i32>(&store, "get_counter")?;
    let bump = provider.get_typed_func::<i32, i32>(&store, "bump")?;
    set.call(&mut store, 10)?;
    assert_eq!(
        bump.call(&mut store, 5)?,
        15,
        "the provider sees the consumer's write"
    );
    assert_eq!(
        get.call(&mut store, ())?,
        15,
        "the consumer sees the provider's write"
    );
    let counter = provider.get_global(&store, "counter").expect("exported");
    counter.set(&mut store, Val::I32(-1))?;
    assert_eq!(get.call(&mut store, ())?, -1, "both see the host's write");
    Ok(())
}

#[test]
fn linker_instance_shares_functions() -> Result<()> {
    let (mut store, provider, consumer) = provider_and_consumer()?;
    let bump_twice = consumer.get_typed_func::<i32, i32>(&store, "bump_twice")?;
    assert_eq!(bump_twice.call(&mut store, 3)?, 6);
    // The imported function ran in the provider: its global moved.
    let counter = provider.get_global(&store, "counter").expect("exported");
    assert_eq!(counter.get(&mut store).i32(), Some(6));
    Ok(())
}

#[test]
fn cross_instance_call_indirect_through_shared_table() -> Result<()> {
    let (mut store, provider, consumer) = provider_and_consumer()?;
    let provider_call = provider.get_typed_func::<i32, i32>(&store, "call_slot")?;
    let consumer_call = consumer.get_typed_func::<i32, i32>(&store, "call_slot")?;

    // Slot 0 holds the provider's `$forty`, slot 1 the consumer's `$secret`; each runs with
    // its own instance's context whoever calls it.
    assert_eq!(provider_call.call(&mut store, 0)?, 40);
    assert_eq!(provider_call.call(&mut store, 1)?, 777);
    assert_eq!(consumer_call.call(&mut store, 0)?, 40);
    assert_eq!(consumer_call.call(&mut store, 1)?, 777);

    // Slots 2 and 3 are empty; 4 is past the end.
    let err = provider_call.call(&mut store, 2).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UninitializedElement),
        "{err:#}"
    );
    let err = consumer_call.call(&mut store, 4).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UndefinedElement),
        "{err:#}"
    );

    // The host sees the consumer's element in the provider's table and can call it.
    let table = provider.get_table(&store, "table").expect("exported");
    let Some(Ref::Func(Some(secret))) = table.get(&mut store, 1) else {
        panic!("slot 1 holds a function");
    };
    assert_eq!(secret.typed::<(), i32>(&store)?.call(&mut store, ())?, 777);

    // A host function placed in the shared table is reachable from both instances.
    let host = Func::wrap(&mut store, || 5i32);
    table.set(&mut store, 3, Ref::Func(Some(host)))?;
    assert_eq!(provider_call.call(&mut store, 3)?, 5);
    assert_eq!(consumer_call.call(&mut store, 3)?, 5);
    Ok(())
}

#[test]
fn linker_define_host_objects() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, Vec::<i32>::new());
    let mut linker = Linker::new(&engine);
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    let table = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 1, None),
        Ref::Func(None),
    )?;
    let global = Global::new(
        &mut store,
        GlobalType::new(ValType::I64, Mutability::Var),
        Val::I64(8),
    )?;
    let limit = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(3),
    )?;
    let report = Func::wrap(
        &mut store,
        |mut caller: engine::Caller<'_, Vec<i32>>, x: i32| {
            caller.data_mut().push(x);
        },
    );
    linker
        .define(&store, "env", "memory", memory)?
        .define(&store, "env", "table", table)?
        .define(&store, "env", "global", global)?
        .define(&store, "env", "limit", limit)?
        .define(&store, "env", "report", report)?;
    assert!(
        matches!(linker.get(&mut store, "env", "memory"), Some(engine::Extern::Memory(m)) if m == memory)
    );
    assert!(linker.get(&mut store, "env", "nothing").is_none());

    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "report" (func $report (param i32)))
            (import "env" "memory" (memory 1))
            (import "env" "table" (table 1 funcref))
            (import "env" "global" (global $g (mut i64)))
            (import "env" "limit" (global $limit i32))
            (func $self (result i32) i32.const 1)
            (elem (i32.const 0) func $self)
            (func (export "run")
                (local $i i32)
                (loop $next
                    (call $report (local.get $i))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $next (i32.lt_s (local.get $i) (global.get $limit))))
                (i64.store (i32.const 8) (global.get $g))
                (global.set $g (i64.const -8))))"#,
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    instance
        .get_typed_func::<(), ()>(&store, "run")?
        .call(&mut store, ())?;
    assert_eq!(store.data(), &[0, 1, 2]);
    assert_eq!(&memory.data(&store)[8..16], &8i64.to_le_bytes());
    assert_eq!(global.get(&mut store).i64(), Some(-8));
    let Some(Ref::Func(Some(f))) = table.get(&mut store, 0) else {
        panic!("the element segment filled the host table");
    };
    assert_eq!(f.typed::<(), i32>(&store)?.call(&mut store, ())?, 1);
    Ok(())
}

#[test]
fn unknown_import_is_an_error_naming_it() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let f = Func::wrap(&mut store, || {});
    linker.define(&store, "env", "present", f)?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "present" (func))
            (import "env" "missing_thing" (func)))"#,
    )?;
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("env") && msg.contains("missing_thing"),
        "{msg}"
    );
    assert!(msg.contains("unknown import"), "{msg}");

    // Same item name under another module name does not count.
    let module = Module::new(&engine, r#"(module (import "other" "present" (func)))"#)?;
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(format!("{err:#}").contains("other"), "{err:#}");
    Ok(())
}

#[test]
fn incompatible_imports_are_errors() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let unary = Func::wrap(&mut store, |x: i32| x);
    let memory = Memory::new(&mut store, MemoryType::new(1, Some(2)))?;
    let table = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 1, None),
        Ref::Func(None),
    )?;
    let const_i32 = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(0),
    )?;
    let var_i64 = Global::new(
        &mut store,
        GlobalType::new(ValType::I64, Mutability::Var),
        Val::I64(0),
    )?;
    let mut linker = Linker::new(&engine);
    linker
        .define(&store, "env", "unary", unary)?
        .define(&store, "env", "memory", memory)?
        .define(&store, "env", "table", table)?
        .define(&store, "env", "const_i32", const_i32)?
        .define(&store, "env", "var_i64", var_i64)?;

    let cases = [
        // Function of another type.
        (
            r#"(import "env" "unary" (func (param i64) (result i32)))"#,
            "unary",
        ),
        (r#"(import "env" "unary" (func))"#, "unary"),
        // Another kind.
        (r#"(import "env" "memory" (func))"#, "memory"),
        (r#"(import "env" "unary" (memory 1))"#, "unary"),
        (r#"(import "env" "table" (global i32))"#, "table"),
        // Limits: the memory is too small, or its maximum is too large.
        (r#"(import "env" "memory" (memory 2))"#, "memory"),
        (r#"(import "env" "memory" (memory 1 1))"#, "memory"),
        (r#"(import "env" "table" (table 2 funcref))"#, "table"),
        // Globals: mutability and type.
        (
            r#"(import "env" "const_i32" (global (mut i32)))"#,
            "const_i32",
        ),
        (r#"(import "env" "var_i64" (global i64))"#, "var_i64"),
        (r#"(import "env" "var_i64" (global (mut i32)))"#, "var_i64"),
    ];
    for (import, name) in cases {
        let module = Module::new(&engine, format!("(module {import})"))?;
        let err = linker.instantiate(&mut store, &module).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("incompatible import type"), "{import}: {msg}");
        assert!(msg.contains(&format!("env::{name}")), "{import}: {msg}");
    }

    // The compatible forms work.
    for import in [
        r#"(import "env" "unary" (func (param i32) (result i32)))"#,
        r#"(import "env" "memory" (memory 1))"#,
        r#"(import "env" "memory" (memory 0 3))"#,
        r#"(import "env" "table" (table 0 funcref))"#,
        r#"(import "env" "const_i32" (global i32))"#,
        r#"(import "env" "var_i64" (global (mut i64)))"#,
    ] {
        let module = Module::new(&engine, format!("(module {import})"))?;
        linker
            .instantiate(&mut store, &module)
            .map_err(|e| e.context(import))?;
    }
    Ok(())
}

#[test]
fn instance_new_checks_import_count() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module (import "a" "b" (func)) (import "a" "c" (func)))"#,
    )?;
    let f = Func::wrap(&mut store, || {});
    let err = Instance::new(&mut store, &module, &[f.into()]).unwrap_err();
    assert!(
        err.to_string().contains("expected 2 imports, got 1"),
        "{err:#}"
    );
    Instance::new(&mut store, &module, &[f.into(), f.into()])?;
    Ok(())
}

#[test]
fn linker_rejects_duplicates_unless_shadowing_is_allowed() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let one = Func::wrap(&mut store, || 1i32);
    let two = Func::wrap(&mut store, || 2i32);
    let mut linker = Linker::new(&engine);
    linker.define(&store, "env", "f", one)?;
    let err = linker.define(&store, "env", "f", two).unwrap_err();
    assert!(err.to_string().contains("env::f"), "{err:#}");
    assert!(
        matches!(linker.get(&mut store, "env", "f"), Some(engine::Extern::Func(f)) if f == one)
    );

    linker.allow_shadowing(true);
    linker.define(&store, "env", "f", two)?;
    let module = Module::new(
        &engine,
        r#"(module (import "env" "f" (func $f (result i32)))
            (func (export "run") (result i32) (call $f)))"#,
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    assert_eq!(
        instance
            .get_typed_func::<(), i32>(&store, "run")?
            .call(&mut store, ())?,
        2
    );
    Ok(())
}

#[test]
fn instances_of_one_module_do_not_share_state() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module
            (memory (export "memory") 1)
            (global $g (mut i32) (i32.const 0))
            (func (export "bump") (result i32)
                (global.set $g (i32.add (global.get $g) (i32.const 1)))
                (i32.store8 (i32.const 0) (global.get $g))
                (global.get $g)))"#,
    )?;
    let a = Instance::new(&mut store, &module, &[])?;
    let b = Instance::new(&mut store, &module, &[])?;
    let bump_a = a.get_typed_func::<(), i32>(&store, "bump")?;
    let bump_b = b.get_typed_func::<(), i32>(&store, "bump")?;
    assert_eq!(bump_a.call(&mut store, ())?, 1);
    assert_eq!(bump_a.call(&mut store, ())?, 2);
    assert_eq!(bump_b.call(&mut store, ())?, 1);
    let mem_a = a.get_memory(&store, "memory").expect("exported");
    let mem_b = b.get_memory(&store, "memory").expect("exported");
    assert_ne!(mem_a, mem_b);
    assert_eq!((mem_a.data(&store)[0], mem_b.data(&store)[0]), (2, 1));
    Ok(())
}

#[test]
fn failed_segment_keeps_earlier_writes_to_imported_memory_and_table() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    let table = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 2, None),
        Ref::Func(None),
    )?;
    let mut linker = Linker::new(&engine);
    linker
        .define(&store, "env", "memory", memory)?
        .define(&store, "env", "table", table)?;

    // The second data segment is out of bounds; the first has already been written.
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "memory" (memory 1))
            (data (i32.const 0) "first")
            (data (i32.const 65534) "xyz"))"#,
    )?;
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::MemoryOutOfBounds),
        "{err:#}"
    );
    assert_eq!(&memory.data(&store)[..5], b"first");
    assert_eq!(&memory.data(&store)[65534..], &[0, 0], "no partial segment");

    // Likewise for element segments.
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "table" (table 2 funcref))
            (func $f (result i32) i32.const 11)
            (elem (i32.const 0) func $f)
            (elem (i32.const 1) func $f $f))"#,
    )?;
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::TableOutOfBounds),
        "{err:#}"
    );
    let Some(Ref::Func(Some(f))) = table.get(&mut store, 0) else {
        panic!("the first segment was applied");
    };
    assert_eq!(f.typed::<(), i32>(&store)?.call(&mut store, ())?, 11);
    assert!(
        matches!(table.get(&mut store, 1), Some(Ref::Func(None))),
        "no partial segment"
    );
    Ok(())
}

#[test]
fn call_indirect_matches_equal_types_defined_at_different_indices() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    // The provider's `(i32) -> i32` is its type 2; the consumer's is its type 0.
    let provider = Module::new(
        &engine,
        r#"(module
            (type (func (param f64)))
            (type (func (result i64)))
            (type $i_i (func (param i32) (result i32)))
            (table (export "table") 2 funcref)
            (func $triple (type $i_i) (i32.mul (local.get 0) (i32.const 3)))
            (func $other (type 1) (i64.const 0))
            (elem (i32.const 0) func $triple $other))"#,
    )?;
    let provider = Instance::new(&mut store, &provider, &[])?;
    linker.instance(&mut store, "provider", provider)?;
    let consumer = Module::new(
        &engine,
        r#"(module
            (type $i_i (func (param i32) (result i32)))
            (import "provider" "table" (table 2 funcref))
            (func (export "call") (param i32 i32) (result i32)
                (call_indirect (type $i_i) (local.get 1) (local.get 0))))"#,
    )?;
    let consumer = linker.instantiate(&mut store, &consumer)?;
    let call = consumer.get_typed_func::<(i32, i32), i32>(&store, "call")?;
    assert_eq!(call.call(&mut store, (0, 14))?, 42);
    let err = call.call(&mut store, (1, 14)).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::IndirectCallTypeMismatch),
        "{err:#}"
    );
    Ok(())
}

#[test]
fn reexported_imports_and_imported_global_initialisers() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let base = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(40),
    )?;
    let host = Func::wrap(&mut store, |x: i32| x + 1);
    let mut linker = Linker::new(&engine);
    linker
        .define(&store, "env", "base", base)?
        .define(&store, "env", "inc", host)?;
    let middle = Module::new(
        &engine,
        r#"(module
            (import "env" "base" (global $base i32))
            (import "env" "inc" (func $inc (param i32) (result i32)))
            (global (export "derived") i32 (global.get $base))
            (export "inc" (func $inc))
            (export "base" (global $base)))"#,
    )?;
    let middle = linker.instantiate(&mut store, &middle)?;
    let derived = middle.get_global(&store, "derived").expect("exported");
    assert_eq!(derived.get(&mut store).i32(), Some(40));
    assert_ne!(derived, base, "an initialised copy, not the import");
    assert_eq!(
        middle.get_global(&store, "base"),
        Some(base),
        "a re-exported global is the same"
    );
    let inc = middle.get_typed_func::<i32, i32>(&store, "inc")?;
    assert_eq!(inc.call(&mut store, 9)?, 10);

    // And one level further down.
    linker.instance(&mut store, "middle", middle)?;
    let last = Module::new(
        &engine,
        r#"(module
            (import "middle" "inc" (func $inc (param i32) (result i32)))
            (import "middle" "derived" (global $d i32))
            (func (export "run") (result i32) (call $inc (global.get $d))))"#,
    )?;
    let last = linker.instantiate(&mut store, &last)?;
    assert_eq!(
        last.get_typed_func::<(), i32>(&store, "run")?
            .call(&mut store, ())?,
        41
    );
    Ok(())
}

#[test]
fn linker_module_alias_and_instantiate_pre() -> Result<()> {
    let engine = Engine::default();
    let mut linker = Linker::<u32>::new(&engine);
    linker.func_wrap("host", "bump", |mut c: engine::Caller<'_, u32>, by: i32| {
        *c.data_mut() += by as u32;
    })?;
    let lib = Module::new(
        &engine,
        r#"(module (import "host" "bump" (func $bump (param i32)))
             (func (export "twice") (param i32) (call $bump (local.get 0)) (call $bump (local.get 0))))"#,
    )?;
    let app = Module::new(
        &engine,
        r#"(module (import "lib" "twice" (func $twice (param i32)))
                   (import "env" "bump" (func $bump (param i32)))
             (func (export "run") (call $twice (i32.const 5)) (call $bump (i32.const 1))))"#,
    )?;
    let mut store = Store::new(&engine, 0);
    // `module` instantiates `lib` and defines its exports; `alias` renames a definition.
    linker.module(&mut store, "lib", &lib)?;
    linker.alias("host", "bump", "env", "bump")?;
    assert!(linker.alias("host", "nothing", "env", "x").is_err());
    let pre = linker.instantiate_pre(&app)?;
    let run = pre
        .instantiate(&mut store)?
        .get_typed_func::<(), ()>(&store, "run")?;
    run.call(&mut store, ())?;
    assert_eq!(*store.data(), 11);
    // Instantiated again from the same resolution.
    let run = pre
        .clone()
        .instantiate(&mut store)?
        .get_typed_func::<(), ()>(&store, "run")?;
    run.call(&mut store, ())?;
    assert_eq!(*store.data(), 22);
    // `alias_module` copies every item of a module.
    linker.alias_module("lib", "lib2")?;
    assert!(linker.contains("lib2", "twice"));
    // An unresolved import is named by `instantiate_pre`.
    let lonely = Module::new(&engine, r#"(module (import "nowhere" "f" (func)))"#)?;
    let err = linker.instantiate_pre(&lonely).err().unwrap();
    assert!(err.to_string().contains("`nowhere::f`"), "{err}");
    Ok(())
}

#[test]
fn unknown_imports_as_traps_or_default_values() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "bench" "now" (func $now (result i64 f32)))
             (import "env" "mem" (memory 1))
             (func (export "run") (result i64) (call $now) (drop)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let memory = engine::Memory::new(&mut store, engine::MemoryType::new(1, None))?;
    let mut traps = Linker::<()>::new(&engine);
    traps.define(&store, "env", "mem", memory)?;
    traps.define_unknown_imports_as_traps(&module)?;
    // Only function imports are defined: the memory was already there.
    let run = traps
        .instantiate(&mut store, &module)?
        .get_typed_func::<(), i64>(&store, "run")?;
    let err = run.call(&mut store, ()).unwrap_err();
    assert!(
        format!("{err:#}").contains("unknown import `bench::now` was called"),
        "{err}"
    );
    let mut zeros = Linker::<()>::new(&engine);
    zeros.define(&store, "env", "mem", memory)?;
    zeros.define_unknown_imports_as_default_values(&module)?;
    let run = zeros
        .instantiate(&mut store, &module)?
        .get_typed_func::<(), i64>(&store, "run")?;
    assert_eq!(run.call(&mut store, ())?, 0);
    Ok(())
}
