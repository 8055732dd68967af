//! What a batch does and the words for it, without Yew: the operation and where the selection came from
//! ([`BatchSpec`]), the selection to review ([`Draft`]), and the confirmation text that names the count and the
//! operation ("Assign id-monitor to 287 scale sets and VMs").

use identity_core::Operation;
use serde::{Deserialize, Serialize};

/// What a batch does: kept with the batch (in [`arm_client::bulk::BatchState::operation`] as JSON) so that a
/// batch offered again after a reload says what it does and runs the same change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchSpec {
    pub operation: Operation,
    /// The batch removes this identity from every resource that uses it (started from its page): the report
    /// then offers to delete it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_identity: Option<String>,
}

/// A selection with its operation, on its way from the inventory (or an identity page) to the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    pub spec: BatchSpec,
    /// Resource ids (scale sets and VMs), in the order shown.
    pub items: Vec<String>,
}

/// The operations offered in the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpChoice {
    EnableSystem,
    RemoveSystem,
    AssignUser,
    RemoveUser,
    RemoveLegacy,
}

impl OpChoice {
    pub const ALL: [OpChoice; 5] = [
        OpChoice::EnableSystem,
        OpChoice::RemoveSystem,
        OpChoice::AssignUser,
        OpChoice::RemoveUser,
        OpChoice::RemoveLegacy,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            OpChoice::EnableSystem => "enable-system",
            OpChoice::RemoveSystem => "remove-system",
            OpChoice::AssignUser => "assign-user",
            OpChoice::RemoveUser => "remove-user",
            OpChoice::RemoveLegacy => "remove-legacy",
        }
    }

    pub fn from_slug(s: &str) -> Option<OpChoice> {
        OpChoice::ALL.into_iter().find(|o| o.slug() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            OpChoice::EnableSystem => "Enable the system-assigned identity",
            OpChoice::RemoveSystem => "Remove the system-assigned identity",
            OpChoice::AssignUser => "Assign a user-assigned identity",
            OpChoice::RemoveUser => "Remove a user-assigned identity",
            OpChoice::RemoveLegacy => "Remove the legacy managed-identity extension",
        }
    }

    /// Needs an identity picked.
    pub fn needs_identity(self) -> bool {
        matches!(self, OpChoice::AssignUser | OpChoice::RemoveUser)
    }

    /// The operation, with the identity picked (`None` when one is needed and none is given).
    pub fn operation(self, identity: Option<&str>) -> Option<Operation> {
        let ids = || {
            identity
                .filter(|i| !i.is_empty())
                .map(|i| vec![i.to_string()])
        };
        Some(match self {
            OpChoice::EnableSystem => Operation::EnableSystemAssigned,
            OpChoice::RemoveSystem => Operation::RemoveSystemAssigned,
            OpChoice::AssignUser => Operation::AddUserAssigned { ids: ids()? },
            OpChoice::RemoveUser => Operation::RemoveUserAssigned { ids: ids()? },
            OpChoice::RemoveLegacy => Operation::RemoveLegacyExtension {
                upgrade_instances: true,
            },
        })
    }
}

/// The last segment of an ARM id (a resource's or identity's name).
pub fn name_of(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

fn names(ids: &[String]) -> String {
    let n: Vec<&str> = ids.iter().map(|i| name_of(i)).collect();
    match n.as_slice() {
        [] => "no identity".into(),
        [a] => (*a).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// "287 scale sets and VMs", "1 scale set or VM".
pub fn count_text(n: usize) -> String {
    if n == 1 {
        "1 scale set or VM".into()
    } else {
        format!("{n} scale sets and VMs")
    }
}

/// The operation as a sentence with its count: the confirmation ("Assign id-monitor to 287 scale sets and VMs").
///
/// ```
/// use identity_core::Operation;
/// use identity_wizard::bulk::spec::confirm_text;
/// let op = Operation::AddUserAssigned { ids: vec!["/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-monitor".into()] };
/// assert_eq!(confirm_text(&op, 287), "Assign id-monitor to 287 scale sets and VMs");
/// assert_eq!(confirm_text(&Operation::EnableSystemAssigned, 1), "Enable the system-assigned identity on 1 scale set or VM");
/// ```
pub fn confirm_text(op: &Operation, n: usize) -> String {
    let c = count_text(n);
    match op {
        Operation::EnableSystemAssigned => format!("Enable the system-assigned identity on {c}"),
        Operation::RemoveSystemAssigned => format!("Remove the system-assigned identity from {c}"),
        Operation::AddUserAssigned { ids } => format!("Assign {} to {c}", names(ids)),
        Operation::RemoveUserAssigned { ids } => format!("Remove {} from {c}", names(ids)),
        Operation::RemoveAll => format!("Remove every identity from {c}"),
        Operation::SetExact { .. } => format!("Set the identities of {c}"),
        Operation::RemoveLegacyExtension { .. } => {
            format!("Remove the legacy managed-identity extension from {c}")
        }
        Operation::InstallLegacyExtension => {
            format!("Install the legacy managed-identity extension on {c}")
        }
    }
}

/// The operation in a few words, without a count ("Assign id-monitor").
pub fn op_title(op: &Operation) -> String {
    match op {
        Operation::EnableSystemAssigned => "Enable the system-assigned identity".into(),
        Operation::RemoveSystemAssigned => "Remove the system-assigned identity".into(),
        Operation::AddUserAssigned { ids } => format!("Assign {}", names(ids)),
        Operation::RemoveUserAssigned { ids } => format!("Remove {}", names(ids)),
        other => {
            let d = other.describe();
            let mut c = d.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web";

    #[test]
    fn every_choice_makes_its_operation_and_names_it() {
        for c in OpChoice::ALL {
            assert_eq!(OpChoice::from_slug(c.slug()), Some(c));
            let op = c.operation(Some(ID)).unwrap();
            let t = confirm_text(&op, 3);
            assert!(t.ends_with("3 scale sets and VMs"), "{t}");
            if c.needs_identity() {
                assert!(t.contains("id-web"), "{t}");
                assert_eq!(c.operation(None), None);
                assert_eq!(c.operation(Some("")), None);
            }
        }
        assert_eq!(
            confirm_text(&OpChoice::RemoveUser.operation(Some(ID)).unwrap(), 2),
            "Remove id-web from 2 scale sets and VMs"
        );
        assert_eq!(
            op_title(&Operation::RemoveLegacyExtension {
                upgrade_instances: true
            }),
            "Remove the legacy managed-identity extension"
        );
    }

    #[test]
    fn the_spec_round_trips_as_json() {
        let d = Draft {
            spec: BatchSpec {
                operation: OpChoice::AssignUser.operation(Some(ID)).unwrap(),
                from_identity: None,
            },
            items: vec!["/subscriptions/s/x".into()],
        };
        let j = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Draft>(&j).unwrap(), d);
    }
}
