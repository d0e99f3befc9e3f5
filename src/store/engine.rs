//! What the store asks of its engine: transactions over the seam (`kv`), and the few
//! things only an engine can do (copy itself, check its own storage). `Store` holds one
//! engine, chosen when it opens; the rules above the seam are the same for each.

use std::fs::File;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::task::{Context, Poll, Wake, Waker};

use prometheus_client::metrics::counter::Counter;
use tokio::sync::oneshot;

use super::damage::unpanicked;
use super::kv::ReadTx;
use super::transaction::Tx;
use crate::error::Error;

/// A storage engine under the seam.
pub(super) trait Engine: Send + Sync {
    /// Runs `job` on one consistent snapshot, on this thread or another: an engine
    /// whose reads wait on a network runs them off the async executor's threads.
    fn read(&self, job: Box<dyn ReadJob>);

    /// Runs `body` on one consistent snapshot on this thread: for the crate's tests,
    /// whose reads borrow what they check.
    #[cfg(test)]
    fn read_here(
        &self,
        body: &mut dyn FnMut(&ReadTx<'_>) -> Result<(), Error>,
    ) -> Result<(), Error>;

    /// Runs `job` in a write transaction and answers it once that is durable or failed.
    fn write(&self, job: Box<dyn Job>);

    /// Runs `hook` whenever the data may have changed other than through this store:
    /// another node's write on a shared database. An engine that only this process
    /// writes never runs it.
    fn watch(&self, hook: ChangeHook);

    /// Durable commits so far, each shared by the writes that waited for it.
    fn durable_commits(&self) -> Counter;

    /// Set once the engine has closed its storage (and released its lock).
    fn closed(&self) -> Arc<AtomicBool>;

    /// The bytes the engine's storage takes.
    fn size(&self) -> Answer<u64>;

    /// Claims `key` until `expires` (Unix seconds): false if a claim on it is live at
    /// `now`, made by any process of the database (`claims`).
    fn claim(&self, key: Vec<u8>, expires: i64, now: i64) -> Answer<bool>;

    /// Checks the storage whole; `answered` runs while nothing else runs, so that it
    /// sees what was met before the check began.
    fn check(&self, answered: &mut dyn FnMut()) -> Checked;

    /// A consistent copy of everything, in a new private file; and how many rows.
    fn backup(&self) -> Result<(File, u64), Error>;
}

/// What runs when another node may have changed the data.
pub(super) type ChangeHook = Box<dyn Fn() + Send + Sync>;

/// The outcome of an engine's check of its storage.
pub(super) enum Checked {
    Sound,
    /// Found damaged and repaired, possibly by losing the last commits: what the
    /// operator should do.
    Repaired(String),
    Failed(String),
}

/// A write on its way through the engine, with its caller to answer.
pub(super) trait Job: Send {
    /// Runs the write in `tx`, keeping its value for the answer. It may run more than
    /// once: only its last run counts.
    fn run(&mut self, tx: &Tx) -> Result<(), Error>;

    /// Answers the caller: the value of the last run when `outcome` is a commit.
    fn answer(self: Box<Self>, outcome: Result<(), Error>);
}

/// A read on its way through the engine, with its caller to answer.
pub(super) trait ReadJob: Send {
    /// Runs the read on `tx`, or fails with the error that began none, and answers.
    fn run(self: Box<Self>, tx: Result<&ReadTx<'_>, Error>);
}

/// The read `f`, to hand to an engine, and its answer.
pub(super) fn read_job<T: Send + 'static>(
    f: impl FnOnce(Result<&ReadTx<'_>, Error>) -> Result<T, Error> + Send + 'static,
) -> (Box<dyn ReadJob>, Answer<T>) {
    let (answer, answered) = oneshot::channel();
    (Box::new(PendingRead { f, answer }), Answer(answered))
}

struct PendingRead<T, F> {
    f: F,
    answer: oneshot::Sender<Result<T, Error>>,
}

impl<T, F> ReadJob for PendingRead<T, F>
where
    T: Send,
    F: FnOnce(Result<&ReadTx<'_>, Error>) -> Result<T, Error> + Send,
{
    fn run(self: Box<Self>, tx: Result<&ReadTx<'_>, Error>) {
        let PendingRead { f, answer } = *self;
        // Its caller waits for the answer; it is gone only if it panicked.
        let _ = answer.send(f(tx));
    }
}

/// The write `f`, to hand to an engine, and its answer.
pub(super) fn job<T: Send + 'static>(
    f: impl FnMut(&Tx) -> Result<T, Error> + Send + 'static,
) -> (Box<dyn Job>, Answer<T>) {
    let (answer, answered) = oneshot::channel();
    let job = Box::new(Pending {
        f,
        value: None,
        answer,
    });
    (job, Answer(answered))
}

struct Pending<T, F> {
    f: F,
    value: Option<T>,
    answer: oneshot::Sender<Result<T, Error>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnMut(&Tx) -> Result<T, Error> + Send,
{
    fn run(&mut self, tx: &Tx) -> Result<(), Error> {
        self.value = Some(unpanicked(|| (self.f)(tx))?);
        Ok(())
    }

    fn answer(self: Box<Self>, outcome: Result<(), Error>) {
        let Pending { f, value, answer } = *self;
        // What the closure holds goes before its caller is woken, so that the last clone
        // of a `Store` is never dropped on the engine's thread.
        drop(f);
        let answered = outcome.and_then(|()| {
            value.ok_or_else(|| Error::internal("storage: a write committed without running"))
        });
        // Its caller waits for the answer; it is gone only if it panicked.
        let _ = answer.send(answered);
    }
}

/// The answer to a read or write handed to the engine: `.await` it in a request's
/// handler, so that no thread waits for it, or [`Answer::wait`] for it on a thread of
/// its own.
#[must_use = "the outcome is known only from its answer"]
pub struct Answer<T>(oneshot::Receiver<Result<T, Error>>);

/// A channel whose receiving end is an [`Answer`].
pub(super) fn answer_channel<T>() -> (oneshot::Sender<Result<T, Error>>, Answer<T>) {
    let (answer, answered) = oneshot::channel();
    (answer, Answer(answered))
}

impl<T> Answer<T> {
    /// An answer known already.
    pub(super) fn ready(value: Result<T, Error>) -> Answer<T> {
        let (answer, answered) = answer_channel();
        let _ = answer.send(value);
        answered
    }

    /// Blocks this thread until the answer comes.
    pub fn wait(self) -> Result<T, Error> {
        block_on(self)
    }
}

/// Blocks this thread until `future` is done: for a thread of its own (a timer, the
/// command line, a test), never for a request's handler.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

/// [`block_on`] as a method, for the crate's tests.
#[cfg(test)]
pub trait Blocking: Future + Sized {
    fn block(self) -> Self::Output {
        block_on(self)
    }
}

#[cfg(test)]
impl<F: Future> Blocking for F {}

/// Wakes the thread that waits for an answer.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

impl<T> Future for Answer<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|answer| answer.unwrap_or_else(|_| Err(engine_gone())))
    }
}

/// The answer of a write whose engine stopped before answering.
pub(super) fn engine_gone() -> Error {
    Error::internal("storage: the writer has stopped")
}
