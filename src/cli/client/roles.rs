//! `keyhouse roles`: the built-in and custom roles of a scope.

use clap::Subcommand;
use serde_json::{Map, Value, json};
use ureq::http::Method;

use super::error::ClientError;
use super::fields::named;
use super::http::{Api, encode};
use super::options::Format;
use super::output::{self, Column};

const COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("PROJECT", "project"),
    ("BUILTIN", "builtin"),
    ("PERMISSIONS", "permissions"),
    ("DESCRIPTION", "description"),
];

#[derive(Debug, Subcommand)]
pub enum RoleVerb {
    /// List the roles the scope may bind.
    #[command(after_help = "Example:\n  keyhouse roles list")]
    List {
        /// Only names holding this text.
        #[arg(long)]
        query: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Read one role.
    #[command(after_help = "Example:\n  keyhouse roles get operator -o json")]
    Get { name: String },
    /// Create a custom role.
    #[command(
        after_help = "Example:\n  keyhouse roles create auditor --permission audit:read --permission service_accounts:read"
    )]
    Create {
        name: String,
        /// A description (at most 1024 characters).
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// A permission the role grants; repeat for more.
        #[arg(long = "permission", value_name = "PERMISSION", required = true)]
        permissions: Vec<String>,
    },
    /// Change a custom role; options not given are left alone.
    #[command(after_help = "Example:\n  keyhouse roles update auditor --permission audit:read")]
    Update {
        name: String,
        /// A description (at most 1024 characters).
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// The role's permissions, all of them; repeat for more (replaces the list).
        #[arg(long = "permission", value_name = "PERMISSION")]
        permissions: Vec<String>,
    },
    /// Delete a custom role; with --force, unbind it everywhere first.
    #[command(after_help = "Example:\n  keyhouse roles delete auditor --force")]
    Delete {
        name: String,
        /// Delete it even while bound, unbinding it in the same transaction.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(verb: RoleVerb, api: &Api, format: Format) -> Result<(), ClientError> {
    let one = |name: &str| api.scoped(&format!("/roles/{}", encode(name)));
    match verb {
        RoleVerb::List { query, limit } => {
            let mut path = api.scoped("/roles");
            if let Some(query) = query {
                path.push_str(&format!("?query={}", encode(&query)));
            }
            output::list(format, api.list(&path, limit)?, COLUMNS)
        }
        RoleVerb::Get { name } => {
            output::object(format, &api.call(Method::GET, &one(&name), None)?)
        }
        RoleVerb::Create {
            name,
            description,
            permissions,
        } => {
            let mut body = named(&name);
            if let Some(text) = description {
                body.insert("description".into(), json!(text));
            }
            body.insert("permissions".into(), json!(permissions));
            let answer = api.call(
                Method::POST,
                &api.scoped("/roles"),
                Some(&Value::Object(body)),
            )?;
            output::object(format, &answer)
        }
        RoleVerb::Update {
            name,
            description,
            permissions,
        } => {
            let mut body = Map::new();
            if let Some(text) = description {
                body.insert("description".into(), json!(text));
            }
            if !permissions.is_empty() {
                body.insert("permissions".into(), json!(permissions));
            }
            output::object(
                format,
                &api.call(Method::PATCH, &one(&name), Some(&Value::Object(body)))?,
            )
        }
        RoleVerb::Delete { name, force } => {
            let path = if force {
                format!("{}?force=true", one(&name))
            } else {
                one(&name)
            };
            api.call(Method::DELETE, &path, None)?;
            eprintln!("keyhouse: deleted role {name}");
            Ok(())
        }
    }
}
