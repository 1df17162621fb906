//! Types as values: struct and array types from a module's signatures and from objects,
//! host-built types with finality and supertypes that are the module's own types, `EqRef`,
//! and references converting into `Val`.

use anyhow::Result;
use engine::{
    ArrayRef, ArrayType, Engine, EqRef, ExternType, FieldType, Finality, HeapType, I31, Instance,
    Module, StorageType, Store, StructRef, StructType, Val, ValType,
};

const MODULE: &str = r#"(module
  (type $shape (sub (struct (field i32))))
  (type $circle (sub final $shape (struct (field i32) (field i32))))
  (type $bytes (sub (array (mut i8))))
  (func (export "make") (result (ref $circle)) (struct.new $circle (i32.const 1) (i32.const 2)))
  (func (export "is_circle") (param (ref null $shape)) (result i32)
    (ref.test (ref $circle) (local.get 0)))
  (func (export "radius") (param (ref $shape)) (result i32)
    (struct.get $circle 1 (ref.cast (ref $circle) (local.get 0))))
  (func (export "first") (param (ref $bytes)) (result i32) (array.get_u $bytes (local.get 0) (i32.const 0))))"#;

fn i32_field(mutable: bool) -> FieldType {
    FieldType {
        storage: StorageType::Val(ValType::I32),
        mutable,
    }
}

#[test]
fn struct_types_from_signatures_and_objects() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE)?;
    let make = module.exports().find(|e| e.name == "make").unwrap();
    let ExternType::Func(ty) = make.ty else {
        panic!("a function")
    };
    let ValType::Ref(r) = ty.results()[0] else {
        panic!("a reference")
    };
    let HeapType::ConcreteStruct(index) = *r.heap_type() else {
        panic!("a struct type")
    };
    let circle = StructType::from_index(&engine, index).unwrap();
    assert_eq!(circle.fields().len(), 2);
    assert!(circle.is_final());
    let shape = circle.supertype().unwrap();
    assert!(!shape.is_final() && circle.matches(&shape) && !shape.matches(&circle));
    // Not a struct type: none.
    assert!(StructType::from_index(&engine, u32::MAX).is_none());

    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let made = instance.get_typed_func::<(), StructRef>(&store, "make")?;
    let c = made.call(&mut store, ())?;
    assert_eq!(c.ty(&store).index(), circle.index());
    // A host-allocated object of the module's own type goes back into the module.
    let host_circle = StructRef::new(&mut store, &circle, &[Val::I32(5), Val::I32(9)])?;
    let radius = instance.get_func(&store, "radius").unwrap();
    let mut out = [Val::I32(0)];
    radius.call(&mut store, &[Val::from(host_circle)], &mut out)?;
    assert_eq!(out[0].i32(), Some(9));
    Ok(())
}

#[test]
fn host_built_subtypes_are_the_modules_types() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE)?;
    // Built by the host before or after the module: the same canonical types.
    let shape = StructType::with_finality_and_supertype(
        &engine,
        Finality::NonFinal,
        None,
        [i32_field(false)],
    )?;
    let circle = StructType::with_finality_and_supertype(
        &engine,
        Finality::Final,
        Some(&shape),
        [i32_field(false), i32_field(false)],
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let is_circle = instance.get_typed_func::<Option<StructRef>, i32>(&store, "is_circle")?;
    let c = StructRef::new(&mut store, &circle, &[Val::I32(1), Val::I32(2)])?;
    let s = StructRef::new(&mut store, &shape, &[Val::I32(1)])?;
    assert_eq!(is_circle.call(&mut store, Some(c))?, 1);
    assert_eq!(is_circle.call(&mut store, Some(s))?, 0);
    // A final struct with the same fields but no supertype is another type.
    let lone = StructType::new(&engine, [i32_field(false), i32_field(false)])?;
    assert_ne!(lone.index(), circle.index());
    let l = StructRef::new(&mut store, &lone, &[Val::I32(1), Val::I32(2)])?;
    assert!(
        is_circle.call(&mut store, Some(l)).is_err(),
        "not a $shape: refused"
    );

    // Supertypes must be non-final, of the same kind, and matched field by field.
    let final_one = StructType::new(&engine, [i32_field(false)])?;
    let bad = [
        StructType::with_finality_and_supertype(
            &engine,
            Finality::Final,
            Some(&final_one),
            [i32_field(false)],
        ),
        // Fewer fields than the supertype.
        StructType::with_finality_and_supertype(&engine, Finality::Final, Some(&shape), []),
        // A field of another type.
        StructType::with_finality_and_supertype(
            &engine,
            Finality::Final,
            Some(&shape),
            [FieldType {
                storage: StorageType::Val(ValType::I64),
                mutable: false,
            }],
        ),
        // Mutability changed.
        StructType::with_finality_and_supertype(
            &engine,
            Finality::Final,
            Some(&shape),
            [i32_field(true)],
        ),
    ];
    for (i, b) in bad.into_iter().enumerate() {
        assert!(b.is_err(), "case {i} accepted");
    }
    Ok(())
}

#[test]
fn array_types_eqrefs_and_conversions() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE)?;
    let bytes = ArrayType::with_finality_and_supertype(
        &engine,
        Finality::NonFinal,
        None,
        FieldType {
            storage: StorageType::I8,
            mutable: true,
        },
    )?;
    assert!(!bytes.is_final() && bytes.supertype().is_none());
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let a = ArrayRef::new(&mut store, &bytes, &Val::I32(65), 3)?;
    assert_eq!(a.ty(&store).index(), bytes.index());
    assert!(
        ArrayType::from_index(&engine, bytes.index())
            .unwrap()
            .matches(&bytes)
    );
    let first = instance.get_func(&store, "first").unwrap();
    let mut out = [Val::I32(0)];
    first.call(&mut store, &[Val::from(a.clone())], &mut out)?;
    assert_eq!(out[0].i32(), Some(65));
    // `eqref`s: arrays, structs and i31s are; conversions both ways.
    let eq = a.as_anyref().as_eqref(&store).unwrap();
    assert!(eq.as_array(&store).is_some() && eq.as_i31().is_none());
    let from_array: EqRef = a.into();
    assert!(from_array.as_struct(&store).is_none());
    let i = EqRef::from_i31(I31::wrapping_i32(-3));
    assert_eq!(i.as_i31().unwrap().get_i32(), -3);
    assert!(matches!(Val::from(Some(i)), Val::AnyRef(Some(_))));
    assert!(matches!(Val::from(None::<StructRef>), Val::AnyRef(None)));
    Ok(())
}

#[test]
fn host_rec_groups_are_the_modules_rec_groups() -> Result<()> {
    use engine::{GroupType, RecGroupBuilder, RefType};
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
          (rec (type $node (struct (field i32) (field (ref null $list))))
               (type $list (array (mut (ref null $node)))))
          (func (export "second") (param (ref $list)) (result i32)
            (struct.get $node 0 (ref.as_non_null (array.get $list (local.get 0) (i32.const 1))))))"#,
    )?;
    let reference = |mutable, heap| FieldType {
        storage: StorageType::Val(ValType::Ref(RefType::new(true, heap))),
        mutable,
    };
    let group = RecGroupBuilder::new(&engine)
        .add_struct(
            Finality::Final,
            None,
            [
                i32_field(false),
                reference(false, RecGroupBuilder::array_member(1)),
            ],
        )
        .add_array(
            Finality::Final,
            None,
            reference(true, RecGroupBuilder::struct_member(0)),
        )
        .build()?;
    let [GroupType::Struct(node), GroupType::Array(list)] = &group[..] else {
        panic!("{group:?}")
    };
    // The fields now name the group's canonical types.
    let StorageType::Val(ValType::Ref(r)) = node.fields()[1].storage else {
        panic!()
    };
    assert_eq!(*r.heap_type(), HeapType::ConcreteArray(list.index()));
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let a = StructRef::new(&mut store, node, &[Val::I32(10), Val::AnyRef(None)])?;
    let b = StructRef::new(&mut store, node, &[Val::I32(20), Val::AnyRef(None)])?;
    let l = ArrayRef::new_fixed(&mut store, list, &[Val::from(a), Val::from(b)])?;
    let second = instance.get_typed_func::<ArrayRef, i32>(&store, "second")?;
    assert_eq!(second.call(&mut store, l)?, 20);

    // Members refer to members that exist, of the right kind.
    let wrong_kind = RecGroupBuilder::new(&engine)
        .add_struct(
            Finality::Final,
            None,
            [reference(false, RecGroupBuilder::struct_member(1))],
        )
        .add_array(Finality::Final, None, i32_field(true))
        .build();
    assert!(wrong_kind.is_err());
    let missing = RecGroupBuilder::new(&engine)
        .add_struct(
            Finality::Final,
            None,
            [reference(false, RecGroupBuilder::struct_member(5))],
        )
        .build();
    assert!(missing.is_err());
    // A member's immutable field may narrow its supertype's to a group member that
    // declares the supertype's field type as its own supertype.
    let base = StructType::with_finality_and_supertype(
        &engine,
        Finality::NonFinal,
        None,
        [i32_field(false)],
    )?;
    let holder = StructType::with_finality_and_supertype(
        &engine,
        Finality::NonFinal,
        None,
        [reference(false, HeapType::ConcreteStruct(base.index()))],
    )?;
    let ok = RecGroupBuilder::new(&engine)
        .add_struct(
            Finality::Final,
            Some(&base),
            [i32_field(false), i32_field(false)],
        )
        .add_struct(
            Finality::Final,
            Some(&holder),
            [reference(false, RecGroupBuilder::struct_member(0))],
        )
        .build();
    assert!(ok.is_ok(), "{:?}", ok.err());
    let not_below = RecGroupBuilder::new(&engine)
        .add_struct(Finality::Final, None, [i32_field(false)])
        .add_struct(
            Finality::Final,
            Some(&holder),
            [reference(false, RecGroupBuilder::struct_member(0))],
        )
        .build();
    assert!(
        not_below.is_err(),
        "member 0 does not declare $base as its supertype"
    );
    Ok(())
}
