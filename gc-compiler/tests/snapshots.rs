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
use gc_compiler::{
    DrcCompiler, GcCompileEnv, GcCompiler, GcLayouts, GcRefKind, GcSize, NullCompiler,
};
use gc_core::VMGcKind;

const LAYOUTS: GcLayouts = gc_core::DRC_LAYOUTS;

/// An environment whose heap base and bound are the function's first two parameters and
/// whose slow path calls an imported function.
struct TestEnv {
    base: Value,
    bound: Value,
    slow_path: Option<ir::FuncRef>,
    alloc: Option<ir::FuncRef>,
}

/// Imports function `index` of `params` and `returns`.
fn import(
    b: &mut FunctionBuilder<'_>,
    index: u32,
    params: &[ir::Type],
    returns: &[ir::Type],
) -> ir::FuncRef {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
    sig.returns
        .extend(returns.iter().map(|&t| AbiParam::new(t)));
    let signature = b.import_signature(sig);
    let name = b.func.declare_imported_user_function(UserExternalName {
        namespace: 1,
        index,
    });
    b.import_function(ExtFuncData {
        name: ExternalName::User(name),
        signature,
        colocated: false,
        patchable: false,
    })
}

impl GcCompileEnv for TestEnv {
    fn gc_heap_base(&mut self, _b: &mut FunctionBuilder<'_>) -> Value {
        self.base
    }
    fn gc_heap_bound(&mut self, _b: &mut FunctionBuilder<'_>) -> Value {
        self.bound
    }
    fn gc_barrier_slow_path(&mut self, b: &mut FunctionBuilder<'_>, refs: [Value; 2]) {
        let f = *self
            .slow_path
            .get_or_insert_with(|| import(b, 0, &[I32, I32], &[]));
        b.ins().call(f, &refs);
    }
    fn gc_externalize(&mut self, b: &mut FunctionBuilder<'_>, r: Value) {
        let f = *self
            .slow_path
            .get_or_insert_with(|| import(b, 0, &[I32, I32], &[]));
        let null = b.ins().iconst(I32, 0);
        b.ins().call(f, &[r, null]);
    }
    fn gc_alloc_slow(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        kind: VMGcKind,
        ty: Value,
        size: Value,
    ) -> Value {
        let f = *self
            .alloc
            .get_or_insert_with(|| import(b, 1, &[I32, I64, I32], &[I32]));
        let kind = b.ins().iconst(I32, i64::from(kind as u32));
        let call = b.ins().call(f, &[ty, size, kind]);
        b.inst_results(call)[0]
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
        slow_path: None,
        alloc: None,
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
        drc.store_gc_ref(
            env,
            b,
            MemFlagsData::trusted(),
            addr,
            8,
            value,
            GcRefKind::ANY,
            None,
        );
        None
    });
    check("drc_store_barrier", &func);
}

/// Counts the instructions of `func` whose printed form contains `what`.
fn count(func: &Function, what: &str) -> usize {
    func.display()
        .to_string()
        .lines()
        .filter(|l| l.contains(what))
        .count()
}

#[test]
fn drc_barriers_use_the_static_type() {
    let drc = DrcCompiler::new(&LAYOUTS, false);
    // A `(ref $struct)` slot: neither null nor i31, so no tests before the counts.
    let exact = GcRefKind {
        nullable: false,
        may_be_i31: false,
        may_be_young: true,
    };
    let func = build(|env, b, addr, value| {
        drc.store_gc_ref(env, b, MemFlagsData::trusted(), addr, 8, value, exact, None);
        None
    });
    check("drc_store_barrier_non_null_object", &func);
    assert_eq!(
        count(&func, "band"),
        2,
        "no i31 tag test: only the new value's young test and the old one's ZCT test"
    );
    // A nullable slot of objects: the null tests stay, the tag tests go.
    let nullable = GcRefKind {
        nullable: true,
        may_be_i31: false,
        may_be_young: true,
    };
    let func = build(|env, b, addr, value| {
        drc.store_gc_ref(
            env,
            b,
            MemFlagsData::trusted(),
            addr,
            8,
            value,
            nullable,
            None,
        );
        None
    });
    assert_eq!(
        count(&func, "band"),
        2,
        "no i31 tag test: only the new value's young test and the old one's ZCT test"
    );
    // Storing the constant null increments nothing: one count update (the old value's).
    let func = build(|env, b, addr, _| {
        let null = b.ins().iconst(I32, 0);
        drc.store_gc_ref(
            env,
            b,
            MemFlagsData::trusted(),
            addr,
            8,
            null,
            GcRefKind::ANY,
            None,
        );
        None
    });
    let increments = func
        .display()
        .to_string()
        .lines()
        .filter(|l| l.contains(" = iadd ") && l.trim_end().ends_with("= 1"))
        .count();
    assert_eq!(increments, 0, "no increment:\n{}", func.display());
    assert_eq!(
        count(&func, "= -1"),
        1,
        "only the decrement:\n{}",
        func.display()
    );
    // Every store first compares old and new: equal, nothing else happens.
    assert_eq!(count(&func, "icmp eq"), 1);
    assert_eq!(count(&func, "call"), 1, "one cold runtime call");
}

#[test]
fn drc_stores_into_young_objects_are_plain() {
    let drc = DrcCompiler::new(&LAYOUTS, false);
    // A field of `value`'s own object: a young object takes a plain store, an old one the
    // barrier.
    let func = build(|env, b, addr, value| {
        drc.store_gc_ref(
            env,
            b,
            MemFlagsData::trusted(),
            addr,
            8,
            value,
            GcRefKind::ANY,
            Some(value),
        );
        None
    });
    check("drc_store_barrier_into_object", &func);
    let text = func.display().to_string();
    let young = format!("= {}", gc_core::DrcHeader::YOUNG);
    assert!(
        text.lines()
            .any(|l| l.contains(" band ") && l.trim_end().ends_with(&young)),
        "the object's young bit is tested:\n{text}"
    );
    assert_eq!(
        count(&func, "store"),
        11,
        "plain store; barrier store and both counts; the old count in the cold path of a \
         full log; entry, cursor and flag for each of the two inline log appends"
    );
    // Initialising a new (young) object's field: one plain store, nothing else.
    let func = build(|env, b, addr, value| {
        drc.init_gc_ref(
            env,
            b,
            MemFlagsData::trusted(),
            addr,
            8,
            value,
            GcRefKind::ANY,
            value,
        );
        None
    });
    assert_eq!(func.layout.blocks().count(), 1, "no branches");
    assert_eq!(count(&func, "store"), 1);
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
        drc.store_gc_ref(
            env,
            b,
            MemFlagsData::trusted(),
            addr,
            8,
            value,
            GcRefKind::ANY,
            None,
        );
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
    let func =
        build(|env, b, _, ty| Some(drc.alloc(env, b, VMGcKind::StructRef, ty, GcSize::Const(40))));
    check("drc_bump_alloc", &func);
    let text = func.display().to_string();
    assert!(
        text.contains("iconst.i64 48"),
        "size rounded to the alignment:\n{text}"
    );
    let large =
        build(|env, b, _, ty| Some(drc.alloc(env, b, VMGcKind::StructRef, ty, GcSize::Const(513))));
    assert!(
        !large.display().to_string().contains("load.i32"),
        "larger than the inline limit: only the runtime call"
    );
}

#[test]
fn null_collector_has_no_barriers() {
    let null = NullCompiler::new(&gc_core::NULL_LAYOUTS, false);
    let func = build(|env, b, addr, value| {
        null.store_gc_ref(
            env,
            b,
            MemFlagsData::trusted(),
            addr,
            8,
            value,
            GcRefKind::ANY,
            None,
        );
        Some(null.load_gc_ref(env, b, MemFlagsData::trusted(), addr, 8))
    });
    check("null_store_load", &func);
    assert_eq!(
        func.layout.blocks().count(),
        1,
        "straight-line: no barrier branches"
    );
}
