//! A minimal in-thread executor: poll one future on the calling thread, park in between.
//!
//! Nothing here is an async runtime: no reactor, no task queue, no thread. The futures it runs
//! are the driver's, over [`BlockingStream`](crate::net::BlockingStream)s whose reads and writes
//! block the thread; they return `Pending` only when they wait for another thread (a free pooled
//! connection, woken through `event-listener`), for a time ([`Sleep`](crate::net::Sleep), which
//! records its deadline here so that the park times out), or once before a read blocks (waking
//! themselves at once).

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Instant;

thread_local! {
    /// The earliest deadline a future asked to be woken at during the current poll.
    static WAKE_AT: Cell<Option<Instant>> = const { Cell::new(None) };
    /// How many `block_on` calls are active on this thread (they nest: a transaction function
    /// runs inside the driver's `execute_*` future and blocks on its own queries).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Wakes the thread that runs `block_on`.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Restores the enclosing `block_on`'s state, also when the future panics.
struct Nesting(Option<Instant>);

impl Drop for Nesting {
    fn drop(&mut self) {
        WAKE_AT.set(self.0);
        DEPTH.set(DEPTH.get().saturating_sub(1));
    }
}

/// Run `future` to completion on this thread.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let _nesting = Nesting(WAKE_AT.take());
    DEPTH.set(DEPTH.get() + 1);
    loop {
        WAKE_AT.set(None);
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // A spurious or early unpark only costs one more poll.
        match WAKE_AT.take() {
            Some(at) => {
                let now = Instant::now();
                if at > now {
                    thread::park_timeout(at - now);
                }
            }
            None => thread::park(),
        }
    }
}

/// Ask the innermost `block_on` to poll again at `at`. Returns `false` when no `block_on` runs on
/// this thread (the caller must then wait by itself).
pub(crate) fn wake_at(at: Instant) -> bool {
    if DEPTH.get() == 0 {
        return false;
    }
    let earliest = WAKE_AT.get().map_or(at, |other| other.min(at));
    WAKE_AT.set(Some(earliest));
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_ready_future_completes_without_parking() {
        assert_eq!(block_on(async { 7 }), 7);
    }

    #[test]
    fn a_sleep_parks_until_its_deadline() {
        let start = Instant::now();
        block_on(crate::net::Sleep(start + Duration::from_millis(30)));
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn another_thread_wakes_the_parked_one() {
        let (tx, rx) = std::sync::mpsc::channel::<Waker>();
        let waker_thread = thread::spawn(move || {
            if let Ok(waker) = rx.recv() {
                thread::sleep(Duration::from_millis(20));
                waker.wake();
            }
        });
        let mut sent = Some(tx);
        let mut polls = 0;
        block_on(std::future::poll_fn(|cx| {
            polls += 1;
            match sent.take() {
                Some(tx) => {
                    let _ = tx.send(cx.waker().clone());
                    Poll::Pending
                }
                None => Poll::Ready(()),
            }
        }));
        assert!(polls >= 2);
        assert!(waker_thread.join().is_ok());
    }

    #[test]
    fn nested_block_on_keeps_the_outer_deadline() {
        let outer = Instant::now() + Duration::from_millis(20);
        block_on(async {
            // The inner call runs to completion inside the outer poll.
            assert_eq!(block_on(async { 1 }), 1);
            crate::net::Sleep(outer).await;
        });
        assert!(Instant::now() >= outer);
        assert_eq!(DEPTH.get(), 0);
    }
}
