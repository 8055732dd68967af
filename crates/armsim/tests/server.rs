//! The server over real HTTP on 127.0.0.1 (a small std::net client), the binary's CLI, and the figures:
//! a GET's server-side time and listing 10,000 scale sets in pages.

use armsim::server::Server;
use armsim::{Seed, Sim, SimConfig};
use common::http;
use serde_json::json;

use std::process::Command;
use std::time::{Duration, Instant};

mod common;

const VMSS: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api?api-version=2024-11-01";

#[test]
fn binary_prints_its_url_first_and_serves() {
    let exe = env!("CARGO_BIN_EXE_armsim");
    let help = Command::new(exe).arg("--help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    for opt in [
        "--port",
        "--seed",
        "--page-size",
        "--lro-delay-ms",
        "--control",
        "--generate-scale",
    ] {
        assert!(help.contains(opt), "{opt} in --help");
    }
    let bad = Command::new(exe).arg("--nope").output().unwrap();
    assert!(!bad.status.success());

    common::with_binary(
        &[
            "--port",
            "0",
            "--page-size",
            "1",
            "--control",
            "--lro-delay-ms",
            "200",
        ],
        |base| {
            assert!(
                base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"),
                "{base}"
            );
            let r = http(
                base,
                "GET",
                "/subscriptions?api-version=2022-12-01",
                None,
                &[],
            )
            .unwrap();
            assert_eq!(r.status, 200);
            let next = r.json()["nextLink"].as_str().unwrap().to_string();
            assert!(
                next.starts_with(&format!("{base}/subscriptions?")),
                "nextLink on the bound URL: {next}"
            );
            let r2 = http(base, "GET", &next, None, &[]).unwrap();
            assert_eq!(r2.json()["value"][0]["displayName"], "Contoso Dev/Test");
            assert!(r2.json().get("nextLink").is_none());
            // the control endpoint is on with --control
            let f = http(
                base,
                "POST",
                "/_armsim/faults",
                Some(&json!({"kind": "throttle", "retryAfterSeconds": 2})),
                &[],
            )
            .unwrap();
            assert_eq!(f.status, 200);
            let t = http(base, "GET", VMSS, None, &[]).unwrap();
            assert_eq!((t.status, t.header("Retry-After")), (429, Some("2")));
        },
    );
}

#[test]
fn generate_scale_writes_a_loadable_seed() {
    let exe = env!("CARGO_BIN_EXE_armsim");
    let out = std::env::temp_dir().join(format!("armsim-scale-{}.json", std::process::id()));
    let st = Command::new(exe)
        .args([
            "--generate-scale",
            "250",
            "--subscriptions",
            "7",
            "--out",
            out.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let seed = Seed::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).ok();
    assert_eq!(seed.subscriptions.len(), 7);
    let n: usize = seed
        .subscriptions
        .iter()
        .flat_map(|s| &s.resource_groups)
        .map(|g| g.virtual_machine_scale_sets.len())
        .sum();
    assert_eq!(n, 250);
}

#[test]
fn lro_latency_and_dropped_connections_over_http() {
    let s = Server::start(
        Sim::with_config(
            Seed::demo(),
            SimConfig {
                control: true,
                lro_delay_ms: 300,
                ..SimConfig::default()
            },
        ),
        0,
        false,
    )
    .unwrap();
    let base = s.url();
    let g = http(
        &base,
        "GET",
        VMSS,
        None,
        &[("Authorization", "Bearer t0ken")],
    )
    .unwrap();
    let etag = g.header("ETag").unwrap().to_string();
    assert!(g.header("x-armsim-handle-us").is_some());
    let p = http(
        &base,
        "PATCH",
        VMSS,
        Some(&json!({"identity": {"type": "SystemAssigned"}})),
        &[("If-Match", &etag)],
    )
    .unwrap();
    assert_eq!(p.status, 200, "{}", p.body);
    let op = p.header("Azure-AsyncOperation").unwrap().to_string();
    assert!(
        op.starts_with(&base),
        "operation URL on the server's origin: {op}"
    );
    let started = Instant::now();
    let mut states = vec![];
    loop {
        let r = http(&base, "GET", &op, None, &[]).unwrap();
        let st = r.json()["status"].as_str().unwrap().to_string();
        states.push(st.clone());
        if st != "InProgress" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(states.first().map(String::as_str), Some("InProgress"));
    assert_eq!(states.last().map(String::as_str), Some("Succeeded"));
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "the real clock drives the operation"
    );

    // latency
    http(
        &base,
        "POST",
        "/_armsim/faults",
        Some(&json!({"kind": "latency", "ms": 300})),
        &[],
    )
    .unwrap();
    let t0 = Instant::now();
    assert_eq!(http(&base, "GET", VMSS, None, &[]).unwrap().status, 200);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    // dropped connection: the server closes without a status line
    http(
        &base,
        "POST",
        "/_armsim/faults",
        Some(&json!({"kind": "drop", "match": {"pathContains": "/operations/"}})),
        &[],
    )
    .unwrap();
    assert!(http(&base, "GET", &op, None, &[]).is_err());
    assert_eq!(http(&base, "GET", &op, None, &[]).unwrap().status, 200);
    // 503 then fine
    http(
        &base,
        "POST",
        "/_armsim/faults",
        Some(&json!({"kind": "serverError", "status": 503})),
        &[],
    )
    .unwrap();
    assert_eq!(http(&base, "GET", VMSS, None, &[]).unwrap().status, 503);
    // the request log over HTTP, Authorization redacted
    let log = http(&base, "GET", "/_armsim/requests", None, &[]).unwrap();
    assert!(log.body.contains("<redacted>") && !log.body.contains("t0ken"));
    let entries = log.json()["value"].as_array().unwrap().len();
    assert!(entries >= 8, "{entries}");
    assert_eq!(
        http(&base, "DELETE", "/_armsim/requests", None, &[])
            .unwrap()
            .status,
        204
    );
    assert_eq!(s.sim.lock().unwrap().request_log().len(), 0);
}

/// Figures for the closing note (printed; run with `--nocapture` to see them). Asserts the counts only.
#[test]
fn figures_get_time_and_listing_10000_scale_sets() {
    let seed = Seed::generate_scale(10_000, 100);
    let page = 100;
    let t_load = Instant::now();
    let sim = Sim::with_config(
        seed.clone(),
        SimConfig {
            page_size: page,
            ..SimConfig::default()
        },
    );
    let load_ms = t_load.elapsed().as_millis();

    // in-process GET time
    let mut inproc = sim.clone();
    let (sub0, g0) = (
        &seed.subscriptions[0],
        seed.subscriptions[0]
            .resource_groups
            .iter()
            .find(|g| g.virtual_machine_scale_sets.len() > 42)
            .unwrap(),
    );
    let id = &format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachineScaleSets/{}?api-version=2024-11-01",
        sub0.subscription_id, g0.name, g0.virtual_machine_scale_sets[42].name
    );
    let n = 1000;
    let t0 = Instant::now();
    for i in 0..n {
        assert_eq!(
            inproc.handle(armsim::SimRequest::new("GET", id), i).status,
            200
        );
    }
    let inproc_us = t0.elapsed().as_micros() as f64 / n as f64;

    let s = Server::start(sim, 0, false).unwrap();
    let base = s.url();
    let mut handle_us = vec![];
    let t1 = Instant::now();
    for _ in 0..200 {
        let r = http(&base, "GET", id, None, &[]).unwrap();
        assert_eq!(r.status, 200);
        handle_us.push(
            r.header("x-armsim-handle-us")
                .unwrap()
                .parse::<u64>()
                .unwrap(),
        );
    }
    let rtt_us = t1.elapsed().as_micros() as f64 / 200.0;
    handle_us.sort();
    let median = handle_us[handle_us.len() / 2];

    // list every scale set, subscription by subscription, following nextLink
    let t2 = Instant::now();
    let subs = {
        let mut v = vec![];
        let mut next = Some(format!("{base}/subscriptions?api-version=2022-12-01"));
        let mut reqs = 0;
        while let Some(u) = next {
            let r = http(&base, "GET", &u, None, &[]).unwrap();
            reqs += 1;
            let b = r.json();
            v.extend(
                b["value"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["subscriptionId"].as_str().unwrap().to_string()),
            );
            next = b["nextLink"].as_str().map(str::to_string);
        }
        (v, reqs)
    };
    let mut total = 0;
    let mut requests = subs.1;
    for sub in &subs.0 {
        let mut next = Some(format!(
            "{base}/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachineScaleSets?api-version=2024-11-01"
        ));
        while let Some(u) = next {
            let r = http(&base, "GET", &u, None, &[]).unwrap();
            assert_eq!(r.status, 200);
            requests += 1;
            let b = r.json();
            total += b["value"].as_array().unwrap().len();
            next = b["nextLink"].as_str().map(str::to_string);
        }
    }
    let wall = t2.elapsed();
    assert_eq!(subs.0.len(), 100);
    assert_eq!(total, 10_000);
    println!("FIGURE seed load (10,000 scale sets): {load_ms} ms");
    println!("FIGURE in-process GET of one scale set: {inproc_us:.1} us mean over {n}");
    println!(
        "FIGURE server-side GET time (x-armsim-handle-us): median {median} us, min {} us, max {} us over 200; client round trip {rtt_us:.0} us mean",
        handle_us[0],
        handle_us[handle_us.len() - 1]
    );
    println!(
        "FIGURE listing 10,000 scale sets over HTTP, page size {page}: {requests} requests, {} ms wall",
        wall.as_millis()
    );
}
