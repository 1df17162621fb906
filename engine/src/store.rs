//! `Store<T>`: owns every instance, memory, table, global and host function, plus the
//! embedder's data `T`. Everything a store owns lives until the store is dropped.

use crate::Engine;
use crate::func::HostFuncContext;
use crate::trap::Trap;
use crate::traphandlers::TrapRecord;
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
pub(crate) struct StoreOpaque {
    pub id: StoreId,
    pub engine: Engine,
    /// Read by compiled code; boxed so its address is stable.
    pub vm: Box<VMStoreContext>,
    pub instances: Vec<Box<InstanceData>>,
    pub memories: Vec<Box<LinearMemory>>,
    pub tables: Vec<Box<TableData>>,
    pub globals: Vec<Box<GlobalData>>,
    pub host_funcs: Vec<Box<HostFuncContext>>,
    pub gc: crate::gc::StoreGc,
    /// Function references held by GC objects, by index.
    pub func_table: crate::vm::FuncRefTable,
    /// A minimal `VMContext` (header only, no instance) passed as the caller when the host
    /// calls a function, so trampolines can always find the store context.
    default_caller: Box<[usize; 4]>,
    /// The error a host function returned, until the call that trapped reports it.
    pub pending_error: Option<anyhow::Error>,
    /// A host function's panic, resumed once compiled code has been unwound.
    pub pending_panic: Option<Box<dyn Any + Send>>,
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

    /// Turns a caught trap into the error a call returns.
    pub(crate) fn trap_error(&mut self, record: TrapRecord) -> anyhow::Error {
        if record.trap == Trap::HostError {
            if let Some(panic) = self.pending_panic.take() {
                std::panic::resume_unwind(panic);
            }
            if let Some(err) = self.pending_error.take() {
                return err;
            }
        }
        let err = anyhow::Error::new(record.trap);
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
}

/// A collection of Wasm objects and the host data `T` they run with.
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
    /// Panics if the store's GC heap cannot be reserved (out of address space).
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        let gc = crate::gc::StoreGc::new(engine).expect("failed to reserve the store's GC heap");
        let mut vm = Box::new(VMStoreContext {
            gc_heap_base: gc.heap.vmctx_gc_heap_base() as usize,
            gc_heap_bound: gc.heap.vmctx_gc_heap_bound(),
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
                    host_funcs: Vec::new(),
                    gc,
                    func_table,
                    default_caller: Box::new([0, vm_ptr, engine.builtins() as usize, 0]),
                    pending_error: None,
                    pending_panic: None,
                },
                data,
            }),
        }
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
