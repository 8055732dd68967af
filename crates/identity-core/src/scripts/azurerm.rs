//! Legacy AzureRM 6.13 (retired 29 February 2024): the same cmdlets with their AzureRM names.

use super::powershell::{finish, ps_array, target_vars};
use super::quote::ps_single;
use super::*;

pub(crate) fn script(plan: &ScriptPlan) -> String {
    let mut l = header_lines(
        plan,
        "LEGACY AzureRM 6.13: RETIRED on 29 February 2024 (no longer maintained or supported). Use the Az PowerShell script; this is for reference on old machines only.",
    );
    if let Some(n) = nothing_to_send(plan, Language::PowerShell) {
        l.extend(n);
        return finish(l);
    }
    l.push("$ErrorActionPreference = 'Stop'".into());
    l.push(if plan.cloud == Cloud::AzureCloud {
        "Connect-AzureRmAccount".into()
    } else {
        format!(
            "Connect-AzureRmAccount -Environment {}",
            ps_single(plan.cloud.name())
        )
    });
    l.push(format!(
        "Set-AzureRmContext -Subscription {}",
        ps_single(subscription_of(&plan.change))
    ));
    if plan.if_match().is_some() {
        l.push("# AzureRM has no -IfMatch: the guard against a concurrent change is lost with this script.".into());
    }
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
                l.push("# Update-AzureRmVM sends a PUT of the whole VM model; every user-assigned identity to keep is listed.".into());
                l.push(format!(
                    "$vm = Get-AzureRmVM -ResourceGroupName $resourceGroupName -Name ${name_var}"
                ));
                let mut cmd = format!(
                    "Update-AzureRmVM -ResourceGroupName $resourceGroupName -VM $vm -IdentityType {}",
                    after.ps_enum()
                );
                if !after.user.is_empty() {
                    l.extend(ps_array("identityIds", &after.user));
                    cmd.push_str(" -IdentityId $identityIds");
                }
                l.push(cmd);
            } else if !removed.is_empty() && !after.user.is_empty() {
                l.push("# Not expressible losslessly with AzureRM: Update-AzureRmVmss (PATCH) cannot send a user-assigned identity as null.".into());
                l.push("# Use the Az PowerShell exact script (Invoke-AzRestMethod / Invoke-RestMethod) or the az rest script instead.".into());
            } else {
                let mut cmd = format!(
                    "Update-AzureRmVmss -ResourceGroupName $resourceGroupName -VMScaleSetName ${name_var} -IdentityType {}",
                    after.ps_enum()
                );
                if !after.user.is_empty() {
                    l.extend(ps_array("identityIds", &after.user));
                    cmd.push_str(" -IdentityId $identityIds");
                }
                l.push(cmd);
            }
        }
        Change::Create { .. } => {
            l.push("# Not generated for AzureRM: use the Az PowerShell exact script or the az rest script.".into());
        }
        Change::CreateUserAssigned {
            resource_group,
            name,
            location,
            ..
        } => {
            l.extend(super::powershell::stop_if_identity_exists(
                "Get-AzureRmUserAssignedIdentity",
                "New-AzureRmUserAssignedIdentity",
                resource_group,
                name,
            ));
            l.push(format!(
                "New-AzureRmUserAssignedIdentity -ResourceGroupName {} -Name {} -Location {}",
                ps_single(resource_group),
                ps_single(name),
                ps_single(location)
            ));
        }
        Change::RoleAssignment {
            scope,
            principal_id,
            role_definition_id,
            ..
        } => {
            l.push(format!(
                "New-AzureRmRoleAssignment -ObjectId {} -RoleDefinitionId {} -Scope {}",
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
                    "Remove-AzureRmVMExtension -ResourceGroupName $resourceGroupName -VMName ${name_var} -Name {} -Force",
                    ps_single(extension)
                ));
            } else {
                l.push(format!(
                    "$vmss = Get-AzureRmVmss -ResourceGroupName $resourceGroupName -VMScaleSetName ${name_var}"
                ));
                l.push(format!(
                    "$vmss = Remove-AzureRmVmssExtension -VirtualMachineScaleSet $vmss -Name {}",
                    ps_single(extension)
                ));
                l.push(format!(
                    "Update-AzureRmVmss -ResourceGroupName $resourceGroupName -VMScaleSetName ${name_var} -VirtualMachineScaleSet $vmss"
                ));
                if *manual_upgrade {
                    l.push(format!(
                        "Update-AzureRmVmssInstance -ResourceGroupName $resourceGroupName -VMScaleSetName ${name_var} -InstanceId '*'"
                    ));
                }
            }
        }
    }
    finish(super::powershell::with_requires(l))
}
