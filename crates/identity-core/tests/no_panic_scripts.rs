//! The script generators never panic, whatever Unicode arrives in names, ids, locations,
//! principals or warnings (every flavour, every plan kind, snippet-only mode).
#![cfg(not(target_arch = "wasm32"))]

mod fuzz;

use fuzz::{id_text, name, text};
use identity_core::create::{
    AdminAuth, IdentityRequest, ImagePreset, Orchestration, RoleAssignmentSpec, ScaleSetSpec,
    UserAssignedIdentitySpec, VmSpec, create_scale_set, create_user_assigned_identity, create_vm,
    role_assignment,
};
use identity_core::resource::UpgradeMode;
use identity_core::scripts::{
    Cloud, Identities, Intent, Resource, ScriptPlan, SnippetRequest, TargetKind, generate_all,
    snippet_all,
};
use identity_core::{Operation, ResourceState, plan};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const SUB: &str = "11111111-2222-3333-4444-555555555555";

fn valid_spec() -> ScaleSetSpec {
    ScaleSetSpec {
        subscription: SUB.into(),
        resource_group: "rg".into(),
        name: "vmss1".into(),
        location: "westeurope".into(),
        orchestration: Orchestration::Uniform,
        sku: "Standard_B2s".into(),
        capacity: 2,
        image: ImagePreset::UbuntuLts,
        subnet_id: format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
        ),
        admin_username: "azureuser".into(),
        admin_auth: AdminAuth::SshPublicKey("ssh-ed25519 AAAAC3Nza me@host".into()),
        upgrade_mode: UpgradeMode::Manual,
        identity: IdentityRequest {
            system_assigned: true,
            user_assigned: vec![],
        },
    }
}

fn run(sp: &ScriptPlan) {
    for s in generate_all(sp) {
        assert!(!s.text.is_empty(), "{:?}", s.flavour);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn identity_change_scripts(
        (group, nm, etag, principal) in (name(), name(), text(), text()),
        ids in prop::collection::vec(id_text(), 0..3),
        (vm, flag, cloud) in (any::<bool>(), any::<bool>(), 0usize..3),
    ) {
        let ty = if vm { "virtualMachines" } else { "virtualMachineScaleSets" };
        let ua: Map<String, Value> = ids.iter().map(|i| (i.clone(), json!({"principalId": principal}))).collect();
        let body = json!({
            "id": format!("/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.Compute/{ty}/{nm}"),
            "etag": etag,
            "identity": {"type": if ids.is_empty() { "SystemAssigned" } else { "SystemAssigned, UserAssigned" }, "principalId": principal, "userAssignedIdentities": ua},
            "properties": {"upgradePolicy": {"mode": "Manual"}, "virtualMachineProfile": {"extensionProfile": {"extensions": [
                {"name": nm, "properties": {"publisher": "Microsoft.ManagedIdentity", "type": "ManagedIdentityExtensionForLinux"}}]}}},
            "resources": [{"name": nm, "properties": {"publisher": "Microsoft.ManagedIdentity", "type": "ManagedIdentityExtensionForWindows"}}],
        });
        let cloud = Cloud::ALL[cloud];
        if let Ok(st) = ResourceState::from_arm(&body, None) {
            let other: Vec<String> = ids.iter().map(|i| format!("{i}x")).collect();
            for op in [
                Operation::EnableSystemAssigned,
                Operation::RemoveSystemAssigned,
                Operation::AddUserAssigned { ids: other.clone() },
                Operation::RemoveUserAssigned { ids: ids.clone() },
                Operation::RemoveAll,
                Operation::SetExact { system_assigned: flag, user_assigned: other.clone() },
                Operation::RemoveLegacyExtension { upgrade_instances: flag },
                Operation::InstallLegacyExtension,
            ] {
                let p = plan(&st, &op);
                run(&ScriptPlan::from_plan(cloud, &st, &op, &p));
            }
        }
        // the states the caller supplies, with any ids and names
        for kind in TargetKind::ALL {
            let target = Resource::new(SUB, group.clone(), nm.clone(), kind);
            run(&ScriptPlan::identity(cloud, target.clone(),
                Identities { system: flag, user: ids.clone() },
                Identities { system: !flag, user: ids.iter().skip(1).cloned().collect() },
                Some(etag.clone())));
            for intent in [
                Intent::EnableSystem,
                Intent::RemoveSystem,
                Intent::AddUser(ids.clone()),
                Intent::RemoveUser(ids.clone()),
                Intent::RemoveAll,
                Intent::SetExact { system: flag, user: ids.clone() },
            ] {
                for s in snippet_all(&SnippetRequest { cloud, target: target.clone(), intent }) {
                    prop_assert!(!s.text.is_empty());
                }
            }
        }
    }

    #[test]
    fn create_and_grant_scripts(
        (sub, group, nm, location) in (text(), name(), name(), text()),
        (user, secret, scope, principal, role) in (text(), text(), id_text(), text(), text()),
        (ids, flag, cloud) in (prop::collection::vec(id_text(), 0..3), any::<bool>(), 0usize..3),
    ) {
        let cloud = Cloud::ALL[cloud];
        // arbitrary specs (mostly refused), and arbitrary strings next to a valid plan
        let spec = ScaleSetSpec {
            subscription: sub.clone(), resource_group: group.clone(), name: nm.clone(), location: location.clone(),
            admin_username: user.clone(),
            admin_auth: if flag { AdminAuth::Password(secret.clone()) } else { AdminAuth::SshPublicKey(secret.clone()) },
            image: if flag { ImagePreset::WindowsServer } else { ImagePreset::UbuntuLts },
            identity: IdentityRequest { system_assigned: !flag, user_assigned: ids.clone() },
            ..valid_spec()
        };
        run(&ScriptPlan::from_scale_set(cloud, &spec, &create_scale_set(&spec)));
        run(&ScriptPlan::from_scale_set(cloud, &spec, &create_scale_set(&valid_spec())));
        let vm = VmSpec {
            subscription: spec.subscription.clone(), resource_group: spec.resource_group.clone(),
            name: spec.name.clone(), location: spec.location.clone(), size: spec.sku.clone(),
            image: spec.image, subnet_id: spec.subnet_id.clone(),
            admin_username: spec.admin_username.clone(), admin_auth: spec.admin_auth.clone(),
            identity: spec.identity.clone(),
        };
        let valid_vm = VmSpec { name: "vm1".into(), ..vm.clone() };
        run(&ScriptPlan::from_vm(cloud, &vm, &create_vm(&vm)));
        run(&ScriptPlan::from_vm(cloud, &vm, &create_vm(&VmSpec { subscription: SUB.into(), resource_group: "rg".into(), location: "westeurope".into(), admin_username: "azureuser".into(), admin_auth: valid_spec().admin_auth, image: ImagePreset::UbuntuLts, ..valid_vm })));
        let uai = UserAssignedIdentitySpec { subscription: sub.clone(), resource_group: group.clone(), name: nm.clone(), location: location.clone() };
        let valid_uai = UserAssignedIdentitySpec { subscription: SUB.into(), resource_group: "rg".into(), name: "id1".into(), location: "westeurope".into() };
        run(&ScriptPlan::from_user_assigned_identity(cloud, &uai, &create_user_assigned_identity(&uai)));
        run(&ScriptPlan::from_user_assigned_identity(cloud, &uai, &create_user_assigned_identity(&valid_uai)));
        let ra = RoleAssignmentSpec { scope, role_definition: role, principal_id: principal, assignment_name: nm };
        let valid_ra = RoleAssignmentSpec {
            scope: format!("/subscriptions/{SUB}/resourceGroups/rg"),
            role_definition: "acdd72a7-3385-48ef-bd42-f606fba81ae7".into(),
            principal_id: "ed85e730-10c0-4e47-8bbc-5b5190abbf97".into(),
            assignment_name: "3f2504e0-4f89-41d3-9a0c-0305e82c3301".into(),
        };
        run(&ScriptPlan::from_role_assignment(cloud, &ra, &role_assignment(&ra)));
        run(&ScriptPlan::from_role_assignment(cloud, &ra, &role_assignment(&valid_ra)));
    }
}
