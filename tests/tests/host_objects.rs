//! Globals, tables and memories created and used from the host: `Global::new/get/set`,
//! `Table::new/get/set/grow/size` with funcref elements, `Memory::new/data/data_mut/grow`,
//! and host-created objects passed to Wasm as imports.

use anyhow::Result;
use engine::{
    Engine, Func, Global, GlobalType, Instance, Memory, MemoryType, Module, Mutability, Ref,
    RefType, Store, Table, TableType, Trap, Val, ValType,
};
use tests::instantiate;

#[test]
fn global_new_get_set() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());

    let var = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Var),
        Val::I32(5),
    )?;
    assert_eq!(var.get(&mut store).i32(), Some(5));
    var.set(&mut store, Val::I32(-9))?;
    assert_eq!(var.get(&mut store).i32(), Some(-9));
    assert_eq!(
        var.ty(&store),
        GlobalType::new(ValType::I32, Mutability::Var)
    );

    let err = var.set(&mut store, Val::I64(1)).unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err:#}");
    assert_eq!(
        var.get(&mut store).i32(),
        Some(-9),
        "a failed set leaves the value alone"
    );

    let constant = Global::new(
        &mut store,
        GlobalType::new(ValType::I64, Mutability::Const),
        Val::I64(77),
    )?;
    let err = constant.set(&mut store, Val::I64(78)).unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err:#}");
    assert_eq!(constant.get(&mut store).i64(), Some(77));

    // The initial value must have the global's type.
    let err = Global::new(
        &mut store,
        GlobalType::new(ValType::F32, Mutability::Var),
        Val::I32(0),
    )
    .unwrap_err();
    assert!(err.to_string().contains("type mismatch"), "{err:#}");

    // Float globals keep NaN payloads.
    let float = Global::new(
        &mut store,
        GlobalType::new(ValType::F64, Mutability::Var),
        Val::F64(0),
    )?;
    float.set(&mut store, Val::F64(0x7ff0_0000_0000_0001))?;
    assert!(matches!(
        float.get(&mut store),
        Val::F64(0x7ff0_0000_0000_0001)
    ));

    // Funcref globals.
    let f = Func::wrap(&mut store, || 3i32);
    let r = Global::new(
        &mut store,
        GlobalType::new(ValType::FUNCREF, Mutability::Var),
        Val::FuncRef(None),
    )?;
    assert!(matches!(r.get(&mut store), Val::FuncRef(None)));
    r.set(&mut store, Val::FuncRef(Some(f)))?;
    assert!(matches!(r.get(&mut store), Val::FuncRef(Some(g)) if g == f));
    Ok(())
}

#[test]
fn exported_globals_are_shared_between_wasm_and_host() -> Result<()> {
    let (mut store, instance) = instantiate(
        r#"(module
            (global $g (export "g") (mut i64) (i64.const 100))
            (global (export "k") f32 (f32.const 2.5))
            (func (export "bump") (result i64)
                global.get $g i64.const 1 i64.add global.set $g global.get $g))"#,
    )?;
    let g = instance.get_global(&store, "g").expect("exported");
    let bump = instance.get_typed_func::<(), i64>(&store, "bump")?;
    assert_eq!(bump.call(&mut store, ())?, 101);
    assert_eq!(g.get(&mut store).i64(), Some(101));
    g.set(&mut store, Val::I64(-50))?;
    assert_eq!(bump.call(&mut store, ())?, -49);
    assert_eq!(g.get(&mut store).i64(), Some(-49));

    let k = instance.get_global(&store, "k").expect("exported");
    assert_eq!(k.get(&mut store).f32(), Some(2.5));
    assert!(k.set(&mut store, Val::F32(0)).is_err(), "`k` is immutable");
    Ok(())
}

#[test]
fn table_new_get_set_grow_size() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let one = Func::wrap(&mut store, || 1i32);
    let two = Func::wrap(&mut store, || 2i32);

    let table = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 2, Some(5)),
        Ref::Func(None),
    )?;
    assert_eq!(table.size(&store), 2);
    assert!(matches!(table.get(&mut store, 0), Some(Ref::Func(None))));
    assert!(matches!(table.get(&mut store, 1), Some(Ref::Func(None))));
    assert!(table.get(&mut store, 2).is_none());
    assert!(table.get(&mut store, u64::MAX).is_none());

    table.set(&mut store, 1, Ref::Func(Some(one)))?;
    assert!(matches!(table.get(&mut store, 1), Some(Ref::Func(Some(f))) if f == one));
    let err = table.set(&mut store, 2, Ref::Func(Some(one))).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::TableOutOfBounds),
        "{err:#}"
    );

    assert_eq!(table.grow(&mut store, 2, Ref::Func(Some(two)))?, 2);
    assert_eq!(table.size(&store), 4);
    assert!(matches!(table.get(&mut store, 1), Some(Ref::Func(Some(f))) if f == one));
    assert!(matches!(table.get(&mut store, 2), Some(Ref::Func(Some(f))) if f == two));
    assert!(matches!(table.get(&mut store, 3), Some(Ref::Func(Some(f))) if f == two));
    assert_eq!(table.grow(&mut store, 0, Ref::Func(None))?, 4);

    // Past the maximum: an error, and the table is unchanged.
    assert!(table.grow(&mut store, 2, Ref::Func(None)).is_err());
    assert_eq!(table.size(&store), 4);
    assert_eq!(
        table.ty(&store),
        TableType::new(RefType::FUNCREF, 4, Some(5))
    );

    // A table whose every element starts out as `two`.
    let full = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 3, None),
        Ref::Func(Some(two)),
    )?;
    for i in 0..3 {
        assert!(matches!(full.get(&mut store, i), Some(Ref::Func(Some(f))) if f == two));
    }
    Ok(())
}

#[test]
fn host_table_is_usable_by_wasm_call_indirect() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let forty_two = Func::wrap(&mut store, || 42i32);
    let negate = Func::wrap(&mut store, |x: i32| -x);
    let table = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 2, None),
        Ref::Func(None),
    )?;
    table.set(&mut store, 1, Ref::Func(Some(forty_two)))?;

    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "table" (table 1 funcref))
            (type $v_i (func (result i32)))
            (func (export "call") (param i32) (result i32)
                local.get 0 call_indirect (type $v_i))
            (func (export "size") (result i32) table.size 0))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[table.into()])?;
    let call = instance.get_typed_func::<i32, i32>(&store, "call")?;
    assert_eq!(call.call(&mut store, 1)?, 42);
    let err = call.call(&mut store, 0).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UninitializedElement),
        "{err:#}"
    );

    // Growth from the host is visible to Wasm, and so are new elements.
    table.grow(&mut store, 1, Ref::Func(Some(forty_two)))?;
    let size = instance.get_typed_func::<(), i32>(&store, "size")?;
    assert_eq!(size.call(&mut store, ())?, 3);
    assert_eq!(call.call(&mut store, 2)?, 42);

    // A host function of another type in the table: the signature check catches it.
    table.set(&mut store, 0, Ref::Func(Some(negate)))?;
    let err = call.call(&mut store, 0).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::IndirectCallTypeMismatch),
        "{err:#}"
    );
    Ok(())
}

#[test]
fn memory_new_data_grow() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, Some(3)))?;
    assert_eq!(memory.size(&store), 1);
    assert_eq!(memory.data(&store).len(), 65536);
    assert!(
        memory.data(&store).iter().all(|&b| b == 0),
        "new memory is zeroed"
    );

    memory.data_mut(&mut store)[..5].copy_from_slice(b"hello");
    memory.data_mut(&mut store)[65535] = 0xee;
    assert_eq!(&memory.data(&store)[..5], b"hello");

    assert_eq!(memory.grow(&mut store, 1)?, 1);
    assert_eq!(memory.size(&store), 2);
    assert_eq!(memory.data(&store).len(), 2 * 65536);
    assert_eq!(
        &memory.data(&store)[..5],
        b"hello",
        "growth keeps the contents"
    );
    assert_eq!(memory.data(&store)[65535], 0xee);
    assert!(
        memory.data(&store)[65536..].iter().all(|&b| b == 0),
        "new pages are zeroed"
    );

    // Past the maximum: an error, and nothing changes.
    assert!(memory.grow(&mut store, 2).is_err());
    assert_eq!(memory.size(&store), 2);
    assert_eq!(memory.grow(&mut store, 0)?, 2);
    assert_eq!(memory.grow(&mut store, 1)?, 2);
    assert_eq!(memory.ty(&store), MemoryType::new(3, Some(3)));

    // More than 4 GiB cannot be created.
    assert!(Memory::new(&mut store, MemoryType::new(65537, None)).is_err());
    Ok(())
}

#[test]
fn host_memory_as_import_is_shared_with_wasm() -> Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, Some(4)))?;
    memory.data_mut(&mut store)[100..104].copy_from_slice(&0x1234_5678u32.to_le_bytes());

    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "memory" (memory 1 4))
            (data (i32.const 0) "wasm")
            (func (export "load") (param i32) (result i32) local.get 0 i32.load)
            (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
            (func (export "size") (result i32) memory.size)
            (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[memory.into()])?;
    assert_eq!(
        &memory.data(&store)[..4],
        b"wasm",
        "the data segment went into host memory"
    );

    let load = instance.get_typed_func::<i32, i32>(&store, "load")?;
    let store_fn = instance.get_typed_func::<(i32, i32), ()>(&store, "store")?;
    assert_eq!(load.call(&mut store, 100)?, 0x1234_5678);
    store_fn.call(&mut store, (200, -2))?;
    assert_eq!(&memory.data(&store)[200..204], &(-2i32).to_le_bytes());

    // Growth on either side is seen by the other.
    let size = instance.get_typed_func::<(), i32>(&store, "size")?;
    memory.grow(&mut store, 1)?;
    assert_eq!(size.call(&mut store, ())?, 2);
    store_fn.call(&mut store, (65536 + 8, 99))?;
    assert_eq!(memory.data(&store)[65536 + 8], 99);
    let grow = instance.get_typed_func::<i32, i32>(&store, "grow")?;
    assert_eq!(grow.call(&mut store, 1)?, 2);
    assert_eq!(memory.size(&store), 3);
    assert_eq!(memory.data(&store).len(), 3 * 65536);
    Ok(())
}
