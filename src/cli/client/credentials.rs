//! `keyhouse credentials`: an account's secrets and public keys.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};
use ureq::http::Method;

use super::error::ClientError;
use super::http::{Api, encode};
use super::options::Format;
use super::output::{self, Column};
use super::secrets::{self, SecretOut};

const COLUMNS: &[Column] = &[
    ("ID", "id"),
    ("TYPE", "type"),
    ("NAME", "name"),
    ("PREFIX", "prefix"),
    ("EXPIRES", "expires_at"),
    ("LAST USED", "last_used_at"),
];

/// A new credential's name and expiry.
#[derive(Debug, Args)]
pub struct NewCredential {
    /// The credential's name.
    #[arg(long, value_name = "TEXT")]
    name: Option<String>,
    /// Its expiry (RFC 3339); absent: the scope's default lifetime.
    #[arg(long, value_name = "TIME")]
    expires_at: Option<String>,
}

impl NewCredential {
    fn body(&self) -> Map<String, Value> {
        let mut body = Map::new();
        if let Some(name) = &self.name {
            body.insert("name".into(), json!(name));
        }
        if let Some(at) = &self.expires_at {
            body.insert("expires_at".into(), json!(at));
        }
        body
    }
}

#[derive(Debug, Subcommand)]
pub enum CredentialVerb {
    /// List an account's credentials (never with a secret).
    #[command(after_help = "Example:\n  keyhouse credentials list ci-bot")]
    List {
        account: String,
        /// At most this many.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Read one credential.
    #[command(after_help = "Example:\n  keyhouse credentials get ci-bot 0191c0de-...")]
    Get { account: String, id: String },
    /// Add a secret to an account, printed once.
    #[command(
        after_help = "Example:\n  keyhouse credentials create-secret ci-bot --name deploy --secret-file deploy.secret"
    )]
    CreateSecret {
        account: String,
        #[command(flatten)]
        new: NewCredential,
        #[command(flatten)]
        secret: SecretOut,
    },
    /// Add a public key (PEM, EC P-256 or Ed25519) for private_key_jwt.
    #[command(
        after_help = "Example:\n  keyhouse credentials add-key ci-bot --public-key-file ci-bot.pub.pem"
    )]
    AddKey {
        account: String,
        /// The PEM file of the public key.
        #[arg(long, value_name = "FILE")]
        public_key_file: PathBuf,
        #[command(flatten)]
        new: NewCredential,
    },
    /// Issue a new secret; every other secret of the account expires after the grace
    /// period.
    #[command(
        after_help = "Example:\n  keyhouse credentials rotate ci-bot --grace-period-seconds 3600 --secret-file ci-bot.secret"
    )]
    Rotate {
        account: String,
        /// How long the other secrets keep working (0 to 86400).
        #[arg(long, value_name = "SECONDS")]
        grace_period_seconds: Option<u32>,
        #[command(flatten)]
        new: NewCredential,
        #[command(flatten)]
        secret: SecretOut,
    },
    /// Revoke a credential at once.
    #[command(after_help = "Example:\n  keyhouse credentials revoke ci-bot 0191c0de-...")]
    Revoke { account: String, id: String },
}

pub fn run(verb: CredentialVerb, api: &Api, format: Format) -> Result<(), ClientError> {
    let of = |account: &str| api.scoped(&format!("/service-accounts/{}", encode(account)));
    match verb {
        CredentialVerb::List { account, limit } => {
            let items = api.list(&format!("{}/credentials", of(&account)), limit)?;
            output::list(format, items, COLUMNS)
        }
        CredentialVerb::Get { account, id } => {
            let path = format!("{}/credentials/{}", of(&account), encode(&id));
            output::object(format, &api.call(Method::GET, &path, None)?)
        }
        CredentialVerb::CreateSecret {
            account,
            new,
            secret,
        } => {
            let mut body = new.body();
            body.insert("type".into(), json!("secret"));
            let path = format!("{}/credentials", of(&account));
            let answer = api.call(Method::POST, &path, Some(&Value::Object(body)))?;
            secrets::deliver(
                answer,
                &secret,
                format,
                &format!("added a secret to {account}"),
            )
        }
        CredentialVerb::AddKey {
            account,
            public_key_file,
            new,
        } => {
            let pem = std::fs::read_to_string(&public_key_file).map_err(|err| {
                ClientError::usage(format!("cannot read {}: {err}", public_key_file.display()))
            })?;
            let mut body = new.body();
            body.insert("type".into(), json!("public_key"));
            body.insert("public_key".into(), json!(pem));
            let path = format!("{}/credentials", of(&account));
            output::object(
                format,
                &api.call(Method::POST, &path, Some(&Value::Object(body)))?,
            )
        }
        CredentialVerb::Rotate {
            account,
            grace_period_seconds,
            new,
            secret,
        } => {
            let mut body = new.body();
            if let Some(seconds) = grace_period_seconds {
                body.insert("grace_period_seconds".into(), json!(seconds));
            }
            let path = format!("{}/rotate-secret", of(&account));
            let answer = api.call(Method::POST, &path, Some(&Value::Object(body)))?;
            secrets::deliver(
                answer,
                &secret,
                format,
                &format!("rotated the secret of {account}"),
            )
        }
        CredentialVerb::Revoke { account, id } => {
            let path = format!("{}/credentials/{}", of(&account), encode(&id));
            api.call(Method::DELETE, &path, None)?;
            eprintln!("keyhouse: revoked credential {id} of {account}");
            Ok(())
        }
    }
}
