//! The rustls configuration of `server.tls`.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::StartError;

/// The rustls configuration of `server.tls`, with ring as its cryptography.
pub(super) fn tls_config(
    cert_file: &Path,
    key_file: &Path,
) -> Result<rustls::ServerConfig, StartError> {
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
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("server.tls", e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            bad(
                "server.tls.key_file",
                format!("does not match the certificate: {e}"),
            )
        })
}
