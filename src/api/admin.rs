//! Administration: a backup of the live database, and its integrity check.

use std::fs::File;
use std::future::Future;
use std::io::Read;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::error::BlockingError;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use futures_core::Stream;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::wire_time;
use crate::auth::Caller;
use crate::domain::permissions;
use crate::error::Error;
use crate::store::Store;

const CHUNK: usize = 64 * 1024;

/// One chunk read on the blocking pool, with the file handed back for the next one.
type PendingChunk =
    Pin<Box<dyn Future<Output = Result<(File, std::io::Result<Vec<u8>>), BlockingError>>>>;

/// A file sent in chunks as it is read. Each read runs on actix's blocking pool
/// (`web::block`), so a slow disk holds no worker: the worker serves other connections
/// until the chunk is there.
struct FileChunks {
    /// The file between reads; `None` while a read runs and after the end.
    file: Option<File>,
    reading: Option<PendingChunk>,
}

impl FileChunks {
    fn new(file: File) -> FileChunks {
        FileChunks {
            file: Some(file),
            reading: None,
        }
    }
}

impl Stream for FileChunks {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.reading.is_none() {
            let Some(mut file) = self.file.take() else {
                return Poll::Ready(None);
            };
            self.reading = Some(Box::pin(web::block(move || {
                let mut chunk = vec![0; CHUNK];
                let read = file.read(&mut chunk).map(|read| {
                    chunk.truncate(read);
                    chunk
                });
                (file, read)
            })));
        }
        let Some(reading) = self.reading.as_mut() else {
            return Poll::Ready(None);
        };
        let done = ready!(reading.as_mut().poll(cx));
        self.reading = None;
        Poll::Ready(match done {
            Ok((file, Ok(chunk))) if !chunk.is_empty() => {
                self.file = Some(file);
                Some(Ok(Bytes::from(chunk)))
            }
            Ok((_, Ok(_))) => None,
            Ok((_, Err(err))) => Some(Err(err)),
            Err(err) => Some(Err(std::io::Error::other(err.to_string()))),
        })
    }
}

/// A consistent snapshot of the database as a redb file, taken while the server keeps
/// serving (writes included), staged beside the database (mode 0600) and streamed.
/// Restore it with
/// `keyhouse restore --from FILE --db PATH`, with the server stopped. Needs `admin`.
#[utoipa::path(tag = "admin",
    responses((status = 200, description = "The redb file.", content_type = "application/octet-stream")))]
#[post("/admin/backup")]
pub async fn backup(store: web::Data<Store>, caller: Caller) -> Result<HttpResponse, Error> {
    caller.require(permissions::ADMIN).await?;
    let (file, size) = web::block(move || store.backup()).await??;
    log::info!(
        "backup of {size} bytes taken by {}",
        caller.principal.account.name
    );
    let name = format!("keyhouse-{}.redb", caller.now.format("%Y%m%dT%H%M%SZ"));
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .no_chunking(size)
        .streaming(FileChunks::new(file)))
}

#[derive(Serialize, ToSchema)]
pub struct IntegrityCheckView {
    /// Whether every page of the database verified.
    pub ok: bool,
    /// What was found.
    #[schema(example = "every page verified")]
    pub message: String,
    #[serde(serialize_with = "wire_time::rfc3339")]
    pub checked_at: DateTime<Utc>,
    pub duration_ms: u64,
}

/// Run redb's integrity check of the database file now: every page's checksum is
/// verified. Requests wait while it runs. A failure is logged, counted in
/// `keyhouse_integrity_check_failures_total` and makes `/readyz` answer 503 until a
/// restart or a later check that passes; restore a backup then. Needs `admin`.
#[utoipa::path(tag = "admin", responses((status = 200, body = IntegrityCheckView)))]
#[post("/admin/integrity-check")]
pub async fn integrity_check(
    store: web::Data<Store>,
    caller: Caller,
) -> Result<HttpResponse, Error> {
    caller.require(permissions::ADMIN).await?;
    let now = caller.now;
    let report = web::block(move || store.check_integrity(now)).await?;
    log::info!("integrity check run by {}", caller.principal.account.name);
    Ok(HttpResponse::Ok().json(IntegrityCheckView {
        ok: report.ok,
        message: report.message,
        checked_at: report.checked_at,
        duration_ms: report.duration_ms,
    }))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(backup).service(integrity_check);
}
