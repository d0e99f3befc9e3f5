//! One domain value of each stored kind, every field set, for the records' tests.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use crate::domain::{
    ActorRef, AuditEvent, Change, Credential, CredentialKind, CredentialPolicy, Group,
    KeyAlgorithm, Name, Project, Role, ServiceAccount, SigningKey, Status, Target, Timestamp,
};
use crate::error::Kind;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_timestamp(secs, 0).unwrap()
}

fn name(n: &str) -> Name {
    Name::parse("name", n).unwrap()
}

fn actor() -> ActorRef {
    ActorRef {
        id: Some(Uuid::from_u128(7)),
        name: "admin".to_owned(),
    }
}

pub fn account(n: &str) -> ServiceAccount {
    ServiceAccount {
        id: Uuid::from_u128(1),
        name: name(n),
        display_name: "CI bot".to_owned(),
        description: "Builds.".to_owned(),
        metadata: BTreeMap::from([("team".to_owned(), "infra".to_owned())]),
        status: Status::Disabled,
        roles: BTreeSet::from([name("deployer"), name("viewer")]),
        groups: BTreeSet::from([Uuid::from_u128(2)]),
        external_id: Some("ext-1".to_owned()),
        expires_at: Some(at(2_000_000_000)),
        created_at: at(1_700_000_000),
        created_by: actor(),
        updated_at: at(1_700_000_100),
        tokens_valid_after: Some(at(1_700_000_050)),
    }
}

/// A secret, or with `public_key` an Ed25519 key that never expires.
pub fn credential(public_key: bool) -> Credential {
    let kind = if public_key {
        CredentialKind::PublicKey {
            algorithm: KeyAlgorithm::Ed25519,
            key: vec![5; 32],
            fingerprint: "ab".repeat(32),
        }
    } else {
        CredentialKind::Secret {
            prefix: "kh_abcde".to_owned(),
            hash: [9; 32],
        }
    };
    Credential {
        id: Uuid::from_u128(3),
        account_id: Uuid::from_u128(1),
        kind,
        name: "laptop".to_owned(),
        created_at: at(1_700_000_000),
        created_by: actor(),
        expires_at: (!public_key).then(|| at(1_800_000_000)),
    }
}

pub fn group() -> Group {
    Group {
        id: Uuid::from_u128(2),
        name: name("builders"),
        display_name: "Builders".to_owned(),
        description: "Build.".to_owned(),
        metadata: BTreeMap::from([("team".to_owned(), "infra".to_owned())]),
        roles: BTreeSet::from([name("operator")]),
        member_count: 4,
        created_at: at(1_700_000_000),
        updated_at: at(1_700_000_100),
    }
}

pub fn role() -> Role {
    Role {
        id: Uuid::from_u128(4),
        name: name("deployer"),
        description: "Deploys.".to_owned(),
        permissions: BTreeSet::from(["deploy:run".to_owned(), "groups:read".to_owned()]),
        is_builtin: false,
        created_at: at(1_700_000_000),
        updated_at: at(1_700_000_100),
    }
}

pub fn project() -> Project {
    Project {
        id: Uuid::from_u128(5),
        name: name("payments"),
        display_name: "Payments".to_owned(),
        description: "Money.".to_owned(),
        metadata: BTreeMap::from([("cost".to_owned(), "42".to_owned())]),
        credential_policy: CredentialPolicy {
            max_active: Some(4),
            default_lifetime_days: None,
            max_lifetime_days: Some(90),
        },
        created_at: at(1_700_000_000),
        updated_at: at(1_700_000_100),
    }
}

/// An event, made in `project`.
pub fn audit_event(project: Option<&str>) -> AuditEvent {
    AuditEvent {
        seq: 12,
        at: at(1_700_000_000),
        actor: actor(),
        action: "service_account.create".to_owned(),
        target: Target::new(Kind::ServiceAccount, Uuid::from_u128(1), "ci-bot"),
        request_id: "req-1".to_owned(),
        changes: vec![Change::set("status", &"active")],
        project: project.map(str::to_owned),
    }
}

pub fn signing_key() -> SigningKey {
    SigningKey {
        kid: Uuid::from_u128(6).to_string(),
        pkcs8: vec![0x30, 1, 2, 3],
        public: vec![4; 65],
        created_at: at(1_700_000_000),
        retired_at: Some(at(1_700_000_500)),
        drop_at: Some(at(1_700_100_000)),
    }
}
