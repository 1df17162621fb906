//! Host access to Wasm GC structs and arrays through `AnyRef::as_struct` / `as_array`:
//! fields of every storage type read back as Wasm wrote them, writes are type- and
//! mutability-checked and visible to Wasm, references stored by the host are counted.

use engine::{AnyRef, Engine, ExternRef, Func, Instance, Module, Ref, Store, Val};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::Counted;

const MODULE: &str = r#"(module
  (type $ret_i32 (func (result i32)))
  (type $s (struct (field i8) (field (mut i16)) (field (mut i64)) (field f32)
                   (field (mut externref)) (field (mut funcref)) (field (mut anyref))))
  (type $bytes (array (mut i8)))
  (type $fixed (array i32))
  (func $f (export "f") (result i32) (i32.const 7))
  (elem declare func $f)
  (func (export "make") (result anyref)
    (struct.new $s (i32.const 200) (i32.const -1) (i64.const -5) (f32.const 1.5)
      (ref.null extern) (ref.func $f) (ref.i31 (i32.const 9))))
  (func (export "bytes") (param i32) (result anyref) (array.new_default $bytes (local.get 0)))
  (func (export "fixed") (result anyref) (array.new_fixed $fixed 2 (i32.const 1) (i32.const 2)))
  (func (export "byte_at") (param anyref i32) (result i32)
    (array.get_u $bytes (ref.cast (ref $bytes) (local.get 0)) (local.get 1)))
  (func (export "get_i64") (param anyref) (result i64)
    (struct.get $s 2 (ref.cast (ref $s) (local.get 0))))
  (func (export "call_field") (param anyref) (result i32)
    (call_ref $ret_i32 (ref.cast (ref $ret_i32) (struct.get $s 5 (ref.cast (ref $s) (local.get 0))))))
)"#;

fn call(store: &mut Store<()>, instance: &Instance, name: &str, args: &[Val]) -> Val {
    let f = instance.get_func(&*store, name).unwrap();
    let mut results = [Val::I32(0)];
    let n = f.ty(&*store).results().len();
    f.call(&mut *store, args, &mut results[..n]).unwrap();
    results[0].clone()
}

fn setup() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn any(v: Val) -> AnyRef {
    v.any_ref().flatten().cloned().expect("non-null anyref")
}

#[test]
fn struct_fields_read_write_and_check() {
    let (mut store, instance) = setup();
    let s = any(call(&mut store, &instance, "make", &[]));
    assert!(s.as_array(&store).is_none());
    let s = s.as_struct(&store).expect("a struct");
    assert_eq!(s.fields_len(&store), 7);
    assert_eq!(
        s.field(&mut store, 0).unwrap().i32(),
        Some(200),
        "i8 zero-extended"
    );
    assert_eq!(s.field(&mut store, 1).unwrap().i32(), Some(0xffff));
    assert_eq!(s.field(&mut store, 2).unwrap().i64(), Some(-5));
    assert_eq!(s.field(&mut store, 3).unwrap().f32(), Some(1.5f32));
    assert!(matches!(
        s.field(&mut store, 4).unwrap(),
        Val::ExternRef(None)
    ));
    let f = s.field(&mut store, 5).unwrap();
    let f = f.func_ref().flatten().cloned().expect("a function");
    let mut out = [Val::I32(0)];
    f.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out[0].i32(), Some(7));
    let i31 = any(s.field(&mut store, 6).unwrap());
    assert_eq!(i31.as_i31().map(|i| i.get_i32()), Some(9));
    assert!(s.field(&mut store, 7).is_err(), "out of bounds");

    // Writes, seen by Wasm.
    s.set_field(&mut store, 2, Val::I64(42)).unwrap();
    let v = call(
        &mut store,
        &instance,
        "get_i64",
        &[Val::AnyRef(Some(s.as_anyref().clone()))],
    );
    assert_eq!(v.i64(), Some(42));
    s.set_field(&mut store, 1, Val::I32(0x12345)).unwrap();
    assert_eq!(
        s.field(&mut store, 1).unwrap().i32(),
        Some(0x2345),
        "low 16 bits kept"
    );
    // Checks.
    assert!(
        s.set_field(&mut store, 0, Val::I32(1)).is_err(),
        "immutable"
    );
    assert!(
        s.set_field(&mut store, 2, Val::I32(1)).is_err(),
        "wrong type"
    );
    assert!(
        s.set_field(&mut store, 1, Val::I64(1)).is_err(),
        "packed takes i32"
    );
    let g = Func::wrap(&mut store, || 11i32);
    s.set_field(&mut store, 5, Val::FuncRef(Some(g))).unwrap();
    let v = call(
        &mut store,
        &instance,
        "call_field",
        &[Val::AnyRef(Some(s.as_anyref().clone()))],
    );
    assert_eq!(v.i32(), Some(11));
}

#[test]
fn references_stored_by_the_host_are_counted() {
    let (mut store, instance) = setup();
    let drops = Arc::new(AtomicUsize::new(0));
    let s = any(call(&mut store, &instance, "make", &[]))
        .as_struct(&store)
        .unwrap();
    let e = ExternRef::new(&mut store, Counted(drops.clone())).unwrap();
    s.set_field(&mut store, 4, Val::ExternRef(Some(e))).unwrap();
    store.gc();
    assert_eq!(drops.load(Ordering::SeqCst), 0, "held by the field");
    let back = s.field(&mut store, 4).unwrap();
    assert!(matches!(back.as_ref(), Some(Ref::Extern(Some(_)))));
    drop(back);
    s.set_field(&mut store, 4, Val::ExternRef(None)).unwrap();
    store.gc();
    assert_eq!(drops.load(Ordering::SeqCst), 1, "released when overwritten");
    drop(s);
    store.gc();
    assert_eq!(store.gc_live_objects(), 0);
}

#[test]
fn array_elements_read_write_and_check() {
    let (mut store, instance) = setup();
    for len in [3, 2000] {
        // Inline-allocated and runtime-allocated arrays alike.
        let a = any(call(&mut store, &instance, "bytes", &[Val::I32(len)]));
        assert!(a.as_struct(&store).is_none());
        let a = a.as_array(&store).expect("an array");
        assert_eq!(a.len(&store), len as u32);
        a.set(&mut store, 1, Val::I32(0x1ff)).unwrap();
        assert_eq!(a.get(&mut store, 1).unwrap().i32(), Some(0xff));
        let v = call(
            &mut store,
            &instance,
            "byte_at",
            &[Val::AnyRef(Some(a.as_anyref().clone())), Val::I32(1)],
        );
        assert_eq!(v.i32(), Some(0xff));
        assert!(a.get(&mut store, len as u32).is_err(), "out of bounds");
        assert!(a.set(&mut store, 0, Val::F32(0)).is_err(), "wrong type");
    }
    let fixed = any(call(&mut store, &instance, "fixed", &[]))
        .as_array(&store)
        .unwrap();
    assert_eq!(fixed.get(&mut store, 1).unwrap().i32(), Some(2));
    assert!(fixed.set(&mut store, 0, Val::I32(5)).is_err(), "immutable");
    assert!(!fixed.is_empty(&store));
}
