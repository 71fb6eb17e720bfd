//! The retry decision of transaction functions, as a pure state machine (no clock, no sleeping).

use std::time::{Duration, Instant};

use crate::config::RetryConfig;
use crate::error::Error;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryDecision {
    /// Run the work again at this instant.
    RetryAt(Instant),
    /// Report the error.
    GiveUp,
}

/// Tracks the attempts of one transaction function.
#[derive(Debug)]
pub(crate) struct RetryState {
    config: RetryConfig,
    started: Instant,
    next_delay: Duration,
    rng: u64,
    pub(crate) attempts: u32,
}

impl RetryState {
    /// Start tracking at `now`; `seed` feeds the jitter (any value; 0 is replaced).
    pub(crate) fn new(config: RetryConfig, now: Instant, seed: u64) -> Self {
        RetryState {
            config,
            started: now,
            next_delay: config.initial_delay,
            rng: seed | 1,
            attempts: 1,
        }
    }

    /// Decide after `error` at `now`.
    ///
    /// The budget is a hard limit: no attempt starts, and no wait ends, after `max_retry_time`
    /// has passed since the first attempt. A back-off that would end later is shortened to end
    /// when the budget does (one last attempt then), and an error at or past the end of the
    /// budget is returned.
    pub(crate) fn on_error(&mut self, error: &Error, now: Instant) -> RetryDecision {
        if !error.is_retryable() {
            return RetryDecision::GiveUp;
        }
        let Some(end) = self.started.checked_add(self.config.max_retry_time) else {
            // A budget too large for the clock: nothing to shorten.
            return self.back_off(now, None);
        };
        if now >= end {
            return RetryDecision::GiveUp;
        }
        self.back_off(now, Some(end))
    }

    fn back_off(&mut self, now: Instant, end: Option<Instant>) -> RetryDecision {
        let jitter = self.next_delay.as_secs_f64() * self.config.jitter;
        let spread = (self.next_random_unit() * 2.0 - 1.0) * jitter;
        let delay = Duration::from_secs_f64((self.next_delay.as_secs_f64() + spread).max(0.0));
        self.next_delay = Duration::from_secs_f64(
            (self.next_delay.as_secs_f64() * self.config.multiplier)
                .min(self.config.max_retry_time.as_secs_f64()),
        );
        self.attempts += 1;
        let at = now.checked_add(delay).unwrap_or(now);
        RetryDecision::RetryAt(end.map_or(at, |end| at.min(end)))
    }

    /// A uniform number in [0, 1) (xorshift64*: jitter needs spread, not cryptographic quality).
    fn next_random_unit(&mut self) -> f64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let bits = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        bits as f64 / (1u64 << 53) as f64
    }
}

/// A seed for the jitter that differs between calls and processes.
pub(crate) fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x5157_4956_4552);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ServerError;

    fn transient() -> Error {
        ServerError::new(
            "Neo.TransientError.Transaction.DeadlockDetected",
            "deadlock",
        )
        .into()
    }

    #[test]
    fn delays_grow_exponentially_within_the_jitter() {
        let t0 = Instant::now();
        let mut state = RetryState::new(RetryConfig::default(), t0, 42);
        let mut now = t0;
        let mut expected = 1.0;
        for _ in 0..4 {
            let RetryDecision::RetryAt(at) = state.on_error(&transient(), now) else {
                panic!("should retry")
            };
            let delay = (at - now).as_secs_f64();
            assert!(
                delay >= expected * 0.8 - 1e-9 && delay <= expected * 1.2 + 1e-9,
                "{delay} vs {expected}"
            );
            expected *= 2.0;
            now = at;
        }
        assert_eq!(state.attempts, 5);
    }

    #[test]
    fn gives_up_after_the_max_retry_time_or_on_non_retryable_errors() {
        let t0 = Instant::now();
        let mut state = RetryState::new(RetryConfig::default(), t0, 7);
        assert_eq!(
            state.on_error(&transient(), t0 + Duration::from_secs(31)),
            RetryDecision::GiveUp
        );
        let mut state = RetryState::new(RetryConfig::default(), t0, 7);
        let syntax: Error = ServerError::new("Neo.ClientError.Statement.SyntaxError", "x").into();
        assert_eq!(state.on_error(&syntax, t0), RetryDecision::GiveUp);
        let unknown = Error::IncompleteCommit {
            reason: "eof".into(),
        };
        assert_eq!(state.on_error(&unknown, t0), RetryDecision::GiveUp);
    }

    #[test]
    fn a_back_off_is_shortened_to_the_time_left_and_nothing_starts_after_the_budget() {
        // Delays 1, 2, 4, 8, 16 s (no jitter) against a 10 s budget: attempts at 0, 1, 3 and
        // 7 s; the back-off after the attempt at 7 s would end at 15 s and is cut to 10 s;
        // the attempt at 10 s is the last.
        let retry = RetryConfig {
            max_retry_time: Duration::from_secs(10),
            jitter: 0.0,
            ..RetryConfig::default()
        };
        let t0 = Instant::now();
        let mut state = RetryState::new(retry, t0, 1);
        let mut now = t0;
        let mut starts = vec![0.0];
        while let RetryDecision::RetryAt(at) = state.on_error(&transient(), now) {
            assert!(
                at >= now && at <= t0 + retry.max_retry_time,
                "{:?}",
                at - t0
            );
            // The attempt itself takes no time here.
            now = at;
            starts.push((now - t0).as_secs_f64());
        }
        assert_eq!(starts, [0.0, 1.0, 3.0, 7.0, 10.0]);

        // An attempt that fails after the budget ended gets no retry, however short it was.
        let mut state = RetryState::new(retry, t0, 1);
        assert_eq!(
            state.on_error(&transient(), t0 + Duration::from_secs(10)),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn the_default_budget_holds_whatever_the_jitter_draws() {
        // The case that ran to 56-66 s: with the default policy (30 s, 1 s x2, +-20%) a draw
        // that ends the fifth back-off before 30 s used to add a sixth of 30 s +- 20%.
        let retry = RetryConfig::default();
        let t0 = Instant::now();
        for seed in 0..2_000 {
            let mut state = RetryState::new(retry, t0, seed);
            let mut now = t0;
            while let RetryDecision::RetryAt(at) = state.on_error(&transient(), now) {
                assert!(
                    at <= t0 + retry.max_retry_time,
                    "seed {seed}: a wait ends {:?} after the start",
                    at - t0
                );
                // Each attempt fails 10 ms after it started.
                now = at + Duration::from_millis(10);
            }
            assert!(now <= t0 + retry.max_retry_time + Duration::from_millis(10));
        }
    }
}
