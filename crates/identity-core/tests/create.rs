//! Create plans: scale set PUT, user-assigned identity PUT, role assignment PUT.

use identity_core::api_versions;
use identity_core::create::*;
use identity_core::resource::UpgradeMode;
use serde_json::json;

const SUB: &str = "00000000-0000-0000-0000-000000000000";

fn subnet() -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/default"
    )
}
fn ua(n: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}"
    )
}

fn linux() -> ScaleSetSpec {
    ScaleSetSpec {
        subscription: SUB.into(),
        resource_group: "rg".into(),
        name: "web-vmss".into(),
        location: "westeurope".into(),
        orchestration: Orchestration::Uniform,
        sku: "Standard_D2s_v3".into(),
        capacity: 2,
        image: ImagePreset::UbuntuLts,
        subnet_id: subnet(),
        admin_username: "azureuser".into(),
        admin_auth: AdminAuth::SshPublicKey(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host".into(),
        ),
        upgrade_mode: UpgradeMode::Manual,
        identity: IdentityRequest {
            system_assigned: true,
            user_assigned: vec![ua("id1")],
        },
    }
}

#[test]
fn linux_uniform_scale_set_body() {
    let p = create_scale_set(&linux());
    assert!(p.refusal().is_none(), "{:?}", p.outcome);
    let r = &p.requests()[0];
    assert_eq!(r.method.as_str(), "PUT");
    assert_eq!(
        r.path,
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web-vmss"
        )
    );
    assert_eq!(r.query[0].1, api_versions::COMPUTE);
    assert_eq!(r.header("If-None-Match"), Some("*"));
    let b = r.body.as_ref().unwrap();
    assert_eq!(b["location"], "westeurope");
    assert_eq!(
        b["sku"],
        json!({"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 2})
    );
    assert_eq!(
        b["identity"],
        json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {ua("id1"): {}}})
    );
    assert_eq!(b["properties"]["orchestrationMode"], "Uniform");
    assert_eq!(b["properties"]["upgradePolicy"]["mode"], "Manual");
    let vmp = &b["properties"]["virtualMachineProfile"];
    assert_eq!(
        vmp["storageProfile"]["imageReference"]["publisher"],
        "Canonical"
    );
    let os = &vmp["osProfile"];
    assert_eq!(os["adminUsername"], "azureuser");
    assert!(os.get("adminPassword").is_none());
    assert_eq!(
        os["linuxConfiguration"]["disablePasswordAuthentication"],
        true
    );
    assert_eq!(
        os["linuxConfiguration"]["ssh"]["publicKeys"][0]["path"],
        "/home/azureuser/.ssh/authorized_keys"
    );
    assert_eq!(
        vmp["networkProfile"]["networkInterfaceConfigurations"][0]["properties"]["ipConfigurations"]
            [0]["properties"]["subnet"]["id"],
        subnet()
    );
    assert!(p.after.system_assigned && p.after.has_user_assigned(&ua("ID1")));
}

#[test]
fn windows_flexible_scale_set_body() {
    let spec = ScaleSetSpec {
        name: "winvmss".into(),
        orchestration: Orchestration::Flexible,
        image: ImagePreset::WindowsServer,
        admin_auth: AdminAuth::Password("Corr3ct-Horse!".into()),
        upgrade_mode: UpgradeMode::Automatic,
        identity: IdentityRequest {
            system_assigned: false,
            user_assigned: vec![ua("id1"), ua("ID1"), ua("id2")],
        },
        ..linux()
    };
    let p = create_scale_set(&spec);
    let b = p.requests()[0].body.clone().unwrap();
    assert_eq!(
        b["identity"],
        json!({"type": "UserAssigned", "userAssignedIdentities": {ua("id1"): {}, ua("id2"): {}}})
    );
    assert_eq!(b["properties"]["orchestrationMode"], "Flexible");
    assert_eq!(b["properties"]["platformFaultDomainCount"], 1);
    let vmp = &b["properties"]["virtualMachineProfile"];
    assert!(vmp["networkProfile"]["networkApiVersion"].is_string());
    assert_eq!(vmp["osProfile"]["adminPassword"], "Corr3ct-Horse!");
    assert!(
        vmp["osProfile"]["computerNamePrefix"]
            .as_str()
            .unwrap()
            .len()
            <= 9
    );
    assert_eq!(
        vmp["storageProfile"]["imageReference"]["offer"],
        "WindowsServer"
    );

    // no identity at all: no identity key
    let none = ScaleSetSpec {
        identity: IdentityRequest::default(),
        ..spec.clone()
    };
    assert!(
        create_scale_set(&none).requests()[0]
            .body
            .as_ref()
            .unwrap()
            .get("identity")
            .is_none()
    );

    // Flexible + system-assigned is refused
    let sa = ScaleSetSpec {
        identity: IdentityRequest {
            system_assigned: true,
            user_assigned: vec![],
        },
        ..spec
    };
    let why = create_scale_set(&sa).refusal().unwrap().to_string();
    assert!(
        why.contains("Flexible") && why.contains("UserAssigned"),
        "{why}"
    );
}

#[test]
fn invalid_specs_are_refused_naming_the_rule() {
    let cases: Vec<(ScaleSetSpec, &str)> = vec![
        (
            ScaleSetSpec {
                name: "bad-".into(),
                ..linux()
            },
            "scale set name \"bad-\" ends with '-', which is not allowed",
        ),
        (
            ScaleSetSpec {
                name: "x".repeat(16),
                image: ImagePreset::WindowsServer,
                admin_auth: AdminAuth::Password("Corr3ct-Horse!".into()),
                ..linux()
            },
            "too long: shorten it to 1-15 characters for Windows",
        ),
        (
            ScaleSetSpec {
                subscription: "abc".into(),
                ..linux()
            },
            "GUID",
        ),
        (
            ScaleSetSpec {
                resource_group: "rg.".into(),
                ..linux()
            },
            "cannot end with a period",
        ),
        (
            ScaleSetSpec {
                subnet_id: "/subscriptions/s/resourceGroups/g".into(),
                ..linux()
            },
            "subnet",
        ),
        (
            ScaleSetSpec {
                admin_username: "admin".into(),
                ..linux()
            },
            "reserved",
        ),
        (
            ScaleSetSpec {
                admin_auth: AdminAuth::SshPublicKey("not a key".into()),
                ..linux()
            },
            "OpenSSH",
        ),
        (
            ScaleSetSpec {
                image: ImagePreset::WindowsServer,
                name: "win".into(),
                ..linux()
            },
            "is an SSH key, which a Windows image does not take: give a password",
        ),
        (
            ScaleSetSpec {
                image: ImagePreset::WindowsServer,
                name: "win".into(),
                admin_auth: AdminAuth::Password("short1A!".into()),
                ..linux()
            },
            "12-123",
        ),
        (
            ScaleSetSpec {
                upgrade_mode: UpgradeMode::Rolling,
                ..linux()
            },
            "health probe",
        ),
        (
            ScaleSetSpec {
                capacity: 5000,
                ..linux()
            },
            "0-1000",
        ),
        (
            ScaleSetSpec {
                identity: IdentityRequest {
                    system_assigned: false,
                    user_assigned: vec![subnet()],
                },
                ..linux()
            },
            "user-assigned",
        ),
    ];
    for (spec, rule) in cases {
        let p = create_scale_set(&spec);
        let why = p.refusal().unwrap_or_else(|| panic!("not refused: {rule}"));
        assert!(why.contains(rule), "{rule:?} not in {why:?}");
        assert!(p.requests().is_empty());
    }
    assert!(linux().validate().is_empty());
}

#[test]
fn user_assigned_identity_create() {
    let p = create_user_assigned_identity(&UserAssignedIdentitySpec {
        subscription: SUB.into(),
        resource_group: "rg".into(),
        name: "app-id".into(),
        location: "westcentralus".into(),
    });
    let r = &p.requests()[0];
    assert_eq!(r.method.as_str(), "PUT");
    assert_eq!(r.path, ua("app-id"));
    assert_eq!(r.query[0].1, api_versions::MANAGED_IDENTITY);
    assert_eq!(r.body, Some(json!({"location": "westcentralus"})));
    let bad = create_user_assigned_identity(&UserAssignedIdentitySpec {
        subscription: SUB.into(),
        resource_group: "rg".into(),
        name: "a.b".into(),
        location: "westcentralus".into(),
    });
    assert!(bad.refusal().unwrap().contains("user-assigned identity"));
}

#[test]
fn role_assignment_bodies() {
    let guid = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    let principal = "ed85e730-10c0-4e47-8bbc-5b5190abbf97";
    let reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    let scope = format!(
        "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1"
    );
    let p = role_assignment(&RoleAssignmentSpec {
        scope: scope.clone(),
        role_definition: reader.into(),
        principal_id: principal.into(),
        assignment_name: guid.into(),
    });
    let r = &p.requests()[0];
    assert_eq!(r.method.as_str(), "PUT");
    assert_eq!(
        r.path,
        format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}")
    );
    assert_eq!(r.query[0].1, api_versions::AUTHORIZATION);
    // a create: an existing assignment of that name is refused (412), never replaced
    assert_eq!(r.header("If-None-Match"), Some("*"));
    assert_eq!(r.header("If-Match"), None);
    assert_eq!(
        r.body,
        Some(json!({"properties": {
            "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{reader}"),
            "principalId": principal, "principalType": "ServicePrincipal"}}))
    );
    // a full role definition id is kept as given
    let full =
        format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{reader}");
    let p = role_assignment(&RoleAssignmentSpec {
        scope: format!("/subscriptions/{SUB}"),
        role_definition: full.clone(),
        principal_id: principal.into(),
        assignment_name: guid.into(),
    });
    assert_eq!(
        p.requests()[0].body.as_ref().unwrap()["properties"]["roleDefinitionId"],
        full
    );
    assert!(p.has_warning(identity_core::WarningCode::BroadScope));
    // bad inputs
    for (scope, role, pr, name) in [
        ("rg", reader, principal, guid),
        (scope.as_str(), "Reader", principal, guid),
        (scope.as_str(), reader, "nope", guid),
        (scope.as_str(), reader, principal, "x"),
    ] {
        let p = role_assignment(&RoleAssignmentSpec {
            scope: scope.into(),
            role_definition: role.into(),
            principal_id: pr.into(),
            assignment_name: name.into(),
        });
        assert!(p.refusal().is_some(), "{scope} {role} {pr} {name}");
    }
}
