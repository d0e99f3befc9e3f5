//! The smallest valid new objects of a name, for the store's unit tests.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::{CredentialPolicy, Name, NewAccount, NewGroup, NewProject};

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
