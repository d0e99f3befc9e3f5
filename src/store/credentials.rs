//! Credentials in storage: a secret's SHA-256 indexed to its credential, and each
//! credential listed under its account with its expiry.

use redb::{ReadableTable, WriteTransaction};
use uuid::Uuid;

use super::reader::Reader;
use super::{Store, WriteContext, accounts, codec, roles, tables};
use crate::auth::secret::Secret;
use crate::domain::{Credential, CredentialKind, Principal, ServiceAccount, Timestamp};
use crate::error::Error;

/// A secret to store, its name and expiry already resolved.
#[derive(Debug)]
pub struct NewSecret {
    pub secret: Secret,
    pub name: String,
    pub expires_at: Timestamp,
}

pub(super) fn get(tx: &impl Reader, id: Uuid) -> Result<Option<Credential>, Error> {
    let table = tx.table(tables::CREDENTIALS)?;
    let Some(bytes) = table.get(id.as_u128())? else {
        return Ok(None);
    };
    Ok(Some(codec::decode(bytes.value())?))
}

/// Stores the secret's hash, never the secret.
pub(super) fn insert_secret(
    tx: &WriteTransaction,
    ctx: &WriteContext,
    account: &ServiceAccount,
    new: &NewSecret,
) -> Result<Credential, Error> {
    let hash = new.secret.hash();
    let credential = Credential {
        id: Uuid::new_v4(),
        account_id: account.id,
        kind: CredentialKind::Secret {
            prefix: new.secret.prefix().to_owned(),
            hash,
        },
        name: new.name.clone(),
        created_at: ctx.now,
        created_by: ctx.actor.clone(),
        expires_at: new.expires_at,
    };
    let mut hashes = tx.open_table(tables::SECRET_HASHES)?;
    if hashes.get(&hash)?.is_some() {
        return Err(Error::internal(
            "a generated secret collided with a stored one",
        ));
    }
    hashes.insert(&hash, credential.id.as_u128())?;
    insert(tx, &credential)?;
    Ok(credential)
}

fn insert(tx: &WriteTransaction, credential: &Credential) -> Result<(), Error> {
    let id = credential.id.as_u128();
    tx.open_table(tables::CREDENTIALS)?
        .insert(id, codec::encode(credential)?.as_slice())?;
    tx.open_table(tables::ACCOUNT_CREDENTIALS)?.insert(
        (credential.account_id.as_u128(), id),
        credential.expires_at.timestamp(),
    )?;
    Ok(())
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

/// Deletes every credential of an account, with its index entries.
pub(super) fn delete_all_of(tx: &WriteTransaction, account_id: Uuid) -> Result<(), Error> {
    let id = account_id.as_u128();
    let ids: Vec<u128> = tx
        .open_table(tables::ACCOUNT_CREDENTIALS)?
        .extract_from_if((id, 0)..=(id, u128::MAX), |_, _| true)?
        .map(|entry| entry.map(|(key, _)| key.value().1))
        .collect::<Result<_, _>>()?;
    let mut credentials = tx.open_table(tables::CREDENTIALS)?;
    let mut hashes = tx.open_table(tables::SECRET_HASHES)?;
    for credential_id in ids {
        let Some(bytes) = credentials.remove(credential_id)? else {
            continue;
        };
        let credential: Credential = codec::decode(bytes.value())?;
        match credential.kind {
            CredentialKind::Secret { hash, .. } => {
                hashes.remove(&hash)?;
            }
        }
    }
    Ok(())
}

impl Store {
    /// The account a secret belongs to, if the secret, its credential and its account
    /// are all valid now. A refusal is `Unauthenticated` with its reason.
    pub fn authenticate_secret(
        &self,
        secret: &Secret,
        now: Timestamp,
    ) -> Result<(Principal, Uuid), Error> {
        self.read(|tx| {
            let unknown = || Error::Unauthenticated("the credential is not known");
            let id = tx
                .table(tables::SECRET_HASHES)?
                .get(&secret.hash())?
                .map(|v| Uuid::from_u128(v.value()))
                .ok_or_else(unknown)?;
            let credential = get(tx, id)?.ok_or_else(unknown)?;
            if credential.is_expired(now) {
                return Err(Error::Unauthenticated("the credential has expired"));
            }
            let (account, _) = accounts::get(tx, credential.account_id)?.ok_or_else(unknown)?;
            if let Some(reason) = account.refusal(now) {
                return Err(Error::Unauthenticated(reason));
            }
            let permissions = roles::permissions_of(tx, &roles::held_by(tx, &account)?)?;
            Ok((
                Principal {
                    account,
                    permissions,
                },
                credential.id,
            ))
        })
    }
}
