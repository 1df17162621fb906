//! `Func`: Wasm and host functions, calling them from the host, and `Caller`.

use crate::compile::Trampolines;
use crate::externals::Extern;
use crate::store::{AsContext, AsContextMut, StoreId, StoreInner, StoreOpaque};
use crate::traphandlers::{EntryFn, call_entry};
use crate::types::{FuncType, ValType};
use crate::values::Val;
use crate::vm::{InstanceData, VMFuncRef, VMStoreContext, ValRaw};
use anyhow::{Result, bail};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// A function: a handle to a `VMFuncRef` owned by a store. Cheap to copy.
///
/// ```
/// use engine::{Engine, Func, FuncType, Store, Val, ValType};
/// let engine = Engine::default();
/// let mut store = Store::new(&engine, ());
/// // A host function over `Val`s, of a type built at run time.
/// let ty = FuncType::new([ValType::I64, ValType::I64], [ValType::I64]);
/// let max = Func::new(&mut store, ty, |_caller, params, results| {
///     results[0] = Val::I64(params[0].i64().unwrap().max(params[1].i64().unwrap()));
///     Ok(())
/// });
/// let mut out = [Val::I64(0)];
/// max.call(&mut store, &[Val::I64(3), Val::I64(9)], &mut out)?;
/// assert_eq!(out[0].i64(), Some(9));
/// // Or a typed view of it.
/// assert_eq!(max.typed::<(i64, i64), i64>(&store)?.call(&mut store, (-1, -2))?, -1);
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Func {
    store: StoreId,
    /// Address of the function's `VMFuncRef`, which lives as long as the store.
    funcref: usize,
}

/// A host function over `Val`s ([`Func::new`]).
type HostFn<T> = dyn Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync;

/// A host function over the raw values array compiled code passes: it reads its arguments
/// from the front and writes its results there. Typed closures ([`Func::wrap`]) become one.
pub type RawHostFn<T> = dyn Fn(Caller<'_, T>, &mut [ValRaw]) -> Result<()> + Send + Sync;

/// A host function's implementation, as `host_call` runs it.
pub(crate) enum HostImpl<T> {
    /// Arguments converted to `Val`s (counting references), results converted back.
    Vals(Box<HostFn<T>>),
    /// The raw values, converted by the implementation itself (typed closures: numbers
    /// as they are, references into counted handles).
    Raw(Arc<RawHostFn<T>>),
}

/// The context of a host function: what its `VMFuncRef` points at. `entry` must stay the
/// first field: the host trampoline loads it from offset 0.
#[repr(C)]
pub(crate) struct HostFuncContext {
    entry: unsafe extern "C" fn(*mut HostFuncContext, *mut u8, *mut ValRaw, usize) -> u8,
    funcref: VMFuncRef,
    /// The owning store's context, whose `store` pointer the call borrows the store from.
    vm_store: *const VMStoreContext,
    ty: Arc<FuncType>,
    func: Arc<dyn std::any::Any + Send + Sync>,
    _trampolines: Arc<Trampolines>,
}

// SAFETY: the raw pointers point into the store that owns this context (its own boxed
// funcref, the store itself, trampoline code); they move with the store as a whole, and the
// closure is `Send + Sync`.
unsafe impl Send for HostFuncContext {}

/// The host's view of the calling instance and the store, inside a host function.
///
/// ```
/// use engine::{Caller, Engine, Linker, Module, Store};
/// let engine = Engine::default();
/// let mut linker = Linker::<Vec<String>>::new(&engine);
/// // The caller gives the host function the store's data and the calling instance's exports.
/// linker.func_wrap("env", "print", |mut caller: Caller<'_, Vec<String>>, at: u32, len: u32| {
///     let memory = caller.get_export("memory").and_then(|e| e.into_memory()).unwrap();
///     let mut text = vec![0; len as usize];
///     memory.read(&caller, at as usize, &mut text)?;
///     caller.data_mut().push(String::from_utf8(text)?);
///     anyhow::Ok(())
/// })?;
/// let module = Module::new(&engine, r#"(module
///     (import "env" "print" (func $print (param i32 i32)))
///     (memory (export "memory") 1) (data (i32.const 0) "hello")
///     (func (export "run") (call $print (i32.const 0) (i32.const 5))))"#)?;
/// let mut store = Store::new(&engine, Vec::new());
/// let run = linker.instantiate(&mut store, &module)?.get_typed_func::<(), ()>(&store, "run")?;
/// run.call(&mut store, ())?;
/// assert_eq!(store.data(), &["hello"]);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut StoreInner<T>,
    instance: Option<*mut InstanceData>,
}

impl<T> Caller<'_, T> {
    /// A `Caller` borrowing this one, for passing on while keeping this one.
    pub(crate) fn reborrow(&mut self) -> Caller<'_, T> {
        Caller {
            store: &mut *self.store,
            instance: self.instance,
        }
    }

    /// The store's host data.
    pub fn data(&self) -> &T {
        &self.store.data
    }

    /// The store's host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.data
    }

    /// Runs a garbage collection. References held by the Wasm frames that called this host
    /// function are found through their stack maps and kept.
    pub fn gc(&mut self) {
        self.store.opaque.gc_full();
    }

    /// The fuel left; see [`Store::get_fuel`](crate::Store::get_fuel).
    pub fn get_fuel(&self) -> Result<u64> {
        self.store.opaque.get_fuel()
    }

    /// Sets the fuel left; see [`Store::set_fuel`](crate::Store::set_fuel).
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.store.opaque.set_fuel(fuel)
    }

    /// Sets the epoch deadline; see
    /// [`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline).
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        self.as_context_mut().set_epoch_deadline(ticks);
    }

    /// An export of the calling instance, if the caller is a Wasm instance. A hash lookup:
    /// host functions may call this on every call.
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        // SAFETY: the calling instance is live in this store while its call runs.
        let index = unsafe { (*self.instance?).store_index };
        crate::Instance::from_index(self.store.opaque.id, index).get_export(&*self, name)
    }
}

impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> crate::StoreContext<'_, T> {
        crate::StoreContext(self.store)
    }
}

impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> crate::StoreContextMut<'_, T> {
        crate::StoreContextMut(self.store)
    }
}

/// What a host function's call came to, as `host_entry` reports it to compiled code.
enum HostOutcome {
    /// It returned; the results are in the values array.
    Returned,
    /// It failed: its error or panic is pending in the store.
    Failed,
    /// It threw exception `exn` (raw, exposed to Wasm) of the tag whose identity is `tag`.
    Threw { exn: u32, tag: u32 },
}

/// The host trampoline's callee: runs the host function, then returns 1 (success) or 0
/// (failure, pending in the store), or throws the Wasm exception the function returned.
///
/// # Safety
/// Called by the host trampoline only, with the host function's context, the caller's
/// `VMContext`, and its array of `len` values.
unsafe extern "C" fn host_entry<T: 'static>(
    ctx: *mut HostFuncContext,
    caller_vmctx: *mut u8,
    values: *mut ValRaw,
    len: usize,
) -> u8 {
    // SAFETY: `ctx` is this host function's live context.
    let vm = unsafe { (*ctx).vm_store };
    // SAFETY: per the contract.
    match unsafe { host_call::<T>(ctx, caller_vmctx, values, len) } {
        HostOutcome::Returned => 1,
        HostOutcome::Failed => 0,
        // SAFETY: the host trampoline recorded the calling Wasm frame; everything
        // `host_call` owned is dropped, so this frame and the trampoline's own nothing.
        HostOutcome::Threw { exn, tag } => unsafe { crate::traphandlers::throw(vm, exn, tag) },
    }
}

/// Runs the host function of `ctx`; see `host_entry`.
///
/// # Safety
/// As for `host_entry`.
unsafe fn host_call<T: 'static>(
    ctx: *mut HostFuncContext,
    caller_vmctx: *mut u8,
    values: *mut ValRaw,
    len: usize,
) -> HostOutcome {
    // SAFETY: `ctx` is this host function's live context (the trampoline passes the
    // callee context it was given); read what we need before borrowing the store.
    // Only the implementation is cloned (one reference count); the type only when the
    // values need converting.
    let (vm, func) = unsafe { ((*ctx).vm_store, (*ctx).func.clone()) };
    // SAFETY: Wasm is running, so the entry into it published the whole owning
    // `StoreInner<T>` (repr(C), opaque part first) in the store's context.
    let store = unsafe {
        debug_assert!(
            !(*vm).store.is_null(),
            "a host function called outside Wasm"
        );
        &mut *(*vm).store.cast::<StoreInner<T>>()
    };
    // SAFETY: the caller context is an instance `VMContext` or the store's default caller
    // context; offset 0 holds the instance pointer, null for the latter.
    let instance =
        Some(unsafe { *caller_vmctx.cast::<*mut InstanceData>() }).filter(|i| !i.is_null());
    // SAFETY: the trampoline passes an array of `len` slots.
    let values = unsafe { std::slice::from_raw_parts_mut(values, len) };
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<()> {
        let func = func
            .downcast_ref::<HostImpl<T>>()
            .expect("host function of this store type");
        match func {
            HostImpl::Raw(f) => f(
                Caller {
                    store: &mut *store,
                    instance,
                },
                values,
            ),
            HostImpl::Vals(f) => {
                // SAFETY: as above.
                let ty = unsafe { (*ctx).ty.clone() };
                let params: Vec<Val> = ty
                    .params()
                    .iter()
                    .zip(values.iter())
                    .map(|(t, raw)| Val::from_raw(&mut store.opaque, *raw, t))
                    .collect();
                // The arguments are counted now; compiled code recorded its exit frame.
                store.opaque.maybe_gc();
                let mut results: Vec<Val> = ty.results().iter().map(Val::default_for).collect();
                f(
                    Caller {
                        store: &mut *store,
                        instance,
                    },
                    &params,
                    &mut results,
                )?;
                for ((r, t), slot) in results.iter().zip(ty.results()).zip(values.iter_mut()) {
                    *slot = r.to_raw(&mut store.opaque, t)?;
                }
                Ok(())
            }
        }
    }));
    match result {
        Ok(Ok(())) => HostOutcome::Returned,
        Ok(Err(e)) => match e.downcast::<crate::ThrownException>() {
            Ok(thrown) if thrown.exn().store_id() == store.opaque.id => {
                let exn = thrown.exn().to_raw(&mut store.opaque);
                let tag = store
                    .opaque
                    .exn_tag(gc_core::VMGcRef::from_raw(exn).expect("exceptions are non-null"));
                // The handle's count is released at the next collection, by when the
                // exception is in the catching frame (or garbage).
                drop(thrown);
                HostOutcome::Threw { exn, tag }
            }
            Ok(thrown) => {
                store.opaque.pending_error = Some(anyhow::anyhow!(
                    "a host function threw an exception of another store: {thrown}"
                ));
                HostOutcome::Failed
            }
            Err(e) => {
                store.opaque.pending_error = Some(e);
                HostOutcome::Failed
            }
        },
        Err(panic) => {
            store.opaque.pending_panic = Some(panic);
            HostOutcome::Failed
        }
    }
}

impl Func {
    /// A host function of type `ty` implemented by `f`.
    pub fn new<T: 'static>(
        store: impl AsContextMut<Data = T>,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        Func::from_impl(store, ty, HostImpl::Vals(Box::new(f)))
    }

    /// A host function of type `ty` running `f` on the raw values array, which converts
    /// them itself (typed closures do, through `WasmTy`).
    pub(crate) fn new_raw<T: 'static>(
        store: impl AsContextMut<Data = T>,
        ty: FuncType,
        f: Arc<RawHostFn<T>>,
    ) -> Func {
        Func::from_impl(store, ty, HostImpl::Raw(f))
    }

    fn from_impl<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: HostImpl<T>,
    ) -> Func {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        let index = opaque.engine.registry().register_func_type(&ty);
        let trampolines = opaque
            .engine
            .trampolines(index)
            .expect("trampolines compile for every function type");
        let mut ctx = Box::new(HostFuncContext {
            entry: host_entry::<T>,
            funcref: VMFuncRef::new(trampolines.host(), std::ptr::null_mut(), index),
            vm_store: &*opaque.vm,
            ty: Arc::new(ty),
            func: Arc::new(func),
            _trampolines: trampolines,
        });
        ctx.funcref.vmctx = (&mut *ctx as *mut HostFuncContext).cast();
        let funcref = &ctx.funcref as *const VMFuncRef as usize;
        opaque.host_funcs.push(ctx);
        Func {
            store: opaque.id,
            funcref,
        }
    }

    /// A host function from a closure over typed parameters and results, such as
    /// `|x: i32, y: i32| x + y`. See [`IntoFunc`](crate::IntoFunc) for the accepted shapes.
    pub fn wrap<T: 'static, P, R>(
        store: impl AsContextMut<Data = T>,
        f: impl crate::typed::IntoFunc<T, P, R>,
    ) -> Func {
        let (ty, f) = f.into_func();
        Func::new_raw(store, ty, Arc::from(f))
    }

    /// The canonical index of the function's type.
    pub(crate) fn type_index(&self) -> u32 {
        self.vm().type_index
    }

    pub(crate) fn store_id(&self) -> StoreId {
        self.store
    }

    /// The raw `VMFuncRef` address.
    pub(crate) fn raw(&self) -> usize {
        self.funcref
    }

    /// A handle for a raw `VMFuncRef` address of `store` (0 is null).
    pub(crate) fn from_raw(store: StoreId, raw: usize) -> Option<Func> {
        (raw != 0).then_some(Func {
            store,
            funcref: raw,
        })
    }

    fn vm(&self) -> &VMFuncRef {
        // SAFETY: a `Func` exists only for live `VMFuncRef`s of its store, and its store
        // outlives every use through a context borrow.
        unsafe { &*(self.funcref as *const VMFuncRef) }
    }

    /// The function's type.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let cx = store.as_context();
        cx.0.opaque.check(self.store);
        cx.0.opaque
            .engine
            .registry()
            .func_type(self.vm().type_index)
    }

    /// Calls the function with `params`, writing its results to `results`. A trap is
    /// returned as an error carrying a [`Trap`](crate::Trap) and a
    /// [`WasmBacktrace`](crate::WasmBacktrace); the store stays usable.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        opaque.check(self.store);
        let ty = opaque.engine.registry().func_type(self.vm().type_index);
        if params.len() != ty.params().len() {
            bail!(
                "expected {} arguments, got {}",
                ty.params().len(),
                params.len()
            );
        }
        if results.len() != ty.results().len() {
            bail!(
                "expected {} results, got {}",
                ty.results().len(),
                results.len()
            );
        }
        // The caller's arguments are counted host handles, so this is a safe point.
        opaque.maybe_gc();
        let mut values = vec![ValRaw::default(); params.len().max(results.len()).max(1)];
        for ((p, t), slot) in params.iter().zip(ty.params()).zip(values.iter_mut()) {
            *slot = p.to_raw(opaque, t)?;
        }
        let store = whole_store(cx.0);
        // SAFETY: `store` comes from the unique borrow `cx`, unused until the call returns.
        unsafe { self.call_raw(store, &mut values)? };
        let opaque = &mut cx.0.opaque;
        for ((r, t), raw) in results.iter_mut().zip(ty.results()).zip(&values) {
            *r = Val::from_raw(opaque, *raw, t);
        }
        Ok(())
    }

    /// Calls with arguments already in `values` (which must have room for the results).
    ///
    /// No Rust reference to the store is held while Wasm runs: the store is passed as a raw
    /// pointer and published in `VMStoreContext::store`, from which builtins and host
    /// functions borrow it; the previous value (an outer entry's) is restored afterwards.
    ///
    /// # Safety
    /// `store` points at the whole live `StoreInner<_>` this function belongs to (see
    /// [`whole_store`]), derived from a unique borrow that is not used until this returns.
    pub(crate) unsafe fn call_raw(
        &self,
        store: *mut StoreOpaque,
        values: &mut [ValRaw],
    ) -> Result<()> {
        let (entry, max_stack, caller, vm) = {
            // SAFETY: per the contract; this borrow ends before Wasm runs.
            let opaque = unsafe { &mut *store };
            let trampolines = opaque.engine.trampolines(self.vm().type_index)?;
            // SAFETY: the entry trampoline has exactly `EntryFn`'s signature; the engine
            // keeps the code alive.
            let entry: EntryFn = unsafe { std::mem::transmute(trampolines.entry()) };
            let max_stack = opaque.engine.config().max_wasm_stack;
            let caller = opaque.default_caller();
            let vm: *mut VMStoreContext = &mut *opaque.vm;
            (entry, max_stack, caller, vm)
        };
        // SAFETY: `vm` is the store's boxed context, live with the store.
        let outer = unsafe { std::mem::replace(&mut (*vm).store, store.cast()) };
        // SAFETY: `entry` matches the function's type, the funcref is live in this store,
        // and `values` has room for the parameters and results.
        let result = unsafe {
            call_entry(
                vm,
                max_stack,
                entry,
                self.funcref as *const VMFuncRef,
                caller,
                values.as_mut_ptr(),
            )
        };
        // SAFETY: Wasm has returned, so the borrow behind `store` is ours again.
        let opaque = unsafe { &mut *store };
        opaque.vm.store = outer;
        result.map_err(|unwound| opaque.unwound_error(unwound))
    }

    /// A typed view of this function, checked against its type. Each result type of the
    /// function must match (be a subtype of) `R`'s. Each parameter type must match `P`'s
    /// either way: where the function's is narrower (a `(ref $point)` parameter taken as a
    /// `StructRef`), each call checks its arguments' types.
    pub fn typed<P: crate::WasmParams, R: crate::WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<crate::TypedFunc<P, R>> {
        let cx = store.as_context();
        let ty = self.ty(&cx);
        let registry = cx.0.opaque.engine.registry();
        let params: Vec<ValType> = P::types();
        let results: Vec<ValType> = R::types();
        let mismatch = || {
            let rust = FuncType::new(params.clone(), results.clone());
            anyhow::anyhow!("type mismatch: the function has type {ty}, the typed view {rust}")
        };
        if ty.params().len() != params.len() || ty.results().len() != results.len() {
            return Err(mismatch());
        }
        let mut exact = true;
        for (declared, rust) in ty.params().iter().zip(&params) {
            if registry.val_matches(rust, declared) {
                continue;
            }
            if registry.val_matches(declared, rust) {
                exact = false;
                continue;
            }
            return Err(mismatch());
        }
        for (declared, rust) in ty.results().iter().zip(&results) {
            if !registry.val_matches(declared, rust) {
                return Err(mismatch());
            }
        }
        Ok(crate::TypedFunc::new(*self, exact))
    }
}

/// The whole store behind `cx` as a raw pointer to its opaque part (which comes first in the
/// `repr(C)` `StoreInner<T>`), with provenance over all of it: host functions rebuild the
/// `StoreInner<T>` from it.
pub(crate) fn whole_store<T>(cx: &mut StoreInner<T>) -> *mut StoreOpaque {
    (cx as *mut StoreInner<T>).cast::<StoreOpaque>()
}
