//! The retry layer: which failures are retried, and how long to wait.
//!
//! - 429 is retried for every method: ARM throttles before executing a request.
//! - 500/502/503/504 and dropped connections are retried for reads (GET, Resource
//!   Graph queries) and for writes that cannot apply twice (PATCH/PUT carrying
//!   `If-Match`: a repeat after success fails 412 instead of applying again).
//! - The wait is `Retry-After` when readable (capped by `max_retry_after_ms`: a longer
//!   wait is handed to the caller as an error carrying `retry_after_ms`), else capped
//!   exponential backoff with jitter.

use crate::clock::Clock;
use crate::error::{ArmError, ErrorKind};
use crate::http::{HttpRequest, HttpResponse, Method};
use std::cell::Cell;
use std::future::Future;

/// Whether a request may be sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// No side effect (GET, HEAD, a Resource Graph query).
    Read,
    /// A write guarded by `If-Match`: a repeat cannot apply twice.
    GuardedWrite,
    /// Any other write: never repeated after a server error or a dropped connection.
    Write,
}

impl Safety {
    /// Classify a request.
    ///
    /// ```
    /// use arm_client::{HttpRequest, Method, Safety};
    /// let mut r = HttpRequest::new(Method::Patch, "https://management.azure.com/x");
    /// assert_eq!(Safety::of(&r), Safety::Write);
    /// r.set_header("If-Match", "\"3\"");
    /// assert_eq!(Safety::of(&r), Safety::GuardedWrite);
    /// let q = HttpRequest::new(Method::Post,
    ///     "https://management.azure.com/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01");
    /// assert_eq!(Safety::of(&q), Safety::Read);
    /// ```
    pub fn of(req: &HttpRequest) -> Safety {
        match req.method {
            Method::Get => Safety::Read,
            Method::Post
                if crate::url::path_of(&req.url)
                    .to_ascii_lowercase()
                    .ends_with("/providers/microsoft.resourcegraph/resources") =>
            {
                Safety::Read
            }
            Method::Patch | Method::Put if req.header("if-match").is_some_and(|v| v != "*") => {
                Safety::GuardedWrite
            }
            _ => Safety::Write,
        }
    }
}

/// A wait before a retry, as told to [`RetryPolicy::run_observed`]'s callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryWait {
    /// The retry about to happen (1 = first retry).
    pub retry: u32,
    /// How long the client waits before it.
    pub wait_ms: u64,
    /// Status that caused it (`None` for a dropped connection).
    pub status: Option<u16>,
    /// `true` when the wait is the server's `Retry-After` (a countdown the user can trust).
    pub from_retry_after: bool,
}

/// Retry settings. The jitter generator is seeded, so a test can fix it.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff (before jitter).
    pub base_delay_ms: u64,
    /// Backoff cap (before jitter).
    pub max_delay_ms: u64,
    /// The longest `Retry-After` waited for inside a call.
    pub max_retry_after_ms: u64,
    rng: Cell<u64>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay_ms: 1_000,
            max_delay_ms: 30_000,
            max_retry_after_ms: 60_000,
            rng: Cell::new(0x9E37_79B9_7F4A_7C15),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Default::default()
        }
    }

    /// Seed the jitter generator.
    pub fn with_seed(self, seed: u64) -> Self {
        self.rng.set(seed | 1);
        self
    }

    fn next_rand(&self) -> u64 {
        // xorshift64*
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Backoff before retry number `retry` (0-based): `min(cap, base·2^retry)`,
    /// then jittered uniformly into its upper half.
    ///
    /// ```
    /// use arm_client::RetryPolicy;
    /// let p = RetryPolicy::default();
    /// for retry in 0..10 {
    ///     let d = p.backoff_ms(retry);
    ///     let full = (1_000u64 << retry.min(20)).min(30_000);
    ///     assert!(d >= full / 2 && d <= full);
    /// }
    /// ```
    pub fn backoff_ms(&self, retry: u32) -> u64 {
        let full = self
            .base_delay_ms
            .saturating_mul(1u64 << retry.min(30))
            .min(self.max_delay_ms);
        let half = full / 2;
        half + self.next_rand() % (full - half + 1)
    }

    /// The wait before retrying after `outcome` of attempt number `retry` (0-based),
    /// or `None` when it must not be retried.
    pub fn decide(
        &self,
        safety: Safety,
        retry: u32,
        outcome: &Result<HttpResponse, ArmError>,
    ) -> Option<u64> {
        if retry >= self.max_retries {
            return None;
        }
        let repeatable = safety != Safety::Write;
        match outcome {
            Ok(resp) => {
                let retryable = match resp.status {
                    429 => true,
                    500 | 502 | 503 | 504 => repeatable,
                    _ => false,
                };
                if !retryable {
                    return None;
                }
                match crate::error::retry_after_ms(resp) {
                    Some(ms) if ms > self.max_retry_after_ms => None,
                    Some(ms) => Some(ms),
                    None => Some(self.backoff_ms(retry)),
                }
            }
            Err(e) if e.kind == ErrorKind::Network && repeatable => Some(self.backoff_ms(retry)),
            Err(_) => None,
        }
    }

    /// Run `attempt` (given the attempt number) until it succeeds or may not be
    /// retried, sleeping on `clock` in between. Returns the last outcome and the number
    /// of attempts.
    pub async fn run<F, Fut>(
        &self,
        clock: &dyn Clock,
        safety: Safety,
        attempt: F,
    ) -> (Result<HttpResponse, ArmError>, u32)
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<HttpResponse, ArmError>>,
    {
        self.run_observed(clock, safety, attempt, &mut |_| {}).await
    }

    /// [`RetryPolicy::run`], telling `on_wait` before each wait (for a visible
    /// countdown).
    pub async fn run_observed<F, Fut>(
        &self,
        clock: &dyn Clock,
        safety: Safety,
        mut attempt: F,
        on_wait: &mut dyn FnMut(&RetryWait),
    ) -> (Result<HttpResponse, ArmError>, u32)
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<HttpResponse, ArmError>>,
    {
        let mut n = 0;
        loop {
            let outcome = attempt(n).await;
            match self.decide(safety, n, &outcome) {
                Some(wait) => {
                    on_wait(&RetryWait {
                        retry: n + 1,
                        wait_ms: wait,
                        status: outcome.as_ref().ok().map(|r| r.status),
                        from_retry_after: outcome
                            .as_ref()
                            .ok()
                            .and_then(crate::error::retry_after_ms)
                            == Some(wait),
                    });
                    clock.sleep(wait).await;
                    n += 1;
                }
                None => return (outcome, n + 1),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::VirtualClock;
    use crate::testing::block_on;
    use std::cell::RefCell;

    fn resp(status: u16, retry_after: Option<&str>) -> Result<HttpResponse, ArmError> {
        let mut r = HttpResponse {
            status,
            ..Default::default()
        };
        if let Some(v) = retry_after {
            r.headers.push(("Retry-After".into(), v.into()));
        }
        Ok(r)
    }

    fn net() -> Result<HttpResponse, ArmError> {
        Err(ArmError::new(ErrorKind::Network, "reset"))
    }

    /// Run the policy over a scripted sequence of outcomes.
    fn script(
        p: &RetryPolicy,
        safety: Safety,
        outcomes: Vec<Result<HttpResponse, ArmError>>,
    ) -> (Option<u16>, u32, Vec<u64>) {
        let clock = VirtualClock::new(0);
        let q = RefCell::new(outcomes.into_iter());
        let (out, n) = block_on(p.run(&clock, safety, |_| {
            let next = q.borrow_mut().next().expect("script exhausted");
            async move { next }
        }));
        (out.ok().map(|r| r.status), n, clock.sleeps())
    }

    #[test]
    fn throttling_honours_retry_after_for_reads_and_writes() {
        let p = RetryPolicy::default();
        for safety in [Safety::Read, Safety::GuardedWrite, Safety::Write] {
            let (st, n, sleeps) = script(
                &p,
                safety,
                vec![resp(429, Some("3")), resp(429, Some("1")), resp(200, None)],
            );
            assert_eq!((st, n), (Some(200), 3));
            assert_eq!(sleeps, vec![3_000, 1_000]);
        }
    }

    #[test]
    fn server_errors_are_retried_only_when_repeatable() {
        let p = RetryPolicy::default();
        for code in [500, 502, 503, 504] {
            let (st, n, _) = script(&p, Safety::Read, vec![resp(code, None), resp(200, None)]);
            assert_eq!((st, n), (Some(200), 2), "{code}");
            let (st, n, _) = script(
                &p,
                Safety::GuardedWrite,
                vec![resp(code, None), resp(200, None)],
            );
            assert_eq!((st, n), (Some(200), 2), "{code}");
            let (st, n, sleeps) = script(&p, Safety::Write, vec![resp(code, None)]);
            assert_eq!((st, n, sleeps.len()), (Some(code), 1, 0), "{code}");
        }
        for code in [400, 401, 403, 404, 409, 412, 501] {
            let (st, n, _) = script(&p, Safety::Read, vec![resp(code, None)]);
            assert_eq!((st, n), (Some(code), 1));
        }
    }

    #[test]
    fn dropped_connections_follow_the_same_safety_rule() {
        let p = RetryPolicy::default();
        let (st, n, _) = script(&p, Safety::Read, vec![net(), net(), resp(200, None)]);
        assert_eq!((st, n), (Some(200), 3));
        let (st, n, _) = script(&p, Safety::Write, vec![net()]);
        assert_eq!((st, n), (None, 1));
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered_without_retry_after() {
        let p = RetryPolicy {
            max_retries: 8,
            ..Default::default()
        }
        .with_seed(42);
        let mut outcomes: Vec<_> = (0..8).map(|_| resp(503, None)).collect();
        outcomes.push(resp(200, None));
        let (st, n, sleeps) = script(&p, Safety::Read, outcomes);
        assert_eq!((st, n), (Some(200), 9));
        for (i, s) in sleeps.iter().enumerate() {
            let full = (1_000u64 << i).min(30_000);
            assert!(*s >= full / 2 && *s <= full, "retry {i}: {s}");
        }
        // jitter: two seeds give different waits
        let q = RetryPolicy::default().with_seed(7);
        let a: Vec<u64> = (0..5).map(|i| p.backoff_ms(i)).collect();
        let b: Vec<u64> = (0..5).map(|i| q.backoff_ms(i)).collect();
        assert_ne!(a, b);
    }

    #[test]
    fn gives_up_after_max_retries_and_on_too_long_retry_after() {
        let p = RetryPolicy {
            max_retries: 2,
            ..Default::default()
        };
        let (st, n, sleeps) = script(
            &p,
            Safety::Read,
            vec![resp(503, None), resp(503, None), resp(503, None)],
        );
        assert_eq!((st, n, sleeps.len()), (Some(503), 3, 2));
        let (st, n, _) = script(&p, Safety::Read, vec![resp(429, Some("3600"))]);
        assert_eq!((st, n), (Some(429), 1));
        let (st, n, _) = script(
            &RetryPolicy::none(),
            Safety::Read,
            vec![resp(429, Some("1"))],
        );
        assert_eq!((st, n), (Some(429), 1));
    }
}
