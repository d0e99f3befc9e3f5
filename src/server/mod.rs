//! Assembles keyhouse: opens the store, bootstraps the first admin (`prepare`), builds
//! the app (`app`), serves it on its listener (`listen`), with TLS when set (`tls`),
//! and binds, runs and stops it (`run`).

mod app;
mod listen;
mod prepare;
mod run;
mod signals;
mod tls;

use crate::api;
use crate::config::ConfigError;
use crate::error::Error;
use crate::store::{KeyFileError, OpenError};

pub use run::{Bound, Spawned, bind, serve, spawn, spawn_with_clock};
pub use tls::Certificate;

/// Why the server could not start, in words for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error("cannot prepare the database: {0:?}")]
    Store(#[from] Error),
    #[error("cannot serve on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen for signals: {0}")]
    Signals(#[source] std::io::Error),
    #[error("cannot build the OpenAPI document: {0}")]
    OpenApi(#[from] serde_json::Error),
    #[error("invalid setting {setting}: {reason}")]
    Tls {
        setting: &'static str,
        reason: String,
    },
}

/// The OpenAPI document as served, with a final newline.
pub fn openapi_json() -> Result<String, serde_json::Error> {
    Ok(api::openapi().to_pretty_json()? + "\n")
}
