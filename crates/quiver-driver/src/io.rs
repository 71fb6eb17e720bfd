//! Waiting with a deadline, without racing futures of a particular runtime.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Instant;

use futures_util::future::poll_fn;

use crate::runtime::Runtime;

/// Run `future` until it completes (`Some`) or `deadline` passes (`None`).
///
/// The future is polled first, so a deadline in the past still lets ready work through. The
/// runtime's sleep is only created once the future has to wait: the fast path costs no timer.
pub(crate) async fn with_deadline<R: Runtime, F: Future>(
    runtime: &R,
    deadline: Option<Instant>,
    future: F,
) -> Option<F::Output> {
    let mut future = pin!(future);
    let Some(deadline) = deadline else {
        return Some(future.await);
    };
    let mut sleep: Option<Pin<Box<dyn Future<Output = ()> + Send + '_>>> = None;
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        let sleep = sleep.get_or_insert_with(|| Box::pin(runtime.sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// The earlier of two optional deadlines.
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}
