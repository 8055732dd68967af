//! Pacing under ARM's quotas: token buckets per subscription and kind of request, mirroring ARM's own (per the
//! throttling doc: writes 200 refilled 10/s, reads 250 refilled 25/s, deletes 200 refilled 10/s), adapted to what
//! the answers say: `x-ms-ratelimit-remaining-subscription-*` lowers a bucket to the count left (other clients of
//! the same caller spend it too), and a 429 pauses that subscription's bucket until its `Retry-After`.

use super::subscription_of;
use crate::clock::Clock;
use crate::http::{HttpRequest, HttpResponse, LocalBoxFuture, Transport, TransportError};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A bucket's capacity and refill rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketSpec {
    /// Tokens when full (the burst).
    pub burst: f64,
    /// Tokens added per second.
    pub per_s: f64,
}

impl BucketSpec {
    /// ARM's reads per subscription and caller.
    pub const ARM_READS: BucketSpec = BucketSpec {
        burst: 250.0,
        per_s: 25.0,
    };
    /// ARM's writes per subscription and caller.
    pub const ARM_WRITES: BucketSpec = BucketSpec {
        burst: 200.0,
        per_s: 10.0,
    };
    /// ARM's deletes per subscription and caller.
    pub const ARM_DELETES: BucketSpec = BucketSpec {
        burst: 200.0,
        per_s: 10.0,
    };

    /// The shortest time (seconds) in which `n` requests fit a full bucket.
    pub fn min_seconds(&self, n: u64) -> f64 {
        ((n as f64 - self.burst) / self.per_s).max(0.0)
    }
}

/// One token bucket on a clock in milliseconds.
///
/// ```
/// use arm_client::bulk::{BucketSpec, TokenBucket};
/// let mut b = TokenBucket::new(BucketSpec { burst: 2.0, per_s: 10.0 }, 0);
/// assert!(b.take(0) && b.take(0));
/// assert_eq!(b.wait_ms(0), 100); // one token every 100 ms
/// b.pause_until(0, 1_000);       // a 429 with Retry-After: 1
/// assert_eq!(b.wait_ms(500), 500);
/// assert!(b.take(1_000));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TokenBucket {
    spec: BucketSpec,
    tokens: f64,
    at_ms: u64,
    paused_until: u64,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(spec: BucketSpec, now: u64) -> Self {
        TokenBucket {
            spec,
            tokens: spec.burst,
            at_ms: now,
            paused_until: 0,
        }
    }
    fn refill(&mut self, now: u64) {
        if now > self.at_ms {
            let dt = (now - self.at_ms) as f64 / 1000.0;
            self.tokens = (self.tokens + dt * self.spec.per_s).min(self.spec.burst);
            self.at_ms = now;
        }
    }
    /// Tokens now.
    pub fn tokens(&mut self, now: u64) -> f64 {
        self.refill(now);
        self.tokens
    }
    /// Milliseconds until a token can be taken (0: now).
    pub fn wait_ms(&mut self, now: u64) -> u64 {
        self.refill(now);
        if now < self.paused_until {
            return self.paused_until - now;
        }
        if self.tokens >= 1.0 {
            0
        } else {
            (((1.0 - self.tokens) / self.spec.per_s) * 1000.0)
                .ceil()
                .max(1.0) as u64
        }
    }
    /// Takes a token if one is there.
    pub fn take(&mut self, now: u64) -> bool {
        if self.wait_ms(now) == 0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
    /// The server says `remaining` are left: never assume more.
    pub fn observe_remaining(&mut self, now: u64, remaining: u64) {
        self.refill(now);
        self.tokens = self.tokens.min(remaining as f64);
    }
    /// A 429 at `now`: empty, and nothing is taken before `until`.
    pub fn pause_until(&mut self, now: u64, until: u64) {
        self.refill(now);
        self.tokens = self.tokens.min(0.0);
        self.paused_until = self.paused_until.max(until);
    }
}

/// The kind of request as ARM counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    Read,
    Write,
    Delete,
}

impl Kind {
    /// From an HTTP method.
    pub fn of(method: &str) -> Kind {
        match method.to_ascii_uppercase().as_str() {
            "GET" | "HEAD" => Kind::Read,
            "DELETE" => Kind::Delete,
            _ => Kind::Write,
        }
    }
    fn header(self) -> &'static str {
        match self {
            Kind::Read => "x-ms-ratelimit-remaining-subscription-reads",
            Kind::Write => "x-ms-ratelimit-remaining-subscription-writes",
            Kind::Delete => "x-ms-ratelimit-remaining-subscription-deletes",
        }
    }
}

/// Requests of one subscription.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubStats {
    /// Reads sent (throttled ones included).
    pub reads: u64,
    /// Writes and deletes sent (throttled ones included).
    pub writes: u64,
    /// Reads answered 429.
    pub reads_throttled: u64,
    /// Writes and deletes answered 429.
    pub writes_throttled: u64,
}

/// What the pacer saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PacerStats {
    /// Per subscription (lower case).
    pub subscriptions: BTreeMap<String, SubStats>,
    /// Requests that waited for a token.
    pub throttle_waits: u64,
    /// Their total wait.
    pub waited_ms: u64,
}

impl PacerStats {
    /// 429 answers in all.
    pub fn throttled(&self) -> u64 {
        self.subscriptions
            .values()
            .map(|s| s.reads_throttled + s.writes_throttled)
            .sum()
    }
    /// Writes answered 429.
    pub fn writes_throttled(&self) -> u64 {
        self.subscriptions
            .values()
            .map(|s| s.writes_throttled)
            .sum()
    }
    /// Writes sent.
    pub fn writes(&self) -> u64 {
        self.subscriptions.values().map(|s| s.writes).sum()
    }
}

/// Token buckets per (subscription, kind), shared by every request of a batch.
pub struct Pacer {
    clock: Rc<dyn Clock>,
    reads: BucketSpec,
    writes: BucketSpec,
    deletes: BucketSpec,
    buckets: RefCell<BTreeMap<(String, Kind), TokenBucket>>,
    stats: RefCell<PacerStats>,
}

impl Pacer {
    /// ARM's buckets on `clock`.
    pub fn arm(clock: Rc<dyn Clock>) -> Self {
        Self::new(
            clock,
            BucketSpec::ARM_READS,
            BucketSpec::ARM_WRITES,
            BucketSpec::ARM_DELETES,
        )
    }
    /// Buckets of these sizes.
    pub fn new(
        clock: Rc<dyn Clock>,
        reads: BucketSpec,
        writes: BucketSpec,
        deletes: BucketSpec,
    ) -> Self {
        Pacer {
            clock,
            reads,
            writes,
            deletes,
            buckets: RefCell::new(BTreeMap::new()),
            stats: RefCell::new(PacerStats::default()),
        }
    }

    fn with_bucket<T>(&self, sub: &str, kind: Kind, f: impl FnOnce(&mut TokenBucket) -> T) -> T {
        let now = self.clock.now_ms();
        let spec = match kind {
            Kind::Read => self.reads,
            Kind::Write => self.writes,
            Kind::Delete => self.deletes,
        };
        let mut b = self.buckets.borrow_mut();
        let bucket = b
            .entry((sub.to_string(), kind))
            .or_insert_with(|| TokenBucket::new(spec, now));
        f(bucket)
    }

    /// Waits for a token of `kind` in `sub`, then takes it.
    pub async fn acquire(&self, sub: &str, kind: Kind) {
        let mut waited = false;
        loop {
            let now = self.clock.now_ms();
            let wait =
                self.with_bucket(sub, kind, |b| if b.take(now) { 0 } else { b.wait_ms(now) });
            if wait == 0 {
                break;
            }
            if !waited {
                self.stats.borrow_mut().throttle_waits += 1;
                waited = true;
            }
            self.stats.borrow_mut().waited_ms += wait;
            self.clock.sleep(wait).await;
        }
        let mut st = self.stats.borrow_mut();
        let s = st.subscriptions.entry(sub.to_string()).or_default();
        match kind {
            Kind::Read => s.reads += 1,
            _ => s.writes += 1,
        }
    }

    /// Reads an answer: the remaining count, and a 429's `Retry-After` (pauses the bucket; 1 s when absent).
    pub fn observe(&self, sub: &str, kind: Kind, resp: &HttpResponse) {
        let now = self.clock.now_ms();
        if let Some(n) = resp
            .header(kind.header())
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            self.with_bucket(sub, kind, |b| b.observe_remaining(now, n));
        }
        if resp.status == 429 {
            let wait = crate::error::retry_after_ms(resp).unwrap_or(1_000);
            self.with_bucket(sub, kind, |b| b.pause_until(now, now + wait));
            let mut st = self.stats.borrow_mut();
            let s = st.subscriptions.entry(sub.to_string()).or_default();
            match kind {
                Kind::Read => s.reads_throttled += 1,
                _ => s.writes_throttled += 1,
            }
        }
    }

    /// What was sent and answered so far.
    pub fn stats(&self) -> PacerStats {
        self.stats.borrow().clone()
    }
}

/// A transport that takes a token from the [`Pacer`] before each request and reads each answer's rate-limit
/// headers.
pub struct PacedTransport {
    inner: Rc<dyn Transport>,
    pacer: Rc<Pacer>,
}

impl PacedTransport {
    pub fn new(inner: Rc<dyn Transport>, pacer: Rc<Pacer>) -> Self {
        PacedTransport { inner, pacer }
    }
}

/// The subscription of an absolute URL's path (empty for tenant-level requests).
fn sub_of_url(url: &str) -> String {
    let path = url
        .find("://")
        .map(|i| &url[i + 3..])
        .and_then(|rest| rest.find('/').map(|j| &rest[j..]))
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or("");
    subscription_of(path)
}

impl Transport for PacedTransport {
    fn send(&self, req: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let sub = sub_of_url(&req.url);
            let kind = Kind::of(req.method.as_str());
            self.pacer.acquire(&sub, kind).await;
            let resp = self.inner.send(req).await?;
            self.pacer.observe(&sub, kind, &resp);
            Ok(resp)
        })
    }
}
