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

/// What the scripts say when the identity they read contradicts itself (after the problems).
const CONFLICT_ADVICE: &str = "Nothing was changed, because a change computed from it could drop an identity. Read it again in a moment (it may have been caught mid-update); if it stays like this, check and fix its identities in the Azure portal (the resource's Identity page).";

/// The JMESPath query the Azure CLI snippets read the identity with, in one GET: a flat list of
/// the type (`-` when absent), the system-assigned principal id (`-` when absent), whether the
/// user-assigned map holds a `null` (`true`/`false`) and then the map's ids. (A projection drops
/// nulls, so the nulls are found through `map(&to_string(@), …)`.)
pub const CLI_IDENTITY_QUERY: &str = "[[identity.type || '-', identity.principalId || '-', to_string(contains(map(&to_string(@), values(identity.userAssignedIdentities || `{}`)), 'null'))], keys(identity.userAssignedIdentities || `{}`)][]";

/// PowerShell lines that stop the script when the identity read contradicts itself — the rule of
/// [`crate::identity::IdentityState::read_arm`]: a type naming UserAssigned with no ids, map
/// entries (or a principal id) next to a type without UserAssigned (SystemAssigned), an unknown
/// type word or None combined with another, a `null` in the map, an id listed twice. Expects
/// `$identityTypeText`, `$identityPrincipal`, `$identityIds` and `$identityHasNull`.
fn ps_conflict_check(label: &str) -> Vec<String> {
    ps_conflict_check_expr(&ps_single(label))
}

/// [`ps_conflict_check`] with the label as a PowerShell expression (`$itemLabel` in a batch).
pub(crate) fn ps_conflict_check_expr(label: &str) -> Vec<String> {
    [
        "# Stop when the identity read contradicts itself (type and user-assigned map disagree): a change computed from it could drop an identity.",
        "$identityProblems = @()",
        "$namesSystem = $false; $namesUser = $false; $namesNone = $false; $typeKnown = $true",
        "if ($identityTypeText) {",
        "    foreach ($typePart in ($identityTypeText -split ',')) {",
        "        switch ($typePart -replace '\\s', '') {",
        "            'SystemAssigned' { $namesSystem = $true }",
        "            'UserAssigned' { $namesUser = $true }",
        "            'SystemAssignedUserAssigned' { $namesSystem = $true; $namesUser = $true }",
        "            'None' { $namesNone = $true }",
        "            default { $typeKnown = $false }",
        "        }",
        "    }",
        "}",
        "if (-not $typeKnown) { $identityProblems += \"unknown identity type '$identityTypeText' (expected None, SystemAssigned, UserAssigned or 'SystemAssigned, UserAssigned')\" }",
        "elseif ($namesNone -and ($namesSystem -or $namesUser)) { $typeKnown = $false; $identityProblems += \"identity type '$identityTypeText' combines None with another type\" }",
        "if ($namesUser -and $identityIds.Count -eq 0) { $identityProblems += \"identity type '$identityTypeText' names UserAssigned, but userAssignedIdentities is missing, null or empty, so the identities it refers to are unknown\" }",
        "if ($identityHasNull) { $identityProblems += 'userAssignedIdentities holds null for an identity (a GET lists each assigned identity with an object)' }",
        "$seenIds = @{}",
        "foreach ($seenId in $identityIds) {",
        "    if ($seenIds.ContainsKey($seenId)) { $identityProblems += \"userAssignedIdentities lists '$seenId' twice (ids differing only in case are the same identity)\" }",
        "    $seenIds[$seenId] = $true",
        "}",
        "if ($typeKnown -and -not $namesUser -and $identityIds.Count) { $identityProblems += \"identity type '$identityTypeText' does not name UserAssigned, but userAssignedIdentities lists $($identityIds -join ', ')\" }",
        "if ($typeKnown -and -not $namesSystem -and $identityPrincipal) { $identityProblems += \"identity type '$identityTypeText' does not name SystemAssigned, but a system-assigned principalId is present\" }",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(std::iter::once(format!(
        "if ($identityProblems.Count) {{ throw ('The identity read from ' + {} + ' is inconsistent: ' + ($identityProblems -join '; ') + '. ' + {}) }}",
        label,
        ps_single(CONFLICT_ADVICE)
    )))
    .collect()
}

/// Bash lines with the same rule as [`ps_conflict_check`], reading the identity with
/// [`CLI_IDENTITY_QUERY`] (`show`: the `az … show` command without `--query`).
fn sh_conflict_check(show: &str, label: &str) -> Vec<String> {
    sh_conflict_check_expr(
        show,
        &sh_single(&format!("The identity read from {label} is inconsistent: ")),
        "exit 1",
    )
}

/// [`sh_conflict_check`] with the message's start as a bash word (`"The identity read from $id is inconsistent: "`
/// in a batch) and what to run on a conflict.
pub(crate) fn sh_conflict_check_expr(show: &str, label: &str, stop: &str) -> Vec<String> {
    let mut l: Vec<String> = vec![
        "# Stop when the identity read contradicts itself (type and user-assigned map disagree): a change computed from it could drop an identity.".into(),
        format!(
            "identityLines=$({show} --query {} --output tsv)",
            sh_single(CLI_IDENTITY_QUERY)
        ),
    ];
    l.extend(
        [
            "mapfile -t identityRead < <(printf '%s\\n' \"$identityLines\")",
            "identityType=${identityRead[0]:--}; identityPrincipal=${identityRead[1]:--}; identityHasNull=${identityRead[2]:-false}",
            "identityIds=()",
            "for i in \"${identityRead[@]:3}\"; do [ -z \"$i\" ] || identityIds+=(\"$i\"); done",
            "identityProblems=()",
            "namesSystem=no; namesUser=no; namesNone=no; typeKnown=yes",
            "if [ \"$identityType\" != - ]; then",
            "  rest=$identityType",
            "  while :; do",
            "    part=${rest%%,*}; part=${part//[[:space:]]/}",
            "    case \"${part,,}\" in",
            "      systemassigned) namesSystem=yes ;;",
            "      userassigned) namesUser=yes ;;",
            "      systemassigneduserassigned) namesSystem=yes; namesUser=yes ;;",
            "      none) namesNone=yes ;;",
            "      *) typeKnown=no ;;",
            "    esac",
            "    case $rest in *,*) rest=${rest#*,} ;; *) break ;; esac",
            "  done",
            "fi",
            "if [ \"$typeKnown\" = no ]; then identityProblems+=(\"unknown identity type '$identityType' (expected None, SystemAssigned, UserAssigned or 'SystemAssigned, UserAssigned')\")",
            "elif [ \"$namesNone\" = yes ] && { [ \"$namesSystem\" = yes ] || [ \"$namesUser\" = yes ]; }; then typeKnown=no; identityProblems+=(\"identity type '$identityType' combines None with another type\"); fi",
            "if [ \"$namesUser\" = yes ] && [ ${#identityIds[@]} -eq 0 ]; then identityProblems+=(\"identity type '$identityType' names UserAssigned, but userAssignedIdentities is missing, null or empty, so the identities it refers to are unknown\"); fi",
            "if [ \"$identityHasNull\" = true ]; then identityProblems+=('userAssignedIdentities holds null for an identity (a GET lists each assigned identity with an object)'); fi",
            "for ((i = 0; i < ${#identityIds[@]}; i++)); do",
            "  for ((j = 0; j < i; j++)); do",
            "    if [ \"${identityIds[i],,}\" = \"${identityIds[j],,}\" ]; then identityProblems+=(\"userAssignedIdentities lists '${identityIds[i]}' twice (ids differing only in case are the same identity)\"); fi",
            "  done",
            "done",
            "if [ \"$typeKnown\" = yes ] && [ \"$namesUser\" = no ] && [ ${#identityIds[@]} -gt 0 ]; then identityProblems+=(\"identity type '$identityType' does not name UserAssigned, but userAssignedIdentities lists ${identityIds[*]}\"); fi",
            "if [ \"$typeKnown\" = yes ] && [ \"$namesSystem\" = no ] && [ \"$identityPrincipal\" != - ]; then identityProblems+=(\"identity type '$identityType' does not name SystemAssigned, but a system-assigned principalId is present\"); fi",
            "if [ ${#identityProblems[@]} -gt 0 ]; then",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    l.push(format!("  printf '%s' {label} >&2"));
    l.push("  printf '%s; ' \"${identityProblems[@]}\" >&2".into());
    l.push(format!(
        "  printf '%s\\n' {} >&2",
        sh_single(CONFLICT_ADVICE)
    ));
    l.push(format!("  {stop}"));
    l.push("fi".into());
    l
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
    let (vars, _) = target_vars(t);
    l.extend(vars);
    let label = ps_single(&format!("{} '{}'", t.kind.noun(), t.name));
    let item = az_item(
        t.kind,
        &req.intent,
        &label,
        &[
            "Write-Output 'Nothing to do: the identities are already as requested.'".into(),
            "return".into(),
        ],
    );
    l.extend(item.read);
    l.extend(item.guard);
    l.extend(item.write);
    finish(super::powershell::with_requires(l))
}

/// The Az PowerShell lines that change one resource whose `$resourceGroupName` and `$vmName` / `$vmssName` are
/// set, in three parts: `read` (one GET), `guard` (the conflict check, the change computed losslessly from what was
/// read, the no-op, the Flexible refusal: nothing sent) and `write` (the change with `-IfMatch` and the etag read).
/// `label` is a PowerShell expression naming the resource in messages; `noop` the lines run when nothing is to
/// change (a single script returns; a batch counts the item and goes on).
pub(crate) struct AzItem {
    pub read: Vec<String>,
    pub guard: Vec<String>,
    pub write: Vec<String>,
}

pub(crate) fn az_item(kind: TargetKind, intent: &Intent, label: &str, noop: &[String]) -> AzItem {
    let obj = if kind.is_vm() { "$vm" } else { "$vmss" };
    let name_var = if kind.is_vm() { "vmName" } else { "vmssName" };
    let mut l = Vec::new();
    if kind.is_vm() {
        l.push(format!(
            "$vm = Get-AzVM -ResourceGroupName $resourceGroupName -Name ${name_var}"
        ));
    } else {
        l.push(format!(
            "$vmss = Get-AzVmss -ResourceGroupName $resourceGroupName -VMScaleSetName ${name_var}"
        ));
    }
    l.push(format!("$identityTypeText = \"$({obj}.Identity.Type)\""));
    l.push(format!(
        "$identityPrincipal = \"$({obj}.Identity.PrincipalId)\""
    ));
    l.push(format!(
        "$identityMap = {obj}.Identity.UserAssignedIdentities"
    ));
    l.push("$identityIds = @(if ($identityMap) { $identityMap.Keys })".into());
    l.push(
        "$identityHasNull = @($identityIds | Where-Object { $null -eq $identityMap[$_] }).Count -gt 0"
            .into(),
    );
    let read = std::mem::take(&mut l);
    l.extend(ps_conflict_check_expr(label));
    l.push(format!(
        "$hasSystem = \"$({obj}.Identity.Type)\" -like 'SystemAssigned*'"
    ));
    l.push(format!(
        "$currentIds = @(if ({obj}.Identity.UserAssignedIdentities) {{ {obj}.Identity.UserAssignedIdentities.Keys }})"
    ));
    l.push("# -contains/-notcontains compare ignoring case, as ARM compares ids".into());
    match intent {
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
    l.extend(noop.iter().map(|n| format!("    {n}")));
    l.push("}".into());
    if !kind.is_vm() {
        l.push("if ($wantSystem -and \"$($vmss.OrchestrationMode)\" -eq 'Flexible') {".into());
        l.push(
            "    throw 'A Flexible scale set accepts only UserAssigned or None identities.'".into(),
        );
        l.push("}".into());
    }
    let guard = std::mem::take(&mut l);
    l.push("$identityType = if ($wantSystem -and $newIds.Count) { 'SystemAssignedUserAssigned' } elseif ($wantSystem) { 'SystemAssigned' } elseif ($newIds.Count) { 'UserAssigned' } else { 'None' }".into());
    if kind.is_vm() {
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
    AzItem {
        read,
        guard,
        write: l,
    }
}

/// The observed facts (tests/az-cli) for the az commands a snippet runs.
fn cli_facts(req: &SnippetRequest) -> Vec<String> {
    use super::cli::{RemoveShape, identity_facts, observed};
    let kind = req.target.kind;
    match &req.intent {
        Intent::EnableSystem => identity_facts(kind, false, Some(true), None),
        Intent::AddUser(_) => identity_facts(kind, false, Some(false), None),
        Intent::RemoveSystem | Intent::RemoveUser(_) => {
            identity_facts(kind, false, None, Some(RemoveShape::Unknown))
        }
        Intent::SetExact { system, .. } => {
            identity_facts(kind, false, Some(*system), Some(RemoveShape::Unknown))
        }
        Intent::RemoveAll => vec![observed(
            "az rest sends exactly the request given (method, path, api-version, headers, body): the app's.",
        )],
    }
}

/// PowerShell lines that read the identity once with `show` (an `az … show` or `az rest --method get` command
/// without `--query`) and set `$identityTypeText`, `$identityPrincipal`, `$identityHasNull` and `$identityIds` for
/// [`ps_conflict_check`].
pub(crate) fn ps_cli_identity_read(show: &str) -> Vec<String> {
    let lang = Language::PowerShell;
    let mut l: Vec<String> = Vec::new();
    l.push(
        "# Stop when the identity read contradicts itself: read it once (one GET), then check it."
            .into(),
    );
    l.push(format!(
        "$identityRead = @({show} --query {} --output tsv)",
        ps_single(CLI_IDENTITY_QUERY)
    ));
    l.extend(super::cli::check_exit(lang));
    l.push("$identityTypeText = if ($identityRead.Count -gt 0 -and $identityRead[0] -ne '-') { $identityRead[0] } else { '' }".into());
    l.push("$identityPrincipal = if ($identityRead.Count -gt 1 -and $identityRead[1] -ne '-') { $identityRead[1] } else { '' }".into());
    l.push("$identityHasNull = $identityRead.Count -gt 2 -and $identityRead[2] -eq 'true'".into());
    l.push("$identityIds = @($identityRead | Select-Object -Skip 3 | Where-Object { $_ })".into());
    l
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
    let wants_system = matches!(req.intent, Intent::EnableSystem)
        || matches!(req.intent, Intent::SetExact { system: true, .. });
    if wants_system && t.kind == TargetKind::ScaleSetFlexible {
        l.extend(super::cli::refuse(
            lang,
            &format!(
                "Scale set '{}' uses Flexible orchestration, which accepts only UserAssigned or None identities: Azure rejects a system-assigned identity there (400 InvalidParameter). Use a user-assigned identity, or enable the system-assigned identity on each member VM.",
                t.name
            ),
        ));
        return finish(l);
    }
    l.extend(cli_facts(req));
    l.extend(super::cli::sign_in(lang, req.cloud, &t.subscription_id));
    let rn = format!(
        "{} {}",
        kv(lang, "--resource-group", &t.resource_group),
        kv(lang, "--name", &t.name)
    );
    let label = format!("{} '{}'", t.kind.noun(), t.name);
    let show = format!("az {g} show {rn}");
    match lang {
        Language::Bash => l.extend(sh_conflict_check(&show, &label)),
        Language::PowerShell => {
            l.extend(ps_cli_identity_read(&show));
            l.extend(ps_conflict_check(&label));
        }
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
