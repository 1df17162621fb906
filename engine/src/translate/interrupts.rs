//! Fuel and epoch checks: how compiled code stops a runaway module.
//!
//! Both are checked at every function entry and loop header, so no code runs unboundedly
//! between checks (straight-line code is bounded by the function's size). A leaf function
//! inlined into its caller (`compile::inline`; never with fuel) brings no epoch check: it
//! has no loop or call, and the caller's checks bound it.
//!
//! - **Fuel** (`Config::consume_fuel`): the store's `fuel_consumed` counts up from minus
//!   the fuel set. A function keeps it in a variable, adds each basic block's cost
//!   (one per operator, as Wasmtime counts: `nop`, `drop`, `block`, `loop`, `end`,
//!   `else`, `unreachable` and `return` are free; a function costs one on entry; bulk
//!   operations one per byte or element) where control leaves the block, writes it back
//!   before calls and returns, and reloads it after calls. A check traps with
//!   `Trap::OutOfFuel` once the count is no longer negative. The costs are Wasmtime's, so
//!   the same fuel stops the same module at the same point in both engines. Legacy
//!   exception handling, which Wasmtime lacks, is counted the same way: `try` and
//!   `rethrow` cost one, as `try_table` and `throw` do; `catch`, `catch_all` and
//!   `delegate` are free like `else` and `end`, so a caught throw costs the same whichever
//!   path reaches the clause.
//! - **Epochs** (`Config::epoch_interruption`): the engine's epoch counter is compared with
//!   the store's deadline, kept in a variable; when it seems passed, the `NewEpoch` builtin
//!   rereads the deadline (a host call may have moved it) and, if it has really passed,
//!   asks the store: trap with `Trap::Interrupt`, or continue with a new deadline.
//!
//! A check adds one block for fuel (the trap is one cold block per function) and two for
//! the epoch (the cold call and the continuation).

use super::env::{FuncEnv, readonly, trusted};
use crate::trap::Trap;
use crate::vm::{Builtin, field, header};
use cranelift_codegen::ir::{
    self, BlockArg, InstBuilder, MemFlagsData, Value, condcodes::IntCC, types::*,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use wasmparser::Operator;

/// What the `NewEpoch` builtin returns: go on (the deadline moved).
pub(crate) const EPOCH_CONTINUE: u32 = 0;
/// What the `NewEpoch` builtin returns: trap with `Trap::Interrupt`.
pub(crate) const EPOCH_INTERRUPT: u32 = 1;
/// What the `NewEpoch` builtin returns: trap with `Trap::HostError` (the callback failed).
pub(crate) const EPOCH_HOST_ERROR: u32 = 2;

/// The variable costs of bulk operations, per byte or element (Wasmtime's defaults).
pub(crate) mod cost {
    /// `memory.copy`, `memory.fill`, `memory.init`, per byte.
    pub const MEMORY_PER_BYTE: u8 = 1;
    /// `memory.grow`, per page.
    pub const MEMORY_GROW_PER_PAGE: u8 = 0;
    /// `table.copy`, `table.fill`, `table.init`, `table.grow`, per element.
    pub const TABLE_PER_ELEMENT: u8 = 1;
    /// `array.new*`, `array.copy`, `array.fill`, `array.init_*`, per element.
    pub const ARRAY_PER_ELEMENT: u8 = 1;
}

/// `value` if it is an integer constant, as Wasmtime reads one (the immediate's bits,
/// unsigned, clamped to `i64::MAX`).
fn const_units(b: &FunctionBuilder<'_>, value: Value) -> Option<i64> {
    let inst = b.func.dfg.value_def(value).inst()?;
    match b.func.dfg.insts[inst] {
        ir::InstructionData::UnaryImm {
            opcode: ir::Opcode::Iconst,
            imm,
        } => Some(i64::try_from(imm.bits().cast_unsigned()).unwrap_or(i64::MAX)),
        _ => None,
    }
}

/// A function's fuel accounting.
pub(crate) struct Fuel {
    /// The store's `fuel_consumed`, as this function last knew it.
    var: Variable,
    /// The cost of the operators translated since the last update of `var`.
    pending: i64,
    /// The function's one cold block that saves its block parameter (the fuel consumed)
    /// to the store and traps with `Trap::OutOfFuel`; created by the first check.
    out_of_fuel: Option<ir::Block>,
}

/// A function's epoch checks.
pub(crate) struct Epoch {
    /// The store's deadline, as this function last read it.
    deadline: Variable,
    /// The address of the engine's epoch counter.
    counter: Value,
}

impl FuncEnv<'_> {
    /// The store context's address.
    fn store_ctx(&self, b: &mut FunctionBuilder<'_>) -> Value {
        b.ins().load(I64, readonly(), self.vmctx, header::STORE)
    }

    /// Sets up fuel and epoch state on function entry and runs the first checks.
    pub(crate) fn interrupts_entry(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        consume_fuel: bool,
        epoch_interruption: bool,
    ) {
        if consume_fuel {
            let var = b.declare_var(I64);
            self.fuel = Some(Fuel {
                var,
                // Even an empty function costs one unit (as in Wasmtime).
                pending: 1,
                out_of_fuel: None,
            });
            self.fuel_load(b);
        }
        if epoch_interruption {
            let store = self.store_ctx(b);
            let counter = b.ins().load(I64, readonly(), store, field::STORE_EPOCH_PTR);
            let deadline = b.declare_var(I64);
            let d = b
                .ins()
                .load(I64, trusted(), store, field::STORE_EPOCH_DEADLINE);
            b.def_var(deadline, d);
            self.epoch = Some(Epoch { deadline, counter });
        }
        self.interrupt_checks(b);
    }

    /// Completes the function's shared out-of-fuel block, once the rest is translated.
    pub(crate) fn interrupts_finish(&mut self, b: &mut FunctionBuilder<'_>) {
        let Some(block) = self.fuel.as_ref().and_then(|f| f.out_of_fuel) else {
            return;
        };
        b.switch_to_block(block);
        b.seal_block(block);
        b.set_cold_block(block);
        let consumed = b.block_params(block)[0];
        let store = self.store_ctx(b);
        b.ins().store(
            MemFlagsData::trusted(),
            consumed,
            store,
            field::STORE_FUEL_CONSUMED,
        );
        b.ins().trap(Trap::OutOfFuel.to_cranelift());
    }

    /// The checks at a function entry or loop header.
    pub(crate) fn interrupt_checks(&mut self, b: &mut FunctionBuilder<'_>) {
        self.fuel_check(b);
        self.epoch_check(b);
    }

    /// Charges `op` and, where it ends a basic block or leaves the function, brings the
    /// fuel variable (and before calls and returns, the store) up to date. Called before
    /// `op` is translated, while its code is reachable.
    pub(crate) fn fuel_before_op(&mut self, b: &mut FunctionBuilder<'_>, op: &Operator<'_>) {
        let Some(fuel) = &mut self.fuel else { return };
        fuel.pending += match op {
            Operator::Nop
            | Operator::Drop
            | Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::Unreachable
            | Operator::Return
            | Operator::Else
            | Operator::End
            | Operator::Catch { .. }
            | Operator::CatchAll
            | Operator::Delegate { .. } => 0,
            _ => 1,
        };
        match op {
            Operator::Unreachable
            | Operator::Return
            | Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::CallRef { .. }
            | Operator::ReturnCall { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::ReturnCallRef { .. }
            | Operator::Throw { .. }
            | Operator::ThrowRef
            | Operator::Rethrow { .. } => {
                self.fuel_flush(b);
                self.fuel_save(b);
            }
            Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. }
            | Operator::Try { .. }
            | Operator::Catch { .. }
            | Operator::CatchAll
            | Operator::Delegate { .. }
            | Operator::Br { .. }
            | Operator::BrIf { .. }
            | Operator::BrTable { .. }
            | Operator::BrOnNull { .. }
            | Operator::BrOnNonNull { .. }
            | Operator::BrOnCast { .. }
            | Operator::BrOnCastFail { .. }
            | Operator::End
            | Operator::Else => self.fuel_flush(b),
            _ => {}
        }
    }

    /// Before a bulk operation on `units` elements (bytes, table elements, array elements):
    /// charges `cost_per_unit` for each (Wasmtime's variable costs), and checks fuel and
    /// the epoch as at a loop header, unless the operation is small and of constant size.
    pub(crate) fn bulk_op(&mut self, b: &mut FunctionBuilder<'_>, units: Value, cost_per_unit: u8) {
        let constant = const_units(b, units);
        if self.fuel.is_some() && cost_per_unit > 0 {
            let per_unit = i64::from(cost_per_unit);
            match constant {
                Some(n) => {
                    let fuel = self.fuel.as_mut().expect("checked");
                    fuel.pending = fuel.pending.saturating_add(n.saturating_mul(per_unit));
                }
                None => {
                    let cost = if b.func.dfg.value_type(units) == I32 {
                        let wide = b.ins().uextend(I64, units);
                        b.ins().imul_imm_u(wide, per_unit)
                    } else {
                        // Clamped, so an untrusted count cannot overflow the counter.
                        let cost = b.ins().imul_imm_u(units, per_unit);
                        let max = b.ins().iconst(I64, i64::MAX);
                        let limit = b.ins().iconst(I64, i64::MAX / per_unit);
                        let clamp = b.ins().icmp(IntCC::UnsignedGreaterThan, units, limit);
                        b.ins().select(clamp, max, cost)
                    };
                    self.fuel_flush(b);
                    let var = self.fuel.as_ref().expect("checked").var;
                    let v = b.use_var(var);
                    let v = b.ins().iadd(v, cost);
                    b.def_var(var, v);
                }
            }
        }
        const SMALL_BULK_OP_COST: i64 = 128;
        if let Some(n) = constant
            && n.checked_mul(i64::from(cost_per_unit))
                .is_some_and(|c| c <= SMALL_BULK_OP_COST)
        {
            return;
        }
        self.interrupt_checks(b);
    }

    /// After a call, the callee may have used fuel: reload it.
    pub(crate) fn fuel_after_op(&mut self, b: &mut FunctionBuilder<'_>, op: &Operator<'_>) {
        if self.fuel.is_some()
            && matches!(
                op,
                Operator::Call { .. } | Operator::CallIndirect { .. } | Operator::CallRef { .. }
            )
        {
            self.fuel_load(b);
        }
    }

    /// Reloads the fuel variable from the store, where exception handlers start: the
    /// frames the exception left saved what they used.
    pub(crate) fn fuel_reload(&mut self, b: &mut FunctionBuilder<'_>) {
        if let Some(fuel) = &mut self.fuel {
            fuel.pending = 0;
            self.fuel_load(b);
        }
    }

    /// Writes the fuel variable back to the store before the function returns.
    pub(crate) fn fuel_before_return(&mut self, b: &mut FunctionBuilder<'_>) {
        if self.fuel.is_some() {
            self.fuel_flush(b);
            self.fuel_save(b);
        }
    }

    /// Adds the pending cost to the fuel variable.
    fn fuel_flush(&mut self, b: &mut FunctionBuilder<'_>) {
        let Some(fuel) = &mut self.fuel else { return };
        if fuel.pending != 0 {
            let v = b.use_var(fuel.var);
            let v = b.ins().iadd_imm_s(v, fuel.pending);
            b.def_var(fuel.var, v);
            fuel.pending = 0;
        }
    }

    fn fuel_save(&mut self, b: &mut FunctionBuilder<'_>) {
        let Some(var) = self.fuel.as_ref().map(|f| f.var) else {
            return;
        };
        let store = self.store_ctx(b);
        let v = b.use_var(var);
        b.ins().store(
            MemFlagsData::trusted(),
            v,
            store,
            field::STORE_FUEL_CONSUMED,
        );
    }

    fn fuel_load(&mut self, b: &mut FunctionBuilder<'_>) {
        let Some(var) = self.fuel.as_ref().map(|f| f.var) else {
            return;
        };
        let store = self.store_ctx(b);
        let v = b.ins().load(
            I64,
            MemFlagsData::trusted(),
            store,
            field::STORE_FUEL_CONSUMED,
        );
        b.def_var(var, v);
    }

    /// Traps with `Trap::OutOfFuel` if the fuel is used up (the store is updated first, so
    /// it reads as none left).
    fn fuel_check(&mut self, b: &mut FunctionBuilder<'_>) {
        if self.fuel.is_none() {
            return;
        }
        self.fuel_flush(b);
        let out_of_fuel = match self.fuel.as_ref().and_then(|f| f.out_of_fuel) {
            Some(block) => block,
            None => {
                // Filled in by `interrupts_finish`.
                let block = b.create_block();
                b.append_block_param(block, I64);
                self.fuel.as_mut().expect("checked").out_of_fuel = Some(block);
                block
            }
        };
        let var = self.fuel.as_ref().expect("checked").var;
        let v = b.use_var(var);
        let out = b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, v, 0);
        let cont = b.create_block();
        b.ins()
            .brif(out, out_of_fuel, &[BlockArg::Value(v)], cont, &[]);
        b.seal_block(cont);
        b.switch_to_block(cont);
    }

    /// Stops at a passed epoch deadline: traps or continues as the store says. The builtin
    /// rereads the deadline first (a host call may have moved it since this function read
    /// it); compiled code reloads it, and the fuel, after the call.
    fn epoch_check(&mut self, b: &mut FunctionBuilder<'_>) {
        let Some((deadline, counter)) = self.epoch.as_ref().map(|e| (e.deadline, e.counter)) else {
            return;
        };
        let now = b.ins().atomic_load(I64, MemFlagsData::trusted(), counter);
        let d = b.use_var(deadline);
        let passed = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, now, d);
        let call = b.create_block();
        let cont = b.create_block();
        b.ins().brif(passed, call, &[], cont, &[]);
        b.seal_block(call);

        b.switch_to_block(call);
        b.set_cold_block(call);
        self.fuel_save(b);
        // The call clobbers no register (see `Builtin::preserves_all`): the loop around it
        // keeps its values in registers. The status comes back in the store context.
        self.builtin(b, Builtin::NewEpoch, &[]);
        let store = self.store_ctx(b);
        let status = b
            .ins()
            .load(I32, trusted(), store, field::STORE_BUILTIN_STATUS);
        let interrupt = b
            .ins()
            .icmp_imm_u(IntCC::Equal, status, i64::from(EPOCH_INTERRUPT));
        b.ins().trapnz(interrupt, Trap::Interrupt.to_cranelift());
        let failed = b
            .ins()
            .icmp_imm_u(IntCC::Equal, status, i64::from(EPOCH_HOST_ERROR));
        b.ins().trapnz(failed, Trap::HostError.to_cranelift());
        let d = b
            .ins()
            .load(I64, trusted(), store, field::STORE_EPOCH_DEADLINE);
        b.def_var(deadline, d);
        self.fuel_load(b);
        b.ins().jump(cont, &[]);
        b.seal_block(cont);
        b.switch_to_block(cont);
    }
}
