//! Credential use cases: issue, rotate, read, list and revoke, and the batched record of
//! last use.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::details::account_details;
use crate::domain::{
    AccountDetails, Action, Change, Created, Credential, CredentialDetails, GracePeriod, Kind,
    Name, NewCredential, Page, PageRequest, Scope, ServiceAccount, Target, Timestamp, TokenReach,
};
use crate::error::Error;
use crate::store::Answer;
use crate::store::reader::Reader;
use crate::store::rows::{accounts, audit, credentials};
use crate::store::transaction::Tx;
use crate::store::{Store, WriteContext, principals};

fn details(tx: &impl Reader, credential: Credential) -> Result<CredentialDetails, Error> {
    Ok(CredentialDetails {
        last_used_at: credentials::last_used(tx, credential.id)?,
        credential,
    })
}

/// The credential `id` of the account `name`; 404 when either is missing or the
/// credential belongs to another account.
fn get_of(
    tx: &impl Reader,
    scope: &Scope,
    name: &Name,
    id: Uuid,
) -> Result<(ServiceAccount, Credential), Error> {
    let (account, _) = accounts::get_by_name(tx, scope, name)?;
    match credentials::get(tx, id)? {
        Some(credential) if credential.account_id == account.id => Ok((account, credential)),
        _ => Err(Error::not_found(Kind::Credential, id.to_string())),
    }
}

/// Removes a credential at once; the audit trail keeps the revocation.
fn revoke(tx: &Tx, ctx: &WriteContext, credential: &Credential) -> Result<(), Error> {
    credentials::remove(tx, credential)?;
    let target = Target::of_credential(credential);
    audit::append(tx, ctx, Action::CredentialRevoke, target, Vec::new())?;
    Ok(())
}

/// Issuing, rotating or revoking a credential acts on its account, and a new one lets
/// its holder act as the account: the caller's effective permissions, narrowed by its
/// token, must hold every permission of the account, its own included.
fn require_may_act_on(tx: &Tx, ctx: &WriteContext, account: &ServiceAccount) -> Result<(), Error> {
    let scope = accounts::scope_of(tx, account.id)?;
    principals::require_may_act_on(tx, &principals::authority(tx, ctx, &scope)?, account)
}

impl Store {
    /// Issues a credential; refused past `max_active` unexpired credentials.
    pub fn create_credential(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        new: NewCredential,
        max_active: u32,
    ) -> Answer<CredentialDetails> {
        let (ctx, name) = (ctx.clone(), name.clone());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name) = (&ctx, &name);
            let (account, _) = accounts::get_by_name(tx, scope, name)?;
            require_may_act_on(tx, ctx, &account)?;
            let active = credentials::count_active(tx, account.id, ctx.now)?;
            if active >= max_active {
                return Err(Error::LimitExceeded(format!(
                    "service account '{name}' already has {active} active credentials, \
                     the most allowed (credentials.max_active)"
                )));
            }
            let credential = credentials::issue(tx, ctx, account.id, new.clone())?;
            let changes = credential.creation_changes();
            let target = Target::of_credential(&credential);
            audit::append(tx, ctx, Action::CredentialCreate, target, changes)?;
            details(tx, credential)
        })
    }

    /// A new secret; in the same transaction every other unexpired secret of the account
    /// expires at now + `grace` at the latest. Never refused by the credential limit.
    pub fn rotate_secret(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        new: NewCredential,
        grace: GracePeriod,
    ) -> Answer<CredentialDetails> {
        let (ctx, name) = (ctx.clone(), name.clone());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name) = (&ctx, &name);
            let (account, _) = accounts::get_by_name(tx, scope, name)?;
            require_may_act_on(tx, ctx, &account)?;
            let until = grace.ends(ctx.now);
            let mut expiring = Vec::new();
            for mut old in credentials::all_of(tx, account.id)? {
                let later = old.expires_at.is_none_or(|at| at > until);
                if old.kind.is_secret() && !old.is_expired(ctx.now) && later {
                    old.expires_at = Some(until);
                    credentials::put(tx, &old)?;
                    expiring.push(old.id);
                }
            }
            let credential = credentials::issue(tx, ctx, account.id, new.clone())?;
            let mut changes = credential.creation_changes();
            changes.push(Change::set("expiring", &expiring));
            changes.push(Change::set("expiring_at", &until));
            let target = Target::of_credential(&credential);
            audit::append(tx, ctx, Action::ServiceAccountRotateSecret, target, changes)?;
            details(tx, credential)
        })
    }

    /// The seed wire format's `renew-token`: in one transaction every secret of the
    /// account is revoked and `new` issued; public keys stay. Never refused by the
    /// credential limit. One audit event names the revoked credentials. Answers the
    /// account as it reads now, and the new secret.
    pub fn renew_token(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        new: NewCredential,
    ) -> Answer<(AccountDetails, Credential)> {
        let (ctx, name) = (ctx.clone(), name.clone());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name) = (&ctx, &name);
            let (account, etag) = accounts::get_by_name(tx, scope, name)?;
            require_may_act_on(tx, ctx, &account)?;
            let mut revoked = Vec::new();
            for old in credentials::all_of(tx, account.id)? {
                if old.kind.is_secret() {
                    credentials::remove(tx, &old)?;
                    revoked.push(old.id);
                }
            }
            let credential = credentials::issue(tx, ctx, account.id, new.clone())?;
            let mut changes = credential.creation_changes();
            changes.push(Change::set("new_secret", &credential.id));
            changes.push(Change::set("revoked_credentials", &revoked));
            let target = Target::of_account(&account);
            audit::append(tx, ctx, Action::ServiceAccountRenewToken, target, changes)?;
            Ok((account_details(tx, account, etag, ctx.now)?, credential))
        })
    }

    /// Revokes a credential at once; it is gone, and the audit trail keeps the revocation.
    pub fn revoke_credential(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        id: Uuid,
    ) -> Answer<()> {
        let (ctx, name) = (ctx.clone(), name.clone());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name) = (&ctx, &name);
            let (account, credential) = get_of(tx, scope, name, id)?;
            require_may_act_on(tx, ctx, &account)?;
            revoke(tx, ctx, &credential)
        })
    }

    pub fn get_credential(
        &self,
        scope: &Scope,
        name: &Name,
        id: Uuid,
    ) -> Result<CredentialDetails, Error> {
        self.read_in(scope, |tx| {
            let (_, credential) = get_of(tx, scope, name, id)?;
            details(tx, credential)
        })
    }

    /// One page of an account's credentials, ordered by name (then id).
    pub fn list_credentials(
        &self,
        scope: &Scope,
        name: &Name,
        request: &PageRequest,
    ) -> Result<Page<CredentialDetails>, Error> {
        self.read_in(scope, |tx| {
            let (account, _) = accounts::get_by_name(tx, scope, name)?;
            let sorted: BTreeMap<String, Credential> = credentials::all_of(tx, account.id)?
                .into_iter()
                .map(|c| (format!("{}\u{0}{}", c.name, c.id), c))
                .collect();
            request
                .cut(sorted.into_iter().map(Ok))?
                .try_map(|credential| details(tx, credential))
        })
    }

    /// OAuth revocation of a secret (given as its hash), in one transaction: its
    /// credential is found, its account must be within `reach`, and, like any
    /// revocation, the caller must hold every permission of the account (else
    /// `PermissionDenied`). A secret that matches nothing, or is out of reach, revokes
    /// nothing. The revocation is audited in the account's scope.
    pub fn revoke_secret_by_hash(
        &self,
        ctx: &WriteContext,
        hash: &[u8; 32],
        reach: &TokenReach,
    ) -> Answer<()> {
        let (ctx, hash, reach) = (ctx.clone(), *hash, reach.clone());
        self.write(move |tx| {
            let (ctx, hash, reach) = (&ctx, &hash, &reach);
            let Some(id) = credentials::id_by_hash(tx, hash)? else {
                return Ok(());
            };
            let Some(credential) = credentials::get(tx, id)? else {
                return Ok(());
            };
            let scope = accounts::scope_of(tx, credential.account_id)?;
            if !reach.includes(credential.account_id, &scope) {
                return Ok(());
            }
            let ctx = &WriteContext {
                scope,
                ..ctx.clone()
            };
            if let Some(account) = accounts::record(tx, credential.account_id)? {
                require_may_act_on(tx, ctx, &account)?;
            }
            revoke(tx, ctx, &credential)
        })
    }

    /// Writes a batch of last uses, (credential, account, when), in one transaction.
    /// Credentials or accounts deleted since are skipped; times only move forward.
    pub fn record_last_use(&self, uses: &[(Uuid, Uuid, Timestamp)]) -> Answer<()> {
        let uses = uses.to_vec();
        self.write(move |tx| credentials::record_uses(tx, &uses))
    }
}
