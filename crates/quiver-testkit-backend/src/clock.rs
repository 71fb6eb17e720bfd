//! The backend's runtime: tokio, with a clock the suite can freeze and advance
//! (`FakeTimeInstall` / `FakeTimeTick` / `FakeTimeUninstall`, feature `Backend:MockTime`).
//!
//! Quiver reads every instant it compares deadlines, lifetimes, idle times and token expiry
//! with from [`Runtime::now`] and waits with [`Runtime::sleep_until`], so a runtime wrapper is
//! all that fake time takes: while installed, `now` is the frozen instant and a sleep ends only
//! when ticks have moved it past the deadline.

use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use quiver_tokio::{ConnectTarget, Runtime, TokioRuntime};
use tokio::sync::Notify;

/// The driver on the backend's runtime.
pub(crate) type Driver = quiver_driver::Driver<BackendRuntime>;
/// A session on the backend's runtime.
pub(crate) type Session = quiver_driver::Session<BackendRuntime>;
/// A transaction on the backend's runtime.
pub(crate) type Transaction = quiver_driver::Transaction<BackendRuntime>;
/// A result stream on the backend's runtime.
pub(crate) type RecordStream<'a> = quiver_driver::RecordStream<'a, BackendRuntime>;

/// The fake clock, shared by every driver of one suite connection.
#[derive(Debug, Default)]
struct FakeClock {
    /// The frozen instant, when fake time is installed.
    now: Mutex<Option<Instant>>,
    /// Woken on every tick and on uninstall.
    moved: Notify,
}

/// Tokio, with a clock that can be faked and, per driver, a name resolver the suite answers
/// (`domainNameResolverRegistered`).
#[derive(Debug, Clone, Default)]
pub(crate) struct BackendRuntime {
    clock: Arc<FakeClock>,
    dns: Option<Arc<crate::callbacks::SuiteDns>>,
}

impl BackendRuntime {
    /// This runtime, resolving names through `dns` (the suite's domain-name resolver).
    pub(crate) fn with_dns(&self, dns: crate::callbacks::SuiteDns) -> Self {
        BackendRuntime {
            clock: self.clock.clone(),
            dns: Some(Arc::new(dns)),
        }
    }

    fn fake_now(&self) -> Option<Instant> {
        *self
            .clock
            .now
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Freeze time at the current instant.
    pub(crate) fn install(&self) {
        *self
            .clock
            .now
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        self.clock.moved.notify_waiters();
    }

    /// Move the frozen time on by `by` (does nothing unless installed).
    pub(crate) fn tick(&self, by: Duration) {
        if let Some(now) = self
            .clock
            .now
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            *now += by;
        }
        self.clock.moved.notify_waiters();
    }

    /// Back to real time.
    pub(crate) fn uninstall(&self) {
        *self
            .clock
            .now
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        self.clock.moved.notify_waiters();
    }
}

impl Runtime for BackendRuntime {
    type Stream = <TokioRuntime as Runtime>::Stream;

    fn connect(
        &self,
        target: &ConnectTarget,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        // The TCP connect deadline is an instant of this clock; with fake time installed
        // tokio's real timer would misread it, so the connect runs without one then.
        let mut target = target.clone();
        if self.fake_now().is_some() {
            target.deadline = None;
        }
        async move { TokioRuntime.connect(&target).await }
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        let runtime = self.clone();
        async move {
            loop {
                // Registered before the clock is read: a tick in between is not missed.
                let moved = runtime.clock.moved.notified();
                match runtime.fake_now() {
                    Some(now) if now >= deadline => return,
                    Some(_) => moved.await,
                    None => {
                        tokio::select! {
                            () = tokio::time::sleep_until(deadline.into()) => return,
                            () = moved => {}
                        }
                    }
                }
            }
        }
    }

    fn now(&self) -> Instant {
        self.fake_now().unwrap_or_else(Instant::now)
    }

    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<IpAddr>>> + Send {
        let dns = self.dns.clone();
        let host = host.to_owned();
        async move {
            match dns {
                // The suite's resolver answers names with IP literals; anything else it says
                // is resolved for real.
                Some(dns) => {
                    let mut ips = Vec::new();
                    for name in dns.resolve(&host)? {
                        match name.parse::<IpAddr>() {
                            Ok(ip) => ips.push(ip),
                            Err(_) => ips.extend(TokioRuntime.resolve(&name, port).await?),
                        }
                    }
                    Ok(ips)
                }
                None => TokioRuntime.resolve(&host, port).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fake_time_stands_still_until_ticked() {
        let runtime = BackendRuntime::default();
        runtime.install();
        let start = runtime.now();
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(runtime.now(), start, "frozen");
        let sleeper = tokio::spawn({
            let runtime = runtime.clone();
            async move { runtime.sleep_until(start + Duration::from_secs(10)).await }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        runtime.tick(Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(!sleeper.is_finished(), "only half-way");
        runtime.tick(Duration::from_secs(5));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("the second tick ends the sleep")
            .unwrap();
        assert_eq!(runtime.now(), start + Duration::from_secs(10));
        runtime.uninstall();
        assert!(runtime.now() < start + Duration::from_secs(10));
    }
}
