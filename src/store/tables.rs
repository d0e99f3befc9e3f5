//! Every table of keyhouse, in one list, for every engine: a name that carries a version
//! (so a new layout can live beside the old one during a migration), and the Rust types
//! of its keys and values (`kv::Stored`). Records are stored as `records` has them: the
//! format byte names each record's version.
//!
//! Objects addressed by name are keyed by `(scope, name)`; the root scope is `""`, so
//! that projects can become further scopes without moving existing data.

use super::kv::Stored;

/// The key of the name indexes: (scope, name).
pub(super) type NameKey = (&'static str, &'static str);

/// One of keyhouse's tables, named by the constant of its marker type (`ACCOUNTS` of
/// [`Accounts`]).
pub(super) trait KnownTable: Copy + 'static {
    type K: Stored;
    type V: Stored;
    const ID: TableId;
}

/// Hands the list of tables to the macro `$then`, which an engine uses to define its
/// own tables from the same list: `$then! { $(#[doc] CONST / Marker = "name": <K, V>;)* }`.
macro_rules! table_list {
    ($then:ident) => {
        $then! {
        /// `schema_version`, `created_at` (unix seconds) of the database.
        META / Meta = "meta_v1": <&'static str, u64>;

        /// Service account id → account record (`records::account`), its project included.
        ACCOUNTS / Accounts = "accounts_v1": <u128, &'static [u8]>;

        /// (scope, name) → service account id; its order is the order of lists.
        ACCOUNT_NAMES / AccountNames = "account_names_v1": <NameKey, u128>;

        /// (scope, name) → role record, built-in roles included.
        ROLES / Roles = "roles_v1": <NameKey, &'static [u8]>;

        /// Group id → group record.
        GROUPS / Groups = "groups_v1": <u128, &'static [u8]>;

        /// (scope, name) → group id.
        GROUP_NAMES / GroupNames = "group_names_v1": <NameKey, u128>;

        /// (group id, account name) → account id: a group's members in name order. Each
        /// account's record lists its groups too; both change in one transaction.
        GROUP_MEMBERS / GroupMembers = "group_members_v1": <(u128, &'static str), u128>;

        /// Credential id → credential record.
        CREDENTIALS / Credentials = "credentials_v1": <u128, &'static [u8]>;

        /// SHA-256 of a secret → credential id.
        SECRET_HASHES / SecretHashes = "secret_hashes_v1": <&'static [u8; 32], u128>;

        /// (account id, credential id) → the credential's expiry (unix seconds), so an account's
        /// active credentials are counted without decoding them.
        ACCOUNT_CREDENTIALS / AccountCredentials = "account_credentials_v1": <(u128, u128), i64>;

        /// Credential id → when it last authenticated (unix seconds), written in batches and
        /// kept apart from the record so that use does not change its etag.
        LAST_USED / LastUsed = "last_used_v1": <u128, i64>;

        /// Account id → when it last authenticated (unix seconds), as `LAST_USED`.
        LAST_SEEN / LastSeen = "last_seen_v1": <u128, i64>;

        /// Key id → signing key record: the keys that sign access tokens.
        SIGNING_KEYS / SigningKeys = "signing_keys_v1": <&'static str, &'static [u8]>;

        /// `jti` of a revoked access token → its expiry (unix seconds); dropped once expired.
        REVOKED_TOKENS / RevokedTokens = "revoked_tokens_v1": <&'static str, i64>;

        /// Sequence number → audit event record, with the name of the project its change was
        /// made in, as it was then (also once the project is deleted).
        AUDIT / Audit = "audit_v1": <u64, &'static [u8]>;

        /// (project id, sequence number) → nothing: the events of changes made in a project, so
        /// that its trail is listed without reading the others'. Keyed by the project's id, so
        /// that a new project of an old name does not inherit the old one's trail.
        AUDIT_SCOPES / AuditScopes = "audit_scopes_v1": <(u128, u64), ()>;

        /// Project name → project record; its objects are keyed by its name in the name
        /// indexes.
        PROJECTS / Projects = "projects_v1": <&'static str, &'static [u8]>;

        /// (name index, scope) → how many entries that index holds for the scope; see
        /// `rows::counts`.
        NAME_COUNTS / NameCounts = "name_counts_v1": <(&'static str, &'static str), u64>;

        /// (scope, term, account name) → account id: the accounts of a scope that hold an index
        /// term (`domain::search`), in name order.
        ACCOUNT_POSTINGS / AccountPostings = "account_postings_v1": <(&'static str, &'static str, &'static str), u128>;

        /// (scope, term) → how many accounts of the scope hold the term.
        POSTING_COUNTS / PostingCounts = "posting_counts_v1": <(&'static str, &'static str), u64>;

        /// Account id → the account's number in the condition sets (`rows::condition_sets`).
        ACCOUNT_NUMBERS / AccountNumbers = "account_numbers_v1": <u128, u32>;

        /// Account number → (id, name) of the account: the accounts a condition set holds.
        NUMBERED_ACCOUNTS / NumberedAccounts = "numbered_accounts_v1": <u32, (u128, &'static str)>;

        /// (scope, term, block of 2^12 account numbers) → encoded bitmap of the numbers of that
        /// block whose accounts hold the term: a condition (`s:`, `r:`, `g:`), a trigram at its
        /// position in a name or display name (`p:`, `q:`), or the first one or two characters
        /// of a name (`f:`; `domain::search`).
        CONDITION_SETS / ConditionSets = "condition_sets_v1": <(&'static str, &'static str, u32), &'static [u8]>;
        }
    };
}

pub(super) use table_list;

/// Defines each table's marker type and constant, and [`TableId`], from the list.
macro_rules! markers {
    ($(
        $(#[$doc:meta])*
        $konst:ident / $marker:ident = $name:literal: <$k:ty, $v:ty>;
    )*) => {
        /// A table, as the engines know it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub(super) enum TableId {
            $($marker,)*
        }

        impl TableId {
            /// Every table, in the order of the list.
            pub(super) const ALL: &[TableId] = &[$(TableId::$marker,)*];

            /// The table's name, with its version.
            pub(super) fn name(self) -> &'static str {
                match self {
                    $(TableId::$marker => $name,)*
                }
            }
        }

        $(
            $(#[$doc])*
            #[derive(Clone, Copy)]
            pub(super) struct $marker;

            $(#[$doc])*
            pub(super) const $konst: $marker = $marker;

            impl KnownTable for $marker {
                type K = $k;
                type V = $v;
                const ID: TableId = TableId::$marker;
            }
        )*
    };
}

table_list!(markers);
