//! Access-token state in storage: the signing keys, and the revoked tokens that stay
//! denied until they expire.
//!
//! With `storage.key_file` the private half of each key is sealed at rest (see
//! [`super::seal`]); without it, it is stored as it is, in a file only its owner reads.

use chrono::Duration;
use uuid::Uuid;

use super::reader::Reader;
use super::records::{self, SigningKeyRecord, SigningKeyV1 as StoredKey};
use super::rows::{accounts, audit};
use super::seal::{self, SealKey};
use super::{Answer, OpenError, Store, WriteContext, principals, tables};
use crate::domain::{Action, Change, Kind, Revocation, SigningKey, Target, Timestamp};
use crate::error::Error;
use crate::store::transaction::Tx;

/// The stored keys, as their records (`records::signing_key`) hold them: the private
/// half sealed or not.
fn stored_keys(tx: &impl Reader) -> Result<Vec<StoredKey>, Error> {
    let table = tx.table(tables::SIGNING_KEYS)?;
    table
        .iter()?
        .map(|entry| {
            let (kid, value) = entry?;
            records::decode_object::<SigningKeyRecord, _>(value.value(), kid.value())
        })
        .collect()
}

impl Store {
    fn unseal(&self, key: StoredKey) -> Result<SigningKey, Error> {
        let pkcs8 = if seal::is_sealed(&key.private) {
            let kek = self.seal_key.as_deref().ok_or_else(|| {
                Error::internal(format!(
                    "signing key {} is sealed and storage.key_file is not set",
                    key.kid
                ))
            })?;
            kek.open(&key.kid, &key.private).ok_or_else(|| {
                Error::internal(format!(
                    "storage.key_file does not open signing key {}",
                    key.kid
                ))
            })?
        } else {
            key.private
        };
        Ok(SigningKey {
            kid: key.kid,
            pkcs8,
            public: key.public,
            created_at: key.created_at,
            retired_at: key.retired_at,
            drop_at: key.drop_at,
        })
    }

    fn all_keys(&self, tx: &impl Reader) -> Result<Vec<SigningKey>, Error> {
        stored_keys(tx)?
            .into_iter()
            .map(|key| self.unseal(key))
            .collect()
    }

    fn put_key(&self, tx: &Tx, key: &SigningKey) -> Result<(), Error> {
        let private = match self.seal_key.as_deref() {
            Some(kek) => kek
                .seal(&key.kid, &key.pkcs8)
                .ok_or_else(|| Error::internal("cannot seal a signing key"))?,
            None => key.pkcs8.clone(),
        };
        let stored = StoredKey {
            kid: key.kid.clone(),
            private,
            public: key.public.clone(),
            created_at: key.created_at,
            retired_at: key.retired_at,
            drop_at: key.drop_at,
        };
        tx.write(tables::SIGNING_KEYS)?.insert(
            key.kid.as_str(),
            records::encode::<SigningKeyRecord>(stored)?.as_slice(),
        )?;
        Ok(())
    }

    /// At a start with `kek`: every key must open with it, and keys stored unsealed are
    /// sealed, all in one transaction. Without it, a sealed key stops the start. Either
    /// way the message names `storage.key_file`.
    pub(super) fn check_sealing(&self, kek: Option<&SealKey>) -> Result<(), OpenError> {
        let refuse = |reason: String| OpenError::KeyFile {
            path: self.path.clone(),
            reason,
        };
        let stored = self
            .read(|tx| stored_keys(tx))
            .wait()
            .map_err(|e| refuse(format!("{e:?}")))?;
        let plain: Vec<&StoredKey> = stored
            .iter()
            .filter(|k| !seal::is_sealed(&k.private))
            .collect();
        let sealed = stored.len() - plain.len();
        match kek {
            None if sealed > 0 => {
                return Err(refuse(format!(
                    "its {sealed} signing key(s) are sealed; set storage.key_file to the key \
                     file they were sealed with"
                )));
            }
            None => return Ok(()),
            Some(kek) => {
                for key in stored.iter().filter(|k| seal::is_sealed(&k.private)) {
                    if kek.open(&key.kid, &key.private).is_none() {
                        return Err(refuse(format!(
                            "storage.key_file does not open its signing key {} (wrong key \
                             file?)",
                            key.kid
                        )));
                    }
                }
            }
        }
        if plain.is_empty() {
            return Ok(());
        }
        let count = plain.len();
        let store = self.clone();
        self.write(move |tx| {
            for key in stored_keys(tx)? {
                if !seal::is_sealed(&key.private) {
                    let key = store.unseal(key)?;
                    store.put_key(tx, &key)?;
                }
            }
            Ok(())
        })
        .wait()
        .map_err(|e| refuse(format!("cannot seal its signing keys: {e:?}")))?;
        log::info!("sealed {count} signing key(s) with storage.key_file");
        Ok(())
    }
}

fn target(key: &SigningKey) -> Target {
    let id = Uuid::parse_str(&key.kid).unwrap_or_default();
    Target::new(Kind::SigningKey, id, key.kid.clone())
}

impl Store {
    /// Every signing key still published at `now`.
    pub fn signing_keys(&self, now: Timestamp) -> Answer<Vec<SigningKey>> {
        let store = self.clone();
        self.read(move |tx| {
            Ok(store
                .all_keys(tx)?
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
        let store = self.clone();
        let current =
            self.read(move |tx| Ok(store.all_keys(tx)?.iter().any(SigningKey::is_current)));
        if current.wait()? {
            return Ok(());
        }
        let key = make()?;
        let store = self.clone();
        self.write(move |tx| store.put_key(tx, &key)).wait()
    }

    /// Makes `key` current. The old current key retires: it stays published for
    /// `keep_for` (the longest a token it signed can live), and keys whose time has
    /// passed are deleted.
    pub fn rotate_signing_key(
        &self,
        ctx: &WriteContext,
        key: SigningKey,
        keep_for: Duration,
    ) -> Answer<SigningKey> {
        let (ctx, store) = (ctx.clone(), self.clone());
        self.write(move |tx| {
            let mut retired = Vec::new();
            for mut old in store.all_keys(tx)? {
                if !old.is_published(ctx.now) {
                    tx.write(tables::SIGNING_KEYS)?.remove(old.kid.as_str())?;
                } else if old.is_current() {
                    old.retired_at = Some(ctx.now);
                    old.drop_at = Some(ctx.now + keep_for);
                    store.put_key(tx, &old)?;
                    retired.push(old.kid.clone());
                }
            }
            store.put_key(tx, &key)?;
            let changes = vec![Change::set("retired", &retired)];
            audit::append(tx, &ctx, Action::SigningKeyRotate, target(&key), changes)?;
            Ok(key.clone())
        })
    }

    /// Denies the access token `jti` of the account `target` until `expires_at`;
    /// expired denials are dropped. Like any revocation, it needs every permission of
    /// the token's account (else [`Revocation::NotYours`], changing nothing), and it is
    /// audited in the account's scope.
    pub fn revoke_token(
        &self,
        ctx: &WriteContext,
        jti: &str,
        expires_at: Timestamp,
        target: Target,
    ) -> Answer<Revocation> {
        let (ctx, jti) = (ctx.clone(), jti.to_owned());
        self.write(move |tx| {
            let mut ctx = ctx.clone();
            let mut target = target.clone();
            if let Some(account) = accounts::record(tx, target.id)? {
                ctx.scope = accounts::scope_of(tx, account.id)?;
                let caller = principals::authority(tx, &ctx, &ctx.scope)?;
                if !principals::may_act_on(tx, &caller, &account)? {
                    return Ok(Revocation::NotYours);
                }
                target = Target::of_account(&account);
            }
            let mut revoked = tx.write(tables::REVOKED_TOKENS)?;
            let now = ctx.now.timestamp();
            revoked.retain(|_, exp| exp > now)?;
            if revoked.insert_checked(jti.as_str(), expires_at.timestamp())? {
                return Ok(Revocation::Revoked);
            }
            let changes = vec![Change::set("jti", &jti)];
            audit::append(tx, &ctx, Action::AccessTokenRevoke, target, changes)?;
            Ok(Revocation::Revoked)
        })
    }

    /// Revoked tokens not yet expired: `jti` and expiry.
    pub fn revoked_tokens(&self, now: Timestamp) -> Answer<Vec<(String, Timestamp)>> {
        self.read(move |tx| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Blocking;
    use crate::store::OpenOptions;

    fn kek(byte: u8) -> SealKey {
        SealKey::from_bytes(&[byte; seal::KEY_LEN]).unwrap()
    }

    /// A key with recognizable private bytes; the store does not parse them.
    fn signing_key() -> SigningKey {
        let mut pkcs8 = vec![0x30];
        pkcs8.extend_from_slice(Uuid::new_v4().as_bytes());
        pkcs8.extend_from_slice(Uuid::new_v4().as_bytes());
        SigningKey {
            kid: Uuid::new_v4().to_string(),
            pkcs8,
            public: vec![4; 65],
            created_at: crate::clock::now(),
            retired_at: None,
            drop_at: None,
        }
    }

    fn file_holds(path: &std::path::Path, bytes: &[u8]) -> bool {
        let file = std::fs::read(path).unwrap();
        file.windows(bytes.len()).any(|w| w == bytes)
    }

    #[test]
    fn with_a_key_file_the_private_key_is_not_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = signing_key();
        let (sealed, plain) = (dir.path().join("s.redb"), dir.path().join("p.redb"));
        for (path, kek) in [(&sealed, Some(kek(1))), (&plain, None)] {
            let store = Store::open_with(path, kek, OpenOptions::default()).unwrap();
            store.ensure_signing_key(|| Ok(key.clone())).unwrap();
            let read = store.signing_keys(crate::clock::now()).block().unwrap();
            assert_eq!(read, vec![key.clone()]);
        }
        assert!(!file_holds(&sealed, &key.pkcs8), "sealed at rest");
        assert!(file_holds(&plain, &key.pkcs8), "the control holds it");
        let store = Store::open_with(&sealed, Some(kek(1)), OpenOptions::default()).unwrap();
        assert_eq!(
            store.signing_keys(crate::clock::now()).block().unwrap(),
            vec![key]
        );
    }

    #[test]
    fn a_start_with_a_key_file_seals_stored_keys_and_the_wrong_or_no_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let key = signing_key();
        let store = Store::open(&path).unwrap();
        store.ensure_signing_key(|| Ok(key.clone())).unwrap();
        drop(store);

        let store = Store::open_with(&path, Some(kek(1)), OpenOptions::default()).unwrap();
        let stored = store.read(|tx| stored_keys(tx)).block().unwrap();
        assert!(stored.iter().all(|k| seal::is_sealed(&k.private)));
        assert_eq!(
            store.signing_keys(crate::clock::now()).block().unwrap(),
            vec![key.clone()]
        );
        drop(store);

        let err = Store::open_with(&path, Some(kek(2)), OpenOptions::default())
            .err()
            .unwrap();
        assert!(matches!(err, OpenError::KeyFile { .. }), "{err}");
        assert!(err.to_string().contains("storage.key_file"), "{err}");
        assert!(err.to_string().contains("wrong key file"), "{err}");
        let err = Store::open_with(&path, None, OpenOptions::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("set storage.key_file"), "{err}");
        // Commands that never touch the keys still open it.
        assert!(Store::open(&path).is_ok());
    }

    #[test]
    fn keys_stored_before_sealing_existed_still_read() {
        let key = signing_key();
        // What earlier versions stored: the domain value itself.
        let old = crate::store::codec::encode_as(1, &key).unwrap();
        let stored: StoredKey = records::decode::<SigningKeyRecord, _>(&old).unwrap();
        assert_eq!(stored.private, key.pkcs8);
        let store_dir = tempfile::tempdir().unwrap();
        let store = Store::open(&store_dir.path().join("k.redb")).unwrap();
        assert_eq!(store.unseal(stored).unwrap(), key);
    }
}
