//! Scripts: every scenario × target kind × flavour — snapshots, parse + bind checks on every
//! PowerShell script, bash syntax and argument round trips, and exact-body equivalence.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use identity_core::create::{
    RoleAssignmentSpec, UserAssignedIdentitySpec, create_user_assigned_identity, role_assignment,
};
use identity_core::operation::Operation;
use identity_core::plan::plan;
use identity_core::resource::ResourceState;
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
        let Outcome::Requests(reqs) = &plan.outcome else {
            continue;
        };
        let ps = generate(&plan, Flavour::AzPowerShellExact).text;
        for (i, r) in reqs.iter().enumerate() {
            let var = if reqs.len() > 1 {
                format!("body{}", i + 1)
            } else {
                "body".into()
            };
            if let Some(b) = &r.body {
                let got = assignments(&ps, &var);
                assert_eq!(got.len(), 1, "{name}: ${var}\n{ps}");
                let parsed: Value = serde_json::from_str(&got[0]).unwrap();
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
        let calls = run_bash_with_fake_az(&sh, plan.if_match());
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
        // PowerShell az rest: the body file content
        let psr = generate(&plan, Flavour::CliRestPowerShell).text;
        let tree_vals = set_content_values(&psr);
        let bodies: Vec<&identity_core::ArmRequest> =
            reqs.iter().filter(|r| r.body.is_some()).collect();
        let json_vals: Vec<Value> = tree_vals
            .iter()
            .map(|v| serde_json::from_str(v).unwrap())
            .collect();
        for r in bodies {
            assert!(
                json_vals.contains(r.body.as_ref().unwrap()),
                "{name}: body file"
            );
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
        let calls = run_bash_with_fake_az(&sh, plan.if_match());
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
        assert_eq!(calls[0], vec!["cloud", "set", "--name", cloud.name()]);
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

pub fn bash_syntax_ok(text: &str) {
    let out = std::process::Command::new("bash")
        .arg("-n")
        .arg("-c")
        .arg(text)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash -n: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
}

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
    let dir = std::env::temp_dir().join(format!(
        "idw-fakeaz-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("calls");
    let _ = std::fs::remove_file(&log);
    let prelude = r#"az() {
  for a in "$@"; do printf '%s\0' "$a" >> "$AZ_LOG"; done; printf '\036' >> "$AZ_LOG"
  if [ "${2:-}" = show ] || [ "${3:-}" = show ]; then
    case "$*" in
      *"--query etag"*) printf '%s\n' "$FAKE_ETAG" ;;
      *"--query keys("*) [ -z "$FAKE_IDS" ] || printf '%s\n' "$FAKE_IDS" ;;
      *"--query identity.type"*) printf '%s\n' "$FAKE_TYPE" ;;
    esac
  fi
}
"#;
    let script = format!("{prelude}{text}");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("AZ_LOG", &log)
        .env("FAKE_ETAG", etag.unwrap_or(""))
        .env("FAKE_IDS", ids.join("\n"))
        .env("FAKE_TYPE", ty)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw = std::fs::read(&log).unwrap_or_default();
    let s = String::from_utf8(raw).unwrap();
    s.split('\u{1e}')
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.split('\0')
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect()
        })
        .collect()
}

fn arg_after(call: &[String], flag: &str) -> Option<String> {
    call.iter()
        .position(|a| a == flag)
        .map(|i| call[i + 1].clone())
}

/// Decoded `-Value '<literal>'` arguments of Set-Content calls.
fn set_content_values(src: &str) -> Vec<String> {
    let invs = invocations(src, &|_, p| p.eq_ignore_ascii_case("NoNewline"));
    invs.into_iter()
        .filter(|i| i.name == "Set-Content")
        .filter_map(|i| {
            i.named
                .into_iter()
                .find(|(n, _)| n == "Value")
                .and_then(|(_, a)| match a {
                    Some(Arg::Literal(v)) if v.len() == 1 => Some(v[0].clone()),
                    _ => None,
                })
        })
        .collect()
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
