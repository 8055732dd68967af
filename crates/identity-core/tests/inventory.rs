//! The inventory model, filters, URL round trip, export and scripts (issue 16).

use identity_core::inventory::export::{COLUMNS, csv_cell, parse_csv, to_csv, to_json};
use identity_core::inventory::queries::{
    COMPUTE, IDENTITIES, ROLE_ASSIGNMENTS, ROLE_DEFINITIONS_PREFIX, ROLE_DEFINITIONS_SUFFIX,
};
use identity_core::inventory::scripts;
use identity_core::inventory::view::{Filter, SortKey, decode, encode};
use identity_core::inventory::{Inventory, Kind};
use identity_core::scripts::Cloud;
use proptest::prelude::*;
use serde_json::{Value, json};

mod support;

const S1: &str = "11111111-1111-4111-8111-111111111111";
const S2: &str = "22222222-2222-4222-8222-222222222222";

fn ua(sub: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg-ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
}

fn compute(sub: &str, group: &str, ty: &str, name: &str, extra: Value) -> Value {
    let seg = if ty.ends_with("scalesets") {
        "virtualMachineScaleSets"
    } else {
        "virtualMachines"
    };
    let mut v = json!({"id": format!("/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Compute/{seg}/{name}"),
        "name": name, "type": ty, "subscriptionId": sub, "resourceGroup": group.to_lowercase(), "location": "westeurope",
        "tags": {}, "identity": null, "orchestrationMode": "", "provisioningState": "Succeeded", "extensions": null, "extensionType": ""});
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v
}

const VMSS: &str = "microsoft.compute/virtualmachinescalesets";
const VM: &str = "microsoft.compute/virtualmachines";

/// A small tenant covering every case.
fn sample() -> Inventory {
    let web = ua(S1, "id-web");
    let shared = ua(S1, "id-shared");
    let rows = vec![
        compute(
            S1,
            "rg-web",
            VMSS,
            "vmss-web",
            json!({"orchestrationMode": "Uniform",
            "identity": {"type": "SystemAssigned, UserAssigned", "principalId": "sys-1",
                "userAssignedIdentities": {web.to_lowercase(): {"principalId": "p-web", "clientId": "c-web"}, shared.to_uppercase(): {}}},
            "extensions": [{"name": "ManagedIdentityExtensionForLinux", "properties": {"type": "ManagedIdentityExtensionForLinux", "publisher": "Microsoft.ManagedIdentity"}}]}),
        ),
        compute(
            S1,
            "rg-web",
            VMSS,
            "=cmd|' /C calc'!A0",
            json!({"orchestrationMode": "Flexible"}),
        ),
        compute(
            S2,
            "MC_rg-aks_aks_westeurope",
            VMSS,
            "aks-nodepool1-1234-vmss",
            json!({"orchestrationMode": "Uniform",
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {shared.clone(): {}}}, "provisioningState": "Failed"}),
        ),
        compute(
            S2,
            "rg-vm",
            VM,
            "vm-legacy",
            json!({"identity": {"type": "SystemAssigned", "principalId": "sys-2"}, "tags": {"aks-managed-poolName": "x"}}),
        ),
        json!({"id": format!("/subscriptions/{S2}/resourceGroups/rg-vm/providers/Microsoft.Compute/virtualMachines/vm-legacy/extensions/ManagedIdentityExtensionForWindows"),
            "type": "microsoft.compute/virtualmachines/extensions", "extensionType": "ManagedIdentityExtensionForWindows", "name": "ManagedIdentityExtensionForWindows"}),
        compute(
            S2,
            "rg-vm",
            VM,
            "vm-gone",
            json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {ua(S2, "id-deleted"): {}}}}),
        ),
        json!({"name": "no id", "type": VMSS}),
    ];
    let identities = vec![
        json!({"id": web, "name": "id-web", "subscriptionId": S1, "location": "westeurope", "principalId": "p-web", "clientId": "c-web"}),
        json!({"id": shared, "name": "id-shared", "subscriptionId": S1, "location": "westeurope", "principalId": "P-SHARED", "clientId": "c-shared"}),
    ];
    let rd = |g: &str| {
        format!("/subscriptions/{S1}/providers/Microsoft.Authorization/roleDefinitions/{g}")
    };
    let reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    let assignments = vec![
        json!({"id": "/subscriptions/x/providers/Microsoft.Authorization/roleAssignments/a1", "principalId": "p-shared", "principalType": "ServicePrincipal",
            "roleDefinitionId": rd(reader), "scope": format!("/subscriptions/{S1}"), "condition": ""}),
        json!({"id": "/subscriptions/x/providers/Microsoft.Authorization/roleAssignments/a2", "principalId": "SYS-1", "principalType": "ServicePrincipal",
            "roleDefinitionId": rd("ba92f5b4-2d11-453d-a403-e96b0029c9fe"), "scope": format!("/subscriptions/{S1}/resourceGroups/rg-data"), "condition": "@Resource[x] StringEquals 'y'"}),
    ];
    let defs = vec![
        json!({"id": rd(reader).to_lowercase(), "name": reader, "roleName": "Reader", "roleType": "BuiltInRole"}),
    ];
    Inventory::from_rows(
        &[(S1.into(), "Prod".into()), (S2.into(), "Dev".into())],
        &rows,
        &identities,
        &assignments,
        &defs,
    )
}

fn names(inv: &Inventory, v: &[usize]) -> Vec<String> {
    v.iter().map(|&i| inv.resources[i].name.clone()).collect()
}

#[test]
fn rows_carry_kind_identities_extension_aks_and_state() {
    let inv = sample();
    assert_eq!(inv.resources.len(), 5);
    assert_eq!(inv.skipped_rows, 1);
    let by = |n: &str| inv.resources.iter().find(|r| r.name == n).unwrap();
    let web = by("vmss-web");
    assert_eq!(
        (
            web.kind,
            web.subscription_name.as_str(),
            web.resource_group.as_str()
        ),
        (Kind::Uniform, "Prod", "rg-web")
    );
    assert_eq!(web.system_assigned.as_deref(), Some("sys-1"));
    assert_eq!(web.user_assigned.len(), 2);
    assert!(web.legacy_extension && !web.aks_managed);
    assert_eq!(by("=cmd|' /C calc'!A0").kind, Kind::Flexible);
    assert!(by("=cmd|' /C calc'!A0").has_no_identity());
    let aks = by("aks-nodepool1-1234-vmss");
    assert!(aks.aks_managed);
    assert_eq!(aks.provisioning_state, "Failed");
    let vm = by("vm-legacy");
    assert_eq!(vm.kind, Kind::Vm);
    assert!(vm.legacy_extension, "from the VM's extension row");
    assert!(vm.aks_managed, "aks-managed-* tag");
    assert!(!by("vm-gone").legacy_extension);
}

#[test]
fn identities_know_their_users_ignoring_case() {
    let inv = sample();
    let shared = ua(S1, "id-shared");
    let users: Vec<&str> = inv
        .users_of(&shared.to_lowercase())
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(users, ["vmss-web", "aks-nodepool1-1234-vmss"]);
    assert_eq!(
        inv.identity(&shared.to_uppercase()).unwrap().used_by.len(),
        2
    );
    assert_eq!(inv.users_of(&ua(S1, "ID-WEB")).len(), 1);
    assert_eq!(
        inv.unknown_identities,
        vec![ua(S2, "id-deleted").to_lowercase()]
    );
    assert_eq!(
        inv.users_of(&ua(S2, "id-deleted")).len(),
        1,
        "answered from the resources' lists"
    );
    // role assignments per principal, principal ids ignoring case; role names from the definitions
    let a = inv.assignments_of("P-SHARED");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].role_name.as_deref(), Some("Reader"));
    assert_eq!(a[0].condition, None);
    let s = inv.assignments_of("sys-1");
    assert_eq!(s[0].role_name, None, "definition not loaded");
    assert_eq!(
        s[0].condition.as_deref(),
        Some("@Resource[x] StringEquals 'y'")
    );
    assert!(inv.assignments_of("").is_empty());
    assert_eq!(
        inv.subscriptions(),
        [
            (S2.to_string(), "Dev".to_string()),
            (S1.to_string(), "Prod".to_string())
        ]
    );
}

#[test]
fn every_filter_narrows_and_they_combine() {
    let inv = sample();
    let f = |f: Filter| names(&inv, &f.apply(&inv));
    assert_eq!(f(Filter::default()).len(), 5);
    // text: names, ids, groups, subscription names, principal and client ids of the identities used
    assert_eq!(
        f(Filter {
            text: "VMSS-WEB".into(),
            ..Default::default()
        }),
        ["vmss-web"]
    );
    assert_eq!(
        f(Filter {
            text: "c-web".into(),
            ..Default::default()
        }),
        ["vmss-web"]
    );
    assert_eq!(
        f(Filter {
            text: "sys-2".into(),
            ..Default::default()
        }),
        ["vm-legacy"]
    );
    assert_eq!(
        f(Filter {
            text: " dev ".into(),
            ..Default::default()
        })
        .len(),
        3
    );
    assert_eq!(
        f(Filter {
            text: "mc_rg-aks".into(),
            ..Default::default()
        }),
        ["aks-nodepool1-1234-vmss"]
    );
    assert_eq!(
        f(Filter {
            kinds: vec![Kind::Vm],
            ..Default::default()
        }),
        ["vm-gone", "vm-legacy"]
    );
    assert_eq!(
        f(Filter {
            kinds: vec![Kind::Flexible, Kind::Vm],
            ..Default::default()
        })
        .len(),
        3
    );
    assert_eq!(
        f(Filter {
            subscription: Some(S1.to_uppercase()),
            ..Default::default()
        })
        .len(),
        2
    );
    assert_eq!(
        f(Filter {
            uses_identity: Some(ua(S1, "ID-SHARED")),
            ..Default::default()
        }),
        ["aks-nodepool1-1234-vmss", "vmss-web"]
    );
    assert_eq!(
        f(Filter {
            legacy_extension: true,
            ..Default::default()
        }),
        ["vm-legacy", "vmss-web"]
    );
    assert_eq!(
        f(Filter {
            no_identity: true,
            ..Default::default()
        }),
        ["=cmd|' /C calc'!A0"]
    );
    assert_eq!(
        f(Filter {
            legacy_extension: true,
            kinds: vec![Kind::Vm],
            ..Default::default()
        }),
        ["vm-legacy"]
    );
    assert!(
        f(Filter {
            no_identity: true,
            legacy_extension: true,
            ..Default::default()
        })
        .is_empty()
    );
    // sort: by a column, ties by id; descending reverses
    let by_sub = f(Filter {
        sort: SortKey::Subscription,
        ..Default::default()
    });
    assert_eq!(
        by_sub[..3],
        ["aks-nodepool1-1234-vmss", "vm-gone", "vm-legacy"]
    );
    let mut rev = f(Filter {
        sort: SortKey::Subscription,
        descending: true,
        ..Default::default()
    });
    rev.reverse();
    assert_eq!(rev, by_sub);
    assert_eq!(
        f(Filter {
            sort: SortKey::Identities,
            descending: true,
            ..Default::default()
        })[0],
        "vmss-web"
    );
    assert_eq!(
        f(Filter {
            sort: SortKey::State,
            ..Default::default()
        })[0],
        "aks-nodepool1-1234-vmss"
    );
}

#[test]
fn csv_is_rfc4180_and_formula_safe_json_is_plain() {
    let inv = sample();
    let view = Filter::default().apply(&inv);
    let csv = to_csv(&inv, &view);
    assert!(csv.ends_with("\r\n"));
    let rows = parse_csv(&csv);
    assert_eq!(rows[0], COLUMNS);
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.len() == COLUMNS.len()));
    // the formula-like name is text, prefixed; the id (starting with /) untouched
    let bad = rows.iter().find(|r| r[0].contains("calc")).unwrap();
    assert_eq!(bad[0], "'=cmd|' /C calc'!A0");
    assert!(bad[11].starts_with("/subscriptions/"));
    for (i, c) in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]
        .iter()
        .enumerate()
    {
        assert!(csv_cell(c).trim_start_matches('"').starts_with('\''), "{i}");
    }
    assert_eq!(csv_cell("a \"b\"\r\nc"), "\"a \"\"b\"\"\r\nc\"");
    // JSON: the same rows and order, values as they are (no prefix), arrays and booleans typed
    let j = to_json(&inv, &view);
    let arr = j.as_array().unwrap();
    assert_eq!(arr.len(), 5);
    for (row, r) in arr.iter().zip(&rows[1..]) {
        assert_eq!(row["id"], r[11]);
        assert_eq!(row.as_object().unwrap().len(), COLUMNS.len());
    }
    let web = arr.iter().find(|r| r["name"] == "vmss-web").unwrap();
    assert_eq!(web["userAssignedIdentities"].as_array().unwrap().len(), 2);
    assert_eq!(web["legacyExtension"], true);
    assert!(arr.iter().any(|r| r["name"] == "=cmd|' /C calc'!A0"));
    assert_eq!(
        arr.iter().find(|r| r["kind"] == "Flexible").unwrap()["systemAssignedPrincipalId"],
        Value::Null
    );
}

/// What the page does per keystroke (the rows of the sorted list that pass, without sorting again) is
/// what `apply` gives, for every sort, direction and filter.
#[test]
fn sorting_once_then_selecting_is_applying() {
    let inv = sample();
    for sort in SortKey::ALL {
        for descending in [false, true] {
            let sorted = Filter {
                sort,
                descending,
                ..Filter::default()
            }
            .order(&inv);
            assert_eq!(sorted.len(), inv.resources.len());
            for text in ["", "v", "vm", "web", "WEB", "rg-", "zzz"] {
                for kinds in [vec![], vec![Kind::Vm]] {
                    let f = Filter {
                        text: text.into(),
                        kinds: kinds.clone(),
                        sort,
                        descending,
                        ..Filter::default()
                    };
                    assert_eq!(
                        f.select(&inv, sorted.iter().copied()),
                        f.apply(&inv),
                        "{f:?}"
                    );
                }
            }
        }
    }
    // typing on: a longer text selects from the last view, and that is what applying it gives
    for (prev, next) in [
        ("", "v"),
        ("v", "vm"),
        ("vm", "vmss"),
        ("w", "we"),
        ("rg", "RG-W"),
        ("x", "xy"),
    ] {
        for kinds in [vec![], vec![Kind::Vm]] {
            let p = Filter {
                text: prev.into(),
                kinds: kinds.clone(),
                ..Filter::default()
            };
            let n = Filter {
                text: next.into(),
                kinds,
                ..Filter::default()
            };
            assert!(n.narrows(&p));
            assert_eq!(
                n.select(&inv, p.apply(&inv)),
                n.apply(&inv),
                "{prev} -> {next}"
            );
        }
    }
    // indices that are not rows are skipped, not a panic
    assert_eq!(
        Filter::default().select(&inv, [usize::MAX]),
        Vec::<usize>::new()
    );
}

fn filter_strategy() -> impl Strategy<Value = Filter> {
    (
        any::<String>(),
        proptest::collection::vec(0..3usize, 0..4),
        proptest::option::of(any::<String>()),
        proptest::option::of(any::<String>()),
        any::<bool>(),
        any::<bool>(),
        0..7usize,
        any::<bool>(),
    )
        .prop_map(|(text, kinds, sub, uses, legacy, none, sort, desc)| {
            let mut kinds: Vec<Kind> = kinds.into_iter().map(|k| Kind::ALL[k]).collect();
            kinds.sort();
            kinds.dedup();
            Filter {
                text,
                kinds,
                subscription: sub.filter(|s| !s.is_empty()),
                uses_identity: uses.filter(|s| !s.is_empty()),
                legacy_extension: legacy,
                no_identity: none,
                sort: SortKey::ALL[sort],
                descending: desc,
            }
        })
}

proptest! {
    #[test]
    fn filters_round_trip_through_the_url(f in filter_strategy()) {
        let q = f.to_query();
        prop_assert!(q.is_ascii());
        prop_assert!(!q.contains(['#', '?', ' ', '+']));
        prop_assert_eq!(Filter::from_query(&q), f.clone());
        prop_assert_eq!(Filter::from_query(&format!("?{q}")), f);
    }

    #[test]
    fn any_query_string_reads_without_panic(q in any::<String>()) {
        let f = Filter::from_query(&q);
        // and what it read is stable
        prop_assert_eq!(Filter::from_query(&f.to_query()), f);
    }

    #[test]
    fn percent_encoding_round_trips(s in any::<String>()) {
        prop_assert_eq!(decode(&encode(&s)), s);
    }

    #[test]
    fn csv_cells_read_back(s in any::<String>()) {
        let line = format!("{},x\r\n", csv_cell(&s));
        let rows = parse_csv(&line);
        prop_assert_eq!(rows.len(), 1);
        let expect = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.clone() };
        prop_assert_eq!(&rows[0][0], &expect);
        prop_assert_eq!(&rows[0][1], "x");
    }
}

#[test]
fn powershell_script_parses_and_runs_the_same_queries() {
    for cloud in Cloud::ALL {
        let s = scripts::powershell(cloud);
        assert_eq!(support::syntax_errors(&s), Vec::<String>::new(), "{s}");
        assert!(s.starts_with("#Requires -Version 5.1\n#Requires -Modules"));
        assert!(s.contains("ModuleName = 'Az.ResourceGraph'; ModuleVersion = '0.10.0'"));
        assert_eq!(support::assignments(&s, "computeQuery"), [COMPUTE]);
        assert_eq!(support::assignments(&s, "identitiesQuery"), [IDENTITIES]);
        assert_eq!(
            support::assignments(&s, "roleAssignmentsQuery"),
            [ROLE_ASSIGNMENTS]
        );
        assert_eq!(
            support::assignments(&s, "roleDefinitionsPrefix"),
            [ROLE_DEFINITIONS_PREFIX]
        );
        assert_eq!(
            support::assignments(&s, "roleDefinitionsSuffix"),
            [ROLE_DEFINITIONS_SUFFIX]
        );
        assert!(s.contains(
            "Search-AzGraph -Query $Query -Subscription $batch -First 1000 -SkipToken $skipToken"
        ));
        assert!(s.contains("$batchSize = 1000"));
        // $Query is the function's parameter (the helper does not read param blocks)
        let undefined: Vec<String> = support::undefined_variables(&s)
            .into_iter()
            .filter(|v| v != "$query")
            .collect();
        assert_eq!(undefined, Vec::<String>::new());
        assert_eq!(s.contains("-Environment"), cloud != Cloud::AzureCloud);
    }
}

/// The bash script against a fake `az`: pages are followed with --skip-token, every batch of subscriptions
/// is queried, the queries are identity-core's, and the files hold every row.
#[test]
fn bash_script_pages_batches_and_writes_every_row() {
    let s = scripts::bash(Cloud::AzureCloud);
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg("-c")
        .arg(&s)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let dir = std::env::temp_dir().join(format!("idw-inventory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // 1,500 subscriptions (two batches); the compute query has two pages per batch
    let fake = r#"
az() {
  printf '%s\0' "$@" >> "$AZ_LOG"; printf '\036' >> "$AZ_LOG"
  case "$1 ${2:-}" in
    "account show") echo tenant-1 ;;
    "account list") jq -n '[range(0;1500) | {id: "sub-\(.)", tenantId: "tenant-1", state: "Enabled"}] + [{id: "other", tenantId: "t2", state: "Enabled"}]' ;;
    "graph query")
      local q="" tok="" n=0 a
      local args=("$@")
      for ((i = 0; i < ${#args[@]}; i++)); do
        case "${args[i]}" in
          --graph-query) q=${args[i+1]} ;;
          --skip-token) tok=${args[i+1]} ;;
          --subscriptions) for ((j = i + 1; j < ${#args[@]}; j++)); do [[ ${args[j]} == --* ]] && break; n=$((n+1)); done ;;
        esac
      done
      case "$q" in
        resources*virtualmachinescalesets*)
          if [ -z "$tok" ]; then jq -n --arg n "$n" '{data: [{id: "a-\($n)"}, {id: "b-\($n)"}], skip_token: "t1"}'
          else jq -n --arg n "$n" '{data: [{id: "c-\($n)"}], skip_token: null}'; fi ;;
        resources*) jq -n --arg n "$n" '{data: [{id: "ua-\($n)"}]}' ;;
        *roleassignments*) jq -n --arg n "$n" '{data: [{id: "ra-\($n)", roleDefinitionId: "/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/ACDD72A7-3385-48EF-BD42-F606FBA81AE7"}, {id: "rb", roleDefinitionId: "x/not-a-guid"}]}' ;;
        *roledefinitions*) jq -n '{data: [{id: "rd", roleName: "Reader"}]}' ;;
      esac ;;
  esac
}
"#;
    let log = dir.join("calls");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("{fake}{s}"))
        .current_dir(&dir)
        .env("AZ_LOG", &log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    assert_eq!(
        read("inventory-compute.jsonl").lines().count(),
        6,
        "3 rows × 2 batches"
    );
    assert!(
        read("inventory-compute.jsonl").contains("\"c-500\"")
            && read("inventory-compute.jsonl").contains("\"a-1000\"")
    );
    assert_eq!(read("inventory-identities.jsonl").lines().count(), 2);
    assert_eq!(read("inventory-role-assignments.jsonl").lines().count(), 4);
    assert_eq!(read("inventory-role-definitions.jsonl").lines().count(), 2);
    let raw = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<Vec<&str>> = raw
        .split('\u{1e}')
        .filter(|c| !c.is_empty())
        .map(|c| c.trim_end_matches('\0').split('\0').collect())
        .collect();
    let graph: Vec<&Vec<&str>> = calls
        .iter()
        .filter(|c| c.len() > 2 && c[..2] == ["graph", "query"])
        .collect();
    let arg = |c: &[&str], f: &str| c.iter().position(|a| *a == f).map(|i| c[i + 1].to_string());
    for c in &graph {
        assert_eq!(arg(c, "--first").as_deref(), Some("1000"));
        assert!(!c.contains(&"other"), "only the tenant's subscriptions");
    }
    let queries: std::collections::BTreeSet<String> = graph
        .iter()
        .filter_map(|c| arg(c, "--graph-query"))
        .collect();
    assert!(
        queries.contains(COMPUTE)
            && queries.contains(IDENTITIES)
            && queries.contains(ROLE_ASSIGNMENTS)
    );
    assert!(queries.contains(&format!(
        "{ROLE_DEFINITIONS_PREFIX}'acdd72a7-3385-48ef-bd42-f606fba81ae7'{ROLE_DEFINITIONS_SUFFIX}"
    )));
    assert_eq!(
        graph
            .iter()
            .filter(|c| arg(c, "--skip-token").as_deref() == Some("t1"))
            .count(),
        2
    );
    // 2 batches × (compute 2 pages + identities + assignments + definitions)
    assert_eq!(graph.len(), 10);
    std::fs::remove_dir_all(&dir).ok();
}
