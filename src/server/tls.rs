//! The rustls configuration of `server.tls`, and the certificate it serves, which
//! `SIGHUP` replaces with the files' current content (a certificate renewed by an ACME
//! client) without a restart: handshakes after the swap get the new one, connections
//! already open keep theirs.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::StartError;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificate chain and key of `server.tls`, read from their files, and the
/// files, to read again.
#[derive(Debug)]
pub struct Certificate {
    cert_file: PathBuf,
    key_file: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificate {
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<Certificate, StartError> {
        Ok(Certificate {
            current: RwLock::new(Arc::new(read(cert_file, key_file)?)),
            cert_file: cert_file.to_owned(),
            key_file: key_file.to_owned(),
        })
    }

    /// Reads the files again and serves what they hold from the next handshake on; on
    /// any error, keeps serving the certificate it has.
    pub fn reload(&self) -> Result<(), StartError> {
        let fresh = read(&self.cert_file, &self.key_file)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        Ok(())
    }

    pub fn cert_file(&self) -> &Path {
        &self.cert_file
    }
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

/// The chain of `cert_file` and the key of `key_file`, which must match.
fn read(cert_file: &Path, key_file: &Path) -> Result<CertifiedKey, StartError> {
    let bad = |setting, reason: String| StartError::Tls { setting, reason };
    let certs = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            bad(
                "server.tls.cert_file",
                format!("{}: {e}", cert_file.display()),
            )
        })?;
    if certs.is_empty() {
        return Err(bad(
            "server.tls.cert_file",
            format!("{} holds no certificate", cert_file.display()),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| {
        bad(
            "server.tls.key_file",
            format!("{}: {e}", key_file.display()),
        )
    })?;
    CertifiedKey::from_der(certs, key, &provider()).map_err(|e| {
        bad(
            "server.tls.key_file",
            format!("does not match the certificate: {e}"),
        )
    })
}

/// The rustls configuration serving `certificate`, with ring as its cryptography.
pub(super) fn tls_config(
    certificate: Arc<Certificate>,
) -> Result<rustls::ServerConfig, StartError> {
    Ok(rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| StartError::Tls {
            setting: "server.tls",
            reason: e.to_string(),
        })?
        .with_no_client_auth()
        .with_cert_resolver(certificate))
}
