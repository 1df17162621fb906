//! `gcwasm`: the engine's command-line tool, shaped like Wasmtime's.
//!
//! - `gcwasm run [OPTIONS] FILE [ARGS]...` runs a WASI preview 1 command (`_start`, with
//!   `--dir` directories, `--env` variables and `ARGS` as its arguments), or calls the
//!   export `--invoke` names with `ARGS` as its parameters (`run.rs`).
//! - `gcwasm wast [OPTIONS] FILE...` runs `.wast` scripts with the spec runner (`wast.rs`).
//! - `gcwasm validate [OPTIONS] FILE...` checks modules without running them
//!   (`validate.rs`).
//! - `gcwasm compile [OPTIONS] FILE [-o OUT]` writes a precompiled module, which
//!   `run --allow-precompiled` loads without compiling (`compile.rs`).
//! - Engine options shared by both (`-W`, `--collector`, `--gc-stress`, `--no-inlining`):
//!   `options.rs`.
//!
//! Exit status: the program's (`proc_exit`'s, 0 when `_start` returns), 1 on an error or a
//! trap (with its message and Wasm backtrace on stderr), 2 on bad arguments.

mod compile;
mod options;
mod run;
mod validate;
mod wast;

use clap::Parser;
use std::process::ExitCode;

/// The command line.
#[derive(Parser, Debug)]
#[command(
    name = "gcwasm",
    version,
    about = "Runs WebAssembly modules and .wast scripts."
)]
enum Command {
    /// Instantiate a module and call its `_start` or an export.
    Run(run::RunCommand),
    /// Run .wast scripts (the spec runner's output and exit status).
    Wast(wast::WastCommand),
    /// Check that modules are valid, without running them.
    Validate(validate::ValidateCommand),
    /// Precompile a module (for `run --allow-precompiled`).
    Compile(compile::CompileCommand),
}

fn main() -> ExitCode {
    env_logger::init();
    match Command::parse() {
        Command::Run(cmd) => match cmd.execute() {
            // Statuses beyond 255 wrap, as they do for a native process.
            Ok(status) => ExitCode::from(status as u8),
            Err(err) => {
                report(&err);
                ExitCode::FAILURE
            }
        },
        Command::Wast(cmd) => cmd.execute(),
        Command::Validate(cmd) => finish(cmd.execute()),
        Command::Compile(cmd) => finish(cmd.execute()),
    }
}

/// Success, or the error reported and failure.
fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report(&err);
            ExitCode::FAILURE
        }
    }
}

/// Prints `err` on stderr: the message first (for a trap, what trapped), then the Wasm
/// backtrace if there is one.
fn report(err: &anyhow::Error) {
    eprintln!("error: {}", engine::error_report(err));
}
