//! `KEYHOUSE_*` environment variables: `KEYHOUSE_SERVER__LISTEN` sets `server.listen`.
//! Only names with a `__` are settings; the client's own variables ([`CLIENT_VARIABLES`])
//! are passed over in silence, and the others are returned to be warned about, never read.

use super::{ConfigError, invalid};

/// The prefix of environment overrides: `KEYHOUSE_SERVER__LISTEN` is `server.listen`.
pub const ENV_PREFIX: &str = "KEYHOUSE_";

/// Every setting's path, as the environment may name it (a unit test ties this list
/// to the settings' fields).
pub const SETTINGS: &[&str] = &[
    "server.listen",
    "server.max_body_bytes",
    "server.max_connections",
    "server.max_connections_per_address",
    "server.body_read_timeout_seconds",
    "server.tls.cert_file",
    "server.tls.key_file",
    "storage.path",
    "storage.key_file",
    "storage.integrity_check_interval_seconds",
    "storage.integrity_check_at_start",
    "storage.cache_size_mib",
    "storage.backend",
    "storage.postgres.url",
    "storage.postgres.url_file",
    "storage.postgres.pool_size",
    "storage.postgres.connect_timeout_seconds",
    "storage.postgres.ca_file",
    "storage.postgres.changes",
    "bootstrap.admin_token",
    "bootstrap.admin_token_file",
    "credentials.max_active",
    "credentials.default_lifetime_days",
    "credentials.max_lifetime_days",
    "credentials.last_used_flush_seconds",
    "oauth.issuer",
    "oauth.audience",
    "oauth.access_token_ttl_seconds",
    "oauth.access_token_typ",
    "security.max_auth_failures",
    "security.auth_failure_window_seconds",
    "log.level",
    "log.format",
];

/// The variables of the command-line client (`keyhouse projects list`, ...): a shell
/// that runs both the client and `serve` holds them, so `serve` ignores them without a
/// warning.
pub const CLIENT_VARIABLES: &[&str] = &[
    "KEYHOUSE_URL",
    "KEYHOUSE_TOKEN",
    "KEYHOUSE_TOKEN_FILE",
    "KEYHOUSE_PROJECT",
    "KEYHOUSE_PROFILE",
];

/// The settings holding a number that are unset by default, so that no default tells
/// their type.
const NUMBERS_UNSET_BY_DEFAULT: &[&str] = &["server.max_connections_per_address"];

/// Sets every setting `env` names. A name with `__` that is no setting is an error,
/// as a misspelt setting must not pass unnoticed; the names without one are returned,
/// but for the client's.
pub(super) fn apply(
    tree: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<String>, ConfigError> {
    let mut ignored = Vec::new();
    for (variable, value) in env {
        match variable.strip_prefix(ENV_PREFIX) {
            Some(setting) if setting.contains("__") => {
                set(tree, &variable, setting, value)?;
            }
            Some(_) if CLIENT_VARIABLES.contains(&variable.as_str()) => {}
            Some(_) => ignored.push(variable),
            None => {}
        }
    }
    ignored.sort();
    Ok(ignored)
}

/// Sets the setting `SECTION__KEY` (already without the prefix), typed like the
/// setting's default: a number for a number, else a string.
fn set(
    tree: &mut toml::Table,
    variable: &str,
    setting: &str,
    value: String,
) -> Result<(), ConfigError> {
    let path: Vec<String> = setting.split("__").map(str::to_lowercase).collect();
    let name = path.join(".");
    let unknown = || ConfigError::Parse(format!("{name} (from {variable}): no such setting"));
    if !SETTINGS.contains(&name.as_str()) {
        return Err(unknown());
    }
    let (last, sections) = path.split_last().ok_or_else(unknown)?;
    let mut table = &mut *tree;
    for section in sections {
        table = table
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(unknown)?;
    }
    let number = || {
        value
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| invalid(&name, format!("{variable} must be a whole number")))
    };
    let typed = match table.get(last) {
        Some(toml::Value::Integer(_)) => number()?,
        None if NUMBERS_UNSET_BY_DEFAULT.contains(&name.as_str()) => number()?,
        Some(toml::Value::Boolean(_)) => value
            .trim()
            .parse::<bool>()
            .map(toml::Value::Boolean)
            .map_err(|_| invalid(&name, format!("{variable} must be true or false")))?,
        Some(toml::Value::Table(_)) => return Err(unknown()),
        _ => toml::Value::String(value),
    };
    table.insert(last.clone(), typed);
    Ok(())
}
