//! Provisioning from a file: `keyhouse apply` makes a server hold the projects, roles,
//! groups and service accounts a YAML or TOML file describes, through the API, and
//! `keyhouse export` writes a server's objects in that format.

mod execute;
mod export;
mod file;
mod plan;
mod state;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

use crate::cli::client::{
    Api, ClientError, ClientOptions, Format, document, refuse_secret_arguments,
};
use plan::{Action, Step};

#[derive(Debug, Subcommand)]
pub enum ProvisionCommand {
    /// Make the server hold what a file describes; a second run changes nothing.
    #[command(after_help = "Examples:\n  keyhouse apply -f keyhouse/ --dry-run\n  \
                            keyhouse apply -f keyhouse.yaml --prune --secrets-dir ./secrets\n  \
                            keyhouse export | keyhouse apply -f - --url https://other:8443")]
    Apply {
        #[command(flatten)]
        options: ClientOptions,
        /// A YAML or TOML file, a directory of them, or - for standard input; repeat
        /// for more.
        #[arg(short = 'f', long = "file", value_name = "FILE|DIR|-", required = true)]
        files: Vec<PathBuf>,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Delete what the file no longer names: only objects apply marked as managed,
        /// of the kinds and in the scopes the file names, never the root's admin.
        #[arg(long)]
        prune: bool,
        /// Issue each new account a first secret, written to DIR/<client_id>.secret
        /// (mode 0600); without it, new accounts get no secret.
        #[arg(long, value_name = "DIR")]
        secrets_dir: Option<PathBuf>,
    },
    /// Write the server's projects, roles, groups and accounts as a provisioning file
    /// (YAML; -o json for JSON). No secret is written.
    #[command(after_help = "Example:\n  keyhouse export --project payments > payments.yaml")]
    Export {
        #[command(flatten)]
        options: ClientOptions,
    },
}

pub fn run(command: ProvisionCommand) -> ExitCode {
    let outcome = refuse_secret_arguments(std::env::args()).and_then(|()| match command {
        ProvisionCommand::Apply {
            options,
            files,
            dry_run,
            prune,
            secrets_dir,
        } => apply(&options, &files, dry_run, prune, secrets_dir),
        ProvisionCommand::Export { options } => {
            let resolved = options.resolve()?;
            let project = resolved.project.clone();
            let manifest = export::export(&Api::connect(resolved)?, project.as_deref())?;
            print!(
                "{}",
                file::render(&manifest, options.output == Format::Json)?
            );
            Ok(())
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("keyhouse: {err}");
            err.exit_code()
        }
    }
}

fn apply(
    options: &ClientOptions,
    files: &[PathBuf],
    dry_run: bool,
    prune: bool,
    secrets_dir: Option<PathBuf>,
) -> Result<(), ClientError> {
    let manifest = file::read(files)?;
    if let Some(dir) = &secrets_dir {
        std::fs::create_dir_all(dir)
            .map_err(|err| ClientError::usage(format!("cannot create {}: {err}", dir.display())))?;
    }
    let api = Api::connect(options.resolve()?)?;
    let plan_options = plan::Options {
        prune,
        secrets_dir: secrets_dir.as_deref(),
    };
    let steps = plan::plan(&api, &manifest, &plan_options)?;
    if dry_run {
        return report(options.output, &steps, true);
    }
    match execute::execute(&api, &steps) {
        Ok(_) => report(options.output, &steps, false),
        Err(stopped) => {
            eprintln!("keyhouse: stopped at: {}", stopped.at);
            if stopped.done.is_empty() {
                eprintln!("keyhouse: nothing was changed before it");
            } else {
                eprintln!("keyhouse: done before it ({}):", stopped.done.len());
                for line in &stopped.done {
                    eprintln!("  {line}");
                }
            }
            Err(stopped.error)
        }
    }
}

/// Prints the plan (or what was done): a line per change and a count of the
/// unchanged, or the steps as JSON or YAML.
fn report(format: Format, steps: &[Step], dry_run: bool) -> Result<(), ClientError> {
    let count = |action: Action| steps.iter().filter(|s| s.action == action).count();
    let summary = json!({
        "create": count(Action::Create),
        "update": count(Action::Update),
        "delete": count(Action::Delete),
        "unchanged": count(Action::Unchanged),
    });
    if format != Format::Table {
        let steps = serde_json::to_value(steps).map_err(|e| ClientError::local(e.to_string()))?;
        return document(
            format,
            &json!({"dry_run": dry_run, "summary": summary, "steps": steps}),
        );
    }
    for step in steps.iter().filter(|s| s.action != Action::Unchanged) {
        println!("{:<9} {}", execute::verb(step.action), step.label());
        for (field, change) in &step.changes {
            println!(
                "            {field}: {} -> {}",
                change["from"], change["to"]
            );
        }
    }
    let changed = steps.len() - count(Action::Unchanged);
    let tense = if dry_run { "to" } else { "done:" };
    if changed == 0 {
        println!(
            "no changes: {} objects already as the file says",
            count(Action::Unchanged)
        );
    } else {
        println!(
            "{tense} create {}, update {}, delete {}; {} unchanged",
            summary["create"], summary["update"], summary["delete"], summary["unchanged"]
        );
    }
    Ok(())
}
