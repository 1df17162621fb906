//! Executable memory for compiled functions, with relocations resolved, and the process-wide
//! registry that maps a program counter back to its trap code and function.

use crate::trap::{FrameInfo, Trap};
use anyhow::{Context, Result, bail};
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir::LibCall;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Where a relocation points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RelocTarget {
    /// Another function in the same code object, by its position in the object.
    Function(usize),
    /// A runtime-library function, by its position in [`LIBCALLS`].
    LibCall(u8),
}

/// The runtime-library functions compiled code may call (float rounding without SSE4.1,
/// fused multiply-add), by position: what relocations and code images record.
pub(crate) const LIBCALLS: [LibCall; 11] = [
    LibCall::CeilF32,
    LibCall::FloorF32,
    LibCall::TruncF32,
    LibCall::NearestF32,
    LibCall::CeilF64,
    LibCall::FloorF64,
    LibCall::TruncF64,
    LibCall::NearestF64,
    LibCall::FmaF32,
    LibCall::FmaF64,
    LibCall::Memmove,
];

/// A relocation in a compiled function.
#[derive(Clone, Debug)]
pub(crate) struct Relocation {
    pub offset: u32,
    pub kind: Reloc,
    pub target: RelocTarget,
    pub addend: i64,
}

/// A compiled function before it is placed in memory.
#[derive(Debug)]
pub(crate) struct CompiledFunction {
    pub code: Vec<u8>,
    pub relocs: Vec<Relocation>,
    /// Offsets within `code` of trapping instructions.
    pub traps: Vec<(u32, Trap)>,
    /// Code offset ranges with their Wasm module byte offsets, sorted.
    pub srclocs: Vec<(u32, u32, u32)>,
    /// Stack maps: (return-address offset, frame size below FP, GC-reference slot
    /// offsets from SP), sorted by offset.
    pub stack_maps: Vec<(u32, u32, Box<[u32]>)>,
    /// Call sites with exception handlers, sorted by return address.
    pub call_sites: Vec<CallSite>,
    /// The Wasm function index this implements, or `None` for a trampoline.
    pub func_index: Option<u32>,
}

/// A call inside `try_table` handlers: where exceptions thrown through it go.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct CallSite {
    /// The return address's offset in the function.
    pub ret_addr: u32,
    /// The distance from the frame pointer down to the stack pointer at the call.
    pub frame_offset: u32,
    /// The handlers, in the order they are tried.
    pub handlers: Box<[CallSiteHandler]>,
}

/// One exception handler of a call site.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct CallSiteHandler {
    /// The module tag index caught, or `None` for any exception.
    pub tag: Option<u32>,
    /// Where the `VMContext` giving the tag's identity was saved, as an offset from the
    /// stack pointer at the call.
    pub context: Option<u32>,
    /// The handler's offset in the function.
    pub offset: u32,
}

/// Per-function metadata kept beside the code for trap handling and backtraces.
#[derive(Debug)]
struct FunctionInfo {
    start: usize,
    end: usize,
    func_index: Option<u32>,
    srclocs: Vec<(u32, u32, u32)>,
    stack_maps: Vec<(u32, u32, Box<[u32]>)>,
    call_sites: Vec<CallSite>,
}

/// Everything the registry knows about one code object.
#[derive(Debug)]
pub(crate) struct CodeInfo {
    start: usize,
    end: usize,
    /// Absolute addresses of trapping instructions, sorted.
    traps: Vec<(usize, Trap)>,
    functions: Vec<FunctionInfo>,
    module_name: Option<String>,
    func_names: Arc<std::collections::HashMap<u32, String>>,
    /// Where the module's `VMContext` keeps its tags' identities.
    tags_offset: u32,
}

impl CodeInfo {
    fn function_at(&self, pc: usize) -> Option<&FunctionInfo> {
        let i = self.functions.partition_point(|f| f.end <= pc);
        self.functions.get(i).filter(|f| f.start <= pc)
    }
}

/// Names used in backtraces for the functions of one code object.
#[derive(Clone, Debug, Default)]
pub(crate) struct CodeNames {
    pub module_name: Option<String>,
    pub func_names: Arc<std::collections::HashMap<u32, String>>,
    /// Where the module's `VMContext` keeps its tags' identities (`VMOffsets::tag(0)`).
    pub tags_offset: u32,
}

/// One function of a code image, with offsets relative to its start.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct FunctionMeta {
    offset: u32,
    len: u32,
    func_index: Option<u32>,
    /// Trapping instructions, with the trap's position in `Trap::ALL`.
    traps: Vec<(u32, u8)>,
    srclocs: Vec<(u32, u32, u32)>,
    stack_maps: Vec<(u32, u32, Box<[u32]>)>,
    call_sites: Vec<CallSite>,
}

/// A relocation that depends on where the code is loaded: an absolute address, or a
/// runtime-library function outside the image. Applied when the image is loaded.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct LoadReloc {
    at: u32,
    /// The relocation kind's position in [`RELOC_KINDS`].
    kind: u8,
    target: RelocTarget,
    addend: i64,
}

/// The relocation kinds `apply_reloc` supports, by position.
const RELOC_KINDS: [Reloc; 5] = [
    Reloc::Abs8,
    Reloc::X86CallPCRel4,
    Reloc::X86CallPLTRel4,
    Reloc::X86PCRel4,
    Reloc::Arm64Call,
];

/// Several functions laid out as they will be in memory, with the relocations between
/// them applied: position-independent but for the `LoadReloc`s. What `Module::serialize`
/// writes, with the bytes read back from the loaded mapping.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct CodeImage {
    bytes: Vec<u8>,
    functions: Vec<FunctionMeta>,
    load_relocs: Vec<LoadReloc>,
}

impl CodeImage {
    /// Lays out `functions` (16-byte aligned, in order) and applies the relative
    /// relocations between them.
    fn layout(functions: Vec<CompiledFunction>) -> Result<CodeImage> {
        const ALIGN: usize = 16;
        let mut offsets = Vec::with_capacity(functions.len());
        let mut size = 0usize;
        for f in &functions {
            offsets.push(size);
            size = (size + f.code.len()).next_multiple_of(ALIGN);
        }
        let mut bytes = vec![0; size];
        let mut metas = Vec::with_capacity(functions.len());
        let mut load_relocs = Vec::new();
        for (f, &offset) in functions.into_iter().zip(&offsets) {
            bytes[offset..offset + f.code.len()].copy_from_slice(&f.code);
            for r in &f.relocs {
                let at = offset + r.offset as usize;
                let kind = RELOC_KINDS
                    .iter()
                    .position(|&k| k == r.kind)
                    .with_context(|| format!("unsupported relocation kind {:?}", r.kind))?;
                match (r.kind, r.target) {
                    // Relative to the image: the same wherever it is loaded.
                    (k, RelocTarget::Function(i)) if k != Reloc::Abs8 => {
                        let target = offsets[i].wrapping_add(r.addend as usize);
                        apply_reloc(&mut bytes, 0, at, k, target)?;
                    }
                    _ => load_relocs.push(LoadReloc {
                        at: at as u32,
                        kind: kind as u8,
                        target: r.target,
                        addend: r.addend,
                    }),
                }
            }
            let trap_index =
                |t: Trap| Trap::ALL.iter().position(|&u| u == t).expect("a trap") as u8;
            metas.push(FunctionMeta {
                offset: offset as u32,
                len: f.code.len() as u32,
                func_index: f.func_index,
                traps: f.traps.iter().map(|&(o, t)| (o, trap_index(t))).collect(),
                srclocs: f.srclocs,
                stack_maps: f.stack_maps,
                call_sites: f.call_sites,
            });
        }
        Ok(CodeImage {
            bytes,
            functions: metas,
            load_relocs,
        })
    }

    /// How many functions the image holds.
    pub(crate) fn function_count(&self) -> usize {
        self.functions.len()
    }

    /// Checks what a deserialized image claims: functions and relocations inside the
    /// bytes, known traps, relocation kinds and targets.
    pub(crate) fn check(&self) -> Result<()> {
        let len = self.bytes.len() as u64;
        for f in &self.functions {
            if u64::from(f.offset) + u64::from(f.len) > len
                || f.traps
                    .iter()
                    .any(|&(o, t)| o >= f.len || usize::from(t) >= Trap::ALL.len())
            {
                bail!("corrupt code image: a function's metadata is outside its code");
            }
        }
        for r in &self.load_relocs {
            let target_ok = match r.target {
                RelocTarget::Function(i) => i < self.functions.len(),
                RelocTarget::LibCall(l) => usize::from(l) < LIBCALLS.len(),
            };
            if u64::from(r.at) + 8 > len || usize::from(r.kind) >= RELOC_KINDS.len() || !target_ok {
                bail!("corrupt code image: a relocation is outside the code");
            }
        }
        Ok(())
    }
}

/// Executable code: a read-only, executable mapping of several functions.
#[derive(Debug)]
pub(crate) struct CodeMemory {
    mmap: memmap2::Mmap,
    /// Start offset of each function within the mapping.
    offsets: Vec<usize>,
    info: Arc<CodeInfo>,
    /// The image this was loaded from, without its bytes (the mapping's first `len`).
    image: CodeImage,
    len: usize,
}

impl CodeMemory {
    /// Lays out `functions`, resolves their relocations, makes the result executable and
    /// registers it for trap handling.
    pub(crate) fn new(functions: Vec<CompiledFunction>, names: CodeNames) -> Result<CodeMemory> {
        CodeMemory::load(CodeImage::layout(functions)?, names)
    }

    /// Maps `image`, applies its load-time relocations, makes it executable and registers
    /// it for trap handling.
    pub(crate) fn load(mut image: CodeImage, names: CodeNames) -> Result<CodeMemory> {
        let size = image.bytes.len();
        let mut mmap =
            memmap2::MmapMut::map_anon(size.max(1)).context("failed to map code memory")?;
        mmap[..size].copy_from_slice(&image.bytes);
        image.bytes = Vec::new();
        let base = mmap.as_ptr() as usize;
        for r in &image.load_relocs {
            let target = match r.target {
                RelocTarget::Function(i) => base + image.functions[i].offset as usize,
                RelocTarget::LibCall(l) => super::libcall_address(LIBCALLS[usize::from(l)])?,
            };
            let target = target.wrapping_add(r.addend as usize);
            let kind = RELOC_KINDS[usize::from(r.kind)];
            apply_reloc(&mut mmap, base, r.at as usize, kind, target)?;
        }
        let mmap = mmap.make_exec().context("failed to make code executable")?;
        let base = mmap.as_ptr() as usize;
        let mut traps = Vec::new();
        let mut infos = Vec::new();
        for f in &image.functions {
            let start = base + f.offset as usize;
            traps.extend(
                f.traps
                    .iter()
                    .map(|&(o, t)| (start + o as usize, Trap::ALL[usize::from(t)])),
            );
            infos.push(FunctionInfo {
                start,
                end: start + f.len as usize,
                func_index: f.func_index,
                srclocs: f.srclocs.clone(),
                stack_maps: f.stack_maps.clone(),
                call_sites: f.call_sites.clone(),
            });
        }
        traps.sort_by_key(|t| t.0);
        let info = Arc::new(CodeInfo {
            start: base,
            end: base + size.max(1),
            traps,
            functions: infos,
            module_name: names.module_name,
            func_names: names.func_names,
            tags_offset: names.tags_offset,
        });
        registry()
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(base, info.clone());
        let offsets = image.functions.iter().map(|f| f.offset as usize).collect();
        Ok(CodeMemory {
            mmap,
            offsets,
            info,
            image,
            len: size,
        })
    }

    /// The image to save: the loaded bytes (load-time relocation sites are rewritten when
    /// loaded again) and the metadata.
    pub(crate) fn image(&self) -> CodeImage {
        CodeImage {
            bytes: self.mmap[..self.len].to_vec(),
            ..self.image.clone()
        }
    }

    /// The address of function `i` (by position in the list given to `new`).
    pub(crate) fn function(&self, i: usize) -> *const u8 {
        // `offsets[i]` is within the mapping by construction.
        self.mmap.as_ptr().wrapping_add(self.offsets[i])
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        registry()
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.info.start);
    }
}

fn apply_reloc(mem: &mut [u8], base: usize, at: usize, kind: Reloc, target: usize) -> Result<()> {
    match kind {
        Reloc::Abs8 => mem[at..at + 8].copy_from_slice(&(target as u64).to_le_bytes()),
        Reloc::X86CallPCRel4 | Reloc::X86CallPLTRel4 | Reloc::X86PCRel4 => {
            let pc = base + at;
            let delta = (target as i64).wrapping_sub(pc as i64);
            let delta = i32::try_from(delta).context("relocation out of range")?;
            mem[at..at + 4].copy_from_slice(&delta.to_le_bytes());
        }
        Reloc::Arm64Call => {
            let pc = base + at;
            let delta = (target as i64).wrapping_sub(pc as i64);
            if delta % 4 != 0 || !(-(1 << 27)..(1 << 27)).contains(&delta) {
                bail!("arm64 call relocation out of range");
            }
            let insn = u32::from_le_bytes(mem[at..at + 4].try_into().expect("4 bytes"));
            let imm26 = ((delta >> 2) as u32) & 0x03ff_ffff;
            mem[at..at + 4].copy_from_slice(&((insn & 0xfc00_0000) | imm26).to_le_bytes());
        }
        other => bail!("unsupported relocation kind {other:?}"),
    }
    Ok(())
}

fn registry() -> &'static RwLock<BTreeMap<usize, Arc<CodeInfo>>> {
    static REGISTRY: RwLock<BTreeMap<usize, Arc<CodeInfo>>> = RwLock::new(BTreeMap::new());
    &REGISTRY
}

fn with_code<R>(pc: usize, f: impl FnOnce(&CodeInfo) -> R) -> Option<R> {
    let map = registry().read().unwrap_or_else(|e| e.into_inner());
    let (_, info) = map.range(..=pc).next_back()?;
    (pc < info.end).then(|| f(info))
}

/// The trap raised by the instruction at `pc`, if `pc` is a trap site in compiled code.
pub(crate) fn lookup_trap(pc: usize) -> Option<Trap> {
    with_code(pc, |info| {
        let i = info.traps.binary_search_by_key(&pc, |t| t.0).ok()?;
        Some(info.traps[i].1)
    })
    .flatten()
}

/// Whether `pc` is inside any compiled code (functions or trampolines).
pub(crate) fn is_code_pc(pc: usize) -> bool {
    with_code(pc, |_| ()).is_some()
}

/// Whether `pc` is inside a compiled Wasm function (not a trampoline).
pub(crate) fn is_wasm_pc(pc: usize) -> bool {
    with_code(pc, |info| {
        info.function_at(pc).is_some_and(|f| f.func_index.is_some())
    })
    .unwrap_or(false)
}

/// Calls `f` with the stack map for return address `pc`: the frame's size below its frame
/// pointer and the offsets from SP of the slots holding GC references. Does nothing if
/// there is no map (no GC reference is live across that call).
pub(crate) fn stack_map_at(pc: usize, f: impl FnOnce(u32, &[u32])) {
    with_code(pc, |info| {
        let Some(func) = info.function_at(pc) else {
            return;
        };
        let rel = (pc - func.start) as u32;
        if let Ok(i) = func.stack_maps.binary_search_by_key(&rel, |m| m.0) {
            let (_, span, slots) = &func.stack_maps[i];
            f(*span, slots);
        }
    });
}

/// For a return address `pc` into a compiled Wasm function (`None` otherwise), calls `f`
/// with the exception handlers of that call if it has any: the frame offset (from FP down
/// to SP at the call), the handlers in order with absolute addresses, and where the
/// module's `VMContext` keeps its tag identities. One registry lookup per frame.
pub(crate) fn handlers_at<R>(
    pc: usize,
    f: impl FnOnce(u32, &mut dyn Iterator<Item = (Option<u32>, Option<u32>, usize)>, u32) -> R,
) -> Option<Option<R>> {
    with_code(pc, |info| {
        let func = info.function_at(pc).filter(|f| f.func_index.is_some())?;
        let rel = (pc - func.start) as u32;
        let Ok(i) = func.call_sites.binary_search_by_key(&rel, |c| c.ret_addr) else {
            return Some(None);
        };
        let site = &func.call_sites[i];
        let mut handlers = site
            .handlers
            .iter()
            .map(|h| (h.tag, h.context, func.start + h.offset as usize));
        Some(Some(f(site.frame_offset, &mut handlers, info.tags_offset)))
    })
    .flatten()
}

/// Backtrace information for the Wasm function containing `pc`.
pub(crate) fn frame_info(pc: usize) -> Option<FrameInfo> {
    with_code(pc, |info| {
        let f = info.function_at(pc)?;
        let func_index = f.func_index?;
        let rel = (pc - f.start) as u32;
        let module_offset = f
            .srclocs
            .iter()
            .find(|&&(s, e, _)| s <= rel && rel < e)
            .or_else(|| f.srclocs.iter().rev().find(|&&(s, _, _)| s <= rel))
            .map(|&(_, _, loc)| loc as usize);
        Some(FrameInfo {
            func_index,
            func_name: info.func_names.get(&func_index).cloned(),
            module_name: info.module_name.clone(),
            module_offset,
        })
    })
    .flatten()
}
