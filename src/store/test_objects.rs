//! The smallest valid new objects of a name, and a store as its first start leaves it,
//! for the store's unit tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::auth::secret::Secret;
use crate::domain::{
    CredentialLimits, CredentialPolicy, CredentialRequest, Name, NewAccount, NewGroup, NewProject,
    RequestedExpiry, Timestamp,
};
use crate::store::Store;

/// A new store in `dir`, initialized as at a first start: its admin and built-in roles.
pub fn initialized_store(dir: &Path) -> Store {
    let store = Store::open(&dir.join("k.redb")).unwrap();
    let admin = crate::auth::secret::Secret::generate().unwrap();
    store
        .initialize(
            crate::clock::now(),
            admin.to_credential("admin".to_owned(), None),
        )
        .wait()
        .unwrap();
    store
}

pub fn name(n: &str) -> Name {
    Name::parse("name", n).unwrap()
}

pub fn new_account(n: &str) -> NewAccount {
    NewAccount {
        name: name(n),
        display_name: None,
        description: String::new(),
        metadata: BTreeMap::new(),
        roles: BTreeSet::new(),
        groups: BTreeSet::new(),
        expires_at: None,
        external_id: None,
    }
}

pub fn new_group(n: &str) -> NewGroup {
    NewGroup {
        name: name(n),
        display_name: None,
        description: String::new(),
        metadata: BTreeMap::new(),
        roles: BTreeSet::new(),
    }
}

pub fn new_project(n: &str) -> NewProject {
    NewProject {
        name: name(n),
        display_name: None,
        description: String::new(),
        metadata: BTreeMap::new(),
        credential_policy: CredentialPolicy::default(),
    }
}

/// The server's credential settings by default: 5 active, 365 days by default, 730 at
/// most.
pub const SERVER_LIMITS: CredentialLimits = CredentialLimits {
    max_active: 5,
    default_lifetime_days: 365,
    max_lifetime_days: 730,
};

/// A request for `secret` named `n`, to expire at `at` (`None`: the default lifetime),
/// under [`SERVER_LIMITS`].
pub fn secret_request(
    secret: &Secret,
    n: &str,
    at: Option<Timestamp>,
    now: Timestamp,
) -> CredentialRequest {
    CredentialRequest {
        name: n.to_owned(),
        kind: secret.credential_kind(),
        expiry: RequestedExpiry::new("expires_at", at, now).unwrap(),
        server: SERVER_LIMITS,
    }
}
