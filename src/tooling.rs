//! The commands about keyhouse itself rather than its data: `config check`, shell
//! completions and man pages, both generated from the command definitions.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::report::{self, Report};
use crate::config::{Config, ENV_PREFIX, SETTINGS};
use crate::server::Certificate;
use crate::store::{SealKey, resolve_key_file};

#[derive(Debug, Subcommand)]
pub enum ToolCommand {
    /// The settings.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print the completion script of a shell to standard output.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (keyhouse.1, keyhouse-serve.1, ...) into a directory.
    Man {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective settings (secrets masked) with the source of each (default,
    /// file, environment), and every problem, the files they name included; exit 1 on
    /// any problem.
    Check {
        /// A TOML file of settings, as `serve --config` would read it.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// Each setting's environment variable, for `serve`'s long help and man page.
pub fn environment_help() -> String {
    let mut text = String::from("Environment (each overrides the setting of the file):\n");
    for setting in SETTINGS {
        let variable = format!("{ENV_PREFIX}{}", setting.replace('.', "__").to_uppercase());
        text.push_str(&format!("  {variable:48} {setting}\n"));
    }
    text
}

/// Runs `command`; `cli` is the whole command line's definition, for completions and
/// man pages.
pub fn run(command: ToolCommand, cli: clap::Command) -> ExitCode {
    let cli = cli.mut_subcommand("serve", |serve| serve.after_long_help(environment_help()));
    match command {
        ToolCommand::Config {
            command: ConfigCommand::Check { config },
        } => {
            let report = config_check(config.as_deref());
            print!("{report}");
            if report.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        ToolCommand::Completions { shell } => {
            let mut cli = cli;
            clap_complete::generate(shell, &mut cli, "keyhouse", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        ToolCommand::Man { out } => {
            match std::fs::create_dir_all(&out).and_then(|()| clap_mangen::generate_to(cli, &out)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!(
                        "keyhouse: cannot write man pages to {}: {err}",
                        out.display()
                    );
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// The settings' report, and, when they load, the problems of the files they name:
/// the TLS certificate and key, the key file, the database's directory.
fn config_check(file: Option<&Path>) -> Report {
    let mut report = report::check(file, std::env::vars());
    let Ok(config) = Config::load(file, std::env::vars()) else {
        return report;
    };
    if let Some((cert_file, key_file)) = config.tls_files()
        && let Err(err) = Certificate::load(cert_file, key_file)
    {
        report.problems.push(err.to_string());
    }
    if let Some(setting) = &config.storage.key_file {
        let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        if let Err(err) = SealKey::load(&resolve_key_file(setting, credentials.as_deref())) {
            report.problems.push(err.to_string());
        }
    }
    let directory = match config.storage.path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    if !directory.is_dir() {
        report.problems.push(format!(
            "invalid setting storage.path: its directory {} does not exist",
            directory.display()
        ));
    }
    report
}
