//! Statically typed calls: `TypedFunc<P, R>` and host functions from typed closures.

use crate::func::{Caller, Func, RawHostFn, whole_store};
use crate::store::AsContextMut;
use crate::types::{FuncType, ValType};
use crate::values::Val;
use crate::vm::ValRaw;
use anyhow::Result;
use std::marker::PhantomData;

/// The most parameters or results a typed function or typed host closure may have.
pub const MAX_TYPED_ARITY: usize = 16;

/// A Rust type that maps to one Wasm value type.
pub trait WasmTy: Copy + Send + Sync + 'static {
    /// The Wasm type.
    fn valtype() -> ValType;
    /// To a `Val`.
    fn into_val(self) -> Val;
    /// From a `Val` already known to have type `valtype()`.
    fn from_val(v: Val) -> Self;
    /// To the raw form compiled code passes.
    fn into_raw(self) -> ValRaw;
    /// From the raw form of a value of type `valtype()`.
    fn from_raw(raw: ValRaw) -> Self;
}

macro_rules! wasm_ty {
    ($t:ty, $vt:ident, $v:ident => $into:expr, $x:ident => $from:expr,
     $r:ident => $into_raw:expr, $w:ident => $from_raw:expr) => {
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
            fn into_raw(self) -> ValRaw {
                let $r = self;
                $into_raw
            }
            fn from_raw($w: ValRaw) -> Self {
                $from_raw
            }
        }
    };
}

wasm_ty!(i32, I32, v => Val::I32(v), x => x,
    v => ValRaw::from_u32(v as u32), r => r.get_u32() as i32);
wasm_ty!(i64, I64, v => Val::I64(v), x => x,
    v => ValRaw::from_u64(v as u64), r => r.get_u64() as i64);
wasm_ty!(u32, I32, v => Val::I32(v as i32), x => x as u32,
    v => ValRaw::from_u32(v), r => r.get_u32());
wasm_ty!(u64, I64, v => Val::I64(v as i64), x => x as u64,
    v => ValRaw::from_u64(v), r => r.get_u64());
wasm_ty!(f32, F32, v => Val::F32(v.to_bits()), x => f32::from_bits(x),
    v => ValRaw::from_u32(v.to_bits()), r => f32::from_bits(r.get_u32()));
wasm_ty!(f64, F64, v => Val::F64(v.to_bits()), x => f64::from_bits(x),
    v => ValRaw::from_u64(v.to_bits()), r => f64::from_bits(r.get_u64()));

/// Parameter lists: `()`, a single `WasmTy`, or tuples of them.
pub trait WasmParams: Send + Sync + 'static {
    /// The Wasm types.
    fn types() -> Vec<ValType>;
    /// To `Val`s.
    fn into_vals(self) -> Vec<Val>;
    /// From `Val`s of the right types.
    fn from_vals(vals: &[Val]) -> Self;
    /// How many values.
    const LEN: usize;
    /// Writes the raw values to the front of `raw` (which has room for them).
    fn store_raw(self, raw: &mut [ValRaw]);
    /// From the raw values at the front of `raw`.
    fn load_raw(raw: &[ValRaw]) -> Self;
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
    const LEN: usize = 1;
    fn store_raw(self, raw: &mut [ValRaw]) {
        raw[0] = self.into_raw();
    }
    fn load_raw(raw: &[ValRaw]) -> Self {
        T::from_raw(raw[0])
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
            const LEN: usize = <[&str]>::len(&[$(stringify!($t)),*]);
            #[allow(unused_mut, unused_variables, reason = "the empty tuple")]
            fn store_raw(self, raw: &mut [ValRaw]) {
                let ($($t,)*) = self;
                let mut slots = raw.iter_mut();
                $(*slots.next().expect("room for the values") = $t.into_raw();)*
            }
            #[allow(unused_mut, unused_variables, clippy::unused_unit, reason = "the empty tuple")]
            fn load_raw(raw: &[ValRaw]) -> Self {
                let mut it = raw.iter();
                ($($t::from_raw(*it.next().expect("arity checked")),)*)
            }
        }
    )*};
}

/// Every arity up to [`MAX_TYPED_ARITY`].
macro_rules! for_each_arity {
    ($m:ident) => {
        $m! {
            () (A) (A, B) (A, B, C) (A, B, C, D) (A, B, C, D, E) (A, B, C, D, E, F)
            (A, B, C, D, E, F, G) (A, B, C, D, E, F, G, H) (A, B, C, D, E, F, G, H, I)
            (A, B, C, D, E, F, G, H, I, J) (A, B, C, D, E, F, G, H, I, J, K)
            (A, B, C, D, E, F, G, H, I, J, K, L) (A, B, C, D, E, F, G, H, I, J, K, L, M)
            (A, B, C, D, E, F, G, H, I, J, K, L, M, N)
            (A, B, C, D, E, F, G, H, I, J, K, L, M, N, O)
            (A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P)
        }
    };
}

for_each_arity!(tuples);

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

    /// Calls the function. The values go to compiled code in their raw form, on the stack
    /// for up to [`MAX_TYPED_ARITY`] of them.
    pub fn call(&self, mut store: impl AsContextMut, params: P) -> Result<R> {
        let cx = store.as_context_mut();
        let opaque = &mut cx.0.opaque;
        opaque.check(self.func.store_id());
        // A safe point, as in `Func::call`; typed values hold no references.
        opaque.maybe_gc();
        let len = P::LEN.max(R::LEN).max(1);
        let mut stack = [ValRaw::default(); MAX_TYPED_ARITY];
        let mut heap = Vec::new();
        let values: &mut [ValRaw] = if len <= MAX_TYPED_ARITY {
            &mut stack[..len]
        } else {
            heap.resize(len, ValRaw::default());
            &mut heap
        };
        params.store_raw(values);
        let store = whole_store(cx.0);
        // SAFETY: `store` comes from the unique borrow `cx`, unused until the call returns;
        // `values` has room for the parameters and results, whose types `Func::typed`
        // checked.
        unsafe { self.func.call_raw(store, values)? };
        Ok(R::load_raw(values))
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

/// Closures usable with [`Func::wrap`] and [`Linker::func_wrap`](crate::Linker::func_wrap):
/// `Fn(A, B, ..) -> R` or `Fn(Caller<'_, T>, A, B, ..) -> R`, with up to
/// [`MAX_TYPED_ARITY`] `WasmTy` arguments and a [`WasmRet`] result. They run on the raw
/// values compiled code passes: no `Val`s, no allocation per call.
pub trait IntoFunc<T, P, R>: Send + Sync + 'static {
    /// The function type and an implementation over the raw values array.
    fn into_func(self) -> (FuncType, Box<RawHostFn<T>>);
}

macro_rules! into_func {
    ($( ($($t:ident),*) )*) => {$(
        #[allow(non_snake_case)]
        impl<T, Closure, R, $($t: WasmTy),*> IntoFunc<T, ($($t,)*), R> for Closure
        where
            Closure: Fn($($t),*) -> R + Send + Sync + 'static,
            R: WasmRet,
        {
            fn into_func(self) -> (FuncType, Box<RawHostFn<T>>) {
                let ty = FuncType::new(<($($t,)*)>::types(), R::Results::types());
                (ty, Box::new(move |_caller, values| {
                    let ($($t,)*) = <($($t,)*)>::load_raw(values);
                    (self)($($t),*).into_result()?.store_raw(values);
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
            fn into_func(self) -> (FuncType, Box<RawHostFn<T>>) {
                let ty = FuncType::new(<($($t,)*)>::types(), R::Results::types());
                (ty, Box::new(move |caller, values| {
                    let ($($t,)*) = <($($t,)*)>::load_raw(values);
                    (self)(caller, $($t),*).into_result()?.store_raw(values);
                    Ok(())
                }))
            }
        }
    )*};
}

for_each_arity!(into_func);
