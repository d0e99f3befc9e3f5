//! The OpenAPI document and Swagger UI, both served from the binary with no network.
//! Conventions that hold for every operation (the bearer scheme on `/api/v1` and none
//! elsewhere, the error responses any operation of its shape can give, a description on
//! every response) are added here, in one place; [`super::doc_links`] adds the links
//! from each create to its object.

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, get, web};
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{Content, Object, Ref, RefOr, Required, ResponseBuilder, Type};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::error_response;
use crate::auth::PROJECT_ROUTES;
use crate::error::{Code, ErrorBody, OAuthErrorBody};

/// `/api-docs/openapi.json`, from `/swagger-ui/`.
const SWAGGER_UI_DOCUMENT: &str = "../api-docs/openapi.json";
const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "keyhouse",
        description = "Service accounts, roles and credentials in one binary. Every `/api/v1` \
            call needs `Authorization: Bearer <token>`: a `kh_` secret or an access token. \
            Errors share one body: `{\"error\": {\"code\", \"message\", \"details\"}}`."
    ),
    components(schemas(ErrorBody, OAuthErrorBody)),
    tags(
        (name = "service-accounts", description = "Machine identities."),
        (name = "credentials", description = "Secrets and public keys of service accounts."),
        (name = "groups", description = "Sets of service accounts that share roles."),
        (name = "roles", description = "Named sets of permissions; three are built in."),
        (name = "audit", description = "Every change, as it was made."),
        (name = "projects", description = "Scopes of their own for teams' accounts, groups and roles."),
        (name = "admin", description = "Backups."),
        (name = "me", description = "The caller itself."),
        (name = "oauth2", description = "Client-credentials access tokens, introspection, revocation and discovery."),
        (name = "probes", description = "Liveness and readiness, without a token."),
        (name = "docs", description = "This document."),
    )
)]
struct ApiDoc;

/// The document, serialized once; `/api-docs/openapi.json` and `keyhouse openapi` give
/// exactly these bytes.
#[derive(Clone)]
pub struct OpenApiJson(pub String);

/// The whole OpenAPI document, collected from [`super::routes`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(super::routes)
        .split_for_parts();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A `kh_` secret, or an access token from `/oauth2/token`.",
                ))
                .build(),
        ),
    );
    // Relative: every installation serves the same bytes, wherever it listens.
    doc.servers = Some(vec![
        Server::builder()
            .url("/")
            .description(Some("The server that serves this document."))
            .build(),
    ]);
    for (path, item) in doc.paths.paths.iter_mut() {
        let in_project = path.starts_with(PROJECT_ROUTES);
        for (method, operation) in operations(item) {
            apply_conventions(path, method, operation);
            if in_project {
                in_a_project(operation);
            }
        }
    }
    super::doc_links::add(&mut doc);
    doc
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("post", item.post.as_mut()),
        ("put", item.put.as_mut()),
        ("patch", item.patch.as_mut()),
        ("delete", item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
    .collect()
}

/// An operation served a second time under `/api/v1/projects/{project}/`: the same
/// handler and tag (so Swagger UI shows it beside its root twin), an id of its own
/// (`<id>_in_project`) and the `project` path parameter.
fn in_a_project(operation: &mut Operation) {
    if let Some(id) = &mut operation.operation_id {
        id.push_str("_in_project");
    }
    if let Some(summary) = &mut operation.summary {
        summary.push_str(" In the project `{project}`.");
    }
    let project = ParameterBuilder::new()
        .name("project")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some("The project's name."))
        .schema(Some(Object::with_type(Type::String)))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .insert(0, RefOr::T(project));
}

fn describe(code: Code) -> &'static str {
    match code {
        Code::InvalidArgument => "A parameter or field is invalid.",
        Code::Unauthenticated => "No valid credential.",
        Code::PermissionDenied => "The caller lacks the permission.",
        Code::NotFound => "No such object, or the caller may not read its kind.",
        Code::MethodNotAllowed => "The route does not take this method.",
        Code::AlreadyExists => "The name is taken.",
        Code::LimitExceeded => "A limit would be exceeded.",
        Code::FailedPrecondition => "The object is not in a state that allows this.",
        Code::StaleEtag => "If-Match does not match the current etag.",
        Code::PayloadTooLarge => "The body is larger than the limit.",
        Code::UnsupportedMediaType => "The body is not JSON.",
        Code::RateLimited => "Too many failed authentications from this address.",
        Code::Internal => "A bug; the log has the cause under the response's X-Request-Id.",
        Code::Unavailable => {
            "The database cannot take the request now (a failover); retry after Retry-After."
        }
    }
}

/// Adds the error responses any operation of this shape can give, the bearer scheme to
/// `/api/v1` and `security: []` to the rest (probes, discovery, docs, and `/oauth2`,
/// which authenticates clients by its own means), and a description to every response.
fn apply_conventions(path: &str, method: &str, operation: &mut Operation) {
    let mut codes = vec![Code::Internal];
    if path.starts_with("/api/v1") {
        codes.extend([
            Code::Unauthenticated,
            Code::PermissionDenied,
            Code::RateLimited,
        ]);
        operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    } else {
        operation.security = Some(Vec::new());
    }
    if path.starts_with("/oauth2") {
        // Client authentication failures count against the address like bad tokens do.
        codes.push(Code::RateLimited);
    }
    if path.contains('{') {
        codes.push(Code::NotFound);
    }
    let has_query = operation.parameters.iter().flatten().any(|p| match p {
        utoipa::openapi::RefOr::T(p) => {
            matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query)
        }
        utoipa::openapi::RefOr::Ref(_) => false,
    });
    if has_query {
        codes.push(Code::InvalidArgument);
    }
    if operation.request_body.is_some() || matches!(method, "post" | "put" | "patch") {
        codes.extend([
            Code::InvalidArgument,
            Code::PayloadTooLarge,
            Code::UnsupportedMediaType,
        ]);
    }
    for code in codes {
        let status = error_response::status(code).as_u16().to_string();
        operation
            .responses
            .responses
            .entry(status)
            .or_insert_with(|| {
                ResponseBuilder::new()
                    .description(describe(code))
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                    )
                    .into()
            });
    }
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = reason(status).to_owned();
        }
    }
}

/// The reason phrase of a status such as `200`, the description of a response whose
/// annotation gives none.
fn reason(status: &str) -> &'static str {
    status
        .parse()
        .ok()
        .and_then(|code| StatusCode::from_u16(code).ok())
        .and_then(|code| code.canonical_reason())
        .unwrap_or("The answer.")
}

/// The OpenAPI document of this server.
#[utoipa::path(tag = "docs", responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
#[get("/api-docs/openapi.json")]
pub async fn get_openapi(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}

/// Swagger UI at `/swagger-ui/`, its files compiled in; it loads nothing from elsewhere.
/// It loads the document by a URL relative to its page, so that it works behind a
/// reverse proxy that serves keyhouse under a path prefix.
pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/swagger-ui/{_:.*}").config(
        Config::new([SWAGGER_UI_DOCUMENT])
            .validator_url("none")
            .persist_authorization(false),
    )
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_openapi);
}
