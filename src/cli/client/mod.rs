//! The command-line client: every resource of the API, over HTTP(S), from the same
//! binary as the server. It knows the server only through the API: nothing here reads
//! the database or the server's own modules.
//!
//! Exit codes: 0 success, 1 the API refused (the message names its error code), 2 a
//! usage error, 3 the server cannot be reached.

mod accounts;
mod credentials;
mod error;
mod fields;
mod groups;
mod http;
mod operations;
mod options;
mod output;
mod profile;
mod projects;
mod roles;
mod secrets;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

pub use error::ClientError;
pub use http::{Api, encode};
pub use options::{ClientOptions, Format};
pub use output::document;
pub use secrets::{secret_of, write_private};

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Projects: list, get, create, update, delete (at the root).
    #[command(after_help = "Example:\n  keyhouse projects create payments")]
    Projects {
        #[command(flatten)]
        options: ClientOptions,
        #[command(subcommand)]
        verb: projects::ProjectVerb,
    },
    /// Service accounts of a scope: list, get, create, update, delete, renew-token.
    #[command(
        visible_alias = "sa",
        after_help = "Example:\n  keyhouse sa create ci-bot --role viewer --secret-file ci-bot.secret"
    )]
    ServiceAccounts {
        #[command(flatten)]
        options: ClientOptions,
        #[command(subcommand)]
        verb: accounts::AccountVerb,
    },
    /// Groups of a scope and their members.
    #[command(after_help = "Example:\n  keyhouse groups add-members deployers ci-bot")]
    Groups {
        #[command(flatten)]
        options: ClientOptions,
        #[command(subcommand)]
        verb: groups::GroupVerb,
    },
    /// Roles of a scope.
    #[command(after_help = "Example:\n  keyhouse roles create auditor --permission audit:read")]
    Roles {
        #[command(flatten)]
        options: ClientOptions,
        #[command(subcommand)]
        verb: roles::RoleVerb,
    },
    /// An account's secrets and public keys: list, get, create-secret, add-key,
    /// rotate, revoke.
    #[command(
        after_help = "Example:\n  keyhouse credentials rotate ci-bot --grace-period-seconds 600"
    )]
    Credentials {
        #[command(flatten)]
        options: ClientOptions,
        #[command(subcommand)]
        verb: credentials::CredentialVerb,
    },
    /// The audit trail of a scope.
    #[command(after_help = "Example:\n  keyhouse audit-events list --actor admin --limit 20")]
    AuditEvents {
        #[command(flatten)]
        options: ClientOptions,
        #[command(subcommand)]
        verb: operations::AuditVerb,
    },
    /// The keys that sign access tokens.
    #[command(after_help = "Example:\n  keyhouse signing-keys rotate")]
    SigningKeys {
        #[command(flatten)]
        options: ClientOptions,
        #[command(subcommand)]
        verb: operations::SigningKeyVerb,
    },
    /// Download a consistent snapshot of a running server's database (mode 0600).
    #[command(after_help = "Example:\n  keyhouse backup --to keyhouse-$(date +%F).redb")]
    Backup {
        #[command(flatten)]
        options: ClientOptions,
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Ask a running server to check its database now.
    #[command(after_help = "Example:\n  keyhouse integrity-check -o json")]
    IntegrityCheck {
        #[command(flatten)]
        options: ClientOptions,
    },
    /// Print an access token for the caller (OAuth client credentials).
    #[command(
        after_help = "Example:\n  curl -H \"Authorization: Bearer $(keyhouse token --scope groups:read)\" \\\n    http://127.0.0.1:8080/api/v1/groups"
    )]
    Token {
        #[command(flatten)]
        options: ClientOptions,
        /// A permission the token should carry; repeat for more (absent: all of the
        /// caller's).
        #[arg(long = "scope", value_name = "PERMISSION")]
        scope: Vec<String>,
    },
}

/// Runs a client command and turns its outcome into the exit code.
pub fn run(command: ClientCommand) -> ExitCode {
    match execute(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("keyhouse: {err}");
            err.exit_code()
        }
    }
}

fn execute(command: ClientCommand) -> Result<(), ClientError> {
    refuse_secret_arguments(std::env::args())?;
    let connect = |options: &ClientOptions| Api::connect(options.resolve()?);
    match command {
        ClientCommand::Projects { options, verb } => {
            projects::run(verb, &connect(&options)?, options.output)
        }
        ClientCommand::ServiceAccounts { options, verb } => {
            accounts::run(verb, &connect(&options)?, options.output)
        }
        ClientCommand::Groups { options, verb } => {
            groups::run(verb, &connect(&options)?, options.output)
        }
        ClientCommand::Roles { options, verb } => {
            roles::run(verb, &connect(&options)?, options.output)
        }
        ClientCommand::Credentials { options, verb } => {
            credentials::run(verb, &connect(&options)?, options.output)
        }
        ClientCommand::AuditEvents { options, verb } => {
            operations::audit(verb, &connect(&options)?, options.output)
        }
        ClientCommand::SigningKeys { options, verb } => {
            operations::signing_keys(verb, &connect(&options)?, options.output)
        }
        ClientCommand::Backup { options, to } => operations::backup(&connect(&options)?, &to),
        ClientCommand::IntegrityCheck { options } => {
            operations::integrity_check(&connect(&options)?, options.output)
        }
        ClientCommand::Token { options, scope } => {
            let resolved = options.resolve()?;
            let secret = resolved
                .token
                .clone()
                .filter(|token| token.starts_with("kh_"))
                .ok_or_else(|| {
                    ClientError::usage(
                        "token needs the caller's kh_ secret (--token-file or KEYHOUSE_TOKEN)",
                    )
                })?;
            operations::token(&Api::connect(resolved)?, &scope, &secret, options.output)
        }
    }
}

/// Refuses a command line holding what looks like a keyhouse secret: on the command
/// line it shows in `ps` to every user and stays in the shell's history.
pub fn refuse_secret_arguments(args: impl IntoIterator<Item = String>) -> Result<(), ClientError> {
    let looks_secret = |arg: &str| {
        arg.split('=')
            .any(|part| part.starts_with("kh_") && part.len() >= 40)
    };
    if args.into_iter().any(|arg| looks_secret(&arg)) {
        return Err(ClientError::usage(
            "a secret on the command line shows in ps and in the shell's history: \
             put it in a file of mode 0600 named by --token-file, or in KEYHOUSE_TOKEN",
        ));
    }
    Ok(())
}
