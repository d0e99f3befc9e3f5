//! A deadline for every request head, the first of a connection or a later one.
//!
//! actix-http gives only a connection's first head a deadline, and its keep-alive timer
//! stops at the first byte of the next one, so a client could send half a second head
//! and keep its connection forever. Here each connection's IO is a [`Guarded`] stream
//! sharing an [`Activity`] with the requests read from it: from the end of a response
//! (and from the accept) the next head must arrive whole within the deadline, else the
//! stream fails its read and actix closes the connection. While a request is being
//! read, handled or answered, however long, no deadline runs: the request body has its
//! own (`server.body_read_timeout_seconds`), and a slow response is not cut.

use std::cell::Cell;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_http::body::{BodySize, MessageBody};
use actix_rt::net::{ActixStream, Ready};
use actix_rt::time::{Instant, Sleep, sleep_until};
use actix_web::web::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::addresses::Slot;

/// What a connection is waiting for, shared by its stream and its requests.
#[derive(Debug, Clone)]
pub struct Activity {
    /// When the head now awaited is due; `None` while a request is under way.
    due: Rc<Cell<Option<Instant>>>,
    deadline: Duration,
}

impl Activity {
    /// A connection just accepted: its first head is due within `deadline`.
    fn new(deadline: Duration) -> Activity {
        Activity {
            due: Rc::new(Cell::new(Some(Instant::now() + deadline))),
            deadline,
        }
    }

    /// A request head has arrived: no deadline until its response is done.
    pub fn request_started(&self) {
        self.due.set(None);
    }

    /// A response is done (sent whole, or dropped): the next head is due.
    fn response_done(&self) {
        self.due.set(Some(Instant::now() + self.deadline));
    }
}

/// A connection's stream: holds its address's [`Slot`] while open, and fails a read
/// with `TimedOut` once a due head is late.
pub struct Guarded<T> {
    io: T,
    peer: SocketAddr,
    activity: Activity,
    /// Runs at or before the due time, never after: re-armed only when it fires early,
    /// so a request costs no timer change.
    timer: Pin<Box<Sleep>>,
    _slot: Slot,
}

impl<T> Guarded<T> {
    /// Wraps a stream just accepted from `peer`, whose first head is due within
    /// `deadline`.
    pub fn new(io: T, peer: SocketAddr, slot: Slot, deadline: Duration) -> Guarded<T> {
        let activity = Activity::new(deadline);
        let timer = Box::pin(sleep_until(Instant::now() + deadline));
        Guarded {
            io,
            peer,
            activity,
            timer,
            _slot: slot,
        }
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The handle its requests report to.
    pub fn activity(&self) -> Activity {
        self.activity.clone()
    }

    /// Whether a due head is late; arms the timer with `cx` until it is.
    fn late(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(due) = self.activity.due.get() else {
            return false;
        };
        while self.timer.as_mut().poll(cx).is_ready() {
            if Instant::now() >= due {
                return true;
            }
            self.timer.as_mut().reset(due);
        }
        false
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let read = Pin::new(&mut this.io).poll_read(cx, buf);
        if read.is_pending() && this.late(cx) {
            return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
        }
        read
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The TLS acceptor takes an [`ActixStream`].
impl<T: ActixStream> ActixStream for Guarded<T> {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<Ready>> {
        self.io.poll_read_ready(cx)
    }

    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<Ready>> {
        self.io.poll_write_ready(cx)
    }
}

pin_project_lite::pin_project! {
    /// A response body that tells its connection's [`Activity`] when it is done.
    pub struct Tracked<B> {
        #[pin]
        body: B,
        done: Done,
    }
}

/// Reports the response done when dropped: the dispatcher drops a body once it has
/// written it all, or when the connection ends.
struct Done(Option<Activity>);

impl Drop for Done {
    fn drop(&mut self) {
        if let Some(activity) = &self.0 {
            activity.response_done();
        }
    }
}

impl<B> Tracked<B> {
    /// `body`, reporting to `activity` (none for a connection without one).
    pub fn new(body: B, activity: Option<Activity>) -> Tracked<B> {
        Tracked {
            body,
            done: Done(activity),
        }
    }
}

impl<B: MessageBody> MessageBody for Tracked<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        self.project().body.poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use actix_rt::time::timeout;

    use super::*;
    use crate::connections::Addresses;

    /// A peer that never sends anything.
    struct Silent;

    impl AsyncRead for Silent {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Pending
        }
    }

    const DEADLINE: Duration = Duration::from_millis(100);

    async fn read(io: &mut Guarded<Silent>) -> io::Result<()> {
        let mut bytes = [0u8; 16];
        let mut buf = ReadBuf::new(&mut bytes);
        poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, &mut buf)).await
    }

    fn guarded(addresses: &Addresses) -> Guarded<Silent> {
        let peer: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        let slot = addresses.admit(peer.ip()).unwrap();
        Guarded::new(Silent, peer, slot, DEADLINE)
    }

    // Real time, kept to a tenth of a second: the deadline is a tokio timer.
    #[test]
    fn a_head_is_due_only_while_no_request_is_under_way() {
        actix_rt::System::new().block_on(async {
            let addresses = Addresses::new(1);
            let mut io = guarded(&addresses);
            let started = Instant::now();
            let err = read(&mut io).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::TimedOut);
            assert!(started.elapsed() >= DEADLINE);
            drop(io);

            let mut io = guarded(&addresses);
            let activity = io.activity();
            activity.request_started();
            let body = Tracked::new((), Some(activity));
            let waited = timeout(DEADLINE * 3, read(&mut io)).await;
            assert!(waited.is_err(), "no deadline while a request is under way");
            drop(body);
            let done = Instant::now();
            let err = read(&mut io).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::TimedOut);
            assert!(
                done.elapsed() >= DEADLINE,
                "due a deadline after the response"
            );
        });
    }

    #[test]
    fn a_connection_holds_its_address_slot_until_dropped() {
        actix_rt::System::new().block_on(async {
            let addresses = Addresses::new(1);
            let io = guarded(&addresses);
            assert!(addresses.admit("192.0.2.1".parse().unwrap()).is_none());
            drop(io);
            assert!(addresses.admit("192.0.2.1".parse().unwrap()).is_some());
        });
    }
}
