//! A new secret leaves the client once: on standard output (with a warning on standard
//! error when that is a terminal, where it may be seen or scrolled back to), or into a
//! file of mode 0600 with `--secret-file`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::Value;

use super::error::ClientError;
use super::options::Format;
use super::output;

#[derive(Debug, Clone, Args)]
pub struct SecretOut {
    /// Write the new secret to FILE (mode 0600) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
}

/// The secret an answer carries: `token`, or `secret` (a credential's text or a
/// credential holding it).
pub fn secret_of(answer: &Value) -> Option<&str> {
    answer["token"]
        .as_str()
        .or_else(|| answer["secret"].as_str())
        .or_else(|| answer["secret"]["secret"].as_str())
}

/// `answer` without its secret.
pub fn without_secret(mut answer: Value) -> Value {
    if let Some(map) = answer.as_object_mut() {
        map.remove("token");
        if map.get("secret").is_some_and(Value::is_string) {
            map.remove("secret");
        }
        if let Some(Value::Object(credential)) = map.get_mut("secret") {
            credential.remove("secret");
        }
    }
    answer
}

/// Hands over an answer that may hold a new secret. As a table, standard output gets
/// the secret alone (`SECRET=$(keyhouse ...)` works) and standard error says what was
/// done; as JSON or YAML, the whole answer. With `--secret-file`, the file gets the
/// secret and standard output the answer without it.
pub fn deliver(
    answer: Value,
    out: &SecretOut,
    format: Format,
    done: &str,
) -> Result<(), ClientError> {
    let Some(secret) = secret_of(&answer).map(str::to_owned) else {
        return output::object(format, &answer);
    };
    if let Some(path) = &out.secret_file {
        write_private(path, format!("{secret}\n").as_bytes())?;
        eprintln!("keyhouse: {done}; the new secret is in {}", path.display());
        return output::object(format, &without_secret(answer));
    }
    if std::io::stdout().is_terminal() {
        eprintln!(
            "keyhouse: warning: the secret below is shown this once and stays in this \
             terminal's scrollback; use --secret-file to keep it off the screen"
        );
    }
    match format {
        Format::Table => {
            eprintln!("keyhouse: {done}; the new secret follows on standard output");
            println!("{secret}");
            Ok(())
        }
        _ => output::document(format, &answer),
    }
}

/// Writes `bytes` to `path`, readable and writable by its owner only (an existing file
/// is truncated and its mode set to 0600 first).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    let failed =
        |err: std::io::Error| ClientError::local(format!("cannot write {}: {err}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(failed)?;
        }
    }
    let mut file = options.open(path).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)
}
