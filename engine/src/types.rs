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
    /// A concrete type, by its engine-wide canonical index.
    Concrete(u32),
}

impl HeapType {
    /// The top type of this heap type's hierarchy.
    pub fn top(&self) -> HeapType {
        match self {
            HeapType::Func | HeapType::NoFunc => HeapType::Func,
            HeapType::Extern | HeapType::NoExtern => HeapType::Extern,
            HeapType::Exn | HeapType::NoExn => HeapType::Exn,
            // Concrete types are function types until the GC proposal lands.
            HeapType::Concrete(_) => HeapType::Func,
            _ => HeapType::Any,
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
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let null = if self.nullable { "null " } else { "" };
        write!(f, "(ref {null}{:?})", self.heap)
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

/// The type of a table: element type and limits (in elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableType {
    element: RefType,
    min: u32,
    max: Option<u32>,
}

impl TableType {
    /// A table type.
    pub fn new(element: RefType, min: u32, max: Option<u32>) -> TableType {
        TableType { element, min, max }
    }

    /// The element type.
    pub fn element(&self) -> &RefType {
        &self.element
    }

    /// The minimum size in elements.
    pub fn minimum(&self) -> u32 {
        self.min
    }

    /// The maximum size in elements, if any.
    pub fn maximum(&self) -> Option<u32> {
        self.max
    }
}

/// The type of a linear memory: limits in 64 KiB pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryType {
    min: u32,
    max: Option<u32>,
}

impl MemoryType {
    /// A memory type.
    pub fn new(min: u32, max: Option<u32>) -> MemoryType {
        MemoryType { min, max }
    }

    /// The minimum size in pages.
    pub fn minimum(&self) -> u32 {
        self.min
    }

    /// The maximum size in pages, if any.
    pub fn maximum(&self) -> Option<u32> {
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
}

impl fmt::Display for ExternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExternType::Func(t) => write!(f, "{t}"),
            ExternType::Global(t) => write!(f, "global {:?} {}", t.mutability, t.content),
            ExternType::Table(t) => write!(f, "table {} {:?} {}", t.min, t.max, t.element),
            ExternType::Memory(t) => write!(f, "memory {} {:?}", t.min, t.max),
        }
    }
}

/// Conversions from wasmparser's types. Concrete type indices are module-relative there and
/// are mapped to canonical indices by the caller-supplied function.
pub(crate) mod convert {
    use super::*;

    pub(crate) fn heap_type(h: wasmparser::HeapType, canon: &dyn Fn(u32) -> u32) -> HeapType {
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
                let i = idx.as_module_index().unwrap_or(u32::MAX);
                HeapType::Concrete(canon(i))
            }
        }
    }

    pub(crate) fn ref_type(r: wasmparser::RefType, canon: &dyn Fn(u32) -> u32) -> RefType {
        RefType::new(r.is_nullable(), heap_type(r.heap_type(), canon))
    }

    pub(crate) fn val_type(v: wasmparser::ValType, canon: &dyn Fn(u32) -> u32) -> ValType {
        match v {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => ValType::Ref(ref_type(r, canon)),
        }
    }

    pub(crate) fn func_type(f: &wasmparser::FuncType, canon: &dyn Fn(u32) -> u32) -> FuncType {
        FuncType::new(
            f.params().iter().map(|p| val_type(*p, canon)),
            f.results().iter().map(|r| val_type(*r, canon)),
        )
    }

    pub(crate) fn table_type(t: &wasmparser::TableType, canon: &dyn Fn(u32) -> u32) -> TableType {
        TableType::new(
            ref_type(t.element_type, canon),
            t.initial.min(u64::from(u32::MAX)) as u32,
            t.maximum.map(|m| m.min(u64::from(u32::MAX)) as u32),
        )
    }

    pub(crate) fn memory_type(m: &wasmparser::MemoryType) -> MemoryType {
        MemoryType::new(
            m.initial.min(u64::from(u32::MAX)) as u32,
            m.maximum.map(|x| x.min(u64::from(u32::MAX)) as u32),
        )
    }

    pub(crate) fn global_type(
        g: &wasmparser::GlobalType,
        canon: &dyn Fn(u32) -> u32,
    ) -> GlobalType {
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
