//! `keyhouse service-accounts` (`sa`): the accounts of a scope.

use clap::Subcommand;
use serde_json::{Value, json};
use ureq::http::Method;

use super::error::ClientError;
use super::fields::{Describe, named};
use super::http::{Api, encode};
use super::options::Format;
use super::output::{self, Column};
use super::secrets::{self, SecretOut};

const COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("PROJECT", "project"),
    ("STATUS", "status"),
    ("ROLES", "roles"),
    ("GROUPS", "groups"),
    ("CREDENTIALS", "active_credential_count"),
    ("EXPIRES", "expires_at"),
];

#[derive(Debug, Subcommand)]
pub enum AccountVerb {
    /// List the scope's service accounts (every page unless --limit).
    #[command(after_help = "Example:\n  keyhouse sa list --role operator -o json")]
    List {
        /// Only names or display names holding this text.
        #[arg(long)]
        query: Option<String>,
        /// Only accounts of this status (active, disabled).
        #[arg(long)]
        status: Option<String>,
        /// Only members of this group.
        #[arg(long)]
        group: Option<String>,
        /// Only accounts bound to this role.
        #[arg(long)]
        role: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Read one service account.
    #[command(after_help = "Example:\n  keyhouse sa get ci-bot")]
    Get { name: String },
    /// Create a service account; its first secret is printed once (or see --no-secret).
    #[command(
        after_help = "Example:\n  keyhouse sa create ci-bot --role viewer --secret-file ci-bot.secret"
    )]
    Create {
        name: String,
        #[command(flatten)]
        describe: Describe,
        /// A role to bind; repeat for more.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// A group to join; repeat for more.
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// When the account expires (RFC 3339).
        #[arg(long, value_name = "TIME", conflicts_with = "days_valid")]
        expires_at: Option<String>,
        /// The account expires this many days from now (1 to 730).
        #[arg(long, value_name = "DAYS")]
        days_valid: Option<u32>,
        /// Create it with no secret.
        #[arg(long, conflicts_with = "secret_file")]
        no_secret: bool,
        #[command(flatten)]
        secret: SecretOut,
    },
    /// Change a service account; options not given are left alone.
    #[command(after_help = "Example:\n  keyhouse sa update ci-bot --status disabled")]
    Update {
        name: String,
        #[command(flatten)]
        describe: Describe,
        /// The account's roles, all of them; repeat for more (replaces the list).
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// Remove every role binding.
        #[arg(long, conflicts_with = "roles")]
        no_roles: bool,
        /// active or disabled.
        #[arg(long)]
        status: Option<String>,
        /// When the account expires (RFC 3339).
        #[arg(long, value_name = "TIME")]
        expires_at: Option<String>,
    },
    /// Delete a service account with all its credentials and memberships.
    #[command(after_help = "Example:\n  keyhouse sa delete ci-bot")]
    Delete { name: String },
    /// Revoke every secret of the account and issue one new secret, printed once.
    #[command(
        after_help = "Example:\n  keyhouse sa renew-token ci-bot --secret-file ci-bot.secret"
    )]
    RenewToken {
        name: String,
        /// The new secret's expiry (RFC 3339).
        #[arg(long, value_name = "TIME")]
        token_expires_at: Option<String>,
        #[command(flatten)]
        secret: SecretOut,
    },
}

pub fn run(verb: AccountVerb, api: &Api, format: Format) -> Result<(), ClientError> {
    let one = |name: &str| api.scoped(&format!("/service-accounts/{}", encode(name)));
    match verb {
        AccountVerb::List {
            query,
            status,
            group,
            role,
            limit,
        } => {
            let mut path = api.scoped("/service-accounts");
            let filters = [
                ("query", query),
                ("status", status),
                ("group", group),
                ("role", role),
            ];
            let mut joiner = '?';
            for (key, value) in filters {
                if let Some(value) = value {
                    path.push_str(&format!("{joiner}{key}={}", encode(&value)));
                    joiner = '&';
                }
            }
            output::list(format, api.list(&path, limit)?, COLUMNS)
        }
        AccountVerb::Get { name } => {
            output::object(format, &api.call(Method::GET, &one(&name), None)?)
        }
        AccountVerb::Create {
            name,
            describe,
            roles,
            groups,
            expires_at,
            days_valid,
            no_secret,
            secret,
        } => {
            let mut body = named(&name);
            describe.fill(&mut body)?;
            if !roles.is_empty() {
                body.insert("roles".into(), json!(roles));
            }
            if !groups.is_empty() {
                body.insert("groups".into(), json!(groups));
            }
            if let Some(at) = expires_at {
                body.insert("expires_at".into(), json!(at));
            }
            if let Some(days) = days_valid {
                body.insert("days_valid".into(), json!(days));
            }
            if no_secret {
                body.insert("initial_secret".into(), json!(false));
            }
            let answer = api.call(
                Method::POST,
                &api.scoped("/service-accounts"),
                Some(&Value::Object(body)),
            )?;
            secrets::deliver(
                answer,
                &secret,
                format,
                &format!("created service account {name}"),
            )
        }
        AccountVerb::Update {
            name,
            describe,
            roles,
            no_roles,
            status,
            expires_at,
        } => {
            let mut body = serde_json::Map::new();
            describe.fill(&mut body)?;
            if !roles.is_empty() || no_roles {
                body.insert("roles".into(), json!(roles));
            }
            if let Some(status) = status {
                body.insert("status".into(), json!(status));
            }
            if let Some(at) = expires_at {
                body.insert("expires_at".into(), json!(at));
            }
            let answer = api.call(Method::PATCH, &one(&name), Some(&Value::Object(body)))?;
            output::object(format, &answer)
        }
        AccountVerb::Delete { name } => {
            api.call(Method::DELETE, &one(&name), None)?;
            eprintln!("keyhouse: deleted service account {name}");
            Ok(())
        }
        AccountVerb::RenewToken {
            name,
            token_expires_at,
            secret,
        } => {
            let body = match token_expires_at {
                Some(at) => json!({"token_expires_at": at}),
                None => json!({}),
            };
            let path = format!("{}/renew-token", one(&name));
            let answer = api.call(Method::POST, &path, Some(&body))?;
            secrets::deliver(
                answer,
                &secret,
                format,
                &format!("renewed the secret of {name}"),
            )
        }
    }
}
