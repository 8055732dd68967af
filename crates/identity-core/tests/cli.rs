//! The `identity-plan` binary, spawned as a user would run it.
#![cfg(not(target_arch = "wasm32"))]

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
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
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
    // every example operation in --help that is complete JSON is a valid Operation
    let mut parsed = 0;
    for line in out
        .lines()
        .filter(|l| l.trim_start().starts_with("{\"op\""))
    {
        let example = line.trim().split("   ").next().unwrap();
        if let Ok(v) = serde_json::from_str::<Value>(example) {
            serde_json::from_value::<identity_core::Operation>(v)
                .unwrap_or_else(|e| panic!("{example}: {e}"));
            parsed += 1;
        }
    }
    assert!(parsed >= 5, "{parsed}");
}
