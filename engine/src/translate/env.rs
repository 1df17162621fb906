//! How translated code reaches the instance: globals, memories, tables, functions and
//! libcalls, all through the `VMContext` layout in `vm::vmcontext`.

use crate::compile::{value_type, wasm_signature};
use crate::environ::ModuleInfo;
use crate::trap::Trap;
use crate::vm::{Builtin, VMOffsets, field, header};
use cranelift_codegen::ir::{
    self, ExtFuncData, ExternalName, InstBuilder, MemFlagsData, UserExternalName, Value,
    condcodes::IntCC, types::*,
};
use cranelift_frontend::FunctionBuilder;
use gc_compiler::{GcCompileEnv, GcCompiler, GcRefKind};
use std::collections::HashMap;

/// Flags for loads of `VMContext` fields that never change after instantiation.
pub(crate) fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// Flags for loads and stores of runtime state that may change.
pub(crate) fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// What the static type `ty` (a GC reference type) says about the references it holds:
/// whether null is possible, and whether an `i31` is (in `any`, `eq` and `i31`, and in
/// `extern`, which `extern.convert_any` can give one).
pub(crate) fn gc_ref_kind(ty: &crate::types::ValType) -> GcRefKind {
    use crate::types::{HeapType, ValType};
    match ty {
        ValType::Ref(r) => GcRefKind {
            nullable: r.is_nullable(),
            may_be_i31: matches!(
                r.heap_type(),
                HeapType::Any | HeapType::Eq | HeapType::I31 | HeapType::Extern
            ),
            // `extern.convert_any` promotes what it converts.
            may_be_young: !matches!(r.heap_type(), HeapType::Extern | HeapType::NoExtern),
        },
        _ => GcRefKind::ANY,
    }
}

/// Per-function translation environment.
pub(crate) struct FuncEnv<'m> {
    pub info: &'m ModuleInfo,
    /// Emits GC barriers, allocation and object accesses.
    gc: &'m dyn GcCompiler,
    /// The engine's types, with their GC layouts.
    pub registry: &'m crate::runtime::registry::TypeRegistry,
    pub offsets: VMOffsets,
    pub vmctx: Value,
    sigs: HashMap<u32, ir::SigRef>,
    funcs: HashMap<u32, ir::FuncRef>,
    builtin_sigs: HashMap<Builtin, ir::SigRef>,
    /// Fuel accounting, with `Config::consume_fuel`.
    pub(crate) fuel: Option<super::interrupts::Fuel>,
    /// Epoch checks, with `Config::epoch_interruption`.
    pub(crate) epoch: Option<super::interrupts::Epoch>,
    /// The exception handlers of the enclosing `try_table`s, outermost first (within one
    /// `try_table`, its catch clauses last to first): calls made here go through them.
    pub(crate) handlers: Vec<CatchHandler>,
    /// Whether `relaxed_madd` is fused (`Tunables`).
    pub(crate) fused_madd: bool,
    /// The target's pointer width and calling convention, for runtime-library calls.
    pub(crate) frontend: cranelift_codegen::isa::TargetFrontendConfig,
    /// References known not to be null throughout a block: the fall-through block of a
    /// `br_if` on their `ref.is_null` (a list walk's `br_if $done (ref.is_null ...)`).
    /// Null checks of them there are left out.
    non_null: std::collections::HashSet<(ir::Block, Value)>,
    /// The calls `no_gc_call` deferred: each block, whose parameters are the arguments, and
    /// the builtin it calls.
    no_gc_calls: Vec<(ir::Block, Builtin)>,
}

/// A catch clause's block, which exceptions thrown through calls in its `try_table`
/// reach with the exception reference as its (pointer-sized) parameter.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CatchHandler {
    /// The module tag index caught, or `None` for `catch_all`.
    pub tag: Option<u32>,
    pub block: ir::Block,
}

/// What a call calls.
#[derive(Clone, Copy)]
enum Callee {
    Direct(ir::FuncRef),
    Indirect(Value),
}

impl<'m> FuncEnv<'m> {
    pub(crate) fn new(
        info: &'m ModuleInfo,
        vmctx: Value,
        gc: &'m dyn GcCompiler,
        registry: &'m crate::runtime::registry::TypeRegistry,
        frontend: cranelift_codegen::isa::TargetFrontendConfig,
    ) -> Self {
        FuncEnv {
            info,
            gc,
            registry,
            offsets: info.offsets(),
            vmctx,
            sigs: HashMap::new(),
            funcs: HashMap::new(),
            builtin_sigs: HashMap::new(),
            fuel: None,
            epoch: None,
            fused_madd: true,
            handlers: Vec::new(),
            frontend,
            non_null: std::collections::HashSet::new(),
            no_gc_calls: Vec::new(),
        }
    }

    /// Traps with `trap` if reference `r` is null, unless it is known not to be here.
    pub(crate) fn null_check(&self, b: &mut FunctionBuilder<'_>, r: Value, trap: Trap) {
        let here = b.current_block().expect("translating into a block");
        if !self.non_null.contains(&(here, r)) {
            b.ins().trapz(r, trap.to_cranelift());
        }
    }

    /// Notes that the block being entered is the fall-through of a branch taken when
    /// `cond` is non-zero: if `cond` is a `ref.is_null` of some reference, that reference is
    /// not null in this block.
    pub(crate) fn note_fallthrough_of(&mut self, b: &FunctionBuilder<'_>, cond: Value) {
        let dfg = &b.func.dfg;
        let def = |v: Value| match dfg.value_def(v) {
            ir::ValueDef::Result(inst, 0) => Some(&dfg.insts[inst]),
            _ => None,
        };
        // `ref.is_null` translates to `uextend.i32 (icmp eq r, (iconst 0))`.
        let Some(&ir::InstructionData::Unary {
            opcode: ir::Opcode::Uextend,
            arg,
        }) = def(cond)
        else {
            return;
        };
        let Some(&ir::InstructionData::IntCompare {
            opcode: ir::Opcode::Icmp,
            cond: IntCC::Equal,
            args: [r, zero],
        }) = def(arg)
        else {
            return;
        };
        let is_zero = matches!(
            def(zero),
            Some(&ir::InstructionData::UnaryImm {
                opcode: ir::Opcode::Iconst,
                imm,
            }) if imm.bits() == 0
        );
        if is_zero && dfg.value_type(r) == gc_compiler::GC_REF_TYPE {
            let here = b.current_block().expect("translating into a block");
            self.non_null.insert((here, r));
        }
    }

    fn vmctx_load(&self, b: &mut FunctionBuilder<'_>, offset: u32) -> Value {
        b.ins().load(I64, readonly(), self.vmctx, offset as i32)
    }

    /// Pointer to global `index`'s storage.
    fn global_ptr(&self, b: &mut FunctionBuilder<'_>, index: u32) -> Value {
        self.vmctx_load(b, self.offsets.global(index))
    }

    pub(crate) fn global_get(&mut self, b: &mut FunctionBuilder<'_>, index: u32) -> Value {
        let wasm_ty = *self.info.globals[index as usize].0.content();
        let ptr = self.global_ptr(b, index);
        if wasm_ty.is_gc_ref() {
            let gc = self.gc;
            let v = gc.load_gc_ref(self, b, trusted(), ptr, 0);
            b.declare_value_needs_stack_map(v);
            return v;
        }
        b.ins().load(value_type(&wasm_ty), trusted(), ptr, 0)
    }

    pub(crate) fn global_set(&mut self, b: &mut FunctionBuilder<'_>, index: u32, value: Value) {
        let ptr = self.global_ptr(b, index);
        let ty = *self.info.globals[index as usize].0.content();
        if ty.is_gc_ref() {
            let gc = self.gc;
            gc.store_gc_ref(self, b, trusted(), ptr, 0, value, gc_ref_kind(&ty), None);
        } else {
            b.ins().store(trusted(), value, ptr, 0);
        }
    }

    /// Pointer to memory `index`'s `VMMemoryDefinition`.
    fn memory_def(&self, b: &mut FunctionBuilder<'_>, index: u32) -> Value {
        self.vmctx_load(b, self.offsets.memory(index))
    }

    /// The native address and immediate offset for a Wasm access of `size` bytes at
    /// `addr + offset`.
    ///
    /// The memory's reservation covers every 32-bit address plus every 32-bit offset plus
    /// a guard, so no explicit bounds check is needed: an access past the accessible length
    /// faults on inaccessible pages and the fault becomes `Trap::MemoryOutOfBounds`. Two
    /// kinds of memory are checked against their length first: a 64-bit memory, whose
    /// addresses reach far beyond any reservation, and a memory of one-byte pages, whose
    /// length need not be a whole number of system pages (the rest of the last page is
    /// accessible).
    pub(crate) fn heap_addr(
        &self,
        b: &mut FunctionBuilder<'_>,
        memory: u32,
        addr: Value,
        offset: u64,
        size: u8,
    ) -> (Value, i32) {
        let def = self.memory_def(b, memory);
        let base = b.ins().load(I64, readonly(), def, field::MEMORY_BASE);
        let ty = self.info.memories[memory as usize];
        let addr = if ty.is_64() {
            addr
        } else {
            b.ins().uextend(I64, addr)
        };
        let oob = Trap::MemoryOutOfBounds.to_cranelift();
        if ty.is_64() || ty.page_size_log2() < 12 {
            // The access ends at `addr + offset + size`: within the memory, or a trap. A
            // 32-bit address plus a 32-bit offset cannot overflow 64 bits; a 64-bit one can.
            let len = b.ins().load(I64, trusted(), def, field::MEMORY_LENGTH);
            let end = match offset.checked_add(u64::from(size)) {
                Some(reach) if !ty.is_64() => b.ins().iadd_imm_u(addr, reach as i64),
                Some(reach) => {
                    let reach = b.ins().iconst(I64, reach as i64);
                    b.ins().uadd_overflow_trap(addr, reach, oob)
                }
                // No address is that far in.
                None => {
                    b.ins().trap(oob);
                    let next = b.create_block();
                    b.switch_to_block(next);
                    b.seal_block(next);
                    len
                }
            };
            let outside = b
                .ins()
                .icmp(ir::condcodes::IntCC::UnsignedGreaterThan, end, len);
            b.ins().trapnz(outside, oob);
        }
        let ptr = b.ins().iadd(base, addr);
        match i32::try_from(offset) {
            Ok(imm) => (ptr, imm),
            Err(_) => (b.ins().iadd_imm_u(ptr, offset as i64), 0),
        }
    }

    /// The current size of memory `index` in pages, as its address type (i32 or i64).
    pub(crate) fn memory_size(&self, b: &mut FunctionBuilder<'_>, memory: u32) -> Value {
        let def = self.memory_def(b, memory);
        let len = b.ins().load(I64, trusted(), def, field::MEMORY_LENGTH);
        let ty = self.info.memories[memory as usize];
        let pages = b.ins().ushr_imm_u(len, i64::from(ty.page_size_log2()));
        if ty.is_64() {
            pages
        } else {
            b.ins().ireduce(I32, pages)
        }
    }

    /// Whether `relaxed_madd` fuses: in the deterministic profile always, otherwise where
    /// the host has FMA instructions.
    pub(crate) fn fused_madd(&self) -> bool {
        self.fused_madd
    }

    /// Whether memory `index` has 64-bit addresses.
    pub(crate) fn memory_is_64(&self, memory: u32) -> bool {
        self.info.memories[memory as usize].is_64()
    }

    /// Pointer to table `index`'s `VMTableDefinition`.
    fn table_def(&self, b: &mut FunctionBuilder<'_>, index: u32) -> Value {
        self.vmctx_load(b, self.offsets.table(index))
    }

    /// The current size of table `index`, as its index type (i32 or i64).
    pub(crate) fn table_size(&self, b: &mut FunctionBuilder<'_>, table: u32) -> Value {
        let def = self.table_def(b, table);
        let len = b.ins().load(I64, trusted(), def, field::TABLE_LENGTH);
        if self.table_is_64(table) {
            len
        } else {
            b.ins().ireduce(I32, len)
        }
    }

    /// Whether table `index` has 64-bit indices.
    pub(crate) fn table_is_64(&self, table: u32) -> bool {
        self.info.tables[table as usize].0.is_64()
    }

    /// Address of element `index` of `table`, trapping with `trap` when out of bounds.
    pub(crate) fn table_elem_addr(
        &self,
        b: &mut FunctionBuilder<'_>,
        table: u32,
        index: Value,
        trap: Trap,
    ) -> Value {
        let def = self.table_def(b, table);
        let len = b.ins().load(I64, trusted(), def, field::TABLE_LENGTH);
        let index = super::to_i64(b, index);
        let oob = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        b.ins().trapnz(oob, trap.to_cranelift());
        let base = b.ins().load(I64, trusted(), def, field::TABLE_BASE);
        let offset = b.ins().ishl_imm_u(index, 3);
        b.ins().iadd(base, offset)
    }

    /// The element type of `table` in compiled code.
    pub(crate) fn table_elem_type(&self, table: u32) -> ir::Type {
        crate::compile::ref_type(self.info.tables[table as usize].0.element().heap_type())
    }

    /// The collector's code emission.
    pub(crate) fn gc_compiler(&self) -> &'m dyn GcCompiler {
        self.gc
    }

    /// `table.get`.
    pub(crate) fn table_get(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        table: u32,
        index: Value,
    ) -> Value {
        let addr = self.table_elem_addr(b, table, index, Trap::TableOutOfBounds);
        if self.table_is_gc(table) {
            // Elements are little-endian and zero-extended: the reference is the low half.
            let gc = self.gc;
            let v = gc.load_gc_ref(self, b, trusted(), addr, 0);
            b.declare_value_needs_stack_map(v);
            return v;
        }
        b.ins().load(I64, trusted(), addr, 0)
    }

    /// `table.set`.
    pub(crate) fn table_set(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        table: u32,
        index: Value,
        value: Value,
    ) {
        let addr = self.table_elem_addr(b, table, index, Trap::TableOutOfBounds);
        if self.table_is_gc(table) {
            let gc = self.gc;
            let ty = crate::types::ValType::Ref(*self.info.tables[table as usize].0.element());
            gc.store_gc_ref(self, b, trusted(), addr, 0, value, gc_ref_kind(&ty), None);
        } else {
            b.ins().store(trusted(), value, addr, 0);
        }
    }

    fn table_is_gc(&self, table: u32) -> bool {
        self.table_elem_type(table) == gc_compiler::GC_REF_TYPE
    }

    /// A reference value as a pointer-sized table element.
    pub(crate) fn ref_to_raw(&self, b: &mut FunctionBuilder<'_>, value: Value) -> Value {
        if b.func.dfg.value_type(value) == I64 {
            value
        } else {
            b.ins().uextend(I64, value)
        }
    }

    /// `ref.func`: the address of the function's `VMFuncRef` in this instance.
    pub(crate) fn ref_func(&self, b: &mut FunctionBuilder<'_>, func: u32) -> Value {
        b.ins()
            .iadd_imm_u(self.vmctx, i64::from(self.offsets.funcref(func)))
    }

    /// The signature for module type `index`.
    pub(crate) fn signature(&mut self, b: &mut FunctionBuilder<'_>, type_index: u32) -> ir::SigRef {
        *self.sigs.entry(type_index).or_insert_with(|| {
            b.import_signature(wasm_signature(self.info.func_type_at(type_index)))
        })
    }

    /// `call` (or `return_call` when `tail`; then there are no results).
    pub(crate) fn call(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        func: u32,
        args: &[Value],
        tail: bool,
    ) -> Vec<Value> {
        let mut full = Vec::with_capacity(args.len() + 2);
        let type_index = self.info.funcs[func as usize];
        let sig = self.signature(b, type_index);
        if self.info.is_imported_func(func) {
            let funcref = self.offsets.funcref(func) as i32;
            let code = b.ins().load(
                I64,
                readonly(),
                self.vmctx,
                funcref + field::FUNCREF_WASM_CALL,
            );
            let callee = b
                .ins()
                .load(I64, readonly(), self.vmctx, funcref + field::FUNCREF_VMCTX);
            full.extend([callee, self.vmctx]);
            full.extend_from_slice(args);
            return self.emit_call(b, sig, Callee::Indirect(code), &full, tail);
        }
        let fref = match self.funcs.get(&func) {
            Some(&f) => f,
            None => {
                let defined = func - self.info.num_imported_funcs;
                let name = b.func.declare_imported_user_function(UserExternalName {
                    namespace: 0,
                    index: defined,
                });
                let f = b.import_function(ExtFuncData {
                    name: ExternalName::User(name),
                    signature: sig,
                    colocated: true,
                    patchable: false,
                });
                self.funcs.insert(func, f);
                f
            }
        };
        full.extend([self.vmctx, self.vmctx]);
        full.extend_from_slice(args);
        self.emit_call(b, sig, Callee::Direct(fref), &full, tail)
    }

    /// Emits a call of `callee` with signature `sig`: a tail call if `tail`; a plain call
    /// outside `try_table`s; inside them a `try_call` whose exception table sends the
    /// exceptions it throws to the handlers, innermost first, with this function's
    /// `VMContext` as the context that tells which tags they catch. Returns the results.
    fn emit_call(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        sig: ir::SigRef,
        callee: Callee,
        args: &[Value],
        tail: bool,
    ) -> Vec<Value> {
        if tail {
            match callee {
                Callee::Direct(f) => b.ins().return_call(f, args),
                Callee::Indirect(code) => b.ins().return_call_indirect(sig, code, args),
            };
            return Vec::new();
        }
        if self.handlers.is_empty() {
            let call = match callee {
                Callee::Direct(f) => b.ins().call(f, args),
                Callee::Indirect(code) => b.ins().call_indirect(sig, code, args),
            };
            return b.inst_results(call).to_vec();
        }
        let returns: Vec<ir::Type> = b.func.dfg.signatures[sig]
            .returns
            .iter()
            .map(|r| r.value_type)
            .collect();
        let cont = b.create_block();
        for &t in &returns {
            b.append_block_param(cont, t);
        }
        let rets: Vec<ir::BlockArg> = (0..returns.len() as u32)
            .map(ir::BlockArg::TryCallRet)
            .collect();
        let normal = b.func.dfg.block_call(cont, &rets);
        let mut items = vec![ir::ExceptionTableItem::Context(self.vmctx)];
        for h in self.handlers.iter().rev() {
            let to = b
                .func
                .dfg
                .block_call(h.block, &[ir::BlockArg::TryCallExn(0)]);
            items.push(match h.tag {
                Some(t) => ir::ExceptionTableItem::Tag(ir::ExceptionTag::from_u32(t), to),
                None => ir::ExceptionTableItem::Default(to),
            });
        }
        let table = b
            .func
            .dfg
            .exception_tables
            .push(ir::ExceptionTableData::new(sig, normal, items));
        match callee {
            Callee::Direct(f) => b.ins().try_call(f, args, table),
            Callee::Indirect(code) => b.ins().try_call_indirect(code, args, table),
        };
        b.switch_to_block(cont);
        b.seal_block(cont);
        b.block_params(cont).to_vec()
    }

    /// The canonical type index of module type `type_index`, loaded from the type-id array.
    fn canonical_type(&self, b: &mut FunctionBuilder<'_>, type_index: u32) -> Value {
        let ids = b.ins().load(I64, readonly(), self.vmctx, header::TYPE_IDS);
        b.ins().load(I32, readonly(), ids, (type_index * 4) as i32)
    }

    /// `call_indirect` (or `return_call_indirect` when `tail`).
    ///
    /// The callee's type must be a subtype of the expected type: for a final expected type
    /// (every function type without an explicit non-final `sub`) that is one compare; for
    /// other types a mismatch falls back to a check of the callee type's supertype chain.
    pub(crate) fn call_indirect(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        table: u32,
        type_index: u32,
        index: Value,
        args: &[Value],
        tail: bool,
    ) -> Vec<Value> {
        let addr = self.table_elem_addr(b, table, index, Trap::UndefinedElement);
        let funcref = b.ins().load(I64, trusted(), addr, 0);
        b.ins()
            .trapz(funcref, Trap::UninitializedElement.to_cranelift());
        let actual = b
            .ins()
            .load(I32, trusted(), funcref, field::FUNCREF_TYPE_INDEX);
        let expected = self.canonical_type(b, type_index);
        if self.info.types[type_index as usize].is_final {
            let mismatch = b.ins().icmp(IntCC::NotEqual, actual, expected);
            b.ins()
                .trapnz(mismatch, Trap::IndirectCallTypeMismatch.to_cranelift());
        } else {
            let done = b.create_block();
            let ok = self.subtype_slow_path(b, actual, expected, done, &[]);
            b.ins()
                .trapz(ok, Trap::IndirectCallTypeMismatch.to_cranelift());
            b.ins().jump(done, &[]);
            b.seal_block(done);
            b.switch_to_block(done);
        }
        self.call_funcref(b, type_index, funcref, args, tail)
    }

    /// The test "canonical type `actual` is `expected` or a subtype of it" (both `i32`s):
    /// equal types branch to `equal` with `args`; otherwise a cold block asks the
    /// `IsSubtype` builtin (a walk of the supertype chain), and the builder is left there
    /// with its answer, an `i8` 0 or 1.
    pub(crate) fn subtype_slow_path(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        actual: Value,
        expected: Value,
        equal: ir::Block,
        args: &[ir::BlockArg],
    ) -> Value {
        let mismatch = b.ins().icmp(IntCC::NotEqual, actual, expected);
        let slow = b.create_block();
        b.ins().brif(mismatch, slow, &[], equal, args);
        b.seal_block(slow);
        b.switch_to_block(slow);
        b.set_cold_block(slow);
        self.builtin(b, Builtin::IsSubtype, &[actual, expected])
            .expect("returns")
    }

    /// `call_ref` (or `return_call_ref` when `tail`): traps on null, then calls.
    pub(crate) fn call_ref(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        type_index: u32,
        funcref: Value,
        args: &[Value],
        tail: bool,
    ) -> Vec<Value> {
        b.ins()
            .trapz(funcref, Trap::NullFunctionReference.to_cranelift());
        self.call_funcref(b, type_index, funcref, args, tail)
    }

    /// Calls through a non-null `VMFuncRef` pointer known to have module type `type_index`.
    pub(crate) fn call_funcref(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        type_index: u32,
        funcref: Value,
        args: &[Value],
        tail: bool,
    ) -> Vec<Value> {
        let sig = self.signature(b, type_index);
        let code = b
            .ins()
            .load(I64, trusted(), funcref, field::FUNCREF_WASM_CALL);
        let callee = b.ins().load(I64, trusted(), funcref, field::FUNCREF_VMCTX);
        let mut full = vec![callee, self.vmctx];
        full.extend_from_slice(args);
        self.emit_call(b, sig, Callee::Indirect(code), &full, tail)
    }

    /// Calls a runtime builtin; `args` excludes the leading `vmctx`.
    pub(crate) fn builtin(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        builtin: Builtin,
        args: &[Value],
    ) -> Option<Value> {
        let (sig, f, full) = self.builtin_target(b, builtin, args);
        let call = b.ins().call_indirect(sig, f, &full);
        b.inst_results(call).first().copied()
    }

    /// The signature, address and full arguments of a call of `builtin`.
    fn builtin_target(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        builtin: Builtin,
        args: &[Value],
    ) -> (ir::SigRef, Value, Vec<Value>) {
        let sig = *self
            .builtin_sigs
            .entry(builtin)
            .or_insert_with(|| b.import_signature(crate::compile::builtin_signature(I64, builtin)));
        let table = b.ins().load(I64, readonly(), self.vmctx, header::BUILTINS);
        let f = b
            .ins()
            .load(I64, readonly(), table, builtin.index() as i32 * 8);
        let mut full = vec![self.vmctx];
        full.extend_from_slice(args);
        (sig, f, full)
    }

    /// A call of `builtin` (one that never collects and preserves every register) with
    /// `args`, on which the frontend's stack-map pass must not act: every call is a
    /// safepoint to it, which would give every reference live across the call a stack slot,
    /// stored at its definition and reloaded at each use. So the arguments go to a cold
    /// block of their own here, and `insert_no_gc_calls` puts the call there after the
    /// pass. The current block continues there; the caller ends it.
    fn no_gc_call(&mut self, b: &mut FunctionBuilder<'_>, builtin: Builtin, args: &[Value]) {
        debug_assert!(builtin.preserves_all() && builtin.signature().1.is_none());
        let block = b.create_block();
        let args: Vec<ir::BlockArg> = args
            .iter()
            .map(|&a| {
                b.append_block_param(block, b.func.dfg.value_type(a));
                ir::BlockArg::Value(a)
            })
            .collect();
        b.ins().jump(block, &args);
        b.seal_block(block);
        b.switch_to_block(block);
        b.set_cold_block(block);
        self.no_gc_calls.push((block, builtin));
    }

    /// Puts the calls `no_gc_call` deferred into `func`, after the frontend's
    /// `finalize`: each at the start of its block, with the block's parameters.
    pub(crate) fn insert_no_gc_calls(&mut self, func: &mut ir::Function) {
        use cranelift_codegen::cursor::{Cursor, FuncCursor};
        let mut sigs = HashMap::new();
        for (block, builtin) in std::mem::take(&mut self.no_gc_calls) {
            let sig = *sigs.entry(builtin).or_insert_with(|| {
                func.import_signature(crate::compile::builtin_signature(I64, builtin))
            });
            let mut args = vec![self.vmctx];
            args.extend_from_slice(func.dfg.block_params(block));
            // At the operator of the barrier that branched here.
            let end = func
                .layout
                .last_inst(block)
                .expect("the block ends in a jump");
            let srcloc = func.srcloc(end);
            let mut pos = FuncCursor::new(func).with_srcloc(srcloc);
            pos.goto_first_insertion_point(block);
            // Loaded here, in the cold block: a hoisted address would hold a register
            // through every loop around the call.
            let flags = MemFlagsData::trusted().with_readonly();
            let table = pos.ins().load(I64, flags, self.vmctx, header::BUILTINS);
            let f = pos
                .ins()
                .load(I64, flags, table, builtin.index() as i32 * 8);
            pos.ins().call_indirect(sig, f, &args);
        }
    }

    /// Throws exception `exn` (non-null), thrown with module tag `known_tag` if that is
    /// known statically (`throw`, not `throw_ref`). This function's own handlers are tried
    /// inline, innermost first: a catch-all or a handler of the same tag is a jump, one of
    /// another tag compares tag identities (imports may alias). If none catches, the
    /// `ThrowRef` builtin, which never returns, unwinds the frames above.
    pub(crate) fn throw(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        exn: Value,
        known_tag: Option<u32>,
    ) {
        let handlers: Vec<CatchHandler> = self.handlers.iter().rev().copied().collect();
        let payload = b.ins().uextend(I64, exn);
        let mut tag_id = None;
        for h in handlers {
            let Some(t) = h.tag.filter(|&t| Some(t) != known_tag) else {
                b.ins().jump(h.block, &[ir::BlockArg::Value(payload)]);
                return;
            };
            let id = match tag_id {
                Some(id) => id,
                None => {
                    let id = match known_tag {
                        Some(k) => self.tag_id(b, k),
                        None => super::gc::exn_tag_id(self, b, exn),
                    };
                    *tag_id.insert(id)
                }
            };
            let want = self.tag_id(b, t);
            let same = b.ins().icmp(IntCC::Equal, id, want);
            let next = b.create_block();
            b.ins()
                .brif(same, h.block, &[ir::BlockArg::Value(payload)], next, &[]);
            b.seal_block(next);
            b.switch_to_block(next);
        }
        self.builtin(b, Builtin::ThrowRef, &[exn]);
        b.ins().trap(Trap::Unreachable.to_cranelift());
    }

    /// The identity of module tag `tag` (from the `VMContext`).
    pub(crate) fn tag_id(&self, b: &mut FunctionBuilder<'_>, tag: u32) -> Value {
        b.ins()
            .load(I32, readonly(), self.vmctx, self.offsets.tag(tag) as i32)
    }

    /// Calls `memory.grow`'s or `table.grow`'s builtin: the old size as an i32 (-1 if
    /// refused), trapping if the resource limiter failed.
    pub(crate) fn grow_builtin(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        builtin: Builtin,
        args: &[Value],
        result: ir::Type,
    ) -> Value {
        let r = self.builtin(b, builtin, args).expect("returns a size");
        let failed = b.ins().icmp_imm_s(IntCC::Equal, r, crate::vm::GROW_TRAP);
        b.ins().trapnz(failed, Trap::HostError.to_cranelift());
        if result == I64 {
            r
        } else {
            b.ins().ireduce(result, r)
        }
    }

    /// Calls a builtin that returns 0 on failure, trapping with `trap` then.
    pub(crate) fn checked_builtin(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        builtin: Builtin,
        args: &[Value],
        trap: Trap,
    ) {
        let ok = self
            .builtin(b, builtin, args)
            .expect("checked builtins return a status");
        b.ins().trapz(ok, trap.to_cranelift());
    }
}

impl FuncEnv<'_> {
    /// Loads a field of the store context that never changes during a store's life.
    fn store_constant(&self, b: &mut FunctionBuilder<'_>, offset: i32) -> Value {
        let store = b.ins().load(I64, readonly(), self.vmctx, header::STORE);
        b.ins().load(I64, readonly(), store, offset)
    }
}

impl GcCompileEnv for FuncEnv<'_> {
    fn gc_heap_base(&mut self, b: &mut FunctionBuilder<'_>) -> Value {
        self.store_constant(b, field::STORE_GC_HEAP_BASE)
    }

    fn gc_heap_bound(&mut self, b: &mut FunctionBuilder<'_>) -> Value {
        self.store_constant(b, field::STORE_GC_HEAP_BOUND)
    }

    fn gc_barrier_slow_path(&mut self, b: &mut FunctionBuilder<'_>, refs: [Value; 2]) {
        // The call never collects: it is made after the frontend's stack-map pass, so that
        // the references live across it are not spilled for it (see `no_gc_call`).
        self.no_gc_call(b, Builtin::GcBarrierSlowPath, &refs);
    }

    fn gc_externalize(&mut self, b: &mut FunctionBuilder<'_>, r: Value) {
        self.builtin(b, Builtin::GcExternalize, &[r]);
    }

    fn gc_alloc_slow(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        kind: gc_core::VMGcKind,
        ty: Value,
        size: Value,
    ) -> Value {
        let kind = b.ins().iconst(I32, i64::from(kind as u32));
        let packed = self
            .builtin(b, Builtin::GcAlloc, &[ty, size, kind])
            .expect("returns");
        super::gc::allocated(b, packed)
    }

    fn gc_heap_out_of_bounds(&self) -> ir::TrapCode {
        Trap::GcHeapOutOfBounds.to_cranelift()
    }
}
