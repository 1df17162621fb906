//! `gcwasm wast`: the spec runner over `.wast` files, with the same output.

use crate::options::EngineOptions;
use std::path::PathBuf;
use std::process::ExitCode;

/// `wast [OPTIONS] FILE...`
#[derive(clap::Args, Debug)]
pub struct WastCommand {
    #[command(flatten)]
    engine: EngineOptions,
    /// Stop a script after SECS seconds (0: no limit).
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// The scripts, or directories searched for them.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

impl WastCommand {
    /// Runs the scripts; the spec runner's exit status.
    pub fn execute(&self) -> ExitCode {
        match self.spec_runner_args() {
            Ok(args) => spec_runner::main_with_args(args),
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::from(2)
            }
        }
    }

    /// The equivalent `spec-runner` command line.
    fn spec_runner_args(&self) -> anyhow::Result<Vec<String>> {
        let wasm = self.engine.wasm_options()?;
        if !wasm.features.is_empty() {
            anyhow::bail!(
                "wast scripts get the features of the engine's default configuration; \
                 only -W legacy-exceptions and -W fuel apply"
            );
        }
        let mut args = vec!["spec-runner".to_string()];
        args.extend(["--collector".into(), self.engine.collector.name().into()]);
        if self.engine.gc_stress {
            args.push("--gc-stress".into());
        }
        if self.engine.no_inlining {
            args.push("--no-inlining".into());
        }
        if wasm.legacy_exceptions == Some(true) {
            args.push("--legacy-exceptions".into());
        }
        if let Some(fuel) = wasm.fuel {
            args.extend(["--fuel".into(), fuel.to_string()]);
        }
        if let Some(secs) = self.timeout {
            args.extend(["--timeout".into(), secs.to_string()]);
        }
        args.extend(self.files.iter().map(|f| f.display().to_string()));
        Ok(args)
    }
}
