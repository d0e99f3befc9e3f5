//! Runs the built binary as a client of a `TestServer`, with a token file of mode 0600
//! and a `HOME` of its own (so no profile of the machine's is read).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

use super::BIN;
use super::common::TestServer;

pub struct Kh {
    pub base: String,
    pub dir: TempDir,
    token_file: PathBuf,
}

/// What a client run printed, and how it ended.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    fn from(out: Output) -> Ran {
        Ran {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts success; the standard output.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "stdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        &self.stdout
    }

    /// Asserts success; the standard output as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    /// Asserts the exit code and that standard error names `text`.
    #[track_caller]
    pub fn fails(&self, code: i32, text: &str) {
        assert_eq!(
            self.code,
            Some(code),
            "stdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        assert!(self.stderr.contains(text), "{text} not in: {}", self.stderr);
    }
}

/// Writes `text` to `path` with `mode`.
pub fn write_mode(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

impl Kh {
    /// A client of `server` holding its admin secret.
    pub fn of(server: &TestServer) -> Kh {
        Kh::with_token(&server.base, &server.token)
    }

    pub fn with_token(base: &str, token: &str) -> Kh {
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("token");
        write_mode(&token_file, token, 0o600);
        Kh {
            base: base.to_owned(),
            dir,
            token_file,
        }
    }

    /// A command with a clean `KEYHOUSE_*` environment, `HOME` in the client's folder.
    pub fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        for (name, _) in std::env::vars() {
            if name.starts_with("KEYHOUSE_") {
                command.env_remove(name);
            }
        }
        command
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env_remove("XDG_CONFIG_HOME")
            .env("KEYHOUSE_URL", &self.base)
            .env("KEYHOUSE_TOKEN_FILE", &self.token_file);
        command
    }

    pub fn run(&self, args: &[&str]) -> Ran {
        Ran::from(self.command().args(args).output().unwrap())
    }

    /// Runs with `-o json` and parses the output.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        self.run(&all).json()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}
