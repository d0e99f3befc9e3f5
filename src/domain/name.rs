//! Names of service accounts, groups and roles: the path key of every object.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Kind;
use crate::error::Error;

pub const MAX_NAME_LEN: usize = 63;

/// 1 to 63 characters of `a-z`, `0-9` and `-`, not starting or ending with `-`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    /// Checks `value` against the naming rule; `field` names it in the error.
    pub fn parse(field: &str, value: &str) -> Result<Name, Error> {
        match Self::violation(value) {
            None => Ok(Name(value.to_owned())),
            Some(reason) => Err(Error::invalid(field, reason)),
        }
    }

    fn violation(value: &str) -> Option<&'static str> {
        if value.is_empty() || value.len() > MAX_NAME_LEN {
            return Some("must be 1 to 63 characters");
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Some("may only hold a-z, 0-9 and '-'");
        }
        if value.starts_with('-') || value.ends_with('-') {
            return Some("may not start or end with '-'");
        }
        None
    }

    /// A name from a request path: one that breaks the naming rule names nothing, so it
    /// is 404 for `kind`, not 400.
    pub fn in_path(kind: Kind, value: &str) -> Result<Name, Error> {
        Name::parse("name", value).map_err(|_| Error::not_found(kind, value))
    }

    /// Each of `values`, as a sorted set; an error names `field[i]`.
    pub fn parse_set(field: &str, values: &[String]) -> Result<BTreeSet<Name>, Error> {
        values
            .iter()
            .enumerate()
            .map(|(i, value)| Name::parse(&format!("{field}[{i}]"), value))
            .collect()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(value: &str) -> bool {
        Name::parse("name", value).is_ok()
    }

    #[test]
    fn accepts_dns_label_names() {
        assert!(ok("a"));
        assert!(ok("ci-bot"));
        assert!(ok("0day"));
        assert!(ok(&"a".repeat(63)));
    }

    #[test]
    fn refuses_everything_else() {
        assert!(!ok(""));
        assert!(!ok(&"a".repeat(64)));
        assert!(!ok("-lead"));
        assert!(!ok("trail-"));
        assert!(!ok("Upper"));
        assert!(!ok("under_score"));
        assert!(!ok("dot.name"));
        assert!(!ok("spa ce"));
        assert!(!ok("ünï"));
        assert!(!ok("a/b"));
    }

    #[test]
    fn the_error_names_the_field() {
        let err = Name::parse("roles[1]", "Bad").unwrap_err();
        assert!(err.to_string().contains("roles[1]"), "{err}");
    }
}
