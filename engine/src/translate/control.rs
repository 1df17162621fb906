//! Structured control flow: the control stack of frames and the operators that open, close
//! and branch to them.
//!
//! A frame costs a few words and Cranelift blocks only where control needs them: a `block`'s
//! continuation is created by the first branch to it (straight-line code falls through in
//! place), a `loop` needs only its header (a branch to a loop goes there, so its end is
//! always a fall-through), and an `if` needs its arms and continuation. So a deeply nested
//! function costs memory in proportion to its size, not hundreds of bytes per level.

use super::{FuncEnv, State, block_args, block_sig, new_block_with};
use anyhow::{Result, bail};
use cranelift_codegen::ir::{self, InstBuilder, JumpTableData, Value};
use cranelift_codegen::packed_option::PackedOption;
use cranelift_frontend::FunctionBuilder;
use wasmparser::BlockType;

/// The deepest control nesting the translator accepts in one function. The validator
/// bounds nothing here; this bounds the control stack (and the compile time of code that
/// deep). Real code nests to the depth of its largest `switch`, in the thousands.
pub(crate) const MAX_NESTING: usize = 100_000;

#[derive(Debug)]
pub(super) enum FrameKind {
    /// A `block`, or the function body.
    Block,
    Loop {
        header: ir::Block,
    },
    /// `else_block` is set until an `else` is seen; until then the values the `if`
    /// consumed (`num_params` of them) are on top of `State::if_params`, to be handed to
    /// the else arm again.
    If {
        else_block: PackedOption<ir::Block>,
    },
    /// A `try_table`, whose catch clauses are the handlers from `handlers` on.
    TryTable {
        handlers: u32,
    },
    /// A legacy `try` (`legacy.rs`).
    LegacyTry(Box<LegacyTry>),
}

/// A legacy `try` frame.
#[derive(Debug)]
pub(super) struct LegacyTry {
    /// Its catch clauses are the handlers from here on, while its body is translated.
    pub handlers: u32,
    /// The clauses' handler blocks, in clause order.
    pub catches: Vec<ir::Block>,
    /// The clause being translated, once past the body.
    pub clause: Option<usize>,
    /// The caught exception, for `rethrow`.
    pub exn: Option<cranelift_frontend::Variable>,
    /// For `try ... delegate`: the handlers its body does not see, back in place at the
    /// end.
    pub saved: Vec<super::env::CatchHandler>,
}

#[derive(Debug)]
pub(super) struct Frame {
    pub kind: FrameKind,
    /// Where control continues after the frame, taking the results as block parameters;
    /// for a `block`, created by the first branch to it.
    pub next: PackedOption<ir::Block>,
    /// The frame's type, for creating `next`.
    pub blockty: BlockType,
    pub num_params: u32,
    pub num_results: u32,
    /// Operand stack height below the frame's parameters.
    pub height: u32,
    /// Whether any branch reaches `next`.
    pub next_reached: bool,
    /// How many of `FuncEnv::handlers` apply to code directly inside the frame.
    pub handlers_inside: u32,
}

impl Frame {
    /// The frame of a function body returning `num_results` values through `exit`.
    pub(super) fn function(exit: ir::Block, num_results: usize) -> Frame {
        Frame {
            kind: FrameKind::Block,
            next: exit.into(),
            blockty: BlockType::Empty,
            num_params: 0,
            num_results: num_results as u32,
            height: 0,
            next_reached: false,
            handlers_inside: 0,
        }
    }
}

/// Opens a frame of `kind` whose `num_params` parameters are on top of the stack, inside
/// which the first `handlers_inside` handlers apply.
pub(super) fn push(
    state: &mut State,
    kind: FrameKind,
    blockty: BlockType,
    next: PackedOption<ir::Block>,
    (num_params, num_results): (usize, usize),
    handlers_inside: usize,
) -> Result<()> {
    if state.control.len() >= MAX_NESTING {
        bail!("control nesting deeper than {MAX_NESTING} levels in one function");
    }
    state.control.push(Frame {
        kind,
        next,
        blockty,
        num_params: num_params as u32,
        num_results: num_results as u32,
        height: (state.stack.len() - num_params) as u32,
        next_reached: false,
        handlers_inside: handlers_inside as u32,
    });
    Ok(())
}

/// `block`.
pub(super) fn block(env: &FuncEnv<'_>, state: &mut State, blockty: BlockType) -> Result<()> {
    let (params, results) = block_sig(env.info, blockty);
    let sizes = (params.len(), results.len());
    push(
        state,
        FrameKind::Block,
        blockty,
        None.into(),
        sizes,
        env.handlers.len(),
    )
}

/// `loop`: control enters the header block, where the interrupt checks run.
pub(super) fn loop_(
    b: &mut FunctionBuilder<'_>,
    env: &mut FuncEnv<'_>,
    state: &mut State,
    blockty: BlockType,
) -> Result<()> {
    let (params, results) = block_sig(env.info, blockty);
    let header = new_block_with(b, &params);
    let args = state.popn(params.len());
    b.ins().jump(header, &block_args(&args));
    b.switch_to_block(header);
    state.stack.extend_from_slice(b.block_params(header));
    env.interrupt_checks(b);
    let sizes = (params.len(), results.len());
    push(
        state,
        FrameKind::Loop { header },
        blockty,
        None.into(),
        sizes,
        env.handlers.len(),
    )
}

/// `if`, with the condition on top of the stack.
pub(super) fn if_(
    b: &mut FunctionBuilder<'_>,
    env: &FuncEnv<'_>,
    state: &mut State,
    blockty: BlockType,
) -> Result<()> {
    let (params, results) = block_sig(env.info, blockty);
    let cond = state.pop();
    let then_block = b.create_block();
    let else_block = b.create_block();
    let next = new_block_with(b, &results);
    b.ins().brif(cond, then_block, &[], else_block, &[]);
    b.seal_block(then_block);
    b.seal_block(else_block);
    b.switch_to_block(then_block);
    let params_values = state.peekn(params.len()).to_vec();
    state.if_params.extend(params_values);
    push(
        state,
        FrameKind::If {
            else_block: else_block.into(),
        },
        blockty,
        next.into(),
        (params.len(), results.len()),
        env.handlers.len(),
    )
}

/// `else`: the then arm (if it reaches its end) continues after the `if`, and the else arm
/// starts with the `if`'s parameters. The else arm is reachable whenever the `if` was.
pub(super) fn else_(b: &mut FunctionBuilder<'_>, state: &mut State) {
    let reachable = state.reachable;
    let frame = state.control.last_mut().expect("validated: else inside if");
    let FrameKind::If { else_block } = &mut frame.kind else {
        unreachable!("validated: else inside if");
    };
    let else_block = else_block.take().expect("validated: one else per if");
    let next = frame.next.expect("an if has its continuation");
    if reachable {
        let results = state
            .stack
            .split_off(state.stack.len() - frame.num_results as usize);
        b.ins().jump(next, &block_args(&results));
        frame.next_reached = true;
    }
    state.stack.truncate(frame.height as usize);
    let at = state.if_params.len() - frame.num_params as usize;
    state.stack.extend(state.if_params.drain(at..));
    b.switch_to_block(else_block);
    state.reachable = true;
}

/// `try_table`: the catch clauses become handler blocks, created (and filled: unpack the
/// payload, branch to the clause's label) before the body, whose calls then go through
/// them. Their labels are resolved outside the `try_table`, as validation does.
pub(super) fn try_table(
    b: &mut FunctionBuilder<'_>,
    env: &mut FuncEnv<'_>,
    state: &mut State,
    try_table: &wasmparser::TryTable,
) -> Result<()> {
    use wasmparser::Catch;
    let (params, results) = block_sig(env.info, try_table.ty);
    let body = new_block_with(b, &params);
    let args = state.popn(params.len());
    b.ins().jump(body, &block_args(&args));
    let checkpoint = env.handlers.len() as u32;
    // Last clause first: handlers are tried from the end of the list.
    for catch in try_table.catches.iter().rev() {
        let (tag, label, with_ref) = match *catch {
            Catch::One { tag, label } => (Some(tag), label, false),
            Catch::OneRef { tag, label } => (Some(tag), label, true),
            Catch::All { label } => (None, label, false),
            Catch::AllRef { label } => (None, label, true),
        };
        let block = b.create_block();
        let param = b.append_block_param(block, ir::types::I64);
        b.switch_to_block(block);
        let exn = b.ins().ireduce(ir::types::I32, param);
        b.declare_value_needs_stack_map(exn);
        // The thrower's frames saved the fuel they used in the store.
        env.fuel_reload(b);
        let mut values = match tag {
            Some(t) => super::gc::exn_payload(env, b, t, exn),
            None => Vec::new(),
        };
        if with_ref {
            values.push(exn);
        }
        let (target, _) = branch_target(b, env, state, label);
        b.ins().jump(target, &block_args(&values));
        env.handlers.push(super::env::CatchHandler { tag, block });
    }
    b.switch_to_block(body);
    b.seal_block(body);
    state.stack.extend_from_slice(b.block_params(body));
    push(
        state,
        FrameKind::TryTable {
            handlers: checkpoint,
        },
        try_table.ty,
        None.into(),
        (params.len(), results.len()),
        env.handlers.len(),
    )
}

/// `end`: closes the innermost frame. Returns the number of results if it was the
/// function's own frame and control reaches its end (the caller returns them).
pub(super) fn end(
    b: &mut FunctionBuilder<'_>,
    env: &mut FuncEnv<'_>,
    state: &mut State,
) -> Option<usize> {
    let mut frame = state.control.pop().expect("validated: end matches a frame");
    if let Some(next) = frame.next.expand()
        && state.reachable
    {
        let results = state.popn(frame.num_results as usize);
        b.ins().jump(next, &block_args(&results));
        frame.next_reached = true;
    }
    match frame.kind {
        FrameKind::If { else_block } => {
            if let Some(else_block) = else_block.expand() {
                // No else arm: the implicit one passes the parameters through as results.
                let at = state.if_params.len() - frame.num_params as usize;
                let params: Vec<Value> = state.if_params.drain(at..).collect();
                b.switch_to_block(else_block);
                let next = frame.next.expect("an if has its continuation");
                b.ins().jump(next, &block_args(&params));
                frame.next_reached = true;
            }
        }
        FrameKind::Loop { header } => b.seal_block(header),
        FrameKind::TryTable { handlers } => {
            // Every call that can reach the handlers has been emitted.
            for h in env.handlers.drain(handlers as usize..) {
                b.seal_block(h.block);
            }
        }
        FrameKind::Block | FrameKind::LegacyTry(_) => {}
    }
    match frame.next.expand() {
        Some(next) => {
            state.stack.truncate(frame.height as usize);
            b.switch_to_block(next);
            b.seal_block(next);
            state.stack.extend_from_slice(b.block_params(next));
            state.reachable = frame.next_reached;
        }
        // Nothing branches to the end: control falls through (with the results on top of
        // the stack already) if it gets there at all.
        None if state.reachable => {}
        None => state.stack.truncate(frame.height as usize),
    }
    (state.control.is_empty() && state.reachable).then_some(frame.num_results as usize)
}

/// The block a branch to the label `depth` levels out goes to, and how many values it
/// carries. Creates a `block`'s continuation on first use.
pub(super) fn branch_target(
    b: &mut FunctionBuilder<'_>,
    env: &FuncEnv<'_>,
    state: &mut State,
    depth: u32,
) -> (ir::Block, usize) {
    let i = state.control.len() - 1 - depth as usize;
    let frame = &mut state.control[i];
    if let FrameKind::Loop { header } = frame.kind {
        return (header, frame.num_params as usize);
    }
    frame.next_reached = true;
    (frame_next(b, env, frame), frame.num_results as usize)
}

/// Where control continues after `frame` (not a loop), created on first use.
pub(super) fn frame_next(
    b: &mut FunctionBuilder<'_>,
    env: &FuncEnv<'_>,
    frame: &mut Frame,
) -> ir::Block {
    match frame.next.expand() {
        Some(next) => next,
        None => {
            let next = new_block_with(b, &block_sig(env.info, frame.blockty).1);
            frame.next = next.into();
            next
        }
    }
}

/// `br`.
pub(super) fn br(b: &mut FunctionBuilder<'_>, env: &FuncEnv<'_>, state: &mut State, depth: u32) {
    let (target, n) = branch_target(b, env, state, depth);
    let args = block_args(state.peekn(n));
    b.ins().jump(target, &args);
    state.reachable = false;
}

/// Branches to the label `depth` levels out if `cond` is non-zero, passing the label's
/// arity worth of values: the top of the stack followed by `extra`. Falls through otherwise.
pub(super) fn br_if(
    b: &mut FunctionBuilder<'_>,
    env: &FuncEnv<'_>,
    state: &mut State,
    depth: u32,
    cond: Value,
    extra: &[Value],
) {
    let (target, n) = branch_target(b, env, state, depth);
    let mut values = state.peekn(n - extra.len()).to_vec();
    values.extend_from_slice(extra);
    let fallthrough = b.create_block();
    b.ins()
        .brif(cond, target, &block_args(&values), fallthrough, &[]);
    b.seal_block(fallthrough);
    b.switch_to_block(fallthrough);
}

/// `br_table` with the index on top of the stack.
pub(super) fn br_table(
    b: &mut FunctionBuilder<'_>,
    env: &FuncEnv<'_>,
    state: &mut State,
    targets: &wasmparser::BrTable<'_>,
) -> Result<()> {
    let index = state.pop();
    let mut calls = Vec::with_capacity(targets.len() as usize);
    let (default, n) = branch_target(b, env, state, targets.default());
    let args = block_args(state.peekn(n));
    let default = b.func.dfg.block_call(default, &args);
    for depth in targets.targets() {
        let (target, _) = branch_target(b, env, state, depth?);
        calls.push(b.func.dfg.block_call(target, &args));
    }
    let jt = b.create_jump_table(JumpTableData::new(default, &calls));
    b.ins().br_table(index, jt);
    state.reachable = false;
    Ok(())
}

/// Handles an operator while the current code is unreachable, where only nesting matters.
/// Returns false if the operator still needs translating (the `else` or `end` of a frame
/// opened in live code).
pub(super) fn skip_unreachable(
    op: &wasmparser::Operator<'_>,
    b: &mut FunctionBuilder<'_>,
    env: &mut FuncEnv<'_>,
    state: &mut State,
) -> bool {
    use wasmparser::Operator;
    match op {
        Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::If { .. }
        | Operator::TryTable { .. }
        | Operator::Try { .. } => {
            state.dead_depth += 1;
            true
        }
        Operator::Else if state.dead_depth == 0 => {
            else_(b, state);
            true
        }
        Operator::Catch { tag_index } if state.dead_depth == 0 => {
            super::legacy::catch(b, env, state, Some(*tag_index));
            true
        }
        Operator::CatchAll if state.dead_depth == 0 => {
            super::legacy::catch(b, env, state, None);
            true
        }
        Operator::End | Operator::Delegate { .. } if state.dead_depth > 0 => {
            state.dead_depth -= 1;
            true
        }
        // `else` or a catch clause of a frame opened in dead code: still dead.
        Operator::Else | Operator::Catch { .. } | Operator::CatchAll => true,
        Operator::End | Operator::Delegate { .. } => false,
        _ => true,
    }
}
