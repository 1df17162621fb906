//! Per-signature trampolines between the host's array calling convention and compiled
//! Wasm's tail calling convention.
//!
//! - The *entry* trampoline is called from Rust as
//!   `extern "C" fn(funcref: *const VMFuncRef, caller_vmctx: *mut u8, values: *mut ValRaw)`:
//!   it loads the arguments from `values`, calls the function, and stores the results back.
//! - The *host* trampoline has the Wasm signature and is the `wasm_call` of every host
//!   function of that type: it spills the arguments to a stack array, calls the host entry
//!   stored at offset 0 of the callee context, and raises `Trap::HostError` if that returns 0.

use super::{CodeMemory, CodeNames, compile_function, value_type, wasm_signature};
use crate::trap::Trap;
use crate::types::FuncType;
use crate::vm::field;
use anyhow::Result;
use cranelift_codegen::ir::{
    self, AbiParam, InstBuilder, MemFlagsData, Signature, StackSlotData, StackSlotKind,
    UserFuncName,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

/// The two trampolines of one function type.
#[derive(Debug)]
pub(crate) struct Trampolines {
    code: CodeMemory,
}

// SAFETY: the code memory is immutable after creation and only read (executed).
unsafe impl Send for Trampolines {}
// SAFETY: as above.
unsafe impl Sync for Trampolines {}

impl Trampolines {
    /// The entry trampoline (see the module docs).
    pub(crate) fn entry(&self) -> *const u8 {
        self.code.function(0)
    }

    /// The host trampoline (see the module docs).
    pub(crate) fn host(&self) -> *const u8 {
        self.code.function(1)
    }
}

fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Compiles both trampolines for `ty`.
pub(crate) fn compile_trampolines(engine: &crate::Engine, ty: &FuncType) -> Result<Trampolines> {
    let isa = engine.isa();
    let pointer = isa.pointer_type();
    let wasm_sig = wasm_signature(ty);
    let mut fctx = FunctionBuilderContext::new();
    let mut ctx = cranelift_codegen::Context::new();

    // Entry trampoline.
    let mut sig = Signature::new(CallConv::triple_default(isa.triple()));
    sig.params.extend([AbiParam::new(pointer); 3]);
    ctx.func = ir::Function::with_name_signature(UserFuncName::user(1, 0), sig);
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let [funcref, caller, values] = b.block_params(block).try_into().expect("3 params");
        let callee_sig = b.import_signature(wasm_sig.clone());
        let code = b
            .ins()
            .load(pointer, flags(), funcref, field::FUNCREF_WASM_CALL);
        let vmctx = b
            .ins()
            .load(pointer, flags(), funcref, field::FUNCREF_VMCTX);
        let mut args = vec![vmctx, caller];
        for (i, p) in ty.params().iter().enumerate() {
            let off = (i as u32 * field::VALRAW_SIZE) as i32;
            args.push(b.ins().load(value_type(p), flags(), values, off));
        }
        let call = b.ins().call_indirect(callee_sig, code, &args);
        let results = b.inst_results(call).to_vec();
        for (i, r) in results.into_iter().enumerate() {
            let off = (i as u32 * field::VALRAW_SIZE) as i32;
            b.ins().store(flags(), r, values, off);
        }
        b.ins().return_(&[]);
        b.finalize(isa.frontend_config());
    }
    let entry = compile_function(isa, &mut ctx, None)?;

    // Host trampoline.
    ctx.clear();
    ctx.func = ir::Function::with_name_signature(UserFuncName::user(1, 1), wasm_sig);
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let params = b.block_params(block).to_vec();
        let (host_ctx, caller) = (params[0], params[1]);
        // Record the calling Wasm frame so the host (a collection, a backtrace) can walk it:
        // this trampoline keeps a frame, so [fp] is the caller's frame pointer and [fp + 8]
        // the return address into it.
        let fp = b.ins().get_frame_pointer(pointer);
        let caller_fp = b.ins().load(pointer, flags(), fp, 0);
        let return_pc = b.ins().load(pointer, flags(), fp, 8);
        let store = b
            .ins()
            .load(pointer, flags(), caller, crate::vm::header::STORE);
        b.ins()
            .store(flags(), caller_fp, store, field::STORE_LAST_EXIT_FP);
        b.ins()
            .store(flags(), return_pc, store, field::STORE_LAST_EXIT_PC);
        let slots = ty.params().len().max(ty.results().len()).max(1) as u32;
        let slot = b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            slots * field::VALRAW_SIZE,
            4,
        ));
        let values = b.ins().stack_addr(pointer, slot, 0);
        for (i, &p) in params[2..].iter().enumerate() {
            let off = (i as u32 * field::VALRAW_SIZE) as i32;
            b.ins().store(flags(), p, values, off);
        }
        let mut host_sig = Signature::new(CallConv::triple_default(isa.triple()));
        host_sig.params.extend([AbiParam::new(pointer); 4]);
        host_sig.returns.push(AbiParam::new(ir::types::I8));
        let host_sig = b.import_signature(host_sig);
        let entry_fn = b.ins().load(pointer, flags(), host_ctx, 0);
        let len = b.ins().iconst(pointer, i64::from(slots));
        let call = b
            .ins()
            .call_indirect(host_sig, entry_fn, &[host_ctx, caller, values, len]);
        let ok = b.inst_results(call)[0];
        b.ins().trapz(ok, Trap::HostError.to_cranelift());
        let mut results = Vec::new();
        for (i, r) in ty.results().iter().enumerate() {
            let off = (i as u32 * field::VALRAW_SIZE) as i32;
            results.push(b.ins().load(value_type(r), flags(), values, off));
        }
        b.ins().return_(&results);
        b.finalize(isa.frontend_config());
    }
    let host = compile_function(isa, &mut ctx, None)?;
    let code = CodeMemory::new(vec![entry, host], CodeNames::default())?;
    Ok(Trampolines { code })
}
