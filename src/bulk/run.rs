//! The batch's orchestration, without Yew: read and plan every item for the review, then apply through
//! arm-client's [`Scheduler`] (concurrency, pause / resume / cancel, a 412 re-plans the item) with each item
//! applied by [`arm_client::flow::apply_change`] from a fresh read. The page renders what this reports and sends
//! intent (start, pause, resume, cancel).

use super::spec::BatchSpec;
use arm_client::bulk::{
    BatchHandle, BatchState, BulkOptions, Counters, FnRunner, ItemCtx, ItemRecord, ItemResult,
    ItemStatus, Outcome, Scheduler,
};
use arm_client::flow::{self, Outcome as FlowOutcome};
use arm_client::http::LocalBoxFuture;
use arm_client::identity::read_state;
use arm_client::{ArmClient, Clock};
use identity_core::{ArmRequest, Operation, Plan, ResourceState, plan};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Items read at once for the review, and applied at once (each write is one PATCH or DELETE and its
/// operation; ARM's write quota, 200 then 10 a second per subscription, is far above what 8 in flight reach).
pub const CONCURRENCY: usize = 8;

/// The scheduler's clock: the client's own (the browser's in the app).
struct ClientClock(Rc<ArmClient>);

impl Clock for ClientClock {
    fn now_ms(&self) -> u64 {
        self.0.clock().now_ms()
    }
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'_, ()> {
        self.0.clock().sleep(ms)
    }
}

/// One item's plan in the review.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemPlan {
    /// The exact requests that would be sent now.
    Requests(Vec<ArmRequest>),
    /// Nothing to change, and why.
    NoOp(String),
    /// Not possible, and why.
    Refused(String),
    /// The resource could not be read (the error, and what to do).
    Unreadable(String),
}

impl ItemPlan {
    /// The word in the review's list and download.
    pub fn word(&self) -> &'static str {
        match self {
            ItemPlan::Requests(_) => "request",
            ItemPlan::NoOp(_) => "no-op",
            ItemPlan::Refused(_) => "refused",
            ItemPlan::Unreadable(_) => "unreadable",
        }
    }
    pub fn reason(&self) -> &str {
        match self {
            ItemPlan::Requests(_) => "",
            ItemPlan::NoOp(r) | ItemPlan::Refused(r) | ItemPlan::Unreadable(r) => r,
        }
    }
}

/// An item of the review: its id, kind and plan.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewItem {
    pub id: String,
    /// "scale set (Uniform)", … (empty when unreadable).
    pub kind: String,
    pub plan: ItemPlan,
}

/// The review: every item's plan, in the order of the selection.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Review {
    pub items: Vec<ReviewItem>,
}

/// How many of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReviewCounts {
    pub requests: usize,
    pub no_op: usize,
    pub refused: usize,
    pub unreadable: usize,
}

impl Review {
    pub fn counts(&self) -> ReviewCounts {
        let mut c = ReviewCounts::default();
        for i in &self.items {
            match i.plan {
                ItemPlan::Requests(_) => c.requests += 1,
                ItemPlan::NoOp(_) => c.no_op += 1,
                ItemPlan::Refused(_) => c.refused += 1,
                ItemPlan::Unreadable(_) => c.unreadable += 1,
            }
        }
        c
    }

    /// The first `n` items that would send requests.
    pub fn sample(&self, n: usize) -> Vec<&ReviewItem> {
        self.items
            .iter()
            .filter(|i| matches!(i.plan, ItemPlan::Requests(_)))
            .take(n)
            .collect()
    }

    /// The batch to apply: the items with requests pending; the others recorded with their review outcome
    /// (no-op, refused, or failed when unreadable), so the report covers the whole selection.
    pub fn batch(&self, spec: &BatchSpec, now_ms: u64) -> BatchState {
        let ids: Vec<String> = self.items.iter().map(|i| i.id.clone()).collect();
        let mut st =
            BatchState::new(&ids).with_operation(serde_json::to_string(spec).unwrap_or_default());
        for (rec, it) in st.items.iter_mut().zip(&self.items) {
            let (status, why) = match &it.plan {
                ItemPlan::Requests(_) => continue,
                ItemPlan::NoOp(r) => (ItemStatus::NoOp, r),
                ItemPlan::Refused(r) => (ItemStatus::Refused, r),
                ItemPlan::Unreadable(r) => (ItemStatus::Failed, r),
            };
            rec.status = status;
            rec.message = Some(why.clone());
            rec.time_ms = Some(now_ms);
        }
        st
    }

    /// The full list as CSV: `item,kind,plan,reason,method,url` (one line per request; none for the others).
    pub fn to_csv(&self, origin: &str) -> String {
        let mut out = String::from("item,kind,plan,reason,method,url\r\n");
        for i in &self.items {
            let mut line = |m: &str, u: &str| {
                let cells = [
                    i.id.as_str(),
                    i.kind.as_str(),
                    i.plan.word(),
                    i.plan.reason(),
                    m,
                    u,
                ];
                let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                out.push_str(&row.join(","));
                out.push_str("\r\n");
            };
            match &i.plan {
                ItemPlan::Requests(rs) => {
                    for r in rs {
                        line(
                            r.method.as_str(),
                            &format!("{origin}{}", r.path_and_query()),
                        );
                    }
                }
                _ => line("", ""),
            }
        }
        out
    }

    /// The full list as JSON: `[{item, kind, plan, reason, requests: [{method, url, headers, body}]}]`.
    pub fn to_json(&self, origin: &str) -> serde_json::Value {
        serde_json::Value::Array(
            self.items
                .iter()
                .map(|i| {
                    let reqs: Vec<serde_json::Value> = match &i.plan {
                        ItemPlan::Requests(rs) => rs
                            .iter()
                            .map(|r| {
                                serde_json::json!({
                                    "method": r.method.as_str(),
                                    "url": format!("{origin}{}", r.path_and_query()),
                                    "headers": r.headers.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                                    "body": r.body,
                                })
                            })
                            .collect(),
                        _ => vec![],
                    };
                    serde_json::json!({
                        "item": i.id,
                        "kind": i.kind,
                        "plan": i.plan.word(),
                        "reason": (!i.plan.reason().is_empty()).then(|| i.plan.reason()),
                        "requests": reqs,
                    })
                })
                .collect(),
        )
    }
}

/// RFC 4180 quoting; a cell starting with `=`, `+`, `-` or `@` gets a leading `'` (shown as text).
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The plan of one item from a fresh read.
pub fn plan_item(id: &str, read: Result<ResourceState, String>, op: &Operation) -> ReviewItem {
    match read {
        Err(e) => ReviewItem {
            id: id.to_string(),
            kind: String::new(),
            plan: ItemPlan::Unreadable(e),
        },
        Ok(st) => {
            let p = plan(&st, op);
            let plan = if let Some(r) = p.noop_reason() {
                ItemPlan::NoOp(r.to_string())
            } else if let Some(r) = p.refusal() {
                ItemPlan::Refused(r.to_string())
            } else {
                ItemPlan::Requests(p.requests().to_vec())
            };
            ReviewItem {
                id: id.to_string(),
                kind: st.kind.describe().to_string(),
                plan,
            }
        }
    }
}

fn error_text(e: &arm_client::ArmError) -> String {
    match e.hint() {
        Some(h) => format!("{e} {h}"),
        None => e.to_string(),
    }
}

/// Reads every item (a few at a time), calling `each(id, read)` as each comes in (in any order) and
/// `on(done, total)` after it.
pub async fn read_all(
    client: Rc<ArmClient>,
    items: &[String],
    each: impl Fn(&str, Result<ResourceState, String>) + 'static,
    on: impl Fn(usize, usize) + 'static,
) {
    let each = Rc::new(each);
    let runner = {
        let client = client.clone();
        FnRunner(move |id: String, _ctx: ItemCtx| {
            let (client, each) = (client.clone(), each.clone());
            async move {
                let read = read_state(&client, &id).await.map_err(|e| error_text(&e));
                each(&id, read);
                ItemResult::of(Outcome::NoOp)
            }
        })
    };
    let total = items.len();
    let done = Rc::new(RefCell::new(0usize));
    let sched = Scheduler::new(
        items,
        runner,
        Rc::new(ClientClock(client)),
        BulkOptions {
            concurrency: CONCURRENCY,
            max_replans: 0,
        },
    )
    .on_item(move |r: &ItemRecord| {
        if r.status.is_final() {
            *done.borrow_mut() += 1;
            on(*done.borrow(), total);
        }
    });
    sched.run().await;
}

/// Reads and plans every item, calling `on(done, total)` as they come in. The review lists them in the order
/// of the selection (repeated ids once).
pub async fn review(
    client: Rc<ArmClient>,
    op: Operation,
    items: Vec<String>,
    on: impl Fn(usize, usize) + 'static,
) -> Review {
    let found: Rc<RefCell<HashMap<String, ReviewItem>>> = Rc::default();
    {
        let found = found.clone();
        read_all(
            client,
            &items,
            move |id, read| {
                let it = plan_item(id, read, &op);
                found.borrow_mut().insert(id.to_ascii_lowercase(), it);
            },
            on,
        )
        .await;
    }
    let mut found = found.borrow_mut();
    let items = items
        .iter()
        .filter_map(|id| found.remove(&id.to_ascii_lowercase()))
        .collect();
    Review { items }
}

/// The identities a resource was read back with, in words ("system-assigned, id-web").
pub fn identities_text(st: &ResourceState) -> String {
    let mut v: Vec<String> = vec![];
    if st.identity.system_assigned {
        v.push("system-assigned".into());
    }
    v.extend(
        st.identity
            .user_assigned
            .iter()
            .map(|u| super::spec::name_of(&u.id).to_string()),
    );
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// What the apply reports besides the batch's state: per item (lower-case id) the identities read back.
pub type ReadBack = Rc<RefCell<HashMap<String, String>>>;

/// The HTTP status of an item's write: `(correlation id, item id)` → status (from the session's change log).
pub type StatusOf = Rc<dyn Fn(&str, &str) -> Option<u16>>;

/// The plan with a correlation id on each request (ARM echoes it; the report names it).
fn tagged(mut p: Plan, corr: &str) -> Plan {
    if let identity_core::Outcome::Requests(reqs) = &mut p.outcome {
        for r in reqs.iter_mut() {
            r.headers
                .retain(|(k, _)| !k.eq_ignore_ascii_case("x-ms-correlation-request-id"));
            r.headers
                .push(("x-ms-correlation-request-id".into(), corr.to_string()));
        }
    }
    p
}

/// Applies one item: a fresh read, the plan, [`flow::apply_change`]. `status_of(correlation id)`: the HTTP
/// status of the write with that id (from the session's change log).
async fn apply_item(
    client: Rc<ArmClient>,
    op: Operation,
    id: String,
    readback: ReadBack,
    status_of: StatusOf,
) -> ItemResult {
    let state = match read_state(&client, &id).await {
        Ok(s) => s,
        Err(e) => {
            return ItemResult {
                outcome: if e.status == Some(412) {
                    Outcome::Conflict
                } else {
                    Outcome::Failed
                },
                status: e.status,
                correlation_id: e.correlation_id.clone(),
                message: Some(error_text(&e)),
            };
        }
    };
    let corr = crate::guid::new_guid();
    let p = tagged(plan(&state, &op), &corr);
    let replan = |st: &ResourceState| tagged(plan(st, &op), &corr);
    let out = flow::apply_change(&client, &state, &p, &replan, &mut |_| {}).await;
    match out {
        FlowOutcome::Applied(ch) => {
            if let Some(after) = &ch.after {
                readback
                    .borrow_mut()
                    .insert(id.to_ascii_lowercase(), identities_text(after));
            }
            ItemResult {
                outcome: Outcome::Applied,
                status: status_of(&corr, &id),
                correlation_id: Some(corr),
                message: ch.resumed.then(|| {
                    "The connection dropped after Azure accepted the change; the resource was read until it ended."
                        .to_string()
                }),
            }
        }
        FlowOutcome::Noop(why) => {
            readback
                .borrow_mut()
                .insert(id.to_ascii_lowercase(), identities_text(&state));
            ItemResult {
                message: Some(why),
                ..ItemResult::of(Outcome::NoOp)
            }
        }
        FlowOutcome::Refused(why) => ItemResult {
            message: Some(why),
            ..ItemResult::of(Outcome::Refused)
        },
        FlowOutcome::ConflictReplanned(r) => ItemResult {
            outcome: Outcome::Conflict,
            status: r.error.status,
            correlation_id: Some(corr),
            message: Some(r.error.to_string()),
        },
        FlowOutcome::Failed(f) | FlowOutcome::NotSent(f) => ItemResult {
            outcome: Outcome::Failed,
            status: f.error.status,
            correlation_id: f.error.correlation_id.clone().or(Some(corr)),
            message: Some(match f.hint {
                Some(h) => format!("{} {h}", f.error),
                None => f.error.to_string(),
            }),
        },
        FlowOutcome::Exists { id, .. } => ItemResult {
            message: Some(format!("{id} exists")),
            ..ItemResult::of(Outcome::Failed)
        },
    }
}

/// A batch started: its handle (pause, resume, cancel, snapshot, counters).
pub struct Started {
    pub handle: BatchHandle,
}

/// Starts applying `state` (a new batch or a saved one: items not done run from a fresh read). `on_item` is
/// called on every item's change of status, `on_done` with the counters when it ends (finished, or cancelled
/// and the items in flight done).
pub fn start(
    client: Rc<ArmClient>,
    spec: &BatchSpec,
    state: BatchState,
    readback: ReadBack,
    status_of: StatusOf,
    on_item: impl Fn(&ItemRecord, &BatchHandle) + 'static,
    on_done: impl FnOnce(Counters, &BatchHandle) + 'static,
) -> Started {
    let op = spec.operation.clone();
    let runner = {
        let client = client.clone();
        FnRunner(move |id: String, _ctx: ItemCtx| {
            apply_item(
                client.clone(),
                op.clone(),
                id,
                readback.clone(),
                status_of.clone(),
            )
        })
    };
    let handle_cell = Rc::new(RefCell::new(None::<BatchHandle>));
    let sched = Scheduler::resume(
        state,
        runner,
        Rc::new(ClientClock(client)),
        BulkOptions {
            concurrency: CONCURRENCY,
            max_replans: 3,
        },
    )
    .on_item({
        let hc = handle_cell.clone();
        move |r: &ItemRecord| {
            if let Some(h) = hc.borrow().as_ref() {
                on_item(r, h);
            }
        }
    });
    let handle = sched.handle();
    *handle_cell.borrow_mut() = Some(handle.clone());
    let h = handle.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let c = sched.run().await;
        on_done(c, &h);
    });
    Started { handle }
}

/// The report as JSON: per item `{item, outcome, status, correlationId, time, message, identities}` (the
/// identities as read back, when they were).
pub fn report_json(state: &BatchState, readback: &HashMap<String, String>) -> serde_json::Value {
    let mut v = state.report_json();
    if let serde_json::Value::Array(rows) = &mut v {
        for (row, it) in rows.iter_mut().zip(&state.items) {
            row["identities"] = readback
                .get(&it.id.to_ascii_lowercase())
                .map(|s| serde_json::Value::String(s.clone()))
                .unwrap_or(serde_json::Value::Null);
        }
    }
    v
}

/// The report as CSV: `item,outcome,status,correlation_id,time,message,identities`.
pub fn report_csv(state: &BatchState, readback: &HashMap<String, String>) -> String {
    let mut out = String::from("item,outcome,status,correlation_id,time,message,identities\r\n");
    if let serde_json::Value::Array(rows) = report_json(state, readback) {
        for r in rows {
            let cell = |k: &str| match &r[k] {
                serde_json::Value::String(s) => csv_cell(s),
                serde_json::Value::Null => String::new(),
                other => csv_cell(&other.to_string()),
            };
            let cells: Vec<String> = [
                "item",
                "outcome",
                "status",
                "correlationId",
                "time",
                "message",
                "identities",
            ]
            .iter()
            .map(|k| cell(k))
            .collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
    }
    out
}
