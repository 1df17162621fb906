//! `gcwasm compile`: precompile a module, for `run --allow-precompiled` or
//! `Module::deserialize`.

use crate::options::EngineOptions;
use anyhow::{Context, Result};
use engine::Engine;
use std::path::PathBuf;

/// `compile [OPTIONS] FILE [-o OUT]`
#[derive(clap::Args, Debug)]
pub struct CompileCommand {
    #[command(flatten)]
    engine: EngineOptions,
    /// Where to write the precompiled module (default: FILE with the extension `.gcwasm`).
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// The module: binary `.wasm` or text `.wat`.
    file: PathBuf,
}

impl CompileCommand {
    /// Compiles the module and writes the artifact. It loads only into an engine of this
    /// version with the same options, on a machine with the same CPU features.
    pub fn execute(&self) -> Result<()> {
        let engine = Engine::new(&self.engine.config()?)?;
        let bytes = std::fs::read(&self.file)
            .with_context(|| format!("failed to read `{}`", self.file.display()))?;
        let artifact = engine
            .precompile_module(&bytes)
            .with_context(|| format!("failed to compile `{}`", self.file.display()))?;
        let out = self
            .output
            .clone()
            .unwrap_or_else(|| self.file.with_extension("gcwasm"));
        std::fs::write(&out, artifact)
            .with_context(|| format!("failed to write `{}`", out.display()))?;
        Ok(())
    }
}
