//! The HTTP side of [`Error`]: each code's status, the headers some errors carry, and the
//! body, as actix answers them. This is the only place that sets the `WWW-Authenticate`,
//! `Allow` and `Retry-After` headers.

use actix_web::error::BlockingError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use crate::error::{Code, Error, OAuthError, OAuthErrorBody};

/// The one HTTP status of each of the contract's codes.
pub fn status(code: Code) -> StatusCode {
    match code {
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
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// When a client should try again after a 503: a failover takes some seconds.
const UNAVAILABLE_RETRY_SECONDS: u64 = 1;

impl ResponseError for Error {
    /// The code's status, except for the three refusals of the HTTP layer, which keep
    /// the status HTTP gives them and the code `INVALID_ARGUMENT`.
    fn status_code(&self) -> StatusCode {
        match self {
            Error::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Error::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            Error::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            _ => status(self.code()),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Error::OAuth { error, .. } = self {
            if *error == OAuthError::InvalidClient {
                response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"keyhouse\""));
            }
            return response
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(OAuthErrorBody {
                    error: *error,
                    error_description: self.to_string(),
                });
        }
        match self {
            Error::Unauthenticated(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Error::MethodNotAllowed { allow, .. } => {
                let allow: Vec<&str> = allow.iter().map(String::as_str).collect();
                response.insert_header((header::ALLOW, allow.join(", ")));
            }
            Error::RateLimited {
                retry_after_seconds,
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            Error::Unavailable(_) => {
                response
                    .insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_SECONDS.to_string()));
            }
            _ => {}
        }
        response.json(self.body())
    }
}

/// A blocking task that could not finish (its thread panicked or the pool is gone).
impl From<BlockingError> for Error {
    fn from(err: BlockingError) -> Self {
        Error::internal(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AuthFailure;

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
    fn method_not_allowed_lists_the_allowed_methods() {
        let err = Error::MethodNotAllowed {
            method: "PUT".into(),
            path: "/x".into(),
            allow: vec!["GET".into(), "DELETE".into()],
        };
        let resp = err.error_response();
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            resp.headers().get(header::ALLOW).map(|v| v.as_bytes()),
            Some(&b"GET, DELETE"[..])
        );
    }
}
