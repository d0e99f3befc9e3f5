//! Credential use cases: issue, rotate, read, list and revoke, and the batched record of
//! last use.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::details::account_details;
use crate::domain::{
    AccountDetails, Action, Change, Created, Credential, CredentialDetails, CredentialLimits,
    CredentialRequest, GracePeriod, Kind, Name, NewCredential, Page, PageRequest, Revocation,
    Scope, ServiceAccount, Target, Timestamp, TokenReach,
};
use crate::error::Error;
use crate::store::Answer;
use crate::store::reader::Reader;
use crate::store::rows::{accounts, audit, credentials, projects};
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

/// The credential `request` asks for, under the credential policy of `scope` as `tx`
/// reads it, and the limits in force there. Decided first in its transaction, so that
/// a bad expiry is refused before anything else is looked at.
fn resolve(
    tx: &Tx,
    scope: &Scope,
    request: &CredentialRequest,
    ctx: &WriteContext,
) -> Result<(NewCredential, CredentialLimits), Error> {
    let policy = projects::credential_policy(tx, scope)?;
    request.clone().resolve(&policy, ctx.now)
}

/// Issuing, rotating or revoking a credential acts on its account, and a new one lets
/// its holder act as the account: the caller's effective permissions, narrowed by its
/// token, must hold every permission of the account, its own included.
fn require_may_act_on(tx: &Tx, ctx: &WriteContext, account: &ServiceAccount) -> Result<(), Error> {
    let scope = accounts::scope_of(tx, account.id)?;
    principals::require_may_act_on(tx, &principals::authority(tx, ctx, &scope)?, account)
}

impl Store {
    /// Issues a credential under the limits in force in `scope`, decided from the
    /// project's credential policy as this transaction reads it: its expiry, and no
    /// more than `max_active` unexpired credentials.
    pub fn create_credential(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        request: CredentialRequest,
    ) -> Answer<CredentialDetails> {
        let (ctx, name) = (ctx.clone(), name.clone());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name) = (&ctx, &name);
            let (new, limits) = resolve(tx, scope, &request, ctx)?;
            let (account, _) = accounts::get_by_name(tx, scope, name)?;
            require_may_act_on(tx, ctx, &account)?;
            let active = credentials::count_active(tx, account.id, ctx.now)?;
            limits.require_room(name, active)?;
            let credential = credentials::issue(tx, ctx, account.id, new)?;
            let changes = credential.creation_changes();
            let target = Target::of_credential(&credential);
            audit::append(tx, ctx, Action::CredentialCreate, target, changes)?;
            details(tx, credential)
        })
    }

    /// A new secret, its expiry within the limits in force in `scope`; in the same
    /// transaction every other unexpired secret of the account expires at now + `grace`
    /// at the latest. Never refused by the credential limit.
    pub fn rotate_secret(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        request: CredentialRequest,
        grace: GracePeriod,
    ) -> Answer<CredentialDetails> {
        let (ctx, name) = (ctx.clone(), name.clone());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name) = (&ctx, &name);
            let (new, _) = resolve(tx, scope, &request, ctx)?;
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
            let credential = credentials::issue(tx, ctx, account.id, new)?;
            let mut changes = credential.creation_changes();
            changes.push(Change::set("expiring", &expiring));
            changes.push(Change::set("expiring_at", &until));
            let target = Target::of_credential(&credential);
            audit::append(tx, ctx, Action::ServiceAccountRotateSecret, target, changes)?;
            details(tx, credential)
        })
    }

    /// The seed wire format's `renew-token`: in one transaction every secret of the
    /// account is revoked and the one asked for issued, its expiry within the limits in
    /// force in `scope`; public keys stay. Never refused by the credential limit. One
    /// audit event names the revoked credentials. Answers the account as it reads now,
    /// and the new secret.
    pub fn renew_token(
        &self,
        ctx: &WriteContext,
        scope: &Scope,
        name: &Name,
        request: CredentialRequest,
    ) -> Answer<(AccountDetails, Credential)> {
        let (ctx, name) = (ctx.clone(), name.clone());
        self.write_in(scope, move |tx, scope| {
            let (ctx, name) = (&ctx, &name);
            let (new, _) = resolve(tx, scope, &request, ctx)?;
            let (account, etag) = accounts::get_by_name(tx, scope, name)?;
            require_may_act_on(tx, ctx, &account)?;
            let mut revoked = Vec::new();
            for old in credentials::all_of(tx, account.id)? {
                if old.kind.is_secret() {
                    credentials::remove(tx, &old)?;
                    revoked.push(old.id);
                }
            }
            let credential = credentials::issue(tx, ctx, account.id, new)?;
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

    pub async fn get_credential(
        &self,
        scope: &Scope,
        name: &Name,
        id: Uuid,
    ) -> Result<CredentialDetails, Error> {
        let name = name.clone();
        self.read_in(scope, move |tx, scope| {
            let name = &name;
            let (_, credential) = get_of(tx, scope, name, id)?;
            details(tx, credential)
        })
        .await
    }

    /// One page of an account's credentials, ordered by name (then id).
    pub async fn list_credentials(
        &self,
        scope: &Scope,
        name: &Name,
        request: &PageRequest,
    ) -> Result<Page<CredentialDetails>, Error> {
        let (name, request) = (name.clone(), request.clone());
        self.read_in(scope, move |tx, scope| {
            let (name, request) = (&name, &request);
            let (account, _) = accounts::get_by_name(tx, scope, name)?;
            let sorted: BTreeMap<String, Credential> = credentials::all_of(tx, account.id)?
                .into_iter()
                .map(|c| (format!("{}\u{0}{}", c.name, c.id), c))
                .collect();
            request
                .cut(sorted.into_iter().map(Ok))?
                .try_map(|credential| details(tx, credential))
        })
        .await
    }

    /// OAuth revocation of a secret (given as its hash), in one transaction: its
    /// credential is found, its account must be within `reach`, and, like any
    /// revocation, the caller must hold every permission of the account. A secret that
    /// matches nothing, or is out of reach, is [`Revocation::Unknown`]; one of a more
    /// privileged account is [`Revocation::NotYours`]; neither changes anything. The
    /// revocation is audited in the account's scope.
    pub fn revoke_secret_by_hash(
        &self,
        ctx: &WriteContext,
        hash: &[u8; 32],
        reach: &TokenReach,
    ) -> Answer<Revocation> {
        let (ctx, hash, reach) = (ctx.clone(), *hash, reach.clone());
        self.write(move |tx| {
            let (ctx, hash, reach) = (&ctx, &hash, &reach);
            let Some(id) = credentials::id_by_hash(tx, hash)? else {
                return Ok(Revocation::Unknown);
            };
            let Some(credential) = credentials::get(tx, id)? else {
                return Ok(Revocation::Unknown);
            };
            let scope = accounts::scope_of(tx, credential.account_id)?;
            if !reach.includes(credential.account_id, &scope) {
                return Ok(Revocation::Unknown);
            }
            let ctx = &WriteContext {
                scope: scope.clone(),
                ..ctx.clone()
            };
            if let Some(account) = accounts::record(tx, credential.account_id)? {
                let caller = principals::authority(tx, ctx, &scope)?;
                if !principals::may_act_on(tx, &caller, &account)? {
                    return Ok(Revocation::NotYours);
                }
            }
            revoke(tx, ctx, &credential)?;
            Ok(Revocation::Revoked)
        })
    }

    /// Writes a batch of last uses, (credential, account, when), in one transaction.
    /// Credentials or accounts deleted since are skipped; times only move forward.
    pub fn record_last_use(&self, uses: &[(Uuid, Uuid, Timestamp)]) -> Answer<()> {
        let uses = uses.to_vec();
        self.write(move |tx| credentials::record_uses(tx, &uses))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::Duration;

    use super::*;
    use crate::auth::secret::Secret;
    use crate::domain::{CredentialPolicy, NewAccount, ProjectPatch};
    use crate::store::Blocking;
    use crate::store::Grantor;
    use crate::store::test_objects::{
        initialized_store, name, new_account, new_project, secret_request,
    };

    /// Requests made before a project's policy is tightened, carrying only the server's
    /// limits, are held to the policy as the writing transaction reads it.
    #[test]
    fn a_credential_is_held_to_the_project_policy_as_its_transaction_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = initialized_store(dir.path());
        let now = crate::clock::now();
        let ctx = WriteContext::system(now, "test");
        let (p, ci) = (Scope::Project(name("p")), name("ci"));
        store.create_project(&ctx, new_project("p")).wait().unwrap();
        store
            .create_service_account(&ctx, &p, new_account("ci"), None)
            .wait()
            .unwrap();
        let secret = Secret::generate().unwrap();
        let far = || secret_request(&secret, "far", Some(now + Duration::days(100)), now);
        // All built before the policy is tightened.
        let default = || secret_request(&secret, "default", None, now);
        let requests = (far(), default(), default(), far(), far(), far());

        let tight = CredentialPolicy {
            max_active: Some(1),
            default_lifetime_days: Some(10),
            max_lifetime_days: Some(30),
        };
        let patch = ProjectPatch {
            credential_policy: Some(tight),
            ..ProjectPatch::default()
        };
        store
            .update_project(&ctx, &name("p"), None, patch)
            .wait()
            .unwrap();

        let past_max = |result: Result<(), Error>| match result {
            Err(err @ Error::InvalidArgument { .. }) => {
                assert!(err.to_string().contains("at most 30 days"), "{err}");
            }
            other => panic!("not refused: {other:?}"),
        };
        let created = store.create_credential(&ctx, &p, &ci, requests.0).wait();
        past_max(created.map(|_| ()));
        let issued = store
            .create_credential(&ctx, &p, &ci, requests.1)
            .wait()
            .unwrap();
        let expected = Some(now + Duration::days(10));
        assert_eq!(
            issued.credential.expires_at, expected,
            "the policy's default"
        );
        let refused = store.create_credential(&ctx, &p, &ci, requests.2).wait();
        assert!(
            matches!(refused, Err(Error::LimitExceeded(_))),
            "{refused:?}"
        );
        let grace = GracePeriod::from_seconds(None).unwrap();
        let rotated = store.rotate_secret(&ctx, &p, &ci, requests.3, grace).wait();
        past_max(rotated.map(|_| ()));
        let renewed = store.renew_token(&ctx, &p, &ci, requests.4).wait();
        past_max(renewed.map(|_| ()));
        let other = new_account("other");
        let with_secret = store.create_service_account(&ctx, &p, other, Some(requests.5));
        past_max(with_secret.wait().map(|_| ()));

        store
            .create_service_account(&ctx, &Scope::Root, new_account("ci"), None)
            .wait()
            .unwrap();
        let another = Secret::generate().unwrap();
        let far = secret_request(&another, "far", Some(now + Duration::days(100)), now);
        let at_root = store
            .create_credential(&ctx, &Scope::Root, &ci, far)
            .wait()
            .unwrap();
        assert_eq!(
            at_root.credential.expires_at,
            Some(now + Duration::days(100))
        );
    }

    /// A revocation decides: nothing the caller may see, not the caller's (a more
    /// privileged account's), or revoked. Only the last changes anything.
    #[test]
    fn a_revocation_of_a_more_privileged_account_is_not_yours_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = initialized_store(dir.path());
        let now = crate::clock::now();
        let system = WriteContext::system(now, "test");
        let admin = NewAccount {
            roles: BTreeSet::from([name("admin")]),
            ..new_account("high")
        };
        let (high, _) = store
            .create_service_account(&system, &Scope::Root, admin, None)
            .wait()
            .unwrap();
        let (low, _) = store
            .create_service_account(&system, &Scope::Root, new_account("low"), None)
            .wait()
            .unwrap();
        let secret = Secret::generate().unwrap();
        let request = secret_request(&secret, "s", None, now);
        store
            .create_credential(&system, &Scope::Root, &name("high"), request)
            .wait()
            .unwrap();
        let by_low = WriteContext {
            grantor: Some(Grantor {
                account_id: low.account.id,
                scope: None,
            }),
            ..system.clone()
        };
        let everywhere = TokenReach::Scope(Scope::Root);
        let revoke = |ctx: &WriteContext, hash: &[u8; 32], reach: &TokenReach| {
            store
                .revoke_secret_by_hash(ctx, hash, reach)
                .wait()
                .unwrap()
        };

        assert_eq!(revoke(&by_low, &[0; 32], &everywhere), Revocation::Unknown);
        let own = TokenReach::Own(low.account.id);
        assert_eq!(revoke(&by_low, &secret.hash(), &own), Revocation::Unknown);
        let decided = revoke(&by_low, &secret.hash(), &everywhere);
        assert_eq!(decided, Revocation::NotYours);
        assert!(
            store
                .authenticate_secret(&secret.hash(), now)
                .block()
                .is_ok()
        );
        let decided = revoke(&system, &secret.hash(), &everywhere);
        assert_eq!(decided, Revocation::Revoked);
        assert!(
            store
                .authenticate_secret(&secret.hash(), now)
                .block()
                .is_err()
        );

        let target = Target::of_account(&high.account);
        let expires = now + Duration::hours(1);
        let token = |ctx: &WriteContext| {
            let target = target.clone();
            store
                .revoke_token(ctx, "jti-1", expires, target)
                .wait()
                .unwrap()
        };
        assert_eq!(token(&by_low), Revocation::NotYours);
        assert!(store.revoked_tokens(now).block().unwrap().is_empty());
        assert_eq!(token(&system), Revocation::Revoked);
        assert_eq!(store.revoked_tokens(now).block().unwrap().len(), 1);
    }
}
