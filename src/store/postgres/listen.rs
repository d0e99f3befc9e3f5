//! Changes made by other nodes. Every write transaction announces its node's id, which
//! other nodes learn at its commit, in one of two ways (`storage.postgres.changes`):
//! - `listen`: it notifies [`CHANNEL`], and each node listens on a connection of its own;
//! - `poll`: it counts its writes in its node's row of [`CHANGES_TABLE`] (a row per node,
//!   so nodes never conflict over it), and each node reads the other rows every
//!   [`POLL_EVERY`], for databases without `LISTEN` (CockroachDB, YugabyteDB).
//!
//! On another node's change (its own writes already did), a node advances the write
//! counter (every cached authentication read before it goes stale) and runs the hooks
//! (the token service reloads its signing keys and revocations). A connection that
//! broke is made anew, and the counter advanced then too: changes may have been missed
//! meanwhile.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;
use prometheus_client::metrics::counter::Counter;

use super::connect::Connector;
use crate::store::engine::ChangeHook;

/// The channel of keyhouse's changes.
pub(super) const CHANNEL: &str = "keyhouse_changes";

/// The table of each node's count of writes, for [`Feed::Poll`].
pub(super) const CHANGES_TABLE: &str = "kh_changes";

/// How long the listener waits for a notification before it looks whether to stop,
/// and between attempts to connect.
const TICK: Duration = Duration::from_millis(250);

/// How often [`Feed::Poll`] reads the other nodes' counters.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// How nodes announce their writes to one another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Feed {
    Listen,
    Poll,
}

/// Why a connection's watch ended.
enum Ended {
    /// The connection broke: make another.
    Broken,
    /// The node stops.
    Stopped,
}

/// What the watch calls on another node's change.
type Changed<'a> = &'a dyn Fn();

pub(super) struct Listener {
    hooks: Arc<Mutex<Vec<ChangeHook>>>,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    pub(super) fn start(
        connector: Connector,
        writes: Counter,
        node: Arc<str>,
        feed: Feed,
    ) -> std::io::Result<Listener> {
        let hooks: Arc<Mutex<Vec<ChangeHook>>> = Arc::default();
        let (stop, stopped) = mpsc::channel::<()>();
        let shared = hooks.clone();
        let changed = move || {
            writes.inc();
            for hook in shared.lock().unwrap_or_else(PoisonError::into_inner).iter() {
                hook();
            }
        };
        let thread = std::thread::Builder::new()
            .name("keyhouse-db-listen".to_owned())
            .spawn(move || {
                // A message or a dropped sender ends the loop; a timeout is the next try.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                    let Ok(mut client) = connector.connect() else {
                        continue;
                    };
                    let ended = match feed {
                        Feed::Listen => listen(&mut client, &node, &changed, &stopped),
                        Feed::Poll => poll(&mut client, &node, &changed, &stopped),
                    };
                    if let Ended::Stopped = ended {
                        return;
                    }
                }
            })?;
        Ok(Listener {
            hooks,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub(super) fn watch(&self, hook: ChangeHook) {
        self.hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(hook);
    }

    /// Ends the thread and waits for it, unless this is that thread: a hook's store may
    /// be the last one, and close the engine from there.
    pub(super) fn stop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

/// Whether the node stops: a message, or its sender dropped.
fn stopping(stopped: &Receiver<()>) -> bool {
    !matches!(stopped.try_recv(), Err(mpsc::TryRecvError::Empty))
}

/// Hears other nodes' notifications on `client` until it breaks or the node stops.
fn listen(client: &mut Client, node: &str, changed: Changed, stopped: &Receiver<()>) -> Ended {
    if client.batch_execute(&format!("LISTEN {CHANNEL}")).is_err() {
        return Ended::Broken;
    }
    // Whatever changed while no connection listened.
    changed();
    loop {
        let mut notifications = client.notifications();
        let arrived = notifications.timeout_iter(TICK).next();
        match arrived {
            Ok(Some(first)) => {
                // One refresh for all that arrived together, if another node sent one
                // of them.
                let mut foreign = first.payload() != node;
                while let Ok(Some(next)) = notifications.iter().next() {
                    foreign |= next.payload() != node;
                }
                if foreign {
                    changed();
                }
            }
            Ok(None) => {}
            Err(_) => return Ended::Broken,
        }
        if stopping(stopped) {
            return Ended::Stopped;
        }
    }
}

/// Reads other nodes' counters on `client` every [`POLL_EVERY`] until it breaks or the
/// node stops: any that moved (or came, or went) is a change.
fn poll(client: &mut Client, node: &str, changed: Changed, stopped: &Receiver<()>) -> Ended {
    let query = format!("SELECT node, seq FROM {CHANGES_TABLE} WHERE node <> $1");
    let mut read = || -> Option<HashMap<String, i64>> {
        let rows = client.query(&query, &[&node]).ok()?;
        rows.iter()
            .map(|row| Some((row.try_get(0).ok()?, row.try_get(1).ok()?)))
            .collect()
    };
    // Read first, then drop what may have changed while no connection polled: a
    // change committed after this read shows in the next one.
    let Some(mut seen) = read() else {
        return Ended::Broken;
    };
    changed();
    loop {
        match stopped.recv_timeout(POLL_EVERY) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return Ended::Stopped,
        }
        let Some(counters) = read() else {
            return Ended::Broken;
        };
        if counters != seen {
            changed();
            seen = counters;
        }
    }
}
