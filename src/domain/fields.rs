//! Limits on the free-form fields of stored objects, each checked where a request
//! enters and named in its error.

use std::collections::BTreeMap;

use crate::error::Error;

pub const MAX_DISPLAY_NAME: usize = 255;
pub const MAX_DESCRIPTION: usize = 1024;
pub const MAX_METADATA_KEYS: usize = 64;
pub const MAX_METADATA_KEY: usize = 63;
pub const MAX_METADATA_VALUE: usize = 1024;
pub const MAX_EXTERNAL_ID: usize = 255;

fn chars(value: &str) -> usize {
    value.chars().count()
}

/// 1 to 255 characters.
pub fn display_name(value: String) -> Result<String, Error> {
    match chars(&value) {
        1..=MAX_DISPLAY_NAME => Ok(value),
        _ => Err(Error::invalid(
            "display_name",
            "must be 1 to 255 characters",
        )),
    }
}

/// At most 1024 characters; empty is allowed.
pub fn description(value: String) -> Result<String, Error> {
    if chars(&value) > MAX_DESCRIPTION {
        return Err(Error::invalid(
            "description",
            "must be at most 1024 characters",
        ));
    }
    Ok(value)
}

/// At most 64 keys of 1 to 63 characters, values of at most 1024 characters.
pub fn metadata(value: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, Error> {
    if value.len() > MAX_METADATA_KEYS {
        return Err(Error::invalid("metadata", "must have at most 64 keys"));
    }
    for (key, item) in &value {
        if key.is_empty() || chars(key) > MAX_METADATA_KEY {
            return Err(Error::invalid(
                "metadata",
                "keys must be 1 to 63 characters",
            ));
        }
        if chars(item) > MAX_METADATA_VALUE {
            return Err(Error::invalid(
                format!("metadata.{key}"),
                "must be at most 1024 characters",
            ));
        }
    }
    Ok(value)
}

/// A credential's name: 1 to 255 characters.
pub fn credential_name(field: &str, value: String) -> Result<String, Error> {
    match chars(&value) {
        1..=MAX_DISPLAY_NAME => Ok(value),
        _ => Err(Error::invalid(field, "must be 1 to 255 characters")),
    }
}

/// An identifier in another system: 1 to 255 characters.
pub fn external_id(value: String) -> Result<String, Error> {
    match chars(&value) {
        1..=MAX_EXTERNAL_ID => Ok(value),
        _ => Err(Error::invalid("external_id", "must be 1 to 255 characters")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_name_counts_characters_not_bytes() {
        assert!(display_name("é".repeat(255)).is_ok());
        assert!(display_name("é".repeat(256)).is_err());
        assert!(display_name(String::new()).is_err());
    }

    #[test]
    fn metadata_limits() {
        let many: BTreeMap<_, _> = (0..65).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(metadata(many).is_err());
        let long_key = BTreeMap::from([("k".repeat(64), "v".into())]);
        assert!(metadata(long_key).is_err());
        let empty_key = BTreeMap::from([(String::new(), "v".into())]);
        assert!(metadata(empty_key).is_err());
        let long_value = BTreeMap::from([("team".into(), "v".repeat(1025))]);
        let err = metadata(long_value).unwrap_err();
        assert!(err.to_string().contains("metadata.team"));
        let fine = BTreeMap::from([("team".into(), "v".repeat(1024))]);
        assert!(metadata(fine).is_ok());
    }

    #[test]
    fn description_may_be_empty_but_not_long() {
        assert!(description(String::new()).is_ok());
        assert!(description("d".repeat(1025)).is_err());
    }
}
