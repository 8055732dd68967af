//! The inventory as scripts: the same Resource Graph queries ([`super::queries`]) the page runs, with the
//! same paging (1,000 rows per page, the skip token followed to the end) and the same subscription batches
//! (1,000 per request — Az PowerShell and the Azure CLI forward no more), writing one JSON file per shape.
//!
//! - [`powershell`]: `Search-AzGraph` (Az.ResourceGraph 0.10.0 or later: the first with `-SkipToken` and the
//!   `Data` / `SkipToken` result), `-First 1000 -SkipToken` loop.
//! - [`bash`]: `az graph query` (the `resource-graph` extension) with `--first 1000 --skip-token`, `jq` for
//!   the pages. Bash only: in PowerShell `az` is `az.cmd`, and cmd.exe would re-read the `|` of every query.
//!
//! - [`identity_powershell`], [`identity_bash`]: the identity page's focused queries for one user-assigned
//!   identity (its row, the scale sets and VMs that use it, its principal's role assignments and their role names).
//!
//! Every literal goes through [`crate::scripts::quote`]; the queries are constants, and role GUIDs read back
//! from Azure are checked against a GUID pattern before they are put into a query.

#[cfg(doc)]
use super::queries::identity_literal;
use super::queries::{
    COMPUTE, IDENTITIES, PAGE_SIZE, PRINCIPAL_ASSIGNMENTS_PREFIX, ROLE_ASSIGNMENTS,
    ROLE_DEFINITIONS_PREFIX, ROLE_DEFINITIONS_SUFFIX, ROLE_GUIDS_PER_QUERY, SUBSCRIPTION_BATCH,
    identity_row, identity_users, principal_assignments_suffix,
};
use crate::scripts::Cloud;
use crate::scripts::quote::{ps_single, sh_single};

/// Output files, one per shape (PowerShell: `.json`, a JSON array; bash: `.jsonl`, one JSON row per line).
pub const FILES: [&str; 4] = [
    "inventory-compute",
    "inventory-identities",
    "inventory-role-assignments",
    "inventory-role-definitions",
];

/// Az PowerShell: `Search-AzGraph` over every enabled subscription of the signed-in tenant.
pub fn powershell(cloud: Cloud) -> String {
    let mut l = ps_head(
        cloud,
        &[
            "# Fleet inventory (identity-wizard): every scale set, VM, user-assigned identity and role assignment of",
            "# the tenant, read with Azure Resource Graph. Writes inventory-*.json in the current folder.",
        ],
    );
    l.extend([
        format!("$computeQuery = {}", ps_single(COMPUTE)),
        format!("$identitiesQuery = {}", ps_single(IDENTITIES)),
        format!("$roleAssignmentsQuery = {}", ps_single(ROLE_ASSIGNMENTS)),
        format!(
            "$roleDefinitionsPrefix = {}",
            ps_single(ROLE_DEFINITIONS_PREFIX)
        ),
        format!(
            "$roleDefinitionsSuffix = {}",
            ps_single(ROLE_DEFINITIONS_SUFFIX)
        ),
        "$compute = Invoke-InventoryQuery -Query $computeQuery".into(),
        "$identities = Invoke-InventoryQuery -Query $identitiesQuery".into(),
        "$roleAssignments = Invoke-InventoryQuery -Query $roleAssignmentsQuery".into(),
    ]);
    l.extend(ps_role_definitions());
    l.push(String::new());
    for (var, file) in [
        "compute",
        "identities",
        "roleAssignments",
        "roleDefinitions",
    ]
    .iter()
    .zip(FILES)
    {
        l.push(ps_write_json(var, file));
    }
    l.push("Write-Output ('{0} scale sets and VMs (with legacy extension rows), {1} identities, {2} role assignments' -f $compute.Count, $identities.Count, $roleAssignments.Count)".into());
    finish(l)
}

fn finish(l: Vec<String>) -> String {
    let mut s = l.join("\n");
    s.push('\n');
    s
}

fn ps_write_json(var: &str, file: &str) -> String {
    format!(
        "ConvertTo-Json -InputObject @(${var}) -Depth 20 | Set-Content -LiteralPath {} -Encoding utf8",
        ps_single(&format!("{file}.json"))
    )
}

/// `#Requires`, the comment lines, sign-in, the tenant's enabled subscriptions and `Invoke-InventoryQuery`
/// (every page of a query over every batch of subscriptions), then a blank line.
fn ps_head(cloud: Cloud, comments: &[&str]) -> Vec<String> {
    let connect = if cloud == Cloud::AzureCloud {
        "Connect-AzAccount".to_string()
    } else {
        format!("Connect-AzAccount -Environment {}", ps_single(cloud.name()))
    };
    let mut l: Vec<String> = vec![
        "#Requires -Version 5.1".into(),
        "#Requires -Modules @{ ModuleName = 'Az.Accounts'; ModuleVersion = '2.2.0' }, @{ ModuleName = 'Az.ResourceGraph'; ModuleVersion = '0.10.0' }".into(),
    ];
    l.extend(comments.iter().map(|c| c.to_string()));
    l.extend([
        "# Az.ResourceGraph 0.10.0 is the first version with -SkipToken and the Data/SkipToken result.".into(),
        "$ErrorActionPreference = 'Stop'".into(),
        connect,
        "$tenantId = (Get-AzContext).Tenant.Id".into(),
        "$subscriptionIds = @(Get-AzSubscription -TenantId $tenantId | Where-Object { $_.State -eq 'Enabled' } | ForEach-Object { $_.Id })".into(),
        "if ($subscriptionIds.Count -eq 0) { throw 'No enabled subscription in this tenant: check the signed-in account with Get-AzContext.' }".into(),
        format!("# Az PowerShell forwards at most {SUBSCRIPTION_BATCH} subscriptions to Resource Graph: query them in batches."),
        format!("$batchSize = {SUBSCRIPTION_BATCH}"),
        String::new(),
        "function Invoke-InventoryQuery {".into(),
        "    param([Parameter(Mandatory = $true)] [string] $Query)".into(),
        "    $rows = [System.Collections.Generic.List[object]]::new()".into(),
        "    for ($i = 0; $i -lt $subscriptionIds.Count; $i += $batchSize) {".into(),
        "        $last = [Math]::Min($i + $batchSize, $subscriptionIds.Count) - 1".into(),
        "        $batch = $subscriptionIds[$i..$last]".into(),
        "        $skipToken = $null".into(),
        "        do {".into(),
        "            if ($skipToken) {".into(),
        format!("                $page = Search-AzGraph -Query $Query -Subscription $batch -First {PAGE_SIZE} -SkipToken $skipToken"),
        "            } else {".into(),
        format!("                $page = Search-AzGraph -Query $Query -Subscription $batch -First {PAGE_SIZE}"),
        "            }".into(),
        "            foreach ($row in $page.Data) { $rows.Add($row) }".into(),
        "            $skipToken = $page.SkipToken".into(),
        "            Write-Progress -Activity 'Resource Graph' -Status ('{0} rows' -f $rows.Count)".into(),
        "        } while ($skipToken)".into(),
        "    }".into(),
        "    return ,$rows.ToArray()".into(),
        "}".into(),
        String::new(),
    ]);
    l
}

/// The role definitions of the roles `$roleAssignments` uses, by GUID, into `$roleDefinitions`.
fn ps_role_definitions() -> Vec<String> {
    vec![
        "# role names: only the roles the assignments use, by GUID (checked to be one before it goes into a query)".into(),
        "$roleGuids = @($roleAssignments | ForEach-Object { ([string]$_.roleDefinitionId -split '/')[-1].ToLowerInvariant() } | Where-Object { $_ -match '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' } | Sort-Object -Unique)".into(),
        "$roleDefinitions = [System.Collections.Generic.List[object]]::new()".into(),
        format!("for ($g = 0; $g -lt $roleGuids.Count; $g += {ROLE_GUIDS_PER_QUERY}) {{"),
        format!("    $lastGuid = [Math]::Min($g + {ROLE_GUIDS_PER_QUERY}, $roleGuids.Count) - 1"),
        "    $list = ($roleGuids[$g..$lastGuid] | ForEach-Object { \"'$_'\" }) -join ', '".into(),
        "    foreach ($row in (Invoke-InventoryQuery -Query ($roleDefinitionsPrefix + $list + $roleDefinitionsSuffix))) { $roleDefinitions.Add($row) }".into(),
        "}".into(),
    ]
}

/// Azure CLI for bash: `az graph query` over every enabled subscription of the signed-in tenant.
pub fn bash(cloud: Cloud) -> String {
    let mut l = sh_head(
        cloud,
        &[
            "# Fleet inventory (identity-wizard): every scale set, VM, user-assigned identity and role assignment of",
            "# the tenant, read with Azure Resource Graph. Writes inventory-*.jsonl (one JSON row per line).",
        ],
    );
    l.extend([
        format!("compute_query={}", sh_single(COMPUTE)),
        format!("identities_query={}", sh_single(IDENTITIES)),
        format!("role_assignments_query={}", sh_single(ROLE_ASSIGNMENTS)),
        format!(
            "role_definitions_prefix={}",
            sh_single(ROLE_DEFINITIONS_PREFIX)
        ),
        format!(
            "role_definitions_suffix={}",
            sh_single(ROLE_DEFINITIONS_SUFFIX)
        ),
    ]);
    let f = |i: usize| sh_single(&format!("{}.jsonl", FILES[i]));
    l.push(format!(
        ": > {}; : > {}; : > {}; : > {}",
        f(0),
        f(1),
        f(2),
        f(3)
    ));
    l.push(format!("query_all \"$compute_query\" {}", f(0)));
    l.push(format!("query_all \"$identities_query\" {}", f(1)));
    l.push(format!("query_all \"$role_assignments_query\" {}", f(2)));
    l.extend(sh_role_definitions(&f(2), &f(3)));
    l.push(format!(
        "echo \"$(wc -l < {}) scale sets and VMs (with legacy extension rows), $(wc -l < {}) identities, $(wc -l < {}) role assignments\"",
        f(0),
        f(1),
        f(2)
    ));
    finish(l)
}

/// The shebang, the comment lines, `set -euo pipefail`, sign-in, the tenant's enabled subscriptions and
/// `query_all` (every page of a query over every batch of subscriptions), then a blank line.
fn sh_head(cloud: Cloud, comments: &[&str]) -> Vec<String> {
    let mut l: Vec<String> = vec!["#!/usr/bin/env bash".into()];
    l.extend(comments.iter().map(|c| c.to_string()));
    l.extend([
        "# Needs the Azure CLI's resource-graph extension (az extension add --name resource-graph) and jq.".into(),
        "set -euo pipefail".into(),
        "command -v jq >/dev/null || { echo 'This script needs jq: install it, then run it again.' >&2; exit 1; }".into(),
        format!("az cloud set --name {}", sh_single(cloud.name())),
        "az login".into(),
        "tenant_id=$(az account show --query tenantId --output tsv | tr -d '\\r')".into(),
        "subscriptions=()".into(),
        "while IFS= read -r s; do s=${s%$'\\r'}; [ -n \"$s\" ] && subscriptions+=(\"$s\"); done < <(az account list --all --output json | jq -r --arg t \"$tenant_id\" '.[] | select(.tenantId == $t and .state == \"Enabled\") | .id')".into(),
        "if [ ${#subscriptions[@]} -eq 0 ]; then echo 'No enabled subscription in this tenant: check the signed-in account with az account show.' >&2; exit 1; fi".into(),
        format!("# The Azure CLI forwards at most {SUBSCRIPTION_BATCH} subscriptions to Resource Graph: query them in batches."),
        format!("batch_size={SUBSCRIPTION_BATCH}"),
        String::new(),
        "# query_all QUERY FILE: every row of QUERY, page by page, appended to FILE (one JSON object per line)".into(),
        "query_all() {".into(),
        "  local query=$1 out=$2 i token page".into(),
        "  for ((i = 0; i < ${#subscriptions[@]}; i += batch_size)); do".into(),
        "    local batch=(\"${subscriptions[@]:i:batch_size}\")".into(),
        "    token=''".into(),
        "    while :; do".into(),
        "      if [ -n \"$token\" ]; then".into(),
        format!("        page=$(az graph query --graph-query \"$query\" --subscriptions \"${{batch[@]}}\" --first {PAGE_SIZE} --skip-token \"$token\" --output json)"),
        "      else".into(),
        format!("        page=$(az graph query --graph-query \"$query\" --subscriptions \"${{batch[@]}}\" --first {PAGE_SIZE} --output json)"),
        "      fi".into(),
        "      jq -c '.data[]' <<<\"$page\" >> \"$out\"".into(),
        "      token=$(jq -r '.skip_token // empty' <<<\"$page\")".into(),
        "      echo \"$out: $(wc -l < \"$out\") rows\" >&2".into(),
        "      [ -n \"$token\" ] || break".into(),
        "    done".into(),
        "  done".into(),
        "}".into(),
        String::new(),
    ]);
    l
}

/// The role definitions of the roles the assignments in `assignments` (a quoted file name) use, by GUID,
/// appended to `definitions`.
fn sh_role_definitions(assignments: &str, definitions: &str) -> Vec<String> {
    vec![
        "# role names: only the roles the assignments use, by GUID (checked to be one before it goes into a query)".into(),
        "guids=()".into(),
        format!(
            "while IFS= read -r g; do [ -n \"$g\" ] && guids+=(\"$g\"); done < <(jq -r '(.roleDefinitionId // \"\") | split(\"/\") | last | ascii_downcase | select(test(\"^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$\"))' {assignments} | sort -u)",
        ),
        format!("for ((g = 0; g < ${{#guids[@]}}; g += {ROLE_GUIDS_PER_QUERY})); do"),
        format!("  list=$(printf \"'%s', \" \"${{guids[@]:g:{ROLE_GUIDS_PER_QUERY}}}\")"),
        format!(
            "  query_all \"${{role_definitions_prefix}}${{list%, }}${{role_definitions_suffix}}\" {definitions}"
        ),
        "done".into(),
    ]
}

/// Output files of the identity scripts, one per shape (PowerShell `.json`, bash `.jsonl`).
pub const IDENTITY_FILES: [&str; 4] = [
    "identity",
    "identity-users",
    "identity-role-assignments",
    "identity-role-definitions",
];

const IDENTITY_COMMENTS: [&str; 2] = [
    "# One user-assigned identity (identity-wizard): who uses it across the tenant (scale sets and VMs) and the",
    "# role assignments of its principal, read with Azure Resource Graph — the identity page's queries.",
];

/// The comment line naming the identity (an id [`identity_literal`] accepted: no control character).
fn identity_comment(id: &str) -> String {
    format!("# Identity: {id}")
}

/// Az PowerShell: the identity page's focused queries ([`identity_row`], [`identity_users`], then
/// [`super::queries::role_assignments_of`] for the principal the identity row names, then the role names) with
/// `Search-AzGraph` over every enabled subscription; writes `identity*.json` and prints the users and the role
/// assignments. `None` when the id cannot be written into a query ([`identity_literal`]).
pub fn identity_powershell(cloud: Cloud, identity_id: &str) -> Option<String> {
    let (identity_q, users_q) = (
        identity_row(identity_id).ok()?,
        identity_users(identity_id).ok()?,
    );
    let comment = identity_comment(identity_id);
    let mut l = ps_head(
        cloud,
        &[IDENTITY_COMMENTS[0], IDENTITY_COMMENTS[1], comment.as_str()],
    );
    l.extend([
        format!("$identityQuery = {}", ps_single(&identity_q)),
        format!("$usersQuery = {}", ps_single(&users_q)),
        format!("$roleAssignmentsPrefix = {}", ps_single(PRINCIPAL_ASSIGNMENTS_PREFIX)),
        format!("$roleAssignmentsSuffix = {}", ps_single(&principal_assignments_suffix())),
        format!("$roleDefinitionsPrefix = {}", ps_single(ROLE_DEFINITIONS_PREFIX)),
        format!("$roleDefinitionsSuffix = {}", ps_single(ROLE_DEFINITIONS_SUFFIX)),
        "$identity = Invoke-InventoryQuery -Query $identityQuery".into(),
        "$users = Invoke-InventoryQuery -Query $usersQuery".into(),
        "# its principal's role assignments (the principal id checked to be a GUID before it goes into a query)".into(),
        "$principalId = @($identity | ForEach-Object { ([string]$_.principalId).ToLowerInvariant() })[0]".into(),
        "$roleAssignments = [System.Collections.Generic.List[object]]::new()".into(),
        "if ($principalId -match '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$') {".into(),
        "    foreach ($row in (Invoke-InventoryQuery -Query ($roleAssignmentsPrefix + \"'\" + $principalId + \"'\" + $roleAssignmentsSuffix))) { $roleAssignments.Add($row) }".into(),
        "} else {".into(),
        "    Write-Warning 'The identity is not in Resource Graph (deleted, or in a subscription you cannot read): its role assignments cannot be read.'".into(),
        "}".into(),
    ]);
    l.extend(ps_role_definitions());
    l.push(String::new());
    for (var, file) in ["identity", "users", "roleAssignments", "roleDefinitions"]
        .iter()
        .zip(IDENTITY_FILES)
    {
        l.push(ps_write_json(var, file));
    }
    l.extend([
        "$roleNames = @{}".into(),
        "foreach ($d in $roleDefinitions) { $roleNames[([string]$d.id -split '/')[-1].ToLowerInvariant()] = [string]$d.roleName }".into(),
        "Write-Output ('Used by {0} scale sets and VMs:' -f $users.Count)".into(),
        "$users | Select-Object name, type, orchestrationMode, subscriptionId, resourceGroup | Format-Table -AutoSize | Out-String -Width 4096".into(),
        "Write-Output ('{0} role assignments:' -f $roleAssignments.Count)".into(),
        "$roleRows = foreach ($a in $roleAssignments) {".into(),
        "    $guid = ([string]$a.roleDefinitionId -split '/')[-1].ToLowerInvariant()".into(),
        "    $role = if ($roleNames.ContainsKey($guid)) { $roleNames[$guid] } else { $guid }".into(),
        "    [pscustomobject]@{ role = $role; scope = $a.scope; condition = $a.condition }".into(),
        "}".into(),
        "$roleRows | Format-Table -AutoSize | Out-String -Width 4096".into(),
    ]);
    Some(finish(l))
}

/// Azure CLI for bash: the identity page's focused queries with `az graph query` over every enabled subscription
/// (as [`identity_powershell`]); writes `identity*.jsonl` and prints the users and the role assignments (tab
/// separated). `None` when the id cannot be written into a query ([`identity_literal`]).
pub fn identity_bash(cloud: Cloud, identity_id: &str) -> Option<String> {
    let (identity_q, users_q) = (
        identity_row(identity_id).ok()?,
        identity_users(identity_id).ok()?,
    );
    let comment = identity_comment(identity_id);
    let mut l = sh_head(
        cloud,
        &[IDENTITY_COMMENTS[0], IDENTITY_COMMENTS[1], comment.as_str()],
    );
    let f = |i: usize| sh_single(&format!("{}.jsonl", IDENTITY_FILES[i]));
    l.extend([
        format!("identity_query={}", sh_single(&identity_q)),
        format!("users_query={}", sh_single(&users_q)),
        format!("role_assignments_prefix={}", sh_single(PRINCIPAL_ASSIGNMENTS_PREFIX)),
        format!("role_assignments_suffix={}", sh_single(&principal_assignments_suffix())),
        format!("role_definitions_prefix={}", sh_single(ROLE_DEFINITIONS_PREFIX)),
        format!("role_definitions_suffix={}", sh_single(ROLE_DEFINITIONS_SUFFIX)),
        format!(": > {}; : > {}; : > {}; : > {}", f(0), f(1), f(2), f(3)),
        format!("query_all \"$identity_query\" {}", f(0)),
        format!("query_all \"$users_query\" {}", f(1)),
        "# its principal's role assignments (the principal id checked to be a GUID before it goes into a query)".into(),
        format!("principal_id=$(jq -r -s '[.[] | (.principalId // \"\") | ascii_downcase][0] // empty' {})", f(0)),
        "if [[ $principal_id =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]; then".into(),
        format!("  query_all \"${{role_assignments_prefix}}'${{principal_id}}'${{role_assignments_suffix}}\" {}", f(2)),
        "else".into(),
        "  echo 'The identity is not in Resource Graph (deleted, or in a subscription you cannot read): its role assignments cannot be read.' >&2".into(),
        "fi".into(),
    ]);
    l.extend(sh_role_definitions(&f(2), &f(3)));
    l.extend([
        format!("echo \"Used by $(wc -l < {}) scale sets and VMs (name, type, orchestration mode, subscription, group):\"", f(1)),
        format!("jq -r '[.name, .type, (.orchestrationMode // \"\"), .subscriptionId, .resourceGroup] | @tsv' {}", f(1)),
        format!("echo \"$(wc -l < {}) role assignments (role, scope, condition):\"", f(2)),
        format!(
            "jq -r -n --slurpfile defs {} '($defs | map({{key: ((.id // \"\") | split(\"/\") | last | ascii_downcase), value: .roleName}}) | from_entries) as $names | inputs | ((.roleDefinitionId // \"\") | split(\"/\") | last | ascii_downcase) as $g | [($names[$g] // $g), .scope, (.condition // \"\")] | @tsv' {}",
            f(3),
            f(2)
        ),
    ]);
    Some(finish(l))
}
