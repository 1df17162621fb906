//! Legacy exception handling (`try`, `catch`, `catch_all`, `delegate`, `rethrow`), behind
//! `Config::wasm_legacy_exceptions`, on the mechanism of `try_table`.
//!
//! A `try` opens a frame like `block` and makes its catch clauses handlers, as a
//! `try_table`'s are, for the calls and throws of its body; a catch clause's handler block
//! is where the clause's body starts, with the caught exception kept in a variable for
//! `rethrow`. The handlers stop applying at the first clause, so a throw from a catch body
//! goes outward. `try ... delegate l` makes its body's throws go where a throw at label
//! `l` would: its body sees only the handlers in scope inside frame `l`.
//!
//! The clauses come after the body in the code, but the handlers must exist before it:
//! `scan` reads the function once first and records what each `try` turns out to have.

use super::control::{self, FrameKind};
use super::{FuncEnv, State, block_args, block_sig};
use anyhow::{Result, bail};
use cranelift_codegen::ir::{InstBuilder, types::*};
use cranelift_frontend::{FunctionBuilder, Variable};
use std::collections::HashMap;
use wasmparser::{BlockType, Operator};

/// What one `try` turns out to have.
#[derive(Clone, Debug, Default)]
pub(super) struct TryInfo {
    /// Its catch clauses in order: the tag caught, or `None` for `catch_all`.
    catches: Vec<Option<u32>>,
    /// The label its `delegate` names, if it ends in one.
    delegate: Option<u32>,
}

/// The `try`s of a function body, by the offset of their operator.
pub(super) type Tries = HashMap<usize, TryInfo>;

/// Reads the operators of a function to find what each `try` has (`TryInfo`).
pub(super) fn scan(mut reader: wasmparser::OperatorsReader<'_>) -> Result<Tries> {
    let mut tries = Tries::new();
    // The open frames: the offset of a `try`, or `None` for other frames.
    let mut open: Vec<Option<usize>> = vec![None];
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset()?;
        let offset = offset as usize;
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. } => open.push(None),
            Operator::Try { .. } => {
                open.push(Some(offset));
                tries.insert(offset, TryInfo::default());
            }
            Operator::Catch { tag_index } => {
                try_of(&mut tries, &open)?.catches.push(Some(tag_index))
            }
            Operator::CatchAll => try_of(&mut tries, &open)?.catches.push(None),
            Operator::Delegate { relative_depth } => {
                try_of(&mut tries, &open)?.delegate = Some(relative_depth);
                open.pop();
            }
            Operator::End => {
                open.pop();
            }
            _ => {}
        }
    }
    Ok(tries)
}

/// The `try` the innermost open frame is.
fn try_of<'t>(tries: &'t mut Tries, open: &[Option<usize>]) -> Result<&'t mut TryInfo> {
    match open.last() {
        Some(Some(offset)) => Ok(tries.get_mut(offset).expect("recorded when opened")),
        _ => bail!("catch or delegate outside a try"),
    }
}

/// `try` at byte offset `offset`.
pub(super) fn try_(
    b: &mut FunctionBuilder<'_>,
    env: &mut FuncEnv<'_>,
    state: &mut State,
    blockty: BlockType,
    offset: usize,
) -> Result<()> {
    let info = state
        .tries
        .get(&offset)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("legacy try at {offset:#x} was not scanned"))?;
    let (params, results) = block_sig(env.info, blockty);
    let checkpoint = env.handlers.len() as u32;
    let mut catches = Vec::with_capacity(info.catches.len());
    let saved = match info.delegate {
        Some(depth) => {
            // The body sees the handlers in scope inside frame `depth` (counted without
            // this try, which is not pushed yet), the caller's if that is the function.
            let i = state.control.len() - 1 - depth as usize;
            let visible = state.control[i].handlers_inside as usize;
            env.handlers.split_off(visible)
        }
        None => {
            for _ in &info.catches {
                let block = b.create_block();
                b.append_block_param(block, I64);
                catches.push(block);
            }
            // Last clause first: handlers are tried from the end of the list.
            for (&tag, &block) in info.catches.iter().zip(&catches).rev() {
                env.handlers.push(super::env::CatchHandler { tag, block });
            }
            Vec::new()
        }
    };
    let kind = FrameKind::LegacyTry(Box::new(control::LegacyTry {
        handlers: checkpoint,
        catches,
        clause: None,
        exn: None,
        saved,
    }));
    let sizes = (params.len(), results.len());
    control::push(state, kind, blockty, None.into(), sizes, env.handlers.len())
}

/// `catch tag` (`Some`) or `catch_all` (`None`): the body or previous clause ends, and the
/// next clause's body starts at its handler block with the exception in a variable.
pub(super) fn catch(
    b: &mut FunctionBuilder<'_>,
    env: &mut FuncEnv<'_>,
    state: &mut State,
    tag: Option<u32>,
) {
    let reachable = state.reachable;
    let frame = state
        .control
        .last_mut()
        .expect("validated: catch inside try");
    let (num_results, height) = (frame.num_results as usize, frame.height as usize);
    let next = control::frame_next(b, env, frame);
    let FrameKind::LegacyTry(t) = &mut frame.kind else {
        unreachable!("validated: catch inside try");
    };
    if reachable {
        let results = state.stack.split_off(state.stack.len() - num_results);
        b.ins().jump(next, &block_args(&results));
        frame.next_reached = true;
    }
    let clause = t.clause.map_or(0, |c| c + 1);
    if t.clause.is_none() {
        // The first clause: the body is done, so is every path into the handlers, and
        // they stop applying.
        for h in env.handlers.drain(t.handlers as usize..) {
            b.seal_block(h.block);
        }
        frame.handlers_inside = t.handlers;
    }
    t.clause = Some(clause);
    let block = t.catches[clause];
    let exn_var = *t.exn.get_or_insert_with(|| {
        let var = b.declare_var(I32);
        b.declare_var_needs_stack_map(var);
        var
    });
    state.stack.truncate(height);
    b.switch_to_block(block);
    let param = b.block_params(block)[0];
    let exn = b.ins().ireduce(I32, param);
    b.declare_value_needs_stack_map(exn);
    b.def_var(exn_var, exn);
    env.fuel_reload(b);
    if let Some(tag) = tag {
        let values = super::gc::exn_payload(env, b, tag, exn);
        state.stack.extend(values);
    }
    state.reachable = true;
}

/// `delegate`: ends the `try` like `end`, its body's handlers restored to the frames
/// outside.
pub(super) fn delegate(
    b: &mut FunctionBuilder<'_>,
    env: &mut FuncEnv<'_>,
    state: &mut State,
) -> Option<usize> {
    let frame = state
        .control
        .last_mut()
        .expect("validated: delegate ends a try");
    if let FrameKind::LegacyTry(t) = &mut frame.kind {
        let saved = std::mem::take(&mut t.saved);
        env.handlers.extend(saved);
    }
    control::end(b, env, state)
}

/// `rethrow depth`: throws again the exception the catch clause of frame `depth` caught.
pub(super) fn rethrow(
    b: &mut FunctionBuilder<'_>,
    env: &mut FuncEnv<'_>,
    state: &mut State,
    depth: u32,
) {
    let i = state.control.len() - 1 - depth as usize;
    let var: Variable = match &state.control[i].kind {
        FrameKind::LegacyTry(t) => t.exn.expect("validated: rethrow names a catch clause"),
        _ => unreachable!("validated: rethrow names a catch clause"),
    };
    let exn = b.use_var(var);
    env.throw(b, exn, None);
    state.reachable = false;
}
