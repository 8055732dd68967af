//! The identity model of a scale set / VM and ARM's merge rule for PATCH (and replace rule for PUT).
//!
//! Written from ../shared/arm/CONTRACT.md (§1.2, §1.4, §1.6, §5) and the recordings, independently of identity-core.
//! Rules:
//! - `type` is parsed ignoring case and spaces (`"SystemAssigned,UserAssigned"` is accepted, the answer always
//!   spells `"SystemAssigned, UserAssigned"`), and it is applied **as sent**: `SystemAssigned` drops every
//!   user-assigned identity, `UserAssigned` drops the system-assigned one, `None` drops everything (recorded / doc).
//! - In `userAssignedIdentities`, `null` removes a key, `{}` keeps it (with its principal/client ids) or adds it
//!   (recorded). Keys compare case-insensitively; a kept key keeps the casing stored on the resource.
//! - `UserAssigned` with no user-assigned identity left → 400 (message from microsoft/CromwellOnAzure PR #765).
//! - `SystemAssigned` on a Flexible scale set → 400 `InvalidParameter`, target `identity` (azure-cli #27871).
//! - A system-assigned identity that stays keeps its principalId; a new one gets a fresh principalId at once.
//! - A user-assigned entry added by the request has no ids until its operation completes (recorded: `{}`).

use crate::error::{ArmError, invalid_parameter};
use serde_json::{Map, Value, json};

/// Principal and tenant of a system-assigned identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemIds {
    /// `identity.principalId`.
    pub principal_id: String,
    /// `identity.tenantId`.
    pub tenant_id: String,
}

/// Principal and client id of a user-assigned identity as attached to a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIds {
    /// `principalId`.
    pub principal_id: String,
    /// `clientId`.
    pub client_id: String,
}

/// The identities of one scale set or VM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityState {
    /// The system-assigned identity, if enabled.
    pub system: Option<SystemIds>,
    /// User-assigned identities in insertion order: ARM id as stored, and its ids (`None` while an add is pending).
    pub user: Vec<(String, Option<UserIds>)>,
}

/// Which identity kinds a `type` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityType {
    /// Names `SystemAssigned`.
    pub system: bool,
    /// Names `UserAssigned`.
    pub user: bool,
}

impl IdentityType {
    /// Parses an ARM identity type ignoring case and whitespace; `None` if it is not one of the four values.
    ///
    /// ```
    /// use armsim::identity::IdentityType;
    /// let t = IdentityType::parse("systemassigned,UserAssigned").unwrap();
    /// assert!(t.system && t.user);
    /// assert_eq!(t.canonical(), "SystemAssigned, UserAssigned");
    /// assert!(IdentityType::parse("Both").is_none());
    /// ```
    pub fn parse(s: &str) -> Option<IdentityType> {
        let parts: Vec<String> = s
            .split(',')
            .map(|p| p.trim().to_ascii_lowercase())
            .collect();
        let mut t = IdentityType {
            system: false,
            user: false,
        };
        match parts.as_slice() {
            [one] if one == "none" => {}
            [one] if one == "systemassigned" => t.system = true,
            [one] if one == "userassigned" => t.user = true,
            [a, b]
                if (a == "systemassigned" && b == "userassigned")
                    || (a == "userassigned" && b == "systemassigned") =>
            {
                t.system = true;
                t.user = true;
            }
            _ => return None,
        }
        Some(t)
    }

    /// The spelling ARM answers with.
    pub fn canonical(&self) -> &'static str {
        match (self.system, self.user) {
            (true, true) => "SystemAssigned, UserAssigned",
            (true, false) => "SystemAssigned",
            (false, true) => "UserAssigned",
            (false, false) => "None",
        }
    }
}

impl IdentityState {
    /// Reads the `identity` value of a resource body (a missing or null value means no identity).
    pub fn from_json(v: Option<&Value>) -> IdentityState {
        let mut st = IdentityState::default();
        let Some(Value::Object(o)) = v else { return st };
        let t = o
            .get("type")
            .and_then(Value::as_str)
            .and_then(IdentityType::parse);
        let t = t.unwrap_or(IdentityType {
            system: false,
            user: false,
        });
        if t.system {
            st.system = Some(SystemIds {
                principal_id: str_of(o.get("principalId")),
                tenant_id: str_of(o.get("tenantId")),
            });
        }
        if t.user
            && let Some(Value::Object(m)) = o.get("userAssignedIdentities")
        {
            {
                for (k, v) in m {
                    let ids = match (v.get("principalId"), v.get("clientId")) {
                        (Some(Value::String(p)), Some(Value::String(c))) => Some(UserIds {
                            principal_id: p.clone(),
                            client_id: c.clone(),
                        }),
                        _ => None,
                    };
                    st.user.push((k.clone(), ids));
                }
            }
        }
        st
    }

    /// The `identity` value ARM returns, or `None` when there is no identity (ARM then omits the key).
    pub fn to_json(&self) -> Option<Value> {
        let t = self.identity_type();
        if !t.system && !t.user {
            return None;
        }
        let mut o = Map::new();
        o.insert("type".into(), json!(t.canonical()));
        if let Some(s) = &self.system {
            o.insert("principalId".into(), json!(s.principal_id));
            o.insert("tenantId".into(), json!(s.tenant_id));
        }
        if t.user {
            let mut m = Map::new();
            for (id, ids) in &self.user {
                let v = match ids {
                    Some(u) => json!({"principalId": u.principal_id, "clientId": u.client_id}),
                    None => json!({}),
                };
                m.insert(id.clone(), v);
            }
            o.insert("userAssignedIdentities".into(), Value::Object(m));
        }
        Some(Value::Object(o))
    }

    /// The type this state has.
    pub fn identity_type(&self) -> IdentityType {
        IdentityType {
            system: self.system.is_some(),
            user: !self.user.is_empty(),
        }
    }

    /// Index of a user-assigned id, compared ignoring case.
    pub fn find_user(&self, id: &str) -> Option<usize> {
        self.user
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(id))
    }
}

fn str_of(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}

/// What a merge produced: the new state and the user-assigned ids that the request added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeOutcome {
    /// The identities after the request.
    pub state: IdentityState,
    /// User-assigned ids that were not on the resource before (the caller checks that they exist).
    pub added: Vec<String>,
    /// True when a new system-assigned identity was created by this request.
    pub system_created: bool,
}

/// How the request body's identity is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeMode {
    /// PATCH: the map is a delta (`null` removes, `{}` keeps/adds); an omitted map keeps the current entries.
    Patch,
    /// PUT: the body is the full desired state (the map lists every user-assigned identity to keep).
    Put,
}

/// Applies a request's `identity` value to the current identities.
///
/// `flexible` is true for a Flexible-orchestration scale set. `new_system` makes the ids of a new
/// system-assigned identity (called at most once).
///
/// ```
/// use armsim::identity::{merge_identity, IdentityState, MergeMode, SystemIds, UserIds};
/// use serde_json::json;
/// let ua1 = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";
/// let current = IdentityState {
///     system: Some(SystemIds { principal_id: "p".into(), tenant_id: "t".into() }),
///     user: vec![(ua1.into(), Some(UserIds { principal_id: "p1".into(), client_id: "c1".into() }))],
/// };
/// // type sent as SystemAssigned: ARM drops every user-assigned identity (recorded).
/// let out = merge_identity(&current, &json!({"type": "SystemAssigned"}), false, MergeMode::Patch,
///     &mut || unreachable!()).unwrap();
/// assert!(out.state.user.is_empty());
/// assert_eq!(out.state.system, current.system);
/// ```
pub fn merge_identity(
    current: &IdentityState,
    patch: &Value,
    flexible: bool,
    mode: MergeMode,
    new_system: &mut dyn FnMut() -> SystemIds,
) -> Result<MergeOutcome, ArmError> {
    let Value::Object(p) = patch else {
        // `"identity": null` (or a non-object): not recorded; the simulator leaves the identities unchanged.
        return Ok(MergeOutcome {
            state: current.clone(),
            added: vec![],
            system_created: false,
        });
    };
    let map = p.get("userAssignedIdentities");
    let t = match p.get("type") {
        Some(Value::String(s)) => IdentityType::parse(s).ok_or_else(|| {
            invalid_parameter(
                format!(
                    "The value '{s}' of parameter 'identity.type' is not allowed. Allowed values are: SystemAssigned, UserAssigned, SystemAssigned, UserAssigned, None."
                ),
                "identity.type",
            )
        })?,
        Some(Value::Null) | None => {
            // Not recorded: an identity without `type`. The simulator keeps the current system-assigned part and
            // lets the map decide the user-assigned part.
            let has_adds = matches!(map, Some(Value::Object(m)) if m.values().any(|v| !v.is_null()));
            IdentityType {
                system: current.system.is_some(),
                user: (mode == MergeMode::Patch && !current.user.is_empty()) || has_adds,
            }
        }
        Some(other) => {
            return Err(invalid_parameter(
                format!("The value '{other}' of parameter 'identity.type' is not allowed."),
                "identity.type",
            ));
        }
    };
    if flexible && t.system {
        return Err(invalid_parameter(
            format!(
                "The value '{}' of parameter 'identity' is not allowed. Allowed values are: UserAssigned, None.",
                t.canonical()
            ),
            "identity",
        ));
    }
    let mut user: Vec<(String, Option<UserIds>)> = Vec::new();
    let mut added = Vec::new();
    if t.user {
        if mode == MergeMode::Patch {
            user = current.user.clone();
        }
        match map {
            // An explicitly empty map next to a type naming UserAssigned. PUT: ARM's message says the ids "must not
            // be null or empty" (microsoft/CromwellOnAzure PR #765). PATCH: no change to the attached map (az
            // 2.91.0's `az vmss identity remove --identities [system]` sends exactly this to keep the others);
            // the result is checked below.
            Some(Value::Object(m)) if m.is_empty() && mode == MergeMode::Put => {
                return Err(empty_user_assigned());
            }
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let pos = user.iter().position(|(u, _)| u.eq_ignore_ascii_case(k));
                    match (v, pos) {
                        (Value::Null, Some(i)) => {
                            user.remove(i);
                        }
                        // Not recorded: removing an id that is not attached. az CLI refuses this locally; the
                        // simulator ignores it.
                        (Value::Null, None) => {}
                        (Value::Object(_), Some(_)) => {} // `{}` keeps (read-only ids sent back are ignored)
                        (Value::Object(_), None) => {
                            // PUT keeps the ids of an identity that was already attached
                            let prev = current.find_user(k).map(|i| current.user[i].clone());
                            match prev {
                                Some((stored, ids)) => user.push((stored, ids)),
                                None => {
                                    added.push(k.clone());
                                    user.push((k.clone(), None));
                                }
                            }
                        }
                        (other, _) => {
                            return Err(invalid_parameter(
                                format!(
                                    "The value '{other}' for the user assigned identity '{k}' is not valid."
                                ),
                                "identity.userAssignedIdentities",
                            ));
                        }
                    }
                }
            }
            // `"userAssignedIdentities": null` with a type naming UserAssigned. PUT: the map is cleared. PATCH: no
            // change to the attached map, as with `{}` (az 2.91.0's `az vm identity remove --identities [system]`
            // sends null to keep the others).
            Some(Value::Null) if mode == MergeMode::Put => user.clear(),
            Some(Value::Null) => {}
            None => {}
            Some(_) => {
                return Err(invalid_parameter(
                    "The value of parameter 'identity.userAssignedIdentities' is not valid.",
                    "identity.userAssignedIdentities",
                ));
            }
        }
        if user.is_empty() {
            return Err(empty_user_assigned());
        }
    } else if let Some(Value::Object(m)) = map {
        // Not recorded for the dictionary era: user-assigned entries to add next to a type without UserAssigned.
        // Modelled on the recorded legacy error (azure-powershell #5999). Removals (null) are accepted.
        if m.values().any(|v| !v.is_null()) {
            return Err(invalid_parameter(
                format!(
                    "ResourceIdentity userAssignedIdentities should not be provided if the type is \"{}\".",
                    t.canonical()
                ),
                "identity.userAssignedIdentities",
            ));
        }
    }
    let mut system_created = false;
    let system = if t.system {
        match &current.system {
            Some(s) => Some(s.clone()),
            None => {
                system_created = true;
                Some(new_system())
            }
        }
    } else {
        None
    };
    Ok(MergeOutcome {
        state: IdentityState { system, user },
        added,
        system_created,
    })
}

/// Message from microsoft/CromwellOnAzure PR #765's title; the error code is not recorded (`InvalidParameter` assumed).
fn empty_user_assigned() -> ArmError {
    invalid_parameter(
        "The identity ids must not be null or empty for 'UserAssigned' identity type.",
        "identity",
    )
}
