//! What a request's log lines carry besides their message: its id, and the trace it
//! belongs to when the client sent a W3C `traceparent`. The request's future holds it
//! and lends it to the worker's thread while it runs ([`InRequest`]), so that every
//! line logged during the request, in any module, is written with it.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

/// The request a log line was written for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub request_id: String,
    pub trace: Option<TraceParent>,
}

/// A valid `traceparent` header (W3C Trace Context, version 00): the trace's id and
/// the caller's span, in lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: String,
    pub parent_id: String,
}

impl TraceParent {
    /// `00-<32 hex>-<16 hex>-<2 hex>`, ids not all zeros; anything else is ignored, as
    /// the specification asks of a receiver. A later version may add fields after the
    /// flags, which are ignored too.
    pub fn parse(header: &str) -> Option<TraceParent> {
        let mut parts = header.trim().split('-');
        let version = parts.next()?;
        let (trace_id, parent_id, flags) = (parts.next()?, parts.next()?, parts.next()?);
        let hex = |s: &str, len: usize| {
            s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        let valid = hex(version, 2)
            && version != "ff"
            && (version != "00" || parts.next().is_none())
            && hex(trace_id, 32)
            && hex(parent_id, 16)
            && hex(flags, 2)
            && trace_id.bytes().any(|b| b != b'0')
            && parent_id.bytes().any(|b| b != b'0');
        valid.then(|| TraceParent {
            trace_id: trace_id.to_owned(),
            parent_id: parent_id.to_owned(),
        })
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<RequestContext>>> = const { RefCell::new(None) };
}

/// Calls `f` with the context of the request running on this thread, if any.
pub fn with_current<T>(f: impl FnOnce(Option<&RequestContext>) -> T) -> T {
    CURRENT.with(|current| f(current.borrow().as_deref()))
}

pin_project! {
    /// `inner`, run with `context` as the current request's context.
    pub struct InRequest<F> {
        #[pin]
        inner: F,
        context: Rc<RequestContext>,
    }
}

impl<F> InRequest<F> {
    pub fn new(inner: F, context: RequestContext) -> Self {
        InRequest {
            inner,
            context: Rc::new(context),
        }
    }
}

/// Puts the previous context back when a poll ends.
struct Restore(Option<Rc<RequestContext>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

impl<F: Future> Future for InRequest<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let previous = CURRENT.with(|current| current.replace(Some(this.context.clone())));
        let _restore = Restore(previous);
        this.inner.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_is_read_and_any_other_ignored() {
        let parsed = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert_eq!(
            parsed,
            Some(TraceParent {
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".to_owned(),
                parent_id: "00f067aa0ba902b7".to_owned(),
            })
        );
        assert!(
            TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")
                .is_some(),
            "a later version's extra field"
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "00-kh_secretsecretsecretsecretsecret-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_context_is_current_only_while_its_future_runs() {
        let context = RequestContext {
            request_id: "r1".to_owned(),
            trace: None,
        };
        let future = InRequest::new(
            async { with_current(|c| c.map(|c| c.request_id.clone())) },
            context,
        );
        let seen = futures_executor_block_on(future);
        assert_eq!(seen.as_deref(), Some("r1"));
        assert_eq!(with_current(|c| c.cloned()), None);
    }

    /// Polls a future that never waits.
    fn futures_executor_block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(value) => value,
            Poll::Pending => unreachable!("the future does not wait"),
        }
    }
}
