//! Embedding API: calling exported functions with `Val`s and through `TypedFunc`
//! (multi-value results, every number type, NaN payloads, function references), the type
//! checks on those calls, export lookup, and store and engine ownership checks.
//!
//! Host functions, host-created globals/tables/memories, linking, traps, malformed input
//! and threads have files of their own.

use anyhow::Result;
use engine::{
    Config, Engine, ExternType, FuncType, GlobalType, Instance, MemoryType, Module, Mutability,
    RefType, Store, TableType, Trap, Val, ValType,
};
use tests::instantiate;

const ARITH: &str = r#"(module
    (func (export "add") (param i32 i32) (result i32)
        local.get 0 local.get 1 i32.add)
    (func (export "divmod") (param i32 i32) (result i32 i32)
        local.get 0 local.get 1 i32.div_u
        local.get 0 local.get 1 i32.rem_u)
    (func (export "rotate") (param i32 i64 f32 f64) (result f64 i32 i64 f32)
        local.get 3 local.get 0 local.get 1 local.get 2)
    (func (export "six") (param i64) (result i64 i64 i64 i64 i64 i64)
        local.get 0
        local.get 0 i64.const 1 i64.add
        local.get 0 i64.const 2 i64.add
        local.get 0 i64.const 3 i64.add
        local.get 0 i64.const 4 i64.add
        local.get 0 i64.const 5 i64.add)
    (func (export "i64_mul") (param i64 i64) (result i64)
        local.get 0 local.get 1 i64.mul)
    (func (export "i64_shr_u") (param i64 i64) (result i64)
        local.get 0 local.get 1 i64.shr_u)
    (func (export "f32_id") (param f32) (result f32) local.get 0)
    (func (export "f64_id") (param f64) (result f64) local.get 0)
    (func (export "f32_neg") (param f32) (result f32) local.get 0 f32.neg)
    (func (export "f64_abs") (param f64) (result f64) local.get 0 f64.abs)
    (func (export "f64_copysign") (param f64 f64) (result f64)
        local.get 0 local.get 1 f64.copysign)
    (func (export "f32_nan_const") (result f32) f32.const nan:0x200001)
    (func (export "f64_nan_const") (result f64) f64.const -nan:0xdead_beef)
    (func (export "f64_add") (param f64 f64) (result f64) local.get 0 local.get 1 f64.add)
    (func (export "f32_mul") (param f32 f32) (result f32) local.get 0 local.get 1 f32.mul)
    (func (export "nothing"))
    (memory (export "memory") 1)
    (global (export "counter") (mut i32) (i32.const 7))
)"#;

#[test]
fn func_call_with_vals_returns_results() -> Result<()> {
    let (mut store, instance) = instantiate(ARITH)?;
    let add = instance.get_func(&store, "add").expect("`add` is exported");
    assert_eq!(
        add.ty(&store),
        FuncType::new([ValType::I32, ValType::I32], [ValType::I32])
    );

    let mut results = [Val::I32(0)];
    add.call(&mut store, &[Val::I32(40), Val::I32(2)], &mut results)?;
    assert_eq!(results[0].i32(), Some(42));

    // Wrapping arithmetic, not a Rust overflow panic.
    add.call(&mut store, &[Val::I32(i32::MAX), Val::I32(1)], &mut results)?;
    assert_eq!(results[0].i32(), Some(i32::MIN));

    // The initial contents of `results` do not matter, only their number.
    let mut results = [Val::F64(0)];
    add.call(&mut store, &[Val::I32(-5), Val::I32(3)], &mut results)?;
    assert_eq!(results[0].i32(), Some(-2));

    let nothing = instance
        .get_func(&store, "nothing")
        .expect("`nothing` is exported");
    nothing.call(&mut store, &[], &mut [])?;
    Ok(())
}

#[test]
fn typed_func_calls() -> Result<()> {
    let (mut store, instance) = instantiate(ARITH)?;
    let add = instance.get_typed_func::<(i32, i32), i32>(&store, "add")?;
    assert_eq!(add.call(&mut store, (2, 3))?, 5);
    assert_eq!(add.call(&mut store, (-7, 7))?, 0);
    // The untyped view is the same function.
    assert_eq!(Some(*add.func()), instance.get_func(&store, "add"));

    // Unsigned Rust types map to the same Wasm types.
    let add_u = instance.get_typed_func::<(u32, u32), u32>(&store, "add")?;
    assert_eq!(add_u.call(&mut store, (u32::MAX, 2))?, 1);

    let nothing = instance.get_typed_func::<(), ()>(&store, "nothing")?;
    nothing.call(&mut store, ())?;
    Ok(())
}

#[test]
fn multi_value_results() -> Result<()> {
    let (mut store, instance) = instantiate(ARITH)?;

    let divmod = instance.get_typed_func::<(i32, i32), (i32, i32)>(&store, "divmod")?;
    assert_eq!(divmod.call(&mut store, (47, 5))?, (9, 2));

    let rotate =
        instance.get_typed_func::<(i32, i64, f32, f64), (f64, i32, i64, f32)>(&store, "rotate")?;
    let (a, b, c, d) = rotate.call(&mut store, (-1, i64::MIN, 1.5, -2.25))?;
    assert_eq!((a, b, c, d), (-2.25, -1, i64::MIN, 1.5));

    // The same call with `Val`s.
    let mut results = [const { Val::I32(0) }; 4];
    rotate.func().call(
        &mut store,
        &[
            Val::I32(3),
            Val::I64(4),
            Val::F32(5.0f32.to_bits()),
            Val::F64(6.0f64.to_bits()),
        ],
        &mut results,
    )?;
    assert_eq!(results[0].f64(), Some(6.0));
    assert_eq!(results[1].i32(), Some(3));
    assert_eq!(results[2].i64(), Some(4));
    assert_eq!(results[3].f32(), Some(5.0));

    // More results than fit in return registers.
    let six = instance.get_typed_func::<i64, (i64, i64, i64, i64, i64, i64)>(&store, "six")?;
    assert_eq!(
        six.call(&mut store, 1 << 40)?,
        (
            1 << 40,
            (1 << 40) + 1,
            (1 << 40) + 2,
            (1 << 40) + 3,
            (1 << 40) + 4,
            (1 << 40) + 5
        )
    );
    Ok(())
}

#[test]
fn i64_values_use_all_64_bits() -> Result<()> {
    let (mut store, instance) = instantiate(ARITH)?;
    let mul = instance.get_typed_func::<(i64, i64), i64>(&store, "i64_mul")?;
    assert_eq!(mul.call(&mut store, (0x1_0000_0001, 3))?, 0x3_0000_0003);
    assert_eq!(mul.call(&mut store, (i64::MAX, 2))?, -2);

    let shr = instance.get_typed_func::<(u64, u64), u64>(&store, "i64_shr_u")?;
    assert_eq!(shr.call(&mut store, (u64::MAX, 60))?, 0xf);
    assert_eq!(shr.call(&mut store, (0x8000_0000_0000_0000, 63))?, 1);

    let mut results = [Val::I64(0)];
    mul.func().call(
        &mut store,
        &[Val::I64(-4), Val::I64(0x4000_0000_0000_0000)],
        &mut results,
    )?;
    assert_eq!(results[0].i64(), Some(0));
    Ok(())
}

#[test]
fn floats_compute_and_nan_bit_patterns_survive() -> Result<()> {
    let (mut store, instance) = instantiate(ARITH)?;

    let f64_add = instance.get_typed_func::<(f64, f64), f64>(&store, "f64_add")?;
    assert_eq!(
        f64_add.call(&mut store, (0.1, 0.2))?.to_bits(),
        (0.1f64 + 0.2f64).to_bits()
    );
    let f32_mul = instance.get_typed_func::<(f32, f32), f32>(&store, "f32_mul")?;
    assert_eq!(f32_mul.call(&mut store, (1.5, -4.0))?, -6.0);
    assert_eq!(f32_mul.call(&mut store, (f32::MAX, 2.0))?, f32::INFINITY);

    // Signalling and quiet NaNs with payloads pass through parameters and results unchanged.
    let f32_id = instance.get_func(&store, "f32_id").expect("exported");
    for bits in [0x7fa0_0001_u32, 0xffc0_1234, 0x7f80_0001, 0x8000_0000] {
        let mut results = [Val::F32(0)];
        f32_id.call(&mut store, &[Val::F32(bits)], &mut results)?;
        assert!(
            matches!(results[0], Val::F32(b) if b == bits),
            "{bits:#x} became {results:?}"
        );
    }
    let f64_id = instance.get_func(&store, "f64_id").expect("exported");
    for bits in [
        0x7ff4_0000_0000_0001_u64,
        0xfff8_0000_dead_beef,
        0x8000_0000_0000_0000,
    ] {
        let mut results = [Val::F64(0)];
        f64_id.call(&mut store, &[Val::F64(bits)], &mut results)?;
        assert!(
            matches!(results[0], Val::F64(b) if b == bits),
            "{bits:#x} became {results:?}"
        );
    }

    // The typed path keeps the bits too.
    let f32_id = f32_id.typed::<f32, f32>(&store)?;
    let snan = f32::from_bits(0x7fa0_0001);
    assert_eq!(f32_id.call(&mut store, snan)?.to_bits(), 0x7fa0_0001);

    // `neg`, `abs` and `copysign` are bit operations: only the sign of a NaN changes.
    let mut results = [Val::F32(0)];
    instance
        .get_func(&store, "f32_neg")
        .expect("exported")
        .call(&mut store, &[Val::F32(0x7fc0_1234)], &mut results)?;
    assert!(
        matches!(results[0], Val::F32(0xffc0_1234)),
        "got {results:?}"
    );
    let f64_abs = instance.get_typed_func::<u64, u64>(&store, "f64_abs");
    assert!(f64_abs.is_err(), "an f64 function is not a u64 function");
    let mut results = [Val::F64(0)];
    instance
        .get_func(&store, "f64_abs")
        .expect("exported")
        .call(&mut store, &[Val::F64(0xfff4_0000_0000_0abc)], &mut results)?;
    assert!(
        matches!(results[0], Val::F64(0x7ff4_0000_0000_0abc)),
        "got {results:?}"
    );
    instance
        .get_func(&store, "f64_copysign")
        .expect("exported")
        .call(
            &mut store,
            &[
                Val::F64(0x7ff8_0000_0000_0042),
                Val::F64((-1.0f64).to_bits()),
            ],
            &mut results,
        )?;
    assert!(
        matches!(results[0], Val::F64(0xfff8_0000_0000_0042)),
        "got {results:?}"
    );

    // NaN constants in code keep their payloads.
    let nan32 = instance.get_typed_func::<(), f32>(&store, "f32_nan_const")?;
    assert_eq!(nan32.call(&mut store, ())?.to_bits(), 0x7fa0_0001);
    let nan64 = instance.get_typed_func::<(), f64>(&store, "f64_nan_const")?;
    assert_eq!(nan64.call(&mut store, ())?.to_bits(), 0xfff0_0000_dead_beef);
    Ok(())
}

#[test]
fn func_call_rejects_wrong_arity_and_types() -> Result<()> {
    let (mut store, instance) = instantiate(ARITH)?;
    let add = instance.get_func(&store, "add").expect("exported");
    let mut results = [Val::I32(0)];

    let err = add
        .call(&mut store, &[Val::I32(1)], &mut results)
        .unwrap_err();
    assert!(
        err.to_string().contains("expected 2 arguments, got 1"),
        "{err:#}"
    );
    let err = add
        .call(&mut store, &[const { Val::I32(1) }; 3], &mut results)
        .unwrap_err();
    assert!(
        err.to_string().contains("expected 2 arguments, got 3"),
        "{err:#}"
    );
    let err = add
        .call(&mut store, &[Val::I32(1), Val::I32(2)], &mut [])
        .unwrap_err();
    assert!(
        err.to_string().contains("expected 1 results, got 0"),
        "{err:#}"
    );
    let err = add
        .call(
            &mut store,
            &[Val::I32(1), Val::I32(2)],
            &mut [const { Val::I32(0) }; 2],
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("expected 1 results, got 2"),
        "{err:#}"
    );

    let err = add
        .call(&mut store, &[Val::I32(1), Val::I64(2)], &mut results)
        .unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err:#}");
    assert!(
        err.to_string().contains("i32"),
        "names the expected type: {err:#}"
    );
    let err = add
        .call(&mut store, &[Val::F32(0), Val::I32(2)], &mut results)
        .unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err:#}");
    let err = add
        .call(&mut store, &[Val::FuncRef(None), Val::I32(2)], &mut results)
        .unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err:#}");
    // None of these is a trap: nothing ran.
    assert!(err.downcast_ref::<Trap>().is_none());

    // The store is fine afterwards.
    add.call(&mut store, &[Val::I32(1), Val::I32(2)], &mut results)?;
    assert_eq!(results[0].i32(), Some(3));
    Ok(())
}

#[test]
fn typed_with_the_wrong_signature_is_an_error() -> Result<()> {
    let (store, instance) = instantiate(ARITH)?;
    let wrong_params = instance
        .get_typed_func::<i32, i32>(&store, "add")
        .unwrap_err();
    assert!(
        wrong_params.to_string().contains("type mismatch"),
        "{wrong_params:#}"
    );
    // The message shows the function's real type.
    assert!(
        wrong_params
            .to_string()
            .contains("(param i32 i32) (result i32)"),
        "{wrong_params:#}"
    );
    assert!(
        instance
            .get_typed_func::<(i32, i32), i64>(&store, "add")
            .is_err()
    );
    assert!(
        instance
            .get_typed_func::<(i32, i32), ()>(&store, "add")
            .is_err()
    );
    assert!(
        instance
            .get_typed_func::<(i32, i32), (i32, i32)>(&store, "add")
            .is_err()
    );
    assert!(
        instance
            .get_typed_func::<(i64, i64), i32>(&store, "add")
            .is_err()
    );
    assert!(
        instance
            .get_typed_func::<(i32, i32), i32>(&store, "divmod")
            .is_err()
    );
    assert!(
        instance
            .get_typed_func::<f32, f64>(&store, "f64_id")
            .is_err()
    );

    let add = instance.get_func(&store, "add").expect("exported");
    assert!(add.typed::<(f32, f32), f32>(&store).is_err());
    assert!(add.typed::<(i32, i32), i32>(&store).is_ok());

    let missing = instance
        .get_typed_func::<(), ()>(&store, "no_such_export")
        .unwrap_err();
    assert!(
        missing.to_string().contains("no_such_export"),
        "{missing:#}"
    );
    // A memory is not a function.
    let memory = instance
        .get_typed_func::<(), ()>(&store, "memory")
        .unwrap_err();
    assert!(memory.to_string().contains("memory"), "{memory:#}");
    Ok(())
}

#[test]
fn exports_are_listed_in_order_with_their_types() -> Result<()> {
    let (mut store, instance) = instantiate(
        r#"(module
            (func (export "f") (param i64) (result f32) f32.const 0)
            (memory (export "m") 2 5)
            (table (export "t") 3 funcref)
            (global (export "g") (mut f64) (f64.const 1.5))
            (global (export "c") i32 (i32.const 9)))"#,
    )?;
    let names: Vec<String> = instance
        .exports(&store)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["f", "m", "t", "g", "c"]);

    let types: Vec<ExternType> = instance
        .exports(&store)
        .iter()
        .map(|(_, e)| e.ty(&store))
        .collect();
    assert_eq!(
        types,
        [
            ExternType::Func(FuncType::new([ValType::I64], [ValType::F32])),
            ExternType::Memory(MemoryType::new(2, Some(5))),
            ExternType::Table(TableType::new(RefType::FUNCREF, 3, None)),
            ExternType::Global(GlobalType::new(ValType::F64, Mutability::Var)),
            ExternType::Global(GlobalType::new(ValType::I32, Mutability::Const)),
        ]
    );

    assert!(instance.get_memory(&store, "m").is_some());
    assert!(instance.get_table(&store, "t").is_some());
    assert_eq!(
        instance
            .get_global(&store, "c")
            .map(|g| g.get(&mut store).i32()),
        Some(Some(9))
    );
    // Kind-specific lookups do not return another kind.
    assert!(instance.get_memory(&store, "f").is_none());
    assert!(instance.get_func(&store, "m").is_none());
    assert!(instance.get_export(&store, "nope").is_none());
    Ok(())
}

#[test]
fn module_reports_imports_and_exports() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module $named
            (import "env" "f" (func (param i32)))
            (import "env" "mem" (memory 1))
            (func (export "run")))"#,
    )?;
    assert_eq!(module.name(), Some("named"));
    let imports: Vec<(String, String, ExternType)> =
        module.imports().map(|i| (i.module, i.name, i.ty)).collect();
    assert_eq!(
        imports,
        [
            (
                "env".into(),
                "f".into(),
                ExternType::Func(FuncType::new([ValType::I32], []))
            ),
            (
                "env".into(),
                "mem".into(),
                ExternType::Memory(MemoryType::new(1, None))
            ),
        ]
    );
    let exports: Vec<(String, ExternType)> = module.exports().map(|e| (e.name, e.ty)).collect();
    assert_eq!(
        exports,
        [("run".to_string(), ExternType::Func(FuncType::new([], [])))]
    );
    Ok(())
}

#[test]
fn funcref_values_cross_the_boundary() -> Result<()> {
    let (mut store, instance) = instantiate(
        r#"(module
            (func $seven (result i32) i32.const 7)
            (elem declare func $seven)
            (func (export "get_seven") (result funcref) ref.func $seven)
            (func (export "is_null") (param funcref) (result i32)
                local.get 0 ref.is_null)
            (func (export "null") (result funcref) ref.null func))"#,
    )?;
    let mut results = [Val::null_func_ref()];
    instance
        .get_func(&store, "get_seven")
        .expect("exported")
        .call(&mut store, &[], &mut results)?;
    let seven = *results[0].func_ref().expect("a funcref").expect("not null");
    assert_eq!(seven.ty(&store), FuncType::new([], [ValType::I32]));
    assert_eq!(seven.typed::<(), i32>(&store)?.call(&mut store, ())?, 7);

    let is_null = instance.get_func(&store, "is_null").expect("exported");
    let mut results = [Val::I32(-1)];
    is_null.call(&mut store, &[Val::FuncRef(None)], &mut results)?;
    assert_eq!(results[0].i32(), Some(1));
    is_null.call(&mut store, &[Val::FuncRef(Some(seven))], &mut results)?;
    assert_eq!(results[0].i32(), Some(0));

    let mut results = [Val::FuncRef(Some(seven))];
    instance
        .get_func(&store, "null")
        .expect("exported")
        .call(&mut store, &[], &mut results)?;
    assert!(matches!(results[0], Val::FuncRef(None)), "got {results:?}");

    // An integer is not a funcref.
    let err = is_null
        .call(&mut store, &[Val::I32(0)], &mut [Val::I32(0)])
        .unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err:#}");
    Ok(())
}

#[test]
fn many_params_and_results_through_func_call() -> Result<()> {
    // More arguments and results than fit in registers, of mixed types.
    let (mut store, instance) = instantiate(
        r#"(module
            (func (export "weigh")
                (param i64 i32 i64 f64 i64 i32 i64 f32 i64 i32 i64 i64)
                (result i64 f64 i32 f32 i64 i32 i64 i64)
                (local $i i32) (local $sum i64)
                (local.set $sum
                    (i64.add
                        (i64.add
                            (i64.add (local.get 0) (i64.mul (i64.extend_i32_s (local.get 1)) (i64.const 2)))
                            (i64.add (i64.mul (local.get 2) (i64.const 3))
                                     (i64.mul (local.get 4) (i64.const 5))))
                        (i64.add
                            (i64.add (i64.mul (i64.extend_i32_s (local.get 5)) (i64.const 6))
                                     (i64.mul (local.get 6) (i64.const 7)))
                            (i64.add
                                (i64.add (i64.mul (local.get 8) (i64.const 9))
                                         (i64.mul (i64.extend_i32_s (local.get 9)) (i64.const 10)))
                                (i64.add (i64.mul (local.get 10) (i64.const 11))
                                         (i64.mul (local.get 11) (i64.const 12)))))))
                (local.get $sum)
                (local.get 3)
                (local.get 9)
                (local.get 7)
                (local.get 11)
                (local.get 1)
                (local.get 0)
                (i64.const -1)))"#,
    )?;
    let weigh = instance.get_func(&store, "weigh").expect("exported");
    let params = [
        Val::I64(1),
        Val::I32(2),
        Val::I64(3),
        Val::F64(0.5f64.to_bits()),
        Val::I64(5),
        Val::I32(6),
        Val::I64(7),
        Val::F32(0.25f32.to_bits()),
        Val::I64(9),
        Val::I32(10),
        Val::I64(11),
        Val::I64(12),
    ];
    let mut results = [const { Val::I32(0) }; 8];
    weigh.call(&mut store, &params, &mut results)?;
    // Each integer argument times its (1-based) position: 1 + 4 + 9 + 25 + ... + 144.
    let expected_sum = [1, 2, 3, 5, 6, 7, 9, 10, 11, 12]
        .iter()
        .map(|&i| i * i)
        .sum::<i64>();
    assert_eq!(results[0].i64(), Some(expected_sum));
    assert_eq!(results[1].f64(), Some(0.5));
    assert_eq!(results[2].i32(), Some(10));
    assert_eq!(results[3].f32(), Some(0.25));
    assert_eq!(results[4].i64(), Some(12));
    assert_eq!(results[5].i32(), Some(2));
    assert_eq!(results[6].i64(), Some(1));
    assert_eq!(results[7].i64(), Some(-1));
    Ok(())
}

#[test]
fn handles_from_another_store_are_refused() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, ARITH)?;
    let mut first = Store::new(&engine, ());
    let mut second = Store::new(&engine, ());
    let instance = Instance::new(&mut first, &module, &[])?;
    let add = instance.get_func(&first, "add").expect("exported");

    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        add.call(&mut second, &[Val::I32(1), Val::I32(2)], &mut [Val::I32(0)])
    }))
    .expect_err("using a function with the wrong store is refused");
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(message.contains("wrong store"), "{message}");

    // Both stores still work.
    let mut results = [Val::I32(0)];
    add.call(&mut first, &[Val::I32(1), Val::I32(2)], &mut results)?;
    assert_eq!(results[0].i32(), Some(3));
    let other = Instance::new(&mut second, &module, &[])?;
    assert_eq!(
        other
            .get_typed_func::<(i32, i32), i32>(&second, "add")?
            .call(&mut second, (4, 5))?,
        9
    );
    Ok(())
}

#[test]
fn module_of_another_engine_is_refused() -> Result<()> {
    let module = Module::new(&Engine::default(), ARITH)?;
    let mut store = Store::new(&Engine::default(), ());
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.to_string().contains("different engine"), "{err:#}");
    Ok(())
}

#[test]
fn a_function_of_a_dropped_store_is_rejected_before_it_is_read() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (func (export "f")) (func (export "take") (param funcref)))"#,
    )
    .unwrap();
    let mut first = Store::new(&engine, ());
    let instance = Instance::new(&mut first, &module, &[]).unwrap();
    let stale = instance.get_func(&first, "f").unwrap();
    drop(first);
    let mut second = Store::new(&engine, ());
    let instance = Instance::new(&mut second, &module, &[]).unwrap();
    let take = instance.get_func(&second, "take").unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        take.call(&mut second, &[Val::FuncRef(Some(stale))], &mut [])
    }));
    let panic = result.expect_err("a handle from another store panics");
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(message.contains("wrong store"), "{message}");
}

/// `Memory::read` / `write` check their range: a host function handed a bad guest pointer
/// returns an error (a trap for its Wasm caller) instead of panicking the host.
#[test]
fn memory_read_and_write_reject_bad_ranges() {
    let engine = engine::Engine::default();
    let mut store = engine::Store::new(&engine, Vec::<u8>::new());
    let mut linker = engine::Linker::new(&engine);
    let log = engine::Func::new(
        &mut store,
        engine::FuncType::new([engine::ValType::I32, engine::ValType::I32], []),
        |mut caller, args, _| {
            let Some(engine::Extern::Memory(memory)) = caller.get_export("memory") else {
                anyhow::bail!("no memory export");
            };
            let (ptr, len) = (args[0].i32().unwrap() as u32, args[1].i32().unwrap() as u32);
            let mut buf = vec![0; len as usize];
            memory.read(&caller, ptr as usize, &mut buf)?;
            caller.data_mut().extend_from_slice(&buf);
            Ok(())
        },
    );
    linker.define(&store, "host", "log", log).unwrap();
    let module = engine::Module::new(
        &engine,
        r#"(module (import "host" "log" (func $log (param i32 i32)))
             (memory (export "memory") 1)
             (data (i32.const 8) "hi there")
             (func (export "log") (param i32 i32) (call $log (local.get 0) (local.get 1))))"#,
    )
    .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let f = instance
        .get_typed_func::<(i32, i32), ()>(&store, "log")
        .unwrap();
    f.call(&mut store, (8, 8)).unwrap();
    assert_eq!(store.data(), b"hi there");
    for (ptr, len) in [(65530, 8), (-1, 2), (0, 65537)] {
        let err = f.call(&mut store, (ptr, len)).unwrap_err();
        assert!(
            format!("{err:#}").contains("out of bounds memory access"),
            "({ptr}, {len}): {err:#}"
        );
    }
    let memory = instance.get_memory(&store, "memory").unwrap();
    let err = memory.write(&mut store, usize::MAX, b"x").unwrap_err();
    assert_eq!((err.offset, err.len, err.size), (usize::MAX, 1, 65536));
    memory.write(&mut store, 65535, b"!").unwrap();
    assert_eq!(memory.data(&store)[65535], b'!');
}

/// A module with more than the parallel threshold of code: 600 functions, each calling the
/// one before it through a chain of arithmetic.
fn large_module() -> String {
    let mut wat = String::from("(module\n  (func $f0 (param i32) (result i32) (local.get 0))\n");
    for i in 1..600 {
        wat.push_str(&format!(
            "  (func $f{i} (export \"f{i}\") (param i32) (result i32)\n"
        ));
        for k in 0..20 {
            wat.push_str(&format!(
                "    (local.set 0 (i32.add (i32.mul (local.get 0) (i32.const {})) (i32.const {k})))\n",
                2 * k + 1
            ));
        }
        wat.push_str(&format!("    (call $f{} (local.get 0)))\n", i - 1));
    }
    wat.push(')');
    wat
}

#[test]
fn parallel_and_sequential_compilation_agree() -> Result<()> {
    let binary = wat::parse_str(large_module())?;
    assert!(binary.len() > 64 * 1024, "{} bytes", binary.len());
    let mut results = Vec::new();
    for parallel in [true, false] {
        let mut config = Config::new();
        config.parallel_compilation(parallel);
        let engine = Engine::new(&config)?;
        let module = Module::new(&engine, &binary)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let mut out = Vec::new();
        for i in [1, 17, 300, 599] {
            let f = instance.get_typed_func::<i32, i32>(&store, &format!("f{i}"))?;
            out.push(f.call(&mut store, 3)?);
        }
        results.push(out);
    }
    assert_eq!(results[0], results[1]);
    Ok(())
}

#[test]
fn errors_show_types_and_values_in_text_format() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (type $p (struct (field i32))) (type $q (struct (field f32)))
             (func (export "take") (param (ref null $p)) (param funcref))
             (func (export "q") (result (ref $q)) (struct.new $q (f32.const 1))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let take = instance.get_func(&store, "take").unwrap();
    let ty = take.ty(&store).to_string();
    assert!(ty.contains("(ref null $") && ty.contains("funcref"), "{ty}");
    let mut q = [Val::I32(0)];
    instance
        .get_func(&store, "q")
        .unwrap()
        .call(&mut store, &[], &mut q)?;
    let err = take
        .call(&mut store, &[q[0].clone(), Val::I32(5)], &mut [])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("expected a value of type (ref null $"),
        "{err}"
    );
    assert!(err.contains("got a struct of type $"), "{err}");
    let err = take
        .call(&mut store, &[Val::AnyRef(None), Val::I32(5)], &mut [])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "type mismatch: expected a value of type funcref, got i32 5"
    );
    Ok(())
}

#[test]
fn one_byte_pages_are_bounds_checked_to_the_byte() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (memory (export "m") 10 (pagesize 1))
             (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
             (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let load = instance.get_typed_func::<i32, i32>(&store, "load")?;
    let grow = instance.get_typed_func::<i32, i32>(&store, "grow")?;
    assert_eq!(load.call(&mut store, 6)?, 0);
    // Bytes 7..10 are inside the memory but the 4-byte load runs past its end; the system
    // page there is accessible, so only the explicit check catches it.
    for at in [7, 10, 4095] {
        let err = load.call(&mut store, at).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::MemoryOutOfBounds),
            "{at}"
        );
    }
    assert_eq!(grow.call(&mut store, 1)?, 10);
    assert_eq!(load.call(&mut store, 7)?, 0);
    let memory = instance.get_memory(&store, "m").unwrap();
    assert_eq!(memory.size(&store), 11);
    assert_eq!(memory.ty(&store).page_size(), 1);
    let mut buf = [0; 2];
    assert!(memory.read(&store, 10, &mut buf).is_err());
    // A one-byte-page memory is not a 64 KiB-page one: importing it where one is
    // expected fails.
    let importer = Module::new(&engine, r#"(module (import "" "m" (memory 0)))"#)?;
    assert!(Instance::new(&mut store, &importer, &[memory.into()]).is_err());
    Ok(())
}

#[test]
fn a_64_bit_memory_of_5_gib_is_bounds_checked() -> Result<()> {
    let engine = Engine::default();
    // 5 GiB = 81920 pages: more than any 32-bit address reaches.
    let module = Module::new(
        &engine,
        r#"(module (memory (export "m") i64 81920)
             (func (export "store") (param i64 i64) (i64.store (local.get 0) (local.get 1)))
             (func (export "load") (param i64) (result i64) (i64.load (local.get 0)))
             (func (export "load_far") (param i64) (result i64)
               (i64.load offset=0xFFFFFFFFFFFFFFF0 (local.get 0)))
             (func (export "load_beyond") (param i64) (result i64)
               (i64.load offset=0xFFFFFFFFFFFFFFFF (local.get 0)))
             (func (export "size") (result i64) (memory.size))
             (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let store_fn = instance.get_typed_func::<(i64, i64), ()>(&store, "store")?;
    let load = instance.get_typed_func::<i64, i64>(&store, "load")?;
    let load_far = instance.get_typed_func::<i64, i64>(&store, "load_far")?;
    let size = instance.get_typed_func::<(), i64>(&store, "size")?;
    let grow = instance.get_typed_func::<i64, i64>(&store, "grow")?;
    let last = (5i64 << 30) - 8;
    store_fn.call(&mut store, (last, 0x1234_5678_9abc_def0))?;
    assert_eq!(load.call(&mut store, last)?, 0x1234_5678_9abc_def0);
    let oob = |r: Result<i64>| r.unwrap_err().downcast_ref::<Trap>().copied();
    assert_eq!(
        oob(load.call(&mut store, last + 1)),
        Some(Trap::MemoryOutOfBounds)
    );
    assert_eq!(
        oob(load.call(&mut store, -8)),
        Some(Trap::MemoryOutOfBounds)
    );
    // An address plus offset that wraps around 64 bits traps, too.
    assert_eq!(
        oob(load_far.call(&mut store, 0x20)),
        Some(Trap::MemoryOutOfBounds)
    );
    // An offset no access can reach: every call traps.
    let beyond = instance.get_typed_func::<i64, i64>(&store, "load_beyond")?;
    assert_eq!(
        oob(beyond.call(&mut store, 0)),
        Some(Trap::MemoryOutOfBounds)
    );
    assert_eq!(size.call(&mut store, ())?, 81920);
    // Growth up to what this engine reserves (8 GiB), then -1.
    assert_eq!(grow.call(&mut store, 16384)?, 81920);
    assert_eq!(grow.call(&mut store, 1 << 20)?, -1);
    let memory = instance.get_memory(&store, "m").unwrap();
    assert!(memory.ty(&store).is_64());
    assert_eq!(memory.size(&store), 98304);
    let mut buf = [0; 8];
    memory.read(&store, last as usize, &mut buf)?;
    assert_eq!(u64::from_le_bytes(buf), 0x1234_5678_9abc_def0);
    Ok(())
}
