#![cfg(not(target_arch = "wasm32"))]
//! The fleet inventory loader against armsim in-process (virtual clock): a 12,500-row tenant in the fewest
//! queries, the per-user quota honoured (waits, no 429), a 429 waited out, cancel mid-way and during a wait,
//! subscription batches, and failures reported as partial — never as complete.

use arm_client::inventory::{
    CancelFlag, Completeness, LoadEvent, LoadOptions, Partial, Shape, WaitReason, load_inventory,
    load_inventory_with,
};
use arm_client::testing::block_on;
use arm_client::transport::sim::SimTransport;
use arm_client::*;
use armsim::tenant::TenantSpec;
use armsim::{Fault, Matcher, Seed, Sim};
use identity_core::inventory::view::Filter;
use std::rc::Rc;

mod common;

use common::{GraphEnv as Env, T0, graph_env as env};

impl Env {
    /// `load_inventory` over all the tenant's subscriptions, not cancelled; its events go to `events`.
    fn load(
        &self,
        opts: &LoadOptions,
        events: &mut Vec<LoadEvent>,
    ) -> arm_client::inventory::InventoryLoad {
        block_on(load_inventory(
            &self.client,
            &self.ids(),
            opts,
            &CancelFlag::new(),
            &mut |ev| events.push(ev.clone()),
        ))
    }
    /// `load_inventory` over all the tenant's subscriptions with the default options under `cancel`; `at` runs
    /// once, as the `n`th page arrives.
    fn load_until_page(
        &self,
        n: u32,
        cancel: &CancelFlag,
        at: impl FnOnce(),
    ) -> arm_client::inventory::InventoryLoad {
        let (mut pages, mut at) = (0, Some(at));
        block_on(load_inventory(
            &self.client,
            &self.ids(),
            &LoadOptions::default(),
            cancel,
            &mut |ev| {
                if matches!(ev, LoadEvent::Page { .. }) {
                    pages += 1;
                    if pages == n {
                        at.take().unwrap()();
                    }
                }
            },
        ))
    }
}

#[test]
fn a_12500_row_tenant_loads_complete_in_one_query_per_1000_rows_plus_one_per_shape() {
    let e = env(Seed::generate_tenant(&TenantSpec::BENCH));
    let mut events = vec![];
    let load = e.load(&LoadOptions::default(), &mut events);
    assert!(load.is_complete(), "{:?}", load.completeness);
    let inv = load.inventory(&e.subs);
    assert_eq!(inv.resources.len(), 12_000);
    assert_eq!(inv.identities.len(), 500);
    let held = e.sim.sim().grants().len();
    assert_eq!(inv.role_assignments.len(), held);
    assert!(inv.role_assignments.iter().all(|a| a.role_name.is_some()));
    assert!(inv.resources.iter().any(|r| r.legacy_extension));
    assert!(inv.resources.iter().any(|r| r.aks_managed));
    // every row counted; the request goal
    let rows = (load.compute.len()
        + load.identities.len()
        + load.role_assignments.len()
        + load.role_definitions.len()) as u64;
    assert_eq!((load.loaded, load.total), (rows, rows));
    let goal = rows.div_ceil(1000) as u32 + 4;
    assert!(
        load.requests <= goal,
        "{} requests for {rows} rows (goal {goal})",
        load.requests
    );
    let log = e.graph_log();
    assert_eq!(log.len() as u32, load.requests);
    // the quota was honoured: waits, never a 429
    assert!(log.iter().all(|x| x.status == 200));
    assert!(load.requests > 15);
    assert!(events.iter().any(|ev| matches!(
        ev,
        LoadEvent::Waiting {
            reason: WaitReason::Quota,
            ..
        }
    )));
    // no subscription list over the documented 1,000
    for x in &log {
        let b: serde_json::Value = serde_json::from_str(&x.body).unwrap();
        assert_eq!(b["subscriptions"].as_array().unwrap().len(), 100);
        assert_eq!(b["options"]["$top"], 1000);
    }
    // progress only grows, and ends at the total
    let pages: Vec<(u64, u64)> = events
        .iter()
        .filter_map(|ev| match ev {
            LoadEvent::Page { loaded, total, .. } => Some((*loaded, *total)),
            _ => None,
        })
        .collect();
    assert!(
        pages
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1)
    );
    assert_eq!(pages.last(), Some(&(rows, rows)));
    // the list's total is known after the first page of scale sets/VMs and of identities
    assert_eq!(
        pages[1].1,
        (load.compute.len() + load.identities.len()) as u64
    );
    // the list is complete before the quota's first wait: 14 queries
    let done = events
        .iter()
        .position(|ev| *ev == LoadEvent::ShapeDone(Shape::Compute))
        .unwrap();
    let first_wait = events
        .iter()
        .position(|ev| matches!(ev, LoadEvent::Waiting { .. }))
        .unwrap();
    assert!(done < first_wait);
    assert_eq!(
        events[..done]
            .iter()
            .filter(|ev| matches!(ev, LoadEvent::Page { .. }))
            .count(),
        14
    );
    for s in [
        Shape::Identities,
        Shape::RoleAssignments,
        Shape::RoleDefinitions,
    ] {
        assert!(events.contains(&LoadEvent::ShapeDone(s)), "{s:?}");
    }
    println!(
        "inventory loader: {rows} rows ({} scale sets/VMs, {} identities, {} role assignments, {} role definitions) in {} requests, {} ms waiting for the quota",
        load.compute.len(),
        load.identities.len(),
        load.role_assignments.len(),
        load.role_definitions.len(),
        load.requests,
        load.waited_ms
    );
    // filtering 12,000 rows (figures printed, not asserted)
    let t = std::time::Instant::now();
    let n = 200;
    for i in 0..n {
        let f = Filter {
            text: ["vmss-0", "web", "aks", "id-shared", "zzz"][i % 5].into(),
            ..Filter::default()
        };
        std::hint::black_box(f.apply(&inv));
    }
    println!(
        "filter over {} rows: {:.2} ms per keystroke (debug build)",
        inv.resources.len(),
        t.elapsed().as_secs_f64() * 1000.0 / n as f64
    );
}

#[test]
fn a_429_is_waited_out_for_its_retry_after_and_shown() {
    let e = env(Seed::demo());
    // someone else's queries spent the caller's quota
    e.spend_quota(15);
    let mut events = vec![];
    let load = e.load(&LoadOptions::default(), &mut events);
    assert!(load.is_complete(), "{:?}", load.completeness);
    let log = e.graph_log();
    assert_eq!(log.iter().filter(|x| x.status == 429).count(), 1);
    assert_eq!(log[15].status, 429);
    assert_eq!(
        events[0],
        LoadEvent::Waiting {
            ms: 5_000,
            reason: WaitReason::Throttled
        }
    );
    assert!(e.clock.now_ms() >= T0 + 5_000);
    assert_eq!(load.requests as usize, log.len() - 15);
    assert!(!load.compute.is_empty());
}

#[test]
fn throttled_past_the_limit_is_partial_not_complete() {
    let e = env(Seed::demo());
    e.sim.sim().inject(Fault::Throttle {
        count: 100,
        retry_after_seconds: 1,
        matcher: Matcher {
            method: None,
            path_contains: Some("ResourceGraph".into()),
        },
    });
    let opts = LoadOptions {
        max_throttled: 3,
        ..LoadOptions::default()
    };
    let load = e.load(&opts, &mut vec![]);
    assert!(!load.is_complete());
    match &load.completeness {
        Completeness::Partial(p) => assert!(
            matches!(&p[..], [Partial::Failed(err)] if err.status == Some(429)),
            "{p:?}"
        ),
        c => panic!("{c:?}"),
    }
    assert_eq!(load.requests, 4);
    assert!(load.compute.is_empty());
}

#[test]
fn a_server_error_mid_way_leaves_a_partial_result() {
    let e = env(Seed::generate_tenant(&TenantSpec {
        subscriptions: 5,
        scale_sets: 2_500,
        vms: 0,
        identities: 10,
    }));
    let load = e.load_until_page(2, &CancelFlag::new(), || {
        e.sim.sim().inject(Fault::ServerError {
            count: 1,
            status: 500,
            matcher: Matcher::default(),
        });
    });
    match &load.completeness {
        Completeness::Partial(p) => assert!(
            matches!(&p[..], [Partial::Failed(err)] if err.status == Some(500)),
            "{p:?}"
        ),
        c => panic!("{c:?}"),
    }
    assert!(
        load.loaded < load.total,
        "{} of {}",
        load.loaded,
        load.total
    );
    assert_eq!(load.requests, 3);
    assert_eq!(load.compute.len(), 1_000);
}

#[test]
fn cancel_mid_way_stops_before_the_next_query() {
    let e = env(Seed::generate_tenant(&TenantSpec {
        subscriptions: 10,
        scale_sets: 3_000,
        vms: 500,
        identities: 20,
    }));
    let cancel = CancelFlag::new();
    let load = e.load_until_page(4, &cancel, || cancel.cancel());
    assert_eq!(
        load.completeness,
        Completeness::Partial(vec![Partial::Cancelled])
    );
    assert!(!load.is_complete());
    assert_eq!(load.requests, 4);
    assert_eq!(e.graph_log().len(), 4);
    assert!(load.loaded < load.total);
    // pages: compute, identities (both totals known), then compute twice
    assert_eq!(load.compute.len(), 3_000);
    assert_eq!(load.loaded, 3_020);
    assert!(load.total >= 3_520, "{}", load.total);
}

#[test]
fn cancel_during_a_quota_wait_ends_the_wait() {
    let e = env(Seed::generate_tenant(&TenantSpec {
        subscriptions: 4,
        scale_sets: 2_000,
        vms: 0,
        identities: 8,
    }));
    let cancel = CancelFlag::new();
    let c2 = cancel.clone();
    let opts = LoadOptions {
        page_size: 100,
        ..LoadOptions::default()
    };
    let load = block_on(load_inventory(
        &e.client,
        &e.ids(),
        &opts,
        &cancel,
        &mut |ev| {
            if let LoadEvent::Waiting {
                reason: WaitReason::Quota,
                ms,
            } = ev
            {
                assert!(*ms > 0 && *ms <= 5_000);
                c2.cancel();
            }
        },
    ));
    assert_eq!(
        load.completeness,
        Completeness::Partial(vec![Partial::Cancelled])
    );
    assert_eq!(load.requests, 15);
    assert_eq!(load.waited_ms, 0);
    assert_eq!(e.clock.now_ms(), T0);
}

#[test]
fn subscriptions_go_in_batches_and_give_the_same_rows() {
    let seed = Seed::generate_tenant(&TenantSpec {
        subscriptions: 30,
        scale_sets: 600,
        vms: 90,
        identities: 30,
    });
    let whole = {
        let e = env(seed.clone());
        e.load(&LoadOptions::default(), &mut vec![])
    };
    let e = env(seed);
    let opts = LoadOptions {
        batch_size: 8,
        ..LoadOptions::default()
    };
    let batched = e.load(&opts, &mut vec![]);
    assert!(whole.is_complete() && batched.is_complete());
    let ids = |v: &[serde_json::Value]| {
        let mut x: Vec<String> = v
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_lowercase())
            .collect();
        x.sort();
        x
    };
    assert_eq!(ids(&whole.compute), ids(&batched.compute));
    assert_eq!(ids(&whole.identities), ids(&batched.identities));
    assert_eq!(ids(&whole.role_assignments), ids(&batched.role_assignments));
    let mut seen_subs = std::collections::BTreeSet::new();
    for x in e.graph_log() {
        let b: serde_json::Value = serde_json::from_str(&x.body).unwrap();
        let s = b["subscriptions"].as_array().unwrap();
        assert!(s.len() <= 8);
        seen_subs.extend(s.iter().map(|v| v.as_str().unwrap().to_string()));
    }
    assert_eq!(seen_subs.len(), 30);
    // 4 batches × 3 shapes, plus the role definitions per batch
    assert_eq!(batched.requests, 4 * 4);
}

/// A client that sees the answers as a browser under strict CORS does: no quota headers, no `Retry-After`.
fn strict_env(seed: Seed) -> Env {
    let subs = seed
        .subscriptions
        .iter()
        .map(|s| (s.subscription_id.clone(), s.display_name.clone()))
        .collect();
    let clock = VirtualClock::new(T0);
    let sim = SimTransport::new(Sim::from_seed(seed), Rc::new(clock.clone()));
    let client = ArmClient::builder(
        "https://management.azure.com",
        Rc::new(arm_client::testing::StrictCors(sim.clone())),
        Rc::new(StaticToken::new("t")),
    )
    .clock(Rc::new(clock.clone()))
    .retry(RetryPolicy::none())
    .build()
    .unwrap();
    Env {
        client,
        clock,
        sim,
        subs,
    }
}

fn strict_seed() -> Seed {
    Seed::generate_tenant(&TenantSpec {
        subscriptions: 4,
        scale_sets: 1_500,
        vms: 0,
        identities: 8,
    })
}

/// In a browser under strict CORS the quota headers and `Retry-After` are unreadable: the loader cannot wait
/// for the reset it is told of, so it paces itself to Resource Graph's documented quota (15 queries per 5 s) —
/// no 429, no retried query, and the waits shown as quota waits.
#[test]
fn without_readable_headers_the_loader_paces_itself_to_the_documented_quota() {
    let e = strict_env(strict_seed());
    let opts = LoadOptions {
        page_size: 100,
        ..LoadOptions::default()
    };
    let mut events = vec![];
    let load = block_on(load_inventory(
        &e.client,
        &[],
        &opts,
        &CancelFlag::new(),
        &mut |ev| events.push(ev.clone()),
    ));
    assert!(load.is_complete(), "{:?}", load.completeness);
    assert_eq!(load.compute.len(), 1_500);
    let log = e.graph_log();
    assert!(
        log.len() > 15,
        "{} queries: more than one window",
        log.len()
    );
    assert!(log.iter().all(|x| x.status == 200), "no 429");
    assert_eq!(log.len() as u32, load.requests);
    // never more than 15 queries in 5 s, by armsim's clock
    for w in log.windows(16) {
        assert!(
            w[15].time_ms >= w[0].time_ms + 5_000,
            "{} {}",
            w[0].time_ms,
            w[15].time_ms
        );
    }
    let waits: Vec<&LoadEvent> = events
        .iter()
        .filter(|ev| matches!(ev, LoadEvent::Waiting { .. }))
        .collect();
    assert_eq!(
        waits.len(),
        (log.len() - 1) / 15,
        "one wait per spent window"
    );
    assert!(waits.iter().all(|ev| matches!(
        ev,
        LoadEvent::Waiting {
            reason: WaitReason::Quota,
            ms
        } if *ms > 0 && *ms <= 5_250
    )));
}

/// Without pacing (and without readable headers) the loader takes the 429, waits the default 5 s and completes.
#[test]
fn without_readable_headers_or_pacing_a_429_is_waited_out_by_default() {
    let e = strict_env(strict_seed());
    let opts = LoadOptions {
        page_size: 100,
        assumed_quota: (0, 0),
        ..LoadOptions::default()
    };
    let mut events = vec![];
    let load = block_on(load_inventory(
        &e.client,
        &[],
        &opts,
        &CancelFlag::new(),
        &mut |ev| events.push(ev.clone()),
    ));
    assert!(load.is_complete(), "{:?}", load.completeness);
    let throttled: Vec<&LoadEvent> = events
        .iter()
        .filter(|ev| matches!(ev, LoadEvent::Waiting { .. }))
        .collect();
    assert!(!throttled.is_empty());
    assert!(throttled.iter().all(|ev| **ev
        == LoadEvent::Waiting {
            ms: 5_000,
            reason: WaitReason::Throttled
        }));
    let statuses: Vec<u16> = e.sim.sim().request_log().iter().map(|e| e.status).collect();
    assert_eq!(statuses[15], 429, "the 16th query of the window");
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        throttled.len()
    );
    assert_eq!(load.compute.len(), 1_500);
}

/// The list (scale sets, VMs, identities) is handed over whole before any role assignment is asked for, so a
/// page can show it while the last queries wait for the next quota window; a list cut short is never handed
/// over.
#[test]
fn the_list_is_handed_over_whole_before_the_role_assignments_are_read() {
    let e = env(Seed::generate_tenant(&TenantSpec {
        subscriptions: 10,
        scale_sets: 2_500,
        vms: 400,
        identities: 60,
    }));
    let mut handed = vec![];
    let load = block_on(load_inventory_with(
        &e.client,
        &e.ids(),
        &LoadOptions::default(),
        &CancelFlag::new(),
        &mut |_| {},
        &mut |l| {
            handed.push((
                l.inventory(&e.subs),
                l.role_assignments.len(),
                e.graph_log()
                    .iter()
                    .filter(|x| x.body.contains("authorizationresources"))
                    .count(),
                l.requests,
            ))
        },
    ));
    assert!(load.is_complete(), "{:?}", load.completeness);
    assert_eq!(handed.len(), 1);
    let (inv, ras, ra_queries, requests) = &handed[0];
    assert_eq!((inv.resources.len(), inv.identities.len()), (2_900, 60));
    assert_eq!(
        (*ras, *ra_queries),
        (0, 0),
        "before any role assignment query"
    );
    assert_eq!(
        *requests,
        3 + 1,
        "2,900 scale sets and VMs (+ legacy extension rows) and 60 identities"
    );
    assert!(load.requests > *requests);
    assert!(!load.role_assignments.is_empty());
    assert_eq!(
        load.inventory(&e.subs).resources.len(),
        inv.resources.len(),
        "the same list, now with role assignments"
    );

    // cancelled while the list is read: never handed over, and partial
    let cancel = CancelFlag::new();
    let mut handed = 0;
    let c2 = cancel.clone();
    let load = block_on(load_inventory_with(
        &e.client,
        &e.ids(),
        &LoadOptions::default(),
        &cancel,
        &mut |ev| {
            if matches!(ev, LoadEvent::Page { .. }) {
                c2.cancel();
            }
        },
        &mut |_| handed += 1,
    ));
    assert_eq!(handed, 0);
    assert!(matches!(&load.completeness, Completeness::Partial(p) if p == &[Partial::Cancelled]));
}

/// "What can this identity access": only the principals asked for, page by page, with their role names (and a
/// condition where one is set); the quota spent by others is waited out; a principal id that is not a GUID stops
/// the load before anything is sent.
#[test]
fn access_of_some_principals_pages_names_roles_waits_for_the_quota_and_refuses_non_guids() {
    const VM_JUMP_SA: &str = "82cd2793-f094-454e-b334-eb3f4e1e4d08";
    const VMSS_WEB_SA: &str = "f9444604-f411-4a75-b685-9ec0be1aa3b2";
    let e = env(Seed::demo());
    // someone else's queries spent the caller's quota: the first query waits for its reset
    e.spend_quota(15);
    let opts = LoadOptions {
        page_size: 1,
        ..LoadOptions::default()
    };
    let mut events = vec![];
    let a = block_on(arm_client::inventory::load_access(
        &e.client,
        &[VM_JUMP_SA.to_uppercase(), VMSS_WEB_SA.into()],
        &[],
        &opts,
        &CancelFlag::new(),
        &mut |ev| events.push(ev.clone()),
    ));
    assert!(a.is_complete(), "{:?}", a.completeness);
    assert!(
        events
            .iter()
            .any(|ev| matches!(ev, LoadEvent::Waiting { .. })),
        "{events:?}"
    );
    let mut got: Vec<(String, String, bool)> = a
        .assignments
        .iter()
        .map(|r| {
            (
                r.role_name.clone().unwrap(),
                r.principal_id.clone(),
                r.condition.is_some(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "Key Vault Secrets User".to_string(),
                VMSS_WEB_SA.to_string(),
                false
            ),
            ("Reader".into(), VM_JUMP_SA.into(), false),
            ("Storage Blob Data Reader".into(), VMSS_WEB_SA.into(), true),
            (
                "Virtual Machine Contributor".into(),
                VM_JUMP_SA.into(),
                false
            ),
        ]
    );
    assert_eq!(a.of(&VM_JUMP_SA.to_uppercase()).len(), 2);
    // one row a page: 4 pages of assignments, then the role definitions of 4 roles across 2 subscriptions
    assert!(a.requests >= 4 + 4, "{}", a.requests);
    let sent = e.graph_log().len();
    let bad = block_on(arm_client::inventory::load_access(
        &e.client,
        &[VM_JUMP_SA.into(), "') or true or ('".into()],
        &[],
        &LoadOptions::default(),
        &CancelFlag::new(),
        &mut |_| {},
    ));
    assert_eq!(bad.requests, 0);
    assert_eq!(e.graph_log().len(), sent, "nothing sent");
    assert!(bad.assignments.is_empty());
    let Completeness::Partial(why) = &bad.completeness else {
        panic!("{:?}", bad.completeness)
    };
    assert!(
        matches!(&why[..], [Partial::Failed(err)] if err.kind == ErrorKind::InvalidRequest && err.message.contains("not a principal id")),
        "{why:?}"
    );
}
