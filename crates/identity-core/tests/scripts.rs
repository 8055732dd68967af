//! Scripts: every scenario × target kind × flavour — snapshots, parse + bind checks on every
//! PowerShell script, bash syntax and argument round trips, and exact-body equivalence.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use identity_core::create::{
    AdminAuth, IdentityRequest, ImagePreset, Orchestration, RoleAssignmentSpec, ScaleSetSpec,
    UserAssignedIdentitySpec, VmSpec, create_scale_set, create_user_assigned_identity, create_vm,
    role_assignment,
};
use identity_core::operation::Operation;
use identity_core::plan::plan;
use identity_core::resource::ResourceState;
use identity_core::resource::UpgradeMode;
use identity_core::role_cleanup::RoleAssignmentDeletion;
use identity_core::scripts::*;
use serde_json::Value;
use serde_json::json;
use support::*;

const SUB: &str = "00000000-0000-0000-0000-000000000000";

fn ua(n: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}"
    )
}

fn states() -> Vec<(&'static str, Identities)> {
    vec![
        ("none", Identities::default()),
        (
            "sa",
            Identities {
                system: true,
                user: vec![],
            },
        ),
        (
            "ua1",
            Identities {
                system: false,
                user: vec![ua("id1")],
            },
        ),
        (
            "ua2",
            Identities {
                system: false,
                user: vec![ua("id1"), ua("id2")],
            },
        ),
        (
            "sa_ua2",
            Identities {
                system: true,
                user: vec![ua("id1"), ua("id2")],
            },
        ),
    ]
}

/// The matrix operations, as the plans module takes them.
fn ops() -> Vec<(&'static str, Operation)> {
    vec![
        ("enable_sa", Operation::EnableSystemAssigned),
        ("remove_sa", Operation::RemoveSystemAssigned),
        (
            "add_ua",
            Operation::AddUserAssigned {
                ids: vec![ua("id3")],
            },
        ),
        (
            "add_existing_ua",
            Operation::AddUserAssigned {
                ids: vec![ua("id1")],
            },
        ),
        (
            "remove_ua",
            Operation::RemoveUserAssigned {
                ids: vec![ua("id1")],
            },
        ),
        (
            "remove_missing_ua",
            Operation::RemoveUserAssigned {
                ids: vec![ua("id9")],
            },
        ),
        ("remove_all", Operation::RemoveAll),
    ]
}

fn kind_slug(k: TargetKind) -> &'static str {
    match k {
        TargetKind::ScaleSetUniform => "uniform",
        TargetKind::ScaleSetFlexible => "flexible",
        TargetKind::Vm => "vm",
    }
}

fn target(k: TargetKind) -> Resource {
    Resource::new(
        SUB,
        "myResourceGroup",
        if k.is_vm() { "myVM" } else { "myVmss" },
        k,
    )
}

/// An ARM GET body for a state (read-only values included, as Azure returns them).
fn get_body(k: TargetKind, s: &Identities, manual: bool, legacy_extension: bool) -> Value {
    let mut body = json!({"id": target(k).path(), "name": target(k).name, "location": "westus2", "etag": "\"4\""});
    if !k.is_vm() {
        body["properties"] = json!({
            "orchestrationMode": if k == TargetKind::ScaleSetFlexible { "Flexible" } else { "Uniform" },
            "upgradePolicy": {"mode": if manual { "Manual" } else { "Automatic" }},
        });
    } else {
        body["properties"] = json!({});
    }
    if s.system || !s.user.is_empty() {
        let mut id = json!({"type": s.arm_type()});
        if s.system {
            id["principalId"] = json!("aaaaaaaa-0000-0000-0000-000000000001");
            id["tenantId"] = json!("tttttttt-0000-0000-0000-000000000001");
        }
        if !s.user.is_empty() {
            let m: serde_json::Map<String, Value> = s
                .user
                .iter()
                .map(|u| (u.clone(), json!({"principalId": "p", "clientId": "c"})))
                .collect();
            id["userAssignedIdentities"] = Value::Object(m);
        }
        body["identity"] = id;
    }
    if legacy_extension {
        let ext = json!([{"name": "ManagedIdentityExtensionForWindows", "properties": {"publisher": "Microsoft.ManagedIdentity", "type": "ManagedIdentityExtensionForWindows", "typeHandlerVersion": "1.0", "settings": {"port": 50342}}}]);
        if k.is_vm() {
            body["resources"] = ext;
        } else {
            body["properties"]["virtualMachineProfile"] =
                json!({"extensionProfile": {"extensions": ext}});
        }
    }
    body
}

fn from_plans(
    cloud: Cloud,
    k: TargetKind,
    s: &Identities,
    op: &Operation,
    manual: bool,
    ext: bool,
) -> ScriptPlan {
    let st = ResourceState::from_arm(&get_body(k, s, manual, ext), None).unwrap();
    let p = plan(&st, op);
    ScriptPlan::from_plan(cloud, &st, op, &p)
}

fn matrix() -> Vec<(String, ScriptPlan)> {
    let mut out = Vec::new();
    for k in TargetKind::ALL {
        for (sn, s) in states() {
            if k == TargetKind::ScaleSetFlexible && s.system {
                continue; // a Flexible scale set cannot hold a system-assigned identity
            }
            for (on, op) in ops() {
                out.push((
                    format!("{}__{sn}__{on}", kind_slug(k)),
                    from_plans(Cloud::AzureCloud, k, &s, &op, false, false),
                ));
            }
        }
    }
    out
}

fn extras() -> Vec<(String, ScriptPlan)> {
    let mut out = Vec::new();
    let s = Identities {
        system: true,
        user: vec![ua("id1"), ua("id2")],
    };
    let op = Operation::SetExact {
        system_assigned: false,
        user_assigned: vec![ua("id2"), ua("id3")],
    };
    out.push((
        "uniform__sa_ua2__set_exact".into(),
        from_plans(
            Cloud::AzureCloud,
            TargetKind::ScaleSetUniform,
            &s,
            &op,
            false,
            false,
        ),
    ));
    out.push((
        "vm__sa_ua2__set_exact".into(),
        from_plans(Cloud::AzureCloud, TargetKind::Vm, &s, &op, false, false),
    ));
    for cloud in [Cloud::AzureUSGovernment, Cloud::AzureChinaCloud] {
        let op = Operation::RemoveUserAssigned {
            ids: vec![ua("id1")],
        };
        out.push((
            format!("uniform__sa_ua2__remove_ua__{}", cloud.name()),
            from_plans(cloud, TargetKind::ScaleSetUniform, &s, &op, true, false),
        ));
    }
    let spec = UserAssignedIdentitySpec {
        subscription: SUB.into(),
        resource_group: "myResourceGroup".into(),
        name: "myUAI".into(),
        location: "westus2".into(),
    };
    out.push((
        "create_user_assigned".into(),
        ScriptPlan::from_user_assigned_identity(
            Cloud::AzureCloud,
            &spec,
            &create_user_assigned_identity(&spec),
        ),
    ));
    let spec = RoleAssignmentSpec {
        scope: format!("/subscriptions/{SUB}/resourceGroups/myResourceGroup"),
        role_definition: "acdd72a7-3385-48ef-bd42-f606fba81ae7".into(),
        principal_id: "11111111-2222-3333-4444-555555555555".into(),
        assignment_name: "99999999-8888-7777-6666-555555555555".into(),
    };
    out.push((
        "role_assignment".into(),
        ScriptPlan::from_role_assignment(Cloud::AzureCloud, &spec, &role_assignment(&spec)),
    ));
    let ext_op = Operation::RemoveLegacyExtension {
        upgrade_instances: true,
    };
    for (k, manual) in [
        (TargetKind::ScaleSetUniform, true),
        (TargetKind::ScaleSetUniform, false),
        (TargetKind::Vm, false),
    ] {
        let name = format!(
            "remove_extension__{}{}",
            kind_slug(k),
            if manual { "__manual" } else { "" }
        );
        out.push((
            name,
            from_plans(
                Cloud::AzureCloud,
                k,
                &Identities::default(),
                &ext_op,
                manual,
                true,
            ),
        ));
    }
    for (name, spec) in scale_set_specs() {
        let p = create_scale_set(&spec);
        out.push((
            name.to_string(),
            ScriptPlan::from_scale_set(Cloud::AzureCloud, &spec, &p),
        ));
    }
    for (name, spec) in vm_specs() {
        let p = create_vm(&spec);
        out.push((
            name.to_string(),
            ScriptPlan::from_vm(Cloud::AzureCloud, &spec, &p),
        ));
    }
    out.extend(cleanup_plans());
    out.push((
        "uniform__install_extension".into(),
        from_plans(
            Cloud::AzureCloud,
            TargetKind::ScaleSetUniform,
            &Identities::default(),
            &Operation::InstallLegacyExtension,
            false,
            false,
        ),
    ));
    out
}

const SA_PRINCIPAL: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const UA_PRINCIPAL: &str = "bbbbbbbb-0000-4000-8000-000000000001";

/// A role assignment of `principal` to delete with the change (removal without orphans).
fn deletion(
    n: u32,
    principal: &str,
    role: (&str, &str),
    scope: &str,
    condition: bool,
) -> RoleAssignmentDeletion {
    RoleAssignmentDeletion::new(
        &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/cccccccc-0000-4000-8000-{n:012}"),
        principal,
        &format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{}", role.1),
        Some(role.0.into()),
        scope,
        condition.then(|| "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'logs'))".into()),
    )
    .unwrap()
}

const READER: (&str, &str) = ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7");
const BLOB_READER: (&str, &str) = (
    "Storage Blob Data Reader",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
);

/// Removals that delete the removed principal's role assignments after the change: the system-assigned
/// identity (Uniform, VM) and a user-assigned identity leaving its last user (one stays: the Az cmdlet falls
/// back to the exact PATCH and AzureRM cannot express it; none stays on a VM).
fn cleanup_plans() -> Vec<(String, ScriptPlan)> {
    let group = format!("/subscriptions/{SUB}/resourceGroups/myResourceGroup");
    let sub = format!("/subscriptions/{SUB}");
    let sa_dels = vec![
        deletion(1, SA_PRINCIPAL, READER, &sub, false),
        deletion(2, SA_PRINCIPAL, BLOB_READER, &group, true),
    ];
    let mut out = vec![];
    for (name, k, s) in [
        (
            "uniform__sa__remove_sa__cleanup",
            TargetKind::ScaleSetUniform,
            Identities {
                system: true,
                user: vec![],
            },
        ),
        (
            "vm__sa_ua2__remove_sa__cleanup",
            TargetKind::Vm,
            Identities {
                system: true,
                user: vec![ua("id1"), ua("id2")],
            },
        ),
    ] {
        let st = ResourceState::from_arm(&get_body(k, &s, false, false), None).unwrap();
        let op = Operation::RemoveSystemAssigned;
        let p = plan(&st, &op).with_role_assignment_deletions(&sa_dels);
        assert_eq!(p.role_assignment_deletions.len(), 2, "{name}");
        out.push((
            name.to_string(),
            ScriptPlan::from_plan(Cloud::AzureCloud, &st, &op, &p),
        ));
    }
    for (name, k, users) in [
        (
            "uniform__ua2__remove_ua__last_user_cleanup",
            TargetKind::ScaleSetUniform,
            vec![ua("id1"), ua("id2")],
        ),
        (
            "vm__ua1__remove_ua__last_user_cleanup",
            TargetKind::Vm,
            vec![ua("id1")],
        ),
    ] {
        let s = Identities {
            system: false,
            user: users,
        };
        let mut body = get_body(k, &s, false, false);
        body["identity"]["userAssignedIdentities"][ua("id1")]["principalId"] = json!(UA_PRINCIPAL);
        let st = ResourceState::from_arm(&body, None).unwrap();
        let op = Operation::RemoveUserAssigned {
            ids: vec![ua("id1")],
        };
        let p = plan(&st, &op).with_role_assignment_deletions(&[deletion(
            3,
            UA_PRINCIPAL,
            READER,
            &group,
            false,
        )]);
        assert_eq!(p.role_assignment_deletions.len(), 1, "{name}");
        out.push((
            name.to_string(),
            ScriptPlan::from_plan(Cloud::AzureCloud, &st, &op, &p),
        ));
    }
    out
}

/// Every flavour deletes the removed principal's role assignments, each once, after the identity change and only
/// then: the exact flavours send `DELETE {id}?api-version=2022-04-01`, the cmdlets bind
/// `Remove-AzRoleAssignment -ObjectId -RoleDefinitionId -Scope`, the Azure CLI `az role assignment delete --ids`;
/// a flavour that cannot make the change (AzureRM) deletes nothing.
#[test]
fn role_assignment_deletions_follow_the_change_in_every_flavour() {
    for (name, sp) in cleanup_plans() {
        let change_marker = |f: Flavour| -> &'static str {
            match f {
                // one user-assigned identity stays on a scale set: the Az cmdlet falls back to the exact PATCH
                Flavour::AzPowerShell if name.starts_with("uniform__ua2") => "-Method Patch",
                Flavour::AzPowerShell | Flavour::AzureRm => "Update-Az",
                Flavour::AzPowerShellExact => "-Method Patch",
                Flavour::CliBash | Flavour::CliPowerShell => " identity remove ",
                Flavour::CliRestBash | Flavour::CliRestPowerShell => "az rest --method patch",
            }
        };
        for s in generate_all(&sp) {
            let t = &s.text;
            let code: Vec<&str> = t
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .collect();
            let code = code.join("\n");
            let deletes: Vec<usize> = sp
                .role_assignment_deletions
                .iter()
                .filter_map(|d| {
                    let needle = match s.flavour {
                        Flavour::AzPowerShell | Flavour::AzureRm => {
                            format!("-RoleDefinitionId '{}' -Scope '{}'", d.role_guid(), d.scope)
                        }
                        Flavour::CliBash | Flavour::CliPowerShell => {
                            format!("az role assignment delete --ids '{}'", d.id)
                        }
                        _ => format!("{}?api-version=2022-04-01", d.id),
                    };
                    assert!(
                        code.matches(&needle).count() <= 1,
                        "{name} {:?}: {needle} twice",
                        s.flavour
                    );
                    code.find(&needle)
                })
                .collect();
            if name.starts_with("uniform__ua2") && s.flavour == Flavour::AzureRm {
                assert!(
                    deletes.is_empty(),
                    "{name}: AzureRM makes no change, so deletes nothing\n{t}"
                );
                assert!(!code.contains("RoleAssignment"), "{name}\n{t}");
                continue;
            }
            assert_eq!(
                deletes.len(),
                sp.role_assignment_deletions.len(),
                "{name} {:?}\n{t}",
                s.flavour
            );
            let change = code
                .find(change_marker(s.flavour))
                .unwrap_or_else(|| panic!("{name} {:?}: no change\n{t}", s.flavour));
            assert!(
                deletes.iter().all(|&d| d > change),
                "{name} {:?}: a deletion before the change\n{t}",
                s.flavour
            );
            match s.flavour {
                Flavour::AzPowerShell => assert!(
                    code.contains("Remove-AzRoleAssignment -ObjectId '"),
                    "{name}"
                ),
                Flavour::AzureRm => assert!(
                    code.contains("Remove-AzureRmRoleAssignment -ObjectId '"),
                    "{name}"
                ),
                _ => {}
            }
            assert!(
                t.contains("Then, only once the identity change succeeded"),
                "{name} {:?}",
                s.flavour
            );
        }
    }
}

/// A plan whose change sends nothing (refused, no-op) carries no deletion into its scripts.
#[test]
fn a_plan_that_sends_nothing_deletes_nothing() {
    let s = Identities::default();
    let st = ResourceState::from_arm(&get_body(TargetKind::Vm, &s, false, false), None).unwrap();
    let op = Operation::RemoveSystemAssigned;
    let p = plan(&st, &op).with_role_assignment_deletions(&[deletion(
        1,
        SA_PRINCIPAL,
        READER,
        &format!("/subscriptions/{SUB}"),
        false,
    )]);
    let sp = ScriptPlan::from_plan(Cloud::AzureCloud, &st, &op, &p);
    assert!(sp.role_assignment_deletions.is_empty());
    for sc in generate_all(&sp) {
        assert!(
            !sc.text.contains("roleAssignments") && !sc.text.contains("RoleAssignment"),
            "{:?}",
            sc.flavour
        );
    }
}

const TEST_PASSWORD: &str = "P@ss 'w\"o$r`d\\;é12";

fn scale_set_specs() -> Vec<(&'static str, ScaleSetSpec)> {
    let base = ScaleSetSpec {
        subscription: SUB.into(),
        resource_group: "myResourceGroup".into(),
        name: "myVmss".into(),
        location: "westus2".into(),
        orchestration: Orchestration::Uniform,
        sku: "Standard_D2s_v3".into(),
        capacity: 2,
        image: ImagePreset::UbuntuLts,
        subnet_id: format!(
            "/subscriptions/{SUB}/resourceGroups/myResourceGroup/providers/Microsoft.Network/virtualNetworks/myVnet/subnets/default"
        ),
        admin_username: "azureuser".into(),
        admin_auth: AdminAuth::SshPublicKey(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3x me@host".into(),
        ),
        upgrade_mode: UpgradeMode::Manual,
        identity: IdentityRequest {
            system_assigned: true,
            user_assigned: vec![ua("id1")],
        },
    };
    vec![
        ("create_scale_set__uniform_linux_sa_ua", base.clone()),
        (
            "create_scale_set__uniform_windows_password",
            ScaleSetSpec {
                image: ImagePreset::WindowsServer,
                admin_username: "azureadmin".into(),
                admin_auth: AdminAuth::Password(TEST_PASSWORD.into()),
                identity: IdentityRequest {
                    system_assigned: true,
                    user_assigned: vec![],
                },
                ..base.clone()
            },
        ),
        (
            "create_scale_set__flexible_ua",
            ScaleSetSpec {
                orchestration: Orchestration::Flexible,
                identity: IdentityRequest {
                    system_assigned: false,
                    user_assigned: vec![ua("id1")],
                },
                ..base.clone()
            },
        ),
        (
            "create_scale_set__flexible_sa_refused",
            ScaleSetSpec {
                orchestration: Orchestration::Flexible,
                ..base
            },
        ),
    ]
}

fn vm_specs() -> Vec<(&'static str, VmSpec)> {
    let base = VmSpec {
        subscription: SUB.into(),
        resource_group: "myResourceGroup".into(),
        name: "myVm".into(),
        location: "westus2".into(),
        size: "Standard_D2s_v3".into(),
        image: ImagePreset::UbuntuLts,
        subnet_id: format!(
            "/subscriptions/{SUB}/resourceGroups/myResourceGroup/providers/Microsoft.Network/virtualNetworks/myVnet/subnets/default"
        ),
        admin_username: "azureuser".into(),
        admin_auth: AdminAuth::SshPublicKey(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3x me@host".into(),
        ),
        identity: IdentityRequest {
            system_assigned: true,
            user_assigned: vec![ua("id1")],
        },
    };
    vec![
        ("create_vm__linux_sa_ua", base.clone()),
        (
            "create_vm__windows_password_sa",
            VmSpec {
                image: ImagePreset::WindowsServer,
                admin_username: "azureadmin".into(),
                admin_auth: AdminAuth::Password(TEST_PASSWORD.into()),
                identity: IdentityRequest {
                    system_assigned: true,
                    user_assigned: vec![],
                },
                ..base.clone()
            },
        ),
        (
            "create_vm__linux_ua_only",
            VmSpec {
                identity: IdentityRequest {
                    system_assigned: false,
                    user_assigned: vec![ua("id1"), ua("id2")],
                },
                ..base.clone()
            },
        ),
        (
            "create_vm__windows_name_too_long_refused",
            VmSpec {
                name: "myWindowsVmName1".into(),
                image: ImagePreset::WindowsServer,
                admin_auth: AdminAuth::Password(TEST_PASSWORD.into()),
                ..base
            },
        ),
    ]
}

fn all_plans() -> Vec<(String, ScriptPlan)> {
    let mut v = matrix();
    v.extend(extras());
    v
}

fn check_powershell(name: &str, f: Flavour, text: &str, cat: &Catalogue) {
    let errs = syntax_errors(text);
    assert!(
        errs.is_empty(),
        "{name} {f:?}: syntax errors {errs:?}\n{text}"
    );
    if let Err(e) = cat.check_script(text) {
        panic!("{name} {f:?}: {e}\n{text}");
    }
    if let Err(e) = full_names_only(cat, text) {
        panic!("{name} {f:?}: {e}");
    }
    let undef = undefined_variables(text);
    assert!(
        undef.is_empty(),
        "{name} {f:?}: undefined variables {undef:?}\n{text}"
    );
    assert!(
        !text.lines().any(|l| l.trim_end().ends_with('`')),
        "{name}: line continuation"
    );
}

#[test]
fn every_powershell_script_parses_binds_and_defines_its_variables() {
    let (az, rm) = (Catalogue::az(), Catalogue::azurerm());
    let mut n = 0;
    for (name, plan) in all_plans() {
        for s in generate_all(&plan) {
            if s.language == Language::PowerShell {
                check_powershell(
                    &name,
                    s.flavour,
                    &s.text,
                    if s.flavour == Flavour::AzureRm {
                        &rm
                    } else {
                        &az
                    },
                );
                n += 1;
            }
        }
    }
    assert!(n > 400, "{n}");
}

#[test]
fn snapshots_of_every_scenario_kind_and_flavour() {
    for (name, plan) in all_plans() {
        let mut doc = String::new();
        for s in generate_all(&plan) {
            doc.push_str(&format!("===== {} =====\n{}\n", s.flavour.slug(), s.text));
        }
        insta::assert_snapshot!(name, doc);
    }
}

#[test]
fn snippet_scripts_parse_bind_and_snapshot() {
    let az = Catalogue::az();
    for k in TargetKind::ALL {
        for (iname, intent) in [
            ("enable_sa", Intent::EnableSystem),
            ("remove_sa", Intent::RemoveSystem),
            ("add_ua", Intent::AddUser(vec![ua("id3")])),
            ("remove_ua", Intent::RemoveUser(vec![ua("id1")])),
            ("remove_all", Intent::RemoveAll),
            (
                "set_exact",
                Intent::SetExact {
                    system: false,
                    user: vec![ua("id2"), ua("id3")],
                },
            ),
            (
                "set_exact_sa",
                Intent::SetExact {
                    system: true,
                    user: vec![],
                },
            ),
        ] {
            let req = SnippetRequest {
                cloud: Cloud::AzureUSGovernment,
                target: target(k),
                intent,
            };
            let mut doc = String::new();
            for s in snippet_all(&req) {
                if s.language == Language::PowerShell {
                    check_powershell(iname, s.flavour, &s.text, &az);
                } else {
                    bash_syntax_ok(&s.text);
                }
                doc.push_str(&format!("===== {} =====\n{}\n", s.flavour.slug(), s.text));
            }
            insta::assert_snapshot!(format!("snippet__{}__{iname}", kind_slug(k)), doc);
        }
    }
}

/// The bound parameter sets say what the cmdlet will do: the identity cmdlets bind to the explicit-identity set.
#[test]
fn identity_cmdlets_bind_to_the_explicit_identity_set_with_enum_names() {
    let az = Catalogue::az();
    for (name, plan) in matrix() {
        if !matches!(plan.outcome, Outcome::Requests(_)) {
            continue;
        }
        let s = generate(&plan, Flavour::AzPowerShell);
        let bound = az.check_script(&s.text).unwrap();
        for (cmd, set) in bound {
            if cmd.starts_with("Update-Az") {
                assert_eq!(set, "ExplicitIdentityParameterSet", "{name}");
            }
        }
        assert!(
            !s.text.contains("'SystemAssigned, UserAssigned'") || s.text.contains("Invoke-"),
            "{name}: ARM string given to -IdentityType"
        );
    }
}

/// A script that cannot express a change losslessly says so and carries the exact form.
#[test]
fn lossy_cases_fall_back_to_the_exact_form() {
    for (name, plan) in matrix() {
        let Change::Identity {
            target,
            before,
            after,
        } = &plan.change
        else {
            continue;
        };
        let Outcome::Requests(_) = &plan.outcome else {
            continue;
        };
        let s = generate(&plan, Flavour::AzPowerShell).text;
        let partial_removal = !removed_users(before, after).is_empty() && !after.user.is_empty();
        if partial_removal && !target.kind.is_vm() {
            assert!(
                s.contains("No cmdlet can express this change losslessly"),
                "{name}"
            );
            assert!(s.contains("Invoke-RestMethod"), "{name}"); // plan has If-Match
            assert!(
                !s.lines()
                    .any(|l| l.trim_start().starts_with("Update-AzVmss")),
                "{name}"
            );
        } else {
            assert!(s.contains("Update-Az"), "{name}");
            // the keep-list is exactly the after set
            let ids = assignments(&s, "identityIds");
            assert!(ids.is_empty()); // arrays are not single literals
            for u in &after.user {
                assert!(
                    s.contains(&identity_core::scripts::quote::ps_single(u)),
                    "{name}: {u} not kept"
                );
            }
            for u in removed_users(before, after) {
                assert!(
                    !s.contains(&identity_core::scripts::quote::ps_single(&u)),
                    "{name}: {u} still listed"
                );
            }
        }
    }
}

/// Equivalence: the body in the exact forms parses back to the plan's body.
#[test]
fn exact_forms_carry_the_plans_body_and_headers() {
    for (name, plan) in all_plans() {
        // the change's requests, then the role assignment deletions
        let reqs = &plan.all_requests();
        if reqs.is_empty() {
            continue;
        }
        let ps = generate(&plan, Flavour::AzPowerShellExact).text;
        for (i, r) in reqs.iter().enumerate() {
            let var = if reqs.len() > 1 {
                format!("body{}", i + 1)
            } else {
                "body".into()
            };
            if let Some(b) = &r.body {
                let got = assignments(&ps, &var);
                let text = if got.len() == 1 {
                    got[0].clone()
                } else {
                    // '<before>' + $adminPasswordJson + '<after>': the password read at run time
                    let parts = literal_parts(&ps, &var);
                    assert_eq!(parts.len(), 2, "{name}: ${var}\n{ps}");
                    format!(
                        "{}{}{}",
                        parts[0],
                        serde_json::to_string(ADMIN_PASSWORD_SLOT).unwrap(),
                        parts[1]
                    )
                };
                let parsed: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(&parsed, b, "{name}");
            }
            let pvar = if reqs.len() > 1 {
                format!("path{}", i + 1)
            } else {
                "path".into()
            };
            assert_eq!(assignments(&ps, &pvar), vec![r.path_and_query()], "{name}");
        }
        // bash az rest: run with a fake az that records its arguments
        let sh = generate(&plan, Flavour::CliRestBash).text;
        let calls = run_bash_full(
            &sh,
            plan.if_match(),
            &[],
            "",
            &format!("{ADMIN_PASSWORD_SLOT}\n"),
        );
        let rest: Vec<&Vec<String>> = calls
            .iter()
            .filter(|c| c.first().map(|s| s.as_str()) == Some("rest"))
            .collect();
        assert_eq!(rest.len(), reqs.len(), "{name}");
        for (c, r) in rest.iter().zip(reqs) {
            assert_eq!(
                arg_after(c, "--method").unwrap(),
                r.method.as_str().to_ascii_lowercase()
            );
            assert_eq!(arg_after(c, "--url").unwrap(), r.path_and_query());
            match &r.body {
                Some(b) => assert_eq!(
                    &serde_json::from_str::<Value>(&arg_after(c, "--body").unwrap()).unwrap(),
                    b,
                    "{name}"
                ),
                None => assert!(arg_after(c, "--body").is_none()),
            }
            if let Some(im) = r.header("If-Match") {
                let h: Value = serde_json::from_str(&arg_after(c, "--headers").unwrap()).unwrap();
                assert_eq!(h["If-Match"], im, "{name}");
            }
        }
        // PowerShell az rest: `$bodyN | az rest … --headers '<json>' --body '@-'`
        let psr = generate(&plan, Flavour::CliRestPowerShell).text;
        let words = ps_native_az_args(&psr, &[]);
        let rest: Vec<&Vec<String>> = words.iter().filter(|w| w[0] == "rest").collect();
        assert_eq!(rest.len(), reqs.len(), "{name}");
        for (i, (c, r)) in rest.iter().zip(reqs).enumerate() {
            assert_eq!(arg_after(c, "--url").unwrap(), r.path_and_query());
            if let Some(im) = r.header("If-Match") {
                let h: Value = serde_json::from_str(&arg_after(c, "--headers").unwrap()).unwrap();
                assert_eq!(h["If-Match"], im, "{name}");
            }
            let Some(b) = &r.body else {
                assert!(arg_after(c, "--body").is_none(), "{name}");
                continue;
            };
            assert_eq!(arg_after(c, "--body").as_deref(), Some("@-"), "{name}");
            let var = format!("body{}", i + 1);
            assert!(
                psr.contains(&format!("\n${var} | az rest --method ")),
                "{name}: {var} piped"
            );
            let text = match assignments(&psr, &var).as_slice() {
                [one] => one.clone(),
                _ => {
                    let parts = literal_parts_of_value(&psr);
                    format!(
                        "{}{}{}",
                        parts[0],
                        serde_json::to_string(ADMIN_PASSWORD_SLOT).unwrap(),
                        parts[1]
                    )
                }
            };
            assert_eq!(&serde_json::from_str::<Value>(&text).unwrap(), b, "{name}");
        }
    }
}

/// The Azure CLI (bash) idiomatic scripts call `az … identity assign|remove` with exactly the
/// added / removed identities, adding before removing.
#[test]
fn cli_bash_calls_assign_then_remove_with_the_right_ids() {
    for (name, plan) in matrix() {
        let Change::Identity {
            target,
            before,
            after,
        } = &plan.change
        else {
            continue;
        };
        let sh = generate(&plan, Flavour::CliBash).text;
        let (out, calls) = run_bash_env(&sh, plan.if_match(), &[], "", "", &[]);
        // a refusal exits 1 (refused_cli_scripts_exit_non_zero_and_no_ops_exit_zero)
        assert_eq!(
            out.status.success(),
            !matches!(plan.outcome, Outcome::Refused(_)),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let g = target.kind.cli_group();
        let find = |verb: &str| {
            calls
                .iter()
                .position(|c| c.len() > 2 && c[0] == g && c[1] == "identity" && c[2] == verb)
        };
        let ids = |i: usize| -> Vec<String> {
            let c = &calls[i];
            let p = c.iter().position(|a| a == "--identities").unwrap();
            c[p + 1..].to_vec()
        };
        let Outcome::Requests(_) = &plan.outcome else {
            assert!(
                find("assign").is_none() && find("remove").is_none(),
                "{name}"
            );
            continue;
        };
        let mut want_add = added_users(before, after);
        if after.system && !before.system {
            want_add.insert(0, "[system]".into());
        }
        let mut want_rm = removed_users(before, after);
        if before.system && !after.system {
            want_rm.insert(0, "[system]".into());
        }
        match find("assign") {
            Some(i) => assert_eq!(ids(i), want_add, "{name}"),
            None => assert!(want_add.is_empty(), "{name}"),
        }
        match find("remove") {
            Some(i) => assert_eq!(ids(i), want_rm, "{name}"),
            None => assert!(want_rm.is_empty(), "{name}"),
        }
        if let (Some(a), Some(r)) = (find("assign"), find("remove")) {
            assert!(a < r, "{name}: remove before assign");
        }
    }
}

#[test]
fn every_bash_script_passes_bash_n() {
    for (_, plan) in all_plans() {
        for s in generate_all(&plan) {
            if s.language == Language::Bash {
                bash_syntax_ok(&s.text);
            }
        }
    }
}

#[test]
fn clouds_are_selected() {
    for cloud in Cloud::ALL {
        let plan = ScriptPlan::identity(
            cloud,
            target(TargetKind::Vm),
            Identities::default(),
            Identities {
                system: true,
                user: vec![],
            },
            None,
        );
        let ps = generate(&plan, Flavour::AzPowerShell).text;
        let has_env = ps.contains(&format!(
            "Connect-AzAccount -Environment '{}'",
            cloud.name()
        ));
        assert_eq!(has_env, cloud != Cloud::AzureCloud, "{ps}");
        let calls = run_bash_with_fake_az(&generate(&plan, Flavour::CliBash).text, None);
        assert_eq!(calls[0][0], "version");
        assert_eq!(calls[1], vec!["cloud", "set", "--name", cloud.name()]);
    }
}

#[test]
fn tutorial_errors_are_absent() {
    for (name, plan) in all_plans() {
        for s in generate_all(&plan) {
            let t = &s.text;
            assert!(!t.contains("-Name -"), "{name}: -Name -x");
            assert!(
                !t.contains("-Setting $settings") && !t.contains("-Settings"),
                "{name}"
            );
            assert!(!t.contains("$Loc") && !t.contains("$NetCfg"), "{name}");
            assert!(
                !t.contains("ManagedIdentityExtensionForWindows' -Publisher"),
                "{name}: installs the extension"
            );
            assert!(
                !t.contains("-IdentityType 'SystemAssigned, UserAssigned'"),
                "{name}"
            );
            assert!(!t.contains("-VirtualMachine $"), "{name}");
            assert!(
                !t.lines()
                    .any(|l| !l.trim_start().starts_with('#') && l.contains(" <")),
                "{name}: unquoted placeholder\n{t}"
            );
        }
    }
}

// ---- bash helpers ----

/// Run a bash script with `az` replaced by a function that records each call's arguments
/// (NUL-separated, one call per record) and answers `show --query etag` with `etag`.
pub fn run_bash_with_fake_az(text: &str, etag: Option<&str>) -> Vec<Vec<String>> {
    run_bash_with_fake_state(text, etag, &[], "")
}

/// As [`run_bash_with_fake_az`], with `show --query` answering the given user-assigned ids and
/// identity type (the current state a snippet reads at run time).
pub fn run_bash_with_fake_state(
    text: &str,
    etag: Option<&str>,
    ids: &[String],
    ty: &str,
) -> Vec<Vec<String>> {
    run_bash_full(text, etag, ids, ty, "")
}

/// As [`run_bash_with_fake_state`], feeding `stdin` to the script.
pub fn run_bash_full(
    text: &str,
    etag: Option<&str>,
    ids: &[String],
    ty: &str,
    stdin: &str,
) -> Vec<Vec<String>> {
    let (out, calls) = run_bash_env(text, etag, ids, ty, stdin, &[]);
    assert!(
        out.status.success(),
        "bash failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    calls
}

/// With `FAKE_BODY` (a GET body), the fake evaluates every `az … show --query` with the real
/// JMESPath library (Python's `jmespath`, the one azure-cli uses) and prints it as `--output tsv`
/// does: a list one item a line, null as an empty line.
const FAKE_JMESPATH: &str = r#"
import json, os, sys
import jmespath
r = jmespath.search(sys.argv[1], json.loads(os.environ["FAKE_BODY"]))
cell = lambda v: "" if v is None else (v if isinstance(v, str) else json.dumps(v))
if isinstance(r, list):
    for x in r:
        print("\t".join(map(cell, x)) if isinstance(x, list) else cell(x))
elif r is not None:
    print(cell(r))
"#;

/// Run a bash script against the fake `az` (see [`run_bash_full`]) with extra environment
/// (`FAKE_BODY`: see [`FAKE_JMESPATH`], `FAKE_STATE`: the provisioningState `az … show` reports, `FAKE_AZ_VERSION`: what
/// `az version` reports, `FAKE_SHOW_RC`: the exit status of an existence check
/// `az … show … --output none`, 3 — azure-cli's "not found" — unless given); the script's output and the recorded calls. Like azure-cli, the fake
/// reads an argument `@-` (or `--x=@-`) from its standard input.
pub fn run_bash_env(
    text: &str,
    etag: Option<&str>,
    ids: &[String],
    ty: &str,
    stdin: &str,
    env: &[(&str, &str)],
) -> (std::process::Output, Vec<Vec<String>>) {
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!(
        "idw-fakeaz-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("calls");
    let _ = std::fs::remove_file(&log);
    let prelude = r#"az() {
  for a in "$@"; do
    case "$a" in
      @-) a=$(cat) ;;
      --*=@-) a="${a%%=*}=$(cat)" ;;
      @*|--*=@*)
        # any other value starting with @ is a file az reads (`@file`, also `--x=@file`): a missing one is an error
        f=${a#*@}
        [ -f "$f" ] || { echo "az: ERROR: [Errno 2] No such file or directory: '$f'" >&2; return 2; }
        case "$a" in --*) a="${a%%=*}=$(cat -- "$f")" ;; *) a=$(cat -- "$f") ;; esac ;;
    esac
    printf '%s\0' "$a" >> "$AZ_LOG"
  done
  printf '\036' >> "$AZ_LOG"
  if [ "${1:-}" = version ]; then printf '%s\n' "${FAKE_AZ_VERSION-2.91.0}"; fi
  if [ -n "${FAKE_BODY:-}" ] && { [ "${2:-}" = show ] || [ "${3:-}" = show ]; }; then
    q=; prev=
    for a in "$@"; do [ "$prev" = --query ] && q=$a; prev=$a; done
    if [ -n "$q" ]; then python3 -c "$FAKE_JMESPATH" "$q"; return; fi
  fi
  if [ "${1:-}" = rest ]; then
    case "$*" in
      *"--query properties.provisioningState"*) printf '%s\n' "${FAKE_STATE:-Succeeded}" ;;
    esac
  fi
  if [ "${2:-}" = show ] || [ "${3:-}" = show ]; then
    case "$*" in
      *"--output none"*) return "${FAKE_SHOW_RC:-3}" ;;
      *"--query etag"*) printf '%s\n' "$FAKE_ETAG" ;;
      *"--query keys("*) [ -z "$FAKE_IDS" ] || printf '%s\n' "$FAKE_IDS" ;;
      *"--query identity.type"*) printf '%s\n' "$FAKE_TYPE" ;;
      *"--query provisioningState"*) printf '%s\n' "${FAKE_STATE:-Succeeded}" ;;
    esac
  fi
}
"#;
    let script = format!("{prelude}{text}");
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg(&script)
        .env("AZ_LOG", &log)
        .env("FAKE_ETAG", etag.unwrap_or(""))
        .env("FAKE_IDS", ids.join("\n"))
        .env("FAKE_TYPE", ty)
        .env("FAKE_JMESPATH", FAKE_JMESPATH);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    let raw = std::fs::read(&log).unwrap_or_default();
    let s = String::from_utf8(raw).unwrap();
    let calls = s
        .split('\u{1e}')
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.split('\0')
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect()
        })
        .collect();
    (out, calls)
}

fn arg_after(call: &[String], flag: &str) -> Option<String> {
    call.iter()
        .position(|a| a == flag)
        .map(|i| call[i + 1].clone())
}

/// The harness itself catches the tutorial's errors (so a passing check means something).
#[test]
fn binder_and_parser_reject_the_tutorials_errors() {
    let az = Catalogue::az();
    let rm = Catalogue::azurerm();
    let bad_az = [
        "Update-AzVmss -ResourceGroupName myResourceGroup -Name -myVmss -IdentityType 'SystemAssigned'",
        "Update-AzVmss -ResourceGroupName 'rg' -VMScaleSetName 'v' -IdentityType 'SystemAssigned, UserAssigned'",
        "$vm = Get-AzVM -ResourceGroupName 'rg' -Name 'vm'\nUpdate-AzVM -ResourceGroupName 'rg' -VirtualMachine $vm -IdentityType SystemAssigned",
        "New-AzUserAssignedIdentity -ResourceGroupName 'rg' -Name 'id'",
        "Add-AzVmssExtension -VirtualMachineScaleSet $vmss -Name 'x' -Settings @{ port = 50342 }",
    ];
    for s in bad_az {
        assert!(
            az.check_script(s).is_err() || !undefined_variables(s).is_empty(),
            "accepted: {s}"
        );
    }
    // AzureRM 6.13: `-VM` binds by unique prefix to -VMScaleSetName (seed error 12); our scripts never abbreviate
    assert_eq!(
        rm.resolve("Update-AzureRmVmss", "VM").unwrap(),
        "VMScaleSetName"
    );
    assert!(
        full_names_only(
            &rm,
            "Update-AzureRmVmss -ResourceGroupName 'rg' -VM 'x' -IdentityType None"
        )
        .is_err()
    );
    assert_eq!(
        az.resolve("Update-AzVM", "VirtualMachine").unwrap(),
        "VirtualMachineScaleSetId"
    );
    assert!(
        !undefined_variables(
            "Add-AzVmssExtension -VirtualMachineScaleSet $vmss -Name 'x' -Setting $settings"
        )
        .is_empty()
    );
    assert!(
        !syntax_errors(
            "Update-AzVmss -ResourceGroupName 'rg' -VMScaleSetName 'v' ` \n  -IdentityType None\n"
        )
        .is_empty()
    );
    assert!(!syntax_errors("$x = @{ port = ").is_empty());
    assert!(!syntax_errors("Get-AzVmss -ResourceGroupName 'rg -Name 'v'").is_empty());
    // and accepts the recommended examples' forms
    assert!(az.check_script("Update-AzVmss -ResourceGroupName 'rg' -VMScaleSetName 'v' -IdentityType SystemAssignedUserAssigned -IdentityId 'a','b'").is_ok());
}

/// Every parameter of a described cmdlet is written with its full name or a declared alias.
fn full_names_only(cat: &Catalogue, text: &str) -> Result<(), String> {
    for inv in invocations(text, &|c, p| cat.is_switch(c, p)) {
        let Some(c) = cat.cmdlet(&inv.name) else {
            continue;
        };
        for (w, _) in &inv.named {
            let full = cat.resolve(&inv.name, w)?;
            let alias = c["parameterSets"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|ps| ps["parameters"].as_array().unwrap())
                .any(|p| {
                    p["name"] == full.as_str()
                        && p["aliases"].as_array().is_some_and(|a| {
                            a.iter()
                                .any(|x| x.as_str().unwrap().eq_ignore_ascii_case(w))
                        })
                });
            if !full.eq_ignore_ascii_case(w) && !alias {
                return Err(format!("line {}: -{w} abbreviates -{full}", inv.line));
            }
        }
    }
    Ok(())
}

/// What the idiomatic cmdlet actually does, modelled from the cmdlet source notes
/// (NOTES.md §3.1/§3.2), reaches exactly the plan's `after` identities:
/// - Update-AzVmss without -VirtualMachineScaleSet is a PATCH: `type` as given, `-IdentityId`
///   sent as `{}` each, merged by ARM (unlisted ids stay unless the type drops UserAssigned);
/// - Update-AzVM is a PUT: the identity becomes exactly `-IdentityType` / `-IdentityId`.
#[test]
fn cmdlet_semantics_reach_the_plans_after_state() {
    let mut checked = 0;
    for (name, plan, flavour) in matrix().into_iter().flat_map(|(n, p)| {
        [
            (n.clone(), p.clone(), Flavour::AzPowerShell),
            (n, p, Flavour::AzureRm),
        ]
    }) {
        let az = if flavour == Flavour::AzureRm {
            Catalogue::azurerm()
        } else {
            Catalogue::az()
        };
        let Change::Identity {
            target,
            before,
            after,
        } = &plan.change
        else {
            continue;
        };
        if !matches!(plan.outcome, Outcome::Requests(_)) {
            continue;
        }
        let s = generate(&plan, flavour).text;
        let invs = invocations(&s, &|c, p| az.is_switch(c, p));
        let Some(upd) = invs.iter().find(|i| {
            i.name.starts_with("Update-Az") && (i.name.ends_with("Vmss") || i.name.ends_with("VM"))
        }) else {
            continue; // the exact-form fallback, covered by the equivalence test
        };
        let arg = |n: &str| {
            upd.named
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, a)| a.clone())
        };
        let Some(Some(Arg::Literal(ty))) = arg("IdentityType") else {
            panic!("{name}: IdentityType not literal")
        };
        let (sys, user_type) = match ty[0].as_str() {
            "SystemAssigned" => (true, false),
            "UserAssigned" => (false, true),
            "SystemAssignedUserAssigned" => (true, true),
            "None" => (false, false),
            other => panic!("{name}: {other}"),
        };
        let listed: Vec<String> = match arg("IdentityId") {
            Some(_) => array_assignment(&s, "identityIds").expect("identityIds defined"),
            None => vec![],
        };
        let result_users: Vec<String> = if !user_type {
            vec![] // a type without UserAssigned drops every user-assigned identity
        } else if upd.name.ends_with("VM") {
            listed.clone() // PUT: exactly the list
        } else {
            // PATCH merge: existing ∪ listed
            let mut u = before.user.clone();
            for l in &listed {
                if !u.iter().any(|x| x.eq_ignore_ascii_case(l)) {
                    u.push(l.clone());
                }
            }
            u
        };
        let result = Identities {
            system: sys,
            user: result_users,
        };
        assert!(
            result.to_state().same_identities(&after.to_state()),
            "{name} ({:?}): cmdlet gives {result:?}, plan wants {after:?}\n{s}",
            target.kind
        );
        checked += 1;
    }
    assert!(checked > 80, "{checked}");
}

/// The bash snippet for "set exactly" reads the current identities at run time and removes
/// exactly the ones not wanted (ids compared ignoring case), after adding the missing ones.
#[test]
fn bash_set_exact_snippet_computes_the_removals_at_run_time() {
    for k in [TargetKind::ScaleSetUniform, TargetKind::Vm] {
        let g = k.cli_group();
        let req = SnippetRequest {
            cloud: Cloud::AzureCloud,
            target: target(k),
            intent: Intent::SetExact {
                system: false,
                user: vec![ua("id2"), ua("id3")],
            },
        };
        let sh = snippet(&req, Flavour::CliBash).unwrap().text;
        // current: SA + id1 + ID2 (other casing) -> remove [system]… and id1 only
        let current = vec![ua("id1"), ua("id2").to_uppercase()];
        let calls = run_bash_with_fake_state(&sh, None, &current, "SystemAssigned, UserAssigned");
        let verb = |v: &str| {
            calls
                .iter()
                .find(|c| c.len() > 2 && c[0] == g && c[1] == "identity" && c[2] == v)
                .cloned()
        };
        let ids_of =
            |c: Vec<String>| c[c.iter().position(|a| a == "--identities").unwrap() + 1..].to_vec();
        assert_eq!(ids_of(verb("assign").unwrap()), vec![ua("id2"), ua("id3")]);
        assert_eq!(
            ids_of(verb("remove").unwrap()),
            vec![ua("id1"), "[system]".to_string()]
        );
        // already exactly that: nothing removed
        let calls = run_bash_with_fake_state(&sh, None, &[ua("id2"), ua("id3")], "UserAssigned");
        assert!(
            calls.iter().all(|c| !(c.len() > 2 && c[2] == "remove")),
            "{calls:?}"
        );
    }
}

/// The single-quoted literals in `$var = … + … + …`, decoded, in order.
fn literal_parts(src: &str, var: &str) -> Vec<String> {
    let tree = parse(src);
    let mut out = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "assignment_expression" {
            let left = n.child(0).unwrap();
            if src[left.byte_range()]
                .trim()
                .eq_ignore_ascii_case(&format!("${var}"))
            {
                walk(n.child_by_field_name("value").unwrap(), &mut |m| {
                    if m.kind() == "string_literal" {
                        out.push(ps_unquote(&src[m.byte_range()]).unwrap());
                    }
                });
            }
        }
    });
    out
}

/// The single-quoted literals of `$bodyN = 'a' + $adminPasswordJson + 'b'`.
fn literal_parts_of_value(src: &str) -> Vec<String> {
    let tree = parse(src);
    let mut out = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "assignment_expression"
            && src[n.byte_range()].starts_with("$body")
            && src[n.byte_range()].contains("$adminPasswordJson")
        {
            walk(n, &mut |m| {
                if m.kind() == "string_literal" {
                    out.push(ps_unquote(&src[m.byte_range()]).unwrap());
                }
            });
        }
    });
    out
}

/// The password is never in a script; the bash exact form sends exactly the plan's body with the
/// password typed at run time (quotes, backslash, `$`, backtick, unicode included).
#[test]
fn create_scale_set_password_is_read_at_run_time_and_sent_exactly() {
    for (name, spec) in scale_set_specs() {
        let original = create_scale_set(&spec);
        let sp = ScriptPlan::from_scale_set(Cloud::AzureCloud, &spec, &original);
        for s in generate_all(&sp) {
            assert!(
                !s.text.contains("P@ss"),
                "{name} {:?} leaks the password",
                s.flavour
            );
        }
        let Outcome::Requests(reqs) = &original.outcome else {
            continue;
        };
        let sh = generate(&sp, Flavour::CliRestBash).text;
        let calls = run_bash_full(&sh, None, &[], "", &format!("{TEST_PASSWORD}\n"));
        let rest = calls.iter().find(|c| c[0] == "rest").unwrap();
        let body: Value = serde_json::from_str(&arg_after(rest, "--body").unwrap()).unwrap();
        assert_eq!(Some(&body), reqs[0].body.as_ref(), "{name}");
        assert_eq!(arg_after(rest, "--method").unwrap(), "put");
        let h: Value = serde_json::from_str(&arg_after(rest, "--headers").unwrap()).unwrap();
        assert_eq!(h["If-None-Match"], "*");
        assert!(
            calls
                .iter()
                .any(|c| c[0] == "vmss" && c[1] == "wait" && c.contains(&"--custom".to_string())),
            "{name}"
        );
    }
}

/// The az rest scripts do not end quietly when the change's long-running operation ends Failed
/// or Canceled: bash exits non-zero with the state in its error, PowerShell throws it.
#[test]
fn az_rest_fails_when_the_change_does_not_succeed() {
    let (name, plan) = matrix()
        .into_iter()
        .find(|(n, _)| n == "uniform__sa_ua2__remove_ua")
        .unwrap();
    let etag = plan.if_match().map(String::from);
    assert!(etag.is_some(), "{name}");
    let sh = generate(&plan, Flavour::CliRestBash).text;
    for state in ["Failed", "Canceled"] {
        let (out, calls) =
            run_bash_env(&sh, etag.as_deref(), &[], "", "", &[("FAKE_STATE", state)]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{state}: exit 0\n{sh}");
        assert!(
            err.contains(&format!("provisioningState '{state}', not Succeeded")),
            "{err}"
        );
        assert!(calls.iter().any(|c| c[0] == "rest"), "{calls:?}");
        assert!(
            calls
                .iter()
                .any(|c| c[0] == "vmss" && c[1] == "wait" && c.contains(&"--custom".into())),
            "{calls:?}"
        );
    }
    let (out, _) = run_bash_env(
        &sh,
        etag.as_deref(),
        &[],
        "",
        "",
        &[("FAKE_STATE", "Succeeded")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [Flavour::CliRestPowerShell, Flavour::AzPowerShellExact] {
        let ps = generate(&plan, f).text;
        assert_throws_unless_succeeded(&ps, &format!("{name} {f:?}"));
    }
    // without an etag the exact form uses Invoke-AzRestMethod -WaitForCompletion, whose final
    // response may be a 200 carrying a Failed operation: it throws then too
    let Change::Identity {
        target,
        before,
        after,
    } = plan.change.clone()
    else {
        unreachable!()
    };
    let no_etag = ScriptPlan::identity(Cloud::AzureCloud, target, before, after, None);
    let ps = generate(&no_etag, Flavour::AzPowerShellExact).text;
    assert!(ps.contains("-WaitForCompletion"), "{ps}");
    let wait = ps.find("-WaitForCompletion").unwrap();
    let guard = ps
        .find("if ($result.status -in @('Failed', 'Canceled') -or $result.properties.provisioningState -in @('Failed', 'Canceled')) { throw ")
        .unwrap_or_else(|| panic!("no guard\n{ps}"));
    assert!(wait < guard);
}

/// The script reads `$provisioningState` after waiting and throws unless it is `Succeeded`.
fn assert_throws_unless_succeeded(ps: &str, what: &str) {
    let tree = parse(ps);
    let mut guards = 0;
    walk(tree.root_node(), &mut |n| {
        if n.kind() == "if_statement" {
            let t = &ps[n.byte_range()];
            if t.starts_with("if ($provisioningState -ne 'Succeeded')") && t.contains("throw") {
                guards += 1;
            }
        }
    });
    assert_eq!(guards, 1, "{what}: no throw on a failed change\n{ps}");
    let assigned = ps.find("$provisioningState =").expect(what);
    let guard = ps.find("if ($provisioningState -ne 'Succeeded')").unwrap();
    assert!(assigned < guard, "{what}");
}

/// The snippet-only "remove one of several user-assigned identities" branch sends its PATCH with
/// If-Match (the etag Get-AzVmss read), refuses to run without one, and throws when the change
/// does not succeed.
#[test]
fn snippet_exact_patch_is_guarded_by_if_match() {
    for k in [TargetKind::ScaleSetUniform, TargetKind::ScaleSetFlexible] {
        let req = SnippetRequest {
            cloud: Cloud::AzureCloud,
            target: target(k),
            intent: Intent::RemoveUser(vec![ua("id1")]),
        };
        let ps = snippet(&req, Flavour::AzPowerShell).unwrap().text;
        assert!(!ps.contains("Invoke-AzRestMethod -Method PATCH"), "{ps}");
        let invs = invocations(&ps, &|_, _| false);
        let patch = invs
            .iter()
            .find(|i| i.name == "Invoke-RestMethod")
            .expect("the exact PATCH");
        let named = |n: &str| patch.named.iter().find(|(k, _)| k == n).map(|(_, a)| a);
        assert!(matches!(named("Method"), Some(Some(Arg::Literal(v))) if v == &["Patch"]));
        assert!(named("Headers").is_some(), "{ps}");
        assert!(
            ps.contains(
                "$headers = @{ Authorization = \"Bearer $token\"; 'If-Match' = $vmss.Etag }"
            ),
            "{ps}"
        );
        assert!(ps.contains("if (-not $vmss.Etag) { throw"), "{ps}");
        assert_throws_unless_succeeded(&ps, "snippet");
    }
}

/// Every script and snippet, for the checks that hold for all of them.
fn every_script() -> Vec<(String, Script)> {
    let mut out = Vec::new();
    for (name, plan) in all_plans() {
        out.extend(generate_all(&plan).into_iter().map(|s| (name.clone(), s)));
    }
    for k in TargetKind::ALL {
        for intent in [
            Intent::EnableSystem,
            Intent::RemoveSystem,
            Intent::AddUser(vec![ua("id3")]),
            Intent::RemoveUser(vec![ua("id1")]),
            Intent::RemoveAll,
            Intent::SetExact {
                system: false,
                user: vec![ua("id2")],
            },
        ] {
            let req = SnippetRequest {
                cloud: Cloud::AzureCloud,
                target: target(k),
                intent,
            };
            out.extend(
                snippet_all(&req)
                    .into_iter()
                    .map(|s| (format!("snippet {k:?}"), s)),
            );
        }
    }
    out
}

/// No script leaves a file behind: none creates or writes a file at all (bodies and secrets go
/// through variables and standard input). The admin password is never in a command line: bash
/// reads it with `read -s` and gives the body to az on standard input through the printf builtin;
/// PowerShell never passes it to az; az vmss create asks for it itself.
#[test]
fn no_script_writes_a_file_or_puts_the_password_in_a_command_line() {
    let mut with_password = 0;
    for (name, s) in every_script() {
        for bad in [
            "New-TemporaryFile",
            "Set-Content",
            "Add-Content",
            "Out-File",
            "IO.File]",
            "GetTempFileName",
            "mktemp",
            "tee ",
            "@$(",
        ] {
            assert!(
                !s.text.contains(bad),
                "{name} {:?}: {bad}\n{}",
                s.flavour,
                s.text
            );
        }
        if s.language == Language::Bash {
            // the only redirections are to stderr, and stderr into a captured output
            assert_eq!(
                s.text.matches('>').count(),
                s.text.matches(">&2").count() + s.text.matches(" 2>&1)").count(),
                "{name} {:?}: a redirection to a file\n{}",
                s.flavour,
                s.text
            );
            for line in s.text.lines().filter(|l| l.contains("admin_password")) {
                with_password += 1;
                let ok = line.starts_with("read -rs -p 'Admin password: ' admin_password")
                    || line.starts_with("admin_password_json=")
                    || (line.starts_with("printf '%s' ")
                        && line.ends_with(" --body @-")
                        && !line.split(" | ").nth(1).unwrap().contains("admin_password"));
                assert!(ok, "{name} {:?}: {line}", s.flavour);
            }
        } else {
            let tree = parse(&s.text);
            walk(tree.root_node(), &mut |n| {
                if n.kind() == "command"
                    && n.child_by_field_name("command_name")
                        .is_some_and(|c| &s.text[c.byte_range()] == "az")
                {
                    let t = &s.text[n.byte_range()];
                    let lower = t.to_ascii_lowercase();
                    assert!(
                        !lower.contains("$adminpassword") && !lower.contains("admin-password"),
                        "{name} {:?}: {t}",
                        s.flavour
                    );
                }
            });
            if s.text.contains("$adminPassword") {
                with_password += 1;
            }
        }
    }
    assert!(with_password >= 4, "{with_password}");
}

/// The module of each cmdlet the Az / AzureRM scripts call: the catalogue's `module` where the
/// cmdlet is in it, else the module that ships it.
fn module_of_cmdlet(az: &Catalogue, rm: &Catalogue, name: &str) -> Option<String> {
    if let Some(c) = az.cmdlet(name).or_else(|| rm.cmdlet(name)) {
        return c["module"].as_str().map(String::from);
    }
    Some(
        match name {
            "Get-AzAccessToken" | "Get-AzContext" => "Az.Accounts",
            "New-AzRoleAssignment" => "Az.Resources",
            "Remove-AzVMExtension" => "Az.Compute",
            "New-AzureRmRoleAssignment" => "AzureRM.Resources",
            "Remove-AzureRmVMExtension" => "AzureRM.Compute",
            _ => return None,
        }
        .into(),
    )
}

/// `#Requires -Modules` (first line) names exactly the modules whose cmdlets the script calls, at
/// the versions that have the parameters it passes: Az.Compute 8.0.0 (-IfMatch, -IfNoneMatch,
/// Etag), Az.Accounts 3.0.0, Az.Resources 3.5.0 (-ObjectType); AzureRM at 6.13.1's versions.
#[test]
fn powershell_scripts_require_their_modules() {
    let (az, rm) = (Catalogue::az(), Catalogue::azurerm());
    let re = regex::Regex::new(
        r"^(?:@\{ ModuleName = '([\w.]+)'; ModuleVersion = '([\d.]+)' \}|'([\w.]+)')$",
    )
    .unwrap();
    let mut n = 0;
    for (name, s) in every_script() {
        if s.language != Language::PowerShell
            || matches!(
                s.flavour,
                Flavour::CliPowerShell | Flavour::CliRestPowerShell
            )
        {
            continue;
        }
        let invs = invocations(&s.text, &|_, _| false);
        let mut want: Vec<String> = invs
            .iter()
            .filter_map(|i| module_of_cmdlet(&az, &rm, &i.name))
            .collect();
        want.sort();
        want.dedup();
        let first = s.text.lines().next().unwrap();
        if want.is_empty() {
            assert!(!s.text.contains("#Requires"), "{name} {:?}", s.flavour);
            continue;
        }
        let list = first
            .strip_prefix("#Requires -Modules ")
            .unwrap_or_else(|| panic!("{name} {:?}: {first}", s.flavour));

        let mut got: Vec<(String, Option<String>)> = list
            .split(", ")
            .map(|m| {
                let c = re.captures(m).unwrap_or_else(|| panic!("{m}"));
                match (c.get(1), c.get(2), c.get(3)) {
                    (Some(n), Some(v), _) => (n.as_str().into(), Some(v.as_str().into())),
                    (_, _, Some(n)) => (n.as_str().into(), None),
                    _ => unreachable!(),
                }
            })
            .collect();
        got.sort();
        let names: Vec<String> = got.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(names, want, "{name} {:?}\n{}", s.flavour, s.text);
        let version = |m: &str| {
            got.iter()
                .find(|(n, _)| n == m)
                .and_then(|(_, v)| v.clone())
        };
        if names.contains(&"Az.Compute".to_string())
            && (s.text.contains("-IfMatch")
                || s.text.contains("-IfNoneMatch")
                || s.text.contains(".Etag"))
        {
            assert_eq!(version("Az.Compute").as_deref(), Some("8.0.0"), "{name}");
        }
        if names.contains(&"Az.Accounts".to_string()) {
            assert_eq!(version("Az.Accounts").as_deref(), Some("3.0.0"), "{name}");
        }
        if s.text.contains("-ObjectType") {
            assert_eq!(version("Az.Resources").as_deref(), Some("3.5.0"), "{name}");
        }
        if names.contains(&"AzureRM.Compute".to_string()) {
            assert_eq!(
                version("AzureRM.Compute").as_deref(),
                Some("5.9.1"),
                "{name}"
            );
        }
        n += 1;
    }
    assert!(n > 150, "{n}");
}

/// The Azure CLI scripts check `az version` against the one they were checked with before any
/// other az call, and stop with a clear message on an older (or unreadable) version; the check
/// compares numbers (2.100.0 is newer than 2.91.0).
#[test]
fn cli_scripts_stop_on_an_older_azure_cli() {
    assert_eq!(AZ_CLI_MIN_VERSION, "2.91.0");
    let (name, plan) = matrix()
        .into_iter()
        .find(|(n, _)| n == "vm__ua1__add_ua")
        .unwrap();
    let sh = generate(&plan, Flavour::CliBash).text;
    for (v, ok) in [
        ("2.91.0", true),
        ("2.91.1", true),
        ("2.100.0", true),
        ("3.0.0", true),
        ("2.91.0b1", true),
        ("2.90.9", false),
        ("2.9.100", false),
        ("1.99.99", false),
        ("", false),
    ] {
        let (out, calls) =
            run_bash_env(&sh, plan.if_match(), &[], "", "", &[("FAKE_AZ_VERSION", v)]);
        assert_eq!(
            out.status.success(),
            ok,
            "{name} {v:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(calls[0][0], "version", "the check comes first");
        if !ok {
            assert_eq!(calls.len(), 1, "{v:?}: nothing after the check");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("is older than 2.91.0"), "{err}");
        }
    }
    for (name, s) in every_script() {
        let Some(line) = s.text.lines().find(|l| {
            !l.trim_start().starts_with('#')
                && (l.starts_with("az ")
                    || l.contains("$(az ")
                    || l.contains("= az ")
                    || l.contains("| az "))
        }) else {
            continue;
        };
        assert!(
            line.contains("az version --query '\"azure-cli\"' --output tsv"),
            "{name} {:?}: {line}",
            s.flavour
        );
        if s.language == Language::PowerShell {
            assert!(
                s.text.contains("[version]$azVersion -ge [version]'2.91.0'")
                    && s.text.contains("if (-not $azVersionOk) { throw "),
                "{name}"
            );
        }
    }
}

/// The harness accepts the recommended per-scenario snippets of shared/cmdlets/examples (copied to
/// tests/data/examples): a binder that rejected them would be wrong, not the snippets.
#[test]
fn harness_accepts_the_recommended_examples() {
    let dir = format!("{}/tests/data/examples", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let cat = if text.contains("AzureRm") {
            Catalogue::azurerm()
        } else {
            Catalogue::az()
        };
        assert!(
            syntax_errors(&text).is_empty(),
            "{path:?}: {:?}",
            syntax_errors(&text)
        );
        cat.check_script(&text)
            .unwrap_or_else(|e| panic!("{path:?}: {e}"));
        n += 1;
    }
    assert!(n >= 10, "{n}");
}

// ---- create scale set: the idiomatic forms reach the plan's PUT body ----

/// More create specs than the snapshots: Linux with a password, Automatic upgrades, UA×2,
/// SA+UA on Uniform, names with quotes where Azure allows them.
fn create_specs_for_equivalence() -> Vec<(String, ScaleSetSpec)> {
    let mut v: Vec<(String, ScaleSetSpec)> = scale_set_specs()
        .into_iter()
        .map(|(n, s)| (n.to_string(), s))
        .collect();
    let base = v[0].1.clone();
    v.push((
        "linux_password_automatic_ua2".into(),
        ScaleSetSpec {
            admin_auth: AdminAuth::Password(TEST_PASSWORD.into()),
            upgrade_mode: UpgradeMode::Automatic,
            identity: IdentityRequest {
                system_assigned: false,
                user_assigned: vec![ua("id1"), ua("id'2")],
            },
            ..base.clone()
        },
    ));
    v.push((
        "uniform_none_quoted_group".into(),
        ScaleSetSpec {
            resource_group: "rg.(x)-_1".into(),
            capacity: 0,
            identity: IdentityRequest::default(),
            ..base.clone()
        },
    ));
    v.push((
        "flexible_windows_ua".into(),
        ScaleSetSpec {
            orchestration: Orchestration::Flexible,
            image: ImagePreset::WindowsServer,
            admin_username: "azureadmin".into(),
            admin_auth: AdminAuth::Password(TEST_PASSWORD.into()),
            identity: IdentityRequest {
                system_assigned: false,
                user_assigned: vec![ua("id1")],
            },
            ..base
        },
    ));
    v
}

/// The word after `-Name` in the command that starts on `line`, as written (the whole command:
/// a quoted argument may span lines).
fn word_on_line(text: &str, line: usize, param: &str) -> Option<String> {
    let tree = parse(text);
    let mut cmd = None;
    walk(tree.root_node(), &mut |n| {
        if cmd.is_none() && n.kind() == "command" && n.start_position().row + 1 == line {
            cmd = Some(text[n.byte_range()].to_string());
        }
    });
    let l = cmd?;
    let mut words = l.split_whitespace();
    while let Some(w) = words.next() {
        if w.eq_ignore_ascii_case(&format!("-{param}")) {
            return words.next().map(str::to_string);
        }
    }
    None
}

/// `-Name $true` / `$false` written on an invocation's line (the binder sees them as dynamic).
fn ps_bool_on_line(text: &str, line: usize, param: &str) -> Option<bool> {
    match word_on_line(text, line, param)?.as_str() {
        "$true" => Some(true),
        "$false" => Some(false),
        w => panic!("-{param} {w}: not a boolean"),
    }
}

fn lit(inv: &Invocation, param: &str) -> Option<Vec<String>> {
    inv.named
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(param))
        .and_then(|(_, a)| match a {
            Some(Arg::Literal(v)) => Some(v.clone()),
            _ => None,
        })
}

fn lit1(inv: &Invocation, param: &str) -> Option<String> {
    lit(inv, param).map(|v| {
        assert_eq!(v.len(), 1, "{}: -{param}", inv.name);
        v[0].clone()
    })
}

/// What each Az.Compute cmdlet of the chain puts into the scale-set model (one property per
/// parameter, per the cmdlets' help), serialised as ARM JSON. Variables: `$identityIds` (array
/// literal), `$adminPasswordPlain` (the password read at run time: the slot), `$ipConfig`.
fn body_from_az_chain(text: &str, cat: &Catalogue) -> Value {
    let mut body = json!({});
    let vmp = "/properties/virtualMachineProfile";
    let set = |body: &mut Value, ptr: &str, v: Value| {
        let mut cur = body;
        for part in ptr.trim_start_matches('/').split('/') {
            if cur.get(part).is_none() {
                cur[part] = json!({});
            }
            cur = &mut cur[part];
        }
        *cur = v;
    };
    let mut ip_config: Option<Value> = None;
    for inv in invocations(text, &|c, p| cat.is_switch(c, p)) {
        let b = |p: &str| ps_bool_on_line(text, inv.line, p);
        match inv.name.as_str() {
            "New-AzVmssConfig" => {
                for (p, ptr) in [
                    ("Location", "/location"),
                    ("SkuName", "/sku/name"),
                    ("SkuTier", "/sku/tier"),
                    ("UpgradePolicyMode", "/properties/upgradePolicy/mode"),
                    ("OrchestrationMode", "/properties/orchestrationMode"),
                ] {
                    if let Some(v) = lit1(&inv, p) {
                        set(&mut body, ptr, json!(v));
                    }
                }
                for (p, ptr) in [
                    ("SkuCapacity", "/sku/capacity"),
                    (
                        "PlatformFaultDomainCount",
                        "/properties/platformFaultDomainCount",
                    ),
                ] {
                    // a number is not a string literal to the binder: read the word as written
                    if let Some(v) = word_on_line(text, inv.line, p) {
                        set(&mut body, ptr, json!(v.parse::<u64>().unwrap()));
                    }
                }
                if let Some(o) = b("Overprovision") {
                    set(&mut body, "/properties/overprovision", json!(o));
                }
                if let Some(t) = lit1(&inv, "IdentityType") {
                    let wire = match t.as_str() {
                        "SystemAssignedUserAssigned" => "SystemAssigned, UserAssigned",
                        other => other,
                    };
                    set(&mut body, "/identity/type", json!(wire));
                    if inv.named.iter().any(|(n, _)| n == "IdentityId") {
                        let ids = array_assignment(text, "identityIds").unwrap();
                        let map: serde_json::Map<String, Value> =
                            ids.into_iter().map(|i| (i, json!({}))).collect();
                        set(
                            &mut body,
                            "/identity/userAssignedIdentities",
                            Value::Object(map),
                        );
                    }
                }
            }
            "Set-AzVmssOsProfile" => {
                let os = format!("{vmp}/osProfile");
                for (p, k) in [
                    ("ComputerNamePrefix", "computerNamePrefix"),
                    ("AdminUsername", "adminUsername"),
                ] {
                    if let Some(v) = lit1(&inv, p) {
                        set(&mut body, &format!("{os}/{k}"), json!(v));
                    }
                }
                if inv.named.iter().any(|(n, _)| n == "AdminPassword") {
                    assert!(text.contains("$adminPasswordPlain = [System.Net.NetworkCredential]::new('', $adminPassword).Password"));
                    assert!(text.contains("$adminPassword = Read-Host -AsSecureString"));
                    set(
                        &mut body,
                        &format!("{os}/adminPassword"),
                        json!(ADMIN_PASSWORD_SLOT),
                    );
                }
                if let Some(d) = b("LinuxConfigurationDisablePasswordAuthentication") {
                    set(
                        &mut body,
                        &format!("{os}/linuxConfiguration/disablePasswordAuthentication"),
                        json!(d),
                    );
                }
                if let Some(a) = b("WindowsConfigurationProvisionVMAgent") {
                    set(
                        &mut body,
                        &format!("{os}/windowsConfiguration/provisionVMAgent"),
                        json!(a),
                    );
                }
                if let Some(a) = b("WindowsConfigurationEnableAutomaticUpdate") {
                    set(
                        &mut body,
                        &format!("{os}/windowsConfiguration/enableAutomaticUpdates"),
                        json!(a),
                    );
                }
            }
            "Add-AzVmssSshPublicKey" => {
                let ptr = format!("{vmp}/osProfile/linuxConfiguration/ssh/publicKeys");
                let key = json!({"path": lit1(&inv, "Path").unwrap(), "keyData": lit1(&inv, "KeyData").unwrap()});
                match body.pointer_mut(&ptr) {
                    Some(Value::Array(a)) => a.push(key),
                    _ => set(&mut body, &ptr, json!([key])),
                }
            }
            "Set-AzVmssStorageProfile" => {
                let sp = format!("{vmp}/storageProfile");
                for (p, ptr) in [
                    ("ImageReferencePublisher", "imageReference/publisher"),
                    ("ImageReferenceOffer", "imageReference/offer"),
                    ("ImageReferenceSku", "imageReference/sku"),
                    ("ImageReferenceVersion", "imageReference/version"),
                    ("OsDiskCreateOption", "osDisk/createOption"),
                    ("OsDiskCaching", "osDisk/caching"),
                    ("ManagedDisk", "osDisk/managedDisk/storageAccountType"),
                ] {
                    if let Some(v) = lit1(&inv, p) {
                        set(&mut body, &format!("{sp}/{ptr}"), json!(v));
                    }
                }
            }
            "New-AzVmssIpConfig" => {
                ip_config = Some(json!({
                    "name": lit1(&inv, "Name").unwrap(),
                    "properties": {"subnet": {"id": lit1(&inv, "SubnetId").unwrap()}}
                }));
            }
            "Add-AzVmssNetworkInterfaceConfiguration" => {
                let mut nic = json!({"name": lit1(&inv, "Name").unwrap(), "properties": {
                    "ipConfigurations": [ip_config.take().expect("New-AzVmssIpConfig first")]
                }});
                if let Some(p) = b("Primary") {
                    nic["properties"]["primary"] = json!(p);
                }
                set(
                    &mut body,
                    &format!("{vmp}/networkProfile/networkInterfaceConfigurations"),
                    json!([nic]),
                );
            }
            _ => {}
        }
    }
    if let Some(v) = assignments(
        text,
        "vmssConfig.VirtualMachineProfile.NetworkProfile.NetworkApiVersion",
    )
    .pop()
    {
        set(
            &mut body,
            &format!("{vmp}/networkProfile/networkApiVersion"),
            json!(v),
        );
    }
    body
}

/// The New-AzVmssConfig chain, interpreted cmdlet by cmdlet, builds exactly the body the exact
/// form PUTs (password slot included), and New-AzVmss keeps the If-None-Match guard.
#[test]
fn az_powershell_create_chain_builds_the_plans_body() {
    let cat = Catalogue::az();
    let mut n = 0;
    for (name, spec) in create_specs_for_equivalence() {
        let p = create_scale_set(&spec);
        let sp = ScriptPlan::from_scale_set(Cloud::AzureCloud, &spec, &p);
        let Outcome::Requests(reqs) = &sp.outcome else {
            continue;
        };
        let text = generate(&sp, Flavour::AzPowerShell).text;
        check_powershell(&name, Flavour::AzPowerShell, &text, &cat);
        assert!(
            !text.contains("Invoke-RestMethod"),
            "{name}: fell back to REST\n{text}"
        );
        let built = body_from_az_chain(&text, &cat);
        assert_eq!(Some(&built), reqs[0].body.as_ref(), "{name}\n{text}");
        let bound = cat.check_script(&text).unwrap();
        assert!(
            bound.iter().any(|(c, set)| c == "New-AzVmssConfig"
                && set
                    == if spec.identity.system_assigned || !spec.identity.user_assigned.is_empty() {
                        "ExplicitIdentityParameterSet"
                    } else {
                        "DefaultParameterSet"
                    }),
            "{name}: {bound:?}"
        );
        let new = invocations(&text, &|c, p| cat.is_switch(c, p))
            .into_iter()
            .find(|i| i.name == "New-AzVmss")
            .unwrap();
        assert_eq!(lit1(&new, "IfNoneMatch").as_deref(), Some("*"));
        assert_eq!(
            assignments(&text, "resourceGroupName"),
            vec![spec.resource_group.clone()]
        );
        assert_eq!(assignments(&text, "vmssName"), vec![spec.name.clone()]);
        n += 1;
    }
    assert!(n >= 6, "{n}");
}

/// The Az PowerShell VM chain read back by a model of the cmdlets' semantics into a PUT body:
/// `New-AzVMConfig` (size, identity), `Set-AzVMOperatingSystem` (computer name, the credential's
/// user, Linux / Windows settings), `Add-AzVMSshPublicKey`, `Set-AzVMSourceImage`,
/// `Set-AzVMOSDisk`, `New-AzVM -Location`. The NIC resource (`New-AzNetworkInterface -Name
/// -SubnetId -IpConfigurationName`, attached by `Add-AzVMNetworkInterface -Id $nic.Id [-Primary]`)
/// is read back as the NIC configuration the PUT has in its place.
fn body_from_az_vm_chain(text: &str, cat: &Catalogue) -> Value {
    let mut body = json!({});
    let set = |body: &mut Value, ptr: &str, v: Value| {
        let mut cur = body;
        for part in ptr.trim_start_matches('/').split('/') {
            if cur.get(part).is_none() {
                cur[part] = json!({});
            }
            cur = &mut cur[part];
        }
        *cur = v;
    };
    let has = |inv: &Invocation, p: &str| inv.named.iter().any(|(n, _)| n == p);
    let var = |name: &str| {
        let v = assignments(text, name);
        assert_eq!(v.len(), 1, "${name}: {v:?}");
        v[0].clone()
    };
    let os = "/properties/osProfile";
    let mut nic: Option<Value> = None;
    for inv in invocations(text, &|c, p| cat.is_switch(c, p)) {
        match inv.name.as_str() {
            "New-AzNetworkInterface" => {
                assert!(word_on_line(text, inv.line, "Name").as_deref() == Some("$nicName"));
                assert!(!has(&inv, "Force"), "never -Force");
                nic = Some(
                    json!({"name": var("nicName"), "properties": {"ipConfigurations": [{
                        "name": lit1(&inv, "IpConfigurationName").unwrap(),
                        "properties": {"subnet": {"id": lit1(&inv, "SubnetId").unwrap()}}
                    }]}}),
                );
            }
            "New-AzVMConfig" => {
                assert_eq!(
                    word_on_line(text, inv.line, "VMName").as_deref(),
                    Some("$vmName")
                );
                set(
                    &mut body,
                    "/properties/hardwareProfile/vmSize",
                    json!(lit1(&inv, "VMSize").unwrap()),
                );
                if let Some(t) = lit1(&inv, "IdentityType") {
                    let wire = match t.as_str() {
                        "SystemAssignedUserAssigned" => "SystemAssigned, UserAssigned",
                        other => other,
                    };
                    set(&mut body, "/identity/type", json!(wire));
                    if has(&inv, "IdentityId") {
                        let ids = array_assignment(text, "identityIds").unwrap();
                        let map: serde_json::Map<String, Value> =
                            ids.into_iter().map(|i| (i, json!({}))).collect();
                        set(
                            &mut body,
                            "/identity/userAssignedIdentities",
                            Value::Object(map),
                        );
                    }
                }
            }
            "Set-AzVMOperatingSystem" => {
                set(
                    &mut body,
                    &format!("{os}/computerName"),
                    json!(lit1(&inv, "ComputerName").unwrap()),
                );
                assert_eq!(
                    word_on_line(text, inv.line, "Credential").as_deref(),
                    Some("$adminCredential")
                );
                assert!(text.contains(
                    "$adminCredential = [System.Management.Automation.PSCredential]::new($adminUsername, $adminPassword)"
                ));
                let user = var("adminUsername");
                set(&mut body, &format!("{os}/adminUsername"), json!(user));
                if text.contains("$adminPassword = Read-Host -AsSecureString") {
                    set(
                        &mut body,
                        &format!("{os}/adminPassword"),
                        json!(ADMIN_PASSWORD_SLOT),
                    );
                } else {
                    assert!(has(&inv, "DisablePasswordAuthentication"), "{text}");
                }
                if has(&inv, "Linux") {
                    set(
                        &mut body,
                        &format!("{os}/linuxConfiguration/disablePasswordAuthentication"),
                        json!(has(&inv, "DisablePasswordAuthentication")),
                    );
                } else {
                    assert!(has(&inv, "Windows"));
                    set(
                        &mut body,
                        &format!("{os}/windowsConfiguration/provisionVMAgent"),
                        json!(!has(&inv, "DisableVMAgent")),
                    );
                    set(
                        &mut body,
                        &format!("{os}/windowsConfiguration/enableAutomaticUpdates"),
                        json!(has(&inv, "EnableAutoUpdate")),
                    );
                }
            }
            "Add-AzVMSshPublicKey" => {
                let ptr = format!("{os}/linuxConfiguration/ssh/publicKeys");
                let key = json!({"path": lit1(&inv, "Path").unwrap(), "keyData": lit1(&inv, "KeyData").unwrap()});
                match body.pointer_mut(&ptr) {
                    Some(Value::Array(a)) => a.push(key),
                    _ => set(&mut body, &ptr, json!([key])),
                }
            }
            "Set-AzVMSourceImage" => {
                for (p, k) in [
                    ("PublisherName", "publisher"),
                    ("Offer", "offer"),
                    ("Skus", "sku"),
                    ("Version", "version"),
                ] {
                    set(
                        &mut body,
                        &format!("/properties/storageProfile/imageReference/{k}"),
                        json!(lit1(&inv, p).unwrap()),
                    );
                }
            }
            "Set-AzVMOSDisk" => {
                for (p, ptr) in [
                    ("CreateOption", "createOption"),
                    ("Caching", "caching"),
                    ("StorageAccountType", "managedDisk/storageAccountType"),
                ] {
                    if let Some(v) = lit1(&inv, p) {
                        set(
                            &mut body,
                            &format!("/properties/storageProfile/osDisk/{ptr}"),
                            json!(v),
                        );
                    }
                }
            }
            "Add-AzVMNetworkInterface" => {
                assert_eq!(
                    word_on_line(text, inv.line, "Id").as_deref(),
                    Some("$nic.Id")
                );
                let mut n = nic.take().expect("New-AzNetworkInterface first");
                if has(&inv, "Primary") {
                    n["properties"]["primary"] = json!(true);
                }
                set(
                    &mut body,
                    "/properties/networkProfile/networkInterfaceConfigurations",
                    json!([n]),
                );
            }
            "New-AzVM" => {
                assert_eq!(
                    word_on_line(text, inv.line, "Location").as_deref(),
                    Some("$location")
                );
                set(&mut body, "/location", json!(var("location")));
            }
            _ => {}
        }
    }
    body
}

/// The Az PowerShell VM create is the idiomatic chain (New-AzNetworkInterface, New-AzVMConfig
/// -IdentityType, the profile cmdlets, New-AzVM -IfNoneMatch '*'), bound to real parameter sets;
/// read back by the cmdlet model it is the plan's PUT body, save the NIC's form (a resource, not
/// a configuration: no networkApiVersion), and it stops first if the VM or the NIC exists.
#[test]
fn az_powershell_vm_create_chain_builds_the_plans_body() {
    let cat = Catalogue::az();
    let mut n = 0;
    for (name, spec) in vm_specs() {
        let p = create_vm(&spec);
        let sp = ScriptPlan::from_vm(Cloud::AzureCloud, &spec, &p);
        let Outcome::Requests(reqs) = &sp.outcome else {
            continue;
        };
        let text = generate(&sp, Flavour::AzPowerShell).text;
        check_powershell(name, Flavour::AzPowerShell, &text, &cat);
        assert!(
            !text.contains("Invoke-RestMethod"),
            "{name}: fell back to REST\n{text}"
        );
        let mut want = reqs[0].body.clone().unwrap();
        let np = want["properties"]["networkProfile"]
            .as_object_mut()
            .unwrap();
        assert!(np.remove("networkApiVersion").is_some());
        assert!(
            text.contains("networkApiVersion belongs to NIC configurations"),
            "{text}"
        );
        let built = body_from_az_vm_chain(&text, &cat);
        assert_eq!(built, want, "{name}\n{text}");

        let bound = cat.check_script(&text).unwrap();
        let set_of = |c: &str| {
            bound
                .iter()
                .find(|(x, _)| x == c)
                .map(|(_, s)| s.clone())
                .unwrap_or_else(|| panic!("{name}: {c} not bound: {bound:?}"))
        };
        assert_eq!(set_of("New-AzVMConfig"), "ExplicitIdentityParameterSet");
        assert_eq!(set_of("New-AzVM"), "DefaultParameterSet");
        assert_eq!(set_of("New-AzNetworkInterface"), "SetByResourceId");
        assert_eq!(set_of("Add-AzVMNetworkInterface"), "GetNicFromNicId");
        assert_eq!(
            set_of("Set-AzVMOperatingSystem"),
            if spec.image.os() == identity_core::naming::OsType::Windows {
                "Windows"
            } else {
                "Linux"
            }
        );
        let invs = invocations(&text, &|c, p| cat.is_switch(c, p));
        let line_of = |c: &str| invs.iter().find(|i| i.name == c).unwrap().line;
        let new = invs.iter().find(|i| i.name == "New-AzVM").unwrap();
        assert_eq!(lit1(new, "IfNoneMatch").as_deref(), Some("*"));
        // both existence checks run before anything is created
        assert!(
            line_of("Get-AzVM") < line_of("New-AzNetworkInterface"),
            "{text}"
        );
        assert!(
            line_of("Get-AzNetworkInterface") < line_of("New-AzNetworkInterface"),
            "{text}"
        );
        assert!(text.contains(&format!(
            "creates a NIC resource named '{}'",
            want["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]["name"]
                .as_str()
                .unwrap()
        )));
        assert!(text.starts_with("#Requires -Modules @{ ModuleName = 'Az.Accounts'; ModuleVersion = '3.0.0' }, @{ ModuleName = 'Az.Compute'; ModuleVersion = '8.0.0' }, 'Az.Network'"), "{text}");
        assert_eq!(
            assignments(&text, "resourceGroupName"),
            vec![spec.resource_group.clone()]
        );
        assert_eq!(assignments(&text, "vmName"), vec![spec.name.clone()]);
        // the password stays a SecureString: read by Read-Host, put in the PSCredential, never
        // turned into plain text nor into a command's argument
        for line in text.lines().filter(|l| l.contains("$adminPassword")) {
            assert!(
                line.starts_with("$adminPassword = Read-Host -AsSecureString -Prompt ")
                    || line == "$adminPassword = [System.Security.SecureString]::new()"
                    || line == "$adminPassword.AppendChar(' ')"
                    || line
                        == "$adminCredential = [System.Management.Automation.PSCredential]::new($adminUsername, $adminPassword)",
                "{name}: {line}"
            );
        }
        n += 1;
    }
    assert_eq!(n, 3);
}

/// Options that take several values (nargs '+' / '*'): the words up to the next `--option`.
fn args_after(call: &[String], flag: &str) -> Option<Vec<String>> {
    let i = call.iter().position(|a| a == flag)?;
    Some(
        call[i + 1..]
            .iter()
            .take_while(|a| !a.starts_with("--"))
            .cloned()
            .collect(),
    )
}

/// `az vmss create` in bash, run with a fake az: each option carries the body's value (the
/// password typed at run time arrives exactly), no load balancer or public IP, the identities.
#[test]
fn cli_bash_vmss_create_carries_the_plans_body() {
    let mut n = 0;
    for (name, spec) in create_specs_for_equivalence() {
        let p = create_scale_set(&spec);
        let sp = ScriptPlan::from_scale_set(Cloud::AzureCloud, &spec, &p);
        let Outcome::Requests(reqs) = &p.outcome else {
            continue;
        };
        let body = reqs[0].body.as_ref().unwrap();
        let sh = generate(&sp, Flavour::CliBash).text;
        assert!(!sh.contains("P@ss"), "{name}");
        let calls = run_bash_full(&sh, None, &[], "", &format!("{TEST_PASSWORD}\n"));
        let c = calls
            .iter()
            .find(|c| c[0] == "vmss" && c[1] == "create")
            .unwrap_or_else(|| panic!("{name}: {calls:?}"));
        let vmp = &body["properties"]["virtualMachineProfile"];
        let os = &vmp["osProfile"];
        let img = &vmp["storageProfile"]["imageReference"];
        let s = |v: &Value| v.as_str().unwrap().to_string();
        for (flag, want) in [
            ("--resource-group", spec.resource_group.clone()),
            ("--name", spec.name.clone()),
            ("--location", s(&body["location"])),
            (
                "--orchestration-mode",
                s(&body["properties"]["orchestrationMode"]),
            ),
            ("--vm-sku", s(&body["sku"]["name"])),
            ("--instance-count", body["sku"]["capacity"].to_string()),
            (
                "--image",
                format!(
                    "{}:{}:{}:{}",
                    s(&img["publisher"]),
                    s(&img["offer"]),
                    s(&img["sku"]),
                    s(&img["version"])
                ),
            ),
            (
                "--subnet",
                s(
                    &vmp["networkProfile"]["networkInterfaceConfigurations"][0]["properties"]["ipConfigurations"]
                        [0]["properties"]["subnet"]["id"],
                ),
            ),
            (
                "--upgrade-policy-mode",
                s(&body["properties"]["upgradePolicy"]["mode"]),
            ),
            ("--computer-name-prefix", s(&os["computerNamePrefix"])),
            ("--admin-username", s(&os["adminUsername"])),
            (
                "--storage-sku",
                s(&vmp["storageProfile"]["osDisk"]["managedDisk"]["storageAccountType"]),
            ),
            (
                "--os-disk-caching",
                s(&vmp["storageProfile"]["osDisk"]["caching"]),
            ),
            ("--accelerated-networking", "false".into()),
        ] {
            assert_eq!(arg_after(c, flag), Some(want), "{name}: {flag} in {c:?}");
        }
        assert!(c.contains(&"--lb=".to_string()), "{name}");
        assert!(c.contains(&"--public-ip-address=".to_string()), "{name}");
        assert_eq!(
            c.contains(&"--disable-overprovision".to_string()),
            body["properties"]["overprovision"] == json!(false),
            "{name}"
        );
        match body["properties"].get("platformFaultDomainCount") {
            Some(v) => assert_eq!(
                arg_after(c, "--platform-fault-domain-count"),
                Some(v.to_string())
            ),
            None => assert!(!c.contains(&"--platform-fault-domain-count".to_string())),
        }
        assert_eq!(
            arg_after(c, "--network-api-version").as_deref(),
            vmp["networkProfile"]["networkApiVersion"].as_str(),
            "{name}"
        );
        // admin credential: az vmss create prompts for the password itself, never in argv
        let pw = c.iter().find(|a| a.starts_with("--admin-password"));
        assert_eq!(pw, None, "{name}");
        assert!(!c.iter().any(|a| a.contains("P@ss")), "{name}");
        if os.get("adminPassword").is_some() {
            assert!(
                !sh.contains("read -rs"),
                "{name}: az asks for the password itself"
            );
            assert_eq!(
                arg_after(c, "--authentication-type").as_deref(),
                Some("password")
            );
        } else {
            let keys: Vec<String> = os["linuxConfiguration"]["ssh"]["publicKeys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| s(&k["keyData"]))
                .collect();
            assert_eq!(args_after(c, "--ssh-key-values"), Some(keys), "{name}");
            assert_eq!(
                arg_after(c, "--authentication-type").as_deref(),
                Some("ssh")
            );
        }
        // identities: [system] and the user-assigned ids of the body, nothing else
        let mut want: Vec<String> = Vec::new();
        let ty = body["identity"]["type"].as_str().unwrap_or("None");
        if ty.contains("SystemAssigned") {
            want.push("[system]".into());
        }
        if let Some(m) = body["identity"]["userAssignedIdentities"].as_object() {
            want.extend(m.keys().cloned());
        }
        if want.is_empty() {
            assert!(!c.contains(&"--assign-identity".to_string()), "{name}");
        } else {
            let mut got = args_after(c, "--assign-identity").unwrap();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{name}");
        }
        n += 1;
    }
    assert!(n >= 6, "{n}");
}

/// The words PowerShell passes to each `az` call, decoded from the parse tree: single-quoted
/// literals by PowerShell's rules, bare words as written, `"…$var…"` with `vars` substituted.
fn ps_native_az_args(src: &str, vars: &[(&str, &str)]) -> Vec<Vec<String>> {
    let tree = parse(src);
    let mut out = Vec::new();
    walk(tree.root_node(), &mut |n| {
        if n.kind() != "command" {
            return;
        }
        let Some(name) = n.child_by_field_name("command_name") else {
            return;
        };
        if &src[name.byte_range()] != "az" {
            return;
        }
        let mut args = Vec::new();
        if let Some(elems) = n.child_by_field_name("command_elements") {
            let mut c = elems.walk();
            for k in elems.children(&mut c) {
                if matches!(k.kind(), "command_argument_sep" | "comment") {
                    continue;
                }
                let t = &src[k.byte_range()];
                let v = if let Some(v) = ps_unquote(t) {
                    v
                } else if let Some(inner) = t.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                    let (mut s, mut bare) = (inner.to_string(), inner.to_string());
                    for (var, val) in vars {
                        s = s.replace(&format!("${var}"), val);
                        bare = bare.replace(&format!("${var}"), "");
                    }
                    assert!(!bare.contains(['$', '`', '"']), "not modelled: {t}");
                    s
                } else {
                    t.to_string()
                };
                args.push(v);
            }
        }
        out.push(args);
    });
    out
}

/// The PowerShell form of `az vmss create` passes exactly the words of the bash form (which is
/// checked against the body above), the password included once read at run time.
#[test]
fn cli_powershell_vmss_create_passes_the_same_words_as_bash() {
    let mut n = 0;
    for (name, spec) in create_specs_for_equivalence() {
        let p = create_scale_set(&spec);
        if p.refusal().is_some() {
            continue;
        }
        let sp = ScriptPlan::from_scale_set(Cloud::AzureCloud, &spec, &p);
        let sh = generate(&sp, Flavour::CliBash).text;
        let ps = generate(&sp, Flavour::CliPowerShell).text;
        assert!(!ps.contains("P@ss"), "{name}");
        let bash_calls = run_bash_full(&sh, None, &[], "", &format!("{TEST_PASSWORD}\n"));
        let bash = bash_calls
            .iter()
            .find(|c| c[0] == "vmss" && c[1] == "create")
            .unwrap();
        let ps_calls = ps_native_az_args(&ps, &[("adminPasswordPlain", TEST_PASSWORD)]);
        let pwsh = ps_calls
            .iter()
            .find(|c| c.len() > 1 && c[0] == "vmss" && c[1] == "create")
            .unwrap_or_else(|| panic!("{name}: {ps_calls:?}"));
        assert_eq!(pwsh, bash, "{name}\n{ps}");
        if spec.identity.system_assigned {
            assert!(pwsh.contains(&"[system]".to_string()));
        }
        n += 1;
    }
    assert!(n >= 6, "{n}");
}

/// Every `--option` the generated `az vmss create` passes (bash and PowerShell) is one that
/// azure-cli 2.91.0 defines for the command (tests/support/az-vmss-create-options.json).
#[test]
fn vmss_create_uses_only_options_az_defines() {
    let path = format!(
        "{}/tests/support/az-vmss-create-options.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let known: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let known = known["options"].as_object().unwrap();
    let mut n = 0;
    for (name, spec) in create_specs_for_equivalence() {
        let p = create_scale_set(&spec);
        if p.refusal().is_some() {
            continue;
        }
        let sp = ScriptPlan::from_scale_set(Cloud::AzureCloud, &spec, &p);
        let ps = generate(&sp, Flavour::CliPowerShell).text;
        for call in ps_native_az_args(&ps, &[("adminPasswordPlain", "pw")]) {
            if call.len() < 2 || call[0] != "vmss" || call[1] != "create" {
                continue;
            }
            for a in call.iter().filter(|a| a.starts_with("--")) {
                let opt = a.split('=').next().unwrap();
                assert!(
                    known.contains_key(opt),
                    "{name}: {opt} is not an az vmss create option"
                );
                n += 1;
            }
        }
    }
    assert!(n > 60, "{n}");
}

/// `az vm create` in bash, run with a fake az: it passes only options azure-cli 2.91.0 defines
/// for the command, each carrying the body's value; the password never in argv; it stops
/// before creating when a VM of that name exists; the PowerShell form passes the same words.
#[test]
fn cli_vm_create_carries_the_plans_body_and_stops_if_the_vm_exists() {
    let path = format!(
        "{}/tests/support/az-vm-create-options.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let known: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let known = known["options"].as_object().unwrap();
    let mut checked = 0;
    for (name, spec) in vm_specs() {
        let p = create_vm(&spec);
        let sp = ScriptPlan::from_vm(Cloud::AzureCloud, &spec, &p);
        let sh = generate(&sp, Flavour::CliBash).text;
        if p.refusal().is_some() {
            assert!(!sh.contains("az vm create"), "{name}");
            continue;
        }
        let body = p.requests()[0].body.clone().unwrap();
        let calls = run_bash_full(&sh, None, &[], "", "");
        let c = calls
            .iter()
            .find(|c| c.len() > 1 && c[0] == "vm" && c[1] == "create")
            .unwrap_or_else(|| panic!("{name}: no az vm create {calls:?}"));
        for a in c.iter().filter(|a| a.starts_with("--")) {
            let opt = a.split('=').next().unwrap();
            assert!(
                known.contains_key(opt),
                "{name}: {opt} is not an az vm create option"
            );
            assert_ne!(opt, "--admin-password", "{name}: the password in argv");
        }
        let img = &body["properties"]["storageProfile"]["imageReference"];
        let urn = format!(
            "{}:{}:{}:{}",
            img["publisher"].as_str().unwrap(),
            img["offer"].as_str().unwrap(),
            img["sku"].as_str().unwrap(),
            img["version"].as_str().unwrap()
        );
        let np = &body["properties"]["networkProfile"]["networkInterfaceConfigurations"][0];
        for (opt, want) in [
            ("--resource-group", json!(spec.resource_group)),
            ("--name", json!(spec.name)),
            ("--location", body["location"].clone()),
            (
                "--size",
                body["properties"]["hardwareProfile"]["vmSize"].clone(),
            ),
            ("--image", json!(urn)),
            (
                "--subnet",
                np["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"].clone(),
            ),
            (
                "--admin-username",
                body["properties"]["osProfile"]["adminUsername"].clone(),
            ),
            (
                "--storage-sku",
                body["properties"]["storageProfile"]["osDisk"]["managedDisk"]["storageAccountType"]
                    .clone(),
            ),
            ("--public-ip-address=", json!(null)),
            ("--nsg=", json!(null)),
        ] {
            if opt.ends_with('=') {
                assert!(c.contains(&opt.to_string()), "{name}: {opt} {c:?}");
            } else {
                assert_eq!(
                    arg_after(c, opt).map(Value::from),
                    Some(want),
                    "{name}: {opt}"
                );
            }
        }
        let password = matches!(spec.admin_auth, AdminAuth::Password(_));
        assert_eq!(
            arg_after(c, "--authentication-type").as_deref(),
            Some(if password { "password" } else { "ssh" }),
            "{name}"
        );
        if let AdminAuth::SshPublicKey(k) = &spec.admin_auth {
            assert_eq!(
                args_after(c, "--ssh-key-values"),
                Some(vec![k.clone()]),
                "{name}"
            );
        }
        let mut ids: Vec<String> = Vec::new();
        if spec.identity.system_assigned {
            ids.push("[system]".into());
        }
        ids.extend(spec.identity.user_assigned.iter().cloned());
        assert_eq!(args_after(c, "--assign-identity"), Some(ids), "{name}");
        // the existence check comes first; a VM of that name stops the script before any create
        let show = calls
            .iter()
            .position(|c| c.len() > 1 && c[0] == "vm" && c[1] == "show");
        let create = calls
            .iter()
            .position(|c| c.len() > 1 && c[0] == "vm" && c[1] == "create");
        assert!(show.is_some() && show < create, "{name}: {calls:?}");
        let (out, calls) = run_bash_env(&sh, None, &[], "", "", &[("FAKE_SHOW_RC", "0")]);
        assert!(!out.status.success(), "{name}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("already exists"),
            "{name}"
        );
        assert!(
            !calls
                .iter()
                .any(|c| c.len() > 1 && c[0] == "vm" && c[1] == "create"),
            "{name}"
        );
        // PowerShell passes the same words
        let ps = generate(&sp, Flavour::CliPowerShell).text;
        assert!(
            syntax_errors(&ps).is_empty(),
            "{name}: {:?}",
            syntax_errors(&ps)
        );
        let words: Vec<String> = ps_native_az_args(&ps, &[])
            .into_iter()
            .find(|w| w.len() > 1 && w[0] == "vm" && w[1] == "create")
            .unwrap()
            .into_iter()
            .filter(|w| !w.is_empty())
            .collect();
        assert_eq!(&words, c, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 3);
}

/// The VM create's exact forms send the plan's PUT with the password read at run time; the
/// Az PowerShell chain reads it as a SecureString into the credential.
#[test]
fn create_vm_password_is_read_at_run_time_and_sent_exactly() {
    for (name, spec) in vm_specs() {
        let original = create_vm(&spec);
        let sp = ScriptPlan::from_vm(Cloud::AzureCloud, &spec, &original);
        for s in generate_all(&sp) {
            assert!(
                !s.text.contains("P@ss"),
                "{name} {:?} leaks the password",
                s.flavour
            );
        }
        let Outcome::Requests(reqs) = &original.outcome else {
            continue;
        };
        let sh = generate(&sp, Flavour::CliRestBash).text;
        let calls = run_bash_full(&sh, None, &[], "", &format!("{TEST_PASSWORD}\n"));
        let rest = calls.iter().find(|c| c[0] == "rest").unwrap();
        let body: Value = serde_json::from_str(&arg_after(rest, "--body").unwrap()).unwrap();
        assert_eq!(Some(&body), reqs[0].body.as_ref(), "{name}");
        assert_eq!(arg_after(rest, "--method").unwrap(), "put");
        assert!(
            arg_after(rest, "--url")
                .unwrap()
                .contains("/virtualMachines/"),
            "{name}"
        );
        let h: Value = serde_json::from_str(&arg_after(rest, "--headers").unwrap()).unwrap();
        assert_eq!(h["If-None-Match"], "*");
        assert!(
            calls.iter().any(|c| c[0] == "vm" && c[1] == "wait"),
            "{name}: {calls:?}"
        );
        let az = generate(&sp, Flavour::AzPowerShell).text;
        assert!(
            az.contains("New-AzVM ") && az.contains(" -IfNoneMatch '*'"),
            "{name}"
        );
        if let AdminAuth::Password(_) = spec.admin_auth {
            // the password is read as a SecureString and goes in a PSCredential, never in argv
            assert!(
                az.contains("$adminPassword = Read-Host -AsSecureString")
                    && az.contains("-Credential $adminCredential"),
                "{name}"
            );
        }
    }
}

// ---- fuzzing the create scripts' quoting ----

mod create_fuzz {
    use super::*;
    use proptest::prelude::*;

    fn nasty_char() -> impl Strategy<Value = char> {
        prop_oneof![
            3 => prop::sample::select(vec![
                '\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}', '"', '\u{201C}', '$', '`', ';',
                '\n', '\r', '\t', ' ', '(', ')', '{', '}', '@', '#', '<', '>', '|', '&', '\\', '%', '!',
                '*', '[', ']', '\u{2028}', '-', '=', 'é', '中', '\u{1F600}',
            ]),
            2 => any::<char>().prop_filter("no NUL", |c| *c != '\0'),
            2 => prop::char::range('a', 'z'),
        ]
    }

    /// Non-empty (the fake az's log cannot show an empty argument).
    fn nasty() -> impl Strategy<Value = String> {
        prop::collection::vec(nasty_char(), 1..20).prop_map(|v| v.into_iter().collect())
    }

    /// `--flag value` or `--flag=value` (the form used for values starting with '-').
    fn opt(call: &[String], flag: &str) -> Option<String> {
        arg_after(call, flag).or_else(|| {
            call.iter()
                .find_map(|a| a.strip_prefix(&format!("{flag}=")).map(str::to_string))
        })
    }

    /// An argument azure-cli would read as a file (`@file`, `--x=@file`); `@-` (standard input) is how the
    /// scripts hand az rest a body.
    fn file_reference(a: &str) -> bool {
        let v = match a.strip_prefix("--").and_then(|r| r.split_once('=')) {
            Some((_, v)) => v,
            None => a,
        };
        v.starts_with('@') && v != "@-"
    }

    /// A value starting with `@` cannot be passed to an az command: the idiomatic scripts are the exact PUT
    /// (`az rest`, the body as the app sends it) and no az argument is a file reference, in bash and in PowerShell.
    fn exact_fallback(
        calls: &[Vec<String>],
        cli_ps: &str,
        body: &serde_json::Value,
    ) -> Result<(), TestCaseError> {
        prop_assert!(
            !calls.iter().any(|c| c.len() > 1 && c[1] == "create"),
            "{:?}",
            calls
        );
        let put = calls
            .iter()
            .find(|c| c[0] == "rest" && opt(c, "--method").as_deref() == Some("put"));
        prop_assert!(put.is_some(), "{:?}", calls);
        let sent: serde_json::Value =
            serde_json::from_str(&opt(put.unwrap(), "--body").unwrap()).unwrap();
        prop_assert_eq!(&sent, body);
        prop_assert!(
            syntax_errors(cli_ps).is_empty(),
            "{:?}\n{}",
            syntax_errors(cli_ps),
            cli_ps
        );
        let words = ps_native_az_args(cli_ps, &[]);
        prop_assert!(
            !words.iter().any(|w| w.len() > 1 && w[1] == "create"),
            "{:?}",
            words
        );
        prop_assert!(words.iter().any(|w| w.first().is_some_and(|x| x == "rest")));
        for w in &words {
            prop_assert!(!w.iter().any(|a| file_reference(a)), "{:?}", w);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

        /// Arbitrary strings in every user-supplied part of a create body (not validated here:
        /// the quoting must hold whatever reaches it): the New-AzVmssConfig chain parses and
        /// rebuilds the body exactly; bash's az gets each value exactly; PowerShell's az the
        /// same words.
        #[test]
        fn create_scripts_carry_arbitrary_strings(
            rg in nasty(), name in nasty(), location in nasty(), sku in nasty(), user in nasty(),
            key in nasty(), subnet in nasty(), id1 in nasty(), id2 in nasty(), system in any::<bool>(),
        ) {
            let mut spec = scale_set_specs()[0].1.clone();
            spec.identity = IdentityRequest { system_assigned: true, user_assigned: vec![] };
            let valid = create_scale_set(&spec);
            prop_assert!(valid.refusal().is_none());
            spec.resource_group = rg.clone();
            spec.name = name.clone();
            spec.location = location;
            spec.sku = sku;
            spec.admin_username = user.clone();
            spec.admin_auth = AdminAuth::SshPublicKey(format!("ssh-ed25519 {key}"));
            spec.subnet_id = format!("/{subnet}");
            spec.identity = IdentityRequest {
                system_assigned: system,
                user_assigned: vec![format!("/{id1}"), format!("/{id2}")],
            };
            let body = spec.body();
            let mut plan = valid;
            if let Outcome::Requests(r) = &mut plan.outcome {
                r[0].body = Some(body.clone());
            }
            plan.after = Identities {
                system,
                user: spec.identity.user_assigned.clone(),
            }
            .to_state();
            let sp = ScriptPlan::from_scale_set(Cloud::AzureCloud, &spec, &plan);

            let cat = Catalogue::az();
            let ps = generate(&sp, Flavour::AzPowerShell).text;
            prop_assert!(syntax_errors(&ps).is_empty(), "{:?}\n{}", syntax_errors(&ps), ps);
            prop_assert!(cat.check_script(&ps).is_ok(), "{:?}", cat.check_script(&ps));
            prop_assert_eq!(body_from_az_chain(&ps, &cat), body.clone());
            prop_assert_eq!(assignments(&ps, "resourceGroupName"), vec![rg.clone()]);
            prop_assert_eq!(assignments(&ps, "vmssName"), vec![name.clone()]);

            let sh = generate(&sp, Flavour::CliBash).text;
            let calls = run_bash_full(&sh, None, &[], "", "");
            if [&rg, &name, &spec.location, &spec.sku, &user].iter().any(|v| v.starts_with('@')) {
                return exact_fallback(&calls, &generate(&sp, Flavour::CliPowerShell).text, &body);
            }
            let c = calls.iter().find(|c| c[0] == "vmss" && c[1] == "create").unwrap();
            prop_assert_eq!(opt(c, "--resource-group"), Some(rg));
            prop_assert_eq!(opt(c, "--name"), Some(name));
            prop_assert_eq!(opt(c, "--admin-username"), Some(user));
            prop_assert_eq!(opt(c, "--subnet"), Some(format!("/{subnet}")));
            prop_assert_eq!(args_after(c, "--ssh-key-values"), Some(vec![format!("ssh-ed25519 {key}")]));
            let mut want = spec.identity.user_assigned.clone();
            if system {
                want.insert(0, "[system]".into());
            }
            prop_assert_eq!(args_after(c, "--assign-identity"), Some(want));

            let cli_ps = generate(&sp, Flavour::CliPowerShell).text;
            prop_assert!(syntax_errors(&cli_ps).is_empty(), "{:?}\n{}", syntax_errors(&cli_ps), cli_ps);
            let words: Vec<String> = ps_native_az_args(&cli_ps, &[])
                .into_iter()
                .find(|w| w.len() > 1 && w[0] == "vmss" && w[1] == "create")
                .unwrap()
                .into_iter()
                .filter(|w| !w.is_empty())
                .collect();
            prop_assert_eq!(&words, c);
        }
        /// The same for a VM: `az vm create` gets each value exactly in bash and the same words
        /// in PowerShell; the exact forms (Az PowerShell, az rest) parse and carry the body.
        #[test]
        fn vm_create_scripts_carry_arbitrary_strings(
            rg in nasty(), name in nasty(), location in nasty(), size in nasty(), user in nasty(),
            key in nasty(), subnet in nasty(), id1 in nasty(), system in any::<bool>(),
        ) {
            let mut spec = vm_specs()[0].1.clone();
            spec.identity = IdentityRequest { system_assigned: true, user_assigned: vec![] };
            let valid = create_vm(&spec);
            prop_assert!(valid.refusal().is_none());
            spec.resource_group = rg.clone();
            spec.name = name.clone();
            spec.location = location.clone();
            spec.size = size.clone();
            spec.admin_username = user.clone();
            spec.admin_auth = AdminAuth::SshPublicKey(format!("ssh-ed25519 {key}"));
            spec.subnet_id = format!("/{subnet}");
            spec.identity = IdentityRequest {
                system_assigned: system,
                user_assigned: vec![format!("/{id1}")],
            };
            let body = spec.body();
            let mut plan = valid;
            if let Outcome::Requests(r) = &mut plan.outcome {
                r[0].body = Some(body.clone());
            }
            plan.after = Identities {
                system,
                user: spec.identity.user_assigned.clone(),
            }
            .to_state();
            let sp = ScriptPlan::from_vm(Cloud::AzureCloud, &spec, &plan);

            let cat = Catalogue::az();
            let ps = generate(&sp, Flavour::AzPowerShell).text;
            prop_assert!(syntax_errors(&ps).is_empty(), "{:?}\n{}", syntax_errors(&ps), ps);
            prop_assert!(cat.check_script(&ps).is_ok(), "{:?}", cat.check_script(&ps));
            // the New-AzVMConfig chain, read back, is the body (the NIC as a resource)
            let mut want = body.clone();
            want["properties"]["networkProfile"].as_object_mut().unwrap().remove("networkApiVersion");
            prop_assert_eq!(body_from_az_vm_chain(&ps, &cat), want);

            let sh = generate(&sp, Flavour::CliBash).text;
            let calls = run_bash_full(&sh, None, &[], "", "");
            if [&rg, &name, &location, &size, &user].iter().any(|v| v.starts_with('@')) {
                return exact_fallback(&calls, &generate(&sp, Flavour::CliPowerShell).text, &body);
            }
            let c = calls.iter().find(|c| c[0] == "vm" && c[1] == "create").unwrap();
            prop_assert_eq!(opt(c, "--resource-group"), Some(rg));
            prop_assert_eq!(opt(c, "--name"), Some(name));
            prop_assert_eq!(opt(c, "--location"), Some(location));
            prop_assert_eq!(opt(c, "--size"), Some(size));
            prop_assert_eq!(opt(c, "--admin-username"), Some(user));
            prop_assert_eq!(opt(c, "--subnet"), Some(format!("/{subnet}")));
            prop_assert_eq!(args_after(c, "--ssh-key-values"), Some(vec![format!("ssh-ed25519 {key}")]));
            let mut want = spec.identity.user_assigned.clone();
            if system {
                want.insert(0, "[system]".into());
            }
            prop_assert_eq!(args_after(c, "--assign-identity"), Some(want));

            let cli_ps = generate(&sp, Flavour::CliPowerShell).text;
            prop_assert!(syntax_errors(&cli_ps).is_empty(), "{:?}\n{}", syntax_errors(&cli_ps), cli_ps);
            let words: Vec<String> = ps_native_az_args(&cli_ps, &[])
                .into_iter()
                .find(|w| w.len() > 1 && w[0] == "vm" && w[1] == "create")
                .unwrap()
                .into_iter()
                .filter(|w| !w.is_empty())
                .collect();
            prop_assert_eq!(&words, c);

            let rest = generate(&sp, Flavour::CliRestBash).text;
            let calls = run_bash_full(&rest, None, &[], "", "");
            let r = calls.iter().find(|c| c[0] == "rest").unwrap();
            let sent: Value = serde_json::from_str(&arg_after(r, "--body").unwrap()).unwrap();
            prop_assert_eq!(sent, body);
        }
    }
}

// ---- the CLI PowerShell flavours pass the bash flavours' words (tests/az-cli runs the bash ones under the
// real azure-cli against armsim; no PowerShell runs here, so the PowerShell ones are held to the same argv) ----

/// The `az` argument lists of a CLI PowerShell script as PowerShell's tokenizer gives them (tree-sitter;
/// single-quoted literals decoded by `ps_unquote`). Bodies reach `az rest` on standard input (`--body @-`) in
/// both shells, so the words compare as they are; `None` when a value is built at run time (the create body
/// around a password read then).
fn ps_az_words_with_files(src: &str) -> Option<Vec<Vec<String>>> {
    // `$bodyN = '…'` then `$bodyN | az … --body '@-'`: the k-th `@-` reads the k-th piped variable's text
    let mut piped = Vec::new();
    for line in src.lines() {
        if let Some((var, rest)) = line.split_once(" | ")
            && var.starts_with('$')
            && rest.contains("--body '@-'")
        {
            piped.push(var.to_string());
        }
    }
    let mut texts = Vec::new();
    for var in &piped {
        let start = format!("{var} = ");
        let at = src.find(&start)? + start.len();
        let lit = &src[at..];
        if !lit.starts_with('\'') {
            return None; // built at run time (around a password read then)
        }
        // the literal ends at the first lone quote followed by a line end
        let end = lit
            .match_indices("'\n")
            .map(|(i, _)| i + 1)
            .find(|&i| ps_unquote(&lit[..i]).is_some())?;
        texts.push(ps_unquote(&lit[..end])?);
    }
    let mut words = ps_native_az_args(src, &[("adminPasswordPlain", TEST_PASSWORD)]);
    let mut next = texts.into_iter();
    for call in &mut words {
        if let Some(i) = call.iter().position(|w| w == "--body")
            && call.get(i + 1).is_some_and(|w| w == "@-")
        {
            call[i + 1] = next.next()?;
        }
    }
    Some(words)
}

/// One word for comparison: a JSON argument (inline in bash, `@file` in PowerShell) by its value.
fn az_word(w: &str) -> String {
    let json = |t: &str| {
        serde_json::from_str::<Value>(t)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
            .map(|v| format!("json:{v}"))
    };
    if let Some(file) = w.strip_prefix("@\u{1}") {
        return json(file).unwrap_or_else(|| format!("file:{file}"));
    }
    json(w).unwrap_or_else(|| w.to_string())
}

#[test]
fn cli_powershell_flavours_pass_the_same_az_words_as_bash() {
    let mut calls = 0;
    for (name, sp) in all_plans() {
        if matches!(sp.outcome, Outcome::Refused(_)) {
            // one throw / echo + exit 1, no az call: refused_cli_scripts_exit_non_zero_and_no_ops_exit_zero
            continue;
        }
        for (sh_f, ps_f) in [
            (Flavour::CliBash, Flavour::CliPowerShell),
            (Flavour::CliRestBash, Flavour::CliRestPowerShell),
        ] {
            let sh = generate(&sp, sh_f).text;
            let ps = generate(&sp, ps_f).text;
            let bash: Vec<Vec<String>> =
                run_bash_full(&sh, sp.if_match(), &[], "", &format!("{TEST_PASSWORD}\n"))
                    .into_iter()
                    .map(|c| c.iter().map(|w| az_word(w)).collect())
                    .collect();
            let Some(words) = ps_az_words_with_files(&ps) else {
                // the body file is built around the password at run time: checked by
                // create_scale_set_password_is_read_at_run_time_and_sent_exactly
                assert!(
                    name.contains("password"),
                    "{name}: a non-literal file text\n{ps}"
                );
                continue;
            };
            let pwsh: Vec<Vec<String>> = words
                .into_iter()
                .map(|c| {
                    c.iter()
                        .filter(|w| !w.is_empty())
                        .map(|w| az_word(w))
                        .collect()
                })
                .collect();
            assert_eq!(pwsh, bash, "{name} {}\n{ps}\n{sh}", ps_f.slug());
            calls += bash.len();
        }
    }
    assert!(calls > 500, "{calls}");
}

/// `az identity create`, `New-AzUserAssignedIdentity`, `New-AzureRmUserAssignedIdentity` and
/// `az vmss create` send no If-None-Match, so each script checks first that nothing of that name
/// exists: it stops — before any create — when `az … show` finds it (exit 0) or fails for another
/// reason, and creates only on "not found" (exit 3).
#[test]
fn idiomatic_creates_stop_when_the_resource_exists() {
    let spec = UserAssignedIdentitySpec {
        subscription: SUB.into(),
        resource_group: "rg".into(),
        name: "id1".into(),
        location: "westus2".into(),
    };
    let uai = ScriptPlan::from_user_assigned_identity(
        Cloud::AzureCloud,
        &spec,
        &create_user_assigned_identity(&spec),
    );
    let (vmss_name, vmss_spec) = create_specs_for_equivalence().remove(0);
    let vmss =
        ScriptPlan::from_scale_set(Cloud::AzureCloud, &vmss_spec, &create_scale_set(&vmss_spec));
    for (sp, group, show_group) in [(&uai, "identity", "identity"), (&vmss, "vmss", "vmss")] {
        let sh = generate(sp, Flavour::CliBash).text;
        for (rc, created, says) in [
            ("3", true, ""),
            ("0", false, "already exists"),
            ("1", false, "Could not check"),
        ] {
            let (out, calls) = run_bash_env(
                &sh,
                None,
                &[],
                "",
                &format!("{TEST_PASSWORD}\n"),
                &[("FAKE_SHOW_RC", rc)],
            );
            let creates = calls
                .iter()
                .filter(|c| c.len() > 1 && c[0] == group && c[1] == "create")
                .count();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.success(), created, "{group} rc {rc}: {stderr}");
            assert_eq!(creates, usize::from(created), "{group} rc {rc}: {calls:?}");
            assert!(stderr.contains(says), "{group} rc {rc}: {stderr}");
            let show = calls
                .iter()
                .position(|c| c.len() > 1 && c[0] == show_group && c[1] == "show")
                .unwrap_or_else(|| panic!("{group}: no existence check {calls:?}"));
            assert_eq!(
                arg_after(&calls[show], "--name").as_deref(),
                Some(if group == "identity" {
                    "id1"
                } else {
                    vmss_spec.name.as_str()
                }),
                "{vmss_name}"
            );
        }
    }
    // PowerShell: the check parses, comes before the create and stops with a message
    for (sp, f, check, create) in [
        (
            &uai,
            Flavour::CliPowerShell,
            "az identity show",
            "az identity create",
        ),
        (
            &uai,
            Flavour::AzPowerShell,
            "Get-AzUserAssignedIdentity",
            "New-AzUserAssignedIdentity",
        ),
        (
            &uai,
            Flavour::AzureRm,
            "Get-AzureRmUserAssignedIdentity",
            "New-AzureRmUserAssignedIdentity",
        ),
        (
            &vmss,
            Flavour::CliPowerShell,
            "az vmss show",
            "az vmss create",
        ),
    ] {
        let t = generate(sp, f).text;
        assert!(syntax_errors(&t).is_empty(), "{f:?}\n{t}");
        let line = |w: &str| {
            t.lines()
                .position(|l| {
                    !l.trim_start().starts_with('#') && !l.contains("throw") && l.contains(w)
                })
                .unwrap_or_else(|| panic!("{f:?}: no {w}\n{t}"))
        };
        let (c, n) = (line(check), line(create));
        assert!(c < n, "{f:?}: the check comes after the create\n{t}");
        let between: Vec<&str> = t.lines().skip(c).take(n - c).collect();
        assert!(
            between
                .iter()
                .any(|l| l.contains("throw") && l.contains("already exists")),
            "{f:?}: no stop between the check and the create\n{t}"
        );
        assert!(t.contains("not atomic"), "{f:?}");
        if f == Flavour::CliPowerShell {
            // only exit 3 (not found) goes on
            assert!(
                between.iter().any(|l| l.contains("$LASTEXITCODE -ne 3")),
                "{t}"
            );
        } else {
            // only a "not found" error goes on; any other is thrown again
            assert!(
                between.iter().any(|l| l.contains("-ErrorAction Stop")),
                "{t}"
            );
            assert!(
                between
                    .iter()
                    .any(|l| l.contains("catch") && l.contains("{ throw }")),
                "{t}"
            );
        }
    }
}

/// GET bodies' `identity` values: consistent ones and every kind of disagreement
/// [`identity_core::identity::IdentityState::read_arm`] refuses.
fn identity_bodies() -> Vec<Value> {
    let (a, b) = (ua("id1"), ua("id2"));
    let obj = |pairs: &[(&str, Value)]| {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    };
    let e = json!({"principalId": "pp", "clientId": "cc"});
    vec![
        // consistent
        Value::Null,
        json!({"type": "None"}),
        json!({"type": "SystemAssigned", "principalId": "p", "tenantId": "t"}),
        json!({"type": "UserAssigned", "userAssignedIdentities": obj(&[(&a, e.clone())])}),
        json!({"type": "SystemAssigned, UserAssigned", "principalId": "p",
            "userAssignedIdentities": obj(&[(&a, e.clone()), (&b, json!({}))])}),
        json!({"type": "systemassigned,userAssigned", "principalId": "p",
            "userAssignedIdentities": obj(&[(&a, e.clone())])}),
        // inconsistent
        json!({"type": "UserAssigned"}),
        json!({"type": "UserAssigned", "userAssignedIdentities": null}),
        json!({"type": "SystemAssigned, UserAssigned", "principalId": "p", "userAssignedIdentities": {}}),
        json!({"type": "SystemAssigned", "principalId": "p", "userAssignedIdentities": obj(&[(&a, e.clone())])}),
        json!({"type": "None", "userAssignedIdentities": obj(&[(&a, e.clone())])}),
        json!({"userAssignedIdentities": obj(&[(&a, e.clone())])}),
        json!({"type": "Bogus"}),
        json!({"type": "SystemAssigned, Bogus", "principalId": "p"}),
        json!({"type": "None, SystemAssigned", "principalId": "p"}),
        json!({"type": "UserAssigned", "userAssignedIdentities": obj(&[(&a, Value::Null)])}),
        json!({"type": "UserAssigned", "userAssignedIdentities": obj(&[(&a, e.clone()), (&a.to_uppercase(), e.clone())])}),
        json!({"type": "UserAssigned", "principalId": "p", "userAssignedIdentities": obj(&[(&a, e.clone())])}),
        json!({"type": "None", "principalId": "p"}),
    ]
}

fn snippet_intents() -> Vec<Intent> {
    vec![
        Intent::EnableSystem,
        Intent::RemoveSystem,
        Intent::AddUser(vec![ua("id3")]),
        Intent::RemoveUser(vec![ua("id1")]),
        Intent::RemoveAll,
        Intent::SetExact {
            system: true,
            user: vec![ua("id2")],
        },
    ]
}

/// Snippet-only scripts read the identities when they run. Like identity-core's own rule, the
/// bash form stops — exit 1, a message naming what disagrees, nothing sent — exactly when the
/// identity it reads contradicts itself (checked against `IdentityState::read_arm` on every
/// body, the fake az evaluating the script's real JMESPath query); the PowerShell forms carry the
/// same check, parse, and run it before any write.
#[test]
fn snippets_stop_on_an_inconsistent_identity_before_any_write() {
    use identity_core::identity::IdentityState;
    assert!(
        std::process::Command::new("python3")
            .args(["-c", "import jmespath"])
            .status()
            .is_ok_and(|s| s.success()),
        "this test evaluates az's --query with Python's jmespath (the library azure-cli uses): pip install jmespath"
    );
    let bodies = identity_bodies();
    let mut refused = 0;
    // every body for two intents; for the others (the check is the same lines) one body that
    // agrees and one that does not
    let few = vec![bodies[4].clone(), bodies[7].clone()];
    let cases = snippet_intents()
        .into_iter()
        .map(|i| (TargetKind::ScaleSetUniform, i, &few))
        .chain([
            (
                TargetKind::ScaleSetUniform,
                Intent::AddUser(vec![ua("id3")]),
                &bodies,
            ),
            (
                TargetKind::Vm,
                Intent::SetExact {
                    system: false,
                    user: vec![ua("id2")],
                },
                &bodies,
            ),
        ]);
    for (k, intent, bodies) in cases {
        {
            let req = SnippetRequest {
                cloud: Cloud::AzureCloud,
                target: target(k),
                intent: intent.clone(),
            };
            let sh = snippet(&req, Flavour::CliBash).unwrap().text;
            for identity in bodies {
                let conflict = IdentityState::read_arm(Some(identity))
                    .unwrap()
                    .conflict
                    .is_some();
                let mut body = json!({"name": "x", "provisioningState": "Succeeded"}); // az's flattened shape
                if !identity.is_null() {
                    body["identity"] = identity.clone();
                }
                let (out, calls) =
                    run_bash_env(&sh, None, &[], "", "", &[("FAKE_BODY", &body.to_string())]);
                let stderr = String::from_utf8_lossy(&out.stderr);
                let writes: Vec<&Vec<String>> = calls
                    .iter()
                    .filter(|c| {
                        c.first().is_some_and(|w| w == "rest")
                            || (c.len() > 2
                                && c[1] == "identity"
                                && (c[2] == "assign" || c[2] == "remove"))
                            || c.get(1).is_some_and(|w| w == "update")
                    })
                    .collect();
                if conflict {
                    refused += 1;
                    assert!(!out.status.success(), "{intent:?} {identity}: not stopped");
                    assert!(writes.is_empty(), "{intent:?} {identity}: sent {writes:?}");
                    assert!(
                        stderr.contains("is inconsistent: ")
                            && stderr.contains("Nothing was changed")
                            && stderr.contains("Read it again"),
                        "{intent:?} {identity}: {stderr}"
                    );
                } else {
                    assert!(out.status.success(), "{intent:?} {identity}: {stderr}");
                    assert!(!stderr.contains("inconsistent"), "{identity}: {stderr}");
                }
            }
        }
    }
    assert!(refused > 30, "{refused}");
    // the messages name what disagrees
    let req = SnippetRequest {
        cloud: Cloud::AzureCloud,
        target: target(TargetKind::ScaleSetUniform),
        intent: Intent::AddUser(vec![ua("id3")]),
    };
    let sh = snippet(&req, Flavour::CliBash).unwrap().text;
    for (identity, says) in [
        (
            json!({"type": "UserAssigned"}),
            "names UserAssigned, but userAssignedIdentities is missing",
        ),
        (json!({"type": "Bogus"}), "unknown identity type 'Bogus'"),
        (
            json!({"type": "SystemAssigned", "principalId": "p", "userAssignedIdentities": {ua("id1"): {}}}),
            "does not name UserAssigned, but userAssignedIdentities lists",
        ),
        (
            json!({"type": "UserAssigned", "userAssignedIdentities": {ua("id1"): null}}),
            "holds null",
        ),
    ] {
        let body = json!({"identity": identity}).to_string();
        let (out, _) = run_bash_env(&sh, None, &[], "", "", &[("FAKE_BODY", &body)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{identity}: {stderr}");
    }
    // PowerShell: the check parses, reads once and stops (throw) before the first write
    for k in [TargetKind::ScaleSetUniform, TargetKind::Vm] {
        for intent in snippet_intents() {
            let req = SnippetRequest {
                cloud: Cloud::AzureCloud,
                target: target(k),
                intent: intent.clone(),
            };
            for f in [Flavour::AzPowerShell, Flavour::CliPowerShell] {
                let t = snippet(&req, f).unwrap().text;
                assert!(syntax_errors(&t).is_empty(), "{f:?}\n{t}");
                let code: Vec<&str> = t
                    .lines()
                    .filter(|l| !l.trim_start().starts_with('#'))
                    .collect();
                let at = |p: &dyn Fn(&str) -> bool| code.iter().position(|l| p(l));
                let stop = at(&|l| l.contains("if ($identityProblems.Count) { throw"))
                    .unwrap_or_else(|| panic!("{f:?} {intent:?}: no stop\n{t}"));
                let first_write = at(&|l| {
                    [
                        "Update-Az",
                        "Invoke-RestMethod",
                        "identity assign",
                        "identity remove",
                        "az rest",
                    ]
                    .iter()
                    .any(|w| l.contains(w))
                })
                .unwrap_or_else(|| panic!("{f:?} {intent:?}: no write\n{t}"));
                assert!(
                    stop < first_write,
                    "{f:?} {intent:?}: the check comes after a write\n{t}"
                );
                for rule in [
                    "names UserAssigned, but userAssignedIdentities is missing, null or empty",
                    "does not name UserAssigned, but userAssignedIdentities lists",
                    "does not name SystemAssigned, but a system-assigned principalId",
                    "unknown identity type",
                    "combines None with another type",
                    "holds null",
                    "twice",
                ] {
                    assert!(t.contains(rule), "{f:?}: {rule}");
                }
                if f == Flavour::CliPowerShell {
                    // one GET, with the same query the bash form's fake az evaluated
                    let q = format!("--query '{}'", CLI_IDENTITY_QUERY.replace('\'', "''"));
                    assert_eq!(t.matches(&q).count(), 1, "{t}");
                }
            }
        }
    }
}

/// A refused plan's Azure CLI script stops with a non-zero exit and its reason on standard error
/// before any az call (bash `exit 1`, PowerShell `throw`), so a pipeline can tell it from success;
/// a no-op's says so and exits 0. The same for the snippet-only refusal (a Flexible scale set
/// asked for a system-assigned identity).
#[test]
fn refused_cli_scripts_exit_non_zero_and_no_ops_exit_zero() {
    let (mut refused, mut noops) = (0, 0);
    let mut cases: Vec<(String, Option<String>, Vec<Script>)> = Vec::new();
    for (name, plan) in all_plans() {
        let reason = match &plan.outcome {
            Outcome::Refused(r) => Some(r.clone()),
            Outcome::Noop(_) => None,
            Outcome::Requests(_) => continue,
        };
        let cli = [
            Flavour::CliBash,
            Flavour::CliPowerShell,
            Flavour::CliRestBash,
            Flavour::CliRestPowerShell,
        ];
        cases.push((
            name,
            reason,
            cli.iter().map(|f| generate(&plan, *f)).collect(),
        ));
    }
    for intent in [
        Intent::EnableSystem,
        Intent::SetExact {
            system: true,
            user: vec![ua("id1")],
        },
    ] {
        let req = SnippetRequest {
            cloud: Cloud::AzureCloud,
            target: target(TargetKind::ScaleSetFlexible),
            intent,
        };
        let scripts = [Flavour::CliBash, Flavour::CliPowerShell]
            .iter()
            .map(|f| snippet(&req, *f).unwrap())
            .collect();
        cases.push((
            format!("snippet {:?}", req.intent),
            Some(
                "uses Flexible orchestration, which accepts only UserAssigned or None identities"
                    .into(),
            ),
            scripts,
        ));
    }
    for (name, reason, scripts) in cases {
        for s in scripts {
            let code: Vec<&str> = s
                .text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .collect();
            match (&reason, s.language) {
                (Some(reason), Language::Bash) => {
                    refused += 1;
                    let (out, calls) = run_bash_env(&s.text, None, &[], "", "", &[]);
                    assert_eq!(out.status.code(), Some(1), "{name} {:?}", s.flavour);
                    let err = String::from_utf8_lossy(&out.stderr);
                    assert!(
                        err.contains("Refused: ") && err.contains(reason.as_str()),
                        "{name}: {err}"
                    );
                    assert!(out.stdout.is_empty(), "{name}");
                    assert!(calls.is_empty(), "{name}: no az call: {calls:?}");
                }
                (Some(reason), Language::PowerShell) => {
                    assert_eq!(code.len(), 1, "{name} {:?}: {code:?}", s.flavour);
                    assert!(
                        code[0].starts_with("throw 'Refused: ")
                            && code[0].contains(reason.as_str()),
                        "{name}: {}",
                        code[0]
                    );
                }
                (None, Language::Bash) => {
                    noops += 1;
                    let (out, calls) = run_bash_env(&s.text, None, &[], "", "", &[]);
                    assert!(out.status.success(), "{name} {:?}", s.flavour);
                    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Nothing to do: "));
                    assert!(calls.is_empty(), "{name}");
                }
                (None, Language::PowerShell) => {
                    assert_eq!(code.len(), 1, "{name}");
                    assert!(
                        code[0].starts_with("Write-Output 'Nothing to do: "),
                        "{name}"
                    );
                }
            }
        }
    }
    assert!(
        refused >= 4 && noops >= 4,
        "refused {refused}, no-ops {noops}"
    );
}

/// azure-cli reads any value starting with `@` as a file (`@-`: standard input), also as `--x=@value`: an identity
/// change on a scale set whose group or name starts with `@` is the exact PATCH (`az rest`, with If-Match) in the
/// az flavours, waited for by the resource's id; the fake az (which reads `@file` as az does) gets no file
/// reference, and the PATCH's body is the app's. A subscription starting with `@` cannot be selected: refused.
#[test]
fn az_scripts_pass_no_value_az_reads_as_a_file() {
    for (rg, name) in [("@-", "vmss1"), ("rg", "@-"), ("rg", "@vmss")] {
        let target = Resource::new(
            "00000000-0000-0000-0000-000000000000",
            rg,
            name,
            TargetKind::ScaleSetUniform,
        );
        let before = Identities {
            system: false,
            user: vec![],
        };
        let after = Identities {
            system: true,
            user: vec![],
        };
        let sp = ScriptPlan::identity(
            Cloud::AzureCloud,
            target,
            before,
            after,
            Some("\"e1\"".into()),
        );
        let patch = sp.all_requests()[0].clone();
        let sh = generate(&sp, Flavour::CliBash).text;
        assert!(!sh.contains("identity assign"), "{sh}");
        let calls = run_bash_full(&sh, Some("\"e1\""), &[], "SystemAssigned", "");
        for c in &calls {
            assert!(
                !c.iter().any(|a| a.starts_with('@') || a.contains("=@")),
                "{c:?}"
            );
        }
        let rest = calls
            .iter()
            .find(|c| c[0] == "rest" && arg_after(c, "--method").as_deref() == Some("patch"))
            .unwrap_or_else(|| panic!("{calls:?}"));
        let sent: Value = serde_json::from_str(&arg_after(rest, "--body").unwrap()).unwrap();
        assert_eq!(Some(&sent), patch.body.as_ref());
        assert!(arg_after(rest, "--headers").unwrap().contains("If-Match"));
        let wait = calls
            .iter()
            .find(|c| c[0] == "vmss" && c[1] == "wait")
            .unwrap();
        assert_eq!(arg_after(wait, "--ids"), Some(patch.path.clone()));
        let ps = generate(&sp, Flavour::CliPowerShell).text;
        assert!(syntax_errors(&ps).is_empty(), "{ps}");
        assert!(
            !ps.contains("identity assign") && ps.contains("az rest --method patch"),
            "{ps}"
        );
    }
    let target = Resource::new("@sub", "rg", "vmss1", TargetKind::ScaleSetUniform);
    let sp = ScriptPlan::identity(
        Cloud::AzureCloud,
        target,
        Identities::default(),
        Identities {
            system: true,
            user: vec![],
        },
        None,
    );
    for f in [Flavour::CliBash, Flavour::CliRestBash] {
        let (out, calls) = run_bash_env(&generate(&sp, f).text, None, &[], "", "", &[]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("starts with @"));
        assert!(
            !calls
                .iter()
                .any(|c| c[0] == "account" || c[0] == "rest" || c[0] == "vmss"),
            "{calls:?}"
        );
    }
}
