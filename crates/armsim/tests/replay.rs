//! Replays the recorded exchanges in shared/arm/recordings against the simulator: same status, same identity in
//! the response (recorded GUIDs mapped one-to-one onto the simulator's), same etag progression, LRO headers present.
//!
//! The harness is generic over recordings in the excerpt format (`interactions:` with `request`/`response`,
//! `body` or `body_identity_part`, uris elided with `...`); only the setup that the recording performed outside
//! ARM's resource API (the template deployment that created the scale set) is done here from its comments.

use armsim::{Seed, Sim, SimConfig, SimRequest, SimResponse};
use common::recordings_dir;
use serde_json::{Value, json};
use std::collections::BTreeMap;

mod common;

/// Recorded GUID (first 8 hex digits, since the excerpt elides the rest as `b8c0b456-...`) ↔ simulator value.
#[derive(Default)]
struct IdMap(BTreeMap<String, String>);

impl IdMap {
    fn bind(&mut self, recorded: &str, ours: &str, what: &str) {
        let k = recorded
            .trim_end_matches("...")
            .trim_end_matches('-')
            .to_string();
        let k = k.get(..8).unwrap_or(&k).to_string();
        if let Some(prev) = self.0.get(&k) {
            assert_eq!(
                prev, ours,
                "{what}: recorded {recorded} was answered before as {prev}, now {ours}"
            );
        } else {
            assert!(
                !self.0.values().any(|v| v == ours),
                "{what}: {ours} already stands for another recorded id"
            );
            self.0.insert(k, ours.to_string());
        }
    }
}

struct Harness {
    sim: Sim,
    now: u64,
    ids: IdMap,
    last_async: Option<String>,
    last_op_start: u64,
    full_uris: Vec<String>,
    delay: u64,
}

impl Harness {
    fn send(&mut self, method: &str, url: &str, body: &str) -> SimResponse {
        let mut r = SimRequest::new(method, url);
        if !body.is_empty() {
            r.body = body.to_string();
            r.headers
                .push(("Content-Type".into(), "application/json".into()));
        }
        let resp = self.sim.handle(r, self.now);
        if let Some(a) = resp.header("Azure-AsyncOperation") {
            self.last_async = Some(a.to_string());
            self.last_op_start = self.now;
        }
        resp
    }

    /// Resolves an elided uri: operation polls use the last `Azure-AsyncOperation`; `.../x` takes the prefix of
    /// the last full uri that contains `x`.
    fn resolve(&self, uri: &str) -> String {
        if uri.contains("/operations/") {
            return self
                .last_async
                .clone()
                .expect("a poll follows an operation");
        }
        if let Some(rest) = uri.strip_prefix("...") {
            let path = rest.split('?').next().unwrap();
            let base = self
                .full_uris
                .iter()
                .rev()
                .find_map(|u| u.find(path).map(|i| u[..i].to_string()))
                .unwrap_or_else(|| panic!("no earlier uri contains {path}"));
            return format!("{base}{rest}");
        }
        uri.to_string()
    }
}

fn uai_ids(h: &mut Harness, ua_id: &str) -> (String, String) {
    let r = h.send("GET", &format!("{ua_id}?api-version=2024-11-30"), "");
    assert_eq!(r.status, 200, "{ua_id}");
    let b = r.json();
    (
        b["properties"]["principalId"].as_str().unwrap().into(),
        b["properties"]["clientId"].as_str().unwrap().into(),
    )
}

/// Compares a recorded `identity` value with ours.
fn compare_identity(h: &mut Harness, step: &str, rec: &Value, ours: &Value) {
    assert_eq!(rec["type"], ours["type"], "{step}: identity type");
    for f in ["principalId", "tenantId"] {
        match (
            rec.get(f).and_then(Value::as_str),
            ours.get(f).and_then(Value::as_str),
        ) {
            (Some(r), Some(o)) => h.ids.bind(r, o, &format!("{step} identity.{f}")),
            (None, None) => {}
            (r, o) => {
                if r.is_some() {
                    panic!("{step}: identity.{f} recorded {r:?}, ours {o:?}")
                }
            }
        }
    }
    let rec_map = rec.get("userAssignedIdentities").and_then(Value::as_object);
    let our_map = ours
        .get("userAssignedIdentities")
        .and_then(Value::as_object);
    match (rec_map, our_map) {
        (None, None) => {}
        (Some(rm), Some(om)) => {
            assert_eq!(
                rm.len(),
                om.len(),
                "{step}: number of user-assigned identities"
            );
            for (rk, rv) in rm {
                let suffix = rk.trim_start_matches("...").to_ascii_lowercase();
                let (ok, ov) = om
                    .iter()
                    .find(|(k, _)| k.to_ascii_lowercase().ends_with(&suffix))
                    .unwrap_or_else(|| panic!("{step}: {rk} missing in {om:?}"));
                let rec_has = rv.get("principalId").is_some();
                assert_eq!(
                    rec_has,
                    ov.get("principalId").is_some(),
                    "{step}: {rk} ids present ({ov})"
                );
                if rec_has {
                    let (p, c) = uai_ids(h, ok);
                    assert_eq!(
                        ov["principalId"],
                        json!(p),
                        "{step}: {rk} principalId is the identity's"
                    );
                    assert_eq!(
                        ov["clientId"],
                        json!(c),
                        "{step}: {rk} clientId is the identity's"
                    );
                    h.ids.bind(rv["principalId"].as_str().unwrap(), &p, step);
                    h.ids.bind(rv["clientId"].as_str().unwrap(), &c, step);
                }
            }
        }
        (r, o) => panic!("{step}: userAssignedIdentities recorded {r:?}, ours {o:?}"),
    }
}

fn dotted<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |acc, k| &acc[k])
}

fn check_response(h: &mut Harness, step: &str, rec: &Value, resp: &SimResponse) {
    let code = rec["status"]["code"].as_u64().unwrap() as u16;
    assert_eq!(resp.status, code, "{step}: status; body {}", resp.body);
    if let Some(hs) = rec.get("headers").and_then(Value::as_object) {
        for (k, v) in hs {
            let kl = k.to_ascii_lowercase();
            let ours = resp.header(&kl);
            match kl.as_str() {
                "etag" => assert_eq!(ours, v.as_str(), "{step}: ETag header"),
                "azure-asyncoperation" => {
                    let u = ours.unwrap_or_else(|| panic!("{step}: Azure-AsyncOperation missing"));
                    let rec_prefix = v.as_str().unwrap().split("/operations/").next().unwrap();
                    assert!(
                        u.starts_with(rec_prefix),
                        "{step}: operation URL shape {u} vs {rec_prefix}"
                    );
                    assert!(u.contains("api-version=2024-11-01"), "{step}: {u}");
                }
                "location" => {
                    let rv = v.as_str().unwrap();
                    let u = ours.unwrap_or_else(|| panic!("{step}: Location missing"));
                    if rv.contains("/operations/") {
                        assert!(
                            u.contains("/operations/") && u.contains("monitor=true"),
                            "{step}: {u}"
                        );
                    } else {
                        assert_eq!(u, rv, "{step}: Location");
                    }
                }
                "azure-asyncnotification" => assert_eq!(ours, v.as_str(), "{step}: {k}"),
                k if k.starts_with("x-ms-ratelimit-remaining-subscription") => {
                    assert!(
                        ours.is_some_and(|x| x.parse::<u64>().is_ok()),
                        "{step}: {k} present"
                    )
                }
                _ => {}
            }
        }
    }
    // Retry-After as recorded: where the recording lists one, the same value; where it lists none, none. The
    // upstream recording (Azure/azure-cli test_vmss_explicit_msi.yaml, full headers) carries no Retry-After on
    // any Compute answer: not on the PATCH 200s, not on the manualupgrade 202, not on the operation polls
    // (InProgress or done), not on the `monitor=true` poll once done.
    let rec_retry = rec
        .get("headers")
        .and_then(Value::as_object)
        .and_then(|hs| {
            hs.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
        })
        .map(|(_, v)| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    assert_eq!(
        resp.header("Retry-After"),
        rec_retry.as_deref(),
        "{step}: Retry-After"
    );
    if let Some(b) = rec.get("body").and_then(Value::as_str) {
        if b.is_empty() {
            assert!(
                resp.body.is_empty(),
                "{step}: empty body expected, got {}",
                resp.body
            );
        } else {
            let rb: Value = serde_json::from_str(b).unwrap();
            let ob = resp.json();
            if rb.get("status").is_some() {
                assert_eq!(rb["status"], ob["status"], "{step}: operation status");
                assert!(
                    ob["name"].is_string() && ob["startTime"].is_string(),
                    "{step}: {ob}"
                );
                assert_eq!(
                    rb.get("endTime").is_some(),
                    ob.get("endTime").is_some(),
                    "{step}: endTime presence"
                );
            } else {
                for f in ["id", "name", "type", "location"] {
                    assert_eq!(rb[f], ob[f], "{step}: {f}");
                }
                if let (Some(rp), Some(op)) =
                    (rb["properties"].as_object(), ob["properties"].as_object())
                {
                    let mut rk: Vec<_> = rp.keys().collect();
                    let mut ok: Vec<_> = op.keys().collect();
                    rk.sort();
                    ok.sort();
                    assert_eq!(rk, ok, "{step}: property names");
                    for f in ["principalId", "clientId", "tenantId"] {
                        h.ids
                            .bind(rp[f].as_str().unwrap(), op[f].as_str().unwrap(), step);
                    }
                }
                if let Some(ri) = rb.get("identity") {
                    compare_identity(h, step, ri, &ob["identity"]);
                }
            }
        }
    }
    if let Some(part) = rec.get("body_identity_part").and_then(Value::as_object) {
        let ob = resp.json();
        for (k, v) in part {
            if k == "identity" {
                let ours = ob.get("identity").cloned().unwrap_or(Value::Null);
                compare_identity(h, step, v, &ours);
            } else {
                assert_eq!(dotted(&ob, k), v, "{step}: {k}");
            }
        }
        if !part.contains_key("identity") {
            // a recorded part without identity means none was shown; nothing to compare
        }
    }
}

#[test]
fn replay_cli_test_vmss_explicit_msi() {
    let dir = recordings_dir();
    let text =
        std::fs::read_to_string(dir.join("cli_test_vmss_explicit_msi.excerpt.yaml")).unwrap();
    let doc: Value = yaml_serde::from_str(&text).unwrap();
    let interactions = doc["interactions"].as_array().unwrap();
    assert!(interactions.len() >= 10, "the excerpt has its exchanges");

    let sub = "00000000-0000-0000-0000-000000000000";
    let rg = "cli_test_vmss_explicit_msi000001";
    let seed = Seed::from_json(
        &json!({
            "tenantId": "ed94de55-1f87-4278-9651-525e7ba467d6",
            "rngSeed": 9,
            "subscriptions": [{"subscriptionId": sub, "displayName": "recorded",
                "resourceGroups": [{"name": rg, "location": "westcentralus"}]}]
        })
        .to_string(),
    )
    .unwrap();
    let delay = 6_000;
    let cfg = SimConfig {
        lro_delay_ms: delay,
        ..SimConfig::default()
    };
    let mut h = Harness {
        sim: Sim::with_config(seed, cfg),
        now: 1_778_139_000_000,
        ids: IdMap::default(),
        last_async: None,
        last_op_start: 0,
        full_uris: vec![],
        delay,
    };
    let base =
        format!("https://management.azure.com/subscriptions/{sub}/resourceGroups/{rg}/providers");
    let mut setup_done = false;
    for (i, it) in interactions.iter().enumerate() {
        let req = &it["request"];
        let method = req["method"].as_str().unwrap();
        let uri = req["uri"].as_str().unwrap();
        let step = format!("interaction {i} {method} {uri}");
        if !uri.contains("...") {
            h.full_uris.push(uri.to_string());
        }
        // Setup the recording did through a template deployment (see its comments): id2, then vmss1 with
        // SystemAssigned + id1 (Uniform, upgrade policy manual), created before the first scale-set PATCH.
        if !setup_done && uri.contains("virtualMachineScaleSets") {
            setup_done = true;
            let r = h.send("PUT", &format!("{base}/Microsoft.ManagedIdentity/userAssignedIdentities/id2?api-version=2025-05-31-preview"), r#"{"location": "westcentralus"}"#);
            assert_eq!(r.status, 201);
            let vmss = json!({"location": "westcentralus", "sku": {"name": "Standard_D2s_v3", "capacity": 1},
                "identity": {"type": "SystemAssigned,UserAssigned",
                    "userAssignedIdentities": {format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"): {}}},
                "properties": {"overprovision": true, "upgradePolicy": {"mode": "manual"}, "orchestrationMode": "Uniform"}});
            let r = h.send(
                "PUT",
                &format!(
                    "{base}/Microsoft.Compute/virtualMachineScaleSets/vmss1?api-version=2025-04-01"
                ),
                &vmss.to_string(),
            );
            assert_eq!(r.status, 201, "{}", r.body);
            h.now += delay + 1_000;
            let r = h.send(
                "GET",
                &format!(
                    "{base}/Microsoft.Compute/virtualMachineScaleSets/vmss1?api-version=2024-11-01"
                ),
                "",
            );
            assert_eq!(
                r.header("ETag"),
                Some("\"1\""),
                "recorded: after creation GET vmss1 -> etag \"1\""
            );
        }
        let url = h.resolve(uri);
        let body = req.get("body").and_then(Value::as_str).unwrap_or("");
        let is_poll = uri.contains("/operations/");
        if is_poll {
            // Recorded polls without endTime happened before the operation ended; with endTime, after.
            let rec_body: Value = it["response"]["body"]
                .as_str()
                .and_then(|b| serde_json::from_str(b).ok())
                .unwrap_or(Value::Null);
            h.now = if rec_body.get("endTime").is_some() {
                h.last_op_start + h.delay + 500
            } else {
                h.last_op_start + 1_000
            };
        } else if method != "GET" || h.now < h.last_op_start + h.delay {
            // every recorded command waited for the previous operation to finish before its next request
            h.now = h.now.max(h.last_op_start + h.delay + 1_000);
        } else {
            h.now += 1_000;
        }
        let resp = h.send(method, &url, body);
        check_response(&mut h, &step, &it["response"], &resp);
        h.now += 100;
    }
    // the etag progression of the whole session: 1 (create), 2 (assign), 3 (manual upgrade), 4, 5 (removes)
    let r = h.send(
        "GET",
        &format!("{base}/Microsoft.Compute/virtualMachineScaleSets/vmss1?api-version=2025-11-01"),
        "",
    );
    assert_eq!(r.header("ETag"), Some("\"5\""));
}

/// CONTRACT.md §4.2 summarises `test_vmss_msi.yaml` (not excerpted): a scale set without identity gets a
/// system-assigned identity, then `{"userAssignedIdentities":null,"type":"None"}` removes it.
#[test]
fn contract_summary_of_test_vmss_msi() {
    let sub = "00000000-0000-0000-0000-000000000000";
    let seed = json!({"subscriptions": [{"subscriptionId": sub, "displayName": "recorded", "resourceGroups": [{
        "name": "cli_test_vmss_msi000001", "location": "westus",
        "virtualMachineScaleSets": [{"name": "vmss1", "orchestrationMode": "Uniform", "upgradePolicy": "Manual"}]}]}]});
    let mut sim = Sim::with_config(
        Seed::from_json(&seed.to_string()).unwrap(),
        SimConfig {
            lro_delay_ms: 9_000,
            ..SimConfig::default()
        },
    );
    let url = format!(
        "https://management.azure.com/subscriptions/{sub}/resourceGroups/cli_test_vmss_msi000001/providers/Microsoft.Compute/virtualMachineScaleSets/vmss1"
    );
    // 1: GET (2025-11-01): no identity key, etag "1"
    let g = sim.handle(
        SimRequest::new("GET", &format!("{url}?api-version=2025-11-01")),
        0,
    );
    assert_eq!(g.header("ETag"), Some("\"1\""));
    assert!(g.json().get("identity").is_none());
    // 2: PATCH SystemAssigned → 200, principalId already present, etag "2"; op InProgress → Succeeded (~9 s)
    let p = sim.handle(
        SimRequest::new("PATCH", &format!("{url}?api-version=2024-11-01"))
            .json(&json!({"identity": {"type": "SystemAssigned"}})),
        1_000,
    );
    assert_eq!((p.status, p.header("ETag")), (200, Some("\"2\"")));
    assert!(p.json()["identity"]["principalId"].is_string());
    let op = p.header("Azure-AsyncOperation").unwrap().to_string();
    assert_eq!(
        sim.handle(SimRequest::new("GET", &op), 2_000).json()["status"],
        "InProgress"
    );
    assert_eq!(
        sim.handle(SimRequest::new("GET", &op), 10_500).json()["status"],
        "Succeeded"
    );
    // 3: PATCH the CLI's remove body → 200, no identity key, etag "3"
    let r = sim.handle(
        SimRequest::new("PATCH", &format!("{url}?api-version=2024-11-01"))
            .json(&json!({"identity": {"userAssignedIdentities": null, "type": "None"}})),
        11_000,
    );
    assert_eq!((r.status, r.header("ETag")), (200, Some("\"3\"")));
    assert!(r.json().get("identity").is_none());
    // 4: the second remove only GETs (client side); the state stays without identity
    let g = sim.handle(
        SimRequest::new("GET", &format!("{url}?api-version=2025-11-01")),
        50_000,
    );
    assert!(g.json().get("identity").is_none());
    assert_eq!(g.header("ETag"), Some("\"3\""));
}
