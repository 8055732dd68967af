//! Snippet-only mode (no signed-in state): scripts that read the current identities when they
//! run and compute the keep-list there, instead of baking in a state the app never saw.

use super::powershell::{az_sign_in, finish, ps_array, target_vars};
use super::quote::{ps_single, sh_single};
use super::*;
use crate::operation::Operation;

/// What the user asks for, without knowing the current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Intent {
    EnableSystem,
    RemoveSystem,
    AddUser(Vec<String>),
    RemoveUser(Vec<String>),
    RemoveAll,
    SetExact { system: bool, user: Vec<String> },
}

impl Intent {
    /// The intent of a plans [`Operation`]; `None` for the extension operations.
    ///
    /// ```
    /// use identity_core::operation::Operation;
    /// use identity_core::scripts::Intent;
    /// assert_eq!(Intent::from_operation(&Operation::RemoveAll), Some(Intent::RemoveAll));
    /// assert_eq!(Intent::from_operation(&Operation::InstallLegacyExtension), None);
    /// ```
    pub fn from_operation(op: &Operation) -> Option<Intent> {
        Some(match op {
            Operation::EnableSystemAssigned => Intent::EnableSystem,
            Operation::RemoveSystemAssigned => Intent::RemoveSystem,
            Operation::AddUserAssigned { ids } => Intent::AddUser(ids.clone()),
            Operation::RemoveUserAssigned { ids } => Intent::RemoveUser(ids.clone()),
            Operation::RemoveAll => Intent::RemoveAll,
            Operation::SetExact {
                system_assigned,
                user_assigned,
            } => Intent::SetExact {
                system: *system_assigned,
                user: user_assigned.clone(),
            },
            Operation::RemoveLegacyExtension { .. } | Operation::InstallLegacyExtension => {
                return None;
            }
        })
    }
}

/// A snippet request: cloud, target and intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetRequest {
    pub cloud: Cloud,
    pub target: Resource,
    pub intent: Intent,
}

/// The flavours snippet-only mode offers.
pub const SNIPPET_FLAVOURS: [Flavour; 3] = [
    Flavour::AzPowerShell,
    Flavour::CliBash,
    Flavour::CliPowerShell,
];

/// A snippet-only script, or `None` for a flavour that needs a known state (the exact forms).
///
/// ```
/// use identity_core::scripts::*;
/// let req = SnippetRequest {
///     cloud: Cloud::AzureChinaCloud,
///     target: Resource::new("sub", "rg", "vmss1", TargetKind::ScaleSetUniform),
///     intent: Intent::EnableSystem,
/// };
/// let s = snippet(&req, Flavour::AzPowerShell).unwrap();
/// assert!(s.text.contains("Get-AzVmss"));
/// assert!(s.text.contains("-Environment 'AzureChinaCloud'"));
/// ```
pub fn snippet(req: &SnippetRequest, flavour: Flavour) -> Option<Script> {
    let text = match flavour {
        Flavour::AzPowerShell => az(req),
        Flavour::CliBash => cli(req, Language::Bash),
        Flavour::CliPowerShell => cli(req, Language::PowerShell),
        _ => return None,
    };
    Some(Script {
        flavour,
        language: flavour.language(),
        text,
    })
}

/// Every snippet flavour.
pub fn snippet_all(req: &SnippetRequest) -> Vec<Script> {
    SNIPPET_FLAVOURS
        .iter()
        .filter_map(|f| snippet(req, *f))
        .collect()
}

fn intent_line(i: &Intent) -> String {
    match i {
        Intent::EnableSystem => "enable the system-assigned identity".into(),
        Intent::RemoveSystem => "remove the system-assigned identity".into(),
        Intent::AddUser(ids) => format!("add {} user-assigned identity(ies)", ids.len()),
        Intent::RemoveUser(ids) => format!("remove {} user-assigned identity(ies)", ids.len()),
        Intent::RemoveAll => "remove every identity".into(),
        Intent::SetExact { system, user } => format!(
            "make the identities exactly: system-assigned {}, {} user-assigned",
            if *system { "on" } else { "off" },
            user.len()
        ),
    }
}

fn az(req: &SnippetRequest) -> String {
    let t = &req.target;
    let mut l = vec![
        "# Az PowerShell, snippet-only: reads the current identities when it runs and keeps every one not asked to be removed.".to_string(),
        format!(
            "# Goal: {} on {} '{}'",
            intent_line(&req.intent),
            t.kind.noun(),
            comment_safe(&t.name)
        ),
    ];
    l.extend(az_sign_in(req.cloud, &t.subscription_id));
    let (vars, name_var) = target_vars(t);
    l.extend(vars);
    let obj = if t.kind.is_vm() { "$vm" } else { "$vmss" };
    if t.kind.is_vm() {
        l.push(format!(
            "$vm = Get-AzVM -ResourceGroupName $resourceGroupName -Name ${name_var}"
        ));
    } else {
        l.push(format!(
            "$vmss = Get-AzVmss -ResourceGroupName $resourceGroupName -VMScaleSetName ${name_var}"
        ));
    }
    l.push(format!(
        "$hasSystem = \"$({obj}.Identity.Type)\" -like 'SystemAssigned*'"
    ));
    l.push(format!(
        "$currentIds = @(if ({obj}.Identity.UserAssignedIdentities) {{ {obj}.Identity.UserAssignedIdentities.Keys }})"
    ));
    l.push("# -contains/-notcontains compare ignoring case, as ARM compares ids".into());
    match &req.intent {
        Intent::SetExact { system, user } => {
            l.push(format!("$wantSystem = ${system}"));
            l.extend(ps_array("newIds", user));
        }
        Intent::RemoveAll => {
            l.push("$wantSystem = $false".into());
            l.push("$newIds = @()".into());
        }
        intent => {
            let (add, remove): (Vec<String>, Vec<String>) = match intent {
                Intent::AddUser(ids) => (ids.clone(), vec![]),
                Intent::RemoveUser(ids) => (vec![], ids.clone()),
                _ => (vec![], vec![]),
            };
            l.push(match intent {
                Intent::EnableSystem => "$wantSystem = $true".into(),
                Intent::RemoveSystem => "$wantSystem = $false".into(),
                _ => "$wantSystem = $hasSystem".into(),
            });
            l.extend(ps_array("addIds", &add));
            l.extend(ps_array("removeIds", &remove));
            l.push(
                "$keepIds = @($currentIds | Where-Object { $removeIds -notcontains $_ })".into(),
            );
            l.push(
                "$newIds = @($keepIds) + @($addIds | Where-Object { $keepIds -notcontains $_ })"
                    .into(),
            );
        }
    }
    l.push("$removedIds = @($currentIds | Where-Object { $newIds -notcontains $_ })".into());
    l.push("$addedIds = @($newIds | Where-Object { $currentIds -notcontains $_ })".into());
    l.push(
        "if ($wantSystem -eq $hasSystem -and $removedIds.Count -eq 0 -and $addedIds.Count -eq 0) {"
            .into(),
    );
    l.push("    Write-Output 'Nothing to do: the identities are already as requested.'".into());
    l.push("    return".into());
    l.push("}".into());
    if !t.kind.is_vm() {
        l.push("if ($wantSystem -and \"$($vmss.OrchestrationMode)\" -eq 'Flexible') {".into());
        l.push(
            "    throw 'A Flexible scale set accepts only UserAssigned or None identities.'".into(),
        );
        l.push("}".into());
    }
    l.push("$identityType = if ($wantSystem -and $newIds.Count) { 'SystemAssignedUserAssigned' } elseif ($wantSystem) { 'SystemAssigned' } elseif ($newIds.Count) { 'UserAssigned' } else { 'None' }".into());
    if t.kind.is_vm() {
        l.push("# Update-AzVM sends a PUT of the whole model: the identity becomes exactly $identityType / $newIds.".into());
        l.push("if ($newIds.Count) {".into());
        l.push("    Update-AzVM -ResourceGroupName $resourceGroupName -VM $vm -IdentityType $identityType -IdentityId $newIds -IfMatch $vm.Etag".into());
        l.push("} else {".into());
        l.push("    Update-AzVM -ResourceGroupName $resourceGroupName -VM $vm -IdentityType $identityType -IfMatch $vm.Etag".into());
        l.push("}".into());
    } else {
        l.push("if ($removedIds.Count -and $newIds.Count) {".into());
        l.push("    # Update-AzVmss (PATCH) cannot send null, which removing one of several identities needs: send the exact PATCH.".into());
        l.push("    $wireType = if ($wantSystem) { 'SystemAssigned, UserAssigned' } else { 'UserAssigned' }".into());
        l.push("    $map = @{}".into());
        l.push("    foreach ($id in $newIds) { $map[$id] = @{} }".into());
        l.push("    foreach ($id in $removedIds) { $map[$id] = $null }".into());
        l.push("    $payload = @{ identity = @{ type = $wireType; userAssignedIdentities = $map } } | ConvertTo-Json -Depth 5".into());
        l.push("    # Invoke-AzRestMethod cannot send If-Match: Invoke-RestMethod with an ARM token, guarded by the etag read above.".into());
        l.push("    if (-not $vmss.Etag) { throw 'Get-AzVmss returned no etag (Az.Compute 8.0.0 or later has it): the change cannot be guarded against a concurrent one.' }".into());
        l.push("    $arm = (Get-AzContext).Environment.ResourceManagerUrl.TrimEnd('/')".into());
        l.push("    $accessToken = Get-AzAccessToken".into());
        l.push(
            "    $token = [System.Net.NetworkCredential]::new('', $accessToken.Token).Password"
                .into(),
        );
        l.push(format!(
            "    $path = \"$($vmss.Id)?api-version={}\"",
            api_versions::COMPUTE
        ));
        l.push(
            "    $headers = @{ Authorization = \"Bearer $token\"; 'If-Match' = $vmss.Etag }".into(),
        );
        l.push("    $response = Invoke-RestMethod -Method Patch -Uri ($arm + $path) -Headers $headers -ContentType 'application/json; charset=utf-8' -Body $payload".into());
        l.extend(super::rest::ps_wait_lines("$path", "    "));
        l.push("} elseif ($newIds.Count) {".into());
        l.push(format!("    Update-AzVmss -ResourceGroupName $resourceGroupName -VMScaleSetName ${name_var} -IdentityType $identityType -IdentityId $newIds -IfMatch $vmss.Etag"));
        l.push("} else {".into());
        l.push(format!("    Update-AzVmss -ResourceGroupName $resourceGroupName -VMScaleSetName ${name_var} -IdentityType $identityType -IfMatch $vmss.Etag"));
        l.push("}".into());
    }
    finish(super::powershell::with_requires(l))
}

fn cli(req: &SnippetRequest, lang: Language) -> String {
    use super::cli::{az_rest_lines, check_exit, kv};
    let q = |s: &str| match lang {
        Language::Bash => sh_single(s),
        Language::PowerShell => ps_single(s),
    };
    let t = &req.target;
    let g = t.kind.cli_group();
    let mut l = Vec::new();
    if lang == Language::Bash {
        l.push("#!/usr/bin/env bash".to_string());
    }
    l.push("# Azure CLI, snippet-only: reads the current identities when it runs (az … identity assign/remove do a GET, then a PATCH).".into());
    l.push(format!(
        "# Goal: {} on {} '{}'",
        intent_line(&req.intent),
        t.kind.noun(),
        comment_safe(&t.name)
    ));
    l.extend(super::cli::sign_in(lang, req.cloud, &t.subscription_id));
    let rn = format!(
        "{} {}",
        kv(lang, "--resource-group", &t.resource_group),
        kv(lang, "--name", &t.name)
    );
    let wants_system = matches!(req.intent, Intent::EnableSystem)
        || matches!(req.intent, Intent::SetExact { system: true, .. });
    if wants_system && t.kind == TargetKind::ScaleSetFlexible {
        l.push(
            "# Refused: a Flexible scale set accepts only UserAssigned or None identities.".into(),
        );
        return finish(l);
    }
    let call = |verb: &str, ids: &[String]| -> String {
        let ids: Vec<String> = ids.iter().map(|s| q(s)).collect();
        format!("az {g} identity {verb} {rn} --identities {}", ids.join(" "))
    };
    match &req.intent {
        Intent::EnableSystem => l.push(call("assign", &["[system]".into()])),
        Intent::RemoveSystem => l.push(call("remove", &["[system]".into()])),
        Intent::AddUser(ids) => l.push(call("assign", ids)),
        Intent::RemoveUser(ids) => l.push(call("remove", ids)),
        Intent::RemoveAll => {
            l.push("# The body of \"remove every identity\" does not depend on the current state: the exact PATCH.".into());
            let mut r = ArmRequest::new(Method::Patch, t.path(), api_versions::COMPUTE);
            r.body = Some(serde_json::json!({"identity": {"type": "None"}}));
            l.extend(az_rest_lines(
                lang,
                1,
                &r,
                Some(t),
                &Change::Identity {
                    target: t.clone(),
                    before: Identities::default(),
                    after: Identities::default(),
                },
            ));
        }
        Intent::SetExact { system, user } => {
            let mut add: Vec<String> = Vec::new();
            if *system {
                add.push("[system]".into());
            }
            add.extend(user.iter().cloned());
            if !add.is_empty() {
                l.push("# 1. add what is missing (assign merges with what is there)".into());
                l.push(call("assign", &add));
                l.extend(check_exit(lang));
            }
            l.push("# 2. remove every other identity, read from the resource now".into());
            let keys = format!(
                "az {g} show {rn} --query {} --output tsv",
                q("keys(identity.userAssignedIdentities || `{}`)")
            );
            let ty = format!(
                "az {g} show {rn} --query {} --output tsv",
                q("identity.type")
            );
            match lang {
                Language::Bash => {
                    let d: Vec<String> = user.iter().map(|s| q(s)).collect();
                    l.push(format!("desired=({})", d.join(" ")));
                    l.push(format!("mapfile -t current < <({keys})"));
                    l.push("remove=()".into());
                    l.push("for c in \"${current[@]}\"; do".into());
                    l.push("  [ -n \"$c\" ] || continue".into());
                    l.push("  keep=no".into());
                    l.push("  for d in \"${desired[@]}\"; do [ \"${c,,}\" = \"${d,,}\" ] && keep=yes; done".into());
                    l.push("  [ \"$keep\" = yes ] || remove+=(\"$c\")".into());
                    l.push("done".into());
                    if !*system {
                        l.push(format!("type=$({ty})"));
                        l.push(
                            "case \"$type\" in SystemAssigned*) remove+=('[system]') ;; esac"
                                .into(),
                        );
                    }
                    l.push(format!(
                        "if [ ${{#remove[@]}} -gt 0 ]; then az {g} identity remove {rn} --identities \"${{remove[@]}}\"; fi"
                    ));
                }
                Language::PowerShell => {
                    l.extend(ps_array("desired", user));
                    l.push(format!("$current = @({keys})"));
                    l.push(
                        "$remove = @($current | Where-Object { $_ -and $desired -notcontains $_ })"
                            .into(),
                    );
                    if !*system {
                        l.push(format!("$type = {ty}"));
                        l.push(
                            "if (\"$type\" -like 'SystemAssigned*') { $remove += '[system]' }"
                                .into(),
                        );
                    }
                    l.push(format!(
                        "if ($remove.Count) {{ az {g} identity remove {rn} --identities $remove }}"
                    ));
                }
            }
        }
    }
    l.extend(check_exit(lang));
    finish(l)
}
