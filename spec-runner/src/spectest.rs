//! The `spectest` host module, as the reference interpreter defines it
//! (`interpreter/host/spectest.ml` in the spec repository), and the runner's own
//! `spec-runner` module: `gc : [] -> []` runs a full garbage collection.

use engine::{
    Func, FuncType, Global, GlobalType, Linker, Memory, MemoryType, Mutability, Ref, RefType,
    Store, Table, TableType, Val, ValType,
};

/// The module name scripts import the host items from.
const MODULE: &str = "spectest";
/// The module name of the runner's own host functions.
const RUNNER_MODULE: &str = "spec-runner";

/// Value of `spectest.global_i32` and `spectest.global_i64`.
const GLOBAL_INT: i32 = 666;
/// Value of `spectest.global_f32`.
const GLOBAL_F32: f32 = 666.6;
/// Value of `spectest.global_f64`.
const GLOBAL_F64: f64 = 666.6;

/// The print functions and their parameter types; all return nothing.
fn print_functions() -> [(&'static str, Vec<ValType>); 7] {
    [
        ("print", vec![]),
        ("print_i32", vec![ValType::I32]),
        ("print_i64", vec![ValType::I64]),
        ("print_f32", vec![ValType::F32]),
        ("print_f64", vec![ValType::F64]),
        ("print_i32_f32", vec![ValType::I32, ValType::F32]),
        ("print_f64_f64", vec![ValType::F64, ValType::F64]),
    ]
}

/// Defines every `spectest` item in `linker`: the print functions (which log their arguments
/// at debug level), four immutable globals of value 666 / 666.6, a funcref table of 10..20
/// elements and a memory of 1..2 pages.
pub(crate) fn define(linker: &mut Linker<()>, store: &mut Store<()>) -> anyhow::Result<()> {
    for (name, params) in print_functions() {
        let ty = FuncType::new(params, []);
        let func = Func::new(&mut *store, ty, move |_caller, args, _results| {
            log::debug!("spectest.{name}{args:?}");
            Ok(())
        });
        linker.define(&*store, MODULE, name, func)?;
    }

    let globals = [
        ("global_i32", ValType::I32, Val::I32(GLOBAL_INT)),
        ("global_i64", ValType::I64, Val::I64(GLOBAL_INT.into())),
        ("global_f32", ValType::F32, Val::F32(GLOBAL_F32.to_bits())),
        ("global_f64", ValType::F64, Val::F64(GLOBAL_F64.to_bits())),
    ];
    for (name, ty, value) in globals {
        let global = Global::new(&mut *store, GlobalType::new(ty, Mutability::Const), value)?;
        linker.define(&*store, MODULE, name, global)?;
    }

    let table = Table::new(
        &mut *store,
        TableType::new(RefType::FUNCREF, 10, Some(20)),
        Ref::Func(None),
    )?;
    linker.define(&*store, MODULE, "table", table)?;

    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define(&*store, MODULE, "memory", memory)?;

    let gc = Func::new(&mut *store, FuncType::new([], []), |mut caller, _, _| {
        caller.gc();
        Ok(())
    });
    linker.define(&*store, RUNNER_MODULE, "gc", gc)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_globals_have_the_interpreters_bits() {
        // The bit patterns Wasmtime's and the reference interpreter's `spectest` use.
        assert_eq!(GLOBAL_F32.to_bits(), 0x4426_a666);
        assert_eq!(GLOBAL_F64.to_bits(), 0x4084_d4cc_cccc_cccd);
    }
}
