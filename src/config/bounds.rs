//! Validation: every setting usable, every number within bounds. The upper bounds keep
//! the time arithmetic the settings feed (expiry dates, token lifetimes, deadlines) far
//! from chrono's and std's limits, so no setting can make keyhouse panic.

use std::fmt::Display;

use super::{Backend, Config, ConfigError, invalid};

/// The most `server.max_connections` may be.
pub const MAX_CONNECTIONS: usize = 1_000_000;
/// The most `server.body_read_timeout_seconds` may be.
pub const MAX_BODY_READ_TIMEOUT_SECONDS: u64 = 300;
/// The most `server.max_body_bytes` may be: 64 MiB.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// One day and one year, in seconds.
const DAY: u64 = 86_400;
const YEAR: u64 = 365 * DAY;
/// The most `credentials.max_lifetime_days` may be: about a hundred years.
const MAX_LIFETIME_DAYS: u32 = 36_500;
/// The most `credentials.max_active` may be.
const MAX_ACTIVE: u32 = 10_000;
/// The most `oauth.access_token_ttl_seconds` may be: 30 days.
const MAX_ACCESS_TOKEN_TTL: u64 = 30 * DAY;
/// The most `security.max_auth_failures` may be.
const MAX_AUTH_FAILURES: u32 = 1_000_000;
/// 64 GiB: more than a keyhouse file needs.
const MAX_CACHE_MIB: u64 = 65_536;
/// Connections of one node to PostgreSQL (a thread each).
const MAX_POOL_SIZE: usize = 256;
const MAX_CONNECT_TIMEOUT_SECONDS: u64 = 300;

/// `value` of `setting` within `min..=max`, or an error naming both.
fn within<T: PartialOrd + Display>(
    setting: &str,
    value: T,
    min: T,
    max: T,
) -> Result<(), ConfigError> {
    if value < min || value > max {
        return Err(invalid(setting, format!("must be from {min} to {max}")));
    }
    Ok(())
}

impl Config {
    /// Checks every setting; the first bad one is named. [`Config::load`] runs it, and
    /// so does the server before it uses a `Config` built in code.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        let s = &self.server;
        within("server.max_body_bytes", s.max_body_bytes, 1, MAX_BODY_BYTES)?;
        if let Some(tls) = &s.tls
            && tls.cert_file.is_none() != tls.key_file.is_none()
        {
            return Err(invalid("server.tls", "cert_file and key_file go together"));
        }
        within(
            "server.max_connections",
            s.max_connections,
            1,
            MAX_CONNECTIONS,
        )?;
        if let Some(per_address) = s.max_connections_per_address
            && !(1..=s.max_connections).contains(&per_address)
        {
            return Err(invalid(
                "server.max_connections_per_address",
                format!(
                    "must be from 1 to server.max_connections ({})",
                    s.max_connections
                ),
            ));
        }
        within(
            "server.body_read_timeout_seconds",
            s.body_read_timeout_seconds,
            1,
            MAX_BODY_READ_TIMEOUT_SECONDS,
        )?;
        if self.storage.path.as_os_str().is_empty() {
            return Err(invalid("storage.path", "must not be empty"));
        }
        if self
            .storage
            .key_file
            .as_ref()
            .is_some_and(|f| f.as_os_str().is_empty())
        {
            return Err(invalid("storage.key_file", "must not be empty"));
        }
        within(
            "storage.integrity_check_interval_seconds",
            self.storage.integrity_check_interval_seconds,
            0,
            YEAR,
        )?;
        within(
            "storage.cache_size_mib",
            self.storage.cache_size_mib,
            1,
            MAX_CACHE_MIB,
        )?;
        let pg = &self.storage.postgres;
        within("storage.postgres.pool_size", pg.pool_size, 2, MAX_POOL_SIZE)?;
        within(
            "storage.postgres.connect_timeout_seconds",
            pg.connect_timeout_seconds,
            1,
            MAX_CONNECT_TIMEOUT_SECONDS,
        )?;
        if self.storage.backend == Backend::Postgres && pg.url.is_none() && pg.url_file.is_none() {
            return Err(invalid(
                "storage.postgres.url",
                "is needed with storage.backend = \"postgres\" (or storage.postgres.url_file)",
            ));
        }
        if pg.url.is_some() && pg.url_file.is_some() {
            return Err(invalid(
                "storage.postgres.url",
                "set url or url_file, not both",
            ));
        }
        let c = &self.credentials.limits;
        within("credentials.max_active", c.max_active, 1, MAX_ACTIVE)?;
        within(
            "credentials.max_lifetime_days",
            c.max_lifetime_days,
            0,
            MAX_LIFETIME_DAYS,
        )?;
        within(
            "credentials.default_lifetime_days",
            c.default_lifetime_days,
            0,
            MAX_LIFETIME_DAYS,
        )?;
        // 0 is "never" for the default and "no maximum" for the maximum, so a default
        // of 0 is past every non-zero maximum.
        let past_max =
            c.default_lifetime_days == 0 || c.default_lifetime_days > c.max_lifetime_days;
        if c.max_lifetime_days > 0 && past_max {
            return Err(invalid(
                "credentials.default_lifetime_days",
                format!(
                    "must be from 1 to credentials.max_lifetime_days ({}); 0 (never expires) \
                     needs credentials.max_lifetime_days = 0",
                    c.max_lifetime_days
                ),
            ));
        }
        within(
            "credentials.last_used_flush_seconds",
            self.credentials.last_used_flush_seconds,
            1,
            DAY,
        )?;
        within(
            "oauth.access_token_ttl_seconds",
            self.oauth.access_token_ttl_seconds,
            1,
            MAX_ACCESS_TOKEN_TTL,
        )?;
        if self.oauth.audience.is_empty() {
            return Err(invalid("oauth.audience", "must not be empty"));
        }
        let security = &self.security;
        within(
            "security.max_auth_failures",
            security.max_auth_failures,
            1,
            MAX_AUTH_FAILURES,
        )?;
        within(
            "security.auth_failure_window_seconds",
            security.auth_failure_window_seconds,
            1,
            DAY,
        )?;
        self.log.validate()?;
        self.bootstrap_secret().map(|_| ())
    }
}
