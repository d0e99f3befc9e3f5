//! The plan: what `apply` must do to make the server hold what the file says. Read
//! only: it lists the scopes and kinds the file manages and compares them, object by
//! object, with what the file wants.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value, json};
use ureq::http::Method;

use super::file::{KeySpec, Manifest};
use super::state::{self, Kind, Object};
use crate::cli::client::{Api, ClientError, encode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
    Unchanged,
}

/// One API call of a step.
#[derive(Debug)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    /// Where the secret of the answer goes (a new account's first secret).
    pub secret_to: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct Step {
    pub action: Action,
    pub kind: Kind,
    pub project: Option<String>,
    pub name: String,
    /// Each changed field: `{"from": ..., "to": ...}`.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub changes: Map<String, Value>,
    #[serde(skip)]
    pub calls: Vec<Call>,
}

impl Step {
    pub fn label(&self) -> String {
        match &self.project {
            Some(project) => format!("{} {project}/{}", self.kind.words(), self.name),
            None => format!("{} {}", self.kind.words(), self.name),
        }
    }
}

/// What the plan needs besides the file.
pub struct Options<'a> {
    pub prune: bool,
    pub secrets_dir: Option<&'a Path>,
}

/// `/api/v1[/projects/P]` + `tail`.
fn scoped(project: Option<&str>, tail: &str) -> String {
    match project {
        Some(project) => format!("/api/v1/projects/{}{tail}", encode(project)),
        None => format!("/api/v1{tail}"),
    }
}

fn object_path(object: &Object) -> String {
    let tail = format!("{}/{}", object.kind.collection(), encode(&object.name));
    match object.kind {
        Kind::Project => scoped(None, &tail),
        _ => scoped(object.project.as_deref(), &tail),
    }
}

/// Lowercase hex SHA-256 of a PEM key's DER, as the API's `fingerprint`; `None` when
/// the text is no PEM block (the API will say why).
fn fingerprint(pem: &str) -> Option<String> {
    use base64::Engine;
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &der);
    Some(digest.as_ref().iter().map(|b| format!("{b:02x}")).collect())
}

/// The kinds the file names (an empty list included).
fn managed_kinds(manifest: &Manifest) -> BTreeSet<Kind> {
    let mut kinds = BTreeSet::new();
    for (kind, named) in [
        (Kind::Project, manifest.projects.is_some()),
        (Kind::Role, manifest.roles.is_some()),
        (Kind::Group, manifest.groups.is_some()),
        (Kind::ServiceAccount, manifest.service_accounts.is_some()),
    ] {
        if named {
            kinds.insert(kind);
        }
    }
    kinds
}

/// Reads the server's objects of `kinds` in `scopes` (projects: all of them).
fn read_server(
    api: &Api,
    kinds: &BTreeSet<Kind>,
    scopes: &BTreeSet<Option<String>>,
    existing: &BTreeSet<String>,
) -> Result<Vec<Object>, ClientError> {
    let mut held = Vec::new();
    for scope in scopes {
        if scope.as_ref().is_some_and(|p| !existing.contains(p)) {
            continue;
        }
        for kind in [Kind::Role, Kind::Group, Kind::ServiceAccount] {
            if !kinds.contains(&kind) {
                continue;
            }
            for item in api.list(&scoped(scope.as_deref(), kind.collection()), None)? {
                // A project's role list also shows the root's roles, bindable there.
                if item["project"].as_str() != scope.as_deref() {
                    continue;
                }
                held.extend(state::held(kind, scope.as_deref(), &item));
            }
        }
    }
    Ok(held)
}

type Key = (Kind, Option<String>, String);

fn key(object: &Object) -> Key {
    (object.kind, object.project.clone(), object.name.clone())
}

/// The steps that make the server hold `manifest`: creates and updates in the order
/// objects depend on each other, then deletes (with `--prune`) in the reverse order.
pub fn plan(api: &Api, manifest: &Manifest, options: &Options) -> Result<Vec<Step>, ClientError> {
    let wanted = state::wanted(manifest);
    let mut seen = BTreeSet::new();
    for object in &wanted {
        if !seen.insert(key(object)) {
            return Err(ClientError::usage(format!(
                "the file names {} twice",
                object.label()
            )));
        }
    }
    let kinds = managed_kinds(manifest);
    let projects: Vec<Object> = api
        .list("/api/v1/projects", None)?
        .iter()
        .filter_map(|item| state::held(Kind::Project, None, item))
        .collect();
    let existing: BTreeSet<String> = projects.iter().map(|p| p.name.clone()).collect();
    let wanted_keys: BTreeSet<Key> = wanted.iter().map(key).collect();
    let mut scopes: BTreeSet<Option<String>> = BTreeSet::from([None]);
    for object in &wanted {
        scopes.insert(object.project.clone());
        if object.kind == Kind::Project {
            scopes.insert(Some(object.name.clone()));
        }
    }
    let mut held = Vec::new();
    if kinds.contains(&Kind::Project) {
        for project in &projects {
            // A managed project the file dropped is pruned with what it holds.
            if options.prune && project.managed() && !wanted_keys.contains(&key(project)) {
                scopes.insert(Some(project.name.clone()));
            }
        }
        held.extend(projects);
    }
    held.extend(read_server(api, &kinds, &scopes, &existing)?);
    let held: BTreeMap<Key, Object> = held.into_iter().map(|o| (key(&o), o)).collect();

    let mut steps = Vec::new();
    for kind in [Kind::Project, Kind::Role, Kind::Group, Kind::ServiceAccount] {
        for object in wanted.iter().filter(|o| o.kind == kind) {
            steps.push(match held.get(&key(object)) {
                None => create(object, options),
                Some(current) => update(api, object, current)?,
            });
        }
    }
    if options.prune {
        for kind in [Kind::ServiceAccount, Kind::Group, Kind::Project] {
            for object in held.values().filter(|o| o.kind == kind) {
                let bootstrap_admin = kind == Kind::ServiceAccount
                    && object.project.is_none()
                    && object.name == "admin";
                if object.managed() && !wanted_keys.contains(&key(object)) && !bootstrap_admin {
                    steps.push(delete(object));
                }
            }
        }
    }
    Ok(steps)
}

fn step(object: &Object, action: Action, changes: Map<String, Value>, calls: Vec<Call>) -> Step {
    Step {
        action,
        kind: object.kind,
        project: object.project.clone(),
        name: object.name.clone(),
        changes,
        calls,
    }
}

fn add_key(object: &Object, spec: &KeySpec) -> Call {
    let mut body = json!({"type": "public_key", "public_key": spec.public_key});
    if let Some(name) = &spec.name {
        body["name"] = json!(name);
    }
    if let Some(at) = &spec.expires_at {
        body["expires_at"] = json!(at);
    }
    Call {
        method: Method::POST,
        path: format!("{}/credentials", object_path(object)),
        body: Some(body),
        secret_to: None,
    }
}

fn create(object: &Object, options: &Options) -> Step {
    let mut body = object.fields.clone();
    body.insert("name".into(), json!(object.name));
    let mut secret_to = None;
    if object.kind == Kind::ServiceAccount {
        match options.secrets_dir {
            Some(dir) => {
                let client_id = match &object.project {
                    Some(project) => format!("{}@{project}", object.name),
                    None => object.name.clone(),
                };
                secret_to = Some(dir.join(format!("{client_id}.secret")));
            }
            None => {
                body.insert("initial_secret".into(), json!(false));
            }
        }
    }
    let collection = match object.kind {
        Kind::Project => scoped(None, object.kind.collection()),
        _ => scoped(object.project.as_deref(), object.kind.collection()),
    };
    let mut calls = vec![Call {
        method: Method::POST,
        path: collection,
        body: Some(Value::Object(body)),
        secret_to,
    }];
    calls.extend(object.keys.iter().map(|spec| add_key(object, spec)));
    step(object, Action::Create, Map::new(), calls)
}

fn update(api: &Api, object: &Object, current: &Object) -> Result<Step, ClientError> {
    let mut changes = Map::new();
    let mut patch = Map::new();
    let mut calls = Vec::new();
    for (field, want) in &object.fields {
        let have = current.fields.get(field).unwrap_or(&Value::Null);
        if have == want {
            continue;
        }
        changes.insert(field.clone(), json!({"from": have, "to": want}));
        if field == "groups" {
            calls.push(Call {
                method: Method::PUT,
                path: format!("{}/groups", object_path(object)),
                body: Some(json!({"set_groups": want})),
                secret_to: None,
            });
        } else {
            patch.insert(field.clone(), want.clone());
        }
    }
    if !patch.is_empty() {
        calls.insert(
            0,
            Call {
                method: Method::PATCH,
                path: object_path(object),
                body: Some(Value::Object(patch)),
                secret_to: None,
            },
        );
    }
    if !object.keys.is_empty() {
        let listed = api.list(&format!("{}/credentials", object_path(object)), None)?;
        let held: BTreeSet<&str> = listed
            .iter()
            .filter_map(|c| c["fingerprint"].as_str())
            .collect();
        for spec in &object.keys {
            let print = fingerprint(&spec.public_key);
            if print.as_deref().is_some_and(|p| held.contains(p)) {
                continue;
            }
            let label = spec.name.clone().unwrap_or_else(|| "public key".to_owned());
            changes.insert(
                format!("public_keys.{label}"),
                json!({"from": null, "to": print}),
            );
            calls.push(add_key(object, spec));
        }
    }
    let action = if calls.is_empty() {
        Action::Unchanged
    } else {
        Action::Update
    };
    Ok(step(object, action, changes, calls))
}

fn delete(object: &Object) -> Step {
    let call = Call {
        method: Method::DELETE,
        path: object_path(object),
        body: None,
        secret_to: None,
    };
    step(object, Action::Delete, Map::new(), vec![call])
}
