//! Removal without orphans: the role assignments of a principal that an identity change takes away, deleted
//! after that change succeeded.
//!
//! When a system-assigned identity is removed its principal is deleted with it, and when a user-assigned identity
//! leaves its last user nothing uses its principal any more; either way the role assignments it held stay in the
//! tenant (the portal lists them as "Identity not found"). A plan can carry their deletion as an explicit, named
//! part: [`Plan::role_assignment_deletions`], one `DELETE {assignment id}?api-version=…` each, sent only after
//! the identity change succeeded (the identity PATCH is unchanged: the lossless rules do not see them).
//!
//! Order matters for a system-assigned principal: the assignments are listed while the principal exists (the
//! review), the identity is removed, then each assignment is deleted **by id** (a search by principal after the
//! removal would still work in ARM, but a script that looks the principal up could not).
//!
//! ```
//! use identity_core::{plan::plan, operation::Operation, resource::ResourceState};
//! use identity_core::role_cleanup::RoleAssignmentDeletion;
//! let body = serde_json::json!({
//!   "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
//!   "etag": "\"3\"", "identity": {"type": "SystemAssigned", "principalId": "11111111-2222-4333-8444-555555555555"}});
//! let st = ResourceState::from_arm(&body, None).unwrap();
//! let del = RoleAssignmentDeletion::new(
//!     "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/aaaaaaaa-0000-4000-8000-000000000001",
//!     "11111111-2222-4333-8444-555555555555",
//!     "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
//!     Some("Reader".into()), "/subscriptions/s", None).unwrap();
//! let p = plan(&st, &Operation::RemoveSystemAssigned).with_role_assignment_deletions(&[del]);
//! assert_eq!(p.requests().len(), 1); // the identity PATCH, unchanged
//! let all = p.all_requests();
//! assert_eq!(all[1].method.as_str(), "DELETE");
//! assert_eq!(all[1].path_and_query(),
//!   "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/aaaaaaaa-0000-4000-8000-000000000001?api-version=2022-04-01");
//! ```

use crate::api_versions;
use crate::inventory::RoleAssignmentRow;
use crate::inventory::queries::is_guid;
use crate::plan::{Outcome, Plan, Warning, WarningCode};
use crate::request::{ArmRequest, Method};
use crate::resource_id::same_id;
use serde::{Deserialize, Serialize};

const SEGMENT: &str = "/providers/Microsoft.Authorization/roleAssignments/";

/// One role assignment to delete after the identity change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentDeletion {
    /// `{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}`.
    pub id: String,
    /// The principal holding it (a GUID, lower case).
    pub principal_id: String,
    /// `/subscriptions/…/providers/Microsoft.Authorization/roleDefinitions/{guid}`.
    pub role_definition_id: String,
    /// The role's name when known (`Reader`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    /// Where it applies.
    pub scope: String,
    /// Its ABAC condition, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

/// Splits a role assignment id into (scope, name); `None` unless it is `{scope}/providers/Microsoft.Authorization/
/// roleAssignments/{guid}` with a scope of plain path characters (no query, fragment, space, quote or control
/// character, no `.`/`..` segment).
///
/// ```
/// use identity_core::role_cleanup::split_assignment_id;
/// let (scope, name) = split_assignment_id("/subscriptions/s/resourceGroups/rg/providers/microsoft.authorization/roleassignments/AAAAAAAA-0000-4000-8000-000000000001").unwrap();
/// assert_eq!((scope, name), ("/subscriptions/s/resourceGroups/rg", "AAAAAAAA-0000-4000-8000-000000000001"));
/// assert!(split_assignment_id("/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/x?y").is_none());
/// ```
pub fn split_assignment_id(id: &str) -> Option<(&str, &str)> {
    let lower = id.to_ascii_lowercase();
    let at = lower.rfind(&SEGMENT.to_ascii_lowercase())?;
    let (scope, name) = (&id[..at], &id[at + SEGMENT.len()..]);
    let plain = |s: &str| {
        !s.chars().any(|c| {
            c.is_control() || c.is_whitespace() || matches!(c, '?' | '#' | '\'' | '"' | '\\' | '%')
        }) && !s.split('/').any(|seg| seg == "." || seg == "..")
    };
    (is_guid(name) && (scope.is_empty() || scope.starts_with('/')) && plain(scope))
        .then_some((scope, name))
}

impl RoleAssignmentDeletion {
    /// Checked: the id must be a role assignment id ([`split_assignment_id`]) whose scope is `scope`, and the
    /// principal a GUID.
    pub fn new(
        id: &str,
        principal_id: &str,
        role_definition_id: &str,
        role_name: Option<String>,
        scope: &str,
        condition: Option<String>,
    ) -> Result<Self, String> {
        let (id_scope, _) = split_assignment_id(id).ok_or_else(|| {
            format!("{id:?} is not a role assignment id ({{scope}}{SEGMENT}{{guid}})")
        })?;
        if !is_guid(principal_id) {
            return Err(format!("{principal_id:?} is not a principal id (a GUID)"));
        }
        if !is_guid(role_definition_id.rsplit('/').next().unwrap_or_default()) {
            return Err(format!(
                "{role_definition_id:?} is not a role definition id (…/roleDefinitions/{{guid}})"
            ));
        }
        if !scope.is_empty() && !same_id(id_scope, scope.trim_end_matches('/')) {
            return Err(format!(
                "the role assignment {id:?} is not at its scope {scope:?}"
            ));
        }
        Ok(RoleAssignmentDeletion {
            id: id.to_string(),
            principal_id: principal_id.to_ascii_lowercase(),
            role_definition_id: role_definition_id.to_string(),
            role_name,
            scope: id_scope.to_string(),
            condition,
        })
    }

    /// From an inventory / Resource Graph row.
    pub fn from_row(row: &RoleAssignmentRow) -> Result<Self, String> {
        Self::new(
            &row.id,
            &row.principal_id,
            &row.role_definition_id,
            row.role_name.clone(),
            &row.scope,
            row.condition.clone(),
        )
    }

    /// The assignment's name (its GUID).
    pub fn name(&self) -> &str {
        self.id.rsplit('/').next().unwrap_or_default()
    }

    /// The role's GUID (last segment of the role definition id).
    pub fn role_guid(&self) -> &str {
        self.role_definition_id
            .rsplit('/')
            .next()
            .unwrap_or_default()
    }

    /// The role as shown: its name, else its GUID.
    pub fn role_label(&self) -> String {
        self.role_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| self.role_guid().to_string())
    }

    /// `DELETE {id}?api-version=2022-04-01`.
    pub fn request(&self) -> ArmRequest {
        ArmRequest::new(Method::Delete, &self.id, api_versions::AUTHORIZATION)
    }
}

/// Whose principal a plan takes away from the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemovedPrincipal {
    /// The system-assigned identity's principal (deleted with it).
    SystemAssigned { principal_id: String },
    /// A user-assigned identity detached from this resource (its principal stays; its assignments are orphans
    /// only when no other resource uses it).
    UserAssigned {
        identity_id: String,
        principal_id: Option<String>,
    },
}

impl RemovedPrincipal {
    /// Its principal id, when known.
    pub fn principal_id(&self) -> Option<&str> {
        match self {
            RemovedPrincipal::SystemAssigned { principal_id } => Some(principal_id),
            RemovedPrincipal::UserAssigned { principal_id, .. } => principal_id.as_deref(),
        }
    }
}

/// The principals `plan` takes away: the system-assigned one when it is removed (and its principal id known),
/// and every user-assigned identity removed (with its principal id as the resource reported it). None for a
/// no-op or a refusal.
pub fn removed_principals(plan: &Plan) -> Vec<RemovedPrincipal> {
    if !matches!(plan.outcome, Outcome::Requests(_)) {
        return vec![];
    }
    let mut out = vec![];
    if plan.before.system_assigned
        && !plan.after.system_assigned
        && let Some(p) = plan.before.principal_id.as_ref().filter(|p| is_guid(p))
    {
        out.push(RemovedPrincipal::SystemAssigned {
            principal_id: p.to_ascii_lowercase(),
        });
    }
    for u in &plan.before.user_assigned {
        if !plan.after.has_user_assigned(&u.id) {
            out.push(RemovedPrincipal::UserAssigned {
                identity_id: u.id.clone(),
                principal_id: u
                    .principal_id
                    .as_ref()
                    .filter(|p| is_guid(p))
                    .map(|p| p.to_ascii_lowercase()),
            });
        }
    }
    out
}

impl Plan {
    /// This plan, deleting `deletions` after its identity change: only those whose principal the plan takes away
    /// ([`removed_principals`]) are kept (each once, by id); the rest are left out and named in a warning. A no-op
    /// or a refusal carries none. The caller decides whether a user-assigned principal is an orphan (no other
    /// resource uses it): identity-core cannot see the tenant.
    pub fn with_role_assignment_deletions(mut self, deletions: &[RoleAssignmentDeletion]) -> Plan {
        self.role_assignment_deletions.clear();
        self.warnings
            .retain(|w| w.code != WarningCode::RoleAssignmentDeletions);
        let removed = removed_principals(&self);
        let mut skipped = vec![];
        for d in deletions {
            let applies = removed.iter().any(|r| {
                r.principal_id()
                    .is_some_and(|p| p.eq_ignore_ascii_case(&d.principal_id))
            });
            if !applies {
                skipped.push(d);
            } else if !self
                .role_assignment_deletions
                .iter()
                .any(|x| same_id(&x.id, &d.id))
            {
                self.role_assignment_deletions.push(d.clone());
            }
        }
        let n = self.role_assignment_deletions.len();
        if n > 0 {
            self.warnings.push(Warning::new(
                WarningCode::RoleAssignmentDeletions,
                format!(
                    "After the identity change succeeds, {n} role assignment{} of the removed principal {} deleted, each by its id (DELETE …/roleAssignments/{{id}}); a failed deletion leaves that assignment in place and does not undo the identity change.",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "is" } else { "are" }
                ),
            ));
        }
        if !skipped.is_empty() && matches!(self.outcome, Outcome::Requests(_)) {
            let names: Vec<&str> = skipped.iter().map(|d| d.name()).collect();
            self.warnings.push(Warning::new(
                WarningCode::RoleAssignmentDeletions,
                format!(
                    "Not deleted (their principal stays in use with this change): {}.",
                    names.join(", ")
                ),
            ));
        }
        self
    }

    /// Every request in order: the identity change ([`Plan::requests`]), then the role assignment deletions.
    pub fn all_requests(&self) -> Vec<ArmRequest> {
        let mut v = self.requests().to_vec();
        if !v.is_empty() {
            v.extend(self.role_assignment_deletions.iter().map(|d| d.request()));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::Operation;
    use crate::plan::plan;
    use crate::resource::ResourceState;
    use serde_json::json;

    const SA: &str = "11111111-2222-4333-8444-555555555555";
    const UA_P: &str = "22222222-2222-4333-8444-555555555555";
    const UA: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";
    const ROLE: &str = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7";

    fn del(n: u32, principal: &str) -> RoleAssignmentDeletion {
        RoleAssignmentDeletion::new(
            &format!("/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/aaaaaaaa-0000-4000-8000-{n:012}"),
            principal,
            ROLE,
            Some("Reader".into()),
            "/subscriptions/s",
            None,
        )
        .unwrap()
    }

    fn state() -> ResourceState {
        ResourceState::from_arm(
            &json!({"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/v",
                "etag": "\"1\"", "identity": {"type": "SystemAssigned, UserAssigned", "principalId": SA,
                "userAssignedIdentities": {UA: {"principalId": UA_P, "clientId": "c"}}}}),
            None,
        )
        .unwrap()
    }

    #[test]
    fn only_the_removed_principals_assignments_are_kept_and_the_patch_is_unchanged() {
        let st = state();
        let bare = plan(&st, &Operation::RemoveSystemAssigned);
        let p = bare.clone().with_role_assignment_deletions(&[
            del(1, SA),
            del(2, UA_P),
            del(1, &SA.to_uppercase()),
        ]);
        assert_eq!(
            p.requests(),
            bare.requests(),
            "the identity PATCH is unchanged"
        );
        assert_eq!(p.role_assignment_deletions, vec![del(1, SA)]);
        assert!(p.warnings.iter().any(|w| w.message.contains("Not deleted")
            && w.message.contains("aaaaaaaa-0000-4000-8000-000000000002")));
        let all = p.all_requests();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].method, Method::Delete);
        // removing the user-assigned one: its principal's assignments apply, the system one's do not
        let p = plan(
            &st,
            &Operation::RemoveUserAssigned {
                ids: vec![UA.into()],
            },
        )
        .with_role_assignment_deletions(&[del(1, SA), del(2, UA_P)]);
        assert_eq!(p.role_assignment_deletions, vec![del(2, UA_P)]);
        // remove all: both
        let p = plan(&st, &Operation::RemoveAll)
            .with_role_assignment_deletions(&[del(1, SA), del(2, UA_P)]);
        assert_eq!(p.role_assignment_deletions.len(), 2);
        // a change that removes nothing carries none
        let p = plan(
            &st,
            &Operation::RemoveLegacyExtension {
                upgrade_instances: true,
            },
        )
        .with_role_assignment_deletions(&[del(1, SA)]);
        assert!(p.role_assignment_deletions.is_empty());
        // a no-op carries none and sends none
        let none = ResourceState::from_arm(
            &json!({"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"}),
            None,
        )
        .unwrap();
        let p = plan(&none, &Operation::RemoveSystemAssigned)
            .with_role_assignment_deletions(&[del(1, SA)]);
        assert!(p.role_assignment_deletions.is_empty() && p.all_requests().is_empty());
    }

    #[test]
    fn applying_twice_replaces_not_accumulates() {
        let p = plan(&state(), &Operation::RemoveSystemAssigned)
            .with_role_assignment_deletions(&[del(1, SA), del(3, SA)])
            .with_role_assignment_deletions(&[del(3, SA)]);
        assert_eq!(p.role_assignment_deletions, vec![del(3, SA)]);
        assert_eq!(
            p.warnings
                .iter()
                .filter(|w| w.code == WarningCode::RoleAssignmentDeletions)
                .count(),
            1
        );
    }

    #[test]
    fn ids_and_principals_are_checked() {
        let ok = "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/aaaaaaaa-0000-4000-8000-000000000001";
        for bad in [
            "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/nope",
            "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/aaaaaaaa-0000-4000-8000-000000000001",
            "/subscriptions/s/../x/providers/Microsoft.Authorization/roleAssignments/aaaaaaaa-0000-4000-8000-000000000001",
            "/subscriptions/s x/providers/Microsoft.Authorization/roleAssignments/aaaaaaaa-0000-4000-8000-000000000001",
            "subscriptions/s/providers/Microsoft.Authorization/roleAssignments/aaaaaaaa-0000-4000-8000-000000000001",
        ] {
            assert!(
                RoleAssignmentDeletion::new(bad, SA, ROLE, None, "", None).is_err(),
                "{bad}"
            );
        }
        assert!(RoleAssignmentDeletion::new(ok, "not-a-guid", ROLE, None, "", None).is_err());
        assert!(RoleAssignmentDeletion::new(ok, SA, "/x/Reader", None, "", None).is_err());
        assert!(
            RoleAssignmentDeletion::new(ok, SA, ROLE, None, "/subscriptions/other", None).is_err()
        );
        let d = RoleAssignmentDeletion::new(ok, SA, ROLE, None, "/subscriptions/S/", None).unwrap();
        assert_eq!(d.scope, "/subscriptions/s");
        assert_eq!(d.name(), "aaaaaaaa-0000-4000-8000-000000000001");
        assert_eq!(d.role_label(), "acdd72a7-3385-48ef-bd42-f606fba81ae7");
    }
}
