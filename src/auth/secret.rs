//! The `kh_` secret: `kh_`, 40 random base62 characters, then 6 base62 characters of the
//! CRC-32 (IEEE) of the 43 characters before them. The checksum lets a malformed or
//! mistyped secret be refused before any database read.

use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};

use crate::domain::{AuthFailure, CredentialKind, NewCredential, Timestamp};
use crate::error::Error;

pub const PREFIX: &str = "kh_";
const RANDOM_LEN: usize = 40;
const CHECK_LEN: usize = 6;
/// `kh_` + 40 + 6.
pub const SECRET_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECK_LEN;
/// How much of a secret its credential shows as `prefix`.
pub const SHOWN_PREFIX_LEN: usize = 8;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A whole secret. Its `Debug` shows only the prefix, so it cannot leak through a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({}…)", self.prefix())
    }
}

/// The 6 base62 digits of the CRC-32 of `text`, most significant first, zero-padded.
fn checksum(text: &str) -> [u8; CHECK_LEN] {
    let mut crc = crc32fast::hash(text.as_bytes());
    let mut digits = [b'0'; CHECK_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(crc % 62) as usize];
        crc /= 62;
    }
    digits
}

impl Secret {
    /// A new secret from the operating system's secure random generator.
    pub fn generate() -> Result<Secret, Error> {
        let rng = SystemRandom::new();
        let mut text = String::with_capacity(SECRET_LEN);
        text.push_str(PREFIX);
        let mut bytes = [0u8; 64];
        while text.len() < PREFIX.len() + RANDOM_LEN {
            rng.fill(&mut bytes)
                .map_err(|_| Error::internal("the system random generator failed"))?;
            // 248 = 4 * 62: rejecting bytes at or above it keeps every digit equally likely.
            for b in bytes.iter().filter(|b| **b < 248) {
                if text.len() == PREFIX.len() + RANDOM_LEN {
                    break;
                }
                text.push(char::from(BASE62[usize::from(*b % 62)]));
            }
        }
        let check = checksum(&text);
        text.extend(check.iter().map(|b| char::from(*b)));
        Ok(Secret(text))
    }

    /// Checks the format and the checksum; touches no storage.
    pub fn parse(value: &str) -> Result<Secret, Error> {
        let malformed = || Error::Unauthenticated(AuthFailure::Malformed);
        if value.len() != SECRET_LEN || !value.starts_with(PREFIX) {
            return Err(malformed());
        }
        let (body, check) = value.split_at(PREFIX.len() + RANDOM_LEN);
        // Base62's digits are exactly ASCII's letters and digits; a test holds them so.
        if !body[PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
        {
            return Err(malformed());
        }
        if check.as_bytes() != checksum(body) {
            return Err(malformed());
        }
        Ok(Secret(value.to_owned()))
    }

    /// Whether `value` claims to be a `kh_` secret, rather than an access token.
    pub fn looks_like(value: &str) -> bool {
        value.starts_with(PREFIX)
    }

    /// The secret itself: only for the one response that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn prefix(&self) -> &str {
        &self.0[..SHOWN_PREFIX_LEN]
    }

    /// What the store keeps of this secret: its hash and prefix, never the secret.
    pub fn to_credential(&self, name: String, expires_at: Option<Timestamp>) -> NewCredential {
        NewCredential {
            name,
            expires_at,
            kind: self.credential_kind(),
        }
    }

    /// The secret as a kind of credential: its hash and prefix, never the secret.
    pub fn credential_kind(&self) -> CredentialKind {
        CredentialKind::Secret {
            prefix: self.prefix().to_owned(),
            hash: self.hash(),
        }
    }

    /// SHA-256 of the secret: all that is stored of it.
    pub fn hash(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest::digest(&digest::SHA256, self.0.as_bytes()).as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_parse_and_differ() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 49);
        assert!(a.expose().starts_with("kh_"));
        assert_eq!(Secret::parse(a.expose()).unwrap(), a);
        assert!(a.expose()[3..].bytes().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn checksum_matches_an_independent_computation() {
        // CRC-32 (IEEE) of "kh_" followed by 40 zeros, computed with Python's zlib.crc32,
        // written in base62, most significant digit first.
        let body = format!("kh_{}", "0".repeat(40));
        let crc = crc32fast::hash(body.as_bytes());
        let mut expected = String::new();
        let mut n = u64::from(crc);
        for _ in 0..6 {
            expected.insert(0, char::from(BASE62[(n % 62) as usize]));
            n /= 62;
        }
        assert_eq!(std::str::from_utf8(&checksum(&body)).unwrap(), expected);
        assert!(Secret::parse(&format!("{body}{expected}")).is_ok());
    }

    #[test]
    fn checksum_is_zero_padded() {
        // Find a body whose CRC is small enough to need padding.
        let digits = checksum("");
        assert_eq!(digits, *b"000000", "crc32 of the empty string is 0");
    }

    /// `parse` checks the alphabet as ASCII's letters and digits.
    #[test]
    fn base62_is_ascii_letters_and_digits() {
        let ascii: Vec<u8> = (0..=u8::MAX).filter(u8::is_ascii_alphanumeric).collect();
        assert_eq!(ascii, BASE62.to_vec());
    }

    #[test]
    fn bad_secrets_are_refused() {
        let good = Secret::generate().unwrap();
        let text = good.expose();
        assert!(Secret::parse("").is_err());
        assert!(Secret::parse(&text[..48]).is_err());
        assert!(Secret::parse(&format!("{text}0")).is_err());
        assert!(Secret::parse(&text.replacen("kh_", "kx_", 1)).is_err());
        // One changed character of the random part breaks the checksum.
        let mut chars: Vec<char> = text.chars().collect();
        chars[10] = if chars[10] == 'a' { 'b' } else { 'a' };
        let flipped: String = chars.iter().collect();
        assert!(Secret::parse(&flipped).is_err());
        // A character outside the alphabet, even with a matching checksum.
        let body = format!("kh_{}-", "0".repeat(39));
        let check = checksum(&body);
        let bad = format!("{body}{}", std::str::from_utf8(&check).unwrap());
        assert!(Secret::parse(&bad).is_err());
        // Multi-byte text of the right byte length must not panic.
        assert!(Secret::parse(&format!("kh_{}", "é".repeat(23))).is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = Secret::generate().unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains(&s.expose()[8..]));
    }
}
