//! The command line: `serve`, `openapi`, `restore`, `migrate`, `admin issue-token`,
//! `admin check`, and the client commands of [`client`], which talk to a running server over HTTP.

mod client;
mod migrate;
mod provision;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::auth::secret::Secret;
use crate::config::{Config, CredentialsConfig};
use crate::store::{self, Location, Recovery, Store};
use crate::{clock, server};

#[derive(Debug, Parser)]
#[command(
    name = "keyhouse",
    version,
    about = "Service accounts, roles and credentials in one binary and one redb file."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server. Settings: built-in defaults, then the --config file, then
    /// KEYHOUSE_* environment variables (KEYHOUSE_SERVER__LISTEN for server.listen).
    Serve {
        /// A TOML file of settings; see config.example.toml.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Print the OpenAPI document, byte for byte as /api-docs/openapi.json serves it.
    Openapi,
    /// Check a backup (from POST /api/v1/admin/backup) and put it in place of the
    /// database, with the server (every node) stopped: a file is replaced whole; a
    /// PostgreSQL database is emptied and the backup copied into it.
    Restore {
        /// The backup file.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The database file to replace (created if missing); without it, the database
        /// the settings name (--config, then the KEYHOUSE_* variables), as `serve` reads
        /// them.
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// A TOML file of settings, as for `serve`.
        #[arg(long, value_name = "FILE", conflicts_with = "db")]
        config: Option<PathBuf>,
    },
    /// Copy a whole database into another, between engines: a redb file and a
    /// PostgreSQL database (`postgres://...`, a `host=... dbname=...` string, or
    /// `@FILE` holding one), either way. One consistent read of the source; every
    /// table's count is checked at the end. The target must be empty unless --force.
    Migrate {
        /// The database to copy: a redb file, or a PostgreSQL connection string.
        #[arg(long, value_name = "DATABASE")]
        from: String,
        /// The database to copy into.
        #[arg(long, value_name = "DATABASE")]
        to: String,
        /// Replace what the target holds.
        #[arg(long)]
        force: bool,
        /// PEM certificates the PostgreSQL server's must chain to (for TLS).
        #[arg(long, value_name = "FILE")]
        ca_file: Option<PathBuf>,
    },
    /// Administration, with the server stopped.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    #[command(flatten)]
    Client(client::ClientCommand),
    #[command(flatten)]
    Provision(provision::ProvisionCommand),
    #[command(flatten)]
    Tools(crate::tooling::ToolCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Issue a new secret for the `admin` account and print it to standard output.
    /// Recreates or re-enables the account, with the `admin` role, if needed.
    IssueToken {
        #[command(flatten)]
        database: OfflineDatabase,
    },
    /// Check the database: redb's page checksums for a file, then, on either engine,
    /// that every entry reads, every record decodes, every index entry leads to its
    /// record and the kept counts match. Exits 1 on any problem.
    Check {
        #[command(flatten)]
        database: OfflineDatabase,
    },
}

/// The database of an offline command.
#[derive(Debug, clap::Args)]
pub struct OfflineDatabase {
    /// The database file; without it, the database the settings name (--config, then
    /// the KEYHOUSE_* variables), as `serve` reads them.
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// A TOML file of settings, as for `serve`.
    #[arg(long, value_name = "FILE", conflicts_with = "db")]
    config: Option<PathBuf>,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("keyhouse: {message}");
    ExitCode::FAILURE
}

pub fn run(cli: Cli) -> ExitCode {
    crate::logging::init();
    match cli.command {
        Command::Client(command) => client::run(command),
        Command::Provision(command) => provision::run(command),
        Command::Serve { config } => {
            crate::malloc_arenas::limit();
            let loaded = match Config::load(config.as_deref(), std::env::vars()) {
                Ok(loaded) => loaded,
                Err(err) => return fail(err),
            };
            crate::logging::configure(&loaded.log);
            match server::serve(loaded, config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => fail(err),
            }
        }
        Command::Openapi => match server::openapi_json() {
            Ok(json) => {
                print!("{json}");
                ExitCode::SUCCESS
            }
            Err(err) => fail(err),
        },
        Command::Restore { from, db, config } => match restore(&from, db, config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => fail(message),
        },
        Command::Tools(command) => {
            crate::tooling::run(command, <Cli as clap::CommandFactory>::command())
        }
        Command::Migrate {
            from,
            to,
            force,
            ca_file,
        } => match migrate::run(&from, &to, force, ca_file) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => fail(message),
        },
        Command::Admin {
            command: AdminCommand::Check { database },
        } => match offline_location(database.db, database.config).and_then(|at| check(&at)) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(message) => fail(message),
        },
        Command::Admin {
            command: AdminCommand::IssueToken { database },
        } => match offline_location(database.db, database.config).and_then(|at| issue_token(&at)) {
            Ok((secret, recovery)) => {
                eprintln!("{}", recovery_report(&recovery));
                println!("{}", secret.expose());
                ExitCode::SUCCESS
            }
            Err(message) => fail(message),
        },
    }
}

/// The database of an offline command: the file `db`, or else the one the settings
/// name, read as `serve` reads them.
fn offline_location(db: Option<PathBuf>, config: Option<PathBuf>) -> Result<Location, String> {
    if let Some(db) = db {
        return Ok(Location::File(db));
    }
    let loaded = Config::load(config.as_deref(), std::env::vars()).map_err(|e| e.to_string())?;
    loaded.storage_location().map_err(|e| e.to_string())
}

fn restore(from: &Path, db: Option<PathBuf>, config: Option<PathBuf>) -> Result<(), String> {
    let at = offline_location(db, config)?;
    store::restore_at(from, &at, |table, rows| {
        eprintln!("keyhouse:   {table}: {rows} rows");
    })
    .map_err(|err| err.to_string())?;
    eprintln!("keyhouse: restored {at} from {}", from.display());
    Ok(())
}

/// Checks the database at `at`, telling what it read and found: whether all is well.
fn check(at: &Location) -> Result<bool, String> {
    let store = Store::open_location(at).map_err(|e| e.to_string())?;
    eprintln!("keyhouse: checking {at}");
    let mut sound = true;
    if let Location::File(_) = at {
        // Offline, with the server stopped: there is no server's clock to read.
        let pages = store.check_integrity(clock::now());
        eprintln!("keyhouse:   pages: {}", pages.message);
        sound &= pages.ok;
    }
    let verified = store.verify().map_err(|e| e.to_string())?;
    for (table, rows) in &verified.tables {
        eprintln!("keyhouse:   {table}: {rows} rows");
    }
    for problem in &verified.problems {
        eprintln!("keyhouse:   problem: {problem}");
    }
    match verified.found {
        0 if sound => eprintln!("keyhouse: no problem found"),
        0 => eprintln!("keyhouse: the pages did not verify; restore a backup"),
        found => eprintln!(
            "keyhouse: {found} problems found ({} shown); restore a backup",
            verified.problems.len()
        ),
    }
    Ok(sound && verified.found == 0)
}

fn issue_token(at: &Location) -> Result<(Secret, Recovery), String> {
    let store = Store::open_location(at).map_err(|e| e.to_string())?;
    // Offline, with the server stopped: there is no server's clock to read.
    let now = clock::now();
    let secret = Secret::generate().map_err(|e| e.to_string())?;
    let lifetime = CredentialsConfig::default().limits.default_lifetime_days;
    let new = || {
        secret.to_credential(
            "issue-token".to_owned(),
            crate::domain::lifetime_end(now, lifetime),
        )
    };
    let recovery = if store
        .initialize(now, new())
        .wait()
        .map_err(|e| format!("{e:?}"))?
    {
        Recovery {
            created: true,
            revoked: Vec::new(),
        }
    } else {
        store
            .issue_admin_secret(now, new())
            .wait()
            .map_err(|e| format!("{e:?}"))?
    };
    Ok((secret, recovery))
}

/// What `admin issue-token` did, in words for the operator (standard error; the new
/// secret alone goes to standard output).
fn recovery_report(recovery: &Recovery) -> String {
    if recovery.created {
        return "keyhouse: created the service account 'admin' (role admin) with a new secret"
            .to_owned();
    }
    let mut report = "keyhouse: 'admin' is active, does not expire and holds the role admin; \
                      its access tokens issued until now no longer work; "
        .to_owned();
    if recovery.revoked.is_empty() {
        report.push_str("it had no other credential");
    } else {
        report.push_str(&format!(
            "revoked its {} other credential(s):",
            recovery.revoked.len()
        ));
        for credential in &recovery.revoked {
            let kind = if credential.kind.is_secret() {
                "secret"
            } else {
                "public key"
            };
            report.push_str(&format!(
                "\n  {} ({kind} '{}')",
                credential.id, credential.name
            ));
        }
    }
    report + "\nkeyhouse: the new secret follows on standard output"
}
