//! Every fault of the control endpoint, in-process and through the `/_armsim/…` routes, and the request log.

use armsim::{Change, Fault, Matcher, Seed, Sim, SimConfig, SimRequest, SimResponse, Trigger};
use serde_json::{Value, json};

const VMSS: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web";
const SUBS: &str = "/subscriptions?api-version=2022-12-01";

fn sim(control: bool) -> Sim {
    Sim::with_config(
        Seed::demo(),
        SimConfig {
            control,
            lro_delay_ms: 1_000,
            ..SimConfig::default()
        },
    )
}
fn get(s: &mut Sim, url: &str, now: u64) -> SimResponse {
    s.handle(SimRequest::new("GET", url), now)
}
fn vmss_url() -> String {
    format!("{VMSS}?api-version=2024-11-01")
}
fn control(s: &mut Sim, method: &str, what: &str, body: Option<Value>) -> SimResponse {
    let mut r = SimRequest::new(method, &format!("/_armsim/{what}"));
    if let Some(b) = body {
        r = r.json(&b);
    }
    s.handle(r, 0)
}

#[test]
fn throttle_n_times_with_retry_after_then_pass() {
    let mut s = sim(true);
    let r = control(
        &mut s,
        "POST",
        "faults",
        Some(json!({"kind": "throttle", "count": 2, "retryAfterSeconds": 4})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    for _ in 0..2 {
        let r = get(&mut s, SUBS, 1);
        assert_eq!(r.status, 429);
        assert_eq!(r.header("Retry-After"), Some("4"));
        assert_eq!(r.json()["error"]["code"], "SubscriptionRequestsThrottled");
        assert!(r.header("x-ms-request-id").is_some());
    }
    assert_eq!(get(&mut s, SUBS, 2).status, 200);
    assert!(s.faults().is_empty(), "used up");
}

#[test]
fn server_errors_only_where_matched() {
    let mut s = sim(false);
    s.inject(Fault::ServerError {
        count: 1,
        status: 503,
        matcher: Matcher {
            method: Some("PATCH".into()),
            path_contains: None,
        },
    });
    s.inject(Fault::ServerError {
        count: 1,
        status: 500,
        matcher: Matcher {
            method: None,
            path_contains: Some("/locations".into()),
        },
    });
    assert_eq!(
        get(&mut s, &vmss_url(), 1).status,
        200,
        "GET does not match the PATCH fault"
    );
    let p = s.handle(
        SimRequest::new("PATCH", &vmss_url()).json(&json!({"tags": {}})),
        2,
    );
    assert_eq!(
        (p.status, p.json()["error"]["code"].as_str()),
        (503, Some("ServiceUnavailable"))
    );
    let etag = get(&mut s, &vmss_url(), 3)
        .header("ETag")
        .map(str::to_string);
    assert_eq!(etag.as_deref(), Some("\"1\""), "a 503 write is not applied");
    let l = get(
        &mut s,
        "/subscriptions/11111111-1111-4111-8111-111111111111/locations?api-version=2022-12-01",
        4,
    );
    assert_eq!(
        (l.status, l.json()["error"]["code"].as_str()),
        (500, Some("InternalServerError"))
    );
    assert_eq!(
        get(
            &mut s,
            "/subscriptions/11111111-1111-4111-8111-111111111111/locations?api-version=2022-12-01",
            5
        )
        .status,
        200
    );
}

#[test]
fn latency_is_a_transport_instruction() {
    let mut s = sim(true);
    control(
        &mut s,
        "POST",
        "faults",
        Some(json!({"kind": "latency", "ms": 750, "count": 1})),
    );
    let r = get(&mut s, SUBS, 1);
    assert_eq!((r.status, r.delay_ms), (200, 750));
    assert_eq!(get(&mut s, SUBS, 2).delay_ms, 0);
}

#[test]
fn dropped_connection_before_or_after_processing() {
    let mut s = sim(false);
    s.inject(Fault::Drop {
        count: 1,
        after_processing: false,
        matcher: Matcher {
            method: Some("PATCH".into()),
            path_contains: None,
        },
    });
    let body = json!({"identity": {"type": "None"}});
    let r = s.handle(SimRequest::new("PATCH", &vmss_url()).json(&body), 1);
    assert!(r.drop_connection);
    assert_eq!(
        get(&mut s, &vmss_url(), 2).header("ETag"),
        Some("\"1\""),
        "dropped before: not applied"
    );
    s.inject(Fault::Drop {
        count: 1,
        after_processing: true,
        matcher: Matcher {
            method: Some("PATCH".into()),
            path_contains: None,
        },
    });
    let r = s.handle(SimRequest::new("PATCH", &vmss_url()).json(&body), 3);
    assert!(r.drop_connection);
    let g = get(&mut s, &vmss_url(), 4);
    assert_eq!(
        g.header("ETag"),
        Some("\"2\""),
        "dropped after: applied, answer lost"
    );
    assert!(g.json().get("identity").is_none());
    // a drop while polling an operation
    let op = s
        .handle(
            SimRequest::new("PATCH", &vmss_url()).json(&json!({"tags": {}})),
            2_000,
        )
        .header("Azure-AsyncOperation")
        .unwrap()
        .to_string();
    s.inject(Fault::Drop {
        count: 1,
        after_processing: false,
        matcher: Matcher {
            method: None,
            path_contains: Some("/operations/".into()),
        },
    });
    assert!(get(&mut s, &op, 2_100).drop_connection);
    assert_eq!(get(&mut s, &op, 2_200).json()["status"], "InProgress");
    let log = s.request_log();
    assert!(
        log.iter()
            .filter(|e| e.fault.as_deref() == Some("drop"))
            .count()
            == 3
    );
    assert!(log.iter().any(|e| e.status == 0));
}

#[test]
fn concurrent_writer_bumps_the_etag_between_get_and_patch() {
    let mut s = sim(true);
    let r = control(
        &mut s,
        "POST",
        "faults",
        Some(
            json!({"kind": "concurrentWrite", "resourceId": VMSS.to_ascii_lowercase(), "change": {"type": "bumpEtag"}}),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let g = get(&mut s, &vmss_url(), 1);
    let etag = g.header("ETag").unwrap().to_string();
    assert_eq!(
        etag, "\"1\"",
        "the GET sees the state before the other writer"
    );
    let p = s.handle(
        SimRequest::new("PATCH", &vmss_url())
            .header("If-Match", &etag)
            .json(&json!({"identity": {"type": "SystemAssigned"}})),
        2,
    );
    assert_eq!(p.status, 412);
    assert_eq!(
        p.json()["error"]["message"],
        "Etag provided in if-match header \"1\" does not match etag \"2\" of resource."
    );
    let g2 = get(&mut s, &vmss_url(), 3);
    assert_eq!(g2.header("ETag"), Some("\"2\""));
    assert_eq!(
        g2.json()["identity"]["userAssignedIdentities"]
            .as_object()
            .unwrap()
            .len(),
        2,
        "identity untouched"
    );
}

#[test]
fn concurrent_writer_changes_identity() {
    let mut s = sim(false);
    let ua = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web";
    s.inject(Fault::ConcurrentWrite {
        resource_id: VMSS.into(),
        change: Change::Identity { identity: json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {ua: null}}) },
        trigger: Trigger::AfterNextGet,
    });
    let before = get(&mut s, &vmss_url(), 1).json();
    assert_eq!(
        before["identity"]["userAssignedIdentities"]
            .as_object()
            .unwrap()
            .len(),
        2
    );
    let after = get(&mut s, &vmss_url(), 2);
    assert_eq!(after.header("ETag"), Some("\"2\""));
    let m = after.json()["identity"]["userAssignedIdentities"]
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(m.len(), 1);
    assert!(!m.keys().any(|k| k.eq_ignore_ascii_case(ua)));
    // trigger now
    s.inject(Fault::ConcurrentWrite {
        resource_id: VMSS.into(),
        change: Change::BumpEtag,
        trigger: Trigger::Now,
    });
    assert_eq!(get(&mut s, &vmss_url(), 3).header("ETag"), Some("\"3\""));
}

#[test]
fn request_log_read_and_clear_with_authorization_redacted() {
    let mut s = sim(true);
    s.handle(
        SimRequest::new("PATCH", &vmss_url())
            .header("Authorization", "Bearer secret-token")
            .json(&json!({"tags": {"x": "1"}})),
        42,
    );
    get(&mut s, SUBS, 43);
    let r = control(&mut s, "GET", "requests", None);
    assert_eq!(r.status, 200);
    let log = r.json()["value"].as_array().unwrap().clone();
    assert_eq!(log.len(), 2, "control requests are not logged");
    let e = &log[0];
    assert_eq!(e["method"], "PATCH");
    assert_eq!(e["path"], VMSS);
    assert_eq!(e["query"], "api-version=2024-11-01");
    assert_eq!(e["status"], 200);
    assert_eq!(e["timeMs"], 42);
    assert_eq!(e["body"], json!({"tags": {"x": "1"}}).to_string());
    let hs = e["headers"].as_array().unwrap();
    assert!(
        hs.iter()
            .any(|h| h[0] == "Authorization" && h[1] == "<redacted>")
    );
    assert!(!r.body.contains("secret-token"));
    assert_eq!(control(&mut s, "DELETE", "requests", None).status, 204);
    assert!(s.request_log().is_empty());
}

#[test]
fn fault_list_clear_and_bad_input() {
    let mut s = sim(true);
    control(&mut s, "POST", "faults", Some(json!({"kind": "throttle"})));
    control(
        &mut s,
        "POST",
        "faults",
        Some(json!({"kind": "failOperation", "count": 2})),
    );
    let l = control(&mut s, "GET", "faults", None).json();
    assert_eq!(l["value"].as_array().unwrap().len(), 2);
    assert_eq!(l["value"][1]["fault"]["code"], "InternalExecutionError");
    assert_eq!(
        control(&mut s, "POST", "faults", Some(json!({"kind": "nope"}))).status,
        400
    );
    assert_eq!(control(&mut s, "DELETE", "faults", None).status, 204);
    assert!(s.faults().is_empty());
    assert_eq!(get(&mut s, SUBS, 1).status, 200);
}

#[test]
fn control_routes_are_off_unless_enabled() {
    let mut s = sim(false);
    let r = control(&mut s, "POST", "faults", Some(json!({"kind": "throttle"})));
    assert_eq!(r.status, 404);
    assert_eq!(get(&mut s, SUBS, 1).status, 200, "no fault was armed");
}

#[test]
fn forbidden_and_unauthorized_stand_ins() {
    let mut s = sim(true);
    control(
        &mut s,
        "POST",
        "faults",
        Some(json!({"kind": "forbidden", "match": {"method": "PATCH"}})),
    );
    assert_eq!(get(&mut s, &vmss_url(), 1).status, 200, "reads unaffected");
    let p = s.handle(
        SimRequest::new("PATCH", &vmss_url()).json(&json!({"tags": {}})),
        2,
    );
    assert_eq!(p.status, 403);
    let msg = p.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("'Microsoft.Compute/virtualMachineScaleSets/write' over scope '/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web'"), "{msg}");
    assert_eq!(
        get(&mut s, &vmss_url(), 3).header("ETag"),
        Some("\"1\""),
        "refused write not applied"
    );
    // list scope is the group
    s.inject(Fault::Forbidden {
        count: 1,
        linked: false,
        matcher: Matcher::default(),
    });
    let l = get(
        &mut s,
        "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets?api-version=2024-11-01",
        4,
    );
    assert!(l.json()["error"]["message"].as_str().unwrap().contains("virtualMachineScaleSets/read' over scope '/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web' "));
    // linked without a user-assigned identity in the body falls back to AuthorizationFailed
    s.inject(Fault::Forbidden {
        count: 1,
        linked: true,
        matcher: Matcher::default(),
    });
    let p = s.handle(
        SimRequest::new("PATCH", &vmss_url())
            .json(&json!({"identity": {"type": "SystemAssigned"}})),
        5,
    );
    assert_eq!(p.json()["error"]["code"], "AuthorizationFailed");
    control(
        &mut s,
        "POST",
        "faults",
        Some(json!({"kind": "unauthorized", "count": 1})),
    );
    let u = get(&mut s, SUBS, 1_780_000_000_000);
    assert_eq!(
        (u.status, u.json()["error"]["code"].as_str()),
        (401, Some("ExpiredAuthenticationToken"))
    );
    let h = u.header("WWW-Authenticate").unwrap();
    assert!(
        h.starts_with("Bearer authorization_uri=\"https://login.windows.net/")
            && h.contains("error=\"invalid_token\""),
        "{h}"
    );
    assert_eq!(get(&mut s, SUBS, 1_780_000_000_001).status, 200);
}

#[test]
fn canceled_operation() {
    let mut s = sim(true);
    control(
        &mut s,
        "POST",
        "faults",
        Some(json!({"kind": "cancelOperation"})),
    );
    let p = s.handle(
        SimRequest::new("PATCH", &vmss_url())
            .json(&json!({"identity": {"type": "SystemAssigned"}})),
        10,
    );
    let op = p.header("Azure-AsyncOperation").unwrap().to_string();
    assert_eq!(get(&mut s, &op, 20).json()["status"], "InProgress");
    let done = get(&mut s, &op, 2_000).json();
    assert_eq!(done["status"], "Canceled");
    assert!(done["error"]["code"].is_string());
    assert_eq!(
        get(&mut s, &vmss_url(), 2_001).json()["properties"]["provisioningState"],
        "Canceled"
    );
}

#[test]
fn log_since_and_runtime_config() {
    let mut s = sim(true);
    get(&mut s, SUBS, 1);
    get(&mut s, SUBS, 2);
    let all = control(&mut s, "GET", "requests", None).json();
    let first = all["value"][0]["seq"].as_u64().unwrap();
    let newer = s
        .handle(
            SimRequest::new("GET", &format!("/_armsim/requests?since={first}")),
            0,
        )
        .json();
    assert_eq!(newer["value"].as_array().unwrap().len(), 1);
    let c = control(
        &mut s,
        "POST",
        "config",
        Some(json!({"pageSize": 1, "lroDelayMs": 50})),
    );
    assert_eq!(c.json()["pageSize"], 1);
    assert!(
        get(&mut s, SUBS, 3).json()["nextLink"].is_string(),
        "page size 1 now"
    );
    let p = s.handle(
        SimRequest::new("PATCH", &vmss_url()).json(&json!({"tags": {}})),
        100,
    );
    let op = p.header("Azure-AsyncOperation").unwrap().to_string();
    assert_eq!(
        get(&mut s, &op, 151).json()["status"],
        "Succeeded",
        "50 ms delay now"
    );
    assert_eq!(
        control(&mut s, "GET", "config", None).json()["lroDelayMs"],
        50
    );
}
