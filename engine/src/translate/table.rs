//! Table operators: `table.get` / `table.set` (with the collector's barriers for GC
//! references), `table.size`, and growth and bulk operations, which call builtins.

use super::env::FuncEnv;
use super::{State, cost, to_i64};
use crate::trap::Trap;
use crate::vm::Builtin;
use cranelift_codegen::ir::{InstBuilder, types::*};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

/// Translates `op` if it is a table operator; false if it is not.
pub(super) fn translate_table(
    op: &Operator<'_>,
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    env: &mut FuncEnv<'_>,
) -> bool {
    match *op {
        Operator::TableGet { table } => {
            let index = state.pop();
            let v = env.table_get(b, table, index);
            state.stack.push(v);
        }
        Operator::TableSet { table } => {
            let (index, value) = state.pop2();
            env.table_set(b, table, index, value);
        }
        Operator::TableSize { table } => {
            let v = env.table_size(b, table);
            state.stack.push(v);
        }
        Operator::TableGrow { table } => {
            let (init, delta) = state.pop2();
            env.bulk_op(b, delta, cost::TABLE_PER_ELEMENT);
            let init = env.ref_to_raw(b, init);
            let ty = if env.table_is_64(table) { I64 } else { I32 };
            let t = b.ins().iconst(I32, i64::from(table));
            let delta = to_i64(b, delta);
            let r = env.grow_builtin(b, Builtin::TableGrow, &[t, delta, init], ty);
            state.stack.push(r);
        }
        Operator::TableFill { table } => {
            let (dst, val, len) = state.pop3();
            env.bulk_op(b, len, cost::TABLE_PER_ELEMENT);
            let val = env.ref_to_raw(b, val);
            let t = b.ins().iconst(I32, i64::from(table));
            let (dst, len) = (to_i64(b, dst), to_i64(b, len));
            env.checked_builtin(
                b,
                Builtin::TableFill,
                &[t, dst, val, len],
                Trap::TableOutOfBounds,
            );
        }
        Operator::TableCopy {
            dst_table,
            src_table,
        } => {
            let (dst, src, len) = state.pop3();
            env.bulk_op(b, len, cost::TABLE_PER_ELEMENT);
            let dt = b.ins().iconst(I32, i64::from(dst_table));
            let st = b.ins().iconst(I32, i64::from(src_table));
            let (dst, src, len) = (to_i64(b, dst), to_i64(b, src), to_i64(b, len));
            env.checked_builtin(
                b,
                Builtin::TableCopy,
                &[dt, st, dst, src, len],
                Trap::TableOutOfBounds,
            );
        }
        Operator::TableInit { elem_index, table } => {
            let (dst, src, len) = state.pop3();
            env.bulk_op(b, len, cost::TABLE_PER_ELEMENT);
            let t = b.ins().iconst(I32, i64::from(table));
            let e = b.ins().iconst(I32, i64::from(elem_index));
            let dst = to_i64(b, dst);
            env.checked_builtin(
                b,
                Builtin::TableInit,
                &[t, e, dst, src, len],
                Trap::TableOutOfBounds,
            );
        }
        Operator::ElemDrop { elem_index } => {
            let e = b.ins().iconst(I32, i64::from(elem_index));
            env.builtin(b, Builtin::ElemDrop, &[e]);
        }
        _ => return false,
    }
    true
}
