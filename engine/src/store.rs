//! `Store<T>`: owns every instance, memory, table, global and host function, plus the
//! embedder's data `T`. Everything a store owns lives until the store is dropped.

use crate::Engine;
use crate::func::HostFuncContext;
use crate::limits::{
    DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT, ResourceLimiter,
};
use crate::trap::Trap;
use crate::traphandlers::{TrapRecord, Unwound};
use crate::vm::{GlobalData, InstanceData, LinearMemory, TableData, VMStoreContext};
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};

/// Identifies a store; handles carry it so that using one with another store is caught.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct StoreId(u64);

impl StoreId {
    fn fresh() -> StoreId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        StoreId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The part of a store that does not depend on `T`.
///
/// Objects are boxed inside the vectors because compiled code and other objects hold raw
/// pointers to them: their addresses must not change when a vector grows.
#[expect(
    clippy::vec_box,
    reason = "boxes keep the addresses compiled code holds stable"
)]
/// The part of a store that does not depend on its host data type. Public only so that
/// hidden trait methods can name it: it cannot be reached from outside the crate.
pub struct StoreOpaque {
    pub(crate) id: StoreId,
    pub(crate) engine: Engine,
    /// Read by compiled code; boxed so its address is stable.
    pub(crate) vm: Box<VMStoreContext>,
    pub(crate) instances: Vec<Box<InstanceData>>,
    pub(crate) memories: Vec<Box<LinearMemory>>,
    pub(crate) tables: Vec<Box<TableData>>,
    pub(crate) globals: Vec<Box<GlobalData>>,
    /// Tags by identity (compiled code and exceptions hold the index).
    pub(crate) tags: Vec<crate::tag::TagData>,
    pub(crate) host_funcs: Vec<Box<HostFuncContext>>,
    pub(crate) gc: crate::runtime::gc::StoreGc,
    /// Function references held by GC objects, by index.
    pub(crate) func_table: crate::vm::FuncRefTable,
    /// A minimal `VMContext` (header only, no instance) passed as the caller when the host
    /// calls a function, so trampolines can always find the store context.
    default_caller: Box<[usize; 4]>,
    /// The error a host function returned, until the call that trapped reports it.
    pub(crate) pending_error: Option<anyhow::Error>,
    /// A host function's panic, resumed once compiled code has been unwound.
    pub(crate) pending_panic: Option<Box<dyn Any + Send>>,
    /// The most instances, tables and memories the store may hold (from the limiter).
    pub(crate) instance_limit: usize,
    pub(crate) table_limit: usize,
    pub(crate) memory_limit: usize,
    /// Entry points into the typed `StoreInner<T>` for builtins, which only have the whole
    /// store as a raw pointer.
    pub(crate) hooks: StoreHooks,
}

/// Typed operations on the whole store (`StoreInner<T>`), as function pointers the untyped
/// runtime can call. Each takes the whole store as the raw pointer published in
/// `VMStoreContext::store`.
#[derive(Clone, Copy)]
pub(crate) struct StoreHooks {
    /// Calls the function given with the store's opaque part and its resource limiter, if
    /// one is installed.
    pub with_parts: unsafe fn(*mut u8, &mut PartsFn<'_>),
    /// Runs the epoch-deadline behaviour once the deadline has passed: `Ok` with the new
    /// deadline to continue, `Err` to trap (with `Trap::Interrupt` or the callback's error).
    pub new_epoch: unsafe fn(*mut u8) -> anyhow::Result<u64>,
}

/// What `StoreHooks::with_parts` calls.
pub(crate) type PartsFn<'f> = dyn FnMut(StoreParts<'_>) + 'f;

/// A store split into the part the runtime works on and the embedder's limiter.
pub(crate) struct StoreParts<'a> {
    pub opaque: &'a mut StoreOpaque,
    pub limiter: Option<&'a mut dyn ResourceLimiter>,
}

impl StoreOpaque {
    /// The caller context for calls made by the host.
    pub(crate) fn default_caller(&mut self) -> *mut u8 {
        self.default_caller.as_mut_ptr().cast()
    }

    /// Panics if a handle from another store is used with this one.
    pub(crate) fn check(&self, id: StoreId) {
        assert_eq!(self.id, id, "object used with the wrong store");
    }

    fn fuel_enabled(&self) -> anyhow::Result<()> {
        if !self.engine.config().consume_fuel {
            anyhow::bail!("fuel is not configured in this store (see `Config::consume_fuel`)");
        }
        Ok(())
    }

    /// Sets the fuel left: compiled code counts consumption up towards zero.
    pub(crate) fn set_fuel(&mut self, fuel: u64) -> anyhow::Result<()> {
        self.fuel_enabled()?;
        self.vm.fuel_consumed = -(fuel.min(i64::MAX as u64) as i64);
        Ok(())
    }

    /// The fuel left.
    pub(crate) fn get_fuel(&self) -> anyhow::Result<u64> {
        self.fuel_enabled()?;
        Ok(self.vm.fuel_consumed.min(0).unsigned_abs())
    }

    /// Turns a call's unwinding (a trap, or an uncaught exception) into the error it
    /// returns.
    pub(crate) fn unwound_error(&mut self, unwound: Unwound) -> anyhow::Error {
        match unwound {
            Unwound::Trap(record) => self.trap_error(record),
            Unwound::Exception(raw) => {
                let exn = crate::ExnRef::from_raw(self, raw).expect("exceptions are non-null");
                anyhow::Error::new(crate::ThrownException::new(exn))
            }
        }
    }

    /// Turns a caught trap into the error a call returns.
    fn trap_error(&mut self, record: TrapRecord) -> anyhow::Error {
        let mut err = None;
        if record.trap == Trap::HostError {
            if let Some(panic) = self.pending_panic.take() {
                std::panic::resume_unwind(panic);
            }
            // The host function's own error, with the Wasm frames that called it.
            err = self.pending_error.take();
        }
        let err = err.unwrap_or_else(|| anyhow::Error::new(record.trap));
        if record.backtrace.frames().is_empty() {
            err
        } else {
            err.context(record.backtrace)
        }
    }
}

/// The store proper: the opaque part first, so a pointer to one is a pointer to the other.
#[repr(C)]
pub(crate) struct StoreInner<T> {
    pub opaque: StoreOpaque,
    pub data: T,
    /// Finds the resource limiter inside `data` ([`Store::limiter`]).
    limiter: Option<Box<LimiterFn<T>>>,
    /// What happens when the epoch deadline passes: trap if `None`.
    epoch_callback: Option<Box<EpochCallback<T>>>,
}

/// The accessor [`Store::limiter`] installs.
type LimiterFn<T> = dyn (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync;

/// The behaviour [`Store::epoch_deadline_callback`] installs.
type EpochCallback<T> =
    dyn FnMut(StoreContextMut<'_, T>) -> anyhow::Result<UpdateDeadline> + Send + Sync;

/// What an epoch-deadline callback asks for when the deadline has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpdateDeadline {
    /// Keep running, with a new deadline this many ticks after the current epoch.
    Continue(u64),
}

impl<T> StoreInner<T> {
    /// The opaque part and the resource limiter, borrowed apart.
    pub(crate) fn parts(&mut self) -> StoreParts<'_> {
        let limiter = match &mut self.limiter {
            Some(f) => Some(f(&mut self.data)),
            None => None,
        };
        StoreParts {
            opaque: &mut self.opaque,
            limiter,
        }
    }

    /// `StoreHooks::with_parts` for stores holding a `T`.
    ///
    /// # Safety
    /// `whole` must point at a live `StoreInner<T>` to which no other reference is live
    /// during the call.
    unsafe fn with_parts_raw(whole: *mut u8, f: &mut PartsFn<'_>) {
        // SAFETY: per the contract.
        f(unsafe { (*whole.cast::<StoreInner<T>>()).parts() })
    }

    /// `StoreHooks::new_epoch` for stores holding a `T`.
    ///
    /// # Safety
    /// As for `parts_raw`.
    unsafe fn new_epoch_raw(whole: *mut u8) -> anyhow::Result<u64> {
        // SAFETY: per the contract.
        let inner = unsafe { &mut *whole.cast::<StoreInner<T>>() };
        let Some(mut callback) = inner.epoch_callback.take() else {
            return Err(Trap::Interrupt.into());
        };
        // A callback cannot replace the behaviour (that takes a `Store`), so it goes back.
        let result = callback(StoreContextMut(&mut *inner));
        inner.epoch_callback = Some(callback);
        match result? {
            UpdateDeadline::Continue(delta) => {
                let deadline = inner.opaque.engine.current_epoch().saturating_add(delta);
                inner.opaque.vm.epoch_deadline = deadline;
                Ok(deadline)
            }
        }
    }
}

/// A collection of Wasm objects and the host data `T` they run with.
///
/// ```
/// use engine::{Engine, Instance, Module, Store};
/// let engine = Engine::default();
/// // The store owns what instances create, and the host's own data.
/// let mut store = Store::new(&engine, 1u32);
/// *store.data_mut() += 1;
/// let module = Module::new(&engine, r#"(module (func (export "f") (result i32) (i32.const 40)))"#)?;
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let f = instance.get_typed_func::<(), i32>(&store, "f")?;
/// assert_eq!(f.call(&mut store, ())? + *store.data() as i32, 42);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub struct Store<T> {
    inner: Box<StoreInner<T>>,
}

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.inner.opaque.id)
            .finish_non_exhaustive()
    }
}

impl<T> Store<T> {
    /// A new, empty store for `engine` holding `data`.
    ///
    /// Never fails: if the store's GC heap cannot be reserved (the process is out of
    /// address space, e.g. with tens of thousands of live stores), the store runs without
    /// one, and every GC allocation in it fails with an error saying so.
    /// [`Store::try_new`] reports that case instead.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        Store::with_gc(
            engine,
            data,
            crate::runtime::gc::StoreGc::new_or_unavailable(engine),
        )
    }

    /// A new, empty store for `engine` holding `data`, or an error if its GC heap cannot
    /// be reserved (out of address space).
    pub fn try_new(engine: &Engine, data: T) -> anyhow::Result<Store<T>> {
        use anyhow::Context as _;
        let gc = crate::runtime::gc::StoreGc::new(engine)
            .context("failed to reserve the store's GC heap")?;
        Ok(Store::with_gc(engine, data, gc))
    }

    fn with_gc(engine: &Engine, data: T, gc: crate::runtime::gc::StoreGc) -> Store<T> {
        let mut vm = Box::new(VMStoreContext {
            gc_heap_base: gc.heap.vmctx_gc_heap_base() as usize,
            gc_heap_bound: gc.heap.vmctx_gc_heap_bound(),
            epoch_ptr: engine.epoch_counter(),
            ..VMStoreContext::default()
        });
        let vm_ptr = &mut *vm as *mut VMStoreContext as usize;
        // The table's buffer does not move with the table, so its address can be published
        // before both move into the store.
        let func_table = crate::vm::FuncRefTable::default();
        func_table.sync(&mut vm);
        Store {
            inner: Box::new(StoreInner {
                opaque: StoreOpaque {
                    id: StoreId::fresh(),
                    engine: engine.clone(),
                    vm,
                    instances: Vec::new(),
                    memories: Vec::new(),
                    tables: Vec::new(),
                    globals: Vec::new(),
                    tags: Vec::new(),
                    host_funcs: Vec::new(),
                    gc,
                    func_table,
                    default_caller: Box::new([0, vm_ptr, engine.builtins() as usize, 0]),
                    pending_error: None,
                    pending_panic: None,
                    instance_limit: DEFAULT_INSTANCE_LIMIT,
                    table_limit: DEFAULT_TABLE_LIMIT,
                    memory_limit: DEFAULT_MEMORY_LIMIT,
                    hooks: StoreHooks {
                        with_parts: StoreInner::<T>::with_parts_raw,
                        new_epoch: StoreInner::<T>::new_epoch_raw,
                    },
                },
                data,
                limiter: None,
                epoch_callback: None,
            }),
        }
    }

    /// Installs a resource limiter: `limiter` finds it inside the store's data, and every
    /// growth of a memory, table or the GC heap asks it first (see [`ResourceLimiter`]).
    /// Its instance, table and memory counts are read now.
    pub fn limiter(
        &mut self,
        mut limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        let inner = &mut *self.inner;
        let l = limiter(&mut inner.data);
        inner.opaque.instance_limit = l.instances();
        inner.opaque.table_limit = l.tables();
        inner.opaque.memory_limit = l.memories();
        inner.limiter = Some(Box::new(limiter));
    }

    /// Sets the epoch deadline `ticks` after the engine's current epoch
    /// ([`Engine::increment_epoch`]); compiled code checks it at every function entry and
    /// loop header when [`Config::epoch_interruption`](crate::Config::epoch_interruption)
    /// is on. A store starts with a deadline of 0, which has always passed.
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        self.as_context_mut().set_epoch_deadline(ticks);
    }

    /// Makes a passed epoch deadline trap with [`Trap::Interrupt`] (the default).
    pub fn epoch_deadline_trap(&mut self) {
        self.inner.epoch_callback = None;
    }

    /// Makes a passed epoch deadline call `callback`, which returns
    /// `UpdateDeadline::Continue(ticks)` to go on with a new deadline, or an error to trap
    /// with it.
    pub fn epoch_deadline_callback(
        &mut self,
        callback: impl FnMut(StoreContextMut<'_, T>) -> anyhow::Result<UpdateDeadline>
        + Send
        + Sync
        + 'static,
    ) {
        self.inner.epoch_callback = Some(Box::new(callback));
    }

    /// Sets the fuel left to `fuel`; fails unless [`Config::consume_fuel`] is on.
    ///
    /// [`Config::consume_fuel`]: crate::Config::consume_fuel
    pub fn set_fuel(&mut self, fuel: u64) -> anyhow::Result<()> {
        self.as_context_mut().set_fuel(fuel)
    }

    /// The fuel left; fails unless [`Config::consume_fuel`](crate::Config::consume_fuel) is
    /// on.
    pub fn get_fuel(&self) -> anyhow::Result<u64> {
        self.as_context().get_fuel()
    }

    /// Runs a complete garbage collection, cyclic garbage included.
    pub fn gc(&mut self) {
        self.inner.opaque.gc_full();
    }

    /// The number of garbage collections this store has run.
    pub fn gc_count(&self) -> u64 {
        self.inner.opaque.gc.collections
    }

    /// The number of live objects in the store's GC heap.
    pub fn gc_live_objects(&self) -> usize {
        self.inner.opaque.gc.heap.live_objects()
    }

    /// The host data.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    /// Consumes the store, returning the host data.
    pub fn into_data(self) -> T {
        self.inner.data
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.opaque.engine
    }
}

/// A shared borrow of a store.
pub struct StoreContext<'a, T>(pub(crate) &'a StoreInner<T>);

/// An exclusive borrow of a store.
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut StoreInner<T>);

impl<T> StoreContext<'_, T> {
    /// The host data.
    pub fn data(&self) -> &T {
        &self.0.data
    }

    /// The fuel left; see [`Store::get_fuel`].
    pub fn get_fuel(&self) -> anyhow::Result<u64> {
        self.0.opaque.get_fuel()
    }
}

impl<T> StoreContextMut<'_, T> {
    /// The host data.
    pub fn data(&self) -> &T {
        &self.0.data
    }
    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.0.data
    }

    /// Sets the fuel left; see [`Store::set_fuel`].
    pub fn set_fuel(&mut self, fuel: u64) -> anyhow::Result<()> {
        self.0.opaque.set_fuel(fuel)
    }

    /// The fuel left; see [`Store::get_fuel`].
    pub fn get_fuel(&self) -> anyhow::Result<u64> {
        self.0.opaque.get_fuel()
    }

    /// Sets the epoch deadline; see [`Store::set_epoch_deadline`].
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        let opaque = &mut self.0.opaque;
        opaque.vm.epoch_deadline = opaque.engine.current_epoch().saturating_add(ticks);
    }
}

/// Anything that can lend a shared borrow of a store.
pub trait AsContext {
    /// The store's host data type.
    type Data;
    /// Borrows the store.
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Anything that can lend an exclusive borrow of a store.
pub trait AsContextMut: AsContext {
    /// Borrows the store exclusively.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(&self.inner)
    }
}

impl<T> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(&mut self.inner)
    }
}

impl<T> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0)
    }
}

impl<C: AsContext + ?Sized> AsContext for &C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}

impl<C: AsContext + ?Sized> AsContext for &mut C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}

impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        (**self).as_context_mut()
    }
}

impl<'a, T> From<&'a Store<T>> for StoreContext<'a, T> {
    fn from(s: &'a Store<T>) -> Self {
        StoreContext(&s.inner)
    }
}

impl<'a, T> From<&'a mut Store<T>> for StoreContext<'a, T> {
    fn from(s: &'a mut Store<T>) -> Self {
        StoreContext(&s.inner)
    }
}

impl<'a, T> From<&'a mut Store<T>> for StoreContextMut<'a, T> {
    fn from(s: &'a mut Store<T>) -> Self {
        StoreContextMut(&mut s.inner)
    }
}

impl<'a, T> From<&'a crate::Caller<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a crate::Caller<'_, T>) -> Self {
        StoreContext(c.store)
    }
}

impl<'a, T> From<&'a mut crate::Caller<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a mut crate::Caller<'_, T>) -> Self {
        StoreContext(c.store)
    }
}

impl<'a, T> From<&'a mut crate::Caller<'_, T>> for StoreContextMut<'a, T> {
    fn from(c: &'a mut crate::Caller<'_, T>) -> Self {
        StoreContextMut(c.store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn stores_and_handles_move_between_threads() {
        assert_send::<Store<()>>();
        assert_send::<crate::Func>();
        assert_send::<crate::ExternRef>();
        assert_send::<crate::Module>();
        assert_send::<Engine>();
    }
}
