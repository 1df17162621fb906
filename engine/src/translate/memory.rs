//! Linear-memory operators: loads and stores (addresses within each memory's guard
//! reservation, so no explicit bounds checks but for one-byte pages), `memory.size` /
//! `memory.grow` and the bulk operations, which call builtins.

use super::env::FuncEnv;
use super::{State, cost, to_i64};
use crate::trap::Trap;
use crate::vm::Builtin;
use anyhow::{Result, bail};
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, types::*};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

/// Translates `op` if it is a memory operator; `Ok(false)` if it is not.
pub(super) fn translate_memory(
    op: &Operator<'_>,
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    env: &mut FuncEnv<'_>,
) -> Result<bool> {
    match *op {
        Operator::I32Load { memarg } => load(b, state, env, memarg, I32, LoadKind::Plain)?,
        Operator::I64Load { memarg } => load(b, state, env, memarg, I64, LoadKind::Plain)?,
        Operator::F32Load { memarg } => load(b, state, env, memarg, F32, LoadKind::Plain)?,
        Operator::F64Load { memarg } => load(b, state, env, memarg, F64, LoadKind::Plain)?,
        Operator::I32Load8S { memarg } => load(b, state, env, memarg, I32, LoadKind::S8)?,
        Operator::I32Load8U { memarg } => load(b, state, env, memarg, I32, LoadKind::U8)?,
        Operator::I32Load16S { memarg } => load(b, state, env, memarg, I32, LoadKind::S16)?,
        Operator::I32Load16U { memarg } => load(b, state, env, memarg, I32, LoadKind::U16)?,
        Operator::I64Load8S { memarg } => load(b, state, env, memarg, I64, LoadKind::S8)?,
        Operator::I64Load8U { memarg } => load(b, state, env, memarg, I64, LoadKind::U8)?,
        Operator::I64Load16S { memarg } => load(b, state, env, memarg, I64, LoadKind::S16)?,
        Operator::I64Load16U { memarg } => load(b, state, env, memarg, I64, LoadKind::U16)?,
        Operator::I64Load32S { memarg } => load(b, state, env, memarg, I64, LoadKind::S32)?,
        Operator::I64Load32U { memarg } => load(b, state, env, memarg, I64, LoadKind::U32)?,
        Operator::I32Store { memarg }
        | Operator::I64Store { memarg }
        | Operator::F32Store { memarg }
        | Operator::F64Store { memarg } => store(b, state, env, memarg, None)?,
        Operator::I32Store8 { memarg } | Operator::I64Store8 { memarg } => {
            store(b, state, env, memarg, Some(I8))?
        }
        Operator::I32Store16 { memarg } | Operator::I64Store16 { memarg } => {
            store(b, state, env, memarg, Some(I16))?
        }
        Operator::I64Store32 { memarg } => store(b, state, env, memarg, Some(I32))?,
        Operator::MemorySize { mem } => {
            let v = env.memory_size(b, mem);
            state.stack.push(v);
        }
        Operator::MemoryGrow { mem } => {
            let delta = state.pop();
            env.bulk_op(b, delta, cost::MEMORY_GROW_PER_PAGE);
            let is_64 = env.memory_is_64(mem);
            let mem = b.ins().iconst(I32, i64::from(mem));
            let delta = to_i64(b, delta);
            let ty = if is_64 { I64 } else { I32 };
            let r = env.grow_builtin(b, Builtin::MemoryGrow, &[mem, delta], ty);
            state.stack.push(r);
        }
        Operator::MemoryFill { mem } => {
            let (dst, val, len) = state.pop3();
            env.bulk_op(b, len, cost::MEMORY_PER_BYTE);
            let mem = b.ins().iconst(I32, i64::from(mem));
            let dst = to_i64(b, dst);
            let len = to_i64(b, len);
            env.checked_builtin(
                b,
                Builtin::MemoryFill,
                &[mem, dst, val, len],
                Trap::MemoryOutOfBounds,
            );
        }
        Operator::MemoryCopy { dst_mem, src_mem } => {
            let (dst, src, len) = state.pop3();
            env.bulk_op(b, len, cost::MEMORY_PER_BYTE);
            let dst_mem = b.ins().iconst(I32, i64::from(dst_mem));
            let src_mem = b.ins().iconst(I32, i64::from(src_mem));
            let dst = to_i64(b, dst);
            let src = to_i64(b, src);
            let len = to_i64(b, len);
            env.checked_builtin(
                b,
                Builtin::MemoryCopy,
                &[dst_mem, dst, src_mem, src, len],
                Trap::MemoryOutOfBounds,
            );
        }
        Operator::MemoryInit { data_index, mem } => {
            let (dst, src, len) = state.pop3();
            env.bulk_op(b, len, cost::MEMORY_PER_BYTE);
            let mem = b.ins().iconst(I32, i64::from(mem));
            let data = b.ins().iconst(I32, i64::from(data_index));
            let dst = to_i64(b, dst);
            env.checked_builtin(
                b,
                Builtin::MemoryInit,
                &[mem, data, dst, src, len],
                Trap::MemoryOutOfBounds,
            );
        }
        Operator::DataDrop { data_index } => {
            let data = b.ins().iconst(I32, i64::from(data_index));
            env.builtin(b, Builtin::DataDrop, &[data]);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

#[derive(Clone, Copy)]
enum LoadKind {
    Plain,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
}

fn memory_index(memarg: &wasmparser::MemArg) -> Result<u32> {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(i) => Ok(i),
        wasmparser::MemArgTarget::Array(_) => {
            bail!("array-targeted memory accesses are not supported")
        }
    }
}

fn load(
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    env: &FuncEnv<'_>,
    memarg: wasmparser::MemArg,
    ty: ir::Type,
    kind: LoadKind,
) -> Result<()> {
    let addr = state.pop();
    let size = match kind {
        LoadKind::Plain => ty.bytes() as u8,
        LoadKind::S8 | LoadKind::U8 => 1,
        LoadKind::S16 | LoadKind::U16 => 2,
        LoadKind::S32 | LoadKind::U32 => 4,
    };
    let (ptr, offset) = env.heap_addr(b, memory_index(&memarg)?, addr, memarg.offset, size);
    let flags = MemFlagsData::new();
    let v = match kind {
        LoadKind::Plain => b.ins().load(ty, flags, ptr, offset),
        LoadKind::S8 => b.ins().sload8(ty, flags, ptr, offset),
        LoadKind::U8 => b.ins().uload8(ty, flags, ptr, offset),
        LoadKind::S16 => b.ins().sload16(ty, flags, ptr, offset),
        LoadKind::U16 => b.ins().uload16(ty, flags, ptr, offset),
        LoadKind::S32 => b.ins().sload32(flags, ptr, offset),
        LoadKind::U32 => b.ins().uload32(flags, ptr, offset),
    };
    state.stack.push(v);
    Ok(())
}

fn store(
    b: &mut FunctionBuilder<'_>,
    state: &mut State,
    env: &FuncEnv<'_>,
    memarg: wasmparser::MemArg,
    narrow: Option<ir::Type>,
) -> Result<()> {
    let (addr, value) = state.pop2();
    let size = narrow.unwrap_or(b.func.dfg.value_type(value)).bytes() as u8;
    let (ptr, offset) = env.heap_addr(b, memory_index(&memarg)?, addr, memarg.offset, size);
    let flags = MemFlagsData::new();
    match narrow {
        None => {
            b.ins().store(flags, value, ptr, offset);
        }
        Some(I8) => {
            b.ins().istore8(flags, value, ptr, offset);
        }
        Some(I16) => {
            b.ins().istore16(flags, value, ptr, offset);
        }
        Some(_) => {
            b.ins().istore32(flags, value, ptr, offset);
        }
    }
    Ok(())
}
