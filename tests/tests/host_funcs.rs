//! Host functions: `Func::new` and `Func::wrap` closures called from Wasm and from the
//! host, the store data they reach through `Caller`, errors and panics they raise, and
//! re-entrant calls back into Wasm.

use anyhow::{Result, bail};
use engine::{Caller, Engine, Extern, Func, FuncType, Instance, Module, Store, Trap, Val, ValType};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Host data for these tests.
#[derive(Debug, Default)]
struct State {
    calls: u32,
    seen: Vec<i64>,
    messages: Vec<String>,
}

/// An error type of our own, to check that host errors come back unchanged.
#[derive(Debug, PartialEq, Eq)]
struct HostFailure {
    code: i32,
}

impl std::fmt::Display for HostFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "host failure {}", self.code)
    }
}

impl std::error::Error for HostFailure {}

/// A panic payload of our own.
#[derive(Debug, PartialEq, Eq)]
struct HostPanic(u32);

fn store() -> Store<State> {
    Store::new(&Engine::default(), State::default())
}

#[test]
fn func_new_counts_calls_in_store_data() -> Result<()> {
    let mut store = store();
    let double = Func::new(
        &mut store,
        FuncType::new([ValType::I32], [ValType::I32]),
        |mut caller: Caller<'_, State>, params, results| {
            let x = params[0].i32().expect("an i32 parameter");
            caller.data_mut().calls += 1;
            caller.data_mut().seen.push(i64::from(x));
            results[0] = Val::I32(x * 2);
            Ok(())
        },
    );
    assert_eq!(
        double.ty(&store),
        FuncType::new([ValType::I32], [ValType::I32])
    );

    let module = Module::new(
        store.engine(),
        r#"(module
            (import "host" "double" (func $double (param i32) (result i32)))
            ;; sum of double(i) for i in 1..=n
            (func (export "run") (param $n i32) (result i32) (local $acc i32)
                (block $done
                    (loop $next
                        (br_if $done (i32.eqz (local.get $n)))
                        (local.set $acc
                            (i32.add (local.get $acc) (call $double (local.get $n))))
                        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                        (br $next)))
                (local.get $acc)))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[double.into()])?;
    let run = instance.get_typed_func::<i32, i32>(&store, "run")?;
    assert_eq!(run.call(&mut store, 4)?, 2 * (4 + 3 + 2 + 1));
    assert_eq!(store.data().calls, 4);
    assert_eq!(store.data().seen, [4, 3, 2, 1]);

    assert_eq!(run.call(&mut store, 0)?, 0);
    assert_eq!(store.data().calls, 4, "no calls for n = 0");

    // Called directly from the host: no calling instance, but the same store data.
    let mut results = [Val::I32(0)];
    double.call(&mut store, &[Val::I32(21)], &mut results)?;
    assert_eq!(results[0].i32(), Some(42));
    assert_eq!(store.data().calls, 5);
    assert_eq!(store.into_data().seen, [4, 3, 2, 1, 21]);
    Ok(())
}

#[test]
fn func_wrap_typed_closures() -> Result<()> {
    let mut store = store();
    let mix = Func::wrap(&mut store, |a: i32, b: i64, c: f32, d: f64| -> f64 {
        f64::from(a) + b as f64 + f64::from(c) + d
    });
    assert_eq!(
        mix.ty(&store),
        FuncType::new(
            [ValType::I32, ValType::I64, ValType::F32, ValType::F64],
            [ValType::F64]
        )
    );
    let split = Func::wrap(&mut store, |x: i64| (x as i32, (x >> 32) as i32));
    assert_eq!(
        split.ty(&store),
        FuncType::new([ValType::I64], [ValType::I32, ValType::I32])
    );
    let record = Func::wrap(&mut store, |mut caller: Caller<'_, State>, x: i64| {
        caller.data_mut().seen.push(x);
    });
    assert_eq!(record.ty(&store), FuncType::new([ValType::I64], []));
    let count = Func::wrap(&mut store, |caller: Caller<'_, State>| -> u32 {
        caller.data().seen.len() as u32
    });
    assert_eq!(count.ty(&store), FuncType::new([], [ValType::I32]));

    let module = Module::new(
        store.engine(),
        r#"(module
            (import "host" "mix" (func $mix (param i32 i64 f32 f64) (result f64)))
            (import "host" "split" (func $split (param i64) (result i32 i32)))
            (import "host" "record" (func $record (param i64)))
            (import "host" "count" (func $count (result i32)))
            (func (export "mix") (result f64)
                (call $mix (i32.const 1) (i64.const 20) (f32.const 0.5) (f64.const 300.25)))
            ;; low - high: `local.set` takes the high half off the top of the stack.
            (func (export "split") (param i64) (result i32)
                (local $hi i32)
                (call $split (local.get 0))
                (local.set $hi)
                (local.get $hi)
                (i32.sub))
            (func (export "record_twice") (param i64) (result i32)
                (call $record (local.get 0))
                (call $record (i64.mul (local.get 0) (i64.const -1)))
                (call $count)))"#,
    )?;
    let instance = Instance::new(
        &mut store,
        &module,
        &[mix.into(), split.into(), record.into(), count.into()],
    )?;
    let wasm_mix = instance.get_typed_func::<(), f64>(&store, "mix")?;
    assert_eq!(wasm_mix.call(&mut store, ())?, 321.75);
    let wasm_split = instance.get_typed_func::<i64, i32>(&store, "split")?;
    assert_eq!(wasm_split.call(&mut store, (7 << 32) | 3)?, 3 - 7);
    let record_twice = instance.get_typed_func::<i64, i32>(&store, "record_twice")?;
    assert_eq!(record_twice.call(&mut store, 5)?, 2);
    assert_eq!(record_twice.call(&mut store, i64::MIN + 1)?, 4);
    assert_eq!(store.data().seen, [5, -5, i64::MIN + 1, i64::MAX]);

    // Typed calls of host functions from the host.
    let split = split.typed::<i64, (i32, i32)>(&store)?;
    assert_eq!(split.call(&mut store, -1)?, (-1, -1));
    Ok(())
}

#[test]
fn host_error_is_returned_from_the_wasm_call() -> Result<()> {
    let mut store = store();
    let check = Func::wrap(&mut store, |x: i32| -> Result<i32> {
        if x < 0 {
            Err(HostFailure { code: x }.into())
        } else {
            Ok(x + 1)
        }
    });
    let module = Module::new(
        store.engine(),
        r#"(module
            (import "host" "check" (func $check (param i32) (result i32)))
            (func $inner (param i32) (result i32) (call $check (local.get 0)))
            (func (export "run") (param i32) (result i32)
                (i32.mul (call $inner (local.get 0)) (i32.const 10))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[check.into()])?;
    let run = instance.get_typed_func::<i32, i32>(&store, "run")?;
    assert_eq!(run.call(&mut store, 4)?, 50);

    let err = run.call(&mut store, -3).unwrap_err();
    assert_eq!(
        err.downcast_ref::<HostFailure>(),
        Some(&HostFailure { code: -3 }),
        "{err:?}"
    );
    assert!(format!("{err:#}").contains("host failure -3"), "{err:#}");

    // The store works afterwards, and a second failure reports the new error, not the old.
    assert_eq!(run.call(&mut store, 0)?, 10);
    let err = run.call(&mut store, -8).unwrap_err();
    assert_eq!(
        err.downcast_ref::<HostFailure>(),
        Some(&HostFailure { code: -8 }),
        "{err:?}"
    );

    // Called from the host directly, the error comes back the same way.
    let err = check
        .call(&mut store, &[Val::I32(-1)], &mut [Val::I32(0)])
        .unwrap_err();
    assert_eq!(
        err.downcast_ref::<HostFailure>(),
        Some(&HostFailure { code: -1 }),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn func_new_error_message_comes_back() -> Result<()> {
    let mut store = store();
    let fail = Func::new(
        &mut store,
        FuncType::new([ValType::I64], []),
        |_, params, _| bail!("refusing {}", params[0].i64().expect("an i64")),
    );
    let module = Module::new(
        store.engine(),
        r#"(module
            (import "host" "fail" (func $fail (param i64)))
            (func (export "run") (call $fail (i64.const 1234567890123))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[fail.into()])?;
    let run = instance.get_typed_func::<(), ()>(&store, "run")?;
    let err = run.call(&mut store, ()).unwrap_err();
    assert!(
        format!("{err:#}").contains("refusing 1234567890123"),
        "{err:#}"
    );
    Ok(())
}

#[test]
fn host_result_of_the_wrong_type_is_an_error() -> Result<()> {
    let mut store = store();
    let liar = Func::new(
        &mut store,
        FuncType::new([], [ValType::I32]),
        |_, _, results| {
            results[0] = Val::F64(1.0f64.to_bits());
            Ok(())
        },
    );
    let module = Module::new(
        store.engine(),
        r#"(module
            (import "host" "liar" (func $liar (result i32)))
            (func (export "run") (result i32) (call $liar)))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[liar.into()])?;
    let run = instance.get_typed_func::<(), i32>(&store, "run")?;
    let err = run.call(&mut store, ()).unwrap_err();
    assert!(format!("{err:#}").contains("type mismatch"), "{err:#}");
    Ok(())
}

#[test]
fn host_panic_propagates_and_the_store_stays_usable() -> Result<()> {
    let mut store = store();
    let maybe_panic = Func::wrap(&mut store, |mut caller: Caller<'_, State>, x: i32| -> i32 {
        caller.data_mut().calls += 1;
        if x == 13 {
            std::panic::panic_any(HostPanic(13));
        }
        x
    });
    let module = Module::new(
        store.engine(),
        r#"(module
            (import "host" "maybe_panic" (func $maybe_panic (param i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "run") (param i32) (result i32)
                ;; Leave a mark in memory before calling the host.
                (i32.store (i32.const 0) (local.get 0))
                (i32.add (call $maybe_panic (local.get 0)) (i32.const 1)))
            (func (export "other") (result i32) (i32.const 99)))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[maybe_panic.into()])?;
    let run = instance.get_typed_func::<i32, i32>(&store, "run")?;
    let other = instance.get_typed_func::<(), i32>(&store, "other")?;

    let panic = catch_unwind(AssertUnwindSafe(|| run.call(&mut store, 13)))
        .expect_err("the host panic propagates out of the call");
    assert_eq!(panic.downcast_ref::<HostPanic>(), Some(&HostPanic(13)));

    // The same store: everything still works.
    assert_eq!(store.data().calls, 1);
    assert_eq!(other.call(&mut store, ())?, 99);
    assert_eq!(run.call(&mut store, 5)?, 6);
    assert_eq!(store.data().calls, 2);
    let memory = instance.get_memory(&store, "memory").expect("exported");
    assert_eq!(&memory.data(&store)[..4], &5i32.to_le_bytes());

    // And it can panic again.
    let panic = catch_unwind(AssertUnwindSafe(|| run.call(&mut store, 13)))
        .expect_err("the host panic propagates out of the call");
    assert_eq!(panic.downcast_ref::<HostPanic>(), Some(&HostPanic(13)));
    assert_eq!(run.call(&mut store, 1)?, 2);
    Ok(())
}

const CALLBACK: &str = r#"(module
    (import "host" "callback" (func $callback (param i32) (result i32)))
    (func (export "double") (param i32) (result i32)
        (i32.mul (local.get 0) (i32.const 2)))
    (func (export "boom") (param i32) (result i32) unreachable)
    (func (export "run") (param i32) (result i32)
        (i32.add (call $callback (local.get 0)) (i32.const 100))))"#;

/// Instantiates `CALLBACK` with `callback` as its import.
fn callback_instance(
    store: &mut Store<State>,
    callback: impl Fn(Caller<'_, State>, i32) -> Result<i32> + Send + Sync + 'static,
) -> Result<Instance> {
    let callback = Func::wrap(&mut *store, callback);
    let module = Module::new(store.engine(), CALLBACK)?;
    Instance::new(store, &module, &[callback.into()])
}

#[test]
fn host_calls_back_into_wasm() -> Result<()> {
    let mut store = store();
    let instance = callback_instance(&mut store, |mut caller, x| {
        let double = caller
            .get_export("double")
            .and_then(Extern::into_func)
            .expect("exported");
        let double = double.typed::<i32, i32>(&caller)?;
        caller.data_mut().calls += 1;
        Ok(double.call(&mut caller, x)? + 1)
    })?;
    let run = instance.get_typed_func::<i32, i32>(&store, "run")?;
    assert_eq!(run.call(&mut store, 5)?, 5 * 2 + 1 + 100);
    assert_eq!(run.call(&mut store, -50)?, -100 + 1 + 100);
    assert_eq!(store.data().calls, 2);
    Ok(())
}

#[test]
fn trap_in_reentrant_call_can_be_handled_by_the_host() -> Result<()> {
    let mut store = store();
    let instance = callback_instance(&mut store, |mut caller, x| {
        let boom = caller
            .get_export("boom")
            .and_then(Extern::into_func)
            .expect("exported");
        let err = boom
            .typed::<i32, i32>(&caller)?
            .call(&mut caller, x)
            .unwrap_err();
        let trap = *err.downcast_ref::<Trap>().expect("the inner call trapped");
        caller.data_mut().messages.push(trap.to_string());
        // Recover: the outer Wasm call carries on.
        Ok(-1)
    })?;
    let run = instance.get_typed_func::<i32, i32>(&store, "run")?;
    assert_eq!(run.call(&mut store, 3)?, 99);
    assert_eq!(run.call(&mut store, 4)?, 99);
    assert_eq!(store.data().messages, ["unreachable", "unreachable"]);
    Ok(())
}

#[test]
fn trap_in_reentrant_call_propagates_through_the_host() -> Result<()> {
    let mut store = store();
    let instance = callback_instance(&mut store, |mut caller, x| {
        let boom = caller
            .get_export("boom")
            .and_then(Extern::into_func)
            .expect("exported");
        boom.typed::<i32, i32>(&caller)?.call(&mut caller, x)
    })?;
    let run = instance.get_typed_func::<i32, i32>(&store, "run")?;
    let err = run.call(&mut store, 3).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::Unreachable),
        "{err:?}"
    );
    let double = instance.get_typed_func::<i32, i32>(&store, "double")?;
    assert_eq!(double.call(&mut store, 21)?, 42);
    Ok(())
}

#[test]
fn deep_ping_pong_between_host_and_wasm() -> Result<()> {
    let mut store = store();
    let pong = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, State>, n: i32| -> Result<i32> {
            caller.data_mut().calls += 1;
            let ping = caller
                .get_export("ping")
                .and_then(Extern::into_func)
                .expect("exported");
            ping.typed::<i32, i32>(&caller)?.call(&mut caller, n - 1)
        },
    );
    let module = Module::new(
        store.engine(),
        r#"(module
            (import "host" "pong" (func $pong (param i32) (result i32)))
            ;; ping(n) = n == 0 ? 0 : n + pong(n)  (pong calls ping(n - 1))
            (func (export "ping") (param i32) (result i32)
                (if (result i32) (i32.eqz (local.get 0))
                    (then (i32.const 0))
                    (else (i32.add (local.get 0) (call $pong (local.get 0)))))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[pong.into()])?;
    let ping = instance.get_typed_func::<i32, i32>(&store, "ping")?;
    assert_eq!(ping.call(&mut store, 50)?, 1275);
    assert_eq!(store.data().calls, 50);

    // Host frames count against the same stack limit as Wasm frames: recursing without end
    // through the host ends in a stack-overflow trap, reported through every level.
    let err = ping.call(&mut store, 1_000_000).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::StackOverflow),
        "{err:#}"
    );
    assert!(
        store.data().calls > 100,
        "only {} host calls in all",
        store.data().calls
    );
    assert_eq!(
        ping.call(&mut store, 3)?,
        6,
        "the store is usable after the overflow"
    );
    Ok(())
}

#[test]
fn caller_reads_the_calling_instances_memory() -> Result<()> {
    let mut store = store();
    let log = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, State>, ptr: u32, len: u32| -> Result<()> {
            let memory = caller
                .get_export("memory")
                .and_then(Extern::into_memory)
                .expect("exported");
            let bytes = &memory.data(&caller)[ptr as usize..][..len as usize];
            let text = String::from_utf8(bytes.to_vec())?;
            caller.data_mut().messages.push(text);
            // Write a reply where Wasm will read it.
            memory.data_mut(&mut caller)[0] = b'!';
            Ok(())
        },
    );
    let module = Module::new(
        store.engine(),
        r#"(module
            (import "env" "log" (func $log (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "hello, host")
            (func (export "run") (result i32)
                (call $log (i32.const 16) (i32.const 11))
                (call $log (i32.const 23) (i32.const 4))
                (i32.load8_u (i32.const 0))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[log.into()])?;
    let run = instance.get_typed_func::<(), i32>(&store, "run")?;
    assert_eq!(run.call(&mut store, ())?, i32::from(b'!'));
    assert_eq!(store.data().messages, ["hello, host", "host"]);
    Ok(())
}

#[test]
fn caller_has_no_exports_when_called_from_the_host() -> Result<()> {
    let mut store = store();
    let probe = Func::wrap(&mut store, |mut caller: Caller<'_, State>| -> i32 {
        i32::from(caller.get_export("memory").is_some())
    });
    let mut results = [Val::I32(-1)];
    probe.call(&mut store, &[], &mut results)?;
    assert_eq!(results[0].i32(), Some(0));

    // Called from an instance with a memory export, the export is found.
    let module = Module::new(
        store.engine(),
        r#"(module
            (import "host" "probe" (func $probe (result i32)))
            (memory (export "memory") 1)
            (func (export "run") (result i32) (call $probe)))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[probe.into()])?;
    assert_eq!(
        instance
            .get_typed_func::<(), i32>(&store, "run")?
            .call(&mut store, ())?,
        1
    );
    Ok(())
}

#[test]
fn func_new_with_many_params_and_results() -> Result<()> {
    let mut store = store();
    // Ten parameters of mixed types; eight results that echo them in another order.
    let params = [
        ValType::I64,
        ValType::I32,
        ValType::F64,
        ValType::I64,
        ValType::F32,
        ValType::I32,
        ValType::I64,
        ValType::I64,
        ValType::I32,
        ValType::I64,
    ];
    let results = [
        ValType::I64,
        ValType::I64,
        ValType::F32,
        ValType::F64,
        ValType::I32,
        ValType::I32,
        ValType::I64,
        ValType::I64,
    ];
    let shuffle = Func::new(
        &mut store,
        FuncType::new(params, results),
        |mut caller, p, r| {
            caller.data_mut().calls += 1;
            r[0] = p[9].clone();
            r[1] = p[0].clone();
            r[2] = p[4].clone();
            r[3] = p[2].clone();
            r[4] = p[8].clone();
            r[5] = p[1].clone();
            r[6] = p[7].clone();
            r[7] = Val::I64(
                p[3].i64().unwrap_or(0)
                    + p[6].i64().unwrap_or(0)
                    + i64::from(p[5].i32().unwrap_or(0)),
            );
            Ok(())
        },
    );
    let module = Module::new(
        store.engine(),
        r#"(module
            (import "host" "shuffle" (func $shuffle
                (param i64 i32 f64 i64 f32 i32 i64 i64 i32 i64)
                (result i64 i64 f32 f64 i32 i32 i64 i64)))
            ;; Folds the results into one number that depends on their order.
            (func (export "run") (result i64)
                (local $a i64) (local $b i64) (local $c f32) (local $d f64)
                (local $e i32) (local $f i32) (local $g i64) (local $h i64)
                (call $shuffle
                    (i64.const 1) (i32.const 2) (f64.const 3.5) (i64.const 4) (f32.const 5.5)
                    (i32.const 6) (i64.const 7) (i64.const 8) (i32.const 9) (i64.const 10))
                (local.set $h) (local.set $g) (local.set $f) (local.set $e)
                (local.set $d) (local.set $c) (local.set $b) (local.set $a)
                ;; a*10^7 + b*10^6 + c*2*10^5 + d*2*10^4 + e*10^3 + f*10^2 + g*10 + h
                (i64.add
                    (i64.add
                        (i64.add (i64.mul (local.get $a) (i64.const 10000000))
                                 (i64.mul (local.get $b) (i64.const 1000000)))
                        (i64.add (i64.mul (i64.trunc_f32_s (f32.mul (local.get $c) (f32.const 2)))
                                          (i64.const 100000))
                                 (i64.mul (i64.trunc_f64_s (f64.mul (local.get $d) (f64.const 2)))
                                          (i64.const 10000))))
                    (i64.add
                        (i64.add (i64.mul (i64.extend_i32_s (local.get $e)) (i64.const 1000))
                                 (i64.mul (i64.extend_i32_s (local.get $f)) (i64.const 100)))
                        (i64.add (i64.mul (local.get $g) (i64.const 10))
                                 (local.get $h))))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[shuffle.into()])?;
    let run = instance.get_typed_func::<(), i64>(&store, "run")?;
    // a=10 b=1 c=5.5 d=3.5 e=9 f=2 g=8 h=4+7+6=17
    let expected = 10 * 10_000_000 + 1_000_000 + 11 * 100_000 + 7 * 10_000 + 9_000 + 200 + 80 + 17;
    assert_eq!(run.call(&mut store, ())?, expected);
    assert_eq!(store.data().calls, 1);
    Ok(())
}

#[test]
fn host_error_in_start_function_fails_instantiation() -> Result<()> {
    let mut store = store();
    let refuse = Func::wrap(&mut store, || -> Result<()> {
        Err(HostFailure { code: 7 }.into())
    });
    let module = Module::new(
        store.engine(),
        r#"(module
            (import "host" "refuse" (func $refuse))
            (func $start (call $refuse))
            (start $start))"#,
    )?;
    let err = Instance::new(&mut store, &module, &[refuse.into()]).unwrap_err();
    assert_eq!(
        err.downcast_ref::<HostFailure>(),
        Some(&HostFailure { code: 7 }),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn panic_in_a_nested_host_call_propagates_through_every_level() -> Result<()> {
    let mut store = store();
    // Wasm `run` -> host `callback` -> Wasm `boom_via_host` -> host `explode`, which panics.
    let explode = Func::wrap(&mut store, |mut caller: Caller<'_, State>, x: i32| -> i32 {
        caller.data_mut().calls += 1;
        if x > 0 {
            std::panic::panic_any(HostPanic(x as u32));
        }
        x
    });
    let callback = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, State>, x: i32| -> Result<i32> {
            let inner = caller
                .get_export("inner")
                .and_then(Extern::into_func)
                .expect("exported");
            let r = inner.typed::<i32, i32>(&caller)?.call(&mut caller, x)?;
            caller
                .data_mut()
                .messages
                .push(format!("inner returned {r}"));
            Ok(r)
        },
    );
    let module = Module::new(
        store.engine(),
        r#"(module
            (import "host" "explode" (func $explode (param i32) (result i32)))
            (import "host" "callback" (func $callback (param i32) (result i32)))
            (func (export "inner") (param i32) (result i32) (call $explode (local.get 0)))
            (func (export "run") (param i32) (result i32)
                (i32.add (call $callback (local.get 0)) (i32.const 1))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[explode.into(), callback.into()])?;
    let run = instance.get_typed_func::<i32, i32>(&store, "run")?;

    let panic = catch_unwind(AssertUnwindSafe(|| run.call(&mut store, 3)))
        .expect_err("the panic propagates");
    assert_eq!(panic.downcast_ref::<HostPanic>(), Some(&HostPanic(3)));
    assert!(
        store.data().messages.is_empty(),
        "the outer host function did not resume"
    );

    assert_eq!(run.call(&mut store, -4)?, -3);
    assert_eq!(store.data().messages, ["inner returned -4"]);
    assert_eq!(store.data().calls, 2);
    Ok(())
}

#[test]
fn host_panic_propagates_from_a_direct_host_call() -> Result<()> {
    let mut store = store();
    let f = Func::wrap(&mut store, |x: i32| -> i32 {
        if x == 0 {
            std::panic::panic_any(HostPanic(0));
        }
        100 / x
    });
    let panic = catch_unwind(AssertUnwindSafe(|| {
        f.call(&mut store, &[Val::I32(0)], &mut [Val::I32(0)])
    }))
    .expect_err("the panic propagates");
    assert_eq!(panic.downcast_ref::<HostPanic>(), Some(&HostPanic(0)));
    let mut results = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(4)], &mut results)?;
    assert_eq!(results[0].i32(), Some(25));
    Ok(())
}

#[test]
fn func_wrap_fallible_closure_with_several_results() -> Result<()> {
    let mut store = store();
    let checked_divmod = Func::wrap(&mut store, |a: u32, b: u32| -> Result<(u32, u32)> {
        if b == 0 {
            bail!("division of {a} by zero");
        }
        Ok((a / b, a % b))
    });
    assert_eq!(
        checked_divmod.ty(&store),
        FuncType::new([ValType::I32, ValType::I32], [ValType::I32, ValType::I32])
    );
    let module = Module::new(
        store.engine(),
        r#"(module
            (import "host" "divmod" (func $divmod (param i32 i32) (result i32 i32)))
            ;; quotient * 1000 + remainder
            (func (export "run") (param i32 i32) (result i32)
                (local $r i32)
                (call $divmod (local.get 0) (local.get 1))
                (local.set $r)
                (i32.add (i32.mul (i32.const 1000)) (local.get $r))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[checked_divmod.into()])?;
    let run = instance.get_typed_func::<(u32, u32), u32>(&store, "run")?;
    assert_eq!(run.call(&mut store, (47, 5))?, 9002);
    assert_eq!(
        run.call(&mut store, (u32::MAX, 1 << 31))?,
        1000 + (u32::MAX >> 1)
    );
    let err = run.call(&mut store, (47, 0)).unwrap_err();
    assert!(
        format!("{err:#}").contains("division of 47 by zero"),
        "{err:#}"
    );
    Ok(())
}

#[test]
fn func_wrap_takes_sixteen_parameters_of_every_number_type() -> Result<()> {
    let engine = Engine::default();
    let mut linker = engine::Linker::<Vec<f64>>::new(&engine);
    // 16 parameters, as wide as `path_open`'s 9 and then some, mixing all four types.
    #[allow(clippy::too_many_arguments)]
    fn sum(
        mut caller: Caller<'_, Vec<f64>>,
        a: i32,
        b: i64,
        c: f32,
        d: f64,
        e: u32,
        f: u64,
        g: i32,
        h: i32,
        i: i32,
        j: i32,
        k: i32,
        l: i32,
        m: i32,
        n: i32,
        o: i32,
        p: i64,
    ) -> (f64, i64) {
        let ints = [g, h, i, j, k, l, m, n, o]
            .iter()
            .map(|&x| i64::from(x))
            .sum::<i64>();
        let total = f64::from(a) + b as f64 + f64::from(c) + d + f64::from(e) + f as f64;
        caller.data_mut().push(total);
        (total, ints + p)
    }
    linker.func_wrap("env", "sum", sum)?;
    let module = Module::new(
        &engine,
        r#"(module
          (import "env" "sum" (func $sum (param i32 i64 f32 f64 i32 i64 i32 i32
                                               i32 i32 i32 i32 i32 i32 i32 i64)
                                         (result f64 i64)))
          (func (export "run") (param i32 i64 f32 f64 i32 i64 i32 i32
                                      i32 i32 i32 i32 i32 i32 i32 i64) (result f64 i64)
            (call $sum (local.get 0) (local.get 1) (local.get 2) (local.get 3)
                       (local.get 4) (local.get 5) (local.get 6) (local.get 7)
                       (local.get 8) (local.get 9) (local.get 10) (local.get 11)
                       (local.get 12) (local.get 13) (local.get 14) (local.get 15))))"#,
    )?;
    // One linker, two stores: the host function belongs to neither.
    for round in 0..2 {
        let mut store = Store::new(&engine, Vec::new());
        let instance = linker.instantiate(&mut store, &module)?;
        type P = (
            i32,
            i64,
            f32,
            f64,
            u32,
            u64,
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
            i64,
        );
        let run = instance.get_typed_func::<P, (f64, i64)>(&store, "run")?;
        let args: P = (
            -1,
            1 << 40,
            0.5,
            -0.25,
            u32::MAX,
            3,
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            8,
            9 + round,
            -100,
        );
        let (total, ints) = run.call(&mut store, args)?;
        let expected = -1.0 + (1u64 << 40) as f64 + 0.5 - 0.25 + f64::from(u32::MAX) + 3.0;
        assert_eq!(total, expected);
        assert_eq!(ints, 45 + i64::from(round) - 100);
        assert_eq!(*store.data(), [expected]);
    }
    Ok(())
}

#[test]
fn linker_func_new_and_caller_exports() -> Result<()> {
    let engine = Engine::default();
    let mut linker = engine::Linker::<()>::new(&engine);
    linker.func_new(
        "env",
        "peek",
        FuncType::new([ValType::I32], [ValType::I32]),
        |mut caller, params, results| {
            let Some(Extern::Memory(m)) = caller.get_export("memory") else {
                bail!("no memory export");
            };
            let at = params[0].i32().unwrap() as usize;
            results[0] = Val::I32(i32::from(m.data(&mut caller)[at]));
            assert!(caller.get_export("nothing").is_none());
            Ok(())
        },
    )?;
    assert!(linker.contains("env", "peek") && !linker.contains("env", "poke"));
    let module = Module::new(
        &engine,
        r#"(module (import "env" "peek" (func $peek (param i32) (result i32)))
             (memory (export "memory") 1) (data (i32.const 9) "\2a")
             (func (export "run") (result i32) (call $peek (i32.const 9))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    // Instances before this one do not slow the caller's export lookup or confuse it.
    for _ in 0..3 {
        linker.instantiate(&mut store, &module)?;
    }
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), i32>(&store, "run")?;
    assert_eq!(run.call(&mut store, ())?, 42);
    assert!(matches!(
        linker.get(&mut store, "env", "peek"),
        Some(Extern::Func(_))
    ));
    Ok(())
}

#[test]
fn a_host_error_carries_the_wasm_backtrace_of_its_callers() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, State::default());
    let fail = Func::wrap(&mut store, || -> Result<()> { bail!("the host says no") });
    let module = Module::new(
        &engine,
        r#"(module (import "" "fail" (func $fail))
             (func $middle (call $fail))
             (func (export "outer") (call $middle)))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[fail.into()])?;
    let outer = instance.get_typed_func::<(), ()>(&store, "outer")?;
    let err = outer.call(&mut store, ()).unwrap_err();
    // The host's error is still there to downcast and print; the frames come with it.
    assert!(format!("{err:#}").contains("the host says no"), "{err:#}");
    let trace = err
        .downcast_ref::<engine::WasmBacktrace>()
        .expect("a backtrace");
    let names: Vec<_> = trace
        .frames()
        .iter()
        .map(|f| f.func_name.as_deref())
        .collect();
    assert_eq!(names, [Some("middle"), None]);
    Ok(())
}
