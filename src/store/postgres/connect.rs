//! Reaching the database: the settings, and connections made from them, with TLS
//! through rustls (ring). A connection string may carry a password: only
//! [`PostgresOptions::location`], which has none, is ever shown.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use postgres::Client;
use postgres::config::{Config, Host};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::OpenError;

/// How to reach the database.
#[derive(Clone)]
pub struct PostgresOptions {
    /// A libpq connection string or `postgres://` URL; it may hold a password.
    pub url: String,
    /// Connections, one thread each.
    pub pool_size: usize,
    /// How long a connection attempt may take, per host.
    pub connect_timeout: Duration,
    /// The certificates (PEM) that the database's must chain to; without it, TLS
    /// (`sslmode=prefer`, libpq's default, or `require`) verifies against none and fails.
    pub ca_file: Option<PathBuf>,
    /// Whether other nodes' writes are found by polling a table of change counters
    /// rather than heard through `LISTEN` (`listen`).
    pub poll_changes: bool,
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("location", &self.location())
            .field("pool_size", &self.pool_size)
            .field("poll_changes", &self.poll_changes)
            .finish_non_exhaustive()
    }
}

impl PostgresOptions {
    /// Where the database is, without user or password: `postgres://a:5432,b:5432/db`.
    pub fn location(&self) -> String {
        let Ok(config) = parse(&self.url) else {
            return "postgres://(a connection string that does not parse)".to_owned();
        };
        let ports = config.get_ports();
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(at, host)| {
                let name = match host {
                    Host::Tcp(name) => name.clone(),
                    Host::Unix(path) => path.display().to_string(),
                };
                match ports.get(at).or(ports.first()) {
                    Some(port) => format!("{name}:{port}"),
                    None => name,
                }
            })
            .collect();
        format!(
            "postgres://{}/{}",
            hosts.join(","),
            config.get_dbname().unwrap_or("")
        )
    }
}

/// libpq's `sslmode=verify-full` and `verify-ca` are what every TLS connection here
/// does (rustls checks the chain and the host name), so they are read as `require`,
/// the mode the client library knows.
fn parse(url: &str) -> Result<Config, postgres::Error> {
    url.replace("sslmode=verify-full", "sslmode=require")
        .replace("sslmode=verify-ca", "sslmode=require")
        .parse()
}

/// Makes connections from the settings.
#[derive(Clone)]
pub(super) struct Connector {
    config: Config,
    tls: MakeRustlsConnect,
}

impl Connector {
    pub(super) fn new(options: &PostgresOptions) -> Result<Connector, OpenError> {
        let refused = |reason: String| OpenError::Open {
            path: options.location().into(),
            reason,
        };
        // The client's own message may quote the string, password and all.
        let mut config = parse(&options.url)
            .map_err(|_| refused("storage.postgres.url is not a connection string".to_owned()))?;
        config.connect_timeout(options.connect_timeout);
        // A database that vanished without closing the connection (a host down, a
        // network cut) fails a statement after this long, not after the kernel's
        // retransmissions (some fifteen minutes).
        config.tcp_user_timeout(options.connect_timeout);
        config.keepalives_idle(options.connect_timeout);
        config.application_name("keyhouse");
        let mut roots = rustls::RootCertStore::empty();
        if let Some(ca_file) = &options.ca_file {
            let certs = CertificateDer::pem_file_iter(ca_file)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|err| refused(format!("{}: {err}", ca_file.display())))?;
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|err| refused(format!("{}: {err}", ca_file.display())))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| refused(err.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Connector {
            config,
            tls: MakeRustlsConnect::new(tls),
        })
    }

    /// A new connection, to the first host that takes it (and that is writable, when
    /// the string asks `target_session_attrs=read-write`).
    pub(super) fn connect(&self) -> Result<Client, postgres::Error> {
        self.config.connect(self.tls.clone())
    }
}
