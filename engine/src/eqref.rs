//! `EqRef`: references of the `eq` hierarchy (`i31ref`, structs, arrays), the ones
//! `ref.eq` compares.

use crate::store::AsContext;
use crate::{AnyRef, ArrayRef, I31, StructRef};

/// A reference to an `i31`, a struct or an array: an `eqref`. Cloning is cheap; the object
/// stays alive while any handle to it does.
///
/// ```
/// # use engine::{AnyRef, Engine, EqRef, I31, Instance, Module, Store};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module
///     (func (export "same") (param eqref eqref) (result i32) (ref.eq (local.get 0) (local.get 1))))"#)?;
/// let mut store = Store::new(&engine, ());
/// let same = Instance::new(&mut store, &module, &[])?
///     .get_typed_func::<(Option<EqRef>, Option<EqRef>), i32>(&store, "same")?;
/// let seven = EqRef::from_i31(I31::wrapping_i32(7));
/// assert_eq!(same.call(&mut store, (Some(seven.clone()), Some(seven)))?, 1);
/// // An `anyref` is an `eqref` when it refers to an i31, a struct or an array.
/// assert!(AnyRef::from_i31(I31::wrapping_i32(1)).as_eqref(&store).is_some());
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct EqRef {
    any: AnyRef,
}

impl EqRef {
    /// For an `AnyRef` known to be in the `eq` hierarchy.
    pub(crate) fn from_anyref(any: AnyRef) -> EqRef {
        EqRef { any }
    }

    /// The `i31ref` of `value`.
    pub fn from_i31(value: I31) -> EqRef {
        EqRef::from_anyref(AnyRef::from_i31(value))
    }

    /// The same reference as an `anyref`.
    pub fn as_anyref(&self) -> &AnyRef {
        &self.any
    }

    /// The `i31` value, if this is an `i31ref`.
    pub fn as_i31(&self) -> Option<I31> {
        self.any.as_i31()
    }

    /// The struct this refers to, if it is one.
    pub fn as_struct(&self, store: impl AsContext) -> Option<StructRef> {
        self.any.as_struct(store)
    }

    /// The array this refers to, if it is one.
    pub fn as_array(&self, store: impl AsContext) -> Option<ArrayRef> {
        self.any.as_array(store)
    }
}

impl From<StructRef> for EqRef {
    fn from(s: StructRef) -> EqRef {
        EqRef::from_anyref(s.as_anyref().clone())
    }
}

impl From<ArrayRef> for EqRef {
    fn from(a: ArrayRef) -> EqRef {
        EqRef::from_anyref(a.as_anyref().clone())
    }
}

impl From<EqRef> for AnyRef {
    fn from(e: EqRef) -> AnyRef {
        e.any
    }
}
