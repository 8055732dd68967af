//! The matrix: identity states × operations × kinds, each with its expected body, no-op or refusal.
//!
//! Expected bodies are written out by hand from the rules in ../shared/arm/CONTRACT.md §1.4/§6
//! (kept ids as {}, removed as null, type from what remains, no map when no UA remains).
//! Stored ids use `resourcegroups` (as Microsoft.ManagedIdentity returns them) while operations
//! spell `resourceGroups`: bodies must carry the stored casing for ids the resource holds.

use identity_core::api_versions;
use identity_core::{Operation, Outcome, ResourceState, WarningCode, plan};
use serde_json::{Value, json};

const SUB: &str = "00000000-0000-0000-0000-000000000000";

fn stored(n: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}"
    )
}
fn asked(n: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}"
    )
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum St {
    None,
    Sa,
    Ua1,
    Ua2,
    SaUa2,
}
const STATES: [St; 5] = [St::None, St::Sa, St::Ua1, St::Ua2, St::SaUa2];

#[derive(Clone, Copy, Debug)]
enum Op {
    EnableSa,
    RemoveSa,
    AddNew,
    AddPresent,
    RemoveUa,
    RemoveAbsent,
    RemoveAll,
}
const OPS: [Op; 7] = [
    Op::EnableSa,
    Op::RemoveSa,
    Op::AddNew,
    Op::AddPresent,
    Op::RemoveUa,
    Op::RemoveAbsent,
    Op::RemoveAll,
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Uniform,
    Flexible,
    Vm,
}

fn identity_json(s: St) -> Option<Value> {
    let ua = |ids: &[&str]| {
        let mut m = serde_json::Map::new();
        for n in ids {
            m.insert(
                stored(n),
                json!({"principalId": format!("p-{n}"), "clientId": format!("c-{n}")}),
            );
        }
        Value::Object(m)
    };
    match s {
        St::None => None,
        St::Sa => Some(json!({"type": "SystemAssigned", "principalId": "sa-p", "tenantId": "t"})),
        St::Ua1 => Some(json!({"type": "UserAssigned", "userAssignedIdentities": ua(&["id1"])})),
        St::Ua2 => {
            Some(json!({"type": "UserAssigned", "userAssignedIdentities": ua(&["id1", "id2"])}))
        }
        St::SaUa2 => Some(
            json!({"type": "SystemAssigned, UserAssigned", "principalId": "sa-p", "tenantId": "t",
            "userAssignedIdentities": ua(&["id1", "id2"])}),
        ),
    }
}

fn resource(s: St, k: Kind) -> (Value, String) {
    let (ty, mode) = match k {
        Kind::Uniform => ("virtualMachineScaleSets", Some("Uniform")),
        Kind::Flexible => ("virtualMachineScaleSets", Some("Flexible")),
        Kind::Vm => ("virtualMachines", None),
    };
    let id =
        format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/{ty}/res1");
    let mut body = json!({"id": id, "location": "westeurope", "etag": "\"7\"", "properties": {}});
    if let Some(m) = mode {
        body["properties"]["orchestrationMode"] = json!(m);
        body["properties"]["upgradePolicy"] = json!({"mode": "Manual"});
    }
    if let Some(i) = identity_json(s) {
        body["identity"] = i;
    }
    (body, id)
}

fn operation(o: Op) -> Operation {
    match o {
        Op::EnableSa => Operation::EnableSystemAssigned,
        Op::RemoveSa => Operation::RemoveSystemAssigned,
        Op::AddNew => Operation::AddUserAssigned {
            ids: vec![asked("id3")],
        },
        Op::AddPresent => Operation::AddUserAssigned {
            ids: vec![asked("id1")],
        },
        Op::RemoveUa => Operation::RemoveUserAssigned {
            ids: vec![asked("id1")],
        },
        Op::RemoveAbsent => Operation::RemoveUserAssigned {
            ids: vec![asked("id3")],
        },
        Op::RemoveAll => Operation::RemoveAll,
    }
}

#[derive(Debug)]
enum Expect {
    Body(Value),
    Noop,
    Refused,
}

fn t(ty: &str) -> Expect {
    Expect::Body(json!({"identity": {"type": ty}}))
}
fn tm(ty: &str, map: Value) -> Expect {
    Expect::Body(json!({"identity": {"type": ty, "userAssignedIdentities": map}}))
}

/// The hand-written table for a Uniform scale set (a VM is the same).
fn expected_uniform(s: St, o: Op) -> Expect {
    use Expect::*;
    let (s1, s2, a1, a3) = (stored("id1"), stored("id2"), asked("id1"), asked("id3"));
    const SU: &str = "SystemAssigned, UserAssigned";
    match (s, o) {
        (St::None, Op::EnableSa) => t("SystemAssigned"),
        (St::None, Op::RemoveSa) => Noop,
        (St::None, Op::AddNew) => tm("UserAssigned", json!({a3: {}})),
        (St::None, Op::AddPresent) => tm("UserAssigned", json!({a1: {}})),
        (St::None, Op::RemoveUa | Op::RemoveAbsent | Op::RemoveAll) => Noop,

        (St::Sa, Op::EnableSa) => Noop,
        (St::Sa, Op::RemoveSa) => t("None"),
        (St::Sa, Op::AddNew) => tm(SU, json!({a3: {}})),
        (St::Sa, Op::AddPresent) => tm(SU, json!({a1: {}})),
        (St::Sa, Op::RemoveUa | Op::RemoveAbsent) => Noop,
        (St::Sa, Op::RemoveAll) => t("None"),

        (St::Ua1, Op::EnableSa) => tm(SU, json!({s1: {}})),
        (St::Ua1, Op::RemoveSa) => Noop,
        (St::Ua1, Op::AddNew) => tm("UserAssigned", json!({s1: {}, a3: {}})),
        (St::Ua1, Op::AddPresent) => Noop,
        (St::Ua1, Op::RemoveUa) => t("None"),
        (St::Ua1, Op::RemoveAbsent) => Noop,
        (St::Ua1, Op::RemoveAll) => t("None"),

        (St::Ua2, Op::EnableSa) => tm(SU, json!({s1: {}, s2: {}})),
        (St::Ua2, Op::RemoveSa) => Noop,
        (St::Ua2, Op::AddNew) => tm("UserAssigned", json!({s1: {}, s2: {}, a3: {}})),
        (St::Ua2, Op::AddPresent) => Noop,
        (St::Ua2, Op::RemoveUa) => tm("UserAssigned", json!({s1: null, s2: {}})),
        (St::Ua2, Op::RemoveAbsent) => Noop,
        (St::Ua2, Op::RemoveAll) => t("None"),

        (St::SaUa2, Op::EnableSa) => Noop,
        (St::SaUa2, Op::RemoveSa) => tm("UserAssigned", json!({s1: {}, s2: {}})),
        (St::SaUa2, Op::AddNew) => tm(SU, json!({s1: {}, s2: {}, a3: {}})),
        (St::SaUa2, Op::AddPresent) => Noop,
        (St::SaUa2, Op::RemoveUa) => tm(SU, json!({s1: null, s2: {}})),
        (St::SaUa2, Op::RemoveAbsent) => Noop,
        (St::SaUa2, Op::RemoveAll) => t("None"),
    }
}

fn expected(s: St, o: Op, k: Kind) -> Expect {
    let has_sa = matches!(s, St::Sa | St::SaUa2);
    if k == Kind::Flexible && matches!(o, Op::EnableSa) && !has_sa {
        return Expect::Refused;
    }
    expected_uniform(s, o)
}

fn contains_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k == key || contains_key(v, key)),
        Value::Array(a) => a.iter().any(|v| contains_key(v, key)),
        _ => false,
    }
}

#[test]
fn every_state_operation_and_kind() {
    let mut counts = [0usize; 3];
    for k in [Kind::Uniform, Kind::Flexible, Kind::Vm] {
        for s in STATES {
            for o in OPS {
                if k == Kind::Flexible && matches!(s, St::Sa | St::SaUa2) {
                    continue; // Azure never holds a system-assigned identity on a Flexible scale set
                }
                let (body, id) = resource(s, k);
                let st = ResourceState::from_arm(&body, None).unwrap();
                let p = plan(&st, &operation(o));
                let case = format!("{k:?} {s:?} {o:?}");
                match (expected(s, o, k), &p.outcome) {
                    (Expect::Body(want), Outcome::Requests(reqs)) => {
                        counts[0] += 1;
                        assert_eq!(reqs.len(), 1, "{case}");
                        let r = &reqs[0];
                        assert_eq!(r.method.as_str(), "PATCH", "{case}");
                        assert_eq!(r.path, id, "{case}");
                        assert_eq!(
                            r.query,
                            vec![("api-version".to_string(), api_versions::COMPUTE.to_string())],
                            "{case}"
                        );
                        assert_eq!(r.header("If-Match"), Some("\"7\""), "{case}");
                        let got = r.body.clone().unwrap();
                        assert_eq!(got, want, "{case}");
                        for key in ["principalId", "clientId", "tenantId"] {
                            assert!(!contains_key(&got, key), "{case}: {key} sent");
                        }
                        assert!(p.has_warning(WarningCode::Latency), "{case}");
                        assert_eq!(
                            p.has_warning(WarningCode::ManualUpgradeNotNeeded),
                            k != Kind::Vm,
                            "{case}"
                        );
                        if matches!(s, St::Sa | St::SaUa2)
                            && matches!(o, Op::RemoveSa | Op::RemoveAll)
                        {
                            assert!(p.has_warning(WarningCode::SystemPrincipalRoles), "{case}");
                            assert!(
                                p.warnings.iter().any(|w| w.message.contains("sa-p")),
                                "{case}"
                            );
                        }
                    }
                    (Expect::Noop, Outcome::Noop(reason)) => {
                        counts[1] += 1;
                        assert!(!reason.is_empty(), "{case}");
                        assert!(p.requests().is_empty());
                        assert_eq!(p.after, p.before, "{case}");
                    }
                    (Expect::Refused, Outcome::Refused(reason)) => {
                        counts[2] += 1;
                        assert!(reason.contains("Flexible"), "{case}: {reason}");
                        assert!(reason.contains("UserAssigned"), "{case}: {reason}");
                    }
                    (want, got) => panic!("{case}: expected {want:?}, got {got:?}"),
                }
            }
        }
    }
    // 3 kinds × 5 states × 7 ops, less the 14 impossible Flexible+SA cases
    assert_eq!(counts.iter().sum::<usize>(), 105 - 14);
    assert_eq!(
        counts[2], 3,
        "Flexible refuses enabling SA in its 3 SA-less states"
    );
}

#[test]
fn partial_add_and_remove_keep_everything_else_and_warn() {
    let (body, _) = resource(St::SaUa2, Kind::Uniform);
    let st = ResourceState::from_arm(&body, None).unwrap();
    let p = plan(
        &st,
        &Operation::AddUserAssigned {
            ids: vec![asked("id2"), asked("id3"), asked("ID3")],
        },
    );
    assert_eq!(
        p.requests()[0].body,
        Some(
            json!({"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities":
            {stored("id1"): {}, stored("id2"): {}, asked("id3"): {}}}})
        )
    );
    assert!(p.has_warning(WarningCode::AlreadyAssigned));
    assert_eq!(p.after.user_assigned.len(), 3);
    // the read-only ids of kept identities survive into `after`
    assert_eq!(
        p.after
            .find_user_assigned(&asked("id1"))
            .unwrap()
            .client_id
            .as_deref(),
        Some("c-id1")
    );
    assert_eq!(p.after.principal_id.as_deref(), Some("sa-p"));

    let p = plan(
        &st,
        &Operation::RemoveUserAssigned {
            ids: vec![asked("id1"), asked("id2"), asked("id3")],
        },
    );
    assert_eq!(
        p.requests()[0].body,
        Some(json!({"identity": {"type": "SystemAssigned"}}))
    );
    assert!(p.has_warning(WarningCode::NotAssigned));
}

#[test]
fn set_exact_and_refusals_of_bad_ids() {
    let (body, _) = resource(St::Ua2, Kind::Flexible);
    let st = ResourceState::from_arm(&body, None).unwrap();
    let p = plan(
        &st,
        &Operation::SetExact {
            system_assigned: false,
            user_assigned: vec![asked("ID2"), asked("id4")],
        },
    );
    assert_eq!(
        p.requests()[0].body,
        Some(
            json!({"identity": {"type": "UserAssigned", "userAssignedIdentities":
            {stored("id1"): null, stored("id2"): {}, asked("id4"): {}}}})
        )
    );
    let same = plan(
        &st,
        &Operation::SetExact {
            system_assigned: false,
            user_assigned: vec![asked("id2"), asked("id1")],
        },
    );
    assert!(same.noop_reason().is_some());
    let flex_sa = plan(
        &st,
        &Operation::SetExact {
            system_assigned: true,
            user_assigned: vec![],
        },
    );
    assert!(flex_sa.refusal().is_some());
    for bad in [
        "id1",
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
        "",
    ] {
        let p = plan(
            &st,
            &Operation::AddUserAssigned {
                ids: vec![bad.into()],
            },
        );
        assert!(p.refusal().is_some(), "{bad:?}");
    }
    assert!(
        plan(&st, &Operation::AddUserAssigned { ids: vec![] })
            .refusal()
            .is_some()
    );
}

#[test]
fn no_etag_means_no_if_match_and_a_warning() {
    let (mut body, _) = resource(St::None, Kind::Vm);
    body.as_object_mut().unwrap().remove("etag");
    let st = ResourceState::from_arm(&body, None).unwrap();
    let p = plan(&st, &Operation::EnableSystemAssigned);
    assert_eq!(p.requests()[0].header("If-Match"), None);
    assert!(p.has_warning(WarningCode::NoEtag));
}

#[test]
fn aks_and_legacy_extension() {
    let (mut body, _) = resource(St::Sa, Kind::Uniform);
    body["id"] = json!(format!(
        "/subscriptions/{SUB}/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np"
    ));
    body["properties"]["virtualMachineProfile"] = json!({"extensionProfile": {"extensions": [
        {"name": "msiext", "properties": {"publisher": "Microsoft.ManagedIdentity", "type": "ManagedIdentityExtensionForLinux"}}]}});
    let st = ResourceState::from_arm(&body, None).unwrap();
    let p = plan(
        &st,
        &Operation::AddUserAssigned {
            ids: vec![asked("id1")],
        },
    );
    assert!(p.has_warning(WarningCode::AksManaged));
    assert!(p.has_warning(WarningCode::LegacyExtensionPresent));

    let p = plan(
        &st,
        &Operation::RemoveLegacyExtension {
            upgrade_instances: true,
        },
    );
    let reqs = p.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].method.as_str(), "DELETE");
    assert!(
        reqs[0]
            .path
            .ends_with("/virtualMachineScaleSets/aks-np/extensions/msiext")
    );
    assert_eq!(reqs[1].method.as_str(), "POST");
    assert!(
        reqs[1]
            .path
            .ends_with("/virtualMachineScaleSets/aks-np/manualupgrade")
    );
    assert_eq!(reqs[1].body, Some(json!({"instanceIds": ["*"]})));
    assert!(p.has_warning(WarningCode::InstanceUpgrade));
    assert!(p.has_warning(WarningCode::AksManaged));
    assert_eq!(p.after, p.before);

    let p = plan(
        &st,
        &Operation::RemoveLegacyExtension {
            upgrade_instances: false,
        },
    );
    assert_eq!(p.requests().len(), 1);
    assert!(p.has_warning(WarningCode::InstanceUpgrade));

    // Automatic upgrade policy: no manualupgrade
    body["properties"]["upgradePolicy"] = json!({"mode": "Automatic"});
    let st = ResourceState::from_arm(&body, None).unwrap();
    let p = plan(
        &st,
        &Operation::RemoveLegacyExtension {
            upgrade_instances: true,
        },
    );
    assert_eq!(p.requests().len(), 1);
    assert!(!p.has_warning(WarningCode::InstanceUpgrade));

    // nothing installed: no-op; installing: refused, pointing to IMDS
    let (plain, _) = resource(St::None, Kind::Vm);
    let st = ResourceState::from_arm(&plain, None).unwrap();
    assert!(
        plan(
            &st,
            &Operation::RemoveLegacyExtension {
                upgrade_instances: true
            }
        )
        .noop_reason()
        .is_some()
    );
    let r = plan(&st, &Operation::InstallLegacyExtension);
    assert!(r.refusal().unwrap().contains("IMDS"));
}
