//! Typed calls and typed host closures over reference types: `Option<ExternRef>`,
//! `ExternRef`, `AnyRef`, `StructRef`, `ArrayRef`, `I31`, `Func`, with their nullability,
//! under a collector that runs at every opportunity.

use anyhow::Result;
use engine::{
    AnyRef, ArrayRef, Caller, Config, Engine, ExternRef, Func, I31, Linker, Module, Store,
    StructRef,
};

fn engine() -> Engine {
    let mut config = Config::new();
    config.gc_stress(true);
    Engine::new(&config).unwrap()
}

const MODULE: &str = r#"(module
  (type $point (struct (field i32) (field i32)))
  (type $other (struct (field f64)))
  (type $bytes (array (mut i8)))
  (import "host" "tag" (func $tag (param externref i32) (result externref)))
  (import "host" "sum" (func $sum (param (ref struct)) (result i32)))
  (func (export "point") (param i32 i32) (result (ref $point))
    (struct.new $point (local.get 0) (local.get 1)))
  (func (export "other") (result (ref $other)) (struct.new $other (f64.const 1.5)))
  (func (export "x") (param (ref null $point)) (result i32)
    (if (ref.is_null (local.get 0)) (then (return (i32.const -1))))
    (struct.get $point 0 (local.get 0)))
  (func (export "bytes") (param i32) (result (ref $bytes))
    (array.new $bytes (i32.const 7) (local.get 0)))
  (func (export "len") (param arrayref) (result i32) (array.len (local.get 0)))
  (func (export "i31") (param i32) (result (ref i31)) (ref.i31 (local.get 0)))
  (func (export "any_is_i31") (param anyref) (result i32) (ref.test (ref i31) (local.get 0)))
  (func (export "tag") (param externref i32) (result externref)
    (call $tag (local.get 0) (local.get 1)))
  (func (export "sum") (param i32 i32) (result i32)
    (call $sum (struct.new $point (local.get 0) (local.get 1))))
  (func $double (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (elem declare func $double)
  (func (export "double_ref") (result (ref func)) (ref.func $double)))"#;

fn setup() -> Result<(Store<()>, engine::Instance)> {
    let engine = engine();
    let mut linker = Linker::<()>::new(&engine);
    // An externref in and out: the host wraps the number it was given with the string.
    linker.func_wrap(
        "host",
        "tag",
        |mut caller: Caller<'_, ()>, e: Option<ExternRef>, n: i32| -> Result<Option<ExternRef>> {
            let Some(e) = e else { return Ok(None) };
            let text = e
                .data(&caller)
                .unwrap()
                .downcast_ref::<String>()
                .unwrap()
                .clone();
            Ok(Some(ExternRef::new(&mut caller, format!("{text}#{n}"))?))
        },
    )?;
    // A struct the host reads, as a typed `StructRef` parameter (`(ref struct)`).
    linker.func_wrap(
        "host",
        "sum",
        |mut caller: Caller<'_, ()>, s: StructRef| -> Result<i32> {
            let a = s.field(&mut caller, 0)?.i32().unwrap();
            let b = s.field(&mut caller, 1)?.i32().unwrap();
            Ok(a + b)
        },
    )?;
    let module = Module::new(&engine, MODULE)?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    Ok((store, instance))
}

#[test]
fn externrefs_through_typed_calls_and_typed_host_closures() -> Result<()> {
    let (mut store, instance) = setup()?;
    let tag =
        instance.get_typed_func::<(Option<ExternRef>, i32), Option<ExternRef>>(&store, "tag")?;
    for i in 0..20 {
        let e = ExternRef::new(&mut store, format!("v{i}"))?;
        let out = tag.call(&mut store, (Some(e), i))?.unwrap();
        let text = out
            .data(&store)
            .unwrap()
            .downcast_ref::<String>()
            .unwrap()
            .clone();
        assert_eq!(text, format!("v{i}#{i}"));
    }
    assert!(tag.call(&mut store, (None, 1))?.is_none());
    // Non-null `ExternRef` is `(ref extern)`: not the function's `externref` result.
    assert!(
        instance
            .get_typed_func::<(ExternRef, i32), ExternRef>(&store, "tag")
            .is_err()
    );
    // But a non-null argument for a nullable parameter is fine.
    instance.get_typed_func::<(ExternRef, i32), Option<ExternRef>>(&store, "tag")?;
    Ok(())
}

#[test]
fn structs_arrays_and_i31_through_typed_calls() -> Result<()> {
    let (mut store, instance) = setup()?;
    let point = instance.get_typed_func::<(i32, i32), StructRef>(&store, "point")?;
    let x = instance.get_typed_func::<Option<StructRef>, i32>(&store, "x")?;
    let p = point.call(&mut store, (3, 4))?;
    assert_eq!(p.field(&mut store, 1)?.i32(), Some(4));
    assert_eq!(x.call(&mut store, Some(p.clone()))?, 3);
    assert_eq!(x.call(&mut store, None)?, -1);
    // `x` takes `(ref null $point)`, narrower than `StructRef`: a struct of another type
    // is refused at the call, not passed.
    let other = instance.get_typed_func::<(), StructRef>(&store, "other")?;
    let o = other.call(&mut store, ())?;
    let err = x.call(&mut store, Some(o)).unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err}");
    // The result type must be a subtype of the Rust type: `(ref $point)` is not an array.
    assert!(
        instance
            .get_typed_func::<(i32, i32), ArrayRef>(&store, "point")
            .is_err()
    );
    let bytes = instance.get_typed_func::<i32, ArrayRef>(&store, "bytes")?;
    let len = instance.get_typed_func::<Option<ArrayRef>, i32>(&store, "len")?;
    let a = bytes.call(&mut store, 9)?;
    assert_eq!(a.len(&store), 9);
    assert_eq!(len.call(&mut store, Some(a))?, 9);
    let i31 = instance.get_typed_func::<i32, I31>(&store, "i31")?;
    assert_eq!(i31.call(&mut store, -5)?.get_i32(), -5);
    let is_i31 = instance.get_typed_func::<Option<AnyRef>, i32>(&store, "any_is_i31")?;
    assert_eq!(
        is_i31.call(&mut store, Some(AnyRef::from_i31(I31::wrapping_i32(1))))?,
        1
    );
    assert_eq!(is_i31.call(&mut store, Some(p.as_anyref().clone()))?, 0);
    assert_eq!(is_i31.call(&mut store, None)?, 0);
    Ok(())
}

#[test]
fn funcs_through_typed_calls() -> Result<()> {
    let (mut store, instance) = setup()?;
    let get = instance.get_typed_func::<(), Func>(&store, "double_ref")?;
    let f = get.call(&mut store, ())?;
    assert_eq!(f.typed::<i32, i32>(&store)?.call(&mut store, 21)?, 42);
    let sum = instance.get_typed_func::<(i32, i32), i32>(&store, "sum")?;
    assert_eq!(sum.call(&mut store, (40, 2))?, 42);
    Ok(())
}

#[test]
fn sixteen_reference_parameters() {
    // (An unsupported closure is a compile error that `IntoFunc`'s `on_unimplemented`
    // note explains; it cannot be tested here.)
    let engine = engine();
    let mut store = Store::new(&engine, ());
    type R = Option<ExternRef>;
    let f = Func::wrap(
        &mut store,
        |a: R,
         _: R,
         _: R,
         _: R,
         _: R,
         _: R,
         _: R,
         _: R,
         _: R,
         _: R,
         _: R,
         _: R,
         _: R,
         _: R,
         _: R,
         p: R| { a.or(p) },
    );
    assert_eq!(f.ty(&store).params().len(), 16);
}

#[test]
fn v128_values_cross_host_calls_typed_and_untyped() -> Result<()> {
    use engine::{V128, Val};
    let engine = Engine::default();
    let mut linker = Linker::<()>::new(&engine);
    // A host function over v128: swaps the two 64-bit halves.
    linker.func_wrap("host", "swap", |v: V128| V128(v.0.rotate_left(64)))?;
    let module = Module::new(
        &engine,
        r#"(module
          (import "host" "swap" (func $swap (param v128) (result v128)))
          (table funcref (elem $swap))
          (type $t (func (param v128) (result v128)))
          (func (export "twice") (param v128) (result v128)
            (call_indirect (type $t) (call $swap (local.get 0)) (i32.const 0)))
          (func (export "add") (param v128 v128) (result v128)
            (i64x2.add (local.get 0) (local.get 1))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let twice = instance.get_typed_func::<V128, V128>(&store, "twice")?;
    let x = V128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
    assert_eq!(twice.call(&mut store, x)?, x);
    let add = instance.get_func(&store, "add").unwrap();
    let mut out = [Val::V128(0)];
    add.call(
        &mut store,
        &[Val::V128(1 | 2 << 64), Val::V128(3 | 4 << 64)],
        &mut out,
    )?;
    assert!(matches!(out[0], Val::V128(v) if v == 4 | 6 << 64));
    Ok(())
}
