//! `Val` and `Ref`: Wasm values as the host sees them, and their raw form.

use crate::anyref::AnyRef;
use crate::exnref::ExnRef;
use crate::externref::ExternRef;
use crate::func::Func;
use crate::store::StoreOpaque;
use crate::types::{HeapType, RefType, ValType};
use crate::vm::ValRaw;
use anyhow::{Result, bail};

/// A Wasm value. Floats are kept as bits so NaN payloads survive.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Val {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as its bits.
    F32(u32),
    /// An `f64`, as its bits.
    F64(u64),
    /// A `v128`.
    V128(u128),
    /// A function reference, or null.
    FuncRef(Option<Func>),
    /// A host reference, or null.
    ExternRef(Option<ExternRef>),
    /// A reference in the `any` hierarchy (`i31`, struct, array, ...), or null.
    AnyRef(Option<AnyRef>),
    /// An exception reference, or null.
    ExnRef(Option<ExnRef>),
}

/// A reference value.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Ref {
    /// A function reference, or null.
    Func(Option<Func>),
    /// A host reference, or null.
    Extern(Option<ExternRef>),
    /// A reference in the `any` hierarchy, or null.
    Any(Option<AnyRef>),
    /// An exception reference, or null.
    Exn(Option<ExnRef>),
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}
/// References as values: `Val::from(struct_ref)`, `Val::from(Some(extern_ref))`,
/// `Val::from(None::<Func>)`.
macro_rules! ref_into_val {
    ($($t:ty => $v:ident, $r:ident => $into:expr;)*) => {$(
        impl From<$t> for Val {
            fn from($r: $t) -> Val {
                Val::$v(Some($into))
            }
        }
        impl From<Option<$t>> for Val {
            fn from(r: Option<$t>) -> Val {
                Val::$v(r.map(|$r| $into))
            }
        }
    )*};
}

ref_into_val! {
    Func => FuncRef, f => f;
    ExternRef => ExternRef, e => e;
    AnyRef => AnyRef, a => a;
    ExnRef => ExnRef, e => e;
    crate::EqRef => AnyRef, e => e.into();
    crate::StructRef => AnyRef, s => s.as_anyref().clone();
    crate::ArrayRef => AnyRef, a => a.as_anyref().clone();
}

impl From<Ref> for Val {
    fn from(r: Ref) -> Val {
        match r {
            Ref::Func(f) => Val::FuncRef(f),
            Ref::Extern(e) => Val::ExternRef(e),
            Ref::Any(a) => Val::AnyRef(a),
            Ref::Exn(e) => Val::ExnRef(e),
        }
    }
}

/// A value as error messages show it: `i32 5`, `f64 1.5`, `null funcref`, `an externref`.
impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Val::I32(v) => write!(f, "i32 {v}"),
            Val::I64(v) => write!(f, "i64 {v}"),
            Val::F32(v) => write!(f, "f32 {}", f32::from_bits(*v)),
            Val::F64(v) => write!(f, "f64 {}", f64::from_bits(*v)),
            Val::V128(v) => write!(f, "v128 {v:#034x}"),
            Val::FuncRef(None) => f.write_str("null funcref"),
            Val::FuncRef(Some(_)) => f.write_str("a function"),
            Val::ExternRef(None) => f.write_str("null externref"),
            Val::ExternRef(Some(_)) => f.write_str("an externref"),
            Val::AnyRef(None) => f.write_str("null anyref"),
            Val::AnyRef(Some(a)) => match a.as_i31() {
                Some(i) => write!(f, "an i31 {}", i.get_i32()),
                None => f.write_str("a GC object"),
            },
            Val::ExnRef(None) => f.write_str("null exnref"),
            Val::ExnRef(Some(_)) => f.write_str("an exception"),
        }
    }
}

impl Val {
    /// The null function reference.
    pub fn null_func_ref() -> Val {
        Val::FuncRef(None)
    }

    /// The default (zero or null) value of type `ty`.
    pub fn default_for(ty: &ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::Ref(r) => match r.heap_type().top() {
                HeapType::Func => Val::FuncRef(None),
                HeapType::Extern => Val::ExternRef(None),
                HeapType::Exn => Val::ExnRef(None),
                _ => Val::AnyRef(None),
            },
        }
    }

    /// The `i32`, if this is one.
    pub fn i32(&self) -> Option<i32> {
        if let Val::I32(v) = self {
            Some(*v)
        } else {
            None
        }
    }
    /// The `i64`, if this is one.
    pub fn i64(&self) -> Option<i64> {
        if let Val::I64(v) = self {
            Some(*v)
        } else {
            None
        }
    }
    /// The `f32`, if this is one.
    pub fn f32(&self) -> Option<f32> {
        if let Val::F32(v) = self {
            Some(f32::from_bits(*v))
        } else {
            None
        }
    }
    /// The `f64`, if this is one.
    pub fn f64(&self) -> Option<f64> {
        if let Val::F64(v) = self {
            Some(f64::from_bits(*v))
        } else {
            None
        }
    }
    /// The function reference, if this is one (`Some(None)` for null).
    pub fn func_ref(&self) -> Option<Option<&Func>> {
        if let Val::FuncRef(f) = self {
            Some(f.as_ref())
        } else {
            None
        }
    }

    /// The `any`-hierarchy reference, if this is one (`Some(None)` for null).
    pub fn any_ref(&self) -> Option<Option<&AnyRef>> {
        if let Val::AnyRef(a) = self {
            Some(a.as_ref())
        } else {
            None
        }
    }

    /// The host reference, if this is one (`Some(None)` for null).
    pub fn extern_ref(&self) -> Option<Option<&ExternRef>> {
        if let Val::ExternRef(e) = self {
            Some(e.as_ref())
        } else {
            None
        }
    }

    /// The exception reference, if this is one (`Some(None)` for null).
    pub fn exn_ref(&self) -> Option<Option<&ExnRef>> {
        if let Val::ExnRef(e) = self {
            Some(e.as_ref())
        } else {
            None
        }
    }

    /// The reference, if this is one.
    pub fn as_ref(&self) -> Option<Ref> {
        match self {
            Val::FuncRef(f) => Some(Ref::Func(*f)),
            Val::ExternRef(e) => Some(Ref::Extern(e.clone())),
            Val::AnyRef(a) => Some(Ref::Any(a.clone())),
            Val::ExnRef(e) => Some(Ref::Exn(e.clone())),
            _ => None,
        }
    }

    /// Whether this value has type `ty` (or a subtype of it).
    pub(crate) fn matches(&self, store: &StoreOpaque, ty: &ValType) -> bool {
        let ValType::Ref(r) = ty else {
            return matches!(
                (self, ty),
                (Val::I32(_), ValType::I32)
                    | (Val::I64(_), ValType::I64)
                    | (Val::F32(_), ValType::F32)
                    | (Val::F64(_), ValType::F64)
                    | (Val::V128(_), ValType::V128)
            );
        };
        // The value's hierarchy and, if non-null, its most precise heap type.
        let (top, actual) = match self {
            Val::FuncRef(f) => (
                HeapType::Func,
                f.map(|f| HeapType::ConcreteFunc(f.type_index())),
            ),
            Val::ExternRef(e) => (HeapType::Extern, e.as_ref().map(|_| HeapType::Extern)),
            Val::AnyRef(a) => (HeapType::Any, a.as_ref().map(|a| a.heap_type(store))),
            Val::ExnRef(e) => (HeapType::Exn, e.as_ref().map(|_| HeapType::Exn)),
            _ => return false,
        };
        if r.heap_type().top() != top {
            return false;
        }
        match actual {
            None => r.is_nullable(),
            Some(heap) => store.engine.registry().heap_matches(&heap, r.heap_type()),
        }
    }

    /// This value for an error message, with a GC object's precise type.
    fn describe(&self, store: &StoreOpaque) -> String {
        match self {
            Val::AnyRef(Some(a)) => match a.heap_type(store) {
                HeapType::ConcreteStruct(i) => format!("a struct of type ${i}"),
                HeapType::ConcreteArray(i) => format!("an array of type ${i}"),
                _ => self.to_string(),
            },
            Val::FuncRef(Some(f)) => format!("a function of type ${}", f.type_index()),
            _ => self.to_string(),
        }
    }

    /// Checks the type and converts to the raw form for `store`.
    pub(crate) fn to_raw(&self, store: &mut StoreOpaque, ty: &ValType) -> Result<ValRaw> {
        // The store check comes first: the type check reads the reference's target, which
        // only exists while its own store does.
        match self {
            Val::FuncRef(Some(f)) => store.check(f.store_id()),
            Val::ExternRef(Some(e)) => store.check(e.store_id()),
            Val::AnyRef(Some(a)) => {
                if let Some(id) = a.store_id() {
                    store.check(id);
                }
            }
            Val::ExnRef(Some(e)) => store.check(e.store_id()),
            _ => {}
        }
        if !self.matches(store, ty) {
            bail!(
                "type mismatch: expected a value of type {ty}, got {}",
                self.describe(store)
            );
        }
        Ok(match self {
            Val::I32(v) => ValRaw::from_u32(*v as u32),
            Val::I64(v) => ValRaw::from_u64(*v as u64),
            Val::F32(v) => ValRaw::from_u32(*v),
            Val::F64(v) => ValRaw::from_u64(*v),
            Val::V128(v) => ValRaw::from_u128(*v),
            Val::FuncRef(None) | Val::ExternRef(None) | Val::AnyRef(None) | Val::ExnRef(None) => {
                ValRaw::from_u64(0)
            }
            Val::FuncRef(Some(f)) => {
                store.check(f.store_id());
                ValRaw::from_u64(f.raw() as u64)
            }
            Val::ExternRef(Some(e)) => ValRaw::from_u32(e.to_raw(store)),
            Val::AnyRef(Some(a)) => ValRaw::from_u32(a.to_raw(store)),
            Val::ExnRef(Some(e)) => ValRaw::from_u32(e.to_raw(store)),
        })
    }

    /// The value of type `ty` whose raw form is `raw`. A GC reference gets a new counted
    /// host handle.
    pub(crate) fn from_raw(store: &mut StoreOpaque, raw: ValRaw, ty: &ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw.get_u32() as i32),
            ValType::I64 => Val::I64(raw.get_u64() as i64),
            ValType::F32 => Val::F32(raw.get_u32()),
            ValType::F64 => Val::F64(raw.get_u64()),
            ValType::V128 => Val::V128(raw.get_u128()),
            ValType::Ref(r) => Ref::from_raw(store, raw.get_u64() as usize, r).into(),
        }
    }
}

impl Ref {
    /// Checks the type and converts to a raw table element.
    pub(crate) fn to_raw(&self, store: &mut StoreOpaque, ty: &RefType) -> Result<usize> {
        let raw = Val::from(self.clone()).to_raw(store, &ValType::Ref(*ty))?;
        Ok(raw.get_u64() as usize)
    }

    /// The reference of type `ty` whose raw table element is `raw`.
    pub(crate) fn from_raw(store: &mut StoreOpaque, raw: usize, ty: &RefType) -> Ref {
        match ty.heap_type().top() {
            HeapType::Func => Ref::Func(Func::from_raw(store.id, raw)),
            HeapType::Extern => Ref::Extern(ExternRef::from_raw(store, raw as u32)),
            HeapType::Exn => Ref::Exn(ExnRef::from_raw(store, raw as u32)),
            _ => Ref::Any(AnyRef::from_raw(store, raw as u32)),
        }
    }
}
