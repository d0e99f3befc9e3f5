//! Administration: a backup of the live database.

use std::fs::File;
use std::io::Read;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, post, web};
use futures_core::Stream;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Caller;
use crate::domain::permissions;
use crate::error::Error;
use crate::store::Store;

const CHUNK: usize = 64 * 1024;

/// A file sent in chunks as it is read.
struct FileChunks(File);

impl Stream for FileChunks {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut chunk = vec![0; CHUNK];
        Poll::Ready(match self.0.read(&mut chunk) {
            Ok(0) => None,
            Ok(read) => {
                chunk.truncate(read);
                Some(Ok(Bytes::from(chunk)))
            }
            Err(err) => Some(Err(err)),
        })
    }
}

/// A consistent snapshot of the database as a redb file, taken while the server keeps
/// serving (writes included), and streamed. Restore it with
/// `keyhouse restore --from FILE --db PATH`, with the server stopped. Needs `admin`.
#[utoipa::path(tag = "admin",
    responses((status = 200, description = "The redb file.", content_type = "application/octet-stream")))]
#[post("/admin/backup")]
pub async fn backup(store: web::Data<Store>, caller: Caller) -> Result<HttpResponse, Error> {
    caller.require(permissions::ADMIN)?;
    let path = std::env::temp_dir().join(format!("keyhouse-backup-{}.redb", Uuid::new_v4()));
    let (file, size) = web::block(move || {
        let taken = store.backup_to(&path).and_then(|_| {
            let file = File::open(&path)?;
            let size = file.metadata()?.len();
            Ok((file, size))
        });
        // The open file stays readable; the name goes at once, whatever happens next.
        let _ = std::fs::remove_file(&path);
        taken
    })
    .await??;
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
        .streaming(FileChunks(file)))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(backup);
}
