//! The objects a file wants and the objects a server holds, in one comparable form: a
//! kind, a scope, a name, and the fields `apply` manages, with the API's defaults filled
//! in (an absent `display_name` is the name, absent lists are empty), so that comparing
//! two of them field by field gives exactly the changes to make.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::file::{KeySpec, Manifest, Metadata};

/// The metadata entry that marks an object as created or updated by `apply`:
/// `--prune` deletes only objects carrying it. Roles have no metadata, so `--prune`
/// never deletes a role.
pub const MANAGED_KEY: &str = "keyhouse/managed-by";
pub const MANAGED_VALUE: &str = "apply";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Project,
    Role,
    Group,
    ServiceAccount,
}

impl Kind {
    pub fn words(self) -> &'static str {
        match self {
            Kind::Project => "project",
            Kind::Role => "role",
            Kind::Group => "group",
            Kind::ServiceAccount => "service account",
        }
    }

    /// The collection's path within a scope.
    pub fn collection(self) -> &'static str {
        match self {
            Kind::Project => "/projects",
            Kind::Role => "/roles",
            Kind::Group => "/groups",
            Kind::ServiceAccount => "/service-accounts",
        }
    }
}

/// One object in comparable form.
#[derive(Debug, Clone)]
pub struct Object {
    pub kind: Kind,
    /// The scope: `None` for the root (and for projects themselves).
    pub project: Option<String>,
    pub name: String,
    /// The managed fields, defaults filled in.
    pub fields: Map<String, Value>,
    /// Public keys the file names for an account (a wanted object only).
    pub keys: Vec<KeySpec>,
}

impl Object {
    pub fn managed(&self) -> bool {
        self.fields["metadata"][MANAGED_KEY] == MANAGED_VALUE
    }

    /// `project/name`, or `name` at the root.
    pub fn label(&self) -> String {
        match &self.project {
            Some(project) => format!("{} {project}/{}", self.kind.words(), self.name),
            None => format!("{} {}", self.kind.words(), self.name),
        }
    }
}

fn marked(metadata: Option<&Metadata>) -> Value {
    let mut metadata = metadata.cloned().unwrap_or_default();
    metadata.insert(MANAGED_KEY.into(), MANAGED_VALUE.into());
    json!(metadata)
}

fn sorted(list: Option<&Vec<String>>) -> Value {
    let mut list = list.cloned().unwrap_or_default();
    list.sort();
    list.dedup();
    json!(list)
}

/// The three keys of a `credential_policy`, null where unset.
fn policy(given: Option<&Map<String, Value>>) -> Value {
    let mut policy = Map::new();
    for key in ["max_active", "default_lifetime_days", "max_lifetime_days"] {
        let value = given
            .and_then(|p| p.get(key))
            .cloned()
            .unwrap_or(Value::Null);
        policy.insert(key.into(), value);
    }
    Value::Object(policy)
}

/// Every object the file wants, marked as managed.
pub fn wanted(manifest: &Manifest) -> Vec<Object> {
    let mut objects = Vec::new();
    let text = |value: &Option<String>, default: &str| json!(value.as_deref().unwrap_or(default));
    for p in manifest.projects.iter().flatten() {
        let mut fields = Map::new();
        fields.insert("display_name".into(), text(&p.display_name, &p.name));
        fields.insert("description".into(), text(&p.description, ""));
        fields.insert("metadata".into(), marked(p.metadata.as_ref()));
        fields.insert(
            "credential_policy".into(),
            policy(p.credential_policy.as_ref()),
        );
        objects.push(object(Kind::Project, None, &p.name, fields));
    }
    for r in manifest.roles.iter().flatten() {
        let mut fields = Map::new();
        fields.insert("description".into(), text(&r.description, ""));
        fields.insert("permissions".into(), sorted(Some(&r.permissions)));
        objects.push(object(Kind::Role, r.project.clone(), &r.name, fields));
    }
    for g in manifest.groups.iter().flatten() {
        let mut fields = Map::new();
        fields.insert("display_name".into(), text(&g.display_name, &g.name));
        fields.insert("description".into(), text(&g.description, ""));
        fields.insert("metadata".into(), marked(g.metadata.as_ref()));
        fields.insert("roles".into(), sorted(g.roles.as_ref()));
        objects.push(object(Kind::Group, g.project.clone(), &g.name, fields));
    }
    for a in manifest.service_accounts.iter().flatten() {
        let mut fields = Map::new();
        fields.insert("display_name".into(), text(&a.display_name, &a.name));
        fields.insert("description".into(), text(&a.description, ""));
        fields.insert("metadata".into(), marked(a.metadata.as_ref()));
        fields.insert("roles".into(), sorted(a.roles.as_ref()));
        fields.insert("groups".into(), sorted(a.groups.as_ref()));
        // Only when given: absent, the account's own value is left alone.
        if let Some(id) = &a.external_id {
            fields.insert("external_id".into(), json!(id));
        }
        if let Some(at) = &a.expires_at {
            fields.insert("expires_at".into(), json!(instant(at)));
        }
        let mut account = object(Kind::ServiceAccount, a.project.clone(), &a.name, fields);
        account.keys = a.public_keys.clone().unwrap_or_default();
        objects.push(account);
    }
    objects
}

fn object(kind: Kind, project: Option<String>, name: &str, fields: Map<String, Value>) -> Object {
    Object {
        kind,
        project,
        name: name.to_owned(),
        fields,
        keys: Vec::new(),
    }
}

/// An RFC 3339 time in the API's own form (UTC, whole seconds), so that `...+02:00`
/// and its `Z` equivalent compare equal; text that is no time is kept for the API to
/// refuse.
pub fn instant(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|at| {
            at.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_else(|_| text.to_owned())
}

/// An object as the API reads it, in comparable form; `None` for a built-in role.
pub fn held(kind: Kind, project: Option<&str>, read: &Value) -> Option<Object> {
    if read["builtin"] == true {
        return None;
    }
    let name = read["name"].as_str()?;
    let pick = |key: &str| read.get(key).cloned().unwrap_or(Value::Null);
    let names = |key: &str| {
        let mut list: Vec<String> = read[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| item.as_str().or_else(|| item["name"].as_str()))
            .map(str::to_owned)
            .collect();
        list.sort();
        json!(list)
    };
    let mut fields = Map::new();
    match kind {
        Kind::Project => {
            for key in ["display_name", "description", "metadata"] {
                fields.insert(key.into(), pick(key));
            }
            fields.insert(
                "credential_policy".into(),
                policy(read["credential_policy"].as_object()),
            );
        }
        Kind::Role => {
            fields.insert("description".into(), pick("description"));
            fields.insert("permissions".into(), names("permissions"));
        }
        Kind::Group => {
            for key in ["display_name", "description", "metadata"] {
                fields.insert(key.into(), pick(key));
            }
            fields.insert("roles".into(), names("roles"));
        }
        Kind::ServiceAccount => {
            for key in ["display_name", "description", "metadata", "external_id"] {
                fields.insert(key.into(), pick(key));
            }
            fields.insert("roles".into(), names("roles"));
            fields.insert("groups".into(), names("groups"));
            let expires = read["expires_at"].as_str().map(instant);
            fields.insert("expires_at".into(), json!(expires));
        }
    }
    if fields.get("metadata").is_some_and(Value::is_null) {
        fields.insert("metadata".into(), json!({}));
    }
    Some(Object {
        kind,
        project: project.map(str::to_owned),
        name: name.to_owned(),
        fields,
        keys: Vec::new(),
    })
}
