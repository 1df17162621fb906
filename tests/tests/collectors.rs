//! Both collectors behind the same traits: a program that allocates garbage in a loop runs
//! to completion under the DRC and, under the null collector (which never frees), traps
//! with the out-of-memory trap once its heap is full; host objects and host data work the
//! same under both, except that the null collector never drops them before the store.

use engine::{
    Collector, Config, ExternRef, FieldType, StorageType, StructRef, StructType, Trap, Val, ValType,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::{Counted, instantiate_with_gc};

/// `churn(n)` allocates `n` 48-byte structs (inline and through arrays) and keeps none;
/// returns a checksum read back from each.
const CHURN: &str = r#"(module
  (import "host" "gc" (func $gc))
  (type $pair (struct (field i64) (field (ref null $pair))))
  (type $bytes (array (mut i8)))
  (func (export "churn") (param $n i32) (result i64) (local $s i64) (local $p (ref null $pair))
    (loop $l
      (local.set $p (struct.new $pair (i64.extend_i32_u (local.get $n)) (local.get $p)))
      (local.set $s (i64.add (local.get $s) (struct.get $pair 0 (local.get $p))))
      (local.set $p (struct.new $pair (i64.const 1) (ref.null $pair)))
      (drop (array.new_default $bytes (i32.const 7)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s))
)"#;

fn field(ty: ValType) -> FieldType {
    FieldType {
        storage: StorageType::Val(ty),
        mutable: true,
    }
}

fn config(collector: Collector) -> Config {
    let mut config = Config::new();
    config.collector(collector).gc_heap_max_size(4 << 20);
    config
}

fn churn(collector: Collector, n: i32) -> anyhow::Result<i64> {
    let (mut store, instance) = instantiate_with_gc(&config(collector), CHURN)?;
    let f = instance.get_typed_func::<i32, i64>(&mut store, "churn")?;
    f.call(&mut store, n)
}

#[test]
fn garbage_fits_in_a_small_heap_only_under_the_drc() {
    let n = 200_000; // 200,000 × (2 × 32 + 32) bytes: far more than the 4 MiB heap
    let expected = i64::from(n) * i64::from(n + 1) / 2;
    assert_eq!(churn(Collector::Drc, n).unwrap(), expected);
    let err = churn(Collector::Null, n).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::GcHeapOutOfMemory),
        "{err:#}"
    );
    // A run that fits gives the same answer under both.
    assert_eq!(churn(Collector::Null, 1000).unwrap(), 1000 * 1001 / 2);
}

#[test]
fn host_objects_work_under_both_collectors() {
    for collector in Collector::ALL {
        let (mut store, _) = instantiate_with_gc(&config(collector), "(module)").unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let ty = StructType::new(
            store.engine(),
            [field(ValType::I64), field(ValType::EXTERNREF)],
        )
        .unwrap();
        let host = ExternRef::new(&mut store, Counted(drops.clone())).unwrap();
        let s =
            StructRef::new(&mut store, &ty, &[Val::I64(42), Val::ExternRef(Some(host))]).unwrap();
        assert_eq!(
            s.field(&mut store, 0).unwrap().i64().unwrap(),
            42,
            "{collector:?}"
        );
        s.set_field(&mut store, 1, Val::ExternRef(None)).unwrap();
        drop(s);
        store.gc();
        let expected = match collector {
            Collector::Drc => 1,
            Collector::Null => 0,
        };
        assert_eq!(drops.load(Ordering::SeqCst), expected, "{collector:?}");
        drop(store);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "{collector:?}: dropped with the store"
        );
    }
}

/// A dropped store's heap serves the next store (`Config::gc_heap_pool`), emptied: nothing
/// of the old store's is visible, its host values are dropped with it, and a handle that
/// outlives it cannot reach the new store's objects.
#[test]
fn pooled_heaps_start_empty() {
    const KEEP: &str = r#"(module
      (type $cell (struct (field (mut externref))))
      (global $g (export "g") (mut (ref null $cell)) (ref.null $cell))
      (func (export "keep") (param externref)
        (global.set $g (struct.new $cell (local.get 0))))
      (func (export "kept") (result externref)
        (if (result externref) (ref.is_null (global.get $g))
          (then (ref.null extern))
          (else (struct.get $cell 0 (global.get $g))))))"#;
    for pool in [0, 1, 32] {
        for collector in Collector::ALL {
            let mut config = config(collector);
            config.gc_heap_pool(pool);
            let engine = engine::Engine::new(&config).unwrap();
            let module = engine::Module::new(&engine, KEEP).unwrap();
            let drops = Arc::new(AtomicUsize::new(0));
            let mut survivor = None;
            for round in 0..3 {
                let mut store = engine::Store::new(&engine, ());
                assert_eq!(store.gc_live_objects(), 0, "round {round}: a fresh heap");
                let instance = engine::Instance::new(&mut store, &module, &[]).unwrap();
                let kept = instance.get_func(&store, "kept").unwrap();
                let mut out = [Val::I32(0)];
                kept.call(&mut store, &[], &mut out).unwrap();
                assert!(
                    matches!(out[0], Val::ExternRef(None)),
                    "round {round}: nothing kept from the last store"
                );
                let host = ExternRef::new(&mut store, Counted(drops.clone())).unwrap();
                let keep = instance.get_func(&store, "keep").unwrap();
                keep.call(&mut store, &[Val::ExternRef(Some(host.clone()))], &mut [])
                    .unwrap();
                // Dropped only after the next store has reused this heap.
                drop(survivor.replace(host));
                store.gc();
                assert_eq!(
                    drops.load(Ordering::SeqCst),
                    round,
                    "{collector:?} pool {pool}"
                );
            }
            drop(survivor);
            assert_eq!(drops.load(Ordering::SeqCst), 3);
        }
    }
}
