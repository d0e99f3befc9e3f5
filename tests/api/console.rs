//! The web console at `/ui/`: every file of `console/` is served from the binary with
//! its content type, behind the security headers; `/ui` redirects; an unknown file is
//! the contract's 404.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::common::{Reply, TestServer};
use reqwest::Method;

fn get(server: &TestServer, path: &str) -> Reply {
    server.send(Method::GET, path, None, None, &[])
}

#[track_caller]
fn assert_security_headers(reply: &Reply) {
    let csp = reply.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-"), "{csp}");
    assert!(!csp.contains("http"), "no other origin: {csp}");
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn index_is_html_with_the_security_headers_and_no_inline_script() {
    let server = TestServer::start();
    let reply = get(&server, "/ui/");
    reply.assert_status(200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_security_headers(&reply);
    let html = reply.body.as_str().unwrap();
    assert!(html.contains(r#"<script type="module" src="app.js"></script>"#));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "one script, from a file"
    );
    assert_eq!(get(&server, "/ui/index.html").body, reply.body);
}

#[test]
fn every_file_of_the_console_is_served_with_its_content_type() {
    let server = TestServer::start();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("console");
    let mut served = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let expected = match path.extension().unwrap().to_str().unwrap() {
            "html" => "text/html; charset=utf-8",
            "js" => "text/javascript; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            other => panic!("console/{name}: no content type for .{other}"),
        };
        let reply = get(&server, &format!("/ui/{name}"));
        reply.assert_status(200);
        assert_eq!(reply.header("content-type"), Some(expected), "{name}");
        assert_security_headers(&reply);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(reply.body.as_str().unwrap(), text, "{name} as built");
        served += 1;
    }
    assert!(served >= 5, "{served} files");
}

#[test]
fn ui_without_the_slash_redirects() {
    let server = TestServer::start();
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client.get(server.url("/ui")).send().unwrap();
    assert_eq!(resp.status().as_u16(), 308);
    assert_eq!(resp.headers()["location"], "/ui/");
}

#[test]
fn an_unknown_file_is_the_contracts_404_with_the_headers() {
    let server = TestServer::start();
    for path in ["/ui/missing.js", "/ui/console/app.js", "/ui/index.html/x"] {
        let reply = get(&server, path);
        reply.assert_error(404, "NOT_FOUND");
        assert_security_headers(&reply);
    }
}

#[test]
fn files_are_gzipped_when_the_browser_accepts_it() {
    let server = TestServer::start();
    let reply = server.send(
        Method::GET,
        "/ui/app.js",
        None,
        None,
        &[("accept-encoding", "gzip")],
    );
    reply.assert_status(200);
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
}
