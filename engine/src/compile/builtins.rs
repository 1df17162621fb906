//! Exit trampolines for builtins: compiled code calls builtins through these, and each
//! records the calling Wasm frame (its frame pointer and the return address into it) in the
//! store context before calling the Rust function. A builtin may then collect garbage: the
//! collector starts its walk of Wasm frames from that record.

use super::{CodeMemory, CodeNames, compile_function};
use crate::vm::{Builtin, field, header};
use anyhow::Result;
use cranelift_codegen::ir::{self, AbiParam, InstBuilder, MemFlagsData, Signature, UserFuncName};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

/// The builtin table an engine's instances point at, and the code behind it.
#[derive(Debug)]
pub(crate) struct BuiltinTable {
    _code: CodeMemory,
    table: Box<[usize]>,
}

// SAFETY: the code and the table are immutable after creation.
unsafe impl Send for BuiltinTable {}
// SAFETY: as above.
unsafe impl Sync for BuiltinTable {}

impl BuiltinTable {
    /// The table, indexed by `Builtin::index`.
    pub(crate) fn as_ptr(&self) -> *const usize {
        self.table.as_ptr()
    }
}

/// The signature compiled code calls `builtin`'s trampoline with, `vmctx` first: the C
/// calling convention, or for builtins on cold paths of hot code
/// ([`Builtin::preserves_all`]) one that clobbers no register, so that the code around the
/// call keeps its values in registers. Such a builtin returns nothing: its trampoline
/// leaves the result in `VMStoreContext::builtin_status`.
pub(crate) fn builtin_signature(pointer: ir::Type, builtin: Builtin) -> Signature {
    let mut sig = host_signature(pointer, builtin);
    if builtin.preserves_all() {
        sig.call_conv = CallConv::PreserveAll;
        sig.returns.clear();
    }
    sig
}

/// The signature of `builtin`'s Rust function: the C calling convention, `vmctx` first.
fn host_signature(pointer: ir::Type, builtin: Builtin) -> Signature {
    let (params, ret) = builtin.signature();
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.push(AbiParam::new(pointer));
    sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
    sig.returns.extend(ret.map(AbiParam::new));
    sig
}

/// Compiles one exit trampoline per builtin.
pub(crate) fn compile_builtins(isa: &OwnedTargetIsa) -> Result<BuiltinTable> {
    let pointer = isa.pointer_type();
    let flags = MemFlagsData::trusted();
    let mut fctx = FunctionBuilderContext::new();
    let mut ctx = cranelift_codegen::Context::new();
    let mut functions = Vec::new();
    for &builtin in Builtin::ALL {
        ctx.clear();
        let sig = builtin_signature(pointer, builtin);
        ctx.func = ir::Function::with_name_signature(
            UserFuncName::user(2, builtin.index() as u32),
            sig.clone(),
        );
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let args = b.block_params(block).to_vec();
        let vmctx = args[0];
        // This trampoline keeps a frame (it makes a call): [fp] is the Wasm caller's frame
        // pointer and [fp + 8] the return address into it.
        let fp = b.ins().get_frame_pointer(pointer);
        let caller_fp = b.ins().load(pointer, flags, fp, 0);
        let return_pc = b.ins().load(pointer, flags, fp, 8);
        let store = b.ins().load(pointer, flags, vmctx, header::STORE);
        b.ins()
            .store(flags, caller_fp, store, field::STORE_LAST_EXIT_FP);
        b.ins()
            .store(flags, return_pc, store, field::STORE_LAST_EXIT_PC);
        let callee_sig = b.import_signature(host_signature(pointer, builtin));
        let callee = b.ins().iconst(pointer, builtin.address() as i64);
        let call = b.ins().call_indirect(callee_sig, callee, &args);
        let results = b.inst_results(call).to_vec();
        if builtin.preserves_all() {
            if let Some(&status) = results.first() {
                b.ins()
                    .store(flags, status, store, field::STORE_BUILTIN_STATUS);
            }
            b.ins().return_(&[]);
        } else {
            b.ins().return_(&results);
        }
        b.finalize(isa.frontend_config());
        functions.push(compile_function(isa, &mut ctx, None)?);
    }
    let code = CodeMemory::new(functions, CodeNames::default())?;
    let table = (0..Builtin::ALL.len())
        .map(|i| code.function(i) as usize)
        .collect();
    Ok(BuiltinTable { _code: code, table })
}
