//! `Linker<T>`: resolves imports by module and item name.

use crate::Engine;
use crate::externals::Extern;
use crate::func::{Caller, Func, RawHostFn};
use crate::instance::Instance;
use crate::module::Module;
use crate::store::{AsContext, AsContextMut};
use crate::types::FuncType;
use crate::values::Val;
use anyhow::{Result, bail};
use std::collections::HashMap;
use std::sync::Arc;

/// A definition: an item of one store, or a host function for any store, made into a
/// [`Func`] of the instantiating store when a module imports it.
enum Definition<T> {
    Extern(Extern),
    Raw(FuncType, Arc<RawHostFn<T>>),
    Vals(FuncType, Arc<ValsHostFn<T>>),
}

type ValsHostFn<T> = dyn Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync;

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::Raw(ty, f) => Definition::Raw(ty.clone(), f.clone()),
            Definition::Vals(ty, f) => Definition::Vals(ty.clone(), f.clone()),
        }
    }
}

/// Named definitions that satisfy modules' imports.
///
/// Host functions defined with [`func_wrap`](Linker::func_wrap) or
/// [`func_new`](Linker::func_new) belong to no store: one linker serves every store of its
/// engine, as WASI's definitions do.
///
/// ```
/// use engine::{Engine, Linker, Memory, MemoryType, Module, Store};
/// let engine = Engine::default();
/// let mut store = Store::new(&engine, ());
/// let mut linker = Linker::new(&engine);
/// linker.func_wrap("env", "add", |a: i32, b: i32| a + b)?;
/// let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
/// linker.define(&store, "env", "memory", memory)?;
/// let module = Module::new(&engine, r#"(module
///     (import "env" "add" (func $add (param i32 i32) (result i32)))
///     (import "env" "memory" (memory 1))
///     (func (export "run") (i32.store (i32.const 8) (call $add (i32.const 2) (i32.const 3)))))"#)?;
/// let run = linker.instantiate(&mut store, &module)?.get_typed_func::<(), ()>(&store, "run")?;
/// run.call(&mut store, ())?;
/// assert_eq!(memory.data(&store)[8], 5);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub struct Linker<T> {
    engine: Engine,
    items: HashMap<(String, String), Definition<T>>,
    allow_shadowing: bool,
}

impl<T> std::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker")
            .field("items", &self.items.len())
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker for `engine`.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            items: HashMap::new(),
            allow_shadowing: false,
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a later definition may replace an earlier one of the same name.
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    fn insert(&mut self, module: &str, name: &str, item: Definition<T>) -> Result<()> {
        let key = (module.to_string(), name.to_string());
        if !self.allow_shadowing && self.items.contains_key(&key) {
            bail!("import `{module}::{name}` is already defined");
        }
        self.items.insert(key, item);
        Ok(())
    }

    /// Defines `module::name` as `item`, an item of `store`.
    pub fn define(
        &mut self,
        store: impl AsContext<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        let _ = store.as_context();
        self.insert(module, name, Definition::Extern(item.into()))?;
        Ok(self)
    }

    /// Defines `module::name` as a host function from a typed closure, for every store
    /// this linker instantiates into. See [`IntoFunc`](crate::IntoFunc) for the shapes:
    /// up to 16 number parameters, optionally a [`Caller`] first.
    ///
    /// ```
    /// # use engine::{Engine, Linker, Module, Store};
    /// let engine = Engine::default();
    /// let mut linker = Linker::<u32>::new(&engine);
    /// linker.func_wrap("env", "bump", |mut caller: engine::Caller<'_, u32>, by: u32| {
    ///     *caller.data_mut() += by;
    /// })?;
    /// let module = Module::new(&engine, r#"(module (import "env" "bump" (func $b (param i32)))
    ///     (func (export "run") (call $b (i32.const 5))))"#)?;
    /// let mut store = Store::new(&engine, 1);
    /// let run = linker.instantiate(&mut store, &module)?.get_typed_func::<(), ()>(&store, "run")?;
    /// run.call(&mut store, ())?;
    /// assert_eq!(*store.data(), 6);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn func_wrap<P, R>(
        &mut self,
        module: &str,
        name: &str,
        f: impl crate::IntoFunc<T, P, R>,
    ) -> Result<&mut Self> {
        let (ty, f) = f.into_func();
        self.insert(module, name, Definition::Raw(ty, Arc::from(f)))?;
        Ok(self)
    }

    /// Defines `module::name` as a host function of type `ty` over [`Val`]s, for every
    /// store this linker instantiates into (see [`Func::new`]).
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        self.insert(module, name, Definition::Vals(ty, Arc::new(f)))?;
        Ok(self)
    }

    /// Defines every export of `instance` under `module_name`.
    pub fn instance(
        &mut self,
        store: impl AsContextMut<Data = T>,
        module_name: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        for (name, item) in instance.exports(&store) {
            self.insert(module_name, &name, Definition::Extern(item))?;
        }
        Ok(self)
    }

    /// Instantiates `module` with this linker's definitions and defines each of its
    /// exports under `module_name`, so that later modules can import them.
    pub fn module(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        module: &Module,
    ) -> Result<&mut Self> {
        let instance = self.instantiate(&mut store, module)?;
        self.instance(store, module_name, instance)
    }

    /// Defines `as_module::as_name` as whatever `module::name` is.
    pub fn alias(
        &mut self,
        module: &str,
        name: &str,
        as_module: &str,
        as_name: &str,
    ) -> Result<&mut Self> {
        let def = self
            .items
            .get(&(module.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no definition of `{module}::{name}` to alias"))?;
        self.insert(as_module, as_name, def)?;
        Ok(self)
    }

    /// Defines every item of `module` also under `as_module`.
    pub fn alias_module(&mut self, module: &str, as_module: &str) -> Result<&mut Self> {
        let items: Vec<(String, Definition<T>)> = self
            .items
            .iter()
            .filter(|((m, _), _)| m == module)
            .map(|((_, n), d)| (n.clone(), d.clone()))
            .collect();
        for (name, def) in items {
            self.insert(as_module, &name, def)?;
        }
        Ok(self)
    }

    /// Defines every function import of `module` that nothing defines yet as a host
    /// function that fails when called, naming the import. Other kinds of import are left
    /// undefined.
    pub fn define_unknown_imports_as_traps(&mut self, module: &Module) -> Result<&mut Self> {
        for (m, n, ty) in self.unknown_func_imports(module) {
            let what = format!("unknown import `{m}::{n}` was called");
            self.func_new(&m, &n, ty, move |_, _, _| Err(anyhow::anyhow!("{what}")))?;
        }
        Ok(self)
    }

    /// Defines every function import of `module` that nothing defines yet as a host
    /// function returning zeros (null for references), for modules that import hooks
    /// nobody provides, such as benchmarks' timers.
    pub fn define_unknown_imports_as_default_values(
        &mut self,
        module: &Module,
    ) -> Result<&mut Self> {
        for (m, n, ty) in self.unknown_func_imports(module) {
            let defaults: Vec<Val> = ty.results().iter().map(Val::default_for).collect();
            self.func_new(&m, &n, ty, move |_, _, results| {
                results.clone_from_slice(&defaults);
                Ok(())
            })?;
        }
        Ok(self)
    }

    fn unknown_func_imports(&self, module: &Module) -> Vec<(String, String, FuncType)> {
        module
            .imports()
            .filter(|i| !self.contains(&i.module, &i.name))
            .filter_map(|i| match i.ty {
                crate::ExternType::Func(ty) => Some((i.module, i.name, ty)),
                _ => None,
            })
            .collect()
    }

    /// Resolves `module`'s imports once, for instantiating it many times
    /// ([`InstancePre::instantiate`]); an error names the first import not defined.
    pub fn instantiate_pre(&self, module: &Module) -> Result<InstancePre<T>> {
        let definitions = module
            .imports()
            .map(|import| {
                self.items
                    .get(&(import.module.clone(), import.name.clone()))
                    .cloned()
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "unknown import: `{}::{}` has not been defined",
                            import.module,
                            import.name
                        )
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(InstancePre {
            module: module.clone(),
            definitions: Arc::new(definitions),
        })
    }

    /// The definition of `module::name` as an item of `store`, if any (a host function
    /// defined for every store becomes a new [`Func`] of `store`).
    pub fn get(
        &self,
        store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        let def = self.items.get(&(module.to_string(), name.to_string()))?;
        Some(Self::resolve(store, def))
    }

    /// Whether `module::name` is defined.
    pub fn contains(&self, module: &str, name: &str) -> bool {
        self.items
            .contains_key(&(module.to_string(), name.to_string()))
    }

    fn resolve(mut store: impl AsContextMut<Data = T>, def: &Definition<T>) -> Extern {
        match def {
            Definition::Extern(e) => *e,
            Definition::Raw(ty, f) => {
                Extern::Func(Func::new_raw(&mut store, ty.clone(), f.clone()))
            }
            Definition::Vals(ty, f) => {
                let f = f.clone();
                Extern::Func(Func::new(&mut store, ty.clone(), move |c, p, r| f(c, p, r)))
            }
        }
    }

    /// Instantiates `module`, resolving each import by name.
    pub fn instantiate(
        &self,
        store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        self.instantiate_pre(module)?.instantiate(store)
    }
}

/// A module whose imports a [`Linker`] has resolved: instantiating it again looks up no
/// names. Cheap to clone.
pub struct InstancePre<T> {
    module: Module,
    definitions: Arc<Vec<Definition<T>>>,
}

impl<T> Clone for InstancePre<T> {
    fn clone(&self) -> Self {
        InstancePre {
            module: self.module.clone(),
            definitions: self.definitions.clone(),
        }
    }
}

impl<T: 'static> InstancePre<T> {
    /// The module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// A new instance in `store`. Host functions of the linker become functions of
    /// `store`; items defined as one store's must belong to `store`.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        let imports: Vec<Extern> = self
            .definitions
            .iter()
            .map(|def| Linker::resolve(&mut store, def))
            .collect();
        Instance::new(store, &self.module, &imports)
    }
}
