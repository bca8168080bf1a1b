use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    pulse::cli::Cli::parse().run()
}
