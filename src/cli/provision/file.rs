//! The provisioning file: top-level `projects`, `roles`, `groups` and
//! `service_accounts`, each a list of the API's create bodies, with `project` naming an
//! object's scope (absent: the root). YAML or TOML; several files are one file.
//!
//! A kind the file leaves out is not managed: `--prune` touches only the kinds a file
//! names (an empty list names a kind too).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::cli::client::ClientError;

pub type Metadata = BTreeMap<String, String>;

#[derive(Debug, Default, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projects: Option<Vec<ProjectSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_accounts: Option<Vec<AccountSpec>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProjectSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_policy: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The groups it belongs to: membership follows from this list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Public-key credentials, as `POST .../credentials` takes them (`type` implied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_keys: Option<Vec<KeySpec>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub public_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl Manifest {
    /// Adds `other`'s lists to this one's.
    fn extend(&mut self, other: Manifest) {
        fn join<T>(into: &mut Option<Vec<T>>, more: Option<Vec<T>>) {
            if let Some(more) = more {
                into.get_or_insert_with(Vec::new).extend(more);
            }
        }
        join(&mut self.projects, other.projects);
        join(&mut self.roles, other.roles);
        join(&mut self.groups, other.groups);
        join(&mut self.service_accounts, other.service_accounts);
    }
}

/// Reads every source: a file, a directory (its `.yaml`, `.yml`, `.toml` and `.json`
/// files, in name order) or `-` for standard input.
pub fn read(sources: &[PathBuf]) -> Result<Manifest, ClientError> {
    let mut manifest = Manifest::default();
    for source in sources {
        if source.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|err| ClientError::usage(format!("cannot read standard input: {err}")))?;
            manifest.extend(parse(&text, None, "standard input")?);
        } else if source.is_dir() {
            for path in directory_files(source)? {
                manifest.extend(parse_file(&path)?);
            }
        } else {
            manifest.extend(parse_file(source)?);
        }
    }
    Ok(manifest)
}

fn directory_files(dir: &Path) -> Result<Vec<PathBuf>, ClientError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| ClientError::usage(format!("cannot read {}: {err}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "toml" | "json")
                )
        })
        .collect();
    files.sort();
    Ok(files)
}

fn parse_file(path: &Path) -> Result<Manifest, ClientError> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| ClientError::usage(format!("cannot read {}: {err}", path.display())))?;
    let toml = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e == "toml");
    parse(&text, toml, &path.display().to_string())
}

/// Parses TOML or YAML (JSON being YAML); when `toml` is unknown (standard input), TOML
/// is tried first, as a YAML document is rarely valid TOML.
fn parse(text: &str, toml: Option<bool>, what: &str) -> Result<Manifest, ClientError> {
    let as_toml = || toml::from_str::<Manifest>(text).map_err(|err| err.to_string());
    let as_yaml = || serde_norway::from_str::<Manifest>(text).map_err(|err| err.to_string());
    let parsed = match toml {
        Some(true) => as_toml(),
        Some(false) => as_yaml(),
        None => as_toml().or_else(|_| as_yaml()),
    };
    parsed.map_err(|err| ClientError::usage(format!("{what}: {err}")))
}

/// Renders a manifest as YAML or JSON.
pub fn render(manifest: &Manifest, json: bool) -> Result<String, ClientError> {
    if json {
        serde_json::to_string_pretty(manifest)
            .map(|text| text + "\n")
            .map_err(|err| ClientError::local(err.to_string()))
    } else {
        serde_norway::to_string(manifest).map_err(|err| ClientError::local(err.to_string()))
    }
}
