//! The ARM surface of the in-process simulator: paging, api-versions, GET/PATCH/PUT, LROs, etags, 409/412,
//! extensions, user-assigned identities, headers, and the recorded error fixtures.

use armsim::{Fault, Seed, Sim, SimConfig, SimRequest, SimResponse};
use common::{SUB1, SUB2, T, recordings_dir, rg, ua, vmss};
use serde_json::{Value, json};
use std::path::PathBuf;

mod common;

const API: &str = "2024-11-01";

impl T {
    fn new(cfg: SimConfig) -> T {
        T::demo_at(cfg, 1_780_000_000_000)
    }
    fn demo() -> T {
        T::new(SimConfig {
            lro_delay_ms: 10_000,
            ..SimConfig::default()
        })
    }
    fn req(&mut self, r: SimRequest) -> SimResponse {
        self.now += 100;
        self.sim.handle(r, self.now)
    }
    fn get(&mut self, url: &str) -> SimResponse {
        self.req(SimRequest::new("GET", url))
    }
    fn patch(&mut self, url: &str, body: Value, if_match: Option<&str>) -> SimResponse {
        let mut r = SimRequest::new("PATCH", url).json(&body);
        if let Some(e) = if_match {
            r = r.header("If-Match", e);
        }
        self.req(r)
    }
    fn wait_ops(&mut self) {
        self.now += 11_000;
    }
    /// Follows nextLink to the end; returns (items, requests).
    fn list_all(&mut self, url: &str) -> (Vec<Value>, usize) {
        let mut items = vec![];
        let mut next = Some(url.to_string());
        let mut n = 0;
        while let Some(u) = next {
            let r = self.get(&u);
            assert_eq!(r.status, 200, "{u}: {}", r.body);
            n += 1;
            let b = r.json();
            items.extend(b["value"].as_array().unwrap().iter().cloned());
            next = b["nextLink"].as_str().map(str::to_string);
        }
        (items, n)
    }
}

fn err_code(r: &SimResponse) -> String {
    r.json()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn lists_page_with_next_links_on_the_configured_base() {
    let mut t = T::new(SimConfig {
        page_size: 1,
        base_url: "http://127.0.0.1:9/".into(),
        ..SimConfig::default()
    });
    let first = t.get("/subscriptions?api-version=2022-12-01");
    let next = first.json()["nextLink"].as_str().unwrap().to_string();
    assert!(
        next.starts_with("http://127.0.0.1:9/subscriptions?api-version=2022-12-01&$skiptoken="),
        "{next}"
    );
    let (subs, n) = t.list_all("/subscriptions?api-version=2022-12-01");
    assert_eq!((subs.len(), n), (2, 2));
    assert_eq!(subs[1]["subscriptionId"], SUB2);
    let (groups, n) = t.list_all(&format!(
        "/subscriptions/{SUB1}/resourcegroups?api-version=2024-11-01"
    ));
    assert_eq!(groups.len(), 6);
    assert_eq!(n, 6);
    let names: Vec<&str> = groups.iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"MC_rg-aks_aks-prod_westeurope"));
    let mc = groups
        .iter()
        .find(|g| g["name"] == "MC_rg-aks_aks-prod_westeurope")
        .unwrap();
    assert!(
        mc["managedBy"]
            .as_str()
            .unwrap()
            .contains("managedClusters/aks-prod")
    );
    let (locs, _) = t.list_all(&format!(
        "/subscriptions/{SUB1}/locations?api-version=2022-12-01"
    ));
    assert_eq!(locs.len(), 4);
    assert_eq!(locs[0]["type"], "Region");
    // every item once, in a stable order, across pages
    let (all, n) = t.list_all(&format!("/subscriptions/{SUB1}/providers/Microsoft.Compute/virtualMachineScaleSets?api-version={API}"));
    assert_eq!(n, all.len());
    let mut ids: Vec<&str> = all.iter().map(|v| v["id"].as_str().unwrap()).collect();
    let len = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), len);
    assert_eq!(len, 6, "sub1 holds 6 scale sets in the demo tenant");
}

#[test]
fn scale_sets_and_vms_list_by_group_and_subscription() {
    let mut t = T::demo();
    let (g, _) = t.list_all(&format!(
        "{}/providers/Microsoft.Compute/virtualMachineScaleSets?api-version={API}",
        rg(SUB1, "rg-web")
    ));
    assert_eq!(g.len(), 3);
    assert!(
        g.iter()
            .any(|v| v["properties"]["orchestrationMode"] == "Flexible")
    );
    let (vms, _) = t.list_all(&format!(
        "/subscriptions/{SUB2}/providers/Microsoft.Compute/virtualMachines?api-version={API}"
    ));
    assert_eq!(vms.len(), 2);
    assert!(vms.iter().all(|v| v["etag"].is_string()));
    let r = t.get(&format!(
        "{}/providers/Microsoft.Compute/virtualMachineScaleSets?api-version={API}",
        rg(SUB1, "nope")
    ));
    assert_eq!(
        (r.status, err_code(&r).as_str()),
        (404, "ResourceGroupNotFound")
    );
    let r = t.get(&format!(
        "/subscriptions/99999999-9999-4999-8999-999999999999/resourcegroups?api-version={API}"
    ));
    assert_eq!(
        (r.status, err_code(&r).as_str()),
        (404, "SubscriptionNotFound")
    );
}

#[test]
fn api_versions_unknown_and_missing_get_arms_400_shapes() {
    let mut t = T::demo();
    let r = t.get("/subscriptions");
    assert_eq!(
        (r.status, err_code(&r).as_str()),
        (400, "MissingApiVersionParameter")
    );
    let r = t.get("/subscriptions?api-version=2099-01-01");
    assert_eq!(
        (r.status, err_code(&r).as_str()),
        (400, "InvalidApiVersionParameter")
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'2099-01-01'")
    );
    let r = t.get(&format!(
        "{}?api-version=2017-12-01",
        vmss("rg-web", "vmss-web")
    ));
    assert_eq!(
        (r.status, err_code(&r).as_str()),
        (400, "NoRegisteredProviderFound")
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("for type 'virtualMachineScaleSets'")
    );
    // the versions az CLI used in the recordings
    for v in ["2024-11-01", "2025-11-01", "2026-04-01", "2025-04-01"] {
        assert_eq!(
            t.get(&format!("{}?api-version={v}", vmss("rg-web", "vmss-web")))
                .status,
            200,
            "{v}"
        );
    }
    assert_eq!(
        t.get(&format!(
            "{}?api-version=2025-05-31-preview",
            ua("rg-identity", "id-web")
        ))
        .status,
        200
    );
    assert_eq!(
        t.get(&format!("{}?api-version=2024-11-01", rg(SUB1, "rg-web")))
            .status,
        200
    );
}

/// identity-core pins one api-version per resource type; the simulator must accept each (read from its source
/// so that the two crates stay independent).
#[test]
fn accepts_identity_core_pinned_versions() {
    let mut p = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    p.pop();
    let src = std::fs::read_to_string(p.join("identity-core/src/api_versions.rs"))
        .expect("identity-core api_versions.rs");
    let pin = |name: &str| -> String {
        let line = src
            .lines()
            .find(|l| l.contains(&format!("const {name}:")))
            .unwrap_or_else(|| panic!("{name}"));
        line.split('"').nth(1).unwrap().to_string()
    };
    let mut t = T::demo();
    let checks = [
        (
            "COMPUTE",
            format!("{}?api-version=", vmss("rg-web", "vmss-web")),
        ),
        (
            "MANAGED_IDENTITY",
            format!("{}?api-version=", ua("rg-identity", "id-web")),
        ),
        ("SUBSCRIPTIONS", "/subscriptions?api-version=".to_string()),
        (
            "RESOURCES",
            format!("/subscriptions/{SUB1}/resourcegroups?api-version="),
        ),
        (
            "NETWORK",
            format!(
                "{}/providers/Microsoft.Network/virtualNetworks?api-version=",
                rg(SUB1, "rg-network")
            ),
        ),
    ];
    for (name, url) in checks {
        let v = pin(name);
        let r = t.get(&format!("{url}{v}"));
        assert_eq!(r.status, 200, "{name} = {v}: {}", r.body);
    }
}

#[test]
fn get_carries_etag_header_and_property_only_from_2023_09_01() {
    let mut t = T::demo();
    let r = t.get(&format!("{}?api-version={API}", vmss("rg-web", "vmss-web")));
    assert_eq!(r.header("ETag"), Some("\"1\""));
    assert_eq!(r.json()["etag"], "\"1\"");
    let b = r.json();
    assert_eq!(b["identity"]["type"], "SystemAssigned, UserAssigned");
    assert_eq!(
        b["identity"]["userAssignedIdentities"]
            .as_object()
            .unwrap()
            .len(),
        2
    );
    let old = t.get(&format!(
        "{}?api-version=2023-07-01",
        vmss("rg-web", "vmss-web")
    ));
    assert_eq!(old.status, 200);
    assert!(old.header("ETag").is_none() && old.json().get("etag").is_none());
    // no identity → no identity key at all (recorded)
    let none = t.get(&format!("{}?api-version={API}", vmss("rg-web", "vmss-api")));
    assert!(none.json().get("identity").is_none());
    // ids compare ignoring case
    let lc = t.get(&format!(
        "{}?api-version={API}",
        vmss("rg-web", "vmss-web").to_ascii_lowercase()
    ));
    assert_eq!(lc.status, 200);
}

#[test]
fn patch_adds_a_user_assigned_identity_through_a_long_running_operation() {
    let mut t = T::demo();
    let url = format!("{}?api-version={API}", vmss("rg-web", "vmss-api"));
    let before = t.get(&url);
    let etag = before.header("ETag").unwrap().to_string();
    let id = ua("rg-identity", "id-batch");
    let r = t.patch(
        &url,
        json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {&id: {}}}}),
        Some(&etag),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("ETag"), Some("\"2\""));
    let b = r.json();
    assert_eq!(b["etag"], "\"2\"");
    assert_eq!(b["properties"]["provisioningState"], "Updating");
    assert_eq!(
        b["identity"]["userAssignedIdentities"][&id],
        json!({}),
        "new UA has no ids in the immediate answer"
    );
    let op = r.header("Azure-AsyncOperation").unwrap().to_string();
    assert!(op.starts_with(&format!("https://management.azure.com/subscriptions/{SUB1}/providers/Microsoft.Compute/locations/westeurope/operations/")));
    assert!(
        op.len() > 1000,
        "operation URLs carry long opaque signatures, to be used verbatim"
    );
    let p1 = t.get(&op).json();
    assert_eq!(p1["status"], "InProgress");
    assert!(p1.get("endTime").is_none());
    let mid = t.get(&url).json();
    assert_eq!(mid["properties"]["provisioningState"], "Updating");
    t.wait_ops();
    let p2 = t.get(&op).json();
    assert_eq!(p2["status"], "Succeeded");
    assert!(p2["endTime"].is_string() && p2["name"].is_string());
    let after = t.get(&url);
    let b = after.json();
    assert_eq!(b["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        after.header("ETag"),
        Some("\"2\""),
        "completion does not move the etag (recorded)"
    );
    let uai = t.get(&format!("{id}?api-version=2024-11-30")).json();
    assert_eq!(
        b["identity"]["userAssignedIdentities"][&id]["principalId"],
        uai["properties"]["principalId"]
    );
    assert_eq!(
        b["identity"]["userAssignedIdentities"][&id]["clientId"],
        uai["properties"]["clientId"]
    );
    // a tampered operation URL is not answered
    let cut = op
        .split("&api-version")
        .next()
        .unwrap()
        .replace("p=", "p=x");
    assert_eq!(t.get(&format!("{cut}&api-version=2024-11-01")).status, 404);
}

#[test]
fn system_assigned_gets_a_principal_at_once_and_keeps_it() {
    let mut t = T::demo();
    let url = format!("{}?api-version={API}", vmss("rg-web", "vmss-api"));
    let r = t
        .patch(&url, json!({"identity": {"type": "SystemAssigned"}}), None)
        .json();
    let pid = r["identity"]["principalId"].as_str().unwrap().to_string();
    assert_eq!(
        r["identity"]["tenantId"],
        "c0c0c0c0-0000-4000-8000-00000000de30"
    );
    t.wait_ops();
    let id = ua("rg-identity", "id-web");
    let r = t.patch(&url, json!({"identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {&id: {}}}}), None);
    assert_eq!(r.json()["identity"]["principalId"], json!(pid));
    assert_eq!(r.json()["identity"]["type"], "SystemAssigned, UserAssigned");
    t.wait_ops();
    // removing and re-enabling gives a new principal
    t.patch(&url, json!({"identity": {"type": "None"}}), None);
    t.wait_ops();
    assert!(t.get(&url).json().get("identity").is_none());
    let again = t
        .patch(&url, json!({"identity": {"type": "SystemAssigned"}}), None)
        .json();
    assert_ne!(again["identity"]["principalId"], json!(pid));
}

#[test]
fn if_match_mismatch_is_412_with_the_recorded_message() {
    let mut t = T::demo();
    let url = format!("{}?api-version={API}", vmss("rg-web", "vmss-web"));
    let r = t.patch(&url, json!({"identity": {"type": "None"}}), Some("\"7\""));
    assert_eq!(r.status, 412);
    assert_eq!(
        r.json(),
        json!({"error": {"code": "PreconditionFailed", "message": "Etag provided in if-match header \"7\" does not match etag \"1\" of resource."}})
    );
    assert_eq!(t.get(&url).header("ETag"), Some("\"1\""), "nothing applied");
    let r = t.patch(&url, json!({"tags": {"a": "b"}}), Some("*"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["tags"], json!({"a": "b"}));
    assert_eq!(
        r.json()["identity"]["type"],
        "SystemAssigned, UserAssigned",
        "a PATCH without identity keeps it"
    );
}

#[test]
fn writes_while_an_operation_runs_get_409() {
    let mut t = T::demo();
    let url = format!("{}?api-version={API}", vmss("rg-web", "vmss-web"));
    assert_eq!(
        t.patch(&url, json!({"identity": {"type": "SystemAssigned"}}), None)
            .status,
        200
    );
    let r = t.patch(&url, json!({"identity": {"type": "None"}}), None);
    assert_eq!((r.status, err_code(&r).as_str()), (409, "Conflict"));
    let up = t.req(
        SimRequest::new(
            "POST",
            &format!(
                "{}/manualupgrade?api-version={API}",
                vmss("rg-web", "vmss-web")
            ),
        )
        .json(&json!({"instanceIds": ["*"]})),
    );
    assert_eq!(up.status, 409);
    assert_eq!(t.get(&url).status, 200, "reads still work");
    t.wait_ops();
    assert_eq!(
        t.patch(&url, json!({"identity": {"type": "None"}}), None)
            .status,
        200
    );
}

#[test]
fn flexible_scale_set_refuses_system_assigned_and_unknown_identities_are_400() {
    let mut t = T::demo();
    let url = format!("{}?api-version={API}", vmss("rg-web", "vmss-flex"));
    let r = t.patch(&url, json!({"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {ua("rg-identity", "id-web"): {}}}}), None);
    assert_eq!(r.status, 400);
    let e = &r.json()["error"];
    assert_eq!(
        (e["code"].as_str(), e["target"].as_str()),
        (Some("InvalidParameter"), Some("identity"))
    );
    let missing = ua("rg-identity", "id-gone");
    let r = t.patch(
        &url,
        json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {&missing: {}}}}),
        None,
    );
    assert_eq!(
        (r.status, err_code(&r).as_str()),
        (400, "FailedIdentityOperation")
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("was not found")
    );
    let after = t.get(&url);
    assert_eq!(
        after.header("ETag"),
        Some("\"1\""),
        "a refused PATCH changes nothing"
    );
    assert_eq!(
        after.json()["identity"]["userAssignedIdentities"]
            .as_object()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn put_creates_a_scale_set_with_identity_and_validates() {
    let mut t = T::demo();
    let url = format!("{}?api-version={API}", vmss("rg-web", "vmss-new"));
    let r = t.req(
        SimRequest::new("PUT", &url).json(&json!({"sku": {"name": "Standard_B2s", "capacity": 1}})),
    );
    assert_eq!((r.status, err_code(&r).as_str()), (400, "LocationRequired"));
    let id = ua("rg-identity", "id-web");
    let body = json!({"location": "westeurope", "sku": {"name": "Standard_B2s", "capacity": 1},
        "identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {&id: {}}},
        "properties": {"orchestrationMode": "uniform", "upgradePolicy": {"mode": "Manual"}}});
    let r = t.req(SimRequest::new("PUT", &url).json(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("ETag"), Some("\"1\""));
    assert!(r.header("Azure-AsyncOperation").is_some());
    let b = r.json();
    assert_eq!(b["properties"]["provisioningState"], "Creating");
    assert_eq!(b["properties"]["orchestrationMode"], "Uniform");
    assert!(b["identity"]["principalId"].is_string());
    assert_eq!(b["identity"]["userAssignedIdentities"][&id], json!({}));
    t.wait_ops();
    let g = t.get(&url).json();
    assert_eq!(g["properties"]["provisioningState"], "Succeeded");
    assert!(g["identity"]["userAssignedIdentities"][&id]["clientId"].is_string());
    // create-only guard
    let r = t.req(
        SimRequest::new("PUT", &url)
            .header("If-None-Match", "*")
            .json(&body),
    );
    assert_eq!(r.status, 412);
    // Flexible + SA on create
    let r = t.req(
        SimRequest::new(
            "PUT",
            &format!("{}?api-version={API}", vmss("rg-web", "vmss-flex2")),
        )
        .json(&json!({"location": "westeurope",
        "identity": {"type": "SystemAssigned"}, "properties": {"orchestrationMode": "Flexible"}})),
    );
    assert_eq!((r.status, err_code(&r).as_str()), (400, "InvalidParameter"));
}

/// A VM PUT whose NIC is a `networkInterfaceConfigurations` entry (no NIC resource): accepted with a
/// `networkApiVersion` and an existing subnet, read back as sent; without the version, with an unknown version,
/// a malformed configuration or a subnet that does not exist it is refused.
#[test]
fn put_creates_a_vm_with_network_interface_configurations_in_an_existing_subnet() {
    let mut t = T::demo();
    let url = format!(
        "{}/providers/Microsoft.Compute/virtualMachines/vm-new?api-version={API}",
        rg(SUB1, "rg-web")
    );
    let subnet = format!(
        "{}/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/snet-web",
        rg(SUB1, "rg-network")
    );
    let id = ua("rg-identity", "id-web");
    let body = |subnet: &str| {
        json!({"location": "westeurope",
            "identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {&id: {}}},
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_B2s"},
                "osProfile": {"computerName": "vm-new", "adminUsername": "azureuser"},
                "networkProfile": {"networkApiVersion": "2020-11-01", "networkInterfaceConfigurations": [{
                    "name": "vm-new-nic", "properties": {"primary": true, "ipConfigurations": [{
                        "name": "vm-new-ipconfig", "properties": {"subnet": {"id": subnet}}}]}}]}}})
    };
    let put = |t: &mut T, b: &Value| {
        t.req(
            SimRequest::new("PUT", &url)
                .header("If-None-Match", "*")
                .json(b),
        )
    };
    // refusals first: nothing is created by them
    let mut no_version = body(&subnet);
    no_version["properties"]["networkProfile"]
        .as_object_mut()
        .unwrap()
        .remove("networkApiVersion");
    let mut bad_version = body(&subnet);
    bad_version["properties"]["networkProfile"]["networkApiVersion"] = json!("2019-01-01");
    let mut no_ipconfigs = body(&subnet);
    no_ipconfigs["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("ipConfigurations");
    let missing_subnet = subnet.replace("snet-web", "snet-nope");
    let missing_vnet = subnet.replace("vnet-prod", "vnet-nope");
    for (b, want) in [
        (no_version, "InvalidParameter"),
        (bad_version, "InvalidParameter"),
        (no_ipconfigs, "InvalidRequestContent"),
        (body(&missing_subnet), "InvalidResourceReference"),
        (body(&missing_vnet), "InvalidResourceReference"),
        (body("not-an-id"), "InvalidResourceReference"),
    ] {
        let r = put(&mut t, &b);
        assert_eq!((r.status, err_code(&r).as_str()), (400, want), "{}", r.body);
        assert_eq!(t.get(&url).status, 404, "a refused PUT creates nothing");
    }
    // the subnet id compares ignoring case, as ARM ids do
    let r = put(
        &mut t,
        &body(
            &subnet
                .to_ascii_uppercase()
                .replace("/SUBSCRIPTIONS/", "/subscriptions/"),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.header("Azure-AsyncOperation").is_some());
    t.wait_ops();
    let g = t.get(&url).json();
    assert_eq!(g["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        g["properties"]["networkProfile"]["networkApiVersion"],
        "2020-11-01"
    );
    assert_eq!(
        g["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]["name"],
        "vm-new-nic"
    );
    assert!(g["identity"]["principalId"].is_string());
    assert!(g["identity"]["userAssignedIdentities"][&id]["clientId"].is_string());
    // If-None-Match: * keeps the VM
    let r = put(&mut t, &body(&subnet));
    assert_eq!(r.status, 412);
}

#[test]
fn manual_upgrade_is_202_with_both_operation_headers() {
    let mut t = T::demo();
    let base = vmss("rg-web", "vmss-web");
    let r = t.req(
        SimRequest::new("POST", &format!("{base}/manualupgrade?api-version={API}"))
            .json(&json!({"instanceIds": ["*"]})),
    );
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    // recorded (test_vmss_explicit_msi.yaml upstream): Azure-AsyncNotification, no Retry-After
    assert_eq!(r.header("Azure-AsyncNotification"), Some("Enabled"));
    assert_eq!(r.header("Retry-After"), None);
    let aao = r.header("Azure-AsyncOperation").unwrap().to_string();
    let loc = r.header("Location").unwrap().to_string();
    assert!(loc.contains("&monitor=true") && !aao.contains("monitor"));
    // the Location poll while running: 202 + Retry-After 5 (not recorded; the async-operations doc's shape)
    let running = t.get(&loc);
    assert_eq!(
        (running.status, running.header("Retry-After")),
        (202, Some("5"))
    );
    let polled = t.get(&aao);
    assert_eq!(polled.json()["status"], "InProgress");
    assert_eq!(
        polled.header("Retry-After"),
        None,
        "recorded: polls carry none"
    );
    t.wait_ops();
    let done = t.get(&loc);
    assert_eq!((done.status, done.header("Retry-After")), (200, None));
    assert_eq!(t.get(&aao).json()["status"], "Succeeded");
    assert_eq!(
        t.get(&format!("{base}?api-version={API}")).header("ETag"),
        Some("\"2\"")
    );
    let r = t.req(
        SimRequest::new("POST", &format!("{base}/manualupgrade?api-version={API}"))
            .json(&json!({})),
    );
    assert_eq!(r.status, 400);
}

/// A scale set PUT carrying `extensionProfile.extensions` replaces the extension set: `az vmss extension delete`
/// (azure-cli 2.91.0) removes an extension by PUTting the whole model with the extension left out.
#[test]
fn a_scale_set_put_replaces_its_extensions() {
    let mut t = T::demo();
    let base = format!(
        "{}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-legacy",
        rg(SUB1, "rg-batch")
    );
    let ext = format!("{base}/extensions/ManagedIdentityExtensionForLinux?api-version={API}");
    let mut model = t.get(&format!("{base}?api-version={API}")).json();
    // the same model PUT back keeps the extension
    let r = t.req(SimRequest::new("PUT", &format!("{base}?api-version={API}")).json(&model));
    assert_eq!(r.status, 200);
    t.wait_ops();
    assert_eq!(t.get(&ext).status, 200);
    // without it, the extension is gone
    model = t.get(&format!("{base}?api-version={API}")).json();
    model["properties"]["virtualMachineProfile"]["extensionProfile"]["extensions"] = json!([]);
    let r = t.req(SimRequest::new("PUT", &format!("{base}?api-version={API}")).json(&model));
    assert_eq!(r.status, 200);
    t.wait_ops();
    assert_eq!(t.get(&ext).status, 404);
    let after = t.get(&format!("{base}?api-version={API}")).json();
    assert!(
        after["properties"]["virtualMachineProfile"]["extensionProfile"]
            .get("extensions")
            .is_none()
    );
    let list = t
        .get(&format!("{base}/extensions?api-version={API}"))
        .json();
    assert_eq!(list["value"], json!([]));
}

#[test]
fn extensions_list_get_delete() {
    let mut t = T::demo();
    let base = format!(
        "{}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-legacy",
        rg(SUB1, "rg-batch")
    );
    let list = t
        .get(&format!("{base}/extensions?api-version={API}"))
        .json();
    assert_eq!(
        list["value"][0]["properties"]["type"],
        "ManagedIdentityExtensionForLinux"
    );
    assert_eq!(list["value"][0]["properties"]["settings"]["port"], 50342);
    let vm = t.get(&format!("{base}?api-version={API}")).json();
    assert_eq!(
        vm["properties"]["virtualMachineProfile"]["extensionProfile"]["extensions"][0]["name"],
        "ManagedIdentityExtensionForLinux"
    );
    let ext = format!("{base}/extensions/ManagedIdentityExtensionForLinux?api-version={API}");
    assert_eq!(
        t.get(&ext).json()["properties"]["publisher"],
        "Microsoft.ManagedIdentity"
    );
    let d = t.req(SimRequest::new("DELETE", &ext));
    assert_eq!(d.status, 202);
    assert!(d.header("Azure-AsyncOperation").is_some() && d.header("Location").is_some());
    assert_eq!(
        t.get(&ext).json()["properties"]["provisioningState"],
        "Deleting"
    );
    assert_eq!(
        t.patch(
            &format!("{base}?api-version={API}"),
            json!({"tags": {}}),
            None
        )
        .status,
        409
    );
    t.wait_ops();
    let gone = t.get(&ext);
    assert_eq!((gone.status, err_code(&gone).as_str()), (404, "NotFound"));
    assert_eq!(t.req(SimRequest::new("DELETE", &ext)).status, 204);
    let vm = t.get(&format!("{base}?api-version={API}"));
    assert!(
        vm.json()["properties"]["virtualMachineProfile"]
            .get("extensionProfile")
            .is_none()
    );
    assert_eq!(vm.header("ETag"), Some("\"2\""));
    // VM extensions
    let vmb = format!(
        "{}/providers/Microsoft.Compute/virtualMachines/vm-legacy-win",
        rg(SUB1, "rg-batch")
    );
    let v = t.get(&format!("{vmb}?api-version={API}")).json();
    assert_eq!(
        v["resources"][0]["name"],
        "ManagedIdentityExtensionForWindows"
    );
    let l = t.get(&format!("{vmb}/extensions?api-version={API}")).json();
    assert_eq!(l["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        t.req(SimRequest::new(
            "DELETE",
            &format!("{vmb}/extensions/ManagedIdentityExtensionForWindows?api-version={API}")
        ))
        .status,
        202
    );
}

#[test]
fn user_assigned_identities_list_get_put() {
    let mut t = T::new(SimConfig {
        page_size: 2,
        ..SimConfig::default()
    });
    let (by_sub, pages) = t.list_all(&format!("/subscriptions/{SUB1}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2024-11-30"));
    assert_eq!((by_sub.len(), pages), (4, 2));
    let (by_rg, _) = t.list_all(&format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2024-11-30",
        rg(SUB1, "rg-identity")
    ));
    assert_eq!(by_rg.len(), 3);
    for u in &by_rg {
        assert!(
            u["id"].as_str().unwrap().contains("/resourcegroups/"),
            "MSI answers lower-case resourcegroups"
        );
        assert_eq!(
            u["type"],
            "Microsoft.ManagedIdentity/userAssignedIdentities"
        );
    }
    let url = format!("{}?api-version=2024-11-30", ua("rg-identity", "id-new"));
    let c = t.req(
        SimRequest::new("PUT", &url).json(&json!({"location": "westeurope", "tags": {"k": "v"}})),
    );
    assert_eq!(c.status, 201);
    assert_eq!(c.header("Location"), c.json()["id"].as_str());
    let p = c.json()["properties"].clone();
    assert!(p["principalId"].is_string() && p["clientId"].is_string() && p["tenantId"].is_string());
    let again = t.req(SimRequest::new("PUT", &url).json(&json!({"location": "westeurope"})));
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["properties"]["principalId"], p["principalId"]);
    assert_eq!(t.get(&url).json()["tags"], json!({}));
    let r = t.get(&format!(
        "{}?api-version=2024-11-30",
        ua("rg-identity", "nope")
    ));
    assert_eq!((r.status, err_code(&r).as_str()), (404, "ResourceNotFound"));
}

#[test]
fn identity_put_honours_the_create_guards() {
    let mut t = T::new(SimConfig::default());
    let url = format!("{}?api-version=2024-11-30", ua("rg-identity", "id-guarded"));
    let body = json!({"location": "westeurope", "tags": {"owner": "ops"}});
    // If-Match on an identity that does not exist: refused, nothing created
    let r = t.req(
        SimRequest::new("PUT", &url)
            .header("If-Match", "*")
            .json(&body),
    );
    assert_eq!(
        (r.status, err_code(&r).as_str()),
        (412, "PreconditionFailed")
    );
    assert_eq!(t.get(&url).status, 404);
    // If-None-Match: * creates a new one…
    let c = t.req(
        SimRequest::new("PUT", &url)
            .header("If-None-Match", "*")
            .json(&body),
    );
    assert_eq!(c.status, 201, "{}", c.body);
    // …and refuses to replace it: the tags and ids stay
    let r = t.req(
        SimRequest::new("PUT", &url)
            .header("If-None-Match", "*")
            .json(&json!({"location": "westeurope"})),
    );
    assert_eq!(
        (r.status, err_code(&r).as_str()),
        (412, "PreconditionFailed")
    );
    let after = t.get(&url).json();
    assert_eq!(after["tags"], json!({"owner": "ops"}));
    assert_eq!(
        after["properties"]["principalId"],
        c.json()["properties"]["principalId"]
    );
}

#[test]
fn networks_sizes_and_groups() {
    let mut t = T::demo();
    let vn = t.get(&format!("{}/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets?api-version=2024-05-01", rg(SUB1, "rg-network"))).json();
    assert_eq!(vn["value"].as_array().unwrap().len(), 2);
    let s = t.get(&format!("{}/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/snet-web?api-version=2024-05-01", rg(SUB1, "rg-network"))).json();
    assert_eq!(s["properties"]["addressPrefix"], "10.10.1.0/24");
    let sizes = t.get(&format!("/subscriptions/{SUB1}/providers/Microsoft.Compute/locations/westeurope/vmSizes?api-version={API}")).json();
    assert!(
        sizes["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["name"] == "Standard_D2s_v3")
    );
    let r = t.req(
        SimRequest::new(
            "PUT",
            &format!("{}?api-version=2024-11-01", rg(SUB2, "rg-new")),
        )
        .json(&json!({"location": "eastus"})),
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        t.get(&format!("{}?api-version=2024-11-01", rg(SUB2, "RG-NEW")))
            .json()["name"],
        "rg-new"
    );
}

#[test]
fn common_headers_request_ids_and_rate_limits() {
    let mut t = T::demo();
    // two reads in the same instant: the bucket has no time to refill
    let a = t.sim.handle(
        SimRequest::new("GET", "/subscriptions?api-version=2022-12-01")
            .header("x-ms-correlation-request-id", "corr-1"),
        t.now,
    );
    let b = t.sim.handle(
        SimRequest::new("GET", "/subscriptions?api-version=2022-12-01"),
        t.now,
    );
    assert_ne!(a.header("x-ms-request-id"), b.header("x-ms-request-id"));
    assert_eq!(a.header("x-ms-correlation-request-id"), Some("corr-1"));
    let ra: u64 = a
        .header("x-ms-ratelimit-remaining-subscription-reads")
        .unwrap()
        .parse()
        .unwrap();
    let rb: u64 = b
        .header("x-ms-ratelimit-remaining-subscription-reads")
        .unwrap()
        .parse()
        .unwrap();
    assert!(rb < ra, "{ra} -> {rb}");
    let w = t.patch(
        &format!("{}?api-version={API}", vmss("rg-web", "vmss-api")),
        json!({"tags": {}}),
        None,
    );
    assert!(
        w.header("x-ms-ratelimit-remaining-subscription-writes")
            .is_some()
    );
    assert_eq!(
        w.header("Content-Type"),
        Some("application/json; charset=utf-8")
    );
}

#[test]
fn failed_operation_reports_failed_with_error() {
    let mut t = T::demo();
    t.sim.inject(Fault::FailOperation {
        count: 1,
        code: "VMExtensionProvisioningError".into(),
        message: "boom".into(),
    });
    let url = format!("{}?api-version={API}", vmss("rg-web", "vmss-api"));
    let r = t.patch(&url, json!({"identity": {"type": "SystemAssigned"}}), None);
    let op = r.header("Azure-AsyncOperation").unwrap().to_string();
    t.wait_ops();
    let s = t.get(&op).json();
    assert_eq!(s["status"], "Failed");
    assert_eq!(s["error"]["code"], "VMExtensionProvisioningError");
    assert_eq!(
        t.get(&url).json()["properties"]["provisioningState"],
        "Failed"
    );
    // the next operation succeeds again
    let r = t.patch(&url, json!({"tags": {}}), None);
    let op = r.header("Azure-AsyncOperation").unwrap().to_string();
    t.wait_ops();
    assert_eq!(t.get(&op).json()["status"], "Succeeded");
}

#[test]
fn same_seed_same_answers() {
    let run = || {
        let mut t = T::demo();
        let url = format!("{}?api-version={API}", vmss("rg-web", "vmss-api"));
        let a = t.patch(&url, json!({"identity": {"type": "SystemAssigned"}}), None);
        (
            a.body.clone(),
            a.header("Azure-AsyncOperation").map(str::to_string),
            a.header("x-ms-request-id").map(str::to_string),
        )
    };
    assert_eq!(run(), run());
}

/// The error fixtures (real ARM answers quoted in issues) that part 1 produces: same status, code, target and
/// message shape (the fixtures' `<placeholders>` stand for any text).
#[test]
fn error_fixtures_match() {
    let text =
        std::fs::read_to_string(recordings_dir().join("error-responses.fixtures.yaml")).unwrap();
    let fixtures: Vec<Value> = yaml_serde::from_str(&quote_prose(&text)).unwrap();
    let mut t = T::demo();
    let mut checked = 0;
    for f in &fixtures {
        let name = f["name"].as_str().unwrap();
        let status = f["status"].as_u64().unwrap() as u16;
        let resp = if name.starts_with("etag mismatch") {
            // bring the scale set to etag "3", then send the fixture's If-Match "2"
            let url = format!("{}?api-version={API}", vmss("rg-web", "vmss-api"));
            for _ in 0..2 {
                t.patch(&url, json!({"tags": {}}), None);
                t.wait_ops();
            }
            let body = t.get(&url).body;
            t.req(
                SimRequest::new("PUT", &url)
                    .header("If-Match", "\"2\"")
                    .json(&serde_json::from_str::<Value>(&body).unwrap()),
            )
        } else if name.starts_with("SystemAssigned on a Flexible") {
            t.patch(
                &format!("{}?api-version={API}", vmss("rg-batch", "vmss-batch-flex")),
                json!({"identity": {"type": "SystemAssigned"}}),
                None,
            )
        } else if name.starts_with("user-assigned identity resource id does not exist") {
            let vm = format!(
                "{}/providers/Microsoft.Compute/virtualMachines/vm-dev-1?api-version={API}",
                rg(SUB2, "rg-dev")
            );
            t.patch(&vm, json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {format!("{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ghost", rg(SUB2, "rg-dev")): {}}}}), None)
        } else if name.starts_with("no write permission on the VMSS") {
            t.sim.inject(Fault::Forbidden {
                count: 1,
                linked: false,
                matcher: Default::default(),
            });
            t.patch(
                &format!("{}?api-version={API}", vmss("rg-web", "vmss-web")),
                json!({"identity": {"type": "None"}}),
                None,
            )
        } else if name.starts_with("caller lacks Managed Identity Operator") {
            t.sim.inject(Fault::Forbidden {
                count: 1,
                linked: true,
                matcher: Default::default(),
            });
            let id = format!(
                "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-dev-ci",
                rg(SUB2, "rg-dev")
            );
            t.patch(
                &format!("{}?api-version={API}", vmss("rg-web", "vmss-api")),
                json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {id: {}}}}),
                None,
            )
        } else if name == "throttling" {
            t.sim.inject(Fault::Throttle {
                count: 1,
                retry_after_seconds: 3,
                matcher: Default::default(),
            });
            t.get("/subscriptions?api-version=2022-12-01")
        } else {
            // the gallery-image 403 (a full-model PUT re-validating a linked image) and the legacy identityIds /
            // InvalidIdentityValues errors (pre-2018 api-versions) are outside this simulator
            continue;
        };
        checked += 1;
        assert_eq!(resp.status, status, "{name}: {}", resp.body);
        let got = resp.json();
        if let Some(h) = f["headers"].as_object() {
            for k in h.keys() {
                assert!(resp.header(k).is_some(), "{name}: header {k}");
            }
        }
        let expected = f.get("body").cloned().unwrap_or(Value::Null);
        let expected = if expected.get("error").is_some() {
            expected["error"].clone()
        } else {
            expected
        };
        if let Some(code) = expected.get("code") {
            assert_eq!(&got["error"]["code"], code, "{name}");
        }
        if let Some(target) = expected.get("target") {
            assert_eq!(&got["error"]["target"], target, "{name}");
        }
        let pattern = expected
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                f.get("body_excerpt")
                    .and_then(Value::as_str)
                    .map(|s| s.trim_matches('"').to_string())
            });
        if let Some(p) = pattern {
            assert!(
                placeholder_match(&p, got["error"]["message"].as_str().unwrap()),
                "{name}: {p}\n vs {}",
                got["error"]["message"]
            );
        }
    }
    assert_eq!(checked, 6);
}

/// The fixture file is hand-written: its prose fields (`request:`, `source:`, `note:`) may hold `: ` and are
/// not valid plain YAML scalars. Quote them so a YAML parser reads the rest as written.
fn quote_prose(text: &str) -> String {
    text.lines()
        .map(|l| {
            let trimmed = l.trim_start().trim_start_matches("- ");
            for k in ["request: ", "source: ", "note: "] {
                if let Some(v) = trimmed.strip_prefix(k)
                    && !v.starts_with('\'')
                    && !v.starts_with('"')
                {
                    let indent = &l[..l.len() - trimmed.len()];
                    return format!("{indent}{k}'{}'", v.replace('\'', "''"));
                }
            }
            l.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `<x>` in the pattern matches any text; everything else must appear in order. Runs of `/` are folded
/// (the fixture's reporter redacted `.../<sub>//resourcegroups`).
fn placeholder_match(pattern: &str, text: &str) -> bool {
    let fold = |s: &str| s.replace("//", "/");
    let text = fold(text);
    let mut rest = text.as_str();
    for piece in fold(pattern)
        .split(['<', '>'])
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, p)| p)
    {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    true
}

#[test]
fn vm_identity_round_trip_and_tenants() {
    let mut t = T::demo();
    let vm = format!(
        "{}/providers/Microsoft.Compute/virtualMachines/vm-dev-2?api-version={API}",
        rg(SUB2, "rg-dev")
    );
    let g = t.get(&vm);
    let b = g.json();
    assert_eq!(b["identity"]["type"], "SystemAssigned, UserAssigned");
    let uas: Vec<String> = b["identity"]["userAssignedIdentities"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(uas.len(), 2, "one from each subscription");
    // remove one of two user-assigned identities, keep SA (contract §6 body 6)
    let r = t.patch(&vm, json!({"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {&uas[0]: null}}}), g.header("ETag"));
    assert_eq!(r.status, 200, "{}", r.body);
    let m = r.json()["identity"]["userAssignedIdentities"]
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(m.keys().cloned().collect::<Vec<_>>(), vec![uas[1].clone()]);
    assert!(
        m[&uas[1]]["principalId"].is_string(),
        "kept entry keeps its ids"
    );
    assert_eq!(
        r.json()["identity"]["principalId"],
        b["identity"]["principalId"]
    );
    t.wait_ops();
    // a VM accepts SystemAssigned (the Flexible rule is for scale sets)
    let vm1 = format!(
        "{}/providers/Microsoft.Compute/virtualMachines/vm-dev-1?api-version={API}",
        rg(SUB2, "rg-dev")
    );
    assert_eq!(
        t.patch(&vm1, json!({"identity": {"type": "SystemAssigned"}}), None)
            .status,
        200
    );
    let ten = t.get("/tenants?api-version=2022-12-01").json();
    assert_eq!(
        ten["value"][0]["tenantId"],
        "c0c0c0c0-0000-4000-8000-00000000de30"
    );
    assert_eq!(ten["value"][0]["displayName"], "Contoso Demo");
}

#[test]
fn guest_tenants_are_listed_after_the_home_tenant() {
    let mut seed = Seed::demo();
    seed.guest_tenants = vec![armsim::seed::SeedTenant {
        tenant_id: "33333333-3333-3333-3333-333333333333".into(),
        display_name: Some("Fabrikam".into()),
    }];
    let mut sim = Sim::from_seed(seed);
    let r = sim.handle(
        SimRequest::new(
            "GET",
            "https://management.azure.com/tenants?api-version=2022-12-01",
        ),
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let ids: Vec<_> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tenantId"].as_str().unwrap(),
                t["tenantCategory"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            ("c0c0c0c0-0000-4000-8000-00000000de30", Some("Home")),
            ("33333333-3333-3333-3333-333333333333", None)
        ]
    );
}

#[test]
fn raw_arm_bodies_seed_resources() {
    let sub = "33333333-3333-4333-8333-333333333333";
    let ua_id = format!(
        "/subscriptions/{sub}/resourcegroups/rg-raw/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-raw"
    );
    let seed = json!({"subscriptions": [{"subscriptionId": sub, "displayName": "raw", "resourceGroups": [{
    "name": "rg-raw", "location": "westus2",
    "resources": [
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "name": "id-raw", "location": "westus2",
         "properties": {"principalId": "p-raw", "clientId": "c-raw", "tenantId": "t"}},
        {"type": "Microsoft.Compute/virtualMachineScaleSets", "name": "vmss-raw", "etag": "\"4\"",
         "identity": {"type": "SystemAssigned,UserAssigned", "principalId": "sa-raw", "tenantId": "t",
                      "userAssignedIdentities": {&ua_id: {"principalId": "p-raw", "clientId": "c-raw"}}},
         "properties": {"orchestrationMode": "Uniform", "upgradePolicy": {"mode": "manual"}, "provisioningState": "Succeeded",
            "virtualMachineProfile": {"extensionProfile": {"extensions": [{"name": "ManagedIdentityExtensionForLinux",
                "properties": {"publisher": "Microsoft.ManagedIdentity", "type": "ManagedIdentityExtensionForLinux", "typeHandlerVersion": "1.0"}}]}}}},
        {"type": "Microsoft.Web/sites", "name": "ignored"}
    ]}]}]});
    let mut sim = Sim::from_seed(Seed::from_json(&seed.to_string()).unwrap());
    let url = format!(
        "/subscriptions/{sub}/resourceGroups/rg-raw/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-raw?api-version={API}"
    );
    let g = sim.handle(SimRequest::new("GET", &url), 0);
    assert_eq!(g.status, 200);
    assert_eq!(g.header("ETag"), Some("\"4\""));
    let b = g.json();
    assert_eq!(b["identity"]["type"], "SystemAssigned, UserAssigned");
    assert_eq!(b["identity"]["principalId"], "sa-raw");
    assert_eq!(b["properties"]["upgradePolicy"]["mode"], "Manual");
    assert_eq!(
        b["properties"]["virtualMachineProfile"]["extensionProfile"]["extensions"][0]["name"],
        "ManagedIdentityExtensionForLinux"
    );
    let ext = sim.handle(
        SimRequest::new(
            "GET",
            &url.replace(
                "vmss-raw?",
                "vmss-raw/extensions/ManagedIdentityExtensionForLinux?",
            ),
        ),
        1,
    );
    assert_eq!(ext.status, 200);
    let r = sim.handle(
        SimRequest::new("PATCH", &url)
            .header("If-Match", "\"4\"")
            .json(&json!({"identity": {"type": "SystemAssigned"}})),
        2,
    );
    assert_eq!((r.status, r.header("ETag")), (200, Some("\"5\"")));
    let uai = sim.handle(
        SimRequest::new("GET", &format!("{ua_id}?api-version=2024-11-30")),
        3,
    );
    assert_eq!(uai.json()["properties"]["clientId"], "c-raw");
}

/// Issue 14: a scale set or VM listed before the user-assigned identity it names (a later group, a later
/// subscription, or the group's `resources`) still shows the identity's principalId/clientId in its
/// `userAssignedIdentities` entry; both orders of the seed give the same answers.
#[test]
fn seeded_user_assigned_entries_carry_the_identity_ids_whatever_the_seed_order() {
    let (s1, s2) = (SUB1, SUB2);
    let ident_group = json!({"name": "rg-ids", "location": "westeurope",
        "userAssignedIdentities": [{"name": "id-x"}, {"name": "id-y", "principalId": "p-y", "clientId": "c-y"}]});
    let compute_group = json!({"name": "rg-app", "location": "westeurope",
        "virtualMachineScaleSets": [{"name": "vmss-app", "identity": {"type": "UserAssigned",
            "userAssigned": ["rg-ids/id-x", format!("/subscriptions/{s2}/resourceGroups/rg-late/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-z"), "id-raw"]}}],
        "virtualMachines": [{"name": "vm-app", "identity": {"type": "SystemAssigned, UserAssigned",
            "userAssigned": ["rg-ids/id-y"]}}],
        "resources": [{"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "name": "id-raw",
            "properties": {"principalId": "p-raw", "clientId": "c-raw"}}]});
    let late_sub = json!({"subscriptionId": s2, "displayName": "late", "resourceGroups": [{"name": "rg-late",
        "location": "westeurope", "userAssignedIdentities": [{"name": "id-z"}]}]});
    let seed = |identities_first: bool| {
        let groups = if identities_first {
            json!([ident_group, compute_group])
        } else {
            json!([compute_group, ident_group])
        };
        let first = json!({"subscriptionId": s1, "displayName": "first", "resourceGroups": groups});
        let subs = if identities_first {
            json!([late_sub, first])
        } else {
            json!([first, late_sub])
        };
        Seed::from_json(&json!({"rngSeed": 3, "subscriptions": subs}).to_string()).unwrap()
    };
    let id_x = ua("rg-ids", "id-x");
    let id_y = ua("rg-ids", "id-y");
    let id_raw = ua("rg-app", "id-raw");
    let id_z = format!(
        "/subscriptions/{s2}/resourceGroups/rg-late/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-z"
    );
    let mut answers = vec![];
    for identities_first in [true, false] {
        let mut sim = Sim::from_seed(seed(identities_first));
        let mut get = |url: &str| {
            let r = sim.handle(SimRequest::new("GET", url), 0);
            assert_eq!(r.status, 200, "{url}: {}", r.body);
            r.json()
        };
        let mut entries = vec![];
        let vm = format!(
            "{}/providers/Microsoft.Compute/virtualMachines/vm-app",
            rg(SUB1, "rg-app")
        );
        for (res, ids) in [
            (vmss("rg-app", "vmss-app"), vec![&id_x, &id_z, &id_raw]),
            (vm, vec![&id_y]),
        ] {
            let ident = get(&format!("{res}?api-version={API}"))["identity"].clone();
            let map = ident["userAssignedIdentities"].as_object().unwrap().clone();
            assert_eq!(map.len(), ids.len(), "{res}: {ident}");
            for id in ids {
                let props = get(&format!("{id}?api-version=2024-11-30"))["properties"].clone();
                let (_, entry) = map
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(id))
                    .unwrap_or_else(|| panic!("{id} missing in {ident}"));
                assert!(props["principalId"].is_string(), "{props}");
                assert_eq!(
                    entry,
                    &json!({"principalId": props["principalId"], "clientId": props["clientId"]}),
                    "identities first: {identities_first}; {res} → {id}"
                );
                entries.push(entry.clone());
            }
        }
        answers.push(entries);
    }
    // the explicit ids are the seed's in both orders (generated ones may differ with the PRNG's order)
    for entries in &answers {
        assert_eq!(entries[2]["principalId"], "p-raw");
        assert_eq!(entries[3], json!({"principalId": "p-y", "clientId": "c-y"}));
    }
}
