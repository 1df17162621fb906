//! `gcwasm validate`: check modules against the enabled features, without running them.

use crate::options::EngineOptions;
use anyhow::{Context, Result};
use engine::{Engine, Module};
use std::path::PathBuf;

/// `validate [OPTIONS] FILE...`
#[derive(clap::Args, Debug)]
pub struct ValidateCommand {
    #[command(flatten)]
    engine: EngineOptions,
    /// The modules: binary `.wasm` or text `.wat`.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

impl ValidateCommand {
    /// Validates every file; the first invalid one is the error.
    pub fn execute(&self) -> Result<()> {
        let engine = Engine::new(&self.engine.config()?)?;
        for file in &self.files {
            let bytes = std::fs::read(file)
                .with_context(|| format!("failed to read `{}`", file.display()))?;
            Module::validate(&engine, &bytes)
                .with_context(|| format!("`{}` is not a valid module", file.display()))?;
            println!("{}: valid", file.display());
        }
        Ok(())
    }
}
