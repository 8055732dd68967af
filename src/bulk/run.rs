//! The batch's orchestration, without Yew: the review (identity-core's [`Review`], planned from the inventory's
//! rows, or from a fresh read of each item when the inventory is not at hand), then the apply through
//! arm-client's [`Scheduler`] (concurrency, pause / resume / cancel, a 412 re-plans the item) with its
//! [`IdentityRunner`] (each item read again and applied by `arm_client::flow` just before its write). The page renders what this reports and sends
//! intent (start, pause, resume, cancel).

use super::spec::BatchSpec;
use arm_client::bulk::{
    BatchHandle, BatchState, BulkOptions, Counters, FnRunner, IdentityRunner, ItemCtx, ItemRecord,
    ItemResult, ItemStatus, Outcome, Scheduler, grant_before_batch,
};
use arm_client::http::LocalBoxFuture;
use arm_client::identity::read_state;
use arm_client::{ArmClient, Clock};
use identity_core::ResourceState;
use identity_core::bulk::{BulkOp, Review, Verdict, review, review_rows};
use identity_core::inventory::export::csv_cell;
use identity_core::inventory::{Inventory, ResourceRow};
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

/// The review of a batch: identity-core's [`Review`] (per item its plan, the counts, the grant made before the
/// batch) and the items that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkReview {
    pub review: Review,
    /// `(id, why)` of the items that could not be read (fresh reads only).
    pub unreadable: Vec<(String, String)>,
    /// Planned from the inventory's rows (Resource Graph), else from a fresh read of each item.
    pub from_inventory: bool,
}

impl BulkReview {
    /// The batch to apply: the items with requests pending; the others recorded with their review outcome
    /// (no-op, refused, or failed when unreadable), so the report covers the whole selection.
    pub fn batch(&self, spec: &BatchSpec, now_ms: u64) -> BatchState {
        let ids: Vec<String> = self
            .review
            .items
            .iter()
            .map(|i| i.id.clone())
            .chain(self.unreadable.iter().map(|(i, _)| i.clone()))
            .collect();
        let mut st =
            BatchState::new(&ids).with_operation(serde_json::to_string(spec).unwrap_or_default());
        let outcomes = self
            .review
            .items
            .iter()
            .map(|i| match i.verdict {
                Verdict::Request => None,
                Verdict::NoOp => Some((ItemStatus::NoOp, i.reason.clone().unwrap_or_default())),
                Verdict::Refused => {
                    Some((ItemStatus::Refused, i.reason.clone().unwrap_or_default()))
                }
            })
            .chain(
                self.unreadable
                    .iter()
                    .map(|(_, why)| Some((ItemStatus::Failed, why.clone()))),
            );
        for (rec, o) in st.items.iter_mut().zip(outcomes) {
            if let Some((status, why)) = o {
                rec.status = status;
                rec.message = Some(why);
                rec.time_ms = Some(now_ms);
            }
        }
        st
    }

    /// The full list as CSV (identity-core's, with a line per unreadable item).
    pub fn to_csv(&self, origin: &str) -> String {
        let mut out = self.review.to_csv(origin);
        for (id, why) in &self.unreadable {
            let cells = [id.as_str(), "", "unreadable", "", "", "", "", why.as_str()];
            let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// The full list as JSON (identity-core's, with `unreadable: [{item, reason}]`).
    pub fn to_json(&self, origin: &str) -> serde_json::Value {
        let mut v = self.review.to_json(origin);
        v["unreadable"] = self
            .unreadable
            .iter()
            .map(|(id, why)| serde_json::json!({"item": id, "reason": why}))
            .collect();
        v
    }
}

fn error_text(e: &arm_client::ArmError) -> String {
    match e.hint() {
        Some(h) => format!("{e} {h}"),
        None => e.to_string(),
    }
}

/// The review from the inventory's rows (no request sent): the selection's rows in the order given.
pub fn review_from_inventory(op: &BulkOp, inv: &Inventory, ids: &[String]) -> BulkReview {
    let by_id: HashMap<String, &ResourceRow> = inv
        .resources
        .iter()
        .map(|r| (r.id.to_ascii_lowercase(), r))
        .collect();
    let rows: Vec<&ResourceRow> = ids
        .iter()
        .filter_map(|i| by_id.get(&i.to_ascii_lowercase()).copied())
        .collect();
    let principal = principal_in(op, inv);
    BulkReview {
        review: review_rows(op, &rows, principal.as_deref()),
        unreadable: ids
            .iter()
            .filter(|i| !by_id.contains_key(&i.to_ascii_lowercase()))
            .map(|i| (i.clone(), "not in the inventory; load it again".to_string()))
            .collect(),
        from_inventory: true,
    }
}

/// The principal of the identity an assign-with-grant names, from the inventory.
fn principal_in(op: &BulkOp, inv: &Inventory) -> Option<String> {
    match op {
        BulkOp::AssignUserAssigned {
            identity,
            grant: Some(_),
        } => inv
            .identity(identity)
            .map(|i| i.principal_id.clone())
            .filter(|p| !p.is_empty()),
        _ => None,
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

/// The review from a fresh read of every item (when the inventory is not at hand: a reload, an identity page),
/// calling `on(done, total)` as they come in; in the order of the selection.
pub async fn review_fresh(
    client: Rc<ArmClient>,
    op: BulkOp,
    items: Vec<String>,
    on: impl Fn(usize, usize) + 'static,
) -> BulkReview {
    let found: Rc<RefCell<HashMap<String, Result<ResourceState, String>>>> = Rc::default();
    {
        let found = found.clone();
        read_all(
            client,
            &items,
            move |id, read| {
                found.borrow_mut().insert(id.to_ascii_lowercase(), read);
            },
            on,
        )
        .await;
    }
    let mut found = found.borrow_mut();
    let (mut states, mut unreadable) = (vec![], vec![]);
    for id in &items {
        match found.remove(&id.to_ascii_lowercase()) {
            Some(Ok(st)) => states.push(st),
            Some(Err(e)) => unreadable.push((id.clone(), e)),
            None => {}
        }
    }
    BulkReview {
        review: review(&op, &states, None),
        unreadable,
        from_inventory: false,
    }
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

/// A batch started: its handle (pause, resume, cancel, snapshot, counters).
pub struct Started {
    pub handle: BatchHandle,
}

/// How a batch ended in this page.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// Every item done, or cancelled and the items in flight done.
    Ran(Counters),
    /// The role grant made before the batch failed: nothing was changed (the message says why).
    GrantFailed(String),
}

/// Starts applying `state` (a new batch or a kept one: items not done run from a fresh read) with arm-client's
/// [`IdentityRunner`] on `flow` (for an assign with a grant, the grant is made first, once). `on_item` is called
/// on every item's change of status; at the end the items applied are read back into `readback` and `on_done`
/// is called.
pub fn start(
    client: Rc<ArmClient>,
    spec: &BatchSpec,
    state: BatchState,
    readback: ReadBack,
    on_item: impl Fn(&ItemRecord, &BatchHandle) + 'static,
    on_done: impl FnOnce(Ended, &BatchHandle) + 'static,
) -> Started {
    let op = spec.operation.clone();
    // every request of the batch paced under ARM's documented buckets per subscription (writes 200 refilled at
    // 10/s, reads 250 at 25/s), lowered to what `x-ms-ratelimit-remaining-*` says is left, paused until a 429's
    // `Retry-After`: the session's client (same tenant, token, read-write switch, change log) over a paced transport
    let pacer = Rc::new(arm_client::bulk::Pacer::arm(Rc::new(ClientClock(
        client.clone(),
    ))));
    let client = Rc::new(
        client.with_transport(|t| Rc::new(arm_client::bulk::PacedTransport::new(t, pacer))),
    );
    let runner = IdentityRunner::for_op(client.clone(), &op);
    let handle_cell = Rc::new(RefCell::new(None::<BatchHandle>));
    let sched = Scheduler::resume(
        state,
        runner,
        Rc::new(ClientClock(client.clone())),
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
        if let Some(Err(r)) = grant_before_batch(&client, &op).await {
            let why = [r.message, r.hint]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            on_done(
                Ended::GrantFailed(format!(
                    "The role grant before the batch failed, so nothing was changed: {why}"
                )),
                &h,
            );
            return;
        }
        let c = sched.run().await;
        // the identities of the items applied, as ARM has them now
        let applied: Vec<String> = h
            .snapshot()
            .items
            .iter()
            .filter(|i| i.status == ItemStatus::Applied)
            .map(|i| i.id.clone())
            .collect();
        if !applied.is_empty() {
            read_back(client, &applied, readback, |_, _| {}).await;
        }
        on_done(Ended::Ran(c), &h);
    });
    Started { handle }
}

/// Reads `ids` again and keeps their identities in words in `readback`.
pub async fn read_back(
    client: Rc<ArmClient>,
    ids: &[String],
    readback: ReadBack,
    on: impl Fn(usize, usize) + 'static,
) {
    read_all(
        client,
        ids,
        move |id, read| {
            let text = match read {
                Ok(st) => identities_text(&st),
                Err(e) => format!("could not be read: {e}"),
            };
            readback.borrow_mut().insert(id.to_ascii_lowercase(), text);
        },
        on,
    )
    .await;
}

/// The report as JSON: per item `{item, outcome, status, correlationId, time, message, class, hint, identities}` (the
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

/// The report as CSV: `item,outcome,status,correlation_id,time,message,class,hint,identities`.
pub fn report_csv(state: &BatchState, readback: &HashMap<String, String>) -> String {
    let mut out =
        String::from("item,outcome,status,correlation_id,time,message,class,hint,identities\r\n");
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
                "class",
                "hint",
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

/// A user-assigned identity about to be deleted after a "remove from every resource" batch: its etag (the
/// DELETE's `If-Match`), principal, and the role assignments of that principal.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityToDelete {
    pub id: String,
    pub etag: Option<String>,
    pub principal_id: String,
    /// Role assignment ids of its principal (every subscription the session lists).
    pub assignments: Vec<String>,
}

/// Reads the identity and lists its principal's role assignments. Err: what could not be read, and what to do.
pub async fn prepare_delete(
    client: &ArmClient,
    identity_id: &str,
) -> Result<IdentityToDelete, String> {
    let get = arm_client::ops::get_resource(identity_id).map_err(|e| e.to_string())?;
    let resp = client.send(&get).await.map_err(|e| error_text(&e))?;
    let body = resp.body_json().map_err(|e| e.to_string())?;
    let principal_id = body["properties"]["principalId"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let etag = body["etag"]
        .as_str()
        .map(str::to_string)
        .or_else(|| resp.header("etag").map(str::to_string));
    let subs: Vec<arm_client::Subscription> = client
        .list(arm_client::ops::list_subscriptions())
        .collect_all()
        .await
        .map_err(|e| error_text(&e))?;
    let mut assignments: Vec<String> = vec![];
    if !principal_id.is_empty() {
        for s in subs {
            let req = arm_client::ops::list_role_assignments(
                &format!("/subscriptions/{}", s.subscription_id),
                Some(&principal_id),
            )
            .map_err(|e| e.to_string())?;
            let found: Vec<serde_json::Value> = client
                .list(req)
                .collect_all()
                .await
                .map_err(|e| error_text(&e))?;
            for a in found {
                let pid = a["properties"]["principalId"].as_str().unwrap_or("");
                if let Some(id) = a["id"]
                    .as_str()
                    .filter(|_| pid.eq_ignore_ascii_case(&principal_id))
                    && !assignments.iter().any(|x| x.eq_ignore_ascii_case(id))
                {
                    assignments.push(id.to_string());
                }
            }
        }
    }
    Ok(IdentityToDelete {
        id: identity_id.to_string(),
        etag,
        principal_id,
        assignments,
    })
}

/// Deletes the role assignments, then the identity (`DELETE` with `If-Match`: a 412 says it changed since it
/// was read). Ok: what was deleted, in words.
pub async fn delete_identity(client: &ArmClient, d: &IdentityToDelete) -> Result<String, String> {
    for a in &d.assignments {
        let req = arm_client::ops::delete_role_assignment(a).map_err(|e| e.to_string())?;
        client
            .execute(&req, &mut |_| {})
            .await
            .map_err(|e| format!("Deleting the role assignment {a}: {}", error_text(&e)))?;
    }
    let mut req = arm_client::ops::get_resource(&d.id).map_err(|e| e.to_string())?;
    req.method = identity_core::Method::Delete;
    if let Some(etag) = &d.etag {
        req.headers.push(("If-Match".into(), etag.clone()));
    }
    client.execute(&req, &mut |_| {}).await.map_err(|e| {
        if e.status == Some(412) {
            format!(
                "The identity changed since it was read (412), so it was not deleted: check it again. {}",
                error_text(&e)
            )
        } else {
            format!("Deleting the identity: {}", error_text(&e))
        }
    })?;
    Ok(format!(
        "Deleted {} and its {} role assignment{}.",
        super::spec::name_of(&d.id),
        d.assignments.len(),
        if d.assignments.len() == 1 { "" } else { "s" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use identity_core::bulk::BulkOp;

    fn state(name: &str, identity: serde_json::Value) -> ResourceState {
        ResourceState::from_arm(
            &serde_json::json!({
                "id": format!("/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/{name}"),
                "properties": {"orchestrationMode": if name.contains("flex") { "Flexible" } else { "Uniform" }},
                "identity": identity,
                "etag": "\"1\"",
            }),
            None,
        )
        .unwrap()
    }

    #[test]
    fn the_batch_holds_every_item_with_the_review_outcome_of_those_not_sent() {
        let op = BulkOp::EnableSystemAssigned { grant: None };
        let states = [
            state("a", serde_json::json!({"type": "None"})),
            state("b", serde_json::json!({"type": "SystemAssigned"})),
            state("flex", serde_json::json!({"type": "None"})),
        ];
        let br = BulkReview {
            review: review(&op, &states, None),
            unreadable: vec![("/subscriptions/s/x/gone".into(), "404".into())],
            from_inventory: false,
        };
        let spec = BatchSpec {
            operation: op,
            from_identity: None,
        };
        let st = br.batch(&spec, 7);
        let got: Vec<(String, ItemStatus)> = st
            .items
            .iter()
            .map(|i| (super::super::spec::name_of(&i.id).to_string(), i.status))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a".into(), ItemStatus::Pending),
                ("b".into(), ItemStatus::NoOp),
                ("flex".into(), ItemStatus::Refused),
                ("gone".into(), ItemStatus::Failed),
            ]
        );
        assert!(st.items[2].message.as_deref().unwrap().contains("Flexible"));
        assert_eq!(super::super::store::spec_of(&st).unwrap(), spec);
        // the lists name every item, the unreadable one too
        assert_eq!(
            br.to_csv("https://m").trim_end().split("\r\n").count(),
            1 + 4
        );
        assert_eq!(br.to_json("https://m")["unreadable"][0]["reason"], "404");
    }

    #[test]
    fn the_report_has_the_identities_read_back() {
        let mut st = BatchState::new(&["/subscriptions/s/x/a".to_string(), "=b".to_string()]);
        st.items[0].status = ItemStatus::Applied;
        st.items[0].http_status = Some(200);
        st.items[0].time_ms = Some(0);
        let rb: HashMap<String, String> = [(
            "/subscriptions/s/x/a".to_string(),
            "system-assigned, id-web".to_string(),
        )]
        .into();
        let csv = report_csv(&st, &rb);
        let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
        assert_eq!(
            lines[0],
            "item,outcome,status,correlation_id,time,message,class,hint,identities"
        );
        assert_eq!(
            lines[1],
            "/subscriptions/s/x/a,applied,200,,1970-01-01T00:00:00.000Z,,,,\"system-assigned, id-web\""
        );
        assert_eq!(lines[2], "'=b,not sent,,,,,,,", "a formula is defused");
        assert_eq!(
            report_json(&st, &rb)[0]["identities"],
            "system-assigned, id-web"
        );
    }
}
