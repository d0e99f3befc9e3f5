//! The web console at `/ui/`: plain HTML, CSS and JavaScript modules from `console/`,
//! compiled into the binary, so it needs no network and no build step. It speaks only
//! the public API, with the signed-in secret held in the page's memory (docs/console.md).
//!
//! Every answer under `/ui` carries a Content-Security-Policy that allows only this
//! server's own scripts, styles and API (no inline script), and refuses framing; the
//! files are gzip-compressed when the browser accepts it, keeping the first load small.

use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::Error;

/// Only this server: scripts and styles from its files, requests to its API, no
/// framing, no plugins, no `<base>` rewriting, forms posting nowhere else.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file: its path under `/ui/`, its content type and its bytes.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!("../../console/", $path)),
        }
    };
}

/// Every file of the console; a file not listed here is not served.
const ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("style.css", CSS),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("session.js", JS),
    asset!("signin.js", JS),
    asset!("accounts.js", JS),
    asset!("account.js", JS),
    asset!("credentials.js", JS),
    asset!("pager.js", JS),
    asset!("groups.js", JS),
    asset!("roles.js", JS),
    asset!("audit.js", JS),
    asset!("scope.js", JS),
    asset!("projects.js", JS),
];

fn find(path: &str) -> Option<&'static Asset> {
    let path = if path.is_empty() { "index.html" } else { path };
    ASSETS.iter().find(|asset| asset.path == path)
}

async fn file(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, Error> {
    let asset = find(&path).ok_or_else(|| Error::NoRoute {
        path: req.path().to_owned(),
    })?;
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        // Revalidated on each load, so an upgraded binary's console is never mixed
        // with files cached from the one before.
        .insert_header(("Cache-Control", "no-cache"))
        .body(asset.body))
}

async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/ui/"))
        .finish()
}

/// `/ui` (redirected to `/ui/`) and the files under it, with the security headers.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/ui")
            .wrap(Compress::default())
            .wrap(
                DefaultHeaders::new()
                    .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "no-referrer"))
                    .add(("X-Content-Type-Options", "nosniff")),
            )
            .route("", web::get().to(redirect))
            .route("/{path:.*}", web::get().to(file)),
    );
}
