//! References of the GC proposal's type system that need no heap objects: `i31ref`,
//! `anyref` values crossing the host boundary, conversions between `externref` and
//! `anyref`, and the cast instructions on function and `any` references.

use engine::{
    AnyRef, Config, Engine, ExternRef, HeapType, I31, Instance, Module, Store, Trap, Val,
};

const MODULE: &str = r#"(module
  (type $a (sub (func)))
  (type $b (sub $a (func)))
  (type $other (func (param i32)))
  (func $fa (type $a))
  (func $fb (type $b))
  (elem declare func $fa $fb)
  (table $t (export "table") 4 anyref)

  (func (export "make_i31") (param i32) (result i31ref) (ref.i31 (local.get 0)))
  (func (export "get_s") (param i31ref) (result i32) (i31.get_s (local.get 0)))
  (func (export "get_u") (param i31ref) (result i32) (i31.get_u (local.get 0)))
  (func (export "is_null") (param anyref) (result i32) (ref.is_null (local.get 0)))
  (func (export "eq") (param eqref eqref) (result i32) (ref.eq (local.get 0) (local.get 1)))

  (func (export "internalize") (param externref) (result anyref) (any.convert_extern (local.get 0)))
  (func (export "round_trip") (param externref) (result externref)
    (extern.convert_any (any.convert_extern (local.get 0))))
  (func (export "internalized_is_eq") (param externref) (result i32)
    (ref.test eqref (any.convert_extern (local.get 0))))
  (func (export "internalized_is_any") (param externref) (result i32)
    (ref.test (ref any) (any.convert_extern (local.get 0))))
  (func (export "i31_is_eq") (param i32) (result i32) (ref.test (ref eq) (ref.i31 (local.get 0))))
  (func (export "null_is_struct") (result i32) (ref.test structref (ref.null none)))
  (func (export "null_is_ref_struct") (result i32) (ref.test (ref struct) (ref.null none)))

  ;; $fb's type is a declared subtype of $a's, not the other way round.
  (func (export "b_is_a") (result i32) (ref.test (ref $a) (ref.func $fb)))
  (func (export "a_is_b") (result i32) (ref.test (ref $b) (ref.func $fa)))
  (func (export "a_is_other") (result i32) (ref.test (ref $other) (ref.func $fa)))
  (func (export "cast_a_to_b") (ref.cast (ref $b) (ref.func $fa)) (drop))
  (func (export "br_on_cast_b") (param i32) (result i32)
    (block $hit (result (ref $b))
      (br_on_cast $hit funcref (ref $b)
        (select (result funcref) (ref.func $fb) (ref.func $fa) (local.get 0)))
      (drop)
      (return (i32.const 0)))
    (drop)
    (i32.const 1))
  (func (export "br_on_cast_fail_b") (param i32) (result i32)
    (block $miss (result funcref)
      (br_on_cast_fail $miss funcref (ref $b)
        (select (result funcref) (ref.func $fb) (ref.func $fa) (local.get 0)))
      (drop)
      (return (i32.const 1)))
    (drop)
    (i32.const 0))
)"#;

fn setup(config: &Config) -> (Store<()>, Instance) {
    let engine = Engine::new(config).unwrap();
    let module = Module::new(&engine, MODULE).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn call(
    store: &mut Store<()>,
    instance: &Instance,
    name: &str,
    args: &[Val],
) -> anyhow::Result<Vec<Val>> {
    let f = instance.get_func(&*store, name).unwrap();
    let mut results: Vec<Val> = f
        .ty(&*store)
        .results()
        .iter()
        .map(Val::default_for)
        .collect();
    f.call(&mut *store, args, &mut results)?;
    Ok(results)
}

fn i32_of(vals: &[Val]) -> i32 {
    vals[0].i32().expect("an i32 result")
}

#[test]
fn i31_values_cross_the_host_boundary() {
    let (mut store, instance) = setup(&Config::new());
    let out = call(&mut store, &instance, "make_i31", &[Val::I32(-5)]).unwrap();
    let Val::AnyRef(Some(r)) = &out[0] else {
        panic!("got {out:?}")
    };
    assert_eq!(r.as_i31().map(I31::get_i32), Some(-5));
    assert!(r.matches_ty(&store, &HeapType::Eq));
    assert!(!r.matches_ty(&store, &HeapType::Struct));

    let big = Val::AnyRef(Some(AnyRef::from_i31(I31::wrapping_u32(0x7fff_ffff))));
    assert_eq!(
        i32_of(&call(&mut store, &instance, "get_s", std::slice::from_ref(&big)).unwrap()),
        -1
    );
    assert_eq!(
        i32_of(&call(&mut store, &instance, "get_u", &[big]).unwrap()),
        0x7fff_ffff
    );

    let err = call(&mut store, &instance, "get_s", &[Val::AnyRef(None)]).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::NullI31Reference));

    assert_eq!(
        i32_of(&call(&mut store, &instance, "is_null", &[Val::AnyRef(None)]).unwrap()),
        1
    );
    let seven = || Val::AnyRef(Some(AnyRef::from_i31(I31::wrapping_i32(7))));
    assert_eq!(
        i32_of(&call(&mut store, &instance, "eq", &[seven(), seven()]).unwrap()),
        1
    );
    assert_eq!(
        i32_of(&call(&mut store, &instance, "eq", &[seven(), Val::AnyRef(None)]).unwrap()),
        0
    );

    // An externref is not an i31ref: passing one is a type error, not a crash.
    let host = ExternRef::new(&mut store, 1u32).unwrap();
    assert!(
        call(
            &mut store,
            &instance,
            "get_s",
            &[Val::ExternRef(Some(host))]
        )
        .is_err()
    );
}

#[test]
fn host_references_convert_to_anyref_and_back_keeping_identity() {
    for stress in [false, true] {
        let mut config = Config::new();
        config.gc_stress(stress);
        let (mut store, instance) = setup(&config);
        let host = ExternRef::new(&mut store, String::from("payload")).unwrap();
        let out = call(
            &mut store,
            &instance,
            "round_trip",
            &[Val::ExternRef(Some(host.clone()))],
        )
        .unwrap();
        let Val::ExternRef(Some(back)) = &out[0] else {
            panic!("got {out:?}")
        };
        assert!(ExternRef::ptr_eq(back, &host));
        let payload = back.data(&store).unwrap().downcast_ref::<String>().unwrap();
        assert_eq!(payload, "payload");

        let out = call(
            &mut store,
            &instance,
            "internalize",
            &[Val::ExternRef(Some(host.clone()))],
        )
        .unwrap();
        let Val::AnyRef(Some(internal)) = &out[0] else {
            panic!("got {out:?}")
        };
        assert!(internal.matches_ty(&store, &HeapType::Any));
        assert!(!internal.matches_ty(&store, &HeapType::Eq));
        let arg = || [Val::ExternRef(Some(host.clone()))];
        assert_eq!(
            i32_of(&call(&mut store, &instance, "internalized_is_eq", &arg()).unwrap()),
            0
        );
        assert_eq!(
            i32_of(&call(&mut store, &instance, "internalized_is_any", &arg()).unwrap()),
            1
        );
        assert_eq!(
            i32_of(&call(&mut store, &instance, "i31_is_eq", &[Val::I32(3)]).unwrap()),
            1
        );
        assert_eq!(
            i32_of(&call(&mut store, &instance, "null_is_struct", &[]).unwrap()),
            1
        );
        assert_eq!(
            i32_of(&call(&mut store, &instance, "null_is_ref_struct", &[]).unwrap()),
            0
        );

        // An externalized i31 has no host value.
        let out = call(&mut store, &instance, "make_i31", &[Val::I32(9)]).unwrap();
        let table = instance.get_table(&store, "table").unwrap();
        table.set(&mut store, 0, out[0].as_ref().unwrap()).unwrap();
        let Some(engine::Ref::Any(Some(stored))) = table.get(&mut store, 0) else {
            panic!("table slot 0 holds the i31")
        };
        assert_eq!(stored.as_i31().map(I31::get_i32), Some(9));
        store.gc();
    }
}

#[test]
fn casts_on_function_references_follow_declared_subtyping() {
    let (mut store, instance) = setup(&Config::new());
    let test = |store: &mut Store<()>, name| i32_of(&call(store, &instance, name, &[]).unwrap());
    assert_eq!(test(&mut store, "b_is_a"), 1);
    assert_eq!(test(&mut store, "a_is_b"), 0);
    assert_eq!(test(&mut store, "a_is_other"), 0);
    let err = call(&mut store, &instance, "cast_a_to_b", &[]).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::CastFailure));
    assert_eq!(
        err.downcast_ref::<Trap>().unwrap().to_string(),
        "cast failure"
    );
    let branch = |store: &mut Store<()>, name, pick_b| {
        i32_of(&call(store, &instance, name, &[Val::I32(pick_b)]).unwrap())
    };
    assert_eq!(branch(&mut store, "br_on_cast_b", 1), 1);
    assert_eq!(branch(&mut store, "br_on_cast_b", 0), 0);
    assert_eq!(branch(&mut store, "br_on_cast_fail_b", 1), 1);
    assert_eq!(branch(&mut store, "br_on_cast_fail_b", 0), 0);
}
