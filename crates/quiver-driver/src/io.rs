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

/// A runtime sleep kept from one wait to the next (one per connection), so that a connection does
/// not create, register and cancel a timer for every read.
///
/// Each read has a deadline (at least the server's receive-timeout hint, say 120 s from the last
/// message), and almost every read of a lock-step client has to wait. Creating the runtime's
/// sleep for each of them costs a timer registration per query, and on `async-io` (smol,
/// async-std) each registration also wakes the reactor thread: a few system calls and a context
/// switch per query, for a timer that never fires.
#[derive(Default)]
pub(crate) struct KeptSleep {
    /// The armed sleep and its deadline.
    armed: Option<(Instant, BoxedSleep)>,
}

type BoxedSleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// [`with_deadline`] that reuses `kept`'s sleep when it ends no later than `deadline`.
///
/// It may therefore return `None` *before* `deadline` (when an earlier wait's sleep fires): the
/// caller must check the clock and wait again if its own deadline has not passed. A new sleep is
/// created only when there is none, or the kept one ends after `deadline`, or it has fired.
pub(crate) async fn with_kept_deadline<R: Runtime, F: Future>(
    runtime: &R,
    kept: &mut KeptSleep,
    deadline: Option<Instant>,
    future: F,
) -> Option<F::Output> {
    let mut future = pin!(future);
    let Some(deadline) = deadline else {
        return Some(future.await);
    };
    let mut chosen = false;
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        if !chosen {
            chosen = true;
            if kept.armed.as_ref().is_none_or(|(at, _)| *at > deadline) {
                let runtime = runtime.clone();
                // Owning a clone of the runtime makes the sleep `'static`, so it can be kept.
                kept.armed = Some((
                    deadline,
                    Box::pin(async move { runtime.sleep_until(deadline).await }),
                ));
            }
        }
        let Some((_, sleep)) = kept.armed.as_mut() else {
            return Poll::Ready(None);
        };
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                kept.armed = None;
                Poll::Ready(None)
            }
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

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::io;
    use std::pin::{Pin, pin};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};
    use std::time::{Duration, Instant};

    use futures_io::{AsyncRead, AsyncWrite};

    use super::{KeptSleep, with_kept_deadline};
    use crate::runtime::{ConnectTarget, Runtime};

    /// A runtime whose sleeps end when the test moves its clock, and which counts them.
    #[derive(Clone)]
    struct Clock {
        now: Arc<Mutex<Instant>>,
        sleeps_created: Arc<AtomicUsize>,
    }

    struct NoStream;
    impl AsyncRead for NoStream {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Ok(0))
        }
    }
    impl AsyncWrite for NoStream {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    struct Sleep {
        until: Instant,
        now: Arc<Mutex<Instant>>,
    }
    impl Future for Sleep {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if *self.now.lock().unwrap_or_else(|e| e.into_inner()) >= self.until {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    impl Runtime for Clock {
        type Stream = NoStream;
        async fn connect(&self, _: &ConnectTarget) -> io::Result<NoStream> {
            Ok(NoStream)
        }
        fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
            self.sleeps_created.fetch_add(1, Ordering::SeqCst);
            Sleep {
                until: deadline,
                now: self.now.clone(),
            }
        }
        fn now(&self) -> Instant {
            *self.now.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    /// Poll a wait for a read that never completes, once; `Some(None)` if the wait timed out.
    fn poll_wait(clock: &Clock, kept: &mut KeptSleep, deadline: Instant) -> Option<Option<()>> {
        let wait = pin!(with_kept_deadline(
            clock,
            kept,
            Some(deadline),
            std::future::pending::<()>()
        ));
        match wait.poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        }
    }

    #[test]
    fn later_deadlines_reuse_the_kept_sleep_and_earlier_ones_replace_it() {
        let start = Instant::now();
        let clock = Clock {
            now: Arc::new(Mutex::new(start)),
            sleeps_created: Arc::new(AtomicUsize::new(0)),
        };
        let created = || clock.sleeps_created.load(Ordering::SeqCst);
        let at = |s: u64| start + Duration::from_secs(s);
        let mut kept = KeptSleep::default();

        // Ready work needs no timer at all.
        {
            let ready = pin!(with_kept_deadline(&clock, &mut kept, Some(at(10)), async {
                7
            }));
            let mut cx = Context::from_waker(Waker::noop());
            assert_eq!(ready.poll(&mut cx), Poll::Ready(Some(7)));
        }
        assert_eq!(created(), 0);

        assert_eq!(poll_wait(&clock, &mut kept, at(10)), None);
        assert_eq!(created(), 1);
        // Each later read (deadline further out) waits on the same timer.
        assert_eq!(poll_wait(&clock, &mut kept, at(20)), None);
        assert_eq!(poll_wait(&clock, &mut kept, at(30)), None);
        assert_eq!(created(), 1);
        // An earlier deadline needs its own timer.
        assert_eq!(poll_wait(&clock, &mut kept, at(5)), None);
        assert_eq!(created(), 2);

        // The kept timer (5 s) fires during a wait whose own deadline is 30 s: the wait ends
        // early (the caller checks the clock) and the fired timer is not kept.
        *clock.now.lock().unwrap_or_else(|e| e.into_inner()) = at(6);
        assert_eq!(poll_wait(&clock, &mut kept, at(30)), Some(None));
        assert!(kept.armed.is_none());
        assert_eq!(poll_wait(&clock, &mut kept, at(30)), None);
        assert_eq!(created(), 3);
    }
}
