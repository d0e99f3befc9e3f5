//! The `keyhouse` binary: parses the command line and hands it to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    keyhouse::cli::run(keyhouse::cli::Cli::parse())
}
