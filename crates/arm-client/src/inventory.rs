//! The fleet inventory loader: identity-core's Resource Graph queries ([`identity_core::inventory::queries`]),
//! one per resource shape (scale sets + VMs, user-assigned identities, role assignments, then the role
//! definitions those assignments use), `$top` 1000 with `$skipToken` paging, subscriptions in batches of at most
//! 1,000 (Resource Graph's documented limit for Azure CLI / PowerShell; see `SUBSCRIPTION_BATCH`).
//!
//! Quota: every answer's `x-ms-user-quota-remaining` / `x-ms-user-quota-resets-after` is read; when the
//! remaining quota reaches 0 the loader waits for the reset before its next query, and on a 429 it waits
//! `Retry-After` (5 s when absent) and asks again — each wait reported as a [`LoadEvent::Waiting`]. When no
//! answer carries readable quota headers (a browser under strict CORS sees neither them nor `Retry-After`), the
//! loader paces itself to Resource Graph's documented quota ([`LoadOptions::assumed_quota`]: 15 queries per
//! 5 s): the 16th query of a window waits for it to pass instead of drawing a 429 (and its retries). (With the
//! client's default retry policy a 429 is first retried inside the client, reported through
//! `ArmClientBuilder::on_retry`; give the loader a client with `RetryPolicy::none()` to see every wait here.)
//!
//! Order: scale sets + VMs and identities first (what the list needs; 14 queries for issue 16's 12,500-row
//! tenant, within one quota window), the first page of each (shape, batch) before the rest so their totals are
//! known early; then role assignments, then the role definitions they use. [`LoadEvent::ShapeDone`] says when a
//! shape is complete, and [`load_inventory_with`] hands over the list's rows as soon as they are all in, so a
//! page can show the full list while the role assignments are still read (for issue 16's tenant they are the
//! 15th to 18th queries: the last ones wait for the next quota window). A cancel flag is checked before every
//! query and during waits. The result says whether it is complete; a cancelled, failed or truncated load is
//! [`Completeness::Partial`], never shown as complete.

use crate::client::ArmClient;
use crate::error::{ArmError, ErrorKind, retry_after_ms};
use crate::http::HttpResponse;
use crate::ops::resource_graph;
use identity_core::inventory::queries::{
    COMPUTE, IDENTITIES, PAGE_SIZE, ROLE_ASSIGNMENTS, batches, identity_row, identity_users,
    role_assignments_of, role_definitions,
};
use identity_core::inventory::{Inventory, RoleAssignmentRow};
use serde_json::Value;
use std::cell::Cell;
use std::collections::HashSet;
use std::rc::Rc;

/// A resource shape: one query, its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// Scale sets and VMs (and VM legacy extension rows).
    Compute,
    /// User-assigned identities.
    Identities,
    /// Role assignments.
    RoleAssignments,
    /// Role definitions of the roles assigned.
    RoleDefinitions,
}

impl Shape {
    /// Shown in progress text.
    pub fn label(self) -> &'static str {
        match self {
            Shape::Compute => "scale sets and VMs",
            Shape::Identities => "identities",
            Shape::RoleAssignments => "role assignments",
            Shape::RoleDefinitions => "role definitions",
        }
    }
}

/// Why the loader waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// `x-ms-user-quota-remaining` reached 0: waiting for `x-ms-user-quota-resets-after`.
    Quota,
    /// 429: waiting `Retry-After`.
    Throttled,
}

/// Progress, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadEvent {
    /// A page arrived.
    Page {
        shape: Shape,
        /// Rows loaded so far (all shapes).
        loaded: u64,
        /// Rows known to exist so far (`totalRecords` of every query started; grows until every shape's first
        /// page is in).
        total: u64,
        /// Queries sent so far.
        requests: u32,
    },
    /// Waiting before the next query.
    Waiting { ms: u64, reason: WaitReason },
    /// Every row of this shape is in (the list can show as full once `Compute` and `Identities` are).
    ShapeDone(Shape),
}

/// Why a load is partial.
#[derive(Debug, Clone, PartialEq)]
pub enum Partial {
    /// The user cancelled.
    Cancelled,
    /// A query failed (after the client's retries, or after [`LoadOptions::max_throttled`] 429s in a row).
    Failed(ArmError),
    /// Resource Graph said `resultTruncated` (no skip token to go on with) for this shape.
    Truncated(Shape),
    /// More subscriptions than Resource Graph answers for (`x-ms-tenant-subscription-limit-hit`).
    SubscriptionLimitHit,
    /// A shape's rows do not add up to its `totalRecords` (the data changed while paging); reload.
    Changed(Shape),
}

/// Complete, or partial with the reason(s).
#[derive(Debug, Clone, PartialEq)]
pub enum Completeness {
    Complete,
    Partial(Vec<Partial>),
}

/// Loader settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Rows per page (1–1000).
    pub page_size: u32,
    /// Subscriptions per query (≤ 1000).
    pub batch_size: usize,
    /// 429s in a row on one query before giving up.
    pub max_throttled: u32,
    /// `(queries, window ms)`: the quota to pace to while no answer carries readable
    /// `x-ms-user-quota-*` headers (Resource Graph's documented per-user quota: 15 per 5 s); `(0, _)`: no pacing.
    pub assumed_quota: (u32, u64),
}

/// Resource Graph's documented per-user quota: queries per window, and the window in ms.
pub const DOCUMENTED_QUOTA: (u32, u64) = (15, 5_000);

/// Added to a paced wait: the server's window starts when the first query arrives, a little after it was sent.
const PACE_MARGIN_MS: u64 = 250;

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            page_size: PAGE_SIZE,
            batch_size: identity_core::inventory::queries::SUBSCRIPTION_BATCH,
            max_throttled: 6,
            assumed_quota: DOCUMENTED_QUOTA,
        }
    }
}

/// A shared cancel flag (clone it into the UI's cancel button).
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Rc<Cell<bool>>);

impl CancelFlag {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.set(true);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.get()
    }
}

/// What a load produced: the raw rows per shape (for [`Inventory::from_rows`]), counts and completeness.
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryLoad {
    pub compute: Vec<Value>,
    pub identities: Vec<Value>,
    pub role_assignments: Vec<Value>,
    pub role_definitions: Vec<Value>,
    /// Queries sent (429s included).
    pub requests: u32,
    /// Rows loaded / rows Resource Graph reported (`totalRecords` summed over the queries started).
    pub loaded: u64,
    pub total: u64,
    /// Time spent waiting for the quota or a 429.
    pub waited_ms: u64,
    pub completeness: Completeness,
}

impl InventoryLoad {
    /// Every query ran to its last page, and nothing was cut.
    pub fn is_complete(&self) -> bool {
        self.completeness == Completeness::Complete
    }

    /// The model (subscription names from `subscriptions`: `(id, display name)`).
    pub fn inventory(&self, subscriptions: &[(String, String)]) -> Inventory {
        Inventory::from_rows(
            subscriptions,
            &self.compute,
            &self.identities,
            &self.role_assignments,
            &self.role_definitions,
        )
    }

    fn rows_mut(&mut self, s: Shape) -> &mut Vec<Value> {
        match s {
            Shape::Compute => &mut self.compute,
            Shape::Identities => &mut self.identities,
            Shape::RoleAssignments => &mut self.role_assignments,
            Shape::RoleDefinitions => &mut self.role_definitions,
        }
    }
}

struct Job {
    shape: Shape,
    query: String,
    subs: Vec<String>,
    token: Option<String>,
    started: bool,
    done: bool,
    total: u64,
    got: u64,
}

/// `hh:mm:ss` (or seconds) → ms.
fn parse_resets_after(v: &str) -> Option<u64> {
    let parts: Vec<&str> = v.trim().split(':').collect();
    let secs = match parts.as_slice() {
        [h, m, s] => {
            h.parse::<u64>().ok()? * 3600
                + m.parse::<u64>().ok()? * 60
                + s.parse::<f64>().ok()? as u64
        }
        [s] => s.parse::<f64>().ok()? as u64,
        _ => return None,
    };
    Some(secs * 1000)
}

struct Loader<'a> {
    client: &'a ArmClient,
    cancel: &'a CancelFlag,
    opts: LoadOptions,
    out: InventoryLoad,
    /// Quota left as last reported, and when it resets (clock ms).
    quota: Option<(u64, u64)>,
    seen: std::collections::HashMap<Shape, HashSet<String>>,
    /// Reasons that leave the load partial without stopping it (truncated, changed, subscription limit).
    notes: Vec<Partial>,
    /// Whether any answer carried a readable `x-ms-user-quota-remaining` (else: pace to `assumed_quota`).
    quota_headers: bool,
    /// When the last `assumed_quota.0` queries were sent (clock ms), oldest first.
    sent: std::collections::VecDeque<u64>,
}

impl Loader<'_> {
    /// Sleeps `ms` in slices, stopping early on cancel. Returns false when cancelled.
    async fn wait(&mut self, ms: u64, reason: WaitReason, on: &mut dyn FnMut(&LoadEvent)) -> bool {
        on(&LoadEvent::Waiting { ms, reason });
        let client = self.client;
        let clock = client.clock();
        let mut left = ms;
        while left > 0 {
            if self.cancel.is_cancelled() {
                return false;
            }
            let step = left.min(250);
            clock.sleep(step).await;
            self.out.waited_ms += step;
            left -= step;
        }
        !self.cancel.is_cancelled()
    }

    /// Runs one query page of `job`; Err(partial reason) stops the load.
    async fn page(&mut self, job: &mut Job, on: &mut dyn FnMut(&LoadEvent)) -> Result<(), Partial> {
        let mut throttled = 0;
        loop {
            if self.cancel.is_cancelled() {
                return Err(Partial::Cancelled);
            }
            // the quota is spent: wait for its reset
            if let Some((0, reset_at)) = self.quota {
                let now = self.client.clock().now_ms();
                if reset_at > now && !self.wait(reset_at - now, WaitReason::Quota, on).await {
                    return Err(Partial::Cancelled);
                }
                self.quota = None;
            }
            // no readable quota headers: at most `assumed_quota` queries per window, by the send times
            let (per_window, window_ms) = self.opts.assumed_quota;
            if !self.quota_headers && per_window > 0 {
                let n = per_window as usize;
                if self.sent.len() >= n {
                    let ready = self.sent[self.sent.len() - n] + window_ms + PACE_MARGIN_MS;
                    let now = self.client.clock().now_ms();
                    if ready > now && !self.wait(ready - now, WaitReason::Quota, on).await {
                        return Err(Partial::Cancelled);
                    }
                }
                self.sent.push_back(self.client.clock().now_ms());
                while self.sent.len() > n {
                    self.sent.pop_front();
                }
            }
            let subs: Vec<&str> = job.subs.iter().map(String::as_str).collect();
            let mut req = resource_graph(&job.query, &subs, self.opts.page_size);
            if let (Some(tok), Some(body)) = (&job.token, req.body.as_mut()) {
                body["options"]["$skipToken"] = Value::String(tok.clone());
            }
            let http = self.client.http_request(&req);
            let (method, url) = (http.method.as_str(), http.url.clone());
            self.out.requests += 1;
            let resp = self
                .client
                .send_http_raw(http)
                .await
                .map_err(Partial::Failed)?;
            self.read_quota(&resp);
            if resp.status == 429 {
                throttled += 1;
                if throttled > self.opts.max_throttled {
                    return Err(Partial::Failed(ArmError::from_response(
                        method, &url, &resp,
                    )));
                }
                let ms = retry_after_ms(&resp).unwrap_or(5_000);
                self.quota = None;
                if !self.wait(ms, WaitReason::Throttled, on).await {
                    return Err(Partial::Cancelled);
                }
                continue;
            }
            if !resp.is_success() {
                return Err(Partial::Failed(ArmError::from_response(
                    method, &url, &resp,
                )));
            }
            return self.take(job, &resp, on, &url);
        }
    }

    fn read_quota(&mut self, resp: &HttpResponse) {
        let remaining = resp
            .header("x-ms-user-quota-remaining")
            .and_then(|v| v.trim().parse::<u64>().ok());
        let resets = resp
            .header("x-ms-user-quota-resets-after")
            .and_then(parse_resets_after);
        if remaining.is_some() {
            self.quota_headers = true;
        }
        if let (Some(r), Some(ms)) = (remaining, resets) {
            self.quota = Some((r, self.client.clock().now_ms() + ms));
        } else if let Some(r) = remaining {
            // no reset time: assume a whole window
            self.quota = Some((r, self.client.clock().now_ms() + 5_000));
        }
    }

    fn take(
        &mut self,
        job: &mut Job,
        resp: &HttpResponse,
        on: &mut dyn FnMut(&LoadEvent),
        url: &str,
    ) -> Result<(), Partial> {
        let decode = |m: String| {
            Partial::Failed(
                ArmError::new(
                    ErrorKind::Decode,
                    format!("unexpected Resource Graph answer: {m}"),
                )
                .at("POST", url),
            )
        };
        let mut v: Value = serde_json::from_slice(&resp.body).map_err(|e| decode(e.to_string()))?;
        let rows = match v.get_mut("data").map(Value::take) {
            Some(Value::Array(a)) => a,
            Some(Value::Null) | None => vec![],
            Some(_) => {
                return Err(decode(
                    "`data` is not a list (resultFormat objectArray expected)".into(),
                ));
            }
        };
        let total = v.get("totalRecords").and_then(Value::as_u64).unwrap_or(0);
        if !job.started {
            job.started = true;
            job.total = total;
            self.out.total += total;
        }
        if resp
            .header("x-ms-tenant-subscription-limit-hit")
            .is_some_and(|h| h.eq_ignore_ascii_case("true"))
            && !self.notes.contains(&Partial::SubscriptionLimitHit)
        {
            self.notes.push(Partial::SubscriptionLimitHit);
        }
        let seen = self.seen.entry(job.shape).or_default();
        let n = rows.len() as u64;
        job.got += n;
        self.out.loaded += n;
        let dest = self.out.rows_mut(job.shape);
        for r in rows {
            // a row twice (data moved between pages) is kept once
            let key = r.get("id").and_then(Value::as_str).map(str::to_lowercase);
            if key.is_none_or(|k| seen.insert(k)) {
                dest.push(r);
            }
        }
        let tok = v
            .get("$skipToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        let truncated = v
            .get("resultTruncated")
            .and_then(|t| {
                t.as_str()
                    .map(|s| s.eq_ignore_ascii_case("true"))
                    .or(t.as_bool())
            })
            .unwrap_or(false);
        on(&LoadEvent::Page {
            shape: job.shape,
            loaded: self.out.loaded,
            total: self.out.total,
            requests: self.out.requests,
        });
        match tok {
            Some(t) if Some(&t) == job.token.as_ref() => {
                Err(decode("the same $skipToken came back twice".into()))
            }
            Some(t) => {
                job.token = Some(t);
                Ok(())
            }
            None => {
                job.done = true;
                if truncated {
                    return Err(Partial::Truncated(job.shape));
                }
                if job.got != job.total {
                    return Err(Partial::Changed(job.shape));
                }
                Ok(())
            }
        }
    }

    /// Runs `jobs` to their end; false (and the reason in `partial`) when the load must stop. Reports each shape
    /// that completes.
    async fn phase(
        &mut self,
        jobs: &mut [Job],
        on: &mut dyn FnMut(&LoadEvent),
        partial: &mut Vec<Partial>,
    ) -> bool {
        let r = self.run(jobs, on).await;
        let mut shapes: Vec<Shape> = jobs.iter().map(|j| j.shape).collect();
        shapes.dedup();
        match r {
            Ok(()) => {
                for s in shapes {
                    on(&LoadEvent::ShapeDone(s));
                }
                true
            }
            Err(p) => {
                partial.push(p);
                false
            }
        }
    }

    async fn run(
        &mut self,
        jobs: &mut [Job],
        on: &mut dyn FnMut(&LoadEvent),
    ) -> Result<(), Partial> {
        // first pages first (totals early), then the rest in order
        while let Some(i) = jobs
            .iter()
            .position(|j| !j.started)
            .or_else(|| jobs.iter().position(|j| !j.done))
        {
            let mut job = std::mem::replace(
                &mut jobs[i],
                Job {
                    shape: Shape::Compute,
                    query: String::new(),
                    subs: vec![],
                    token: None,
                    started: true,
                    done: true,
                    total: 0,
                    got: 0,
                },
            );
            let r = self.page(&mut job, on).await;
            jobs[i] = job;
            match r {
                Ok(()) => {}
                Err(p @ (Partial::Truncated(_) | Partial::Changed(_))) => self.notes.push(p),
                Err(p) => return Err(p),
            }
        }
        Ok(())
    }
}

impl<'a> Loader<'a> {
    fn new(client: &'a ArmClient, cancel: &'a CancelFlag, opts: &LoadOptions) -> Self {
        Loader {
            client,
            cancel,
            opts: LoadOptions {
                page_size: opts.page_size.clamp(1, 1000),
                batch_size: opts
                    .batch_size
                    .clamp(1, identity_core::inventory::queries::SUBSCRIPTION_BATCH),
                max_throttled: opts.max_throttled,
                assumed_quota: opts.assumed_quota,
            },
            out: InventoryLoad {
                compute: vec![],
                identities: vec![],
                role_assignments: vec![],
                role_definitions: vec![],
                requests: 0,
                loaded: 0,
                total: 0,
                waited_ms: 0,
                completeness: Completeness::Complete,
            },
            quota: None,
            seen: Default::default(),
            notes: vec![],
            quota_headers: false,
            sent: Default::default(),
        }
    }
}

fn jobs_for(shape: Shape, queries: &[String], subscriptions: &[String], batch: usize) -> Vec<Job> {
    let batches: Vec<Vec<String>> =
        if batch >= identity_core::inventory::queries::SUBSCRIPTION_BATCH {
            batches(subscriptions)
        } else if subscriptions.is_empty() {
            vec![vec![]]
        } else {
            subscriptions
                .chunks(batch.max(1))
                .map(<[String]>::to_vec)
                .collect()
        };
    queries
        .iter()
        .flat_map(|q| {
            batches.iter().map(move |b| Job {
                shape,
                query: q.clone(),
                subs: b.clone(),
                token: None,
                started: false,
                done: false,
                total: 0,
                got: 0,
            })
        })
        .collect()
}

impl<'a> Loader<'a> {
    /// The reasons the load is partial (none: complete).
    fn completeness(&mut self, mut partial: Vec<Partial>) -> Completeness {
        partial.append(&mut self.notes);
        if partial.is_empty() {
            Completeness::Complete
        } else {
            Completeness::Partial(partial)
        }
    }

    /// The role assignments these queries read ([`role_assignments_of`]), then the definitions of the roles they
    /// name ([`role_definitions`]); false when a phase stopped (cancel, failure).
    async fn access(
        &mut self,
        queries: &[String],
        subscriptions: &[String],
        on_event: &mut dyn FnMut(&LoadEvent),
        partial: &mut Vec<Partial>,
    ) -> bool {
        let bs = self.opts.batch_size;
        if queries.is_empty() {
            return true;
        }
        let mut ras = jobs_for(Shape::RoleAssignments, queries, subscriptions, bs);
        if !self.phase(&mut ras, on_event, partial).await {
            return false;
        }
        let guids = Inventory::role_guids(&self.out.role_assignments);
        let mut defs = jobs_for(
            Shape::RoleDefinitions,
            &role_definitions(&guids),
            subscriptions,
            bs,
        );
        self.phase(&mut defs, on_event, partial).await
    }
}

/// What some principals can access: the role assignments they hold, with role names.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessLoad {
    /// Role name (when its definition was read), scope, condition; ordered by assignment id.
    pub assignments: Vec<RoleAssignmentRow>,
    /// Queries sent.
    pub requests: u32,
    /// A partial list is never shown as the whole.
    pub completeness: Completeness,
}

impl AccessLoad {
    /// Every query ran to its last page.
    pub fn is_complete(&self) -> bool {
        self.completeness == Completeness::Complete
    }

    /// The assignments of one principal (ignoring case).
    pub fn of(&self, principal_id: &str) -> Vec<&RoleAssignmentRow> {
        self.assignments
            .iter()
            .filter(|a| a.principal_id.eq_ignore_ascii_case(principal_id))
            .collect()
    }
}

fn refused_query(e: String) -> Completeness {
    Completeness::Partial(vec![Partial::Failed(ArmError::new(
        ErrorKind::InvalidRequest,
        e,
    ))])
}

/// "What can this identity access": the role assignments `principal_ids` hold in `subscriptions` (empty = every
/// subscription the caller can read), from Resource Graph's `authorizationresources`
/// ([`role_assignments_of`]), then the names of their roles ([`role_definitions`]) — with the inventory's
/// paging, quota waits, 429 handling and cancel. A principal id that is not a GUID is refused before anything is
/// sent ([`ErrorKind::InvalidRequest`]); none makes no request.
///
/// ```
/// use arm_client::{ArmClient, StaticToken, VirtualClock, testing::block_on};
/// use arm_client::inventory::{load_access, CancelFlag, LoadOptions};
/// use arm_client::transport::sim::SimTransport;
/// use std::rc::Rc;
/// let clock = Rc::new(VirtualClock::new(0));
/// let sim = SimTransport::new(armsim::Sim::from_seed(armsim::Seed::demo()), clock.clone());
/// let c = ArmClient::builder("https://management.azure.com", Rc::new(sim), Rc::new(StaticToken::new("t")))
///     .clock(clock).build().unwrap();
/// let bad = block_on(load_access(&c, &["x' or 1==1".into()], &[], &LoadOptions::default(), &CancelFlag::new(), &mut |_| {}));
/// assert!(!bad.is_complete() && bad.requests == 0);
/// ```
pub async fn load_access(
    client: &ArmClient,
    principal_ids: &[String],
    subscriptions: &[String],
    opts: &LoadOptions,
    cancel: &CancelFlag,
    on_event: &mut dyn FnMut(&LoadEvent),
) -> AccessLoad {
    let queries = match role_assignments_of(principal_ids) {
        Ok(q) => q,
        Err(e) => {
            return AccessLoad {
                assignments: vec![],
                requests: 0,
                completeness: refused_query(e),
            };
        }
    };
    let mut l = Loader::new(client, cancel, opts);
    let mut partial = vec![];
    l.access(&queries, subscriptions, on_event, &mut partial)
        .await;
    let completeness = l.completeness(partial);
    let inv = Inventory::from_rows(
        &[],
        &[],
        &[],
        &l.out.role_assignments,
        &l.out.role_definitions,
    );
    let mut assignments = inv.role_assignments;
    assignments.sort_by_key(|a| a.id.to_ascii_lowercase());
    AccessLoad {
        assignments,
        requests: l.out.requests,
        completeness,
    }
}

/// Who uses a user-assigned identity.
#[derive(Debug, Clone, PartialEq)]
pub struct UsersLoad {
    /// Ids of the scale sets and VMs that hold it.
    pub users: Vec<String>,
    /// Queries sent.
    pub requests: u32,
    /// Only a complete answer may say "no other resource uses it".
    pub completeness: Completeness,
}

impl UsersLoad {
    /// Every query ran to its last page.
    pub fn is_complete(&self) -> bool {
        self.completeness == Completeness::Complete
    }

    /// The users other than `resource_id` (ignoring case).
    pub fn others(&self, resource_id: &str) -> Vec<&str> {
        self.users
            .iter()
            .filter(|u| !u.eq_ignore_ascii_case(resource_id))
            .map(String::as_str)
            .collect()
    }
}

/// The scale sets and VMs of `subscriptions` (empty = every one the caller can read) that use the user-assigned
/// identity `identity_id` ([`identity_users`], the query the identity page reads them with), with the inventory's
/// paging and quota handling. An id that [`identity_core::inventory::queries::identity_literal`] refuses is
/// refused before anything is sent ([`ErrorKind::InvalidRequest`]).
pub async fn load_users_of_identity(
    client: &ArmClient,
    identity_id: &str,
    subscriptions: &[String],
    opts: &LoadOptions,
    cancel: &CancelFlag,
    on_event: &mut dyn FnMut(&LoadEvent),
) -> UsersLoad {
    let query = match identity_users(identity_id) {
        Ok(q) => q,
        Err(e) => {
            return UsersLoad {
                users: vec![],
                requests: 0,
                completeness: refused_query(e),
            };
        }
    };
    let mut l = Loader::new(client, cancel, opts);
    let bs = l.opts.batch_size;
    let mut partial = vec![];
    let mut jobs = jobs_for(Shape::Compute, &[query], subscriptions, bs);
    l.phase(&mut jobs, on_event, &mut partial).await;
    let completeness = l.completeness(partial);
    let users = l
        .out
        .compute
        .iter()
        .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    UsersLoad {
        users,
        requests: l.out.requests,
        completeness,
    }
}

/// Loads the inventory of `subscriptions` (ids; empty = every subscription the caller can read).
///
/// ```
/// use arm_client::{ArmClient, StaticToken, VirtualClock, testing::block_on};
/// use arm_client::inventory::{load_inventory, CancelFlag, LoadOptions};
/// use arm_client::transport::sim::SimTransport;
/// use std::rc::Rc;
/// let clock = Rc::new(VirtualClock::new(0));
/// let sim = SimTransport::new(armsim::Sim::from_seed(armsim::Seed::demo()), clock.clone());
/// let c = ArmClient::builder("https://management.azure.com", Rc::new(sim), Rc::new(StaticToken::new("t")))
///     .clock(clock).build().unwrap();
/// let load = block_on(load_inventory(&c, &[], &LoadOptions::default(), &CancelFlag::new(), &mut |_| {}));
/// assert!(load.is_complete());
/// assert!(!load.compute.is_empty() && !load.identities.is_empty());
/// ```
pub async fn load_inventory(
    client: &ArmClient,
    subscriptions: &[String],
    opts: &LoadOptions,
    cancel: &CancelFlag,
    on_event: &mut dyn FnMut(&LoadEvent),
) -> InventoryLoad {
    load_inventory_with(client, subscriptions, opts, cancel, on_event, &mut |_| {}).await
}

/// [`load_inventory`], and `on_list` called once, as soon as every row of the list (scale sets, VMs and
/// identities) is in and before the role assignments are read, with the load so far (its `role_assignments`
/// and `role_definitions` empty; its completeness that of the list's queries). Not called when the list is
/// partial (the final result says why).
pub async fn load_inventory_with(
    client: &ArmClient,
    subscriptions: &[String],
    opts: &LoadOptions,
    cancel: &CancelFlag,
    on_event: &mut dyn FnMut(&LoadEvent),
    on_list: &mut dyn FnMut(&InventoryLoad),
) -> InventoryLoad {
    let mut l = Loader::new(client, cancel, opts);
    let bs = l.opts.batch_size;
    let mut partial = vec![];
    // the list first (compute + identities), then role assignments, then the role definitions they use
    let mut list: Vec<Job> = [(Shape::Compute, COMPUTE), (Shape::Identities, IDENTITIES)]
        .iter()
        .flat_map(|(s, q)| jobs_for(*s, &[q.to_string()], subscriptions, bs))
        .collect();
    let mut phases_ok = l.phase(&mut list, on_event, &mut partial).await;
    if phases_ok && l.notes.is_empty() {
        on_list(&l.out);
    }
    if phases_ok {
        let mut ras = jobs_for(
            Shape::RoleAssignments,
            &[ROLE_ASSIGNMENTS.to_string()],
            subscriptions,
            bs,
        );
        phases_ok = l.phase(&mut ras, on_event, &mut partial).await;
    }
    if phases_ok {
        let guids = Inventory::role_guids(&l.out.role_assignments);
        let mut defs = jobs_for(
            Shape::RoleDefinitions,
            &role_definitions(&guids),
            subscriptions,
            bs,
        );
        l.phase(&mut defs, on_event, &mut partial).await;
    }
    l.out.completeness = l.completeness(partial);
    l.out
}

/// Loads what the identity page shows for one user-assigned identity, with focused queries instead of the tenant's
/// inventory ([`identity_core::inventory::queries`]): the identity's row and the scale sets and VMs whose identity
/// map holds it (one phase), then the role assignments of the principal that row names, then their role
/// definitions — each with the same paging, subscription batches, quota waits, cancel and completeness as
/// [`load_inventory`], and rows in the same shapes (so [`InventoryLoad::inventory`] builds the model:
/// `users_of(id)`, `assignments_of(principal)`).
///
/// An id that cannot be written into a query (not a user-assigned identity's id with its group, or holding a
/// quote) sends nothing and is [`Partial::Failed`] with an [`ErrorKind::InvalidRequest`]. An identity Resource
/// Graph does not return (deleted, or in a subscription the caller cannot read) still has its users read; there is
/// no principal then, so no role assignment is read (the load is complete: there is nothing more to read).
///
/// ```
/// use arm_client::{ArmClient, StaticToken, VirtualClock, testing::block_on};
/// use arm_client::inventory::{load_identity, CancelFlag, LoadOptions};
/// use arm_client::transport::sim::SimTransport;
/// use std::rc::Rc;
/// let clock = Rc::new(VirtualClock::new(0));
/// let sim = SimTransport::new(armsim::Sim::from_seed(armsim::Seed::demo()), clock.clone());
/// let c = ArmClient::builder("https://management.azure.com", Rc::new(sim), Rc::new(StaticToken::new("t")))
///     .clock(clock).build().unwrap();
/// let id = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web";
/// let load = block_on(load_identity(&c, &[], id, &LoadOptions::default(), &CancelFlag::new(), &mut |_| {}));
/// assert!(load.is_complete());
/// let inv = load.inventory(&[]);
/// let mut users: Vec<&str> = inv.users_of(id).iter().map(|r| r.name.as_str()).collect();
/// users.sort();
/// assert_eq!(users, ["vmss-flex", "vmss-web"]);
/// ```
pub async fn load_identity(
    client: &ArmClient,
    subscriptions: &[String],
    identity_id: &str,
    opts: &LoadOptions,
    cancel: &CancelFlag,
    on_event: &mut dyn FnMut(&LoadEvent),
) -> InventoryLoad {
    let mut l = Loader::new(client, cancel, opts);
    let (identity_q, users_q) = match (identity_row(identity_id), identity_users(identity_id)) {
        (Ok(i), Ok(u)) => (i, u),
        (Err(e), _) | (_, Err(e)) => {
            l.out.completeness = refused_query(e);
            return l.out;
        }
    };
    let bs = l.opts.batch_size;
    let mut partial = vec![];
    let mut first: Vec<Job> = jobs_for(Shape::Identities, &[identity_q], subscriptions, bs)
        .into_iter()
        .chain(jobs_for(Shape::Compute, &[users_q], subscriptions, bs))
        .collect();
    if l.phase(&mut first, on_event, &mut partial).await {
        // the principal the identity's row names (the model matches ids ignoring case; one identity here)
        let principal = l.out.identities.iter().find_map(|r| {
            let id = r.get("id").and_then(Value::as_str)?;
            identity_core::resource_id::same_id(id, identity_id)
                .then(|| r.get("principalId").and_then(Value::as_str))
                .flatten()
                .and_then(|p| role_assignments_of(&[p.to_string()]).ok())
        });
        if let Some(q) = principal {
            l.access(&q, subscriptions, on_event, &mut partial).await;
        }
    }
    l.out.completeness = l.completeness(partial);
    l.out
}
