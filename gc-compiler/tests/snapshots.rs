//! Snapshot tests of the barriers' Cranelift IR: each case builds a small function around
//! one barrier, runs the IR verifier, and compares the printed IR with the `.clif` file in
//! `tests/snapshots/`. `BLESS=1 cargo test -p gc-compiler` rewrites the files.

use cranelift_codegen::ir::{
    self, AbiParam, ExtFuncData, ExternalName, Function, InstBuilder, MemFlagsData, Signature,
    TrapCode, UserExternalName, UserFuncName, Value, types::*,
};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::settings;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use gc_compiler::{DrcCompiler, GcCompileEnv, GcCompiler, GcLayouts};
use gc_core::{GcBumpLayout, VMGcKind};

const LAYOUTS: GcLayouts = GcLayouts {
    header_size: 16,
    object_align: 16,
    ref_count_offset: Some(8),
    externref_host_data_offset: 16,
    externref_size: 32,
    bump: Some(GcBumpLayout {
        cursor_offset: 4,
        new_object_kind_bits: 1,
        size_offset: Some(12),
        max_object_size: 512,
    }),
};

/// An environment whose heap base and bound are the function's first two parameters and
/// whose slow path calls an imported function.
struct TestEnv {
    base: Value,
    bound: Value,
    note_zero: Option<ir::FuncRef>,
}

impl GcCompileEnv for TestEnv {
    fn gc_heap_base(&mut self, _b: &mut FunctionBuilder<'_>) -> Value {
        self.base
    }
    fn gc_heap_bound(&mut self, _b: &mut FunctionBuilder<'_>) -> Value {
        self.bound
    }
    fn gc_note_zero_count(&mut self, b: &mut FunctionBuilder<'_>, gc_ref: Value) {
        let f = *self.note_zero.get_or_insert_with(|| {
            let mut sig = Signature::new(CallConv::SystemV);
            sig.params.push(AbiParam::new(I32));
            let signature = b.import_signature(sig);
            let name = b.func.declare_imported_user_function(UserExternalName {
                namespace: 1,
                index: 0,
            });
            b.import_function(ExtFuncData {
                name: ExternalName::User(name),
                signature,
                colocated: false,
                patchable: false,
            })
        });
        b.ins().call(f, &[gc_ref]);
    }
    fn gc_heap_out_of_bounds(&self) -> TrapCode {
        TrapCode::unwrap_user(11)
    }
}

/// Builds `fn(base: i64, bound: i64, addr: i64, value: i32) -> i32` around `body`.
fn build(
    body: impl FnOnce(&mut TestEnv, &mut FunctionBuilder<'_>, Value, Value) -> Option<Value>,
) -> Function {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend([
        AbiParam::new(I64),
        AbiParam::new(I64),
        AbiParam::new(I64),
        AbiParam::new(I32),
    ]);
    sig.returns.push(AbiParam::new(I32));
    let mut func = Function::with_name_signature(UserFuncName::user(0, 0), sig);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let p = b.block_params(entry).to_vec();
    let mut env = TestEnv {
        base: p[0],
        bound: p[1],
        note_zero: None,
    };
    let result = body(&mut env, &mut b, p[2], p[3]);
    let ret = result.unwrap_or_else(|| b.ins().iconst(I32, 0));
    b.ins().return_(&[ret]);
    let isa = cranelift_native::builder()
        .expect("host ISA")
        .finish(settings::Flags::new(settings::builder()))
        .expect("host ISA");
    b.finalize(isa.frontend_config());
    let flags = settings::Flags::new(settings::builder());
    cranelift_codegen::verify_function(&func, &flags).expect("barrier IR verifies");
    func
}

fn check(name: &str, func: &Function) {
    let actual = func.display().to_string();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/snapshots/{name}.clif"));
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with BLESS=1 to create it", path.display()));
    assert_eq!(
        actual, expected,
        "{name}: IR changed; if intended, re-run with BLESS=1"
    );
}

#[test]
fn drc_store_barrier() {
    let drc = DrcCompiler::new(&LAYOUTS, true);
    let func = build(|env, b, addr, value| {
        drc.store_gc_ref(env, b, MemFlagsData::trusted(), addr, 8, value);
        None
    });
    check("drc_store_barrier", &func);
}

#[test]
fn drc_load_has_no_read_barrier() {
    let drc = DrcCompiler::new(&LAYOUTS, true);
    let func =
        build(|env, b, addr, _| Some(drc.load_gc_ref(env, b, MemFlagsData::trusted(), addr, 0)));
    check("drc_load", &func);
    let loads = func
        .layout
        .blocks()
        .flat_map(|bl| func.layout.block_insts(bl))
        .count();
    assert_eq!(loads, 2, "one load and the return: no barrier");
}

#[test]
fn drc_store_barrier_without_bounds_checks() {
    // For heaps that reserve the whole index space: no compare against the bound.
    let drc = DrcCompiler::new(&LAYOUTS, false);
    let func = build(|env, b, addr, value| {
        drc.store_gc_ref(env, b, MemFlagsData::trusted(), addr, 8, value);
        None
    });
    check("drc_store_barrier_unchecked", &func);
    assert!(
        !func.display().to_string().contains("user11"),
        "no heap bounds trap"
    );
}

#[test]
fn drc_bump_allocation() {
    let drc = DrcCompiler::new(&LAYOUTS, true);
    assert!(drc.can_bump_alloc(512));
    assert!(!drc.can_bump_alloc(513), "rounded up past the limit");
    let func = build(|env, b, _, ty| {
        let slow = b.create_block();
        let done = b.create_block();
        b.append_block_param(done, I32);
        let r = drc.emit_bump_alloc(env, b, VMGcKind::StructRef, ty, 40, slow);
        b.ins().jump(done, &[ir::BlockArg::Value(r)]);
        b.seal_block(slow);
        b.switch_to_block(slow);
        let null = b.ins().iconst(I32, 0);
        b.ins().jump(done, &[ir::BlockArg::Value(null)]);
        b.seal_block(done);
        b.switch_to_block(done);
        Some(b.block_params(done)[0])
    });
    check("drc_bump_alloc", &func);
    let text = func.display().to_string();
    assert!(
        text.contains("iconst.i64 48"),
        "size rounded to the alignment:\n{text}"
    );
}
