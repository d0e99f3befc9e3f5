//! The client's side of the HTTP API: one blocking agent, the caller's bearer token,
//! the scope's path prefix, the API's error body turned into [`ClientError`], and lists
//! followed page by page.

use std::io::Write;
use std::path::Path;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use ureq::http::{Method, Request, Response};

use super::error::ClientError;
use super::options::Resolved;

pub struct Api {
    agent: ureq::Agent,
    base: String,
    token: Option<String>,
    project: Option<String>,
    page_size: usize,
}

/// Percent-encodes one path segment or query value.
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

impl Api {
    pub fn connect(resolved: Resolved) -> Result<Api, ClientError> {
        let mut config = ureq::Agent::config_builder().http_status_as_error(false);
        if let Some(path) = &resolved.ca_file {
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::new_with_certs(&ca_certificates(
                        path,
                    )?))
                    .build(),
            );
        }
        Ok(Api {
            agent: config.build().into(),
            base: resolved.url,
            token: resolved.token,
            project: resolved.project,
            page_size: resolved.page_size,
        })
    }

    /// `/api/v1` or `/api/v1/projects/P`, then `tail`.
    pub fn scoped(&self, tail: &str) -> String {
        match &self.project {
            Some(project) => format!("/api/v1/projects/{}{tail}", encode(project)),
            None => format!("/api/v1{tail}"),
        }
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response<ureq::Body>, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut request = Request::builder().method(method).uri(&url);
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let sent = match body {
            Some(body) => request
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .map(|request| self.agent.run(request)),
            None => request.body(()).map(|request| self.agent.run(request)),
        };
        let answer = sent.map_err(|err| ClientError::usage(format!("bad URL {url}: {err}")))?;
        answer.map_err(|err| self.unreachable(err))
    }

    /// A JSON request; the answer's body (null for 204), or the API's refusal.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let answer = self.send(method, path, body)?;
        self.read(answer)
    }

    /// A form-encoded `/oauth2` request, authenticated as the client `user`.
    pub fn oauth_form(
        &self,
        path: &str,
        form: &str,
        user: &str,
        password: &str,
    ) -> Result<Value, ClientError> {
        let answer = self.send_form(path, form, user, password)?;
        self.read(answer)
    }

    fn send_form(
        &self,
        path: &str,
        form: &str,
        user: &str,
        password: &str,
    ) -> Result<Response<ureq::Body>, ClientError> {
        use base64::Engine;
        let url = format!("{}{path}", self.base);
        let pair = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            encode(user),
            encode(password)
        ));
        let request = Request::builder()
            .method(Method::POST)
            .uri(&url)
            .header("Authorization", format!("Basic {pair}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .map_err(|err| ClientError::usage(format!("bad URL {url}: {err}")))?;
        self.agent.run(request).map_err(|err| self.unreachable(err))
    }

    fn unreachable(&self, err: ureq::Error) -> ClientError {
        ClientError::Unreachable {
            url: self.base.clone(),
            reason: err.to_string(),
        }
    }

    fn read(&self, mut answer: Response<ureq::Body>) -> Result<Value, ClientError> {
        let status = answer.status().as_u16();
        let text = answer
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_string()
            .map_err(|err| self.unreachable(err))?;
        let body: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| {
                ClientError::local(format!("the server answered {status} with no JSON body"))
            })?
        };
        if (200..300).contains(&status) {
            return Ok(body);
        }
        Err(refusal(status, &body))
    }

    /// Every item of a list, following `next_page_token`, or the first `limit` ones.
    /// `path` may carry a query already.
    pub fn list(&self, path: &str, limit: Option<usize>) -> Result<Vec<Value>, ClientError> {
        let per_page = limit.unwrap_or(self.page_size).clamp(1, self.page_size);
        let joiner = if path.contains('?') { '&' } else { '?' };
        let first = format!("{path}{joiner}per_page={per_page}");
        let mut page = self.call(Method::GET, &first, None)?;
        let mut items = Vec::new();
        loop {
            if let Some(Value::Array(more)) = page.get_mut("items").map(Value::take) {
                items.extend(more);
            }
            if limit.is_some_and(|limit| items.len() >= limit) {
                items.truncate(limit.unwrap_or(items.len()));
                return Ok(items);
            }
            let Some(token) = page.get("next_page_token").and_then(Value::as_str) else {
                return Ok(items);
            };
            let next = format!("{first}&page_token={}", encode(token));
            page = self.call(Method::GET, &next, None)?;
        }
    }

    /// A POST whose answer (a file, such as a backup) is written to `out`.
    pub fn download(&self, path: &str, out: &mut impl Write) -> Result<u64, ClientError> {
        let answer = self.send(Method::POST, path, None)?;
        if !answer.status().is_success() {
            return Err(match self.read(answer) {
                Err(err) => err,
                Ok(_) => ClientError::local("the server refused the download"),
            });
        }
        let mut body = answer.into_body();
        let mut reader = body.with_config().limit(u64::MAX).reader();
        std::io::copy(&mut reader, out).map_err(|err| ClientError::local(err.to_string()))
    }
}

/// The API's error body as a refusal; a body of another shape still gives the status.
fn refusal(status: u16, body: &Value) -> ClientError {
    let error = &body["error"];
    let code = error["code"].as_str().unwrap_or("HTTP_ERROR").to_owned();
    let mut message = error["message"]
        .as_str()
        .or_else(|| body["error_description"].as_str())
        .or_else(|| body["error"].as_str())
        .unwrap_or("no message")
        .to_owned();
    if let Some(details) = error["details"].as_array() {
        for detail in details {
            if let (Some(field), Some(reason)) =
                (detail["field"].as_str(), detail["reason"].as_str())
            {
                message.push_str(&format!("; {field}: {reason}"));
            }
        }
    }
    ClientError::Refused {
        status,
        code,
        message,
    }
}

/// The certificates of a PEM file.
fn ca_certificates(path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, ClientError> {
    let pem = std::fs::read(path)
        .map_err(|err| ClientError::usage(format!("cannot read {}: {err}", path.display())))?;
    let mut certificates = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let Ok(ureq::tls::PemItem::Certificate(certificate)) = item {
            certificates.push(certificate);
        }
    }
    if certificates.is_empty() {
        return Err(ClientError::usage(format!(
            "{} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certificates)
}
