//! Randomised invariants of ARM's identity merge (contract §1.4, §5): for any current state and any PATCH
//! body built from the allowed pieces, the result obeys the rules below or the request is refused with 400.

use armsim::identity::{
    IdentityState, IdentityType, MergeMode, SystemIds, UserIds, merge_identity,
};
use armsim::rng::Rng;
use serde_json::{Map, Value, json};

const POOL: [&str; 4] = ["ua-a", "ua-b", "ua-c", "ua-d"];

fn id(n: &str) -> String {
    format!(
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}"
    )
}

#[test]
fn merge_invariants_hold_for_random_states_and_bodies() {
    let mut rng = Rng::new(2026);
    let types = [
        "SystemAssigned",
        "UserAssigned",
        "SystemAssigned, UserAssigned",
        "SystemAssigned,UserAssigned",
        "None",
        "userassigned",
    ];
    let mut accepted = 0;
    for _ in 0..5_000 {
        let mut cur = IdentityState::default();
        if rng.next_u64().is_multiple_of(2) {
            cur.system = Some(SystemIds {
                principal_id: "sa".into(),
                tenant_id: "t".into(),
            });
        }
        for n in POOL {
            if rng.next_u64().is_multiple_of(2) {
                cur.user.push((
                    id(n),
                    Some(UserIds {
                        principal_id: format!("p-{n}"),
                        client_id: format!("c-{n}"),
                    }),
                ));
            }
        }
        let ty = types[(rng.next_u64() % types.len() as u64) as usize];
        let mut body = Map::new();
        body.insert("type".into(), json!(ty));
        let mut sent: Vec<(String, bool)> = vec![]; // (id, is_null)
        match rng.next_u64() % 4 {
            0 => {}
            1 => {
                body.insert("userAssignedIdentities".into(), Value::Null);
            }
            _ => {
                let mut m = Map::new();
                for n in POOL {
                    match rng.next_u64() % 3 {
                        0 => {
                            m.insert(id(n), json!({}));
                            sent.push((id(n), false));
                        }
                        1 => {
                            m.insert(id(n).to_ascii_uppercase(), Value::Null);
                            sent.push((id(n), true));
                        }
                        _ => {}
                    }
                }
                body.insert("userAssignedIdentities".into(), Value::Object(m));
            }
        }
        let flexible = rng.next_u64().is_multiple_of(4);
        let t = IdentityType::parse(ty).unwrap();
        let body = Value::Object(body);
        let res = merge_identity(&cur, &body, flexible, MergeMode::Patch, &mut || SystemIds {
            principal_id: "sa-new".into(),
            tenant_id: "t".into(),
        });
        let out = match res {
            Err(e) => {
                assert_eq!(e.status, 400, "{body}");
                continue;
            }
            Ok(o) => o,
        };
        accepted += 1;
        let st = out.state;
        // the type is applied as sent
        assert_eq!(st.system.is_some(), t.system, "{body}");
        assert!(
            !(flexible && t.system),
            "Flexible never gets system-assigned: {body}"
        );
        if !t.user {
            assert!(
                st.user.is_empty(),
                "a type without UserAssigned leaves none: {body}"
            );
        } else {
            assert!(
                !st.user.is_empty(),
                "UserAssigned with nothing left is refused: {body}"
            );
            for (k, is_null) in &sent {
                assert_eq!(
                    st.find_user(k).is_none(),
                    *is_null,
                    "null removes, {{}} keeps/adds: {k} in {body}"
                );
            }
            // ids not named in the body stay as they were (unless the map was sent as null)
            if body.get("userAssignedIdentities") != Some(&Value::Null) {
                for (k, ids) in &cur.user {
                    if !sent.iter().any(|(s, _)| s.eq_ignore_ascii_case(k)) {
                        let i = st
                            .find_user(k)
                            .unwrap_or_else(|| panic!("{k} dropped by {body}"));
                        assert_eq!(&st.user[i].1, ids);
                    }
                }
            }
        }
        // a system-assigned identity that stays keeps its principal; a new one gets a new principal
        if let Some(s) = &st.system {
            let expect = if cur.system.is_some() { "sa" } else { "sa-new" };
            assert_eq!(s.principal_id, expect);
        }
        // no duplicate keys (case-insensitive)
        let mut keys: Vec<String> = st
            .user
            .iter()
            .map(|(k, _)| k.to_ascii_lowercase())
            .collect();
        keys.sort();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "{body}");
    }
    assert!(
        accepted > 1_000,
        "enough accepted cases exercised: {accepted}"
    );
}
