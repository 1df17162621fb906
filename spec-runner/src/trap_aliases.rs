//! The one table of wordings that `.wast` suites use for each trap: the spec
//! interpreter's (the engine's own messages, `Trap`'s `Display`) and those that other
//! engines' suites (Wasmtime's, V8's) use for the same trap. `assert_trap` accepts a
//! message any of a trap's wordings contains, unless `--strict-messages` asks for the
//! engine's own message only.

use engine::Trap;

/// Other wordings of `trap`'s message.
pub(crate) fn aliases(trap: Trap) -> &'static [&'static str] {
    use Trap::*;
    match trap {
        StackOverflow => &[
            "stack overflow",
            "call stack exhausted",
            "maximum call stack",
        ],
        MemoryOutOfBounds => &["out of bounds", "memory access out of bounds"],
        TableOutOfBounds | UndefinedElement => &[
            "out of bounds table access",
            "undefined element: out of bounds table access",
            "table index is out of bounds",
        ],
        UninitializedElement => &["uninitialized element", "null function"],
        IndirectCallTypeMismatch => &["indirect call type mismatch", "signature mismatch"],
        NullReference
        | NullFunctionReference
        | NullI31Reference
        | NullStructReference
        | NullArrayReference
        | NullExceptionReference => &[
            "null reference",
            "dereferencing a null pointer",
            "null function or function signature mismatch",
        ],
        IntegerDivisionByZero => &["divide by zero", "division by zero"],
        IntegerOverflow => &["integer overflow", "integer result unrepresentable"],
        BadConversionToInteger => &[
            "invalid conversion to integer",
            "float unrepresentable in integer range",
        ],
        Unreachable => &["unreachable", "wasm `unreachable` instruction executed"],
        CastFailure => &["cast failure", "illegal cast", "failed to cast"],
        ArrayOutOfBounds => &[
            "out of bounds array access",
            "array element access out of bounds",
        ],
        AllocationTooLarge => &["allocation size too large", "allocation too large"],
        GcHeapOutOfMemory => &["out of memory", "allocation size too large"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_null_dereference_is_a_null_reference_and_table_faults_are_out_of_bounds() {
        for trap in [
            Trap::NullStructReference,
            Trap::NullArrayReference,
            Trap::NullFunctionReference,
            Trap::NullI31Reference,
            Trap::NullExceptionReference,
        ] {
            assert!(
                aliases(trap).iter().any(|a| a.contains("null reference")),
                "{trap:?}"
            );
        }
        for trap in [
            Trap::TableOutOfBounds,
            Trap::UndefinedElement,
            Trap::MemoryOutOfBounds,
        ] {
            assert!(
                aliases(trap).iter().any(|a| a.contains("out of bounds")),
                "{trap:?}"
            );
        }
    }
}
