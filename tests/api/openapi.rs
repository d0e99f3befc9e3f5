//! The OpenAPI document against the server and the contract, both ways: every
//! documented operation is served, and every route of `../shared/API.md` is documented.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use std::collections::BTreeSet;

use crate::common::TestServer;
use reqwest::Method;
use serde_json::Value;

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

/// `METHOD /path` pairs named in the contract, e.g. `GET|PATCH|DELETE /api/v1/roles/{name}`,
/// except in sections marked planned.
fn contract_routes() -> Option<BTreeSet<(String, String)>> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/API.md")).ok()?;
    let built = text.split("\n## ").filter(|section| {
        let heading = section.lines().next().unwrap_or_default();
        !heading.contains("(planned")
    });
    let mut routes = BTreeSet::new();
    for span in built.flat_map(|section| section.split('`').skip(1).step_by(2)) {
        let Some((methods, path)) = span.split_once(' ') else {
            continue;
        };
        if !path.starts_with('/') || !methods.chars().all(|c| c.is_ascii_uppercase() || c == '|') {
            continue;
        }
        let path = path.split('?').next().unwrap_or(path).trim_end();
        for method in methods.split('|') {
            routes.insert((method.to_owned(), path.to_owned()));
        }
    }
    Some(routes)
}

#[test]
fn every_documented_operation_is_served() {
    let s = TestServer::start();
    let doc = s.get("/api-docs/openapi.json").body;
    let ops = documented(&doc);
    assert!(ops.len() >= 9, "{ops:?}");
    for (method, path) in ops {
        let concrete = path.replace("{name}", "does-not-exist");
        let reply = s.send(
            Method::from_bytes(method.as_bytes()).unwrap(),
            &concrete,
            Some(&s.token),
            None,
            &[],
        );
        assert_ne!(reply.status, 405, "{method} {path}");
        let message = reply.body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.starts_with("no route"),
            "{method} {path}: {message}"
        );
    }
}

#[test]
fn every_contract_route_is_documented() {
    let Some(contract) = contract_routes() else {
        eprintln!("../shared/API.md is not beside the project; skipped");
        return;
    };
    assert!(
        contract.len() > 20,
        "the contract parse found too little: {contract:?}"
    );
    let s = TestServer::start();
    let doc = s.get("/api-docs/openapi.json").body;
    let ops = documented(&doc);
    let missing: Vec<_> = contract
        .iter()
        .filter(|route| !ops.contains(route))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the OpenAPI document: {missing:?}"
    );
}

#[test]
fn operations_carry_security_and_the_error_body() {
    let s = TestServer::start();
    let doc = s.get("/api-docs/openapi.json").body;
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("500"), "{method} {path}");
            if path.starts_with("/api/v1") {
                assert_eq!(
                    op["security"][0]["bearer"],
                    serde_json::json!([]),
                    "{method} {path}"
                );
                assert!(responses.contains_key("401"), "{method} {path}");
            }
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{method} {path}");
            }
            if path.starts_with("/oauth2") {
                // Failed client authentications count toward the address's limit.
                assert!(responses.contains_key("429"), "{method} {path}");
            }
            if method == "post" || method == "patch" {
                for code in ["400", "413", "415"] {
                    assert!(responses.contains_key(code), "{method} {path} {code}");
                }
            }
        }
    }
}

#[test]
fn swagger_ui_is_served_from_the_binary() {
    let s = TestServer::start();
    let page = s.client.get(s.url("/swagger-ui/")).send().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().unwrap();
    assert!(html.contains("swagger"), "{html}");
    let init = s
        .client
        .get(s.url("/swagger-ui/swagger-initializer.js"))
        .send()
        .unwrap();
    assert_eq!(init.status().as_u16(), 200);
    let js = init.text().unwrap();
    // Relative to the page, so that a path prefix in front of keyhouse is kept.
    assert!(js.contains("\"../api-docs/openapi.json\""), "{js}");
    assert!(
        js.contains("\"validatorUrl\": \"none\""),
        "no online validator: {js}"
    );
}

/// Every operation with its path, method and body.
fn each_operation(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((path.clone(), method.clone(), op));
        }
    }
    ops
}

#[test]
fn every_response_has_a_description() {
    let doc = keyhouse::api::openapi();
    let doc = serde_json::to_value(&doc).unwrap();
    for (path, method, op) in each_operation(&doc) {
        for (status, response) in op["responses"].as_object().unwrap() {
            let description = response["description"].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "{method} {path} {status}");
        }
    }
}

#[test]
fn error_responses_describe_their_body_under_schema() {
    let doc = keyhouse::api::openapi();
    let doc = serde_json::to_value(&doc).unwrap();
    let mut errors = 0;
    for (path, method, op) in each_operation(&doc) {
        for (status, response) in op["responses"].as_object().unwrap() {
            if !status.starts_with(['4', '5']) {
                continue;
            }
            let media = &response["content"]["application/json"];
            assert!(media.get("$ref").is_none(), "{method} {path} {status}");
            let schema = media["schema"]["$ref"].as_str().unwrap_or_default();
            assert!(
                schema.starts_with("#/components/schemas/"),
                "{method} {path} {status}: {media}"
            );
            errors += 1;
        }
    }
    assert!(errors > 100, "{errors}");
}

#[test]
fn the_document_names_its_server_relative() {
    let doc = serde_json::to_value(keyhouse::api::openapi()).unwrap();
    assert_eq!(doc["servers"][0]["url"], "/", "{}", doc["servers"]);
}

#[test]
fn operations_without_a_token_say_so() {
    let s = TestServer::start();
    let doc = s.get("/api-docs/openapi.json").body;
    let mut public = BTreeSet::new();
    for (path, method, op) in each_operation(&doc) {
        if !path.starts_with("/api/v1") {
            assert_eq!(op["security"], serde_json::json!([]), "{method} {path}");
            if method == "get" {
                // Really answered without a token.
                let reply = s.send(Method::GET, &path, None, None, &[]);
                assert!(
                    [200, 503].contains(&reply.status),
                    "{path}: {}",
                    reply.status
                );
            }
            public.insert(path);
        }
    }
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
        "/oauth2/token",
        "/oauth2/introspect",
        "/oauth2/revoke",
        "/api-docs/openapi.json",
    ] {
        assert!(
            public.contains(path),
            "{path} is not documented: {public:?}"
        );
    }
}

#[test]
fn each_create_answers_location_and_links_to_its_object() {
    let doc = serde_json::to_value(keyhouse::api::openapi()).unwrap();
    let ids: BTreeSet<&str> = each_operation(&doc)
        .into_iter()
        .filter_map(|(_, _, op)| op["operationId"].as_str())
        .collect();
    let expected = [
        (
            "/api/v1/service-accounts",
            &[
                "get_service_account",
                "update_service_account",
                "delete_service_account",
            ][..],
        ),
        (
            "/api/v1/groups",
            &["get_group", "update_group", "delete_group"],
        ),
        ("/api/v1/roles", &["get_role", "update_role", "delete_role"]),
        (
            "/api/v1/service-accounts/{name}/credentials",
            &["get_credential", "revoke_credential"],
        ),
        (
            "/api/v1/service-accounts/{name}/rotate-secret",
            &["get_credential", "revoke_credential"],
        ),
    ];
    for (path, targets) in expected {
        let created = &doc["paths"][path]["post"]["responses"]["201"];
        assert_eq!(
            created["headers"]["Location"]["schema"]["type"], "string",
            "{path}"
        );
        let links = created["links"].as_object().unwrap();
        for target in targets {
            let link = &links[*target];
            assert_eq!(link["operationId"], *target, "{path}");
            assert!(ids.contains(target), "{target}");
            assert!(link["parameters"]["name"].is_string(), "{path} -> {target}");
        }
        for (target, link) in links {
            assert!(
                ids.contains(link["operationId"].as_str().unwrap()),
                "{path} -> {target}"
            );
        }
    }
    let credential = &doc["paths"]["/api/v1/service-accounts/{name}/credentials"]["post"]["responses"]
        ["201"]["links"]["get_credential"]["parameters"];
    assert_eq!(credential["name"], "$request.path.name");
    assert_eq!(credential["id"], "$response.body#/id");
}

/// The documented bounds of `page` are the served ones (they were `int32`'s, while the
/// server takes any `u32`).
#[test]
fn the_documented_page_range_is_the_served_one() {
    let s = TestServer::start();
    let doc = s.get("/api-docs/openapi.json").body;
    let page = doc["paths"]["/api/v1/roles"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "page")
        .unwrap();
    let max = page["schema"]["maximum"].as_u64().unwrap();
    assert_eq!(page["schema"]["minimum"], 1);
    s.get(&format!("/api/v1/roles?page={max}"))
        .assert_status(200);
    s.get(&format!("/api/v1/roles?page={}", max + 1))
        .assert_error(400, "INVALID_ARGUMENT");
    s.get("/api/v1/roles?page=0")
        .assert_error(400, "INVALID_ARGUMENT");
}
