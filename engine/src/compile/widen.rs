//! Widening of zero-extended block parameters, before Cranelift optimises a function.
//!
//! A Wasm `i32` that addresses memory (a reference into the GC heap, an index into a
//! linear memory) is zero-extended to 64 bits before it is added to a base. When the
//! `i32` is a block parameter (a loop's variable), Cranelift cannot see that the value
//! coming in is already zero-extended in its register (a 32-bit load or add leaves the
//! upper half zero on x86-64), so it zero-extends it again, with a `mov` that every
//! iteration's chain of dependent loads waits for: a list walk's next cell address is one
//! cycle later per cell.
//!
//! [`widen_extended_params`] turns each such parameter into an `i64` one: every incoming
//! edge passes the zero-extended argument (free where that argument came from a 32-bit
//! operation, which Cranelift's x64 lowering knows), the extensions of the parameter
//! become the new parameter itself, and its other uses read the low half (`ireduce`, no
//! instruction). The parameter's value is the same on every path, so the rewrite
//! preserves the function's meaning exactly. Only blocks entered by plain `jump` and
//! `brif` edges are rewritten (not the entry block, `br_table` targets or `try_call`
//! continuations).

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::{self, BlockArg, InstBuilder, Opcode, Value, ValueDef, types::*};
use std::collections::{HashMap, HashSet};

/// Widens every zero-extended `i32` block parameter of `func` to `i64` (see the module
/// documentation); returns how many were widened.
pub(crate) fn widen_extended_params(func: &mut ir::Function) -> usize {
    let Some(entry) = func.layout.entry_block() else {
        return 0;
    };
    // The zero extensions of each `i32` block parameter, and which blocks only plain
    // edges with value arguments enter.
    let mut extensions: HashMap<Value, Vec<ir::Inst>> = HashMap::new();
    let mut excluded: HashSet<ir::Block> = HashSet::from([entry]);
    let mut preds: HashMap<ir::Block, Vec<ir::Inst>> = HashMap::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            let dfg = &func.dfg;
            let data = &dfg.insts[inst];
            if let ir::InstructionData::Unary {
                opcode: Opcode::Uextend,
                arg,
            } = *data
                && dfg.ctrl_typevar(inst) == I64
            {
                let arg = dfg.resolve_aliases(arg);
                if dfg.value_type(arg) == I32 && matches!(dfg.value_def(arg), ValueDef::Param(..)) {
                    extensions.entry(arg).or_default().push(inst);
                }
            }
            let plain = matches!(data.opcode(), Opcode::Jump | Opcode::Brif);
            for call in data.branch_destination(&dfg.jump_tables, &dfg.exception_tables) {
                let target = call.block(&dfg.value_lists);
                let values = call
                    .args(&dfg.value_lists)
                    .all(|a| matches!(a, BlockArg::Value(_)));
                if plain && values {
                    // Once per branch, even a `brif` with both edges into `target`.
                    let branches = preds.entry(target).or_default();
                    if branches.last() != Some(&inst) {
                        branches.push(inst);
                    }
                } else {
                    excluded.insert(target);
                }
            }
        }
    }

    // Each widened parameter: its block and position, and the `ireduce` now standing for
    // the old parameter, mapped to the new one.
    let mut widened: Vec<(ir::Block, usize)> = Vec::new();
    let mut narrow_of: HashMap<Value, Value> = HashMap::new();
    let mut params: Vec<(Value, Vec<ir::Inst>)> = extensions.into_iter().collect();
    params.sort_by_key(|(p, _)| *p);
    for (param, insts) in params {
        let ValueDef::Param(block, index) = func.dfg.value_def(param) else {
            unreachable!("collected as a block parameter");
        };
        if excluded.contains(&block) {
            continue;
        }
        let wide = func.dfg.replace_block_param(param, I64);
        let mut pos = FuncCursor::new(func);
        pos.goto_first_insertion_point(block);
        let low = pos.ins().ireduce(I32, wide);
        func.dfg.change_to_alias(param, low);
        for inst in insts {
            let result = func.dfg.first_result(inst);
            func.dfg.detach_inst_results(inst);
            func.layout.remove_inst(inst);
            func.dfg.change_to_alias(result, wide);
        }
        narrow_of.insert(low, wide);
        widened.push((block, index));
    }

    // Every edge into a widened block passes the argument zero-extended (or, for the low
    // half of a widened parameter, the parameter itself).
    for &(block, index) in &widened {
        for &branch in preds.get(&block).into_iter().flatten() {
            let dfg = &func.dfg;
            let calls = dfg.insts[branch]
                .branch_destination(&dfg.jump_tables, &dfg.exception_tables)
                .len();
            for c in 0..calls {
                let dfg = &func.dfg;
                let call = dfg.insts[branch]
                    .branch_destination(&dfg.jump_tables, &dfg.exception_tables)[c];
                if call.block(&dfg.value_lists) != block {
                    continue;
                }
                let BlockArg::Value(arg) = call
                    .args(&dfg.value_lists)
                    .nth(index)
                    .expect("an argument per parameter")
                else {
                    unreachable!("plain edges pass values");
                };
                let arg = dfg.resolve_aliases(arg);
                let wide = match narrow_of.get(&arg) {
                    Some(&wide) => wide,
                    None => {
                        let mut pos = FuncCursor::new(func).at_inst(branch);
                        pos.ins().uextend(I64, arg)
                    }
                };
                let dfg = &mut func.dfg;
                let call = &mut dfg.insts[branch]
                    .branch_destination_mut(&mut dfg.jump_tables, &mut dfg.exception_tables)[c];
                let mut i = 0;
                call.update_args(&mut dfg.value_lists, |a| {
                    let a = if i == index { BlockArg::Value(wide) } else { a };
                    i += 1;
                    a
                });
            }
        }
    }
    widened.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::{AbiParam, MemFlagsData, Signature, UserFuncName};
    use cranelift_codegen::isa::CallConv;
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

    /// A function with `params` returning `ret`, with no body yet.
    fn empty_function(params: &[ir::Type], ret: ir::Type) -> ir::Function {
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
        sig.returns.push(AbiParam::new(ret));
        ir::Function::with_name_signature(UserFuncName::user(0, 0), sig)
    }

    /// A list walk: `loop(l: i32) { if l == 0 exit; l = load.i32 [base + uextend(l) + 8] }`,
    /// entered with the function's `i32` parameter.
    fn list_walk() -> ir::Function {
        let mut func = empty_function(&[I64, I32], I32);
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let entry = b.create_block();
        let head = b.create_block();
        let body = b.create_block();
        let exit = b.create_block();
        b.append_block_params_for_function_params(entry);
        let l = b.append_block_param(head, I32);
        b.switch_to_block(entry);
        let (base, first) = (b.block_params(entry)[0], b.block_params(entry)[1]);
        b.ins().jump(head, &[BlockArg::Value(first)]);
        b.switch_to_block(head);
        b.ins().brif(l, body, &[], exit, &[]);
        b.switch_to_block(body);
        let offset = b.ins().uextend(I64, l);
        let addr = b.ins().iadd(base, offset);
        let next = b.ins().load(I32, MemFlagsData::trusted(), addr, 8);
        b.ins().jump(head, &[BlockArg::Value(next)]);
        b.switch_to_block(exit);
        b.ins().return_(&[l]);
        b.seal_all_blocks();
        b.finalize(frontend());
        func
    }

    /// The host's frontend configuration.
    fn frontend() -> cranelift_codegen::isa::TargetFrontendConfig {
        crate::compile::build_isa(&crate::Config::new())
            .expect("the host ISA")
            .frontend_config()
    }

    fn verify(func: &ir::Function) {
        let flags = cranelift_codegen::settings::Flags::new(cranelift_codegen::settings::builder());
        cranelift_codegen::verify_function(func, &flags).unwrap_or_else(|e| panic!("{e}\n{func}"));
    }

    #[test]
    fn a_loop_variable_used_zero_extended_becomes_64_bits() {
        let mut func = list_walk();
        verify(&func);
        assert_eq!(widen_extended_params(&mut func), 1);
        verify(&func);
        let text = func.display().to_string();
        let head = func.layout.blocks().nth(1).unwrap();
        let param = func.dfg.block_params(head)[0];
        assert_eq!(func.dfg.value_type(param), I64, "{text}");
        // One extension is left: of the function's parameter on the edge into the loop.
        // The loaded next cell is extended where it is loaded, the parameter is not.
        let extends: Vec<_> = func
            .layout
            .blocks()
            .flat_map(|b| func.layout.block_insts(b).collect::<Vec<_>>())
            .filter(|&i| func.dfg.insts[i].opcode() == Opcode::Uextend)
            .map(|i| func.dfg.inst_args(i)[0])
            .collect();
        assert_eq!(extends.len(), 2, "{text}");
        assert!(
            extends
                .iter()
                .all(|&v| !matches!(func.dfg.value_def(v), ValueDef::Param(b, _) if b == head)),
            "{text}"
        );
        // Running it again finds nothing left to widen.
        assert_eq!(widen_extended_params(&mut func), 0);
    }

    /// `entry(params: i32...) { branch } target(t: i32) { return uextend.i64 t }`, where
    /// `branch` ends the entry block given the builder, the target and the parameters;
    /// verified before and after widening, which returns how many it widened.
    fn widen_two_blocks(
        params: &[ir::Type],
        branch: impl FnOnce(&mut FunctionBuilder<'_>, ir::Block, &[Value]),
    ) -> usize {
        let mut func = empty_function(params, I64);
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let entry = b.create_block();
        let target = b.create_block();
        b.append_block_params_for_function_params(entry);
        let t = b.append_block_param(target, I32);
        b.switch_to_block(entry);
        let args = b.block_params(entry).to_vec();
        branch(&mut b, target, &args);
        b.switch_to_block(target);
        let r = b.ins().uextend(I64, t);
        b.ins().return_(&[r]);
        b.seal_all_blocks();
        b.finalize(frontend());
        verify(&func);
        let widened = widen_extended_params(&mut func);
        verify(&func);
        widened
    }

    #[test]
    fn a_brif_with_both_edges_into_the_block_is_rewritten_once() {
        let widened = widen_two_blocks(&[I32, I32], |b, target, args| {
            let (x, y) = (BlockArg::Value(args[0]), BlockArg::Value(args[1]));
            b.ins().brif(args[0], target, &[x], target, &[y]);
        });
        assert_eq!(widened, 1);
    }

    #[test]
    fn the_entry_block_and_br_table_targets_are_left_alone() {
        let widened = widen_two_blocks(&[I32], |b, target, args| {
            // The entry block's parameter is extended too, and stays a parameter.
            b.ins().uextend(I64, args[0]);
            let call = b.func.dfg.block_call(target, &[BlockArg::Value(args[0])]);
            let jt = b.create_jump_table(ir::JumpTableData::new(call, &[call]));
            b.ins().br_table(args[0], jt);
        });
        assert_eq!(widened, 0);
    }
}
