//! The `[log]` section: the level filter and the line format of the log on standard
//! error. `SIGHUP` rereads the level (src/server/signals.rs).

use serde::{Deserialize, Serialize};

use super::{ConfigError, invalid};

/// How each log line is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// env_logger's line: time, level, target, message.
    #[default]
    Text,
    /// One JSON object per line, for Loki, journald's JSON export or any collector.
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A level (`info`) or directives in `RUST_LOG`'s syntax (`warn,keyhouse=debug`).
    /// `RUST_LOG`, when set, is applied on top of it.
    pub level: String,
    /// `text` or `json`.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".to_owned(),
            format: LogFormat::Text,
        }
    }
}

impl LogConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        // env_filter takes a bare word for a module name at every level, so that a
        // misspelt level (`inf`) would pass; a directive without `=` must be a level.
        let directives = self.level.split('/').next().unwrap_or_default();
        for directive in directives.split(',').map(str::trim) {
            if !directive.is_empty()
                && !directive.contains('=')
                && directive.parse::<log::LevelFilter>().is_err()
            {
                return Err(invalid(
                    "log.level",
                    format!("{directive:?} is no level (off, error, warn, info, debug, trace)"),
                ));
            }
        }
        env_filter::Builder::new()
            .try_parse(&self.level)
            .map(drop)
            .map_err(|e| {
                invalid(
                    "log.level",
                    format!(
                        "{e} (a level such as info, or directives such as warn,keyhouse=debug)"
                    ),
                )
            })
    }
}
