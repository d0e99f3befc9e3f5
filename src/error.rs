//! The one error type of keyhouse and its mapping to the contract's error body.
//!
//! Every layer returns [`Error`]; actix turns it into `{"error": {"code", "message",
//! "details"}}` here and nowhere else. This is also the only place that sets the
//! `WWW-Authenticate`, `Allow` and `Retry-After` headers.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{AuthFailure, Kind};

/// The contract's error codes, each with exactly one HTTP status (but see
/// [`Error::status_code`] for 408, 414 and 431).
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

impl Code {
    pub fn status(self) -> StatusCode {
        match self {
            Code::InvalidArgument => StatusCode::BAD_REQUEST,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::AlreadyExists => StatusCode::CONFLICT,
            Code::LimitExceeded => StatusCode::CONFLICT,
            Code::FailedPrecondition => StatusCode::CONFLICT,
            Code::StaleEtag => StatusCode::PRECONDITION_FAILED,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
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
        method: Method,
        path: String,
        allow: Vec<Method>,
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

    fn details(&self) -> &[FieldViolation] {
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

impl ResponseError for Error {
    /// The code's status, except for the three refusals of the HTTP layer, which keep
    /// the status HTTP gives them and the code `INVALID_ARGUMENT`.
    fn status_code(&self) -> StatusCode {
        match self {
            Error::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Error::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            Error::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            _ => self.code().status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Error::OAuth { error, description } = self {
            if *error == OAuthError::InvalidClient {
                response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"keyhouse\""));
            }
            return response
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(OAuthErrorBody {
                    error: *error,
                    error_description: description.clone(),
                });
        }
        match self {
            Error::Unauthenticated(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Error::MethodNotAllowed { allow, .. } => {
                let allow: Vec<&str> = allow.iter().map(Method::as_str).collect();
                response.insert_header((header::ALLOW, allow.join(", ")));
            }
            Error::RateLimited {
                retry_after_seconds,
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            _ => {}
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                details: self.details().to_vec(),
            },
        })
    }
}

/// The body of an OAuth endpoint's error (RFC 6749 section 5.2).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_client", "error_description": "the client could not be authenticated"}))]
pub struct OAuthErrorBody {
    #[schema(value_type = String)]
    pub error: OAuthError,
    pub error_description: String,
}

/// Storage failures are bugs or broken disks: a 500 whose cause only the log sees.
macro_rules! internal_from {
    ($($source:ty),+) => {$(
        impl From<$source> for Error {
            fn from(err: $source) -> Self {
                Error::internal(err)
            }
        }
    )+};
}

internal_from!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    std::io::Error
);

impl From<actix_web::error::BlockingError> for Error {
    fn from(err: actix_web::error::BlockingError) -> Self {
        Error::internal(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(
            Error::StaleEtag.status_code(),
            StatusCode::PRECONDITION_FAILED
        );
        assert_eq!(
            Error::LimitExceeded("x".into()).status_code(),
            StatusCode::CONFLICT
        );
        let resp = Error::Unauthenticated(AuthFailure::Missing).error_response();
        assert_eq!(
            resp.headers()
                .get(header::WWW_AUTHENTICATE)
                .map(|v| v.as_bytes()),
            Some(&b"Bearer"[..])
        );
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = Error::internal("disk on fire at /var/lib");
        assert_eq!(err.to_string(), "internal error");
    }
}
