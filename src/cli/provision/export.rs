//! `keyhouse export`: a live server's projects, roles, groups and accounts in the
//! provisioning file's format, so that an installation can be brought under git. No
//! secret is written, nor a public key (the API answers only its fingerprint), nor the
//! managed marker; fields at their default are left out.

use serde_json::Value;

use super::file::{AccountSpec, GroupSpec, Manifest, Metadata, ProjectSpec, RoleSpec};
use super::state::MANAGED_KEY;
use crate::cli::client::{Api, ClientError, encode};

fn text(item: &Value, key: &str, default: &str) -> Option<String> {
    item[key]
        .as_str()
        .filter(|t| *t != default)
        .map(str::to_owned)
}

fn metadata(item: &Value) -> Option<Metadata> {
    let mut metadata: Metadata =
        serde_json::from_value(item["metadata"].clone()).unwrap_or_default();
    metadata.remove(MANAGED_KEY);
    (!metadata.is_empty()).then_some(metadata)
}

fn names(item: &Value, key: &str) -> Option<Vec<String>> {
    let list: Vec<String> = item[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().or_else(|| v["name"].as_str()))
        .map(str::to_owned)
        .collect();
    (!list.is_empty()).then_some(list)
}

/// Everything in `project`, or in every project and the root when `None`.
pub fn export(api: &Api, project: Option<&str>) -> Result<Manifest, ClientError> {
    let mut manifest = Manifest {
        projects: Some(Vec::new()),
        roles: Some(Vec::new()),
        groups: Some(Vec::new()),
        service_accounts: Some(Vec::new()),
    };
    let projects = match project {
        Some(name) => vec![api.call(
            ureq::http::Method::GET,
            &format!("/api/v1/projects/{}", encode(name)),
            None,
        )?],
        None => api.list("/api/v1/projects", None)?,
    };
    let mut scopes: Vec<Option<String>> = if project.is_none() {
        vec![None]
    } else {
        Vec::new()
    };
    for item in &projects {
        let Some(name) = item["name"].as_str() else {
            continue;
        };
        let policy = item["credential_policy"]
            .as_object()
            .map(|p| {
                p.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .filter(|p: &serde_json::Map<String, Value>| !p.is_empty());
        manifest
            .projects
            .get_or_insert_with(Vec::new)
            .push(ProjectSpec {
                name: name.to_owned(),
                display_name: text(item, "display_name", name),
                description: text(item, "description", ""),
                metadata: metadata(item),
                credential_policy: policy,
            });
        scopes.push(Some(name.to_owned()));
    }
    let total = scopes.len();
    for (index, scope) in scopes.iter().enumerate() {
        eprintln!(
            "keyhouse: [{}/{total}] exporting {}",
            index + 1,
            scope
                .as_deref()
                .map_or("the root".to_owned(), |p| format!("project {p}"))
        );
        export_scope(api, scope.as_deref(), &mut manifest)?;
    }
    Ok(manifest)
}

fn export_scope(
    api: &Api,
    scope: Option<&str>,
    manifest: &mut Manifest,
) -> Result<(), ClientError> {
    let path = |tail: &str| match scope {
        Some(project) => format!("/api/v1/projects/{}{tail}", encode(project)),
        None => format!("/api/v1{tail}"),
    };
    let here = |item: &Value| item["project"].as_str() == scope;
    for item in api.list(&path("/roles"), None)?.iter().filter(|i| here(i)) {
        if item["builtin"] == true {
            continue;
        }
        manifest.roles.get_or_insert_with(Vec::new).push(RoleSpec {
            name: item["name"].as_str().unwrap_or_default().to_owned(),
            project: scope.map(str::to_owned),
            description: text(item, "description", ""),
            permissions: names(item, "permissions").unwrap_or_default(),
        });
    }
    for item in api.list(&path("/groups"), None)?.iter().filter(|i| here(i)) {
        let name = item["name"].as_str().unwrap_or_default();
        manifest
            .groups
            .get_or_insert_with(Vec::new)
            .push(GroupSpec {
                name: name.to_owned(),
                project: scope.map(str::to_owned),
                display_name: text(item, "display_name", name),
                description: text(item, "description", ""),
                metadata: metadata(item),
                roles: names(item, "roles"),
            });
    }
    for item in api
        .list(&path("/service-accounts"), None)?
        .iter()
        .filter(|i| here(i))
    {
        let name = item["name"].as_str().unwrap_or_default();
        manifest
            .service_accounts
            .get_or_insert_with(Vec::new)
            .push(AccountSpec {
                name: name.to_owned(),
                project: scope.map(str::to_owned),
                display_name: text(item, "display_name", name),
                description: text(item, "description", ""),
                metadata: metadata(item),
                roles: names(item, "roles"),
                groups: names(item, "groups"),
                external_id: text(item, "external_id", ""),
                expires_at: text(item, "expires_at", ""),
                public_keys: None,
            });
    }
    Ok(())
}
