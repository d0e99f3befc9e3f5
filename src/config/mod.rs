//! Settings: built-in defaults, then a TOML file, then `KEYHOUSE_*` environment
//! variables, each overriding the one before; then one validation that names any bad
//! setting and bounds every number. Passed to the server as a value, never read from a
//! global.
//!
//! `settings` holds the sections and their defaults, `file` reads the TOML file, `env`
//! the environment, `bounds` validates.

mod bounds;
mod env;
mod file;
mod log_settings;
pub mod report;
mod settings;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::auth::secret::Secret;
use crate::store::{Location, PostgresOptions, resolve_key_file};

pub use bounds::{MAX_BODY_READ_TIMEOUT_SECONDS, MAX_CONNECTIONS};
pub use env::{ENV_PREFIX, SETTINGS};
pub use log_settings::{LogConfig, LogFormat};
pub use settings::{
    AccessTokenTyp, Backend, BootstrapConfig, ChangeFeed, Config, CredentialsConfig, OauthConfig,
    PostgresConfig, SecurityConfig, ServerConfig, StorageConfig, TlsConfig,
};

/// A setting that cannot be used, named.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A TOML error in the file, at its line: bad syntax, or a key or value that is
    /// not a setting.
    #[error("{}, line {line}: {what}", path.display())]
    File {
        path: PathBuf,
        line: usize,
        what: String,
    },
    #[error("invalid setting {0}")]
    Parse(String),
    /// A value of the wrong type, described by [`file::describe`].
    #[error("{0}")]
    Type(String),
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
    /// Variables of that prefix that are not settings (no `__` in their name) are left
    /// alone, with one warning naming them; the client's (`KEYHOUSE_URL`, ...) without.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut tree = toml::Table::try_from(Config::default())
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        if let Some(path) = file {
            file::merge(&mut tree, file::read(path)?);
        }
        let ignored = env::apply(&mut tree, env)?;
        if !ignored.is_empty() {
            log::warn!(
                "ignoring {} (not settings: a setting is {ENV_PREFIX}SECTION__KEY)",
                ignored.join(", ")
            );
        }
        let config: Config = tree
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Type(file::describe(&e, None)))?;
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

    /// Where the settings put the data: the redb file, or the PostgreSQL database (its
    /// connection string read from `url_file` when that is set).
    pub fn storage_location(&self) -> Result<Location, ConfigError> {
        let storage = &self.storage;
        if storage.backend == Backend::Redb {
            return Ok(Location::File(storage.path.clone()));
        }
        let pg = &storage.postgres;
        let url = match (&pg.url, &pg.url_file) {
            (Some(url), _) => url.clone(),
            (None, Some(file)) => {
                let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
                let file = resolve_key_file(file, credentials.as_deref());
                std::fs::read_to_string(&file)
                    .map_err(|err| {
                        invalid(
                            "storage.postgres.url_file",
                            format!("cannot read {}: {err}", file.display()),
                        )
                    })?
                    .trim()
                    .to_owned()
            }
            (None, None) => return Err(invalid("storage.postgres.url", "is not set")),
        };
        Ok(Location::Postgres(PostgresOptions {
            url,
            pool_size: pg.pool_size,
            connect_timeout: Duration::from_secs(pg.connect_timeout_seconds),
            ca_file: pg.ca_file.clone(),
            poll_changes: pg.changes == ChangeFeed::Poll,
        }))
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
