//! Changes made elsewhere: on a database that several nodes share, what one node holds
//! in memory besides the store's own caches (the token service's signing keys and
//! revocations) is refreshed when another node writes. The hook holds the store weakly,
//! so that it never keeps open the engine that runs it.

use std::path::PathBuf;
use std::sync::{Arc, Weak};

use prometheus_client::metrics::counter::Counter;
use uuid::Uuid;

use super::auth_cache::AuthCache;
use super::engine::Engine;
use super::{Authenticated, MeDetails, SealKey, Store, integrity};
use crate::domain::Principal;

/// A store that does not keep its engine open: every part of one but the engine,
/// which it holds weakly.
struct WeakStore {
    engine: Weak<dyn Engine>,
    path: PathBuf,
    seal_key: Option<Arc<SealKey>>,
    health: Arc<integrity::Health>,
    writes: Counter,
    secrets: Arc<AuthCache<[u8; 32], Authenticated>>,
    subjects: Arc<AuthCache<Uuid, Arc<Principal>>>,
    details: Arc<AuthCache<Uuid, MeDetails>>,
}

impl Store {
    /// Runs `hook` with the store whenever another node may have changed the data (never
    /// on the embedded engine, which only this process writes). It runs on a thread of
    /// its own, which may wait for the store's answers.
    pub fn on_remote_change(&self, hook: impl Fn(&Store) + Send + Sync + 'static) {
        let weak = WeakStore {
            engine: Arc::downgrade(&self.engine),
            path: self.path.clone(),
            seal_key: self.seal_key.clone(),
            health: self.health.clone(),
            writes: self.writes.clone(),
            secrets: self.secrets.clone(),
            subjects: self.subjects.clone(),
            details: self.details.clone(),
        };
        self.engine.watch(Box::new(move || {
            if let Some(store) = weak.upgrade() {
                hook(&store);
            }
        }));
    }
}

impl WeakStore {
    fn upgrade(&self) -> Option<Store> {
        Some(Store {
            engine: self.engine.upgrade()?,
            path: self.path.clone(),
            seal_key: self.seal_key.clone(),
            health: self.health.clone(),
            writes: self.writes.clone(),
            secrets: self.secrets.clone(),
            subjects: self.subjects.clone(),
            details: self.details.clone(),
        })
    }
}
