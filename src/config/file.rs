//! The TOML file: read, checked against the settings with the line of any error, and
//! laid over the defaults.

use std::path::Path;

use super::{Config, ConfigError};

/// The file's settings as a table. A syntax error, an unknown key or a value of the
/// wrong type is reported with its line and the setting's path.
pub(super) fn read(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let at = |err: toml::de::Error| ConfigError::File {
        path: path.to_owned(),
        line: err.span().map_or(1, |span| line_of(&text, span.start)),
        what: describe(&err, Some(&text)),
    };
    // Typed first, for the errors a plain table would let through (unknown keys,
    // wrong types); the spans point into `text`.
    toml::from_str::<Config>(&text).map_err(at)?;
    toml::from_str(&text).map_err(at)
}

/// The 1-based line of byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let before = text.get(..offset).unwrap_or(text);
    before.matches('\n').count() + 1
}

/// An error as "invalid setting PATH: MESSAGE", or "not valid TOML: MESSAGE" when it
/// names no setting. `text` is the file the error's span points into, if any: it
/// supplies the name of an unknown key, which toml only gives as a span.
pub(super) fn describe(err: &toml::de::Error, text: Option<&str>) -> String {
    let mut path = table_path(err);
    if err.message().starts_with("unknown field")
        && let Some(key) = err.span().zip(text).and_then(|(span, text)| text.get(span))
    {
        path.push(key.trim_matches(['"', '\'']).to_owned());
    }
    let message = err.message().trim_end();
    if path.is_empty() {
        format!("not valid TOML: {message}")
    } else {
        format!("invalid setting {}: {message}", path.join("."))
    }
}

/// The keys toml records for an error. It shows them (as "in `a.b`") only when it has
/// no source text to point into, so they are read from that form.
fn table_path(err: &toml::de::Error) -> Vec<String> {
    let mut bare = err.clone();
    bare.set_input(None);
    bare.to_string()
        .lines()
        .find_map(|line| line.strip_prefix("in `")?.strip_suffix('`'))
        .map(|keys| keys.split('.').map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Lays `overlay` over `base`, table by table.
pub(super) fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(value)) => merge(inner, value),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}
