//! Every redb table of keyhouse, created together at open. Names carry a version so a
//! new layout can live beside the old one during a migration.
//!
//! Objects addressed by name are keyed by `(scope, name)`; the root scope is `""`, so
//! that projects can become further scopes without moving existing data.

use redb::{Key, TableDefinition, Value, WriteTransaction};

use crate::error::Error;

/// The key of the name indexes: (scope, name).
pub(super) type NameKey = (&'static str, &'static str);

/// `schema_version`, `created_at` (unix seconds) of the database.
pub(super) const META: TableDefinition<&str, u64> = TableDefinition::new("meta_v1");

/// Service account id → encoded `ServiceAccount`.
pub(super) const ACCOUNTS: TableDefinition<u128, &[u8]> = TableDefinition::new("accounts_v1");

/// (scope, name) → service account id; its order is the order of lists.
pub(super) const ACCOUNT_NAMES: TableDefinition<NameKey, u128> =
    TableDefinition::new("account_names_v1");

/// Service account id → the name of the project it lives in; an account of the root
/// has no entry. Kept beside the record, so that the record's format (and every file
/// written before projects) stays as it was.
pub(super) const ACCOUNT_SCOPES: TableDefinition<u128, &str> =
    TableDefinition::new("account_scopes_v1");

/// (scope, name) → encoded `Role`, built-in roles included.
pub(super) const ROLES: TableDefinition<NameKey, &[u8]> = TableDefinition::new("roles_v1");

/// Group id → encoded `Group`.
pub(super) const GROUPS: TableDefinition<u128, &[u8]> = TableDefinition::new("groups_v1");

/// (scope, name) → group id.
pub(super) const GROUP_NAMES: TableDefinition<NameKey, u128> =
    TableDefinition::new("group_names_v1");

/// (group id, account name) → account id: a group's members in name order. Each
/// account's record lists its groups too; both change in one transaction.
pub(super) const GROUP_MEMBERS: TableDefinition<(u128, &str), u128> =
    TableDefinition::new("group_members_v1");

/// Credential id → encoded `Credential`.
pub(super) const CREDENTIALS: TableDefinition<u128, &[u8]> = TableDefinition::new("credentials_v1");

/// SHA-256 of a secret → credential id.
pub(super) const SECRET_HASHES: TableDefinition<&[u8; 32], u128> =
    TableDefinition::new("secret_hashes_v1");

/// (account id, credential id) → the credential's expiry (unix seconds), so an account's
/// active credentials are counted without decoding them.
pub(super) const ACCOUNT_CREDENTIALS: TableDefinition<(u128, u128), i64> =
    TableDefinition::new("account_credentials_v1");

/// Credential id → when it last authenticated (unix seconds), written in batches and
/// kept apart from the record so that use does not change its etag.
pub(super) const LAST_USED: TableDefinition<u128, i64> = TableDefinition::new("last_used_v1");

/// Account id → when it last authenticated (unix seconds), as `LAST_USED`.
pub(super) const LAST_SEEN: TableDefinition<u128, i64> = TableDefinition::new("last_seen_v1");

/// Key id → encoded `SigningKey`: the keys that sign access tokens.
pub(super) const SIGNING_KEYS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("signing_keys_v1");

/// `jti` of a revoked access token → its expiry (unix seconds); dropped once expired.
pub(super) const REVOKED_TOKENS: TableDefinition<&str, i64> =
    TableDefinition::new("revoked_tokens_v1");

/// (name index, scope) → how many entries that index holds for the scope; see
/// `rows::counts`.
pub(super) const NAME_COUNTS: TableDefinition<(&str, &str), u64> =
    TableDefinition::new("name_counts_v1");

/// (scope, term, account name) → account id: the accounts of a scope that hold an index
/// term (`domain::search`), in name order.
pub(super) const ACCOUNT_POSTINGS: TableDefinition<(&str, &str, &str), u128> =
    TableDefinition::new("account_postings_v1");

/// (scope, term) → how many accounts of the scope hold the term.
pub(super) const POSTING_COUNTS: TableDefinition<(&str, &str), u64> =
    TableDefinition::new("posting_counts_v1");

/// Account id → the account's number in the condition sets (`rows::condition_sets`).
pub(super) const ACCOUNT_NUMBERS: TableDefinition<u128, u32> =
    TableDefinition::new("account_numbers_v1");

/// Account number → (id, name) of the account: the accounts a condition set holds.
pub(super) const NUMBERED_ACCOUNTS: TableDefinition<u32, (u128, &str)> =
    TableDefinition::new("numbered_accounts_v1");

/// (scope, term, block of 2^12 account numbers) → encoded bitmap of the numbers of that
/// block whose accounts hold the term: a condition (`s:`, `r:`, `g:`), a trigram at its
/// position in a name or display name (`p:`, `q:`), or the first one or two characters
/// of a name (`f:`; `domain::search`).
pub(super) const CONDITION_SETS: TableDefinition<(&str, &str, u32), &[u8]> =
    TableDefinition::new("condition_sets_v1");

/// Project name → encoded `Project`; its objects are keyed by its name in the name
/// indexes.
pub(super) const PROJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("projects_v1");

/// Sequence number → encoded `AuditEvent`.
pub(super) const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit_v1");

/// (project id, sequence number) → nothing: the events of changes made in a project, so
/// that its trail is listed without reading the others'. Keyed by the project's id, so
/// that a new project of an old name does not inherit the old one's trail.
pub(super) const AUDIT_SCOPES: TableDefinition<(u128, u64), ()> =
    TableDefinition::new("audit_scopes_v1");

/// Sequence number → the name of the project an event's change was made in; an event
/// of the root has no entry. Names the project as it was, also once it is deleted.
pub(super) const AUDIT_PROJECTS: TableDefinition<u64, &str> =
    TableDefinition::new("audit_projects_v1");

/// Something done to every table; [`for_each_table`] is the one list of them.
pub(super) trait TableVisitor {
    fn visit<K: Key + 'static, V: Value + 'static>(
        &mut self,
        def: TableDefinition<K, V>,
    ) -> Result<(), Error>;
}

pub(super) fn for_each_table(visitor: &mut impl TableVisitor) -> Result<(), Error> {
    visitor.visit(META)?;
    visitor.visit(ACCOUNTS)?;
    visitor.visit(ACCOUNT_NAMES)?;
    visitor.visit(ACCOUNT_SCOPES)?;
    visitor.visit(ROLES)?;
    visitor.visit(GROUPS)?;
    visitor.visit(GROUP_NAMES)?;
    visitor.visit(GROUP_MEMBERS)?;
    visitor.visit(CREDENTIALS)?;
    visitor.visit(SECRET_HASHES)?;
    visitor.visit(ACCOUNT_CREDENTIALS)?;
    visitor.visit(LAST_USED)?;
    visitor.visit(LAST_SEEN)?;
    visitor.visit(SIGNING_KEYS)?;
    visitor.visit(REVOKED_TOKENS)?;
    visitor.visit(AUDIT)?;
    visitor.visit(AUDIT_SCOPES)?;
    visitor.visit(AUDIT_PROJECTS)?;
    visitor.visit(PROJECTS)?;
    visitor.visit(NAME_COUNTS)?;
    visitor.visit(ACCOUNT_POSTINGS)?;
    visitor.visit(POSTING_COUNTS)?;
    visitor.visit(ACCOUNT_NUMBERS)?;
    visitor.visit(NUMBERED_ACCOUNTS)?;
    visitor.visit(CONDITION_SETS)?;
    Ok(())
}

/// Creates every table that does not exist yet.
pub(super) fn create_all(tx: &WriteTransaction) -> Result<(), Error> {
    struct Create<'a>(&'a WriteTransaction);
    impl TableVisitor for Create<'_> {
        fn visit<K: Key + 'static, V: Value + 'static>(
            &mut self,
            def: TableDefinition<K, V>,
        ) -> Result<(), Error> {
            self.0.open_table(def)?;
            Ok(())
        }
    }
    for_each_table(&mut Create(tx))
}
