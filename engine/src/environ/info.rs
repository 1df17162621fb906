//! `ModuleInfo`: everything about a module except its code, gathered while parsing.

use crate::types::{
    CompositeType, ExternType, FuncType, GlobalType, HeapType, MemoryType, SubType, TableType,
};
use crate::vm::VMOffsets;

/// A constant expression, kept as its operators for evaluation at instantiation.
#[derive(Clone, Debug)]
pub(crate) struct ConstExpr {
    pub ops: Vec<ConstOp>,
}

/// The operators allowed in constant expressions (including extended-const).
#[derive(Clone, Copy, Debug)]
pub(crate) enum ConstOp {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    RefNull,
    RefFunc(u32),
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
    /// `ref.i31`: an i32 to a tagged 31-bit reference.
    RefI31,
    /// `any.convert_extern` / `extern.convert_any`: the same reference, retyped.
    ConvertRef,
    /// `struct.new` of the module type.
    StructNew(u32),
    /// `struct.new_default` of the module type.
    StructNewDefault(u32),
    /// `array.new` of the module type.
    ArrayNew(u32),
    /// `array.new_default` of the module type.
    ArrayNewDefault(u32),
    /// `array.new_fixed` of the module type, with this many elements.
    ArrayNewFixed(u32, u32),
}

impl ConstExpr {
    pub(crate) fn parse(expr: &wasmparser::ConstExpr<'_>) -> anyhow::Result<ConstExpr> {
        use wasmparser::Operator as O;
        let mut ops = Vec::new();
        let mut reader = expr.get_operators_reader();
        while !reader.eof() {
            let op = match reader.read()? {
                O::I32Const { value } => ConstOp::I32(value),
                O::I64Const { value } => ConstOp::I64(value),
                O::F32Const { value } => ConstOp::F32(value.bits()),
                O::F64Const { value } => ConstOp::F64(value.bits()),
                O::V128Const { value } => ConstOp::V128(u128::from_le_bytes(*value.bytes())),
                O::RefNull { .. } => ConstOp::RefNull,
                O::RefFunc { function_index } => ConstOp::RefFunc(function_index),
                O::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
                O::I32Add => ConstOp::I32Add,
                O::I32Sub => ConstOp::I32Sub,
                O::I32Mul => ConstOp::I32Mul,
                O::I64Add => ConstOp::I64Add,
                O::I64Sub => ConstOp::I64Sub,
                O::I64Mul => ConstOp::I64Mul,
                O::RefI31 => ConstOp::RefI31,
                O::AnyConvertExtern | O::ExternConvertAny => ConstOp::ConvertRef,
                O::StructNew { struct_type_index } => ConstOp::StructNew(struct_type_index),
                O::StructNewDefault { struct_type_index } => {
                    ConstOp::StructNewDefault(struct_type_index)
                }
                O::ArrayNew { array_type_index } => ConstOp::ArrayNew(array_type_index),
                O::ArrayNewDefault { array_type_index } => {
                    ConstOp::ArrayNewDefault(array_type_index)
                }
                O::ArrayNewFixed {
                    array_type_index,
                    array_size,
                } => ConstOp::ArrayNewFixed(array_type_index, array_size),
                O::End => continue,
                other => anyhow::bail!("unsupported constant expression operator {other:?}"),
            };
            ops.push(op);
        }
        Ok(ConstExpr { ops })
    }
}

/// Where an import comes from and what it provides.
#[derive(Clone, Debug)]
pub(crate) struct Import {
    pub module: String,
    pub name: String,
    /// The index it occupies in its own index space.
    pub index: u32,
    pub ty: ExternType,
}

/// What an export refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntityIndex {
    Func(u32),
    Table(u32),
    Memory(u32),
    Global(u32),
    Tag(u32),
}

/// An element segment.
#[derive(Clone, Debug)]
pub(crate) struct ElemSegment {
    pub mode: SegmentMode,
    pub items: Vec<ConstExpr>,
    /// Whether the items are GC references (not function references).
    pub gc: bool,
}

/// A data segment.
#[derive(Clone, Debug)]
pub(crate) struct DataSegment {
    pub mode: SegmentMode,
    pub bytes: Vec<u8>,
}

/// How a segment is used.
#[derive(Clone, Debug)]
pub(crate) enum SegmentMode {
    Passive,
    /// Applied at instantiation to table or memory `index` at `offset`.
    Active {
        index: u32,
        offset: ConstExpr,
    },
    /// Declares functions for `ref.func`; dropped at instantiation.
    Declared,
}

/// A defined function's body: its byte range in the module binary.
#[derive(Clone, Debug)]
pub(crate) struct FuncBody {
    pub range: std::ops::Range<usize>,
}

/// All the non-code information about a module.
#[derive(Debug, Default)]
pub(crate) struct ModuleInfo {
    /// The features the module was validated with; the translator parses with them too.
    pub features: wasmparser::WasmFeatures,
    pub name: Option<String>,
    /// Module type index -> the type, with concrete references as canonical indices.
    pub types: Vec<SubType>,
    /// Module type index -> engine-wide canonical index.
    pub type_ids: Vec<u32>,
    /// Function index -> module type index.
    pub funcs: Vec<u32>,
    pub tables: Vec<(TableType, Option<ConstExpr>)>,
    pub memories: Vec<MemoryType>,
    pub globals: Vec<(GlobalType, Option<ConstExpr>)>,
    /// Tag index -> the module type index of its function type.
    pub tags: Vec<u32>,
    pub imports: Vec<Import>,
    pub exports: Vec<(String, EntityIndex)>,
    /// Positions in `exports`, sorted by name: a lookup by name is a binary search (host
    /// functions look up `memory` on every call).
    pub exports_by_name: Vec<u32>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub data: Vec<DataSegment>,
    pub bodies: Vec<FuncBody>,
    pub func_names: std::collections::HashMap<u32, String>,
    pub num_imported_funcs: u32,
    pub num_imported_tables: u32,
    pub num_imported_memories: u32,
    pub num_imported_globals: u32,
    pub num_imported_tags: u32,
}

impl ModuleInfo {
    /// The export called `name`.
    pub fn export(&self, name: &str) -> Option<EntityIndex> {
        let i = self
            .exports_by_name
            .binary_search_by(|&i| self.exports[i as usize].0.as_str().cmp(name))
            .ok()?;
        Some(self.exports[self.exports_by_name[i] as usize].1)
    }

    /// The `VMContext` layout for instances of this module.
    pub fn offsets(&self) -> VMOffsets {
        VMOffsets {
            num_memories: self.memories.len() as u32,
            num_tables: self.tables.len() as u32,
            num_globals: self.globals.len() as u32,
            num_funcs: self.funcs.len() as u32,
            num_tags: self.tags.len() as u32,
            num_data: self.data.len() as u32,
        }
    }

    /// The type of function `index`.
    pub fn func_type(&self, index: u32) -> &FuncType {
        self.func_type_at(self.funcs[index as usize])
    }

    /// Module type `type_index`, which validation guarantees is a function type.
    pub fn func_type_at(&self, type_index: u32) -> &FuncType {
        match &self.types[type_index as usize].composite {
            CompositeType::Func(f) => f,
            other => panic!("type {type_index} is not a function type: {other:?}"),
        }
    }

    /// The concrete heap type of module type `type_index`.
    pub fn concrete_heap(&self, type_index: u32) -> HeapType {
        let i = type_index as usize;
        match (self.types.get(i), self.type_ids.get(i)) {
            (Some(t), Some(&id)) => t.composite.heap_type(id),
            // Validation rejects out-of-range indices; this keeps conversion total.
            _ => HeapType::None,
        }
    }

    /// Maps module type indices to concrete heap types, for `types::convert`.
    pub fn canon(&self) -> impl Fn(u32) -> HeapType + '_ {
        |i| self.concrete_heap(i)
    }

    /// Whether function `index` is imported.
    pub fn is_imported_func(&self, index: u32) -> bool {
        index < self.num_imported_funcs
    }

    /// The type of an exported or imported entity.
    pub fn entity_type(&self, engine: &crate::Engine, e: EntityIndex) -> ExternType {
        match e {
            EntityIndex::Func(i) => ExternType::Func(self.func_type(i).clone()),
            EntityIndex::Table(i) => ExternType::Table(self.tables[i as usize].0),
            EntityIndex::Memory(i) => ExternType::Memory(self.memories[i as usize]),
            EntityIndex::Global(i) => ExternType::Global(self.globals[i as usize].0),
            EntityIndex::Tag(i) => ExternType::Tag(self.tag_type(engine, i)),
        }
    }

    /// The type of tag `index`.
    pub fn tag_type(&self, engine: &crate::Engine, index: u32) -> crate::TagType {
        let ty = self.tags[index as usize];
        crate::TagType::from_canonical(engine, self.type_ids[ty as usize])
    }
}
