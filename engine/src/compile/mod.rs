//! From Cranelift IR to placed machine code: the target ISA, per-function compilation,
//! trampolines, and the code memory they land in.

pub(crate) mod artifact;
mod builtins;
mod code_memory;
mod inline;
mod trampolines;
mod widen;

pub(crate) use builtins::{BuiltinTable, builtin_signature, compile_builtins};
pub(crate) use code_memory::{
    CodeMemory, CodeNames, frame_info, handlers_at, is_code_pc, is_wasm_pc, lookup_trap,
    stack_map_at,
};
pub(crate) use trampolines::{Trampolines, compile_trampolines};

use crate::config::Config;
use crate::environ::ModuleInfo;
use crate::trap::Trap;
use crate::types::{FuncType, HeapType, ValType};
use anyhow::{Context, Result, anyhow};
use code_memory::{CallSite, CallSiteHandler, CompiledFunction, RelocTarget, Relocation};
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, AbiParam, ArgumentPurpose, ExternalName, LibCall, Signature};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use std::collections::HashMap;

/// Builds the host ISA with the settings compiled Wasm relies on.
pub(crate) fn build_isa(config: &Config) -> Result<OwnedTargetIsa> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, k: &str, v: &str| {
        flags
            .set(k, v)
            .map_err(|e| anyhow!("cranelift setting {k}={v}: {e}"))
    };
    set(&mut flags, "opt_level", config.opt_level_name())?;
    // Stack walking for backtraces (and later GC roots) follows frame pointers.
    set(&mut flags, "preserve_frame_pointers", "true")?;
    // Functions may return more values than fit in registers.
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    // Stack overflow is caught by the stack-limit check in each prologue instead.
    set(&mut flags, "enable_probestack", "false")?;
    set(&mut flags, "unwind_info", "false")?;
    let verify = if config.debug_verifier {
        "true"
    } else {
        "false"
    };
    set(&mut flags, "enable_verifier", verify)?;
    let isa_builder =
        cranelift_native::builder().map_err(|e| anyhow!("unsupported host machine: {e}"))?;
    isa_builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| anyhow!("failed to build the target ISA: {e}"))
}

/// The Cranelift type of a Wasm value.
pub(crate) fn value_type(t: &ValType) -> ir::Type {
    match t {
        ValType::I32 => ir::types::I32,
        ValType::I64 => ir::types::I64,
        ValType::F32 => ir::types::F32,
        ValType::F64 => ir::types::F64,
        ValType::V128 => ir::types::I8X16,
        ValType::Ref(r) => ref_type(r.heap_type()),
    }
}

/// The Cranelift type of a reference: a pointer to a `VMFuncRef` for functions, a 32-bit
/// GC reference otherwise.
pub(crate) fn ref_type(heap: &HeapType) -> ir::Type {
    match heap.top() {
        HeapType::Func => ir::types::I64,
        _ => gc_compiler::GC_REF_TYPE,
    }
}

/// The signature of a compiled Wasm function: callee and caller `VMContext`, then the Wasm
/// parameters; the Wasm results. Uses the tail calling convention.
pub(crate) fn wasm_signature(ty: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params.push(AbiParam::special(
        ir::types::I64,
        ArgumentPurpose::VMContext,
    ));
    sig.params.push(AbiParam::new(ir::types::I64));
    sig.params
        .extend(ty.params().iter().map(|t| AbiParam::new(value_type(t))));
    sig.returns
        .extend(ty.results().iter().map(|t| AbiParam::new(value_type(t))));
    sig
}

/// Compiles `func` and extracts what placing it in memory needs.
pub(crate) fn compile_function(
    isa: &OwnedTargetIsa,
    ctx: &mut cranelift_codegen::Context,
    func_index: Option<u32>,
) -> Result<CompiledFunction> {
    let names = ctx.func.params.user_named_funcs().clone();
    let disasm = log::log_enabled!(target: "engine::disasm", log::Level::Trace);
    ctx.set_disasm(disasm);
    let compiled = ctx
        .compile(&**isa, &mut ControlPlane::default())
        .map_err(|e| {
            anyhow!(
                "cranelift failed to compile function {func_index:?}: {:?}",
                e.inner
            )
        })?;
    if disasm && let Some(vcode) = &compiled.vcode {
        log::trace!(target: "engine::disasm", "function {func_index:?}:\n{vcode}");
    }
    let buffer = &compiled.buffer;
    let mut relocs = Vec::new();
    for r in buffer.relocs() {
        let target = match &r.target {
            cranelift_codegen::FinalizedRelocTarget::ExternalName(ExternalName::User(name)) => {
                let name = &names[*name];
                RelocTarget::Function(name.index as usize)
            }
            cranelift_codegen::FinalizedRelocTarget::ExternalName(ExternalName::LibCall(lc)) => {
                let i = code_memory::LIBCALLS
                    .iter()
                    .position(|l| l == lc)
                    .with_context(|| format!("unsupported libcall {lc:?}"))?;
                RelocTarget::LibCall(i as u8)
            }
            other => anyhow::bail!("unsupported relocation target {other:?}"),
        };
        relocs.push(Relocation {
            offset: r.offset,
            kind: r.kind,
            target,
            addend: r.addend,
        });
    }
    let traps = buffer
        .traps()
        .iter()
        .map(|t| {
            let trap = Trap::from_cranelift(t.code)
                .with_context(|| format!("unknown trap code {:?}", t.code))?;
            Ok((t.offset, trap))
        })
        .collect::<Result<Vec<_>>>()?;
    let stack_maps = buffer
        .user_stack_maps()
        .iter()
        .map(|(offset, span, map)| {
            let slots = map
                .entries()
                .map(|(ty, slot)| {
                    debug_assert_eq!(ty, gc_compiler::GC_REF_TYPE);
                    slot
                })
                .collect();
            (*offset, *span, slots)
        })
        .collect();
    let mut call_sites = Vec::new();
    for site in buffer.call_sites() {
        if site.exception_handlers.is_empty() {
            continue;
        }
        let mut context = None;
        let mut handlers = Vec::new();
        for h in site.exception_handlers {
            use cranelift_codegen::{ExceptionContextLoc, FinalizedMachExceptionHandler as H};
            match *h {
                H::Context(ExceptionContextLoc::SPOffset(offset)) => context = Some(offset),
                H::Context(ExceptionContextLoc::GPR(_)) => {
                    anyhow::bail!(
                        "exception context in a register: callees must use the tail convention"
                    )
                }
                H::Tag(tag, offset) => handlers.push(CallSiteHandler {
                    tag: Some(tag.as_u32()),
                    context,
                    offset,
                }),
                H::Default(offset) => handlers.push(CallSiteHandler {
                    tag: None,
                    context,
                    offset,
                }),
            }
        }
        call_sites.push(CallSite {
            ret_addr: site.ret_addr,
            frame_offset: site
                .frame_offset
                .context("call sites with handlers have a known frame offset")?,
            handlers: handlers.into(),
        });
    }
    let srclocs = buffer
        .get_srclocs_sorted()
        .iter()
        .filter(|s| !s.loc.is_default())
        .map(|s| (s.start, s.end, s.loc.bits()))
        .collect();
    Ok(CompiledFunction {
        code: buffer.data().to_vec(),
        relocs,
        traps,
        srclocs,
        stack_maps,
        call_sites,
        func_index,
    })
}

/// Translates and compiles defined functions, one `FuncTranslator` and Cranelift context
/// per thread.
struct Worker<'a> {
    engine: &'a crate::Engine,
    info: &'a ModuleInfo,
    wasm: &'a [u8],
    ctx: cranelift_codegen::Context,
    translator: crate::translate::FuncTranslator<'a>,
    /// The translated bodies of the functions inlined at their direct calls.
    inlined: &'a HashMap<u32, ir::Function>,
}

impl<'a> Worker<'a> {
    fn new(
        engine: &'a crate::Engine,
        info: &'a ModuleInfo,
        wasm: &'a [u8],
        inlined: &'a HashMap<u32, ir::Function>,
    ) -> Worker<'a> {
        let config = engine.config();
        let host_fma = engine
            .isa()
            .isa_flags()
            .iter()
            .any(|f| f.name == "has_fma" && f.as_bool() == Some(true));
        let tunables = crate::translate::Tunables {
            consume_fuel: config.consume_fuel,
            epoch_interruption: config.epoch_interruption,
            fused_madd: config.relaxed_simd_deterministic || host_fma,
        };
        Worker {
            engine,
            info,
            wasm,
            ctx: cranelift_codegen::Context::new(),
            inlined,
            translator: crate::translate::FuncTranslator::new(
                engine.gc_compiler(),
                engine.registry(),
                tunables,
            ),
        }
    }

    /// Translates defined function `def_index` into the context; its function index.
    fn translate(&mut self, def_index: usize) -> Result<u32> {
        let func_index = self.info.num_imported_funcs + def_index as u32;
        let body = &self.info.bodies[def_index];
        self.ctx.clear();
        self.translator
            .translate(
                self.info,
                func_index,
                &self.wasm[body.range.clone()],
                body.range.start,
                self.engine.isa().frontend_config(),
                &mut self.ctx.func,
            )
            .with_context(|| format!("failed to translate function {func_index}"))?;
        log::trace!("function {func_index}:\n{}", self.ctx.func.display());
        Ok(func_index)
    }

    /// Translates defined function `def_index` and inlines the direct calls of `inlined`
    /// functions into it; its function index.
    fn translate_and_inline(&mut self, def_index: usize) -> Result<u32> {
        let func_index = self.translate(def_index)?;
        if !self.inlined.is_empty() {
            let inlined = self
                .ctx
                .inline(inline::Inliner {
                    bodies: self.inlined,
                    num_imported_funcs: self.info.num_imported_funcs,
                })
                .map_err(|e| {
                    anyhow!("cranelift failed to inline into function {func_index}: {e:?}")
                })?;
            if inlined {
                log::trace!("function {func_index}: calls inlined");
            }
        }
        Ok(func_index)
    }

    fn compile(&mut self, def_index: usize) -> Result<CompiledFunction> {
        let func_index = self.translate_and_inline(def_index)?;
        widen::widen_extended_params(&mut self.ctx.func);
        compile_function(self.engine.isa(), &mut self.ctx, Some(func_index))
    }
}

/// Below this many bytes of function bodies a module compiles on the calling thread:
/// starting threads would cost more than they save (the spec suites compile thousands of
/// tiny modules).
const PARALLEL_THRESHOLD: usize = 64 * 1024;

/// Compiles every defined function of a module into one code object. Large modules
/// compile on every core (`Config::parallel_compilation`): each thread takes the next
/// function not yet taken, and the code is placed in function order whatever the threads'
/// timing, so the result does not depend on it.
pub(crate) fn compile_module(
    engine: &crate::Engine,
    info: &ModuleInfo,
    wasm: &[u8],
) -> Result<CodeMemory> {
    let count = info.bodies.len();
    let bytes: usize = info.bodies.iter().map(|b| b.range.len()).sum();
    let threads = if engine.config().parallel_compilation && bytes >= PARALLEL_THRESHOLD {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(count)
    } else {
        1
    };
    engine.count_compiled(count);
    let inlined = inlinable_bodies(engine, info, wasm)?;
    let inlined = &inlined;
    let functions = if threads <= 1 {
        let mut worker = Worker::new(engine, info, wasm, inlined);
        (0..count)
            .map(|i| worker.compile(i))
            .collect::<Result<Vec<_>>>()?
    } else {
        compile_in_parallel(engine, info, wasm, threads, inlined)?
    };
    CodeMemory::new(functions, code_names(info))
}

/// The translated bodies of the module's functions that are inlined at their direct
/// calls (`Config::inlining`; never with fuel, which Wasmtime costs per function entry).
fn inlinable_bodies(
    engine: &crate::Engine,
    info: &ModuleInfo,
    wasm: &[u8],
) -> Result<HashMap<u32, ir::Function>> {
    let config = engine.config();
    let mut bodies = HashMap::new();
    if !config.inlining || config.consume_fuel {
        return Ok(bodies);
    }
    let none = HashMap::new();
    let mut worker = Worker::new(engine, info, wasm, &none);
    // An inlined body runs a bounded number of operators (no loop, no call): the caller's
    // own epoch checks keep bounding the code between checks, so the body needs none.
    worker.translator.tunables.epoch_interruption = false;
    for (i, body) in info.bodies.iter().enumerate() {
        if inline::is_inlinable(info.features, &wasm[body.range.clone()], body.range.start)? {
            let func_index = worker.translate(i)?;
            bodies.insert(func_index, worker.ctx.func.clone());
        }
    }
    Ok(bodies)
}

/// The names backtraces show for `info`'s code.
pub(crate) fn code_names(info: &ModuleInfo) -> CodeNames {
    CodeNames {
        module_name: info.name.clone(),
        func_names: std::sync::Arc::new(info.func_names.clone()),
        tags_offset: info.offsets().tag(0),
    }
}

/// `compile_module`'s functions on `threads` threads, in function order. Of several
/// failures, the error of the first function is returned, as a sequential compile would.
fn compile_in_parallel(
    engine: &crate::Engine,
    info: &ModuleInfo,
    wasm: &[u8],
    threads: usize,
    inlined: &HashMap<u32, ir::Function>,
) -> Result<Vec<CompiledFunction>> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let count = info.bodies.len();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let work = || {
        let mut worker = Worker::new(engine, info, wasm, inlined);
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= count {
                break;
            }
            let result = worker.compile(i);
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            done.push((i, result));
        }
        done
    };
    let mut slots: Vec<Option<Result<CompiledFunction>>> = (0..count).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut all = vec![work()];
        for h in handles {
            all.push(
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        for (i, result) in all.into_iter().flatten() {
            slots[i] = Some(result);
        }
    });
    // In function order: the first failure (compiled functions after it may be missing).
    let mut functions = Vec::with_capacity(count);
    for slot in slots {
        match slot {
            Some(result) => functions.push(result?),
            None => unreachable!("every function is compiled unless an earlier one failed"),
        }
    }
    Ok(functions)
}

/// The Cranelift IR of every defined function, as the translator produces it, tiny leaf
/// functions inlined (before Cranelift's optimisations).
pub(crate) fn translate_to_clif(
    engine: &crate::Engine,
    info: &ModuleInfo,
    wasm: &[u8],
) -> Result<Vec<String>> {
    let inlined = inlinable_bodies(engine, info, wasm)?;
    let mut worker = Worker::new(engine, info, wasm, &inlined);
    (0..info.bodies.len())
        .map(|i| {
            worker.translate_and_inline(i)?;
            Ok(worker.ctx.func.display().to_string())
        })
        .collect()
}

/// Addresses for the runtime-library functions Cranelift may call (float rounding on
/// machines without SSE4.1, for instance).
pub(crate) fn libcall_address(lc: LibCall) -> Result<usize> {
    /// # Safety
    ///
    /// `src` and `dst` must be valid for `n` bytes. Compiled code calls this for numeric
    /// `array.copy` (both ranges checked to lie inside their arrays and the GC heap's
    /// mapping) and `array.new_data` (the source checked against the data segment's
    /// bytes, which the module owns, the destination as for `array.copy`).
    unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        // SAFETY: both ranges are valid for `n` bytes (see above); `copy` allows overlap.
        unsafe { std::ptr::copy(src, dst, n) };
        dst
    }
    extern "C" fn ceilf(x: f32) -> f32 {
        x.ceil()
    }
    extern "C" fn floorf(x: f32) -> f32 {
        x.floor()
    }
    extern "C" fn truncf(x: f32) -> f32 {
        x.trunc()
    }
    extern "C" fn nearestf(x: f32) -> f32 {
        x.round_ties_even()
    }
    extern "C" fn ceil(x: f64) -> f64 {
        x.ceil()
    }
    extern "C" fn floor(x: f64) -> f64 {
        x.floor()
    }
    extern "C" fn trunc(x: f64) -> f64 {
        x.trunc()
    }
    extern "C" fn nearest(x: f64) -> f64 {
        x.round_ties_even()
    }
    extern "C" fn fmaf(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    extern "C" fn fma(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
    Ok(match lc {
        LibCall::CeilF32 => ceilf as *const () as usize,
        LibCall::FloorF32 => floorf as *const () as usize,
        LibCall::TruncF32 => truncf as *const () as usize,
        LibCall::NearestF32 => nearestf as *const () as usize,
        LibCall::CeilF64 => ceil as *const () as usize,
        LibCall::FloorF64 => floor as *const () as usize,
        LibCall::TruncF64 => trunc as *const () as usize,
        LibCall::NearestF64 => nearest as *const () as usize,
        LibCall::FmaF32 => fmaf as *const () as usize,
        LibCall::FmaF64 => fma as *const () as usize,
        LibCall::Memmove => memmove as *const () as usize,
        other => anyhow::bail!("unsupported libcall {other:?}"),
    })
}
