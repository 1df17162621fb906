//! Traps and recovery: every trap kind the engine reports, each followed by a successful
//! call in the same store; the `WasmBacktrace` a trap carries; the stack limit (deep
//! recursion that fits, infinite recursion that does not); traps during instantiation;
//! and memory growth.

use anyhow::{Error, Result};
use engine::{Config, Engine, Instance, Module, Store, Trap, WasmBacktrace};

/// Every trap below lives in one module, so that the recovery checks share a store.
const TRAPS: &str = r#"(module $traps
    (type $v_i (func (result i32)))
    (type $i_i (func (param i32) (result i32)))
    (memory (export "memory") 1)
    (table $t 3 funcref)
    (elem (table $t) (i32.const 0) func $ok)
    (elem (table $t) (i32.const 2) func $identity)
    (func $ok (export "ok") (result i32) i32.const 42)
    (func $identity (param i32) (result i32) local.get 0)
    (func $unreachable (export "unreachable") unreachable)
    (func $div_s_zero (export "div_s_zero") (result i32)
        (i32.div_s (i32.const 1) (i32.const 0)))
    (func $rem_u_zero (export "rem_u_zero") (result i64)
        (i64.rem_u (i64.const 1) (i64.const 0)))
    (func $div_overflow (export "div_overflow") (result i32)
        (i32.div_s (i32.const 0x80000000) (i32.const -1)))
    (func $trunc_overflow (export "trunc_overflow") (result i32)
        (i32.trunc_f32_s (f32.const 3e9)))
    (func $trunc_u_negative (export "trunc_u_negative") (result i64)
        (i64.trunc_f64_u (f64.const -1)))
    (func $trunc_nan (export "trunc_nan") (result i32)
        (i32.trunc_f64_s (f64.const nan)))
    (func $load_past_end (export "load_past_end") (result i32)
        (i32.load (i32.const 65536)))
    (func $load_straddling (export "load_straddling") (result i32)
        (i32.load (i32.const 65534)))
    (func $store_straddling (export "store_straddling")
        (i32.store (i32.const 65534) (i32.const -1)))
    (func $store_far_offset (export "store_far_offset")
        (i32.store offset=0xFFFFFFFF (i32.const 0) (i32.const 1)))
    (func $store_far_address (export "store_far_address")
        (i64.store (i32.const 0xFFFFFFFF) (i64.const 1)))
    (func $store_farthest (export "store_farthest")
        (i64.store offset=0xFFFFFFFF (i32.const 0xFFFFFFFF) (i64.const 1)))
    (func $table_get_oob (export "table_get_oob")
        (drop (table.get $t (i32.const 3))))
    (func $table_set_oob (export "table_set_oob")
        (table.set $t (i32.const 100) (ref.null func)))
    (func $undefined_element (export "undefined_element") (result i32)
        (call_indirect (type $v_i) (i32.const 3)))
    (func $uninitialized_element (export "uninitialized_element") (result i32)
        (call_indirect (type $v_i) (i32.const 1)))
    (func $type_mismatch (export "type_mismatch") (result i32)
        (call_indirect (type $v_i) (i32.const 2)))
    (func $recurse (export "recurse") (param i32) (result i32)
        (call $recurse (i32.add (local.get 0) (i32.const 1))))
    ;; Bulk operations, which trap after a runtime call reports failure.
    (data $d "abcd")
    (elem $e func $ok)
    (func $fill_oob (export "fill_oob")
        (memory.fill (i32.const 65530) (i32.const 1) (i32.const 7)))
    (func $copy_oob (export "copy_oob")
        (memory.copy (i32.const 0) (i32.const 65535) (i32.const 2)))
    (func $init_oob (export "init_oob")
        (memory.init $d (i32.const 0) (i32.const 2) (i32.const 3)))
    (func $table_fill_oob (export "table_fill_oob")
        (table.fill $t (i32.const 2) (ref.null func) (i32.const 2)))
    (func $table_copy_oob (export "table_copy_oob")
        (table.copy $t $t (i32.const 0) (i32.const 2) (i32.const 2)))
    (func $table_init_oob (export "table_init_oob")
        (table.init $t $e (i32.const 3) (i32.const 0) (i32.const 1)))
)"#;

/// The trap an error carries; panics with the error if there is none.
fn trap(err: &Error) -> Trap {
    *err.downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("expected a trap, got {err:?}"))
}

/// The function names of the backtrace an error carries, innermost first.
fn backtrace_names(err: &Error) -> Vec<Option<String>> {
    let backtrace = err
        .downcast_ref::<WasmBacktrace>()
        .unwrap_or_else(|| panic!("expected a backtrace, got {err:?}"));
    backtrace
        .frames()
        .iter()
        .map(|f| f.func_name.clone())
        .collect()
}

fn traps_instance() -> Result<(Store<()>, Instance)> {
    let engine = Engine::default();
    let module = Module::new(&engine, TRAPS)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    Ok((store, instance))
}

/// Calls the export `name` (no parameters, any results) and returns its error.
fn call_err(store: &mut Store<()>, instance: Instance, name: &str) -> Error {
    let func = instance
        .get_func(&*store, name)
        .unwrap_or_else(|| panic!("`{name}` is exported"));
    let mut results: Vec<engine::Val> = func
        .ty(&*store)
        .results()
        .iter()
        .map(engine::Val::default_for)
        .collect();
    match func.call(&mut *store, &[], &mut results) {
        Ok(()) => panic!("`{name}` returned {results:?} instead of trapping"),
        Err(err) => err,
    }
}

#[test]
fn each_trap_kind_is_reported_and_the_store_recovers() -> Result<()> {
    let (mut store, instance) = traps_instance()?;
    let ok = instance.get_typed_func::<(), i32>(&store, "ok")?;
    let cases = [
        ("unreachable", Trap::Unreachable),
        ("div_s_zero", Trap::IntegerDivisionByZero),
        ("rem_u_zero", Trap::IntegerDivisionByZero),
        ("div_overflow", Trap::IntegerOverflow),
        ("trunc_overflow", Trap::IntegerOverflow),
        ("trunc_u_negative", Trap::IntegerOverflow),
        ("trunc_nan", Trap::BadConversionToInteger),
        ("load_past_end", Trap::MemoryOutOfBounds),
        ("load_straddling", Trap::MemoryOutOfBounds),
        ("store_straddling", Trap::MemoryOutOfBounds),
        ("store_far_offset", Trap::MemoryOutOfBounds),
        ("store_far_address", Trap::MemoryOutOfBounds),
        ("store_farthest", Trap::MemoryOutOfBounds),
        ("table_get_oob", Trap::TableOutOfBounds),
        ("table_set_oob", Trap::TableOutOfBounds),
        ("undefined_element", Trap::UndefinedElement),
        ("uninitialized_element", Trap::UninitializedElement),
        ("type_mismatch", Trap::IndirectCallTypeMismatch),
        ("fill_oob", Trap::MemoryOutOfBounds),
        ("copy_oob", Trap::MemoryOutOfBounds),
        ("init_oob", Trap::MemoryOutOfBounds),
        ("table_fill_oob", Trap::TableOutOfBounds),
        ("table_copy_oob", Trap::TableOutOfBounds),
        ("table_init_oob", Trap::TableOutOfBounds),
    ];
    for (name, expected) in cases {
        let err = call_err(&mut store, instance, name);
        assert_eq!(trap(&err), expected, "`{name}`: {err:?}");
        // The spec's message is in the error chain.
        assert!(
            format!("{err:#}").contains(expected.message()),
            "`{name}`: {err:#}"
        );
        // The function that trapped is the innermost frame.
        let names = backtrace_names(&err);
        assert_eq!(
            names.first(),
            Some(&Some(name.to_string())),
            "`{name}`: {names:?}"
        );
        // And the store is fine.
        assert_eq!(ok.call(&mut store, ())?, 42, "after `{name}`");
    }
    Ok(())
}

#[test]
fn trap_messages_are_the_spec_texts() {
    let expected = [
        (Trap::Unreachable, "unreachable"),
        (Trap::IntegerDivisionByZero, "integer divide by zero"),
        (Trap::IntegerOverflow, "integer overflow"),
        (
            Trap::BadConversionToInteger,
            "invalid conversion to integer",
        ),
        (Trap::MemoryOutOfBounds, "out of bounds memory access"),
        (Trap::TableOutOfBounds, "out of bounds table access"),
        (Trap::UndefinedElement, "undefined element"),
        (Trap::UninitializedElement, "uninitialized element"),
        (
            Trap::IndirectCallTypeMismatch,
            "indirect call type mismatch",
        ),
        (Trap::StackOverflow, "call stack exhausted"),
    ];
    for (trap, message) in expected {
        assert_eq!(trap.to_string(), message);
        assert_eq!(trap.message(), message);
    }
}

#[test]
fn trapping_stores_write_nothing() -> Result<()> {
    let (mut store, instance) = traps_instance()?;
    let memory = instance.get_memory(&store, "memory").expect("exported");
    let err = call_err(&mut store, instance, "store_straddling");
    assert_eq!(trap(&err), Trap::MemoryOutOfBounds);
    assert_eq!(
        &memory.data(&store)[65532..],
        &[0, 0, 0, 0],
        "no partial write"
    );
    let err = call_err(&mut store, instance, "store_far_offset");
    assert_eq!(trap(&err), Trap::MemoryOutOfBounds);
    assert!(memory.data(&store).iter().all(|&b| b == 0));
    let err = call_err(&mut store, instance, "fill_oob");
    assert_eq!(trap(&err), Trap::MemoryOutOfBounds);
    assert!(
        memory.data(&store).iter().all(|&b| b == 0),
        "no partial fill"
    );
    Ok(())
}

#[test]
fn backtrace_names_frames_innermost_first() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module $bt
            (func $inner (param i32) (result i32)
                (if (i32.eqz (local.get 0)) (then unreachable))
                (local.get 0))
            (func $middle (param i32) (result i32)
                (i32.add (call $inner (local.get 0)) (i32.const 1)))
            (func (param i32) (result i32)
                (i32.add (call $middle (local.get 0)) (i32.const 1)))
            (func $outer (export "outer") (param i32) (result i32)
                (i32.add (call 2 (local.get 0)) (i32.const 1))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let outer = instance.get_typed_func::<i32, i32>(&store, "outer")?;
    assert_eq!(outer.call(&mut store, 5)?, 8);

    let err = outer.call(&mut store, 0).unwrap_err();
    assert_eq!(trap(&err), Trap::Unreachable);
    let backtrace = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
    let frames = backtrace.frames();
    let names: Vec<Option<&str>> = frames.iter().map(|f| f.func_name.as_deref()).collect();
    assert_eq!(
        names,
        [Some("inner"), Some("middle"), None, Some("outer")],
        "{backtrace}"
    );
    let indices: Vec<u32> = frames.iter().map(|f| f.func_index).collect();
    assert_eq!(indices, [0, 1, 2, 3]);
    assert!(
        frames
            .iter()
            .all(|f| f.module_name.as_deref() == Some("bt")),
        "{frames:?}"
    );

    // The display form shows the names, and the index for the unnamed function.
    let text = backtrace.to_string();
    assert!(
        text.contains("bt!inner") && text.contains("bt!outer"),
        "{text}"
    );
    assert!(text.contains("<wasm function 2>"), "{text}");
    Ok(())
}

/// A module, hand-assembled so that offsets are known:
/// `(module (func (export "f") unreachable))`.
const UNREACHABLE_BINARY: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
    0x03, 0x02, 0x01, 0x00, // function section
    0x07, 0x05, 0x01, 0x01, b'f', 0x00, 0x00, // export section: "f" = func 0
    0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b, // code: no locals, `unreachable` at 30, `end`
];

#[test]
fn backtrace_records_the_module_offset_of_the_trapping_instruction() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, UNREACHABLE_BINARY)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let err = instance
        .get_typed_func::<(), ()>(&store, "f")?
        .call(&mut store, ())
        .unwrap_err();
    assert_eq!(trap(&err), Trap::Unreachable);
    let frames = err
        .downcast_ref::<WasmBacktrace>()
        .expect("a backtrace")
        .frames();
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0].func_index, 0);
    assert_eq!(frames[0].func_name, None, "no name section");
    assert_eq!(frames[0].module_name, None);
    assert_eq!(frames[0].module_offset, Some(30));
    Ok(())
}

#[test]
fn infinite_recursion_is_a_stack_overflow_trap() -> Result<()> {
    let (mut store, instance) = traps_instance()?;
    let recurse = instance.get_typed_func::<i32, i32>(&store, "recurse")?;
    let ok = instance.get_typed_func::<(), i32>(&store, "ok")?;
    // Twice: the limit is restored after the first overflow.
    for _ in 0..2 {
        let err = recurse.call(&mut store, 0).unwrap_err();
        assert_eq!(trap(&err), Trap::StackOverflow, "{err:?}");
        assert!(
            format!("{err:#}").contains("call stack exhausted"),
            "{err:#}"
        );
        let names = backtrace_names(&err);
        assert!(names.len() > 100, "only {} frames", names.len());
        assert!(
            names.iter().all(|n| n.as_deref() == Some("recurse")),
            "{:?}",
            &names[..5]
        );
        assert_eq!(ok.call(&mut store, ())?, 42);
    }
    Ok(())
}

const SUM: &str = r#"(module
    ;; sum(n) = n + sum(n - 1), not a tail call
    (func $sum (export "sum") (param i64) (result i64)
        (if (result i64) (i64.eqz (local.get 0))
            (then (i64.const 0))
            (else (i64.add (local.get 0)
                           (call $sum (i64.sub (local.get 0) (i64.const 1))))))))"#;

#[test]
fn deep_recursion_within_the_limit_succeeds() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, SUM)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let sum = instance.get_typed_func::<i64, i64>(&store, "sum")?;
    assert_eq!(sum.call(&mut store, 10_000)?, 50_005_000);
    // Far deeper overflows, and then the same depth works again.
    assert_eq!(
        trap(&sum.call(&mut store, 100_000_000).unwrap_err()),
        Trap::StackOverflow
    );
    assert_eq!(sum.call(&mut store, 10_000)?, 50_005_000);
    Ok(())
}

#[test]
fn max_wasm_stack_sets_the_limit() -> Result<()> {
    let mut config = Config::new();
    config.max_wasm_stack(32 * 1024);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, SUM)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let sum = instance.get_typed_func::<i64, i64>(&store, "sum")?;
    assert_eq!(sum.call(&mut store, 100)?, 5050);
    let err = sum.call(&mut store, 10_000).unwrap_err();
    assert_eq!(trap(&err), Trap::StackOverflow, "{err:?}");
    Ok(())
}

#[test]
fn trap_in_start_function_fails_instantiation() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module
            (func $start (i32.store (i32.const 0) (i32.div_u (i32.const 1) (i32.const 0))))
            (memory 1)
            (start $start))"#,
    )?;
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(trap(&err), Trap::IntegerDivisionByZero, "{err:?}");
    assert_eq!(backtrace_names(&err), [Some("start".to_string())]);

    // The store can still instantiate and run modules, and a start function that returns
    // normally has run by the time `Instance::new` returns.
    let module = Module::new(
        &engine,
        r#"(module
            (global $g (export "g") (mut i32) (i32.const 1))
            (func $start (global.set $g (i32.const 2)))
            (start $start))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let g = instance.get_global(&store, "g").expect("exported");
    assert_eq!(g.get(&mut store).i32(), Some(2));
    Ok(())
}

#[test]
fn out_of_bounds_segments_fail_instantiation() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let cases = [
        (
            r#"(module (memory 1) (data (i32.const 65535) "ab"))"#,
            Trap::MemoryOutOfBounds,
        ),
        (
            r#"(module (memory 0) (data (i32.const 0) "a"))"#,
            Trap::MemoryOutOfBounds,
        ),
        (
            r#"(module (memory 1) (data (i32.const -1) "a"))"#,
            Trap::MemoryOutOfBounds,
        ),
        (
            r#"(module (table 1 funcref) (func $f) (elem (i32.const 1) func $f))"#,
            Trap::TableOutOfBounds,
        ),
        (
            r#"(module (table 0 funcref) (func $f) (elem (i32.const 0) func $f))"#,
            Trap::TableOutOfBounds,
        ),
        (
            r#"(module (table 2 funcref) (func $f) (elem (i32.const -1) func $f))"#,
            Trap::TableOutOfBounds,
        ),
    ];
    for (wat, expected) in cases {
        let module = Module::new(&engine, wat)?;
        let err = Instance::new(&mut store, &module, &[]).unwrap_err();
        assert_eq!(trap(&err), expected, "{wat}: {err:?}");
    }
    // Empty segments at the very end are in bounds.
    for wat in [
        r#"(module (memory 1) (data (i32.const 65536) ""))"#,
        r#"(module (table 1 funcref) (elem (i32.const 1) func))"#,
    ] {
        Instance::new(&mut store, &Module::new(&engine, wat)?, &[])?;
    }
    Ok(())
}

#[test]
fn memory_growth_from_wasm_and_host() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (memory (export "memory") 1 3)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            (func (export "size") (result i32) (memory.size))
            (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
            (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<i32, i32>(&store, "grow")?;
    let size = instance.get_typed_func::<(), i32>(&store, "size")?;
    let load8 = instance.get_typed_func::<i32, i32>(&store, "load8")?;
    let store8 = instance.get_typed_func::<(i32, i32), ()>(&store, "store8")?;
    let memory = instance.get_memory(&store, "memory").expect("exported");

    // Page 1 does not exist yet.
    assert_eq!(
        trap(&store8.call(&mut store, (65536, 1)).unwrap_err()),
        Trap::MemoryOutOfBounds
    );

    assert_eq!(grow.call(&mut store, 1)?, 1);
    assert_eq!(size.call(&mut store, ())?, 2);
    store8.call(&mut store, (65536 + 7, 0x5a))?;
    assert_eq!(memory.data(&store).len(), 2 * 65536);
    assert_eq!(memory.data(&store)[65536 + 7], 0x5a);

    // Past the maximum, and absurd requests: -1, and nothing changes.
    assert_eq!(grow.call(&mut store, 2)?, -1);
    assert_eq!(grow.call(&mut store, -1)?, -1);
    assert_eq!(size.call(&mut store, ())?, 2);
    assert_eq!(grow.call(&mut store, 0)?, 2);

    // The host grows the last page; Wasm sees it.
    assert_eq!(memory.grow(&mut store, 1)?, 2);
    assert_eq!(size.call(&mut store, ())?, 3);
    memory.data_mut(&mut store)[3 * 65536 - 1] = 0x77;
    assert_eq!(load8.call(&mut store, 3 * 65536 - 1)?, 0x77);
    assert_eq!(
        trap(&load8.call(&mut store, 3 * 65536).unwrap_err()),
        Trap::MemoryOutOfBounds
    );
    assert!(memory.grow(&mut store, 1).is_err());
    assert_eq!(grow.call(&mut store, 1)?, -1);
    assert_eq!(memory.size(&store), 3);
    Ok(())
}

#[test]
fn memory_growth_without_maximum_stops_at_4_gib() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (memory 0)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<i32, i32>(&store, "grow")?;
    assert_eq!(grow.call(&mut store, 65537)?, -1);
    assert_eq!(grow.call(&mut store, 2)?, 0);
    assert_eq!(grow.call(&mut store, 65535)?, -1);
    assert_eq!(grow.call(&mut store, 0)?, 2);
    Ok(())
}

#[test]
fn operations_at_the_edge_of_trapping_do_not_trap() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (memory 1)
            (func (export "rem_s") (param i32 i32) (result i32)
                (i32.rem_s (local.get 0) (local.get 1)))
            (func (export "rem_s64") (param i64 i64) (result i64)
                (i64.rem_s (local.get 0) (local.get 1)))
            (func (export "div_s64") (param i64 i64) (result i64)
                (i64.div_s (local.get 0) (local.get 1)))
            (func (export "trunc_s") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
            (func (export "trunc_u") (param f64) (result i32) (i32.trunc_f64_u (local.get 0)))
            (func (export "trunc_sat") (param f64) (result i32)
                (i32.trunc_sat_f64_s (local.get 0)))
            (func (export "last_word") (result i32) (i32.load (i32.const 65532)))
            (func (export "fill_to_end") (memory.fill (i32.const 65535) (i32.const 9) (i32.const 1))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let rem_s = instance.get_typed_func::<(i32, i32), i32>(&store, "rem_s")?;
    assert_eq!(rem_s.call(&mut store, (i32::MIN, -1))?, 0);
    assert_eq!(rem_s.call(&mut store, (-7, 2))?, -1);
    let rem_s64 = instance.get_typed_func::<(i64, i64), i64>(&store, "rem_s64")?;
    assert_eq!(rem_s64.call(&mut store, (i64::MIN, -1))?, 0);
    let div_s64 = instance.get_typed_func::<(i64, i64), i64>(&store, "div_s64")?;
    assert_eq!(div_s64.call(&mut store, (i64::MIN, 1))?, i64::MIN);
    let err = div_s64.call(&mut store, (i64::MIN, -1)).unwrap_err();
    assert_eq!(trap(&err), Trap::IntegerOverflow);

    let trunc_s = instance.get_typed_func::<f64, i32>(&store, "trunc_s")?;
    assert_eq!(trunc_s.call(&mut store, -2147483648.9)?, i32::MIN);
    assert_eq!(trunc_s.call(&mut store, 2147483647.9)?, i32::MAX);
    assert_eq!(trunc_s.call(&mut store, -0.9)?, 0);
    assert_eq!(
        trap(&trunc_s.call(&mut store, -2147483649.0).unwrap_err()),
        Trap::IntegerOverflow
    );
    assert_eq!(
        trap(&trunc_s.call(&mut store, 2147483648.0).unwrap_err()),
        Trap::IntegerOverflow
    );
    let trunc_u = instance.get_typed_func::<f64, u32>(&store, "trunc_u")?;
    assert_eq!(trunc_u.call(&mut store, 4294967295.9)?, u32::MAX);
    assert_eq!(trunc_u.call(&mut store, -0.9)?, 0);
    assert_eq!(
        trap(&trunc_u.call(&mut store, 4294967296.0).unwrap_err()),
        Trap::IntegerOverflow
    );
    let trunc_sat = instance.get_typed_func::<f64, i32>(&store, "trunc_sat")?;
    assert_eq!(trunc_sat.call(&mut store, f64::NAN)?, 0);
    assert_eq!(trunc_sat.call(&mut store, 1e300)?, i32::MAX);
    assert_eq!(trunc_sat.call(&mut store, f64::NEG_INFINITY)?, i32::MIN);

    assert_eq!(
        instance
            .get_typed_func::<(), i32>(&store, "last_word")?
            .call(&mut store, ())?,
        0
    );
    instance
        .get_typed_func::<(), ()>(&store, "fill_to_end")?
        .call(&mut store, ())?;
    assert_eq!(
        instance
            .get_typed_func::<(), i32>(&store, "last_word")?
            .call(&mut store, ())?,
        9 << 24
    );
    Ok(())
}

#[test]
fn recursion_on_a_small_thread_stack_traps_instead_of_overflowing_it() {
    // The Wasm stack limit is clamped to what the thread's real stack can hold.
    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (func $r (export "r") (call $r)))"#).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let r = instance.get_typed_func::<(), ()>(&store, "r").unwrap();
    let trap = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let err = r.call(&mut store, ()).unwrap_err();
            err.downcast_ref::<Trap>().copied()
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(trap, Some(Trap::StackOverflow));
}
