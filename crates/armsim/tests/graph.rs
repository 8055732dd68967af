//! Resource Graph: the app's queries, paging with $top / $skipToken, totals, quota headers, scoping by
//! subscriptions and by the caller's roles, and refusal of KQL outside the simulated subset.

use armsim::roles::RoleGrant;
use armsim::testing::TestIssuer;
use armsim::{Seed, Sim, SimConfig, SimRequest, SimResponse};
use common::{SUB1, SUB2};
use serde_json::{Value, json};

mod common;

const URL: &str = "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01";
const VMS_AND_SCALE_SETS: &str = "resources | where type in~ ('microsoft.compute/virtualmachinescalesets','microsoft.compute/virtualmachines') | project id, name, type, resourceGroup, subscriptionId, location, identity";

fn post(sim: &mut Sim, now: u64, body: Value) -> SimResponse {
    sim.handle(SimRequest::new("POST", URL).json(&body), now)
}

/// Every scale set and VM, read the ordinary way (per-subscription lists), as (lower-cased id, identity).
fn listed(sim: &mut Sim) -> Vec<(String, Value)> {
    let mut out = vec![];
    for sub in [SUB1, SUB2] {
        for ty in ["virtualMachineScaleSets", "virtualMachines"] {
            let r = sim.handle(SimRequest::new("GET", &format!("/subscriptions/{sub}/providers/Microsoft.Compute/{ty}?api-version=2024-11-01")), 0);
            for v in r.json()["value"].as_array().unwrap() {
                out.push((
                    v["id"].as_str().unwrap().to_lowercase(),
                    v.get("identity").cloned().unwrap_or(Value::Null),
                ));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn scale_sets_and_vms_with_identities_match_the_resource_lists() {
    let mut sim = Sim::from_seed(Seed::demo());
    let r = post(&mut sim, 0, json!({"query": VMS_AND_SCALE_SETS}));
    assert_eq!(r.status, 200, "{}", r.body);
    let b = r.json();
    let rows = b["data"].as_array().unwrap();
    let mut got: Vec<(String, Value)> = rows
        .iter()
        .map(|x| {
            (
                x["id"].as_str().unwrap().to_lowercase(),
                x["identity"].clone(),
            )
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, listed(&mut sim));
    assert_eq!(b["totalRecords"].as_u64().unwrap() as usize, rows.len());
    assert_eq!(b["count"].as_u64().unwrap() as usize, rows.len());
    assert_eq!(b["resultTruncated"], "false");
    for row in rows {
        let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 7, "{row}");
        let ty = row["type"].as_str().unwrap();
        assert_eq!(ty, ty.to_lowercase());
        assert_eq!(
            row["resourceGroup"],
            row["id"]
                .as_str()
                .unwrap()
                .split('/')
                .nth(4)
                .unwrap()
                .to_lowercase()
        );
    }
    let remaining: u32 = r
        .header("x-ms-user-quota-remaining")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(remaining, 14);
    let resets = r.header("x-ms-user-quota-resets-after").unwrap();
    assert_eq!(resets.len(), 8);
    assert_eq!(&resets[..6], "00:00:");
    let r2 = post(&mut sim, 1_000, json!({"query": VMS_AND_SCALE_SETS}));
    assert_eq!(r2.header("x-ms-user-quota-remaining"), Some("13"));
    let r3 = post(&mut sim, 6_000, json!({"query": VMS_AND_SCALE_SETS}));
    assert_eq!(r3.header("x-ms-user-quota-remaining"), Some("14"));
}

#[test]
fn which_resources_use_a_user_assigned_identity() {
    let mut sim = Sim::from_seed(Seed::demo());
    let id_web = format!(
        "/subscriptions/{SUB1}/resourcegroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web"
    );
    let q = format!(
        "Resources | where type in~ ('microsoft.compute/virtualmachinescalesets','microsoft.compute/virtualmachines') and identity.userAssignedIdentities has '{id_web}' | project id, name | order by id asc"
    );
    let r = post(&mut sim, 0, json!({"query": q}));
    assert_eq!(r.status, 200, "{}", r.body);
    let got: Vec<String> = r.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_lowercase())
        .collect();
    // expected from the resource lists: every scale set / VM whose identity map names id-web (ignoring case)
    let want: Vec<String> = listed(&mut sim)
        .into_iter()
        .filter(|(_, i)| {
            i["userAssignedIdentities"]
                .as_object()
                .is_some_and(|m| m.keys().any(|k| k.eq_ignore_ascii_case(&id_web)))
        })
        .map(|(id, _)| id)
        .collect();
    assert!(want.len() >= 2);
    assert_eq!(got, want);
    // after removing it from one scale set, that one is no longer reported
    // (vmss-web holds SA + id-web + id-keyvault-reader)
    let first = format!(
        "/subscriptions/{SUB1}/resourcegroups/rg-web/providers/microsoft.compute/virtualmachinescalesets/vmss-web"
    );
    assert!(got.contains(&first));
    let p = sim.handle(SimRequest::new("PATCH", &format!("{first}?api-version=2024-11-01")).json(&json!({"identity": {"userAssignedIdentities": {id_web.clone(): null}, "type": "SystemAssigned, UserAssigned"}})), 10);
    assert_eq!(p.status, 200, "{}", p.body);
    let r = post(&mut sim, 20, json!({"query": q}));
    let after: Vec<String> = r.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(!after.contains(&first), "{after:?}");
    assert_eq!(after.len(), got.len() - 1);
    // projections with functions and bracket paths; subscription scoping
    let q = "Resources | where type =~ 'Microsoft.Compute/virtualMachineScaleSets' | project id, mode = tostring(properties['orchestrationMode']), identityType = tolower(identity.type)";
    let r = post(&mut sim, 30, json!({"query": q, "subscriptions": [SUB2]}));
    let rows = r.json()["data"].as_array().unwrap().clone();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|x| x["id"].as_str().unwrap().contains(SUB2))
    );
    assert!(
        rows.iter()
            .all(|x| x["mode"] == "Uniform" || x["mode"] == "Flexible")
    );
    assert!(rows.iter().any(|x| x["identityType"] == "userassigned"));
}

#[test]
fn paging_with_top_and_skip_token_over_a_scale_fixture() {
    let mut sim = Sim::from_seed(Seed::generate_scale(2_500, 10));
    let q =
        "Resources | where type =~ 'microsoft.compute/virtualmachinescalesets' | project id, name";
    let mut seen = std::collections::BTreeSet::new();
    let mut tok: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut opts = json!({"$top": 1000});
        if let Some(t) = &tok {
            opts["$skipToken"] = json!(t);
        }
        let r = post(&mut sim, pages * 10, json!({"query": q, "options": opts}));
        assert_eq!(r.status, 200, "{}", r.body);
        let b = r.json();
        assert_eq!(b["totalRecords"], 2_500);
        let data = b["data"].as_array().unwrap();
        assert_eq!(b["count"].as_u64().unwrap() as usize, data.len());
        for d in data {
            assert!(
                seen.insert(d["id"].as_str().unwrap().to_string()),
                "duplicate"
            );
        }
        pages += 1;
        match b.get("$skipToken").and_then(Value::as_str) {
            Some(t) => tok = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!((pages, seen.len()), (3, 2_500));
    // without id, no skip token: the result is marked truncated
    let r = post(
        &mut sim,
        100,
        json!({"query": "Resources | project name", "options": {"$top": 10}}),
    );
    let b = r.json();
    assert_eq!(
        (b["resultTruncated"].as_str(), b.get("$skipToken")),
        (Some("true"), None)
    );
    // table format
    let r = post(
        &mut sim,
        110,
        json!({"query": q, "options": {"$top": 2, "resultFormat": "table"}}),
    );
    let b = r.json();
    assert_eq!(b["data"]["columns"].as_array().unwrap().len(), 2);
    assert_eq!(b["data"]["rows"].as_array().unwrap().len(), 2);
    // out-of-range $top
    assert_eq!(
        post(
            &mut sim,
            120,
            json!({"query": q, "options": {"$top": 5000}})
        )
        .status,
        400
    );
}

#[test]
fn unsupported_queries_get_args_error_shape() {
    let mut sim = Sim::from_seed(Seed::demo());
    for q in [
        "Resources | summarize count() by type",
        "ResourceContainers | project id",
        "Resources | where name ~~ 'x'",
        "Resources | join (Resources) on id",
    ] {
        let r = post(&mut sim, 0, json!({"query": q}));
        assert_eq!(r.status, 400, "{q}");
        let e = &r.json()["error"];
        assert_eq!(e["code"], "BadRequest");
        assert_eq!(e["details"][0]["code"], "InvalidQuery");
    }
    assert_eq!(post(&mut sim, 0, json!({})).status, 400);
    let r = sim.handle(
        SimRequest::new(
            "POST",
            "/providers/Microsoft.ResourceGraph/resources?api-version=2000-01-01",
        )
        .json(&json!({"query": "Resources"})),
        0,
    );
    assert_eq!(r.status, 400);
    let r = sim.handle(SimRequest::new("GET", URL), 0);
    assert_eq!(r.status, 405);
}

#[test]
fn rows_are_limited_to_what_the_caller_may_read() {
    let iss = TestIssuer::with_bits(5, 1024);
    let who = "0000b0b0-0000-4000-8000-000000000002";
    let mut sim = Sim::with_config(
        Seed::demo(),
        SimConfig {
            auth: Some(iss.auth_config()),
            role_map: Some(vec![RoleGrant {
                principal_id: who.into(),
                role: "Reader".into(),
                scope: format!("/subscriptions/{SUB1}/resourceGroups/rg-web"),
            }]),
            ..SimConfig::default()
        },
    );
    let now = 1_780_000_000_000u64;
    let tok = iss.token(who, now / 1000);
    let r = sim.handle(
        SimRequest::new("POST", URL)
            .header("Authorization", &format!("Bearer {tok}"))
            .json(&json!({"query": VMS_AND_SCALE_SETS})),
        now,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let ids: Vec<String> = r.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(!ids.is_empty());
    assert!(
        ids.iter().all(|i| i.contains("/resourcegroups/rg-web/")),
        "{ids:?}"
    );
    let r = sim.handle(
        SimRequest::new("POST", URL).json(&json!({"query": VMS_AND_SCALE_SETS})),
        now,
    );
    assert_eq!(r.status, 401);
}

/// Figures (printed with `--nocapture`): 10,000 scale sets over 100 subscriptions, read through Resource Graph in
/// pages of 1,000 vs. the per-subscription lists (page size 100), in-process.
#[test]
fn figures_resource_graph_vs_lists_10000_scale_sets() {
    let seed = Seed::generate_scale(10_000, 100);
    let subs: Vec<String> = seed
        .subscriptions
        .iter()
        .map(|s| s.subscription_id.clone())
        .collect();
    let mut sim = Sim::from_seed(seed);
    let q = "resources | where type in~ ('microsoft.compute/virtualmachinescalesets','microsoft.compute/virtualmachines') | project id, name, type, resourceGroup, subscriptionId, location, identity";
    let t = std::time::Instant::now();
    let (mut n, mut requests, mut tok) = (0usize, 0usize, None::<String>);
    loop {
        let mut opts = json!({"$top": 1000});
        if let Some(s) = &tok {
            opts["$skipToken"] = json!(s);
        }
        let b = post(
            &mut sim,
            requests as u64,
            json!({"query": q, "options": opts}),
        )
        .json();
        requests += 1;
        n += b["data"].as_array().unwrap().len();
        match b.get("$skipToken").and_then(Value::as_str) {
            Some(s) => tok = Some(s.to_string()),
            None => break,
        }
    }
    let graph = t.elapsed();
    assert_eq!((n, requests), (10_000, 10));
    let t = std::time::Instant::now();
    let (mut m, mut lreq) = (0usize, 0usize);
    for s in &subs {
        let mut url = format!(
            "/subscriptions/{s}/providers/Microsoft.Compute/virtualMachineScaleSets?api-version=2024-11-01"
        );
        loop {
            let b = sim.handle(SimRequest::new("GET", &url), 0).json();
            lreq += 1;
            m += b["value"].as_array().unwrap().len();
            match b.get("nextLink").and_then(Value::as_str) {
                Some(l) => url = l.to_string(),
                None => break,
            }
        }
    }
    let lists = t.elapsed();
    assert_eq!(m, 10_000);
    println!(
        "figures: Resource Graph {n} scale sets in {requests} requests, {graph:?}; per-subscription lists {m} in {lreq} requests, {lists:?}"
    );
}

/// The query arm-client sends for scale sets (crates/arm-client `SCALE_SETS_QUERY`): computed columns, a map
/// column and `order by id asc`.
#[test]
fn the_clients_scale_set_query() {
    let q = "Resources | where type =~ 'microsoft.compute/virtualmachinescalesets' | project id, name, subscriptionId, resourceGroup, location, identityType = tostring(identity.type), principalId = tostring(identity.principalId), userAssigned = identity.userAssignedIdentities, orchestrationMode = tostring(properties.orchestrationMode), upgradeMode = tostring(properties.upgradePolicy.mode) | order by id asc";
    let mut sim = Sim::from_seed(Seed::demo());
    let mut got = vec![];
    let mut tok: Option<String> = None;
    loop {
        let mut opts = json!({"$top": 4, "resultFormat": "objectArray"});
        if let Some(t) = &tok {
            opts["$skipToken"] = json!(t);
        }
        let r = post(&mut sim, 0, json!({"query": q, "options": opts}));
        assert_eq!(r.status, 200, "{}", r.body);
        let b = r.json();
        got.extend(b["data"].as_array().unwrap().iter().cloned());
        match b.get("$skipToken").and_then(Value::as_str) {
            Some(t) => tok = Some(t.to_string()),
            None => break,
        }
    }
    let ids: Vec<String> = got
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    let listed: Vec<(String, Value)> = listed(&mut sim)
        .into_iter()
        .filter(|(id, _)| id.contains("/virtualmachinescalesets/"))
        .collect();
    assert_eq!(
        ids,
        listed.iter().map(|(i, _)| i.clone()).collect::<Vec<_>>()
    );
    for (row, (_, identity)) in got.iter().zip(&listed) {
        assert_eq!(row["identityType"], identity["type"].as_str().unwrap_or(""));
        assert_eq!(
            row["principalId"],
            identity["principalId"].as_str().unwrap_or("")
        );
        assert_eq!(
            row["userAssigned"],
            identity
                .get("userAssignedIdentities")
                .cloned()
                .unwrap_or(Value::Null)
        );
        assert!(row["orchestrationMode"] == "Uniform" || row["orchestrationMode"] == "Flexible");
        assert!(["Manual", "Automatic", "Rolling"].contains(&row["upgradeMode"].as_str().unwrap()));
    }
}

/// The mv-expand form of "which resources use this identity" gives the same answer as the `has` form.
#[test]
fn mv_expand_form_matches_the_has_form() {
    let mut sim = Sim::from_seed(Seed::demo());
    let id = format!(
        "/subscriptions/{SUB1}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web"
    );
    let ids = |r: SimResponse| -> Vec<String> {
        assert_eq!(r.status, 200, "{}", r.body);
        let mut v: Vec<String> = r.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_lowercase())
            .collect();
        v.sort();
        v
    };
    let has = ids(post(
        &mut sim,
        0,
        json!({"query": format!("Resources | where identity.userAssignedIdentities has '{id}' | project id")}),
    ));
    let mv = ids(post(
        &mut sim,
        0,
        json!({"query": format!("Resources | where isnotnull(identity) | mv-expand ua = identity.userAssignedIdentities | extend uaId = tostring(bag_keys(ua)[0]) | where uaId =~ '{id}' | project id, uaId")}),
    ));
    assert!(has.len() >= 2);
    assert_eq!(has, mv);
    // one row per (resource, identity): vmss-web holds two user-assigned identities
    let r = post(
        &mut sim,
        0,
        json!({"query": "Resources | where name == 'vmss-web' | mv-expand ua = identity.userAssignedIdentities | project id, key = bag_keys(ua)[0]"}),
    );
    let rows = r.json()["data"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 2);
    assert_ne!(rows[0]["key"], rows[1]["key"]);
    // arrays expand per element; a resource without the value keeps one row with null
    let r = post(
        &mut sim,
        0,
        json!({"query": "Resources | where name == 'vmss-api' | mv-expand ua = identity.userAssignedIdentities | project id, ua"}),
    );
    let rows = r.json()["data"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["ua"].is_null());
}

/// A query's later pages come from the result its first page computed (the query is not run again per page)
/// while nothing changes — the same rows as running it again — and a change between pages is seen by the next.
#[test]
fn later_pages_come_from_the_first_pages_result_until_something_changes() {
    let mut sim = Sim::from_seed(Seed::demo());
    let q = "resources | where type =~ 'microsoft.managedidentity/userassignedidentities' | order by id asc | project id, name";
    let mut page = |now: u64, opts: Value| {
        let r = post(&mut sim, now, json!({"query": q, "options": opts}));
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };
    let all = page(0, json!({"$top": 1000}));
    assert_eq!(all["totalRecords"], 5);
    let p1 = page(10, json!({"$top": 2}));
    let p2 = page(20, json!({"$top": 2, "$skipToken": p1["$skipToken"]}));
    let fresh = page(30, json!({"$top": 2, "$skip": 2}));
    assert_eq!(p2["data"], fresh["data"]);
    assert_eq!(p2["data"], json!(all["data"].as_array().unwrap()[2..4]));
    assert_eq!((&p2["totalRecords"], &p2["count"]), (&json!(5), &json!(2)));
    // the last identity is deleted between the second and the third page: the third sees it gone
    let last = all["data"][4]["id"].as_str().unwrap().to_string();
    let r = sim.handle(
        SimRequest::new("DELETE", &format!("{last}?api-version=2023-01-31")),
        40,
    );
    assert!(r.status == 200 || r.status == 204, "{}", r.body);
    let r = post(
        &mut sim,
        50,
        json!({"query": q, "options": {"$top": 2, "$skipToken": p2["$skipToken"]}}),
    );
    let p3 = r.json();
    assert_eq!(
        (&p3["totalRecords"], &p3["count"]),
        (&json!(4), &json!(0)),
        "{p3}"
    );
    assert!(p3.get("$skipToken").is_none());
}
