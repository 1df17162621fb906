//! `gcwasm run`: instantiate a module with WASI preview 1 and call its `_start` or an
//! export.

use crate::options::EngineOptions;
use anyhow::{Context, Result, bail};
use engine::{Engine, Extern, Linker, Module, Store, Val, ValType};
use std::path::PathBuf;
use wasi::{WasiCtx, WasiCtxBuilder};

/// `run [OPTIONS] FILE [ARGS]...`
#[derive(clap::Args, Debug)]
pub struct RunCommand {
    #[command(flatten)]
    engine: EngineOptions,
    /// Give the program the host directory HOST as guest path GUEST (default: HOST as
    /// written). The program can reach nothing outside its directories.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Set an environment variable for the program; `NAME` alone passes on the host's value.
    #[arg(long = "env", value_name = "NAME[=VAL]")]
    envs: Vec<String>,
    /// Pass on the host's whole environment.
    #[arg(long)]
    inherit_env: bool,
    /// Call this export instead of `_start`, with ARGS as its parameters (numbers).
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Define every function import no one provides as a function returning zeros (for
    /// benchmark modules that import timing hooks).
    #[arg(long)]
    default_values_unknown_imports: bool,
    /// Accept a precompiled module (from `gcwasm compile`) and run its code as it is.
    /// Only for files you trust: precompiled code is not checked.
    #[arg(long)]
    allow_precompiled: bool,
    /// The module: binary `.wasm` or text `.wat`.
    file: PathBuf,
    /// The program's arguments (after its name), or the export's parameters.
    #[arg(allow_hyphen_values = true)]
    args: Vec<String>,
}

impl RunCommand {
    /// Runs the command: the program's exit status (`proc_exit`'s, or 0 when `_start`
    /// returns). With `--invoke`, prints the export's results, one per line.
    pub fn execute(&self) -> Result<i32> {
        let config = self.engine.config()?;
        let fuel = self.engine.wasm_options()?.fuel;
        let engine = Engine::new(&config)?;
        let module = self.module(&engine)?;
        let mut store = Store::new(&engine, self.wasi_ctx()?);
        if let Some(fuel) = fuel {
            store.set_fuel(fuel)?;
        }
        let mut linker = Linker::<WasiCtx>::new(&engine);
        wasi::add_to_linker(&mut linker, |cx| cx)?;
        self.define_unknown_imports(&mut linker, &module)?;
        let instance = linker.instantiate(&mut store, &module)?;
        let name = self.invoke.as_deref().unwrap_or("_start");
        let func = match instance.get_export(&mut store, name) {
            Some(Extern::Func(f)) => f,
            Some(_) => bail!("export `{name}` is not a function"),
            None if self.invoke.is_none() => bail!(
                "`{}` exports no `_start`, so it is not a WASI command; name a function \
                 with --invoke",
                self.file.display()
            ),
            None => bail!("the module exports no function `{name}`"),
        };
        if self.invoke.is_none() {
            let start = func
                .typed::<(), ()>(&store)
                .context("`_start` must take and return nothing")?;
            return wasi::exit_status(start.call(&mut store, ()));
        }
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
        let status = wasi::exit_status(func.call(&mut store, &params, &mut results))?;
        if status == 0 {
            for r in &results {
                println!("{}", display(r));
            }
        }
        Ok(status)
    }

    /// The module: compiled from its binary or text, or loaded precompiled.
    fn module(&self, engine: &Engine) -> Result<Module> {
        let bytes = std::fs::read(&self.file)
            .with_context(|| format!("failed to read `{}`", self.file.display()))?;
        if !bytes.starts_with(b"\0gcwasm") {
            return Module::new(engine, &bytes)
                .with_context(|| format!("failed to compile `{}`", self.file.display()));
        }
        if !self.allow_precompiled {
            bail!(
                "`{}` is a precompiled module: run it with --allow-precompiled if you trust it",
                self.file.display()
            );
        }
        // SAFETY: the user vouched for the file with --allow-precompiled.
        unsafe { Module::deserialize(engine, &bytes) }
            .with_context(|| format!("failed to load `{}`", self.file.display()))
    }

    /// What the program sees: its name and arguments, the environment asked for, this
    /// process's stdio, and the `--dir` directories.
    fn wasi_ctx(&self) -> Result<WasiCtx> {
        let mut b = WasiCtxBuilder::new();
        b.arg(&self.file.display().to_string())?;
        if self.invoke.is_none() {
            b.args(&self.args)?;
        }
        if self.inherit_env {
            b.inherit_env()?;
        }
        for env in &self.envs {
            match env.split_once('=') {
                Some((k, v)) => b.env(k, v)?,
                None => match std::env::var(env) {
                    Ok(v) => b.env(env, &v)?,
                    Err(_) => bail!("--env {env}: no such variable in this environment"),
                },
            };
        }
        for dir in &self.dirs {
            let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
            b.preopened_dir(host, guest)?;
        }
        b.inherit_stdio();
        Ok(b.build())
    }

    /// Every import neither WASI nor anything else defines: with
    /// `--default-values-unknown-imports` a function returning zeros, otherwise an error.
    fn define_unknown_imports(&self, linker: &mut Linker<WasiCtx>, module: &Module) -> Result<()> {
        if self.default_values_unknown_imports {
            linker.define_unknown_imports_as_default_values(module)?;
        }
        let Some(import) = module
            .imports()
            .find(|i| !linker.contains(&i.module, &i.name))
        else {
            return Ok(());
        };
        if import.module == wasi::MODULE {
            bail!(
                "`{}` imports `{}::{}`, which WASI preview 1 does not define",
                self.file.display(),
                import.module,
                import.name
            );
        }
        bail!(
            "unknown import `{}::{}` (only function imports can be defined with \
             --default-values-unknown-imports)",
            import.module,
            import.name
        )
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
