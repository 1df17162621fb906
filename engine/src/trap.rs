//! Wasm traps: the codes, their spec messages, and the backtrace that comes with one.

use cranelift_codegen::ir::TrapCode;
use std::fmt;

macro_rules! traps {
    ($( $(#[$doc:meta])* $name:ident = $user:expr, $msg:literal; )*) => {
        /// Why Wasm code trapped. `Display` gives the spec's message for each.
        ///
        /// ```
        /// use engine::{Engine, Instance, Module, Store, Trap, WasmBacktrace};
        /// let engine = Engine::default();
        /// let module = Module::new(&engine, r#"(module
        ///     (func $inner (unreachable))
        ///     (func (export "run") (call $inner)))"#)?;
        /// let mut store = Store::new(&engine, ());
        /// let run = Instance::new(&mut store, &module, &[])?.get_typed_func::<(), ()>(&store, "run")?;
        /// let err = run.call(&mut store, ()).unwrap_err();
        /// assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::Unreachable));
        /// let trace = err.downcast_ref::<WasmBacktrace>().unwrap();
        /// assert_eq!(trace.frames()[0].func_name.as_deref(), Some("inner"));
        /// // The store is still usable after a trap.
        /// assert!(run.call(&mut store, ()).is_err());
        /// # Ok::<(), anyhow::Error>(())
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Trap {
            $( $(#[$doc])* $name, )*
        }

        impl Trap {
            /// Every trap, in declaration order.
            pub const ALL: &'static [Trap] = &[$(Trap::$name),*];

            /// The spec's message for this trap.
            pub fn message(self) -> &'static str {
                match self { $(Trap::$name => $msg,)* }
            }

            /// The Cranelift trap code compiled code raises for this trap.
            pub(crate) fn to_cranelift(self) -> TrapCode {
                match self { $(Trap::$name => $user,)* }
            }
        }
    };
}

traps! {
    /// The stack-limit check in a function prologue failed.
    StackOverflow = TrapCode::STACK_OVERFLOW, "call stack exhausted";
    /// A memory access fell outside the memory.
    MemoryOutOfBounds = TrapCode::HEAP_OUT_OF_BOUNDS, "out of bounds memory access";
    /// Integer division or remainder by zero.
    IntegerDivisionByZero = TrapCode::INTEGER_DIVISION_BY_ZERO, "integer divide by zero";
    /// Integer overflow (signed division of the minimum by -1, or a truncation out of range).
    IntegerOverflow = TrapCode::INTEGER_OVERFLOW, "integer overflow";
    /// Float-to-integer conversion of NaN.
    BadConversionToInteger = TrapCode::BAD_CONVERSION_TO_INTEGER, "invalid conversion to integer";
    /// An `unreachable` instruction executed.
    Unreachable = TrapCode::unwrap_user(1), "unreachable";
    /// A table access fell outside the table.
    TableOutOfBounds = TrapCode::unwrap_user(2), "out of bounds table access";
    /// `call_indirect` with an index outside the table.
    UndefinedElement = TrapCode::unwrap_user(3), "undefined element";
    /// `call_indirect` through a null table entry.
    UninitializedElement = TrapCode::unwrap_user(4), "uninitialized element";
    /// `call_indirect` whose callee has the wrong type.
    IndirectCallTypeMismatch = TrapCode::unwrap_user(5), "indirect call type mismatch";
    /// `ref.as_non_null` of null.
    NullReference = TrapCode::unwrap_user(6), "null reference";
    /// `call_ref` or `return_call_ref` of null.
    NullFunctionReference = TrapCode::unwrap_user(12), "null function reference";
    /// `i31.get_s` or `i31.get_u` of null.
    NullI31Reference = TrapCode::unwrap_user(13), "null i31 reference";
    /// A struct access through null.
    NullStructReference = TrapCode::unwrap_user(14), "null structure reference";
    /// An array access through null.
    NullArrayReference = TrapCode::unwrap_user(15), "null array reference";
    /// `throw_ref` of null.
    NullExceptionReference = TrapCode::unwrap_user(19), "null exception reference";
    /// A host function called from Wasm returned an error; the error itself is reported.
    HostError = TrapCode::unwrap_user(7), "host function error";
    /// A cast failed.
    CastFailure = TrapCode::unwrap_user(8), "cast failure";
    /// An allocation larger than the GC heap can ever hold.
    AllocationTooLarge = TrapCode::unwrap_user(9), "allocation size too large";
    /// An allocation did not fit in the GC heap even after a full collection (cycles
    /// included) and growing the heap as far as it and the resource limiter allow.
    GcHeapOutOfMemory = TrapCode::unwrap_user(16), "GC heap out of memory";
    /// The store's epoch deadline passed ([`Config::epoch_interruption`](crate::Config::epoch_interruption)).
    Interrupt = TrapCode::unwrap_user(17), "interrupt";
    /// The store's fuel ran out ([`Config::consume_fuel`](crate::Config::consume_fuel)).
    OutOfFuel = TrapCode::unwrap_user(18), "all fuel consumed by WebAssembly";
    /// An array access fell outside the array.
    ArrayOutOfBounds = TrapCode::unwrap_user(10), "out of bounds array access";
    /// A GC reference pointed outside the GC heap: the heap is corrupt.
    GcHeapOutOfBounds = TrapCode::unwrap_user(11), "GC heap access out of bounds";
}

impl Trap {
    /// The trap compiled code raised with Cranelift trap code `code`.
    pub(crate) fn from_cranelift(code: TrapCode) -> Option<Trap> {
        Trap::ALL.iter().copied().find(|t| t.to_cranelift() == code)
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Trap {}

/// One Wasm frame of a backtrace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// The function's index in its module.
    pub func_index: u32,
    /// The function's name from the name section, if any.
    pub func_name: Option<String>,
    /// The module's name, if it has one.
    pub module_name: Option<String>,
    /// Byte offset of the instruction within the module binary, if known.
    pub module_offset: Option<usize>,
}

/// The Wasm frames active when a trap happened, innermost first. Attached to trap errors as
/// context; `err.downcast_ref::<WasmBacktrace>()` finds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WasmBacktrace {
    frames: Vec<FrameInfo>,
}

impl WasmBacktrace {
    pub(crate) fn new(frames: Vec<FrameInfo>) -> Self {
        WasmBacktrace { frames }
    }

    /// The frames, innermost first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }
}

/// `err` as text with its message first: the error chain without the Wasm backtrace
/// (joined with `: `), then the backtrace, if there is one, on the lines after. `{:#}`
/// prints the backtrace first, since it is the outermost context of a trap's error.
pub fn error_report(err: &anyhow::Error) -> String {
    let Some(backtrace) = err.downcast_ref::<WasmBacktrace>() else {
        return format!("{err:#}");
    };
    let trace = backtrace.to_string();
    let message: Vec<String> = err
        .chain()
        .map(|e| e.to_string())
        .filter(|m| *m != trace)
        .collect();
    format!("{}\n{}", message.join(": "), trace.trim_end())
}

/// Frames of a run of identical frames (deep recursion) shown before the rest is elided.
const SHOWN_OF_A_RUN: usize = 3;

impl fmt::Display for WasmBacktrace {
    /// One line per frame, innermost first; a run of identical frames (a recursion that
    /// overflowed the stack) shows its first few and a count of the rest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "wasm backtrace:")?;
        let mut i = 0;
        while i < self.frames.len() {
            let frame = &self.frames[i];
            let run = self.frames[i..].iter().take_while(|g| *g == frame).count();
            for k in 0..run.min(SHOWN_OF_A_RUN) {
                write_frame(f, i + k, frame)?;
            }
            if run > SHOWN_OF_A_RUN {
                writeln!(
                    f,
                    "         ... {} more of the same frame",
                    run - SHOWN_OF_A_RUN
                )?;
            }
            i += run;
        }
        Ok(())
    }
}

fn write_frame(f: &mut fmt::Formatter<'_>, i: usize, frame: &FrameInfo) -> fmt::Result {
    write!(f, "  {i:>3}: ")?;
    if let Some(offset) = frame.module_offset {
        write!(f, "{offset:#8x} - ")?;
    }
    if let Some(m) = &frame.module_name {
        write!(f, "{m}!")?;
    }
    match &frame.func_name {
        Some(name) => writeln!(f, "{name}"),
        None => writeln!(f, "<wasm function {}>", frame.func_index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cranelift_codes_round_trip_and_are_distinct() {
        for &t in Trap::ALL {
            assert_eq!(Trap::from_cranelift(t.to_cranelift()), Some(t));
        }
        let mut codes: Vec<_> = Trap::ALL.iter().map(|t| t.to_cranelift()).collect();
        codes.sort_by_key(|c| c.as_raw());
        codes.dedup();
        assert_eq!(codes.len(), Trap::ALL.len());
    }

    #[test]
    fn runs_of_identical_frames_are_elided() {
        let frame = |i: u32| FrameInfo {
            func_index: i,
            func_name: Some(format!("f{i}")),
            module_name: None,
            module_offset: Some(16),
        };
        let mut frames = vec![frame(0); 4000];
        frames.push(frame(1));
        let text = WasmBacktrace::new(frames).to_string();
        assert_eq!(text.lines().count(), 1 + 3 + 1 + 1, "{text}");
        assert!(text.contains("... 3997 more of the same frame"), "{text}");
        assert!(text.contains("4000:     0x10 - f1"), "{text}");
    }

    #[test]
    fn messages_are_the_spec_texts() {
        assert_eq!(
            Trap::IntegerDivisionByZero.to_string(),
            "integer divide by zero"
        );
        assert_eq!(Trap::StackOverflow.to_string(), "call stack exhausted");
        assert_eq!(
            Trap::MemoryOutOfBounds.to_string(),
            "out of bounds memory access"
        );
    }
}
