//! The one error type of keyhouse, the contract's codes and its error bodies.
//!
//! Every layer returns [`Error`]. This module is a leaf: it names no other module of
//! keyhouse and no web or storage crate, so the domain can return it without depending
//! on either. `src/api/error_response.rs` turns it into an HTTP response; `src/store`
//! converts redb's errors into it.

mod auth_failure;
mod kind;

use serde::Serialize;
use utoipa::ToSchema;

pub use auth_failure::AuthFailure;
pub use kind::Kind;

/// The contract's error codes, each with exactly one HTTP status (see
/// `api::error_response` for them, and for 408, 414 and 431).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    InvalidArgument,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    MethodNotAllowed,
    AlreadyExists,
    LimitExceeded,
    FailedPrecondition,
    StaleEtag,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    Internal,
}

/// One bad field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldViolation {
    /// The field or parameter, e.g. `name` or `metadata.team`.
    pub field: String,
    /// Why it was refused.
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    InvalidArgument {
        message: String,
        details: Vec<FieldViolation>,
    },
    /// The reason is logged and counted; the client sees it too, it never holds the credential.
    #[error("{0}")]
    Unauthenticated(AuthFailure),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{kind} '{name}' not found")]
    NotFound { kind: Kind, name: String },
    #[error("no route matches {path}")]
    NoRoute { path: String },
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed {
        method: String,
        path: String,
        /// The methods the path takes, for the `Allow` header.
        allow: Vec<String>,
    },
    #[error("{kind} '{name}' already exists")]
    AlreadyExists { kind: Kind, name: String },
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("the object has changed: If-Match does not match its current etag")]
    StaleEtag,
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 408 `INVALID_ARGUMENT`: the body did not arrive in time.
    #[error("the request body did not arrive within {seconds} s")]
    BodyTimeout { seconds: u64 },
    /// 414 `INVALID_ARGUMENT`.
    #[error("the request target is longer than {limit} bytes")]
    UriTooLong { limit: usize },
    /// 431 `INVALID_ARGUMENT`.
    #[error("the request headers are larger than {limit} bytes")]
    HeadersTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many failed authentications from this address; retry in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    /// An OAuth 2.0 endpoint's error, answered in the format of RFC 6749 section 5.2.
    #[error("{description}")]
    OAuth {
        error: OAuthError,
        description: String,
    },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The error codes of RFC 6749 section 5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthError {
    InvalidRequest,
    /// 401: the client could not be authenticated.
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
}

impl Error {
    pub fn code(&self) -> Code {
        match self {
            Error::InvalidArgument { .. }
            | Error::BodyTimeout { .. }
            | Error::UriTooLong { .. }
            | Error::HeadersTooLarge { .. } => Code::InvalidArgument,
            Error::Unauthenticated(_) => Code::Unauthenticated,
            Error::PermissionDenied(_) => Code::PermissionDenied,
            Error::NotFound { .. } | Error::NoRoute { .. } => Code::NotFound,
            Error::MethodNotAllowed { .. } => Code::MethodNotAllowed,
            Error::AlreadyExists { .. } => Code::AlreadyExists,
            Error::LimitExceeded(_) => Code::LimitExceeded,
            Error::FailedPrecondition(_) => Code::FailedPrecondition,
            Error::StaleEtag => Code::StaleEtag,
            Error::PayloadTooLarge { .. } => Code::PayloadTooLarge,
            Error::UnsupportedMediaType(_) => Code::UnsupportedMediaType,
            Error::RateLimited { .. } => Code::RateLimited,
            Error::OAuth {
                error: OAuthError::InvalidClient,
                ..
            } => Code::Unauthenticated,
            Error::OAuth { .. } => Code::InvalidArgument,
            Error::Internal(_) => Code::Internal,
        }
    }

    /// A 400 about one field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        let (field, reason) = (field.into(), reason.into());
        Error::InvalidArgument {
            message: format!("invalid {field}: {reason}"),
            details: vec![FieldViolation { field, reason }],
        }
    }

    pub fn not_found(kind: Kind, name: impl Into<String>) -> Self {
        Error::NotFound {
            kind,
            name: name.into(),
        }
    }

    pub fn oauth(error: OAuthError, description: impl Into<String>) -> Self {
        Error::OAuth {
            error,
            description: description.into(),
        }
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Internal(cause.into())
    }

    /// The bad fields of a 400, for the error body.
    pub fn details(&self) -> &[FieldViolation] {
        match self {
            Error::InvalidArgument { details, .. } => details,
            _ => &[],
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "NOT_FOUND",
    "message": "service account 'ci-bot' not found", "details": []}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: Code,
    pub message: String,
    pub details: Vec<FieldViolation>,
}

/// The body of an OAuth endpoint's error (RFC 6749 section 5.2).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_client", "error_description": "the client could not be authenticated"}))]
pub struct OAuthErrorBody {
    #[schema(value_type = String)]
    pub error: OAuthError,
    pub error_description: String,
}

impl From<std::io::Error> for Error {
    /// A file that cannot be read or written is a broken disk or a bug: a 500.
    fn from(err: std::io::Error) -> Self {
        Error::internal(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = Error::internal("disk on fire at /var/lib");
        assert_eq!(err.to_string(), "internal error");
    }
}
