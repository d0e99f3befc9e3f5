//! Authentication use cases: who a secret, an access token's subject or an OAuth client
//! is, and whether it may act now. Each answer is remembered until the next write (see
//! `auth_cache`), shared rather than copied; a refusal is `Unauthenticated` with its
//! reason.

use std::sync::Arc;

use uuid::Uuid;

use crate::domain::{AuthFailure, ClientId, Credential, Principal, Timestamp};
use crate::error::Error;
use crate::store::rows::{accounts, credentials};
use crate::store::{Store, principals};

impl Store {
    /// The account a secret (given as its hash) belongs to, if the credential and its
    /// account are both valid now.
    pub async fn authenticate_secret(
        &self,
        hash: &[u8; 32],
        now: Timestamp,
    ) -> Result<(Arc<Principal>, Arc<Credential>), Error> {
        let hash = *hash;
        let generation = self.generation();
        let (principal, credential) = match self.secrets.get(&hash, generation) {
            Some(found) => found,
            None => {
                let found = self
                    .read(move |tx| {
                        let hash = &hash;
                        let unknown = || Error::Unauthenticated(AuthFailure::Unknown);
                        let id = credentials::id_by_hash(tx, hash)?.ok_or_else(unknown)?;
                        let credential = credentials::get(tx, id)?.ok_or_else(unknown)?;
                        let account =
                            accounts::record(tx, credential.account_id)?.ok_or_else(unknown)?;
                        Ok((
                            Arc::new(principals::principal(tx, account)?),
                            Arc::new(credential),
                        ))
                    })
                    .await?;
                self.secrets.put(hash, generation, found.clone());
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
    /// unexpired, and did not kill tokens issued at `issued_at`.
    pub async fn authenticate_token_subject(
        &self,
        account_id: Uuid,
        issued_at: Timestamp,
        now: Timestamp,
    ) -> Result<Arc<Principal>, Error> {
        let generation = self.generation();
        let principal = match self.subjects.get(&account_id, generation) {
            Some(found) => found,
            None => {
                let found = self
                    .read(move |tx| {
                        let account = accounts::record(tx, account_id)?
                            .ok_or(Error::Unauthenticated(AuthFailure::AccountGone))?;
                        principals::principal(tx, account).map(Arc::new)
                    })
                    .await?;
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

    /// An OAuth client that signs its assertions: the account `client_id` names, if it
    /// may authenticate now, with its unexpired public keys.
    pub async fn client_public_keys(
        &self,
        client_id: &ClientId,
        now: Timestamp,
    ) -> Result<(Principal, Vec<Credential>), Error> {
        let client_id = client_id.clone();
        self.read(move |tx| {
            let client_id = &client_id;
            let (account, _) = accounts::get_by_name(tx, &client_id.scope, &client_id.name)
                .map_err(|e| match e {
                    Error::NotFound { .. } => Error::Unauthenticated(AuthFailure::Unknown),
                    fault => fault,
                })?;
            if let Some(reason) = account.refusal(now) {
                return Err(Error::Unauthenticated(reason));
            }
            let keys = credentials::all_of(tx, account.id)?
                .into_iter()
                .filter(|c| !c.kind.is_secret() && !c.is_expired(now))
                .collect();
            Ok((principals::principal(tx, account)?, keys))
        })
        .await
    }
}
