//! Wasm types as the embedding API sees them: value, reference, function, global, table and
//! memory types, and their conversion from wasmparser's.

use std::fmt;

/// A heap type: what a reference points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeapType {
    /// Any function (`func`).
    Func,
    /// Any host reference (`extern`).
    Extern,
    /// Any internal reference (`any`).
    Any,
    /// Comparable references (`eq`).
    Eq,
    /// Any struct (`struct`).
    Struct,
    /// Any array (`array`).
    Array,
    /// Unboxed 31-bit integers (`i31`).
    I31,
    /// The bottom of the `any` hierarchy (`none`).
    None,
    /// The bottom of the `func` hierarchy (`nofunc`).
    NoFunc,
    /// The bottom of the `extern` hierarchy (`noextern`).
    NoExtern,
    /// Exception references (`exn`).
    Exn,
    /// The bottom of the `exn` hierarchy (`noexn`).
    NoExn,
    /// A concrete function type, by its engine-wide canonical index.
    ConcreteFunc(u32),
    /// A concrete struct type, by its engine-wide canonical index.
    ConcreteStruct(u32),
    /// A concrete array type, by its engine-wide canonical index.
    ConcreteArray(u32),
}

impl HeapType {
    /// The top type of this heap type's hierarchy.
    pub fn top(&self) -> HeapType {
        match self {
            HeapType::Func | HeapType::NoFunc => HeapType::Func,
            HeapType::Extern | HeapType::NoExtern => HeapType::Extern,
            HeapType::Exn | HeapType::NoExn => HeapType::Exn,
            HeapType::ConcreteFunc(_) => HeapType::Func,
            _ => HeapType::Any,
        }
    }

    /// The bottom type of this heap type's hierarchy.
    pub fn bottom(&self) -> HeapType {
        match self.top() {
            HeapType::Func => HeapType::NoFunc,
            HeapType::Extern => HeapType::NoExtern,
            HeapType::Exn => HeapType::NoExn,
            _ => HeapType::None,
        }
    }

    /// The canonical type index, for concrete types.
    pub fn concrete_index(&self) -> Option<u32> {
        match *self {
            HeapType::ConcreteFunc(i)
            | HeapType::ConcreteStruct(i)
            | HeapType::ConcreteArray(i) => Some(i),
            _ => None,
        }
    }

    /// The same heap type with its concrete index (if any) mapped by `f`.
    pub(crate) fn map_index(&self, f: &dyn Fn(u32) -> u32) -> HeapType {
        match *self {
            HeapType::ConcreteFunc(i) => HeapType::ConcreteFunc(f(i)),
            HeapType::ConcreteStruct(i) => HeapType::ConcreteStruct(f(i)),
            HeapType::ConcreteArray(i) => HeapType::ConcreteArray(f(i)),
            other => other,
        }
    }
}

/// A reference type: a heap type and whether null is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RefType {
    nullable: bool,
    heap: HeapType,
}

impl RefType {
    /// `funcref`, that is `(ref null func)`.
    pub const FUNCREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Func,
    };
    /// `externref`, that is `(ref null extern)`.
    pub const EXTERNREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Extern,
    };

    /// A reference type to `heap`, nullable or not.
    pub fn new(nullable: bool, heap: HeapType) -> RefType {
        RefType { nullable, heap }
    }

    /// Whether null is a value of this type.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }

    /// The heap type referred to.
    pub fn heap_type(&self) -> &HeapType {
        &self.heap
    }

    pub(crate) fn map_index(&self, f: &dyn Fn(u32) -> u32) -> RefType {
        RefType {
            nullable: self.nullable,
            heap: self.heap.map_index(f),
        }
    }
}

/// The text format's names: `func`, `any`, `struct`, ...; a concrete type as `$N`, its
/// engine-wide canonical index.
impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            HeapType::ConcreteFunc(i)
            | HeapType::ConcreteStruct(i)
            | HeapType::ConcreteArray(i) => {
                return write!(f, "${i}");
            }
            HeapType::Func => "func",
            HeapType::NoFunc => "nofunc",
            HeapType::Extern => "extern",
            HeapType::NoExtern => "noextern",
            HeapType::Any => "any",
            HeapType::Eq => "eq",
            HeapType::I31 => "i31",
            HeapType::Struct => "struct",
            HeapType::Array => "array",
            HeapType::None => "none",
            HeapType::Exn => "exn",
            HeapType::NoExn => "noexn",
        };
        f.write_str(name)
    }
}

/// The text format's forms: `funcref`, `(ref null $3)`, `(ref any)`.
impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.nullable, &self.heap) {
            (true, h) if h.concrete_index().is_none() => write!(f, "{h}ref"),
            (true, h) => write!(f, "(ref null {h})"),
            (false, h) => write!(f, "(ref {h})"),
        }
    }
}

/// The type of a Wasm value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
    /// 128-bit vector.
    V128,
    /// A reference.
    Ref(RefType),
}

impl ValType {
    /// `funcref`.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);

    /// Whether this is a reference type.
    pub fn is_ref(&self) -> bool {
        matches!(self, ValType::Ref(_))
    }

    pub(crate) fn map_index(&self, f: &dyn Fn(u32) -> u32) -> ValType {
        match self {
            ValType::Ref(r) => ValType::Ref(r.map_index(f)),
            other => *other,
        }
    }

    /// Whether values of this type are references into the GC heap (everything but
    /// function references among the reference types).
    pub fn is_gc_ref(&self) -> bool {
        matches!(self, ValType::Ref(r) if r.heap_type().top() != HeapType::Func)
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref(r) => write!(f, "{r}"),
        }
    }
}

/// The type of a function: parameters and results.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Box<[ValType]>,
    results: Box<[ValType]>,
}

impl FuncType {
    /// A function type with these parameters and results.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }

    /// The parameter types.
    pub fn params(&self) -> &[ValType] {
        &self.params
    }

    /// The result types.
    pub fn results(&self) -> &[ValType] {
        &self.results
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[ValType]| {
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(
            f,
            "(func (param {}) (result {}))",
            list(&self.params),
            list(&self.results)
        )
    }
}

impl FuncType {
    pub(crate) fn map_index(&self, f: &dyn Fn(u32) -> u32) -> FuncType {
        FuncType::new(
            self.params.iter().map(|t| t.map_index(f)),
            self.results.iter().map(|t| t.map_index(f)),
        )
    }
}

/// How a struct field or array element is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StorageType {
    /// A packed 8-bit integer.
    I8,
    /// A packed 16-bit integer.
    I16,
    /// A full value.
    Val(ValType),
}

/// A struct field or array element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldType {
    /// How the value is stored.
    pub storage: StorageType,
    /// Whether it may be written after allocation.
    pub mutable: bool,
}

impl FieldType {
    fn map_index(&self, f: &dyn Fn(u32) -> u32) -> FieldType {
        let storage = match self.storage {
            StorageType::Val(v) => StorageType::Val(v.map_index(f)),
            other => other,
        };
        FieldType {
            storage,
            mutable: self.mutable,
        }
    }
}

/// The shape of a defined type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CompositeType {
    /// A function type.
    Func(FuncType),
    /// A struct type: its fields.
    Struct(Box<[FieldType]>),
    /// An array type: its element.
    Array(FieldType),
}

impl CompositeType {
    pub(crate) fn map_index(&self, f: &dyn Fn(u32) -> u32) -> CompositeType {
        match self {
            CompositeType::Func(t) => CompositeType::Func(t.map_index(f)),
            CompositeType::Struct(fields) => {
                CompositeType::Struct(fields.iter().map(|x| x.map_index(f)).collect())
            }
            CompositeType::Array(e) => CompositeType::Array(e.map_index(f)),
        }
    }

    /// The concrete heap type for a type of this shape with canonical index `index`.
    pub(crate) fn heap_type(&self, index: u32) -> HeapType {
        match self {
            CompositeType::Func(_) => HeapType::ConcreteFunc(index),
            CompositeType::Struct(_) => HeapType::ConcreteStruct(index),
            CompositeType::Array(_) => HeapType::ConcreteArray(index),
        }
    }
}

/// A defined type: its shape, declared supertype and finality.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SubType {
    /// Whether no type may declare this one as its supertype.
    pub is_final: bool,
    /// The declared supertype's canonical index.
    pub supertype: Option<u32>,
    /// The shape.
    pub composite: CompositeType,
}

/// Whether a defined type may be declared as another's supertype.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Finality {
    /// No type may extend it.
    Final,
    /// Other types may declare it as their supertype.
    NonFinal,
}

/// Whether a global may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Immutable.
    Const,
    /// Mutable.
    Var,
}

/// The type of a global: its content and mutability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalType {
    content: ValType,
    mutability: Mutability,
}

impl GlobalType {
    /// A global type.
    pub fn new(content: ValType, mutability: Mutability) -> GlobalType {
        GlobalType {
            content,
            mutability,
        }
    }

    /// The type of the value held.
    pub fn content(&self) -> &ValType {
        &self.content
    }

    /// Whether the global may be written.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }
}

/// The type of a table: element type, 32-bit or 64-bit indices (table64), and limits in
/// elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableType {
    element: RefType,
    min: u64,
    max: Option<u64>,
    table64: bool,
}

impl TableType {
    /// A table type with 32-bit indices.
    pub fn new(element: RefType, min: u32, max: Option<u32>) -> TableType {
        TableType {
            element,
            min: u64::from(min),
            max: max.map(u64::from),
            table64: false,
        }
    }

    /// A table type with 64-bit indices (table64).
    pub fn new64(element: RefType, min: u64, max: Option<u64>) -> TableType {
        TableType {
            element,
            min,
            max,
            table64: true,
        }
    }

    /// The element type.
    pub fn element(&self) -> &RefType {
        &self.element
    }

    /// Whether indices are 64-bit.
    pub fn is_64(&self) -> bool {
        self.table64
    }

    /// The minimum size in elements.
    pub fn minimum(&self) -> u64 {
        self.min
    }

    /// The maximum size in elements, if any.
    pub fn maximum(&self) -> Option<u64> {
        self.max
    }

    /// The same type with `min` elements as minimum.
    pub(crate) fn with_minimum(self, min: u64) -> TableType {
        TableType { min, ..self }
    }
}

/// The type of a linear memory: 32-bit or 64-bit addresses (memory64), and limits in pages
/// of 64 KiB or of one byte (the custom-page-sizes proposal's `(pagesize 1)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryType {
    min: u64,
    max: Option<u64>,
    memory64: bool,
    page_size_log2: u8,
}

impl MemoryType {
    /// A memory type with 32-bit addresses and 64 KiB pages.
    pub fn new(min: u32, max: Option<u32>) -> MemoryType {
        MemoryType {
            min: u64::from(min),
            max: max.map(u64::from),
            memory64: false,
            page_size_log2: 16,
        }
    }

    /// A memory type with 64-bit addresses (memory64) and 64 KiB pages.
    pub fn new64(min: u64, max: Option<u64>) -> MemoryType {
        MemoryType {
            min,
            max,
            memory64: true,
            page_size_log2: 16,
        }
    }

    /// The same limits in pages of `1 << log2` bytes: 16 (64 KiB, the default) or 0 (one
    /// byte); other sizes are not valid Wasm.
    pub fn with_page_size_log2(self, log2: u8) -> MemoryType {
        MemoryType {
            page_size_log2: log2,
            ..self
        }
    }

    /// Whether addresses are 64-bit.
    pub fn is_64(&self) -> bool {
        self.memory64
    }

    /// The page size's base-2 logarithm.
    pub fn page_size_log2(&self) -> u8 {
        self.page_size_log2
    }

    /// The page size in bytes.
    pub fn page_size(&self) -> u64 {
        1 << self.page_size_log2
    }

    /// The most pages the address space allows: 4 GiB of 32-bit addresses (one byte less
    /// for one-byte pages), or 2^64 bytes of 64-bit ones. An engine may allow fewer
    /// ([`Memory::new`](crate::Memory::new) and growth say so).
    pub fn max_pages(&self) -> u64 {
        let bits = if self.memory64 { 64 } else { 32 };
        match self.page_size_log2 {
            0 if bits == 32 => u64::from(u32::MAX),
            0 => u64::MAX,
            log2 => 1u64 << (bits - u32::from(log2)),
        }
    }

    /// The minimum size in pages.
    pub fn minimum(&self) -> u64 {
        self.min
    }

    /// The maximum size in pages, if any.
    pub fn maximum(&self) -> Option<u64> {
        self.max
    }
}

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A global.
    Global(GlobalType),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// An exception tag.
    Tag(crate::TagType),
}

impl fmt::Display for ExternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExternType::Func(t) => write!(f, "{t}"),
            ExternType::Global(t) => write!(f, "global {:?} {}", t.mutability, t.content),
            ExternType::Table(t) => write!(f, "table {} {:?} {}", t.min, t.max, t.element),
            ExternType::Memory(t) => write!(f, "memory {} {:?}", t.min, t.max),
            ExternType::Tag(t) => write!(f, "{t}"),
        }
    }
}

/// Conversions from wasmparser's types. Concrete type indices are module-relative there and
/// are mapped to canonical indices by the caller-supplied function.
pub(crate) mod convert {
    use super::*;

    /// Maps a module type index to its concrete heap type.
    pub(crate) type Canon<'a> = &'a dyn Fn(u32) -> HeapType;

    pub(crate) fn heap_type(h: wasmparser::HeapType, canon: Canon<'_>) -> HeapType {
        use wasmparser::AbstractHeapType as A;
        match h {
            wasmparser::HeapType::Abstract { ty, .. } => match ty {
                A::Func => HeapType::Func,
                A::Extern => HeapType::Extern,
                A::Any => HeapType::Any,
                A::Eq => HeapType::Eq,
                A::Struct => HeapType::Struct,
                A::Array => HeapType::Array,
                A::I31 => HeapType::I31,
                A::None => HeapType::None,
                A::NoFunc => HeapType::NoFunc,
                A::NoExtern => HeapType::NoExtern,
                A::Exn => HeapType::Exn,
                A::NoExn => HeapType::NoExn,
                A::Cont | A::NoCont => HeapType::Any,
            },
            wasmparser::HeapType::Concrete(idx) | wasmparser::HeapType::Exact(idx) => {
                canon(idx.as_module_index().unwrap_or(u32::MAX))
            }
        }
    }

    pub(crate) fn ref_type(r: wasmparser::RefType, canon: Canon<'_>) -> RefType {
        RefType::new(r.is_nullable(), heap_type(r.heap_type(), canon))
    }

    pub(crate) fn val_type(v: wasmparser::ValType, canon: Canon<'_>) -> ValType {
        match v {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => ValType::Ref(ref_type(r, canon)),
        }
    }

    pub(crate) fn func_type(f: &wasmparser::FuncType, canon: Canon<'_>) -> FuncType {
        FuncType::new(
            f.params().iter().map(|p| val_type(*p, canon)),
            f.results().iter().map(|r| val_type(*r, canon)),
        )
    }

    fn field_type(f: &wasmparser::FieldType, canon: Canon<'_>) -> FieldType {
        let storage = match f.element_type {
            wasmparser::StorageType::I8 => StorageType::I8,
            wasmparser::StorageType::I16 => StorageType::I16,
            wasmparser::StorageType::Val(v) => StorageType::Val(val_type(v, canon)),
        };
        FieldType {
            storage,
            mutable: f.mutable,
        }
    }

    pub(crate) fn composite_type(
        c: &wasmparser::CompositeInnerType,
        canon: Canon<'_>,
    ) -> anyhow::Result<CompositeType> {
        Ok(match c {
            wasmparser::CompositeInnerType::Func(f) => CompositeType::Func(func_type(f, canon)),
            wasmparser::CompositeInnerType::Struct(s) => {
                CompositeType::Struct(s.fields.iter().map(|f| field_type(f, canon)).collect())
            }
            wasmparser::CompositeInnerType::Array(a) => {
                CompositeType::Array(field_type(&a.0, canon))
            }
            wasmparser::CompositeInnerType::Cont(_) => {
                anyhow::bail!("continuation types are not supported")
            }
        })
    }

    pub(crate) fn table_type(t: &wasmparser::TableType, canon: Canon<'_>) -> TableType {
        let element = ref_type(t.element_type, canon);
        if t.table64 {
            TableType::new64(element, t.initial, t.maximum)
        } else {
            TableType::new(
                element,
                t.initial.min(u64::from(u32::MAX)) as u32,
                t.maximum.map(|m| m.min(u64::from(u32::MAX)) as u32),
            )
        }
    }

    pub(crate) fn memory_type(m: &wasmparser::MemoryType) -> MemoryType {
        let ty = if m.memory64 {
            MemoryType::new64(m.initial, m.maximum)
        } else {
            MemoryType::new(
                m.initial.min(u64::from(u32::MAX)) as u32,
                m.maximum.map(|x| x.min(u64::from(u32::MAX)) as u32),
            )
        };
        ty.with_page_size_log2(m.page_size_log2.unwrap_or(16) as u8)
    }

    pub(crate) fn global_type(g: &wasmparser::GlobalType, canon: Canon<'_>) -> GlobalType {
        GlobalType::new(
            val_type(g.content_type, canon),
            if g.mutable {
                Mutability::Var
            } else {
                Mutability::Const
            },
        )
    }
}
