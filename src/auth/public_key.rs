//! Public keys of `public_key` credentials: PEM SubjectPublicKeyInfo of EC P-256 or
//! Ed25519, checked at upload. They sign OAuth client assertions (RFC 7523), verified
//! here, and keys nobody holds pad the keys an assertion is checked against.

use ring::agreement;
use ring::digest;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
    Ed25519KeyPair, KeyPair, UnparsedPublicKey, VerificationAlgorithm,
};

use rustls::pki_types::SubjectPublicKeyInfoDer;
use rustls::pki_types::pem::{self, PemObject};

use crate::domain::{CredentialKind, KeyAlgorithm};
use crate::error::Error;

/// The DER of a SubjectPublicKeyInfo up to the key bits: SEQUENCE, the algorithm
/// (id-ecPublicKey with prime256v1), BIT STRING of 66 bytes with no unused bits, then
/// an uncompressed point (0x04).
const P256_PREFIX: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
const P256_POINT_LEN: usize = 65;

/// The same for Ed25519 (OID 1.3.101.112, no parameters, 32 key bytes).
const ED25519_PREFIX: &[u8] = &[
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
const ED25519_KEY_LEN: usize = 32;

/// A checked public key: its algorithm, the key bytes ring verifies with, and the DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub algorithm: KeyAlgorithm,
    /// The uncompressed point (P-256) or the 32 key bytes (Ed25519).
    pub key: Vec<u8>,
    pub der: Vec<u8>,
}

fn invalid(reason: &str) -> Error {
    Error::invalid("public_key", reason)
}

impl PublicKey {
    /// Parses a PEM `PUBLIC KEY` block, with the PEM reader of rustls' key types (the
    /// one that reads the TLS files); anything else is 400 with the reason.
    pub fn from_pem(pem: &str) -> Result<PublicKey, Error> {
        let der = SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes()).map_err(|e| match e {
            pem::Error::NoItemsFound => {
                invalid("must be a PEM block '-----BEGIN PUBLIC KEY-----' (SubjectPublicKeyInfo)")
            }
            _ => invalid("the PEM body is not valid base64"),
        })?;
        Self::from_der(der.to_vec())
    }

    fn from_der(der: Vec<u8>) -> Result<PublicKey, Error> {
        if let Some(point) = der.strip_prefix(P256_PREFIX) {
            if point.len() != P256_POINT_LEN || point[0] != 0x04 {
                return Err(invalid("an EC P-256 key must be an uncompressed point"));
            }
            check_p256_point(point)?;
            return Ok(PublicKey {
                algorithm: KeyAlgorithm::EcP256,
                key: point.to_vec(),
                der,
            });
        }
        if let Some(key) = der.strip_prefix(ED25519_PREFIX) {
            if key.len() != ED25519_KEY_LEN {
                return Err(invalid("an Ed25519 key must be 32 bytes"));
            }
            return Ok(PublicKey {
                algorithm: KeyAlgorithm::Ed25519,
                key: key.to_vec(),
                der,
            });
        }
        Err(invalid(
            "unsupported key: only EC P-256 and Ed25519 public keys are accepted",
        ))
    }

    /// What the store keeps of this key, as a kind of credential.
    pub fn credential_kind(&self) -> CredentialKind {
        CredentialKind::PublicKey {
            algorithm: self.algorithm,
            key: self.key.clone(),
            fingerprint: self.fingerprint(),
        }
    }

    /// Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo.
    pub fn fingerprint(&self) -> String {
        digest::digest(&digest::SHA256, &self.der)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Whether `signature` over `message` verifies with `key`: an uncompressed P-256 point
/// and ES256's fixed-size `r‖s`, or an Ed25519 key and an EdDSA signature. ring parses
/// the key anew on every call, so a stored key and a padding key cost the same.
pub fn verifies(algorithm: KeyAlgorithm, key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let algorithm: &dyn VerificationAlgorithm = match algorithm {
        KeyAlgorithm::EcP256 => &ECDSA_P256_SHA256_FIXED,
        KeyAlgorithm::Ed25519 => &ED25519,
    };
    UnparsedPublicKey::new(algorithm, key)
        .verify(message, signature)
        .is_ok()
}

/// One public key of each algorithm whose private half was dropped as soon as it was
/// made: made once at start, they verify no assertion, and fill the keys an assertion
/// is checked against up to the same number for every client.
#[derive(Debug)]
pub struct PaddingKeys {
    ec_p256: Vec<u8>,
    ed25519: Vec<u8>,
}

impl PaddingKeys {
    pub fn generate() -> Result<PaddingKeys, Error> {
        let failed = |_| Error::internal("the system random generator failed");
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(failed)?;
        let ec = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| Error::internal("a new P-256 key did not parse"))?;
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(failed)?;
        let ed = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
            .map_err(|_| Error::internal("a new Ed25519 key did not parse"))?;
        Ok(PaddingKeys {
            ec_p256: ec.public_key().as_ref().to_vec(),
            ed25519: ed.public_key().as_ref().to_vec(),
        })
    }

    /// The padding key of `algorithm`.
    pub fn of(&self, algorithm: KeyAlgorithm) -> &[u8] {
        match algorithm {
            KeyAlgorithm::EcP256 => &self.ec_p256,
            KeyAlgorithm::Ed25519 => &self.ed25519,
        }
    }
}

/// A P-256 point is checked by an ECDH agreement with a throwaway key: ring refuses a
/// point that is not on the curve.
fn check_p256_point(point: &[u8]) -> Result<(), Error> {
    let rng = SystemRandom::new();
    let mine = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng)
        .map_err(|_| Error::internal("the system random generator failed"))?;
    let theirs = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, point);
    agreement::agree_ephemeral(mine, &theirs, |_| ())
        .map_err(|_| invalid("the EC point is not on the P-256 curve"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    fn pem(der: &[u8]) -> String {
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(der)
        )
    }

    #[test]
    fn accepts_p256_and_ed25519_keys_made_by_ring() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let der = [P256_PREFIX, pair.public_key().as_ref()].concat();
        let key = PublicKey::from_pem(&pem(&der)).unwrap();
        assert_eq!(key.algorithm, KeyAlgorithm::EcP256);
        assert_eq!(key.key, pair.public_key().as_ref());
        assert_eq!(key.fingerprint().len(), 64);

        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let der = [ED25519_PREFIX, pair.public_key().as_ref()].concat();
        let key = PublicKey::from_pem(&pem(&der)).unwrap();
        assert_eq!(key.algorithm, KeyAlgorithm::Ed25519);
    }

    #[test]
    fn padding_keys_are_valid_keys_of_their_algorithm_that_verify_nothing() {
        let padding = PaddingKeys::generate().unwrap();
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let signature = pair.sign(&rng, b"h.p").unwrap();
        let ec = KeyAlgorithm::EcP256;
        assert!(verifies(
            ec,
            pair.public_key().as_ref(),
            b"h.p",
            signature.as_ref()
        ));
        assert!(!verifies(
            ec,
            pair.public_key().as_ref(),
            b"h.q",
            signature.as_ref()
        ));
        assert!(!verifies(ec, padding.of(ec), b"h.p", signature.as_ref()));
        // A point ring accepts as a key, as upload would: padding costs a verification.
        let der = [P256_PREFIX, padding.of(ec)].concat();
        assert_eq!(PublicKey::from_der(der).unwrap().algorithm, ec);

        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let signature = pair.sign(b"h.p");
        let ed = KeyAlgorithm::Ed25519;
        assert!(verifies(
            ed,
            pair.public_key().as_ref(),
            b"h.p",
            signature.as_ref()
        ));
        assert!(!verifies(ed, padding.of(ed), b"h.p", signature.as_ref()));
        let der = [ED25519_PREFIX, padding.of(ed)].concat();
        assert_eq!(PublicKey::from_der(der).unwrap().algorithm, ed);
    }

    #[test]
    fn refuses_bad_keys_with_a_reason() {
        assert!(PublicKey::from_pem("not pem").is_err());
        assert!(PublicKey::from_pem(&pem(b"garbage")).is_err());
        let mut off_curve = [P256_PREFIX, &[0x04], &[1u8; 64]].concat();
        let err = PublicKey::from_pem(&pem(&off_curve)).unwrap_err();
        assert!(err.to_string().contains("curve"), "{err}");
        off_curve.truncate(off_curve.len() - 1);
        assert!(PublicKey::from_pem(&pem(&off_curve)).is_err());
        let rsa_like = [&[0x30, 0x82, 0x01, 0x22][..], &[0u8; 290]].concat();
        let err = PublicKey::from_pem(&pem(&rsa_like)).unwrap_err();
        assert!(
            err.to_string().contains("only EC P-256 and Ed25519"),
            "{err}"
        );
        let short_ed = [ED25519_PREFIX, &[7u8; 31]].concat();
        assert!(PublicKey::from_pem(&pem(&short_ed)).is_err());
    }
}
