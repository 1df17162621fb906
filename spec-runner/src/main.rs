//! `spec-runner`: runs `.wast` spec-test scripts against the engine. See `--help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    env_logger::init();
    spec_runner::main_with_args(std::env::args())
}
