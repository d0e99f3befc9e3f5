//! The settings, section by section, with their built-in defaults.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::log_settings::LogConfig;
use crate::domain::CredentialLimits;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub bootstrap: BootstrapConfig,
    pub credentials: CredentialsConfig,
    pub oauth: OauthConfig,
    pub security: SecurityConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to serve on.
    pub listen: String,
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// PEM certificate and key; plain HTTP when unset.
    pub tls: Option<TlsConfig>,
    /// Open connections served at once; more wait in the listen queue. Kept below the
    /// open-file limit at start.
    pub max_connections: usize,
    /// Of those, the most one client address (an IPv6 /64) may hold; beyond it its new
    /// connections are closed at once. Unset: a quarter of `max_connections`.
    pub max_connections_per_address: Option<usize>,
    /// Time from a request's head to the end of its body; a slower body gets 408.
    pub body_read_timeout_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".to_owned(),
            max_body_bytes: 64 * 1024,
            tls: None,
            max_connections: 768,
            max_connections_per_address: None,
            body_read_timeout_seconds: 10,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// The redb database file, created if missing.
    pub path: PathBuf,
    /// 32 random bytes that seal the signing keys at rest; a relative name is read from
    /// `$CREDENTIALS_DIRECTORY` when systemd sets it. Unset: keys stored unsealed.
    pub key_file: Option<PathBuf>,
    /// How often redb's integrity check runs while serving, counted from the last that
    /// passed; 0 = never on a schedule.
    pub integrity_check_interval_seconds: u64,
    /// Run the integrity check before serving, even after a clean shutdown (after an
    /// unclean one redb verifies every page anyway).
    pub integrity_check_at_start: bool,
    /// redb's page cache, in MiB.
    pub cache_size_mib: u64,
    /// Where the data is: `redb`, the file `path`, or `postgres`, the database of
    /// `storage.postgres`, which several keyhouse nodes may share.
    pub backend: Backend,
    pub postgres: PostgresConfig,
}

/// The storage engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Redb,
    Postgres,
}

/// How to reach the PostgreSQL database of `storage.backend = "postgres"`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// A libpq connection string or `postgres://` URL: several hosts and
    /// `target_session_attrs=read-write` follow a failover. It may hold the password;
    /// `url_file` keeps it out of the settings.
    pub url: Option<String>,
    /// A file holding the connection string (a relative name is read from
    /// `$CREDENTIALS_DIRECTORY` when systemd sets it).
    pub url_file: Option<PathBuf>,
    /// Connections to the database, each with a thread of its own: one writes, the
    /// others read (at least 2).
    pub pool_size: usize,
    /// How long a connection attempt may take, per host.
    pub connect_timeout_seconds: u64,
    /// PEM certificates that the database's certificate must chain to (TLS is checked
    /// as `sslmode=verify-full` does).
    pub ca_file: Option<PathBuf>,
    /// How a node hears of other nodes' writes, to drop what it caches.
    pub changes: ChangeFeed,
}

/// How a node hears of other nodes' writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeFeed {
    /// PostgreSQL's `LISTEN` and `NOTIFY`.
    #[default]
    Listen,
    /// A table of per-node change counters, read every 100 ms: for databases that
    /// speak PostgreSQL's protocol without `LISTEN` (CockroachDB, YugabyteDB).
    Poll,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            url: None,
            url_file: None,
            pool_size: 8,
            connect_timeout_seconds: 5,
            ca_file: None,
            changes: ChangeFeed::Listen,
        }
    }
}

/// The connection string may hold a password: it is never printed.
impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &self.url.as_ref().map(|_| "(set, masked)"))
            .field("url_file", &self.url_file)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout_seconds", &self.connect_timeout_seconds)
            .field("ca_file", &self.ca_file)
            .field("changes", &self.changes)
            .finish()
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            path: PathBuf::from("./keyhouse.redb"),
            key_file: None,
            integrity_check_interval_seconds: 86400,
            integrity_check_at_start: false,
            cache_size_mib: crate::store::DEFAULT_CACHE_MIB,
            backend: Backend::Redb,
            postgres: PostgresConfig::default(),
        }
    }
}

/// The admin secret of the first start; generated and printed when neither is set.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BootstrapConfig {
    pub admin_token: Option<String>,
    pub admin_token_file: Option<PathBuf>,
}

impl std::fmt::Debug for BootstrapConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapConfig")
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field("admin_token_file", &self.admin_token_file)
            .finish()
    }
}

/// `[credentials]`: the limits every credential is held to, which a project's
/// `credential_policy` may narrow (the domain's one type for them), and how often last
/// uses are written. Read and written as [`CredentialsSection`] spells it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "CredentialsSection", into = "CredentialsSection")]
pub struct CredentialsConfig {
    pub limits: CredentialLimits,
    /// How often last-use times are written, in one batch.
    pub last_used_flush_seconds: u64,
}

impl Default for CredentialsConfig {
    fn default() -> Self {
        CredentialsConfig {
            limits: CredentialLimits {
                max_active: 5,
                default_lifetime_days: 365,
                max_lifetime_days: 730,
            },
            last_used_flush_seconds: 5,
        }
    }
}

/// The `[credentials]` section as the file and the environment name its settings: the
/// limits' fields beside the others, each a key of its own. (serde's `flatten` would
/// lose the key and line of a bad value, which every setting's error names.)
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CredentialsSection {
    /// Unexpired credentials allowed per account.
    max_active: u32,
    /// Lifetime of a credential created without `expires_at`; 0: it never expires.
    default_lifetime_days: u32,
    /// The furthest `expires_at` a credential may have; 0: no maximum.
    max_lifetime_days: u32,
    last_used_flush_seconds: u64,
}

impl Default for CredentialsSection {
    fn default() -> Self {
        CredentialsConfig::default().into()
    }
}

impl From<CredentialsSection> for CredentialsConfig {
    fn from(section: CredentialsSection) -> Self {
        CredentialsConfig {
            limits: CredentialLimits {
                max_active: section.max_active,
                default_lifetime_days: section.default_lifetime_days,
                max_lifetime_days: section.max_lifetime_days,
            },
            last_used_flush_seconds: section.last_used_flush_seconds,
        }
    }
}

impl From<CredentialsConfig> for CredentialsSection {
    fn from(config: CredentialsConfig) -> Self {
        let limits = config.limits;
        CredentialsSection {
            max_active: limits.max_active,
            default_lifetime_days: limits.default_lifetime_days,
            max_lifetime_days: limits.max_lifetime_days,
            last_used_flush_seconds: config.last_used_flush_seconds,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OauthConfig {
    /// `iss` of access tokens; `http://` + `server.listen` when unset.
    pub issuer: Option<String>,
    pub audience: String,
    pub access_token_ttl_seconds: u64,
    /// The `typ` of access tokens' header: `at+jwt` (RFC 9068) or `JWT`, for verifiers
    /// that take no other (Spring Security 7's default).
    pub access_token_typ: AccessTokenTyp,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessTokenTyp {
    #[default]
    #[serde(rename = "at+jwt")]
    AtJwt,
    #[serde(rename = "JWT")]
    Jwt,
}

impl AccessTokenTyp {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessTokenTyp::AtJwt => "at+jwt",
            AccessTokenTyp::Jwt => "JWT",
        }
    }
}

impl Default for OauthConfig {
    fn default() -> Self {
        OauthConfig {
            issuer: None,
            audience: "keyhouse".to_owned(),
            access_token_ttl_seconds: 3600,
            access_token_typ: AccessTokenTyp::AtJwt,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Failed authentications one address may make within the window.
    pub max_auth_failures: u32,
    pub auth_failure_window_seconds: u64,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            max_auth_failures: 20,
            auth_failure_window_seconds: 60,
        }
    }
}
