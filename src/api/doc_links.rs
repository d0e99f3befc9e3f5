//! OpenAPI links from each create to the operations on the object it made, and the
//! `Location` header of its answer. Generated clients and stateful testers (schemathesis)
//! follow the links to read, change and delete what a create returned.

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::link::Link;
use utoipa::openapi::path::PathItem;
use utoipa::openapi::{Object, OpenApi, RefOr, Type};

use crate::auth::PROJECT_ROUTES;

/// A create, the path of the object it makes, and where each parameter of that path is
/// found in the exchange (OpenAPI runtime expressions).
struct Create {
    path: &'static str,
    object: &'static str,
    parameters: &'static [(&'static str, &'static str)],
}

const BY_NAME: &[(&str, &str)] = &[("name", "$response.body#/name")];
const CREDENTIAL: &[(&str, &str)] = &[("name", "$request.path.name"), ("id", "$response.body#/id")];

/// Every create of `/api/v1` whose object has a path (a signing key has none: it is
/// published in the JWKS); `tests/api/openapi.rs` checks the links of each.
const CREATES: [Create; 6] = [
    Create {
        path: "/api/v1/projects",
        object: "/api/v1/projects/{project}",
        parameters: &[("project", "$response.body#/name")],
    },
    Create {
        path: "/api/v1/service-accounts",
        object: "/api/v1/service-accounts/{name}",
        parameters: BY_NAME,
    },
    Create {
        path: "/api/v1/groups",
        object: "/api/v1/groups/{name}",
        parameters: BY_NAME,
    },
    Create {
        path: "/api/v1/roles",
        object: "/api/v1/roles/{name}",
        parameters: BY_NAME,
    },
    Create {
        path: "/api/v1/service-accounts/{name}/credentials",
        object: "/api/v1/service-accounts/{name}/credentials/{id}",
        parameters: CREDENTIAL,
    },
    Create {
        path: "/api/v1/service-accounts/{name}/rotate-secret",
        object: "/api/v1/service-accounts/{name}/credentials/{id}",
        parameters: CREDENTIAL,
    },
];

/// Adds, to the `201` answer of each create (at the root and in a project), a
/// `Location` header and a link to every operation on the object and on its
/// sub-resources whose path parameters the create gives (so not
/// `/service-accounts/{name}/credentials/{id}` from an account's create).
pub fn add(doc: &mut OpenApi) {
    for create in &CREATES {
        add_one(doc, create.path, create.object, create.parameters.to_vec());
        let in_project = |path: &str| {
            path.strip_prefix("/api/v1/")
                .filter(|_| create.path != "/api/v1/projects")
                .map(|rest| format!("{PROJECT_ROUTES}{rest}"))
        };
        if let (Some(path), Some(object)) = (in_project(create.path), in_project(create.object)) {
            let mut parameters = create.parameters.to_vec();
            parameters.push(("project", "$request.path.project"));
            add_one(doc, &path, &object, parameters);
        }
    }
}

fn add_one(doc: &mut OpenApi, path: &str, object: &str, parameters: Vec<(&str, &str)>) {
    let links = links_to(doc, object, &parameters);
    let Some(RefOr::T(created)) = doc
        .paths
        .paths
        .get_mut(path)
        .and_then(|item| item.post.as_mut())
        .and_then(|op| op.responses.responses.get_mut("201"))
    else {
        return;
    };
    created.headers.insert(
        "Location".to_owned(),
        RefOr::T(
            HeaderBuilder::new()
                .schema(Some(Object::with_type(Type::String)))
                .description(Some(format!("The new object's path, `{object}`.")))
                .build(),
        ),
    );
    created.links.extend(links);
}

fn links_to(
    doc: &OpenApi,
    object: &str,
    parameters: &[(&str, &str)],
) -> BTreeMap<String, RefOr<Link>> {
    let mut links = BTreeMap::new();
    let under = format!("{object}/");
    for (path, item) in &doc.paths.paths {
        if path != object && !path.starts_with(&under) {
            continue;
        }
        if !path_parameters(path).all(|p| parameters.iter().any(|(name, _)| *name == p)) {
            continue;
        }
        for id in operation_ids(item) {
            let mut link = Link::builder()
                .operation_id(id)
                .description(format!("The object the create made, at `{path}`."));
            for (name, expression) in parameters {
                if path_parameters(path).any(|p| p == *name) {
                    link = link.parameter(*name, *expression);
                }
            }
            links.insert(id.to_owned(), RefOr::T(link.build()));
        }
    }
    links
}

/// The `{names}` in a path template.
fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

fn operation_ids(item: &PathItem) -> impl Iterator<Item = &str> {
    [&item.get, &item.put, &item.patch, &item.delete, &item.post]
        .into_iter()
        .flatten()
        .filter_map(|op| op.operation_id.as_deref())
}
