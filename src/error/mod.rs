//! The one error type of keyhouse, the contract's codes and its error bodies.
//!
//! Every layer returns [`Error`]. This module is a leaf: it names no other module of
//! keyhouse and no web or storage crate, so the domain can return it without depending
//! on either. `src/api/error_response.rs` turns it into an HTTP response; `src/store`
//! converts redb's errors into it.
//!
//! An error's message may quote what a client sent (a path, a name, a key), and it
//! reaches the error body and, through `Display` and `Debug`, the logs (actix logs every
//! error response's `Debug` at debug level; a 500's goes to the error log). So both
//! write it with every `kh_` secret [`redact`]ed, as does [`Error::body`].

mod auth_failure;
mod kind;
mod redact;

use std::fmt::{self, Write as _};

use serde::Serialize;
use utoipa::ToSchema;

pub use auth_failure::AuthFailure;
pub use kind::Kind;
pub use redact::redact;

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
    Unavailable,
}

/// One bad field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldViolation {
    /// The field or parameter, e.g. `name` or `metadata.team`.
    pub field: String,
    /// Why it was refused.
    pub reason: String,
}

pub enum Error {
    InvalidArgument {
        message: String,
        details: Vec<FieldViolation>,
    },
    /// The reason is logged and counted; the client sees it too, it never holds the credential.
    Unauthenticated(AuthFailure),
    PermissionDenied(String),
    NotFound {
        kind: Kind,
        name: String,
    },
    NoRoute {
        path: String,
    },
    MethodNotAllowed {
        method: String,
        path: String,
        /// The methods the path takes, for the `Allow` header.
        allow: Vec<String>,
    },
    AlreadyExists {
        kind: Kind,
        name: String,
    },
    LimitExceeded(String),
    FailedPrecondition(String),
    StaleEtag,
    PayloadTooLarge {
        limit: usize,
    },
    /// 408 `INVALID_ARGUMENT`: the body did not arrive in time.
    BodyTimeout {
        seconds: u64,
    },
    /// 414 `INVALID_ARGUMENT`.
    UriTooLong {
        limit: usize,
    },
    /// 431 `INVALID_ARGUMENT`.
    HeadersTooLarge {
        limit: usize,
    },
    UnsupportedMediaType(String),
    RateLimited {
        retry_after_seconds: u64,
    },
    /// An OAuth 2.0 endpoint's error, answered in the format of RFC 6749 section 5.2.
    OAuth {
        error: OAuthError,
        description: String,
    },
    Internal(Box<dyn std::error::Error + Send + Sync>),
    /// 503: the database cannot take the request now (no primary answers, during a
    /// failover). The cause is for the log only.
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
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
            Error::Unavailable(_) => Code::Unavailable,
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

    /// The bad fields of a 400, as built; [`Error::body`] sends them redacted.
    pub fn details(&self) -> &[FieldViolation] {
        match self {
            Error::InvalidArgument { details, .. } => details,
            _ => &[],
        }
    }
}

impl Error {
    /// The body of this error's response, its message and details redacted.
    pub fn body(&self) -> ErrorBody {
        let details = self.details().iter().map(|violation| FieldViolation {
            field: redact(&violation.field),
            reason: redact(&violation.reason),
        });
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                details: details.collect(),
            },
        }
    }

    /// The message as built, before redaction; only `Display` and `Debug` write it.
    fn write_message(&self, out: &mut String) -> fmt::Result {
        match self {
            Error::InvalidArgument { message, .. } => out.write_str(message),
            Error::Unauthenticated(failure) => write!(out, "{failure}"),
            Error::PermissionDenied(message)
            | Error::LimitExceeded(message)
            | Error::FailedPrecondition(message)
            | Error::UnsupportedMediaType(message)
            | Error::OAuth {
                description: message,
                ..
            } => out.write_str(message),
            Error::NotFound { kind, name } => write!(out, "{kind} '{name}' not found"),
            Error::NoRoute { path } => write!(out, "no route matches {path}"),
            Error::MethodNotAllowed { method, path, .. } => {
                write!(out, "method {method} is not allowed on {path}")
            }
            Error::AlreadyExists { kind, name } => write!(out, "{kind} '{name}' already exists"),
            Error::StaleEtag => {
                out.write_str("the object has changed: If-Match does not match its current etag")
            }
            Error::PayloadTooLarge { limit } => {
                write!(out, "the request body is larger than {limit} bytes")
            }
            Error::BodyTimeout { seconds } => {
                write!(out, "the request body did not arrive within {seconds} s")
            }
            Error::UriTooLong { limit } => {
                write!(out, "the request target is longer than {limit} bytes")
            }
            Error::HeadersTooLarge { limit } => {
                write!(out, "the request headers are larger than {limit} bytes")
            }
            Error::RateLimited {
                retry_after_seconds,
            } => write!(
                out,
                "too many failed authentications from this address; retry in {retry_after_seconds} s"
            ),
            Error::Internal(_) => out.write_str("internal error"),
            Error::Unavailable(_) => {
                out.write_str("the database cannot take the request now; retry shortly")
            }
        }
    }
}

impl fmt::Display for Error {
    /// The message the client sees, secrets redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut message = String::new();
        self.write_message(&mut message)?;
        f.write_str(&redact(&message))
    }
}

impl fmt::Debug for Error {
    /// The code, message and details, or a 500's cause, secrets redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        match self {
            Error::Internal(cause) => write!(text, "Internal({cause:?})")?,
            Error::Unavailable(cause) => write!(text, "Unavailable({cause:?})")?,
            Error::OAuth { error, description } => {
                write!(
                    text,
                    "OAuth {{ error: {error:?}, description: {description:?} }}"
                )?;
            }
            _ => {
                let mut message = String::new();
                self.write_message(&mut message)?;
                let (code, details) = (self.code(), self.details());
                write!(
                    text,
                    "{code:?} {{ message: {message:?}, details: {details:?} }}"
                )?;
            }
        }
        f.write_str(&redact(&text))
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Internal(cause) | Error::Unavailable(cause) => Some(cause.as_ref()),
            _ => None,
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

    const SECRET: &str = "kh_3fQ9zLr8TqYb2WcN5vXe7HsKd1MpA0uJgRtZyBo4iC6lEnD8aFw";

    #[test]
    fn no_form_of_an_error_repeats_a_secret() {
        let errors = [
            Error::not_found(Kind::ServiceAccount, SECRET),
            Error::NoRoute {
                path: format!("/api/v1/service-accounts/{SECRET}/x"),
            },
            Error::MethodNotAllowed {
                method: "PUT".into(),
                path: format!("/api/v1/x/kh%5F{}", &SECRET[3..]),
                allow: vec!["GET".into()],
            },
            Error::invalid(format!("metadata.{SECRET}"), format!("unknown `{SECRET}`")),
            Error::PermissionDenied(format!("may not use {SECRET}")),
            Error::oauth(OAuthError::InvalidScope, format!("does not hold: {SECRET}")),
            Error::internal(format!("a cause naming {SECRET}")),
        ];
        for err in errors {
            let body = err.body();
            let details = body.error.details.iter();
            let fields = details.flat_map(|d| [d.field.clone(), d.reason.clone()]);
            let shown = [err.to_string(), format!("{err:?}"), format!("{err:#?}")];
            for text in shown.into_iter().chain([body.error.message]).chain(fields) {
                assert!(!text.contains(&SECRET[3..]), "{text}");
            }
        }
    }

    #[test]
    fn a_redacted_error_still_says_what_it_is() {
        let err = Error::NoRoute {
            path: format!("/api/v1/service-accounts/{SECRET}"),
        };
        let redacted = "no route matches /api/v1/service-accounts/kh_[redacted]";
        assert_eq!(err.to_string(), redacted);
        assert_eq!(
            format!("{err:?}"),
            format!("NotFound {{ message: {redacted:?}, details: [] }}")
        );
        let err = Error::invalid(SECRET, "a key may appear only once in its object");
        let violation = &err.body().error.details[0];
        assert_eq!(violation.field, "kh_[redacted]");
        assert_eq!(violation.reason, "a key may appear only once in its object");
        let err = Error::internal(format!("a cause naming {SECRET}"));
        assert_eq!(err.to_string(), "internal error");
        assert!(format!("{err:?}").contains("a cause naming kh_[redacted]"));
        // Without a secret, the message is as built.
        let err = Error::not_found(Kind::Group, "ops");
        assert_eq!(err.to_string(), "group 'ops' not found");
    }
}
