//! Everything done once before serving: the key file, the store, the first admin, the
//! signing keys, and the shared state every worker's app holds.

use std::path::PathBuf;

use actix_web::web;

use super::StartError;
use crate::api::{self, OpenApiJson, RouteTable};
use crate::auth::assertion::ClientAssertions;
use crate::auth::attempts::AuthAttempts;
use crate::auth::jwt::{OAuthSettings, Tokens};
use crate::auth::last_use::LastUse;
use crate::auth::secret::Secret;
use crate::clock::Clock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::{KeyFileError, Location, OpenOptions, SealKey, Store, resolve_key_file};

/// Everything the app needs, prepared once before serving.
#[derive(Clone)]
pub(super) struct Prepared {
    pub(super) config: web::Data<Config>,
    pub(super) store: web::Data<Store>,
    pub(super) last_use: web::Data<LastUse>,
    pub(super) tokens: web::Data<Tokens>,
    pub(super) assertions: web::Data<ClientAssertions>,
    pub(super) attempts: web::Data<AuthAttempts>,
    pub(super) metrics: web::Data<Metrics>,
    pub(super) openapi: web::Data<OpenApiJson>,
    pub(super) routes: web::Data<RouteTable>,
    pub(super) clock: web::Data<Clock>,
}

/// The key of `storage.key_file`, from systemd's `$CREDENTIALS_DIRECTORY` for a relative
/// name when that is set.
fn seal_key(config: &Config) -> Result<Option<SealKey>, KeyFileError> {
    let Some(setting) = &config.storage.key_file else {
        return Ok(None);
    };
    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    SealKey::load(&resolve_key_file(setting, credentials.as_deref())).map(Some)
}

pub(super) fn prepare(
    config: Config,
    oauth: OAuthSettings,
    clock: Clock,
) -> Result<Prepared, StartError> {
    let options = OpenOptions {
        cache_bytes: usize::try_from(config.storage.cache_size_mib << 20).unwrap_or(usize::MAX),
        check_integrity: config.storage.integrity_check_at_start,
        clock: clock.clone(),
    };
    let location = config.storage_location()?;
    if matches!(location, Location::Postgres(_)) && config.oauth.issuer.is_none() {
        // Several nodes on one database must sign and check tokens as one issuer.
        log::warn!(
            "storage.backend = \"postgres\" without oauth.issuer: this node names itself by \
             its own address, so other nodes refuse the access tokens it issues; set \
             oauth.issuer to the address clients use (docs/high-availability.md)"
        );
    }
    let store = Store::open_at(&location, seal_key(&config)?, options)?;
    let now = clock.now();
    let supplied = config.bootstrap_secret()?;
    let secret = match &supplied {
        Some(secret) => secret.clone(),
        None => Secret::generate()?,
    };
    let expires_at =
        crate::domain::lifetime_end(now, config.credentials.limits.default_lifetime_days);
    let admin = secret.to_credential("bootstrap".to_owned(), expires_at);
    if store.initialize(now, admin).wait()? {
        log::info!("initialized a new database at {}", store.location());
        if supplied.is_none() {
            eprintln!(
                "keyhouse: created the service account 'admin' (role 'admin'). \
                 Its secret, shown only this once:\n{}",
                secret.expose()
            );
        }
    }
    let tokens = web::Data::new(Tokens::load(&store, oauth, now)?);
    let (reloaded, reload_clock) = (tokens.clone(), clock.clone());
    // Another node rotated a key or revoked a token: this one verifies with the same.
    store.on_remote_change(move |store| {
        if let Err(err) = reloaded.reload(store, reload_clock.now()) {
            log::warn!("could not reload the signing keys and revoked tokens: {err}");
        }
    });
    let assertions = ClientAssertions::new(config.credentials.limits.max_active)?;
    let doc = api::openapi();
    let routes = RouteTable::from_openapi(&doc);
    let metrics = Metrics::new(&store);
    let security = &config.security;
    let attempts = AuthAttempts::new(
        security.max_auth_failures,
        security.auth_failure_window_seconds,
        metrics.auth_attempts(),
        clock.clone(),
    );
    Ok(Prepared {
        attempts: web::Data::new(attempts),
        tokens: tokens.clone(),
        assertions: web::Data::new(assertions),
        config: web::Data::new(config),
        last_use: web::Data::new(LastUse::default()),
        metrics: web::Data::new(metrics),
        store: web::Data::new(store),
        openapi: web::Data::new(OpenApiJson(doc.to_pretty_json()? + "\n")),
        routes: web::Data::new(routes),
        clock: web::Data::new(clock),
    })
}
