//! Cranelift IR emission for garbage-collected references.
//!
//! Not built yet: this crate will hold the `GcCompiler` trait and its deferred-reference-
//! counting implementation (barriers, inline allocation, struct/array/i31 access, cast
//! checks), with offsets taken from `gc-core`'s layouts only. Until then it exports the
//! Cranelift type compiled code uses for a GC reference.
//!
//! ```
//! assert_eq!(gc_compiler::GC_REF_TYPE.bits(), 32);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use cranelift_codegen::ir::{Type, types};

/// The Cranelift type of a GC reference in compiled code: a 32-bit heap index.
pub const GC_REF_TYPE: Type = types::I32;
