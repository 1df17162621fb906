//! Statically typed calls: `TypedFunc<P, R>` and host functions from typed closures.

use crate::func::{Caller, Func};
use crate::store::AsContextMut;
use crate::types::{FuncType, ValType};
use crate::values::Val;
use anyhow::Result;
use std::marker::PhantomData;

/// A Rust type that maps to one Wasm value type.
pub trait WasmTy: Copy + Send + Sync + 'static {
    /// The Wasm type.
    fn valtype() -> ValType;
    /// To a `Val`.
    fn into_val(self) -> Val;
    /// From a `Val` already known to have type `valtype()`.
    fn from_val(v: Val) -> Self;
}

macro_rules! wasm_ty {
    ($t:ty, $vt:ident, $v:ident => $into:expr, $x:ident => $from:expr) => {
        impl WasmTy for $t {
            fn valtype() -> ValType {
                ValType::$vt
            }
            fn into_val(self) -> Val {
                let $v = self;
                $into
            }
            fn from_val(v: Val) -> Self {
                match v {
                    Val::$vt($x) => $from,
                    other => panic!("expected {}, got {other:?}", stringify!($vt)),
                }
            }
        }
    };
}

wasm_ty!(i32, I32, v => Val::I32(v), x => x);
wasm_ty!(i64, I64, v => Val::I64(v), x => x);
wasm_ty!(u32, I32, v => Val::I32(v as i32), x => x as u32);
wasm_ty!(u64, I64, v => Val::I64(v as i64), x => x as u64);
wasm_ty!(f32, F32, v => Val::F32(v.to_bits()), x => f32::from_bits(x));
wasm_ty!(f64, F64, v => Val::F64(v.to_bits()), x => f64::from_bits(x));

/// Parameter lists: `()`, a single `WasmTy`, or tuples of them.
pub trait WasmParams: Send + Sync + 'static {
    /// The Wasm types.
    fn types() -> Vec<ValType>;
    /// To `Val`s.
    fn into_vals(self) -> Vec<Val>;
    /// From `Val`s of the right types.
    fn from_vals(vals: &[Val]) -> Self;
}

/// Result lists: the same shapes as [`WasmParams`].
pub trait WasmResults: WasmParams {}
impl<P: WasmParams> WasmResults for P {}

impl<T: WasmTy> WasmParams for T {
    fn types() -> Vec<ValType> {
        vec![T::valtype()]
    }
    fn into_vals(self) -> Vec<Val> {
        vec![self.into_val()]
    }
    fn from_vals(vals: &[Val]) -> Self {
        T::from_val(vals[0].clone())
    }
}

macro_rules! tuples {
    ($( ($($t:ident),*) )*) => {$(
        #[allow(non_snake_case)]
        impl<$($t: WasmTy),*> WasmParams for ($($t,)*) {
            fn types() -> Vec<ValType> {
                vec![$($t::valtype()),*]
            }
            fn into_vals(self) -> Vec<Val> {
                let ($($t,)*) = self;
                vec![$($t.into_val()),*]
            }
            #[allow(unused_mut, unused_variables, clippy::unused_unit, reason = "the empty tuple")]
            fn from_vals(vals: &[Val]) -> Self {
                let mut it = vals.iter().cloned();
                ($($t::from_val(it.next().expect("arity checked")),)*)
            }
        }
    )*};
}

tuples! { () (A) (A, B) (A, B, C) (A, B, C, D) (A, B, C, D, E) (A, B, C, D, E, F) }

/// A function whose type has been checked against `P` and `R`.
#[derive(Debug)]
pub struct TypedFunc<P, R> {
    func: Func,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedFunc<P, R> {}

impl<P: WasmParams, R: WasmResults> TypedFunc<P, R> {
    pub(crate) fn new(func: Func) -> Self {
        TypedFunc {
            func,
            _marker: PhantomData,
        }
    }

    /// The untyped function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function.
    pub fn call(&self, store: impl AsContextMut, params: P) -> Result<R> {
        let mut results: Vec<Val> = R::types().iter().map(Val::default_for).collect();
        self.func.call(store, &params.into_vals(), &mut results)?;
        Ok(R::from_vals(&results))
    }
}

/// What a typed host closure may return: results, or `Result` of them.
pub trait WasmRet: Send + 'static {
    /// The result types.
    type Results: WasmResults;
    /// Into the results or an error.
    fn into_result(self) -> Result<Self::Results>;
}

impl<R: WasmResults> WasmRet for R {
    type Results = R;
    fn into_result(self) -> Result<R> {
        Ok(self)
    }
}

impl<R: WasmResults> WasmRet for Result<R> {
    type Results = R;
    fn into_result(self) -> Result<R> {
        self
    }
}

/// Marker for closures that take a [`Caller`] first.
pub struct WithCaller<P>(PhantomData<P>);

type HostImpl<T> = Box<dyn Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync>;

/// Closures usable with [`Func::wrap`]: `Fn(A, B, ..) -> R` or
/// `Fn(Caller<'_, T>, A, B, ..) -> R`, with `WasmTy` arguments and a [`WasmRet`] result.
pub trait IntoFunc<T, P, R>: Send + Sync + 'static {
    /// The function type and an implementation over `Val`s.
    fn into_func(self) -> (FuncType, HostImpl<T>);
}

macro_rules! into_func {
    ($( ($($t:ident),*) )*) => {$(
        #[allow(non_snake_case)]
        impl<T, Closure, R, $($t: WasmTy),*> IntoFunc<T, ($($t,)*), R> for Closure
        where
            Closure: Fn($($t),*) -> R + Send + Sync + 'static,
            R: WasmRet,
        {
            fn into_func(self) -> (FuncType, HostImpl<T>) {
                let ty = FuncType::new(<($($t,)*)>::types(), R::Results::types());
                (ty, Box::new(move |_caller, params, results| {
                    let ($($t,)*) = <($($t,)*)>::from_vals(params);
                    let r = (self)($($t),*).into_result()?;
                    results.clone_from_slice(&r.into_vals());
                    Ok(())
                }))
            }
        }

        #[allow(non_snake_case)]
        impl<T, Closure, R, $($t: WasmTy),*> IntoFunc<T, WithCaller<($($t,)*)>, R> for Closure
        where
            Closure: Fn(Caller<'_, T>, $($t),*) -> R + Send + Sync + 'static,
            R: WasmRet,
        {
            fn into_func(self) -> (FuncType, HostImpl<T>) {
                let ty = FuncType::new(<($($t,)*)>::types(), R::Results::types());
                (ty, Box::new(move |caller, params, results| {
                    let ($($t,)*) = <($($t,)*)>::from_vals(params);
                    let r = (self)(caller, $($t),*).into_result()?;
                    results.clone_from_slice(&r.into_vals());
                    Ok(())
                }))
            }
        }
    )*};
}

into_func! { () (A) (A, B) (A, B, C) (A, B, C, D) (A, B, C, D, E) (A, B, C, D, E, F) }
