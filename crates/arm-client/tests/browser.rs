//! In headless Chromium (wasm-bindgen-test): the browser transport (gloo-net fetch)
//! and the demo tenant — the client on armsim in-process with the browser clock
//! (setTimeout), as the app runs it offline.
#![cfg(target_arch = "wasm32")]

use arm_client::clock::BrowserClock;
use arm_client::transport::browser::FetchTransport;
use arm_client::transport::sim::SimTransport;
use arm_client::*;
use std::rc::Rc;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const VMSS_API: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api";

#[wasm_bindgen_test]
async fn fetch_transport_reads_status_headers_and_body() {
    let r = FetchTransport
        .send(HttpRequest::new(
            Method::Get,
            "data:application/json,%7B%22value%22%3A%5B%5D%7D",
        ))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.body_json().unwrap(), serde_json::json!({"value": []}));
    // a refused fetch is a network error, not a panic
    let e = FetchTransport
        .send(HttpRequest::new(Method::Get, "http://127.0.0.1:1/nothing"))
        .await
        .unwrap_err();
    assert!(matches!(e, TransportError::Network(_)), "{e:?}");
}

#[wasm_bindgen_test]
fn fetch_requests_refuse_redirects() {
    let mut req = HttpRequest::new(Method::Patch, "https://management.azure.com/x");
    req.set_header("If-Match", "\"1\"");
    let built: web_sys::Request = FetchTransport::builder(&req).build().unwrap().into();
    assert_eq!(built.redirect(), web_sys::RequestRedirect::Error);
    assert_eq!(built.method(), "PATCH");
}

#[wasm_bindgen_test]
async fn demo_tenant_identity_change_on_the_browser_clock() {
    let clock: Rc<dyn Clock> = Rc::new(BrowserClock);
    let cfg = armsim::SimConfig {
        lro_delay_ms: 150,
        ..Default::default()
    };
    let sim = SimTransport::new(
        armsim::Sim::with_config(armsim::Seed::demo(), cfg),
        clock.clone(),
    );
    let c = ArmClient::builder(
        "https://management.azure.com",
        Rc::new(sim.clone()),
        Rc::new(StaticToken::new("demo")),
    )
    .clock(clock.clone())
    .lro(LroOptions {
        poll_ms: 40,
        max_poll_ms: 80,
        ..Default::default()
    })
    .build()
    .unwrap();
    let started = clock.now_ms();
    let mut states = Vec::new();
    let ch = identity::change_identity(
        &c,
        VMSS_API,
        &identity_core::Operation::EnableSystemAssigned,
        &mut |p| states.push(p.state.clone()),
    )
    .await
    .unwrap();
    assert!(clock.now_ms() - started >= 150, "real setTimeout waits");
    assert!(ch.after.unwrap().identity.system_assigned);
    assert!(states.iter().any(|s| s == "InProgress"), "{states:?}");
    let log = sim.sim().request_log().to_vec();
    assert_eq!(log.iter().filter(|e| e.method == "PATCH").count(), 1);
    assert_eq!(log[0].method, "GET");
}
