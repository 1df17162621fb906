//! Tail calls run in constant stack through every form (`return_call`,
//! `return_call_indirect`, `return_call_ref`, into host functions), and traps, backtraces
//! and GC roots stay correct across them.

use engine::{
    Config, Engine, ExternRef, Func, FuncType, Instance, Linker, Module, Store, Trap, Val, ValType,
};

const MUTUAL: &str = r#"(module
  (type $t (func (param i32) (result i32)))
  (table $tab 2 funcref)
  (elem (i32.const 0) $even_i $odd_i)
  (elem declare func $even_r $odd_r)
  (func $even (export "even") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
      (else (return_call $odd (i32.sub (local.get 0) (i32.const 1))))))
  (func $odd (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (return_call $even (i32.sub (local.get 0) (i32.const 1))))))
  (func $even_i (export "even_indirect") (type $t)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
      (else (return_call_indirect $tab (type $t) (i32.sub (local.get 0) (i32.const 1)) (i32.const 1)))))
  (func $odd_i (type $t)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (return_call_indirect $tab (type $t) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0)))))
  (func $even_r (export "even_ref") (type $t)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
      (else (return_call_ref $t (i32.sub (local.get 0) (i32.const 1)) (ref.func $odd_r)))))
  (func $odd_r (type $t)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (return_call_ref $t (i32.sub (local.get 0) (i32.const 1)) (ref.func $even_r)))))
  ;; Counts down with tail calls, then traps: the backtrace must not hold a frame per call.
  (func $down_then_trap (export "down_then_trap") (param i32)
    (if (i32.eqz (local.get 0)) (then (unreachable)))
    (return_call $down_then_trap (i32.sub (local.get 0) (i32.const 1))))
)"#;

fn instance(config: &Config) -> (Store<()>, Instance) {
    let engine = Engine::new(config).unwrap();
    let mut store = Store::new(&engine, ());
    let module = Module::new(&engine, MUTUAL).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

#[test]
fn ten_million_mutual_tail_calls_run_in_constant_stack() {
    let (mut store, instance) = instance(&Config::new());
    for name in ["even", "even_indirect", "even_ref"] {
        let f = instance.get_typed_func::<i32, i32>(&store, name).unwrap();
        assert_eq!(f.call(&mut store, 10_000_000).unwrap(), 1, "{name}");
        assert_eq!(f.call(&mut store, 10_000_001).unwrap(), 0, "{name}");
    }
}

#[test]
fn traps_after_tail_calls_have_short_backtraces() {
    let (mut store, instance) = instance(&Config::new());
    let f = instance
        .get_typed_func::<i32, ()>(&store, "down_then_trap")
        .unwrap();
    let err = f.call(&mut store, 1_000_000).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Unreachable));
    let bt = err
        .downcast_ref::<engine::WasmBacktrace>()
        .expect("a backtrace");
    assert_eq!(
        bt.frames().len(),
        1,
        "tail calls replaced every frame: {bt}"
    );
    // The store still works.
    let even = instance.get_typed_func::<i32, i32>(&store, "even").unwrap();
    assert_eq!(even.call(&mut store, 10).unwrap(), 1);
}

#[test]
fn tail_calls_into_host_functions_and_gc_roots_across_them() {
    let src = r#"(module
      (import "host" "check" (func $check (param externref) (result externref)))
      (func $pass (param externref i32) (result externref)
        (if (result externref) (i32.eqz (local.get 1))
          (then (return_call $check (local.get 0)))
          (else (return_call $pass (local.get 0) (i32.sub (local.get 1) (i32.const 1))))))
      (func (export "run") (param externref i32) (result externref)
        (return_call $pass (local.get 0) (local.get 1))))"#;
    for stress in [false, true] {
        let mut config = Config::new();
        config.gc_stress(stress);
        let engine = Engine::new(&config).unwrap();
        let mut store = Store::new(&engine, 0u32);
        let ty = FuncType::new([ValType::EXTERNREF], [ValType::EXTERNREF]);
        let check = Func::new(&mut store, ty, |mut caller, params, results| {
            // A collection here must not free the reference the tail-call chain carried.
            caller.gc();
            *caller.data_mut() += 1;
            results[0] = params[0].clone();
            Ok(())
        });
        let mut linker = Linker::new(&engine);
        linker.define(&store, "host", "check", check).unwrap();
        let module = Module::new(&engine, src).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let run = instance.get_func(&store, "run").unwrap();
        let r = ExternRef::new(&mut store, String::from("carried")).unwrap();
        let mut out = [Val::ExternRef(None)];
        run.call(
            &mut store,
            &[Val::ExternRef(Some(r)), Val::I32(100_000)],
            &mut out,
        )
        .unwrap();
        let Val::ExternRef(Some(back)) = &out[0] else {
            panic!("got {out:?}")
        };
        assert_eq!(
            back.data(&store).unwrap().downcast_ref::<String>().unwrap(),
            "carried"
        );
        assert_eq!(*store.data(), 1);
    }
}
