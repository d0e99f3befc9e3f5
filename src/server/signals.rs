//! What a signal does while `serve` runs. `SIGHUP` rereads the settings and applies
//! what can change without a restart: the TLS certificate and key (read again from the
//! files the server started with) and the log level; it logs what it did and never
//! ends the process. `SIGTERM`, `SIGINT` and `SIGQUIT` stop the server (gracefully on
//! `SIGTERM`), after telling systemd `STOPPING=1`.
//! Also here: systemd's `READY=1` once the database answers a read (as `/readyz`
//! would), and its watchdog.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_rt::signal::unix::{Signal, SignalKind, signal};
use actix_web::dev::ServerHandle;

use super::tls::Certificate;
use crate::config::{Config, LogFormat};
use crate::store::Store;
use crate::{logging, systemd};

/// What `SIGHUP` reloads.
pub(super) struct Reload {
    /// The `--config` file, read again with the process's environment on top.
    pub(super) config_file: Option<PathBuf>,
    pub(super) certificate: Option<Arc<Certificate>>,
    /// The format the log started with, which a reload keeps.
    pub(super) format: LogFormat,
}

/// The signals `serve` answers, listened for from [`Signals::install`] on (before the
/// server binds, so that none is missed, nor ends the process by its default action).
pub(super) struct Signals {
    hangup: Signal,
    terminate: Signal,
    interrupt: Signal,
    quit: Signal,
}

impl Signals {
    pub(super) fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            hangup: signal(SignalKind::hangup())?,
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
        })
    }

    /// Answers the signals on the current actix system until one stops `server`:
    /// `SIGTERM` gracefully, `SIGINT` and `SIGQUIT` without waiting for requests in
    /// flight (as actix-server does), each first telling systemd `STOPPING=1`.
    pub(super) fn watch(mut self, server: ServerHandle, reload: Reload) {
        actix_rt::spawn(async move {
            let (name, graceful) = loop {
                tokio::select! {
                    Some(()) = self.hangup.recv() => reload.apply(),
                    Some(()) = self.terminate.recv() => break ("SIGTERM", true),
                    Some(()) = self.interrupt.recv() => break ("SIGINT", false),
                    Some(()) = self.quit.recv() => break ("SIGQUIT", false),
                    else => break ("no signal stream", true),
                }
            };
            let how = if graceful {
                "gracefully"
            } else {
                "without waiting for requests in flight"
            };
            log::info!("{name} received; stopping {how}");
            tell_systemd("STOPPING=1");
            server.stop(graceful).await;
        });
    }
}

impl Reload {
    fn apply(&self) {
        match Config::load(self.config_file.as_deref(), std::env::vars()) {
            Ok(config) => {
                let level = logging::reload_level(&config.log.level, self.format);
                log::info!(
                    "SIGHUP: log.level is {:?} (most verbose level now {level})",
                    config.log.level
                );
            }
            Err(err) => log::error!("SIGHUP: kept the log level, the settings are bad: {err}"),
        }
        if let Some(certificate) = &self.certificate {
            match certificate.reload() {
                Ok(()) => log::info!(
                    "SIGHUP: serving the TLS certificate of {} from the next handshake on",
                    certificate.cert_file().display()
                ),
                Err(err) => log::error!("SIGHUP: kept the TLS certificate being served: {err}"),
            }
        }
        log::info!("SIGHUP: other settings take effect at the next start");
    }
}

/// Sends `state` to systemd, logging a failure to (a full socket must not stop
/// serving).
fn tell_systemd(state: &str) {
    if let Err(err) = systemd::notify(state) {
        log::warn!("cannot notify systemd ({state}): {err}");
    }
}

/// Sends `READY=1` once the database answers a read, checking again every second
/// until it does; then, when systemd set a watchdog, `WATCHDOG=1` at half its interval
/// for as long as the server's main loop runs.
pub(super) fn notify_ready(store: Store, addr: String) {
    actix_rt::spawn(async move {
        let mut tick = actix_rt::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if store.is_ready().await {
                break;
            }
        }
        tell_systemd(&format!("READY=1\nSTATUS=serving on {addr}"));
        if let Some(every) = systemd::watchdog_interval() {
            let mut tick = actix_rt::time::interval(every);
            loop {
                tick.tick().await;
                tell_systemd("WATCHDOG=1");
            }
        }
    });
}
