//! `keyhouse groups`: the groups of a scope and their members.

use clap::Subcommand;
use serde_json::{Map, Value, json};
use ureq::http::Method;

use super::error::ClientError;
use super::fields::{Describe, named};
use super::http::{Api, encode};
use super::options::Format;
use super::output::{self, Column};

const COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("PROJECT", "project"),
    ("ROLES", "roles"),
    ("MEMBERS", "sa_count"),
    ("DESCRIPTION", "description"),
];

const MEMBER_COLUMNS: &[Column] = &[("NAME", "name"), ("DISPLAY NAME", "display_name")];

#[derive(Debug, Subcommand)]
pub enum GroupVerb {
    /// List the scope's groups.
    #[command(after_help = "Example:\n  keyhouse groups list --project payments")]
    List {
        /// Only names or display names holding this text.
        #[arg(long)]
        query: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Read one group.
    #[command(after_help = "Example:\n  keyhouse groups get deployers")]
    Get { name: String },
    /// Create a group.
    #[command(after_help = "Example:\n  keyhouse groups create deployers --role operator")]
    Create {
        name: String,
        #[command(flatten)]
        describe: Describe,
        /// A role to bind; repeat for more.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
    },
    /// Change a group; options not given are left alone.
    #[command(
        after_help = "Example:\n  keyhouse groups update deployers --role viewer --role operator"
    )]
    Update {
        name: String,
        #[command(flatten)]
        describe: Describe,
        /// The group's roles, all of them; repeat for more (replaces the list).
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// Remove every role binding.
        #[arg(long, conflicts_with = "roles")]
        no_roles: bool,
    },
    /// Delete a group and its memberships.
    #[command(after_help = "Example:\n  keyhouse groups delete deployers")]
    Delete { name: String },
    /// List a group's members.
    #[command(after_help = "Example:\n  keyhouse groups members deployers")]
    Members {
        name: String,
        /// At most this many.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Add service accounts to a group, in one transaction.
    #[command(after_help = "Example:\n  keyhouse groups add-members deployers ci-bot release-bot")]
    AddMembers {
        name: String,
        #[arg(required = true)]
        accounts: Vec<String>,
    },
    /// Remove service accounts from a group, in one transaction.
    #[command(after_help = "Example:\n  keyhouse groups remove-members deployers ci-bot")]
    RemoveMembers {
        name: String,
        #[arg(required = true)]
        accounts: Vec<String>,
    },
}

pub fn run(verb: GroupVerb, api: &Api, format: Format) -> Result<(), ClientError> {
    let one = |name: &str| api.scoped(&format!("/groups/{}", encode(name)));
    let change_members = |name: &str, key: &str, accounts: Vec<String>| {
        let path = format!("{}/members", one(name));
        let answer = api.call(Method::PUT, &path, Some(&json!({ key: accounts })))?;
        let members = match answer.get("items") {
            Some(Value::Array(items)) => items.clone(),
            _ => answer.as_array().cloned().unwrap_or_default(),
        };
        output::list(format, members, MEMBER_COLUMNS)
    };
    match verb {
        GroupVerb::List { query, limit } => {
            let mut path = api.scoped("/groups");
            if let Some(query) = query {
                path.push_str(&format!("?query={}", encode(&query)));
            }
            output::list(format, api.list(&path, limit)?, COLUMNS)
        }
        GroupVerb::Get { name } => {
            output::object(format, &api.call(Method::GET, &one(&name), None)?)
        }
        GroupVerb::Create {
            name,
            describe,
            roles,
        } => {
            let mut body = named(&name);
            describe.fill(&mut body)?;
            if !roles.is_empty() {
                body.insert("roles".into(), json!(roles));
            }
            let answer = api.call(
                Method::POST,
                &api.scoped("/groups"),
                Some(&Value::Object(body)),
            )?;
            output::object(format, &answer)
        }
        GroupVerb::Update {
            name,
            describe,
            roles,
            no_roles,
        } => {
            let mut body = Map::new();
            describe.fill(&mut body)?;
            if !roles.is_empty() || no_roles {
                body.insert("roles".into(), json!(roles));
            }
            output::object(
                format,
                &api.call(Method::PATCH, &one(&name), Some(&Value::Object(body)))?,
            )
        }
        GroupVerb::Delete { name } => {
            api.call(Method::DELETE, &one(&name), None)?;
            eprintln!("keyhouse: deleted group {name}");
            Ok(())
        }
        GroupVerb::Members { name, limit } => {
            let items = api.list(&format!("{}/members", one(&name)), limit)?;
            output::list(format, items, MEMBER_COLUMNS)
        }
        GroupVerb::AddMembers { name, accounts } => change_members(&name, "add", accounts),
        GroupVerb::RemoveMembers { name, accounts } => change_members(&name, "remove", accounts),
    }
}
