//! `Engine`: the compiler, the type registry and shared trampolines.

use crate::compile::{BuiltinTable, Trampolines, build_isa, compile_builtins, compile_trampolines};
use crate::config::{Collector, Config};
use crate::runtime::registry::{TypeRegistry, VMSharedTypeIndex};
use crate::types::FuncType;
use anyhow::{Result, bail};
use cranelift_codegen::isa::OwnedTargetIsa;
use gc_core::GcRuntime;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A compilation environment shared by modules and stores. Cheap to clone.
///
/// ```
/// use engine::{Config, Engine, Module};
/// let mut config = Config::new();
/// config.consume_fuel(true);
/// let engine = Engine::new(&config)?;
/// // One engine compiles modules for any number of stores, on any thread.
/// let module = Module::new(&engine, r#"(module (func (export "f")))"#)?;
/// assert!(Engine::same(module.engine(), &engine));
/// # Ok::<(), anyhow::Error>(())
/// ```
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
    /// The collector: its heaps and its code.
    gc_runtime: Box<dyn gc_core::GcRuntime>,
    gc_compiler: Box<dyn gc_compiler::GcCompiler>,
    /// Empty heaps of dropped stores, for new stores (`Config::gc_heap_pool`).
    gc_heap_pool: Mutex<Vec<Box<dyn gc_core::GcHeap>>>,
    /// The epoch, advanced by `increment_epoch`; compiled code reads it in place.
    epoch: AtomicU64,
    /// Wasm functions compiled so far.
    compiled: AtomicU64,
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
        let (gc_runtime, gc_compiler) = collector(config);
        gc_runtime
            .layouts()
            .validate()
            .map_err(|e| anyhow::anyhow!("collector `{}`: {e}", gc_runtime.name()))?;
        assert_eq!(
            gc_runtime.layouts(),
            gc_compiler.layouts(),
            "a collector's runtime and compiler agree on its layouts"
        );
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                isa,
                registry: TypeRegistry::new(*gc_runtime.layouts()),
                trampolines: Mutex::new(HashMap::new()),
                builtins,
                gc_runtime,
                gc_compiler,
                gc_heap_pool: Mutex::new(Vec::new()),
                epoch: AtomicU64::new(0),
                compiled: AtomicU64::new(0),
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

    /// How many Wasm functions this engine has compiled, a statistic: loading a
    /// precompiled module ([`Module::deserialize`](crate::Module::deserialize)) adds none.
    pub fn compiled_functions(&self) -> u64 {
        self.inner.compiled.load(Ordering::Relaxed)
    }

    pub(crate) fn count_compiled(&self, functions: usize) {
        self.inner
            .compiled
            .fetch_add(functions as u64, Ordering::Relaxed);
    }

    /// Compiles `bytes` (binary or text) into a precompiled module for engines configured
    /// like this one, as [`Module::serialize`](crate::Module::serialize) writes it.
    pub fn precompile_module(&self, bytes: impl AsRef<[u8]>) -> Result<Vec<u8>> {
        crate::Module::new(self, bytes)?.serialize()
    }

    pub(crate) fn isa(&self) -> &OwnedTargetIsa {
        &self.inner.isa
    }

    /// The builtin table instances point at.
    pub(crate) fn builtins(&self) -> *const usize {
        self.inner.builtins.as_ptr()
    }

    /// The collector this engine's stores use.
    pub(crate) fn gc_runtime(&self) -> &dyn gc_core::GcRuntime {
        &*self.inner.gc_runtime
    }

    /// An empty heap from the pool, if there is one.
    pub(crate) fn pooled_gc_heap(&self) -> Option<Box<dyn gc_core::GcHeap>> {
        self.inner
            .gc_heap_pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
    }

    /// Takes back the heap of a dropped store: emptied and kept for the next store if the
    /// pool has room, else released.
    pub(crate) fn recycle_gc_heap(&self, mut heap: Box<dyn gc_core::GcHeap>) {
        let max = self.inner.config.gc_heap_pool;
        if max == 0 {
            return;
        }
        if self
            .inner
            .gc_heap_pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
            >= max
        {
            return;
        }
        heap.reset();
        let mut pool = self
            .inner
            .gc_heap_pool
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if pool.len() < max {
            pool.push(heap);
        }
    }

    /// The collector's code emission, for the translator.
    pub(crate) fn gc_compiler(&self) -> &dyn gc_compiler::GcCompiler {
        &*self.inner.gc_compiler
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

/// The one place a [`Collector`] becomes its runtime (which makes heaps) and its compiler
/// (which emits their barriers and allocation).
fn collector(
    config: &Config,
) -> (
    Box<dyn gc_core::GcRuntime>,
    Box<dyn gc_compiler::GcCompiler>,
) {
    // Heaps reserving the whole index space need no bounds checks on header accesses.
    let checks = !config.gc_heap_reserve_index_space;
    match config.collector {
        Collector::Drc => {
            let runtime = gc_heap_drc::DrcRuntime;
            let compiler = gc_compiler::DrcCompiler::new(runtime.layouts(), checks);
            (Box::new(runtime), Box::new(compiler))
        }
        Collector::Null => {
            let runtime = gc_heap_drc::NullRuntime;
            let compiler = gc_compiler::NullCompiler::new(runtime.layouts(), checks);
            (Box::new(runtime), Box::new(compiler))
        }
    }
}
