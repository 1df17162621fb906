//! Inlining of tiny leaf functions into their direct callers (`Config::inlining`).
//!
//! A defined function is inlined at its direct `call`s when its body is at most
//! [`MAX_OPERATORS`] operators, all from a list that cannot trap, call, loop or allocate:
//! locals, globals, constants, non-trapping numeric operators, `select`, reference tests
//! and forward control flow. Identity functions, accessors of globals, small arithmetic
//! helpers and type adapters are of this kind; calling them costs more than running them.
//!
//! Because an inlined body can neither trap nor call (a reference `global.set`'s barrier
//! may call the runtime, but that call never collects, fails or walks the stack), no
//! backtrace, stack map or exception can ever observe that its frame is missing:
//! inlining changes speed only. (With `Config::gc_heap_reserve_index_space(false)` that
//! barrier checks the GC heap's bound, which only a corrupt heap fails: such a trap
//! would name the caller.) An inlined body has no epoch check of its own: it runs a
//! bounded number of operators, and its caller's checks still bound the code between
//! checks. With fuel on, nothing is inlined, so every function entry is costed as in
//! Wasmtime.
//!
//! Inlining works on the translated (finalized) Cranelift IR with Cranelift's inliner
//! ([`cranelift_codegen::inline`]): the callees are translated once, before the module's
//! functions are compiled, and each caller's direct calls of them are replaced by their
//! bodies before the caller is optimised.

use anyhow::Result;
use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::{self, ExternalName};
use std::borrow::Cow;
use std::collections::HashMap;
use wasmparser::Operator;

/// The most operators (the final `end` included) an inlined function body may have, each
/// declared local and each `br_table` target counted as one more.
pub(crate) const MAX_OPERATORS: usize = 12;

/// Whether function body `body` (its bytes, at module offset `offset`, of a module
/// validated with `features`) can be inlined.
pub(crate) fn is_inlinable(
    features: wasmparser::WasmFeatures,
    body: &[u8],
    offset: usize,
) -> Result<bool> {
    let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new_features(
        body,
        offset as u64,
        features,
    ));
    // Each declared local and each `br_table` target counts as an operator too: every
    // inlined copy zeroes the locals and copies the jump table, so a short body with many
    // of either would multiply the caller's code by their number at every call site.
    let mut count: u64 = 0;
    for local in body.get_locals_reader()? {
        count += u64::from(local?.0);
        if count > MAX_OPERATORS as u64 {
            return Ok(false);
        }
    }
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        let op = reader.read()?;
        count += 1;
        if let Operator::BrTable { targets } = &op {
            count += u64::from(targets.len());
        }
        if count > MAX_OPERATORS as u64 || !is_leaf_operator(&op) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether `op` can neither trap, call, loop, allocate nor throw.
fn is_leaf_operator(op: &Operator<'_>) -> bool {
    use Operator::*;
    matches!(
        op,
        Nop | Drop
            | Select
            | TypedSelect { .. }
            | Block { .. }
            | If { .. }
            | Else
            | End
            | Br { .. }
            | BrIf { .. }
            | BrTable { .. }
            | Return
            | LocalGet { .. }
            | LocalSet { .. }
            | LocalTee { .. }
            | GlobalGet { .. }
            | GlobalSet { .. }
            | I32Const { .. }
            | I64Const { .. }
            | F32Const { .. }
            | F64Const { .. }
            | RefNull { .. }
            | RefIsNull
            | RefFunc { .. }
            | RefEq
            | I32Eqz
            | I32Eq
            | I32Ne
            | I32LtS
            | I32LtU
            | I32GtS
            | I32GtU
            | I32LeS
            | I32LeU
            | I32GeS
            | I32GeU
            | I64Eqz
            | I64Eq
            | I64Ne
            | I64LtS
            | I64LtU
            | I64GtS
            | I64GtU
            | I64LeS
            | I64LeU
            | I64GeS
            | I64GeU
            | F32Eq
            | F32Ne
            | F32Lt
            | F32Gt
            | F32Le
            | F32Ge
            | F64Eq
            | F64Ne
            | F64Lt
            | F64Gt
            | F64Le
            | F64Ge
            | I32Clz
            | I32Ctz
            | I32Popcnt
            | I32Add
            | I32Sub
            | I32Mul
            | I32And
            | I32Or
            | I32Xor
            | I32Shl
            | I32ShrS
            | I32ShrU
            | I32Rotl
            | I32Rotr
            | I64Clz
            | I64Ctz
            | I64Popcnt
            | I64Add
            | I64Sub
            | I64Mul
            | I64And
            | I64Or
            | I64Xor
            | I64Shl
            | I64ShrS
            | I64ShrU
            | I64Rotl
            | I64Rotr
            | F32Abs
            | F32Neg
            | F32Ceil
            | F32Floor
            | F32Trunc
            | F32Nearest
            | F32Sqrt
            | F32Add
            | F32Sub
            | F32Mul
            | F32Div
            | F32Min
            | F32Max
            | F32Copysign
            | F64Abs
            | F64Neg
            | F64Ceil
            | F64Floor
            | F64Trunc
            | F64Nearest
            | F64Sqrt
            | F64Add
            | F64Sub
            | F64Mul
            | F64Div
            | F64Min
            | F64Max
            | F64Copysign
            | I32WrapI64
            | I64ExtendI32S
            | I64ExtendI32U
            | F32ConvertI32S
            | F32ConvertI32U
            | F32ConvertI64S
            | F32ConvertI64U
            | F32DemoteF64
            | F64ConvertI32S
            | F64ConvertI32U
            | F64ConvertI64S
            | F64ConvertI64U
            | F64PromoteF32
            | I32ReinterpretF32
            | I64ReinterpretF64
            | F32ReinterpretI32
            | F64ReinterpretI64
            | I32Extend8S
            | I32Extend16S
            | I64Extend8S
            | I64Extend16S
            | I64Extend32S
            | I32TruncSatF32S
            | I32TruncSatF32U
            | I32TruncSatF64S
            | I32TruncSatF64U
            | I64TruncSatF32S
            | I64TruncSatF32U
            | I64TruncSatF64S
            | I64TruncSatF64U
    )
}

/// Directs Cranelift's inliner: a direct `call` of a function in `bodies` is replaced by
/// its translated body.
pub(crate) struct Inliner<'a> {
    /// The translated bodies of the inlinable functions, by function index.
    pub bodies: &'a HashMap<u32, ir::Function>,
    /// Defined function `i` is function `num_imported_funcs + i`.
    pub num_imported_funcs: u32,
}

impl Inline for Inliner<'_> {
    fn inline(
        &mut self,
        caller: &ir::Function,
        _call: ir::Inst,
        opcode: ir::Opcode,
        callee: ir::FuncRef,
        _args: &[ir::Value],
    ) -> InlineCommand<'_> {
        // A `try_call` (a call in a `try_table`) too: the body cannot throw. Tail calls
        // stay calls.
        if !matches!(opcode, ir::Opcode::Call | ir::Opcode::TryCall) {
            return InlineCommand::KeepCall;
        }
        let ExternalName::User(name) = caller.dfg.ext_funcs[callee].name else {
            return InlineCommand::KeepCall;
        };
        // Namespace 0 names defined functions by their index among them (`FuncEnv::call`).
        let name = &caller.params.user_named_funcs()[name];
        if name.namespace != 0 {
            return InlineCommand::KeepCall;
        }
        let index = name.index + self.num_imported_funcs;
        match self.bodies.get(&index) {
            Some(body) => InlineCommand::Inline {
                callee: Cow::Borrowed(body),
                visit_callee: false,
            },
            None => InlineCommand::KeepCall,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether each function of module `wat` is inlinable, in order.
    fn inlinable(wat: &str) -> Vec<bool> {
        let wasm = wat::parse_str(wat).unwrap();
        let features = wasmparser::WasmFeatures::all();
        let mut out = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
                let range = body.range();
                let (start, end) = (range.start as usize, range.end as usize);
                out.push(is_inlinable(features, &wasm[start..end], start).unwrap());
            }
        }
        out
    }

    #[test]
    fn tiny_leaves_are_inlinable() {
        let wat = r#"(module
          (global $g (mut externref) (ref.null extern))
          (func (param externref) (result externref) (local.get 0))
          (func (param externref) (global.set $g (local.get 0)))
          (func (result i32) (ref.is_null (global.get $g)))
          (func (param i32 i32) (result i32)
            (if (result i32) (local.get 0)
              (then (i32.add (local.get 0) (local.get 1)))
              (else (i32.const 7))))
          (func (param f64) (result i32) (i32.trunc_sat_f64_s (local.get 0))))"#;
        assert_eq!(inlinable(wat), [true, true, true, true, true]);
    }

    #[test]
    fn functions_that_trap_call_loop_or_grow_are_not() {
        let wat = r#"(module
          (type $s (struct (field i32)))
          (memory 1)
          (table 1 funcref)
          (func (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
          (func (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
          (func (param i32) (result i32) (i32.load (local.get 0)))
          (func (call 0 (i32.const 1) (i32.const 2)) (drop))
          (func (loop $l (br $l)))
          (func (unreachable))
          (func (param (ref null $s)) (result i32) (struct.get $s 0 (local.get 0)))
          (func (result (ref $s)) (struct.new $s (i32.const 1)))
          (func (result i32) (memory.grow (i32.const 1)))
          (func (param i32) (result funcref) (table.get 0 (local.get 0))))"#;
        assert_eq!(inlinable(wat), [false; 10]);
    }

    #[test]
    fn bodies_past_the_size_limit_are_not() {
        let adds = |n: usize| {
            let mut body = String::from("(local.get 0)");
            for _ in 0..n {
                body = format!("(i32.add {body} (local.get 0))");
            }
            format!("(module (func (param i32) (result i32) {body}))")
        };
        // `local.get`, then `local.get` and `i32.add` per addition, then `end`.
        let at_limit = (MAX_OPERATORS - 2) / 2;
        assert_eq!(inlinable(&adds(at_limit)), [true]);
        assert_eq!(inlinable(&adds(at_limit + 1)), [false]);
    }

    #[test]
    fn many_locals_or_branch_targets_count_against_the_limit() {
        // One-operator bodies whose every inlined copy would zero 50,000 locals or copy a
        // 50,000-entry jump table.
        let targets = "0 ".repeat(50_000);
        let wat = format!(
            r#"(module
              (func (local i64 i64) (nop))
              (func (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64))
              (func (local i64 i32 f64 f32) (local i64 i32 f64 f32) (local i64 i32 f64 f32))
              (func (param i32) (block (br_table 0 0 (local.get 0))))
              (func (param i32) (block (br_table {targets} (local.get 0)))))"#
        );
        let mut many = String::from("(module (func (local");
        many.push_str(&" i64".repeat(50_000));
        many.push_str(")))");
        assert_eq!(inlinable(&wat), [true, false, false, true, false]);
        assert_eq!(inlinable(&many), [false]);
    }
}
