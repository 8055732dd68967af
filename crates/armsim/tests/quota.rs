//! ARM's request quotas (`SimConfig::arm_quota`): the buckets per subscription and caller, Compute's per-resource
//! budget, the headers on every answer and 429 + Retry-After when exhausted — on armsim's clock.

use armsim::quota::{
    COMPUTE_RESOURCE_ACTIONS, READS_BURST, READS_PER_S, WRITES_BURST, WRITES_PER_S,
};
use armsim::{Seed, Sim, SimConfig, SimRequest};
use serde_json::json;

const SUB: &str = "11111111-1111-4111-8111-111111111111";
const VMSS: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web";

fn sim(on: bool) -> Sim {
    Sim::with_config(
        Seed::demo(),
        SimConfig {
            arm_quota: on,
            lro_delay_ms: 0,
            ..SimConfig::default()
        },
    )
}

fn get_rg(sim: &mut Sim, now: u64) -> armsim::SimResponse {
    sim.handle(
        SimRequest::new(
            "GET",
            &format!("/subscriptions/{SUB}/resourcegroups?api-version=2021-04-01"),
        ),
        now,
    )
}

fn tag_write(sim: &mut Sim, now: u64) -> armsim::SimResponse {
    let r = SimRequest::new(
        "PUT",
        &format!("/subscriptions/{SUB}/resourcegroups/rg-q?api-version=2021-04-01"),
    )
    .json(&json!({"location": "westeurope"}));
    sim.handle(r, now)
}

fn remaining(r: &armsim::SimResponse, what: &str) -> u64 {
    r.header(&format!("x-ms-ratelimit-remaining-subscription-{what}"))
        .unwrap_or_else(|| panic!("no {what} header"))
        .parse()
        .unwrap()
}

#[test]
fn reads_bucket_empties_then_429_with_retry_after_and_refills_on_the_clock() {
    let mut s = sim(true);
    for i in 0..READS_BURST as u64 {
        let r = get_rg(&mut s, 0);
        assert_eq!(r.status, 200, "read {i}");
        assert_eq!(remaining(&r, "reads"), READS_BURST as u64 - 1 - i);
    }
    let r = get_rg(&mut s, 0);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("Retry-After"), Some("1"));
    assert_eq!(remaining(&r, "reads"), 0);
    let e = r.json();
    assert_eq!(e["error"]["code"], "SubscriptionRequestsThrottled");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("Number of 'read' requests for subscription"),
        "{msg}"
    );
    assert!(msg.contains("Please try again after '1' seconds"), "{msg}");
    // 1 s later: 25 tokens refilled, exactly 25 more reads pass
    let mut passed = 0;
    while get_rg(&mut s, 1_000).status == 200 {
        passed += 1;
    }
    assert_eq!(passed, READS_PER_S as u32);
    // writes have their own bucket
    assert!(tag_write(&mut s, 1_000).status < 300);
}

#[test]
fn writes_bucket_is_200_refilled_10_per_second() {
    let mut s = sim(true);
    for _ in 0..WRITES_BURST as u64 {
        assert!(tag_write(&mut s, 0).status < 300);
    }
    let r = tag_write(&mut s, 50);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("Retry-After"), Some("1"));
    assert_eq!(remaining(&r, "writes"), 0);
    // 0.5 s refills 5 writes
    let mut passed = 0;
    while tag_write(&mut s, 500).status < 300 {
        passed += 1;
    }
    assert_eq!(passed, (WRITES_PER_S / 2.0) as u32);
    // a throttled request is not counted: 100 ms after being refused, 1 token is back
    assert!(tag_write(&mut s, 600).status < 300);
    // the request log names the refusals
    assert!(
        s.request_log()
            .iter()
            .any(|e| e.status == 429 && e.fault.as_deref() == Some("quota"))
    );
}

#[test]
fn off_by_default_counts_without_refusing() {
    assert!(!SimConfig::default().arm_quota);
    let mut s = sim(false);
    for _ in 0..(WRITES_BURST as u64 + 20) {
        assert!(tag_write(&mut s, 0).status < 300);
    }
    assert_eq!(remaining(&tag_write(&mut s, 0), "writes"), 0);
}

#[test]
fn compute_per_resource_update_limit() {
    let mut s = sim(true);
    let url = format!("{VMSS}?api-version=2024-11-01");
    let patch = |s: &mut Sim, now| {
        s.handle(
            SimRequest::new("PATCH", &url).json(&json!({"tags": {"n": "1"}})),
            now,
        )
    };
    for i in 0..COMPUTE_RESOURCE_ACTIONS {
        let r = patch(&mut s, 1_000 + i as u64);
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.header("x-ms-ratelimit-remaining-resource").unwrap();
        assert_eq!(
            v,
            format!(
                "Microsoft.Compute/VMScaleSetActionsSubscriptionMaximum;{},Microsoft.Compute/VMScaleSetActionsResource;{}",
                1_500 - 1 - i,
                COMPUTE_RESOURCE_ACTIONS - 1 - i
            )
        );
    }
    let r = patch(&mut s, 2_000);
    assert_eq!(r.status, 429);
    // to the end of the 3-minute window
    assert_eq!(r.header("Retry-After"), Some("178"));
    let e = r.json();
    assert_eq!(e["error"]["code"], "OperationNotAllowed");
    assert_eq!(e["error"]["details"][0]["code"], "TooManyRequests");
    assert_eq!(
        e["error"]["details"][0]["target"],
        "VMScaleSetActionsResource"
    );
    let d: serde_json::Value =
        serde_json::from_str(e["error"]["details"][0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(d["allowedRequestCount"], COMPUTE_RESOURCE_ACTIONS);
    // ARM's writes bucket still has tokens: this is Compute's limit
    assert!(remaining(&r, "writes") > 0);
    // another scale set is not affected; the next window is open again
    let other = SimRequest::new(
        "PATCH",
        &format!(
            "{}?api-version=2024-11-01",
            VMSS.replace("vmss-web", "vmss-api")
        ),
    )
    .json(&json!({"tags": {}}));
    assert_eq!(s.handle(other, 2_000).status, 200);
    assert_eq!(patch(&mut s, 180_000).status, 200);
}

#[test]
fn buckets_are_per_subscription() {
    let mut s = sim(true);
    for _ in 0..WRITES_BURST as u64 {
        assert!(tag_write(&mut s, 0).status < 300);
    }
    assert_eq!(tag_write(&mut s, 0).status, 429);
    let other = SimRequest::new(
        "PUT",
        "/subscriptions/22222222-2222-4222-8222-222222222222/resourcegroups/rg-q?api-version=2021-04-01",
    )
    .json(&json!({"location": "westeurope"}));
    assert!(s.handle(other, 0).status < 300);
}

#[test]
fn control_endpoint_switches_the_quota() {
    let (s, r) = common::demo_configured(json!({"armQuota": true}));
    assert_eq!(r["armQuota"], true);
    assert!(s.config().arm_quota);
}

mod common;

/// The binary's `--arm-quota on`: writes past the bucket get 429 + Retry-After over HTTP (real clock: 400 writes
/// in well under the 20 s the bucket would need to refill them).
#[test]
fn the_binary_enforces_the_quota_with_its_flag() {
    use std::process::Command;
    let exe = env!("CARGO_BIN_EXE_armsim");
    let bad = Command::new(exe)
        .args(["--arm-quota", "maybe"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--arm-quota: on or off"));
    common::with_binary(&["--port", "0", "--arm-quota", "on"], |base| {
        let url = format!("/subscriptions/{SUB}/resourcegroups/rg-q?api-version=2021-04-01");
        let body = json!({"location": "westeurope"});
        let throttled = (0..400)
            .map(|_| common::http(base, "PUT", &url, Some(&body), &[]).unwrap())
            .find(|r| r.status == 429)
            .expect("a 429 within 400 writes");
        assert!(throttled.header("Retry-After").is_some());
        assert_eq!(
            throttled.header("x-ms-ratelimit-remaining-subscription-writes"),
            Some("0")
        );
        assert_eq!(
            throttled.json()["error"]["code"],
            "SubscriptionRequestsThrottled"
        );
    });
}

/// The buckets are per caller too: another principal of the same subscription has its own.
#[test]
fn buckets_are_per_caller() {
    let issuer = armsim::testing::TestIssuer::with_bits(7, 1024);
    let now_s = 1_767_225_600; // tokens are checked against the simulator's clock
    let mut s = Sim::with_config(
        Seed::demo(),
        SimConfig {
            arm_quota: true,
            auth: Some(issuer.auth_config()),
            ..SimConfig::default()
        },
    );
    let now = now_s * 1000;
    let as_ = |s: &mut Sim, oid: &str| {
        let tok = issuer.token(oid, now_s);
        s.handle(
            SimRequest::new(
                "PUT",
                &format!("/subscriptions/{SUB}/resourcegroups/rg-q?api-version=2021-04-01"),
            )
            .header("Authorization", &format!("Bearer {tok}"))
            .json(&json!({"location": "westeurope"})),
            now,
        )
    };
    let alice = "aaaaaaaa-0000-4000-8000-00000000a11c";
    for _ in 0..WRITES_BURST as u64 {
        assert!(as_(&mut s, alice).status < 300);
    }
    let r = as_(&mut s, alice);
    assert_eq!(r.status, 429);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(alice)
    );
    let bob = as_(&mut s, "bbbbbbbb-0000-4000-8000-000000000b0b");
    assert!(bob.status < 300, "{}", bob.body);
    assert_eq!(remaining(&bob, "writes"), WRITES_BURST as u64 - 1);
}
