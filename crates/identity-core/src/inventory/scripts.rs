//! The inventory as scripts: the same Resource Graph queries ([`super::queries`]) the page runs, with the
//! same paging (1,000 rows per page, the skip token followed to the end) and the same subscription batches
//! (1,000 per request — Az PowerShell and the Azure CLI forward no more), writing one JSON file per shape.
//!
//! - [`powershell`]: `Search-AzGraph` (Az.ResourceGraph 0.10.0 or later: the first with `-SkipToken` and the
//!   `Data` / `SkipToken` result), `-First 1000 -SkipToken` loop.
//! - [`bash`]: `az graph query` (the `resource-graph` extension) with `--first 1000 --skip-token`, `jq` for
//!   the pages. Bash only: in PowerShell `az` is `az.cmd`, and cmd.exe would re-read the `|` of every query.
//!
//! Every literal goes through [`crate::scripts::quote`]; the queries are constants, and role GUIDs read back
//! from Azure are checked against a GUID pattern before they are put into a query.

use super::queries::{
    COMPUTE, IDENTITIES, PAGE_SIZE, ROLE_ASSIGNMENTS, ROLE_DEFINITIONS_PREFIX,
    ROLE_DEFINITIONS_SUFFIX, ROLE_GUIDS_PER_QUERY, SUBSCRIPTION_BATCH,
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
    let connect = if cloud == Cloud::AzureCloud {
        "Connect-AzAccount".to_string()
    } else {
        format!("Connect-AzAccount -Environment {}", ps_single(cloud.name()))
    };
    let mut l: Vec<String> = vec![
        "#Requires -Version 5.1".into(),
        "#Requires -Modules @{ ModuleName = 'Az.Accounts'; ModuleVersion = '2.2.0' }, @{ ModuleName = 'Az.ResourceGraph'; ModuleVersion = '0.10.0' }".into(),
        "# Fleet inventory (identity-wizard): every scale set, VM, user-assigned identity and role assignment of".into(),
        "# the tenant, read with Azure Resource Graph. Writes inventory-*.json in the current folder.".into(),
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
        format!("$computeQuery = {}", ps_single(COMPUTE)),
        format!("$identitiesQuery = {}", ps_single(IDENTITIES)),
        format!("$roleAssignmentsQuery = {}", ps_single(ROLE_ASSIGNMENTS)),
        format!("$roleDefinitionsPrefix = {}", ps_single(ROLE_DEFINITIONS_PREFIX)),
        format!("$roleDefinitionsSuffix = {}", ps_single(ROLE_DEFINITIONS_SUFFIX)),
        "$compute = Invoke-InventoryQuery -Query $computeQuery".into(),
        "$identities = Invoke-InventoryQuery -Query $identitiesQuery".into(),
        "$roleAssignments = Invoke-InventoryQuery -Query $roleAssignmentsQuery".into(),
        "# role names: only the roles the assignments use, by GUID (checked to be one before it goes into a query)".into(),
        "$roleGuids = @($roleAssignments | ForEach-Object { ([string]$_.roleDefinitionId -split '/')[-1].ToLowerInvariant() } | Where-Object { $_ -match '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' } | Sort-Object -Unique)".into(),
        "$roleDefinitions = [System.Collections.Generic.List[object]]::new()".into(),
        format!("for ($g = 0; $g -lt $roleGuids.Count; $g += {ROLE_GUIDS_PER_QUERY}) {{"),
        format!("    $lastGuid = [Math]::Min($g + {ROLE_GUIDS_PER_QUERY}, $roleGuids.Count) - 1"),
        "    $list = ($roleGuids[$g..$lastGuid] | ForEach-Object { \"'$_'\" }) -join ', '".into(),
        "    foreach ($row in (Invoke-InventoryQuery -Query ($roleDefinitionsPrefix + $list + $roleDefinitionsSuffix))) { $roleDefinitions.Add($row) }".into(),
        "}".into(),
        String::new(),
    ];
    for (var, file) in [
        "compute",
        "identities",
        "roleAssignments",
        "roleDefinitions",
    ]
    .iter()
    .zip(FILES)
    {
        l.push(format!(
            "ConvertTo-Json -InputObject @(${var}) -Depth 20 | Set-Content -LiteralPath {} -Encoding utf8",
            ps_single(&format!("{file}.json"))
        ));
    }
    l.push("Write-Output ('{0} scale sets and VMs (with legacy extension rows), {1} identities, {2} role assignments' -f $compute.Count, $identities.Count, $roleAssignments.Count)".into());
    let mut s = l.join("\n");
    s.push('\n');
    s
}

/// Azure CLI for bash: `az graph query` over every enabled subscription of the signed-in tenant.
pub fn bash(cloud: Cloud) -> String {
    let mut l: Vec<String> = vec![
        "#!/usr/bin/env bash".into(),
        "# Fleet inventory (identity-wizard): every scale set, VM, user-assigned identity and role assignment of".into(),
        "# the tenant, read with Azure Resource Graph. Writes inventory-*.jsonl (one JSON row per line).".into(),
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
        format!("compute_query={}", sh_single(COMPUTE)),
        format!("identities_query={}", sh_single(IDENTITIES)),
        format!("role_assignments_query={}", sh_single(ROLE_ASSIGNMENTS)),
        format!("role_definitions_prefix={}", sh_single(ROLE_DEFINITIONS_PREFIX)),
        format!("role_definitions_suffix={}", sh_single(ROLE_DEFINITIONS_SUFFIX)),
    ];
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
    l.push("# role names: only the roles the assignments use, by GUID (checked to be one before it goes into a query)".into());
    l.push("guids=()".into());
    l.push(format!(
        "while IFS= read -r g; do [ -n \"$g\" ] && guids+=(\"$g\"); done < <(jq -r '(.roleDefinitionId // \"\") | split(\"/\") | last | ascii_downcase | select(test(\"^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$\"))' {} | sort -u)",
        f(2)
    ));
    l.push(format!(
        "for ((g = 0; g < ${{#guids[@]}}; g += {ROLE_GUIDS_PER_QUERY})); do"
    ));
    l.push(format!(
        "  list=$(printf \"'%s', \" \"${{guids[@]:g:{ROLE_GUIDS_PER_QUERY}}}\")"
    ));
    l.push(format!(
        "  query_all \"${{role_definitions_prefix}}${{list%, }}${{role_definitions_suffix}}\" {}",
        f(3)
    ));
    l.push("done".into());
    l.push(format!(
        "echo \"$(wc -l < {}) scale sets and VMs (with legacy extension rows), $(wc -l < {}) identities, $(wc -l < {}) role assignments\"",
        f(0),
        f(1),
        f(2)
    ));
    let mut s = l.join("\n");
    s.push('\n');
    s
}
