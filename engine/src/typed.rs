//! Statically typed calls: `TypedFunc<P, R>` and host functions from typed closures.
//!
//! A [`WasmTy`] is a Rust type with one Wasm value type: the numbers, [`V128`], and the
//! references with their nullability (`Option<ExternRef>` is `externref`, `ExternRef` is
//! `(ref extern)`, likewise `AnyRef`, `EqRef`, [`StructRef`] (`structref`), [`ArrayRef`],
//! `I31`, `Func` and `ExnRef`). Values cross in their raw form; references become counted handles.

use crate::func::{Caller, Func, RawHostFn, whole_store};
use crate::store::{AsContextMut, StoreOpaque};
use crate::types::{FuncType, HeapType, RefType, ValType};
use crate::values::Val;
use crate::vm::ValRaw;
use crate::{AnyRef, ArrayRef, ExnRef, ExternRef, I31, StructRef};
use anyhow::Result;
use std::marker::PhantomData;

/// The most parameters or results a typed function or typed host closure may have.
pub const MAX_TYPED_ARITY: usize = 16;

/// A 128-bit SIMD value (`v128`), as its bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct V128(pub u128);

/// A Rust type that maps to one Wasm value type. Implemented for `i32`, `u32`, `i64`,
/// `u64`, `f32`, `f64`, [`V128`], and the reference handles (see the module docs).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Wasm value type",
    label = "typed functions take and return numbers, `V128` and reference handles",
    note = "use `i32`, `i64`, `f32`, `f64`, `V128`, `ExternRef`, `AnyRef`, `StructRef`, \
            `ArrayRef`, `I31`, `Func`, `ExnRef`, or `Option` of a reference"
)]
pub trait WasmTy: Clone + Send + Sync + 'static {
    /// The Wasm type.
    fn valtype() -> ValType;
    /// To a `Val`.
    fn into_val(self) -> Val;
    /// From a `Val` already known to have type `valtype()`.
    fn from_val(v: Val) -> Self;
    /// To the raw form compiled code takes, in `store`.
    #[doc(hidden)]
    fn into_raw(self, store: &mut StoreOpaque) -> Result<ValRaw>;
    /// From the raw form of a value of type `valtype()` in `store`.
    #[doc(hidden)]
    fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Self;
}

macro_rules! wasm_num {
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
            fn into_raw(self, _: &mut StoreOpaque) -> Result<ValRaw> {
                let $r = self;
                Ok($into_raw)
            }
            fn from_raw(_: &mut StoreOpaque, $w: ValRaw) -> Self {
                $from_raw
            }
        }
    };
}

wasm_num!(i32, I32, v => Val::I32(v), x => x,
    v => ValRaw::from_u32(v as u32), r => r.get_u32() as i32);
wasm_num!(i64, I64, v => Val::I64(v), x => x,
    v => ValRaw::from_u64(v as u64), r => r.get_u64() as i64);
wasm_num!(u32, I32, v => Val::I32(v as i32), x => x as u32,
    v => ValRaw::from_u32(v), r => r.get_u32());
wasm_num!(u64, I64, v => Val::I64(v as i64), x => x as u64,
    v => ValRaw::from_u64(v), r => r.get_u64());
wasm_num!(f32, F32, v => Val::F32(v.to_bits()), x => f32::from_bits(x),
    v => ValRaw::from_u32(v.to_bits()), r => f32::from_bits(r.get_u32()));
wasm_num!(f64, F64, v => Val::F64(v.to_bits()), x => f64::from_bits(x),
    v => ValRaw::from_u64(v.to_bits()), r => f64::from_bits(r.get_u64()));
wasm_num!(V128, V128, v => Val::V128(v.0), x => V128(x),
    v => ValRaw::from_u128(v.0), r => V128(r.get_u128()));

/// References: `Option<$t>` is the nullable type, `$t` the non-nullable one. Both go
/// through `Val`'s conversions, which count handles and check the store.
macro_rules! wasm_ref {
    ($t:ty, $heap:expr, $null:expr, $v:ident => $into:expr, $x:pat => $from:expr) => {
        impl WasmTy for Option<$t> {
            fn valtype() -> ValType {
                ValType::Ref(RefType::new(true, $heap))
            }
            fn into_val(self) -> Val {
                match self {
                    Some($v) => $into,
                    None => $null,
                }
            }
            fn from_val(v: Val) -> Self {
                match v {
                    $x => $from,
                    other => panic!("expected {}, got {other:?}", Self::valtype()),
                }
            }
            fn into_raw(self, store: &mut StoreOpaque) -> Result<ValRaw> {
                self.into_val().to_raw(store, &Self::valtype())
            }
            fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Self {
                Self::from_val(Val::from_raw(store, raw, &Self::valtype()))
            }
        }

        impl WasmTy for $t {
            fn valtype() -> ValType {
                ValType::Ref(RefType::new(false, $heap))
            }
            fn into_val(self) -> Val {
                Some(self).into_val()
            }
            fn from_val(v: Val) -> Self {
                <Option<$t>>::from_val(v).expect("a non-null reference")
            }
            fn into_raw(self, store: &mut StoreOpaque) -> Result<ValRaw> {
                self.into_val().to_raw(store, &Self::valtype())
            }
            fn from_raw(store: &mut StoreOpaque, raw: ValRaw) -> Self {
                Self::from_val(Val::from_raw(store, raw, &Self::valtype()))
            }
        }
    };
}

wasm_ref!(ExternRef, HeapType::Extern, Val::ExternRef(None), e => Val::ExternRef(Some(e)),
    Val::ExternRef(e) => e);
wasm_ref!(Func, HeapType::Func, Val::FuncRef(None), f => Val::FuncRef(Some(f)), Val::FuncRef(f) => f);
wasm_ref!(ExnRef, HeapType::Exn, Val::ExnRef(None), e => Val::ExnRef(Some(e)), Val::ExnRef(e) => e);
wasm_ref!(AnyRef, HeapType::Any, Val::AnyRef(None), a => Val::AnyRef(Some(a)), Val::AnyRef(a) => a);
wasm_ref!(StructRef, HeapType::Struct, Val::AnyRef(None), s => Val::AnyRef(Some(s.as_anyref().clone())),
    Val::AnyRef(a) => a.map(StructRef::from_anyref));
wasm_ref!(ArrayRef, HeapType::Array, Val::AnyRef(None), s => Val::AnyRef(Some(s.as_anyref().clone())),
    Val::AnyRef(a) => a.map(ArrayRef::from_anyref));
wasm_ref!(crate::EqRef, HeapType::Eq, Val::AnyRef(None), e => Val::AnyRef(Some(e.into())),
    Val::AnyRef(a) => a.map(crate::EqRef::from_anyref));
wasm_ref!(I31, HeapType::I31, Val::AnyRef(None), i => Val::AnyRef(Some(AnyRef::from_i31(i))),
    Val::AnyRef(a) => a.map(|a| a.as_i31().expect("an i31ref")));

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
    #[doc(hidden)]
    fn store_raw(self, store: &mut StoreOpaque, raw: &mut [ValRaw]) -> Result<()>;
    /// From the raw values at the front of `raw`.
    #[doc(hidden)]
    fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self;
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
    fn store_raw(self, store: &mut StoreOpaque, raw: &mut [ValRaw]) -> Result<()> {
        raw[0] = self.into_raw(store)?;
        Ok(())
    }
    fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self {
        T::from_raw(store, raw[0])
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
            fn store_raw(self, store: &mut StoreOpaque, raw: &mut [ValRaw]) -> Result<()> {
                let ($($t,)*) = self;
                let mut slots = raw.iter_mut();
                $(*slots.next().expect("room for the values") = $t.into_raw(store)?;)*
                Ok(())
            }
            #[allow(unused_mut, unused_variables, clippy::unused_unit, reason = "the empty tuple")]
            fn load_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self {
                let mut it = raw.iter();
                ($($t::from_raw(store, *it.next().expect("arity checked")),)*)
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
///
/// ```
/// use engine::{Engine, Instance, Module, Store, TypedFunc};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module
///     (func (export "divmod") (param i32 i32) (result i32 i32)
///       (i32.div_u (local.get 0) (local.get 1)) (i32.rem_u (local.get 0) (local.get 1))))"#)?;
/// let mut store = Store::new(&engine, ());
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let divmod: TypedFunc<(u32, u32), (u32, u32)> = instance.get_typed_func(&store, "divmod")?;
/// assert_eq!(divmod.call(&mut store, (17, 5))?, (3, 2));
/// // The types are checked once, when the view is made.
/// assert!(instance.get_typed_func::<i32, i32>(&store, "divmod").is_err());
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Debug)]
pub struct TypedFunc<P, R> {
    func: Func,
    /// Whether the function's parameter types are exactly `P`'s. If some are narrower
    /// (a `StructRef` passed to a `(ref $point)` parameter), each call checks its values.
    exact: bool,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedFunc<P, R> {}

impl<P: WasmParams, R: WasmResults> TypedFunc<P, R> {
    pub(crate) fn new(func: Func, exact: bool) -> Self {
        TypedFunc {
            func,
            exact,
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
        if !self.exact {
            // Some parameter is narrower than its Rust type: `Func::call` checks each value.
            let mut results: Vec<Val> = R::types().iter().map(Val::default_for).collect();
            self.func
                .call(&mut store, &params.into_vals(), &mut results)?;
            return Ok(R::from_vals(&results));
        }
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
        params.store_raw(&mut cx.0.opaque, values)?;
        let store = whole_store(cx.0);
        // SAFETY: `store` comes from the unique borrow `cx`, unused until the call returns;
        // `values` has room for the parameters and results, whose types `Func::typed`
        // checked.
        unsafe { self.func.call_raw(store, values)? };
        Ok(R::load_raw(&mut cx.0.opaque, values))
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
#[diagnostic::on_unimplemented(
    message = "this closure cannot be a host function",
    label = "not a supported host-function shape",
    note = "a host function is `Fn(A, B, ..) -> R` or `Fn(Caller<'_, T>, A, B, ..) -> R`, \
            `Send + Sync + 'static`, with at most 16 parameters of `WasmTy` types (numbers, \
            `V128`, reference handles and `Option`s of them) and `R` a `WasmTy`, a tuple of \
            them, `()`, or `anyhow::Result` of one of those"
)]
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
                (ty, Box::new(move |caller, values| {
                    let ($($t,)*) = <($($t,)*)>::load_raw(&mut caller.store.opaque, values);
                    (self)($($t),*).into_result()?.store_raw(&mut caller.store.opaque, values)
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
                (ty, Box::new(move |mut caller: Caller<'_, T>, values| {
                    let ($($t,)*) = <($($t,)*)>::load_raw(&mut caller.store.opaque, values);
                    let results = (self)(caller.reborrow(), $($t),*).into_result()?;
                    results.store_raw(&mut caller.store.opaque, values)
                }))
            }
        }
    )*};
}

for_each_arity!(into_func);
