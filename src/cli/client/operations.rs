//! Server-wide commands: `audit-events`, `signing-keys`, `backup`, `integrity-check`,
//! and `token`, an access token for the caller.

use std::path::Path;

use clap::Subcommand;
use ureq::http::Method;

use super::error::ClientError;
use super::http::{Api, encode};
use super::options::Format;
use super::output::{self, Column};
use super::secrets;

const AUDIT_COLUMNS: &[Column] = &[
    ("SEQ", "seq"),
    ("AT", "at"),
    ("ACTOR", "actor.name"),
    ("ACTION", "action"),
    ("KIND", "target.kind"),
    ("TARGET", "target.name"),
    ("PROJECT", "project"),
];

const KEY_COLUMNS: &[Column] = &[
    ("KID", "kid"),
    ("TYPE", "kty"),
    ("CURVE", "crv"),
    ("ALG", "alg"),
];

#[derive(Debug, Subcommand)]
pub enum AuditVerb {
    /// List audit events, oldest first (every page unless --limit).
    #[command(
        after_help = "Example:\n  keyhouse audit-events list --action service_account.create --since 2026-11-01T00:00:00Z"
    )]
    List {
        /// Only events by this actor (its name or id).
        #[arg(long)]
        actor: Option<String>,
        /// Only events on this target (its name or id).
        #[arg(long)]
        target: Option<String>,
        /// Only events of this action, such as service_account.create.
        #[arg(long)]
        action: Option<String>,
        /// Only events at or after this time (RFC 3339).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only events before this time (RFC 3339).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<usize>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SigningKeyVerb {
    /// List the public signing keys (the JWKS that verifiers read).
    #[command(after_help = "Example:\n  keyhouse signing-keys list")]
    List,
    /// Add a new signing key; old ones stay in the JWKS until their tokens expire.
    #[command(after_help = "Example:\n  keyhouse signing-keys rotate")]
    Rotate,
}

pub fn audit(verb: AuditVerb, api: &Api, format: Format) -> Result<(), ClientError> {
    let AuditVerb::List {
        actor,
        target,
        action,
        since,
        until,
        limit,
    } = verb;
    let mut path = api.scoped("/audit-events");
    let mut joiner = '?';
    for (key, value) in [
        ("actor", actor),
        ("target", target),
        ("action", action),
        ("since", since),
        ("until", until),
    ] {
        if let Some(value) = value {
            path.push_str(&format!("{joiner}{key}={}", encode(&value)));
            joiner = '&';
        }
    }
    output::list(format, api.list(&path, limit)?, AUDIT_COLUMNS)
}

pub fn signing_keys(verb: SigningKeyVerb, api: &Api, format: Format) -> Result<(), ClientError> {
    match verb {
        SigningKeyVerb::List => {
            let jwks = api.call(Method::GET, "/.well-known/jwks.json", None)?;
            let keys = jwks["keys"].as_array().cloned().unwrap_or_default();
            output::list(format, keys, KEY_COLUMNS)
        }
        SigningKeyVerb::Rotate => output::object(
            format,
            &api.call(Method::POST, "/api/v1/signing-keys/rotate", None)?,
        ),
    }
}

/// Writes a consistent snapshot of the database to `to`, mode 0600 (it holds every
/// hash and, unless sealed by `storage.key_file`, the signing keys).
pub fn backup(api: &Api, to: &Path) -> Result<(), ClientError> {
    let mut snapshot = Vec::new();
    let bytes = api.download("/api/v1/admin/backup", &mut snapshot)?;
    secrets::write_private(to, &snapshot)?;
    eprintln!(
        "keyhouse: wrote a backup of {bytes} bytes to {}",
        to.display()
    );
    Ok(())
}

pub fn integrity_check(api: &Api, format: Format) -> Result<(), ClientError> {
    output::object(
        format,
        &api.call(Method::POST, "/api/v1/admin/integrity-check", None)?,
    )
}

/// An access token for the caller, by the client credentials grant: the caller's
/// secret authenticates it, and `/api/v1/me` tells its client id.
pub fn token(api: &Api, scope: &[String], secret: &str, format: Format) -> Result<(), ClientError> {
    let me = api.call(Method::GET, "/api/v1/me", None)?;
    let client_id = me["client_id"]
        .as_str()
        .ok_or_else(|| ClientError::local("the server's /api/v1/me holds no client_id"))?;
    let mut form = "grant_type=client_credentials".to_owned();
    if !scope.is_empty() {
        form.push_str(&format!("&scope={}", encode(&scope.join(" "))));
    }
    let answer = api.oauth_form("/oauth2/token", &form, client_id, secret)?;
    match format {
        Format::Table => match answer["access_token"].as_str() {
            Some(token) => {
                println!("{token}");
                Ok(())
            }
            None => Err(ClientError::local(
                "the token endpoint answered no access_token",
            )),
        },
        _ => output::document(format, &answer),
    }
}
