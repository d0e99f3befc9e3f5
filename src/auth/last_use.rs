//! Last use of credentials and accounts: recorded in memory by each authenticated
//! request (a lock and a map insert, no disk), written by a background thread in one
//! transaction per interval at most, and flushed once more when the server stops.

use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use uuid::Uuid;

use crate::domain::Timestamp;
use crate::store::Store;

/// Uses not yet written: credential id → (account id, latest use).
#[derive(Debug, Default)]
pub struct LastUse {
    pending: Mutex<HashMap<Uuid, (Uuid, Timestamp)>>,
}

impl LastUse {
    pub fn record(&self, credential: Uuid, account: Uuid, at: Timestamp) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(credential, (account, at));
        }
    }

    fn take(&self) -> Vec<(Uuid, Uuid, Timestamp)> {
        match self.pending.lock() {
            Ok(mut pending) => pending.drain().map(|(c, (a, at))| (c, a, at)).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Writes what is pending, if anything, in one transaction.
    fn flush(&self, store: &Store) {
        let uses = self.take();
        if uses.is_empty() {
            return;
        }
        if let Err(err) = store.record_last_use(&uses).wait() {
            log::warn!("could not write {} last-use times: {err:?}", uses.len());
        }
    }
}

/// The background writer; [`Flusher::stop`] writes what is left and ends it.
pub struct Flusher {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl Flusher {
    pub fn start(store: Store, uses: Arc<LastUse>, every: Duration) -> Flusher {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            // A message or a dropped sender ends the loop; a timeout is the next batch.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                uses.flush(&store);
            }
            uses.flush(&store);
        });
        Flusher { stop, thread }
    }

    /// Writes the last pending uses and waits for the thread to end.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}
