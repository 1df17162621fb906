//! Hostile input: modules written to exhaust the host through instantiation (oversized
//! constant-expression arrays), to exhaust the compiler (deep nesting), and thousands of
//! corrupted binaries. Each must end in an error or a trap, never a crash, an abort or a
//! hang.

use engine::{Config, Engine, Instance, Module, Store, StoreLimits, StoreLimitsBuilder, Trap, Val};
use std::time::{Duration, Instant};

fn trap(err: &anyhow::Error) -> Option<Trap> {
    err.downcast_ref::<Trap>().copied()
}

/// Instantiates `wat` in a fresh store of `engine`; the error if it fails.
fn instantiate_err(engine: &Engine, wat: &str) -> anyhow::Error {
    let module = Module::new(engine, wat).unwrap_or_else(|e| panic!("{e:#}\n{wat}"));
    let mut store = Store::new(engine, ());
    Instance::new(&mut store, &module, &[]).expect_err("instantiation must fail")
}

#[test]
fn oversized_constant_expression_arrays_trap_without_host_allocation() {
    let engine = Engine::default();
    let ty = "(type $bytes (array (mut i8)))";
    // Larger than the heap's 256 MiB maximum: too large for any heap of this engine.
    for init in [
        "(array.new_default $bytes (i32.const 2000000000))",
        "(array.new_default $bytes (i32.const 300000000))",
        "(array.new $bytes (i32.const 7) (i32.const -1))",
    ] {
        for wat in [
            format!("(module {ty} (global (ref $bytes) {init}))"),
            format!("(module {ty} (table 1 (ref null $bytes) {init}))"),
            format!("(module {ty} (elem (ref null $bytes) (item {init})))"),
            format!(
                "(module {ty} (table 1 (ref null $bytes)) (elem (table 0) (i32.const 0) (ref null $bytes) (item {init})))"
            ),
        ] {
            let started = Instant::now();
            let err = instantiate_err(&engine, &wat);
            assert_eq!(trap(&err), Some(Trap::AllocationTooLarge), "{wat}: {err:#}");
            assert!(started.elapsed() < Duration::from_secs(5), "{wat}");
        }
    }
}

#[test]
fn constant_expression_arrays_share_the_heap_limits() {
    let engine = Engine::default();
    let ty = "(type $bytes (array (mut i8)))";
    // Each fits, together they do not: the ninth global runs out of heap.
    let globals =
        "(global (ref $bytes) (array.new $bytes (i32.const 1) (i32.const 30000000)))".repeat(9);
    let err = instantiate_err(&engine, &format!("(module {ty} {globals})"));
    assert_eq!(trap(&err), Some(Trap::GcHeapOutOfMemory), "{err:#}");

    // A store limit applies to constant expressions as to compiled code.
    let module = Module::new(
        &engine,
        format!(
            "(module {ty} (global (ref $bytes) (array.new_default $bytes (i32.const 20000000))))"
        ),
    )
    .unwrap();
    let mut store = Store::new(
        &engine,
        StoreLimitsBuilder::new().gc_heap_size(8 << 20).build(),
    );
    store.limiter(|l: &mut StoreLimits| l);
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::GcHeapOutOfMemory), "{err:#}");
}

#[test]
fn large_constant_expression_arrays_are_built_in_place() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (type $bytes (array (mut i8)))
            (type $words (array (mut i64)))
            (global $b (ref $bytes) (array.new $bytes (i32.const 7) (i32.const 50000000)))
            (global $w (ref $words) (array.new $words (i64.const 0x0102030405060708) (i32.const 1000000)))
            (func (export "byte") (param i32) (result i32) (array.get_u $bytes (global.get $b) (local.get 0)))
            (func (export "word") (param i32) (result i64) (array.get $words (global.get $w) (local.get 0)))
            (func (export "len") (result i32) (array.len (global.get $b))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let byte = instance.get_typed_func::<i32, i32>(&store, "byte").unwrap();
    let word = instance.get_typed_func::<i32, i64>(&store, "word").unwrap();
    let len = instance.get_typed_func::<(), i32>(&store, "len").unwrap();
    assert_eq!(len.call(&mut store, ()).unwrap(), 50_000_000);
    assert_eq!(byte.call(&mut store, 0).unwrap(), 7);
    assert_eq!(byte.call(&mut store, 49_999_999).unwrap(), 7);
    assert_eq!(word.call(&mut store, 999_999).unwrap(), 0x0102030405060708);
}

/// Constant expressions that allocate many objects, evaluated with a collection at every
/// allocation: what earlier operators and items built must survive.
#[test]
fn constant_expressions_keep_their_objects_across_collections() {
    let mut config = Config::new();
    config.gc_stress(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (type $pair (struct (field (ref null $pair)) (field i32)))
            (type $list (array (ref null $pair)))
            (global $g (ref $pair)
                (struct.new $pair
                    (struct.new $pair (struct.new $pair (ref.null $pair) (i32.const 3)) (i32.const 2))
                    (i32.const 1)))
            (global $a (ref $list)
                (array.new_fixed $list 3
                    (global.get $g)
                    (struct.new $pair (ref.null $pair) (i32.const 4))
                    (struct.new $pair (global.get $g) (i32.const 5))))
            (table $t 4 (ref null $pair))
            (elem (table $t) (i32.const 0) (ref null $pair)
                (item (struct.new $pair (ref.null $pair) (i32.const 6)))
                (item (struct.new $pair (struct.new $pair (ref.null $pair) (i32.const 8)) (i32.const 7))))
            (elem $passive (ref null $pair)
                (item (struct.new $pair (ref.null $pair) (i32.const 9)))
                (item (struct.new $pair (ref.null $pair) (i32.const 10))))
            (func $sum (param $p (ref null $pair)) (result i32)
                (if (result i32) (ref.is_null (local.get $p))
                    (then (i32.const 0))
                    (else (i32.add (struct.get $pair 1 (local.get $p))
                                   (call $sum (struct.get $pair 0 (local.get $p)))))))
            (func (export "total") (result i32)
                (table.init $t $passive (i32.const 2) (i32.const 0) (i32.const 2))
                (i32.add (i32.add (call $sum (global.get $g))
                                  (i32.add (call $sum (array.get $list (global.get $a) (i32.const 1)))
                                           (call $sum (array.get $list (global.get $a) (i32.const 2)))))
                         (i32.add (i32.add (call $sum (table.get $t (i32.const 0)))
                                           (call $sum (table.get $t (i32.const 1))))
                                  (i32.add (call $sum (table.get $t (i32.const 2)))
                                           (call $sum (table.get $t (i32.const 3))))))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let total = instance.get_typed_func::<(), i32>(&store, "total").unwrap();
    // 6 (the global) + 4 + (5 + 6) + 6 + (7 + 8) + 9 + 10.
    assert_eq!(total.call(&mut store, ()).unwrap(), 61);
}

/// A module whose one function nests `depth` frames of `open` (`block`, `loop`, or `if`
/// with its condition), as a binary: the text format's parser recurses.
fn nested(depth: usize, open: &[u8]) -> Vec<u8> {
    fn leb(mut x: usize, out: &mut Vec<u8>) {
        loop {
            let b = (x & 0x7f) as u8;
            x >>= 7;
            if x == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    let mut body = vec![0u8]; // no locals
    for _ in 0..depth {
        body.extend_from_slice(open);
    }
    body.extend(std::iter::repeat_n(0x0b, depth + 1));
    let mut code = vec![1u8];
    leb(body.len(), &mut code);
    code.extend(body);
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    for (id, section) in [(1u8, vec![1, 0x60, 0, 0]), (3, vec![1, 0]), (10, code)] {
        module.push(id);
        leb(section.len(), &mut module);
        module.extend(section);
    }
    module
}

const BLOCK: &[u8] = &[0x02, 0x40];
const LOOP: &[u8] = &[0x03, 0x40];
const IF: &[u8] = &[0x41, 0x00, 0x04, 0x40];

#[test]
fn a_million_nested_blocks_are_rejected_quickly() {
    let engine = Engine::default();
    for open in [BLOCK, LOOP, IF] {
        let started = Instant::now();
        let err = Module::new(&engine, nested(1_000_000, open)).unwrap_err();
        assert!(
            format!("{err:#}").contains("control nesting deeper than 100000 levels"),
            "{err:#}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

#[test]
fn deep_nesting_within_the_limit_compiles_and_runs() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    for (open, depth) in [(BLOCK, 99_999), (LOOP, 10_000), (IF, 10_000)] {
        let module = Module::new(&engine, nested(depth, open)).unwrap();
        Instance::new(&mut store, &module, &[]).unwrap();
    }
}

/// Deterministic pseudo-random numbers (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Corrupts `module` (past its 8-byte header, mostly) in one of a few ways.
fn mutate(module: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut m = module.to_vec();
    let at = |rng: &mut Rng, len: usize| 8 + rng.below(len.saturating_sub(8).max(1));
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 => {
                let i = at(rng, m.len()).min(m.len() - 1);
                m[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = at(rng, m.len()).min(m.len() - 1);
                m[i] = rng.next() as u8;
            }
            2 => {
                let i = at(rng, m.len()).min(m.len());
                m.insert(i, rng.next() as u8);
            }
            3 if m.len() > 9 => {
                let i = at(rng, m.len()).min(m.len() - 1);
                m.remove(i);
            }
            4 => {
                // A huge LEB128 where a count or size might be.
                let i = at(rng, m.len()).min(m.len());
                m.splice(i..i, [0xff, 0xff, 0xff, 0xff, 0x0f]);
            }
            _ => m.truncate(at(rng, m.len())),
        }
    }
    m
}

/// The modules of the embedded suites, as binaries.
fn suite_modules(suite: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (_, text) in spec_runner::embedded_suite(suite).unwrap() {
        let mut lexer = wast::lexer::Lexer::new(text);
        lexer.allow_confusing_unicode(true);
        let Ok(buf) = wast::parser::ParseBuffer::new_with_lexer(lexer) else {
            continue;
        };
        let Ok(wast) = wast::parser::parse::<wast::Wast<'_>>(&buf) else {
            continue;
        };
        for directive in wast.directives {
            if let wast::WastDirective::Module(mut m) = directive
                && let Ok(bytes) = m.encode()
            {
                out.push(bytes);
            }
        }
    }
    out
}

#[test]
fn thousands_of_corrupted_suite_modules_never_panic() {
    let engine = Engine::default();
    let mut modules = suite_modules("wasm-v2");
    modules.extend(suite_modules("gc"));
    modules.retain(|m| m.len() > 8);
    assert!(modules.len() > 1_000, "{} modules", modules.len());
    let mut rng = Rng(0x5eed);
    let (mut compiled, mut panics) = (0, Vec::new());
    const VARIANTS: usize = 20_000;
    for variant in 0..VARIANTS {
        let original = &modules[rng.below(modules.len())];
        let bytes = mutate(original, &mut rng);
        let compile = std::panic::AssertUnwindSafe(|| Module::from_binary(&engine, &bytes));
        match std::panic::catch_unwind(compile) {
            Ok(Ok(module)) => {
                compiled += 1;
                // Those that still compile and need nothing must instantiate or fail cleanly.
                if module.imports().len() == 0 {
                    let mut store = Store::new(&engine, ());
                    let _ = Instance::new(&mut store, &module, &[]);
                }
            }
            Ok(Err(_)) => {}
            Err(_) => panics.push(variant),
        }
    }
    println!("{VARIANTS} variants, {compiled} still compiled");
    assert!(panics.is_empty(), "variants that panicked: {panics:?}");
    assert!(compiled > 100 && compiled < VARIANTS, "{compiled} compiled");
}

#[test]
fn runaway_start_functions_are_stopped_too() {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, "(module (func $spin (loop (br 0))) (start $spin))").unwrap();
    let mut store = Store::new(&engine, ());
    store.set_fuel(100_000).unwrap();
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::OutOfFuel), "{err:#}");
    // Calls into a failed store still work.
    store.set_fuel(1_000).unwrap();
    let ok = Module::new(
        &engine,
        "(module (func (export \"f\") (result i32) (i32.const 5)))",
    )
    .unwrap();
    let instance = Instance::new(&mut store, &ok, &[]).unwrap();
    let mut results = [Val::I32(0)];
    instance
        .get_func(&store, "f")
        .unwrap()
        .call(&mut store, &[], &mut results)
        .unwrap();
    assert!(matches!(results[0], Val::I32(5)));
}

/// Out of address space (here: a child process limited to 3 GiB, less than one GC heap's
/// reservation), `Store::new` still succeeds. The store runs code that allocates nothing;
/// GC allocations fail with an error saying why, and `Store::try_new` reports the problem.
#[test]
fn stores_without_address_space_for_a_gc_heap_still_work() {
    const CHILD: &str = "ENGINE_TEST_LOW_ADDRESS_SPACE";
    if std::env::var_os(CHILD).is_none() {
        let exe = std::env::current_exe().unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 3145728 && exec \"$0\" \"$@\"")
            .arg(exe)
            .args([
                "--exact",
                "stores_without_address_space_for_a_gc_heap_still_work",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let engine = Engine::default();
    let err = Store::try_new(&engine, ()).expect_err("no room for a 4 GiB reservation");
    assert!(format!("{err:#}").contains("GC heap"), "{err:#}");
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module
          (type $p (struct (field i32)))
          (func (export "add") (param i32 i32) (result i32)
            (i32.add (local.get 0) (local.get 1)))
          (func (export "alloc") (result i32)
            (struct.get $p 0 (struct.new $p (i32.const 7)))))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let add = instance
        .get_typed_func::<(i32, i32), i32>(&store, "add")
        .unwrap();
    assert_eq!(add.call(&mut store, (2, 3)).unwrap(), 5);
    let alloc = instance.get_typed_func::<(), i32>(&store, "alloc").unwrap();
    let err = alloc.call(&mut store, ()).unwrap_err();
    assert!(format!("{err:#}").contains("no GC heap"), "{err:#}");
    let err = engine::ExternRef::new(&mut store, 5u32).unwrap_err();
    assert!(format!("{err:#}").contains("no GC heap"), "{err:#}");
    // The store still works after the failures.
    assert_eq!(add.call(&mut store, (4, 5)).unwrap(), 9);
}
