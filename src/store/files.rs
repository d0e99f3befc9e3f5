//! The files keyhouse writes hold the signing keys and every secret hash, so each is
//! created for its owner alone: mode 0600, and `O_EXCL` so that a file or link another
//! user placed at the name beforehand is never reused. redb locks the database file
//! itself (OFD byte-range locks), so there is no lock file to protect.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use uuid::Uuid;

/// Owner read and write, nothing for group and others.
pub(super) const PRIVATE_MODE: u32 = 0o600;

/// Creates `path`, which must not exist, readable and writable by its owner only.
pub(super) fn create_private(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(PRIVATE_MODE)
        .open(path)
}

/// The database file, created 0600 if it does not exist; `None` when it exists (redb
/// then opens it by name, as it is).
pub(super) fn create_database_file(path: &Path) -> io::Result<Option<File>> {
    match create_private(path) {
        Ok(file) => Ok(Some(file)),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(None),
        Err(err) => Err(err),
    }
}

/// A new name beside `db` (same directory, so never the shared temporary directory),
/// for a file staged before it is renamed or streamed.
pub(super) fn staging_path(db: &Path, purpose: &str) -> PathBuf {
    let name = db
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "keyhouse.redb".to_owned());
    db.with_file_name(format!(".{name}.{purpose}-{}", Uuid::new_v4()))
}

/// What an operator should know about who else may read or write `path`, which is
/// `what` (the database file, the key file).
pub(super) fn mode_warnings(what: &str, path: &Path) -> Vec<String> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Vec::new();
    };
    let mode = meta.permissions().mode() & 0o777;
    let mut warnings = Vec::new();
    if mode & 0o044 != 0 {
        warnings.push(format!(
            "{what} {} is readable by other users (mode {mode:04o}); run chmod 600 on it",
            path.display()
        ));
    }
    if mode & 0o022 != 0 {
        warnings.push(format!(
            "{what} {} is writable by other users (mode {mode:04o}); run chmod 600 on it",
            path.display()
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_0600_and_never_reuse_a_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        create_private(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let err = create_private(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    }

    #[test]
    fn group_or_other_access_is_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        create_private(&path).unwrap();
        assert!(mode_warnings("the database file", &path).is_empty());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let warnings = mode_warnings("the database file", &path);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("the database file "));
        assert!(warnings[0].contains("readable by other users (mode 0644)"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(mode_warnings("the database file", &path).len(), 2);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(mode_warnings("x", &path).len(), 1, "group access too");
    }

    #[test]
    fn staging_is_beside_the_database() {
        let staged = staging_path(Path::new("/var/lib/keyhouse/k.redb"), "backup");
        assert_eq!(staged.parent(), Some(Path::new("/var/lib/keyhouse")));
        assert!(staged.to_string_lossy().contains(".k.redb.backup-"));
    }
}
