//! The key-encryption key of `storage.key_file`: it seals the private half of each
//! signing key at rest with AES-256-GCM, a fresh random nonce per seal and the key id as
//! associated data, so a sealed key cannot be moved to another key id unnoticed.

use std::path::{Path, PathBuf};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use super::files;

/// The first byte of a sealed private key. PKCS#8 DER starts with 0x30 (a SEQUENCE), so
/// a sealed value and a plain one can never be mistaken for each other.
const SEALED: u8 = 0;

/// The length of a key file: exactly 32 random bytes.
pub const KEY_LEN: usize = 32;

/// A loaded key-encryption key. It is never printed.
pub struct SealKey {
    key: LessSafeKey,
    /// Who else may read or write its file, for the log and `/readyz`: a warning, not a
    /// refusal, since the mode of a systemd credential may show the group bits of its
    /// access list.
    warnings: Vec<String>,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(<redacted>)")
    }
}

/// Why a key file cannot be used; the message names the file, never its bytes.
#[derive(Debug, thiserror::Error)]
#[error("storage.key_file {}: {reason}", path.display())]
pub struct KeyFileError {
    pub path: PathBuf,
    pub reason: String,
}

/// Where `setting` points: a relative name is looked up in `credentials_dir` (systemd's
/// `$CREDENTIALS_DIRECTORY`, set by `LoadCredential=`) when there is one.
pub fn resolve(setting: &Path, credentials_dir: Option<&Path>) -> PathBuf {
    match credentials_dir {
        Some(dir) if setting.is_relative() => dir.join(setting),
        _ => setting.to_owned(),
    }
}

impl SealKey {
    /// Reads the key file at `path`, which must hold exactly 32 bytes.
    pub fn load(path: &Path) -> Result<SealKey, KeyFileError> {
        let bad = |reason: String| KeyFileError {
            path: path.to_owned(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot be read: {e}")))?;
        if bytes.len() != KEY_LEN {
            return Err(bad(format!(
                "must hold exactly {KEY_LEN} bytes, not {} (make one with \
                 `head -c 32 /dev/urandom > FILE`)",
                bytes.len()
            )));
        }
        let mut key = SealKey::from_bytes(&bytes)
            .ok_or_else(|| bad("is not a usable AES-256 key".to_owned()))?;
        key.warnings = files::mode_warnings("storage.key_file", path);
        Ok(key)
    }

    pub(super) fn from_bytes(bytes: &[u8]) -> Option<SealKey> {
        UnboundKey::new(&AES_256_GCM, bytes)
            .ok()
            .map(|key| SealKey {
                key: LessSafeKey::new(key),
                warnings: Vec::new(),
            })
    }

    /// Who else may read or write the key file.
    pub(super) fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// `private` sealed for the key id `kid`: the marker byte, the nonce, the ciphertext
    /// and its tag.
    pub(super) fn seal(&self, kid: &str, private: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).ok()?;
        let mut sealed = private.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut sealed,
            )
            .ok()?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(SEALED);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// The private key sealed for `kid`; `None` with the wrong key, another key id or an
    /// altered value.
    pub(super) fn open(&self, kid: &str, stored: &[u8]) -> Option<Vec<u8>> {
        let rest = stored.strip_prefix(&[SEALED])?;
        if rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }
}

/// Whether a stored private key is sealed.
pub(super) fn is_sealed(stored: &[u8]) -> bool {
    stored.first() == Some(&SEALED)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn key(byte: u8) -> SealKey {
        SealKey::from_bytes(&[byte; KEY_LEN]).unwrap()
    }

    #[test]
    fn seals_with_a_fresh_nonce_and_opens_only_for_the_same_key_and_id() {
        let private = b"\x30pkcs8 bytes".to_vec();
        let a = key(1).seal("kid-1", &private).unwrap();
        let b = key(1).seal("kid-1", &private).unwrap();
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(is_sealed(&a) && !is_sealed(&private));
        assert!(!a.windows(private.len()).any(|w| w == private.as_slice()));
        assert_eq!(key(1).open("kid-1", &a), Some(private));
        assert_eq!(key(2).open("kid-1", &a), None, "wrong key");
        assert_eq!(key(1).open("kid-2", &a), None, "moved to another key id");
        let mut altered = a.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(key(1).open("kid-1", &altered), None);
    }

    #[test]
    fn a_key_file_must_hold_32_bytes_and_is_never_echoed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, b"short secret").unwrap();
        let err = SealKey::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("storage.key_file") && err.contains("exactly 32"),
            "{err}"
        );
        assert!(!err.contains("short secret"));
        std::fs::write(&path, [7u8; 32]).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(SealKey::load(&path).unwrap().warnings().is_empty());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let warnings = SealKey::load(&path).unwrap().warnings;
        assert!(
            warnings[0].starts_with("storage.key_file ")
                && warnings[0].contains("readable by other users (mode 0644)"),
            "{warnings:?}"
        );
        let missing = SealKey::load(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("cannot be read"), "{missing}");
    }

    #[test]
    fn a_relative_name_is_read_from_the_credentials_directory() {
        let dir = Path::new("/run/credentials/keyhouse.service");
        assert_eq!(resolve(Path::new("kek"), Some(dir)), dir.join("kek"));
        assert_eq!(
            resolve(Path::new("/etc/k/kek"), Some(dir)),
            PathBuf::from("/etc/k/kek")
        );
        assert_eq!(resolve(Path::new("kek"), None), PathBuf::from("kek"));
    }
}
