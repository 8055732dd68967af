//! Bulk changes: one change across many resources, paced under ARM's quotas, resumable, reported.
//!
//! - [`Scheduler`] runs N items (resource ids) through a per-item [`ItemRunner`] (which re-reads, re-plans and
//!   writes that one item just before its write) with a concurrency bound; a 412 from the runner re-plans the item
//!   (up to [`BulkOptions::max_replans`] times); live per-item status and [`Counters`]; pause, resume and cancel
//!   through a [`BatchHandle`] (after cancel nothing new starts; in-flight items finish and are recorded).
//! - [`PacedTransport`] paces every request through a [`Pacer`]: token buckets per subscription mirroring ARM's
//!   (writes 200 refilled 10/s, reads 250 refilled 25/s), lowered to what `x-ms-ratelimit-remaining-subscription-*`
//!   says is left, and paused until `Retry-After` after a 429.
//! - [`BatchState`] is the batch as JSON (item ids, per-item outcome, never a token): resuming skips the items
//!   already done and runs the others again, each from a fresh read. [`BatchState::report_csv`] /
//!   [`BatchState::report_json`]: item, outcome, HTTP status, correlation id, time.
//! - [`EventClock`]: a discrete-event virtual clock (sleeps are timers; [`EventClock::run`] jumps to the next
//!   one when every task waits), so concurrent schedules are deterministic and fast in tests.
//! - [`IdentityRunner`]: the change as a runner, on [`crate::flow`]: a fresh GET, identity-core's lossless plan,
//!   [`crate::flow::apply_change`] (PATCH or the legacy extension's DELETE with `If-Match`, the operation followed,
//!   a 412 re-planned), and for a [`BulkOp`] that enables system-assigned with a grant, [`crate::flow::grant_role`]
//!   for the principal read back. [`grant_before_batch`]: the one grant of an assigned user-assigned identity,
//!   made before the batch starts.
//! - [`BulkOp`] (identity-core's [`identity_core::bulk`]): the one bulk operation type (serde), and its review.

mod clock;
mod pacer;
#[cfg(not(target_arch = "wasm32"))]
mod realtime;
mod runner;
mod state;

#[cfg(feature = "sim")]
pub mod bench;

pub use clock::EventClock;
pub use identity_core::bulk::{BulkOp, GrantScope, RoleGrant};
pub use pacer::{BucketSpec, Kind, PacedTransport, Pacer, PacerStats, SubStats, TokenBucket};
#[cfg(not(target_arch = "wasm32"))]
pub use realtime::RealClock;
pub use runner::{IdentityRunner, class_name, grant_before_batch};
pub use state::{BatchState, ItemRecord, ItemStatus};

use crate::clock::Clock;
use crate::http::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::task::{Poll, Waker};

/// What a runner reports for one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// The write was acknowledged (and its operation succeeded).
    Applied,
    /// Nothing to change.
    NoOp,
    /// The plan refused the change (the reason in `message`).
    Refused,
    /// 412: the resource changed since it was read; the scheduler re-plans the item.
    Conflict,
    /// The session is read-only ([`crate::WriteAccess`] off): nothing was sent. The item stays pending and the
    /// batch pauses (resume it once writes are allowed again).
    ReadOnly,
    /// Anything else.
    Failed,
}

/// One run of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemResult {
    pub outcome: Outcome,
    /// HTTP status of the write (or of the failing request).
    pub status: Option<u16>,
    /// `x-ms-correlation-request-id` of the write (or of the failing request).
    pub correlation_id: Option<String>,
    /// No-op or refusal reason, error message.
    pub message: Option<String>,
    /// A failure's classification ([`crate::Class`]'s name: `Throttled`, `Forbidden`, …).
    pub class: Option<String>,
    /// What to do about a failure ([`crate::ArmError::hint`]).
    pub hint: Option<String>,
}

impl ItemResult {
    /// A result with only an outcome.
    pub fn of(outcome: Outcome) -> Self {
        ItemResult {
            outcome,
            status: None,
            correlation_id: None,
            message: None,
            class: None,
            hint: None,
        }
    }
}

/// What the runner is told about this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemCtx {
    /// 1 for the first run of this item in this scheduler, 2 after one 412 …
    pub attempt: u32,
    /// The item was started before (an earlier session, a 412, a pause for read-only): the runner must read it
    /// again before any write — which every runner does anyway, as it plans from a fresh read.
    pub rerun: bool,
}

/// Runs one item: read it, plan, write (or not), report. Implementations must read the resource before writing
/// on every run.
pub trait ItemRunner {
    fn run<'a>(&'a self, item: String, ctx: ItemCtx) -> LocalBoxFuture<'a, ItemResult>;
}

/// Scheduler settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkOptions {
    /// Items in flight at most.
    pub concurrency: usize,
    /// Re-plans after a 412 before the item is reported failed.
    pub max_replans: u32,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            concurrency: 16,
            max_replans: 3,
        }
    }
}

/// Live counters of a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    pub pending: usize,
    pub running: usize,
    pub applied: usize,
    pub no_op: usize,
    pub refused: usize,
    pub failed: usize,
    /// 412s that led to a re-plan.
    pub replans: u32,
}

#[derive(Default)]
struct Control {
    paused: bool,
    cancelled: bool,
    waker: Option<Waker>,
}

/// Shared view of a running batch: its state and counters, and pause / resume / cancel. Clones share the batch.
#[derive(Clone)]
pub struct BatchHandle {
    state: Rc<RefCell<BatchState>>,
    control: Rc<RefCell<Control>>,
    replans: Rc<RefCell<u32>>,
}

impl BatchHandle {
    /// No new item starts until [`BatchHandle::resume`]; items in flight finish.
    pub fn pause(&self) {
        self.control.borrow_mut().paused = true;
    }
    /// Start items again.
    pub fn resume(&self) {
        let w = {
            let mut c = self.control.borrow_mut();
            c.paused = false;
            c.waker.take()
        };
        if let Some(w) = w {
            w.wake();
        }
    }
    /// Nothing new is sent; in-flight items finish and are recorded; the rest stay pending.
    pub fn cancel(&self) {
        let w = {
            let mut c = self.control.borrow_mut();
            c.cancelled = true;
            c.waker.take()
        };
        if let Some(w) = w {
            w.wake();
        }
    }
    pub fn is_paused(&self) -> bool {
        self.control.borrow().paused
    }
    pub fn is_cancelled(&self) -> bool {
        self.control.borrow().cancelled
    }
    /// A copy of the batch state (serialize it to keep the batch across a reload).
    pub fn snapshot(&self) -> BatchState {
        self.state.borrow().clone()
    }
    /// The counters now.
    pub fn counters(&self) -> Counters {
        let mut c = self.state.borrow().counters();
        c.replans = *self.replans.borrow();
        c
    }
}

/// Runs a batch. See the [module](self).
pub struct Scheduler<R: ItemRunner> {
    runner: R,
    /// Each item's subscription (lower case), by index.
    subs: Vec<String>,
    clock: Rc<dyn Clock>,
    opts: BulkOptions,
    handle: BatchHandle,
    on_item: Option<OnItem>,
}

type OnItem = Box<dyn Fn(&ItemRecord)>;

/// The subscription of a resource id (lower case; empty when there is none).
pub use identity_core::bulk::subscription_of;

impl<R: ItemRunner> Scheduler<R> {
    /// A new batch over `items` (duplicates, compared ignoring case, are dropped).
    pub fn new(items: &[String], runner: R, clock: Rc<dyn Clock>, opts: BulkOptions) -> Self {
        Self::resume(BatchState::new(items), runner, clock, opts)
    }

    /// A batch from a saved state: finished items are skipped; unfinished ones run again from a fresh read.
    pub fn resume(
        mut state: BatchState,
        runner: R,
        clock: Rc<dyn Clock>,
        opts: BulkOptions,
    ) -> Self {
        for it in &mut state.items {
            if it.status == ItemStatus::Running {
                it.status = ItemStatus::Pending;
                it.interrupted = true;
            }
        }
        let subs = state.items.iter().map(|i| subscription_of(&i.id)).collect();
        Scheduler {
            runner,
            subs,
            clock,
            opts,
            handle: BatchHandle {
                state: Rc::new(RefCell::new(state)),
                control: Rc::new(RefCell::new(Control::default())),
                replans: Rc::new(RefCell::new(0)),
            },
            on_item: None,
        }
    }

    /// Called on every change of an item's status (live per-item status).
    pub fn on_item(mut self, f: impl Fn(&ItemRecord) + 'static) -> Self {
        self.on_item = Some(Box::new(f));
        self
    }

    /// The batch's shared handle (pause, resume, cancel, snapshot, counters).
    pub fn handle(&self) -> BatchHandle {
        self.handle.clone()
    }

    fn notify(&self, i: usize) {
        if let Some(f) = &self.on_item {
            let rec = self.handle.state.borrow().items[i].clone();
            f(&rec);
        }
    }

    /// The next pending item, from the subscription with the fewest items in flight (so every subscription's
    /// quota is used), in list order within it.
    fn next_pending(&self, inflight: &[usize]) -> Option<usize> {
        let st = self.handle.state.borrow();
        let mut running: std::collections::BTreeMap<&str, usize> = Default::default();
        for &i in inflight {
            *running.entry(self.subs[i].as_str()).or_default() += 1;
        }
        let mut best: Option<(usize, usize)> = None;
        let mut seen = std::collections::BTreeSet::new();
        for (i, it) in st.items.iter().enumerate() {
            if it.status != ItemStatus::Pending {
                continue;
            }
            let sub = self.subs[i].as_str();
            if !seen.insert(sub) {
                continue;
            }
            let n = running.get(sub).copied().unwrap_or(0);
            if best.is_none_or(|(_, b)| n < b) {
                best = Some((i, n));
            }
        }
        best.map(|(i, _)| i)
    }

    fn finish(&self, i: usize, res: ItemResult) {
        let now = self.clock.now_ms();
        {
            let mut st = self.handle.state.borrow_mut();
            let it = &mut st.items[i];
            it.http_status = res.status;
            it.correlation_id = res.correlation_id.clone();
            it.message = res.message.clone();
            it.class = res.class.clone();
            it.hint = res.hint.clone();
            it.time_ms = Some(now);
            it.status = match res.outcome {
                Outcome::Applied => ItemStatus::Applied,
                Outcome::NoOp => ItemStatus::NoOp,
                Outcome::Refused => ItemStatus::Refused,
                Outcome::Failed => ItemStatus::Failed,
                Outcome::Conflict if it.replans < self.opts.max_replans => {
                    it.replans += 1;
                    *self.handle.replans.borrow_mut() += 1;
                    ItemStatus::Pending
                }
                Outcome::ReadOnly => {
                    self.handle.control.borrow_mut().paused = true;
                    ItemStatus::Pending
                }
                Outcome::Conflict => {
                    it.message = Some(format!(
                        "The resource kept changing while this change was being applied (412 after {} re-plans). Open it, check its identities and try again.",
                        it.replans
                    ));
                    ItemStatus::Failed
                }
            };
        }
        self.notify(i);
    }

    /// Runs the batch until every item is done, or until cancelled and the in-flight items are done.
    pub async fn run(&self) -> Counters {
        let mut inflight: Vec<(usize, LocalBoxFuture<'_, ItemResult>)> = Vec::new();
        let conc = self.opts.concurrency.max(1);
        std::future::poll_fn(|cx| {
            loop {
                let stopped = || {
                    let c = self.handle.control.borrow();
                    c.paused || c.cancelled
                };
                // checked before each start: a pause or cancel from a status callback stops the very next one
                while !stopped() && inflight.len() < conc {
                    let running: Vec<usize> = inflight.iter().map(|(i, _)| *i).collect();
                    let Some(i) = self.next_pending(&running) else {
                        break;
                    };
                    let (id, ctx) = {
                        let mut st = self.handle.state.borrow_mut();
                        let it = &mut st.items[i];
                        it.status = ItemStatus::Running;
                        it.attempts += 1;
                        let ctx = ItemCtx {
                            attempt: it.replans + 1,
                            rerun: it.interrupted || it.replans > 0 || it.attempts > 1,
                        };
                        (it.id.clone(), ctx)
                    };
                    self.notify(i);
                    inflight.push((i, self.runner.run(id, ctx)));
                }
                let mut progressed = false;
                let mut k = 0;
                while k < inflight.len() {
                    match inflight[k].1.as_mut().poll(cx) {
                        Poll::Ready(res) => {
                            let (i, _) = inflight.swap_remove(k);
                            self.finish(i, res);
                            progressed = true;
                        }
                        Poll::Pending => k += 1,
                    }
                }
                if inflight.is_empty() {
                    let c = self.handle.control.borrow().cancelled;
                    let any = self
                        .handle
                        .state
                        .borrow()
                        .items
                        .iter()
                        .any(|i| i.status == ItemStatus::Pending);
                    if c || !any {
                        return Poll::Ready(self.handle.counters());
                    }
                    if self.handle.control.borrow().paused {
                        self.handle.control.borrow_mut().waker = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                    continue;
                }
                if !progressed {
                    if stopped() {
                        self.handle.control.borrow_mut().waker = Some(cx.waker().clone());
                    }
                    return Poll::Pending;
                }
            }
        })
        .await
    }
}

/// Runs `f` for each boxed item future (helper for runners written as closures).
pub struct FnRunner<F>(pub F);

impl<F, Fut> ItemRunner for FnRunner<F>
where
    F: Fn(String, ItemCtx) -> Fut,
    Fut: Future<Output = ItemResult> + 'static,
{
    fn run<'a>(&'a self, item: String, ctx: ItemCtx) -> LocalBoxFuture<'a, ItemResult> {
        Box::pin((self.0)(item, ctx))
    }
}
