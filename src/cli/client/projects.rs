//! `keyhouse projects`: the installation's projects (always at the root).

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};
use ureq::http::Method;

use super::error::ClientError;
use super::fields::{Describe, named};
use super::http::{Api, encode};
use super::options::Format;
use super::output::{self, Column};

const COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("DISPLAY NAME", "display_name"),
    ("ACCOUNTS", "sa_count"),
    ("GROUPS", "group_count"),
    ("ROLES", "role_count"),
    ("CREATED", "created_at"),
];

/// The project's `credential_policy`, each at most the server's setting.
#[derive(Debug, Args)]
pub struct Policy {
    /// At most this many unexpired credentials per account.
    #[arg(long, value_name = "N")]
    max_active: Option<u32>,
    /// A new credential's default lifetime.
    #[arg(long, value_name = "DAYS")]
    default_lifetime_days: Option<u32>,
    /// The longest lifetime a credential may be given.
    #[arg(long, value_name = "DAYS")]
    max_lifetime_days: Option<u32>,
}

impl Policy {
    fn fill(&self, body: &mut Map<String, Value>) {
        let mut policy = Map::new();
        for (key, value) in [
            ("max_active", self.max_active),
            ("default_lifetime_days", self.default_lifetime_days),
            ("max_lifetime_days", self.max_lifetime_days),
        ] {
            if let Some(value) = value {
                policy.insert(key.into(), json!(value));
            }
        }
        if !policy.is_empty() {
            body.insert("credential_policy".into(), Value::Object(policy));
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ProjectVerb {
    /// List the projects the caller may read anything in.
    #[command(after_help = "Example:\n  keyhouse projects list")]
    List {
        /// Only names or display names holding this text.
        #[arg(long)]
        query: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Read one project.
    #[command(after_help = "Example:\n  keyhouse projects get payments -o yaml")]
    Get { name: String },
    /// Create a project.
    #[command(after_help = "Example:\n  keyhouse projects create payments --max-active 3")]
    Create {
        name: String,
        #[command(flatten)]
        describe: Describe,
        #[command(flatten)]
        policy: Policy,
    },
    /// Change a project; options not given are left alone.
    #[command(
        after_help = "Example:\n  keyhouse projects update payments --description 'Card payments'"
    )]
    Update {
        name: String,
        #[command(flatten)]
        describe: Describe,
        #[command(flatten)]
        policy: Policy,
    },
    /// Delete a project; with --force, everything in it too.
    #[command(after_help = "Example:\n  keyhouse projects delete payments --force")]
    Delete {
        name: String,
        /// Delete its accounts, groups and roles with it.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(verb: ProjectVerb, api: &Api, format: Format) -> Result<(), ClientError> {
    let one = |name: &str| format!("/api/v1/projects/{}", encode(name));
    match verb {
        ProjectVerb::List { query, limit } => {
            let path = match query {
                Some(query) => format!("/api/v1/projects?query={}", encode(&query)),
                None => "/api/v1/projects".to_owned(),
            };
            output::list(format, api.list(&path, limit)?, COLUMNS)
        }
        ProjectVerb::Get { name } => {
            output::object(format, &api.call(Method::GET, &one(&name), None)?)
        }
        ProjectVerb::Create {
            name,
            describe,
            policy,
        } => {
            let mut body = named(&name);
            describe.fill(&mut body)?;
            policy.fill(&mut body);
            let answer = api.call(Method::POST, "/api/v1/projects", Some(&Value::Object(body)))?;
            output::object(format, &answer)
        }
        ProjectVerb::Update {
            name,
            describe,
            policy,
        } => {
            let mut body = Map::new();
            describe.fill(&mut body)?;
            policy.fill(&mut body);
            output::object(
                format,
                &api.call(Method::PATCH, &one(&name), Some(&Value::Object(body)))?,
            )
        }
        ProjectVerb::Delete { name, force } => {
            let path = if force {
                format!("{}?force=true", one(&name))
            } else {
                one(&name)
            };
            api.call(Method::DELETE, &path, None)?;
            eprintln!("keyhouse: deleted project {name}");
            Ok(())
        }
    }
}
