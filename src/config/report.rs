//! `keyhouse config check`: the effective settings, where each came from (default,
//! file, environment), and every problem, not only the first as `serve` reports it.
//! Each setting is checked on its own over the defaults (its type), then the whole is
//! validated again and again, each setting found bad put back to its default, so that
//! one bad setting does not hide the next.

use std::collections::BTreeMap;
use std::path::Path;

use super::env::{ENV_PREFIX, SETTINGS};
use super::{Config, ConfigError, env, file};

/// Settings shown masked: their value is a secret.
const SECRETS: &[&str] = &["bootstrap.admin_token", "storage.postgres.url"];

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    /// The variable that set it.
    Environment(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File => f.write_str("file"),
            Source::Environment(variable) => write!(f, "environment {variable}"),
        }
    }
}

/// One setting as it takes effect.
#[derive(Debug, Clone)]
pub struct Effective {
    pub name: &'static str,
    /// As TOML writes it; `(unset)`, or `(set, masked)` for a secret.
    pub value: String,
    pub source: Source,
}

/// What `config check` prints.
#[derive(Debug, Default)]
pub struct Report {
    pub settings: Vec<Effective>,
    pub problems: Vec<String>,
}

/// The value at `name` (`a.b.c`) of `tree`.
fn get<'t>(tree: &'t toml::Table, name: &str) -> Option<&'t toml::Value> {
    let (sections, last) = name.rsplit_once('.').map_or(("", name), |(s, l)| (s, l));
    let mut table = tree;
    for section in sections.split('.').filter(|s| !s.is_empty()) {
        table = table.get(section)?.as_table()?;
    }
    table.get(last)
}

/// Sets `name` of `tree` to `value`, or removes it for `None`.
fn put(tree: &mut toml::Table, name: &str, value: Option<toml::Value>) {
    let mut parts: Vec<&str> = name.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut table = tree;
    for section in parts {
        let entry = table
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(inner) = entry.as_table_mut() else {
            return;
        };
        table = inner;
    }
    match value {
        Some(value) => table.insert(last.to_owned(), value),
        None => table.remove(last),
    };
}

/// The dotted paths of every value (not table) in `tree`.
fn leaves(tree: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (key, value) in tree {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) if !SETTINGS.contains(&path.as_str()) => {
                leaves(inner, &path, out)
            }
            _ => out.push(path),
        }
    }
}

fn typed(tree: &toml::Table) -> Result<Config, ConfigError> {
    toml::Value::Table(tree.clone())
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Type(file::describe(&e, None)))
}

/// Checks `file` (if any) and the `KEYHOUSE_*` variables of `env` over the defaults.
pub fn check(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Report {
    let mut report = Report::default();
    let Ok(defaults) = toml::Table::try_from(Config::default()) else {
        report
            .problems
            .push("the defaults do not encode".to_owned());
        return report;
    };
    let mut tree = defaults.clone();
    let mut sources: BTreeMap<String, Source> = BTreeMap::new();
    if let Some(path) = file {
        match std::fs::read_to_string(path).map(|text| toml::from_str::<toml::Table>(&text)) {
            Ok(Ok(table)) => {
                let mut names = Vec::new();
                leaves(&table, "", &mut names);
                for name in names {
                    if SETTINGS.contains(&name.as_str()) {
                        sources.insert(name.clone(), Source::File);
                    } else {
                        report
                            .problems
                            .push(format!("{}: {name} is no setting", path.display()));
                    }
                }
                for name in SETTINGS {
                    if let Some(value) = get(&table, name) {
                        put(&mut tree, name, Some(value.clone()));
                    }
                }
            }
            // Unreadable, or not TOML: as `serve` words it, with the line.
            _ => report
                .problems
                .extend(file::read(path).err().map(|e| e.to_string())),
        }
    }
    for (variable, value) in env {
        let Some(setting) = variable.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if !setting.contains("__") {
            continue;
        }
        let name = setting
            .split("__")
            .collect::<Vec<_>>()
            .join(".")
            .to_lowercase();
        match env::apply(&mut tree, [(variable.clone(), value)]) {
            Ok(_) => {
                sources.insert(name, Source::Environment(variable));
            }
            Err(err) => report.problems.push(err.to_string()),
        }
    }
    let shown = tree.clone();
    // Types, one setting at a time over the defaults; a bad one goes back to its default.
    for name in SETTINGS {
        let Some(value) = get(&tree, name).cloned() else {
            continue;
        };
        let mut alone = defaults.clone();
        put(&mut alone, name, Some(value));
        if let Err(err) = typed(&alone) {
            report.problems.push(err.to_string());
            put(&mut tree, name, get(&defaults, name).cloned());
        }
    }
    // Validation, again after each setting found bad is put back to its default.
    for _ in 0..=SETTINGS.len() {
        let err = match typed(&tree).and_then(|config| config.validate()) {
            Ok(()) => break,
            Err(err) => err,
        };
        report.problems.push(err.to_string());
        let ConfigError::Invalid { setting, .. } = err else {
            break;
        };
        let named: Vec<&str> = SETTINGS
            .iter()
            .copied()
            .filter(|s| *s == setting || s.starts_with(&format!("{setting}.")))
            .collect();
        if named.is_empty() {
            break;
        }
        for name in named {
            put(&mut tree, name, get(&defaults, name).cloned());
        }
    }
    report.settings = SETTINGS
        .iter()
        .map(|name| Effective {
            name,
            value: match get(&shown, name) {
                None => "(unset)".to_owned(),
                Some(_) if SECRETS.contains(name) => "(set, masked)".to_owned(),
                Some(value) => value.to_string(),
            },
            source: sources.get(*name).cloned().unwrap_or(Source::Default),
        })
        .collect();
    report
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = SETTINGS.iter().map(|s| s.len()).max().unwrap_or(0);
        for setting in &self.settings {
            writeln!(
                f,
                "{:width$}  {}  from {}",
                setting.name, setting.value, setting.source
            )?;
        }
        if self.problems.is_empty() {
            writeln!(f, "\nno problems")
        } else {
            writeln!(f, "\n{} problem(s):", self.problems.len())?;
            for problem in &self.problems {
                writeln!(f, "  - {problem}")?;
            }
            Ok(())
        }
    }
}
