//! Legacy AzureRM 6.13 (retired 29 February 2024): the Az cmdlet script with the AzureRM names
//! and what AzureRM lacks (no `-IfMatch`, no `-ObjectType`, no create chains); see
//! [`super::powershell::cmdlets`].

use super::ScriptPlan;
use super::powershell::{AZURERM, cmdlets};

pub(crate) fn script(plan: &ScriptPlan) -> String {
    cmdlets(plan, &AZURERM)
}
