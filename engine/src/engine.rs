//! `Engine`: the compiler, the type registry and shared trampolines.

use crate::compile::{BuiltinTable, Trampolines, build_isa, compile_builtins, compile_trampolines};
use crate::config::Config;
use crate::registry::{TypeRegistry, VMSharedTypeIndex};
use crate::types::FuncType;
use anyhow::{Result, bail};
use cranelift_codegen::isa::OwnedTargetIsa;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A compilation environment shared by modules and stores. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    config: Config,
    isa: OwnedTargetIsa,
    registry: TypeRegistry,
    trampolines: Mutex<HashMap<VMSharedTypeIndex, Arc<Trampolines>>>,
    builtins: BuiltinTable,
    /// The epoch, advanced by `increment_epoch`; compiled code reads it in place.
    epoch: AtomicU64,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(&Config::default()).expect("the default configuration is supported")
    }
}

impl Engine {
    /// An engine with `config`; fails if the host is unsupported or the configuration asks
    /// for features this engine does not implement.
    pub fn new(config: &Config) -> Result<Engine> {
        let unsupported = config.features.difference(Config::SUPPORTED_FEATURES);
        if !unsupported.is_empty() {
            bail!("unsupported WebAssembly features requested: {unsupported:?}");
        }
        let isa = build_isa(config)?;
        let builtins = compile_builtins(&isa)?;
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                isa,
                registry: TypeRegistry::default(),
                trampolines: Mutex::new(HashMap::new()),
                builtins,
                epoch: AtomicU64::new(0),
            }),
        })
    }

    /// The engine's configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Advances the epoch by one. Callable from any thread (a timer, a watchdog): Wasm
    /// running in a store whose epoch deadline this reaches stops at its next function
    /// entry or loop header (see [`Config::epoch_interruption`]).
    pub fn increment_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// The current epoch.
    pub(crate) fn current_epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Relaxed)
    }

    /// The epoch counter's address, for compiled code; valid as long as the engine.
    pub(crate) fn epoch_counter(&self) -> *const AtomicU64 {
        &self.inner.epoch
    }

    /// Whether two handles are the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    pub(crate) fn isa(&self) -> &OwnedTargetIsa {
        &self.inner.isa
    }

    /// The builtin table instances point at.
    pub(crate) fn builtins(&self) -> *const usize {
        self.inner.builtins.as_ptr()
    }

    /// The collector this engine's stores use.
    pub(crate) fn gc_runtime(&self) -> &'static dyn gc_core::GcRuntime {
        &gc_heap_drc::DrcRuntime
    }

    pub(crate) fn registry(&self) -> &TypeRegistry {
        &self.inner.registry
    }

    /// The trampolines for canonical type `index`, compiled on first use.
    pub(crate) fn trampolines(&self, index: VMSharedTypeIndex) -> Result<Arc<Trampolines>> {
        let mut map = self
            .inner
            .trampolines
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(t) = map.get(&index) {
            return Ok(t.clone());
        }
        let ty: FuncType = self.registry().func_type(index);
        let t = Arc::new(compile_trampolines(self, &ty)?);
        map.insert(index, t.clone());
        Ok(t)
    }
}
