//! The `pulse` command line.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::clock::SystemClock;
use crate::config::Config;
use crate::startup::{Application, prepare_database};
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "pulse",
    version,
    about = "A small self-hosted analytics dashboard"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations, then serve (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Fill the database with a synthetic population and its visit history.
    Demo(crate::demo::DemoArgs),
}

impl Cli {
    pub fn run(self) -> ExitCode {
        telemetry::init();
        match self.execute() {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("pulse: {err:#}");
                ExitCode::FAILURE
            }
        }
    }

    fn execute(self) -> anyhow::Result<()> {
        if let Err(err) = dotenvy::dotenv()
            && !err.not_found()
        {
            return Err(err).context("reading .env");
        }
        let config = Config::from_env()?;
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config),
            Command::Migrate => migrate(&config),
            Command::Demo(args) => crate::demo::execute(&config, args),
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = actix_web::rt::System::new();
    runtime.block_on(async {
        let app = Application::build(config).await?;
        app.run_until_stopped().await.context("serving")
    })
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    let prepared = prepare_database(config, &SystemClock)?;
    let applied = prepared.migrations_applied;
    if applied.is_empty() {
        println!("{}: up to date", config.database_url.describe());
    } else {
        println!(
            "{}: applied {}",
            config.database_url.describe(),
            applied.join(", ")
        );
    }
    Ok(())
}
