//! The actix app of one worker: shared state, the extractors' error handlers,
//! middleware, routes, Swagger UI and the fallback.

use actix_web::error::{JsonPayloadError, PayloadError, QueryPayloadError};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, web};
use utoipa_actix_web::AppExt;

use super::prepare::Prepared;
use crate::api;
use crate::error::Error;
use crate::{access_log, http_limits, metrics, request_id};

fn json_error(err: JsonPayloadError) -> Error {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => Error::PayloadTooLarge { limit },
        JsonPayloadError::Payload(PayloadError::Overflow) => Error::PayloadTooLarge { limit: 0 },
        JsonPayloadError::ContentType => {
            Error::UnsupportedMediaType("the body must be application/json".to_owned())
        }
        JsonPayloadError::Deserialize(err) if err.is_data() => {
            Error::invalid("body", err.to_string())
        }
        other => Error::invalid("body", format!("not valid JSON: {other}")),
    }
}

fn query_error(err: QueryPayloadError) -> Error {
    Error::invalid("query", err.to_string())
}

pub(super) fn app(
    prepared: Prepared,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = prepared.config.server.max_body_bytes;
    App::new()
        .app_data(prepared.config)
        .app_data(prepared.store)
        .app_data(prepared.last_use)
        .app_data(prepared.tokens)
        .app_data(prepared.assertions)
        .app_data(prepared.attempts)
        .app_data(prepared.metrics)
        .app_data(prepared.openapi)
        .app_data(prepared.routes)
        .app_data(prepared.clock)
        .app_data(web::PayloadConfig::new(limit))
        .app_data(
            web::JsonConfig::default()
                .limit(limit)
                .error_handler(|err, _| json_error(err).into()),
        )
        .app_data(web::QueryConfig::default().error_handler(|err, _| query_error(err).into()))
        .into_utoipa_app()
        .configure(api::routes)
        .into_app()
        .service(api::swagger_ui())
        .route(
            "/swagger-ui",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/swagger-ui/"))
                    .finish()
            }),
        )
        .default_service(web::to(api::unmatched))
        .wrap(from_fn(http_limits::middleware))
        .wrap(from_fn(metrics::middleware))
        .wrap(from_fn(access_log::middleware))
        .wrap(from_fn(request_id::middleware))
}
