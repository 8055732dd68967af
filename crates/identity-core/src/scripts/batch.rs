//! Batch scripts: one [`BulkOp`] over many scale sets and VMs, as a loop over their ids — Az PowerShell
//! (`foreach`), Azure CLI for bash and for PowerShell, and `az rest` for bash and for PowerShell.
//!
//! Each item gets the guard of the single-item snippet scripts (the same building blocks): one GET just before its
//! change, the identity read checked (type and map must agree, else the item is refused), the change computed from
//! what was read keeping every identity not named (no-op when there is nothing to change; system-assigned on a
//! Flexible scale set refused), the write guarded by the etag read (`-IfMatch` on Update-AzVmss / Update-AzVM,
//! `If-Match` on `az rest`; `az … identity assign|remove` does its own GET and PATCH), and the long-running
//! operation followed to its end. An item that fails or is refused is reported and the loop goes on; at the end a
//! summary (applied, no-op, refused, failed) and a non-zero exit when any item was refused or failed. No file is
//! written; every value is quoted for its shell (the PowerShell Azure CLI flavours define the `az` function that
//! passes values exactly through `az.cmd` on Windows).
//!
//! Role grants as the app makes them: for [`BulkOp::EnableSystemAssigned`] each new principal after its item's
//! change (read back); for [`BulkOp::AssignUserAssigned`] the identity's principal once, before the loop.
//!
//! The legacy extension's removal: per item the extensions read from the resource (publisher
//! `Microsoft.ManagedIdentity`, type `ManagedIdentityExtensionForLinux|Windows`; none: a no-op), each deleted (a
//! scale set: Remove-AzVmssExtension + Update-AzVmss `-IfMatch` in Az PowerShell, as its single-item script does;
//! the extension's DELETE elsewhere), and a scale set whose upgrade policy is Manual then has its instances
//! upgraded (when `upgrade_instances`).

use super::cli::{check_exit, prelude};
use super::powershell::{az_sign_in, finish, ps_array, with_requires};
use super::quote::{ps_single, sh_single};
use super::snippet::{
    Intent, az_item, ps_cli_identity_read, ps_conflict_check_expr, sh_conflict_check_expr,
};
use super::{Cloud, Flavour, Language, Script, comment_safe, role_guid};
use crate::api_versions;
use crate::bulk::{BulkOp, GrantScope, RoleGrant};
use crate::resource::LEGACY_EXTENSION_TYPES;
use crate::resource_id::{IdKind, ResourceId};

/// A batch: cloud, operation, items (scale set or VM ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRequest {
    pub cloud: Cloud,
    pub op: BulkOp,
    /// Resource ids; those that are not a scale set or VM are left out (and counted in a comment).
    pub items: Vec<String>,
}

/// The flavours a batch is offered in.
pub const BATCH_FLAVOURS: [Flavour; 5] = [
    Flavour::AzPowerShell,
    Flavour::CliBash,
    Flavour::CliPowerShell,
    Flavour::CliRestBash,
    Flavour::CliRestPowerShell,
];

/// Exit status of one item's subshell in the bash flavours: refused (nothing sent).
const SH_REFUSED: u8 = 64;
/// Exit status of one item's subshell in the bash flavours: nothing to change.
const SH_NOOP: u8 = 65;

/// The batch script of one flavour; `None` for a flavour not offered ([`BATCH_FLAVOURS`]), for an operation
/// [`BulkOp::validate`] refuses, or when no item is a scale set or VM.
///
/// ```
/// use identity_core::bulk::BulkOp;
/// use identity_core::scripts::{Cloud, Flavour, batch::{BatchRequest, batch}};
/// let req = BatchRequest {
///     cloud: Cloud::AzureCloud,
///     op: BulkOp::EnableSystemAssigned { grant: None },
///     items: vec!["/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/a".into()],
/// };
/// let s = batch(&req, Flavour::AzPowerShell).unwrap();
/// assert!(s.text.contains("foreach ($itemId in $items)"));
/// assert!(s.text.contains("-IfMatch $vmss.Etag"));
/// ```
pub fn batch(req: &BatchRequest, flavour: Flavour) -> Option<Script> {
    if req.op.validate().is_err() {
        return None;
    }
    // azure-cli reads a value starting with @ as a file (`--resource-group=@x` too): the az flavours leave out the
    // items with such a part and are not offered when the operation itself holds such a value
    let az = flavour != Flavour::AzPowerShell;
    if az && op_passes_a_file_reference(&req.op) {
        return None;
    }
    let items = Items::of(&req.items, az);
    if items.ids.is_empty() {
        return None;
    }
    let text = match flavour {
        Flavour::AzPowerShell => az_powershell(req, &items),
        Flavour::CliBash => bash(req, &items, false),
        Flavour::CliRestBash => bash(req, &items, true),
        Flavour::CliPowerShell => cli_powershell(req, &items, false),
        Flavour::CliRestPowerShell => cli_powershell(req, &items, true),
        _ => return None,
    };
    Some(Script {
        flavour,
        language: flavour.language(),
        text,
    })
}

/// Every batch flavour.
pub fn batch_all(req: &BatchRequest) -> Vec<Script> {
    BATCH_FLAVOURS
        .iter()
        .filter_map(|f| batch(req, *f))
        .collect()
}

/// Does the operation hold a value azure-cli would read as a file ([`super::cli::az_reads_as_file`]): a part of
/// the identity's id (its group, name and subscription are passed as options) or of the grant?
fn op_passes_a_file_reference(op: &BulkOp) -> bool {
    fn any_at(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.split('/').any(super::cli::az_reads_as_file),
            serde_json::Value::Array(a) => a.iter().any(any_at),
            serde_json::Value::Object(o) => o.values().any(any_at),
            _ => false,
        }
    }
    serde_json::to_value(op).is_ok_and(|v| any_at(&v))
}

struct Items {
    ids: Vec<String>,
    left_out: usize,
    /// Left out of an az script: a part (subscription, group, name) starts with @.
    left_out_at: usize,
    vms: bool,
    scale_sets: bool,
    first_subscription: String,
}

impl Items {
    fn of(ids: &[String], az: bool) -> Items {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Items {
            ids: vec![],
            left_out: 0,
            left_out_at: 0,
            vms: false,
            scale_sets: false,
            first_subscription: String::new(),
        };
        for id in ids {
            let Ok(r) = ResourceId::parse(id) else {
                out.left_out += 1;
                continue;
            };
            match r.kind() {
                IdKind::ScaleSet => out.scale_sets = true,
                IdKind::VirtualMachine => out.vms = true,
                _ => {
                    out.left_out += 1;
                    continue;
                }
            }
            if !seen.insert(r.as_str().to_ascii_lowercase()) {
                continue;
            }
            if az
                && [
                    r.subscription(),
                    r.resource_group().unwrap_or_default(),
                    r.name(),
                ]
                .into_iter()
                .any(super::cli::az_reads_as_file)
            {
                out.left_out_at += 1;
                continue;
            }
            if out.first_subscription.is_empty() {
                out.first_subscription = r.subscription().to_string();
            }
            // the canonical spelling (…/resourceGroups/…/providers/Microsoft.Compute/…): the scripts split it
            out.ids.push(canonical(&r));
        }
        out
    }
}

fn canonical(r: &ResourceId) -> String {
    let ty = if r.kind() == IdKind::VirtualMachine {
        "virtualMachines"
    } else {
        "virtualMachineScaleSets"
    };
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/{ty}/{}",
        r.subscription(),
        r.resource_group().unwrap_or_default(),
        r.name()
    )
}

fn intent(op: &BulkOp) -> Intent {
    match op {
        BulkOp::EnableSystemAssigned { .. } => Intent::EnableSystem,
        BulkOp::RemoveSystemAssigned => Intent::RemoveSystem,
        BulkOp::AssignUserAssigned { identity, .. } => Intent::AddUser(vec![identity.clone()]),
        BulkOp::RemoveUserAssigned { identity } => Intent::RemoveUser(vec![identity.clone()]),
        BulkOp::RemoveLegacyExtension { .. } => unreachable!("no batch script"),
    }
}

fn head(req: &BatchRequest, items: &Items, title: &str) -> Vec<String> {
    let mut l = vec![
        format!(
            "# {title}, batch: {} on {} resource(s).",
            comment_safe(&req.op.describe()),
            items.ids.len()
        ),
        "# Each item is read just before its change and changed from that read, keeping every identity not named; an item whose".into(),
        "# identity type and map disagree is refused, as is system-assigned on a Flexible scale set. A failed or refused item is".into(),
        "# reported and the batch goes on; a summary ends it (exit status 1 when any item was refused or failed).".into(),
    ];
    if items.left_out > 0 {
        l.push(format!(
            "# {} selected id(s) are not scale sets or VMs and are left out.",
            items.left_out
        ));
    }
    if items.left_out_at > 0 {
        l.push(format!(
            "# {} selected id(s) have a part starting with @, which az reads as a file name: left out (the Az PowerShell script takes them).",
            items.left_out_at
        ));
    }
    l
}

/// The grant's scope for the current item, as a PowerShell expression (`$itemId`, `$subscriptionId`,
/// `$resourceGroupName` set).
fn ps_scope(g: &RoleGrant) -> String {
    match &g.scope {
        GrantScope::Resource => "$itemId".into(),
        GrantScope::ResourceGroup => {
            "\"/subscriptions/$subscriptionId/resourceGroups/$resourceGroupName\"".into()
        }
        GrantScope::Subscription => "\"/subscriptions/$subscriptionId\"".into(),
        GrantScope::Fixed { scope } => ps_single(scope),
    }
}

/// The same for bash (`$id` set; `sub` and `rg` split from it).
fn sh_scope(g: &RoleGrant) -> String {
    match &g.scope {
        GrantScope::Resource => "\"$id\"".into(),
        GrantScope::ResourceGroup => "\"/subscriptions/$sub/resourceGroups/$rg\"".into(),
        GrantScope::Subscription => "\"/subscriptions/$sub\"".into(),
        GrantScope::Fixed { scope } => sh_single(scope),
    }
}

const PS_ID_PATTERN: &str = "^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\\.Compute/(virtualMachineScaleSets|virtualMachines)/([^/]+)$";

fn ps_items_and_counters(items: &Items) -> Vec<String> {
    let mut l = ps_array("items", &items.ids);
    l.push("$applied = @(); $noOp = @(); $refused = @(); $failed = @()".into());
    l
}

fn ps_summary(l: &mut Vec<String>) {
    l.push("Write-Output ('Summary: {0} applied, {1} no-op, {2} refused, {3} failed, of {4}.' -f $applied.Count, $noOp.Count, $refused.Count, $failed.Count, $items.Count)".into());
    l.push("foreach ($line in @($refused + $failed)) { Write-Output \"  $line\" }".into());
    l.push("if ($refused.Count -or $failed.Count) { exit 1 }".into());
}

/// The catch block: a throw before anything was sent (`$stage` is `guard`) is a refusal, anything else a failure.
fn ps_catch(l: &mut Vec<String>) {
    l.push("    } catch {".into());
    l.push("        $message = \"$_\"".into());
    l.push("        if ($stage -eq 'guard') {".into());
    l.push("            $refused += \"refused: $($itemId): $message\"".into());
    l.push("            Write-Warning \"Refused (nothing sent): $($itemId): $message\"".into());
    l.push("        } else {".into());
    l.push("            $failed += \"failed at $($stage): $($itemId): $message\"".into());
    l.push("            Write-Warning \"Failed at $($stage): $($itemId): $message\"".into());
    l.push("        }".into());
    l.push("    }".into());
    l.push("}".into());
}

const PS_NOOP: [&str; 3] = [
    "$noOp += $itemId",
    "Write-Output \"No-op: $($itemId): the identities are already as requested.\"",
    "continue",
];

fn indent(lines: Vec<String>, by: &str) -> Vec<String> {
    lines
        .into_iter()
        .map(|x| if x.is_empty() { x } else { format!("{by}{x}") })
        .collect()
}

/// Az PowerShell: `foreach ($itemId in $items)` with the snippet's Get-AzVmss / Get-AzVM, lossless change and
/// Update-AzVmss / Update-AzVM `-IfMatch`, in try/catch.
fn az_powershell(req: &BatchRequest, items: &Items) -> String {
    let mut l = head(req, items, "Az PowerShell");
    l.extend(az_sign_in(req.cloud, &items.first_subscription));
    l.extend(ps_items_and_counters(items));
    if let BulkOp::AssignUserAssigned {
        identity,
        grant: Some(g),
    } = &req.op
    {
        let id = ResourceId::parse(identity).expect("validated");
        l.push(format!(
            "# Once, before the batch: the identity's principal gets the role {} (every resource that gets the identity can use it at once).",
            comment_safe(g.role_label())
        ));
        l.push(format!(
            "$null = Set-AzContext -Subscription {}",
            ps_single(id.subscription())
        ));
        l.push(format!(
            "$identityPrincipalId = (Get-AzUserAssignedIdentity -ResourceGroupName {} -Name {}).PrincipalId",
            ps_single(id.resource_group().unwrap_or_default()),
            ps_single(id.name())
        ));
        l.extend(ps_grant_lines("$identityPrincipalId", g, &ps_scope(g), ""));
    }
    if matches!(req.op, BulkOp::RemoveLegacyExtension { .. }) {
        l.push(format!(
            "$legacyTypes = @({})",
            LEGACY_EXTENSION_TYPES
                .iter()
                .map(|t| ps_single(t))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    l.push("$currentSubscription = ''".into());
    l.push("foreach ($itemId in $items) {".into());
    l.push("    $stage = 'read'".into());
    l.push("    try {".into());
    l.push(format!("        if ($itemId -notmatch '{PS_ID_PATTERN}') {{ $stage = 'guard'; throw 'not a scale set or VM id' }}"));
    l.push("        $subscriptionId = $Matches[1]; $resourceGroupName = $Matches[2]; $itemType = $Matches[3]; $itemName = $Matches[4]".into());
    l.push("        if ($subscriptionId -ne $currentSubscription) { $null = Set-AzContext -Subscription $subscriptionId; $currentSubscription = $subscriptionId }".into());
    l.push("        $itemLabel = \"$itemType '$itemName'\"".into());
    let noop: Vec<String> = PS_NOOP.iter().map(|s| s.to_string()).collect();
    let branch = |kind: super::TargetKind| -> Vec<String> {
        if let BulkOp::RemoveLegacyExtension { upgrade_instances } = &req.op {
            return az_legacy_lines(kind, *upgrade_instances);
        }
        let item = az_item(kind, &intent(&req.op), "$itemLabel", &noop);
        let mut b = Vec::new();
        let get = if kind.is_vm() {
            b.push("$vmName = $itemName".to_string());
            "Get-AzVM -ResourceGroupName $resourceGroupName -Name $vmName"
        } else {
            b.push("$vmssName = $itemName".to_string());
            "Get-AzVmss -ResourceGroupName $resourceGroupName -VMScaleSetName $vmssName"
        };
        b.extend(item.read);
        b.push("$stage = 'guard'".into());
        b.extend(item.guard);
        b.push("$stage = 'write'".into());
        b.extend(item.write);
        if let (true, Some(g)) = (req.op.grants_per_item(), req.op.grant()) {
            b.push("$stage = 'grant'".into());
            b.push(format!(
                "# The new principal, read back, gets the role {}.",
                comment_safe(g.role_label())
            ));
            b.push(format!("$principalId = ({get}).Identity.PrincipalId"));
            b.push("if (-not $principalId) { throw 'The system-assigned identity was enabled, but its principal id was not read back: grant the role on the resource.' }".to_string());
            b.extend(ps_grant_lines("$principalId", g, &ps_scope(g), ""));
        }
        b
    };
    match (items.vms, items.scale_sets) {
        (true, true) => {
            l.push("        if ($itemType -eq 'virtualMachines') {".into());
            l.extend(indent(branch(super::TargetKind::Vm), "            "));
            l.push("        } else {".into());
            l.extend(indent(
                branch(super::TargetKind::ScaleSetUniform),
                "            ",
            ));
            l.push("        }".into());
        }
        (true, false) => l.extend(indent(branch(super::TargetKind::Vm), "        ")),
        _ => l.extend(indent(
            branch(super::TargetKind::ScaleSetUniform),
            "        ",
        )),
    }
    l.push("        $applied += $itemId".into());
    l.push("        Write-Output \"Applied: $itemId\"".into());
    ps_catch(&mut l);
    ps_summary(&mut l);
    finish(with_requires(l))
}

/// New-AzRoleAssignment for `principal` (an expression) at `scope` (an expression); an assignment that exists
/// already is fine.
fn ps_grant_lines(principal: &str, g: &RoleGrant, scope: &str, ind: &str) -> Vec<String> {
    vec![
        "# -ObjectType ServicePrincipal: the principalType the app sends (a managed identity is a service principal).".into(),
        "try {".into(),
        format!(
            "    $null = New-AzRoleAssignment -ObjectId {principal} -ObjectType 'ServicePrincipal' -RoleDefinitionId {} -Scope {scope}",
            ps_single(&role_guid(&g.role_definition))
        ),
        "} catch {".into(),
        "    if (\"$_\" -notlike '*already exists*') { throw }".into(),
        "}".into(),
    ]
    .into_iter()
    .map(|x| format!("{ind}{x}"))
    .collect()
}

/// Bash lines (inside the item's function) that stop with [`SH_NOOP`] when the identity read
/// ([`sh_conflict_check_expr`]'s variables) is already as asked.
fn sh_noop_check(op: &BulkOp) -> Vec<String> {
    let noop =
        format!("echo \"No-op: $id: the identities are already as requested.\"; exit {SH_NOOP}");
    match op {
        BulkOp::EnableSystemAssigned { .. } => {
            vec![format!("if [ \"$namesSystem\" = yes ]; then {noop}; fi")]
        }
        BulkOp::RemoveSystemAssigned => {
            vec![format!("if [ \"$namesSystem\" = no ]; then {noop}; fi")]
        }
        BulkOp::AssignUserAssigned { identity, .. } | BulkOp::RemoveUserAssigned { identity } => {
            let has = matches!(op, BulkOp::AssignUserAssigned { .. });
            vec![
                format!("target={}", sh_single(identity)),
                "found=no; stored=".into(),
                "for i in \"${identityIds[@]}\"; do if [ \"${i,,}\" = \"${target,,}\" ]; then found=yes; stored=$i; fi; done".into(),
                format!(
                    "if [ \"$found\" = {} ]; then {noop}; fi",
                    if has { "yes" } else { "no" }
                ),
            ]
        }
        BulkOp::RemoveLegacyExtension { .. } => vec![],
    }
}

/// PowerShell lines (inside the item's try) that count a no-op and continue.
fn ps_noop_check(op: &BulkOp) -> Vec<String> {
    let noop = PS_NOOP.join("; ");
    match op {
        BulkOp::EnableSystemAssigned { .. } => vec![format!("if ($namesSystem) {{ {noop} }}")],
        BulkOp::RemoveSystemAssigned => vec![format!("if (-not $namesSystem) {{ {noop} }}")],
        BulkOp::AssignUserAssigned { identity, .. } | BulkOp::RemoveUserAssigned { identity } => {
            let has = matches!(op, BulkOp::AssignUserAssigned { .. });
            vec![
                format!("$target = {}", ps_single(identity)),
                "# -eq compares ignoring case, as ARM compares ids".into(),
                "$stored = @($identityIds | Where-Object { $_ -eq $target })".into(),
                format!(
                    "if ({}$stored.Count) {{ {noop} }}",
                    if has { "" } else { "-not " }
                ),
            ]
        }
        BulkOp::RemoveLegacyExtension { .. } => vec![],
    }
}

fn wants_system(op: &BulkOp) -> bool {
    matches!(op, BulkOp::EnableSystemAssigned { .. })
}

const FLEX_REFUSAL: &str = "A Flexible scale set accepts only UserAssigned or None identities: Azure rejects a system-assigned identity there (400 InvalidParameter).";

/// The lossless PATCH body computed in bash from the identity read (`namesSystem`, `identityIds`, `stored`), as
/// `$body` (JSON; ids escaped).
fn sh_body(op: &BulkOp) -> Vec<String> {
    let mut l = vec![
        "json_str() { local s=$1 bs='\\' dq='\"'; s=${s//\"$bs\"/\"$bs$bs\"}; s=${s//\"$dq\"/\"$bs$dq\"}; printf '\"%s\"' \"$s\"; }".to_string(),
    ];
    // system part after the change, and the map entries
    let (sys, add, remove) = match op {
        BulkOp::EnableSystemAssigned { .. } => ("yes", false, false),
        BulkOp::RemoveSystemAssigned => ("no", false, false),
        BulkOp::AssignUserAssigned { .. } => ("$namesSystem", true, false),
        BulkOp::RemoveUserAssigned { .. } => ("$namesSystem", false, true),
        BulkOp::RemoveLegacyExtension { .. } => ("$namesSystem", false, false),
    };
    l.push(format!("sys={sys}"));
    l.push("entries=(); kept=0".into());
    l.push("for i in \"${identityIds[@]}\"; do".into());
    if remove {
        l.push("  if [ \"${i,,}\" = \"${target,,}\" ]; then entries+=(\"$(json_str \"$i\"): null\"); else entries+=(\"$(json_str \"$i\"): {}\"); kept=$((kept + 1)); fi".into());
    } else {
        l.push("  entries+=(\"$(json_str \"$i\"): {}\"); kept=$((kept + 1))".into());
    }
    l.push("done".into());
    if add {
        l.push("entries+=(\"$(json_str \"$target\"): {}\"); kept=$((kept + 1))".into());
    }
    l.push("if [ \"$sys\" = yes ] && [ \"$kept\" -gt 0 ]; then type='SystemAssigned, UserAssigned'; elif [ \"$sys\" = yes ]; then type=SystemAssigned; elif [ \"$kept\" -gt 0 ]; then type=UserAssigned; else type=None; fi".into());
    l.push("# kept identities are re-sent as {}, a removed one as null; with none left the type alone says it".into());
    l.push("if [ \"$kept\" -gt 0 ]; then map=$(IFS=,; printf '%s' \"${entries[*]}\"); body=\"{\\\"identity\\\":{\\\"type\\\":\\\"$type\\\",\\\"userAssignedIdentities\\\":{$map}}}\"; else body=\"{\\\"identity\\\":{\\\"type\\\":\\\"$type\\\"}}\"; fi".into());
    l
}

/// The bash batch: a function per item run in its own subshell (`set -e` inside), exit 64 refused, 65 no-op.
fn bash(req: &BatchRequest, items: &Items, rest: bool) -> String {
    let api = api_versions::COMPUTE;
    let title = if rest {
        "Azure CLI, exact REST (az rest)"
    } else {
        "Azure CLI"
    };
    let mut l = vec!["#!/usr/bin/env bash".to_string()];
    l.extend(head(req, items, title));
    l.extend(prelude(Language::Bash));
    l.push(format!(
        "az cloud set --name {}",
        sh_single(req.cloud.name())
    ));
    l.push("az login".into());
    l.push(format!(
        "az account set --subscription {}",
        sh_single(&items.first_subscription)
    ));
    l.push("items=(".into());
    for id in &items.ids {
        l.push(format!("  {}", sh_single(id)));
    }
    l.push(")".into());
    if let BulkOp::AssignUserAssigned {
        identity,
        grant: Some(g),
    } = &req.op
    {
        let uid = ResourceId::parse(identity).expect("validated");
        l.push(format!(
            "# Once, before the batch: the identity's principal gets the role {}.",
            comment_safe(g.role_label())
        ));
        l.push(format!(
            "identityPrincipalId=$(az identity show --resource-group={} --name={} --subscription={} --query principalId --output tsv)",
            sh_single(uid.resource_group().unwrap_or_default()),
            sh_single(uid.name()),
            sh_single(uid.subscription())
        ));
        l.push(format!(
            "az role assignment create --assignee-object-id \"$identityPrincipalId\" --assignee-principal-type ServicePrincipal --role {} --scope {} --output none",
            sh_single(&role_guid(&g.role_definition)),
            sh_single(match &g.scope {
                GrantScope::Fixed { scope } => scope,
                _ => unreachable!("validated: a fixed scope"),
            })
        ));
    }
    l.push("change_one() {".into());
    let mut f: Vec<String> = vec![
        "local id=$1 g".into(),
        "case \"${id,,}\" in */providers/microsoft.compute/virtualmachinescalesets/*) g=vmss ;; *) g=vm ;; esac".into(),
        "sub=${id#/subscriptions/}; sub=${sub%%/*}; rg=${id#*/resourceGroups/}; rg=${rg%%/*}; name=${id##*/}".into(),
        "# (az vmss show takes no --ids: the parts, each as one --option=value word)".into(),
            ];
    let url = format!("\"$id?api-version={api}\"");
    if let BulkOp::RemoveLegacyExtension { upgrade_instances } = &req.op {
        f.extend(sh_legacy_item(rest, *upgrade_instances));
        return bash_finish(l, f);
    }
    if rest {
        f.push("# the etag first: a change after this read makes the PATCH fail with 412 (nothing is overwritten)".into());
        f.push(format!(
            "etag=$(az rest --method get --url {url} --query etag --output tsv)"
        ));
    }
    if wants_system(&req.op) {
        let mode = if rest {
            format!(
                "az rest --method get --url {url} --query properties.orchestrationMode --output tsv"
            )
        } else {
            "az vmss show --resource-group=\"$rg\" --name=\"$name\" --subscription=\"$sub\" --query orchestrationMode --output tsv".into()
        };
        f.push(format!(
            "if [ \"$g\" = vmss ] && [ \"$({mode})\" = Flexible ]; then echo \"Refused: $id: {FLEX_REFUSAL}\" >&2; exit {SH_REFUSED}; fi"
        ));
    }
    let show = if rest {
        format!("az rest --method get --url {url}")
    } else {
        "az $g show --resource-group=\"$rg\" --name=\"$name\" --subscription=\"$sub\"".into()
    };
    f.extend(sh_conflict_check_expr(
        &show,
        "\"Refused: the identity read from $id is inconsistent: \"",
        &format!("exit {SH_REFUSED}"),
    ));
    f.extend(sh_noop_check(&req.op));
    if rest {
        f.push("[ -n \"$etag\" ] || { echo \"$id: the GET returned no etag, so the change cannot be guarded against a concurrent one.\" >&2; exit 1; }".into());
        f.extend(sh_body(&req.op));
        f.push(format!(
            "printf '%s' \"$body\" | az rest --method patch --url {url} --headers \"{{\\\"If-Match\\\": $(json_str \"$etag\")}}\" --body @- --output none"
        ));
        f.push("# az rest does not follow the long-running operation: wait until provisioning ends, and fail unless it succeeded.".into());
        f.push(format!(
            "az $g wait --resource-group=\"$rg\" --name=\"$name\" --subscription=\"$sub\" --custom {}",
            sh_single("provisioningState!='Updating' && provisioningState!='Creating'")
        ));
        f.push(
            "provisioningState=$(az $g show --resource-group=\"$rg\" --name=\"$name\" --subscription=\"$sub\" --query provisioningState --output tsv)"
                .into(),
        );
        f.push("if [ \"$provisioningState\" != Succeeded ]; then echo \"$id: the change ended with provisioningState '$provisioningState', not Succeeded: see the activity log of the resource.\" >&2; exit 1; fi".into());
    } else {
        let (verb, what) = match &req.op {
            BulkOp::EnableSystemAssigned { .. } => ("assign", "'[system]'".to_string()),
            BulkOp::RemoveSystemAssigned => ("remove", "'[system]'".to_string()),
            BulkOp::AssignUserAssigned { identity, .. } => ("assign", sh_single(identity)),
            BulkOp::RemoveUserAssigned { .. } => ("remove", "\"$stored\"".to_string()),
            BulkOp::RemoveLegacyExtension { .. } => unreachable!(),
        };
        f.push(format!(
            "az $g identity {verb} --resource-group=\"$rg\" --name=\"$name\" --subscription=\"$sub\" --identities {what} --output none"
        ));
    }
    if let (true, Some(g)) = (req.op.grants_per_item(), req.op.grant()) {
        f.push(format!(
            "# The new principal, read back, gets the role {}.",
            comment_safe(g.role_label())
        ));
        f.push(
            "principalId=$(az $g show --resource-group=\"$rg\" --name=\"$name\" --subscription=\"$sub\" --query identity.principalId --output tsv)"
                .into(),
        );
        f.push("[ -n \"$principalId\" ] || { echo \"$id: the system-assigned identity was enabled, but its principal id was not read back: grant the role on the resource.\" >&2; exit 1; }".into());
        f.push(format!(
            "az role assignment create --assignee-object-id \"$principalId\" --assignee-principal-type ServicePrincipal --role {} --scope {} --output none",
            sh_single(&role_guid(&g.role_definition)),
            sh_scope(g)
        ));
    }
    bash_finish(l, f)
}

/// The item function's end and the loop with its summary.
fn bash_finish(mut l: Vec<String>, f: Vec<String>) -> String {
    l.extend(indent(f, "  "));
    l.push("}".into());
    l.extend(
        [
            "applied=0; noop=0; refused=0; failed=0; report=()",
            "for id in \"${items[@]}\"; do",
            "  # each item in its own subshell with set -e: a failing command ends that item only",
            "  set +e",
            "  (set -e; change_one \"$id\")",
            "  rc=$?",
            "  set -e",
            "  case $rc in",
            "    0) applied=$((applied + 1)); echo \"Applied: $id\" ;;",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    l.push(format!("    {SH_NOOP}) noop=$((noop + 1)) ;;"));
    l.push(format!(
        "    {SH_REFUSED}) refused=$((refused + 1)); report+=(\"refused: $id\") ;;"
    ));
    l.extend(
        [
            "    *) failed=$((failed + 1)); report+=(\"failed (exit $rc): $id\"); echo \"Failed (exit $rc): $id\" >&2 ;;",
            "  esac",
            "done",
            "echo \"Summary: $applied applied, $noop no-op, $refused refused, $failed failed, of ${#items[@]}.\"",
            "for line in \"${report[@]}\"; do echo \"  $line\"; done",
            "[ \"$refused\" -eq 0 ] && [ \"$failed\" -eq 0 ]",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    finish(l)
}

/// The PowerShell Azure CLI batch (the `az` function for cmd.exe quoting): `foreach` with try/catch.
fn cli_powershell(req: &BatchRequest, items: &Items, rest: bool) -> String {
    let api = api_versions::COMPUTE;
    let lang = Language::PowerShell;
    let title = if rest {
        "Azure CLI for PowerShell, exact REST (az rest)"
    } else {
        "Azure CLI for PowerShell"
    };
    let mut l = head(req, items, title);
    l.extend(prelude(lang));
    l.push(format!(
        "az cloud set --name {}",
        ps_single(req.cloud.name())
    ));
    l.push("az login".into());
    l.push(format!(
        "az account set --subscription {}",
        ps_single(&items.first_subscription)
    ));
    l.extend(check_exit(lang));
    l.extend(ps_items_and_counters(items));
    if let BulkOp::AssignUserAssigned {
        identity,
        grant: Some(g),
    } = &req.op
    {
        let uid = ResourceId::parse(identity).expect("validated");
        l.push(format!(
            "# Once, before the batch: the identity's principal gets the role {}.",
            comment_safe(g.role_label())
        ));
        l.push(format!(
            "$identityPrincipalId = az identity show {} {} {} --query principalId --output tsv",
            ps_single(&format!(
                "--resource-group={}",
                uid.resource_group().unwrap_or_default()
            )),
            ps_single(&format!("--name={}", uid.name())),
            ps_single(&format!("--subscription={}", uid.subscription()))
        ));
        l.extend(check_exit(lang));
        l.push(format!(
            "az role assignment create --assignee-object-id $identityPrincipalId --assignee-principal-type ServicePrincipal --role {} --scope {} --output none",
            ps_single(&role_guid(&g.role_definition)),
            ps_scope(g)
        ));
        l.extend(check_exit(lang));
    }
    let mut b: Vec<String> = vec![
        format!(
            "if ($itemId -notmatch '{PS_ID_PATTERN}') {{ $stage = 'guard'; throw 'not a scale set or VM id' }}"
        ),
        "$subscriptionId = $Matches[1]; $resourceGroupName = $Matches[2]; $itemName = $Matches[4]"
            .into(),
        "$g = if ($Matches[3] -eq 'virtualMachines') { 'vm' } else { 'vmss' }".into(),
    ];
    let url = format!("\"$($itemId)?api-version={api}\"");
    if let BulkOp::RemoveLegacyExtension { upgrade_instances } = &req.op {
        b.extend(ps_cli_legacy_item(rest, *upgrade_instances));
        return ps_cli_finish(l, b);
    }
    if rest {
        b.push("# the etag first: a change after this read makes the PATCH fail with 412 (nothing is overwritten)".into());
        b.push(format!(
            "$etag = az rest --method get --url {url} --query etag --output tsv"
        ));
        b.extend(check_exit(lang));
    }
    if wants_system(&req.op) {
        let mode = if rest {
            format!(
                "az rest --method get --url {url} --query properties.orchestrationMode --output tsv"
            )
        } else {
            "az vmss show \"--resource-group=$resourceGroupName\" \"--name=$itemName\" \"--subscription=$subscriptionId\" --query orchestrationMode --output tsv".into()
        };
        b.push(format!(
            "$mode = if ($g -eq 'vmss') {{ {mode} }} else {{ '' }}"
        ));
        b.extend(check_exit(lang));
    }
    let show = if rest {
        format!("az rest --method get --url {url}")
    } else {
        "az $g show \"--resource-group=$resourceGroupName\" \"--name=$itemName\" \"--subscription=$subscriptionId\"".into()
    };
    b.extend(ps_cli_identity_read(&show));
    b.push("$stage = 'guard'".into());
    if wants_system(&req.op) {
        b.push(format!(
            "if ($mode -eq 'Flexible') {{ throw {} }}",
            ps_single(FLEX_REFUSAL)
        ));
    }
    b.extend(ps_conflict_check_expr("$itemId"));
    b.extend(ps_noop_check(&req.op));
    b.push("$stage = 'write'".into());
    if rest {
        b.push("if (-not $etag) { throw 'The GET returned no etag, so the change cannot be guarded against a concurrent one.' }".into());
        let (sys, add, remove) = match &req.op {
            BulkOp::EnableSystemAssigned { .. } => ("$true", false, false),
            BulkOp::RemoveSystemAssigned => ("$false", false, false),
            BulkOp::AssignUserAssigned { .. } => ("$namesSystem", true, false),
            BulkOp::RemoveUserAssigned { .. } => ("$namesSystem", false, true),
            BulkOp::RemoveLegacyExtension { .. } => unreachable!(),
        };
        b.push(format!("$wantSystem = {sys}"));
        b.push("# kept identities are re-sent as {}, a removed one as null; with none left the type alone says it".into());
        b.push("$map = [ordered]@{}".into());
        b.push(if remove {
            "foreach ($i in $identityIds) { if ($i -eq $target) { $map[$i] = $null } else { $map[$i] = @{} } }".into()
        } else {
            "foreach ($i in $identityIds) { $map[$i] = @{} }".into()
        });
        if add {
            b.push("$map[$target] = @{}".into());
        }
        b.push("$kept = @($map.Keys | Where-Object { $null -ne $map[$_] }).Count".into());
        b.push("$wireType = if ($wantSystem -and $kept) { 'SystemAssigned, UserAssigned' } elseif ($wantSystem) { 'SystemAssigned' } elseif ($kept) { 'UserAssigned' } else { 'None' }".into());
        b.push("$identity = [ordered]@{ type = $wireType }".into());
        b.push("if ($kept) { $identity.userAssignedIdentities = $map }".into());
        b.push("$body = @{ identity = $identity } | ConvertTo-Json -Depth 5 -Compress".into());
        b.push("$headers = @{ 'If-Match' = $etag } | ConvertTo-Json -Compress".into());
        b.push(format!(
            "$body | az rest --method patch --url {url} --headers $headers --body '@-' --output none"
        ));
        b.extend(check_exit(lang));
        b.push("# az rest does not follow the long-running operation: wait until provisioning ends, and fail unless it succeeded.".into());
        b.push(format!(
            "az $g wait \"--resource-group=$resourceGroupName\" \"--name=$itemName\" \"--subscription=$subscriptionId\" --custom {}",
            ps_single("provisioningState!='Updating' && provisioningState!='Creating'")
        ));
        b.extend(check_exit(lang));
        b.push(
            "$provisioningState = az $g show \"--resource-group=$resourceGroupName\" \"--name=$itemName\" \"--subscription=$subscriptionId\" --query provisioningState --output tsv"
                .into(),
        );
        b.extend(check_exit(lang));
        b.push("if ($provisioningState -ne 'Succeeded') { throw \"The change ended with provisioningState '$provisioningState', not Succeeded: see the activity log of the resource.\" }".into());
    } else {
        let (verb, what) = match &req.op {
            BulkOp::EnableSystemAssigned { .. } => ("assign", "'[system]'".to_string()),
            BulkOp::RemoveSystemAssigned => ("remove", "'[system]'".to_string()),
            BulkOp::AssignUserAssigned { identity, .. } => ("assign", ps_single(identity)),
            BulkOp::RemoveUserAssigned { .. } => ("remove", "$stored[0]".to_string()),
            BulkOp::RemoveLegacyExtension { .. } => unreachable!(),
        };
        b.push(format!(
            "az $g identity {verb} \"--resource-group=$resourceGroupName\" \"--name=$itemName\" \"--subscription=$subscriptionId\" --identities {what} --output none"
        ));
        b.extend(check_exit(lang));
    }
    if let (true, Some(g)) = (req.op.grants_per_item(), req.op.grant()) {
        b.push("$stage = 'grant'".into());
        b.push(format!(
            "# The new principal, read back, gets the role {}.",
            comment_safe(g.role_label())
        ));
        b.push(
            "$principalId = az $g show \"--resource-group=$resourceGroupName\" \"--name=$itemName\" \"--subscription=$subscriptionId\" --query identity.principalId --output tsv"
                .into(),
        );
        b.extend(check_exit(lang));
        b.push("if (-not $principalId) { throw 'The system-assigned identity was enabled, but its principal id was not read back: grant the role on the resource.' }".into());
        b.push(format!(
            "az role assignment create --assignee-object-id $principalId --assignee-principal-type ServicePrincipal --role {} --scope {} --output none",
            ps_single(&role_guid(&g.role_definition)),
            ps_scope(g)
        ));
        b.extend(check_exit(lang));
    }
    ps_cli_finish(l, b)
}

/// The loop around the item's lines `b`, its catch and the summary.
fn ps_cli_finish(mut l: Vec<String>, mut b: Vec<String>) -> String {
    b.push("$applied += $itemId".into());
    b.push("Write-Output \"Applied: $itemId\"".into());
    l.push("foreach ($itemId in $items) {".into());
    l.push("    $stage = 'read'".into());
    l.push("    try {".into());
    l.extend(indent(b, "        "));
    ps_catch(&mut l);
    ps_summary(&mut l);
    finish(l)
}

/// JMESPath: the names of a scale set's legacy extensions (an ARM GET body).
const Q_VMSS_LEGACY: &str = "properties.virtualMachineProfile.extensionProfile.extensions[?properties.publisher=='Microsoft.ManagedIdentity' && contains(['ManagedIdentityExtensionForLinux','ManagedIdentityExtensionForWindows'], properties.type)].name";
/// JMESPath: the names of a VM's legacy extensions (its `…/extensions` list).
const Q_VM_LEGACY: &str = "value[?properties.publisher=='Microsoft.ManagedIdentity' && contains(['ManagedIdentityExtensionForLinux','ManagedIdentityExtensionForWindows'], properties.type)].name";

const UPGRADE_NOTE: &str = "# upgradePolicy Manual: removing an extension changes the instance model, so upgrade the instances.";

/// Az PowerShell, one item: the legacy extensions read from the model, removed as the single-item script does.
fn az_legacy_lines(kind: super::TargetKind, upgrade_instances: bool) -> Vec<String> {
    let noop = "if (-not $legacy.Count) { $noOp += $itemId; Write-Output \"No-op: $($itemId): no legacy managed-identity extension is installed.\"; continue }";
    let types = "(@($_.Type1, $_.Type, $_.VirtualMachineExtensionType, $_.ExtensionType) | Where-Object { $legacyTypes -contains $_ })";
    let mut b = Vec::new();
    if kind.is_vm() {
        b.push("$vmName = $itemName".to_string());
        b.push("$vm = Get-AzVM -ResourceGroupName $resourceGroupName -Name $vmName".into());
        b.push("$stage = 'guard'".into());
        b.push("# the retired extension as the VM's model lists it (the type's property name differs across Az versions: each is read)".into());
        b.push(format!("$legacy = @($vm.Extensions | Where-Object {{ $_.Publisher -eq 'Microsoft.ManagedIdentity' -and {types} }})"));
        b.push(noop.into());
        b.push("$stage = 'write'".into());
        b.push("foreach ($extension in $legacy) {".into());
        b.push("    Remove-AzVMExtension -ResourceGroupName $resourceGroupName -VMName $vmName -Name $extension.Name -Force".into());
        b.push("}".into());
    } else {
        b.push("$vmssName = $itemName".to_string());
        b.push(
            "$vmss = Get-AzVmss -ResourceGroupName $resourceGroupName -VMScaleSetName $vmssName"
                .into(),
        );
        b.push("$stage = 'guard'".into());
        b.push("# the retired extension as the scale set's model lists it (the type's property name differs across Az versions: each is read)".into());
        b.push(format!("$legacy = @($vmss.VirtualMachineProfile.ExtensionProfile.Extensions | Where-Object {{ $_.Publisher -eq 'Microsoft.ManagedIdentity' -and {types} }})"));
        b.push(noop.into());
        b.push("$stage = 'write'".into());
        b.push("# Remove-AzVmssExtension only edits the local object; Update-AzVmss -VirtualMachineScaleSet then sends a PUT of the whole model, guarded by the etag read.".into());
        b.push("foreach ($extension in $legacy) { $vmss = Remove-AzVmssExtension -VirtualMachineScaleSet $vmss -Name $extension.Name }".into());
        b.push("Update-AzVmss -ResourceGroupName $resourceGroupName -VMScaleSetName $vmssName -VirtualMachineScaleSet $vmss -IfMatch $vmss.Etag".into());
        if upgrade_instances {
            b.push(UPGRADE_NOTE.into());
            b.push("if (\"$($vmss.UpgradePolicy.Mode)\" -eq 'Manual') {".into());
            b.push("    Update-AzVmssInstance -ResourceGroupName $resourceGroupName -VMScaleSetName $vmssName -InstanceId '*'".into());
            b.push("}".into());
        }
    }
    b
}

/// Bash, one item (inside `change_one`, `$g`, `$sub`, `$rg`, `$name` set): the legacy extensions read, each
/// deleted, the operation waited for, a Manual scale set's instances upgraded.
fn sh_legacy_item(rest: bool, upgrade_instances: bool) -> Vec<String> {
    let api = api_versions::COMPUTE;
    let rn = "--resource-group=\"$rg\" --name=\"$name\" --subscription=\"$sub\"";
    let mut f = vec![
        "if [ \"$g\" = vmss ]; then".to_string(),
        format!(
            "  names=$(az rest --method get --url \"$id?api-version={api}\" --query {} --output tsv)",
            sh_single(Q_VMSS_LEGACY)
        ),
        format!(
            "  mode=$(az rest --method get --url \"$id?api-version={api}\" --query properties.upgradePolicy.mode --output tsv)"
        ),
        "else".into(),
        format!(
            "  names=$(az rest --method get --url \"$id/extensions?api-version={api}\" --query {} --output tsv)",
            sh_single(Q_VM_LEGACY)
        ),
        "  mode=".into(),
        "fi".into(),
        "legacy=()".into(),
        "while IFS= read -r n; do [ -z \"$n\" ] || legacy+=(\"$n\"); done <<< \"$names\"".into(),
        format!(
            "if [ ${{#legacy[@]}} -eq 0 ]; then echo \"No-op: $id: no legacy managed-identity extension is installed.\"; exit {SH_NOOP}; fi"
        ),
        "for ext in \"${legacy[@]}\"; do".into(),
    ];
    if rest {
        f.push(format!("  az rest --method delete --url \"$id/extensions/$ext?api-version={api}\" --output none"));
    } else {
        f.push("  # an extension name starting with @ cannot be passed to az (it reads it as a file): its own DELETE then".into());
        f.push("  if [ \"$g\" = vm ] && [ \"${ext#@}\" = \"$ext\" ]; then".into());
        f.push("    az vm extension delete --resource-group=\"$rg\" --vm-name=\"$name\" --subscription=\"$sub\" --name=\"$ext\" --output none".into());
        f.push("  else".into());
        f.push(
            "    # not az vmss extension delete: a whole-model PUT; the extension's own DELETE"
                .into(),
        );
        f.push(format!("    az rest --method delete --url \"$id/extensions/$ext?api-version={api}\" --output none"));
        f.push("  fi".into());
    }
    f.push("done".into());
    f.push("# az rest does not follow the long-running operation: wait until provisioning ends, and fail unless it succeeded.".into());
    f.push(format!(
        "az $g wait {rn} --custom {}",
        sh_single("provisioningState!='Updating' && provisioningState!='Creating'")
    ));
    f.push(format!(
        "provisioningState=$(az $g show {rn} --query provisioningState --output tsv)"
    ));
    f.push("if [ \"$provisioningState\" != Succeeded ]; then echo \"$id: the change ended with provisioningState '$provisioningState', not Succeeded: see the activity log of the resource.\" >&2; exit 1; fi".into());
    if upgrade_instances {
        f.push(UPGRADE_NOTE.into());
        f.push(format!("if [ \"$g\" = vmss ] && [ \"$mode\" = Manual ]; then az vmss update-instances {rn} --instance-ids '*' --output none; fi"));
    }
    f
}

/// PowerShell Azure CLI, one item: as [`sh_legacy_item`].
fn ps_cli_legacy_item(rest: bool, upgrade_instances: bool) -> Vec<String> {
    let api = api_versions::COMPUTE;
    let lang = Language::PowerShell;
    let rn = "\"--resource-group=$resourceGroupName\" \"--name=$itemName\" \"--subscription=$subscriptionId\"";
    let mut b = vec![
        "if ($g -eq 'vmss') {".to_string(),
        format!(
            "    $legacy = @(az rest --method get --url \"$($itemId)?api-version={api}\" --query {} --output tsv)",
            ps_single(Q_VMSS_LEGACY)
        ),
        "    if ($LASTEXITCODE -ne 0) { throw 'az failed' }".into(),
        format!(
            "    $mode = az rest --method get --url \"$($itemId)?api-version={api}\" --query properties.upgradePolicy.mode --output tsv"
        ),
        "} else {".into(),
        format!(
            "    $legacy = @(az rest --method get --url \"$($itemId)/extensions?api-version={api}\" --query {} --output tsv)",
            ps_single(Q_VM_LEGACY)
        ),
        "    $mode = ''".into(),
        "}".into(),
    ];
    b.extend(check_exit(lang));
    b.push("$stage = 'guard'".into());
    b.push("$legacy = @($legacy | Where-Object { $_ })".into());
    b.push("if (-not $legacy.Count) { $noOp += $itemId; Write-Output \"No-op: $($itemId): no legacy managed-identity extension is installed.\"; continue }".into());
    b.push("$stage = 'write'".into());
    b.push("foreach ($extension in $legacy) {".into());
    if rest {
        b.push(format!("    az rest --method delete --url \"$($itemId)/extensions/$($extension)?api-version={api}\" --output none"));
    } else {
        b.push("    # an extension name starting with @ cannot be passed to az (it reads it as a file): its own DELETE then".into());
        b.push("    if ($g -eq 'vm' -and -not $extension.StartsWith('@')) {".into());
        b.push("        az vm extension delete \"--resource-group=$resourceGroupName\" \"--vm-name=$itemName\" \"--subscription=$subscriptionId\" \"--name=$extension\" --output none".into());
        b.push("    } else {".into());
        b.push(
            "        # not az vmss extension delete: a whole-model PUT; the extension's own DELETE"
                .into(),
        );
        b.push(format!("        az rest --method delete --url \"$($itemId)/extensions/$($extension)?api-version={api}\" --output none"));
        b.push("    }".into());
    }
    b.push("    if ($LASTEXITCODE -ne 0) { throw 'az failed' }".into());
    b.push("}".into());
    b.push("# az rest does not follow the long-running operation: wait until provisioning ends, and fail unless it succeeded.".into());
    b.push(format!(
        "az $g wait {rn} --custom {}",
        ps_single("provisioningState!='Updating' && provisioningState!='Creating'")
    ));
    b.extend(check_exit(lang));
    b.push(format!(
        "$provisioningState = az $g show {rn} --query provisioningState --output tsv"
    ));
    b.extend(check_exit(lang));
    b.push("if ($provisioningState -ne 'Succeeded') { throw \"The change ended with provisioningState '$provisioningState', not Succeeded: see the activity log of the resource.\" }".into());
    if upgrade_instances {
        b.push(UPGRADE_NOTE.into());
        b.push("if ($g -eq 'vmss' -and $mode -eq 'Manual') {".into());
        b.push(format!(
            "    az vmss update-instances {rn} --instance-ids '*' --output none"
        ));
        b.push("    if ($LASTEXITCODE -ne 0) { throw 'az failed' }".into());
        b.push("}".into());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_canonical_deduplicated_and_checked() {
        let i = Items::of(
            &[
            "/subscriptions/S/resourcegroups/RG/providers/microsoft.compute/virtualmachinescalesets/A".into(),
            "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachineScaleSets/a".into(),
            "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/x".into(),
            "nonsense".into(),
            "/subscriptions/S/resourceGroups/@rg/providers/Microsoft.Compute/virtualMachines/v".into(),
            "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/@-".into(),
            ],
            true,
        );
        assert_eq!(
            i.ids,
            [
                "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachineScaleSets/A"
            ]
        );
        assert_eq!((i.left_out, i.left_out_at), (2, 2));
        assert!(i.scale_sets);
    }

    #[test]
    fn no_az_batch_passes_a_value_starting_with_at() {
        let vmss = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/a";
        let at_item = "/subscriptions/s/resourceGroups/@-/providers/Microsoft.Compute/virtualMachineScaleSets/b";
        let req = BatchRequest {
            cloud: Cloud::AzureCloud,
            op: BulkOp::EnableSystemAssigned { grant: None },
            items: vec![vmss.into(), at_item.into()],
        };
        for f in BATCH_FLAVOURS {
            let s = batch(&req, f).unwrap().text;
            // Az PowerShell takes the item (its values are PowerShell strings); az leaves it out and says so
            assert_eq!(s.contains("/@-/"), f == Flavour::AzPowerShell, "{f:?}\n{s}");
            assert_eq!(
                s.contains("have a part starting with @"),
                f != Flavour::AzPowerShell,
                "{f:?}"
            );
        }
        // only such items: no az script at all
        let only = BatchRequest {
            items: vec![at_item.into()],
            ..req.clone()
        };
        assert!(batch(&only, Flavour::CliBash).is_none());
        // the identity's group, name or subscription starting with @: az is not offered
        let at_identity = BatchRequest {
            op: BulkOp::RemoveUserAssigned {
                identity: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/@id".into(),
            },
            ..req.clone()
        };
        assert!(op_passes_a_file_reference(&at_identity.op));
        assert!(!op_passes_a_file_reference(&req.op));
        assert_eq!(at_identity.op.validate(), Ok(()));
        assert_eq!(
            batch_all(&at_identity)
                .iter()
                .map(|s| s.flavour)
                .collect::<Vec<_>>(),
            [Flavour::AzPowerShell]
        );
    }
}
