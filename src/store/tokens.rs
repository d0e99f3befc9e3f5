//! Access-token state in storage: the signing keys, and the revoked tokens that stay
//! denied until they expire.

use chrono::Duration;
use redb::{ReadableTable, WriteTransaction};
use uuid::Uuid;

use super::reader::Reader;
use super::{Store, WriteContext, accounts, audit, codec, principals, tables};
use crate::domain::{Change, Kind, SigningKey, Target, Timestamp};
use crate::error::Error;

fn all_keys(tx: &impl Reader) -> Result<Vec<SigningKey>, Error> {
    let table = tx.table(tables::SIGNING_KEYS)?;
    table
        .iter()?
        .map(|entry| codec::decode(entry?.1.value()))
        .collect()
}

fn put_key(tx: &WriteTransaction, key: &SigningKey) -> Result<(), Error> {
    tx.open_table(tables::SIGNING_KEYS)?
        .insert(key.kid.as_str(), codec::encode(key)?.as_slice())?;
    Ok(())
}

fn target(key: &SigningKey) -> Target {
    let id = Uuid::parse_str(&key.kid).unwrap_or_default();
    Target::new(Kind::SigningKey, id, key.kid.clone())
}

impl Store {
    /// Every signing key still published at `now`.
    pub fn signing_keys(&self, now: Timestamp) -> Result<Vec<SigningKey>, Error> {
        self.read(|tx| {
            Ok(all_keys(tx)?
                .into_iter()
                .filter(|k| k.is_published(now))
                .collect())
        })
    }

    /// Stores `make()` as the current key if there is none (first start).
    pub fn ensure_signing_key(
        &self,
        make: impl FnOnce() -> Result<SigningKey, Error>,
    ) -> Result<(), Error> {
        if self.read(|tx| Ok(all_keys(tx)?.iter().any(SigningKey::is_current)))? {
            return Ok(());
        }
        let key = make()?;
        self.write(|tx| put_key(tx, &key))
    }

    /// Makes `key` current. The old current key retires: it stays published for
    /// `keep_for` (the longest a token it signed can live), and keys whose time has
    /// passed are deleted.
    pub fn rotate_signing_key(
        &self,
        ctx: &WriteContext,
        key: SigningKey,
        keep_for: Duration,
    ) -> Result<SigningKey, Error> {
        self.write(|tx| {
            let mut retired = Vec::new();
            for mut old in all_keys(tx)? {
                if !old.is_published(ctx.now) {
                    tx.open_table(tables::SIGNING_KEYS)?
                        .remove(old.kid.as_str())?;
                } else if old.is_current() {
                    old.retired_at = Some(ctx.now);
                    old.drop_at = Some(ctx.now + keep_for);
                    put_key(tx, &old)?;
                    retired.push(old.kid.clone());
                }
            }
            put_key(tx, &key)?;
            let changes = vec![Change::set("retired", &retired)];
            audit::append(tx, ctx, "signing_key.rotate", target(&key), changes)?;
            Ok(key)
        })
    }

    /// Denies the access token `jti` of the account `target` until `expires_at`;
    /// expired denials are dropped. Like any revocation, it needs every permission of
    /// the token's account.
    pub fn revoke_token(
        &self,
        ctx: &WriteContext,
        jti: &str,
        expires_at: Timestamp,
        target: Target,
    ) -> Result<(), Error> {
        self.write(|tx| {
            if let Some((account, _)) = accounts::get(tx, target.id)? {
                principals::require_may_act_on(tx, &principals::authority(tx, ctx)?, &account)?;
            }
            let mut revoked = tx.open_table(tables::REVOKED_TOKENS)?;
            let now = ctx.now.timestamp();
            revoked.retain(|_, exp| exp > now)?;
            if revoked.insert(jti, expires_at.timestamp())?.is_some() {
                return Ok(());
            }
            drop(revoked);
            let changes = vec![Change::set("jti", &jti)];
            audit::append(tx, ctx, "access_token.revoke", target, changes)?;
            Ok(())
        })
    }

    /// Revoked tokens not yet expired: `jti` and expiry.
    pub fn revoked_tokens(&self, now: Timestamp) -> Result<Vec<(String, Timestamp)>, Error> {
        self.read(|tx| {
            let table = tx.table(tables::REVOKED_TOKENS)?;
            let mut found = Vec::new();
            for entry in table.iter()? {
                let (jti, exp) = entry?;
                if let Some(at) = Timestamp::from_timestamp(exp.value(), 0).filter(|at| *at > now) {
                    found.push((jti.value().to_owned(), at));
                }
            }
            Ok(found)
        })
    }
}
