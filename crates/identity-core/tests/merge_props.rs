//! Property tests: ARM's merge rule (implemented here independently of the crate) applied to the
//! current state and a plan's PATCH body yields exactly the identity set the operation intends —
//! nothing dropped, nothing added that was not asked for.
#![cfg(not(target_arch = "wasm32"))]

use identity_core::{Operation, Outcome, ResourceState, plan};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// A pool of identity names; ids are built with random casing of the fixed parts.
const POOL: [&str; 6] = ["alpha", "beta", "gamma", "delta", "eps", "zeta"];

fn ua_id(name: &str, casing: u8) -> String {
    let rg = if casing & 1 == 0 {
        "resourceGroups"
    } else {
        "resourcegroups"
    };
    let ns = if casing & 2 == 0 {
        "Microsoft.ManagedIdentity"
    } else {
        "microsoft.managedidentity"
    };
    let n = if casing & 4 == 0 {
        name.to_string()
    } else {
        name.to_uppercase()
    };
    format!(
        "/subscriptions/11111111-2222-3333-4444-555555555555/{rg}/Grp/providers/{ns}/userAssignedIdentities/{n}"
    )
}

/// The identity set as the test sees it: SA flag and lower-cased UA ids.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Set {
    sa: bool,
    ua: BTreeSet<String>,
}

/// ARM's PATCH merge rule for `identity`, written from the contract, not from the crate:
/// the type (split on ',', trimmed, case-insensitive) decides which halves exist; `None` clears
/// everything; with UserAssigned the current map is kept and the sent map is applied entry by
/// entry (null removes, an object adds or keeps); without UserAssigned no UA remains.
/// Returns Err for bodies Azure rejects.
fn arm_merge(current: &Set, body: &Value) -> Result<Set, String> {
    let ident = body.get("identity").ok_or("no identity")?;
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    if keys != ["identity"] {
        return Err(format!("body has more than identity: {keys:?}"));
    }
    let ty = ident.get("type").and_then(Value::as_str).ok_or("no type")?;
    let parts: Vec<String> = ty
        .split(',')
        .map(|p| p.trim().to_ascii_lowercase())
        .collect();
    let sa = parts.iter().any(|p| p == "systemassigned");
    let ua = parts.iter().any(|p| p == "userassigned");
    let none = parts.iter().any(|p| p == "none");
    if none && (sa || ua) {
        return Err("None combined".into());
    }
    let map = ident.get("userAssignedIdentities");
    if !ua {
        if map.is_some_and(|m| !m.is_null()) {
            return Err("a map next to a type that does not name UserAssigned".into());
        }
        return Ok(Set {
            sa,
            ua: BTreeSet::new(),
        });
    }
    let mut set = current.ua.clone();
    match map {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let key = k.to_ascii_lowercase();
                match v {
                    Value::Null => {
                        set.remove(&key);
                    }
                    Value::Object(o) if o.is_empty() => {
                        set.insert(key);
                    }
                    other => return Err(format!("UA value {other} (read-only values sent?)")),
                }
            }
        }
        Some(other) => return Err(format!("map is {other}")),
    }
    if set.is_empty() {
        return Err(
            "The identity ids must not be null or empty for 'UserAssigned' identity type".into(),
        );
    }
    Ok(Set { sa, ua: set })
}

#[derive(Debug, Clone)]
struct Case {
    kind: u8, // 0 uniform, 1 flexible, 2 vm
    sa: bool,
    current: Vec<(usize, u8)>,
    op: OpGen,
    etag: Option<u8>,
}

#[derive(Debug, Clone)]
enum OpGen {
    Enable,
    RemoveSa,
    Add(Vec<(usize, u8)>),
    Remove(Vec<(usize, u8)>),
    RemoveAll,
    Exact(bool, Vec<(usize, u8)>),
}

fn ids() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((0..POOL.len(), 0u8..8), 0..5)
}

fn case() -> impl Strategy<Value = Case> {
    let op = prop_oneof![
        Just(OpGen::Enable),
        Just(OpGen::RemoveSa),
        ids().prop_map(OpGen::Add),
        ids().prop_map(OpGen::Remove),
        Just(OpGen::RemoveAll),
        (any::<bool>(), ids()).prop_map(|(s, i)| OpGen::Exact(s, i)),
    ];
    (0u8..3, any::<bool>(), ids(), op, prop::option::of(0u8..50)).prop_map(
        |(kind, sa, current, op, etag)| Case {
            kind,
            // a Flexible scale set never holds a system-assigned identity
            sa: sa && kind != 1,
            current,
            op,
            etag,
        },
    )
}

fn lower_set(ids: &[String]) -> BTreeSet<String> {
    ids.iter().map(|i| i.to_ascii_lowercase()).collect()
}

fn has_readonly(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| {
            ["principalId", "clientId", "tenantId"].contains(&k.as_str()) || has_readonly(v)
        }),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn plan_body_merged_by_arm_gives_the_intended_set(c in case()) {
        // current state, with ids stored in their own casing (first spelling of each name wins)
        let mut stored: Vec<String> = Vec::new();
        for (n, cs) in &c.current {
            let id = ua_id(POOL[*n], *cs);
            if !stored.iter().any(|s| s.eq_ignore_ascii_case(&id)) {
                stored.push(id);
            }
        }
        let ty = match (c.sa, !stored.is_empty()) {
            (false, false) => None,
            (true, false) => Some("SystemAssigned"),
            (false, true) => Some("userAssigned"),
            (true, true) => Some("SystemAssigned,UserAssigned"),
        };
        let (rtype, mode) = match c.kind { 0 => ("virtualMachineScaleSets", "Uniform"), 1 => ("virtualMachineScaleSets", "Flexible"), _ => ("virtualMachines", "") };
        let mut body = json!({"id": format!("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/Grp/providers/Microsoft.Compute/{rtype}/r"),
            "properties": {"orchestrationMode": mode}});
        if mode.is_empty() { body["properties"] = json!({}); }
        if let Some(e) = c.etag { body["etag"] = json!(format!("\"{e}\"")); }
        if let Some(t) = ty {
            let mut m = Map::new();
            for s in &stored { m.insert(s.clone(), json!({"principalId": "p", "clientId": "c"})); }
            body["identity"] = json!({"type": t, "principalId": if c.sa { json!("sp") } else { Value::Null }, "userAssignedIdentities": m});
        }
        let st = ResourceState::from_arm(&body, None).unwrap();
        let current = Set { sa: c.sa, ua: lower_set(&stored) };

        let mk = |v: &Vec<(usize, u8)>| v.iter().map(|(n, cs)| ua_id(POOL[*n], *cs)).collect::<Vec<_>>();
        let (op, intended) = match &c.op {
            OpGen::Enable => (Operation::EnableSystemAssigned, Set { sa: true, ua: current.ua.clone() }),
            OpGen::RemoveSa => (Operation::RemoveSystemAssigned, Set { sa: false, ua: current.ua.clone() }),
            OpGen::Add(v) => {
                let ids = mk(v);
                let mut u = current.ua.clone();
                u.extend(lower_set(&ids));
                (Operation::AddUserAssigned { ids }, Set { sa: current.sa, ua: u })
            }
            OpGen::Remove(v) => {
                let ids = mk(v);
                let rm = lower_set(&ids);
                (Operation::RemoveUserAssigned { ids }, Set { sa: current.sa, ua: current.ua.difference(&rm).cloned().collect() })
            }
            OpGen::RemoveAll => (Operation::RemoveAll, Set { sa: false, ua: BTreeSet::new() }),
            OpGen::Exact(s, v) => {
                let ids = mk(v);
                (Operation::SetExact { system_assigned: *s, user_assigned: ids.clone() }, Set { sa: *s, ua: lower_set(&ids) })
            }
        };
        let empty_list = matches!(&c.op, OpGen::Add(v) | OpGen::Remove(v) if v.is_empty());
        let p = plan(&st, &op);
        match &p.outcome {
            Outcome::Refused(_) => {
                prop_assert!(empty_list || (c.kind == 1 && intended.sa && !current.sa),
                    "unexpected refusal: {:?}", p.outcome);
            }
            Outcome::Noop(_) => {
                prop_assert!(!empty_list);
                prop_assert_eq!(&intended, &current, "no-op although a change was asked");
            }
            Outcome::Requests(reqs) => {
                prop_assert!(!empty_list);
                prop_assert!(!(c.kind == 1 && intended.sa && !current.sa), "Flexible + SA not refused");
                prop_assert_ne!(&intended, &current, "a request for a no-op");
                prop_assert_eq!(reqs.len(), 1);
                let r = &reqs[0];
                prop_assert_eq!(r.method.as_str(), "PATCH");
                prop_assert_eq!(r.header("If-Match").map(str::to_string), c.etag.map(|e| format!("\"{e}\"")));
                let b = r.body.as_ref().unwrap();
                prop_assert!(!has_readonly(b));
                let merged = arm_merge(&current, b);
                prop_assert_eq!(merged, Ok(intended.clone()), "body {}", b);
                // ids the resource holds are sent with the casing it holds
                if let Some(m) = b["identity"]["userAssignedIdentities"].as_object() {
                    for k in m.keys() {
                        if let Some(s) = stored.iter().find(|s| s.eq_ignore_ascii_case(k)) {
                            prop_assert_eq!(k, s);
                        }
                    }
                }
                // `after` matches too
                let after = Set { sa: p.after.system_assigned, ua: lower_set(&p.after.user_assigned.iter().map(|u| u.id.clone()).collect::<Vec<_>>()) };
                prop_assert_eq!(after, intended);
            }
        }
    }
}

#[test]
fn the_merge_rule_itself_matches_the_recorded_examples() {
    // Sanity checks of the test's own rule against CONTRACT.md §1.4 (recorded / documented).
    let a = "/x/a".to_string();
    let b = "/x/b".to_string();
    let both = Set {
        sa: true,
        ua: [a.clone(), b.clone()].into_iter().collect(),
    };
    let r = arm_merge(
        &both,
        &json!({"identity": {"userAssignedIdentities": {"/x/a": null}, "type": "SystemAssigned,UserAssigned"}}),
    );
    assert_eq!(
        r,
        Ok(Set {
            sa: true,
            ua: [b.clone()].into_iter().collect()
        })
    );
    let r = arm_merge(&both, &json!({"identity": {"type": "SystemAssigned"}}));
    assert_eq!(
        r,
        Ok(Set {
            sa: true,
            ua: BTreeSet::new()
        })
    );
    let r = arm_merge(
        &both,
        &json!({"identity": {"userAssignedIdentities": null, "type": "None"}}),
    );
    assert_eq!(
        r,
        Ok(Set {
            sa: false,
            ua: BTreeSet::new()
        })
    );
    assert!(arm_merge(&both, &json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {"/x/a": null, "/x/b": null}}})).is_err());
    assert!(arm_merge(&both, &json!({"identity": {"type": "SystemAssigned", "userAssignedIdentities": {"/x/a": null}}})).is_err());
}
