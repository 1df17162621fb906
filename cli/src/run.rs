//! `gcwasm run`: instantiate a module and call its `_start` or an export.

use crate::options::EngineOptions;
use anyhow::{Context, Result, bail};
use engine::{Engine, Extern, Func, Linker, Module, Store, Val, ValType};
use std::path::PathBuf;

/// `run [OPTIONS] FILE [ARGS]...`
#[derive(clap::Args, Debug)]
pub struct RunCommand {
    #[command(flatten)]
    engine: EngineOptions,
    /// Call this export instead of `_start`, with ARGS as its parameters (numbers).
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Define every function import no one provides as a function returning zeros (for
    /// benchmark modules that import timing hooks).
    #[arg(long)]
    default_values_unknown_imports: bool,
    /// The module: binary `.wasm` or text `.wat`.
    file: PathBuf,
    /// The export's parameters.
    #[arg(allow_hyphen_values = true)]
    args: Vec<String>,
}

impl RunCommand {
    /// Runs the command; prints the export's results, one per line.
    pub fn execute(&self) -> Result<()> {
        let config = self.engine.config()?;
        let fuel = self.engine.wasm_options()?.fuel;
        let engine = Engine::new(&config)?;
        let bytes = std::fs::read(&self.file)
            .with_context(|| format!("failed to read `{}`", self.file.display()))?;
        let module = Module::new(&engine, &bytes)
            .with_context(|| format!("failed to compile `{}`", self.file.display()))?;
        let mut store = Store::new(&engine, ());
        if let Some(fuel) = fuel {
            store.set_fuel(fuel)?;
        }
        let mut linker = Linker::new(&engine);
        for import in module.imports() {
            if import.module == "wasi_snapshot_preview1" || import.module == "wasi_unstable" {
                bail!(
                    "`{}` imports `{}::{}`: WASI is not supported yet",
                    self.file.display(),
                    import.module,
                    import.name
                );
            }
            match (&import.ty, self.default_values_unknown_imports) {
                (engine::ExternType::Func(ty), true) => {
                    let results: Vec<Val> = ty.results().iter().map(Val::default_for).collect();
                    let f = Func::new(&mut store, ty.clone(), move |_, _, out| {
                        out.clone_from_slice(&results);
                        Ok(())
                    });
                    linker.define(&store, &import.module, &import.name, f)?;
                }
                _ => bail!(
                    "unknown import `{}::{}` (only function imports can be defined with \
                     --default-values-unknown-imports)",
                    import.module,
                    import.name
                ),
            }
        }
        let instance = linker.instantiate(&mut store, &module)?;
        let name = self.invoke.as_deref().unwrap_or("_start");
        let func = match instance.get_export(&mut store, name) {
            Some(Extern::Func(f)) => f,
            Some(_) => bail!("export `{name}` is not a function"),
            None if self.invoke.is_none() => {
                bail!("the module exports no `_start`; name a function with --invoke")
            }
            None => bail!("the module exports no function `{name}`"),
        };
        let ty = func.ty(&store);
        if self.args.len() != ty.params().len() {
            bail!(
                "`{name}` takes {} arguments, {} given",
                ty.params().len(),
                self.args.len()
            );
        }
        let params = ty
            .params()
            .iter()
            .zip(&self.args)
            .map(|(t, a)| parse_arg(t, a))
            .collect::<Result<Vec<_>>>()?;
        let mut results: Vec<Val> = ty.results().iter().map(Val::default_for).collect();
        func.call(&mut store, &params, &mut results)?;
        for r in &results {
            println!("{}", display(r));
        }
        Ok(())
    }
}

/// Argument `arg` as a value of type `ty`.
fn parse_arg(ty: &ValType, arg: &str) -> Result<Val> {
    let bad = |e: &dyn std::fmt::Display| anyhow::anyhow!("argument `{arg}` is not a {ty}: {e}");
    Ok(match ty {
        ValType::I32 => Val::I32(arg.parse::<i32>().map_err(|e| bad(&e))?),
        ValType::I64 => Val::I64(arg.parse::<i64>().map_err(|e| bad(&e))?),
        ValType::F32 => Val::F32(arg.parse::<f32>().map_err(|e| bad(&e))?.to_bits()),
        ValType::F64 => Val::F64(arg.parse::<f64>().map_err(|e| bad(&e))?.to_bits()),
        _ => bail!("cannot pass `{arg}` as a {ty} from the command line"),
    })
}

/// A result as `wasmtime run --invoke` prints it.
fn display(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(x) => f32::from_bits(*x).to_string(),
        Val::F64(x) => f64::from_bits(*x).to_string(),
        other => format!("{other:?}"),
    }
}
