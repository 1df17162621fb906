//! `Instance`: instantiating a module (the work is `runtime::instantiate`'s) and export
//! lookup.

use crate::environ::EntityIndex;
use crate::externals::{Extern, Global, Memory, Table};
use crate::func::Func;
use crate::module::Module;
use crate::store::{AsContext, AsContextMut, StoreId, StoreOpaque, StoreParts};
use crate::vm::{InstanceData, ValRaw};
use anyhow::{Context, Result, bail};

/// An instantiated module, owned by a store.
///
/// ```
/// use engine::{Engine, Func, Instance, Module, Store};
/// let engine = Engine::default();
/// let mut store = Store::new(&engine, ());
/// let double = Func::wrap(&mut store, |x: i32| x * 2);
/// let module = Module::new(&engine, r#"(module
///     (import "" "double" (func $double (param i32) (result i32)))
///     (func (export "quad") (param i32) (result i32)
///       (call $double (call $double (local.get 0)))))"#)?;
/// // Imports in the module's order.
/// let instance = Instance::new(&mut store, &module, &[double.into()])?;
/// let quad = instance.get_typed_func::<i32, i32>(&store, "quad")?;
/// assert_eq!(quad.call(&mut store, 5)?, 20);
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    store: StoreId,
    index: usize,
}

impl Instance {
    /// Instantiates `module` with `imports`, given in the module's import order.
    ///
    /// Fails with a link error if an import has the wrong kind or type, and with a
    /// [`Trap`](crate::Trap) if a segment is out of bounds or the start function traps.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let cx = store.as_context_mut();
        let StoreParts { opaque, limiter } = cx.0.parts();
        if !crate::Engine::same(&opaque.engine, module.engine()) {
            bail!("module used with a store of a different engine");
        }
        crate::runtime::instantiate::check_imports(opaque, module, imports)?;
        let index = crate::runtime::instantiate::instantiate(opaque, limiter, module, imports)?;
        let instance = Instance {
            store: opaque.id,
            index,
        };
        if let Some(start) = module.info().start {
            let f = instance.func(opaque, start);
            let mut values = [ValRaw::default()];
            let store = crate::func::whole_store(cx.0);
            // SAFETY: `store` comes from the unique borrow `cx`, unused until the call
            // returns.
            unsafe { f.call_raw(store, &mut values)? };
        }
        Ok(instance)
    }

    pub(crate) fn from_index(store: StoreId, index: usize) -> Instance {
        Instance { store, index }
    }

    fn data<'a>(&self, opaque: &'a StoreOpaque) -> &'a InstanceData {
        opaque.check(self.store);
        &opaque.instances[self.index]
    }

    fn func(&self, opaque: &StoreOpaque, index: u32) -> Func {
        let raw = self.data(opaque).funcref(index) as usize;
        Func::from_raw(self.store, raw).expect("funcrefs are non-null")
    }

    fn entity(&self, opaque: &StoreOpaque, e: EntityIndex) -> Extern {
        let data = self.data(opaque);
        match e {
            EntityIndex::Func(i) => Extern::Func(self.func(opaque, i)),
            EntityIndex::Table(i) => {
                Extern::Table(Table::from_index(self.store, data.table_ids[i as usize]))
            }
            EntityIndex::Memory(i) => {
                Extern::Memory(Memory::from_index(self.store, data.memory_ids[i as usize]))
            }
            EntityIndex::Global(i) => {
                Extern::Global(Global::from_index(self.store, data.global_ids[i as usize]))
            }
            EntityIndex::Tag(i) => {
                Extern::Tag(crate::Tag::from_index(self.store, data.tag_ids[i as usize]))
            }
        }
    }

    /// The export called `name`.
    pub fn get_export(&self, store: impl AsContext, name: &str) -> Option<Extern> {
        let cx = store.as_context();
        let opaque = &cx.0.opaque;
        let data = self.data(opaque);
        let e = data.module.info().export(name)?;
        Some(self.entity(opaque, e))
    }

    /// All exports, in order.
    pub fn exports(&self, store: impl AsContext) -> Vec<(String, Extern)> {
        let cx = store.as_context();
        let opaque = &cx.0.opaque;
        let data = self.data(opaque);
        data.module
            .info()
            .exports
            .iter()
            .map(|(n, e)| (n.clone(), self.entity(opaque, *e)))
            .collect()
    }

    /// The exported function called `name`.
    pub fn get_func(&self, store: impl AsContext, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported function called `name`, typed.
    pub fn get_typed_func<P: crate::WasmParams, R: crate::WasmResults>(
        &self,
        store: impl AsContext,
        name: &str,
    ) -> Result<crate::TypedFunc<P, R>> {
        let cx = store.as_context();
        let f = self
            .get_func(&cx, name)
            .with_context(|| format!("no exported function `{name}`"))?;
        f.typed(&cx)
    }

    /// The exported global called `name`.
    pub fn get_global(&self, store: impl AsContext, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    /// The exported table called `name`.
    pub fn get_table(&self, store: impl AsContext, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported memory called `name`.
    pub fn get_memory(&self, store: impl AsContext, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported tag called `name`.
    pub fn get_tag(&self, store: impl AsContext, name: &str) -> Option<crate::Tag> {
        self.get_export(store, name)?.into_tag()
    }
}
