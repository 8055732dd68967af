//! What the user asks for on an existing scale set or VM.
//!
//! JSON form (the `operation` of the `identity-plan` CLI): an object with `"op"` and its fields:
//!
//! | `op` | fields | meaning |
//! |---|---|---|
//! | `enableSystemAssigned` | – | turn on the system-assigned identity, keep every user-assigned one |
//! | `removeSystemAssigned` | – | turn it off, keep every user-assigned one |
//! | `addUserAssigned` | `ids`: [resource ids] | attach these, keep everything else |
//! | `removeUserAssigned` | `ids`: [resource ids] | detach these, keep everything else |
//! | `removeAll` | – | remove every identity (type `None`) |
//! | `setExact` | `systemAssigned`: bool, `userAssigned`: [ids] | make the identities exactly this |
//! | `removeLegacyExtension` | `upgradeInstances`: bool (default true) | DELETE the retired extension (+ manualupgrade on a Manual scale set) |
//! | `installLegacyExtension` | – | always refused: the extension is retired in favour of IMDS |

use serde::{Deserialize, Serialize};

/// One requested change.
///
/// ```
/// use identity_core::operation::Operation;
/// let op: Operation = serde_json::from_str(r#"{"op":"addUserAssigned","ids":["/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a"]}"#).unwrap();
/// assert!(matches!(op, Operation::AddUserAssigned { ref ids } if ids.len() == 1));
/// let op: Operation = serde_json::from_str(r#"{"op":"removeLegacyExtension"}"#).unwrap();
/// assert_eq!(op, Operation::RemoveLegacyExtension { upgrade_instances: true });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", deny_unknown_fields)]
pub enum Operation {
    /// Enable the system-assigned identity.
    EnableSystemAssigned,
    /// Remove the system-assigned identity (user-assigned ones stay).
    RemoveSystemAssigned,
    /// Attach user-assigned identities (full resource ids).
    AddUserAssigned { ids: Vec<String> },
    /// Detach user-assigned identities (full resource ids, compared ignoring case).
    RemoveUserAssigned { ids: Vec<String> },
    /// Remove every identity.
    RemoveAll,
    /// Make the identities exactly this set.
    #[serde(rename_all = "camelCase")]
    SetExact {
        system_assigned: bool,
        #[serde(default)]
        user_assigned: Vec<String>,
    },
    /// Remove the retired managed-identity extension; on a scale set with a Manual upgrade
    /// policy, also push the model to the instances (`manualupgrade`) when `upgrade_instances`.
    #[serde(rename_all = "camelCase")]
    RemoveLegacyExtension {
        #[serde(default = "yes")]
        upgrade_instances: bool,
    },
    /// Never planned: always refused with [`crate::resource::LEGACY_EXTENSION_RETIRED`].
    InstallLegacyExtension,
}

fn yes() -> bool {
    true
}

impl Operation {
    /// A short description for messages ("add user-assigned identities").
    pub fn describe(&self) -> &'static str {
        match self {
            Operation::EnableSystemAssigned => "enable the system-assigned identity",
            Operation::RemoveSystemAssigned => "remove the system-assigned identity",
            Operation::AddUserAssigned { .. } => "add user-assigned identities",
            Operation::RemoveUserAssigned { .. } => "remove user-assigned identities",
            Operation::RemoveAll => "remove every identity",
            Operation::SetExact { .. } => "set the identities exactly",
            Operation::RemoveLegacyExtension { .. } => {
                "remove the legacy managed-identity extension"
            }
            Operation::InstallLegacyExtension => "install the legacy managed-identity extension",
        }
    }
}
