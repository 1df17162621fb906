//! Resource limits: a `ResourceLimiter` is asked before every growth of a memory, a table or
//! the GC heap (instantiation included), `StoreLimits` refuses or traps past its ceilings,
//! and the GC heap traps "GC heap out of memory" only once a full collection could not make
//! room.

use engine::{
    Config, Engine, Instance, Memory, MemoryType, Module, Ref, RefType, ResourceLimiter, Store,
    StoreLimits, StoreLimitsBuilder, Table, TableType, Trap, TypedFunc, Val,
};

fn trap(err: &anyhow::Error) -> Option<Trap> {
    err.downcast_ref::<Trap>().copied()
}

fn limited(limits: StoreLimits) -> (Engine, Store<StoreLimits>) {
    let engine = Engine::default();
    let mut store = Store::new(&engine, limits);
    store.limiter(|l| l);
    (engine, store)
}

const GROW: &str = r#"(module
    (memory (export "mem") 1)
    (table (export "tab") 1 funcref)
    (func (export "grow_memory") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "grow_table") (param i32) (result i32)
        (table.grow (ref.null func) (local.get 0))))"#;

/// `GROW` instantiated in `store`, with its `grow_memory` and `grow_table`.
fn grow<T: 'static>(
    engine: &Engine,
    store: &mut Store<T>,
) -> (Instance, TypedFunc<i32, i32>, TypedFunc<i32, i32>) {
    let module = Module::new(engine, GROW).unwrap();
    let instance = Instance::new(&mut *store, &module, &[]).unwrap();
    let memory = instance.get_typed_func(&*store, "grow_memory").unwrap();
    let table = instance.get_typed_func(&*store, "grow_table").unwrap();
    (instance, memory, table)
}

#[test]
fn memory_and_table_growth_stop_at_the_limits() {
    let (engine, mut store) = limited(
        StoreLimitsBuilder::new()
            .memory_size(3 << 16)
            .table_elements(5)
            .build(),
    );
    let (instance, grow_memory, grow_table) = grow(&engine, &mut store);
    assert_eq!(grow_memory.call(&mut store, 2).unwrap(), 1);
    assert_eq!(
        grow_memory.call(&mut store, 1).unwrap(),
        -1,
        "past the limit"
    );
    assert_eq!(grow_table.call(&mut store, 4).unwrap(), 1);
    assert_eq!(
        grow_table.call(&mut store, 1).unwrap(),
        -1,
        "past the limit"
    );
    // The host API asks the same limiter.
    let mem = instance.get_memory(&store, "mem").unwrap();
    assert!(mem.grow(&mut store, 1).is_err());
    let tab = instance.get_table(&store, "tab").unwrap();
    assert!(tab.grow(&mut store, 1, Ref::Func(None)).is_err());
    assert_eq!(mem.size(&store), 3);
    assert_eq!(tab.size(&store), 5);
}

#[test]
fn trap_on_grow_failure_turns_refusals_into_traps() {
    let (engine, mut store) = limited(
        StoreLimitsBuilder::new()
            .memory_size(2 << 16)
            .trap_on_grow_failure(true)
            .build(),
    );
    let (_, grow_memory, _) = grow(&engine, &mut store);
    assert_eq!(grow_memory.call(&mut store, 1).unwrap(), 1);
    let err = grow_memory.call(&mut store, 1).unwrap_err();
    assert!(
        format!("{err:#}").contains("exceeds the limit"),
        "the limiter's error comes back: {err:#}"
    );
    // A growth the limits allow but the memory's maximum forbids fails as well.
    let module = Module::new(
        &engine,
        r#"(module (memory 1 1)
            (func (export "grow") (result i32) (memory.grow (i32.const 1))))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance.get_typed_func::<(), i32>(&store, "grow").unwrap();
    let err = grow.call(&mut store, ()).unwrap_err();
    assert!(format!("{err:#}").contains("maximum"), "{err:#}");
}

#[test]
fn instantiation_asks_the_limiter_and_respects_the_counts() {
    let (engine, mut store) = limited(
        StoreLimitsBuilder::new()
            .memory_size(1 << 16)
            .table_elements(10)
            .instances(2)
            .memories(2)
            .tables(1)
            .build(),
    );
    let too_big = Module::new(&engine, "(module (memory 2))").unwrap();
    let err = Instance::new(&mut store, &too_big, &[]).unwrap_err();
    assert!(err.to_string().contains("exceeds memory limits"), "{err:#}");
    let too_long = Module::new(&engine, "(module (table 11 funcref))").unwrap();
    let err = Instance::new(&mut store, &too_long, &[]).unwrap_err();
    assert!(err.to_string().contains("exceeds table limits"), "{err:#}");

    let one_each = Module::new(&engine, "(module (memory 1) (table 1 funcref))").unwrap();
    Instance::new(&mut store, &one_each, &[]).unwrap();
    let err = Instance::new(&mut store, &one_each, &[]).unwrap_err();
    assert!(
        err.to_string().contains("table count too high at 1"),
        "{err:#}"
    );
    let err = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 0, None),
        Ref::Func(None),
    )
    .unwrap_err();
    assert!(err.to_string().contains("table count too high"), "{err:#}");
    Memory::new(&mut store, MemoryType::new(0, None)).unwrap();
    let err = Memory::new(&mut store, MemoryType::new(0, None)).unwrap_err();
    assert!(
        err.to_string().contains("memory count too high at 2"),
        "{err:#}"
    );
    let empty = Module::new(&engine, "(module)").unwrap();
    Instance::new(&mut store, &empty, &[]).unwrap();
    let err = Instance::new(&mut store, &empty, &[]).unwrap_err();
    assert!(
        err.to_string().contains("instance count too high at 2"),
        "{err:#}"
    );
}

/// Records every question, and refuses memories over two pages.
#[derive(Default)]
struct Recorder {
    asked: Vec<String>,
}

impl ResourceLimiter for Recorder {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> anyhow::Result<bool> {
        self.asked
            .push(format!("memory {current} -> {desired} (max {max:?})"));
        Ok(desired <= 2 << 16)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> anyhow::Result<bool> {
        self.asked
            .push(format!("table {current} -> {desired} (max {max:?})"));
        Ok(true)
    }

    fn gc_heap_growing(
        &mut self,
        current: usize,
        desired: usize,
        _: usize,
    ) -> anyhow::Result<bool> {
        self.asked.push(format!("gc heap {current} -> {desired}"));
        Ok(true)
    }
}

#[test]
fn a_custom_limiter_sees_every_growth() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, Recorder::default());
    store.limiter(|r| r);
    let (_, grow_memory, grow_table) = grow(&engine, &mut store);
    assert_eq!(grow_memory.call(&mut store, 1).unwrap(), 1);
    assert_eq!(grow_memory.call(&mut store, 1).unwrap(), -1);
    assert_eq!(grow_table.call(&mut store, 2).unwrap(), 1);
    assert_eq!(
        store.data().asked,
        [
            "memory 0 -> 65536 (max None)",
            "table 0 -> 1 (max None)",
            "memory 65536 -> 131072 (max None)",
            "memory 131072 -> 196608 (max None)",
            "table 1 -> 3 (max None)",
        ]
    );
}

/// Keeps `n` structs live in a global array, then allocates garbage.
const GC_HEAP: &str = r#"(module
    (type $node (struct (field (mut (ref null $node)))))
    (type $arr (array (mut (ref null $node))))
    (global $live (mut (ref null $arr)) (ref.null $arr))
    (func (export "keep") (param $n i32)
        (local $i i32) (local $a (ref $arr))
        (local.set $a (array.new_default $arr (local.get $n)))
        (global.set $live (local.get $a))
        (block $done (loop $l
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (array.set $arr (local.get $a) (local.get $i) (struct.new_default $node))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l))))
    (func (export "cycles") (param $n i32)
        (local $x (ref null $node))
        (loop $l
            (local.set $x (struct.new_default $node))
            (struct.set $node 0 (local.get $x) (struct.new $node (local.get $x)))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br_if $l (local.get $n)))))"#;

/// `GC_HEAP` instantiated in `store`: its `keep` and `cycles`.
fn gc_heap<T: 'static>(
    engine: &Engine,
    store: &mut Store<T>,
) -> (TypedFunc<i32, ()>, TypedFunc<i32, ()>) {
    let module = Module::new(engine, GC_HEAP).unwrap();
    let instance = Instance::new(&mut *store, &module, &[]).unwrap();
    let keep = instance.get_typed_func(&*store, "keep").unwrap();
    let cycles = instance.get_typed_func(&*store, "cycles").unwrap();
    (keep, cycles)
}

#[test]
fn the_gc_heap_limit_traps_out_of_memory_only_when_nothing_is_reclaimable() {
    let (engine, mut store) = limited(StoreLimitsBuilder::new().gc_heap_size(4 << 20).build());
    let (keep, cycles) = gc_heap(&engine, &mut store);
    // 2 MiB live, then 32 MiB of cyclic garbage through the remaining 2 MiB.
    keep.call(&mut store, 60_000).unwrap();
    cycles.call(&mut store, 500_000).unwrap();
    // 8 MiB live cannot fit.
    let err = keep.call(&mut store, 250_000).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::GcHeapOutOfMemory), "{err:#}");
    // An object larger than any heap of this engine is another error.
    let module = Module::new(
        &engine,
        r#"(module (type $a (array i8))
            (func (export "big") (drop (array.new_default $a (i32.const 0x7fff_0000)))))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let big = instance.get_typed_func::<(), ()>(&store, "big").unwrap();
    let err = big.call(&mut store, ()).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::AllocationTooLarge), "{err:#}");
}

#[test]
fn cycles_churning_beside_a_large_live_heap_are_reclaimed() {
    // No limiter: the heap's own maximum is the ceiling, and most of it is live.
    let mut config = Config::new();
    config.gc_heap_max_size(8 << 20);
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, ());
    let (keep, cycles) = gc_heap(&engine, &mut store);
    // 6 MiB of 8 live: 2-object cycles (64 bytes each) of ten times the heap's size must
    // be reclaimed as they go.
    keep.call(&mut store, 185_000).unwrap();
    cycles.call(&mut store, 1_300_000).unwrap();
    store.gc();
    assert_eq!(store.gc_live_objects(), 185_001);
}

#[test]
fn host_allocations_and_limiter_errors_surface_as_errors() {
    struct Refuse;
    impl ResourceLimiter for Refuse {
        fn memory_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> anyhow::Result<bool> {
            anyhow::bail!("no memory for you")
        }
        fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> anyhow::Result<bool> {
            Ok(true)
        }
        fn gc_heap_growing(&mut self, _: usize, _: usize, _: usize) -> anyhow::Result<bool> {
            anyhow::bail!("no GC heap for you")
        }
    }
    let engine = Engine::default();
    let mut store = Store::new(&engine, Refuse);
    store.limiter(|r| r);
    let err = Memory::new(&mut store, MemoryType::new(1, None)).unwrap_err();
    assert!(err.to_string().contains("no memory for you"), "{err:#}");
    // The first megabyte needs no growth; beyond it the limiter's error is the call's.
    let module = Module::new(&engine, GC_HEAP).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let keep = instance.get_func(&store, "keep").unwrap();
    keep.call(&mut store, &[Val::I32(1_000)], &mut []).unwrap();
    let err = keep
        .call(&mut store, &[Val::I32(100_000)], &mut [])
        .unwrap_err();
    assert!(format!("{err:#}").contains("no GC heap for you"), "{err:#}");
}

#[test]
fn try_new_creates_a_store() {
    let engine = Engine::default();
    let store = Store::try_new(&engine, 7).unwrap();
    assert_eq!(*store.data(), 7);
}
