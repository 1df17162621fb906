//! The null collector's code: it never frees, so references are plain loads and stores.

use crate::{GcCompileEnv, GcCompiler, GcRefKind};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;
use gc_core::GcLayouts;

/// Code emission for the null collector (`gc_core::NULL_LAYOUTS`).
#[derive(Clone, Copy, Debug)]
pub struct NullCompiler {
    layouts: GcLayouts,
    bounds_checks: bool,
}

impl NullCompiler {
    /// A compiler for heaps with `layouts`; `bounds_checks` as for
    /// [`DrcCompiler::new`](crate::DrcCompiler::new).
    pub fn new(layouts: &GcLayouts, bounds_checks: bool) -> Self {
        NullCompiler {
            layouts: *layouts,
            bounds_checks,
        }
    }
}

impl GcCompiler for NullCompiler {
    fn layouts(&self) -> &GcLayouts {
        &self.layouts
    }

    fn bounds_checks(&self) -> bool {
        self.bounds_checks
    }

    fn store_gc_ref(
        &self,
        _env: &mut dyn GcCompileEnv,
        b: &mut FunctionBuilder<'_>,
        flags: MemFlagsData,
        addr: Value,
        offset: i32,
        value: Value,
        _slot: GcRefKind,
        _object: Option<Value>,
    ) {
        b.ins().store(flags, value, addr, offset);
    }
}
