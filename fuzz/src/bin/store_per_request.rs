//! The store-per-request benchmark: `N` times (a new store, instantiate a small GC module,
//! one call, drop the store), also with a module that has a linear memory, in this engine and in Wasmtime 48 with its default
//! (on-demand) and its pooling instance allocator, and in this engine without its pool of
//! GC heaps (`Config::gc_heap_pool(0)`; linear-memory reservations stay pooled). Prints microseconds per request and the ratios
//! (ours / Wasmtime), the median of `RUNS` alternating runs.
//!
//!     cargo run --release --manifest-path fuzz/Cargo.toml --bin store_per_request [N] [RUNS]

use anyhow::Result;
use std::time::Instant;

/// A struct allocated per request, kept in a global and read back.
const WAT: &str = r#"(module
  (type $p (struct (field i32) (field i32)))
  (global $g (mut (ref null $p)) (ref.null $p))
  (func (export "run") (param i32) (result i32)
    (global.set $g (struct.new $p (local.get 0) (i32.add (local.get 0) (i32.const 1))))
    (struct.get $p 1 (global.get $g))))"#;

/// The same with a one-page linear memory, written and read back.
const WAT_MEMORY: &str = r#"(module
  (type $p (struct (field i32) (field i32)))
  (memory 1)
  (global $g (mut (ref null $p)) (ref.null $p))
  (func (export "run") (param i32) (result i32)
    (global.set $g (struct.new $p (local.get 0) (i32.add (local.get 0) (i32.const 1))))
    (i32.store (i32.const 64) (struct.get $p 1 (global.get $g)))
    (i32.load (i32.const 64))))"#;

fn ours(wat: &str, n: i32, heap_pool: usize) -> Result<f64> {
    let mut config = engine::Config::new();
    config.gc_heap_pool(heap_pool);
    let engine = engine::Engine::new(&config)?;
    let module = engine::Module::new(&engine, wat)?;
    let start = Instant::now();
    for i in 0..n {
        let mut store = engine::Store::new(&engine, ());
        let instance = engine::Instance::new(&mut store, &module, &[])?;
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
        assert_eq!(run.call(&mut store, i)?, i + 1);
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / f64::from(n))
}

fn wasmtime(wat: &str, n: i32, pooling: bool) -> Result<f64> {
    let mut config = wasmtime::Config::new();
    config.wasm_gc(true).wasm_function_references(true);
    if pooling {
        let pool = wasmtime::PoolingAllocationConfig::default();
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    }
    let engine = wasmtime::Engine::new(&config)?;
    let module = wasmtime::Module::new(&engine, wat)?;
    let start = Instant::now();
    for i in 0..n {
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = wasmtime::Instance::new(&mut store, &module, &[])?;
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
        assert_eq!(run.call(&mut store, i)?, i + 1);
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / f64::from(n))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let n: i32 = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let runs: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    for (what, wat) in [
        ("a small GC module", WAT),
        ("with a 1-page memory", WAT_MEMORY),
    ] {
        let (mut o, mut u, mut d, mut p) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            o.push(ours(wat, n, 32)?);
            u.push(ours(wat, n, 0)?);
            d.push(wasmtime(wat, n, false)?);
            p.push(wasmtime(wat, n, true)?);
        }
        let (o, u, d, p) = (median(o), median(u), median(d), median(p));
        println!("{what}: {n} requests, median of {runs} runs (microseconds per request)");
        println!("  ours {o:.2}  ours-unpooled {u:.2}  wasmtime {d:.2}  wasmtime-pooling {p:.2}");
        println!(
            "  ours/wasmtime {:.2}  ours/wasmtime-pooling {:.2}",
            o / d,
            o / p
        );
    }
    Ok(())
}
