//! Wasmtime 48 as an [`Oracle`] for the differential fuzzer.
//!
//! The comparison logic, the case generator and this engine's side are in the main
//! workspace's `tests` crate (`tests::differential`), where a seeded smoke test runs in plain
//! `cargo test`. This crate adds the reference engine; `src/bin/campaign.rs` runs campaigns
//! and `tests/smoke.rs` a seeded run against Wasmtime.

use anyhow::Result;
use tests::differential::{
    ArgType, CallOutcome, Execution, ExportKind, Features, Oracle, Plan, SHAPE_DEPTH, SHAPE_ELEMS,
    Session, Shape, TABLE_ELEMS, TrapKind, Value, memory_hash,
};
use wasmtime::{
    AnyRef, Collector, Config, Engine, Extern, HeapType, Instance, Module, Rooted, Store,
    StoreLimits, StoreLimitsBuilder, Trap, Val, ValType,
};

/// Which of Wasmtime's collectors runs the GC heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WasmtimeCollector {
    /// Its deferred-reference-counting collector.
    Drc,
    /// Its copying collector (the default in Wasmtime 48).
    Copying,
}

/// Wasmtime configured with the features the cases use.
pub struct Wasmtime {
    engine: Engine,
    collector: WasmtimeCollector,
}

impl Wasmtime {
    /// An oracle using `collector`, metering fuel if `fuel`.
    pub fn new(features: Features, collector: WasmtimeCollector, fuel: bool) -> Result<Self> {
        let mut config = Config::new();
        config
            .wasm_gc(features.gc)
            .wasm_function_references(true)
            .wasm_reference_types(true)
            .wasm_tail_call(true)
            .wasm_multi_memory(true)
            .wasm_extended_const(true)
            .wasm_bulk_memory(true)
            .wasm_multi_value(true)
            .wasm_exceptions(features.exceptions)
            .wasm_simd(true)
            .wasm_relaxed_simd(false)
            .wasm_memory64(true)
            .wasm_wide_arithmetic(true)
            .wasm_custom_page_sizes(true)
            .consume_fuel(fuel)
            .collector(match collector {
                WasmtimeCollector::Drc => Collector::DeferredReferenceCounting,
                WasmtimeCollector::Copying => Collector::Copying,
            });
        Ok(Wasmtime {
            engine: Engine::new(&config)?,
            collector,
        })
    }
}

/// Wasmtime's trap (or uncaught exception, whose payload is taken from `store`, or other
/// error) as a [`TrapKind`].
fn trap_kind(store: &mut Store<StoreLimits>, err: &wasmtime::Error) -> TrapKind {
    if err.is::<wasmtime::ThrownException>()
        && let Some(exn) = store.take_pending_exception()
    {
        let fields: Vec<Val> = exn.fields(&mut *store).expect("a live exception").collect();
        let payload = fields
            .iter()
            .map(|v| shape_of(store, v, SHAPE_DEPTH))
            .collect();
        return TrapKind::Exception(payload);
    }
    if let Some(trap) = err.downcast_ref::<Trap>() {
        return match trap {
            Trap::UnreachableCodeReached => TrapKind::Unreachable,
            Trap::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
            Trap::TableOutOfBounds => TrapKind::TableOutOfBounds,
            Trap::IndirectCallToNull => TrapKind::IndirectCallToNull,
            Trap::BadSignature => TrapKind::BadSignature,
            Trap::IntegerDivisionByZero => TrapKind::IntegerDivisionByZero,
            Trap::IntegerOverflow => TrapKind::IntegerOverflow,
            Trap::BadConversionToInteger => TrapKind::BadConversionToInteger,
            Trap::NullReference => TrapKind::NullReference,
            Trap::CastFailure => TrapKind::CastFailure,
            Trap::ArrayOutOfBounds => TrapKind::ArrayOutOfBounds,
            Trap::OutOfFuel => TrapKind::OutOfFuel,
            Trap::StackOverflow => TrapKind::StackOverflow,
            Trap::AllocationTooLarge => TrapKind::HeapExhausted,
            other => TrapKind::Other(other.to_string()),
        };
    }
    if err
        .downcast_ref::<wasmtime::GcHeapOutOfMemory<()>>()
        .is_some()
        || format!("{err:#}").contains("GC heap out of memory")
    {
        return TrapKind::HeapExhausted;
    }
    TrapKind::Other(format!("{err:#}"))
}

fn arg_type(t: &ValType) -> ArgType {
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

fn to_val(v: &Value, ty: &ValType) -> Val {
    match (v, ty) {
        (Value::I32(x), _) => Val::I32(*x),
        (Value::I64(x), _) => Val::I64(*x),
        (Value::F32(x), _) => Val::F32(*x),
        (Value::F64(x), _) => Val::F64(*x),
        (Value::V128(x), _) => Val::V128((*x).into()),
        (Value::Ref(_), ValType::Ref(r)) => match r.heap_type().top() {
            HeapType::Func => Val::FuncRef(None),
            HeapType::Extern => Val::ExternRef(None),
            HeapType::Exn => Val::ExnRef(None),
            _ => Val::AnyRef(None),
        },
        (Value::Ref(_), _) => unreachable!("reference arguments have reference types"),
    }
}

fn shape_of(store: &mut Store<StoreLimits>, v: &Val, depth: u32) -> Value {
    match v {
        Val::I32(x) => Value::I32(*x),
        Val::I64(x) => Value::I64(*x),
        Val::F32(x) => Value::F32(*x),
        Val::F64(x) => Value::F64(*x),
        Val::V128(x) => Value::V128(x.as_u128()),
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
        Val::ExnRef(None) | Val::ContRef(None) => Value::Ref(Shape::Null),
        Val::ExnRef(Some(_)) => Value::Ref(Shape::Exn),
        _ => Value::Ref(Shape::Any),
    }
}

fn any_shape(store: &mut Store<StoreLimits>, a: &Rooted<AnyRef>, depth: u32) -> Shape {
    if let Ok(Some(i)) = a.as_i31(&*store) {
        return Shape::I31(i.get_i32());
    }
    if let Ok(Some(s)) = a.as_struct(&*store) {
        if depth == 0 {
            return Shape::Struct(None);
        }
        let n = s.ty(&*store).map(|t| t.fields().len()).unwrap_or(0);
        let fields = (0..n)
            .map(|i| {
                let v = s.field(&mut *store, i).expect("field in range");
                shape_of(store, &v, depth - 1)
            })
            .collect();
        return Shape::Struct(Some(fields));
    }
    if let Ok(Some(arr)) = a.as_array(&*store) {
        let len = arr.len(&*store).expect("a live array");
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

impl Oracle for Wasmtime {
    fn name(&self) -> String {
        format!("Wasmtime 48 ({:?} collector)", self.collector)
    }

    fn instantiate(
        &mut self,
        wasm: &[u8],
        plan: &Plan,
    ) -> Result<Box<dyn Session>, Box<Execution>> {
        let mut exec = Execution::default();
        let module = match Module::from_binary(&self.engine, wasm) {
            Ok(m) => m,
            Err(e) => {
                exec.compiled = Some(Err(format!("{e:#}")));
                return Err(Box::new(exec));
            }
        };
        exec.compiled = Some(Ok(()));
        // Wasmtime's GC heap grows like a memory, under the same limit; tables stop where
        // this engine's do (an implementation limit, 10^7 elements).
        let limits = StoreLimitsBuilder::new()
            .memory_size(tests::differential::GC_HEAP_LIMIT)
            .table_elements(tests::differential::TABLE_LIMIT)
            .build();
        let mut store = Store::new(&self.engine, limits);
        store.limiter(|l| l);
        // Instantiation runs unmetered: Wasmtime also charges its constant expressions and
        // segment copies, this engine only Wasm code, so only calls compare.
        if plan.fuel.is_some() {
            store.set_fuel(u64::MAX).expect("fuel is configured");
        }
        match Instance::new(&mut store, &module, &[]) {
            Ok(instance) => {
                let exports = instance
                    .exports(&mut store)
                    .map(|e| (e.name().to_owned(), e.into_extern()))
                    .collect();
                Ok(Box::new(WasmtimeSession { store, exports }))
            }
            Err(e) => {
                exec.instantiated = Some(Err(trap_kind(&mut store, &e)));
                Err(Box::new(exec))
            }
        }
    }
}

/// An instance of a case in Wasmtime.
struct WasmtimeSession {
    store: Store<StoreLimits>,
    exports: Vec<(String, Extern)>,
}

impl WasmtimeSession {
    fn export(&self, index: usize) -> Extern {
        self.exports[index].1.clone()
    }
}

impl Session for WasmtimeSession {
    fn exports(&mut self) -> Vec<(String, ExportKind)> {
        self.exports
            .iter()
            .map(|(name, e)| {
                let kind = match e {
                    Extern::Func(f) => {
                        ExportKind::Func(f.ty(&self.store).params().map(|t| arg_type(&t)).collect())
                    }
                    Extern::Global(_) => ExportKind::Global,
                    Extern::Memory(_) => ExportKind::Memory,
                    Extern::Table(_) => ExportKind::Table,
                    _ => ExportKind::Other,
                };
                (name.clone(), kind)
            })
            .collect()
    }

    fn call(&mut self, index: usize, args: &[Value], fuel: Option<u64>) -> CallOutcome {
        let Extern::Func(func) = self.export(index) else {
            unreachable!("called a function export");
        };
        let store = &mut self.store;
        let ty = func.ty(&*store);
        let args: Vec<Val> = args
            .iter()
            .zip(ty.params())
            .map(|(v, t)| to_val(v, &t))
            .collect();
        let mut results: Vec<Val> = ty
            .results()
            .map(|t| Val::default_for_ty(&t).unwrap_or(Val::I32(0)))
            .collect();
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
            Err(e) => CallOutcome::Trapped(trap_kind(store, &e)),
        }
    }

    fn global(&mut self, index: usize) -> Value {
        let Extern::Global(g) = self.export(index) else {
            unreachable!("a global export");
        };
        let v = g.get(&mut self.store);
        shape_of(&mut self.store, &v, SHAPE_DEPTH)
    }

    fn memory(&mut self, index: usize) -> (u64, u64) {
        let Extern::Memory(m) = self.export(index) else {
            unreachable!("a memory export");
        };
        let data = m.data(&self.store);
        (data.len() as u64, memory_hash(data))
    }

    fn table(&mut self, index: usize) -> (u64, Vec<Shape>) {
        let Extern::Table(t) = self.export(index) else {
            unreachable!("a table export");
        };
        let store = &mut self.store;
        let size = t.size(&*store);
        let elems = (0..size.min(TABLE_ELEMS))
            .map(|i| {
                let r = t.get(&mut *store, i).expect("element in range");
                match shape_of(store, &r.into(), SHAPE_DEPTH) {
                    Value::Ref(s) => s,
                    _ => unreachable!("table elements are references"),
                }
            })
            .collect();
        (size, elems)
    }
}
