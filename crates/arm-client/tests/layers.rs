#![cfg(not(target_arch = "wasm32"))]
//! Each layer exercised through the assembled client with a scripted transport (no
//! network, virtual clock).

use arm_client::testing::{ScriptedTransport, StrictCors, block_on, join_all};
use arm_client::*;
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

const ARM: &str = "https://management.azure.com";
const VMSS: &str =
    "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/v1";

struct CountingToken {
    calls: Cell<u32>,
    refreshes: Cell<u32>,
}

impl TokenSource for CountingToken {
    fn token(&self, refresh: bool) -> LocalBoxFuture<'_, Result<String, ArmError>> {
        self.calls.set(self.calls.get() + 1);
        if refresh {
            self.refreshes.set(self.refreshes.get() + 1);
        }
        let t = format!("tok{}", self.refreshes.get());
        Box::pin(async move { Ok(t) })
    }
}

fn client_with(t: Rc<dyn Transport>, clock: &VirtualClock) -> ArmClient {
    ArmClient::builder(ARM, t, Rc::new(StaticToken::new("secret-token")))
        .clock(Rc::new(clock.clone()))
        .retry(RetryPolicy::default().with_seed(1))
        .build()
        .unwrap()
}

fn ok(v: Value) -> HttpResponse {
    HttpResponse::json(200, &v)
}

#[test]
fn foreign_next_link_is_refused_before_sending_and_no_token_leaves() {
    for evil in [
        "https://evil.example/subscriptions?page=2",
        "https://management.azure.com.evil.example/subscriptions",
        "https://management.azure.com@evil.example/subscriptions",
        "http://management.azure.com/subscriptions",
        "https://management.azure.com:8443/subscriptions",
    ] {
        let t = Rc::new(ScriptedTransport::new());
        t.push(ok(
            json!({"value": [{"subscriptionId": "a"}], "nextLink": evil}),
        ));
        let clock = VirtualClock::new(0);
        let c = client_with(t.clone(), &clock);
        let mut p = c.list::<Subscription>(ops::list_subscriptions());
        assert_eq!(block_on(p.next_page()).unwrap().unwrap().len(), 1);
        let e = block_on(p.next_page()).unwrap().unwrap_err();
        assert_eq!(e.kind, ErrorKind::ForeignOrigin, "{evil}");
        assert!(e.message.contains("refused"), "{}", e.message);
        assert!(e.hint().unwrap().contains("token"));
        // exactly one request went out, to ARM
        let sent = t.requests();
        assert_eq!(sent.len(), 1, "{evil}");
        assert!(sent[0].url.starts_with("https://management.azure.com/"));
        for r in &sent {
            if r.header("authorization").is_some() {
                assert_eq!(Origin::parse(&r.url), Origin::parse(ARM));
            }
        }
    }
}

#[test]
fn foreign_operation_urls_are_refused_too() {
    for header in ["Azure-AsyncOperation", "Location"] {
        let t = Rc::new(ScriptedTransport::new());
        t.push(
            HttpResponse::json(202, &json!({}))
                .with_header(header, "https://collector.evil.example/op/1"),
        );
        let clock = VirtualClock::new(0);
        let c = client_with(t.clone(), &clock);
        let e = block_on(c.execute(&ops::manual_upgrade(VMSS, &["*"]).unwrap(), &mut |_| {}))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ForeignOrigin, "{header}");
        assert_eq!(t.requests().len(), 1);
        assert!(t.requests().iter().all(|r| !r.url.contains("evil.example")));
    }
}

#[test]
fn a_401_gets_one_fresh_token_and_one_more_try() {
    let t = Rc::new(ScriptedTransport::new());
    t.push(HttpResponse::json(
        401,
        &json!({"error": {"code": "ExpiredAuthenticationToken", "message": "expired"}}),
    ));
    t.push(ok(json!({"value": []})));
    let tokens = Rc::new(CountingToken {
        calls: Cell::new(0),
        refreshes: Cell::new(0),
    });
    let c = ArmClient::builder(ARM, t.clone(), tokens.clone())
        .clock(Rc::new(VirtualClock::new(0)))
        .build()
        .unwrap();
    let subs = block_on(
        c.list::<Subscription>(ops::list_subscriptions())
            .collect_all(),
    )
    .unwrap();
    assert!(subs.is_empty());
    let sent = t.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].header("authorization"), Some("Bearer tok0"));
    assert_eq!(sent[1].header("authorization"), Some("Bearer tok1"));
    assert_eq!((tokens.calls.get(), tokens.refreshes.get()), (2, 1));

    // a second 401 is final: no loop
    t.push(HttpResponse::json(
        401,
        &json!({"error": {"code": "InvalidAuthenticationToken", "message": "bad"}}),
    ));
    t.push(HttpResponse::json(
        401,
        &json!({"error": {"code": "InvalidAuthenticationToken", "message": "bad"}}),
    ));
    let e = block_on(c.send(&ops::list_subscriptions())).unwrap_err();
    assert_eq!((e.status, e.kind), (Some(401), ErrorKind::Http));
    assert!(e.hint().unwrap().contains("Sign in again"));
    assert_eq!(t.requests().len(), 4);
    assert_eq!(tokens.refreshes.get(), 2);
}

#[test]
fn throttled_reads_wait_retry_after_and_unreadable_retry_after_backs_off() {
    for strict in [false, true] {
        let inner = ScriptedTransport::new();
        for _ in 0..3 {
            inner.push(
                HttpResponse::json(
                    429,
                    &json!({"error": {"code": "TooManyRequests", "message": "x"}}),
                )
                .with_header("Retry-After", "5"),
            );
        }
        inner.push(ok(json!({"value": [{"subscriptionId": "a"}]})));
        let inner = Rc::new(inner);
        let t: Rc<dyn Transport> = if strict {
            Rc::new(StrictCors(inner.clone()))
        } else {
            inner.clone()
        };
        let clock = VirtualClock::new(0);
        let c = client_with(t, &clock);
        let subs = block_on(
            c.list::<Subscription>(ops::list_subscriptions())
                .collect_all(),
        )
        .unwrap();
        assert_eq!(subs.len(), 1);
        assert_eq!(inner.requests().len(), 4);
        let sleeps = clock.sleeps();
        if strict {
            // Retry-After invisible: exponential backoff with jitter, growing
            assert_eq!(sleeps.len(), 3);
            for (i, s) in sleeps.iter().enumerate() {
                let full = 1_000u64 << i;
                assert!(*s >= full / 2 && *s <= full, "{sleeps:?}");
            }
        } else {
            assert_eq!(sleeps, vec![5_000, 5_000, 5_000]);
        }
    }
}

#[test]
fn unguarded_writes_are_not_repeated_after_a_server_error() {
    let t = Rc::new(ScriptedTransport::new());
    t.push(HttpResponse::json(
        503,
        &json!({"error": {"code": "ServiceUnavailable", "message": "x"}}),
    ));
    let clock = VirtualClock::new(0);
    let c = client_with(t.clone(), &clock);
    let mut req = ops::patch_identity(VMSS, json!({"type": "SystemAssigned"}), None).unwrap();
    let e = block_on(c.send(&req)).unwrap_err();
    assert_eq!((e.status, e.attempts), (Some(503), 1));
    assert_eq!(t.requests().len(), 1);
    // with If-Match it is safe to repeat
    req.headers.push(("If-Match".into(), "\"3\"".into()));
    t.push(HttpResponse::json(503, &json!({})));
    t.push(ok(json!({"id": VMSS})));
    block_on(c.send(&req)).unwrap();
    assert_eq!(t.requests().len(), 3);
    assert_eq!(t.requests()[2].header("if-match"), Some("\"3\""));
}

fn op(status: &str) -> HttpResponse {
    ok(json!({"name": "op1", "status": status, "startTime": "t"}))
}

fn patch_accepted(async_op: bool) -> HttpResponse {
    let mut r =
        ok(json!({"id": VMSS, "etag": "\"5\"", "properties": {"provisioningState": "Updating"}}))
            .with_header("ETag", "\"5\"");
    if async_op {
        r = r
            .with_header(
                "Azure-AsyncOperation",
                format!("{ARM}/subscriptions/s1/providers/Microsoft.Compute/locations/westeurope/operations/op1?api-version=2024-11-01&p=abc"),
            )
            .with_header("Retry-After", "3");
    }
    r
}

#[test]
fn lro_async_operation_each_terminal_state() {
    for (terminal, expect_ok) in [("Succeeded", true), ("Failed", false), ("Canceled", false)] {
        let t = Rc::new(ScriptedTransport::new());
        t.push(patch_accepted(true));
        t.push(op("InProgress"));
        t.push(op("InProgress"));
        if terminal == "Succeeded" {
            t.push(op(terminal));
            t.push(ok(json!({"id": VMSS, "properties": {"provisioningState": "Succeeded"}, "identity": {"type": "SystemAssigned"}})));
        } else {
            t.push(ok(json!({"status": terminal, "error": {"code": "InternalOperationError", "message": "it broke"}})));
        }
        let clock = VirtualClock::new(10_000);
        let c = client_with(t.clone(), &clock);
        let req =
            ops::patch_identity(VMSS, json!({"type": "SystemAssigned"}), Some("\"4\"")).unwrap();
        let mut events = Vec::new();
        let out = block_on(c.execute(&req, &mut |p| events.push(p.clone())));
        let sent = t.requests();
        assert_eq!(sent[0].method, Method::Patch);
        assert!(
            sent[1]
                .url
                .contains("/operations/op1?api-version=2024-11-01&p=abc"),
            "verbatim poll URL"
        );
        assert!(sent[1..].iter().all(|r| r.method == Method::Get));
        // first wait honours the PATCH's Retry-After
        assert_eq!(clock.sleeps()[0], 3_000);
        let states: Vec<_> = events.iter().map(|e| e.state.as_str()).collect();
        assert_eq!(states, ["Updating", "InProgress", "InProgress", terminal]);
        assert!(events.windows(2).all(|w| w[0].elapsed_ms < w[1].elapsed_ms));
        assert!(events.iter().all(|e| e.via == PollVia::AsyncOperation));
        match out {
            Ok(o) => {
                assert!(expect_ok);
                assert_eq!(o.state, "Succeeded");
                assert_eq!(o.polls, 4, "3 op polls + the read-back");
                assert_eq!(sent.len(), 5);
                assert_eq!(sent[4].url, format!("{ARM}{VMSS}?api-version=2024-11-01"));
                assert_eq!(
                    o.response.body_json().unwrap()["identity"]["type"],
                    "SystemAssigned"
                );
                assert_eq!(o.elapsed_ms, clock.now_ms() - 10_000);
            }
            Err(e) => {
                assert!(!expect_ok, "{terminal}: {e}");
                assert_eq!(e.kind, ErrorKind::OperationFailed);
                assert_eq!(e.code.as_deref(), Some("InternalOperationError"));
                assert!(e.message.contains(terminal) && e.message.contains("it broke"));
                assert_eq!(sent.len(), 4);
            }
        }
    }
}

#[test]
fn lro_without_readable_headers_polls_provisioning_state() {
    for terminal in ["Succeeded", "Failed", "Canceled"] {
        let inner = Rc::new(ScriptedTransport::new());
        inner.push(patch_accepted(true));
        inner.push(ok(
            json!({"id": VMSS, "properties": {"provisioningState": "Updating"}}),
        ));
        inner.push(ok(
            json!({"id": VMSS, "properties": {"provisioningState": terminal}}),
        ));
        let clock = VirtualClock::new(0);
        let c = client_with(Rc::new(StrictCors(inner.clone())), &clock);
        let req = ops::patch_identity(VMSS, json!({"type": "None"}), Some("\"4\"")).unwrap();
        let mut events = Vec::new();
        let out = block_on(c.execute(&req, &mut |p| events.push(p.clone())));
        let sent = inner.requests();
        assert_eq!(sent.len(), 3);
        assert!(
            sent[1..]
                .iter()
                .all(|r| r.url == format!("{ARM}{VMSS}?api-version=2024-11-01"))
        );
        assert!(events.iter().all(|e| e.via == PollVia::ProvisioningState));
        assert_eq!(events.last().unwrap().state, terminal);
        assert_eq!(
            clock.sleeps(),
            vec![2_000, 3_000],
            "default interval, growing"
        );
        assert_eq!(out.is_ok(), terminal == "Succeeded");
        if let Ok(o) = out {
            assert_eq!(
                o.polls, 2,
                "no extra read-back: the last poll is the resource"
            );
        }
    }
}

#[test]
fn lro_location_and_delete_and_untrackable_202() {
    // Location: 202 while running, then 200
    let t = Rc::new(ScriptedTransport::new());
    t.push(
        HttpResponse {
            status: 202,
            ..Default::default()
        }
        .with_header("Location", format!("{ARM}/op/2?monitor=true")),
    );
    t.push(HttpResponse {
        status: 202,
        ..Default::default()
    });
    t.push(HttpResponse {
        status: 200,
        ..Default::default()
    });
    let c = client_with(t.clone(), &VirtualClock::new(0));
    let o = block_on(c.execute(&ops::manual_upgrade(VMSS, &["*"]).unwrap(), &mut |_| {})).unwrap();
    assert_eq!(
        (o.state.as_str(), o.via, o.polls),
        ("Succeeded", PollVia::Location, 2)
    );
    assert!(t.requests()[1].url.ends_with("/op/2?monitor=true"));

    // Location poll that fails carries the operation's error
    let t = Rc::new(ScriptedTransport::new());
    t.push(
        HttpResponse {
            status: 202,
            ..Default::default()
        }
        .with_header("Location", format!("{ARM}/op/3")),
    );
    t.push(HttpResponse::json(
        400,
        &json!({"error": {"code": "OperationNotAllowed", "message": "no"}}),
    ));
    let c = client_with(t.clone(), &VirtualClock::new(0));
    let e =
        block_on(c.execute(&ops::manual_upgrade(VMSS, &["*"]).unwrap(), &mut |_| {})).unwrap_err();
    assert_eq!(e.code.as_deref(), Some("OperationNotAllowed"));

    // DELETE with nothing readable: poll the resource until 404
    let inner = Rc::new(ScriptedTransport::new());
    inner.push(
        HttpResponse {
            status: 202,
            ..Default::default()
        }
        .with_header("Location", "hidden"),
    );
    inner.push(ok(json!({"properties": {"provisioningState": "Deleting"}})));
    inner.push(HttpResponse::json(
        404,
        &json!({"error": {"code": "NotFound", "message": "gone"}}),
    ));
    let c = client_with(Rc::new(StrictCors(inner.clone())), &VirtualClock::new(0));
    let mut states = Vec::new();
    let o = block_on(c.execute(
        &ops::delete_extension(VMSS, "ManagedIdentityExtensionForLinux").unwrap(),
        &mut |p| states.push(p.state.clone()),
    ))
    .unwrap();
    assert_eq!((o.via, o.polls), (PollVia::ResourceGone, 2));
    assert_eq!(states, ["InProgress", "Deleting", "Succeeded"]);
    assert!(
        inner.requests()[1]
            .url
            .ends_with("/extensions/ManagedIdentityExtensionForLinux?api-version=2024-11-01")
    );

    // POST 202 without readable headers cannot be tracked: reported as Accepted
    let inner = Rc::new(ScriptedTransport::new());
    inner.push(
        HttpResponse {
            status: 202,
            ..Default::default()
        }
        .with_header("Location", "hidden"),
    );
    let c = client_with(Rc::new(StrictCors(inner.clone())), &VirtualClock::new(0));
    let o = block_on(c.execute(&ops::manual_upgrade(VMSS, &["*"]).unwrap(), &mut |_| {})).unwrap();
    assert_eq!(
        (o.state.as_str(), o.via, o.polls),
        ("Accepted", PollVia::None, 0)
    );
}

#[test]
fn lro_total_wait_is_bounded() {
    let t = Rc::new(ScriptedTransport::new());
    t.push(patch_accepted(true));
    t.fallback(|_| Ok(op("InProgress")));
    let clock = VirtualClock::new(0);
    let c = ArmClient::builder(ARM, t.clone(), Rc::new(StaticToken::new("x")))
        .clock(Rc::new(clock.clone()))
        .lro(LroOptions {
            max_wait_ms: 60_000,
            ..Default::default()
        })
        .build()
        .unwrap();
    let req = ops::patch_identity(VMSS, json!({"type": "None"}), None).unwrap();
    let mut last = None;
    let e = block_on(c.execute(&req, &mut |p| last = Some(p.clone()))).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(clock.now_ms() <= 60_000, "never waits past the bound");
    assert!(clock.now_ms() > 30_000, "but uses most of it");
    assert_eq!(last.unwrap().state, "InProgress");
    assert!(e.message.contains("InProgress"));
}

#[test]
fn a_dropped_connection_while_polling_is_retried() {
    let t = Rc::new(ScriptedTransport::new());
    t.push(patch_accepted(true));
    t.push(op("InProgress"));
    t.push_err(TransportError::Network("connection reset".into()));
    t.push(op("Succeeded"));
    t.push(ok(
        json!({"id": VMSS, "properties": {"provisioningState": "Succeeded"}}),
    ));
    let c = client_with(t.clone(), &VirtualClock::new(0));
    let req = ops::patch_identity(VMSS, json!({"type": "None"}), Some("\"1\"")).unwrap();
    let o = block_on(c.execute(&req, &mut |_| {})).unwrap();
    assert_eq!(o.state, "Succeeded");
    assert_eq!(t.requests().len(), 5);
}

#[test]
fn paging_follows_next_links_and_detects_loops() {
    let t = Rc::new(ScriptedTransport::new());
    t.fallback(|r| {
        let page: usize = r
            .url
            .split("$skiptoken=")
            .nth(1)
            .map(|s| s.parse().unwrap())
            .unwrap_or(0);
        let items: Vec<Value> = (0..1000)
            .map(|i| json!({"id": format!("/x/{}", page * 1000 + i), "name": "n", "location": "l"}))
            .collect();
        let mut body = json!({"value": items});
        if page < 9 {
            body["nextLink"] = json!(format!(
                "{ARM}/subscriptions/s/resourcegroups?api-version=2024-11-01&$skiptoken={}",
                page + 1
            ));
        }
        Ok(HttpResponse::json(200, &body))
    });
    let c = client_with(t.clone(), &VirtualClock::new(0));
    let all = block_on(
        c.list::<ResourceGroup>(ops::list_resource_groups("s"))
            .collect_all(),
    )
    .unwrap();
    assert_eq!(all.len(), 10_000);
    assert_eq!(all[9_999].id, "/x/9999");
    assert_eq!(t.requests().len(), 10);

    // a two-page cycle is caught too
    let t = Rc::new(ScriptedTransport::new());
    t.fallback(|r| {
        let other = if r.url.contains("page=b") { "a" } else { "b" };
        Ok(ok(json!({"value": [1], "nextLink": format!("{ARM}/subscriptions/s/resourcegroups?page={other}")})))
    });
    let c = client_with(t.clone(), &VirtualClock::new(0));
    let e = block_on(
        c.list::<Value>(ops::list_resource_groups("s"))
            .collect_all(),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert_eq!(t.requests().len(), 3);

    let t = Rc::new(ScriptedTransport::new());
    t.fallback(|r| Ok(ok(json!({"value": [], "nextLink": r.url.clone()}))));
    let c = client_with(t.clone(), &VirtualClock::new(0));
    let e = block_on(
        c.list::<Value>(ops::list_resource_groups("s"))
            .collect_all(),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert_eq!(t.requests().len(), 1);
}

#[test]
fn resource_graph_pages_with_skip_token_in_the_body() {
    let t = Rc::new(ScriptedTransport::new());
    t.fallback(|r| {
        let body: Value = serde_json::from_slice(r.body.as_ref().unwrap()).unwrap();
        assert!(body["query"].as_str().unwrap().contains("virtualmachinescalesets"));
        let tok = body["options"]["$skipToken"].as_str().map(|s| s.parse::<usize>().unwrap()).unwrap_or(0);
        let mut resp = json!({"totalRecords": 2500, "count": 1000, "data": (0..1000.min(2500 - tok)).map(|i| json!({"id": format!("/v/{}", tok + i)})).collect::<Vec<_>>()});
        if tok + 1000 < 2500 {
            resp["$skipToken"] = json!((tok + 1000).to_string());
        }
        Ok(ok(resp))
    });
    let c = client_with(t.clone(), &VirtualClock::new(0));
    let mut p = c.graph::<Value>(ops::resource_graph(ops::SCALE_SETS_QUERY, &["s1"], 1000));
    let mut n = 0;
    while let Some(page) = block_on(p.next_page()) {
        n += page.unwrap().len();
    }
    assert_eq!((n, p.requests(), p.total_records()), (2500, 3, Some(2500)));
    let sent = t.requests();
    assert!(
        sent.iter().all(
            |r| r.method == Method::Post && r.url.contains("Microsoft.ResourceGraph/resources")
        )
    );
    // table format is read too
    let t = Rc::new(ScriptedTransport::new());
    t.push(ok(json!({"data": {"columns": [{"name": "id"}, {"name": "name"}], "rows": [["/a", "a"], ["/b", "b"]]}})));
    let c = client_with(t, &VirtualClock::new(0));
    let rows = block_on(
        c.graph::<Value>(ops::resource_graph("Resources", &[], 10))
            .collect_all(),
    )
    .unwrap();
    assert_eq!(rows[1], json!({"id": "/b", "name": "b"}));
}

#[test]
fn the_limiter_bounds_concurrent_requests_and_the_observer_sees_each() {
    let t = Rc::new(ScriptedTransport::new());
    t.fallback(|_| Ok(ok(json!({"value": []}))));
    let log = Rc::new(RefCell::new(Vec::new()));
    let log2 = log.clone();
    let c = ArmClient::builder(ARM, t.clone(), Rc::new(StaticToken::new("x")))
        .clock(Rc::new(VirtualClock::new(0)))
        .concurrency(2)
        .observer(move |e| log2.borrow_mut().push(e.clone()))
        .build()
        .unwrap();
    let reqs: Vec<_> = (0..7)
        .map(|i| ops::list_resource_groups(&format!("s{i}")))
        .collect();
    let futs = reqs
        .iter()
        .map(|r| Box::pin(c.send(r)) as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>)
        .collect();
    let out = block_on(join_all(futs));
    assert!(
        out.iter()
            .all(|r: &Result<HttpResponse, ArmError>| r.is_ok())
    );
    assert_eq!(c.limiter().max_in_flight(), 2);
    assert_eq!(log.borrow().len(), 7);
    assert!(
        log.borrow()
            .iter()
            .all(|e| e.authorized && e.status == Some(200))
    );
}

#[test]
fn change_identity_is_one_get_one_patch_and_polls() {
    for strict in [false, true] {
        let inner = Rc::new(ScriptedTransport::new());
        let vmss = |ps: &str, identity: Option<Value>, etag: &str| {
            let mut b = json!({"id": VMSS, "location": "westeurope", "etag": etag,
                "properties": {"orchestrationMode": "Uniform", "provisioningState": ps, "upgradePolicy": {"mode": "Manual"}}});
            if let Some(i) = identity {
                b["identity"] = i;
            }
            ok(b).with_header("ETag", etag)
        };
        inner.push(vmss("Succeeded", None, "\"4\""));
        inner.push(
            vmss("Updating", Some(json!({"type": "SystemAssigned", "principalId": "p1"})), "\"5\"")
                .with_header("Azure-AsyncOperation", format!("{ARM}/subscriptions/s1/providers/Microsoft.Compute/locations/westeurope/operations/o?api-version=2024-11-01")),
        );
        if strict {
            inner.push(vmss(
                "Updating",
                Some(json!({"type": "SystemAssigned", "principalId": "p1"})),
                "\"5\"",
            ));
        } else {
            inner.push(op("InProgress"));
            inner.push(op("Succeeded"));
        }
        inner.push(vmss(
            "Succeeded",
            Some(json!({"type": "SystemAssigned", "principalId": "p1"})),
            "\"5\"",
        ));
        let t: Rc<dyn Transport> = if strict {
            Rc::new(StrictCors(inner.clone()))
        } else {
            inner.clone()
        };
        let c = client_with(t, &VirtualClock::new(0));
        let ch = block_on(identity::change_identity(
            &c,
            VMSS,
            &identity_core::Operation::EnableSystemAssigned,
            &mut |_| {},
        ))
        .unwrap();
        let sent = inner.requests();
        let methods: Vec<_> = sent.iter().map(|r| r.method).collect();
        assert_eq!(methods.iter().filter(|m| **m == Method::Patch).count(), 1);
        assert_eq!(methods[0], Method::Get);
        assert_eq!(methods[1], Method::Patch);
        assert_eq!(
            sent.len(),
            5 - strict as usize,
            "GET + PATCH + polls (+ read-back)"
        );
        assert_eq!(
            sent[1].header("if-match"),
            Some("\"4\""),
            "etag from the body works without headers"
        );
        let body: Value = serde_json::from_slice(sent[1].body.as_ref().unwrap()).unwrap();
        assert_eq!(body, json!({"identity": {"type": "SystemAssigned"}}));
        let after = ch.after.unwrap();
        assert!(after.identity.system_assigned);
        assert!(!ch.before.identity.system_assigned);
    }
}

#[test]
fn a_lost_poll_can_be_resumed_on_the_resource() {
    let t = Rc::new(ScriptedTransport::new());
    t.push(patch_accepted(true));
    for _ in 0..5 {
        t.push_err(TransportError::Network("offline".into()));
    }
    let c = client_with(t.clone(), &VirtualClock::new(0));
    let req = ops::patch_identity(VMSS, json!({"type": "None"}), Some("\"1\"")).unwrap();
    let e = block_on(c.execute(&req, &mut |_| {})).unwrap_err();
    assert_eq!((e.kind, e.attempts), (ErrorKind::Network, 5));
    assert!(e.url.contains("/operations/op1"));
    // back online: resume on the resource itself
    t.push(ok(
        json!({"id": VMSS, "properties": {"provisioningState": "Updating"}}),
    ));
    t.push(ok(
        json!({"id": VMSS, "properties": {"provisioningState": "Succeeded"}}),
    ));
    let mut states = Vec::new();
    let o = block_on(
        c.wait_for_resource(&ops::get_resource(VMSS).unwrap(), &mut |p| {
            states.push(p.state.clone())
        }),
    )
    .unwrap();
    assert_eq!(o.state, "Succeeded");
    assert_eq!(states, ["Updating", "Succeeded"]);
    assert_eq!(t.requests().len(), 1 + 5 + 2);
}

#[test]
fn a_412_after_our_own_retry_says_so() {
    let t = Rc::new(ScriptedTransport::new());
    t.push(HttpResponse::json(503, &json!({})));
    t.push(HttpResponse::json(
        412,
        &json!({"error": {"code": "PreconditionFailed", "message": "Etag mismatch"}}),
    ));
    let c = client_with(t.clone(), &VirtualClock::new(0));
    let req = ops::patch_identity(VMSS, json!({"type": "None"}), Some("\"1\"")).unwrap();
    let e = block_on(c.send(&req)).unwrap_err();
    assert_eq!((e.status, e.attempts), (Some(412), 2));
    assert!(e.message.contains("earlier attempt may have been applied"));
    // a first-try 412 is a plain concurrent change
    t.push(HttpResponse::json(
        412,
        &json!({"error": {"code": "PreconditionFailed", "message": "Etag mismatch"}}),
    ));
    let e = block_on(c.send(&req)).unwrap_err();
    assert_eq!((e.message.as_str(), e.attempts), ("Etag mismatch", 1));
    assert!(e.hint().unwrap().contains("changed by someone else"));
}

struct NoToken;
impl TokenSource for NoToken {
    fn token(&self, _refresh: bool) -> LocalBoxFuture<'_, Result<String, ArmError>> {
        Box::pin(async { Err(ArmError::new(ErrorKind::Credential, "interaction required")) })
    }
}

#[test]
fn a_token_source_failure_sends_nothing() {
    let t = Rc::new(ScriptedTransport::new());
    let c = ArmClient::builder(ARM, t.clone(), Rc::new(NoToken))
        .clock(Rc::new(VirtualClock::new(0)))
        .build()
        .unwrap();
    let e = block_on(c.send(&ops::list_subscriptions())).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Credential);
    assert_eq!((e.attempts, t.requests().len()), (1, 0));
    assert!(e.url.ends_with("/subscriptions?api-version=2022-12-01"));
    assert!(e.hint().unwrap().contains("Sign in"));
    assert!(
        ArmClient::builder("management.azure.com", t, Rc::new(NoToken))
            .build()
            .is_err()
    );
}

#[test]
fn retry_waits_are_announced_for_a_countdown() {
    let t = Rc::new(ScriptedTransport::new());
    t.push(HttpResponse::json(429, &json!({})).with_header("Retry-After", "12"));
    t.push_err(TransportError::Network("reset".into()));
    t.push(ok(json!({"value": []})));
    let waits = Rc::new(RefCell::new(Vec::new()));
    let w2 = waits.clone();
    let c = ArmClient::builder(ARM, t.clone(), Rc::new(StaticToken::new("x")))
        .clock(Rc::new(VirtualClock::new(0)))
        .on_retry(move |ex, w| w2.borrow_mut().push((ex.url.clone(), w.clone())))
        .build()
        .unwrap();
    block_on(c.send(&ops::list_subscriptions())).unwrap();
    let waits = waits.borrow();
    assert_eq!(waits.len(), 2);
    assert_eq!(
        (
            waits[0].1.retry,
            waits[0].1.wait_ms,
            waits[0].1.status,
            waits[0].1.from_retry_after
        ),
        (1, 12_000, Some(429), true)
    );
    assert_eq!(
        (
            waits[1].1.retry,
            waits[1].1.status,
            waits[1].1.from_retry_after
        ),
        (2, None, false)
    );
    assert!(
        waits[0]
            .0
            .ends_with("/subscriptions?api-version=2022-12-01")
    );
}
