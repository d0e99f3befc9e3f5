//! Binding, running and stopping: the server with its background tasks (last-use
//! flusher, integrity timer), and the wait for the database to close.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};

use super::StartError;
use super::listen;
use super::prepare::prepare;
use super::signals::{self, Reload, Signals};
use super::tls::{Certificate, tls_config};
use crate::auth::jwt::OAuthSettings;
use crate::auth::last_use::{Flusher, LastUse};
use crate::clock::Clock;
use crate::config::Config;
use crate::connections;
use crate::error::Error;
use crate::store::{CloseWatch, IntegrityTimer, Store};

/// How long a stopped server may take to release the database file.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

/// A server bound to its address, not yet serving.
pub struct Bound {
    pub server: Server,
    pub addr: SocketAddr,
    /// Writes last-use times; stop it after the server, before the database closes.
    pub flusher: Flusher,
    /// Runs the integrity check on its schedule and for damage met; stopped with the
    /// flusher.
    pub checker: IntegrityTimer,
    /// Tells when the workers have let go of the database after the server stops.
    pub closed: CloseWatch,
    /// The database, to tell readiness.
    pub store: Store,
    /// The TLS certificate served, which `SIGHUP` reloads.
    pub certificate: Option<Arc<Certificate>>,
}

impl Bound {
    /// After the server has stopped: stops the integrity check, writes the last uses,
    /// then waits for the database to close.
    fn finish(flusher: Flusher, checker: IntegrityTimer, closed: &CloseWatch) -> bool {
        checker.stop();
        flusher.stop();
        closed.wait(CLOSE_TIMEOUT)
    }
}

/// Validates the settings, opens the store, bootstraps, and binds `server.listen`.
/// Everything that reads time reads `clock`. Signals are `serve`'s to answer.
pub fn bind(config: Config, clock: Clock) -> Result<Bound, StartError> {
    // A `Config` built in code has not been through `Config::load`; its bounds keep
    // the time arithmetic below from overflowing.
    config.validate()?;
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
        token_typ: config.oauth.access_token_typ.as_str(),
    };
    let flush_every = Duration::from_secs(config.credentials.last_used_flush_seconds);
    let check_every = Duration::from_secs(config.storage.integrity_check_interval_seconds);
    let certificate = match config.tls_files() {
        Some((cert_file, key_file)) => Some(Arc::new(Certificate::load(cert_file, key_file)?)),
        None => None,
    };
    let tls = certificate.clone().map(tls_config).transpose()?;
    let plan = connections::plan(
        config.server.max_connections,
        config.server.max_connections_per_address,
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
    let prepared = prepare(config, oauth, clock.clone())?;
    let closed = prepared.store.close_watch();
    let store = prepared.store.get_ref().clone();
    let last_use: Arc<LastUse> = prepared.last_use.clone().into_inner();
    let flusher = Flusher::start(prepared.store.get_ref().clone(), last_use, flush_every);
    let checker = IntegrityTimer::start(prepared.store.get_ref().clone(), check_every, clock);
    let scheme = if tls.is_some() { "https" } else { "http" };
    let server = listen::serve(listener, tls, &plan, prepared).map_err(bind_error)?;
    log::info!("serving on {scheme}://{addr}");
    Ok(Bound {
        server,
        addr,
        flusher,
        checker,
        closed,
        store,
        certificate,
    })
}

/// Runs the server until a signal stops it, then waits for the database to close.
/// `config_file` is the file `config` was read from, which `SIGHUP` reads again.
pub fn serve(config: Config, config_file: Option<PathBuf>) -> Result<(), StartError> {
    let format = config.log.format;
    let (flusher, checker, closed) = actix_web::rt::System::new().block_on(async move {
        let signals = Signals::install().map_err(StartError::Signals)?;
        let bound = bind(config, Clock::system())?;
        let reload = Reload {
            config_file,
            certificate: bound.certificate.clone(),
            format,
        };
        signals.watch(bound.server.handle(), reload);
        signals::notify_ready(bound.store.clone(), bound.addr.to_string());
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
    checker: IntegrityTimer,
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

/// Starts a server on a new thread, on the system's time; returns once it is bound.
pub fn spawn(config: Config) -> Result<Spawned, StartError> {
    spawn_with_clock(config, Clock::system())
}

/// Starts a server on a new thread that reads its time from `clock`, which the caller
/// may advance; returns once it is bound.
pub fn spawn_with_clock(config: Config, clock: Clock) -> Result<Spawned, StartError> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match bind(config, clock) {
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
