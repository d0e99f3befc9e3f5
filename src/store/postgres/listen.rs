//! Changes made by other nodes. Every write transaction notifies [`CHANNEL`] with its
//! node's id, which PostgreSQL delivers at its commit; each node listens on a connection
//! of its own and, on another node's notification (its own writes already did),
//! advances the write counter (every cached authentication read before it goes stale)
//! and runs the hooks (the token service reloads its signing keys and revocations). A listening connection that broke is made anew, and the counter
//! advanced then too: notifications may have been missed meanwhile.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use prometheus_client::metrics::counter::Counter;

use super::connect::Connector;
use crate::store::engine::ChangeHook;

/// The channel of keyhouse's changes.
pub(super) const CHANNEL: &str = "keyhouse_changes";

/// How long the listener waits for a notification before it looks whether to stop, and
/// between attempts to connect.
const TICK: Duration = Duration::from_millis(250);

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
                    if client.batch_execute(&format!("LISTEN {CHANNEL}")).is_err() {
                        continue;
                    }
                    // Whatever changed while no connection listened.
                    changed();
                    loop {
                        let mut notifications = client.notifications();
                        let arrived = notifications.timeout_iter(TICK).next();
                        match arrived {
                            Ok(Some(first)) => {
                                // One refresh for all that arrived together, if another
                                // node sent one of them.
                                let mut foreign = first.payload() != &*node;
                                while let Ok(Some(next)) = notifications.iter().next() {
                                    foreign |= next.payload() != &*node;
                                }
                                if foreign {
                                    changed();
                                }
                            }
                            Ok(None) => {}
                            Err(_) => break,
                        }
                        if !matches!(stopped.try_recv(), Err(mpsc::TryRecvError::Empty)) {
                            return;
                        }
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
