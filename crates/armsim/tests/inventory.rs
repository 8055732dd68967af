//! The fleet inventory's server side (issue 16): Resource Graph's `AuthorizationResources` table, the per-user
//! quota enforced (429 + Retry-After), the large-tenant generator, and paging at 12,500 rows over 100
//! subscriptions (whole and in subscription batches).

use armsim::tenant::TenantSpec;
use armsim::{Seed, Sim, SimConfig, SimRequest, SimResponse};
use common::{SUB1, SUB2};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

mod common;

const URL: &str = "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01";
const COMPUTE: &str = "resources | where type in~ ('microsoft.compute/virtualmachinescalesets','microsoft.compute/virtualmachines') | project id, name, type, subscriptionId, identity";
const IDENTITIES: &str = "resources | where type =~ 'microsoft.managedidentity/userassignedidentities' | project id, name, principalId = tostring(properties.principalId), clientId = tostring(properties.clientId)";
const ASSIGNMENTS: &str = "authorizationresources | where type =~ 'microsoft.authorization/roleassignments' | project id, principalId = tostring(properties.principalId), roleDefinitionId = tostring(properties.roleDefinitionId), scope = tostring(properties.scope), condition = tostring(properties.condition), principalType = tostring(properties.principalType)";

fn post(sim: &mut Sim, now: u64, body: Value) -> SimResponse {
    sim.handle(SimRequest::new("POST", URL).json(&body), now)
}

/// Every row of a query, page by page ($top 1000, $skipToken); returns (rows, requests, totalRecords).
fn all_pages(
    sim: &mut Sim,
    now: &mut u64,
    q: &str,
    subs: Option<&[String]>,
) -> (Vec<Value>, usize, u64) {
    let (mut rows, mut reqs, mut token) = (vec![], 0, None::<String>);
    let mut total;
    loop {
        let mut body = json!({"query": q, "options": {"$top": 1000}});
        if let Some(s) = subs {
            body["subscriptions"] = json!(s);
        }
        if let Some(t) = &token {
            body["options"]["$skipToken"] = json!(t);
        }
        // 400 ms apart: at most 13 queries per 5-second window, under the quota
        *now += 400;
        let r = post(sim, *now, body);
        assert_eq!(r.status, 200, "{}", r.body);
        reqs += 1;
        let b = r.json();
        let page = b["data"].as_array().unwrap();
        assert_eq!(b["count"].as_u64().unwrap() as usize, page.len());
        assert!(page.len() <= 1000);
        total = b["totalRecords"].as_u64().unwrap();
        rows.extend(page.iter().cloned());
        match b["$skipToken"].as_str() {
            Some(t) => {
                assert_eq!(b["resultTruncated"], "false");
                token = Some(t.to_string())
            }
            None => break,
        }
    }
    (rows, reqs, total)
}

#[test]
fn role_assignments_and_definitions_in_args_shape() {
    let mut sim = Sim::from_seed(Seed::demo());
    // one assignment made through the API, with a condition (id-keyvault-reader holds none in the demo seed)
    let scope = format!("/subscriptions/{SUB1}/resourceGroups/rg-identity");
    let uai = sim.handle(
        SimRequest::new(
            "GET",
            &format!("{scope}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-keyvault-reader?api-version=2023-01-31"),
        ),
        0,
    );
    assert_eq!(uai.status, 200, "{}", uai.body);
    let pid = uai.json()["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let cond = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'logs'";
    let put = sim.handle(
        SimRequest::new(
            "PUT",
            &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/0b1c2d3e-0000-4000-8000-000000000001?api-version=2022-04-01"),
        )
        .json(&json!({"properties": {
            "roleDefinitionId": format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"),
            "principalId": pid, "principalType": "ServicePrincipal", "condition": cond, "conditionVersion": "2.0"}})),
        10,
    );
    assert_eq!(put.status, 201, "{}", put.body);

    let r = post(&mut sim, 20, json!({"query": ASSIGNMENTS}));
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = r.json()["data"].as_array().unwrap().clone();
    let mine: Vec<&Value> = rows
        .iter()
        .filter(|x| x["principalId"] == json!(pid))
        .collect();
    assert_eq!(mine.len(), 1, "{rows:?}");
    let a = mine[0];
    assert_eq!(a["scope"], json!(scope));
    assert_eq!(a["condition"], cond);
    assert_eq!(a["principalType"], "ServicePrincipal");
    assert!(
        a["roleDefinitionId"]
            .as_str()
            .unwrap()
            .ends_with("/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")
    );
    assert!(a["id"].as_str().unwrap().starts_with(&scope));

    // the whole row: ARG's columns, lower-cased type and group
    let r = post(
        &mut sim,
        30,
        json!({"query": format!("authorizationresources | where properties.principalId =~ '{pid}'")}),
    );
    let row = &r.json()["data"][0];
    assert_eq!(row["type"], "microsoft.authorization/roleassignments");
    assert_eq!(row["resourceGroup"], "rg-identity");
    assert_eq!(row["subscriptionId"], SUB1);
    assert_eq!(row["properties"]["conditionVersion"], "2.0");
    assert_eq!(row.as_object().unwrap().len(), 16, "{row}");

    // role definitions: a role name for every assignment's roleDefinitionId (same id, ignoring case)
    let r = post(
        &mut sim,
        40,
        json!({"query": "authorizationresources | where type =~ 'microsoft.authorization/roledefinitions' | project id, roleName = tostring(properties.roleName), roleType = tostring(properties.type)"}),
    );
    let defs: BTreeMap<String, String> = r.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_lowercase(),
                d["roleName"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        defs.get(&a["roleDefinitionId"].as_str().unwrap().to_lowercase())
            .map(String::as_str),
        Some("Storage Blob Data Reader")
    );
    // scoped by subscription
    let r = post(
        &mut sim,
        50,
        json!({"query": ASSIGNMENTS, "subscriptions": [SUB2]}),
    );
    assert!(
        r.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["scope"].as_str().unwrap().contains(SUB2))
    );
    assert!(
        post(
            &mut sim,
            60,
            json!({"query": "AuthorizationResources | summarize count()"})
        )
        .status
            == 400
    );
}

#[test]
fn the_quota_is_enforced_then_resets() {
    let mut sim = Sim::from_seed(Seed::demo());
    assert!(sim.config().graph_quota, "on by default");
    for i in 0..15u64 {
        let r = post(&mut sim, 1_000 + i, json!({"query": COMPUTE}));
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("x-ms-user-quota-remaining"),
            Some((14 - i).to_string().as_str())
        );
    }
    let r = post(&mut sim, 1_500, json!({"query": COMPUTE}));
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("Retry-After"), Some("5"));
    assert_eq!(r.header("x-ms-user-quota-remaining"), Some("0"));
    assert_eq!(r.header("x-ms-user-quota-resets-after"), Some("00:00:05"));
    assert_eq!(r.json()["error"]["code"], "RateLimiting");
    // a refused query does not count; the window ends 5 s after its first query
    let r = post(&mut sim, 5_999, json!({"query": COMPUTE}));
    assert_eq!((r.status, r.header("Retry-After")), (429, Some("1")));
    let r = post(&mut sim, 6_000, json!({"query": COMPUTE}));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-ms-user-quota-remaining"), Some("14"));

    // off: reported, never refused
    let mut sim = Sim::with_config(
        Seed::demo(),
        SimConfig {
            graph_quota: false,
            ..SimConfig::default()
        },
    );
    for _ in 0..20 {
        assert_eq!(post(&mut sim, 0, json!({"query": COMPUTE})).status, 200);
    }
    // and switched over the control endpoint
    let (mut sim, c) = common::demo_configured(json!({"graphQuota": false}));
    assert_eq!(c["graphQuota"], false);
    for _ in 0..20 {
        assert_eq!(post(&mut sim, 0, json!({"query": COMPUTE})).status, 200);
    }
}

#[test]
fn the_generated_tenant_has_every_identity_mix() {
    let spec = TenantSpec {
        subscriptions: 10,
        scale_sets: 1_000,
        vms: 200,
        identities: 50,
    };
    let seed = Seed::generate_tenant(&spec);
    assert_eq!(seed, Seed::generate_tenant(&spec), "deterministic");
    assert_eq!(spec.count(&seed), (1_000, 200, 50));
    let mut sim = Sim::with_config(
        seed,
        SimConfig {
            graph_quota: false,
            ..SimConfig::default()
        },
    );
    let mut now = 0;
    let (compute, _, total) = all_pages(&mut sim, &mut now, COMPUTE, None);
    assert_eq!((compute.len(), total), (1_200, 1_200));
    let (ids, _, _) = all_pages(&mut sim, &mut now, IDENTITIES, None);
    assert_eq!(ids.len(), 50);
    let known: BTreeSet<String> = ids
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_lowercase())
        .collect();

    let mut kinds = BTreeMap::<&str, usize>::new();
    let mut users_of = BTreeMap::<String, BTreeSet<String>>::new();
    for r in &compute {
        let ty = r["identity"]["type"].as_str().unwrap_or("None");
        *kinds
            .entry(match ty {
                "SystemAssigned" => "system",
                "UserAssigned" => "user",
                "SystemAssigned, UserAssigned" => "both",
                _ => "none",
            })
            .or_default() += 1;
        if let Some(m) = r["identity"]["userAssignedIdentities"].as_object() {
            for k in m.keys() {
                assert!(known.contains(&k.to_lowercase()), "{k} is a real identity");
                users_of
                    .entry(k.to_lowercase())
                    .or_default()
                    .insert(r["subscriptionId"].as_str().unwrap().to_string());
            }
        }
    }
    for k in ["none", "system", "user", "both"] {
        assert!(kinds.get(k).copied().unwrap_or(0) >= 100, "{k}: {kinds:?}");
    }
    // the shared identity is used from every subscription
    let shared = users_of
        .iter()
        .find(|(k, _)| k.ends_with("/id-shared-platform"))
        .unwrap();
    assert_eq!(shared.1.len(), 10);
    // AKS node pools (MC_ groups, aks-managed tags) and the legacy extension
    let (aks, _, _) = all_pages(
        &mut sim,
        &mut now,
        "resources | where type =~ 'microsoft.compute/virtualmachinescalesets' and resourceGroup startswith 'mc_' | where isnotempty(tags['aks-managed-poolName']) | project id",
        None,
    );
    assert!(aks.len() >= 50, "{}", aks.len());
    let (legacy_vmss, _, _) = all_pages(
        &mut sim,
        &mut now,
        "resources | where type =~ 'microsoft.compute/virtualmachinescalesets' and properties.virtualMachineProfile.extensionProfile has 'ManagedIdentityExtensionFor' | project id",
        None,
    );
    let (legacy_vm, _, _) = all_pages(
        &mut sim,
        &mut now,
        "resources | where type =~ 'microsoft.compute/virtualmachines/extensions' and properties.type startswith 'ManagedIdentityExtensionFor' | project id",
        None,
    );
    assert!(
        legacy_vmss.len() >= 20 && !legacy_vm.is_empty(),
        "{} {}",
        legacy_vmss.len(),
        legacy_vm.len()
    );
    // role assignments: every identity holds one at least; some principals are gone
    let (ras, _, _) = all_pages(&mut sim, &mut now, ASSIGNMENTS, None);
    let holders: BTreeSet<String> = ras
        .iter()
        .map(|a| a["principalId"].as_str().unwrap().to_string())
        .collect();
    for i in &ids {
        assert!(holders.contains(i["principalId"].as_str().unwrap()));
    }
    let principals: BTreeSet<String> = ids
        .iter()
        .map(|i| i["principalId"].as_str().unwrap().to_string())
        .chain(
            compute
                .iter()
                .filter_map(|r| r["identity"]["principalId"].as_str().map(str::to_string)),
        )
        .collect();
    assert_eq!(
        holders.difference(&principals).count(),
        10,
        "one orphan per subscription"
    );
    assert!(
        ras.iter()
            .any(|a| !a["condition"].as_str().unwrap_or("").is_empty())
    );
}

#[test]
fn paging_12500_rows_over_100_subscriptions_whole_and_in_batches() {
    let seed = Seed::generate_tenant(&TenantSpec::BENCH);
    let subs: Vec<String> = seed
        .subscriptions
        .iter()
        .map(|s| s.subscription_id.clone())
        .collect();
    let mut sim = Sim::from_seed(seed);
    let q = "resources | where type in~ ('microsoft.compute/virtualmachinescalesets','microsoft.compute/virtualmachines','microsoft.managedidentity/userassignedidentities') | project id, name";
    let mut now = 0;
    let (rows, reqs, total) = all_pages(&mut sim, &mut now, q, None);
    assert_eq!((rows.len(), total, reqs), (12_500, 12_500, 13));
    let ids: BTreeSet<String> = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(ids.len(), 12_500, "no row twice, none skipped");
    // the same in batches of 40 subscriptions: the union is the whole, no row in two batches
    let mut union = BTreeSet::new();
    let mut batch_reqs = 0;
    for batch in subs.chunks(40) {
        let (rows, reqs, total) = all_pages(&mut sim, &mut now, q, Some(batch));
        assert_eq!(rows.len() as u64, total);
        batch_reqs += reqs;
        for r in rows {
            assert!(union.insert(r["id"].as_str().unwrap().to_lowercase()));
        }
    }
    assert_eq!(union, ids);
    assert_eq!(batch_reqs, 5 + 5 + 3);
    // the last page is short and carries no token
    let r = post(
        &mut sim,
        now + 5_000,
        json!({"query": q, "options": {"$top": 1000, "$skip": 12_000}}),
    );
    let b = r.json();
    assert_eq!(b["count"], 500);
    assert!(b.get("$skipToken").is_none());
}

/// The binary serves a generated tenant (`--tenant`) and switches the quota off (`--graph-quota off`).
#[test]
fn the_binary_serves_a_generated_tenant_with_the_quota_switch() {
    use std::process::Command;
    let exe = env!("CARGO_BIN_EXE_armsim");
    let bad = Command::new(exe)
        .args(["--tenant", "1,2"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("SUBS,SCALE_SETS,VMS,IDENTITIES"));
    common::with_binary(
        &[
            "--port",
            "0",
            "--tenant",
            "3,30,6,9",
            "--graph-quota",
            "off",
        ],
        |base| {
            let subs = common::http(
                base,
                "GET",
                "/subscriptions?api-version=2022-12-01",
                None,
                &[],
            )
            .unwrap();
            assert_eq!(subs.json()["value"].as_array().unwrap().len(), 3);
            for _ in 0..17 {
                let r =
                    common::http(base, "POST", URL, Some(&json!({"query": COMPUTE})), &[]).unwrap();
                assert_eq!(r.status, 200, "quota off");
                assert_eq!(r.json()["totalRecords"], 36);
            }
        },
    );
}

/// The demo tenant's role assignments are held by principals that exist in it (system-assigned principals of
/// its VMs and scale sets, user-assigned identities); an assignment outlives its principal (removing the
/// system-assigned identity leaves it listed, the orphan removal without orphans prevents) until it is deleted
/// by id: 200 with the assignment, then 204 when it is gone already.
#[test]
fn demo_assignments_belong_to_its_principals_outlive_them_and_delete_by_id() {
    let mut sim = Sim::from_seed(Seed::demo());
    let principals: BTreeSet<String> = {
        let q = "resources | where type in~ ('microsoft.compute/virtualmachinescalesets','microsoft.compute/virtualmachines','microsoft.managedidentity/userassignedidentities') | project id, sa = tostring(identity.principalId), ua = tostring(properties.principalId)";
        let r = post(&mut sim, 0, json!({"query": q}));
        r.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|x| {
                [
                    x["sa"].as_str().unwrap().to_string(),
                    x["ua"].as_str().unwrap().to_string(),
                ]
            })
            .filter(|p| !p.is_empty())
            .collect()
    };
    let assignments = |sim: &mut Sim, now: u64| -> Vec<Value> {
        let r = post(sim, now, json!({"query": ASSIGNMENTS}));
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["data"].as_array().unwrap().clone()
    };
    let seeded = assignments(&mut sim, 10);
    assert!(
        seeded.len() >= 5,
        "the demo holds role assignments: {seeded:?}"
    );
    for a in &seeded {
        assert!(
            principals.contains(a["principalId"].as_str().unwrap()),
            "{a}"
        );
    }
    // vm-jump's system-assigned principal holds two
    let vm = format!(
        "/subscriptions/{SUB1}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-jump"
    );
    let get = sim.handle(
        SimRequest::new("GET", &format!("{vm}?api-version=2024-11-01")),
        20,
    );
    let pid = get.json()["identity"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let held = |rows: &[Value]| -> Vec<String> {
        rows.iter()
            .filter(|a| a["principalId"] == json!(pid))
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    };
    let mine = held(&seeded);
    assert_eq!(mine.len(), 2, "{seeded:?}");
    let patch = sim.handle(
        SimRequest::new("PATCH", &format!("{vm}?api-version=2024-11-01"))
            .json(&json!({"identity": {"type": "None"}})),
        30,
    );
    assert!(patch.status == 200 || patch.status == 202, "{}", patch.body);
    let after = sim.handle(
        SimRequest::new("GET", &format!("{vm}?api-version=2024-11-01")),
        60_000,
    );
    assert!(
        after.json()["identity"]["principalId"].is_null(),
        "{}",
        after.body
    );
    // the principal is gone; its assignments stay (orphans), in Resource Graph and in the API
    assert_eq!(held(&assignments(&mut sim, 60_010)), mine);
    let listed = sim.handle(
        SimRequest::new(
            "GET",
            &format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=principalId eq '{pid}'"),
        ),
        60_020,
    );
    assert_eq!(
        listed.json()["value"].as_array().unwrap().len(),
        2,
        "{}",
        listed.body
    );
    // deleted by id: 200 with the assignment, then 204; only the other one is left
    let del = |sim: &mut Sim, now: u64| {
        sim.handle(
            SimRequest::new("DELETE", &format!("{}?api-version=2022-04-01", mine[0])),
            now,
        )
    };
    let d = del(&mut sim, 60_030);
    assert_eq!(d.status, 200, "{}", d.body);
    assert!(
        d.json()["id"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&mine[0])
    );
    assert_eq!(del(&mut sim, 60_040).status, 204);
    assert_eq!(held(&assignments(&mut sim, 60_050)), vec![mine[1].clone()]);
}
