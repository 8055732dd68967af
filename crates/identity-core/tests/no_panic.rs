//! No public function of identity-core panics, whatever Unicode arrives in any string field:
//! resource ids, GET bodies (names, tags, extensions, identities), plans, create plans, wizard
//! reducers, routes, validators. (The script generators: `no_panic_scripts.rs`.)
#![cfg(not(target_arch = "wasm32"))]

mod fuzz;

use fuzz::{id_text, json, name, text};
use identity_core::create::{
    AdminAuth, IdentityRequest, ImagePreset, Orchestration, RoleAssignmentSpec, ScaleSetSpec,
    UserAssignedIdentitySpec, VmSpec, create_scale_set, create_user_assigned_identity, create_vm,
    role_assignment,
};
use identity_core::create_wizard::{
    CreateAction, CreateStep, CreateWizard, Field, grant_scopes, search_roles,
};
use identity_core::identity::{IdentityState, IdentityType};
use identity_core::naming::{self, OsType};
use identity_core::plan::{identity_body, request_json};
use identity_core::resource::UpgradeMode;
use identity_core::resource_id::same_id;
use identity_core::route::Route;
use identity_core::wizard::{Candidate, Wizard, WizardAction, WizardKind, diff};
use identity_core::{Operation, ResourceId, ResourceState, plan};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const FIELDS: [Field; 16] = [
    Field::Target,
    Field::Subscription,
    Field::ResourceGroup,
    Field::Name,
    Field::Location,
    Field::Orchestration,
    Field::Image,
    Field::Sku,
    Field::Capacity,
    Field::UpgradeMode,
    Field::SubnetId,
    Field::AdminUsername,
    Field::SshKey,
    Field::Password,
    Field::SystemAssigned,
    Field::NewIdentityName,
];

fn ops(ids: &[String], flag: bool) -> Vec<Operation> {
    vec![
        Operation::EnableSystemAssigned,
        Operation::RemoveSystemAssigned,
        Operation::AddUserAssigned { ids: ids.to_vec() },
        Operation::RemoveUserAssigned { ids: ids.to_vec() },
        Operation::RemoveAll,
        Operation::SetExact {
            system_assigned: flag,
            user_assigned: ids.to_vec(),
        },
        Operation::RemoveLegacyExtension {
            upgrade_instances: flag,
        },
        Operation::InstallLegacyExtension,
    ]
}

/// A GET body shaped like ARM's (or az's flattened one), every string arbitrary.
#[derive(Debug, Clone)]
struct Get {
    sub: String,
    group: String,
    name: String,
    vm: bool,
    flat: bool,
    mode: String,
    upgrade: String,
    os: String,
    location: String,
    etag: String,
    tags: Vec<(String, String)>,
    ext_name: String,
    ext_type: String,
    ident_type: String,
    ua: Vec<(String, bool)>,
    principal: String,
    extra: Value,
}

fn get() -> impl Strategy<Value = Get> {
    (
        (name(), name(), name(), any::<bool>(), any::<bool>()),
        (
            prop_oneof![Just("Uniform".to_string()), Just("flexible".into()), text()],
            prop_oneof![Just("Manual".to_string()), text()],
            prop_oneof![Just("Linux".to_string()), text()],
            text(),
            text(),
        ),
        prop::collection::vec((text(), text()), 0..4),
        (
            text(),
            prop_oneof![Just("ManagedIdentityExtensionForLinux".to_string()), text()],
        ),
        (
            prop_oneof![
                Just("SystemAssigned, UserAssigned".to_string()),
                Just("UserAssigned".into()),
                text()
            ],
            prop::collection::vec((id_text(), any::<bool>()), 0..4),
            text(),
        ),
        json(),
    )
        .prop_map(
            |(
                (sub, group, name, vm, flat),
                (mode, upgrade, os, location, etag),
                tags,
                (ext_name, ext_type),
                (ident_type, ua, principal),
                extra,
            )| Get {
                sub,
                group,
                name,
                vm,
                flat,
                mode,
                upgrade,
                os,
                location,
                etag,
                tags,
                ext_name,
                ext_type,
                ident_type,
                ua,
                principal,
                extra,
            },
        )
}

fn body_of(g: &Get) -> Value {
    let ty = if g.vm {
        "virtualMachines"
    } else {
        "virtualMachineScaleSets"
    };
    let id = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/{ty}/{}",
        g.sub, g.group, g.name
    );
    let ext = json!({"name": g.ext_name, "properties": {"publisher": "Microsoft.ManagedIdentity", "type": g.ext_type}});
    let mut props = json!({
        "orchestrationMode": g.mode,
        "upgradePolicy": {"mode": g.upgrade},
        "provisioningState": g.location,
        "storageProfile": {"osDisk": {"osType": g.os}},
        "virtualMachineProfile": {"storageProfile": {"osDisk": {"osType": g.os}},
            "extensionProfile": {"extensions": [ext.clone(), g.extra]}},
    });
    let ua: Map<String, Value> =
        g.ua.iter()
            .map(|(k, obj)| {
                (
                    k.clone(),
                    if *obj {
                        json!({"principalId": g.principal, "clientId": g.principal})
                    } else {
                        Value::Null
                    },
                )
            })
            .collect();
    let tags: Map<String, Value> = g.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let mut body = json!({
        "id": id, "name": g.name, "location": g.location, "etag": g.etag, "tags": tags,
        "identity": {"type": g.ident_type, "principalId": g.principal, "tenantId": g.principal, "userAssignedIdentities": ua},
        "resources": [ext],
    });
    if g.flat {
        if let (Some(b), Some(p)) = (body.as_object_mut(), props.as_object_mut()) {
            b.append(p);
        }
    } else {
        body["properties"] = props;
    }
    body
}

fn exercise_state(st: &ResourceState, ids: &[String], flag: bool, filter: &str) {
    let _ = st.id.kind();
    let _ = (st.id.name(), st.id.resource_type(), st.id.key());
    for op in ops(ids, flag) {
        let p = plan(st, &op);
        let _ = p.to_cli_json();
        for r in p.requests() {
            let _ = (request_json(r), r.path_and_query());
        }
        let _ = diff(&p.before, &p.after);
    }
    let cands: Vec<Candidate> = ids.iter().map(|i| Candidate::from_id(i)).collect();
    for k in WizardKind::ALL {
        let _ = (k.unavailable(st), k.title(), k.slug());
        let mut w = Wizard::new(k);
        for a in [
            WizardAction::SetFilter(filter.to_string()),
            WizardAction::Review,
        ]
        .into_iter()
        .chain(ids.iter().map(|i| WizardAction::Toggle(i.clone())))
        .chain([
            WizardAction::SetUpgradeInstances(flag),
            WizardAction::Review,
            WizardAction::Back,
            WizardAction::Review,
        ]) {
            w = w.reduce(a);
            let _ = w.choices(st, &cands);
            if let Ok(op) = w.operation() {
                let _ = plan(st, &op);
            }
        }
    }
    let _ = identity_body(&st.identity, flag, ids);
    let _ = IdentityState::from_arm(None);
    let _ = st.identity.same_identities(&IdentityState::none());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn resource_ids_and_routes(s in id_text(), t in text(), q in text()) {
        if let Ok(id) = ResourceId::parse(&s) {
            let _ = (id.kind(), id.name(), id.subscription(), id.resource_group(), id.namespace(), id.resource_type(), id.key(), id.to_string());
            let c = id.child(&t, &q);
            let _ = (c.kind(), c.name());
        }
        let _ = same_id(&s, &t);
        let _ = Candidate::from_id(&s);
        let _ = grant_scopes(&s);
        for path in [s.clone(), format!("/{t}"), format!("/subscriptions/{t}/resourceGroups/{q}"), format!("/snippets/{t}")] {
            let r = Route::parse(&path, &q);
            let _ = (r.path(), r.query(), r.href());
        }
        let _ = (IdentityType::parse(&t), UpgradeMode::parse(&t), identity_core::clouds::by_name(&t));
        let _ = identity_core::request::encode_query_component(&t);
        let _ = WizardKind::from_slug(&t);
        let _ = (naming::validate_scale_set_name(&t, OsType::Windows), naming::validate_vm_name(&t, OsType::Linux),
            naming::validate_user_assigned_identity_name(&t), naming::validate_resource_group_name(&t),
            naming::validate_guid("x", &t));
        let _ = (identity_core::create::validate_admin_username(&t, OsType::Windows),
            identity_core::create::validate_admin_password(&t, OsType::Linux));
    }

    #[test]
    fn get_bodies_plans_and_wizards(g in get(), ids in prop::collection::vec(id_text(), 0..3), flag in any::<bool>(), filter in text()) {
        let body = body_of(&g);
        let rid = body["id"].as_str().map(str::to_string);
        for (b, id) in [(&body, None), (&body, rid.as_deref()), (&g.extra, rid.as_deref()), (&g.extra, None)] {
            if let Ok(st) = ResourceState::from_arm(b, id) {
                exercise_state(&st, &ids, flag, &filter);
            }
        }
        // the identity alone, from the generated JSON too
        let _ = IdentityState::read_arm(Some(&g.extra));
        let _ = IdentityState::read_arm(body.get("identity"));
    }

    #[test]
    fn create_plans(
        (sub, group, nm, location, sku) in (text(), name(), name(), text(), text()),
        (subnet, user, secret, ident) in (id_text(), text(), text(), prop::collection::vec(id_text(), 0..3)),
        (scope, role, principal, guid) in (id_text(), text(), text(), text()),
        (flex, win, ssh, sa, cap) in (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), any::<u32>()),
    ) {
        let spec = ScaleSetSpec {
            subscription: sub.clone(), resource_group: group.clone(), name: nm.clone(), location: location.clone(),
            orchestration: if flex { Orchestration::Flexible } else { Orchestration::Uniform },
            sku, capacity: cap, image: if win { ImagePreset::WindowsServer } else { ImagePreset::UbuntuLts },
            subnet_id: subnet, admin_username: user,
            admin_auth: if ssh { AdminAuth::SshPublicKey(secret) } else { AdminAuth::Password(secret) },
            upgrade_mode: UpgradeMode::Manual,
            identity: IdentityRequest { system_assigned: sa, user_assigned: ident },
        };
        let _ = spec.validate();
        let _ = spec.body();
        let _ = create_scale_set(&spec).to_cli_json();
        let vm = VmSpec {
            subscription: spec.subscription.clone(), resource_group: spec.resource_group.clone(),
            name: spec.name.clone(), location: spec.location.clone(), size: spec.sku.clone(),
            image: spec.image, subnet_id: spec.subnet_id.clone(),
            admin_username: spec.admin_username.clone(), admin_auth: spec.admin_auth.clone(),
            identity: spec.identity.clone(),
        };
        let _ = vm.validate();
        let _ = vm.body();
        let _ = create_vm(&vm).to_cli_json();
        let _ = create_user_assigned_identity(&UserAssignedIdentitySpec { subscription: sub, resource_group: group, name: nm, location }).to_cli_json();
        let _ = role_assignment(&RoleAssignmentSpec { scope, role_definition: role, principal_id: principal, assignment_name: guid }).to_cli_json();
    }

    #[test]
    fn create_wizard_reducer(actions in prop::collection::vec((0usize..21, text()), 0..24), roles in prop::collection::vec((text(), text()), 0..4), q in text()) {
        let mut w = CreateWizard::default();
        for (k, v) in actions {
            let a = match k {
                0..=15 => CreateAction::Set(FIELDS[k], v),
                16 => CreateAction::ToggleUserAssigned(v),
                17 => CreateAction::Next,
                18 => CreateAction::Back,
                _ => CreateAction::GoTo(CreateStep::ALL[v.len() % CreateStep::ALL.len()]),
            };
            w = w.reduce(a);
            for f in FIELDS {
                let _ = (w.check(f), w.error(f));
            }
            let _ = (w.spec(), w.vm_spec(), w.new_identity(), w.os());
            let r = w.review();
            let _ = (r.refusal(), r.resource_plan());
        }
        let r: Vec<(&str, &str)> = roles.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let _ = search_roles(&r, &q);
    }
}

#[test]
fn from_arm_reads_unicode_names_azure_allows() {
    // resource group names may hold Unicode letters; these panicked when sliced by bytes
    for g in ["grüppe", "日本-rg", "MC日本", "MC_grüppe_aks_westeurope"] {
        let body = json!({
            "id": format!("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss1"),
            "tags": {"aks-managedü": "x", "日本語": "y"},
        });
        let st = ResourceState::from_arm(&body, None).unwrap();
        assert_eq!(st.id.resource_group(), Some(g));
        assert_eq!(st.aks_managed, g.starts_with("MC_"));
        let p = plan(&st, &Operation::EnableSystemAssigned);
        assert_eq!(p.requests()[0].path, body["id"].as_str().unwrap());
    }
}
