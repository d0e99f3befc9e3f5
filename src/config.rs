//! Settings: built-in defaults, then a TOML file, then `KEYHOUSE_*` environment
//! variables, each overriding the one before; then one validation that names any bad
//! setting. Passed to the server as a value, never read from a global.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::auth::secret::Secret;

/// The prefix of environment overrides: `KEYHOUSE_SERVER__LISTEN` is `server.listen`.
pub const ENV_PREFIX: &str = "KEYHOUSE_";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub bootstrap: BootstrapConfig,
    pub credentials: CredentialsConfig,
    pub oauth: OauthConfig,
    pub security: SecurityConfig,
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
            body_read_timeout_seconds: 10,
        }
    }
}

/// The most `server.max_connections` may be.
pub const MAX_CONNECTIONS: usize = 1_000_000;
/// The most `server.body_read_timeout_seconds` may be.
pub const MAX_BODY_READ_TIMEOUT_SECONDS: u64 = 300;

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
    /// How often redb's integrity check runs while serving; 0 = only at start.
    pub integrity_check_interval_seconds: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            path: PathBuf::from("./keyhouse.redb"),
            key_file: None,
            integrity_check_interval_seconds: 86400,
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CredentialsConfig {
    /// Unexpired credentials allowed per account.
    pub max_active: u32,
    /// Lifetime of a credential created without `expires_at`.
    pub default_lifetime_days: u32,
    /// The furthest `expires_at` a credential may have.
    pub max_lifetime_days: u32,
    /// How often last-use times are written, in one batch.
    pub last_used_flush_seconds: u64,
}

impl Default for CredentialsConfig {
    fn default() -> Self {
        CredentialsConfig {
            max_active: 5,
            default_lifetime_days: 365,
            max_lifetime_days: 730,
            last_used_flush_seconds: 5,
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
}

impl Default for OauthConfig {
    fn default() -> Self {
        OauthConfig {
            issuer: None,
            audience: "keyhouse".to_owned(),
            access_token_ttl_seconds: 3600,
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

/// A setting that cannot be used, named.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid setting {0}")]
    Parse(String),
    #[error("invalid setting {setting}: {reason}")]
    Invalid { setting: String, reason: String },
}

fn invalid(setting: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.to_owned(),
        reason: reason.into(),
    }
}

impl Config {
    /// Defaults, then `file`, then the `KEYHOUSE_*` variables of `env`, validated.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut tree = toml::Table::try_from(Config::default())
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let from_file: toml::Table = toml::from_str(&text)
                .map_err(|e| ConfigError::Parse(format!("in {}: {e}", path.display())))?;
            merge(&mut tree, from_file);
        }
        for (key, value) in env {
            if let Some(setting) = key.strip_prefix(ENV_PREFIX) {
                override_from_env(&mut tree, &key, setting, value)?;
            }
        }
        let config: Config = tree
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse(e.message().to_owned()))?;
        config.validate()?;
        Ok(config)
    }

    /// `socket address` of `server.listen`.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server.listen.parse().map_err(|_| {
            invalid(
                "server.listen",
                "must be an address and port, like 127.0.0.1:8080",
            )
        })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        if self.server.max_body_bytes == 0 {
            return Err(invalid("server.max_body_bytes", "must be at least 1"));
        }
        if let Some(tls) = &self.server.tls
            && tls.cert_file.is_none() != tls.key_file.is_none()
        {
            return Err(invalid("server.tls", "cert_file and key_file go together"));
        }
        if !(1..=MAX_CONNECTIONS).contains(&self.server.max_connections) {
            return Err(invalid(
                "server.max_connections",
                format!("must be from 1 to {MAX_CONNECTIONS}"),
            ));
        }
        if !(1..=MAX_BODY_READ_TIMEOUT_SECONDS).contains(&self.server.body_read_timeout_seconds) {
            return Err(invalid(
                "server.body_read_timeout_seconds",
                format!("must be from 1 to {MAX_BODY_READ_TIMEOUT_SECONDS}"),
            ));
        }
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
        let c = &self.credentials;
        if c.max_active == 0 {
            return Err(invalid("credentials.max_active", "must be at least 1"));
        }
        if c.max_lifetime_days == 0 {
            return Err(invalid(
                "credentials.max_lifetime_days",
                "must be at least 1",
            ));
        }
        if c.default_lifetime_days == 0 || c.default_lifetime_days > c.max_lifetime_days {
            return Err(invalid(
                "credentials.default_lifetime_days",
                "must be from 1 to credentials.max_lifetime_days",
            ));
        }
        if c.last_used_flush_seconds == 0 {
            return Err(invalid(
                "credentials.last_used_flush_seconds",
                "must be at least 1",
            ));
        }
        if self.oauth.access_token_ttl_seconds == 0 {
            return Err(invalid(
                "oauth.access_token_ttl_seconds",
                "must be at least 1",
            ));
        }
        if self.oauth.audience.is_empty() {
            return Err(invalid("oauth.audience", "must not be empty"));
        }
        if self.security.max_auth_failures == 0 {
            return Err(invalid("security.max_auth_failures", "must be at least 1"));
        }
        if self.security.auth_failure_window_seconds == 0 {
            return Err(invalid(
                "security.auth_failure_window_seconds",
                "must be at least 1",
            ));
        }
        self.bootstrap_secret().map(|_| ())
    }

    /// The admin secret the settings supply for the first start, if any.
    pub fn bootstrap_secret(&self) -> Result<Option<Secret>, ConfigError> {
        let b = &self.bootstrap;
        let (setting, text) = match (&b.admin_token, &b.admin_token_file) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "bootstrap.admin_token",
                    "set admin_token or admin_token_file, not both",
                ));
            }
            (Some(token), None) => ("bootstrap.admin_token", token.clone()),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    invalid(
                        "bootstrap.admin_token_file",
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                ("bootstrap.admin_token_file", text.trim().to_owned())
            }
            (None, None) => return Ok(None),
        };
        Secret::parse(&text)
            .map(Some)
            .map_err(|_| invalid(setting, "is not a valid kh_ secret"))
    }

    /// The PEM certificate chain and key, when TLS is on.
    pub fn tls_files(&self) -> Option<(&Path, &Path)> {
        let tls = self.server.tls.as_ref()?;
        Some((tls.cert_file.as_deref()?, tls.key_file.as_deref()?))
    }

    /// `oauth.issuer`, or `http://` (`https://` with TLS) + the address the server is
    /// bound to (`server.listen`, with the port the system chose if that was 0).
    pub fn issuer(&self, bound: SocketAddr) -> String {
        let scheme = if self.tls_files().is_some() {
            "https"
        } else {
            "http"
        };
        self.oauth
            .issuer
            .clone()
            .map(|issuer| issuer.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("{scheme}://{bound}"))
    }
}

/// Lays `overlay` over `base`, table by table.
fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(value)) => merge(inner, value),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Sets the setting `SECTION__KEY` (already without the prefix) from an environment
/// variable, typed like the setting's default: a number for a number, else a string.
fn override_from_env(
    tree: &mut toml::Table,
    variable: &str,
    setting: &str,
    value: String,
) -> Result<(), ConfigError> {
    let path: Vec<String> = setting.split("__").map(str::to_lowercase).collect();
    let name = path.join(".");
    let unknown = || ConfigError::Parse(format!("{name} (from {variable}): no such setting"));
    let (last, sections) = path.split_last().ok_or_else(unknown)?;
    let mut table = &mut *tree;
    for section in sections {
        table = table
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(unknown)?;
    }
    let typed = match table.get(last) {
        Some(toml::Value::Integer(_)) => value
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| invalid(&name, format!("{variable} must be a whole number")))?,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn defaults_are_the_contracts() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:8080");
        assert_eq!(c.server.max_body_bytes, 65536);
        assert_eq!(c.storage.path, PathBuf::from("./keyhouse.redb"));
        assert_eq!(c.storage.key_file, None);
        assert_eq!(c.storage.integrity_check_interval_seconds, 86400);
        assert_eq!(c.credentials.max_active, 5);
        assert_eq!(c.credentials.default_lifetime_days, 365);
        assert_eq!(c.credentials.max_lifetime_days, 730);
        assert_eq!(c.credentials.last_used_flush_seconds, 5);
        assert_eq!(c.oauth.audience, "keyhouse");
        assert_eq!(c.oauth.access_token_ttl_seconds, 3600);
        assert_eq!(c.issuer(c.listen_addr().unwrap()), "http://127.0.0.1:8080");
        assert_eq!(c.security.max_auth_failures, 20);
        assert_eq!(c.security.auth_failure_window_seconds, 60);
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        std::fs::write(
            &file,
            "[server]\nlisten = \"127.0.0.1:9000\"\n[credentials]\nmax_active = 3\n",
        )
        .unwrap();
        let c = Config::load(Some(&file), env(&[])).unwrap();
        assert_eq!(
            (c.server.listen.as_str(), c.credentials.max_active),
            ("127.0.0.1:9000", 3)
        );
        let c = Config::load(
            Some(&file),
            env(&[
                ("KEYHOUSE_CREDENTIALS__MAX_ACTIVE", "7"),
                ("KEYHOUSE_OAUTH__AUDIENCE", "123"),
                ("OTHER", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.credentials.max_active, 7);
        assert_eq!(c.oauth.audience, "123");
        assert_eq!(c.server.listen, "127.0.0.1:9000");
    }

    #[test]
    fn bad_settings_are_named() {
        let err =
            Config::load(None, env(&[("KEYHOUSE_CREDENTIALS__MAX_ACTIVE", "many")])).unwrap_err();
        assert!(err.to_string().contains("credentials.max_active"), "{err}");
        let err = Config::load(None, env(&[("KEYHOUSE_SERVER__LISTEN", "nowhere")])).unwrap_err();
        assert!(err.to_string().contains("server.listen"), "{err}");
        let err = Config::load(None, env(&[("KEYHOUSE_STORAGE__KEY_FILE", "")])).unwrap_err();
        assert!(err.to_string().contains("storage.key_file"), "{err}");
        let err = Config::load(None, env(&[("KEYHOUSE_NOPE__X", "1")])).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        let err =
            Config::load(None, env(&[("KEYHOUSE_BOOTSTRAP__ADMIN_TOKEN", "kh_nope")])).unwrap_err();
        assert!(err.to_string().contains("bootstrap.admin_token"), "{err}");
        assert!(
            !err.to_string().contains("kh_nope"),
            "never echo a secret: {err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "[server]\nlisen = \"x\"\n").unwrap();
        let err = Config::load(Some(&file), env(&[])).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }

    #[test]
    fn connection_settings_are_bounded() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c.server.max_connections, 768);
        assert_eq!(c.server.body_read_timeout_seconds, 10);
        for (var, value, named) in [
            ("KEYHOUSE_SERVER__MAX_CONNECTIONS", "0", "from 1 to 1000000"),
            (
                "KEYHOUSE_SERVER__MAX_CONNECTIONS",
                "1000001",
                "from 1 to 1000000",
            ),
            (
                "KEYHOUSE_SERVER__BODY_READ_TIMEOUT_SECONDS",
                "0",
                "from 1 to 300",
            ),
            (
                "KEYHOUSE_SERVER__BODY_READ_TIMEOUT_SECONDS",
                "301",
                "from 1 to 300",
            ),
        ] {
            let err = Config::load(None, env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            let setting = var.trim_start_matches("KEYHOUSE_SERVER__").to_lowercase();
            assert!(err.contains(&format!("server.{setting}")), "{err}");
            assert!(err.contains(named), "{err}");
        }
    }

    #[test]
    fn the_admin_token_may_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        let secret = Secret::generate().unwrap();
        std::fs::write(&file, format!("{}\n", secret.expose())).unwrap();
        let path = file.to_string_lossy().into_owned();
        let c = Config::load(
            None,
            env(&[("KEYHOUSE_BOOTSTRAP__ADMIN_TOKEN_FILE", &path)]),
        )
        .unwrap();
        assert_eq!(c.bootstrap_secret().unwrap(), Some(secret));
    }
}
