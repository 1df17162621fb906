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

const TYPED: &str = r#"(module
  (type $point (struct (field i32) (field (mut i64))))
  (type $words (array (mut i16)))
  (func (export "point_sum") (param anyref) (result i64)
    (local $p (ref $point))
    (local.set $p (ref.cast (ref $point) (local.get 0)))
    (i64.add (i64.extend_i32_s (struct.get $point 0 (local.get $p)))
             (struct.get $point 1 (local.get $p))))
  (func (export "words_sum") (param anyref) (result i32)
    (local $a (ref $words)) (local $i i32) (local $s i32)
    (local.set $a (ref.cast (ref $words) (local.get 0)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (array.len (local.get $a))))
        (local.set $s (i32.add (local.get $s) (array.get_u $words (local.get $a) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $s))
)"#;

#[test]
fn objects_built_by_the_host_have_the_types_modules_declare() {
    use engine::{ArrayRef, ArrayType, FieldType, StorageType, StructRef, StructType, ValType};
    let engine = Engine::default();
    let module = Module::new(&engine, TYPED).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let field = |storage, mutable| FieldType { storage, mutable };

    let point = StructType::new(
        &engine,
        [
            field(StorageType::Val(ValType::I32), false),
            field(StorageType::Val(ValType::I64), true),
        ],
    )
    .unwrap();
    let p = StructRef::new(&mut store, &point, &[Val::I32(-2), Val::I64(10)]).unwrap();
    let arg_p = [Val::AnyRef(Some(p.as_anyref().clone()))];
    assert_eq!(
        call(&mut store, &instance, "point_sum", &arg_p).i64(),
        Some(8)
    );
    assert!(
        StructRef::new(&mut store, &point, &[Val::I32(1)]).is_err(),
        "arity"
    );
    assert!(
        StructRef::new(&mut store, &point, &[Val::I64(1), Val::I64(1)]).is_err(),
        "field type"
    );

    let words = ArrayType::new(&engine, field(StorageType::I16, true)).unwrap();
    let a = ArrayRef::new(&mut store, &words, &Val::I32(3), 100).unwrap();
    let arg_a = [Val::AnyRef(Some(a.as_anyref().clone()))];
    assert_eq!(
        call(&mut store, &instance, "words_sum", &arg_a).i32(),
        Some(300)
    );
    let b = ArrayRef::new_fixed(&mut store, &words, &[Val::I32(1), Val::I32(0x10002)]).unwrap();
    let arg_b = [Val::AnyRef(Some(b.as_anyref().clone()))];
    assert_eq!(
        call(&mut store, &instance, "words_sum", &arg_b).i32(),
        Some(3)
    );
    assert!(
        ArrayRef::new(&mut store, &words, &Val::I32(0), u32::MAX).is_err(),
        "too large"
    );

    // A type that differs (an immutable i16 array) is a different type: the cast traps.
    let other = ArrayType::new(&engine, field(StorageType::I16, false)).unwrap();
    assert_ne!(other.index(), words.index());
    let c = ArrayRef::new(&mut store, &other, &Val::I32(1), 1).unwrap();
    let f = instance.get_func(&store, "words_sum").unwrap();
    let mut out = [Val::I32(0)];
    let err = f
        .call(
            &mut store,
            &[Val::AnyRef(Some(c.as_anyref().clone()))],
            &mut out,
        )
        .unwrap_err();
    assert!(err.downcast_ref::<engine::Trap>().is_some(), "{err:#}");

    // Concrete reference fields must name registered types of the right kind.
    let bogus = engine::RefType::new(true, engine::HeapType::ConcreteStruct(1 << 20));
    assert!(
        StructType::new(
            &engine,
            [field(StorageType::Val(ValType::Ref(bogus)), true)]
        )
        .is_err()
    );
    let to_point = engine::RefType::new(true, engine::HeapType::ConcreteStruct(point.index()));
    let holder = StructType::new(
        &engine,
        [field(StorageType::Val(ValType::Ref(to_point)), true)],
    )
    .unwrap();
    let h = StructRef::new(
        &mut store,
        &holder,
        &[Val::AnyRef(Some(p.as_anyref().clone()))],
    );
    assert!(h.is_ok());
    let wrong = StructRef::new(
        &mut store,
        &holder,
        &[Val::AnyRef(Some(a.as_anyref().clone()))],
    );
    assert!(wrong.is_err(), "an array is not a point");
    drop((p, a, b, c, h, arg_p, arg_a, arg_b));
    store.gc();
    assert_eq!(store.gc_live_objects(), 0);
}
