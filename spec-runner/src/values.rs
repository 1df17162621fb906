//! Converting `wast` arguments to [`engine::Val`]s and matching results against expectations.
//!
//! Every value form the `wast` crate can parse is handled here, either by converting or matching
//! it, or by naming the engine feature it needs ([`Unsupported`]), so the script runner can skip
//! the directive with that reason instead of guessing. When the engine's `Val` gains a variant
//! (anyref, exnref), this is the one file to update.
//!
//! `ref.extern N` arguments become [`engine::ExternRef`]s holding `N` (a `u32`), and an
//! expected `ref.extern N` result matches an externref whose host value is `N`.

use std::fmt;

use engine::{ExternRef, Store, Val};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::token::{F32, F64, Index};
use wast::{WastArg, WastRet};

/// Skip reason for values of the anyref hierarchy (`ref.struct`, `ref.i31`, `ref.null any`, ...).
pub(crate) const GC_REFS: &str = "GC reference values not supported yet";
/// Skip reason for exception references and `assert_exception`.
/// Skip reason for continuation references and `assert_suspension`.
pub(crate) const STACK_SWITCHING: &str = "stack switching not supported yet";
/// Skip reason for `shared` references and the thread directives.
pub(crate) const THREADS: &str = "threads not supported yet";
/// Skip reason for component-model modules, arguments and results.
pub(crate) const COMPONENTS: &str = "component model not supported";

/// A value form that needs an engine feature not available yet; holds the skip reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unsupported(pub &'static str);

/// Converts an `invoke` argument to an engine value, allocating host references in `store`.
/// `param` is the callee's parameter type, which tells which hierarchy a null of a concrete
/// type (`ref.null $t`) belongs to.
pub(crate) fn arg_to_val(
    store: &mut Store<()>,
    arg: &WastArg<'_>,
    param: Option<&engine::ValType>,
) -> Result<Val, Unsupported> {
    let WastArg::Core(arg) = arg else {
        return Err(Unsupported(COMPONENTS));
    };
    Ok(match arg {
        WastArgCore::I32(i) => Val::I32(*i),
        WastArgCore::I64(i) => Val::I64(*i),
        WastArgCore::F32(f) => Val::F32(f.bits),
        WastArgCore::F64(f) => Val::F64(f.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(heap) => match heap_family(heap)? {
            RefFamily::Func => Val::FuncRef(None),
            RefFamily::Extern => Val::ExternRef(None),
            RefFamily::Any => Val::AnyRef(None),
            RefFamily::Exn => Val::ExnRef(None),
            // A null of a concrete type could be a function or a GC object; without GC reference
            // values in `Val` the runner cannot build the latter, so it builds neither.
            RefFamily::Concrete => match param {
                Some(engine::ValType::Ref(r)) => match r.heap_type().top() {
                    engine::HeapType::Func => Val::FuncRef(None),
                    engine::HeapType::Any => Val::AnyRef(None),
                    _ => return Err(Unsupported(GC_REFS)),
                },
                _ => return Err(Unsupported(GC_REFS)),
            },
        },
        WastArgCore::RefExtern(n) | WastArgCore::RefHost(n) => {
            let host = ExternRef::new(&mut *store, *n).expect("allocating a host reference");
            // `ref.host N` for an `any` parameter: the host value seen from the `any`
            // hierarchy, as `any.convert_extern` makes it.
            match param {
                Some(engine::ValType::Ref(r)) if r.heap_type().top() == engine::HeapType::Any => {
                    Val::AnyRef(Some(engine::AnyRef::convert_extern(store, &host)))
                }
                _ => Val::ExternRef(Some(host)),
            }
        }
    })
}

/// Which reference hierarchy a heap type names, as far as the runner can represent it.
enum RefFamily {
    /// `func`, `nofunc`: `Val::FuncRef`.
    Func,
    /// `extern`, `noextern`: `Val::ExternRef`.
    Extern,
    /// `any`, `eq`, `i31`, `struct`, `array`, `none`: `Val::AnyRef`.
    Any,
    /// `exn`, `noexn`: `Val::ExnRef`.
    Exn,
    /// A concrete (possibly exact) type index: function or GC type, not known from the script.
    Concrete,
}

fn heap_family(heap: &HeapType<'_>) -> Result<RefFamily, Unsupported> {
    match heap {
        HeapType::Abstract { shared: true, .. } => Err(Unsupported(THREADS)),
        HeapType::Abstract { shared: false, ty } => match ty {
            AbstractHeapType::Func | AbstractHeapType::NoFunc => Ok(RefFamily::Func),
            AbstractHeapType::Extern | AbstractHeapType::NoExtern => Ok(RefFamily::Extern),
            AbstractHeapType::Exn | AbstractHeapType::NoExn => Ok(RefFamily::Exn),
            AbstractHeapType::Cont | AbstractHeapType::NoCont => Err(Unsupported(STACK_SWITCHING)),
            AbstractHeapType::Any
            | AbstractHeapType::Eq
            | AbstractHeapType::Struct
            | AbstractHeapType::Array
            | AbstractHeapType::I31
            | AbstractHeapType::None => Ok(RefFamily::Any),
        },
        HeapType::Concrete(_) | HeapType::Exact(_) => Ok(RefFamily::Concrete),
    }
}

/// Returns the skip reason if matching `expected` needs a value kind `Val` cannot hold yet.
pub(crate) fn check_ret_supported(expected: &WastRet<'_>) -> Result<(), Unsupported> {
    match expected {
        WastRet::Core(core) => check_core_ret_supported(core),
        _ => Err(Unsupported(COMPONENTS)),
    }
}

fn check_core_ret_supported(expected: &WastRetCore<'_>) -> Result<(), Unsupported> {
    match expected {
        WastRetCore::I32(_)
        | WastRetCore::I64(_)
        | WastRetCore::F32(_)
        | WastRetCore::F64(_)
        | WastRetCore::V128(_)
        | WastRetCore::RefNull(None)
        | WastRetCore::RefFunc(_) => Ok(()),
        // A null of a concrete type is matched by nullness alone; see `match_core_ret`.
        WastRetCore::RefNull(Some(heap)) => heap_family(heap).map(|_| ()),
        WastRetCore::RefExtern(_) | WastRetCore::RefHost(_) => Ok(()),
        WastRetCore::RefAny
        | WastRetCore::RefEq
        | WastRetCore::RefArray
        | WastRetCore::RefStruct
        | WastRetCore::RefI31 => Ok(()),
        WastRetCore::RefI31Shared => Err(Unsupported(THREADS)),
        WastRetCore::Either(alternatives) => {
            alternatives.iter().try_for_each(check_core_ret_supported)
        }
    }
}

/// Checks one result against its expectation; `Err` holds `"expected X, got Y"`.
///
/// Call [`check_ret_supported`] first: unsupported forms are reported as mismatches here.
pub(crate) fn match_ret(
    store: &Store<()>,
    actual: &Val,
    expected: &WastRet<'_>,
) -> Result<(), String> {
    let WastRet::Core(expected) = expected else {
        return Err(format!(
            "expected a component value, got {}",
            DisplayVal(actual)
        ));
    };
    if match_core_ret(store, actual, expected) {
        Ok(())
    } else {
        Err(format!(
            "expected {}, got {}",
            DisplayRet(expected),
            DisplayVal(actual)
        ))
    }
}

/// Whether `actual` satisfies `expected`. Floats are compared bit for bit.
fn match_core_ret(store: &Store<()>, actual: &Val, expected: &WastRetCore<'_>) -> bool {
    match (expected, actual) {
        (WastRetCore::Either(alternatives), _) => alternatives
            .iter()
            .any(|e| match_core_ret(store, actual, e)),
        (WastRetCore::I32(e), Val::I32(a)) => e == a,
        (WastRetCore::I64(e), Val::I64(a)) => e == a,
        (WastRetCore::F32(e), Val::F32(a)) => match_f32(*a, e),
        (WastRetCore::F64(e), Val::F64(a)) => match_f64(*a, e),
        (WastRetCore::V128(e), Val::V128(a)) => match_v128(*a, e),
        // Untyped `ref.null` matches a null of any type. A typed one (func, nofunc or a concrete
        // type) is checked by nullness only: validation already guarantees the static type.
        (WastRetCore::RefNull(_), Val::FuncRef(f)) => f.is_none(),
        (WastRetCore::RefNull(_), Val::ExternRef(e)) => e.is_none(),
        (WastRetCore::RefNull(_), Val::AnyRef(a)) => a.is_none(),
        (WastRetCore::RefNull(_), Val::ExnRef(e)) => e.is_none(),
        (WastRetCore::RefI31, Val::AnyRef(Some(a))) => a.is_i31(),
        (WastRetCore::RefHost(n), Val::AnyRef(Some(a))) => {
            a.host_data(store).and_then(|d| d.downcast_ref::<u32>()) == Some(n)
        }
        (WastRetCore::RefAny, Val::AnyRef(Some(_))) => true,
        (WastRetCore::RefEq, Val::AnyRef(Some(a))) => a.matches_ty(store, &engine::HeapType::Eq),
        (WastRetCore::RefStruct, Val::AnyRef(Some(a))) => {
            a.matches_ty(store, &engine::HeapType::Struct)
        }
        (WastRetCore::RefArray, Val::AnyRef(Some(a))) => {
            a.matches_ty(store, &engine::HeapType::Array)
        }
        // `ref.extern N` is the host reference the runner made for argument `N`; bare
        // `ref.extern` is any non-null host reference.
        (WastRetCore::RefExtern(n), Val::ExternRef(Some(e))) => {
            n.is_none_or(|n| e.data(store).and_then(|d| d.downcast_ref::<u32>()) == Some(&n))
        }
        (WastRetCore::RefHost(n), Val::ExternRef(Some(e))) => {
            e.data(store).and_then(|d| d.downcast_ref::<u32>()) == Some(n)
        }
        // The runner cannot tell which function a reference points to, only that it is non-null.
        (WastRetCore::RefFunc(_), Val::FuncRef(f)) => f.is_some(),
        _ => false,
    }
}

/// Bit pattern of an f32 NaN: exponent all ones and the top mantissa (quiet) bit set.
const F32_QUIET_NAN: u32 = 0x7fc0_0000;
/// Bit pattern of an f64 NaN: exponent all ones and the top mantissa (quiet) bit set.
const F64_QUIET_NAN: u64 = 0x7ff8_0000_0000_0000;

/// Matches f32 bits: canonical NaN is exactly `±0x7fc00000`; an arithmetic NaN has the exponent
/// all ones and the top mantissa bit set, any other payload bits and either sign.
pub(crate) fn match_f32(actual: u32, expected: &NanPattern<F32>) -> bool {
    match expected {
        NanPattern::CanonicalNan => actual & !(1 << 31) == F32_QUIET_NAN,
        NanPattern::ArithmeticNan => actual & F32_QUIET_NAN == F32_QUIET_NAN,
        NanPattern::Value(f) => actual == f.bits,
    }
}

/// Matches f64 bits; the same rules as [`match_f32`] at double width.
pub(crate) fn match_f64(actual: u64, expected: &NanPattern<F64>) -> bool {
    match expected {
        NanPattern::CanonicalNan => actual & !(1 << 63) == F64_QUIET_NAN,
        NanPattern::ArithmeticNan => actual & F64_QUIET_NAN == F64_QUIET_NAN,
        NanPattern::Value(f) => actual == f.bits,
    }
}

/// Matches a v128 lane by lane (lanes are little-endian: lane 0 is the low bits).
fn match_v128(actual: u128, expected: &V128Pattern) -> bool {
    let bytes = actual.to_le_bytes();
    match expected {
        V128Pattern::I8x16(lanes) => lanes.iter().zip(bytes).all(|(e, a)| e.to_le_bytes() == [a]),
        V128Pattern::I16x8(lanes) => lanes
            .iter()
            .zip(bytes.chunks_exact(2))
            .all(|(e, a)| e.to_le_bytes() == a),
        V128Pattern::I32x4(lanes) => lanes
            .iter()
            .zip(bytes.chunks_exact(4))
            .all(|(e, a)| e.to_le_bytes() == a),
        V128Pattern::I64x2(lanes) => lanes
            .iter()
            .zip(bytes.chunks_exact(8))
            .all(|(e, a)| e.to_le_bytes() == a),
        V128Pattern::F32x4(lanes) => lanes.iter().zip(bytes.chunks_exact(4)).all(|(e, a)| {
            let bits = u32::from_le_bytes(a.try_into().expect("4-byte lane"));
            match_f32(bits, e)
        }),
        V128Pattern::F64x2(lanes) => lanes.iter().zip(bytes.chunks_exact(8)).all(|(e, a)| {
            let bits = u64::from_le_bytes(a.try_into().expect("8-byte lane"));
            match_f64(bits, e)
        }),
    }
}

/// Formats a list of expected results as `[i32:1, f32:nan:canonical]`.
pub(crate) fn display_rets(rets: &[WastRet<'_>]) -> String {
    let items: Vec<String> = rets
        .iter()
        .map(|r| match r {
            WastRet::Core(core) => DisplayRet(core).to_string(),
            _ => "<component value>".to_owned(),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// Formats a list of values as `[i32:1, f32:2.5 (0x40200000)]`.
pub(crate) fn display_vals(vals: &[Val]) -> String {
    let items: Vec<String> = vals.iter().map(|v| DisplayVal(v).to_string()).collect();
    format!("[{}]", items.join(", "))
}

/// Formats an engine value with its type and, for floats, its bits.
pub(crate) struct DisplayVal<'a>(pub &'a Val);

impl fmt::Display for DisplayVal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Val::I32(i) => write!(f, "i32:{i}"),
            Val::I64(i) => write!(f, "i64:{i}"),
            Val::F32(bits) => write!(f, "f32:{} ({bits:#010x})", f32::from_bits(*bits)),
            Val::F64(bits) => write!(f, "f64:{} ({bits:#018x})", f64::from_bits(*bits)),
            Val::V128(bits) => write!(f, "v128:{bits:#034x}"),
            Val::FuncRef(None) => f.write_str("ref.null func"),
            Val::FuncRef(Some(_)) => f.write_str("ref.func"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// Formats an expected result in the script's own syntax.
struct DisplayRet<'a, 'b>(&'a WastRetCore<'b>);

impl fmt::Display for DisplayRet<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            WastRetCore::I32(i) => write!(f, "i32:{i}"),
            WastRetCore::I64(i) => write!(f, "i64:{i}"),
            WastRetCore::F32(p) => {
                f.write_str("f32:")?;
                fmt_nan_pattern(f, p, |v| {
                    format!("{} ({:#010x})", f32::from_bits(v.bits), v.bits)
                })
            }
            WastRetCore::F64(p) => {
                f.write_str("f64:")?;
                fmt_nan_pattern(f, p, |v| {
                    format!("{} ({:#018x})", f64::from_bits(v.bits), v.bits)
                })
            }
            WastRetCore::V128(p) => write!(f, "v128:{}", DisplayV128Pattern(p)),
            WastRetCore::RefNull(None) => f.write_str("ref.null"),
            WastRetCore::RefNull(Some(heap)) => write!(f, "ref.null {}", DisplayHeap(heap)),
            WastRetCore::RefExtern(Some(n)) => write!(f, "ref.extern {n}"),
            WastRetCore::RefExtern(None) => f.write_str("ref.extern"),
            WastRetCore::RefHost(n) => write!(f, "ref.host {n}"),
            WastRetCore::RefFunc(_) => f.write_str("ref.func"),
            WastRetCore::RefAny => f.write_str("ref.any"),
            WastRetCore::RefEq => f.write_str("ref.eq"),
            WastRetCore::RefArray => f.write_str("ref.array"),
            WastRetCore::RefStruct => f.write_str("ref.struct"),
            WastRetCore::RefI31 => f.write_str("ref.i31"),
            WastRetCore::RefI31Shared => f.write_str("ref.i31_shared"),
            WastRetCore::Either(alternatives) => {
                f.write_str("either(")?;
                for (i, alternative) in alternatives.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{}", DisplayRet(alternative))?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Formats a heap type as the text format spells it: `func`, `extern`, `$t`, `(exact 3)`.
struct DisplayHeap<'a, 'b>(&'a HeapType<'b>);

impl fmt::Display for DisplayHeap<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn index(f: &mut fmt::Formatter<'_>, i: &Index<'_>) -> fmt::Result {
            match i {
                Index::Num(n, _) => write!(f, "{n}"),
                Index::Id(id) => write!(f, "${}", id.name()),
            }
        }
        match self.0 {
            HeapType::Abstract { shared, ty } => {
                let name = match ty {
                    AbstractHeapType::Func => "func",
                    AbstractHeapType::Extern => "extern",
                    AbstractHeapType::Exn => "exn",
                    AbstractHeapType::Cont => "cont",
                    AbstractHeapType::Any => "any",
                    AbstractHeapType::Eq => "eq",
                    AbstractHeapType::Struct => "struct",
                    AbstractHeapType::Array => "array",
                    AbstractHeapType::I31 => "i31",
                    AbstractHeapType::NoFunc => "nofunc",
                    AbstractHeapType::NoExtern => "noextern",
                    AbstractHeapType::None => "none",
                    AbstractHeapType::NoExn => "noexn",
                    AbstractHeapType::NoCont => "nocont",
                };
                if *shared {
                    write!(f, "(shared {name})")
                } else {
                    f.write_str(name)
                }
            }
            HeapType::Concrete(i) => index(f, i),
            HeapType::Exact(i) => {
                f.write_str("(exact ")?;
                index(f, i)?;
                f.write_str(")")
            }
        }
    }
}

fn fmt_nan_pattern<T>(
    f: &mut fmt::Formatter<'_>,
    pattern: &NanPattern<T>,
    value: impl Fn(&T) -> String,
) -> fmt::Result {
    match pattern {
        NanPattern::CanonicalNan => f.write_str("nan:canonical"),
        NanPattern::ArithmeticNan => f.write_str("nan:arithmetic"),
        NanPattern::Value(v) => f.write_str(&value(v)),
    }
}

struct DisplayV128Pattern<'a>(&'a V128Pattern);

impl fmt::Display for DisplayV128Pattern<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn floats<T>(
            f: &mut fmt::Formatter<'_>,
            shape: &str,
            lanes: &[NanPattern<T>],
            value: impl Fn(&T) -> String,
        ) -> fmt::Result {
            write!(f, "{shape}[")?;
            for (i, lane) in lanes.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                fmt_nan_pattern(f, lane, &value)?;
            }
            f.write_str("]")
        }
        match self.0 {
            V128Pattern::I8x16(l) => write!(f, "i8x16{l:?}"),
            V128Pattern::I16x8(l) => write!(f, "i16x8{l:?}"),
            V128Pattern::I32x4(l) => write!(f, "i32x4{l:?}"),
            V128Pattern::I64x2(l) => write!(f, "i64x2{l:?}"),
            V128Pattern::F32x4(l) => floats(f, "f32x4", l, |v| format!("{:#010x}", v.bits)),
            V128Pattern::F64x2(l) => floats(f, "f64x2", l, |v| format!("{:#018x}", v.bits)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wast::parser::{self, ParseBuffer};

    /// Parses `text` as one `wast` value form, e.g. `(f32.const nan:canonical)`'s inside.
    fn with_ret<R>(text: &str, f: impl FnOnce(&WastRet<'_>) -> R) -> R {
        let buf = ParseBuffer::new(text).unwrap();
        let ret = parser::parse::<WastRet<'_>>(&buf).unwrap();
        f(&ret)
    }

    fn with_arg<R>(text: &str, f: impl FnOnce(&WastArg<'_>) -> R) -> R {
        let buf = ParseBuffer::new(text).unwrap();
        let arg = parser::parse::<WastArg<'_>>(&buf).unwrap();
        f(&arg)
    }

    fn store() -> Store<()> {
        Store::new(&engine::Engine::default(), ())
    }

    fn matches(text: &str, actual: Val) -> bool {
        matches_in(&store(), text, actual)
    }

    fn matches_in(store: &Store<()>, text: &str, actual: Val) -> bool {
        with_ret(text, |ret| {
            check_ret_supported(ret).unwrap();
            match_ret(store, &actual, ret).is_ok()
        })
    }

    #[test]
    fn integers() {
        assert!(matches("i32.const -1", Val::I32(-1)));
        assert!(matches("i32.const 0xffffffff", Val::I32(-1)));
        assert!(!matches("i32.const 1", Val::I32(2)));
        assert!(!matches("i32.const 1", Val::I64(1)));
        assert!(matches("i64.const 0x8000000000000000", Val::I64(i64::MIN)));
    }

    #[test]
    fn floats_compare_bits() {
        assert!(matches("f32.const 1.5", Val::F32(1.5f32.to_bits())));
        assert!(!matches("f32.const 0.0", Val::F32((-0.0f32).to_bits())));
        assert!(matches("f64.const -0x1p-1", Val::F64((-0.5f64).to_bits())));
        // A specific NaN payload must match exactly.
        assert!(matches("f32.const nan:0x200000", Val::F32(0x7fa0_0000)));
        assert!(!matches("f32.const nan:0x200000", Val::F32(0x7fc0_0000)));
        assert!(!matches("f64.const 1", Val::F32(1f32.to_bits())));
    }

    #[test]
    fn canonical_nan() {
        let pat = NanPattern::<F32>::CanonicalNan;
        assert!(match_f32(0x7fc0_0000, &pat));
        assert!(match_f32(0xffc0_0000, &pat));
        assert!(!match_f32(0x7fc0_0001, &pat), "extra payload bit");
        assert!(!match_f32(0x7fa0_0000, &pat), "signalling NaN");
        assert!(!match_f32(0x7f80_0000, &pat), "infinity");
        assert!(!match_f32(0x3fc0_0000, &pat), "exponent not all ones");
        let pat = NanPattern::<F64>::CanonicalNan;
        assert!(match_f64(0x7ff8_0000_0000_0000, &pat));
        assert!(match_f64(0xfff8_0000_0000_0000, &pat));
        assert!(!match_f64(0x7ff8_0000_0000_0001, &pat));
        assert!(!match_f64(0x7ff4_0000_0000_0000, &pat));
        assert!(!match_f64(0x7ff0_0000_0000_0000, &pat));
        assert!(matches("f32.const nan:canonical", Val::F32(0xffc0_0000)));
        assert!(!matches(
            "f64.const nan:canonical",
            Val::F64(0x7ff8_0000_0000_0001)
        ));
    }

    #[test]
    fn arithmetic_nan() {
        let pat = NanPattern::<F32>::ArithmeticNan;
        assert!(match_f32(0x7fc0_0000, &pat));
        assert!(match_f32(0xffc0_0001, &pat));
        assert!(match_f32(0x7fff_ffff, &pat));
        assert!(!match_f32(0x7fbf_ffff, &pat), "quiet bit clear");
        assert!(!match_f32(0x7f80_0000, &pat), "infinity");
        assert!(!match_f32(0x7e40_0000, &pat), "exponent not all ones");
        let pat = NanPattern::<F64>::ArithmeticNan;
        assert!(match_f64(0x7ff8_0000_0000_0000, &pat));
        assert!(match_f64(0xfffc_0000_0000_0001, &pat));
        assert!(!match_f64(0x7ff7_ffff_ffff_ffff, &pat));
        assert!(!match_f64(0x7ff0_0000_0000_0000, &pat));
        assert!(matches(
            "f64.const nan:arithmetic",
            Val::F64(0xfff8_0000_0000_1234)
        ));
    }

    #[test]
    fn either() {
        let text = "either (i32.const 1) (i32.const 2)";
        assert!(matches(text, Val::I32(1)));
        assert!(matches(text, Val::I32(2)));
        assert!(!matches(text, Val::I32(3)));
        with_ret(text, |ret| {
            let err = match_ret(&store(), &Val::I32(3), ret).unwrap_err();
            assert_eq!(err, "expected either(i32:1 | i32:2), got i32:3");
        });
        // `either` may mix NaN patterns and values.
        let text = "either (f32.const nan:canonical) (f32.const 0)";
        assert!(matches(text, Val::F32(0)));
        assert!(matches(text, Val::F32(0x7fc0_0000)));
        assert!(!matches(text, Val::F32(0x7fc0_0001)));
    }

    #[test]
    fn v128_lanes() {
        let v = u128::from_le_bytes([
            1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0x3f,
        ]);
        assert!(matches(
            "v128.const i32x4 1 -1 0x7fc00000 0x3f800000",
            Val::V128(v)
        ));
        assert!(matches(
            "v128.const f32x4 0x1p-149 nan:arithmetic nan:canonical 1.0",
            Val::V128(v)
        ));
        assert!(!matches("v128.const i32x4 1 -1 0 1", Val::V128(v)));
        assert!(matches(
            "v128.const i8x16 1 0 0 0 -1 -1 -1 -1 0 0 0xc0 0x7f 0 0 0x80 0x3f",
            Val::V128(v)
        ));
        assert!(matches(
            "v128.const i16x8 1 0 -1 -1 0 0x7fc0 0 0x3f80",
            Val::V128(v)
        ));
        assert!(matches(
            "v128.const i64x2 0xffffffff00000001 0x3f8000007fc00000",
            Val::V128(v)
        ));
    }

    #[test]
    fn references() {
        assert!(matches("ref.null", Val::FuncRef(None)));
        assert!(matches("ref.null func", Val::FuncRef(None)));
        assert!(matches("ref.null nofunc", Val::FuncRef(None)));
        assert!(!matches("ref.null func", Val::I32(0)));
        assert!(!matches("ref.func", Val::FuncRef(None)));
        assert!(!matches("ref.func 3", Val::FuncRef(None)));
        let mut s = store();
        let one = engine::ExternRef::new(&mut s, 1u32).unwrap();
        assert!(matches_in(
            &s,
            "ref.extern 1",
            Val::ExternRef(Some(one.clone()))
        ));
        assert!(matches_in(
            &s,
            "ref.host 1",
            Val::ExternRef(Some(one.clone()))
        ));
        assert!(matches_in(
            &s,
            "ref.extern",
            Val::ExternRef(Some(one.clone()))
        ));
        assert!(!matches_in(
            &s,
            "ref.extern 2",
            Val::ExternRef(Some(one.clone()))
        ));
        assert!(!matches_in(&s, "ref.extern 1", Val::ExternRef(None)));
        assert!(!matches_in(
            &s,
            "ref.null extern",
            Val::ExternRef(Some(one))
        ));
        assert!(matches("ref.null extern", Val::ExternRef(None)));
        assert!(matches("ref.null noextern", Val::ExternRef(None)));
        let i31 = engine::AnyRef::from_i31(engine::I31::wrapping_i32(7));
        assert!(matches_in(&s, "ref.i31", Val::AnyRef(Some(i31.clone()))));
        assert!(matches_in(&s, "ref.eq", Val::AnyRef(Some(i31.clone()))));
        assert!(matches_in(&s, "ref.any", Val::AnyRef(Some(i31.clone()))));
        assert!(!matches_in(
            &s,
            "ref.struct",
            Val::AnyRef(Some(i31.clone()))
        ));
        assert!(!matches_in(&s, "ref.null any", Val::AnyRef(Some(i31))));
        assert!(matches("ref.null any", Val::AnyRef(None)));
        assert!(matches("ref.null none", Val::AnyRef(None)));
        assert!(matches("ref.null exn", Val::ExnRef(None)));
        assert!(matches("ref.null noexn", Val::ExnRef(None)));
        assert!(matches("ref.null", Val::ExnRef(None)));
        assert!(!matches(
            "ref.null exn",
            Val::AnyRef(Some(engine::AnyRef::from_i31(engine::I31::wrapping_i32(1))))
        ));
    }

    #[test]
    fn args() {
        let mut s = store();
        let mut val = |text| with_arg(text, |arg| arg_to_val(&mut s, arg, None));
        assert!(matches!(val("i32.const -7"), Ok(Val::I32(-7))));
        assert!(matches!(val("i64.const 7"), Ok(Val::I64(7))));
        assert!(matches!(val("f32.const -0"), Ok(Val::F32(0x8000_0000))));
        assert!(matches!(
            val("f64.const nan:0x1"),
            Ok(Val::F64(0x7ff0_0000_0000_0001))
        ));
        assert!(matches!(val("v128.const i64x2 1 2"), Ok(Val::V128(v)) if v == 1 | (2 << 64)));
        assert!(matches!(val("ref.null func"), Ok(Val::FuncRef(None))));
        assert!(matches!(val("ref.null extern"), Ok(Val::ExternRef(None))));
        assert!(matches!(val("ref.extern 1"), Ok(Val::ExternRef(Some(_)))));
        assert!(matches!(val("ref.null any"), Ok(Val::AnyRef(None))));
    }

    #[test]
    fn display() {
        assert_eq!(
            display_vals(&[Val::I32(1), Val::F32(0x7fc0_0000), Val::FuncRef(None)]),
            "[i32:1, f32:NaN (0x7fc00000), ref.null func]"
        );
        with_ret("f64.const nan:canonical", |ret| {
            let err = match_ret(&store(), &Val::F64(0), ret).unwrap_err();
            assert_eq!(
                err,
                "expected f64:nan:canonical, got f64:0 (0x0000000000000000)"
            );
        });
    }
}
