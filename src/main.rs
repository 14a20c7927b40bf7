//! The `driftwall` binary: parse arguments, set up logging, run, exit.

use std::process::ExitCode;

fn main() -> ExitCode {
    driftwall::cli::main()
}
