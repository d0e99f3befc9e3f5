//! What can stop a client command, and the exit code each gives: 1 for a refusal by
//! the API (or a local failure after the server answered), 2 for a usage error, 3 when
//! the server cannot be reached.

use std::process::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The command line, the environment or the profile cannot be used.
    #[error("{0}")]
    Usage(String),
    /// The API answered with its error body: the message names its code.
    #[error("{code} ({status}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// No answer: connection refused, name not found, TLS failure, timeout.
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// Something on this machine failed: a file that cannot be written, an answer that
    /// is not what the API promises.
    #[error("{0}")]
    Local(String),
}

impl ClientError {
    pub fn usage(message: impl Into<String>) -> ClientError {
        ClientError::Usage(message.into())
    }

    pub fn local(message: impl Into<String>) -> ClientError {
        ClientError::Local(message.into())
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            ClientError::Refused { .. } | ClientError::Local(_) => 1,
            ClientError::Usage(_) => 2,
            ClientError::Unreachable { .. } => 3,
        })
    }
}
