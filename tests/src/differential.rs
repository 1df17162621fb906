//! Differential execution: run one module in two engines (or two configurations of one)
//! with the same inputs, and compare everything observable.
//!
//! An [`Oracle`] compiles a module, instantiates it without imports, calls every exported
//! function in export order with arguments derived from the case's seed ([`arg`]), and
//! records an [`Execution`]: each call's results or trap, then the exported globals,
//! memories (size and a hash of the bytes) and tables. [`compare`] says where two
//! executions differ, with the rules an engine-neutral comparison needs:
//!
//! - NaN results compare equal whatever their bits (the spec leaves NaN payloads open);
//! - references compare by shape: null, i31 value, function, host reference, and struct
//!   and array contents to a small depth (identities cannot be compared across engines);
//! - traps compare by [`TrapKind`], where both engines' codes are mapped;
//! - a trap that depends on engine limits rather than semantics (stack overflow, heap
//!   exhaustion) is *inconclusive*: the engines need not agree on it, and the execution
//!   stops there, since later calls would see different states.
//!
//! This engine's side is [`ThisEngine`]; Wasmtime's lives in the `fuzz/` workspace, which
//! the main workspace never builds. The seeded smoke test (`tests/tests/differential.rs`)
//! compares this engine with itself in GC stress mode.

use anyhow::Result;
use arbitrary::Unstructured;
use std::fmt;
use std::hash::{Hash, Hasher};

/// How a case is generated and run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Plan {
    /// Arguments are derived from this.
    pub seed: u64,
    /// If set, every call gets this much fuel, and the fuel each call consumed is compared.
    pub fuel: Option<u64>,
}

/// A value as both engines can report it.
#[derive(Clone, Debug)]
pub enum Value {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as its bits.
    F32(u32),
    /// An `f64`, as its bits.
    F64(u64),
    /// A `v128`.
    V128(u128),
    /// A reference, by shape.
    Ref(Shape),
}

/// What a reference looks like from the host, identity aside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Null.
    Null,
    /// A function.
    Func,
    /// A host reference (`externref` from the host, or an internal one converted with
    /// `extern.convert_any`, which the engines may tell apart).
    Extern,
    /// An `i31ref` with this value (sign-extended).
    I31(i32),
    /// A struct with these fields (`None` past the depth limit).
    Struct(Option<Vec<Value>>),
    /// An array of this length, with its first elements (`None` past the depth limit).
    Array(u32, Option<Vec<Value>>),
    /// Some other `any` reference.
    Any,
    /// An exception.
    Exn,
}

/// How deep struct and array contents are compared.
pub const SHAPE_DEPTH: u32 = 2;
/// How many elements of an array are compared.
pub const SHAPE_ELEMS: u32 = 8;

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::I32(a), Value::I32(b)) => a == b,
            (Value::I64(a), Value::I64(b)) => a == b,
            (Value::F32(a), Value::F32(b)) => {
                a == b || (f32::from_bits(*a).is_nan() && f32::from_bits(*b).is_nan())
            }
            (Value::F64(a), Value::F64(b)) => {
                a == b || (f64::from_bits(*a).is_nan() && f64::from_bits(*b).is_nan())
            }
            (Value::V128(a), Value::V128(b)) => a == b,
            (Value::Ref(a), Value::Ref(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

/// Why a call trapped, in terms both engines map to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrapKind {
    /// `unreachable` (also what wasm-smith's termination fuel raises).
    Unreachable,
    /// A linear-memory access out of bounds.
    MemoryOutOfBounds,
    /// A table access out of bounds, including `call_indirect` past the table's end.
    TableOutOfBounds,
    /// `call_indirect` of a null entry.
    IndirectCallToNull,
    /// `call_indirect` with the wrong type.
    BadSignature,
    /// Integer division by zero.
    IntegerDivisionByZero,
    /// Integer overflow (division or truncation).
    IntegerOverflow,
    /// Float-to-integer conversion of NaN.
    BadConversionToInteger,
    /// Any null dereference (`ref.as_non_null`, `call_ref`, struct, array, i31 access).
    NullReference,
    /// A failed `ref.cast`.
    CastFailure,
    /// An array access out of bounds.
    ArrayOutOfBounds,
    /// Fuel ran out.
    OutOfFuel,
    /// The call stack ran out (inconclusive).
    StackOverflow,
    /// An allocation failed: too large, or no room (inconclusive).
    HeapExhausted,
    /// A Wasm exception escaped, uncaught, with this payload.
    Exception(Vec<Value>),
    /// Anything else, by its message.
    Other(String),
}

impl TrapKind {
    /// Whether the trap depends on engine limits, not on the module's semantics.
    pub fn is_inconclusive(&self) -> bool {
        matches!(self, TrapKind::StackOverflow | TrapKind::HeapExhausted)
    }
}

/// What one call did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// It returned these values; `fuel` is what it consumed, when metered.
    Returned {
        /// The results.
        values: Vec<Value>,
        /// Fuel consumed, with [`Plan::fuel`].
        fuel: Option<u64>,
    },
    /// It trapped.
    Trapped(TrapKind),
    /// It was not called: a parameter has no value the harness can make (a non-nullable
    /// reference).
    NotCalled,
}

/// Everything observable about running one module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Execution {
    /// Compilation: `Err` with the message if the module was rejected.
    pub compiled: Option<Result<(), String>>,
    /// Instantiation: `Err` with the trap if it trapped, `Ok` otherwise.
    pub instantiated: Option<Result<(), TrapKind>>,
    /// The calls made, by export name.
    pub calls: Vec<(String, CallOutcome)>,
    /// Whether execution stopped early at an inconclusive trap.
    pub stopped: bool,
    /// The exported globals' final values.
    pub globals: Vec<(String, Value)>,
    /// The exported memories' final sizes (bytes) and contents' hashes.
    pub memories: Vec<(String, u64, u64)>,
    /// The exported tables' final sizes and first elements' shapes.
    pub tables: Vec<(String, u64, Vec<Shape>)>,
}

/// How many table elements are compared.
pub const TABLE_ELEMS: u64 = 64;

/// A hash of memory contents (deterministic across processes).
pub fn memory_hash(bytes: &[u8]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// An engine that runs cases: it compiles and instantiates, and [`execute`] drives the
/// resulting [`Session`].
pub trait Oracle {
    /// The engine's name, for messages.
    fn name(&self) -> String;
    /// Compiles and instantiates `wasm` without imports (instantiation runs unmetered);
    /// the execution so far if either fails.
    fn instantiate(&mut self, wasm: &[u8], plan: &Plan)
    -> Result<Box<dyn Session>, Box<Execution>>;
}

/// What an export is, as far as running a case goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// A function with these parameter types.
    Func(Vec<ArgType>),
    /// A global.
    Global,
    /// A linear memory.
    Memory,
    /// A table.
    Table,
    /// Anything else (a tag).
    Other,
}

/// One instance of a case in one engine: the operations [`execute`] needs. Exports are
/// named by their position among the instance's exports.
pub trait Session {
    /// The exports, in order.
    fn exports(&mut self) -> Vec<(String, ExportKind)>;
    /// Calls function export `index` with `args`, metered with `fuel` if set.
    fn call(&mut self, index: usize, args: &[Value], fuel: Option<u64>) -> CallOutcome;
    /// Global export `index`'s value.
    fn global(&mut self, index: usize) -> Value;
    /// Memory export `index`'s size in bytes and the hash of its contents.
    fn memory(&mut self, index: usize) -> (u64, u64);
    /// Table export `index`'s size and the shapes of its first [`TABLE_ELEMS`] elements.
    fn table(&mut self, index: usize) -> (u64, Vec<Shape>);
}

/// Runs `wasm` in `oracle` as `plan` says: every exported function in export order with
/// arguments from the seed (stopping at an inconclusive trap), then the exported state.
pub fn execute(oracle: &mut dyn Oracle, wasm: &[u8], plan: &Plan) -> Execution {
    let mut session = match oracle.instantiate(wasm, plan) {
        Ok(session) => session,
        Err(exec) => return *exec,
    };
    let mut exec = Execution {
        compiled: Some(Ok(())),
        instantiated: Some(Ok(())),
        ..Execution::default()
    };
    let exports = session.exports();
    for (i, (name, kind)) in exports.iter().enumerate() {
        let ExportKind::Func(params) = kind else {
            continue;
        };
        let args: Option<Vec<Value>> = params
            .iter()
            .enumerate()
            .map(|(p, &t)| arg(plan.seed, i, p, t))
            .collect();
        let outcome = match args {
            Some(args) => session.call(i, &args, plan.fuel),
            None => CallOutcome::NotCalled,
        };
        let stop = matches!(&outcome, CallOutcome::Trapped(t) if t.is_inconclusive());
        exec.calls.push((name.clone(), outcome));
        if stop {
            exec.stopped = true;
            return exec;
        }
    }
    for (i, (name, kind)) in exports.into_iter().enumerate() {
        match kind {
            ExportKind::Global => exec.globals.push((name, session.global(i))),
            ExportKind::Memory => {
                let (size, hash) = session.memory(i);
                exec.memories.push((name, size, hash));
            }
            ExportKind::Table => {
                let (size, elems) = session.table(i);
                exec.tables.push((name, size, elems));
            }
            ExportKind::Func(_) | ExportKind::Other => {}
        }
    }
    exec
}

/// The type of a parameter, as far as making an argument goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `v128`.
    V128,
    /// A nullable reference: the argument is null.
    NullableRef,
    /// A non-nullable reference: no argument can be made.
    NonNullRef,
}

/// The argument for parameter `param` of the `func`-th exported function: interesting
/// values (0, ±1, extremes, NaN, infinities) and pseudo-random ones, from `seed`. `None`
/// for a non-nullable reference.
pub fn arg(seed: u64, func: usize, param: usize, ty: ArgType) -> Option<Value> {
    let r = mix(seed ^ mix((func as u64) << 32 | param as u64));
    let pick = r % 8;
    let bits = mix(r);
    Some(match ty {
        ArgType::I32 => Value::I32(match pick {
            0 => 0,
            1 => 1,
            2 => -1,
            3 => i32::MIN,
            4 => i32::MAX,
            5 => (bits % 64) as i32,
            _ => bits as i32,
        }),
        ArgType::I64 => Value::I64(match pick {
            0 => 0,
            1 => 1,
            2 => -1,
            3 => i64::MIN,
            4 => i64::MAX,
            5 => (bits % 64) as i64,
            _ => bits as i64,
        }),
        ArgType::F32 => Value::F32(match pick {
            0 => 0f32.to_bits(),
            1 => (-0f32).to_bits(),
            2 => f32::NAN.to_bits(),
            3 => f32::INFINITY.to_bits(),
            4 => 1.5f32.to_bits(),
            5 => ((bits % 1000) as f32 - 500.0).to_bits(),
            _ => bits as u32,
        }),
        ArgType::F64 => Value::F64(match pick {
            0 => 0f64.to_bits(),
            1 => (-0f64).to_bits(),
            2 => f64::NAN.to_bits(),
            3 => f64::NEG_INFINITY.to_bits(),
            4 => 1.5f64.to_bits(),
            5 => ((bits % 1000) as f64 - 500.0).to_bits(),
            _ => bits,
        }),
        ArgType::V128 => Value::V128(u128::from(bits) << 64 | u128::from(mix(bits))),
        ArgType::NullableRef => Value::Ref(Shape::Null),
        ArgType::NonNullRef => return None,
    })
}

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Where two executions differ.
#[derive(Clone, Debug)]
pub struct Divergence {
    /// What differs (the phase, the export).
    pub what: String,
    /// The first engine's account.
    pub left: String,
    /// The second engine's account.
    pub right: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} vs {}", self.what, self.left, self.right)
    }
}

fn diverge(what: impl Into<String>, l: &impl fmt::Debug, r: &impl fmt::Debug) -> Divergence {
    Divergence {
        what: what.into(),
        left: format!("{l:?}"),
        right: format!("{r:?}"),
    }
}

/// Compares two executions of one case; `Ok` if they agree (up to inconclusive traps).
pub fn compare(l: &Execution, r: &Execution) -> Result<(), Divergence> {
    match (&l.compiled, &r.compiled) {
        (Some(Ok(())), Some(Ok(()))) => {}
        (Some(Err(_)), Some(Err(_))) => return Ok(()),
        (a, b) => return Err(diverge("compilation", a, b)),
    }
    match (&l.instantiated, &r.instantiated) {
        (Some(Ok(())), Some(Ok(()))) => {}
        (Some(Err(a)), Some(Err(b))) if a == b => return Ok(()),
        (Some(Err(a)), _) | (_, Some(Err(a))) if a.is_inconclusive() => return Ok(()),
        (a, b) => return Err(diverge("instantiation", a, b)),
    }
    for ((name, a), (name_b, b)) in l.calls.iter().zip(&r.calls) {
        if name != name_b {
            return Err(diverge("export order", name, name_b));
        }
        let inconclusive =
            |o: &CallOutcome| matches!(o, CallOutcome::Trapped(t) if t.is_inconclusive());
        if inconclusive(a) || inconclusive(b) {
            // The engines' limits differ; nothing after this is comparable.
            return Ok(());
        }
        if a != b {
            return Err(diverge(format!("call `{name}`"), a, b));
        }
    }
    if l.stopped || r.stopped {
        return Ok(());
    }
    if l.calls.len() != r.calls.len() {
        return Err(diverge("number of calls", &l.calls.len(), &r.calls.len()));
    }
    if l.globals != r.globals {
        return Err(diverge("final globals", &l.globals, &r.globals));
    }
    if l.memories != r.memories {
        return Err(diverge("final memories", &l.memories, &r.memories));
    }
    if l.tables != r.tables {
        return Err(diverge("final tables", &l.tables, &r.tables));
    }
    Ok(())
}

/// The features both engines are fuzzed with (beyond Wasm 2.0 without SIMD, typed function
/// references, tail calls, extended constants and multiple memories, always on), and how
/// long cases may run.
#[derive(Clone, Copy, Debug)]
pub struct Features {
    /// The GC proposal (structs, arrays, i31, casts).
    pub gc: bool,
    /// Exception handling.
    pub exceptions: bool,
    /// The loop iterations and calls a case may make before wasm-smith's termination fuel
    /// traps with `unreachable`.
    pub termination_fuel: u32,
}

/// The wasm-smith configuration for differential cases: this engine's features, no
/// imports, small memories and tables, everything exported.
pub fn smith_config(features: Features) -> wasm_smith::Config {
    wasm_smith::Config {
        gc_enabled: features.gc,
        exceptions_enabled: features.exceptions,
        max_type_size: 200,
        // Memories of a few pages: filling and growing them is most of a case's time
        // otherwise.
        max_memory32_bytes: 4 << 16,
        max_memory64_bytes: 4 << 16,
        // Relaxed SIMD may differ between engines by design (the spec lets each host
        // choose), so it is not compared.
        relaxed_simd_enabled: false,
        ..crate::fuzz::smith_config()
    }
}

/// Builds the module of a case from fuzzer bytes: wasm-smith's, with every loop and call
/// charged against a fuel global so it terminates the same way in every engine. `None` if
/// the bytes run out.
pub fn generate(data: &[u8], features: Features) -> Option<Vec<u8>> {
    let mut u = Unstructured::new(data);
    let mut module = wasm_smith::Module::new(smith_config(features), &mut u).ok()?;
    module.ensure_termination(features.termination_fuel).ok()?;
    Some(module.to_bytes())
}

/// The most bytes a linear memory or the GC heap may grow to in either engine: arrays of
/// hundreds of megabytes (which wasm-smith likes to make) exhaust the heap at once instead
/// of being zeroed page by page, and `memory.grow` fails the same way in both.
pub const GC_HEAP_LIMIT: usize = 32 << 20;

/// The most elements a table may have in either engine: this engine's implementation limit,
/// which Wasmtime has no counterpart for.
pub const TABLE_LIMIT: usize = 10_000_000;

/// This engine as an oracle, in normal or GC stress mode.
pub struct ThisEngine {
    engine: engine::Engine,
    stress: bool,
}

impl ThisEngine {
    /// An oracle with the default configuration, plus GC stress mode if `gc_stress` and fuel
    /// metering if `fuel`.
    pub fn new(gc_stress: bool, fuel: bool) -> Result<ThisEngine> {
        let mut config = engine::Config::new();
        config
            .gc_stress(gc_stress)
            .consume_fuel(fuel)
            .gc_heap_max_size(GC_HEAP_LIMIT);
        Ok(ThisEngine {
            engine: engine::Engine::new(&config)?,
            stress: gc_stress,
        })
    }
}

/// This engine's trap (or uncaught exception, whose payload is read from `store`) as a
/// [`TrapKind`].
fn this_trap_kind(store: &mut Store, err: &anyhow::Error) -> TrapKind {
    use engine::Trap;
    if let Some(thrown) = err.downcast_ref::<engine::ThrownException>() {
        let exn = thrown.exn();
        let payload = (0..exn.fields_len(&*store))
            .map(|i| {
                let v = exn.field(&mut *store, i).expect("field in range");
                shape_of(store, &v, SHAPE_DEPTH)
            })
            .collect();
        return TrapKind::Exception(payload);
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::Unreachable) => TrapKind::Unreachable,
        Some(Trap::MemoryOutOfBounds) => TrapKind::MemoryOutOfBounds,
        Some(Trap::TableOutOfBounds | Trap::UndefinedElement) => TrapKind::TableOutOfBounds,
        Some(Trap::UninitializedElement) => TrapKind::IndirectCallToNull,
        Some(Trap::IndirectCallTypeMismatch) => TrapKind::BadSignature,
        Some(Trap::IntegerDivisionByZero) => TrapKind::IntegerDivisionByZero,
        Some(Trap::IntegerOverflow) => TrapKind::IntegerOverflow,
        Some(Trap::BadConversionToInteger) => TrapKind::BadConversionToInteger,
        Some(
            Trap::NullReference
            | Trap::NullFunctionReference
            | Trap::NullI31Reference
            | Trap::NullStructReference
            | Trap::NullArrayReference
            | Trap::NullExceptionReference,
        ) => TrapKind::NullReference,
        Some(Trap::CastFailure) => TrapKind::CastFailure,
        Some(Trap::ArrayOutOfBounds) => TrapKind::ArrayOutOfBounds,
        Some(Trap::OutOfFuel) => TrapKind::OutOfFuel,
        Some(Trap::StackOverflow) => TrapKind::StackOverflow,
        Some(Trap::AllocationTooLarge | Trap::GcHeapOutOfMemory) => TrapKind::HeapExhausted,
        _ => TrapKind::Other(format!("{err:#}")),
    }
}

/// The store type of this engine's cases.
type Store = engine::Store<engine::StoreLimits>;

fn arg_type(t: &engine::ValType) -> ArgType {
    use engine::ValType;
    match t {
        ValType::I32 => ArgType::I32,
        ValType::I64 => ArgType::I64,
        ValType::F32 => ArgType::F32,
        ValType::F64 => ArgType::F64,
        ValType::V128 => ArgType::V128,
        ValType::Ref(r) if r.is_nullable() => ArgType::NullableRef,
        ValType::Ref(_) => ArgType::NonNullRef,
    }
}

fn to_val(v: &Value, ty: &engine::ValType) -> engine::Val {
    use engine::{HeapType, Val, ValType};
    match (v, ty) {
        (Value::I32(x), _) => Val::I32(*x),
        (Value::I64(x), _) => Val::I64(*x),
        (Value::F32(x), _) => Val::F32(*x),
        (Value::F64(x), _) => Val::F64(*x),
        (Value::V128(x), _) => Val::V128(*x),
        (Value::Ref(_), ValType::Ref(r)) => match r.heap_type().top() {
            HeapType::Func => Val::FuncRef(None),
            HeapType::Extern => Val::ExternRef(None),
            HeapType::Exn => Val::ExnRef(None),
            _ => Val::AnyRef(None),
        },
        (Value::Ref(_), _) => unreachable!("reference arguments have reference types"),
    }
}

fn shape_of(store: &mut Store, v: &engine::Val, depth: u32) -> Value {
    use engine::Val;
    match v {
        Val::I32(x) => Value::I32(*x),
        Val::I64(x) => Value::I64(*x),
        Val::F32(x) => Value::F32(*x),
        Val::F64(x) => Value::F64(*x),
        Val::V128(x) => Value::V128(*x),
        Val::FuncRef(f) => Value::Ref(if f.is_some() {
            Shape::Func
        } else {
            Shape::Null
        }),
        Val::ExternRef(e) => Value::Ref(if e.is_some() {
            Shape::Extern
        } else {
            Shape::Null
        }),
        Val::AnyRef(None) => Value::Ref(Shape::Null),
        Val::AnyRef(Some(a)) => Value::Ref(any_shape(store, a, depth)),
        Val::ExnRef(e) => Value::Ref(if e.is_some() { Shape::Exn } else { Shape::Null }),
        _ => Value::Ref(Shape::Any),
    }
}

fn any_shape(store: &mut Store, a: &engine::AnyRef, depth: u32) -> Shape {
    if let Some(i) = a.as_i31() {
        return Shape::I31(i.get_i32());
    }
    if let Some(s) = a.as_struct(&*store) {
        if depth == 0 {
            return Shape::Struct(None);
        }
        let fields = (0..s.fields_len(&*store))
            .map(|i| {
                let v = s.field(&mut *store, i).expect("field in range");
                shape_of(store, &v, depth - 1)
            })
            .collect();
        return Shape::Struct(Some(fields));
    }
    if let Some(arr) = a.as_array(&*store) {
        let len = arr.len(&*store);
        if depth == 0 {
            return Shape::Array(len, None);
        }
        let elems = (0..len.min(SHAPE_ELEMS))
            .map(|i| {
                let v = arr.get(&mut *store, i).expect("element in range");
                shape_of(store, &v, depth - 1)
            })
            .collect();
        return Shape::Array(len, Some(elems));
    }
    Shape::Any
}

impl Oracle for ThisEngine {
    fn name(&self) -> String {
        if self.stress {
            "this engine (GC stress)".to_owned()
        } else {
            "this engine".to_owned()
        }
    }

    fn instantiate(
        &mut self,
        wasm: &[u8],
        plan: &Plan,
    ) -> Result<Box<dyn Session>, Box<Execution>> {
        use engine::{Instance, Module};
        let mut exec = Execution::default();
        let module = match Module::from_binary(&self.engine, wasm) {
            Ok(m) => m,
            Err(e) => {
                exec.compiled = Some(Err(format!("{e:#}")));
                return Err(Box::new(exec));
            }
        };
        exec.compiled = Some(Ok(()));
        let limits = engine::StoreLimitsBuilder::new()
            .memory_size(GC_HEAP_LIMIT)
            .gc_heap_size(GC_HEAP_LIMIT)
            .build();
        let mut store = Store::new(&self.engine, limits);
        store.limiter(|l| l);
        if plan.fuel.is_some() {
            store.set_fuel(u64::MAX).expect("fuel is configured");
        }
        match Instance::new(&mut store, &module, &[]) {
            Ok(instance) => {
                let exports = instance.exports(&store);
                Ok(Box::new(ThisSession { store, exports }))
            }
            Err(e) => {
                exec.instantiated = Some(Err(this_trap_kind(&mut store, &e)));
                Err(Box::new(exec))
            }
        }
    }
}

/// An instance of a case in this engine.
struct ThisSession {
    store: Store,
    exports: Vec<(String, engine::Extern)>,
}

impl Session for ThisSession {
    fn exports(&mut self) -> Vec<(String, ExportKind)> {
        use engine::Extern;
        self.exports
            .iter()
            .map(|(name, e)| {
                let kind = match e {
                    Extern::Func(f) => {
                        ExportKind::Func(f.ty(&self.store).params().iter().map(arg_type).collect())
                    }
                    Extern::Global(_) => ExportKind::Global,
                    Extern::Memory(_) => ExportKind::Memory,
                    Extern::Table(_) => ExportKind::Table,
                    Extern::Tag(_) => ExportKind::Other,
                };
                (name.clone(), kind)
            })
            .collect()
    }

    fn call(&mut self, index: usize, args: &[Value], fuel: Option<u64>) -> CallOutcome {
        let Some(engine::Extern::Func(func)) = self.exports.get(index).map(|e| e.1) else {
            unreachable!("called a function export");
        };
        let store = &mut self.store;
        let ty = func.ty(&*store);
        let args: Vec<engine::Val> = args
            .iter()
            .zip(ty.params())
            .map(|(v, t)| to_val(v, t))
            .collect();
        let mut results: Vec<engine::Val> =
            ty.results().iter().map(engine::Val::default_for).collect();
        if let Some(fuel) = fuel {
            store.set_fuel(fuel).expect("fuel is configured");
        }
        match func.call(&mut *store, &args, &mut results) {
            Ok(()) => CallOutcome::Returned {
                values: results
                    .iter()
                    .map(|v| shape_of(store, v, SHAPE_DEPTH))
                    .collect(),
                fuel: fuel.map(|f| f - store.get_fuel().expect("fuel is configured")),
            },
            Err(e) => CallOutcome::Trapped(this_trap_kind(store, &e)),
        }
    }

    fn global(&mut self, index: usize) -> Value {
        let Some(engine::Extern::Global(g)) = self.exports.get(index).map(|e| e.1) else {
            unreachable!("a global export");
        };
        let v = g.get(&mut self.store);
        shape_of(&mut self.store, &v, SHAPE_DEPTH)
    }

    fn memory(&mut self, index: usize) -> (u64, u64) {
        let Some(engine::Extern::Memory(m)) = self.exports.get(index).map(|e| e.1) else {
            unreachable!("a memory export");
        };
        let data = m.data(&self.store);
        (data.len() as u64, memory_hash(data))
    }

    fn table(&mut self, index: usize) -> (u64, Vec<Shape>) {
        let Some(engine::Extern::Table(t)) = self.exports.get(index).map(|e| e.1) else {
            unreachable!("a table export");
        };
        let store = &mut self.store;
        let size = t.size(&*store);
        let elems = (0..size.min(TABLE_ELEMS))
            .map(|i| {
                let v = engine::Val::from(t.get(&mut *store, i).expect("element in range"));
                match shape_of(store, &v, SHAPE_DEPTH) {
                    Value::Ref(s) => s,
                    _ => unreachable!("table elements are references"),
                }
            })
            .collect();
        (size, elems)
    }
}

/// What running one case in two oracles found.
#[derive(Debug)]
pub enum CaseOutcome {
    /// The bytes made no module.
    NoModule,
    /// Both engines agree; here is what they did.
    Agreed {
        /// The first oracle's execution.
        left: Box<Execution>,
        /// The second oracle's execution.
        right: Box<Execution>,
    },
    /// They differ.
    Diverged {
        /// The module.
        wasm: Vec<u8>,
        /// Where.
        divergence: Divergence,
    },
}

/// Generates the case for `data`, runs it in both oracles, and compares.
pub fn run_case(
    data: &[u8],
    features: Features,
    plan: &Plan,
    left: &mut dyn Oracle,
    right: &mut dyn Oracle,
) -> CaseOutcome {
    let Some(wasm) = generate(data, features) else {
        return CaseOutcome::NoModule;
    };
    let l = execute(left, &wasm, plan);
    let r = execute(right, &wasm, plan);
    match compare(&l, &r) {
        Ok(()) => CaseOutcome::Agreed {
            left: Box::new(l),
            right: Box::new(r),
        },
        Err(divergence) => CaseOutcome::Diverged { wasm, divergence },
    }
}
