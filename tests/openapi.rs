//! The OpenAPI document against the server and the contract, both ways: every
//! documented operation is served, and every route of `../shared/API.md` is documented.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

mod common;

use std::collections::BTreeSet;

use common::TestServer;
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

/// Routes of the contract that open issues build, not this release: each must be absent
/// from the document (a test checks it), so the list shrinks as they land.
const NOT_YET_BUILT: [(&str, &str); 2] = [
    ("POST", "/api/v1/projects"),                            // projects
    ("POST", "/api/v1/service-accounts/{name}/renew-token"), // the seed API's wire format
];

/// `METHOD /path` pairs named in the contract, e.g. `GET|PATCH|DELETE /api/v1/roles/{name}`,
/// except in sections marked planned and in sections of routes not yet built.
fn contract_routes() -> Option<BTreeSet<(String, String)>> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/API.md")).ok()?;
    let built = text.split("\n## ").filter(|section| {
        let heading = section.lines().next().unwrap_or_default();
        !heading.contains("(planned") && heading != "Projects"
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
        .filter(|(m, p)| !NOT_YET_BUILT.contains(&(m.as_str(), p.as_str())))
        .collect();
    for (method, path) in NOT_YET_BUILT {
        assert!(
            !ops.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} is built now: take it off NOT_YET_BUILT"
        );
    }
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
    assert!(js.contains("/api-docs/openapi.json"), "{js}");
    assert!(
        js.contains("\"validatorUrl\": \"none\""),
        "no online validator: {js}"
    );
}
