//! The client's profile file, `~/.config/keyhouse/client.toml` (or `KEYHOUSE_PROFILE`),
//! and the mode checks of the files the client trusts.
//!
//! The profile names no secret, only where one is: but whoever may rewrite it may point
//! the client at their own server, or at a token file of their choosing, so a profile
//! that others may write is refused. A token file that others may read is refused too,
//! as ssh refuses a private key.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::ClientError;

/// What a profile may hold; every key is optional, and a flag or variable wins over it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub url: Option<String>,
    pub token_file: Option<PathBuf>,
    pub project: Option<String>,
    pub ca_file: Option<PathBuf>,
}

/// The profile's path: `KEYHOUSE_PROFILE` when set, else `client.toml` under
/// `$XDG_CONFIG_HOME/keyhouse` or `~/.config/keyhouse`.
pub fn default_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("KEYHOUSE_PROFILE") {
        return Some(PathBuf::from(path));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".config")))?;
    Some(config.join("keyhouse").join("client.toml"))
}

/// The profile at `path`; none when the file does not exist.
pub fn read(path: &Path) -> Result<Profile, ClientError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Profile::default()),
        Err(err) => {
            return Err(ClientError::usage(format!(
                "cannot read the profile {}: {err}",
                path.display()
            )));
        }
    };
    refuse_if_others_may(path, 0o022, "write")?;
    toml::from_str(&text)
        .map_err(|err| ClientError::usage(format!("the profile {}: {err}", path.display())))
}

/// The secret in a token file: its first line, trimmed. The file must be readable by
/// its owner only.
pub fn read_token_file(path: &Path) -> Result<String, ClientError> {
    refuse_if_others_may(path, 0o077, "read")?;
    let text = std::fs::read_to_string(path).map_err(|err| {
        ClientError::usage(format!(
            "cannot read the token file {}: {err}",
            path.display()
        ))
    })?;
    let token = text.lines().next().unwrap_or_default().trim().to_owned();
    if token.is_empty() {
        return Err(ClientError::usage(format!(
            "the token file {} is empty",
            path.display()
        )));
    }
    Ok(token)
}

/// Refuses `path` when its mode has any bit of `mask` (group's or others' bits).
#[cfg(unix)]
fn refuse_if_others_may(path: &Path, mask: u32, what: &str) -> Result<(), ClientError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|err| ClientError::usage(format!("cannot read {}: {err}", path.display())))?
        .permissions()
        .mode();
    if mode & mask != 0 {
        return Err(ClientError::usage(format!(
            "{} has mode {:o}: others may {what} it; run chmod {:o} {}",
            path.display(),
            mode & 0o777,
            mode & 0o700,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_if_others_may(_: &Path, _: u32, _: &str) -> Result<(), ClientError> {
    Ok(())
}
