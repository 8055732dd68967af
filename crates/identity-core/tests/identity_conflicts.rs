//! A GET whose `identity.type` and `userAssignedIdentities` disagree (or carry unknown words, odd
//! casing and spacing, nulls, extra keys) must never lead to a plan that drops an identity the GET
//! mentions in either place and the operation did not name. Such a GET is refused with a reason
//! that says what disagrees and what to do.
#![cfg(not(target_arch = "wasm32"))]

use identity_core::wizard::WizardKind;
use identity_core::{Operation, ResourceState, plan};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

const POOL: [&str; 4] = ["alpha", "beta", "gamma", "grüppe-日本"];

fn ua_id(name: &str, casing: u8) -> String {
    let rg = if casing & 1 == 0 {
        "resourceGroups"
    } else {
        "resourcegroups"
    };
    let n = if casing & 2 == 0 {
        name.to_string()
    } else {
        name.to_uppercase()
    };
    format!(
        "/subscriptions/11111111-2222-3333-4444-555555555555/{rg}/Grp/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}"
    )
}

/// Type words, known and unknown.
const WORDS: [&str; 9] = [
    "SystemAssigned",
    "UserAssigned",
    "None",
    "SystemAssignedUserAssigned",
    "Foo",
    "System",
    "",
    "User Assigned",
    "systemassigned;userassigned",
];

fn cased(s: &str, mask: u32) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask & (1 << (i % 32)) != 0 {
                c.to_uppercase().collect::<String>()
            } else {
                c.to_lowercase().collect::<String>()
            }
        })
        .collect()
}

fn type_value() -> impl Strategy<Value = Option<Value>> {
    let word = (0..WORDS.len(), any::<u32>(), 0u8..4, 0u8..4).prop_map(|(w, mask, pre, post)| {
        let pad = |n: u8| [" ", "\t", "  ", ""][n as usize];
        format!("{}{}{}", pad(pre), cased(WORDS[w], mask), pad(post))
    });
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        Just(Some(json!(3))),
        Just(Some(json!(["UserAssigned"]))),
        prop::collection::vec(word, 1..4).prop_map(|parts| Some(Value::String(parts.join(",")))),
    ]
}

fn entry_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({})),
        Just(json!({"principalId": "p", "clientId": "c"})),
        Just(Value::Null),
        Just(json!("x")),
        Just(json!({"extra": [1, 2]})),
    ]
}

fn map_value() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        Just(Some(json!("x"))),
        Just(Some(json!([]))),
        prop::collection::vec(((0..POOL.len(), 0u8..4), entry_value()), 0..4).prop_map(|entries| {
            let mut m = Map::new();
            for ((n, cs), v) in entries {
                m.insert(ua_id(POOL[n], cs), v);
            }
            Some(Value::Object(m))
        }),
    ]
}

#[derive(Debug, Clone)]
enum OpGen {
    Enable,
    RemoveSa,
    Add(Vec<(usize, u8)>),
    Remove(Vec<(usize, u8)>),
    RemoveAll,
    Exact(bool, Vec<(usize, u8)>),
    RemoveExt,
    InstallExt,
}

fn op_gen() -> impl Strategy<Value = OpGen> {
    let ids = || prop::collection::vec((0..POOL.len(), 0u8..4), 0..3);
    prop_oneof![
        Just(OpGen::Enable),
        Just(OpGen::RemoveSa),
        ids().prop_map(OpGen::Add),
        ids().prop_map(OpGen::Remove),
        Just(OpGen::RemoveAll),
        (any::<bool>(), ids()).prop_map(|(s, i)| OpGen::Exact(s, i)),
        Just(OpGen::RemoveExt),
        Just(OpGen::InstallExt),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    kind: u8,
    ty: Option<Value>,
    map: Option<Value>,
    principal: Option<Value>,
    extra: bool,
    op: OpGen,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0u8..3,
        type_value(),
        map_value(),
        prop_oneof![Just(None), Just(Some(Value::Null)), Just(Some(json!("sp")))],
        any::<bool>(),
        op_gen(),
    )
        .prop_map(|(kind, ty, map, principal, extra, op)| Case {
            kind,
            ty,
            map,
            principal,
            extra,
            op,
        })
}

fn body_of(c: &Case) -> Value {
    let (rtype, mode) = match c.kind {
        0 => ("virtualMachineScaleSets", "Uniform"),
        1 => ("virtualMachineScaleSets", "Flexible"),
        _ => ("virtualMachines", "Uniform"),
    };
    let mut ident = Map::new();
    for (k, v) in [
        ("type", &c.ty),
        ("userAssignedIdentities", &c.map),
        ("principalId", &c.principal),
    ] {
        if let Some(v) = v {
            ident.insert(k.into(), v.clone());
        }
    }
    if c.extra {
        ident.insert("tenantId".into(), json!("t"));
        ident.insert("delegatedResources".into(), json!({"x": {}}));
    }
    let mut body = json!({
        "id": format!("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/Grp/providers/Microsoft.Compute/{rtype}/r"),
        "etag": "\"2\"",
        "identity": ident,
        "properties": {"orchestrationMode": mode, "upgradePolicy": {"mode": "Manual"}},
    });
    if c.extra {
        body["unknownTopLevel"] = json!({"a": 1});
    }
    body
}

/// What the GET mentions, read by this test on its own.
struct Mentioned {
    system: bool,
    ids: BTreeSet<String>,
    /// The type names UserAssigned (identities exist even if the map does not say which).
    ua_by_type: bool,
    /// This test's own judgement that the parts disagree.
    inconsistent: bool,
}

fn mentioned(c: &Case) -> Mentioned {
    let parts: Option<Vec<String>> = match &c.ty {
        Some(Value::String(s)) => Some(
            s.split(',')
                .map(|p| {
                    p.chars()
                        .filter(|c| !c.is_whitespace())
                        .collect::<String>()
                        .to_ascii_lowercase()
                })
                .collect(),
        ),
        _ => None,
    };
    let known_word = |p: &str| {
        [
            "none",
            "systemassigned",
            "userassigned",
            "systemassigneduserassigned",
        ]
        .contains(&p)
    };
    let text = parts.clone().unwrap_or_default().join(",");
    let names_sa = text.contains("systemassigned");
    let names_ua = text.contains("userassigned");
    let type_ok = match (&c.ty, &parts) {
        (None | Some(Value::Null), _) => true,
        (_, Some(p)) => {
            p.iter().all(|w| known_word(w))
                && !(p.iter().any(|w| w == "none") && p.iter().any(|w| w != "none"))
        }
        _ => false,
    };
    let principal = matches!(c.principal, Some(Value::String(_)));
    let mut ids = BTreeSet::new();
    let mut dup = false;
    let mut nulls = false;
    let map_ok = match &c.map {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => {
            for (k, v) in m {
                dup |= !ids.insert(k.to_ascii_lowercase());
                nulls |= v.is_null();
            }
            true
        }
        _ => false,
    };
    let inconsistent = !type_ok
        || !map_ok
        || dup
        || nulls
        || (names_ua && ids.is_empty())
        || (!names_ua && !ids.is_empty())
        || (!names_sa && principal);
    Mentioned {
        system: names_sa || principal,
        ids,
        ua_by_type: names_ua,
        inconsistent,
    }
}

/// ARM's PATCH merge of `identity` (as in merge_props.rs): the type decides which halves exist;
/// with UserAssigned the current map is kept and the sent entries applied (null removes).
fn merged(m: &Mentioned, body: &Value) -> (bool, BTreeSet<String>, bool) {
    let ident = &body["identity"];
    let ty = ident["type"].as_str().unwrap_or("").to_ascii_lowercase();
    let sa = ty.split(',').any(|p| p.trim() == "systemassigned");
    let ua = ty.split(',').any(|p| p.trim() == "userassigned");
    let mut set = if ua { m.ids.clone() } else { BTreeSet::new() };
    if let Some(map) = ident["userAssignedIdentities"].as_object() {
        for (k, v) in map {
            if v.is_null() {
                set.remove(&k.to_ascii_lowercase());
            } else {
                set.insert(k.to_ascii_lowercase());
            }
        }
    }
    (sa, set, ua)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn no_plan_drops_an_identity_the_get_mentions(c in case()) {
        let body = body_of(&c);
        let m = mentioned(&c);
        let Ok(st) = ResourceState::from_arm(&body, None) else {
            // unreadable: nothing can be planned from it
            return Ok(());
        };
        prop_assert_eq!(st.identity_conflict.is_some(), m.inconsistent, "{} -> {:?}", body["identity"], st.identity_conflict);
        // the state keeps every identity the GET mentions
        if !m.inconsistent {
            prop_assert_eq!(st.identity.system_assigned, m.system, "{}", body["identity"]);
        } else if matches!(c.principal, Some(Value::String(_))) {
            prop_assert!(st.identity.system_assigned);
        }
        for id in &m.ids {
            prop_assert!(st.identity.has_user_assigned(id), "{} lost from the state", id);
        }
        let mk = |v: &Vec<(usize, u8)>| v.iter().map(|(n, cs)| ua_id(POOL[*n], *cs)).collect::<Vec<_>>();
        // what the operation names for removal: (system, ids, every UA)
        let (op, named_sa, named_ids, named_all_ua): (Operation, bool, Vec<String>, bool) = match &c.op {
            OpGen::Enable => (Operation::EnableSystemAssigned, false, vec![], false),
            OpGen::RemoveSa => (Operation::RemoveSystemAssigned, true, vec![], false),
            OpGen::Add(v) => (Operation::AddUserAssigned { ids: mk(v) }, false, vec![], false),
            OpGen::Remove(v) => (Operation::RemoveUserAssigned { ids: mk(v) }, false, mk(v), false),
            OpGen::RemoveAll => (Operation::RemoveAll, true, vec![], true),
            OpGen::Exact(s, v) => {
                let keep: BTreeSet<String> = mk(v).iter().map(|i| i.to_ascii_lowercase()).collect();
                let named: Vec<String> = m.ids.iter().filter(|i| !keep.contains(*i)).cloned().collect();
                (Operation::SetExact { system_assigned: *s, user_assigned: mk(v) }, !*s, named, v.is_empty())
            }
            OpGen::RemoveExt => (Operation::RemoveLegacyExtension { upgrade_instances: true }, false, vec![], false),
            OpGen::InstallExt => (Operation::InstallLegacyExtension, false, vec![], false),
        };
        let named_lower: BTreeSet<String> = named_ids.iter().map(|i| i.to_ascii_lowercase()).collect();
        let p = plan(&st, &op);
        let identity_op = !matches!(c.op, OpGen::RemoveExt | OpGen::InstallExt);
        if m.inconsistent && identity_op {
            let why = p.refusal().unwrap_or_default();
            prop_assert!(why.contains("inconsistent") && why.contains("Read the resource again"),
                "{} with {:?}: {:?}", body["identity"], op, p.outcome);
        }
        if !m.inconsistent {
            prop_assert!(!p.refusal().unwrap_or_default().contains("inconsistent"));
        }
        for r in p.requests() {
            let Some(b) = r.body.as_ref().filter(|b| b.get("identity").is_some()) else { continue };
            prop_assert!(identity_op, "an extension plan sent an identity body");
            let (sa, ids, ua_type) = merged(&m, b);
            if m.system && !named_sa {
                prop_assert!(sa, "system-assigned dropped: GET {} body {}", body["identity"], b);
            }
            for id in &m.ids {
                if !named_lower.contains(id) && !named_all_ua {
                    prop_assert!(ids.contains(id), "{} dropped: GET {} body {}", id, body["identity"], b);
                }
            }
            if m.ua_by_type && m.ids.is_empty() && !named_all_ua {
                prop_assert!(ua_type, "user-assigned identities dropped: GET {} body {}", body["identity"], b);
            }
        }
        // a plan's `after` never loses what the operation did not name either
        if !p.requests().is_empty() {
            if m.system && !named_sa {
                prop_assert!(p.after.system_assigned);
            }
            for id in &m.ids {
                if !named_lower.contains(id) && !named_all_ua {
                    prop_assert!(p.after.has_user_assigned(id), "{} missing from after", id);
                }
            }
        }
        // the wizards say the same up front
        for k in WizardKind::ALL {
            let u = k.unavailable(&st);
            if m.inconsistent && k != WizardKind::RemoveLegacyExtension {
                prop_assert!(u.is_some_and(|u| u.contains("inconsistent")));
            }
        }
    }
}

const VMSS: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/Grp/providers/Microsoft.Compute/virtualMachineScaleSets/r";

fn state(identity: Value) -> ResourceState {
    ResourceState::from_arm(
        &json!({"id": VMSS, "etag": "\"2\"", "identity": identity}),
        None,
    )
    .unwrap()
}

#[test]
fn enable_system_assigned_on_a_user_assigned_type_without_a_map_is_refused() {
    // the defect: this GET was read as "no user-assigned identity", and the plan sent
    // {"type":"SystemAssigned"}, dropping the identities the type names
    for identity in [
        json!({"type": "UserAssigned"}),
        json!({"type": "UserAssigned", "userAssignedIdentities": null}),
        json!({"type": "UserAssigned", "userAssignedIdentities": {}}),
        json!({"type": "UserAssigned", "userAssignedIdentities": {(ua_id("alpha", 0)): null}}),
    ] {
        let st = state(identity.clone());
        let p = plan(&st, &Operation::EnableSystemAssigned);
        let why = p
            .refusal()
            .unwrap_or_else(|| panic!("{identity}: {:?}", p.outcome));
        assert!(
            why.contains("names UserAssigned") || why.contains("null for"),
            "{why}"
        );
        assert!(
            why.contains("Read the resource again") && why.contains("portal"),
            "{why}"
        );
        assert!(p.requests().is_empty());
    }
}

#[test]
fn map_entries_next_to_a_type_without_user_assigned_are_refused_for_every_identity_operation() {
    let a = ua_id("alpha", 0);
    for identity in [
        json!({"type": "SystemAssigned", "principalId": "p", "userAssignedIdentities": {(a.clone()): {}}}),
        json!({"type": "None", "userAssignedIdentities": {(a.clone()): {}}}),
        json!({"userAssignedIdentities": {(a.clone()): {}}}),
    ] {
        let st = state(identity.clone());
        assert!(st.identity.has_user_assigned(&a), "{identity}");
        for op in [
            Operation::EnableSystemAssigned,
            Operation::RemoveSystemAssigned,
            Operation::AddUserAssigned {
                ids: vec![ua_id("beta", 0)],
            },
            Operation::RemoveUserAssigned {
                ids: vec![ua_id("beta", 0)],
            },
            Operation::RemoveAll,
            Operation::SetExact {
                system_assigned: true,
                user_assigned: vec![],
            },
        ] {
            let p = plan(&st, &op);
            let why = p
                .refusal()
                .unwrap_or_else(|| panic!("{op:?}: {:?}", p.outcome));
            assert!(
                why.contains("does not name UserAssigned") && why.contains(&a),
                "{why}"
            );
        }
        // the extension removal sends no identity and stays available
        let p = plan(
            &st,
            &Operation::RemoveLegacyExtension {
                upgrade_instances: true,
            },
        );
        assert!(p.refusal().is_none());
    }
}

#[test]
fn consistent_odd_spellings_still_plan() {
    let a = ua_id("alpha", 1);
    let st = state(
        json!({"type": "  userASSIGNED ,systemassigned", "principalId": "p", "tenantId": "t",
            "userAssignedIdentities": {(a.clone()): {"principalId": "x"}}, "somethingNew": true}),
    );
    assert_eq!(st.identity_conflict, None);
    let p = plan(&st, &Operation::RemoveSystemAssigned);
    assert_eq!(
        p.requests()[0].body,
        Some(json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {(a): {}}}}))
    );
}
