#![cfg(not(target_arch = "wasm32"))]
//! The identity page's focused load (`load_identity`) against armsim in-process (virtual clock): for every
//! user-assigned identity it finds exactly the users and role assignments the tenant's full inventory finds, in a
//! few queries; an identity Graph does not return still has its users; a bad id sends nothing; a failure, a 429
//! and a cancel behave as in the inventory's loader (partial, never complete).

use arm_client::inventory::{
    CancelFlag, Completeness, LoadEvent, LoadOptions, Partial, WaitReason, load_identity,
    load_inventory,
};
use arm_client::testing::block_on;
use arm_client::*;
use armsim::tenant::TenantSpec;
use armsim::{Fault, Matcher, Seed, SimRequest};

mod common;

use common::{GraphEnv as Env, T0, graph_env as env};
const ID_WEB: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web";

impl Env {
    fn one(&self, id: &str, events: &mut Vec<LoadEvent>) -> arm_client::inventory::InventoryLoad {
        block_on(load_identity(
            &self.client,
            &self.ids(),
            id,
            &LoadOptions::default(),
            &CancelFlag::new(),
            &mut |e| events.push(e.clone()),
        ))
    }
}

/// Sorted (name, kind, subscription name) of the users of `id` in `inv`.
fn users(inv: &identity_core::inventory::Inventory, id: &str) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = inv
        .users_of(id)
        .iter()
        .map(|r| {
            (
                r.name.clone(),
                r.kind.label().to_string(),
                r.subscription_name.clone(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Sorted (role name, scope, condition) of the role assignments of `principal` in `inv`.
fn roles(
    inv: &identity_core::inventory::Inventory,
    principal: &str,
) -> Vec<(Option<String>, String, Option<String>)> {
    let mut v: Vec<_> = inv
        .assignments_of(principal)
        .iter()
        .map(|a| (a.role_name.clone(), a.scope.clone(), a.condition.clone()))
        .collect();
    v.sort();
    v
}

/// The focused load agrees with the full inventory for every identity of the tenant.
fn agrees_with_the_inventory(seed: Seed) {
    let e = env(seed);
    let full = block_on(load_inventory(
        &e.client,
        &e.ids(),
        &LoadOptions::default(),
        &CancelFlag::new(),
        &mut |_| {},
    ));
    assert!(full.is_complete(), "{:?}", full.completeness);
    let full = full.inventory(&e.subs);
    assert!(!full.identities.is_empty());
    let mut with_roles = 0;
    for ident in &full.identities {
        let before = e.graph_log().len();
        let load = e.one(&ident.id.to_uppercase(), &mut vec![]);
        assert!(load.is_complete(), "{}: {:?}", ident.id, load.completeness);
        let one = load.inventory(&e.subs);
        assert_eq!(
            users(&one, &ident.id),
            users(&full, &ident.id),
            "{}",
            ident.id
        );
        let got = one.identity(&ident.id).expect("the identity's row");
        assert_eq!(
            (
                &got.name,
                &got.client_id,
                &got.principal_id,
                &got.subscription_name
            ),
            (
                &ident.name,
                &ident.client_id,
                &ident.principal_id,
                &ident.subscription_name
            )
        );
        assert_eq!(one.identities.len(), 1);
        let r = roles(&full, &ident.principal_id);
        assert_eq!(roles(&one, &ident.principal_id), r, "{}", ident.id);
        assert!(
            r.iter().all(|(name, ..)| name.is_some()),
            "role names read: {r:?}"
        );
        // only what the page needs: the identity, its users, its principal's assignments, their roles
        assert!(
            one.resources.len() == full.users_of(&ident.id).len()
                && one.role_assignments.len() == r.len()
        );
        with_roles += usize::from(!r.is_empty());
        let sent = e.graph_log().len() - before;
        assert_eq!(sent as u32, load.requests);
        assert!(sent <= 4, "{sent} queries for {}", ident.id);
    }
    assert!(with_roles > 0, "some identity holds a role assignment");
}

#[test]
fn every_demo_identity_has_the_users_and_roles_the_inventory_finds() {
    agrees_with_the_inventory(Seed::demo());
}

#[test]
fn every_identity_of_a_generated_tenant_has_the_users_and_roles_the_inventory_finds() {
    agrees_with_the_inventory(Seed::generate_tenant(&TenantSpec {
        subscriptions: 4,
        scale_sets: 60,
        vms: 20,
        identities: 6,
    }));
}

#[test]
fn id_web_in_the_demo_tenant() {
    let e = env(Seed::demo());
    let mut events = vec![];
    let load = e.one(ID_WEB, &mut events);
    assert!(load.is_complete());
    assert_eq!(
        load.requests, 4,
        "identity, users, role assignments, role definitions"
    );
    let inv = load.inventory(&e.subs);
    assert_eq!(
        users(&inv, ID_WEB),
        [
            (
                "vmss-flex".into(),
                "Flexible".into(),
                "Contoso Production".into()
            ),
            (
                "vmss-web".into(),
                "Uniform".into(),
                "Contoso Production".into()
            ),
        ]
    );
    let p = &inv.identity(ID_WEB).unwrap().principal_id;
    let r = roles(&inv, p);
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(r[0].0.as_deref(), Some("Reader"));
    assert!(r[0].1.ends_with("/resourceGroups/rg-web") && r[0].2.is_none());
    assert_eq!(r[1].0.as_deref(), Some("Storage Blob Data Reader"));
    assert!(
        r[1].2
            .as_deref()
            .unwrap()
            .contains("StringEquals 'web-assets'")
    );
    assert!(events.iter().any(|e| matches!(e, LoadEvent::Page { .. })));
}

#[test]
fn a_deleted_identity_still_has_its_users_and_no_role_query() {
    let e = env(Seed::demo());
    let del = e.sim.sim().handle(
        SimRequest {
            method: "DELETE".into(),
            url: format!("https://management.azure.com{ID_WEB}?api-version=2023-01-31"),
            headers: vec![("Authorization".into(), "Bearer t".into())],
            body: String::new(),
        },
        T0,
    );
    assert!(del.status < 300, "{} {}", del.status, del.body);
    let load = e.one(ID_WEB, &mut vec![]);
    assert!(load.is_complete(), "{:?}", load.completeness);
    assert_eq!(load.requests, 2, "no principal: no role assignment query");
    let inv = load.inventory(&e.subs);
    assert!(inv.identity(ID_WEB).is_none());
    assert_eq!(users(&inv, ID_WEB).len(), 2);
}

#[test]
fn an_id_that_cannot_be_queried_sends_nothing() {
    let e = env(Seed::demo());
    for id in [
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x') or ('",
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
    ] {
        let load = e.one(id, &mut vec![]);
        match &load.completeness {
            Completeness::Partial(p) => assert!(
                matches!(&p[..], [Partial::Failed(err)] if err.kind == ErrorKind::InvalidRequest),
                "{p:?}"
            ),
            c => panic!("{c:?}"),
        }
        assert_eq!(load.requests, 0);
    }
    assert_eq!(e.graph_log().len(), 0);
}

#[test]
fn a_failed_role_query_leaves_the_users_and_says_partial() {
    let e = env(Seed::demo());
    let mut n = 0;
    let load = block_on(load_identity(
        &e.client,
        &e.ids(),
        ID_WEB,
        &LoadOptions::default(),
        &CancelFlag::new(),
        &mut |ev| {
            if let LoadEvent::Page { .. } = ev {
                n += 1;
                if n == 2 {
                    e.sim.sim().inject(Fault::ServerError {
                        count: 1,
                        status: 500,
                        matcher: Matcher::default(),
                    });
                }
            }
        },
    ));
    match &load.completeness {
        Completeness::Partial(p) => assert!(
            matches!(&p[..], [Partial::Failed(err)] if err.status == Some(500)),
            "{p:?}"
        ),
        c => panic!("{c:?}"),
    }
    let inv = load.inventory(&e.subs);
    assert_eq!(users(&inv, ID_WEB).len(), 2);
    assert!(inv.role_assignments.is_empty());
}

#[test]
fn a_429_is_waited_out_and_a_cancel_is_partial() {
    let e = env(Seed::demo());
    e.sim.sim().inject(Fault::Throttle {
        count: 1,
        retry_after_seconds: 3,
        matcher: Matcher::default(),
    });
    let mut events = vec![];
    let load = e.one(ID_WEB, &mut events);
    assert!(load.is_complete(), "{:?}", load.completeness);
    assert_eq!(load.requests, 5);
    assert!(load.waited_ms >= 3_000);
    assert!(events.iter().any(|ev| matches!(
        ev,
        LoadEvent::Waiting {
            reason: WaitReason::Throttled,
            ..
        }
    )));
    let cancel = CancelFlag::new();
    cancel.cancel();
    let load = block_on(load_identity(
        &e.client,
        &e.ids(),
        ID_WEB,
        &LoadOptions::default(),
        &cancel,
        &mut |_| {},
    ));
    assert_eq!(
        load.completeness,
        Completeness::Partial(vec![Partial::Cancelled])
    );
    assert_eq!(load.requests, 0);
}
