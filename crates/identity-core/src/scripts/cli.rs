//! Azure CLI scripts for bash and for PowerShell: idiomatic (`az vmss|vm identity …`,
//! `az identity create`, `az role assignment create`) and exact (`az rest`).

use super::powershell::finish;
use super::quote::{json_compact, json_pretty, ps_single, sh_single};
use super::*;

fn q(lang: Language, s: &str) -> String {
    match lang {
        Language::Bash => sh_single(s),
        Language::PowerShell => ps_single(s),
    }
}

/// Does azure-cli read this argument value as a file? It expands every argument that starts with `@` (`@file`;
/// `@-` is standard input), also in `--flag=@value`, and has no escape for it: such a value cannot be passed to an
/// az command as it is, in any shell.
pub(crate) fn az_reads_as_file(value: &str) -> bool {
    value.starts_with('@')
}

/// Would the idiomatic az commands of this plan pass a value azure-cli reads as a file
/// ([`az_reads_as_file`])? Looks at every string of the change, of its requests' bodies and the ids of the role
/// assignments it deletes (more than the commands pass: a value that cannot reach an az option errs on the safe
/// side, the exact requests).
fn passes_a_file_reference(plan: &ScriptPlan) -> bool {
    fn any_at(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => az_reads_as_file(s),
            serde_json::Value::Array(a) => a.iter().any(any_at),
            serde_json::Value::Object(o) => o.values().any(any_at),
            _ => false,
        }
    }
    serde_json::to_value(&plan.change).is_ok_and(|c| any_at(&c))
        || plan
            .requests()
            .iter()
            .filter_map(|r| r.body.as_ref())
            .any(any_at)
        || plan
            .role_assignment_deletions
            .iter()
            .any(|d| az_reads_as_file(&d.id))
}

/// `--flag 'value'`, or `'--flag=value'` when the value starts with `-` (the CLI's argument
/// parser would read a separate `-x` word as an option, not as the value).
pub(crate) fn kv(lang: Language, flag: &str, value: &str) -> String {
    if value.starts_with('-') {
        q(lang, &format!("{flag}={value}"))
    } else {
        format!("{flag} {}", q(lang, value))
    }
}

/// The `az` function every PowerShell Azure CLI script defines before its first `az` call: on
/// Windows it builds the batch file's command line itself (see its comment and
/// `tests/quote_fuzz.rs`, which runs it through models of cmd.exe and of the MSVC runtime).
const PS_AZ_FUNCTION: &str = r#"# Windows: az is az.cmd (MSI) or az.bat (pip), a batch file, so cmd.exe parses its arguments again (%* in the batch
# file): & | < > ^ ( ) % and " in a value would cut, redirect or change the command, and PowerShell (5.1, and 7.3+ which
# keeps its old way for batch files) does not escape a " inside an argument. So the az function below builds the command
# line itself and starts cmd.exe /d /v:off /e:on /c (no AutoRun, no delayed expansion, extensions on, whatever the
# registry says) with System.Diagnostics.Process: every argument in double quotes (there cmd.exe reads & | < > ^ ( ) as
# text), a " inside written "" and backslashes before a quote doubled (the MSVC runtime's rules, which Python's argv
# follows), every % written %%cd:~,% (cmd.exe expands %name% even inside quotes; %cd:~,% is empty and breaks every
# name). Python then receives each value exactly. Where az is not a batch file (Linux, macOS), the arguments are passed
# unchanged.
function ConvertTo-AzCmdArgument([string]$Value) {
    if ($Value -match '[\x00-\x08\x0A-\x1F]') { throw "cmd.exe cannot pass a line break or control character to az: $Value" }
    $quoted = $Value -replace '(\\*)"', '$1$1""' -replace '(\\+)\z', '$1$1' -replace '%', '%%cd:~,%'
    '"' + $quoted + '"'
}
function az {
    $azCommand = @(Get-Command -Name az -CommandType Application -ErrorAction Stop)[0]
    $azArgs = @(foreach ($a in $args) { foreach ($v in @($a)) { [string]$v } })
    $stdin = @($input)
    if ($azCommand.Extension -notin @('.cmd', '.bat')) {
        if ($stdin.Count) { $stdin | & $azCommand.Path @azArgs } else { & $azCommand.Path @azArgs }
        return
    }
    $startInfo = [System.Diagnostics.ProcessStartInfo]::new("$env:SystemRoot\System32\cmd.exe")
    $cmdArgs = @($azArgs | ForEach-Object { ConvertTo-AzCmdArgument $_ }) -join ' '
    $startInfo.Arguments = '/d /v:off /e:on /c ""' + $azCommand.Path + '" ' + $cmdArgs + '"'
    $startInfo.UseShellExecute = $false
    # az login keeps the console for its prompts; every other output is returned, as from a native command
    $startInfo.RedirectStandardOutput = $azArgs[0] -ne 'login'
    $startInfo.RedirectStandardInput = $stdin.Count -gt 0
    $process = [System.Diagnostics.Process]::Start($startInfo)
    if ($stdin.Count) {
        $process.StandardInput.Write(($stdin -join "`n"))
        $process.StandardInput.Close()
    }
    $output = if ($startInfo.RedirectStandardOutput) { $process.StandardOutput.ReadToEnd() }
    $process.WaitForExit()
    $global:LASTEXITCODE = $process.ExitCode
    if ($output) { $output.TrimEnd("`r", "`n") -split "`r?`n" }
}"#;

/// The azure-cli version the Azure CLI scripts were checked with (`az vmss create` options,
/// `az … identity` behaviour: shared/cmdlets/az-cli.json); the scripts stop on an older one.
pub const AZ_CLI_MIN_VERSION: &str = "2.91.0";

/// The first lines of every Azure CLI script: stop on errors, in PowerShell the `az` function
/// that passes every value exactly on Windows, then the azure-cli version check.
pub(crate) fn prelude(lang: Language) -> Vec<String> {
    let min = AZ_CLI_MIN_VERSION;
    let message = format!(
        "azure-cli $azVersion is older than {min}, the version these commands were checked with (or az version failed): update it (https://learn.microsoft.com/cli/azure/update-azure-cli)."
    );
    let check = format!("# Checked with azure-cli {min}: stop before any change if az is older.");
    match lang {
        Language::Bash => vec![
            "set -euo pipefail".into(),
            check,
            "azVersion=$(az version --query '\"azure-cli\"' --output tsv || true)".into(),
            "v=$azVersion".into(),
            format!("for n in {}; do", min.replace('.', " ")),
            "  h=${v%%.*}; h=${h%%[!0-9]*}".into(),
            format!(
                "  if [ \"${{h:-0}}\" -gt \"$n\" ]; then break; elif [ \"${{h:-0}}\" -lt \"$n\" ]; then echo \"{message}\" >&2; exit 1; fi"
            ),
            "  case $v in *.*) v=${v#*.} ;; *) v= ;; esac".into(),
            "done".into(),
        ],
        Language::PowerShell => {
            let mut l = vec!["$ErrorActionPreference = 'Stop'".to_string()];
            l.extend(PS_AZ_FUNCTION.lines().map(String::from));
            l.push(check);
            l.push("$azVersion = az version --query '\"azure-cli\"' --output tsv".into());
            l.push(format!(
                "$azVersionOk = ($LASTEXITCODE -eq 0) -and ($azVersion -as [version]) -and ([version]$azVersion -ge [version]'{min}')"
            ));
            l.push(format!("if (-not $azVersionOk) {{ throw \"{message}\" }}"));
            l
        }
    }
}

/// Sign in: select the cloud, log in, select the subscription.
pub(crate) fn sign_in(lang: Language, cloud: Cloud, sub: &str) -> Vec<String> {
    let mut l = prelude(lang);
    l.push(format!("az cloud set {}", kv(lang, "--name", cloud.name())));
    l.push("az login".into());
    if az_reads_as_file(sub) {
        // no az command can select it; nothing may run in another subscription
        l.extend(refuse(
            lang,
            &format!("the subscription {sub:?} starts with @, which az reads as a file name: it cannot be selected."),
        ));
        return l;
    }
    l.push(format!(
        "az account set {}",
        kv(lang, "--subscription", sub)
    ));
    l.extend(check_exit(lang));
    l
}

/// PowerShell does not stop on a native command's failure by itself.
pub(crate) fn check_exit(lang: Language) -> Vec<String> {
    match lang {
        Language::Bash => vec![],
        Language::PowerShell => {
            vec!["if ($LASTEXITCODE -ne 0) { throw 'az failed' }".into()]
        }
    }
}

/// Stop unless `show` (an `az … show` command, without `--output`) finds no resource: `az … show`
/// exits 0 when it exists and 3 when ARM answers 404. `exists` is the message for an existing
/// one; any other exit stops too (a failed check never lets a create replace something).
pub(crate) fn stop_if_exists(lang: Language, show: &str, exists: &str) -> Vec<String> {
    let check = "Could not check that it does not exist yet (the error is above): fix that and run the script again.";
    match lang {
        Language::Bash => vec![
            format!("showRc=0; showError=$({show} --output none 2>&1) || showRc=$?"),
            format!(
                "if [ \"$showRc\" -eq 0 ]; then echo {} >&2; exit 1; fi",
                sh_single(exists)
            ),
            format!(
                "if [ \"$showRc\" -ne 3 ]; then printf '%s\\n' \"$showError\" >&2; echo {} >&2; exit 1; fi",
                sh_single(check)
            ),
        ],
        Language::PowerShell => vec![
            format!("$null = {show} --output none"),
            format!("if ($LASTEXITCODE -eq 0) {{ throw {} }}", ps_single(exists)),
            format!("if ($LASTEXITCODE -ne 3) {{ throw {} }}", ps_single(check)),
        ],
    }
}

fn head(plan: &ScriptPlan, lang: Language, what: &str) -> Vec<String> {
    let mut l = Vec::new();
    if lang == Language::Bash {
        l.push("#!/usr/bin/env bash".into());
    }
    l.extend(header_lines(
        plan,
        &format!(
            "{what} for {}",
            if lang == Language::Bash {
                "bash"
            } else {
                "PowerShell"
            }
        ),
    ));
    l
}

/// One header line with a difference between az's requests and the app's that the az-cli test
/// layer (tests/az-cli, "Findings" in its README) observed with [`AZ_CLI_MIN_VERSION`].
pub(crate) fn observed(fact: &str) -> String {
    format!(
        "# Observed with azure-cli {AZ_CLI_MIN_VERSION}: {}",
        comment_safe(fact)
    )
}

/// What az long-running commands do between polls (observed: no Retry-After from ARM).
pub(crate) const POLL_FACT: &str = "a long-running az command waits 30 s before its first status poll when ARM sends no Retry-After.";

/// The ids `az … identity assign` and `az … identity remove` get for a change (add first, remove
/// second: the resource never passes through an empty identity).
fn assign_and_remove(before: &Identities, after: &Identities) -> (Vec<String>, Vec<String>) {
    let mut add: Vec<String> = Vec::new();
    if after.system && !before.system {
        add.push("[system]".into());
    }
    add.extend(added_users(before, after));
    let mut remove: Vec<String> = Vec::new();
    if before.system && !after.system {
        remove.push("[system]".into());
    }
    remove.extend(removed_users(before, after));
    (add, remove)
}

/// What `az … identity remove` is asked to do, for its observed body.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RemoveShape {
    /// Some ids go, others stay.
    Ids,
    /// Nothing remains.
    AllGone,
    /// Only the system-assigned identity goes; user-assigned ones stay.
    SystemOnly,
    /// Not known when the script is written (snippet-only mode): any of the above.
    Unknown,
    /// A case whose body the az-cli layer did not observe (only the system-assigned identity, removed).
    Unobserved,
}

/// The observed facts about `az {g} identity assign|remove`. `assign`: `Some(true)` when it
/// enables the system-assigned identity next to user-assigned ones; `guarded`: the script checks
/// the etag first (the plan knew it).
pub(crate) fn identity_facts(
    kind: TargetKind,
    guarded: bool,
    assign: Option<bool>,
    remove: Option<RemoveShape>,
) -> Vec<String> {
    let g = kind.cli_group();
    let noun = kind.noun();
    let mut l = Vec::new();
    if assign.is_none() && remove.is_none() {
        return l;
    }
    l.push(observed(&format!(
        "az {g} identity assign|remove send no If-Match (the app does): {}",
        if guarded {
            "the etag check below is the only guard; a change landing between it and az's write was merged, not lost."
        } else {
            "nothing guards against a concurrent change; a change landing before az's own read was merged, not lost."
        }
    )));
    l.push(observed(&format!(
        "az reads the {noun} itself first (Compute api-version 2026-04-01), then PATCHes (2024-11-01)."
    )));
    if let Some(enables_system) = assign {
        l.push(observed(&format!(
            "az {g} identity assign sends the ids it adds as {{}} and spells the type \"SystemAssigned,UserAssigned\" (no space; ARM reads both){}",
            if enables_system {
                "; enabling the system-assigned identity re-sends every attached user-assigned id as {}."
            } else {
                "."
            }
        )));
    }
    let unknown = remove == Some(RemoveShape::Unknown);
    if remove == Some(RemoveShape::Ids) || unknown {
        l.push(observed(&format!(
            "az {g} identity remove sends only the removed ids as null (the app also re-sends the kept ones as {{}})."
        )));
    }
    if remove == Some(RemoveShape::AllGone) || unknown {
        l.push(observed(&format!(
            "az {g} identity remove{} sends {{\"type\": \"None\", \"userAssignedIdentities\": null}} (the app: {{\"type\": \"None\"}}).",
            if unknown { ", when nothing remains," } else { "" }
        )));
    }
    if remove == Some(RemoveShape::SystemOnly) || unknown {
        l.push(observed(&format!(
            "az {g} identity remove --identities [system]{} sends {{\"type\": \"UserAssigned\", \"userAssignedIdentities\": {}}} (the app re-sends the kept ids as {{}}).",
            if unknown { ", while user-assigned ones stay," } else { "" },
            if kind.is_vm() { "null" } else { "{}" }
        )));
    }
    if assign.is_some() && remove.is_some() {
        l.push(observed(&format!(
            "this is two PATCHes (assign, then remove) where the app sends one: in between, the {noun} holds the union of both."
        )));
    }
    l.push(observed(POLL_FACT));
    l
}

/// The observed facts for the commands the idiomatic script runs.
fn idiomatic_facts(plan: &ScriptPlan) -> Vec<String> {
    match &plan.change {
        Change::Identity {
            target,
            before,
            after,
        } => {
            let (add, remove) = assign_and_remove(before, after);
            let assign = (!add.is_empty())
                .then_some(after.system && !before.system && !before.user.is_empty());
            let shape = if !after.system && after.user.is_empty() && before.user.is_empty() {
                RemoveShape::Unobserved
            } else if !after.system && after.user.is_empty() {
                RemoveShape::AllGone
            } else if remove == ["[system]"] && !after.user.is_empty() {
                RemoveShape::SystemOnly
            } else {
                RemoveShape::Ids
            };
            identity_facts(
                target.kind,
                plan.if_match().is_some(),
                assign,
                (!remove.is_empty()).then_some(shape),
            )
        }
        Change::Create { target, .. }
            if !target.kind.is_vm()
                && create::VmssModel::from_body(plan.create_body()).is_some() =>
        {
            vec![observed(
                "az vmss create first lists the image's versions and then deploys an ARM template (Microsoft.Resources/deployments) instead of the app's PUT of the scale set.",
            )]
        }
        Change::Create { target, .. }
            if target.kind.is_vm() && create::VmModel::from_body(plan.create_body()).is_some() =>
        {
            vec![observed(
                "az vm create first lists the image's versions and then deploys an ARM template (Microsoft.Resources/deployments: a NIC resource and the VM) instead of the app's PUT of the VM.",
            )]
        }
        Change::Create { .. } => vec![],
        Change::CreateUserAssigned { .. } => vec![observed(&format!(
            "az identity create uses ManagedIdentity api-version 2025-05-31-preview (the app: {}), the same body and no If-None-Match (the app sends *).",
            api_versions::MANAGED_IDENTITY
        ))],
        Change::RoleAssignment { .. } => {
            let name = plan
                .requests()
                .first()
                .map(|r| last_segment(&r.path))
                .unwrap_or_default();
            vec![observed(&format!(
                "az role assignment create names the assignment with its own new GUID, not the plan's {name}; same body and api-version (2022-04-01); no If-None-Match (the app sends *)."
            ))]
        }
        Change::RemoveExtension {
            target,
            manual_upgrade,
            ..
        } => {
            let mut l = Vec::new();
            if target.kind.is_vm() {
                l.push(observed(
                    "az vm extension delete sends the app's DELETE of the extension (api-version 2024-11-01).",
                ));
            } else {
                l.push(observed(
                    "az vmss extension delete is a GET, then a PUT of the whole scale set (api-version 2026-04-01, no If-Match) instead of a DELETE.",
                ));
                l.push("# Racing autoscale, such a whole-model PUT can reset sku.capacity (and it rewrites every part of the model), so".into());
                l.push("# this script sends the app's DELETE of the extension itself with az rest: it changes the extension only.".into());
            }
            if target.kind.is_vm() || *manual_upgrade {
                l.push(observed(POLL_FACT));
            }
            l
        }
    }
}

/// The observed facts for an `az rest` script.
fn rest_facts(plan: &ScriptPlan) -> Vec<String> {
    let mut l = vec![observed(
        "az rest sends exactly the request given (method, path, api-version, headers, body): the app's.",
    )];
    if plan.if_match().is_some() {
        l.push(observed(
            "on 412 (the resource changed since the plan) az rest prints ERROR: Precondition Failed(…) and exits 1; nothing is written.",
        ));
    }
    l
}

pub(crate) fn idiomatic(plan: &ScriptPlan, lang: Language) -> String {
    let mut l = head(plan, lang, "Azure CLI (2.x)");
    if let Some(n) = nothing_to_send(plan, lang) {
        l.extend(n);
        return finish(l);
    }
    if passes_a_file_reference(plan) {
        l.push("# A value of this change starts with @, which az reads as a file name (@file, @- standard input), also as".into());
        l.push("# --option=@value, with no escape: the az commands cannot pass it, so the exact requests follow (az rest).".into());
        l.extend(rest_lines(plan, lang));
        return finish(l);
    }
    l.extend(idiomatic_facts(plan));
    l.extend(sign_in(lang, plan.cloud, subscription_of(&plan.change)));
    match &plan.change {
        Change::Identity {
            target,
            before,
            after,
        } => {
            let g = target.kind.cli_group();
            let rn = format!(
                "{} {}",
                kv(lang, "--resource-group", &target.resource_group),
                kv(lang, "--name", &target.name)
            );
            if let Some(etag) = plan.if_match() {
                l.push(format!(
                    "# az {g} identity has no etag guard: check that the {g} still has the etag the plan was computed from (not atomic)."
                ));
                match lang {
                    Language::Bash => {
                        l.push(format!(
                            "etag=$(az {g} show {rn} --query etag --output tsv)"
                        ));
                        l.push(format!(
                            "if [ \"$etag\" != {} ]; then echo 'The resource changed since the plan was made; re-plan.' >&2; exit 1; fi",
                            q(lang, etag)
                        ));
                    }
                    Language::PowerShell => {
                        l.push(format!(
                            "$etag = az {g} show {rn} --query etag --output tsv"
                        ));
                        l.push(format!(
                            "if ($etag -cne {}) {{ throw 'The resource changed since the plan was made; re-plan.' }}",
                            q(lang, etag)
                        ));
                    }
                }
            }
            // add first, remove second: the resource never passes through an empty identity
            let (add, remove) = assign_and_remove(before, after);
            if !add.is_empty() {
                l.push(format!(
                    "# az {g} identity assign reads the current identities and PATCHes what it adds: nothing is dropped."
                ));
                let ids: Vec<String> = add.iter().map(|s| q(lang, s)).collect();
                l.push(format!(
                    "az {g} identity assign {rn} --identities {}",
                    ids.join(" ")
                ));
                l.extend(check_exit(lang));
            }
            if !remove.is_empty() {
                l.push(format!(
                    "# az {g} identity remove PATCHes the removed ids as null and recomputes the type: the others stay."
                ));
                let ids: Vec<String> = remove.iter().map(|s| q(lang, s)).collect();
                l.push(format!(
                    "az {g} identity remove {rn} --identities {}",
                    ids.join(" ")
                ));
                l.extend(check_exit(lang));
            }
            l.push(format!("az {g} identity show {rn}"));
            if !plan.role_assignment_deletions.is_empty() {
                l.push("# The identity change succeeded (the script stops at any error above): delete the role assignments the removed principal held, each by its id.".into());
                for d in &plan.role_assignment_deletions {
                    l.push(format!("# {}", comment_safe(&deletion_summary(d))));
                    l.push(format!(
                        "az role assignment delete {}",
                        kv(lang, "--ids", &d.id)
                    ));
                    l.extend(check_exit(lang));
                }
            }
        }
        Change::Create { target, after, .. }
            if target.kind.is_vm() && create::VmModel::from_body(plan.create_body()).is_some() =>
        {
            let m = create::VmModel::from_body(plan.create_body()).expect("checked");
            l.extend(create::vm_cli(&m, target, after, lang));
        }
        Change::Create { target, after, .. }
            if !target.kind.is_vm()
                && create::VmssModel::from_body(plan.create_body()).is_some() =>
        {
            let m = create::VmssModel::from_body(plan.create_body()).expect("checked");
            l.extend(create::cli(&m, target, after, lang));
        }
        Change::Create { .. } => {
            l.push(format!(
                "# The create body has parts the az {} create options here do not express; the exact PUT follows.",
                plan_group(&plan.change)
            ));
            for (i, r) in plan.requests().iter().enumerate() {
                l.extend(az_rest_lines(
                    lang,
                    i + 1,
                    r,
                    wait_target(&plan.change),
                    &plan.change,
                ));
            }
        }
        Change::CreateUserAssigned {
            resource_group,
            name,
            location,
            ..
        } => {
            l.push("# az identity create sends no If-None-Match: it would silently overwrite an existing identity of this name".into());
            l.push("# (its tags wiped). So the script stops if one exists. This check-then-create is not atomic (one created in".into());
            l.push("# between is still overwritten); the exact REST script (az rest, If-None-Match: *) is.".into());
            l.extend(stop_if_exists(
                lang,
                &format!(
                    "az identity show {} {}",
                    kv(lang, "--resource-group", resource_group),
                    kv(lang, "--name", name)
                ),
                &format!(
                    "A user-assigned identity named '{name}' already exists in resource group '{resource_group}': az identity create would overwrite it (its tags wiped). Use that identity, or choose another name."
                ),
            ));
            l.push(format!(
                "az identity create {} {} {}",
                kv(lang, "--resource-group", resource_group),
                kv(lang, "--name", name),
                kv(lang, "--location", location)
            ));
            l.extend(check_exit(lang));
        }
        Change::RoleAssignment {
            scope,
            principal_id,
            role_definition_id,
            ..
        } => {
            l.push(format!(
                "az role assignment create {} --assignee-principal-type ServicePrincipal {} {}",
                kv(lang, "--assignee-object-id", principal_id),
                kv(lang, "--role", role_definition_id),
                kv(lang, "--scope", scope)
            ));
            l.extend(check_exit(lang));
        }
        Change::RemoveExtension {
            target,
            extension,
            manual_upgrade,
        } => {
            if target.kind.is_vm() {
                l.push(format!(
                    "az vm extension delete {} {} {}",
                    kv(lang, "--resource-group", &target.resource_group),
                    kv(lang, "--vm-name", &target.name),
                    kv(lang, "--name", extension)
                ));
                l.extend(check_exit(lang));
            } else if let Some(delete) = plan.requests().iter().find(|r| r.method == Method::Delete)
            {
                // not az vmss extension delete: a whole-model PUT (see the header)
                l.extend(az_rest_lines(lang, 1, delete, Some(target), &plan.change));
            }
            if *manual_upgrade && !target.kind.is_vm() {
                l.push("# upgradePolicy Manual: removing an extension changes the instance model, so upgrade the instances.".into());
                l.push(format!(
                    "az vmss update-instances {} {} {}",
                    kv(lang, "--resource-group", &target.resource_group),
                    kv(lang, "--name", &target.name),
                    kv(lang, "--instance-ids", "*")
                ));
                l.extend(check_exit(lang));
            }
        }
    }
    finish(l)
}

/// Stop with `reason` (nothing is sent): bash prints it to standard error and exits 1, PowerShell throws it.
pub(crate) fn refuse(lang: Language, reason: &str) -> Vec<String> {
    let msg = format!("Refused: {reason} No request is sent.");
    match lang {
        Language::Bash => vec![format!("echo {} >&2", sh_single(&msg)), "exit 1".into()],
        Language::PowerShell => vec![format!("throw {}", ps_single(&msg))],
    }
}

/// One `az rest` call (in PowerShell the body on standard input), then a wait when it starts a Compute
/// long-running operation on `target` (az rest does not follow them: a write while one is still
/// running gets 409).
pub(crate) fn az_rest_lines(
    lang: Language,
    n: usize,
    r: &ArmRequest,
    wait: Option<&Resource>,
    change: &Change,
) -> Vec<String> {
    let mut l = Vec::new();
    let headers: serde_json::Map<String, serde_json::Value> = r
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("Authorization"))
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let method = r.method.as_str().to_ascii_lowercase();
    let mut cmd = format!(
        "az rest --method {method} {}",
        kv(lang, "--url", &r.path_and_query())
    );
    match lang {
        Language::Bash => {
            if !headers.is_empty() {
                cmd.push_str(&format!(
                    " --headers {}",
                    sh_single(&json_compact(&serde_json::Value::Object(headers)))
                ));
            }
            match r.body.as_ref().map(json_compact) {
                Some(json) => match split_secret(&json) {
                    Some((pre, post)) => {
                        l.push("# The admin password is read when the script runs; it is never written into the script, to".into());
                        l.push("# disk or into a command line: the body goes to az rest on its standard input (--body @-).".into());
                        l.push("read -rs -p 'Admin password: ' admin_password; echo >&2".into());
                        l.push("bs='\\'; dq='\"'; tab=$'\\t'".into());
                        l.push("admin_password_json=${admin_password//\"$bs\"/\"$bs$bs\"}; admin_password_json=${admin_password_json//\"$dq\"/\"$bs$dq\"}; admin_password_json=${admin_password_json//\"$tab\"/\"${bs}t\"}".into());
                        l.push(format!(
                            "printf '%s' {}'\"'\"$admin_password_json\"'\"'{} | {cmd} --body @-",
                            sh_single(&pre),
                            sh_single(&post)
                        ));
                    }
                    None => l.push(format!("{cmd} --body {}", sh_single(&json))),
                },
                None => l.push(cmd),
            }
        }
        Language::PowerShell => {
            if !headers.is_empty() {
                cmd.push_str(&format!(
                    " --headers {}",
                    ps_single(&json_compact(&serde_json::Value::Object(headers)))
                ));
            }
            match &r.body {
                Some(b) => {
                    // the body goes on standard input (--body @-): no file, no length limit of a command line
                    let json = json_pretty(b);
                    match split_secret(&json) {
                        Some((pre, post)) => {
                            l.extend(super::rest::ps_read_password(change));
                            l.push(format!(
                                "$body{n} = {} + $adminPasswordJson + {}",
                                ps_single(&pre),
                                ps_single(&post)
                            ));
                        }
                        None => l.push(format!("$body{n} = {}", ps_single(&json))),
                    }
                    l.push(format!("$body{n} | {cmd} --body '@-'"));
                }
                None => l.push(cmd),
            }
            l.extend(check_exit(lang));
        }
    }
    if r.method != Method::Get
        && r.path
            .to_ascii_lowercase()
            .contains("/providers/microsoft.compute/")
        && let Some(target) = wait
    {
        l.extend(wait_lines(lang, target));
    }
    l
}

/// Wait until `target` leaves Updating/Creating, then fail unless it ended Succeeded.
/// (`az … wait --updated` would poll a Failed resource until its timeout and then exit 0.)
/// A group or name az would read as a file ([`az_reads_as_file`]) is not passed: the wait then names the resource
/// by its id (`--ids`) and its state is read with `az rest`.
fn wait_lines(lang: Language, target: &Resource) -> Vec<String> {
    let g = target.kind.cli_group();
    let by_id = az_reads_as_file(&target.resource_group) || az_reads_as_file(&target.name);
    let rn = if by_id {
        kv(lang, "--ids", &target.path())
    } else {
        format!(
            "{} {}",
            kv(lang, "--resource-group", &target.resource_group),
            kv(lang, "--name", &target.name)
        )
    };
    let show = if by_id {
        format!(
            "az rest --method get {} --query properties.provisioningState --output tsv",
            kv(
                lang,
                "--url",
                &format!(
                    "{}?api-version={}",
                    target.path(),
                    crate::api_versions::COMPUTE
                )
            )
        )
    } else {
        format!("az {g} show {rn} --query provisioningState --output tsv")
    };
    let mut l = vec![
        "# az rest does not follow the long-running operation: wait until provisioning ends, and fail unless it succeeded.".to_string(),
        format!(
            "az {g} wait {rn} --custom {}",
            q(
                lang,
                "provisioningState!='Updating' && provisioningState!='Creating'"
            )
        ),
    ];
    l.extend(check_exit(lang));
    let msg = "The change ended with provisioningState '$provisioningState', not Succeeded: see the activity log of the resource.";
    match lang {
        Language::Bash => {
            l.push(format!("provisioningState=$({show})"));
            l.push(format!(
                "if [ \"$provisioningState\" != Succeeded ]; then echo \"{msg}\" >&2; exit 1; fi"
            ));
        }
        Language::PowerShell => {
            l.push(format!("$provisioningState = {show}"));
            l.extend(check_exit(lang));
            l.push(format!(
                "if ($provisioningState -ne 'Succeeded') {{ throw \"{msg}\" }}"
            ));
        }
    }
    l
}

fn plan_group(change: &Change) -> &'static str {
    match change {
        Change::Create { target, .. } => target.kind.cli_group(),
        _ => "vmss",
    }
}

/// The resource to wait for after a Compute write.
pub(crate) fn wait_target(change: &Change) -> Option<&Resource> {
    match change {
        Change::Identity { target, .. }
        | Change::RemoveExtension { target, .. }
        | Change::Create { target, .. } => Some(target),
        _ => None,
    }
}

pub(crate) fn rest(plan: &ScriptPlan, lang: Language) -> String {
    let mut l = head(
        plan,
        lang,
        "Azure CLI, exact REST (az rest: the same method, path, api-version, headers and body the app sends)",
    );
    if let Some(n) = nothing_to_send(plan, lang) {
        l.extend(n);
        return finish(l);
    }
    l.extend(rest_lines(plan, lang));
    finish(l)
}

/// The exact requests with `az rest` (after the header): sign-in, then every request in order.
fn rest_lines(plan: &ScriptPlan, lang: Language) -> Vec<String> {
    let mut l = rest_facts(plan);
    l.extend(sign_in(lang, plan.cloud, subscription_of(&plan.change)));
    l.push(
        "# A --url without a host is sent to the ARM endpoint of the cloud selected above.".into(),
    );
    if lang == Language::PowerShell {
        l.push("# A body goes to az rest on its standard input (--body @-): no temporary file, no length limit of a command line.".into());
    }
    for (i, r) in plan.all_requests().iter().enumerate() {
        l.extend(az_rest_lines(
            lang,
            i + 1,
            r,
            wait_target(&plan.change),
            &plan.change,
        ));
    }
    l
}
