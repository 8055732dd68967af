//! The identity model: which identities a scale set or VM has.

use crate::resource_id::same_id;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// ARM's `identity.type`. Parsed ignoring case and spaces; written as ARM returns it.
///
/// ```
/// use identity_core::identity::IdentityType;
/// let t = IdentityType::parse("systemassigned,userAssigned").unwrap();
/// assert_eq!(t, IdentityType::SystemAssignedUserAssigned);
/// assert_eq!(t.arm_str(), "SystemAssigned, UserAssigned");
/// assert_eq!(t.ps_enum(), "SystemAssignedUserAssigned");
/// assert_eq!(IdentityType::from_parts(false, true), IdentityType::UserAssigned);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdentityType {
    None,
    SystemAssigned,
    UserAssigned,
    #[serde(rename = "SystemAssigned, UserAssigned")]
    SystemAssignedUserAssigned,
}

impl IdentityType {
    /// Build from "has a system-assigned identity" and "has at least one user-assigned identity".
    pub fn from_parts(system: bool, user: bool) -> IdentityType {
        match (system, user) {
            (false, false) => IdentityType::None,
            (true, false) => IdentityType::SystemAssigned,
            (false, true) => IdentityType::UserAssigned,
            (true, true) => IdentityType::SystemAssignedUserAssigned,
        }
    }

    /// Parse ARM's string: parts split on `,`, trimmed, compared ignoring case
    /// (`"SystemAssigned,UserAssigned"`, `"userAssigned"`, `"None"`, ...).
    pub fn parse(s: &str) -> Result<IdentityType, String> {
        let mut system = false;
        let mut user = false;
        let mut none = false;
        for part in s.split(',') {
            let p: String = part.chars().filter(|c| !c.is_whitespace()).collect();
            if p.eq_ignore_ascii_case("SystemAssigned") {
                system = true;
            } else if p.eq_ignore_ascii_case("UserAssigned") {
                user = true;
            } else if p.eq_ignore_ascii_case("None") {
                none = true;
            } else if p.eq_ignore_ascii_case("SystemAssignedUserAssigned") {
                system = true;
                user = true;
            } else {
                return Err(format!("unknown identity type {s:?}"));
            }
        }
        if none && (system || user) {
            return Err(format!(
                "identity type {s:?} combines None with another type"
            ));
        }
        Ok(IdentityType::from_parts(system, user))
    }

    /// The string ARM returns and this tool sends (`"SystemAssigned, UserAssigned"`).
    pub fn arm_str(self) -> &'static str {
        match self {
            IdentityType::None => "None",
            IdentityType::SystemAssigned => "SystemAssigned",
            IdentityType::UserAssigned => "UserAssigned",
            IdentityType::SystemAssignedUserAssigned => "SystemAssigned, UserAssigned",
        }
    }

    /// The value Az PowerShell's `-IdentityType` takes (`SystemAssignedUserAssigned`).
    pub fn ps_enum(self) -> &'static str {
        match self {
            IdentityType::SystemAssignedUserAssigned => "SystemAssignedUserAssigned",
            other => other.arm_str(),
        }
    }

    /// Whether the type includes the system-assigned identity.
    pub fn has_system(self) -> bool {
        matches!(
            self,
            IdentityType::SystemAssigned | IdentityType::SystemAssignedUserAssigned
        )
    }

    /// Whether the type includes user-assigned identities.
    pub fn has_user(self) -> bool {
        matches!(
            self,
            IdentityType::UserAssigned | IdentityType::SystemAssignedUserAssigned
        )
    }
}

impl fmt::Display for IdentityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.arm_str())
    }
}

/// One user-assigned identity attached to a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAssignedIdentity {
    /// The identity's resource id, exactly as the resource stores it (send it back like this).
    pub id: String,
    /// Read-only; absent right after assignment until the operation completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// Read-only; absent right after assignment until the operation completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl UserAssignedIdentity {
    /// An identity known only by id.
    pub fn new(id: impl Into<String>) -> Self {
        UserAssignedIdentity {
            id: id.into(),
            principal_id: None,
            client_id: None,
        }
    }

    /// The last segment of the id (the identity's name).
    pub fn name(&self) -> &str {
        self.id
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(&self.id)
    }
}

/// The identities of a resource.
///
/// ```
/// use identity_core::identity::{IdentityState, IdentityType};
/// let body = serde_json::json!({"type": "SystemAssigned, UserAssigned", "principalId": "p",
///     "userAssignedIdentities": {"/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a": {"clientId": "c"}}});
/// let s = IdentityState::from_arm(Some(&body)).unwrap();
/// assert!(s.system_assigned);
/// assert_eq!(s.identity_type(), IdentityType::SystemAssignedUserAssigned);
/// assert!(s.has_user_assigned("/SUBSCRIPTIONS/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/A"));
/// assert_eq!(IdentityState::from_arm(None).unwrap(), IdentityState::default());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityState {
    /// Whether the system-assigned identity is enabled.
    pub system_assigned: bool,
    /// The system-assigned identity's principal (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// The system-assigned identity's tenant (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The user-assigned identities (in the order of the parsed JSON map).
    #[serde(default)]
    pub user_assigned: Vec<UserAssignedIdentity>,
}

impl IdentityState {
    /// No identity at all.
    pub fn none() -> Self {
        IdentityState::default()
    }

    /// Parse the `identity` value of an ARM GET body (`None` = the key is missing = no identity).
    /// `null` is treated like a missing key. A type that names `UserAssigned` without a map, or a
    /// map next to a type without `UserAssigned`, is kept as ARM would read it: the type decides.
    pub fn from_arm(identity: Option<&Value>) -> Result<IdentityState, String> {
        let v = match identity {
            None | Some(Value::Null) => return Ok(IdentityState::default()),
            Some(v) => v,
        };
        let obj = v
            .as_object()
            .ok_or_else(|| "identity is not an object".to_string())?;
        let ty = match obj.get("type") {
            None | Some(Value::Null) => IdentityType::None,
            Some(Value::String(s)) => IdentityType::parse(s)?,
            Some(_) => return Err("identity.type is not a string".into()),
        };
        let str_of = |o: &serde_json::Map<String, Value>, k: &str| {
            o.get(k).and_then(Value::as_str).map(str::to_string)
        };
        let mut user_assigned = Vec::new();
        if ty.has_user() {
            match obj.get("userAssignedIdentities") {
                None | Some(Value::Null) => {}
                Some(Value::Object(map)) => {
                    for (id, val) in map {
                        if val.is_null() {
                            continue;
                        }
                        let inner = val.as_object();
                        user_assigned.push(UserAssignedIdentity {
                            id: id.clone(),
                            principal_id: inner.and_then(|o| str_of(o, "principalId")),
                            client_id: inner.and_then(|o| str_of(o, "clientId")),
                        });
                    }
                }
                Some(_) => return Err("identity.userAssignedIdentities is not an object".into()),
            }
        }
        Ok(IdentityState {
            system_assigned: ty.has_system(),
            principal_id: if ty.has_system() {
                str_of(obj, "principalId")
            } else {
                None
            },
            tenant_id: if ty.has_system() {
                str_of(obj, "tenantId")
            } else {
                None
            },
            user_assigned,
        })
    }

    /// The type this state corresponds to.
    pub fn identity_type(&self) -> IdentityType {
        IdentityType::from_parts(self.system_assigned, !self.user_assigned.is_empty())
    }

    /// The user-assigned identity with this id (compared ignoring case).
    pub fn find_user_assigned(&self, id: &str) -> Option<&UserAssignedIdentity> {
        self.user_assigned.iter().find(|u| same_id(&u.id, id))
    }

    /// Whether a user-assigned identity with this id (ignoring case) is attached.
    pub fn has_user_assigned(&self, id: &str) -> bool {
        self.find_user_assigned(id).is_some()
    }

    /// The user-assigned ids, as stored.
    pub fn user_assigned_ids(&self) -> Vec<&str> {
        self.user_assigned.iter().map(|u| u.id.as_str()).collect()
    }

    /// Whether two states hold the same identities (system-assigned flag and the set of
    /// user-assigned ids compared ignoring case and order; read-only ids ignored).
    pub fn same_identities(&self, other: &IdentityState) -> bool {
        self.system_assigned == other.system_assigned
            && self.user_assigned.len() == other.user_assigned.len()
            && self
                .user_assigned
                .iter()
                .all(|u| other.has_user_assigned(&u.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_parsing_ignores_case_and_spaces() {
        for (s, t) in [
            ("None", IdentityType::None),
            ("none", IdentityType::None),
            ("SystemAssigned", IdentityType::SystemAssigned),
            ("userAssigned", IdentityType::UserAssigned),
            (
                "SystemAssigned, UserAssigned",
                IdentityType::SystemAssignedUserAssigned,
            ),
            (
                "SystemAssigned,UserAssigned",
                IdentityType::SystemAssignedUserAssigned,
            ),
            (
                " userassigned ,  SYSTEMASSIGNED ",
                IdentityType::SystemAssignedUserAssigned,
            ),
            (
                "SystemAssignedUserAssigned",
                IdentityType::SystemAssignedUserAssigned,
            ),
        ] {
            assert_eq!(IdentityType::parse(s), Ok(t), "{s}");
        }
        for bad in ["", "System", "None, SystemAssigned", "Foo,UserAssigned"] {
            assert!(IdentityType::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn type_round_trips_through_its_strings() {
        for sys in [false, true] {
            for ua in [false, true] {
                let t = IdentityType::from_parts(sys, ua);
                assert_eq!(t.has_system(), sys);
                assert_eq!(t.has_user(), ua);
                assert_eq!(IdentityType::parse(t.arm_str()), Ok(t));
                assert_eq!(IdentityType::parse(t.ps_enum()), Ok(t));
                let j = serde_json::to_value(t).unwrap();
                assert_eq!(j, json!(t.arm_str()));
            }
        }
    }

    #[test]
    fn state_from_arm_keeps_ids_as_stored_and_readonly_values() {
        let s = IdentityState::from_arm(Some(&json!({
            "type": "UserAssigned",
            "userAssignedIdentities": {
                "/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/A": {"principalId": "p1", "clientId": "c1"},
                "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b": {}
            }
        })))
        .unwrap();
        assert!(!s.system_assigned);
        assert_eq!(s.user_assigned.len(), 2);
        let a = s.find_user_assigned("/subscriptions/S/resourceGroups/G/providers/microsoft.managedidentity/userassignedidentities/a").unwrap();
        assert!(a.id.contains("/resourcegroups/"));
        assert_eq!(a.principal_id.as_deref(), Some("p1"));
        assert_eq!(a.name(), "A");
        let b = s.find_user_assigned("/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/B").unwrap();
        assert_eq!((b.client_id.as_ref(), b.name()), (None, "b"));
    }

    #[test]
    fn the_type_decides() {
        // map but type without UserAssigned -> no UA
        let s =
            IdentityState::from_arm(Some(&json!({"type": "SystemAssigned", "principalId": "p",
            "userAssignedIdentities": {"/x": {}}})))
            .unwrap();
        assert!(s.system_assigned && s.user_assigned.is_empty());
        assert_eq!(s.principal_id.as_deref(), Some("p"));
        let n = IdentityState::from_arm(Some(&json!({"type": "None"}))).unwrap();
        assert_eq!(n, IdentityState::none());
        assert!(IdentityState::from_arm(Some(&json!("x"))).is_err());
        assert!(IdentityState::from_arm(Some(&json!({"type": 3}))).is_err());
    }

    #[test]
    fn same_identities_ignores_case_order_and_readonly_values() {
        let mut a = IdentityState {
            system_assigned: true,
            principal_id: Some("p".into()),
            tenant_id: None,
            user_assigned: vec![
                UserAssignedIdentity::new("/a"),
                UserAssignedIdentity::new("/b"),
            ],
        };
        let b = IdentityState {
            system_assigned: true,
            principal_id: None,
            tenant_id: None,
            user_assigned: vec![
                UserAssignedIdentity::new("/B"),
                UserAssignedIdentity::new("/A"),
            ],
        };
        assert!(a.same_identities(&b));
        a.system_assigned = false;
        assert!(!a.same_identities(&b));
    }
}
