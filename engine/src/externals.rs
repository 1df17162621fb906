//! Importable and exportable objects other than functions: globals, tables and memories,
//! and `Extern`, which is any of the four.

use crate::func::Func;
use crate::store::{AsContext, AsContextMut, StoreId, StoreParts};
use crate::types::{ExternType, GlobalType, MemoryType, Mutability, TableType};
use crate::values::{Ref, Val};
use crate::vm::{GlobalData, LinearMemory, TableData, VMGlobalDefinition};
use anyhow::{Result, bail};
use gc_core::VMGcRef;

/// An importable or exportable object.
#[derive(Clone, Copy, Debug)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A global.
    Global(Global),
    /// A table.
    Table(Table),
    /// A memory.
    Memory(Memory),
    /// An exception tag.
    Tag(crate::Tag),
}

impl Extern {
    /// The function, if this is one.
    pub fn into_func(self) -> Option<Func> {
        if let Extern::Func(f) = self {
            Some(f)
        } else {
            None
        }
    }
    /// The global, if this is one.
    pub fn into_global(self) -> Option<Global> {
        if let Extern::Global(g) = self {
            Some(g)
        } else {
            None
        }
    }
    /// The table, if this is one.
    pub fn into_table(self) -> Option<Table> {
        if let Extern::Table(t) = self {
            Some(t)
        } else {
            None
        }
    }
    /// The memory, if this is one.
    pub fn into_memory(self) -> Option<Memory> {
        if let Extern::Memory(m) = self {
            Some(m)
        } else {
            None
        }
    }
    /// The tag, if this is one.
    pub fn into_tag(self) -> Option<crate::Tag> {
        if let Extern::Tag(t) = self {
            Some(t)
        } else {
            None
        }
    }

    /// The object's type.
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        match self {
            Extern::Func(f) => ExternType::Func(f.ty(store)),
            Extern::Global(g) => ExternType::Global(g.ty(store)),
            Extern::Table(t) => ExternType::Table(t.ty(store)),
            Extern::Memory(m) => ExternType::Memory(m.ty(store)),
            Extern::Tag(t) => ExternType::Tag(t.ty(store)),
        }
    }
}

macro_rules! from_extern {
    ($($t:ident),*) => {$(
        impl From<$t> for Extern {
            fn from(x: $t) -> Extern {
                Extern::$t(x)
            }
        }
    )*};
}
from_extern!(Func, Global, Table, Memory);

impl From<crate::Tag> for Extern {
    fn from(t: crate::Tag) -> Extern {
        Extern::Tag(t)
    }
}

/// A global variable.
///
/// ```
/// use engine::{Engine, Global, GlobalType, Instance, Module, Mutability, Store, Val, ValType};
/// let engine = Engine::default();
/// let mut store = Store::new(&engine, ());
/// let counter = Global::new(&mut store, GlobalType::new(ValType::I32, Mutability::Var), Val::I32(0))?;
/// let module = Module::new(&engine, r#"(module (global $c (import "" "c") (mut i32))
///     (func (export "bump") (global.set $c (i32.add (global.get $c) (i32.const 1)))))"#)?;
/// let instance = Instance::new(&mut store, &module, &[counter.into()])?;
/// let bump = instance.get_typed_func::<(), ()>(&store, "bump")?;
/// bump.call(&mut store, ())?;
/// bump.call(&mut store, ())?;
/// assert_eq!(counter.get(&mut store).i32(), Some(2));
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Global {
    store: StoreId,
    pub(crate) index: usize,
}

impl Global {
    /// A new global of type `ty` holding `init`.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, init: Val) -> Result<Global> {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        let value = init.to_raw(opaque, ty.content())?;
        if ty.content().is_gc_ref()
            && let Some(r) = VMGcRef::from_raw(value.get_u32())
        {
            opaque.gc.heap.clone_gc_ref(&r);
        }
        opaque.globals.push(Box::new(GlobalData {
            def: VMGlobalDefinition { value },
            ty,
        }));
        Ok(Global {
            store: opaque.id,
            index: opaque.globals.len() - 1,
        })
    }

    pub(crate) fn from_index(store: StoreId, index: usize) -> Global {
        Global { store, index }
    }

    /// The global's type.
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        let cx = store.as_context();
        cx.0.opaque.check(self.store);
        cx.0.opaque.globals[self.index].ty
    }

    /// The current value.
    pub fn get(&self, mut store: impl AsContextMut) -> Val {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        opaque.check(self.store);
        let (value, ty) = (
            opaque.globals[self.index].def.value,
            opaque.globals[self.index].ty,
        );
        Val::from_raw(opaque, value, ty.content())
    }

    /// Sets the value; fails for immutable globals and values of the wrong type.
    pub fn set(&self, mut store: impl AsContextMut, value: Val) -> Result<()> {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        opaque.check(self.store);
        let ty = opaque.globals[self.index].ty;
        if ty.mutability() != Mutability::Var {
            bail!("cannot set an immutable global");
        }
        let raw = value.to_raw(opaque, ty.content())?;
        let old = std::mem::replace(&mut opaque.globals[self.index].def.value, raw);
        if ty.content().is_gc_ref() {
            let heap = &mut opaque.gc.heap;
            if let Some(r) = VMGcRef::from_raw(raw.get_u32()) {
                heap.clone_gc_ref(&r);
            }
            if let Some(r) = VMGcRef::from_raw(old.get_u32()) {
                heap.drop_gc_ref(r);
            }
        }
        Ok(())
    }
}

/// A table of references.
///
/// ```
/// use engine::{Engine, Func, Ref, RefType, Store, Table, TableType};
/// let mut store = Store::new(&Engine::default(), ());
/// let table = Table::new(&mut store, TableType::new(RefType::FUNCREF, 2, None), Ref::Func(None))?;
/// let f = Func::wrap(&mut store, || 7i32);
/// table.set(&mut store, 1, Ref::Func(Some(f)))?;
/// assert!(matches!(table.get(&mut store, 1), Some(Ref::Func(Some(_)))));
/// assert_eq!(table.grow(&mut store, 3, Ref::Func(None))?, 2);
/// assert_eq!(table.size(&store), 5);
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    store: StoreId,
    pub(crate) index: usize,
}

impl Table {
    /// A new table of type `ty` with every element set to `init`.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Ref) -> Result<Table> {
        let cx = store.as_context_mut();
        let StoreParts { opaque, limiter } = cx.0.parts();
        crate::runtime::instantiate::check_count(
            "table",
            opaque.tables.len(),
            1,
            opaque.table_limit,
        )?;
        let raw = init.to_raw(opaque, ty.element())?;
        let table = TableData::new(ty, raw, &mut **opaque.gc.heap, limiter)?;
        opaque.tables.push(Box::new(table));
        Ok(Table {
            store: opaque.id,
            index: opaque.tables.len() - 1,
        })
    }

    pub(crate) fn from_index(store: StoreId, index: usize) -> Table {
        Table { store, index }
    }

    /// The table's type, with its current size as minimum.
    pub fn ty(&self, store: impl AsContext) -> TableType {
        let cx = store.as_context();
        cx.0.opaque.check(self.store);
        cx.0.opaque.tables[self.index].ty()
    }

    /// The number of elements.
    pub fn size(&self, store: impl AsContext) -> u64 {
        let cx = store.as_context();
        cx.0.opaque.check(self.store);
        cx.0.opaque.tables[self.index].size()
    }

    /// Element `index`, or `None` if out of bounds.
    pub fn get(&self, mut store: impl AsContextMut, index: u64) -> Option<Ref> {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        opaque.check(self.store);
        let table = &opaque.tables[self.index];
        let (raw, ty) = (table.get(index)?, *table.ty().element());
        Some(Ref::from_raw(opaque, raw, &ty))
    }

    /// Sets element `index`.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, value: Ref) -> Result<()> {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        opaque.check(self.store);
        let ty = *opaque.tables[self.index].ty().element();
        let raw = value.to_raw(opaque, &ty)?;
        if !opaque.tables[self.index].set(index, raw, &mut **opaque.gc.heap) {
            bail!(crate::Trap::TableOutOfBounds);
        }
        Ok(())
    }

    /// Grows by `delta` elements set to `init`, returning the old size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Ref) -> Result<u64> {
        let cx = store.as_context_mut();
        let StoreParts { opaque, limiter } = cx.0.parts();
        opaque.check(self.store);
        let ty = *opaque.tables[self.index].ty().element();
        let raw = init.to_raw(opaque, &ty)?;
        match opaque.tables[self.index].grow(delta, raw, &mut **opaque.gc.heap, limiter)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow table by {delta}"),
        }
    }
}

/// A linear memory.
///
/// ```
/// use engine::{Engine, Memory, MemoryType, Store};
/// let mut store = Store::new(&Engine::default(), ());
/// let memory = Memory::new(&mut store, MemoryType::new(1, Some(4)))?;
/// memory.write(&mut store, 0, b"wasm")?;
/// assert_eq!(&memory.data(&store)[..4], b"wasm");
/// assert_eq!(memory.grow(&mut store, 1)?, 1); // the old size, in 64 KiB pages
/// assert_eq!(memory.size(&store), 2);
/// assert!(memory.grow(&mut store, 3).is_err()); // beyond the maximum
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    store: StoreId,
    pub(crate) index: usize,
}

impl Memory {
    /// A new memory of type `ty`.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let cx = store.as_context_mut();
        let StoreParts { opaque, limiter } = cx.0.parts();
        crate::runtime::instantiate::check_count(
            "memory",
            opaque.memories.len(),
            1,
            opaque.memory_limit,
        )?;
        opaque
            .memories
            .push(Box::new(LinearMemory::new(ty, limiter)?));
        Ok(Memory {
            store: opaque.id,
            index: opaque.memories.len() - 1,
        })
    }

    pub(crate) fn from_index(store: StoreId, index: usize) -> Memory {
        Memory { store, index }
    }

    /// The memory's type, with its current size as minimum.
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        let cx = store.as_context();
        cx.0.opaque.check(self.store);
        cx.0.opaque.memories[self.index].ty()
    }

    /// The size in pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        let cx = store.as_context();
        cx.0.opaque.check(self.store);
        cx.0.opaque.memories[self.index].pages()
    }

    /// The memory's bytes.
    pub fn data<'a, T: 'a>(&self, store: impl Into<crate::StoreContext<'a, T>>) -> &'a [u8] {
        let cx = store.into();
        cx.0.opaque.check(self.store);
        cx.0.opaque.memories[self.index].data()
    }

    /// The memory's bytes, mutably.
    pub fn data_mut<'a, T: 'a>(
        &self,
        store: impl Into<crate::StoreContextMut<'a, T>>,
    ) -> &'a mut [u8] {
        let cx = store.into();
        cx.0.opaque.check(self.store);
        cx.0.opaque.memories[self.index].data_mut()
    }

    /// The memory's bytes and the store's host data at once, for host functions that
    /// read guest memory while updating their own state (as WASI's do).
    pub fn data_and_store_mut<'a, T: 'a>(
        &self,
        store: impl Into<crate::StoreContextMut<'a, T>>,
    ) -> (&'a mut [u8], &'a mut T) {
        let cx = store.into();
        let inner = cx.0;
        inner.opaque.check(self.store);
        (
            inner.opaque.memories[self.index].data_mut(),
            &mut inner.data,
        )
    }

    /// Copies `buffer.len()` bytes at `offset` into `buffer`; an error, and no copy, if
    /// they are not all inside the memory (a bad guest pointer cannot panic the host).
    ///
    /// ```
    /// # use engine::{Engine, Memory, MemoryType, Store};
    /// let mut store = Store::new(&Engine::default(), ());
    /// let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    /// memory.write(&mut store, 100, b"hello")?;
    /// let mut buf = [0; 5];
    /// memory.read(&store, 100, &mut buf)?;
    /// assert_eq!(&buf, b"hello");
    /// assert!(memory.read(&store, 65534, &mut buf).is_err());
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn read(
        &self,
        store: impl AsContext,
        offset: usize,
        buffer: &mut [u8],
    ) -> std::result::Result<(), MemoryAccessError> {
        let cx = store.as_context();
        cx.0.opaque.check(self.store);
        let data = cx.0.opaque.memories[self.index].data();
        let range = MemoryAccessError::check(offset, buffer.len(), data.len())?;
        buffer.copy_from_slice(&data[range]);
        Ok(())
    }

    /// Copies `buffer` into the memory at `offset`; an error, and no write, if the bytes
    /// would not all lie inside the memory.
    pub fn write(
        &self,
        mut store: impl AsContextMut,
        offset: usize,
        buffer: &[u8],
    ) -> std::result::Result<(), MemoryAccessError> {
        let cx = store.as_context_mut();
        cx.0.opaque.check(self.store);
        let data = cx.0.opaque.memories[self.index].data_mut();
        let range = MemoryAccessError::check(offset, buffer.len(), data.len())?;
        data[range].copy_from_slice(buffer);
        Ok(())
    }

    /// Grows by `delta` pages, returning the old size in pages.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let cx = store.as_context_mut();
        let StoreParts { opaque, limiter } = cx.0.parts();
        opaque.check(self.store);
        match opaque.memories[self.index].grow(delta, limiter)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow memory by {delta} pages"),
        }
    }
}

/// A host access outside a memory's bounds ([`Memory::read`], [`Memory::write`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryAccessError {
    /// Where the access started.
    pub offset: usize,
    /// How many bytes it covered.
    pub len: usize,
    /// The memory's size in bytes.
    pub size: usize,
}

impl MemoryAccessError {
    /// The range `[offset, offset + len)` if it lies within `size` bytes.
    fn check(
        offset: usize,
        len: usize,
        size: usize,
    ) -> std::result::Result<std::ops::Range<usize>, MemoryAccessError> {
        match offset.checked_add(len) {
            Some(end) if end <= size => Ok(offset..end),
            _ => Err(MemoryAccessError { offset, len, size }),
        }
    }
}

impl std::fmt::Display for MemoryAccessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "out of bounds memory access: {} bytes at offset {} of a {}-byte memory",
            self.len, self.offset, self.size
        )
    }
}

impl std::error::Error for MemoryAccessError {}
