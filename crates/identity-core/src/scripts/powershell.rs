//! Az PowerShell, idiomatic: cmdlets with a keep-list computed from the plan's states.

use super::quote::ps_single;
use super::*;

/// A PowerShell module family: the Az modules or the retired AzureRM ones. The two idiomatic
/// generators are one ([`cmdlets`]); the family names the cmdlets and says what differs: Az has
/// `-IfMatch` (Az 12.0.0), `-ObjectType`, the create chains, and explains each step.
pub(crate) struct Family {
    /// The cmdlet noun prefix: `Az` / `AzureRm`.
    pub prefix: &'static str,
    /// The header's flavour line.
    pub title: &'static str,
    /// Az (not the retired AzureRM).
    pub az: bool,
}

/// Az PowerShell.
pub(crate) const AZ: Family = Family {
    prefix: "Az",
    title: "Az PowerShell (Az 12.0.0 or later for -IfMatch; tested names from Az 16.2.0)",
    az: true,
};

/// Legacy AzureRM 6.13.
pub(crate) const AZURERM: Family = Family {
    prefix: "AzureRm",
    title: "LEGACY AzureRM 6.13: RETIRED on 29 February 2024 (no longer maintained or supported). Use the Az PowerShell script; this is for reference on old machines only.",
    az: false,
};

impl Family {
    /// The cmdlet `{verb}-{prefix}{noun}`: `c("Update", "Vmss")` is `Update-AzVmss` / `Update-AzureRmVmss`.
    pub(crate) fn c(&self, verb: &str, noun: &str) -> String {
        format!("{verb}-{}{noun}", self.prefix)
    }

    /// `$ErrorActionPreference`, `Connect-…Account` (with `-Environment` outside the public cloud) and `Set-…Context`.
    pub(crate) fn sign_in(&self, cloud: Cloud, subscription: &str) -> Vec<String> {
        let connect = self.c("Connect", "Account");
        let connect = if cloud == Cloud::AzureCloud {
            connect
        } else {
            format!("{connect} -Environment {}", ps_single(cloud.name()))
        };
        vec![
            "$ErrorActionPreference = 'Stop'".into(),
            connect,
            format!(
                "{} -Subscription {}",
                self.c("Set", "Context"),
                ps_single(subscription)
            ),
        ]
    }
}

/// `Connect-AzAccount` (with `-Environment` outside the public cloud) and `Set-AzContext`.
pub(crate) fn az_sign_in(cloud: Cloud, subscription: &str) -> Vec<String> {
    AZ.sign_in(cloud, subscription)
}

/// `$name = @( 'a', 'b' )` over several lines (or `@()`).
pub(crate) fn ps_array(var: &str, items: &[String]) -> Vec<String> {
    if items.is_empty() {
        return vec![format!("${var} = @()")];
    }
    let mut out = vec![format!("${var} = @(")];
    for (i, it) in items.iter().enumerate() {
        let comma = if i + 1 < items.len() { "," } else { "" };
        out.push(format!("    {}{comma}", ps_single(it)));
    }
    out.push(")".into());
    out
}

/// Variables naming the target: `$resourceGroupName` and `$vmssName` / `$vmName`.
pub(crate) fn target_vars(t: &Resource) -> (Vec<String>, &'static str) {
    let name_var = if t.kind.is_vm() { "vmName" } else { "vmssName" };
    (
        vec![
            format!("$resourceGroupName = {}", ps_single(&t.resource_group)),
            format!("${name_var} = {}", ps_single(&t.name)),
        ],
        name_var,
    )
}

/// The idiomatic cmdlet script of a module family (Az PowerShell, or the retired AzureRM).
pub(crate) fn cmdlets(plan: &ScriptPlan, fam: &Family) -> String {
    let c = |verb: &str, noun: &str| fam.c(verb, noun);
    let mut l = header_lines(plan, fam.title);
    if let Some(n) = nothing_to_send(plan, Language::PowerShell) {
        l.extend(n);
        return finish(l);
    }
    l.extend(fam.sign_in(plan.cloud, subscription_of(&plan.change)));
    let etag = plan.if_match();
    if let Some(e) = etag {
        l.push(if fam.az {
            format!(
                "$etag = {}   # the etag the plan was computed from: the change fails (412) if someone changed the resource since",
                ps_single(e)
            )
        } else {
            "# AzureRM has no -IfMatch: the guard against a concurrent change is lost with this script.".into()
        });
    }
    let if_match = if etag.is_some() && fam.az {
        " -IfMatch $etag"
    } else {
        ""
    };
    // false when this family cannot express the change (nothing is changed, so nothing is cleaned up after it)
    let mut changes = true;
    match &plan.change {
        Change::Identity {
            target,
            before,
            after,
        } => {
            let (vars, name_var) = target_vars(target);
            l.extend(vars);
            let removed = removed_users(before, after);
            if target.kind.is_vm() {
                l.push(if fam.az {
                    "# Update-AzVM sends a PUT of the whole VM model (not the PATCH the app sends); the identity becomes exactly -IdentityType/-IdentityId, so every user-assigned identity to keep is listed."
                } else {
                    "# Update-AzureRmVM sends a PUT of the whole VM model; every user-assigned identity to keep is listed."
                }.into());
                l.push(format!(
                    "$vm = {} -ResourceGroupName $resourceGroupName -Name ${name_var}",
                    c("Get", "VM")
                ));
                let mut cmd = format!(
                    "{} -ResourceGroupName $resourceGroupName -VM $vm -IdentityType {}",
                    c("Update", "VM"),
                    after.ps_enum()
                );
                if !after.user.is_empty() {
                    l.extend(ps_array("identityIds", &after.user));
                    cmd.push_str(" -IdentityId $identityIds");
                }
                cmd.push_str(if_match);
                l.push(cmd);
            } else if !removed.is_empty() && !after.user.is_empty() {
                if fam.az {
                    l.push("# No cmdlet can express this change losslessly: Update-AzVmss without -VirtualMachineScaleSet sends a PATCH,".into());
                    l.push("# and a PATCH only removes a user-assigned identity sent as null, which -IdentityId cannot do (it lists ids to keep or add).".into());
                    l.push("# A PUT of the whole model (-VirtualMachineScaleSet) would re-send and re-validate everything. The exact PATCH follows.".into());
                    l.extend(rest::exact_lines(plan, plan.requests()));
                } else {
                    l.push("# Not expressible losslessly with AzureRM: Update-AzureRmVmss (PATCH) cannot send a user-assigned identity as null.".into());
                    l.push("# Use the Az PowerShell exact script (Invoke-AzRestMethod / Invoke-RestMethod) or the az rest script instead.".into());
                    changes = false;
                }
            } else {
                let mut cmd = format!(
                    "{} -ResourceGroupName $resourceGroupName -VMScaleSetName ${name_var} -IdentityType {}",
                    c("Update", "Vmss"),
                    after.ps_enum()
                );
                if !after.user.is_empty() {
                    if fam.az {
                        l.push("# Every user-assigned identity that stays is listed (kept ones and new ones), so none is dropped.".into());
                    }
                    l.extend(ps_array("identityIds", &after.user));
                    cmd.push_str(" -IdentityId $identityIds");
                }
                cmd.push_str(if_match);
                l.push(cmd);
            }
        }
        Change::Create { .. } if !fam.az => {
            l.push("# Not generated for AzureRM: use the Az PowerShell exact script or the az rest script.".into());
        }
        Change::Create { target, after, .. } if target.kind.is_vm() => {
            match create::VmModel::from_body(plan.create_body()) {
                Some(m) => l.extend(create::vm_az_powershell(&m, target, after, &plan.change)),
                None => {
                    l.push("# The create body has parts the New-AzVMConfig chain here does not express; the exact PUT follows.".into());
                    l.extend(rest::exact_lines(plan, plan.requests()));
                }
            }
        }
        Change::Create { target, after, .. } => {
            match create::VmssModel::from_body(plan.create_body()) {
                Some(m) => l.extend(create::az_powershell(&m, target, after, &plan.change)),
                None => {
                    l.push("# The create body has parts the New-AzVmssConfig chain here does not express; the exact PUT follows.".into());
                    l.extend(rest::exact_lines(plan, plan.requests()));
                }
            }
        }
        Change::CreateUserAssigned {
            resource_group,
            name,
            location,
            ..
        } => {
            l.extend(stop_if_identity_exists(
                &c("Get", "UserAssignedIdentity"),
                &c("New", "UserAssignedIdentity"),
                resource_group,
                name,
            ));
            let new = format!(
                "{} -ResourceGroupName {} -Name {} -Location {}",
                c("New", "UserAssignedIdentity"),
                ps_single(resource_group),
                ps_single(name),
                ps_single(location)
            );
            if fam.az {
                l.push(format!("$identity = {new}"));
                l.push("$identity | Select-Object Id, ClientId, PrincipalId".into());
            } else {
                l.push(new);
            }
        }
        Change::RoleAssignment {
            scope,
            principal_id,
            role_definition_id,
            ..
        } => {
            let object_type = if fam.az {
                l.push("# -ObjectType ServicePrincipal: the principalType the app sends (the identity is a service principal).".into());
                " -ObjectType 'ServicePrincipal'"
            } else {
                ""
            };
            l.push(format!(
                "{} -ObjectId {}{object_type} -RoleDefinitionId {} -Scope {}",
                c("New", "RoleAssignment"),
                ps_single(principal_id),
                ps_single(&role_guid(role_definition_id)),
                ps_single(scope)
            ));
        }
        Change::RemoveExtension {
            target,
            extension,
            manual_upgrade,
        } => {
            let (vars, name_var) = target_vars(target);
            l.extend(vars);
            if target.kind.is_vm() {
                l.push(format!(
                    "{} -ResourceGroupName $resourceGroupName -VMName ${name_var} -Name {} -Force",
                    c("Remove", "VMExtension"),
                    ps_single(extension)
                ));
            } else {
                if fam.az {
                    l.push("# Remove-AzVmssExtension only edits the local object; Update-AzVmss -VirtualMachineScaleSet then sends a PUT of the whole model.".into());
                }
                l.push(format!(
                    "$vmss = {} -ResourceGroupName $resourceGroupName -VMScaleSetName ${name_var}",
                    c("Get", "Vmss")
                ));
                l.push(format!(
                    "$vmss = {} -VirtualMachineScaleSet $vmss -Name {}",
                    c("Remove", "VmssExtension"),
                    ps_single(extension)
                ));
                l.push(format!(
                    "{} -ResourceGroupName $resourceGroupName -VMScaleSetName ${name_var} -VirtualMachineScaleSet $vmss{if_match}",
                    c("Update", "Vmss")
                ));
                if *manual_upgrade {
                    if fam.az {
                        l.push("# upgradePolicy Manual: removing an extension changes the instance model, so upgrade the instances.".into());
                    }
                    l.push(format!(
                        "{} -ResourceGroupName $resourceGroupName -VMScaleSetName ${name_var} -InstanceId '*'",
                        c("Update", "VmssInstance")
                    ));
                }
            }
        }
    }
    if changes {
        l.extend(cmdlet_deletions(plan, fam));
    }
    finish(with_requires(l))
}

/// The role assignment deletions after the identity change (`$ErrorActionPreference = 'Stop'`: only reached
/// when it succeeded), bound to `Remove-AzRoleAssignment`'s RoleIdWithScopeAndObjectIdParameterSet (principal,
/// role GUID and scope name one assignment: ARM refuses a second with the same three).
fn cmdlet_deletions(plan: &ScriptPlan, fam: &Family) -> Vec<String> {
    if plan.role_assignment_deletions.is_empty() {
        return vec![];
    }
    let mut l = vec![
        "# The identity change succeeded (any error above stopped the script): delete the role assignments the removed principal held.".to_string(),
    ];
    l.push(if fam.az {
        "# Remove-AzRoleAssignment finds each by principal, role and scope (ARM holds at most one per three); a principal no longer in the directory shows as ObjectType Unknown.".into()
    } else {
        "# AzureRM looks the principal up in the directory first and may fail for one already deleted: the Az PowerShell or az rest script deletes each by its id.".into()
    });
    for d in &plan.role_assignment_deletions {
        l.push(format!("# {}", comment_safe(&deletion_summary(d))));
        l.push(format!(
            "{} -ObjectId {} -RoleDefinitionId {} -Scope {}",
            fam.c("Remove", "RoleAssignment"),
            ps_single(&d.principal_id),
            ps_single(d.role_guid()),
            ps_single(&d.scope)
        ));
    }
    l
}

/// Stop unless `get` (`Get-AzUserAssignedIdentity` / `Get-AzureRmUserAssignedIdentity`) finds no
/// identity of that name: `create` sends no If-None-Match and would overwrite it. Only a "not found"
/// error lets the script go on; any other (sign-in, permissions) stops it.
pub(crate) fn stop_if_identity_exists(
    get: &str,
    create: &str,
    resource_group: &str,
    name: &str,
) -> Vec<String> {
    vec![
        format!("# {create} sends no If-None-Match: it would silently overwrite an existing identity of this name (its"),
        "# tags wiped). So the script stops if one exists. This check-then-create is not atomic (one created in between is".into(),
        "# still overwritten); the exact REST script (Invoke-RestMethod with If-None-Match: *) is.".into(),
        "$existingIdentity = $null".into(),
        format!(
            "try {{ $existingIdentity = {get} -ResourceGroupName {} -Name {} -ErrorAction Stop }}",
            ps_single(resource_group),
            ps_single(name)
        ),
        "catch { if (\"$_\" -notmatch 'NotFound|not found') { throw } }".into(),
        format!(
            "if ($existingIdentity) {{ throw {} }}",
            ps_single(&format!(
                "A user-assigned identity named '{name}' already exists in resource group '{resource_group}': {create} would overwrite it (its tags wiped). Use that identity, or choose another name."
            ))
        ),
    ]
}

/// The module each cmdlet the scripts use comes from, and the oldest version with every
/// parameter the scripts pass (None: any version has them).
///
/// - Az.Accounts 3.0.0: the version Az.Compute 8.0.0 requires (Az 12.0.0, May 2024);
///   Connect-AzAccount, Set-AzContext, Get-AzContext, Get-AzAccessToken, Invoke-AzRestMethod
///   (-WaitForCompletion) as these scripts use them.
/// - Az.Compute 8.0.0: `-IfMatch` / `-IfNoneMatch` on Update-AzVmss, Update-AzVM, New-AzVmss and
///   the `Etag` property of PSVirtualMachineScaleSet / PSVirtualMachine (its change log).
/// - Az.Resources 3.5.0: `New-AzRoleAssignment -ObjectType` (its change log).
/// - Az.ManagedServiceIdentity: `New-AzUserAssignedIdentity -ResourceGroupName -Name -Location`, in
///   every version.
/// - Az.Network: `New-AzNetworkInterface -Name -ResourceGroupName -Location -SubnetId
///   -IpConfigurationName` and `Get-AzNetworkInterface -ResourceGroupName -Name`, in every version
///   (AzureRM.Network had them already).
/// - AzureRM: the versions of AzureRM 6.13.1 (the last 6.13; AzureRM 5.7 has no
///   `Update-AzureRmVmss -IdentityType`): AzureRM.Profile 5.8.2, AzureRM.Compute 5.9.1.
fn module_of(cmdlet: &str) -> Option<(&'static str, Option<&'static str>)> {
    let noun = cmdlet.split_once('-')?.1;
    Some(if let Some(rm) = noun.strip_prefix("AzureRm") {
        if rm.starts_with("Vm") || rm.starts_with("VM") {
            ("AzureRM.Compute", Some("5.9.1"))
        } else if rm == "Account" || rm == "Context" {
            ("AzureRM.Profile", Some("5.8.2"))
        } else if rm == "UserAssignedIdentity" {
            ("AzureRM.ManagedServiceIdentity", None)
        } else if rm == "RoleAssignment" {
            ("AzureRM.Resources", None)
        } else {
            return None;
        }
    } else if let Some(az) = noun.strip_prefix("Az") {
        if az.starts_with("Vm") || az.starts_with("VM") {
            ("Az.Compute", Some("8.0.0"))
        } else if ["Account", "Context", "AccessToken", "RestMethod"].contains(&az) {
            ("Az.Accounts", Some("3.0.0"))
        } else if az == "UserAssignedIdentity" {
            ("Az.ManagedServiceIdentity", None)
        } else if az == "NetworkInterface" {
            ("Az.Network", None)
        } else if az == "RoleAssignment" {
            ("Az.Resources", Some("3.5.0"))
        } else {
            return None;
        }
    } else {
        return None;
    })
}

/// `#Requires -Modules …` for the cmdlets the lines call (outside comments), first line of the
/// script: PowerShell refuses to run a saved script with a missing or older module, with a
/// message naming it, before anything runs. Nothing when no module cmdlet is called.
pub(crate) fn with_requires(lines: Vec<String>) -> Vec<String> {
    let mut modules: Vec<(&str, Option<&str>)> = Vec::new();
    for line in lines.iter().filter(|l| !l.trim_start().starts_with('#')) {
        for word in line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            if let Some(m) = module_of(word)
                && word.starts_with(|c: char| c.is_ascii_uppercase())
                && !modules.contains(&m)
            {
                modules.push(m);
            }
        }
    }
    if modules.is_empty() {
        return lines;
    }
    modules.sort();
    let list: Vec<String> = modules
        .iter()
        .map(|(name, version)| match version {
            Some(v) => format!("@{{ ModuleName = '{name}'; ModuleVersion = '{v}' }}"),
            None => format!("'{name}'"),
        })
        .collect();
    let mut out = vec![
        format!("#Requires -Modules {}", list.join(", ")),
        "# (#Requires is checked when the script runs from a .ps1 file: a missing or older module stops it before anything runs.)".to_string(),
    ];
    out.extend(lines);
    out
}

pub(crate) fn finish(lines: Vec<String>) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    s
}
