//! The options every client command takes, and how they resolve: a flag, then its
//! environment variable, then the profile file, then the default.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::error::ClientError;
use super::profile;

/// The server a command talks to when nothing names one.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// How answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable columns (a single object: one field a line).
    Table,
    /// The API's JSON, as one document (a list: an array of its items).
    Json,
    /// The same document as YAML.
    Yaml,
}

/// Where the server is, who is calling, and in which scope. There is deliberately no
/// option holding a secret: it would show in `ps` and in the shell's history.
#[derive(Debug, Clone, Args)]
pub struct ClientOptions {
    /// The server's base URL [default: http://127.0.0.1:8080].
    #[arg(long, env = "KEYHOUSE_URL", global = true, value_name = "URL")]
    pub url: Option<String>,
    /// A file (mode 0600) whose first line is the caller's kh_ secret or access token;
    /// else the variable KEYHOUSE_TOKEN holds it.
    #[arg(long, env = "KEYHOUSE_TOKEN_FILE", global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The project to act in; absent: the root scope.
    #[arg(long, env = "KEYHOUSE_PROJECT", global = true, value_name = "NAME")]
    pub project: Option<String>,
    /// PEM certificates of a private CA that signed the server's certificate.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Items asked for by each request of a list, which pages through the whole
    /// collection all the same (1 to 1000).
    #[arg(long, global = true, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub page_size: u16,
    /// The output format.
    #[arg(short = 'o', long, value_enum, default_value = "table", global = true)]
    pub output: Format,
}

/// The options resolved against the profile and the environment.
pub struct Resolved {
    pub url: String,
    pub token: Option<String>,
    pub project: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub page_size: usize,
}

impl ClientOptions {
    pub fn resolve(&self) -> Result<Resolved, ClientError> {
        let profile = match profile::default_path() {
            Some(path) => profile::read(&path)?,
            None => profile::Profile::default(),
        };
        let token_file = self.token_file.clone();
        let token = match token_file {
            Some(path) => Some(profile::read_token_file(&path)?),
            None => match std::env::var("KEYHOUSE_TOKEN") {
                Ok(token) if !token.trim().is_empty() => Some(token.trim().to_owned()),
                _ => match &profile.token_file {
                    Some(path) => Some(profile::read_token_file(path)?),
                    None => None,
                },
            },
        };
        Ok(Resolved {
            url: self
                .url
                .clone()
                .or(profile.url)
                .unwrap_or_else(|| DEFAULT_URL.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            token,
            project: self.project.clone().or(profile.project),
            ca_file: self.ca_file.clone().or(profile.ca_file),
            page_size: usize::from(self.page_size),
        })
    }
}
