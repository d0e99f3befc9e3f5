//! Credentials in storage: a secret's SHA-256 indexed to its credential, each
//! credential listed under its account with its expiry, last-use times apart from the
//! records, and the use cases that issue, rotate, read and revoke them.

use std::collections::BTreeMap;

use chrono::Duration;
use redb::{ReadableTable, Table, WriteTransaction};
use uuid::Uuid;

use super::reader::{self, Reader};
use super::{Store, WriteContext, accounts, audit, codec, principals, tables};
use crate::domain::{
    AuthFailure, Change, Credential, CredentialDetails, CredentialKind, Kind, Name, NewCredential,
    Page, PageRequest, Principal, ServiceAccount, Target, Timestamp,
};
use crate::error::Error;

pub(super) fn get(tx: &impl Reader, id: Uuid) -> Result<Option<Credential>, Error> {
    let table = tx.table(tables::CREDENTIALS)?;
    let Some(bytes) = table.get(id.as_u128())? else {
        return Ok(None);
    };
    Ok(Some(codec::decode(bytes.value())?))
}

fn put(tx: &WriteTransaction, credential: &Credential) -> Result<(), Error> {
    let id = credential.id.as_u128();
    tx.open_table(tables::CREDENTIALS)?
        .insert(id, codec::encode(credential)?.as_slice())?;
    tx.open_table(tables::ACCOUNT_CREDENTIALS)?.insert(
        (credential.account_id.as_u128(), id),
        credential.expires_at.timestamp(),
    )?;
    Ok(())
}

/// Stores a new credential of `account`; a secret is indexed by its hash.
pub(super) fn insert(
    tx: &WriteTransaction,
    ctx: &WriteContext,
    account: &ServiceAccount,
    new: NewCredential,
) -> Result<Credential, Error> {
    let credential = new.into_credential(Uuid::new_v4(), account.id, ctx.actor.clone(), ctx.now);
    if let CredentialKind::Secret { hash, .. } = &credential.kind {
        let mut hashes = tx.open_table(tables::SECRET_HASHES)?;
        if hashes.get(hash)?.is_some() {
            return Err(Error::internal(
                "a generated secret collided with a stored one",
            ));
        }
        hashes.insert(hash, credential.id.as_u128())?;
    }
    put(tx, &credential)?;
    Ok(credential)
}

/// Removes one credential with its index entries and last use.
fn remove(tx: &WriteTransaction, credential: &Credential) -> Result<(), Error> {
    let id = credential.id.as_u128();
    tx.open_table(tables::CREDENTIALS)?.remove(id)?;
    tx.open_table(tables::ACCOUNT_CREDENTIALS)?
        .remove((credential.account_id.as_u128(), id))?;
    tx.open_table(tables::LAST_USED)?.remove(id)?;
    if let CredentialKind::Secret { hash, .. } = &credential.kind {
        tx.open_table(tables::SECRET_HASHES)?.remove(hash)?;
    }
    Ok(())
}

/// Every credential of an account.
fn all_of(tx: &impl Reader, account_id: Uuid) -> Result<Vec<Credential>, Error> {
    let id = account_id.as_u128();
    let index = tx.table(tables::ACCOUNT_CREDENTIALS)?;
    let mut found = Vec::new();
    for entry in index.range((id, 0)..=(id, u128::MAX))? {
        let credential_id = Uuid::from_u128(entry?.0.value().1);
        found.push(
            get(tx, credential_id)?
                .ok_or_else(|| Error::internal("an account lists a missing credential"))?,
        );
    }
    Ok(found)
}

/// The earliest expiry of an account's credentials still ahead of `now`.
pub(super) fn next_expiry(
    tx: &impl Reader,
    account_id: Uuid,
    now: Timestamp,
) -> Result<Option<Timestamp>, Error> {
    let table = tx.table(tables::ACCOUNT_CREDENTIALS)?;
    let id = account_id.as_u128();
    let mut next: Option<i64> = None;
    for entry in table.range((id, 0)..=(id, u128::MAX))? {
        let at = entry?.1.value();
        if at > now.timestamp() {
            next = Some(next.map_or(at, |n| n.min(at)));
        }
    }
    Ok(next.and_then(|secs| Timestamp::from_timestamp(secs, 0)))
}

/// How many of an account's credentials have not expired.
pub(super) fn count_active(
    tx: &impl Reader,
    account_id: Uuid,
    now: Timestamp,
) -> Result<u32, Error> {
    let table = tx.table(tables::ACCOUNT_CREDENTIALS)?;
    let id = account_id.as_u128();
    let mut count = 0;
    for entry in table.range((id, 0)..=(id, u128::MAX))? {
        if entry?.1.value() > now.timestamp() {
            count += 1;
        }
    }
    Ok(count)
}

/// Deletes every credential of an account.
/// Removes every credential of an account; answers what it removed.
pub(super) fn delete_all_of(
    tx: &WriteTransaction,
    account_id: Uuid,
) -> Result<Vec<Credential>, Error> {
    let all = all_of(tx, account_id)?;
    for credential in &all {
        remove(tx, credential)?;
    }
    Ok(all)
}

fn details(tx: &impl Reader, credential: Credential) -> Result<CredentialDetails, Error> {
    Ok(CredentialDetails {
        last_used_at: reader::unix_time(tx, tables::LAST_USED, credential.id)?,
        credential,
    })
}

/// The credential `id` of the account `name`; 404 when either is missing or the
/// credential belongs to another account.
fn get_of(tx: &impl Reader, name: &Name, id: Uuid) -> Result<(ServiceAccount, Credential), Error> {
    let (account, _) = accounts::get_by_name(tx, name)?;
    match get(tx, id)? {
        Some(credential) if credential.account_id == account.id => Ok((account, credential)),
        _ => Err(Error::not_found(Kind::Credential, id.to_string())),
    }
}

/// Stores `at` under `id` unless a later time is there already.
fn keep_latest(table: &mut Table<u128, i64>, id: Uuid, at: Timestamp) -> Result<(), Error> {
    let before = table.get(id.as_u128())?.map(|v| v.value());
    let at = at.timestamp();
    table.insert(id.as_u128(), before.map_or(at, |b| b.max(at)))?;
    Ok(())
}

/// Removes a credential at once; the audit trail keeps the revocation.
fn revoke(tx: &WriteTransaction, ctx: &WriteContext, credential: &Credential) -> Result<(), Error> {
    remove(tx, credential)?;
    audit::append(tx, ctx, "credential.revoke", target(credential), Vec::new())?;
    Ok(())
}

fn target(credential: &Credential) -> Target {
    Target::new(Kind::Credential, credential.id, credential.name.clone())
}

/// Issuing, rotating or revoking a credential acts on its account, and a new one lets
/// its holder act as the account: the caller's effective permissions, narrowed by its
/// token, must hold every permission of the account, its own included.
fn require_may_act_on(
    tx: &WriteTransaction,
    ctx: &WriteContext,
    account: &ServiceAccount,
) -> Result<(), Error> {
    principals::require_may_act_on(tx, &principals::authority(tx, ctx)?, account)
}

fn creation_changes(credential: &Credential) -> Vec<Change> {
    let (kind, shown) = match &credential.kind {
        CredentialKind::Secret { prefix, .. } => ("secret", ("prefix", prefix.clone())),
        CredentialKind::PublicKey { fingerprint, .. } => {
            ("public_key", ("fingerprint", fingerprint.clone()))
        }
    };
    vec![
        Change::set("type", &kind),
        Change::set("name", &credential.name),
        Change::set(shown.0, &shown.1),
        Change::set("expires_at", &credential.expires_at),
    ]
}

impl Store {
    /// Issues a credential; refused past `max_active` unexpired credentials.
    pub fn create_credential(
        &self,
        ctx: &WriteContext,
        name: &Name,
        new: NewCredential,
        max_active: u32,
    ) -> Result<CredentialDetails, Error> {
        self.write(|tx| {
            let (account, _) = accounts::get_by_name(tx, name)?;
            require_may_act_on(tx, ctx, &account)?;
            let active = count_active(tx, account.id, ctx.now)?;
            if active >= max_active {
                return Err(Error::LimitExceeded(format!(
                    "service account '{name}' already has {active} active credentials, \
                     the most allowed (credentials.max_active)"
                )));
            }
            let credential = insert(tx, ctx, &account, new)?;
            audit::append(
                tx,
                ctx,
                "credential.create",
                target(&credential),
                creation_changes(&credential),
            )?;
            details(tx, credential)
        })
    }

    /// A new secret; in the same transaction every other unexpired secret of the account
    /// expires at now + `grace` at the latest. Never refused by the credential limit.
    pub fn rotate_secret(
        &self,
        ctx: &WriteContext,
        name: &Name,
        new: NewCredential,
        grace: Duration,
    ) -> Result<CredentialDetails, Error> {
        self.write(|tx| {
            let (account, _) = accounts::get_by_name(tx, name)?;
            require_may_act_on(tx, ctx, &account)?;
            let until = ctx.now + grace;
            let mut expiring = Vec::new();
            for mut old in all_of(tx, account.id)? {
                if old.kind.is_secret() && !old.is_expired(ctx.now) && old.expires_at > until {
                    old.expires_at = until;
                    put(tx, &old)?;
                    expiring.push(old.id);
                }
            }
            let credential = insert(tx, ctx, &account, new)?;
            let mut changes = creation_changes(&credential);
            changes.push(Change::set("expiring", &expiring));
            changes.push(Change::set("expiring_at", &until));
            audit::append(
                tx,
                ctx,
                "service_account.rotate_secret",
                target(&credential),
                changes,
            )?;
            details(tx, credential)
        })
    }

    /// Revokes a credential at once; it is gone, and the audit trail keeps the revocation.
    pub fn revoke_credential(
        &self,
        ctx: &WriteContext,
        name: &Name,
        id: Uuid,
    ) -> Result<(), Error> {
        self.write(|tx| {
            let (account, credential) = get_of(tx, name, id)?;
            require_may_act_on(tx, ctx, &account)?;
            revoke(tx, ctx, &credential)
        })
    }

    pub fn get_credential(&self, name: &Name, id: Uuid) -> Result<CredentialDetails, Error> {
        self.read(|tx| {
            let (_, credential) = get_of(tx, name, id)?;
            details(tx, credential)
        })
    }

    /// One page of an account's credentials, ordered by name (then id).
    pub fn list_credentials(
        &self,
        name: &Name,
        request: &PageRequest,
    ) -> Result<Page<CredentialDetails>, Error> {
        self.read(|tx| {
            let (account, _) = accounts::get_by_name(tx, name)?;
            let sorted: BTreeMap<String, Credential> = all_of(tx, account.id)?
                .into_iter()
                .map(|c| (format!("{}\u{0}{}", c.name, c.id), c))
                .collect();
            request
                .cut(sorted.into_iter().map(Ok))?
                .try_map(|credential| details(tx, credential))
        })
    }

    /// The account a secret (given as its hash) belongs to, if the credential and its
    /// account are both valid now. A refusal is `Unauthenticated` with its reason.
    /// Remembered until the next write (see `auth_cache`).
    pub fn authenticate_secret(
        &self,
        hash: &[u8; 32],
        now: Timestamp,
    ) -> Result<(Principal, Credential), Error> {
        let generation = self.generation();
        let (principal, credential) = match self.secrets.get(hash, generation) {
            Some(found) => found,
            None => {
                let found = self.read(|tx| {
                    let unknown = || Error::Unauthenticated(AuthFailure::Unknown);
                    let id = tx
                        .table(tables::SECRET_HASHES)?
                        .get(hash)?
                        .map(|v| Uuid::from_u128(v.value()))
                        .ok_or_else(unknown)?;
                    let credential = get(tx, id)?.ok_or_else(unknown)?;
                    let (account, _) =
                        accounts::get(tx, credential.account_id)?.ok_or_else(unknown)?;
                    Ok((principals::principal(tx, account)?, credential))
                })?;
                self.secrets.put(*hash, generation, found.clone());
                found
            }
        };
        if credential.is_expired(now) {
            return Err(Error::Unauthenticated(AuthFailure::CredentialExpired));
        }
        if let Some(reason) = principal.account.refusal(now) {
            return Err(Error::Unauthenticated(reason));
        }
        Ok((principal, credential))
    }

    /// The account an access token names, if it may act now: it exists, is active and
    /// unexpired, and did not kill tokens issued at `issued_at`. Remembered until the
    /// next write.
    pub fn authenticate_token_subject(
        &self,
        account_id: Uuid,
        issued_at: Timestamp,
        now: Timestamp,
    ) -> Result<Principal, Error> {
        let generation = self.generation();
        let principal = match self.subjects.get(&account_id, generation) {
            Some(found) => found,
            None => {
                let found = self.read(|tx| {
                    let (account, _) = accounts::get(tx, account_id)?
                        .ok_or(Error::Unauthenticated(AuthFailure::AccountGone))?;
                    principals::principal(tx, account)
                })?;
                self.subjects.put(account_id, generation, found.clone());
                found
            }
        };
        if let Some(reason) = principal.account.refusal(now) {
            return Err(Error::Unauthenticated(reason));
        }
        if !principal.account.accepts_token_issued_at(issued_at) {
            return Err(Error::Unauthenticated(AuthFailure::TokenPredatesDisable));
        }
        Ok(principal)
    }

    /// An OAuth client that signs its assertions: the account named `client_id`, if it
    /// may authenticate now, with its unexpired public keys.
    pub fn client_public_keys(
        &self,
        client_id: &Name,
        now: Timestamp,
    ) -> Result<(Principal, Vec<Credential>), Error> {
        self.read(|tx| {
            let (account, _) = accounts::get_by_name(tx, client_id).map_err(|e| match e {
                Error::NotFound { .. } => Error::Unauthenticated(AuthFailure::Unknown),
                fault => fault,
            })?;
            if let Some(reason) = account.refusal(now) {
                return Err(Error::Unauthenticated(reason));
            }
            let keys = all_of(tx, account.id)?
                .into_iter()
                .filter(|c| !c.kind.is_secret() && !c.is_expired(now))
                .collect();
            Ok((principals::principal(tx, account)?, keys))
        })
    }

    /// The credential of a secret (given as its hash), valid or not.
    pub fn find_secret(&self, hash: &[u8; 32]) -> Result<Option<Credential>, Error> {
        self.read(|tx| {
            let id = tx
                .table(tables::SECRET_HASHES)?
                .get(hash)?
                .map(|v| Uuid::from_u128(v.value()));
            id.map_or(Ok(None), |id| get(tx, id))
        })
    }

    /// Revokes a credential found by id (OAuth revocation of a secret). Like any
    /// revocation, it needs every permission of the credential's account.
    pub fn revoke_credential_by_id(&self, ctx: &WriteContext, id: Uuid) -> Result<(), Error> {
        self.write(|tx| {
            let Some(credential) = get(tx, id)? else {
                return Ok(());
            };
            if let Some((account, _)) = accounts::get(tx, credential.account_id)? {
                require_may_act_on(tx, ctx, &account)?;
            }
            revoke(tx, ctx, &credential)
        })
    }

    /// Writes a batch of last uses, (credential, account, when), in one transaction.
    /// Credentials or accounts deleted since are skipped; times only move forward.
    pub fn record_last_use(&self, uses: &[(Uuid, Uuid, Timestamp)]) -> Result<(), Error> {
        self.write(|tx| {
            let credentials = tx.open_table(tables::CREDENTIALS)?;
            let accounts = tx.open_table(tables::ACCOUNTS)?;
            let mut used = tx.open_table(tables::LAST_USED)?;
            let mut seen = tx.open_table(tables::LAST_SEEN)?;
            for (credential, account, at) in uses {
                if credentials.get(credential.as_u128())?.is_some() {
                    keep_latest(&mut used, *credential, *at)?;
                }
                if accounts.get(account.as_u128())?.is_some() {
                    keep_latest(&mut seen, *account, *at)?;
                }
            }
            Ok(())
        })
    }
}
