//! `Config`: engine-wide settings.

use wasmparser::WasmFeatures;

/// Settings for an [`Engine`](crate::Engine).
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) features: WasmFeatures,
    pub(crate) max_wasm_stack: usize,
    pub(crate) gc_stress: bool,
    pub(crate) gc_heap_max_size: usize,
    pub(crate) gc_heap_reserve_index_space: bool,
    pub(crate) collector: Collector,
    pub(crate) gc_heap_pool: usize,
    pub(crate) debug_verifier: bool,
    pub(crate) opt_level: OptLevel,
    pub(crate) consume_fuel: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) parallel_compilation: bool,
    pub(crate) inlining: bool,
    pub(crate) relaxed_simd_deterministic: bool,
}

/// Which garbage collector manages each store's GC heap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Collector {
    /// Deferred reference counting with a backup trace for cycles (the default): frees
    /// garbage promptly, with no read barriers.
    #[default]
    Drc,
    /// The null collector: allocates by bumping a pointer and never frees; an allocation
    /// that does not fit traps with [`Trap::GcHeapOutOfMemory`](crate::Trap). For
    /// short-lived stores and as the allocation floor in benchmarks.
    Null,
}

impl Collector {
    /// Every collector.
    pub const ALL: [Collector; 2] = [Collector::Drc, Collector::Null];

    /// The collector's name, as `spec-runner --collector` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Collector::Drc => "drc",
            Collector::Null => "null",
        }
    }
}

impl std::str::FromStr for Collector {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Collector> {
        Collector::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| anyhow::anyhow!("unknown collector `{s}` (expected `drc` or `null`)"))
    }
}

/// How hard Cranelift optimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptLevel {
    /// No optimisation: fastest compilation.
    None,
    /// Optimise for speed (the default).
    Speed,
    /// Optimise for speed and code size.
    SpeedAndSize,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// The proposals this engine accepts: WebAssembly 3.0 (Wasm 2.0 with SIMD, relaxed
    /// SIMD, typed function references, tail calls, extended constant expressions,
    /// multiple memories, the GC proposal, exception handling, 64-bit memories and
    /// tables), plus wide arithmetic, custom page sizes, and (off by default) legacy
    /// exception handling. Not threads.
    pub const SUPPORTED_FEATURES: WasmFeatures = WasmFeatures::WASM2
        .union(WasmFeatures::RELAXED_SIMD)
        .union(WasmFeatures::FUNCTION_REFERENCES)
        .union(WasmFeatures::TAIL_CALL)
        .union(WasmFeatures::EXTENDED_CONST)
        .union(WasmFeatures::MULTI_MEMORY)
        .union(WasmFeatures::GC)
        .union(WasmFeatures::EXCEPTIONS)
        .union(WasmFeatures::LEGACY_EXCEPTIONS)
        .union(WasmFeatures::WIDE_ARITHMETIC)
        .union(WasmFeatures::CUSTOM_PAGE_SIZES)
        .union(WasmFeatures::MEMORY64);

    /// The features on by default: every supported one but legacy exception handling
    /// ([`Config::wasm_legacy_exceptions`]).
    pub const DEFAULT_FEATURES: WasmFeatures =
        Self::SUPPORTED_FEATURES.difference(WasmFeatures::LEGACY_EXCEPTIONS);

    /// The default configuration: every supported feature, 512 KiB of Wasm stack.
    pub fn new() -> Config {
        Config {
            features: Self::DEFAULT_FEATURES,
            max_wasm_stack: 512 * 1024,
            gc_stress: false,
            gc_heap_max_size: 256 << 20,
            gc_heap_reserve_index_space: true,
            collector: Collector::Drc,
            gc_heap_pool: 32,
            debug_verifier: cfg!(debug_assertions),
            opt_level: OptLevel::Speed,
            consume_fuel: false,
            epoch_interruption: false,
            parallel_compilation: true,
            inlining: true,
            relaxed_simd_deterministic: false,
        }
    }

    /// Sets the Wasm features the validator accepts. Features beyond
    /// [`Config::SUPPORTED_FEATURES`] make [`Engine::new`](crate::Engine::new) fail.
    pub fn wasm_features(&mut self, features: WasmFeatures) -> &mut Self {
        self.features = features;
        self
    }

    /// Accepts the legacy exception-handling instructions (`try`, `catch`, `catch_all`,
    /// `delegate`, `rethrow`), which some toolchains still emit; they run on the same
    /// mechanism as `try_table`. Default off.
    pub fn wasm_legacy_exceptions(&mut self, enable: bool) -> &mut Self {
        self.features.set(WasmFeatures::LEGACY_EXCEPTIONS, enable);
        self
    }

    /// The Wasm features the validator accepts.
    pub fn features(&self) -> WasmFeatures {
        self.features
    }

    /// The most stack, in bytes, that Wasm code may use before trapping with
    /// "call stack exhausted". The calling thread needs this much plus room for host code.
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.max_wasm_stack = bytes;
        self
    }

    /// Collects garbage at every opportunity (each call into or out of Wasm, each barrier
    /// slow path, each allocation), to expose missing roots and barriers in tests.
    pub fn gc_stress(&mut self, enable: bool) -> &mut Self {
        self.gc_stress = enable;
        self
    }

    /// The most bytes each store's GC heap may use (its address-space reservation).
    pub fn gc_heap_max_size(&mut self, bytes: usize) -> &mut Self {
        self.gc_heap_max_size = bytes;
        self
    }

    /// Whether each store's GC heap reserves address space for every 32-bit reference (4 GiB
    /// plus a header, never committed beyond what is used). Then no access through a
    /// reference can leave the heap's mapping, and compiled barriers skip their bounds
    /// checks. Turn off where virtual address space is scarce or overcommit is strict: the
    /// heap then reserves only its maximum size and compiled code checks bounds. Default on.
    pub fn gc_heap_reserve_index_space(&mut self, enable: bool) -> &mut Self {
        self.gc_heap_reserve_index_space = enable;
        self
    }

    /// How many empty GC heaps the engine keeps for new stores (default 32; 0 for none).
    /// A dropped store's heap is emptied (the memory it used zeroed, or handed back to the
    /// system when large) and kept, so a store per request costs no fresh address-space
    /// reservation. Each kept heap holds its reservation (see
    /// [`Config::gc_heap_reserve_index_space`]) and up to 256 KiB of zeroed resident pages.
    pub fn gc_heap_pool(&mut self, max_idle: usize) -> &mut Self {
        self.gc_heap_pool = max_idle;
        self
    }

    /// Chooses the garbage collector ([`Collector::Drc`] by default).
    pub fn collector(&mut self, collector: Collector) -> &mut Self {
        self.collector = collector;
        self
    }

    /// Makes compiled code consume fuel: one unit per instruction (control instructions
    /// that produce no code, `nop` and `drop` are free), checked at every function entry
    /// and loop header. A store starts with no fuel; once
    /// [`Store::set_fuel`](crate::Store::set_fuel)'s amount is used up, Wasm traps with
    /// [`Trap::OutOfFuel`](crate::Trap::OutOfFuel). Deterministic, unlike epochs; costs a
    /// few instructions per basic block.
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Self {
        self.consume_fuel = enable;
        self
    }

    /// Makes compiled code check the store's epoch deadline at every function entry and
    /// loop header: once [`Engine::increment_epoch`](crate::Engine::increment_epoch) (from
    /// any thread) reaches [`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline),
    /// Wasm traps with [`Trap::Interrupt`](crate::Trap::Interrupt), or calls the store's
    /// [`epoch_deadline_callback`](crate::Store::epoch_deadline_callback). A store's
    /// deadline starts at 0, so set one before calling in. Costs a load and a compare per
    /// check.
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Self {
        self.epoch_interruption = enable;
        self
    }

    /// Gives relaxed SIMD operators the results of the spec's deterministic profile on
    /// every host (default: off). They have them anyway but for `relaxed_madd` and
    /// `relaxed_nmadd`, which without this fuse the multiply and add only on hosts with
    /// FMA instructions, rounding twice elsewhere.
    pub fn relaxed_simd_deterministic(&mut self, enable: bool) -> &mut Self {
        self.relaxed_simd_deterministic = enable;
        self
    }

    /// Inlines tiny leaf functions (at most a dozen operators that cannot trap, call,
    /// loop or allocate: accessors, identities, small arithmetic) at their direct calls.
    /// Default on; off while fuel is on, so that every function entry is costed as in
    /// Wasmtime.
    pub fn inlining(&mut self, enable: bool) -> &mut Self {
        self.inlining = enable;
        self
    }

    /// Compiles large modules' functions on every core (default: on). Modules with less
    /// than 64 KiB of code always compile on the calling thread.
    pub fn parallel_compilation(&mut self, enable: bool) -> &mut Self {
        self.parallel_compilation = enable;
        self
    }

    /// Runs Cranelift's IR verifier on every function compiled (default: in debug builds).
    pub fn cranelift_debug_verifier(&mut self, enable: bool) -> &mut Self {
        self.debug_verifier = enable;
        self
    }

    /// Sets Cranelift's optimisation level.
    pub fn cranelift_opt_level(&mut self, level: OptLevel) -> &mut Self {
        self.opt_level = level;
        self
    }

    pub(crate) fn opt_level_name(&self) -> &'static str {
        match self.opt_level {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        }
    }
}
