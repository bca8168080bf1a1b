//! The `pulse` command line.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::startup::{Application, open_migrated};
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
    /// Manage accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account; the password comes from PULSE_PASSWORD or a prompt.
    Create {
        email: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Make an existing account an administrator.
    Promote { email: String },
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
            Command::User { action } => users::run(&config, action),
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
    let (_, applied) = open_migrated(config)?;
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

mod users {
    use anyhow::{Context as _, bail};

    use super::UserCommand;
    use crate::auth::password::{Password, hash_now};
    use crate::auth::user::{self, CreateUserError};
    use crate::auth::validate;
    use crate::clock::{Clock as _, SystemClock};
    use crate::config::Config;
    use crate::startup::open_migrated;

    pub(super) fn run(config: &Config, action: UserCommand) -> anyhow::Result<()> {
        let (mut conn, _) = open_migrated(config)?;
        let now = SystemClock.now();
        match action {
            UserCommand::Create { email, admin } => {
                let email = validate::normalize_email(&email).map_err(anyhow::Error::msg)?;
                let password = read_password()?;
                validate::check_password(password.expose()).map_err(anyhow::Error::msg)?;
                let hash = hash_now(&password)?;
                let account = match user::create(&mut conn, &email, &hash, admin, now) {
                    Ok(account) => account,
                    Err(CreateUserError::Duplicate) => bail!("{email} already has an account"),
                    Err(CreateUserError::Db(err)) => return Err(err.into()),
                };
                let role = if account.is_admin {
                    "administrator"
                } else {
                    "user"
                };
                println!("created {email} ({role})");
            }
            UserCommand::Promote { email } => {
                let email = validate::normalize_email(&email).map_err(anyhow::Error::msg)?;
                if !user::promote(&mut conn, &email, now)? {
                    bail!("there is no account for {email}");
                }
                println!("{email} is now an administrator");
            }
        }
        Ok(())
    }

    /// From `PULSE_PASSWORD`, or asked twice at the terminal without echo.
    fn read_password() -> anyhow::Result<Password> {
        if let Ok(password) = std::env::var("PULSE_PASSWORD") {
            return Ok(Password::new(password));
        }
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        let again = rpassword::prompt_password("Again: ").context("reading the password")?;
        if first != again {
            bail!("the two passwords differ");
        }
        Ok(Password::new(first))
    }
}
