//! First start and recovery: the `admin` account and its secret.

use std::collections::{BTreeMap, BTreeSet};

use super::cases::accounts::create;
use super::reader::{self, CREATED_AT_KEY, SCHEMA_VERSION_KEY};
use super::rows::{accounts, audit, credentials, roles};
use super::{Answer, SCHEMA_VERSION, Store, WriteContext, tables};
use crate::domain::{
    AccountPatch, Action, Change, Credential, Name, NewAccount, NewCredential, Scope, Status,
    Target, Timestamp,
};
use crate::error::Error;

const ADMIN: &str = "admin";

fn admin_name() -> Result<Name, Error> {
    Name::parse("name", ADMIN)
}

fn admin_account() -> Result<NewAccount, Error> {
    Ok(NewAccount {
        name: admin_name()?,
        display_name: Some("Administrator".to_owned()),
        description: "Created at first start.".to_owned(),
        metadata: BTreeMap::new(),
        roles: BTreeSet::from([admin_name()?]),
        groups: BTreeSet::new(),
        expires_at: None,
        external_id: None,
    })
}

impl Store {
    /// On an empty database: writes the schema version, the built-in roles and the
    /// `admin` account holding `admin_secret`, in one transaction. On later starts it
    /// only brings the built-in roles up to date. Returns whether this was the first start.
    pub fn initialize(&self, now: Timestamp, admin_secret: NewCredential) -> Answer<bool> {
        self.write(move |tx| {
            let is_fresh = reader::meta(tx, SCHEMA_VERSION_KEY)?.is_none();
            if is_fresh {
                let mut meta = tx.write(tables::META)?;
                meta.insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION)?;
                meta.insert(CREATED_AT_KEY, now.timestamp().max(0) as u64)?;
            }
            roles::upsert_builtins(tx)?;
            if is_fresh {
                let ctx = WriteContext::system(now, "bootstrap");
                create(
                    tx,
                    &ctx,
                    &Scope::Root,
                    admin_account()?,
                    Some(admin_secret.clone()),
                )?;
            }
            Ok(is_fresh)
        })
    }

    /// Recovery with the server stopped: gives `admin` a new secret, and makes sure the
    /// account exists, is active, does not expire and holds the `admin` role. Recovery
    /// blesses nothing: every other credential of the account is revoked and its access
    /// tokens die, so that a credential planted before cannot gain `*` through it.
    pub fn issue_admin_secret(&self, now: Timestamp, secret: NewCredential) -> Answer<Recovery> {
        let ctx = WriteContext::system(now, "keyhouse admin issue-token");
        self.write(move |tx| {
            let (mut account, _) = match accounts::get_by_name(tx, &Scope::Root, &admin_name()?) {
                Err(Error::NotFound { .. }) => {
                    create(
                        tx,
                        &ctx,
                        &Scope::Root,
                        admin_account()?,
                        Some(secret.clone()),
                    )?;
                    return Ok(Recovery {
                        created: true,
                        revoked: Vec::new(),
                    });
                }
                found => found?,
            };
            let mut roles = account.roles.clone();
            roles.insert(admin_name()?);
            let patch = AccountPatch {
                roles: Some(roles),
                status: Some(Status::Active),
                expires_at: Some(None),
                ..AccountPatch::default()
            };
            let mut changes = patch.apply(&mut account, now);
            account.tokens_valid_after = Some(now);
            accounts::put(tx, &account)?;
            let revoked = credentials::delete_all_of(tx, account.id)?;
            let credential = credentials::issue(tx, &ctx, account.id, secret.clone())?;
            changes.push(Change::set("new_secret", &credential.id));
            let revoked_ids: Vec<_> = revoked.iter().map(|c| c.id).collect();
            changes.push(Change::set("revoked_credentials", &revoked_ids));
            audit::append(
                tx,
                &ctx,
                Action::ServiceAccountRecover,
                Target::of_account(&account),
                changes,
            )?;
            Ok(Recovery {
                created: false,
                revoked,
            })
        })
    }
}

/// What `keyhouse admin issue-token` did, for it to tell the operator.
#[derive(Debug)]
pub struct Recovery {
    /// Whether the account `admin` had to be created.
    pub created: bool,
    /// The credentials of `admin` it revoked.
    pub revoked: Vec<Credential>,
}
