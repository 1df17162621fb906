//! Fuel: this engine charges what Wasmtime 48 charges, operator by operator, so the same
//! fuel stops the same module at the same point in both.

/// Fuel consumed by calling export `f` of the module made of `snippet`, in each engine.
fn consumed(snippet: &str) -> (u64, u64) {
    let wat = format!("(module {snippet})");
    let mut config = wasmtime::Config::new();
    config
        .consume_fuel(true)
        .wasm_gc(true)
        .wasm_function_references(true);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let module = wasmtime::Module::new(&engine, &wat).unwrap();
    let mut store = wasmtime::Store::new(&engine, ());
    let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_func(&mut store, "f").unwrap();
    let mut results = vec![wasmtime::Val::I32(0); f.ty(&store).results().len()];
    store.set_fuel(100_000).unwrap();
    f.call(&mut store, &[], &mut results).unwrap();
    let theirs = 100_000 - store.get_fuel().unwrap();

    let mut config = engine::Config::new();
    config.consume_fuel(true);
    let engine = engine::Engine::new(&config).unwrap();
    let module = engine::Module::new(&engine, &wat).unwrap();
    let mut store = engine::Store::new(&engine, ());
    let instance = engine::Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_func(&store, "f").unwrap();
    let mut results = vec![engine::Val::I32(0); f.ty(&store).results().len()];
    store.set_fuel(100_000).unwrap();
    f.call(&mut store, &[], &mut results).unwrap();
    let ours = 100_000 - store.get_fuel().unwrap();
    (theirs, ours)
}

#[test]
fn every_operator_costs_what_it_costs_in_wasmtime() {
    let snippets = [
        "(func (export \"f\"))",
        "(func (export \"f\") (result i32) i32.const 1)",
        "(func (export \"f\") (result i32) (i32.add (i32.const 1) (i32.const 2)))",
        "(func (export \"f\") (result i32) (i32.const 1) (return))",
        "(func (export \"f\") (block) (loop) (nop))",
        "(func (export \"f\") (block (br 0)))",
        "(func (export \"f\") (block (br_if 0 (i32.const 1))))",
        "(func (export \"f\") (if (i32.const 1) (then (nop))))",
        "(func (export \"f\") (if (i32.const 0) (then (nop)) (else (nop))))",
        "(func $g) (func (export \"f\") (call $g))",
        "(func (export \"f\") (local i32) (local.set 0 (i32.const 1)) (drop (local.get 0)))",
        "(func (export \"f\") (block (br_table 0 0 (i32.const 0))))",
        "(func (export \"f\") (drop (select (i32.const 1) (i32.const 2) (i32.const 3))))",
        "(global (mut i32) (i32.const 0)) (func (export \"f\") (global.set 0 (i32.const 1)))",
        "(func (export \"f\") (loop (br_if 0 (i32.const 0))))",
        "(func (export \"f\") (result i32) (block (result i32) (i32.const 1) (br 0)))",
        "(func (export \"f\") (block (return)))",
        "(func $g (result i32) (i32.const 1)) (func (export \"f\") (result i32) (call $g))",
        "(func $g) (func (export \"f\") (return_call $g))",
        "(type $t (func)) (table 1 funcref) (elem (i32.const 0) $g) (func $g) (func (export \"f\") (call_indirect (type $t) (i32.const 0)))",
        "(memory 1) (func (export \"f\") (memory.fill (i32.const 0) (i32.const 1) (i32.const 100)))",
        "(memory 1) (func (export \"f\") (memory.fill (i32.const 0) (i32.const 1) (i32.const 1000)))",
        "(memory 1) (func (export \"f\") (memory.fill (i32.const 0) (i32.const 1) (i32.const 300)) (memory.copy (i32.const 0) (i32.const 5) (i32.const 200)))",
        "(memory 1) (func (export \"f\") (drop (memory.grow (i32.const 1))))",
        "(table 1 funcref) (func (export \"f\") (drop (table.grow (ref.null func) (i32.const 5))))",
        "(type $a (array (mut i8))) (func (export \"f\") (drop (array.new_default $a (i32.const 50))))",
        "(type $a (array (mut i8))) (func (export \"f\") (drop (array.new $a (i32.const 1) (i32.const 500))))",
        "(type $a (array (mut i8))) (func (export \"f\") (array.fill $a (array.new_default $a (i32.const 10)) (i32.const 0) (i32.const 1) (i32.const 10)))",
        "(type $s (struct (field i32))) (func (export \"f\") (drop (struct.new $s (i32.const 1))))",
        "(func (export \"f\") (local i32) (local.set 0 (i32.const 3)) (loop (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))",
    ];
    let mut differ = Vec::new();
    for snippet in snippets {
        let (theirs, ours) = consumed(snippet);
        if theirs != ours {
            differ.push(format!("{snippet}: Wasmtime {theirs}, this engine {ours}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
