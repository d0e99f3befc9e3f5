//! Limits on one request, applied before any route sees it: the size of its target
//! and headers, and the time its body may take to arrive.
//!
//! actix refuses a request head over its own hard limits (128 KiB, 96 headers) in its
//! HTTP/1 codec, before any middleware, with a bare 431 or 400. These lower limits answer
//! the common cases with the contract's error body and `X-Request-Id` instead.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::rt::time::{Sleep, sleep};
use actix_web::web::{self, Bytes};
use futures_core::Stream;

use crate::config::{Config, ServerConfig};
use crate::error::Error;

/// The longest request target (path and query) served; longer ones get 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes (names, values and 4 bytes per field) served; more get 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Middleware: refuses an over-long target or header section, and gives the body
/// `server.body_read_timeout_seconds` from the arrival of the head to arrive whole.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(err) = oversized(&req) {
        return Ok(req.error_response(err).map_into_right_body());
    }
    let seconds = req.app_data::<web::Data<Config>>().map_or_else(
        || ServerConfig::default().body_read_timeout_seconds,
        |config| config.server.body_read_timeout_seconds,
    );
    let expired = Rc::new(Cell::new(false));
    let payload = match req.take_payload() {
        Payload::None => Payload::None,
        body => Payload::Stream {
            payload: Box::pin(Deadline {
                body,
                timer: Box::pin(sleep(Duration::from_secs(seconds))),
                expired: expired.clone(),
            }) as Pin<Box<dyn Stream<Item = _>>>,
        },
    };
    req.set_payload(payload);
    let res = next.call(req).await?;
    if expired.get() {
        // Whatever an extractor made of the failed read, the cause is the deadline.
        let (req, _) = res.into_parts();
        let res = ServiceResponse::from_err(Error::BodyTimeout { seconds }, req);
        return Ok(res.map_into_right_body());
    }
    Ok(res.map_into_left_body())
}

fn oversized(req: &ServiceRequest) -> Option<Error> {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return Some(Error::UriTooLong {
            limit: MAX_URI_BYTES,
        });
    }
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    (headers > MAX_HEADER_BYTES).then_some(Error::HeadersTooLarge {
        limit: MAX_HEADER_BYTES,
    })
}

/// A request body that fails with a timeout once its timer has run out.
struct Deadline {
    body: Payload,
    timer: Pin<Box<Sleep>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Poll::Ready(item) = Pin::new(&mut this.body).poll_next(cx) {
            return Poll::Ready(item);
        }
        if this.timer.as_mut().poll(cx).is_ready() {
            this.expired.set(true);
            let timeout = std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            );
            return Poll::Ready(Some(Err(PayloadError::Io(timeout))));
        }
        Poll::Pending
    }
}
