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
    /// `null` is treated like a missing key. A body whose parts disagree (see
    /// [`IdentityState::read_arm`]) is an error saying what disagrees: guessing would risk
    /// dropping an identity.
    pub fn from_arm(identity: Option<&Value>) -> Result<IdentityState, String> {
        let r = IdentityState::read_arm(identity)?;
        match r.conflict {
            None => Ok(r.state),
            Some(c) => Err(c),
        }
    }

    /// Read the `identity` value of an ARM GET body, keeping every identity it mentions.
    ///
    /// ARM's `type` and `userAssignedIdentities` must agree. When they do not — a type that
    /// names `UserAssigned` with a missing, `null` or empty map, a map holding `null` values or
    /// the same id twice, map entries next to a type without `UserAssigned` (`None`,
    /// `SystemAssigned`, no type), a `principalId` next to a type without `SystemAssigned`, an
    /// unknown type word — the reading's `conflict` says what disagrees and what to do, and
    /// `state` holds the union of what either part mentions (so nothing mentioned is lost). A
    /// planner must refuse to change such a state. `Err` only when `identity` is not an object.
    ///
    /// ```
    /// use identity_core::identity::IdentityState;
    /// let r = IdentityState::read_arm(Some(&serde_json::json!({"type": "UserAssigned"}))).unwrap();
    /// assert!(r.conflict.unwrap().contains("userAssignedIdentities"));
    /// let r = IdentityState::read_arm(Some(&serde_json::json!({"type": "SystemAssigned",
    ///     "userAssignedIdentities": {"/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a": {}}}))).unwrap();
    /// assert!(r.conflict.is_some());
    /// assert!(r.state.system_assigned && r.state.user_assigned.len() == 1); // both kept
    /// ```
    pub fn read_arm(identity: Option<&Value>) -> Result<IdentityReading, String> {
        let v = match identity {
            None | Some(Value::Null) => return Ok(IdentityReading::default()),
            Some(v) => v,
        };
        let obj = v
            .as_object()
            .ok_or_else(|| "identity is not an object".to_string())?;
        let str_of = |o: &serde_json::Map<String, Value>, k: &str| {
            o.get(k).and_then(Value::as_str).map(str::to_string)
        };
        let mut problems: Vec<String> = Vec::new();
        // the type: None when absent or null
        let ty: Option<IdentityType> = match obj.get("type") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match IdentityType::parse(s) {
                Ok(t) => Some(t),
                Err(e) => {
                    problems.push(format!(
                        "{e} (expected None, SystemAssigned, UserAssigned or \"SystemAssigned, UserAssigned\")"
                    ));
                    None
                }
            },
            Some(other) => {
                problems.push(format!(
                    "identity.type is not a string ({})",
                    json_kind(other)
                ));
                None
            }
        };
        let type_known = problems.is_empty();
        let type_text = match obj.get("type") {
            Some(Value::String(s)) => format!("{s:?}"),
            _ => "(missing)".to_string(),
        };
        // the map: every key counts as mentioned, whatever its value
        let mut user_assigned: Vec<UserAssignedIdentity> = Vec::new();
        let mut null_ids: Vec<String> = Vec::new();
        let mut twice: Vec<String> = Vec::new();
        let map_present = match obj.get("userAssignedIdentities") {
            None | Some(Value::Null) => false,
            Some(Value::Object(map)) => {
                for (id, val) in map {
                    if val.is_null() {
                        null_ids.push(id.clone());
                    }
                    if user_assigned.iter().any(|u| same_id(&u.id, id)) {
                        twice.push(id.clone());
                        continue;
                    }
                    let inner = val.as_object();
                    user_assigned.push(UserAssignedIdentity {
                        id: id.clone(),
                        principal_id: inner.and_then(|o| str_of(o, "principalId")),
                        client_id: inner.and_then(|o| str_of(o, "clientId")),
                    });
                }
                true
            }
            Some(other) => {
                problems.push(format!(
                    "identity.userAssignedIdentities is not an object ({})",
                    json_kind(other)
                ));
                true
            }
        };
        let principal_id = str_of(obj, "principalId");
        let names_user = ty.is_some_and(IdentityType::has_user);
        let names_system = ty.is_some_and(IdentityType::has_system);
        if names_user && user_assigned.is_empty() && !map_present {
            problems.push(format!(
                "identity.type {type_text} names UserAssigned, but userAssignedIdentities is missing or null, so the identities it refers to are unknown"
            ));
        } else if names_user && user_assigned.is_empty() && problems.is_empty() {
            problems.push(format!(
                "identity.type {type_text} names UserAssigned, but userAssignedIdentities is empty"
            ));
        }
        if !null_ids.is_empty() {
            problems.push(format!(
                "userAssignedIdentities holds null for {} (a GET lists each assigned identity with an object)",
                quote_list(&null_ids)
            ));
        }
        if !twice.is_empty() {
            problems.push(format!(
                "userAssignedIdentities lists {} twice (ids differing only in case are the same identity)",
                quote_list(&twice)
            ));
        }
        if type_known && !names_user && !user_assigned.is_empty() {
            let ids: Vec<String> = user_assigned.iter().map(|u| u.id.clone()).collect();
            problems.push(format!(
                "identity.type {type_text} does not name UserAssigned, but userAssignedIdentities lists {}",
                quote_list(&ids)
            ));
        }
        if type_known && !names_system && principal_id.is_some() {
            problems.push(format!(
                "identity.type {type_text} does not name SystemAssigned, but a system-assigned principalId is present"
            ));
        }
        let system = names_system || principal_id.is_some();
        let conflict = (!problems.is_empty()).then(|| {
            format!(
                "The identity in the resource's GET is inconsistent: {}. Nothing is planned from it, because a change computed from a guess could drop an identity. Read the resource again (it may have been caught mid-update); if it stays like this, check and fix its identities in the Azure portal (the resource's Identity page) or with az vmss|vm identity show.",
                problems.join("; ")
            )
        });
        Ok(IdentityReading {
            state: IdentityState {
                system_assigned: system,
                principal_id: if system { principal_id } else { None },
                tenant_id: if system {
                    str_of(obj, "tenantId")
                } else {
                    None
                },
                user_assigned,
            },
            conflict,
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

/// What [`IdentityState::read_arm`] read: every identity mentioned, and whether the parts disagree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityReading {
    /// The identities mentioned by the type or the map (their union when they disagree).
    pub state: IdentityState,
    /// Why the body contradicts itself and what to do (`None`: consistent).
    pub conflict: Option<String>,
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn quote_list(ids: &[String]) -> String {
    ids.iter()
        .map(|i| format!("{i:?}"))
        .collect::<Vec<_>>()
        .join(", ")
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
    fn disagreeing_type_and_map_are_conflicts_that_keep_every_mentioned_identity() {
        let read = |v: Value| IdentityState::read_arm(Some(&v)).unwrap();
        // map entries next to a type without UserAssigned: both kept, conflict named
        let r = read(json!({"type": "SystemAssigned", "principalId": "p",
            "userAssignedIdentities": {"/x": {}}}));
        assert!(r.state.system_assigned && r.state.has_user_assigned("/X"));
        assert_eq!(r.state.principal_id.as_deref(), Some("p"));
        let c = r.conflict.unwrap();
        assert!(
            c.contains("does not name UserAssigned") && c.contains("\"/x\""),
            "{c}"
        );
        assert!(
            c.contains("Read the resource again") && c.contains("portal"),
            "{c}"
        );
        // type naming UserAssigned with the map missing, null, empty or null-valued
        for ident in [
            json!({"type": "UserAssigned"}),
            json!({"type": "userassigned", "userAssignedIdentities": null}),
            json!({"type": "SystemAssigned, UserAssigned", "principalId": "p", "userAssignedIdentities": {}}),
            json!({"type": "UserAssigned", "userAssignedIdentities": {"/a": null}}),
            json!({"type": "UserAssigned", "userAssignedIdentities": {"/a": {}, "/b": null}}),
            json!({"type": "UserAssigned", "userAssignedIdentities": {"/a": {}, "/A": {}}}),
            json!({"type": "UserAssigned", "userAssignedIdentities": "x"}),
            json!({"type": "None", "userAssignedIdentities": {"/a": {}}}),
            json!({"userAssignedIdentities": {"/a": {}}}),
            json!({"type": null, "principalId": "p"}),
            json!({"type": "UserAssigned", "principalId": "p", "userAssignedIdentities": {"/a": {}}}),
            json!({"type": "Foo", "userAssignedIdentities": {"/a": {}}}),
            json!({"type": "None, SystemAssigned"}),
            json!({"type": 3}),
        ] {
            let r = read(ident.clone());
            assert!(r.conflict.is_some(), "{ident}");
            assert!(IdentityState::from_arm(Some(&ident)).is_err(), "{ident}");
            if let Some(m) = ident["userAssignedIdentities"].as_object() {
                for k in m.keys() {
                    assert!(r.state.has_user_assigned(k), "{ident}");
                }
            }
        }
        // consistent forms, including the CLI's PATCH-like spellings
        for (ident, sys, n) in [
            (json!({"type": "None"}), false, 0),
            (
                json!({"type": "None", "userAssignedIdentities": null}),
                false,
                0,
            ),
            (
                json!({"type": "SystemAssigned", "userAssignedIdentities": {}}),
                true,
                0,
            ),
            (
                json!({"type": "UserAssigned", "principalId": null, "userAssignedIdentities": {"/a": {}}, "extra": 1}),
                false,
                1,
            ),
            (json!({}), false, 0),
        ] {
            let s = IdentityState::from_arm(Some(&ident)).unwrap();
            assert_eq!(
                (s.system_assigned, s.user_assigned.len()),
                (sys, n),
                "{ident}"
            );
        }
        assert!(IdentityState::from_arm(Some(&json!("x"))).is_err());
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
