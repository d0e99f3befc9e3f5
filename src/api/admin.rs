//! Administration: a backup of the live database.

use actix_web::http::header;
use actix_web::{HttpResponse, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Caller;
use crate::domain::permissions;
use crate::error::Error;
use crate::store::Store;

/// A consistent snapshot of the database as a redb file, taken while the server keeps
/// serving (writes included). Restore it with `keyhouse restore --from FILE --db PATH`,
/// with the server stopped. Needs `admin`.
#[utoipa::path(tag = "admin",
    responses((status = 200, description = "The redb file.", content_type = "application/octet-stream")))]
#[post("/admin/backup")]
pub async fn backup(store: web::Data<Store>, caller: Caller) -> Result<HttpResponse, Error> {
    caller.require(permissions::ADMIN)?;
    let file = std::env::temp_dir().join(format!("keyhouse-backup-{}.redb", Uuid::new_v4()));
    let bytes = web::block(move || {
        let taken = store
            .backup_to(&file)
            .and_then(|_| Ok(std::fs::read(&file)?));
        let _ = std::fs::remove_file(&file);
        taken
    })
    .await??;
    log::info!(
        "backup of {} bytes taken by {}",
        bytes.len(),
        caller.principal.account.name
    );
    let name = format!("keyhouse-{}.redb", caller.now.format("%Y%m%dT%H%M%SZ"));
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(bytes))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(backup);
}
