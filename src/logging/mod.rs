//! The process's logger: env_logger, behind a switch that `log.format` and `log.level`
//! set once the settings are read, and that `SIGHUP` sets again with a reread level
//! (`reload`). Lines written during a request carry its id and trace
//! ([`context`]); `json` writes one object per line ([`json`]).
//!
//! Levels: `info` by default, libraries whose warnings a client can cause at will at
//! `error`, then `log.level`, then `RUST_LOG` on top. Errors that actix-http logs about
//! one connection's bad input are written at `debug`: a client caused them, and they
//! say nothing of the server's health.

pub mod context;
mod json;

use std::io::Write;
use std::sync::RwLock;

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::config::{LogConfig, LogFormat};

/// Libraries whose warnings a client can cause at will (rustls warns of every
/// malformed TLS handshake): they log at `error` unless a directive names them.
const QUIET_LIBRARIES: &[&str] = &["rustls"];

/// actix-http's modules that log a connection's failure at `error`: a request it could
/// not parse ("stream error: Request parse error"), a head over its buffer, a payload
/// cut short.
const CONNECTION_ERRORS: &str = "actix_http::h1";

/// The logger installed for the process; `set` swaps what it writes with.
struct Switch(RwLock<Option<env_logger::Logger>>);

static LOGGER: Switch = Switch(RwLock::new(None));

impl Switch {
    fn with<T>(&self, f: impl FnOnce(&env_logger::Logger) -> T) -> Option<T> {
        let guard = self.0.read().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(f)
    }
}

/// `record`'s level as written: `debug` for a connection's failure.
fn level_of(metadata: &Metadata) -> Level {
    if metadata.level() == Level::Error && metadata.target().starts_with(CONNECTION_ERRORS) {
        Level::Debug
    } else {
        metadata.level()
    }
}

impl Log for Switch {
    fn enabled(&self, metadata: &Metadata) -> bool {
        let written = Metadata::builder()
            .level(level_of(metadata))
            .target(metadata.target())
            .build();
        self.with(|logger| logger.enabled(&written))
            .unwrap_or(false)
    }

    fn log(&self, record: &Record) {
        let level = level_of(record.metadata());
        self.with(|logger| {
            logger.log(
                &Record::builder()
                    .level(level)
                    .target(record.target())
                    .args(*record.args())
                    .module_path(record.module_path())
                    .file(record.file())
                    .line(record.line())
                    .key_values(record.key_values())
                    .build(),
            )
        });
    }

    fn flush(&self) {
        self.with(|logger| logger.flush());
    }
}

/// The levels of `level` (`log.level`), quiet libraries first, `RUST_LOG` on top; and
/// the format.
fn builder(level: &str, format: LogFormat, rust_log: Option<&str>) -> env_logger::Builder {
    let mut builder = env_logger::Builder::new();
    builder.filter_level(LevelFilter::Info);
    for library in QUIET_LIBRARIES {
        builder.filter_module(library, LevelFilter::Error);
    }
    builder.parse_filters(level);
    if let Some(spec) = rust_log {
        builder.parse_filters(spec);
    }
    if let Ok(style) = std::env::var("RUST_LOG_STYLE") {
        builder.parse_write_style(&style);
    }
    match format {
        LogFormat::Text => {
            builder.format_key_values(text_trace);
        }
        LogFormat::Json => {
            builder.format(json::format);
        }
    }
    builder
}

/// The text format's key-values: only the trace of the request, if any (the access
/// log's message already holds the rest).
fn text_trace(
    buf: &mut env_logger::fmt::Formatter,
    _fields: &dyn log::kv::Source,
) -> std::io::Result<()> {
    context::with_current(|context| match context.and_then(|c| c.trace.as_ref()) {
        Some(trace) => write!(buf, " trace_id={}", trace.trace_id),
        None => Ok(()),
    })
}

/// Writes with `logger` from now on, and lets the `log` crate pass what it lets through.
fn set(logger: env_logger::Logger) {
    let level = logger.filter();
    *LOGGER.0.write().unwrap_or_else(|e| e.into_inner()) = Some(logger);
    log::set_max_level(level);
}

fn rust_log() -> Option<String> {
    std::env::var("RUST_LOG").ok()
}

/// Installs the logger, as text at `info` (and `RUST_LOG`) until [`configure`].
pub fn init() {
    let defaults = LogConfig::default();
    set(builder(&defaults.level, defaults.format, rust_log().as_deref()).build());
    // Fails only if a logger is installed already (a test harness's): keep that one.
    let _ = log::set_logger(&LOGGER);
}

/// Writes as `log` says from now on.
pub fn configure(log: &LogConfig) {
    set(builder(&log.level, log.format, rust_log().as_deref()).build());
}

/// Applies a reread `log.level` (the format stays as the process started with, so
/// that a collector never sees it change mid-stream); returns the level now in force.
pub fn reload_level(level: &str, format: LogFormat) -> LevelFilter {
    configure(&LogConfig {
        level: level.to_owned(),
        format,
    });
    log::max_level()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs(rust_log: Option<&str>, target: &str, level: Level) -> bool {
        let logger = builder("info", LogFormat::Text, rust_log).build();
        Switch(RwLock::new(Some(logger)))
            .enabled(&Metadata::builder().target(target).level(level).build())
    }

    #[test]
    fn library_warnings_stay_out_unless_named() {
        let sni = "rustls::msgs::handshake";
        for spec in [None, Some("warn"), Some("info"), Some("debug")] {
            assert!(!logs(spec, sni, Level::Warn), "{spec:?}");
            assert!(logs(spec, sni, Level::Error), "{spec:?}");
        }
        assert!(logs(None, "keyhouse::server", Level::Info));
        assert!(!logs(Some("warn"), "keyhouse::server", Level::Info));
        assert!(logs(Some("warn"), "keyhouse::server", Level::Warn));
        assert!(logs(Some("warn,rustls=warn"), sni, Level::Warn));
        assert!(logs(Some("rustls=debug"), sni, Level::Debug));
        assert!(!logs(Some("error"), "keyhouse", Level::Warn));
    }

    #[test]
    fn a_connection_error_of_actix_http_is_written_at_debug() {
        let dispatcher = "actix_http::h1::dispatcher";
        assert!(!logs(None, dispatcher, Level::Error), "not at info");
        assert!(logs(Some("debug"), dispatcher, Level::Error));
        assert!(logs(None, "actix_server::worker", Level::Error));
        assert!(logs(None, "keyhouse::server", Level::Error));
    }

    #[test]
    fn log_level_sets_the_level_and_rust_log_goes_on_top() {
        let enabled = |level: &str, rust_log: Option<&str>, at: Level| {
            let logger = builder(level, LogFormat::Text, rust_log).build();
            Switch(RwLock::new(Some(logger)))
                .enabled(&Metadata::builder().target("keyhouse").level(at).build())
        };
        assert!(!enabled("info", None, Level::Debug));
        assert!(enabled("debug", None, Level::Debug));
        assert!(enabled("warn,keyhouse=debug", None, Level::Debug));
        assert!(!enabled("debug", Some("warn"), Level::Info));
    }
}
