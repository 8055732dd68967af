//! Bulk changes, the pure part (issue 17): the one bulk operation type, the review of a batch made from the
//! inventory's rows (per item the exact request, or a no-op or a refusal and why; counts; a sample; CSV and
//! JSON), and the lossless rules per item — checked against an independent merge for arbitrary states.

use identity_core::bulk::{
    ASSIGNMENT_NAME_PLACEHOLDER, BulkOp, ETAG_PLACEHOLDER, GrantScope, PRINCIPAL_PLACEHOLDER,
    RoleGrant, Verdict, assignment_name, review, review_rows, state_of_row,
};
use identity_core::inventory::Inventory;
use identity_core::{Method, ResourceState};
use proptest::prelude::*;
use serde_json::{Value, json};

const S1: &str = "11111111-1111-4111-8111-111111111111";
const S2: &str = "22222222-2222-4222-8222-222222222222";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

fn ua(name: &str) -> String {
    format!(
        "/subscriptions/{S1}/resourceGroups/rg-ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
}

fn row(sub: &str, ty: &str, name: &str, extra: Value) -> Value {
    let seg = if ty.ends_with("scalesets") {
        "virtualMachineScaleSets"
    } else {
        "virtualMachines"
    };
    let mut v = json!({"id": format!("/subscriptions/{sub}/resourceGroups/rg-app/providers/Microsoft.Compute/{seg}/{name}"),
        "name": name, "type": ty, "subscriptionId": sub, "resourceGroup": "rg-app", "location": "westeurope",
        "tags": {}, "identity": null, "orchestrationMode": "", "provisioningState": "Succeeded", "extensions": null, "extensionType": ""});
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v
}

const VMSS: &str = "microsoft.compute/virtualmachinescalesets";
const VM: &str = "microsoft.compute/virtualmachines";

/// Resource Graph rows: Uniform with both kinds + the legacy extension, Uniform with none, Flexible with one
/// user-assigned, a VM with system-assigned and the legacy extension (an extension row), a VM whose identity type
/// and map disagree, and one in the second subscription.
fn inventory() -> Inventory {
    let rows = vec![
        row(
            S1,
            VMSS,
            "vmss-web",
            json!({"orchestrationMode": "Uniform",
            "identity": {"type": "SystemAssigned, UserAssigned", "principalId": "p1",
                "userAssignedIdentities": {ua("id-web").to_lowercase(): {}, ua("id-kv"): {}}},
            "extensions": [{"name": "msi-ext", "properties": {"type": "ManagedIdentityExtensionForLinux", "publisher": "Microsoft.ManagedIdentity"}}]}),
        ),
        row(
            S1,
            VMSS,
            "vmss-api",
            json!({"orchestrationMode": "Uniform"}),
        ),
        row(
            S1,
            VMSS,
            "vmss-flex",
            json!({"orchestrationMode": "Flexible",
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {ua("id-web"): {}}}}),
        ),
        row(
            S1,
            VM,
            "vm-jump",
            json!({"identity": {"type": "SystemAssigned", "principalId": "p2"}}),
        ),
        json!({"id": format!("/subscriptions/{S1}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-jump/extensions/MSILinux"),
            "name": "MSILinux", "type": "microsoft.compute/virtualmachines/extensions", "subscriptionId": S1,
            "extensionType": "ManagedIdentityExtensionForLinux"}),
        row(
            S1,
            VM,
            "vm-odd",
            json!({"identity": {"type": "SystemAssigned",
            "userAssignedIdentities": {ua("id-hidden"): {}}}}),
        ),
        row(
            S2,
            VMSS,
            "vmss-dev",
            json!({"orchestrationMode": "Uniform",
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {ua("id-web"): {}}}}),
        ),
    ];
    Inventory::from_rows(&[], &rows, &[], &[], &[])
}

fn states() -> Vec<ResourceState> {
    inventory()
        .resources
        .iter()
        .map(|r| state_of_row(r).unwrap())
        .collect()
}

fn item<'a>(r: &'a identity_core::bulk::Review, name: &str) -> &'a identity_core::bulk::ItemReview {
    r.items
        .iter()
        .find(|i| i.id.ends_with(&format!("/{name}")))
        .unwrap()
}

#[test]
fn bulk_op_json_is_stable_and_strict() {
    let op = BulkOp::AssignUserAssigned {
        identity: ua("id-web"),
        grant: Some(RoleGrant {
            role_definition: READER.into(),
            scope: GrantScope::Fixed {
                scope: format!("/subscriptions/{S1}"),
            },
            role_name: Some("Reader".into()),
        }),
    };
    let v = serde_json::to_value(&op).unwrap();
    assert_eq!(
        v,
        json!({"op": "assignUserAssigned", "identity": ua("id-web"), "grant": {"roleDefinition": READER,
            "scope": {"kind": "fixed", "scope": format!("/subscriptions/{S1}")}, "roleName": "Reader"}})
    );
    assert_eq!(serde_json::from_value::<BulkOp>(v).unwrap(), op);
    for (j, want) in [
        (
            json!({"op": "enableSystemAssigned"}),
            BulkOp::EnableSystemAssigned { grant: None },
        ),
        (
            json!({"op": "removeSystemAssigned"}),
            BulkOp::RemoveSystemAssigned,
        ),
        (
            json!({"op": "removeUserAssigned", "identity": ua("a")}),
            BulkOp::RemoveUserAssigned { identity: ua("a") },
        ),
        (
            json!({"op": "removeLegacyExtension"}),
            BulkOp::RemoveLegacyExtension {
                upgrade_instances: true,
            },
        ),
        (
            json!({"op": "enableSystemAssigned", "grant": {"roleDefinition": READER, "scope": {"kind": "resourceGroup"}}}),
            BulkOp::EnableSystemAssigned {
                grant: Some(RoleGrant {
                    role_definition: READER.into(),
                    scope: GrantScope::ResourceGroup,
                    role_name: None,
                }),
            },
        ),
    ] {
        assert_eq!(serde_json::from_value::<BulkOp>(j).unwrap(), want);
    }
    assert!(serde_json::from_value::<BulkOp>(json!({"op": "removeAll"})).is_err());
    assert_eq!(
        op.confirmation(300),
        "Assign the user-assigned identity id-web, and grant its principal (once, before the batch) the role Reader on 300 resources?"
    );
}

#[test]
fn review_of_an_assignment_plans_each_item_from_the_inventory() {
    let op = BulkOp::AssignUserAssigned {
        identity: ua("id-kv"),
        grant: None,
    };
    let r = review(&op, &states(), None);
    assert_eq!(r.items.len(), 6);
    // vmss-web has it already; vm-odd's type and map disagree; the others get a PATCH
    assert_eq!(
        (r.counts.requests, r.counts.no_ops, r.counts.refused),
        (4, 1, 1)
    );
    assert_eq!(item(&r, "vmss-web").verdict, Verdict::NoOp);
    let odd = item(&r, "vm-odd");
    assert_eq!(odd.verdict, Verdict::Refused);
    assert!(
        odd.reason
            .as_deref()
            .unwrap()
            .contains("does not name UserAssigned"),
        "{odd:?}"
    );
    let api = item(&r, "vmss-api");
    let req = &api.requests[0];
    assert_eq!(req.method, Method::Patch);
    assert_eq!(
        req.path_and_query(),
        format!(
            "/subscriptions/{S1}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api?api-version=2024-11-01"
        )
    );
    assert_eq!(req.header("If-Match"), Some(ETAG_PLACEHOLDER));
    assert_eq!(
        req.body,
        Some(
            json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {ua("id-kv"): {}}}})
        )
    );
    // the kept identity is re-sent as {} with the casing the resource holds
    let flex = item(&r, "vmss-flex");
    assert_eq!(
        flex.requests[0].body.as_ref().unwrap()["identity"]["userAssignedIdentities"],
        json!({ua("id-web"): {}, ua("id-kv"): {}})
    );
    let jump = item(&r, "vm-jump");
    assert_eq!(
        jump.requests[0].body.as_ref().unwrap()["identity"]["type"],
        "SystemAssigned, UserAssigned"
    );
    // a sample: one per (subscription, kind) first (only 4 items have requests)
    let s = r.sample(5);
    let names: Vec<&str> = s.iter().map(|i| i.id.rsplit('/').next().unwrap()).collect();
    assert_eq!(names, ["vmss-api", "vmss-flex", "vm-jump", "vmss-dev"]);
    // the full list
    let csv = r.to_csv("https://management.azure.com/");
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "item,kind,plan,method,url,if_match,body,reason");
    assert_eq!(lines.len(), 7);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(",refused,,,,,") && l.contains("vm-odd")),
        "{csv}"
    );
    assert!(csv.contains(&format!("PATCH,https://management.azure.com/subscriptions/{S1}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api?api-version=2024-11-01,<etag read just before the write>,\"{{\"\"identity\"\"")), "{csv}");
    let j = r.to_json("https://management.azure.com");
    assert_eq!(
        j["counts"],
        json!({"requests": 4, "noOps": 1, "refused": 1, "grants": 0})
    );
    assert_eq!(j["items"][1]["plan"], "request");
    assert_eq!(
        j["items"][1]["requests"][0]["headers"],
        json!([["If-Match", ETAG_PLACEHOLDER]])
    );
    assert_eq!(j["operation"]["op"], "assignUserAssigned");
}

#[test]
fn review_refuses_system_assigned_on_flexible_and_keeps_user_assigned_on_removal() {
    let r = review(
        &BulkOp::EnableSystemAssigned { grant: None },
        &states(),
        None,
    );
    let flex = item(&r, "vmss-flex");
    assert_eq!(flex.verdict, Verdict::Refused);
    assert!(flex.reason.as_deref().unwrap().contains("Flexible"));
    assert_eq!(item(&r, "vm-jump").verdict, Verdict::NoOp);
    assert_eq!(item(&r, "vm-odd").verdict, Verdict::Refused);
    let dev = item(&r, "vmss-dev");
    assert_eq!(
        dev.requests[0].body,
        Some(json!({"identity": {"type": "SystemAssigned, UserAssigned",
        "userAssignedIdentities": {ua("id-web"): {}}}}))
    );

    let r = review(
        &BulkOp::RemoveUserAssigned {
            identity: ua("ID-WEB"),
        },
        &states(),
        None,
    );
    let web = item(&r, "vmss-web");
    assert_eq!(
        web.requests[0].body,
        Some(json!({"identity": {"type": "SystemAssigned, UserAssigned",
        "userAssignedIdentities": {ua("id-web").to_lowercase(): null, ua("id-kv"): {}}}}))
    );
    assert_eq!(
        item(&r, "vmss-flex").requests[0].body,
        Some(json!({"identity": {"type": "None"}}))
    );
    assert_eq!(item(&r, "vmss-api").verdict, Verdict::NoOp);

    let r = review(&BulkOp::RemoveSystemAssigned, &states(), None);
    assert_eq!(
        item(&r, "vmss-web").requests[0].body,
        Some(json!({"identity": {"type": "UserAssigned",
        "userAssignedIdentities": {ua("id-web").to_lowercase(): {}, ua("id-kv"): {}}}}))
    );
    assert_eq!(
        item(&r, "vm-jump").requests[0].body,
        Some(json!({"identity": {"type": "None"}}))
    );
}

#[test]
fn review_of_the_legacy_extension_removal_names_each_extension() {
    let r = review(
        &BulkOp::RemoveLegacyExtension {
            upgrade_instances: true,
        },
        &states(),
        None,
    );
    assert_eq!((r.counts.requests, r.counts.no_ops), (2, 4));
    let web = item(&r, "vmss-web");
    assert_eq!(web.requests.len(), 1);
    assert_eq!(web.requests[0].method, Method::Delete);
    assert!(
        web.requests[0]
            .path
            .ends_with("/virtualMachineScaleSets/vmss-web/extensions/msi-ext")
    );
    assert!(
        web.warnings.iter().any(|w| w.contains("manualupgrade")),
        "{web:?}"
    );
    let jump = item(&r, "vm-jump");
    assert!(
        jump.requests[0]
            .path
            .ends_with("/virtualMachines/vm-jump/extensions/MSILinux")
    );
    assert!(
        item(&r, "vmss-api")
            .reason
            .as_deref()
            .unwrap()
            .contains("No legacy managed-identity extension")
    );
}

#[test]
fn review_shows_the_grants() {
    let grant = RoleGrant {
        role_definition: READER.into(),
        scope: GrantScope::ResourceGroup,
        role_name: Some("Reader".into()),
    };
    let r = review(
        &BulkOp::EnableSystemAssigned {
            grant: Some(grant.clone()),
        },
        &states(),
        None,
    );
    assert_eq!(r.counts.grants, r.counts.requests);
    let api = item(&r, "vmss-api");
    assert_eq!(api.requests.len(), 2);
    let g = &api.requests[1];
    assert_eq!(g.method, Method::Put);
    assert_eq!(
        g.path,
        format!(
            "/subscriptions/{S1}/resourceGroups/rg-app/providers/Microsoft.Authorization/roleAssignments/{ASSIGNMENT_NAME_PLACEHOLDER}"
        )
    );
    assert_eq!(g.header("If-None-Match"), Some("*"));
    let props = &g.body.as_ref().unwrap()["properties"];
    assert_eq!(props["principalId"], PRINCIPAL_PLACEHOLDER);
    assert_eq!(
        props["roleDefinitionId"],
        format!("/subscriptions/{S1}/providers/Microsoft.Authorization/roleDefinitions/{READER}")
    );

    // a user-assigned identity: one grant before the batch, for its principal, at a fixed scope
    let pid = "0b5e4a4e-1111-4a4a-8a8a-000000000001";
    let scope = format!("/subscriptions/{S1}/resourceGroups/rg-data");
    let op = BulkOp::AssignUserAssigned {
        identity: ua("id-kv"),
        grant: Some(RoleGrant {
            scope: GrantScope::Fixed {
                scope: scope.clone(),
            },
            ..grant.clone()
        }),
    };
    let r = review(&op, &states(), Some(pid));
    assert_eq!(r.counts.grants, 1);
    let g = r.grant_before.as_ref().unwrap();
    assert_eq!(
        g.path,
        format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments/{}",
            assignment_name(&scope, READER, pid)
        )
    );
    assert_eq!(g.body.as_ref().unwrap()["properties"]["principalId"], pid);
    assert!(
        item(&r, "vmss-api").requests.len() == 1,
        "no per-item grant"
    );
    // relative scope for a user-assigned identity: the whole batch is refused, item by item
    let op = BulkOp::AssignUserAssigned {
        identity: ua("id-kv"),
        grant: Some(grant.clone()),
    };
    let r = review(&op, &states(), Some(pid));
    assert!(r.refusal.as_deref().unwrap().contains("fixed scope"));
    assert_eq!(r.counts.refused, 6);
    // a bad identity id
    let r = review(
        &BulkOp::AssignUserAssigned {
            identity: "/subscriptions/x/resourceGroups/g".into(),
            grant: None,
        },
        &states(),
        None,
    );
    assert_eq!(r.counts.refused, 6, "{:?}", r.refusal);
}

#[test]
fn review_rows_refuses_what_is_not_a_scale_set_or_vm_and_drops_duplicates() {
    let inv = inventory();
    let mut rows: Vec<&identity_core::inventory::ResourceRow> = inv.resources.iter().collect();
    rows.push(&inv.resources[0]);
    let r = review_rows(&BulkOp::RemoveSystemAssigned, &rows, None);
    assert_eq!(r.items.len(), 6);
    let mut bad = inv.resources[1].clone();
    bad.id = format!(
        "/subscriptions/{S1}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/sa"
    );
    let r = review_rows(&BulkOp::RemoveSystemAssigned, &[&bad], None);
    assert_eq!(r.counts.refused, 1);
    assert!(r.items[0].kind.is_none());
}

/// The merge ARM applies to a PATCH of `identity` (written here independently of identity-core): the map's
/// `null` removes, `{}` keeps or adds, the type decides the system-assigned part.
fn arm_merge(system: bool, users: &[String], body: &Value) -> (bool, Vec<String>) {
    let ty = body["identity"]["type"]
        .as_str()
        .unwrap()
        .to_ascii_lowercase();
    let sys = ty.contains("systemassigned");
    let mut out: Vec<String> = if ty.contains("userassigned") {
        users.to_vec()
    } else {
        vec![]
    };
    if let Some(m) = body["identity"]["userAssignedIdentities"].as_object() {
        for (k, v) in m {
            out.retain(|u| !u.eq_ignore_ascii_case(k));
            if !v.is_null() {
                out.push(k.clone());
            }
        }
    }
    let _ = system;
    (sys, out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    /// For arbitrary rows (kind, system-assigned, a subset of identities in any casing) and every operation: a
    /// request loses no identity the operation does not name and makes the change asked; a no-op means the state
    /// is already as asked; a refusal only for system-assigned on Flexible.
    #[test]
    fn review_is_lossless_for_any_row(kind in 0usize..3, system in any::<bool>(), mask in 0u8..16, upper in any::<bool>(), which in 0usize..4, target in 0usize..4) {
        let names = ["id-a", "id-b", "id-c", "id-d"];
        let users: Vec<String> = (0..4).filter(|i| mask & (1 << i) != 0).map(|i| {
            let u = ua(names[i]);
            if upper { u.to_uppercase().replace("/SUBSCRIPTIONS/", "/subscriptions/") } else { u }
        }).collect();
        let system = system && kind != 1;
        let ty = match (system, users.is_empty()) {
            (true, false) => "SystemAssigned, UserAssigned",
            (true, true) => "SystemAssigned",
            (false, false) => "UserAssigned",
            (false, true) => "None",
        };
        let map: serde_json::Map<String, Value> = users.iter().map(|u| (u.clone(), json!({}))).collect();
        let mut extra = json!({"identity": {"type": ty, "userAssignedIdentities": map}});
        if system { extra["identity"]["principalId"] = json!("p"); }
        let (t, mode) = match kind { 0 => (VMSS, "Uniform"), 1 => (VMSS, "Flexible"), _ => (VM, "") };
        extra["orchestrationMode"] = json!(mode);
        let inv = Inventory::from_rows(&[], &[row(S1, t, "r", extra)], &[], &[], &[]);
        let st = state_of_row(&inv.resources[0]).unwrap();
        let named = ua(names[target]);
        let op = match which {
            0 => BulkOp::EnableSystemAssigned { grant: None },
            1 => BulkOp::RemoveSystemAssigned,
            2 => BulkOp::AssignUserAssigned { identity: named.clone(), grant: None },
            _ => BulkOp::RemoveUserAssigned { identity: named.clone() },
        };
        let r = review(&op, std::slice::from_ref(&st), None);
        let it = &r.items[0];
        let has = |v: &[String], id: &str| v.iter().any(|u| u.eq_ignore_ascii_case(id));
        match it.verdict {
            Verdict::Refused => prop_assert!(kind == 1 && which == 0, "{it:?}"),
            Verdict::NoOp => {
                let done = match which {
                    0 => system, 1 => !system, 2 => has(&users, &named), _ => !has(&users, &named),
                };
                prop_assert!(done, "{it:?}");
            }
            Verdict::Request => {
                let body = it.requests[0].body.as_ref().unwrap();
                prop_assert_eq!(it.requests[0].header("If-Match"), Some(ETAG_PLACEHOLDER));
                let (sys, after) = arm_merge(system, &users, body);
                for u in &users {
                    if which != 3 || !u.eq_ignore_ascii_case(&named) {
                        prop_assert!(has(&after, u), "lost {u}: {body}");
                    }
                }
                match which {
                    0 => prop_assert!(sys),
                    1 => prop_assert!(!sys),
                    2 => { prop_assert!(has(&after, &named)); prop_assert_eq!(sys, system); }
                    _ => { prop_assert!(!has(&after, &named)); prop_assert_eq!(sys, system); }
                }
            }
        }
    }
}

// ---- batch scripts (identity_core::scripts::batch) ----

mod support;

use identity_core::scripts::batch::{BATCH_FLAVOURS, BatchRequest, batch, batch_all};
use identity_core::scripts::{Cloud, Flavour, Language};
use support::{Catalogue, bash_syntax_ok, syntax_errors, undefined_variables};

fn cvmss(sub: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/{name}"
    )
}
fn cvm(sub: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/{name}"
    )
}

fn batch_ops() -> Vec<(&'static str, BulkOp)> {
    let reader = |scope: GrantScope| RoleGrant {
        role_definition: READER.into(),
        scope,
        role_name: Some("Reader".into()),
    };
    vec![
        (
            "enable-system",
            BulkOp::EnableSystemAssigned { grant: None },
        ),
        (
            "enable-system-grant",
            BulkOp::EnableSystemAssigned {
                grant: Some(reader(GrantScope::ResourceGroup)),
            },
        ),
        ("remove-system", BulkOp::RemoveSystemAssigned),
        (
            "assign-user",
            BulkOp::AssignUserAssigned {
                identity: ua("id-kv"),
                grant: None,
            },
        ),
        (
            "assign-user-grant",
            BulkOp::AssignUserAssigned {
                identity: ua("id-kv"),
                grant: Some(reader(GrantScope::Fixed {
                    scope: format!("/subscriptions/{S2}/resourceGroups/rg-data"),
                })),
            },
        ),
        (
            "remove-user",
            BulkOp::RemoveUserAssigned {
                identity: ua("id-web"),
            },
        ),
    ]
}

fn batch_req(op: BulkOp) -> BatchRequest {
    BatchRequest {
        cloud: Cloud::AzureCloud,
        op,
        items: vec![
            cvmss(S1, "vmss-web"),
            cvm(S1, "vm-jump"),
            cvmss(S2, "vmss-(eu).1"),
            // a duplicate in another casing and an id that is not a scale set or VM: left out
            cvmss(S1, "vmss-web").to_lowercase(),
            format!(
                "/subscriptions/{S1}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa"
            ),
        ],
    }
}

#[test]
fn batch_scripts_parse_bind_and_match_their_snapshots() {
    let cat = Catalogue::az();
    for (name, op) in batch_ops() {
        let req = batch_req(op);
        let all = batch_all(&req);
        assert_eq!(all.len(), BATCH_FLAVOURS.len(), "{name}");
        for s in all {
            let t = &s.text;
            match s.language {
                Language::Bash => bash_syntax_ok(t),
                Language::PowerShell => {
                    let errs = syntax_errors(t);
                    assert!(errs.is_empty(), "{name} {:?}: {errs:?}\n{t}", s.flavour);
                    if let Err(e) = cat.check_script(t) {
                        panic!("{name} {:?}: {e}\n{t}", s.flavour);
                    }
                    let undef = undefined_variables(t);
                    assert!(
                        undef.is_empty(),
                        "{name} {:?}: undefined {undef:?}\n{t}",
                        s.flavour
                    );
                }
            }
            // the same safety as the single-item scripts: every value quoted, no file written
            assert!(t.contains("'/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-(eu).1'"), "{name} {:?}", s.flavour);
            assert_eq!(
                t.matches("vmss-web'").count(),
                1,
                "{name} {:?}: the duplicate is left out",
                s.flavour
            );
            assert!(t.contains("1 selected id(s) are not scale sets or VMs"));
            for bad in [
                "Set-Content",
                "Out-File",
                "New-TemporaryFile",
                "> /tmp",
                "mktemp",
                "--body @/",
            ] {
                assert!(
                    !t.contains(bad),
                    "{name} {:?} writes a file: {bad}",
                    s.flavour
                );
            }
            let legacy = name == "remove-legacy";
            if s.flavour == Flavour::AzPowerShell && legacy {
                assert!(
                    t.contains("-IfMatch $vmss.Etag") && t.contains("Remove-AzVMExtension"),
                    "{name}"
                );
            } else if s.flavour == Flavour::AzPowerShell {
                assert!(t.contains("foreach ($itemId in $items)"));
                assert!(
                    !t.contains("foreach ($id in $items)"),
                    "the snippet's own loops use $id"
                );
                assert!(
                    t.contains("-IfMatch $vmss.Etag") && t.contains("-IfMatch $vm.Etag"),
                    "{name}"
                );
            }
            if !legacy && matches!(s.flavour, Flavour::CliRestBash | Flavour::CliRestPowerShell) {
                assert!(t.contains("If-Match"), "{name} {:?}", s.flavour);
            }
            if matches!(
                s.flavour,
                Flavour::CliPowerShell | Flavour::CliRestPowerShell
            ) {
                assert!(
                    t.contains("function az {"),
                    "the az function for cmd.exe quoting"
                );
            }
            insta::assert_snapshot!(format!("batch__{name}__{:?}", s.flavour), t);
        }
    }
    // no batch script for an operation the review refuses
    assert!(
        batch(
            &batch_req(BulkOp::AssignUserAssigned {
                identity: "nope".into(),
                grant: None
            }),
            Flavour::CliBash
        )
        .is_none()
    );
}

/// Runs a bash batch with `az` replaced by a function: `show`/`get` answers from `state` (per item name: the
/// identity query's lines), every call recorded; a PATCH's body (standard input) recorded too. Returns
/// (exit status, stdout, calls).
fn run_fake(text: &str, state: &[(&str, &str)]) -> (i32, String, Vec<String>) {
    run_fake_with(text, state, "")
}

/// [`run_fake`] with more `case` arms for the fake `az` (tried first).
fn run_fake_with(text: &str, state: &[(&str, &str)], extra: &str) -> (i32, String, Vec<String>) {
    let dir =
        std::env::temp_dir().join(format!("bulk-batch-{}-{}", std::process::id(), text.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("calls");
    let _ = std::fs::remove_file(&log);
    let mut cases = extra.to_string();
    for (name, lines) in state {
        cases.push_str(&format!(
            "    *\"--name={name} \"*'--query [[identity.type'*|*\"/{name}?api-version\"*'--query [[identity.type'*) printf '%s\\n' {lines} ;;\n"
        ));
    }
    let fake = format!(
        r#"az() {{
  {{ printf '%s ' "$@"; if [ "${{1-}} ${{2-}} ${{3-}}" = "rest --method patch" ]; then printf 'BODY=%s' "$(cat)"; fi; printf '\n'; }} >> '{log}'
  case "$*" in
    version*) echo 2.91.0 ;;
{cases}    *'--query etag'*) echo '"7"' ;;
    *'--query orchestrationMode'*|*'--query properties.orchestrationMode'*) echo Uniform ;;
    *'--query provisioningState'*) echo Succeeded ;;
    *'--query principalId'*|*'--query identity.principalId'*) echo 0b5e4a4e-1111-4a4a-8a8a-000000000001 ;;
  esac
}}
"#,
        log = log.display()
    );
    // the script's own shebang line is a comment after the function
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("{fake}{text}"))
        .output()
        .unwrap();
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        calls.lines().map(str::to_string).collect(),
    )
}

#[test]
fn bash_batches_guard_each_item_and_sum_up() {
    let kv = ua("id-kv");
    let web = ua("id-web");
    let items = vec![
        cvmss(S1, "vmss-new"),
        cvmss(S1, "vmss-has"),
        cvmss(S1, "vmss-odd"),
        cvmss(S1, "vmss-keep"),
    ];
    let has = format!("UserAssigned - false '{kv}'");
    let odd = format!("SystemAssigned - false '{web}'");
    let keep = format!(
        "'SystemAssigned, UserAssigned' p false '{}'",
        web.to_uppercase()
            .replace("/SUBSCRIPTIONS/", "/subscriptions/")
    );
    let state = [
        ("vmss-new", "None - false"),
        ("vmss-has", has.as_str()),
        ("vmss-odd", odd.as_str()),
        ("vmss-keep", keep.as_str()),
    ];
    let req = BatchRequest {
        cloud: Cloud::AzureCloud,
        op: BulkOp::AssignUserAssigned {
            identity: kv.clone(),
            grant: None,
        },
        items,
    };
    for f in [Flavour::CliBash, Flavour::CliRestBash] {
        let text = batch(&req, f).unwrap().text;
        let (code, out, calls) = run_fake(&text, &state);
        assert_eq!(
            code, 1,
            "a refused item makes the batch exit 1\n{out}\n{calls:#?}"
        );
        assert!(
            out.contains("Summary: 2 applied, 1 no-op, 1 refused, 0 failed, of 4."),
            "{f:?}\n{out}\n{calls:#?}"
        );
        assert!(
            out.contains("No-op: /subscriptions/")
                && out.contains("refused: /subscriptions/")
                && out.contains("vmss-odd"),
            "{out}"
        );
        let writes: Vec<&String> = calls
            .iter()
            .filter(|c| c.contains("identity assign") || c.starts_with("rest --method patch"))
            .collect();
        assert_eq!(writes.len(), 2, "{f:?}: {writes:#?}");
        assert!(
            writes
                .iter()
                .all(|w| !w.contains("vmss-odd") && !w.contains("vmss-has")),
            "{writes:#?}"
        );
        if f == Flavour::CliRestBash {
            let keep_patch = writes.iter().find(|w| w.contains("vmss-keep")).unwrap();
            let body: Value =
                serde_json::from_str(keep_patch.split("BODY=").nth(1).unwrap()).unwrap();
            let kept = web
                .to_uppercase()
                .replace("/SUBSCRIPTIONS/", "/subscriptions/");
            assert_eq!(
                body,
                json!({"identity": {"type": "SystemAssigned, UserAssigned",
                "userAssignedIdentities": {kept: {}, kv.clone(): {}}}}),
                "lossless, the stored casing kept"
            );
            assert!(
                keep_patch.contains(r#"--headers {"If-Match": "\"7\""}"#),
                "{keep_patch}"
            );
            let new_patch = writes.iter().find(|w| w.contains("vmss-new")).unwrap();
            let body: Value =
                serde_json::from_str(new_patch.split("BODY=").nth(1).unwrap()).unwrap();
            assert_eq!(
                body,
                json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {kv.clone(): {}}}})
            );
        }
    }
    // removing: the id as the resource stores it; the last identity leaves type None
    let req = BatchRequest {
        cloud: Cloud::AzureCloud,
        op: BulkOp::RemoveUserAssigned {
            identity: web.to_lowercase(),
        },
        items: vec![cvmss(S1, "vmss-keep"), cvmss(S1, "vmss-new")],
    };
    let (_, out, calls) = run_fake(&batch(&req, Flavour::CliRestBash).unwrap().text, &state);
    assert!(
        out.contains("Summary: 1 applied, 1 no-op, 0 refused, 0 failed, of 2."),
        "{out}"
    );
    let patch = calls
        .iter()
        .find(|c| c.starts_with("rest --method patch"))
        .unwrap();
    let body: Value = serde_json::from_str(patch.split("BODY=").nth(1).unwrap()).unwrap();
    let stored = web
        .to_uppercase()
        .replace("/SUBSCRIPTIONS/", "/subscriptions/");
    assert_eq!(
        body,
        json!({"identity": {"type": "SystemAssigned"}}),
        "{stored} removed: only system-assigned is left"
    );
    let (_, _, calls) = run_fake(&batch(&req, Flavour::CliBash).unwrap().text, &state);
    let rm = calls
        .iter()
        .find(|c| c.contains("identity remove"))
        .unwrap();
    assert!(rm.contains(&format!("--identities {stored} ")), "{rm}");
}

#[test]
fn bash_batches_remove_the_legacy_extension_per_item() {
    let items = vec![
        cvmss(S1, "vmss-ext"),
        cvm(S1, "vm-ext"),
        cvmss(S1, "vmss-clean"),
    ];
    // the fake answers per item: the legacy extension names, the scale set's upgrade policy
    let extra = "    *'/vmss-ext?api-version'*'--query properties.virtualMachineProfile'*) echo msi-ext ;;\n\
    *'/vmss-ext?api-version'*'--query properties.upgradePolicy.mode'*) echo Manual ;;\n\
    *'/vm-ext/extensions?api-version'*'--query value'*) echo ManagedIdentityExtensionForWindows ;;\n\
    *'/vmss-clean?api-version'*'--query properties.upgradePolicy.mode'*) echo Manual ;;\n";
    for upgrade in [true, false] {
        let req = BatchRequest {
            cloud: Cloud::AzureCloud,
            op: BulkOp::RemoveLegacyExtension {
                upgrade_instances: upgrade,
            },
            items: items.clone(),
        };
        for f in [Flavour::CliBash, Flavour::CliRestBash] {
            let (code, out, calls) = run_fake_with(&batch(&req, f).unwrap().text, &[], extra);
            assert_eq!(code, 0, "{f:?}\n{out}\n{calls:#?}");
            assert!(
                out.contains("Summary: 2 applied, 1 no-op, 0 refused, 0 failed, of 3."),
                "{f:?}\n{out}"
            );
            let deletes: Vec<&String> = calls
                .iter()
                .filter(|c| c.contains("--method delete") || c.contains("extension delete"))
                .collect();
            assert_eq!(deletes.len(), 2, "{deletes:#?}");
            assert!(
                deletes[0].contains("/vmss-ext/extensions/msi-ext?api-version=2024-11-01"),
                "{deletes:#?}"
            );
            assert!(
                deletes[1].contains("ManagedIdentityExtensionForWindows"),
                "{deletes:#?}"
            );
            if f == Flavour::CliBash {
                assert!(
                    deletes[1].starts_with(
                        "vm extension delete --resource-group=rg-app --vm-name=vm-ext"
                    ),
                    "{deletes:#?}"
                );
            }
            let upgrades: Vec<&String> = calls
                .iter()
                .filter(|c| c.contains("update-instances"))
                .collect();
            assert_eq!(
                upgrades.len(),
                usize::from(upgrade),
                "only the Manual scale set that changed: {upgrades:#?}"
            );
            if upgrade {
                assert!(
                    upgrades[0].contains("--name=vmss-ext")
                        && upgrades[0].contains("--instance-ids * "),
                    "{upgrades:#?}"
                );
            }
        }
    }
}

/// An extension name read from Azure that starts with `@` is never passed to az (it would read it as a file): the
/// VM's extension is then deleted by its own DELETE (`az rest`), as a scale set's always is.
#[test]
fn an_extension_named_with_a_leading_at_is_deleted_by_its_own_delete() {
    let req = BatchRequest {
        cloud: Cloud::AzureCloud,
        op: BulkOp::RemoveLegacyExtension {
            upgrade_instances: false,
        },
        items: vec![cvm(S1, "vm-at")],
    };
    let extra = "    *'/vm-at/extensions?api-version'*'--query value'*) echo @msi ;;\n";
    let (code, out, calls) =
        run_fake_with(&batch(&req, Flavour::CliBash).unwrap().text, &[], extra);
    assert_eq!(code, 0, "{out}\n{calls:#?}");
    assert!(
        !calls.iter().any(|c| c.contains("extension delete")),
        "{calls:#?}"
    );
    assert!(
        calls.iter().any(|c| c.starts_with("rest --method delete")
            && c.contains("/vm-at/extensions/@msi?api-version=2024-11-01")),
        "{calls:#?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]
    /// No input panics: arbitrary identity ids, scopes, role definitions and item ids through the validation, the
    /// review and every batch flavour; an operation that does not validate has no script, and every script made
    /// parses (bash -n, the PowerShell tokenizer).
    #[test]
    fn bulk_never_panics(identity in "\\PC{0,40}", scope in "\\PC{0,40}", role in "\\PC{0,40}", kind in 0usize..5,
                         items in proptest::collection::vec("(/subscriptions/[a-z0-9-]{1,8}/resourceGroups/\\PC{1,8}/providers/Microsoft.Compute/(virtualMachines|virtualMachineScaleSets)/\\PC{1,8})|\\PC{0,30}", 0..4)) {
        let grant = Some(RoleGrant { role_definition: role, scope: match kind % 4 {
            0 => GrantScope::Fixed { scope },
            1 => GrantScope::Resource,
            2 => GrantScope::ResourceGroup,
            _ => GrantScope::Subscription,
        }, role_name: None });
        let ops = [
            BulkOp::EnableSystemAssigned { grant: grant.clone() },
            BulkOp::AssignUserAssigned { identity: identity.clone(), grant },
            BulkOp::RemoveUserAssigned { identity },
            BulkOp::RemoveLegacyExtension { upgrade_instances: kind == 0 },
        ];
        for op in ops {
            let valid = op.validate().is_ok();
            let _ = review(&op, &states(), Some("p"));
            let req = BatchRequest { cloud: Cloud::AzureChinaCloud, op: op.clone(), items: items.clone() };
            for f in BATCH_FLAVOURS {
                if let Some(s) = batch(&req, f) {
                    prop_assert!(valid, "{op:?}");
                    // arbitrary names stay quoted: the script still parses
                    match s.language {
                        Language::Bash => bash_syntax_ok(&s.text),
                        Language::PowerShell => {
                            let errs = syntax_errors(&s.text);
                            prop_assert!(errs.is_empty(), "{errs:?}\n{}", s.text);
                        }
                    }
                }
            }
            let _ = op.confirmation(items.len());
        }
    }
}
