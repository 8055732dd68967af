//! What a batch does and the words for it, without Yew: the operation and where the selection came from
//! ([`BatchSpec`]), the selection to review ([`Draft`]), and the confirmation text that names the count and the
//! operation ("Assign id-monitor to 287 scale sets and VMs").

use identity_core::bulk::{BulkOp, RoleGrant};
use serde::{Deserialize, Serialize};

/// What a batch does: kept with the batch (in [`arm_client::bulk::BatchState::operation`] as JSON) so that a
/// batch offered again after a reload says what it does and runs the same change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchSpec {
    pub operation: BulkOp,
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

    /// Can carry a role grant (for the new principal).
    pub fn can_grant(self) -> bool {
        matches!(self, OpChoice::EnableSystem | OpChoice::AssignUser)
    }

    /// The operation, with the identity picked and the grant (`None` when an identity is needed and none is
    /// given; a grant is dropped where it does not apply).
    pub fn operation(self, identity: Option<&str>, grant: Option<RoleGrant>) -> Option<BulkOp> {
        let id = || identity.filter(|i| !i.is_empty()).map(str::to_string);
        let grant = grant.filter(|_| self.can_grant());
        Some(match self {
            OpChoice::EnableSystem => BulkOp::EnableSystemAssigned { grant },
            OpChoice::RemoveSystem => BulkOp::RemoveSystemAssigned,
            OpChoice::AssignUser => BulkOp::AssignUserAssigned {
                identity: id()?,
                grant,
            },
            OpChoice::RemoveUser => BulkOp::RemoveUserAssigned { identity: id()? },
            OpChoice::RemoveLegacy => BulkOp::RemoveLegacyExtension {
                upgrade_instances: true,
            },
        })
    }
}

/// The last segment of an ARM id (a resource's or identity's name).
pub fn name_of(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

/// "287 scale sets and VMs", "1 scale set or VM".
pub fn count_text(n: usize) -> String {
    if n == 1 {
        "1 scale set or VM".into()
    } else {
        format!("{n} scale sets and VMs")
    }
}

fn grant_text(op: &BulkOp) -> String {
    match op {
        BulkOp::EnableSystemAssigned { grant: Some(g) } => {
            format!(", then grant each new principal {}", g.role_label())
        }
        BulkOp::AssignUserAssigned { grant: Some(g), .. } => {
            format!(" (its principal granted {} first)", g.role_label())
        }
        _ => String::new(),
    }
}

/// The operation as a sentence with its count: the confirmation ("Assign id-monitor to 287 scale sets and VMs").
///
/// ```
/// use identity_core::bulk::BulkOp;
/// use identity_wizard::bulk::spec::confirm_text;
/// let op = BulkOp::AssignUserAssigned { identity: "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-monitor".into(), grant: None };
/// assert_eq!(confirm_text(&op, 287), "Assign id-monitor to 287 scale sets and VMs");
/// assert_eq!(confirm_text(&BulkOp::EnableSystemAssigned { grant: None }, 1), "Enable the system-assigned identity on 1 scale set or VM");
/// ```
pub fn confirm_text(op: &BulkOp, n: usize) -> String {
    let c = count_text(n);
    let g = grant_text(op);
    match op {
        BulkOp::EnableSystemAssigned { .. } => {
            format!("Enable the system-assigned identity on {c}{g}")
        }
        BulkOp::RemoveSystemAssigned => format!("Remove the system-assigned identity from {c}"),
        BulkOp::AssignUserAssigned { identity, .. } => {
            format!("Assign {} to {c}{g}", name_of(identity))
        }
        BulkOp::RemoveUserAssigned { identity } => format!("Remove {} from {c}", name_of(identity)),
        BulkOp::RemoveLegacyExtension { .. } => {
            format!("Remove the legacy managed-identity extension from {c}")
        }
    }
}

/// The operation in a few words, without a count ("Assign id-monitor").
pub fn op_title(op: &BulkOp) -> String {
    match op {
        BulkOp::EnableSystemAssigned { .. } => "Enable the system-assigned identity".into(),
        BulkOp::RemoveSystemAssigned => "Remove the system-assigned identity".into(),
        BulkOp::AssignUserAssigned { identity, .. } => format!("Assign {}", name_of(identity)),
        BulkOp::RemoveUserAssigned { identity } => format!("Remove {}", name_of(identity)),
        BulkOp::RemoveLegacyExtension { .. } => {
            "Remove the legacy managed-identity extension".into()
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
            let op = c.operation(Some(ID), None).unwrap();
            let t = confirm_text(&op, 3);
            assert!(t.ends_with("3 scale sets and VMs"), "{t}");
            if c.needs_identity() {
                assert!(t.contains("id-web"), "{t}");
                assert_eq!(c.operation(None, None), None);
                assert_eq!(c.operation(Some(""), None), None);
            }
        }
        assert_eq!(
            confirm_text(&OpChoice::RemoveUser.operation(Some(ID), None).unwrap(), 2),
            "Remove id-web from 2 scale sets and VMs"
        );
        assert_eq!(
            op_title(&BulkOp::RemoveLegacyExtension {
                upgrade_instances: true
            }),
            "Remove the legacy managed-identity extension"
        );
    }

    #[test]
    fn the_spec_round_trips_as_json() {
        let d = Draft {
            spec: BatchSpec {
                operation: OpChoice::AssignUser.operation(Some(ID), None).unwrap(),
                from_identity: None,
            },
            items: vec!["/subscriptions/s/x".into()],
        };
        let j = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Draft>(&j).unwrap(), d);
    }
}
