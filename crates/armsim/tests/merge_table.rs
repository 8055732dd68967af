//! Identity-merge table tests, written from shared/arm/CONTRACT.md §1.2/§1.4/§1.6/§5/§6 and the recordings.
//! Each row: the identities attached before, the `identity` value sent, and the identities expected after
//! (hand-derived from the contract, not from the code) — or the expected 400.

use armsim::identity::{IdentityState, MergeMode, SystemIds, UserIds, merge_identity};
use serde_json::{Value, json};

const A: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ua-a";
const B: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ua-b";
const C: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ua-c";

/// Builds a state from a compact spec: "S" = system-assigned (principal `sa-old`), "A"/"B" = user-assigned.
fn state(spec: &str) -> IdentityState {
    let mut st = IdentityState::default();
    for c in spec.chars() {
        match c {
            'S' => {
                st.system = Some(SystemIds {
                    principal_id: "sa-old".into(),
                    tenant_id: "t".into(),
                })
            }
            'A' | 'B' => {
                let id = if c == 'A' { A } else { B };
                st.user.push((
                    id.into(),
                    Some(UserIds {
                        principal_id: format!("p-{c}"),
                        client_id: format!("c-{c}"),
                    }),
                ));
            }
            _ => {}
        }
    }
    st
}

#[derive(Debug)]
enum Expect {
    /// system: None = no SA, Some(true) = SA kept (old principal), Some(false) = SA newly created;
    /// user: the ids expected, in any order.
    Ok(Option<bool>, &'static [&'static str]),
    /// 400 with this error.code and target.
    Err(&'static str, &'static str),
}

fn run(
    spec: &str,
    body: Value,
    flexible: bool,
    mode: MergeMode,
) -> Result<armsim::identity::MergeOutcome, armsim::ArmError> {
    let mut n = 0;
    merge_identity(&state(spec), &body, flexible, mode, &mut || {
        n += 1;
        SystemIds {
            principal_id: format!("sa-new-{n}"),
            tenant_id: "t".into(),
        }
    })
}

fn check(row: usize, spec: &str, body: Value, flexible: bool, mode: MergeMode, expect: Expect) {
    let out = run(spec, body.clone(), flexible, mode);
    match (expect, out) {
        (Expect::Ok(sys, users), Ok(o)) => {
            match sys {
                None => assert!(
                    o.state.system.is_none(),
                    "row {row}: SA should be gone: {body}"
                ),
                Some(true) => assert_eq!(
                    o.state.system.as_ref().unwrap().principal_id,
                    "sa-old",
                    "row {row}"
                ),
                Some(false) => assert_eq!(
                    o.state.system.as_ref().unwrap().principal_id,
                    "sa-new-1",
                    "row {row}"
                ),
            }
            let mut got: Vec<String> = o
                .state
                .user
                .iter()
                .map(|(k, _)| k.to_ascii_lowercase())
                .collect();
            let mut want: Vec<String> = users.iter().map(|u| u.to_ascii_lowercase()).collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "row {row}: user-assigned set for {body}");
            // kept user-assigned identities keep their ids; new ones have none yet ({} until the operation ends)
            let before = state(spec);
            for (k, ids) in &o.state.user {
                match before.find_user(k) {
                    Some(i) => assert_eq!(
                        ids, &before.user[i].1,
                        "row {row}: kept {k} must keep its ids"
                    ),
                    None => {
                        assert!(ids.is_none(), "row {row}: new {k} has no ids yet");
                        assert!(
                            o.added.iter().any(|a| a.eq_ignore_ascii_case(k)),
                            "row {row}: {k} reported as added"
                        );
                    }
                }
            }
            assert_eq!(
                o.added.len(),
                o.state
                    .user
                    .iter()
                    .filter(|(k, _)| before.find_user(k).is_none())
                    .count()
            );
        }
        (Expect::Err(code, target), Err(e)) => {
            assert_eq!(
                (e.status, e.code.as_str(), e.target.as_deref()),
                (400, code, Some(target)),
                "row {row}: {body}"
            );
        }
        (e, o) => panic!("row {row}: {body} expected {e:?}, got {o:?}"),
    }
}

#[test]
fn patch_merge_table() {
    use Expect::*;
    let p = MergeMode::Patch;
    let rows: Vec<(&str, Value, bool, Expect)> = vec![
        // enable system-assigned
        (
            "",
            json!({"type": "SystemAssigned"}),
            false,
            Ok(Some(false), &[]),
        ), // recorded (test_vmss_msi)
        (
            "A",
            json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {A: {}}}),
            false,
            Ok(Some(false), &[A]),
        ),
        (
            "S",
            json!({"type": "SystemAssigned"}),
            false,
            Ok(Some(true), &[]),
        ),
        // add user-assigned
        (
            "",
            json!({"type": "userAssigned", "userAssignedIdentities": {A: {}}}),
            false,
            Ok(None, &[A]),
        ), // doc, lower-case
        (
            "S",
            json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {A: {}}}),
            false,
            Ok(Some(true), &[A]),
        ),
        (
            "SA",
            json!({"userAssignedIdentities": {A: {}, B: {}}, "type": "SystemAssigned,UserAssigned"}),
            false,
            Ok(Some(true), &[A, B]),
        ), // recorded
        (
            "A",
            json!({"type": "UserAssigned", "userAssignedIdentities": {B: {}}}),
            false,
            Ok(None, &[A, B]),
        ), // {} adds, others stay
        (
            "A",
            json!({"type": "UserAssigned", "userAssignedIdentities": {A.to_ascii_lowercase(): {}}}),
            false,
            Ok(None, &[A]),
        ), // ids ignore case
        // remove user-assigned
        (
            "SAB",
            json!({"userAssignedIdentities": {A: null}, "type": "SystemAssigned,UserAssigned"}),
            false,
            Ok(Some(true), &[B]),
        ), // recorded
        (
            "AB",
            json!({"type": "UserAssigned", "userAssignedIdentities": {A: null}}),
            false,
            Ok(None, &[B]),
        ),
        (
            "AB",
            json!({"type": "UserAssigned", "userAssignedIdentities": {B.to_ascii_uppercase(): null}}),
            false,
            Ok(None, &[A]),
        ),
        (
            "SB",
            json!({"type": "SystemAssigned"}),
            false,
            Ok(Some(true), &[]),
        ), // recorded: last UA removed, SA stays
        ("A", json!({"type": "None"}), false, Ok(None, &[])), // doc
        (
            "SA",
            json!({"type": "SystemAssigned", "userAssignedIdentities": {A: null}}),
            false,
            Ok(Some(true), &[]),
        ),
        (
            "AB",
            json!({"type": "UserAssigned", "userAssignedIdentities": {C: null}}),
            false,
            Ok(None, &[A, B]),
        ), // removing an absent id
        // remove system-assigned
        (
            "SA",
            json!({"type": "UserAssigned", "userAssignedIdentities": {A: {}}}),
            false,
            Ok(None, &[A]),
        ), // doc
        ("S", json!({"type": "None"}), false, Ok(None, &[])), // doc
        (
            "S",
            json!({"userAssignedIdentities": null, "type": "None"}),
            false,
            Ok(None, &[]),
        ), // recorded (CLI)
        ("SA", json!({"type": "UserAssigned"}), false, Ok(None, &[A])), // omitted map keeps (contract §8, not recorded)
        // lossy cases: the type is applied as sent
        (
            "SAB",
            json!({"type": "UserAssigned", "userAssignedIdentities": {C: {}}}),
            false,
            Ok(None, &[A, B, C]),
        ), // SA silently dropped
        (
            "SAB",
            json!({"type": "SystemAssigned"}),
            false,
            Ok(Some(true), &[]),
        ), // every UA dropped
        ("SAB", json!({"type": "None"}), false, Ok(None, &[])), // everything dropped
        // refusals
        (
            "A",
            json!({"type": "UserAssigned", "userAssignedIdentities": {A: null}}),
            false,
            Err("InvalidParameter", "identity"),
        ),
        (
            "AB",
            json!({"type": "UserAssigned", "userAssignedIdentities": {A: null, B: null}}),
            false,
            Err("InvalidParameter", "identity"),
        ),
        // PATCH: an empty or null map next to UserAssigned changes nothing in the map (az's `identity remove
        // --identities [system]`); the result must still hold a user-assigned identity
        (
            "SA",
            json!({"type": "UserAssigned", "userAssignedIdentities": {}}),
            false,
            Ok(None, &[A]),
        ),
        (
            "SAB",
            json!({"type": "UserAssigned", "userAssignedIdentities": null}),
            false,
            Ok(None, &[A, B]),
        ),
        (
            "",
            json!({"type": "UserAssigned"}),
            false,
            Err("InvalidParameter", "identity"),
        ),
        (
            "S",
            json!({"type": "UserAssigned", "userAssignedIdentities": null}),
            false,
            Err("InvalidParameter", "identity"),
        ),
        (
            "",
            json!({"type": "Both"}),
            false,
            Err("InvalidParameter", "identity.type"),
        ),
        (
            "A",
            json!({"type": "None", "userAssignedIdentities": {B: {}}}),
            false,
            Err("InvalidParameter", "identity.userAssignedIdentities"),
        ),
        // Flexible scale sets: only UserAssigned or None
        (
            "",
            json!({"type": "SystemAssigned"}),
            true,
            Err("InvalidParameter", "identity"),
        ),
        (
            "A",
            json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {A: {}}}),
            true,
            Err("InvalidParameter", "identity"),
        ),
        (
            "A",
            json!({"type": "UserAssigned", "userAssignedIdentities": {B: {}}}),
            true,
            Ok(None, &[A, B]),
        ),
        ("A", json!({"type": "None"}), true, Ok(None, &[])),
    ];
    for (i, (spec, body, flex, exp)) in rows.into_iter().enumerate() {
        check(i, spec, body, flex, p, exp);
    }
}

#[test]
fn put_replaces_the_identity_set() {
    use Expect::*;
    let m = MergeMode::Put;
    check(
        0,
        "SAB",
        json!({"type": "UserAssigned", "userAssignedIdentities": {B: {}}}),
        false,
        m,
        Ok(None, &[B]),
    );
    check(
        1,
        "SAB",
        json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {C: {}}}),
        false,
        m,
        Ok(Some(true), &[C]),
    );
    check(
        2,
        "",
        json!({"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {A: {}}}),
        false,
        m,
        Ok(Some(false), &[A]),
    );
    check(
        3,
        "A",
        json!({"type": "UserAssigned"}),
        false,
        m,
        Err("InvalidParameter", "identity"),
    );
    // PUT: an empty or null map next to UserAssigned is refused whatever is attached
    check(
        4,
        "A",
        json!({"type": "UserAssigned", "userAssignedIdentities": {}}),
        false,
        m,
        Err("InvalidParameter", "identity"),
    );
    check(
        5,
        "A",
        json!({"type": "UserAssigned", "userAssignedIdentities": null}),
        false,
        m,
        Err("InvalidParameter", "identity"),
    );
}

#[test]
fn flexible_refusal_carries_the_recorded_message() {
    let e = run(
        "",
        json!({"type": "SystemAssigned"}),
        true,
        MergeMode::Patch,
    )
    .unwrap_err();
    // recorded text: azure-cli #27871 (shared/arm/recordings/error-responses.fixtures.yaml)
    assert_eq!(
        e.message,
        "The value 'SystemAssigned' of parameter 'identity' is not allowed. Allowed values are: UserAssigned, None."
    );
    assert_eq!(e.body()["error"]["target"], "identity");
}

#[test]
fn canonical_type_spelling_and_absent_identity() {
    let out = run(
        "",
        json!({"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {A: {}}}),
        false,
        MergeMode::Patch,
    )
    .unwrap();
    let j = out.state.to_json().unwrap();
    assert_eq!(j["type"], "SystemAssigned, UserAssigned");
    assert_eq!(j["userAssignedIdentities"][A], json!({}));
    assert_eq!(j["principalId"], "sa-new-1");
    let none = run("SA", json!({"type": "None"}), false, MergeMode::Patch).unwrap();
    assert!(
        none.state.to_json().is_none(),
        "no identity → ARM omits the key"
    );
    assert_eq!(IdentityState::from_json(None), IdentityState::default());
}
