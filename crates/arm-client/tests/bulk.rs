//! The bulk scheduler on a discrete-event virtual clock: pacing (never above ARM's buckets), the concurrency
//! bound, Retry-After, remaining-count headers, 412 per item, pause / resume / cancel, resume from the
//! serialized state, the report — and the identity change across armsim's generated tenant with its quotas on.

use arm_client::bulk::{
    BatchHandle, BatchState, BulkOptions, Counters, EventClock, FnRunner, ItemCtx, ItemResult,
    ItemRunner, ItemStatus, Kind, Outcome, PacedTransport, Pacer, Scheduler,
};
use arm_client::{
    Clock, HttpRequest, HttpResponse, LocalBoxFuture, Method, Transport, TransportError,
};
use std::cell::RefCell;
use std::rc::Rc;

const SUB_A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const SUB_B: &str = "bbbbbbbb-0000-4000-8000-000000000002";

fn ids(sub: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-{i:03}"
            )
        })
        .collect()
}

/// A transport that answers each request from a script (default 200) and records (time, method, url).
struct Recorder {
    clock: EventClock,
    sent: RefCell<Vec<(u64, String, String)>>,
    answer: Answer,
}

type Answer = Box<dyn Fn(usize, &HttpRequest) -> HttpResponse>;

impl Transport for Recorder {
    fn send(&self, req: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, TransportError>> {
        let n = self.sent.borrow().len();
        self.sent.borrow_mut().push((
            self.clock.now_ms(),
            req.method.as_str().to_string(),
            req.url.clone(),
        ));
        let r = (self.answer)(n, &req);
        Box::pin(std::future::ready(Ok(r)))
    }
}

fn ok() -> HttpResponse {
    HttpResponse::json(200, &serde_json::json!({}))
}

/// Setup: a recorder behind ARM's pacer on an event clock.
fn paced(
    answer: impl Fn(usize, &HttpRequest) -> HttpResponse + 'static,
) -> (EventClock, Rc<Recorder>, Rc<Pacer>, Rc<PacedTransport>) {
    let clock = EventClock::new(0);
    let rec = Rc::new(Recorder {
        clock: clock.clone(),
        sent: RefCell::new(vec![]),
        answer: Box::new(answer),
    });
    let pacer = Rc::new(Pacer::arm(Rc::new(clock.clone())));
    let t = Rc::new(PacedTransport::new(rec.clone(), pacer.clone()));
    (clock, rec, pacer, t)
}

/// A runner that sends one GET then one PATCH for the item through `t`, resending a request answered 429.
fn get_patch_runner(
    t: Rc<PacedTransport>,
) -> FnRunner<impl Fn(String, ItemCtx) -> LocalBoxFuture<'static, ItemResult>> {
    FnRunner(move |id: String, _ctx| {
        let t = t.clone();
        Box::pin(async move {
            for m in [Method::Get, Method::Patch] {
                loop {
                    let r = t
                        .send(HttpRequest::new(
                            m,
                            format!("https://management.azure.com{id}"),
                        ))
                        .await
                        .unwrap();
                    if r.status != 429 {
                        break;
                    }
                }
            }
            ItemResult {
                status: Some(200),
                ..ItemResult::of(Outcome::Applied)
            }
        }) as LocalBoxFuture<'static, ItemResult>
    })
}

/// For every pair of requests of one kind: the count between them never exceeds burst + rate × elapsed.
fn assert_within_bucket(times: &[u64], burst: f64, per_s: f64) {
    for i in 0..times.len() {
        for j in i..times.len() {
            let n = (j - i + 1) as f64;
            let allowed = burst + per_s * (times[j] - times[i]) as f64 / 1000.0;
            assert!(
                n <= allowed + 1e-9,
                "{n} requests in {} ms (allowed {allowed})",
                times[j] - times[i]
            );
        }
    }
}

fn times_of(rec: &Recorder, method: &str, sub: &str) -> Vec<u64> {
    rec.sent
        .borrow()
        .iter()
        .filter(|(_, m, u)| m == method && u.contains(sub))
        .map(|(t, _, _)| *t)
        .collect()
}

/// Runs `items` through [`get_patch_runner`] on `t` to the end, `concurrency` at a time, up to `max_replans`.
fn run_get_patch(
    clock: &EventClock,
    t: Rc<PacedTransport>,
    items: &[String],
    concurrency: usize,
    max_replans: u32,
) -> Counters {
    let s = Scheduler::new(
        items,
        get_patch_runner(t),
        Rc::new(clock.clone()),
        BulkOptions {
            concurrency,
            max_replans,
        },
    );
    clock.run(s.run())
}

#[test]
fn pacing_never_exceeds_arms_buckets_and_uses_them_fully() {
    let (clock, rec, _pacer, t) = paced(|_, _| ok());
    let mut items = ids(SUB_A, 500);
    items.extend(ids(SUB_B, 300));
    let c = run_get_patch(&clock, t, &items, 400, 3);
    assert_eq!(c.applied, 800);
    for (sub, n) in [(SUB_A, 500), (SUB_B, 300)] {
        let w = times_of(&rec, "PATCH", sub);
        let r = times_of(&rec, "GET", sub);
        assert_eq!((w.len(), r.len()), (n, n));
        assert_within_bucket(&w, 200.0, 10.0);
        assert_within_bucket(&r, 250.0, 25.0);
    }
    // subscription A's 500 writes need (500 − 200) / 10 = 30 s at best; the scheduler takes no longer
    let last = *times_of(&rec, "PATCH", SUB_A).last().unwrap();
    assert_eq!(last, 30_000);
    // B's 300 writes ran beside A's, in (300 − 200) / 10 = 10 s
    assert_eq!(*times_of(&rec, "PATCH", SUB_B).last().unwrap(), 10_000);
}

#[test]
fn concurrency_is_bounded() {
    let clock = EventClock::new(0);
    let live = Rc::new(RefCell::new((0usize, 0usize)));
    let (c2, l2) = (clock.clone(), live.clone());
    let runner = FnRunner(move |_id: String, _ctx| {
        let (c, l) = (c2.clone(), l2.clone());
        Box::pin(async move {
            {
                let mut x = l.borrow_mut();
                x.0 += 1;
                x.1 = x.1.max(x.0);
            }
            c.sleep(1_000).await;
            l.borrow_mut().0 -= 1;
            ItemResult::of(Outcome::NoOp)
        }) as LocalBoxFuture<'static, ItemResult>
    });
    let s = Scheduler::new(
        &ids(SUB_A, 20),
        runner,
        Rc::new(clock.clone()),
        BulkOptions {
            concurrency: 5,
            max_replans: 0,
        },
    );
    let c = clock.run(s.run());
    assert_eq!(c.no_op, 20);
    assert_eq!(live.borrow().1, 5);
    assert_eq!(clock.now_ms(), 4_000);
}

#[test]
fn a_429_pauses_that_subscription_until_retry_after_and_not_the_other() {
    // the first write of A's vmss-001 is answered 429 with Retry-After: 7
    let a1 = format!(
        "{SUB_A}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-001"
    );
    let fired = std::cell::Cell::new(false);
    let a1c = a1.clone();
    let (clock, rec, pacer, t) = paced(move |_, req| {
        if !fired.get() && req.method == Method::Patch && req.url.ends_with(&a1c) {
            fired.set(true);
            HttpResponse::json(
                429,
                &serde_json::json!({"error": {"code": "SubscriptionRequestsThrottled", "message": "slow down"}}),
            )
            .with_header("Retry-After", "7")
        } else {
            ok()
        }
    });
    let mut items = ids(SUB_A, 3);
    items.extend(ids(SUB_B, 3));
    let c = run_get_patch(&clock, t, &items, 2, 0);
    assert_eq!(c.applied, 6);
    let sent = rec.sent.borrow().clone();
    let a1_writes: Vec<u64> = sent
        .iter()
        .filter(|(_, m, u)| m == "PATCH" && u.ends_with(&a1))
        .map(|(t, _, _)| *t)
        .collect();
    // sent again exactly when Retry-After allows
    assert_eq!(a1_writes.len(), 2);
    let t429 = a1_writes[0];
    assert_eq!(a1_writes[1], t429 + 7_000);
    let k = sent
        .iter()
        .position(|(t, m, u)| *t == t429 && m == "PATCH" && u.ends_with(&a1))
        .unwrap();
    for (t, m, u) in &sent[k + 1..] {
        if u.contains(SUB_A) && m == "PATCH" {
            assert!(*t >= t429 + 7_000, "A write at {t}");
        }
    }
    // B was not held back by A's pause
    assert!(
        sent[k + 1..]
            .iter()
            .any(|(t, m, u)| u.contains(SUB_B) && m == "PATCH" && *t < t429 + 7_000),
        "{sent:?}"
    );
    let st = pacer.stats();
    assert_eq!(st.throttled(), 1);
    assert_eq!(st.writes_throttled(), 1);
    assert!(st.throttle_waits >= 1);
}

#[test]
fn remaining_count_header_lowers_the_bucket() {
    // ARM says no write is left (another client of this caller spent them): the next write waits one refill
    let (clock, rec, _pacer, t) = paced(|n, _| {
        if n == 1 {
            ok().with_header("x-ms-ratelimit-remaining-subscription-writes", "0")
        } else {
            ok()
        }
    });
    run_get_patch(&clock, t, &ids(SUB_A, 2), 1, 0);
    let w = times_of(&rec, "PATCH", SUB_A);
    assert_eq!(w, vec![0, 100]);
    let _ = Kind::of("PATCH");
}

#[test]
fn a_412_replans_that_item_only_and_is_bounded() {
    let clock = EventClock::new(0);
    let calls = Rc::new(RefCell::new(Vec::<(String, ItemCtx)>::new()));
    let c2 = calls.clone();
    let runner = FnRunner(move |id: String, ctx: ItemCtx| {
        c2.borrow_mut().push((id.clone(), ctx));
        // vmss-001 is changed twice by someone else, then fine; vmss-002 keeps changing
        let outcome = if (id.ends_with("vmss-001") && ctx.attempt <= 2) || id.ends_with("vmss-002")
        {
            Outcome::Conflict
        } else {
            Outcome::Applied
        };
        Box::pin(std::future::ready(ItemResult {
            status: Some(if outcome == Outcome::Conflict {
                412
            } else {
                200
            }),
            ..ItemResult::of(outcome)
        })) as LocalBoxFuture<'static, ItemResult>
    });
    let s = Scheduler::new(
        &ids(SUB_A, 4),
        runner,
        Rc::new(clock.clone()),
        BulkOptions {
            concurrency: 2,
            max_replans: 3,
        },
    );
    let h = s.handle();
    let c = clock.run(s.run());
    assert_eq!((c.applied, c.failed), (3, 1));
    assert_eq!(c.replans, 2 + 3);
    let calls = calls.borrow();
    let of = |n: &str| -> Vec<ItemCtx> {
        calls
            .iter()
            .filter(|(i, _)| i.ends_with(n))
            .map(|(_, c)| *c)
            .collect()
    };
    assert_eq!(of("vmss-000").len(), 1);
    assert_eq!(of("vmss-001").len(), 3);
    assert_eq!(of("vmss-002").len(), 4);
    assert!(!of("vmss-001")[0].rerun && of("vmss-001")[1].rerun);
    assert_eq!(of("vmss-001")[2].attempt, 3);
    let st = h.snapshot();
    assert_eq!(st.items[2].status, ItemStatus::Failed);
    assert!(
        st.items[2]
            .message
            .as_deref()
            .unwrap()
            .contains("412 after 3 re-plans")
    );
}

fn sleepy_runner(
    clock: &EventClock,
    started: &Rc<RefCell<Vec<String>>>,
) -> FnRunner<impl Fn(String, ItemCtx) -> LocalBoxFuture<'static, ItemResult>> {
    let (c, s) = (clock.clone(), started.clone());
    FnRunner(move |id: String, _ctx| {
        s.borrow_mut().push(id);
        let c = c.clone();
        Box::pin(async move {
            c.sleep(1_000).await;
            ItemResult {
                status: Some(200),
                correlation_id: Some("corr-1".into()),
                ..ItemResult::of(Outcome::Applied)
            }
        }) as LocalBoxFuture<'static, ItemResult>
    })
}

/// 10 items of `SUB_A` through [`sleepy_runner`], `concurrency` at a time, no re-plans; `act` is called on the
/// batch's handle when the item whose id ends with `at` starts running.
fn sleepy_batch(
    clock: &EventClock,
    started: &Rc<RefCell<Vec<String>>>,
    concurrency: usize,
    at: &'static str,
    act: fn(&BatchHandle),
) -> (Scheduler<impl ItemRunner>, BatchHandle) {
    let s = Scheduler::new(
        &ids(SUB_A, 10),
        sleepy_runner(clock, started),
        Rc::new(clock.clone()),
        BulkOptions {
            concurrency,
            max_replans: 0,
        },
    );
    let h = s.handle();
    let h2 = h.clone();
    let s = s.on_item(move |it| {
        if it.id.ends_with(at) && it.status == ItemStatus::Running {
            act(&h2);
        }
    });
    (s, h)
}

#[test]
fn pause_lets_in_flight_finish_and_starts_nothing_until_resume() {
    let clock = EventClock::new(0);
    let started = Rc::new(RefCell::new(vec![]));
    let (s, h) = sleepy_batch(&clock, &started, 2, "vmss-003", BatchHandle::pause);
    let mut fut = Box::pin(s.run());
    assert!(clock.drive(&mut fut).is_none(), "waits while paused");
    assert!(h.is_paused());
    let c = h.counters();
    // items 0..=3 started; the in-flight pair (2, 3) finished; nothing else was sent
    assert_eq!((c.applied, c.running, c.pending), (4, 0, 6));
    assert_eq!(started.borrow().len(), 4);
    let paused_at = clock.now_ms();
    h.resume();
    let c = clock.drive(&mut fut).expect("finishes after resume");
    assert_eq!(c.applied, 10);
    assert_eq!(started.borrow().len(), 10);
    assert_eq!(clock.now_ms(), paused_at + 3_000);
}

#[test]
fn cancel_sends_nothing_new_and_reports_in_flight_items() {
    let clock = EventClock::new(0);
    let started = Rc::new(RefCell::new(vec![]));
    let (s, h) = sleepy_batch(&clock, &started, 3, "vmss-004", BatchHandle::cancel);
    let c = clock.run(s.run());
    // 0,1,2 ran, then 3,4,5 were started together; the cancel came as 4 started: 5 was never sent
    assert_eq!(started.borrow().len(), 5);
    assert_eq!((c.applied, c.running, c.pending), (5, 0, 5));
    let st = h.snapshot();
    assert_eq!(st.items[4].status, ItemStatus::Applied);
    assert_eq!(st.items[4].correlation_id.as_deref(), Some("corr-1"));
    assert_eq!(st.items[5].status, ItemStatus::Pending);
    let csv = st.report_csv();
    assert!(csv.starts_with("item,outcome,status,correlation_id,time,message,class,hint\r\n"));
    assert!(
        csv.contains("vmss-004,applied,200,corr-1,1970-01-01T00:00:02.000Z,,,\r\n"),
        "{csv}"
    );
    assert!(csv.contains("vmss-005,not sent,,,,,,\r\n"));
    let j = st.report_json();
    assert_eq!(j[4]["outcome"], "applied");
    assert_eq!(j[4]["status"], 200);
    assert_eq!(j[4]["correlationId"], "corr-1");
    assert_eq!(j[9]["outcome"], "not sent");
}

#[test]
fn resume_from_saved_state_skips_done_items_and_rereads_interrupted_ones() {
    let items = ids(SUB_A, 5);
    let mut st = BatchState::new(&items).with_operation(r#"{"addUserAssigned":{"ids":["x"]}}"#);
    st.items[0].status = ItemStatus::Applied;
    st.items[1].status = ItemStatus::NoOp;
    st.items[2].status = ItemStatus::Running; // the tab closed while it was in flight
    st.items[3].status = ItemStatus::Refused;
    let json = st.to_json();
    assert!(!json.to_ascii_lowercase().contains("bearer") && !json.contains("token"));
    let back = BatchState::from_json(&json).unwrap();
    assert_eq!(back, st);
    assert!(
        BatchState::from_json("{\"version\":2,\"items\":[]}")
            .unwrap_err()
            .contains("version 2")
    );

    let clock = EventClock::new(0);
    let calls = Rc::new(RefCell::new(vec![]));
    let c2 = calls.clone();
    let runner = FnRunner(move |id: String, ctx: ItemCtx| {
        c2.borrow_mut().push((id, ctx.rerun));
        Box::pin(std::future::ready(ItemResult::of(Outcome::Applied)))
            as LocalBoxFuture<'static, ItemResult>
    });
    let s = Scheduler::resume(back, runner, Rc::new(clock.clone()), BulkOptions::default());
    let h = s.handle();
    let c = clock.run(s.run());
    assert_eq!(
        *calls.borrow(),
        vec![(items[2].clone(), true), (items[4].clone(), false)]
    );
    assert_eq!((c.applied, c.no_op, c.refused, c.pending), (3, 1, 1, 0));
    assert!(h.snapshot().is_finished());
    // ids repeated in another case are one item
    let mut dup = items.clone();
    dup.push(items[0].to_uppercase());
    assert_eq!(BatchState::new(&dup).items.len(), 5);
}

#[test]
fn identity_assignment_across_armsim_tenant_with_quotas_on() {
    let f = arm_client::bulk::bench::identity_bench(
        2,
        500,
        BulkOptions {
            concurrency: 128,
            max_replans: 3,
        },
    );
    println!("{}", f.line());
    assert_eq!(f.changes, 1000);
    assert_eq!(f.lost, 0, "{f:?}");
    assert_eq!(f.failed, 0, "{f:?}");
    assert!(f.counters.applied > 500, "{f:?}");
    assert!(f.throttled_writes * 100 <= f.writes, "{f:?}");
    assert!(f.quota_min_seconds >= 25.0, "{f:?}");
    assert!(f.seconds <= 1.2 * f.quota_min_seconds, "{f:?}");
}

/// The real runner against armsim in-process (quotas on) with faults: 412s from concurrent writers (one of them
/// adding an identity the change does not name), a 429 storm on writes, a dropped connection after the write took
/// effect. Every item ends applied or no-op, nothing is lost, the concurrent writer's identity is kept.
/// armsim in-process on `clock` with ARM's quota on and 2 s long-running operations.
fn quota_sim(seed: armsim::Seed, clock: &EventClock) -> arm_client::transport::sim::SimTransport {
    arm_client::transport::sim::SimTransport::new(
        armsim::Sim::with_config(
            seed,
            armsim::SimConfig {
                arm_quota: true,
                lro_delay_ms: 2_000,
                ..armsim::SimConfig::default()
            },
        ),
        Rc::new(clock.clone()),
    )
}

/// A client to `sim` through `pacer`: 16 requests at once, retries seeded with `retry_seed`, LRO polled every 2 s
/// without the final GET.
fn paced_client(
    sim: &arm_client::transport::sim::SimTransport,
    pacer: Rc<Pacer>,
    clock: &EventClock,
    retry_seed: u64,
) -> arm_client::ArmClient {
    arm_client::ArmClient::builder(
        "https://management.azure.com",
        Rc::new(PacedTransport::new(Rc::new(sim.clone()), pacer)),
        Rc::new(arm_client::StaticToken::new("t")),
    )
    .clock(Rc::new(clock.clone()))
    .concurrency(16)
    .retry(arm_client::RetryPolicy::default().with_seed(retry_seed))
    .lro(arm_client::LroOptions {
        poll_ms: 2_000,
        final_get: false,
        ..arm_client::LroOptions::default()
    })
    .build()
    .unwrap()
}

#[test]
fn identity_runner_survives_412s_429s_and_a_dropped_connection() {
    use arm_client::bulk::IdentityRunner;
    use armsim::{Change, Fault, Matcher, Seed, Sim, SimRequest, Trigger};
    use std::collections::BTreeSet;

    let seed = Seed::generate_tenant(&armsim::tenant::TenantSpec {
        subscriptions: 1,
        scale_sets: 30,
        vms: 0,
        identities: 4,
    });
    let sid = seed.subscriptions[0].subscription_id.clone();
    let mut items = vec![];
    let mut uas = vec![];
    for g in &seed.subscriptions[0].resource_groups {
        for v in &g.virtual_machine_scale_sets {
            items.push(format!("/subscriptions/{sid}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachineScaleSets/{}", g.name, v.name));
        }
        for u in &g.user_assigned_identities {
            uas.push(format!("/subscriptions/{sid}/resourceGroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}", g.name, u.name));
        }
    }
    let ua = uas
        .iter()
        .find(|u| u.ends_with("/id-shared-platform"))
        .unwrap()
        .clone();
    let other = uas
        .iter()
        .find(|u| !u.ends_with("/id-shared-platform"))
        .unwrap()
        .clone();
    let ids_of = |sim: &mut Sim, id: &str, now| -> BTreeSet<String> {
        let b = sim
            .handle(
                SimRequest::new("GET", &format!("{id}?api-version=2024-11-01")),
                now,
            )
            .json();
        let mut s = BTreeSet::new();
        if b["identity"]["type"]
            .as_str()
            .unwrap_or("")
            .contains("SystemAssigned")
        {
            s.insert("system".to_string());
        }
        if let Some(m) = b["identity"]["userAssignedIdentities"].as_object() {
            s.extend(m.keys().map(|k| k.to_ascii_lowercase()));
        }
        s
    };
    let mut copy = Sim::from_seed(seed.clone());
    let before: Vec<BTreeSet<String>> = items.iter().map(|i| ids_of(&mut copy, i, 0)).collect();
    // the racing writer adds `other` to a scale set without system-assigned that does not have it yet
    let raced = (0..items.len())
        .find(|&k| {
            !before[k].contains("system")
                && !before[k].contains(&other.to_ascii_lowercase())
                && !before[k].contains(&ua.to_ascii_lowercase())
        })
        .unwrap();

    let needs: Vec<usize> = (0..items.len())
        .filter(|&k| k != raced && !before[k].contains(&ua.to_ascii_lowercase()))
        .collect();
    let (bumped, dropped) = (needs[..3].to_vec(), needs[3]);
    let clock = EventClock::new(0);
    let sim = quota_sim(seed, &clock);
    {
        let mut s = sim.sim();
        for &k in &bumped {
            s.inject(Fault::ConcurrentWrite {
                resource_id: items[k].clone(),
                change: Change::BumpEtag,
                trigger: Trigger::AfterNextGet,
            });
        }
        s.inject(Fault::ConcurrentWrite {
            resource_id: items[raced].clone(),
            change: Change::Identity { identity: serde_json::json!({"type": "UserAssigned", "userAssignedIdentities": {other.clone(): {}}}) },
            trigger: Trigger::AfterNextGet,
        });
        s.inject(Fault::Throttle {
            count: 3,
            retry_after_seconds: 2,
            matcher: Matcher {
                method: Some("PATCH".into()),
                path_contains: None,
            },
        });
        s.inject(Fault::Drop {
            count: 1,
            after_processing: true,
            matcher: Matcher {
                method: Some("PATCH".into()),
                path_contains: Some(items[dropped].rsplit('/').next().unwrap().into()),
            },
        });
    }
    let pacer = Rc::new(Pacer::arm(Rc::new(clock.clone())));
    let client = paced_client(&sim, pacer.clone(), &clock, 3);
    let runner = IdentityRunner::new(
        client,
        identity_core::Operation::AddUserAssigned {
            ids: vec![ua.clone()],
        },
    );
    let s = Scheduler::new(
        &items,
        runner,
        Rc::new(clock.clone()),
        BulkOptions {
            concurrency: 8,
            max_replans: 3,
        },
    );
    let h = s.handle();
    let c = clock.run(s.run());
    assert_eq!(c.failed + c.pending + c.running, 0, "{:#?}", h.snapshot());
    assert!(c.replans >= 4, "{c:?}");
    assert_eq!(pacer.stats().writes_throttled(), 3);
    let mut s = sim.sim();
    let mut cfg = s.config().clone();
    cfg.arm_quota = false;
    s.set_config(cfg);
    let log_429 = s.request_log().iter().filter(|e| e.status == 429).count();
    assert_eq!(log_429, 3);
    for (k, id) in items.iter().enumerate() {
        let after = ids_of(&mut s, id, 10_000_000);
        assert!(
            before[k].is_subset(&after),
            "{id}: {:?} → {after:?}",
            before[k]
        );
        assert!(after.contains(&ua.to_ascii_lowercase()), "{id}");
    }
    assert!(
        ids_of(&mut s, &items[raced], 10_000_000).contains(&other.to_ascii_lowercase()),
        "the concurrent writer's identity is kept"
    );
    let st = h.snapshot();
    for k in bumped.iter().copied().chain([raced]) {
        assert!(st.items[k].attempts >= 2, "{:?}", st.items[k]);
    }
    // the write whose answer was lost took effect: the resend met a new etag (412), the re-read found the
    // identity there — reported as a no-op, never as a write ARM acknowledged
    assert_eq!(
        st.items[dropped].status,
        ItemStatus::NoOp,
        "{:?}",
        st.items[dropped]
    );
    assert!(st.items[dropped].attempts >= 2);
    // every applied item names the correlation id ARM echoed for its write
    for it in st.items.iter().filter(|i| i.status == ItemStatus::Applied) {
        let corr = it.correlation_id.as_deref().unwrap();
        assert!(s.request_log().iter().any(|e| {
            e.method == "PATCH"
                && e.headers.iter().any(|(k, v)| {
                    k.eq_ignore_ascii_case("x-ms-correlation-request-id") && v == corr
                })
        }));
    }
}

/// A tab closed mid-batch: the state saved while items were in flight (some of their writes already sent) is
/// resumed by a new scheduler with a new client. Finished items are skipped; the interrupted ones are read again
/// and found done (no-op) or written once — no item is written twice, nothing is lost.
#[test]
fn reload_mid_batch_resumes_from_the_saved_state_without_writing_twice() {
    use arm_client::bulk::IdentityRunner;
    use armsim::Seed;

    let seed = Seed::generate_tenant(&armsim::tenant::TenantSpec {
        subscriptions: 2,
        scale_sets: 60,
        vms: 0,
        identities: 4,
    });
    let items = arm_client::bulk::bench::scale_set_ids(&seed);
    let ua = arm_client::bulk::bench::shared_identity(&seed);
    let op = identity_core::Operation::AddUserAssigned {
        ids: vec![ua.clone()],
    };
    let clock = EventClock::new(0);
    let sim = quota_sim(seed, &clock);
    let client = || paced_client(&sim, Rc::new(Pacer::arm(Rc::new(clock.clone()))), &clock, 5);
    let opts = BulkOptions {
        concurrency: 8,
        max_replans: 3,
    };
    // session 1: the state is saved (as the page does on every change) until the tab closes after 20 items
    let s1 = Scheduler::new(
        &items,
        IdentityRunner::new(client(), op.clone()),
        Rc::new(clock.clone()),
        opts,
    );
    let h1 = s1.handle();
    let saved = Rc::new(RefCell::new(String::new()));
    let (h1c, sv) = (h1.clone(), saved.clone());
    let s1 = s1.on_item(move |_| {
        let c = h1c.counters();
        if c.applied + c.no_op + c.refused + c.failed < 20 {
            *sv.borrow_mut() = h1c.snapshot().to_json();
        } else {
            h1c.cancel(); // the tab is gone: nothing new starts (the in-flight writes reach ARM)
        }
    });
    clock.run(s1.run());
    let st = BatchState::from_json(&saved.borrow()).unwrap();
    let interrupted: Vec<String> = st
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::Running)
        .map(|i| i.id.clone())
        .collect();
    assert!(!interrupted.is_empty(), "saved with items in flight");
    let done_before = st.items.iter().filter(|i| i.status.is_final()).count();
    assert_eq!(done_before, 19);
    // session 2: a new client, the saved state
    let s2 = Scheduler::resume(
        st,
        IdentityRunner::new(client(), op),
        Rc::new(clock.clone()),
        opts,
    );
    let h2 = s2.handle();
    let c = clock.run(s2.run());
    assert_eq!(c.failed + c.pending + c.running, 0, "{c:?}");
    let end = h2.snapshot();
    let mut found_done = 0;
    for id in &interrupted {
        let it = end.items.iter().find(|i| &i.id == id).unwrap();
        assert!(
            matches!(it.status, ItemStatus::NoOp | ItemStatus::Applied),
            "{it:?}"
        );
        found_done += usize::from(it.status == ItemStatus::NoOp);
    }
    // their writes reached ARM after the save: the re-read finds them done and sends nothing
    assert!(found_done > 0, "{} interrupted", interrupted.len());
    // no item was written twice across both sessions, and each ends with the identity
    let mut s = sim.sim();
    let mut writes: std::collections::BTreeMap<String, usize> = Default::default();
    for e in s
        .request_log()
        .iter()
        .filter(|e| e.method == "PATCH" && e.status < 300)
    {
        *writes.entry(e.path.to_ascii_lowercase()).or_default() += 1;
    }
    assert!(writes.values().all(|&n| n == 1), "{writes:?}");
    let mut cfg = s.config().clone();
    cfg.arm_quota = false;
    s.set_config(cfg);
    for id in &items {
        let b = s
            .handle(
                armsim::SimRequest::new("GET", &format!("{id}?api-version=2024-11-01")),
                clock.now_ms() + 1_000_000,
            )
            .json();
        let m = b["identity"]["userAssignedIdentities"].as_object().unwrap();
        assert!(m.keys().any(|k| k.eq_ignore_ascii_case(&ua)), "{id}");
    }
}

// ---- the bulk operations (identity_core::bulk::BulkOp) through the runner on flow, on the demo tenant ----

mod ops {
    use super::*;
    use arm_client::bulk::{BulkOp, GrantScope, IdentityRunner, RoleGrant, grant_before_batch};
    use arm_client::transport::sim::SimTransport;
    use armsim::{Change, Fault, Seed, Sim, SimConfig, SimRequest, Trigger};
    use identity_core::bulk::{Verdict, assignment_name, review};
    use std::collections::BTreeSet;

    const S1: &str = "11111111-1111-4111-8111-111111111111";
    const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

    fn vmss(g: &str, n: &str) -> String {
        format!(
            "/subscriptions/{S1}/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachineScaleSets/{n}"
        )
    }
    fn vm(g: &str, n: &str) -> String {
        format!(
            "/subscriptions/{S1}/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachines/{n}"
        )
    }
    fn ua(n: &str) -> String {
        format!(
            "/subscriptions/{S1}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}"
        )
    }
    /// Uniform with both kinds, Uniform with none, Flexible with one user-assigned, two VMs, the two legacy ones.
    fn items() -> Vec<String> {
        vec![
            vmss("rg-web", "vmss-web"),
            vmss("rg-web", "vmss-api"),
            vmss("rg-web", "vmss-flex"),
            vm("rg-web", "vm-jump"),
            vm("rg-web", "vm-win-admin"),
            vmss("rg-batch", "vmss-legacy"),
            vm("rg-batch", "vm-legacy-win"),
        ]
    }

    struct Env {
        clock: EventClock,
        sim: SimTransport,
    }

    impl Env {
        fn new(cfg: SimConfig) -> Env {
            let clock = EventClock::new(1_700_000_000_000);
            let sim =
                SimTransport::new(Sim::with_config(Seed::demo(), cfg), Rc::new(clock.clone()));
            Env { clock, sim }
        }
        fn client(&self) -> arm_client::ArmClient {
            arm_client::ArmClient::builder(
                "https://management.azure.com",
                Rc::new(self.sim.clone()),
                Rc::new(arm_client::StaticToken::new("t")),
            )
            .clock(Rc::new(self.clock.clone()))
            .retry(arm_client::RetryPolicy::default().with_seed(5))
            .build()
            .unwrap()
        }
        fn get(&self, path: &str, api: &str) -> (u16, serde_json::Value) {
            let r = self.sim.sim().handle(
                SimRequest::new("GET", &format!("{path}?api-version={api}")),
                self.clock.now_ms() + 3_600_000,
            );
            (r.status, r.json())
        }
        fn state(&self, id: &str) -> identity_core::ResourceState {
            let (_, b) = self.get(id, identity_core::api_versions::COMPUTE);
            identity_core::ResourceState::from_arm(&b, None).unwrap()
        }
        /// "system" and the lower-cased user-assigned ids.
        fn identities(&self, id: &str) -> BTreeSet<String> {
            let s = self.state(id);
            let mut out: BTreeSet<String> = s
                .identity
                .user_assigned
                .iter()
                .map(|u| u.id.to_ascii_lowercase())
                .collect();
            if s.identity.system_assigned {
                out.insert("system".into());
            }
            out
        }
        fn run(&self, op: &BulkOp, items: &[String]) -> BatchHandle {
            let s = Scheduler::new(
                items,
                IdentityRunner::for_op(self.client(), op),
                Rc::new(self.clock.clone()),
                BulkOptions {
                    concurrency: 4,
                    max_replans: 3,
                },
            );
            let h = s.handle();
            self.clock.run(s.run());
            h
        }
        fn writes(&self) -> usize {
            self.sim
                .sim()
                .request_log()
                .iter()
                .filter(|e| e.method != "GET")
                .count()
        }
    }

    fn status_word(v: Verdict) -> ItemStatus {
        match v {
            Verdict::Request => ItemStatus::Applied,
            Verdict::NoOp => ItemStatus::NoOp,
            Verdict::Refused => ItemStatus::Refused,
        }
    }

    /// Runs `op` over the demo items: the review made from the states before predicts each item's outcome; no
    /// identity the operation does not name is lost; returns the statuses by item name and the envs.
    fn run_op(op: &BulkOp) -> (Env, Vec<(String, ItemStatus)>) {
        let env = Env::new(SimConfig::default());
        let ids = items();
        let before: Vec<_> = ids.iter().map(|i| env.state(i)).collect();
        let rv = review(op, &before, None);
        let h = env.run(op, &ids);
        let st = h.snapshot();
        let named: Option<String> = match op {
            BulkOp::RemoveUserAssigned { identity } => Some(identity.to_ascii_lowercase()),
            _ => None,
        };
        let mut out = vec![];
        for (k, it) in st.items.iter().enumerate() {
            assert_eq!(
                it.status,
                status_word(rv.items[k].verdict),
                "{op:?} {it:?} review {:?}",
                rv.items[k]
            );
            let mut was: BTreeSet<String> = before[k]
                .identity
                .user_assigned
                .iter()
                .map(|u| u.id.to_ascii_lowercase())
                .collect();
            if before[k].identity.system_assigned && !matches!(op, BulkOp::RemoveSystemAssigned) {
                was.insert("system".into());
            }
            if let Some(n) = &named {
                was.remove(n);
            }
            let now = env.identities(&it.id);
            assert!(was.is_subset(&now), "{op:?} {}: {was:?} → {now:?}", it.id);
            if it.status == ItemStatus::Applied {
                assert!(
                    it.correlation_id.is_some() && it.http_status.is_some(),
                    "{it:?}"
                );
            }
            out.push((it.id.rsplit('/').next().unwrap().to_string(), it.status));
        }
        (env, out)
    }

    fn of(out: &[(String, ItemStatus)], name: &str) -> ItemStatus {
        out.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn enable_and_remove_system_assigned_per_item() {
        let (env, out) = run_op(&BulkOp::EnableSystemAssigned { grant: None });
        assert_eq!(of(&out, "vmss-web"), ItemStatus::NoOp);
        assert_eq!(of(&out, "vmss-api"), ItemStatus::Applied);
        assert_eq!(
            of(&out, "vmss-flex"),
            ItemStatus::Refused,
            "Flexible accepts no system-assigned"
        );
        assert_eq!(of(&out, "vm-win-admin"), ItemStatus::Applied);
        assert!(
            env.identities(&vmss("rg-web", "vmss-api"))
                .contains("system")
        );

        let (env, out) = run_op(&BulkOp::RemoveSystemAssigned);
        assert_eq!(of(&out, "vmss-web"), ItemStatus::Applied);
        assert_eq!(of(&out, "vmss-api"), ItemStatus::NoOp);
        assert_eq!(of(&out, "vm-jump"), ItemStatus::Applied);
        let web = env.identities(&vmss("rg-web", "vmss-web"));
        assert!(
            !web.contains("system") && web.len() == 2,
            "user-assigned kept: {web:?}"
        );
    }

    #[test]
    fn assign_and_remove_a_user_assigned_identity_per_item() {
        let batch = ua("id-batch");
        let (env, out) = run_op(&BulkOp::AssignUserAssigned {
            identity: batch.clone(),
            grant: None,
        });
        assert!(
            out.iter().all(|(_, s)| *s == ItemStatus::Applied),
            "{out:?}"
        );
        for id in items() {
            assert!(
                env.identities(&id).contains(&batch.to_ascii_lowercase()),
                "{id}"
            );
        }
        let (env, out) = run_op(&BulkOp::RemoveUserAssigned {
            identity: ua("ID-WEB"),
        });
        assert_eq!(of(&out, "vmss-web"), ItemStatus::Applied);
        assert_eq!(of(&out, "vmss-flex"), ItemStatus::Applied);
        assert_eq!(of(&out, "vmss-api"), ItemStatus::NoOp);
        assert_eq!(
            env.identities(&vmss("rg-web", "vmss-web")),
            BTreeSet::from([
                "system".to_string(),
                ua("id-keyvault-reader").to_ascii_lowercase()
            ])
        );
        assert!(env.identities(&vmss("rg-web", "vmss-flex")).is_empty());
    }

    #[test]
    fn remove_the_legacy_extension_per_item() {
        let (env, out) = run_op(&BulkOp::RemoveLegacyExtension {
            upgrade_instances: true,
        });
        assert_eq!(of(&out, "vmss-legacy"), ItemStatus::Applied);
        assert_eq!(of(&out, "vm-legacy-win"), ItemStatus::Applied);
        assert_eq!(of(&out, "vmss-web"), ItemStatus::NoOp);
        for id in [
            vmss("rg-batch", "vmss-legacy"),
            vm("rg-batch", "vm-legacy-win"),
        ] {
            assert!(env.state(&id).legacy_extension.is_none(), "{id}");
        }
        let sim = env.sim.sim();
        let log = sim.request_log();
        let sent: Vec<(String, String)> = log
            .iter()
            .filter(|e| e.method != "GET")
            .map(|e| {
                (
                    e.method.clone(),
                    e.path.rsplit('/').take(2).collect::<Vec<_>>().join("<"),
                )
            })
            .collect();
        assert_eq!(
            sent.len(),
            3,
            "two DELETEs and the Manual scale set's manualupgrade: {sent:?}"
        );
        assert!(
            sent.iter()
                .any(|(m, p)| m == "POST" && p.starts_with("manualupgrade"))
        );
    }

    #[test]
    fn enable_system_assigned_grants_each_new_principal_once() {
        let env = Env::new(SimConfig {
            principal_delay_ms: 12_000,
            ..SimConfig::default()
        });
        let op = BulkOp::EnableSystemAssigned {
            grant: Some(RoleGrant {
                role_definition: READER.into(),
                scope: GrantScope::ResourceGroup,
                role_name: Some("Reader".into()),
            }),
        };
        let ids = vec![
            vmss("rg-web", "vmss-api"),
            vm("rg-web", "vm-win-admin"),
            vm("rg-web", "vm-jump"),
        ];
        let h = env.run(&op, &ids);
        let st = h.snapshot();
        assert_eq!(st.items[0].status, ItemStatus::Applied, "{:?}", st.items[0]);
        assert_eq!(st.items[1].status, ItemStatus::Applied, "{:?}", st.items[1]);
        assert_eq!(st.items[2].status, ItemStatus::NoOp, "already on: no grant");
        let scope = format!("/subscriptions/{S1}/resourceGroups/rg-web");
        for id in &ids[..2] {
            let pid = env.state(id).identity.principal_id.unwrap();
            let name = assignment_name(&scope, READER, &pid);
            let (status, body) = env.get(
                &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"),
                identity_core::api_versions::AUTHORIZATION,
            );
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["properties"]["principalId"], pid.as_str());
            assert!(
                st.items[0]
                    .message
                    .as_deref()
                    .unwrap()
                    .contains("granted Reader")
            );
        }
        let grants = |env: &Env| {
            env.sim
                .sim()
                .request_log()
                .iter()
                .filter(|e| {
                    e.method == "PUT" && e.path.contains("roleAssignments") && e.status == 201
                })
                .count()
        };
        assert_eq!(grants(&env), 2);
        // an item interrupted before its grant (saved as running) is re-read, found enabled, and granted: the
        // derived name makes it the same assignment, never a second one
        let mut saved = st.clone();
        saved.items[0].status = ItemStatus::Running;
        let s = Scheduler::resume(
            saved,
            IdentityRunner::for_op(env.client(), &op),
            Rc::new(env.clock.clone()),
            BulkOptions::default(),
        );
        let h = s.handle();
        env.clock.run(s.run());
        let it = &h.snapshot().items[0];
        assert_eq!(it.status, ItemStatus::NoOp, "{it:?}");
        assert!(
            it.message.as_deref().unwrap().contains("already granted"),
            "{it:?}"
        );
        assert_eq!(grants(&env), 2, "no second assignment");
    }

    #[test]
    fn assign_user_assigned_grants_its_principal_once_before_the_batch() {
        let env = Env::new(SimConfig::default());
        let scope = format!("/subscriptions/{S1}/resourceGroups/rg-web");
        let op = BulkOp::AssignUserAssigned {
            identity: ua("id-batch"),
            grant: Some(RoleGrant {
                role_definition: READER.into(),
                scope: GrantScope::Fixed {
                    scope: scope.clone(),
                },
                role_name: None,
            }),
        };
        let client = env.client();
        let first = arm_client::testing::block_on(grant_before_batch(&client, &op)).unwrap();
        assert!(first.is_ok(), "{first:?}");
        let again = arm_client::testing::block_on(grant_before_batch(&client, &op)).unwrap();
        assert!(
            again.as_ref().unwrap().contains("already granted"),
            "{again:?}"
        );
        let (_, idb) = env.get(
            &ua("id-batch"),
            identity_core::api_versions::MANAGED_IDENTITY,
        );
        let pid = idb["properties"]["principalId"].as_str().unwrap();
        let (status, _) = env.get(
            &format!(
                "{scope}/providers/Microsoft.Authorization/roleAssignments/{}",
                assignment_name(&scope, READER, pid)
            ),
            identity_core::api_versions::AUTHORIZATION,
        );
        assert_eq!(status, 200);
        // the runner itself makes no grant for a user-assigned identity
        let before = env.writes();
        let h = env.run(&op, &[vmss("rg-web", "vmss-api")]);
        assert_eq!(h.counters().applied, 1);
        assert_eq!(env.writes(), before + 1, "one PATCH, no role assignment");
        // a scope relative to each resource is refused: one principal, one grant
        let rel = BulkOp::AssignUserAssigned {
            identity: ua("id-batch"),
            grant: Some(RoleGrant {
                role_definition: READER.into(),
                scope: GrantScope::Resource,
                role_name: None,
            }),
        };
        let r = arm_client::testing::block_on(grant_before_batch(&client, &rel)).unwrap();
        assert_eq!(r.unwrap_err().outcome, Outcome::Refused);
    }

    #[test]
    fn a_412_on_one_item_replans_that_item_and_keeps_the_racing_writers_identity() {
        let env = Env::new(SimConfig::default());
        let ids = items();
        let raced = vmss("rg-web", "vmss-api");
        env.sim.sim().inject(Fault::ConcurrentWrite {
            resource_id: raced.clone(),
            change: Change::Identity {
                identity: serde_json::json!({"type": "UserAssigned", "userAssignedIdentities": {ua("id-web"): {}}}),
            },
            trigger: Trigger::AfterNextGet,
        });
        let op = BulkOp::AssignUserAssigned {
            identity: ua("id-keyvault-reader"),
            grant: None,
        };
        let h = env.run(&op, &ids);
        let c = h.counters();
        assert_eq!(c.replans, 1, "{c:?}");
        let st = h.snapshot();
        for it in &st.items {
            let expect_attempts = if it.id == raced { 2 } else { 1 };
            assert_eq!(it.attempts, expect_attempts, "{it:?}");
        }
        let k = ids.iter().position(|i| *i == raced).unwrap();
        assert_eq!(st.items[k].status, ItemStatus::Applied);
        let now = env.identities(&raced);
        assert!(
            now.contains(&ua("id-web").to_ascii_lowercase()),
            "the racing writer's identity kept: {now:?}"
        );
        assert!(now.contains(&ua("id-keyvault-reader").to_ascii_lowercase()));
        let sim = env.sim.sim();
        let log = sim.request_log();
        let patches: Vec<u16> = log
            .iter()
            .filter(|e| e.method == "PATCH" && e.path.ends_with("/vmss-api"))
            .map(|e| e.status)
            .collect();
        assert_eq!(patches, [412, 200]);
    }

    #[test]
    fn read_only_sends_nothing_keeps_items_pending_and_pauses_until_resumed() {
        let env = Env::new(SimConfig::default());
        let access = arm_client::WriteAccess::new(false);
        let client = arm_client::ArmClient::builder(
            "https://management.azure.com",
            Rc::new(env.sim.clone()),
            Rc::new(arm_client::StaticToken::new("t")),
        )
        .clock(Rc::new(env.clock.clone()))
        .write_access(access.clone())
        .build()
        .unwrap();
        let op = BulkOp::EnableSystemAssigned { grant: None };
        let ids = vec![
            vmss("rg-web", "vmss-api"),
            vm("rg-web", "vm-win-admin"),
            vm("rg-web", "vm-jump"),
        ];
        let s = Scheduler::new(
            &ids,
            IdentityRunner::for_op(client, &op),
            Rc::new(env.clock.clone()),
            BulkOptions {
                concurrency: 1,
                max_replans: 3,
            },
        );
        let h = s.handle();
        let mut fut = Box::pin(s.run());
        assert!(env.clock.drive(&mut fut).is_none(), "paused, not finished");
        assert!(h.is_paused());
        assert_eq!(env.writes(), 0, "nothing sent");
        let c = h.counters();
        assert_eq!((c.pending, c.failed, c.applied), (3, 0, 0), "{c:?}");
        access.set(true);
        h.resume();
        let c = env.clock.drive(&mut fut).expect("finished after resume");
        assert_eq!((c.applied, c.no_op, c.failed), (2, 1, 0), "{c:?}");
        assert_eq!(h.snapshot().items[0].attempts, 2);
        assert!(
            env.identities(&vm("rg-web", "vm-win-admin"))
                .contains("system")
        );
    }
}
