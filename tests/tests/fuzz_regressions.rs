//! Findings of the differential campaigns against Wasmtime 48 (`fuzz/`), reduced, with the
//! behaviour both engines agree on. Each says which campaign found it.

use engine::{Config, Engine, Instance, Module, Store};

/// Fuel consumed by one call of export `f` of `wat`.
fn fuel_of(wat: &str) -> u64 {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    store.set_fuel(u64::MAX / 2).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_func(&store, "f").unwrap();
    store.set_fuel(1_000_000).unwrap();
    f.call(&mut store, &[], &mut []).unwrap();
    1_000_000 - store.get_fuel().unwrap()
}

/// Fuel campaign, seeds 7, 17, 35, ...: every call consumed one unit less than in Wasmtime,
/// which charges each function entry. Found next: bulk operations are charged per byte or
/// element on top of their one unit.
#[test]
fn fuel_charges_function_entries_and_bulk_operations() {
    assert_eq!(fuel_of(r#"(module (func (export "f")))"#), 1);
    assert_eq!(
        fuel_of(r#"(module (func $g) (func (export "f") (call $g)))"#),
        3,
        "two entries and the call"
    );
    assert_eq!(
        fuel_of(
            r#"(module (memory 1) (func (export "f")
                (memory.fill (i32.const 0) (i32.const 1) (i32.const 1000))))"#
        ),
        1 + 4 + 1000,
        "entry, three constants and the fill, and a unit per byte"
    );
    assert_eq!(
        fuel_of(
            r#"(module (type $a (array (mut i8))) (func (export "f")
                (drop (array.new $a (i32.const 1) (i32.const 500)))))"#
        ),
        1 + 3 + 500
    );
    assert_eq!(
        fuel_of(
            r#"(module (table 1 funcref) (func (export "f")
                (drop (table.grow (ref.null func) (i32.const 5)))))"#
        ),
        1 + 3 + 5
    );
}

/// Main campaign, seed 7078: `table.grow` by over a billion elements succeeded in Wasmtime
/// (which has no table size limit of its own) and returned -1 here, where tables stop at
/// 10^7 elements. The harness now gives Wasmtime the same limit; this pins the limit.
#[test]
fn table_growth_stops_at_the_implementation_limit() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (table (export "t") 362 funcref)
            (func (export "grow") (param i32) (result i32)
                (table.grow (ref.null func) (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 1_332_963_830).unwrap(), -1);
    assert_eq!(grow.call(&mut store, 10_000_000 - 362 + 1).unwrap(), -1);
    assert_eq!(grow.call(&mut store, 10_000_000 - 362).unwrap(), 362);
    let t = instance.get_table(&store, "t").unwrap();
    assert_eq!(t.size(&store), 10_000_000);
}

/// Exceptions campaign, seeds 331087, 335686, 335801, 343267, 343637: `throw_ref` of a null
/// reference trapped in both engines, but the harness filed this engine's
/// `Trap::NullExceptionReference` as an unknown trap against Wasmtime's null reference.
#[test]
fn throw_ref_of_null_is_a_null_reference_trap_in_the_harness() {
    use tests::differential::{CallOutcome, Plan, ThisEngine, TrapKind, execute};
    let wasm = to_binary(r#"(module (func (export "f") (throw_ref (ref.null exn))))"#);
    let mut this = ThisEngine::new(false, false).unwrap();
    let exec = execute(
        &mut this,
        &wasm,
        &Plan {
            seed: 0,
            fuel: None,
        },
    );
    assert!(
        matches!(
            exec.calls.as_slice(),
            [(_, CallOutcome::Trapped(TrapKind::NullReference))]
        ),
        "{:?}",
        exec.calls
    );
}

/// The binary form of `wat`, as the harness takes it.
fn to_binary(wat: &str) -> Vec<u8> {
    wast::parser::parse::<wast::Wat<'_>>(&wast::parser::ParseBuffer::new(wat).unwrap())
        .unwrap()
        .encode()
        .unwrap()
}
