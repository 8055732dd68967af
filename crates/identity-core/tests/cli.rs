//! The `identity-plan` binary, spawned as a user would run it.
#![cfg(not(target_arch = "wasm32"))]

use identity_core::create::{
    AdminAuth, CreateOperation, IdentityRequest, ImagePreset, Orchestration, RoleAssignmentSpec,
    ScaleSetSpec, UserAssignedIdentitySpec, VM_ADMIN_PASSWORD_POINTER, VmSpec, create_scale_set,
    create_user_assigned_identity, create_vm, role_assignment,
};
use identity_core::plan::request_json;
use identity_core::resource::UpgradeMode;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], stdin: &str) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_identity-plan"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The binary may exit (bad arguments) before reading its input: a broken pipe is fine then.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn run_json(args: &[&str], stdin: Value) -> (i32, Value) {
    let (code, out) = run(args, &stdin.to_string());
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}")),
    )
}

const UA1: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";
const UA2: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id2";
const VMSS: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss1";

fn vmss(mode: &str) -> Value {
    json!({
        "name": "vmss1", "location": "westcentralus", "etag": "\"4\"",
        "identity": {"type": "SystemAssigned, UserAssigned", "principalId": "b8c0", "tenantId": "ed94",
            "userAssignedIdentities": {UA1: {"principalId": "p1", "clientId": "c1"}, UA2: {"principalId": "p2", "clientId": "c2"}}},
        "properties": {"orchestrationMode": mode, "upgradePolicy": {"mode": "Manual"}}
    })
}

#[test]
fn wrapped_input_prints_the_exact_request() {
    let (code, out) = run_json(
        &[],
        json!({"resource": vmss("Uniform"), "resourceId": VMSS,
               "operation": {"op": "removeUserAssigned", "ids": [UA1.to_uppercase()]}}),
    );
    assert_eq!(code, 0);
    let r = &out["requests"][0];
    assert_eq!(r["method"], "PATCH");
    assert_eq!(r["path"], VMSS);
    assert_eq!(
        r["query"],
        json!({"api-version": identity_core::api_versions::COMPUTE})
    );
    assert_eq!(r["headers"], json!({"If-Match": "\"4\""}));
    assert_eq!(
        r["body"],
        json!({"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {UA1: null, UA2: {}}}})
    );
    let codes: Vec<&str> = out["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"latency") && codes.contains(&"manualUpgradeNotNeeded"),
        "{codes:?}"
    );
    assert_eq!(out["after"]["userAssigned"].as_array().unwrap().len(), 1);
}

#[test]
fn noop_and_refusal_and_exit_codes() {
    let (code, out) = run_json(
        &[],
        json!({"resource": vmss("Uniform"), "resourceId": VMSS, "operation": {"op": "enableSystemAssigned"}}),
    );
    assert_eq!(code, 0);
    assert!(out["noop"].as_str().unwrap().contains("already"));
    assert!(out.get("requests").is_none());

    let mut flex = vmss("Flexible");
    flex["identity"] = json!({"type": "UserAssigned", "userAssignedIdentities": {UA1: {}}});
    let (code, out) = run_json(
        &[],
        json!({"resource": flex, "resourceId": VMSS, "operation": {"op": "enableSystemAssigned"}}),
    );
    assert_eq!(code, 1);
    assert!(out["refused"].as_str().unwrap().contains("Flexible"));
}

#[test]
fn bare_body_with_operation_flag_like_az_show() {
    let mut body = vmss("Uniform");
    body["id"] = json!(VMSS);
    let (code, out) = run(
        &[
            "--compact",
            "--operation",
            r#"{"op":"removeSystemAssigned"}"#,
        ],
        &body.to_string(),
    );
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["requests"][0]["body"]["identity"]["type"], "UserAssigned");
    assert_eq!(
        v["requests"][0]["body"]["identity"]["userAssignedIdentities"],
        json!({UA1: {}, UA2: {}})
    );
}

#[test]
fn bad_input_exits_2_with_an_error() {
    for (args, input) in [
        (vec![], "not json".to_string()),
        (vec![], json!({"resource": vmss("Uniform"), "resourceId": VMSS}).to_string()),
        (vec![], json!({"resource": vmss("Uniform"), "operation": {"op": "enableSystemAssigned"}}).to_string()),
        (vec![], json!({"resource": vmss("Uniform"), "resourceId": VMSS, "operation": {"op": "frobnicate"}}).to_string()),
        (vec!["--bogus"], "{}".to_string()),
    ] {
        let (code, out) = run(&args, &input);
        assert_eq!(code, 2, "{args:?} {input}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{out}");
    }
}

#[test]
fn help_documents_every_operation() {
    let (code, out) = run(&["--help"], "");
    assert_eq!(code, 0);
    for op in [
        "enableSystemAssigned",
        "removeSystemAssigned",
        "addUserAssigned",
        "removeUserAssigned",
        "removeAll",
        "setExact",
        "removeLegacyExtension",
        "installLegacyExtension",
        "\"requests\"",
        "\"noop\"",
        "\"refused\"",
        "IMDS",
    ] {
        assert!(out.contains(op), "--help lacks {op}");
    }
    for op in [
        "createScaleSet",
        "createUserAssignedIdentity",
        "createRoleAssignment",
        "If-None-Match: *",
        "stdin",
    ] {
        assert!(out.contains(op), "--help lacks {op}");
    }
    // every example operation in --help (one line, or continued on the next lines) that is
    // complete JSON is a valid operation
    let lines: Vec<&str> = out.lines().collect();
    let mut parsed = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !line.trim_start().starts_with("{\"op\"") {
            continue;
        }
        let mut example = line.trim().split("   ").next().unwrap().to_string();
        let mut next = i + 1;
        while serde_json::from_str::<Value>(&example).is_err()
            && lines.get(next).is_some_and(|l| l.starts_with("   \""))
        {
            example.push_str(lines[next].trim());
            next += 1;
        }
        if let Ok(v) = serde_json::from_str::<Value>(&example) {
            let op = v["op"].as_str().unwrap().to_string();
            if op.starts_with("create") {
                serde_json::from_value::<CreateOperation>(v)
                    .unwrap_or_else(|e| panic!("{example}: {e}"));
            } else {
                serde_json::from_value::<identity_core::Operation>(v)
                    .unwrap_or_else(|e| panic!("{example}: {e}"));
            }
            parsed.push(op);
        }
    }
    for op in [
        "createScaleSet",
        "createUserAssignedIdentity",
        "createRoleAssignment",
        "removeLegacyExtension",
    ] {
        assert!(parsed.iter().any(|p| p == op), "{op} example: {parsed:?}");
    }
    assert!(parsed.len() >= 8, "{parsed:?}");
}

const SUB: &str = "00000000-0000-0000-0000-000000000000";

fn uai_spec() -> UserAssignedIdentitySpec {
    UserAssignedIdentitySpec {
        subscription: SUB.into(),
        resource_group: "rg".into(),
        name: "id1".into(),
        location: "westcentralus".into(),
    }
}

#[test]
fn create_user_assigned_identity_is_the_apps_put_with_if_none_match() {
    let op = json!({"op": "createUserAssignedIdentity", "subscription": SUB, "resourceGroup": "rg",
        "name": "id1", "location": "westcentralus"});
    let expected = request_json(&create_user_assigned_identity(&uai_spec()).requests()[0]);
    assert_eq!(expected["headers"], json!({"If-None-Match": "*"}));
    assert_eq!(
        expected["path"],
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
        )
    );
    assert_eq!(
        expected["query"],
        json!({"api-version": identity_core::api_versions::MANAGED_IDENTITY})
    );
    assert_eq!(expected["body"], json!({"location": "westcentralus"}));
    // --operation alone (stdin is not read), the bare operation on stdin, and the wrapped form
    let (code, text) = run(&["--operation", &op.to_string()], "");
    assert_eq!(code, 0, "{text}");
    let out: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(out["requests"], json!([expected]));
    assert!(out["warnings"].as_array().is_some_and(|w| !w.is_empty()));
    assert_eq!(run_json(&[], op.clone()), (0, out.clone()));
    assert_eq!(run_json(&[], json!({"operation": op})), (0, out));
    // an invalid name is refused with the rule
    let (code, out) = run_json(
        &[],
        json!({"op": "createUserAssignedIdentity", "subscription": SUB, "resourceGroup": "rg",
            "name": "-bad", "location": "westcentralus"}),
    );
    assert_eq!(code, 1);
    assert!(out["refused"].as_str().unwrap().contains("-bad"), "{out}");
}

fn vmss_spec(auth: AdminAuth, orchestration: Orchestration) -> ScaleSetSpec {
    ScaleSetSpec {
        subscription: SUB.into(),
        resource_group: "rg".into(),
        name: "vmss1".into(),
        location: "westeurope".into(),
        orchestration,
        sku: "Standard_B2s".into(),
        capacity: 2,
        image: if matches!(auth, AdminAuth::Password(_)) {
            ImagePreset::WindowsServer
        } else {
            ImagePreset::UbuntuLts
        },
        subnet_id: format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/default"
        ),
        admin_username: "azureuser".into(),
        admin_auth: auth,
        upgrade_mode: UpgradeMode::Manual,
        identity: IdentityRequest {
            system_assigned: orchestration == Orchestration::Uniform,
            user_assigned: vec![UA1.into()],
        },
    }
}

fn as_op(spec: &ScaleSetSpec) -> Value {
    let mut v = serde_json::to_value(spec).unwrap();
    v["op"] = json!("createScaleSet");
    v
}

#[test]
fn create_scale_set_is_the_apps_put_with_if_none_match() {
    let spec = vmss_spec(
        AdminAuth::SshPublicKey("ssh-ed25519 AAAAC3Nza me@host".into()),
        Orchestration::Uniform,
    );
    let op = as_op(&spec);
    assert_eq!(
        op["adminAuth"],
        json!({"sshPublicKey": "ssh-ed25519 AAAAC3Nza me@host"})
    );
    let (code, out) = run_json(&["--operation", &op.to_string()], json!(null));
    assert_eq!(code, 0, "{out}");
    let expected = request_json(&create_scale_set(&spec).requests()[0]);
    assert_eq!(out["requests"], json!([expected]));
    let r = &out["requests"][0];
    assert_eq!(r["method"], "PUT");
    assert_eq!(r["headers"], json!({"If-None-Match": "*"}));
    assert_eq!(
        r["body"]["identity"],
        json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {UA1: {}}})
    );
    assert_eq!(out["after"]["systemAssigned"], true);

    // Flexible + system-assigned: refused, as in the app
    let mut flex = as_op(&vmss_spec(
        AdminAuth::SshPublicKey("ssh-ed25519 AAAAC3Nza me@host".into()),
        Orchestration::Flexible,
    ));
    flex["identity"]["systemAssigned"] = json!(true);
    let (code, out) = run_json(&[], json!({"operation": flex}));
    assert_eq!(code, 1);
    assert!(out["refused"].as_str().unwrap().contains("Flexible"));
}

#[test]
fn create_scale_set_password_only_on_stdin_and_never_printed() {
    let secret = "Sup3r-secret-Passw0rd!";
    let spec = vmss_spec(AdminAuth::Password(secret.into()), Orchestration::Uniform);
    let op = as_op(&spec);
    let (code, text) = run(&["--compact"], &json!({"operation": op}).to_string());
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains(secret), "{text}");
    let out: Value = serde_json::from_str(&text).unwrap();
    // the app's request, with the password replaced for display only
    let mut expected = request_json(&create_scale_set(&spec).requests()[0]);
    assert_eq!(
        expected["body"].pointer(identity_core::create::ADMIN_PASSWORD_POINTER),
        Some(&json!(secret))
    );
    *expected["body"]
        .pointer_mut(identity_core::create::ADMIN_PASSWORD_POINTER)
        .unwrap() = out["requests"][0]["body"]
        .pointer(identity_core::create::ADMIN_PASSWORD_POINTER)
        .cloned()
        .unwrap();
    assert_eq!(out["requests"], json!([expected]));
    assert!(
        out["requests"][0]["body"]
            .pointer(identity_core::create::ADMIN_PASSWORD_POINTER)
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("not shown"))
    );
    // in argv it is refused (the process list shows arguments), without echoing it
    let (code, text) = run(&["--operation", &op.to_string()], "");
    assert_eq!(code, 2);
    assert!(text.contains("stdin") && !text.contains(secret), "{text}");
}

fn vm_spec(auth: AdminAuth) -> VmSpec {
    VmSpec {
        subscription: SUB.into(),
        resource_group: "rg".into(),
        name: "vm1".into(),
        location: "westeurope".into(),
        size: "Standard_B2s".into(),
        image: if matches!(auth, AdminAuth::Password(_)) {
            ImagePreset::WindowsServer
        } else {
            ImagePreset::UbuntuLts
        },
        subnet_id: format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/default"
        ),
        admin_username: "azureuser".into(),
        admin_auth: auth,
        identity: IdentityRequest {
            system_assigned: true,
            user_assigned: vec![UA1.into()],
        },
    }
}

/// `createVm`: the app's PUT (If-None-Match, NIC configuration in the subnet), the password
/// only on stdin and never printed, a bad computer name refused naming the rule.
#[test]
fn create_vm_is_the_apps_put_and_its_password_stays_on_stdin() {
    let spec = vm_spec(AdminAuth::SshPublicKey(
        "ssh-ed25519 AAAAC3Nza me@host".into(),
    ));
    let mut op = serde_json::to_value(&spec).unwrap();
    op["op"] = json!("createVm");
    let (code, out) = run_json(&["--operation", &op.to_string()], json!(null));
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out["requests"],
        json!([request_json(&create_vm(&spec).requests()[0])])
    );
    let r = &out["requests"][0];
    assert_eq!(r["method"], "PUT");
    assert_eq!(
        r["path"],
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
        )
    );
    assert_eq!(r["headers"], json!({"If-None-Match": "*"}));
    assert_eq!(
        r["body"]["identity"],
        json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {UA1: {}}})
    );
    assert_eq!(
        r["body"]["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]["properties"]
            ["ipConfigurations"][0]["properties"]["subnet"]["id"],
        json!(spec.subnet_id)
    );

    let secret = "Sup3r-secret-Passw0rd!";
    let spec = vm_spec(AdminAuth::Password(secret.into()));
    let mut op = serde_json::to_value(&spec).unwrap();
    op["op"] = json!("createVm");
    let (code, text) = run(&["--compact"], &json!({"operation": op}).to_string());
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains(secret), "{text}");
    let out: Value = serde_json::from_str(&text).unwrap();
    let mut expected = request_json(&create_vm(&spec).requests()[0]);
    assert_eq!(
        expected["body"].pointer(VM_ADMIN_PASSWORD_POINTER),
        Some(&json!(secret))
    );
    let shown = out["requests"][0]["body"]
        .pointer(VM_ADMIN_PASSWORD_POINTER)
        .cloned()
        .unwrap();
    assert!(shown.as_str().unwrap().contains("not shown"));
    *expected["body"]
        .pointer_mut(VM_ADMIN_PASSWORD_POINTER)
        .unwrap() = shown;
    assert_eq!(out["requests"], json!([expected]));
    let (code, text) = run(&["--operation", &op.to_string()], "");
    assert_eq!(code, 2);
    assert!(text.contains("stdin") && !text.contains(secret), "{text}");

    // a Windows computer name longer than 15 characters is refused with the rule
    op["name"] = json!("a-windows-name-too-long");
    let (code, out) = run_json(&[], json!({ "operation": op }));
    assert_eq!(code, 1);
    let why = out["refused"].as_str().unwrap();
    assert!(
        why.contains("virtual machine name") && why.contains("1-15 characters for Windows"),
        "{why}"
    );
}

#[test]
fn role_assignment_is_the_apps_put() {
    let spec = RoleAssignmentSpec {
        scope: format!("/subscriptions/{SUB}/resourceGroups/rg"),
        role_definition: "acdd72a7-3385-48ef-bd42-f606fba81ae7".into(),
        principal_id: "ed85e730-10c0-4e47-8bbc-5b5190abbf97".into(),
        assignment_name: "3f2504e0-4f89-41d3-9a0c-0305e82c3301".into(),
    };
    let mut op = serde_json::to_value(&spec).unwrap();
    op["op"] = json!("createRoleAssignment");
    let (code, out) = run_json(&["--operation", &op.to_string()], json!(null));
    assert_eq!(code, 0, "{out}");
    let expected = request_json(&role_assignment(&spec).requests()[0]);
    assert_eq!(out["requests"], json!([expected]));
    let r = &out["requests"][0];
    assert_eq!(r["method"], "PUT");
    assert_eq!(
        r["path"],
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/3f2504e0-4f89-41d3-9a0c-0305e82c3301"
        )
    );
    assert_eq!(
        r["query"],
        json!({"api-version": identity_core::api_versions::AUTHORIZATION})
    );
    assert_eq!(
        r["body"],
        json!({"properties": {
            "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"),
            "principalId": "ed85e730-10c0-4e47-8bbc-5b5190abbf97",
            "principalType": "ServicePrincipal"}})
    );
    // a principal that is not a GUID is refused with the rule
    op["principalId"] = json!("not-a-guid");
    let (code, out) = run_json(&[], op);
    assert_eq!(code, 1);
    assert!(
        out["refused"].as_str().unwrap().contains("principal id"),
        "{out}"
    );
}

#[test]
fn legacy_extension_removal_deletes_it_and_upgrades_a_manual_scale_set() {
    let ext = json!({"extensions": [
        {"name": "CustomScript", "properties": {"publisher": "Microsoft.Azure.Extensions", "type": "CustomScript"}},
        {"name": "msi", "properties": {"publisher": "Microsoft.ManagedIdentity", "type": "ManagedIdentityExtensionForLinux"}}]});
    let mut body = vmss("Uniform");
    body["id"] = json!(VMSS);
    body["properties"]["virtualMachineProfile"] = json!({"extensionProfile": ext});
    let (code, out) = run_json(
        &["--operation", r#"{"op":"removeLegacyExtension"}"#],
        body.clone(),
    );
    assert_eq!(code, 0, "{out}");
    let reqs = out["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0]["method"], "DELETE");
    assert_eq!(reqs[0]["path"], format!("{VMSS}/extensions/msi"));
    assert_eq!(reqs[0]["body"], Value::Null);
    assert_eq!(reqs[1]["method"], "POST");
    assert_eq!(reqs[1]["path"], format!("{VMSS}/manualupgrade"));
    assert_eq!(reqs[1]["body"], json!({"instanceIds": ["*"]}));
    assert_eq!(out["before"], out["after"]);
    // without the instance upgrade: only the DELETE
    let (code, out) = run_json(
        &[
            "--operation",
            r#"{"op":"removeLegacyExtension","upgradeInstances":false}"#,
        ],
        body,
    );
    assert_eq!(code, 0);
    assert_eq!(out["requests"].as_array().unwrap().len(), 1);
    // a VM lists it under resources
    let vm = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1";
    let (code, out) = run_json(
        &[],
        json!({"resource": {"id": vm, "resources": [{"name": "ManagedIdentityExtensionForWindows",
            "properties": {"publisher": "Microsoft.ManagedIdentity", "type": "ManagedIdentityExtensionForWindows"}}]},
            "operation": {"op": "removeLegacyExtension"}}),
    );
    assert_eq!(code, 0);
    assert_eq!(
        out["requests"],
        json!([{"method": "DELETE", "path": format!("{vm}/extensions/ManagedIdentityExtensionForWindows"),
            "query": {"api-version": identity_core::api_versions::COMPUTE}, "headers": {}, "body": null}])
    );
}

#[test]
fn a_get_whose_identity_contradicts_itself_is_refused() {
    // az vmss show output whose type names UserAssigned without the map: enabling the
    // system-assigned identity must not send {"type":"SystemAssigned"} (it would drop them)
    let mut body = vmss("Uniform");
    body["id"] = json!(VMSS);
    body["identity"] =
        json!({"type": "UserAssigned", "principalId": null, "userAssignedIdentities": null});
    let (code, out) = run_json(&["--operation", r#"{"op":"enableSystemAssigned"}"#], body);
    assert_eq!(code, 1, "{out}");
    let why = out["refused"].as_str().unwrap();
    assert!(
        why.contains("inconsistent") && why.contains("Read the resource again"),
        "{why}"
    );
    assert!(out.get("requests").is_none());
}

#[test]
fn create_operations_reject_unknown_fields_and_resources() {
    let uai = json!({"op": "createUserAssignedIdentity", "subscription": SUB, "resourceGroup": "rg",
        "name": "id1", "location": "westcentralus"});
    let mut typo = uai.clone();
    typo["resourcegroup"] = json!("rg");
    for (args, input) in [
        (
            vec!["--operation".to_string(), typo.to_string()],
            String::new(),
        ),
        (vec![], json!({"operation": typo}).to_string()),
        (
            vec![],
            json!({"resource": vmss("Uniform"), "resourceId": VMSS, "operation": uai}).to_string(),
        ),
        (
            vec![
                "--resource-id".to_string(),
                VMSS.to_string(),
                "--operation".to_string(),
                uai.to_string(),
            ],
            String::new(),
        ),
        // an identity operation needs the resource
        (
            vec![],
            json!({"operation": {"op": "enableSystemAssigned"}}).to_string(),
        ),
        (vec![], json!({"op": "enableSystemAssigned"}).to_string()),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out) = run(&args, &input);
        assert_eq!(code, 2, "{args:?} {input}: {out}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{out}");
    }
}

mod fuzz;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 96, ..Default::default() })]

    /// Whatever arrives, the command answers with JSON and exit 0, 1 or 2 (never a panic's 101).
    #[test]
    fn any_input_gets_a_json_answer(
        resource in fuzz::json(),
        op in fuzz::json(),
        name in fuzz::text(),
        arg in fuzz::text(),
        form in 0u8..4,
    ) {
        let ops = [
            json!({"op": "createUserAssignedIdentity", "subscription": name, "resourceGroup": name, "name": name, "location": name}),
            json!({"op": "createRoleAssignment", "scope": name, "roleDefinition": name, "principalId": name, "assignmentName": name}),
            json!({"op": "addUserAssigned", "ids": [name]}),
            op,
        ];
        let mut body = resource.clone();
        if let Some(o) = body.as_object_mut() {
            o.insert("id".into(), json!(format!("/subscriptions/{name}/resourceGroups/{name}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}")));
        }
        for o in &ops {
            let (args, input): (Vec<String>, String) = match form {
                0 => (vec![], json!({"resource": body, "operation": o}).to_string()),
                1 => (vec!["--operation".into(), o.to_string()], body.to_string()),
                2 => (vec!["--operation".into(), arg.clone(), "--resource-id".into(), name.clone()], resource.to_string()),
                _ => (vec![], o.to_string()),
            };
            // argv cannot carry NUL
            let args: Vec<String> = args.iter().map(|a| a.replace('\0', "")).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (code, out) = run(&args, &input);
            proptest::prop_assert!((0..=2).contains(&code), "exit {} for {:?} {}: {}", code, args, input, out);
            proptest::prop_assert!(serde_json::from_str::<Value>(&out).is_ok(), "{}", out);
        }
    }
}
