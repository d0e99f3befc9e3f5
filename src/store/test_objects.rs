//! The smallest valid new objects of a name, and a store as its first start leaves it,
//! for the store's unit tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::domain::{CredentialPolicy, Name, NewAccount, NewGroup, NewProject};
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
