//! Malformed and invalid input: `Module::new` returns an informative error, never panics,
//! for garbage, truncated binaries, bad text, modules that fail validation, and features
//! the engine does not enable.

use engine::{Config, Engine, Instance, Module, Store, WasmFeatures};

/// A hand-assembled binary of
/// `(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))`.
const ADD_BINARY: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
    0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, // type section
    0x03, 0x02, 0x01, 0x00, // function section
    0x07, 0x07, 0x01, 0x03, b'a', b'd', b'd', 0x00, 0x00, // export section
    0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, // code section
];

/// Compiles `bytes`, expecting failure; returns the full error chain as text.
fn compile_error(bytes: &[u8]) -> String {
    match Module::new(&Engine::default(), bytes) {
        Ok(_) => panic!("{bytes:x?} compiled"),
        Err(err) => format!("{err:#}"),
    }
}

#[test]
fn the_hand_assembled_binary_is_valid() -> anyhow::Result<()> {
    // The truncation tests below rely on it.
    let engine = Engine::default();
    let module = Module::new(&engine, ADD_BINARY)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let add = instance.get_typed_func::<(i32, i32), i32>(&store, "add")?;
    assert_eq!(add.call(&mut store, (20, 22))?, 42);
    Ok(())
}

#[test]
fn garbage_bytes_are_rejected() {
    // With the magic number: a binary with a bad section id.
    let msg = compile_error(b"\0asm\x01\0\0\0\xff\xff\xff\xff");
    assert!(
        msg.contains("failed to parse module") && msg.contains("offset 0x8"),
        "{msg}"
    );

    // Without: read as text, which it is not.
    let msg = compile_error(&[0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
    assert!(msg.contains("utf-8"), "{msg}");
    let msg = compile_error(b"hello world");
    assert!(
        msg.contains("expected `(`") && msg.contains(":1:1"),
        "{msg}"
    );

    // Nothing at all.
    let msg = compile_error(b"");
    assert!(msg.contains("expected"), "{msg}");
}

#[test]
fn bad_header_is_rejected() {
    let msg = compile_error(b"\0asm\x02\0\0\0");
    assert!(
        msg.contains("unknown binary version") && msg.contains("offset 0x4"),
        "{msg}"
    );
    let msg = compile_error(b"\0asm\x01\0");
    assert!(
        msg.contains("unexpected end-of-file") && msg.contains("offset 0x4"),
        "{msg}"
    );
}

#[test]
fn truncated_binary_is_rejected() {
    let msg = compile_error(&ADD_BINARY[..20]);
    assert!(msg.contains("failed to parse module"), "{msg}");
    assert!(msg.contains("unexpected end"), "{msg}");
    assert!(msg.contains("offset 0x"), "{msg}");

    // Cut inside the code section's function body.
    let msg = compile_error(&ADD_BINARY[..ADD_BINARY.len() - 2]);
    assert!(msg.contains("offset 0x"), "{msg}");

    // Cut inside every section (never on a section boundary): always an error.
    let boundaries = [8, 17, 21, 30, ADD_BINARY.len()];
    for len in 9..ADD_BINARY.len() {
        if boundaries.contains(&len) {
            continue;
        }
        let msg = compile_error(&ADD_BINARY[..len]);
        assert!(msg.contains("offset"), "prefix of {len} bytes: {msg}");
    }
}

#[test]
fn header_only_is_the_empty_module() -> anyhow::Result<()> {
    let module = Module::new(&Engine::default(), &ADD_BINARY[..8])?;
    assert_eq!(module.exports().len(), 0);
    assert_eq!(module.imports().len(), 0);
    Ok(())
}

#[test]
fn invalid_text_is_rejected_with_a_location() {
    // Line 1, column 28: the misspelt `resutl`.
    let msg = compile_error(b"(module (func (param i32) (resutl i32)))");
    assert!(msg.contains(":1:28"), "{msg}");
    let msg = compile_error(b"(module (func $f)\n  (func (call $nope)))");
    assert!(msg.contains("nope") && msg.contains(":2:"), "{msg}");
    let msg = compile_error(b"(module");
    assert!(
        msg.contains("expected `)`") && msg.contains(":1:8"),
        "{msg}"
    );
}

#[test]
fn validation_failures_are_rejected() {
    let cases = [
        // Result type mismatch.
        ("(module (func (result i32) i64.const 1))", "type mismatch"),
        // Operand type mismatch.
        (
            "(module (func (result i32) (i32.add (i32.const 1) (f32.const 2))))",
            "type mismatch",
        ),
        // Too few operands.
        ("(module (func (result i32) i32.add))", "type mismatch"),
        // Unknown local, function, memory.
        ("(module (func (result i32) local.get 3))", "unknown local"),
        ("(module (func call 7))", "unknown function"),
        (
            "(module (func (drop (i32.load (i32.const 0)))))",
            "unknown memory",
        ),
        // Writing an immutable global.
        (
            "(module (global i32 (i32.const 0)) (func (global.set 0 (i32.const 1))))",
            "immutable",
        ),
        // A start function with parameters.
        ("(module (func $s (param i32)) (start $s))", "start"),
        // Duplicate export names.
        (
            r#"(module (func (export "a")) (func (export "a")))"#,
            "duplicate export",
        ),
    ];
    for (wat, expected) in cases {
        let msg = compile_error(wat.as_bytes());
        assert!(msg.contains("invalid module"), "{wat}: {msg}");
        assert!(msg.contains(expected), "{wat}: {msg}");
        assert!(msg.contains("offset 0x"), "{wat}: {msg}");
    }
}

#[test]
fn disabled_features_are_rejected() {
    // With SIMD turned off, v128 is invalid.
    let mut config = Config::new();
    config.wasm_features(
        Config::SUPPORTED_FEATURES.difference(WasmFeatures::SIMD | WasmFeatures::RELAXED_SIMD),
    );
    let engine = Engine::new(&config).expect("a subset of the supported features");
    let err = Module::new(
        &engine,
        "(module (func (result v128) v128.const i64x2 0 0))",
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("SIMD"), "{err:#}");

    // With bulk memory turned off, `memory.fill` is invalid.
    let mut config = Config::new();
    config.wasm_features(Config::SUPPORTED_FEATURES.difference(WasmFeatures::BULK_MEMORY));
    let engine = Engine::new(&config).expect("a subset of the supported features");
    let err = Module::new(
        &engine,
        "(module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))",
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("bulk memory"), "{err:#}");
}

#[test]
fn unsupported_features_are_refused_by_the_engine() {
    let mut config = Config::new();
    // Threads (shared memories, atomics) are not implemented.
    config.wasm_features(Config::SUPPORTED_FEATURES | WasmFeatures::THREADS);
    let err = Engine::new(&config).unwrap_err();
    assert!(
        err.to_string().contains("unsupported WebAssembly features"),
        "{err:#}"
    );
    assert!(err.to_string().contains("THREADS"), "{err:#}");
}
