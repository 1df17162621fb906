//! `Linker<T>`: resolves imports by module and item name.

use crate::Engine;
use crate::externals::Extern;
use crate::instance::Instance;
use crate::module::Module;
use crate::store::{AsContext, AsContextMut};
use anyhow::{Result, bail};
use std::collections::HashMap;
use std::marker::PhantomData;

/// Named definitions that satisfy modules' imports.
pub struct Linker<T> {
    engine: Engine,
    items: HashMap<(String, String), Extern>,
    allow_shadowing: bool,
    _marker: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker")
            .field("items", &self.items.len())
            .finish_non_exhaustive()
    }
}

impl<T> Linker<T> {
    /// An empty linker for `engine`.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            items: HashMap::new(),
            allow_shadowing: false,
            _marker: PhantomData,
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

    fn insert(&mut self, module: &str, name: &str, item: Extern) -> Result<()> {
        let key = (module.to_string(), name.to_string());
        if !self.allow_shadowing && self.items.contains_key(&key) {
            bail!("import `{module}::{name}` is already defined");
        }
        self.items.insert(key, item);
        Ok(())
    }

    /// Defines `module::name` as `item`.
    pub fn define(
        &mut self,
        store: impl AsContext<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        let _ = store.as_context();
        self.insert(module, name, item.into())?;
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
            self.insert(module_name, &name, item)?;
        }
        Ok(self)
    }

    /// The definition of `module::name`, if any.
    pub fn get(&self, module: &str, name: &str) -> Option<Extern> {
        self.items
            .get(&(module.to_string(), name.to_string()))
            .copied()
    }

    /// Instantiates `module`, resolving each import by name.
    pub fn instantiate(
        &self,
        store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        let mut imports = Vec::new();
        for import in module.imports() {
            match self.get(&import.module, &import.name) {
                Some(item) => imports.push(item),
                None => bail!(
                    "unknown import: `{}::{}` has not been defined",
                    import.module,
                    import.name
                ),
            }
        }
        Instance::new(store, module, &imports)
    }
}
