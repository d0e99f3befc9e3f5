//! Assembles keyhouse: opens the store, bootstraps the first admin, builds the app
//! (extractor error handlers, middleware, routes, Swagger UI, fallback) and serves it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::error::{JsonPayloadError, PayloadError, QueryPayloadError, UrlencodedError};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use utoipa_actix_web::AppExt;

use crate::api::{self, OpenApiJson, RouteTable};
use crate::auth::attempts::AuthAttempts;
use crate::auth::client::AssertionReplay;
use crate::auth::jwt::{OAuthSettings, Tokens};
use crate::auth::last_use::{Flusher, LastUse};
use crate::auth::secret::Secret;
use crate::config::{Config, ConfigError};
use crate::connections::{self, DISCONNECT_TIMEOUT, HEADER_TIMEOUT, KEEP_ALIVE};
use crate::error::{Error, OAuthError};
use crate::metrics::{self, Metrics};
use crate::store::{
    CloseWatch, IntegrityTimer, KeyFileError, OpenError, SealKey, Store, resolve_key_file,
};
use crate::{access_log, clock, http_limits, request_id};

/// Why the server could not start, in words for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error("cannot prepare the database: {0:?}")]
    Store(#[from] Error),
    #[error("cannot serve on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the OpenAPI document: {0}")]
    OpenApi(#[from] serde_json::Error),
    #[error("invalid setting {setting}: {reason}")]
    Tls {
        setting: &'static str,
        reason: String,
    },
}

/// The rustls configuration of `server.tls`, with ring as its cryptography.
fn tls_config(cert_file: &Path, key_file: &Path) -> Result<rustls::ServerConfig, StartError> {
    let bad = |setting, reason: String| StartError::Tls { setting, reason };
    let certs = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            bad(
                "server.tls.cert_file",
                format!("{}: {e}", cert_file.display()),
            )
        })?;
    if certs.is_empty() {
        return Err(bad(
            "server.tls.cert_file",
            format!("{} holds no certificate", cert_file.display()),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| {
        bad(
            "server.tls.key_file",
            format!("{}: {e}", key_file.display()),
        )
    })?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("server.tls", e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            bad(
                "server.tls.key_file",
                format!("does not match the certificate: {e}"),
            )
        })
}

/// Everything the app needs, prepared once before serving.
#[derive(Clone)]
struct Prepared {
    config: web::Data<Config>,
    store: web::Data<Store>,
    last_use: web::Data<LastUse>,
    tokens: web::Data<Tokens>,
    replay: web::Data<AssertionReplay>,
    attempts: web::Data<AuthAttempts>,
    metrics: web::Data<Metrics>,
    openapi: web::Data<OpenApiJson>,
    routes: web::Data<RouteTable>,
}

/// The OpenAPI document as served, with a final newline.
pub fn openapi_json() -> Result<String, serde_json::Error> {
    Ok(api::openapi().to_pretty_json()? + "\n")
}

/// The key of `storage.key_file`, from systemd's `$CREDENTIALS_DIRECTORY` for a relative
/// name when that is set.
fn seal_key(config: &Config) -> Result<Option<SealKey>, KeyFileError> {
    let Some(setting) = &config.storage.key_file else {
        return Ok(None);
    };
    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    SealKey::load(&resolve_key_file(setting, credentials.as_deref())).map(Some)
}

fn prepare(config: Config, oauth: OAuthSettings) -> Result<Prepared, StartError> {
    let store = Store::open_with(&config.storage.path, seal_key(&config)?)?;
    let now = clock::now();
    let supplied = config.bootstrap_secret()?;
    let secret = match &supplied {
        Some(secret) => secret.clone(),
        None => Secret::generate()?,
    };
    let lifetime = chrono::Duration::days(i64::from(config.credentials.default_lifetime_days));
    let admin = secret.to_credential("bootstrap".to_owned(), now + lifetime);
    if store.initialize(now, admin)? {
        log::info!(
            "initialized a new database at {}",
            config.storage.path.display()
        );
        if supplied.is_none() {
            eprintln!(
                "keyhouse: created the service account 'admin' (role 'admin'). \
                 Its secret, shown only this once:\n{}",
                secret.expose()
            );
        }
    }
    let tokens = Tokens::load(&store, oauth, now)?;
    let doc = api::openapi();
    let routes = RouteTable::from_openapi(&doc);
    let metrics = Metrics::new(&store);
    let security = &config.security;
    let attempts = AuthAttempts::new(
        security.max_auth_failures,
        security.auth_failure_window_seconds,
        metrics.auth_attempts(),
    );
    Ok(Prepared {
        attempts: web::Data::new(attempts),
        tokens: web::Data::new(tokens),
        replay: web::Data::new(AssertionReplay::default()),
        config: web::Data::new(config),
        last_use: web::Data::new(LastUse::default()),
        metrics: web::Data::new(metrics),
        store: web::Data::new(store),
        openapi: web::Data::new(OpenApiJson(doc.to_pretty_json()? + "\n")),
        routes: web::Data::new(routes),
    })
}

fn json_error(err: JsonPayloadError) -> Error {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => Error::PayloadTooLarge { limit },
        JsonPayloadError::Payload(PayloadError::Overflow) => Error::PayloadTooLarge { limit: 0 },
        JsonPayloadError::ContentType => {
            Error::UnsupportedMediaType("the body must be application/json".to_owned())
        }
        JsonPayloadError::Deserialize(err) if err.is_data() => {
            Error::invalid("body", err.to_string())
        }
        other => Error::invalid("body", format!("not valid JSON: {other}")),
    }
}

/// OAuth forms: a body that is not form-encoded is 415; a bad one `invalid_request`.
fn form_error(err: UrlencodedError) -> Error {
    match err {
        UrlencodedError::ContentType => Error::UnsupportedMediaType(
            "the body must be application/x-www-form-urlencoded".to_owned(),
        ),
        UrlencodedError::Overflow { limit, .. } => Error::PayloadTooLarge { limit },
        other => Error::oauth(
            OAuthError::InvalidRequest,
            format!("the form is malformed: {other}"),
        ),
    }
}

fn query_error(err: QueryPayloadError) -> Error {
    Error::invalid("query", err.to_string())
}

fn app(
    prepared: Prepared,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = prepared.config.server.max_body_bytes;
    App::new()
        .app_data(prepared.config)
        .app_data(prepared.store)
        .app_data(prepared.last_use)
        .app_data(prepared.tokens)
        .app_data(prepared.replay)
        .app_data(prepared.attempts)
        .app_data(prepared.metrics)
        .app_data(prepared.openapi)
        .app_data(prepared.routes)
        .app_data(web::PayloadConfig::new(limit))
        .app_data(
            web::JsonConfig::default()
                .limit(limit)
                .error_handler(|err, _| json_error(err).into()),
        )
        .app_data(web::QueryConfig::default().error_handler(|err, _| query_error(err).into()))
        .app_data(
            web::FormConfig::default()
                .limit(limit)
                .error_handler(|err, _| form_error(err).into()),
        )
        .into_utoipa_app()
        .configure(api::routes)
        .into_app()
        .service(api::swagger_ui())
        .route(
            "/swagger-ui",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/swagger-ui/"))
                    .finish()
            }),
        )
        .default_service(web::to(api::unmatched))
        .wrap(from_fn(http_limits::middleware))
        .wrap(from_fn(metrics::middleware))
        .wrap(from_fn(request_id::middleware))
        .wrap(access_log::logger())
}

/// How long a stopped server may take to release the database file.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

/// A server bound to its address, not yet serving.
pub struct Bound {
    pub server: Server,
    pub addr: SocketAddr,
    /// Writes last-use times; stop it after the server, before the database closes.
    pub flusher: Flusher,
    /// Runs the scheduled integrity check; stopped with the flusher.
    pub checker: Option<IntegrityTimer>,
    /// Tells when the workers have let go of the database after the server stops.
    pub closed: CloseWatch,
}

impl Bound {
    /// After the server has stopped: stops the integrity check, writes the last uses,
    /// then waits for the database to close.
    fn finish(flusher: Flusher, checker: Option<IntegrityTimer>, closed: &CloseWatch) -> bool {
        if let Some(checker) = checker {
            checker.stop();
        }
        flusher.stop();
        closed.wait(CLOSE_TIMEOUT)
    }
}

/// Opens the store, bootstraps, and binds `server.listen`. With `handle_signals`, SIGINT
/// and SIGTERM stop it gracefully.
pub fn bind(config: Config, handle_signals: bool) -> Result<Bound, StartError> {
    let listen = config.listen_addr()?;
    let bind_error = |source| StartError::Bind {
        addr: listen.to_string(),
        source,
    };
    let listener = std::net::TcpListener::bind(listen).map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let oauth = OAuthSettings {
        issuer: config.issuer(addr),
        audience: config.oauth.audience.clone(),
        ttl: chrono::Duration::seconds(config.oauth.access_token_ttl_seconds as i64),
    };
    let flush_every = Duration::from_secs(config.credentials.last_used_flush_seconds);
    let check_every = Duration::from_secs(config.storage.integrity_check_interval_seconds);
    let tls = match config.tls_files() {
        Some((cert_file, key_file)) => Some(tls_config(cert_file, key_file)?),
        None => None,
    };
    let plan = connections::plan(
        config.server.max_connections,
        connections::open_file_limit(),
        std::thread::available_parallelism().map_or(2, |n| n.get()),
    );
    if let Some(cap) = plan.lowered_to {
        log::warn!(
            "server.max_connections {} does not fit under the open-file limit with {} \
             descriptors to spare; serving at most {cap} connections (raise LimitNOFILE, \
             or ulimit -n)",
            config.server.max_connections,
            connections::RESERVED_FILES
        );
    }
    let prepared = prepare(config, oauth)?;
    let closed = prepared.store.close_watch();
    let last_use: Arc<LastUse> = prepared.last_use.clone().into_inner();
    let flusher = Flusher::start(prepared.store.get_ref().clone(), last_use, flush_every);
    let checker = IntegrityTimer::start(prepared.store.get_ref().clone(), check_every, clock::now);
    let factory = move || app(prepared.clone());
    let mut server = HttpServer::new(factory)
        .shutdown_timeout(30)
        .workers(plan.workers)
        .max_connections(plan.per_worker)
        .client_request_timeout(HEADER_TIMEOUT)
        .keep_alive(KEEP_ALIVE)
        .client_disconnect_timeout(DISCONNECT_TIMEOUT);
    if !handle_signals {
        server = server.disable_signals();
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let server = match tls {
        Some(tls) => server.listen_rustls_0_23(listener, tls),
        None => server.listen(listener),
    }
    .map_err(bind_error)?
    .run();
    log::info!("serving on {scheme}://{addr}");
    Ok(Bound {
        server,
        addr,
        flusher,
        checker,
        closed,
    })
}

/// Runs the server until a signal stops it, then waits for the database to close.
pub fn serve(config: Config) -> Result<(), StartError> {
    let (flusher, checker, closed) = actix_web::rt::System::new().block_on(async move {
        let bound = bind(config, true)?;
        bound.server.await.map_err(|source| StartError::Bind {
            addr: bound.addr.to_string(),
            source,
        })?;
        Ok::<_, StartError>((bound.flusher, bound.checker, bound.closed))
    })?;
    if Bound::finish(flusher, checker, &closed) {
        log::info!("stopped; the database is closed");
    } else {
        log::warn!("stopped, but the database was still in use after {CLOSE_TIMEOUT:?}");
    }
    Ok(())
}

/// A server running on its own thread, for tests and benchmarks.
pub struct Spawned {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
    flusher: Flusher,
    checker: Option<IntegrityTimer>,
    closed: CloseWatch,
    thread: std::thread::JoinHandle<()>,
}

impl Spawned {
    /// Stops gracefully and waits until the database is closed.
    pub fn stop(self) {
        actix_web::rt::System::new().block_on(self.handle.stop(true));
        let _ = self.thread.join();
        Bound::finish(self.flusher, self.checker, &self.closed);
    }
}

/// Starts a server on a new thread; returns once it is bound.
pub fn spawn(config: Config) -> Result<Spawned, StartError> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match bind(config, false) {
                Ok(bound) => {
                    let handle = bound.server.handle();
                    let _ = sender.send(Ok((
                        bound.addr,
                        handle,
                        bound.flusher,
                        bound.checker,
                        bound.closed,
                    )));
                    let _ = bound.server.await;
                }
                Err(err) => {
                    let _ = sender.send(Err(err));
                }
            }
        });
    });
    let (addr, handle, flusher, checker, closed) = receiver
        .recv()
        .map_err(|_| StartError::Store(Error::internal("the server thread ended early")))??;
    Ok(Spawned {
        addr,
        handle,
        flusher,
        checker,
        closed,
        thread,
    })
}
