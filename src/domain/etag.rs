//! Etags and `If-Match`: optimistic concurrency for `PATCH`, `PUT` and `DELETE`.

use ring::digest;

use crate::error::Error;

/// The bare etag of a stored object: 16 hex digits of the SHA-256 of its stored bytes,
/// so it changes exactly when the object does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Etag(String);

impl Etag {
    pub fn of(stored: &[u8]) -> Etag {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = digest::digest(&digest::SHA256, stored);
        let mut hex = String::with_capacity(16);
        for byte in &digest.as_ref()[..8] {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        Etag(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A parsed `If-Match` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any existing object.
    Any,
    /// One or more etags, quoted or bare, weak prefixes dropped.
    Tags(Vec<String>),
}

impl IfMatch {
    pub fn parse(header: &str) -> IfMatch {
        let tags: Vec<String> = header
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.trim_start_matches("W/").trim_matches('"').to_owned())
            .collect();
        if tags.iter().any(|t| t == "*") {
            IfMatch::Any
        } else {
            IfMatch::Tags(tags)
        }
    }

    pub fn check(&self, current: &Etag) -> Result<(), Error> {
        match self {
            IfMatch::Any => Ok(()),
            IfMatch::Tags(tags) if tags.iter().any(|t| t == current.as_str()) => Ok(()),
            IfMatch::Tags(_) => Err(Error::StaleEtag),
        }
    }
}

/// Checks an optional `If-Match` against the current etag.
pub fn check_if_match(if_match: Option<&IfMatch>, current: &Etag) -> Result<(), Error> {
    if_match.map_or(Ok(()), |m| m.check(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_follow_content() {
        assert_eq!(Etag::of(b"a"), Etag::of(b"a"));
        assert_ne!(Etag::of(b"a"), Etag::of(b"b"));
        assert_eq!(Etag::of(b"a").as_str().len(), 16);
        // The first 8 bytes of SHA-256("abc"), in lower-case hex.
        assert_eq!(Etag::of(b"abc").as_str(), "ba7816bf8f01cfea");
    }

    #[test]
    fn if_match_accepts_quoted_bare_and_star() {
        let tag = Etag::of(b"x");
        let quoted = format!("\"{}\"", tag.as_str());
        assert!(IfMatch::parse(&quoted).check(&tag).is_ok());
        assert!(IfMatch::parse(tag.as_str()).check(&tag).is_ok());
        assert!(IfMatch::parse("*").check(&tag).is_ok());
        assert!(
            IfMatch::parse(&format!("\"nope\", {quoted}"))
                .check(&tag)
                .is_ok()
        );
        assert!(matches!(
            IfMatch::parse("\"nope\"").check(&tag),
            Err(Error::StaleEtag)
        ));
        assert!(IfMatch::parse("").check(&tag).is_err());
    }
}
