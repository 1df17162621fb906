//! Translation of Wasm function bodies to Cranelift IR.
//!
//! One pass over the operators with an operand stack of SSA values and a control stack of
//! frames. Code after an unconditional branch is skipped (only its nesting is tracked) until
//! the enclosing frame ends. The function relies on prior validation: operand counts and
//! types are not re-checked.

mod casts;
mod control;
mod env;
mod gc;
mod interrupts;
mod legacy;
mod memory;
mod numeric;
mod simd;
mod table;

use interrupts::cost;
pub(crate) use interrupts::{EPOCH_CONTINUE, EPOCH_HOST_ERROR, EPOCH_INTERRUPT};

use crate::compile::{value_type, wasm_signature};
use crate::environ::ModuleInfo;
use crate::trap::Trap;
use crate::types::{RefType, ValType, convert};
use crate::vm::{Builtin, field, header};
use anyhow::{Result, bail};
use cranelift_codegen::ir::{
    self, BlockArg, GlobalValueData, InstBuilder, MemFlagsData, SourceLoc, UserFuncName, Value,
    condcodes::IntCC, types::*,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use env::FuncEnv;
use wasmparser::{BlockType, Operator};

/// An operator that could not be translated: which, where (its byte offset in the module
/// binary) and why.
#[derive(Debug)]
pub struct TranslateError {
    /// The function whose body holds the operator.
    pub func_index: u32,
    /// The operator's byte offset in the module binary.
    pub offset: usize,
    /// The operator, as wasmparser prints it.
    pub operator: String,
    error: anyhow::Error,
}

impl std::fmt::Display for TranslateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot translate `{}` at offset {:#x}: {:#}",
            self.operator, self.offset, self.error
        )
    }
}

impl std::error::Error for TranslateError {}

/// Reusable state for translating functions.
pub(crate) struct FuncTranslator<'e> {
    fctx: FunctionBuilderContext,
    /// The collector's code emission.
    gc: &'e dyn gc_compiler::GcCompiler,
    /// The engine's types, with their GC layouts.
    registry: &'e crate::runtime::registry::TypeRegistry,
    /// What the engine's configuration chose (the inliner translates without epoch checks).
    pub(crate) tunables: Tunables,
}

/// Code-generation choices from the engine's configuration.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tunables {
    /// Count and check fuel (`Config::consume_fuel`).
    pub consume_fuel: bool,
    /// Check the epoch deadline (`Config::epoch_interruption`).
    pub epoch_interruption: bool,
    /// Fuse `relaxed_madd` (`Config::relaxed_simd_deterministic`, or a host with FMA).
    pub fused_madd: bool,
}

struct State {
    stack: Vec<Value>,
    control: Vec<control::Frame>,
    /// The parameters of the open `if` frames that have not reached their `else`, innermost
    /// last (see `control::FrameKind::If`).
    if_params: Vec<Value>,
    reachable: bool,
    /// Nesting depth of frames opened in unreachable code.
    dead_depth: u32,
    /// What the function's legacy `try`s have (empty without legacy exceptions).
    tries: legacy::Tries,
    /// The byte offset of the operator being translated.
    offset: usize,
    locals: Vec<Variable>,
}

impl State {
    fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }
    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }
    fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }
    fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }
    fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }
}

fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|&v| BlockArg::Value(v)).collect()
}

impl<'e> FuncTranslator<'e> {
    /// A translator emitting GC code with `gc` for the types of `registry`, making the
    /// choices in `tunables`.
    pub(crate) fn new(
        gc: &'e dyn gc_compiler::GcCompiler,
        registry: &'e crate::runtime::registry::TypeRegistry,
        tunables: Tunables,
    ) -> Self {
        FuncTranslator {
            fctx: FunctionBuilderContext::new(),
            gc,
            registry,
            tunables,
        }
    }

    /// Translates the body of function `func_index` (`body` starts at `body_offset` in the
    /// module binary) into `func`.
    pub(crate) fn translate(
        &mut self,
        info: &ModuleInfo,
        func_index: u32,
        body: &[u8],
        body_offset: usize,
        frontend: cranelift_codegen::isa::TargetFrontendConfig,
        func: &mut ir::Function,
    ) -> Result<()> {
        let ty = info.func_type(func_index);
        *func = ir::Function::with_name_signature(
            UserFuncName::user(0, func_index),
            wasm_signature(ty),
        );
        let mut b = FunctionBuilder::new(func, &mut self.fctx);

        // Stack limit: vmctx -> VMStoreContext -> stack_limit.
        let vmctx_gv = b.create_global_value(GlobalValueData::VMContext);
        let ro = b.func.dfg.mem_flags.insert_unchecked(env::readonly());
        let store_gv = b.create_global_value(GlobalValueData::Load {
            base: vmctx_gv,
            offset: header::STORE.into(),
            global_type: I64,
            flags: ro,
        });
        let limit_flags = b
            .func
            .dfg
            .mem_flags
            .insert_unchecked(MemFlagsData::trusted());
        let limit_gv = b.create_global_value(GlobalValueData::Load {
            base: store_gv,
            offset: field::STORE_STACK_LIMIT.into(),
            global_type: I64,
            flags: limit_flags,
        });
        b.func.stack_limit = Some(limit_gv);

        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let params = b.block_params(entry).to_vec();
        let vmctx = params[0];

        let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new_features(
            body,
            body_offset as u64,
            info.features,
        ));
        let mut locals = Vec::new();
        for (&p, t) in params[2..].iter().zip(ty.params()) {
            let var = b.declare_var(value_type(t));
            if t.is_gc_ref() {
                b.declare_var_needs_stack_map(var);
                b.declare_value_needs_stack_map(p);
            }
            b.def_var(var, p);
            locals.push(var);
        }
        for local in body.get_locals_reader()? {
            let (count, t) = local?;
            let t = crate::types::convert::val_type(t, &info.canon());
            let ir_ty = value_type(&t);
            for _ in 0..count {
                let var = b.declare_var(ir_ty);
                if t.is_gc_ref() {
                    b.declare_var_needs_stack_map(var);
                }
                let zero = zero_value(&mut b, ir_ty);
                b.def_var(var, zero);
                locals.push(var);
            }
        }

        let exit = new_block_with(&mut b, ty.results());
        let mut state = State {
            stack: Vec::new(),
            control: vec![control::Frame::function(exit, ty.results().len())],
            if_params: Vec::new(),
            reachable: true,
            dead_depth: 0,
            tries: if info.features.legacy_exceptions() {
                legacy::scan(body.get_operators_reader()?)?
            } else {
                legacy::Tries::new()
            },
            offset: 0,
            locals,
        };
        let mut env = FuncEnv::new(info, vmctx, self.gc, self.registry, frontend);
        env.fused_madd = self.tunables.fused_madd;
        env.interrupts_entry(
            &mut b,
            self.tunables.consume_fuel,
            self.tunables.epoch_interruption,
        );
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let (op, offset) = reader.read_with_offset()?;
            b.set_srcloc(SourceLoc::new(offset as u32));
            state.offset = offset as usize;
            if state.reachable {
                env.fuel_before_op(&mut b, &op);
            }
            translate_op(&op, &mut b, &mut state, &mut env).map_err(|error| TranslateError {
                func_index,
                offset: offset as usize,
                operator: format!("{op:?}"),
                error,
            })?;
            if state.reachable {
                env.fuel_after_op(&mut b, &op);
            }
        }
        env.interrupts_finish(&mut b);
        b.finalize(frontend);
        env.insert_no_gc_calls(func);
        Ok(())
    }
}

fn zero_value(b: &mut FunctionBuilder<'_>, ty: ir::Type) -> Value {
    match ty {
        F32 => b.ins().f32const(0.0),
        F64 => b.ins().f64const(0.0),
        I8X16 => {
            let c = b.func.dfg.constants.insert(vec![0u8; 16].into());
            b.ins().vconst(I8X16, c)
        }
        _ => b.ins().iconst(ty, 0),
    }
}

/// Parameter and result types of a block type.
fn block_sig(info: &ModuleInfo, bt: BlockType) -> (Vec<ValType>, Vec<ValType>) {
    match bt {
        BlockType::Empty => (vec![], vec![]),
        BlockType::Type(t) => (
            vec![],
            vec![crate::types::convert::val_type(t, &info.canon())],
        ),
        BlockType::FuncType(i) => {
            let ft = info.func_type_at(i);
            (ft.params().to_vec(), ft.results().to_vec())
        }
    }
}

/// A block taking values of `types` as parameters; GC references among them are declared
/// for stack maps.
fn new_block_with(b: &mut FunctionBuilder<'_>, types: &[ValType]) -> ir::Block {
    let block = b.create_block();
    for t in types {
        let v = b.append_block_param(block, value_type(t));
        if t.is_gc_ref() {
            b.declare_value_needs_stack_map(v);
        }
    }
    block
}

/// Declares the GC references among `values` (of `types`) for stack maps.
fn declare_gc_values(b: &mut FunctionBuilder<'_>, values: &[Value], types: &[ValType]) {
    for (&v, t) in values.iter().zip(types) {
        if t.is_gc_ref() {
            b.declare_value_needs_stack_map(v);
        }
    }
}

/// The number of fields of struct type `type_index`.
fn gc_field_count(env: &FuncEnv<'_>, type_index: u32) -> usize {
    match &env.info.types[type_index as usize].composite {
        crate::types::CompositeType::Struct(fields) => fields.len(),
        _ => 0,
    }
}

fn translate_op(
    op: &Operator<'_>,
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    env: &mut FuncEnv<'_>,
) -> Result<()> {
    if !state.reachable && control::skip_unreachable(op, b, env, state) {
        return Ok(());
    }
    if numeric::translate_numeric(op, b, &mut state.stack)
        || memory::translate_memory(op, b, state, env)?
        || table::translate_table(op, b, state, env)
        || simd::translate_simd(op, b, state, env)?
    {
        return Ok(());
    }
    match *op {
        Operator::Nop => {}
        Operator::Unreachable => {
            b.ins().trap(Trap::Unreachable.to_cranelift());
            state.reachable = false;
        }
        Operator::Block { blockty } => control::block(env, state, blockty)?,
        Operator::Loop { blockty } => control::loop_(b, env, state, blockty)?,
        Operator::If { blockty } => control::if_(b, env, state, blockty)?,
        Operator::Else => control::else_(b, state),
        Operator::TryTable { ref try_table } => control::try_table(b, env, state, try_table)?,
        Operator::Try { blockty } => legacy::try_(b, env, state, blockty, state.offset)?,
        Operator::Catch { tag_index } => legacy::catch(b, env, state, Some(tag_index)),
        Operator::CatchAll => legacy::catch(b, env, state, None),
        Operator::Delegate { .. } => {
            let returned = legacy::delegate(b, env, state);
            debug_assert!(returned.is_none(), "delegate ends a try, not the function");
        }
        Operator::Rethrow { relative_depth } => legacy::rethrow(b, env, state, relative_depth),
        Operator::Throw { tag_index } => {
            let n = env
                .info
                .func_type_at(env.info.tags[tag_index as usize])
                .params()
                .len();
            let values = state.popn(n);
            let exn = gc::exn_new(env, b, tag_index, &values);
            env.throw(b, exn, Some(tag_index));
            state.reachable = false;
        }
        Operator::ThrowRef => {
            let exn = state.pop();
            b.ins()
                .trapz(exn, Trap::NullExceptionReference.to_cranelift());
            env.throw(b, exn, None);
            state.reachable = false;
        }
        Operator::End => {
            if let Some(n) = control::end(b, env, state) {
                env.fuel_before_return(b);
                let results = state.popn(n);
                b.ins().return_(&results);
            }
        }
        Operator::Br { relative_depth } => control::br(b, env, state, relative_depth),
        Operator::BrIf { relative_depth } => {
            let cond = state.pop();
            control::br_if(b, env, state, relative_depth, cond, &[]);
            env.note_fallthrough_of(b, cond);
        }
        Operator::BrTable { ref targets } => control::br_table(b, env, state, targets)?,
        Operator::Return => {
            let n = state.control[0].num_results as usize;
            let results = state.peekn(n).to_vec();
            b.ins().return_(&results);
            state.reachable = false;
        }
        Operator::Call { function_index } => {
            let ty = env.info.func_type(function_index).clone();
            let args = state.popn(ty.params().len());
            let results = env.call(b, function_index, &args, false);
            declare_gc_values(b, &results, ty.results());
            state.stack.extend(results);
        }
        Operator::CallIndirect {
            type_index,
            table_index,
        } => {
            let index = state.pop();
            let ty = env.info.func_type_at(type_index).clone();
            let args = state.popn(ty.params().len());
            let results = env.call_indirect(b, table_index, type_index, index, &args, false);
            declare_gc_values(b, &results, ty.results());
            state.stack.extend(results);
        }
        Operator::CallRef { type_index } => {
            let funcref = state.pop();
            let ty = env.info.func_type_at(type_index).clone();
            let args = state.popn(ty.params().len());
            let results = env.call_ref(b, type_index, funcref, &args, false);
            declare_gc_values(b, &results, ty.results());
            state.stack.extend(results);
        }
        Operator::ReturnCall { function_index } => {
            let n = env.info.func_type(function_index).params().len();
            let args = state.popn(n);
            env.call(b, function_index, &args, true);
            state.reachable = false;
        }
        Operator::ReturnCallIndirect {
            type_index,
            table_index,
        } => {
            let index = state.pop();
            let n = env.info.func_type_at(type_index).params().len();
            let args = state.popn(n);
            env.call_indirect(b, table_index, type_index, index, &args, true);
            state.reachable = false;
        }
        Operator::ReturnCallRef { type_index } => {
            let funcref = state.pop();
            let n = env.info.func_type_at(type_index).params().len();
            let args = state.popn(n);
            env.call_ref(b, type_index, funcref, &args, true);
            state.reachable = false;
        }
        Operator::StructNew { struct_type_index } => {
            let n = gc_field_count(env, struct_type_index);
            let values = state.popn(n);
            let r = gc::struct_new(env, b, struct_type_index, Some(&values));
            state.stack.push(r);
        }
        Operator::StructNewDefault { struct_type_index } => {
            let r = gc::struct_new(env, b, struct_type_index, None);
            state.stack.push(r);
        }
        Operator::StructGet {
            struct_type_index,
            field_index,
        }
        | Operator::StructGetS {
            struct_type_index,
            field_index,
        }
        | Operator::StructGetU {
            struct_type_index,
            field_index,
        } => {
            let extend = match op {
                Operator::StructGetS { .. } => gc::Extend::Signed,
                Operator::StructGetU { .. } => gc::Extend::Unsigned,
                _ => gc::Extend::None,
            };
            let r = state.pop();
            let v = gc::struct_get(env, b, struct_type_index, field_index, r, extend);
            state.stack.push(v);
        }
        Operator::StructSet {
            struct_type_index,
            field_index,
        } => {
            let (r, v) = state.pop2();
            gc::struct_set(env, b, struct_type_index, field_index, r, v);
        }
        Operator::ArrayNew { array_type_index } => {
            let (init, len) = state.pop2();
            env.bulk_op(b, len, cost::ARRAY_PER_ELEMENT);
            let r = gc::array_new(env, b, array_type_index, Some(init), len);
            state.stack.push(r);
        }
        Operator::ArrayNewDefault { array_type_index } => {
            let len = state.pop();
            env.bulk_op(b, len, cost::ARRAY_PER_ELEMENT);
            let r = gc::array_new(env, b, array_type_index, None, len);
            state.stack.push(r);
        }
        Operator::ArrayNewFixed {
            array_type_index,
            array_size,
        } => {
            let values = state.popn(array_size as usize);
            let r = gc::array_new_fixed(env, b, array_type_index, &values);
            state.stack.push(r);
        }
        Operator::ArrayNewData {
            array_type_index,
            array_data_index,
        } => {
            let (offset, len) = state.pop2();
            env.bulk_op(b, len, cost::ARRAY_PER_ELEMENT);
            let r = gc::array_new_data(env, b, array_type_index, array_data_index, offset, len);
            state.stack.push(r);
        }
        Operator::ArrayNewElem {
            array_type_index,
            array_elem_index,
        } => {
            let (offset, len) = state.pop2();
            env.bulk_op(b, len, cost::ARRAY_PER_ELEMENT);
            let r = gc::array_new_segment(
                env,
                b,
                Builtin::ArrayNewElem,
                array_type_index,
                array_elem_index,
                offset,
                len,
            );
            state.stack.push(r);
        }
        Operator::ArrayGet { array_type_index }
        | Operator::ArrayGetS { array_type_index }
        | Operator::ArrayGetU { array_type_index } => {
            let extend = match op {
                Operator::ArrayGetS { .. } => gc::Extend::Signed,
                Operator::ArrayGetU { .. } => gc::Extend::Unsigned,
                _ => gc::Extend::None,
            };
            let (r, i) = state.pop2();
            let v = gc::array_get(env, b, array_type_index, r, i, extend);
            state.stack.push(v);
        }
        Operator::ArraySet { array_type_index } => {
            let (r, i, v) = state.pop3();
            gc::array_set(env, b, array_type_index, r, i, v);
        }
        Operator::ArrayLen => {
            let r = state.pop();
            let v = gc::array_len(env, b, r);
            state.stack.push(v);
        }
        Operator::ArrayFill { array_type_index } => {
            let args = state.popn(4);
            env.bulk_op(b, args[3], cost::ARRAY_PER_ELEMENT);
            gc::array_fill(env, b, array_type_index, args[0], args[1], args[2], args[3]);
        }
        Operator::ArrayCopy {
            array_type_index_dst,
            ..
        } => {
            let args = state.popn(5);
            env.bulk_op(b, args[4], cost::ARRAY_PER_ELEMENT);
            let args = args.try_into().expect("five operands");
            gc::array_copy(env, b, array_type_index_dst, args);
        }
        Operator::ArrayInitData {
            array_data_index, ..
        } => {
            let args = state.popn(4);
            env.bulk_op(b, args[3], cost::ARRAY_PER_ELEMENT);
            let args = args.try_into().expect("four operands");
            gc::array_init_segment(env, b, Builtin::ArrayInitData, array_data_index, args);
        }
        Operator::ArrayInitElem {
            array_elem_index, ..
        } => {
            let args = state.popn(4);
            env.bulk_op(b, args[3], cost::ARRAY_PER_ELEMENT);
            let args = args.try_into().expect("four operands");
            gc::array_init_segment(env, b, Builtin::ArrayInitElem, array_elem_index, args);
        }
        Operator::RefI31 => {
            // The 31-bit payload shifted left, with the tag bit set.
            let x = state.pop();
            let shifted = b.ins().ishl_imm_u(x, 1);
            let r = b
                .ins()
                .bor_imm_u(shifted, i64::from(gc_core::VMGcRef::I31_TAG));
            b.declare_value_needs_stack_map(r);
            state.stack.push(r);
        }
        Operator::I31GetS | Operator::I31GetU => {
            let r = state.pop();
            b.ins().trapz(r, Trap::NullI31Reference.to_cranelift());
            let v = if matches!(op, Operator::I31GetS) {
                b.ins().sshr_imm_u(r, 1)
            } else {
                b.ins().ushr_imm_u(r, 1)
            };
            state.stack.push(v);
        }
        Operator::RefEq => {
            let (x, y) = state.pop2();
            let eq = b.ins().icmp(IntCC::Equal, x, y);
            let v = b.ins().uextend(I32, eq);
            state.stack.push(v);
        }
        // Host and internal references share one representation (a heap index or an
        // i31), so converting between the hierarchies changes only the static type; the
        // collector may need to know what becomes an `externref`.
        Operator::AnyConvertExtern => {}
        Operator::ExternConvertAny => {
            let r = state.pop();
            let gc = env.gc_compiler();
            let r = gc.extern_convert_any(env, b, r);
            state.stack.push(r);
        }
        Operator::RefTestNonNull { hty } | Operator::RefTestNullable { hty } => {
            let nullable = matches!(op, Operator::RefTestNullable { .. });
            let target = RefType::new(nullable, convert::heap_type(hty, &env.info.canon()));
            let r = state.pop();
            let v = casts::ref_test(env, b, r, &target);
            state.stack.push(v);
        }
        Operator::RefCastNonNull { hty } | Operator::RefCastNullable { hty } => {
            let nullable = matches!(op, Operator::RefCastNullable { .. });
            let target = RefType::new(nullable, convert::heap_type(hty, &env.info.canon()));
            let r = *state.stack.last().expect("validated");
            let ok = casts::ref_test(env, b, r, &target);
            b.ins().trapz(ok, Trap::CastFailure.to_cranelift());
        }
        Operator::BrOnCast {
            relative_depth,
            to_ref_type,
            ..
        }
        | Operator::BrOnCastFail {
            relative_depth,
            to_ref_type,
            ..
        } => {
            // Both keep the reference on the stack: as the branch's last value, or for the
            // fall-through.
            let target = convert::ref_type(to_ref_type, &env.info.canon());
            let r = state.pop();
            let ok = casts::ref_test(env, b, r, &target);
            let cond = if matches!(op, Operator::BrOnCast { .. }) {
                ok
            } else {
                b.ins().bxor_imm_u(ok, 1)
            };
            control::br_if(b, env, state, relative_depth, cond, &[r]);
            state.stack.push(r);
        }
        Operator::RefAsNonNull => {
            let r = *state.stack.last().expect("validated");
            b.ins().trapz(r, Trap::NullReference.to_cranelift());
        }
        Operator::BrOnNull { relative_depth } => {
            // Branch (without the reference) if null; otherwise continue with it.
            let r = state.pop();
            let is_null = b.ins().icmp_imm_u(IntCC::Equal, r, 0);
            control::br_if(b, env, state, relative_depth, is_null, &[]);
            state.stack.push(r);
        }
        Operator::BrOnNonNull { relative_depth } => {
            // Branch with the reference if non-null; otherwise continue without it.
            let r = state.pop();
            control::br_if(b, env, state, relative_depth, r, &[r]);
        }
        Operator::Drop => {
            state.pop();
        }
        Operator::Select => {
            let (x, y, c) = state.pop3();
            state.stack.push(b.ins().select(c, x, y));
        }
        Operator::TypedSelect { ty } => {
            let (x, y, c) = state.pop3();
            let v = b.ins().select(c, x, y);
            let ty = crate::types::convert::val_type(ty, &env.info.canon());
            declare_gc_values(b, &[v], &[ty]);
            state.stack.push(v);
        }
        Operator::LocalGet { local_index } => {
            let v = b.use_var(state.locals[local_index as usize]);
            state.stack.push(v);
        }
        Operator::LocalSet { local_index } => {
            let v = state.pop();
            b.def_var(state.locals[local_index as usize], v);
        }
        Operator::LocalTee { local_index } => {
            let v = *state.stack.last().expect("validated");
            b.def_var(state.locals[local_index as usize], v);
        }
        Operator::GlobalGet { global_index } => {
            let v = env.global_get(b, global_index);
            state.stack.push(v);
        }
        Operator::GlobalSet { global_index } => {
            let v = state.pop();
            env.global_set(b, global_index, v);
        }

        Operator::RefNull { hty } => {
            let heap = crate::types::convert::heap_type(hty, &env.info.canon());
            let ty = crate::compile::ref_type(&heap);
            let v = b.ins().iconst(ty, 0);
            state.stack.push(v);
        }
        Operator::RefIsNull => {
            let r = state.pop();
            let is_null = b.ins().icmp_imm_u(IntCC::Equal, r, 0);
            let v = b.ins().uextend(I32, is_null);
            state.stack.push(v);
        }
        Operator::RefFunc { function_index } => {
            let v = env.ref_func(b, function_index);
            state.stack.push(v);
        }
        ref other => bail!("unsupported operator: {other:?}"),
    }
    Ok(())
}

/// An address, index or length of either index type (i32, or i64 for 64-bit memories and
/// tables) as an i64.
pub(crate) fn to_i64(b: &mut FunctionBuilder<'_>, v: Value) -> Value {
    if b.func.dfg.value_type(v) == I64 {
        v
    } else {
        b.ins().uextend(I64, v)
    }
}

#[cfg(test)]
mod tests {
    use super::TranslateError;

    #[test]
    fn translate_errors_name_the_operator_and_its_offset() {
        let err = anyhow::Error::new(TranslateError {
            func_index: 3,
            offset: 0x2a,
            operator: "V128Load".into(),
            error: anyhow::anyhow!("unsupported operator"),
        })
        .context("failed to translate function 3");
        assert_eq!(
            format!("{err:#}"),
            "failed to translate function 3: cannot translate `V128Load` at offset 0x2a: \
             unsupported operator"
        );
        let inner = err.downcast_ref::<TranslateError>().expect("typed");
        assert_eq!((inner.func_index, inner.offset), (3, 0x2a));
    }
}
