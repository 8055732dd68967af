//! Plans: pure data saying what to send to ARM (or why nothing, or why not).
//!
//! Identity changes are a single `PATCH` of the resource with a body holding only `identity`:
//! kept user-assigned identities are re-sent as `{}`, removed ones as `null`, and `type` is derived
//! from what remains (`"SystemAssigned, UserAssigned"` when both). When no user-assigned identity
//! remains, no map is sent and the type no longer names `UserAssigned`. Read-only values
//! (`principalId`, `clientId`, `tenantId`) are never sent. The GET's `etag` becomes `If-Match`.

use crate::api_versions;
use crate::identity::{IdentityState, IdentityType, UserAssignedIdentity};
use crate::operation::Operation;
use crate::request::{ArmRequest, Method};
use crate::resource::{LEGACY_EXTENSION_RETIRED, ResourceState, UpgradeMode};
use crate::resource_id::{IdKind, ResourceId, same_id};
use crate::role_cleanup::RoleAssignmentDeletion;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// What a plan amounts to.
///
/// Serialises as `{"requests":[…]}`, `{"noop":"…"}` or `{"refused":"…"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Send these requests, in order.
    Requests(Vec<ArmRequest>),
    /// Nothing to do, and why.
    Noop(String),
    /// Not sent, because Azure would reject it or it is not offered; the reason.
    Refused(String),
}

/// Kinds of warnings, for code that wants to react to one (the message is for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WarningCode {
    /// The resource is managed by AKS, which may revert the change.
    AksManaged,
    /// Manual upgrade policy, and the change needs no instance upgrade (identity).
    ManualUpgradeNotNeeded,
    /// Manual upgrade policy, and the change needs an instance upgrade (extension removal).
    InstanceUpgrade,
    /// Changes take effect after 10–60 s.
    Latency,
    /// The GET had no etag: the request cannot be guarded with `If-Match`.
    NoEtag,
    /// Some of the identities to add were already there (they are kept, not sent twice).
    AlreadyAssigned,
    /// Some of the identities to remove were not there (nothing is sent for them).
    NotAssigned,
    /// The system-assigned principal's role assignments stop applying when it is removed.
    SystemPrincipalRoles,
    /// The retired managed-identity extension is installed.
    LegacyExtensionPresent,
    /// A new principal may not be visible to role assignments for a while (PrincipalNotFound).
    PrincipalReplication,
    /// A role assignment at a broad scope (a whole subscription).
    BroadScope,
    /// Role assignments of a removed principal are deleted after the change (or some offered were not).
    RoleAssignmentDeletions,
}

/// A warning a user should read before sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
}

impl Warning {
    /// A warning with its code and message.
    pub fn new(code: WarningCode, message: impl Into<String>) -> Self {
        Warning {
            code,
            message: message.into(),
        }
    }
}

/// A plan: the outcome, the warnings, and the identities before and after.
///
/// ```
/// use identity_core::{plan::{plan, Outcome}, operation::Operation, resource::ResourceState};
/// let body = serde_json::json!({
///   "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss1",
///   "etag": "\"7\"",
///   "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"}
/// });
/// let st = ResourceState::from_arm(&body, None).unwrap();
/// let ua = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";
/// let p = plan(&st, &Operation::AddUserAssigned { ids: vec![ua.into()] });
/// let Outcome::Requests(reqs) = &p.outcome else { panic!() };
/// assert_eq!(reqs[0].method.as_str(), "PATCH");
/// assert_eq!(reqs[0].header("If-Match"), Some("\"7\""));
/// assert_eq!(reqs[0].body, Some(serde_json::json!({"identity": {
///     "type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {ua: {}}}})));
/// assert!(p.after.system_assigned && p.after.has_user_assigned(ua));
///
/// // removing what is not there sends nothing
/// let p = plan(&st, &Operation::RemoveUserAssigned { ids: vec![ua.into()] });
/// assert!(matches!(p.outcome, Outcome::Noop(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub outcome: Outcome,
    pub warnings: Vec<Warning>,
    /// Identities before the change.
    pub before: IdentityState,
    /// Identities the change leads to (equal to `before` for no-ops and refusals).
    pub after: IdentityState,
    /// Role assignments of a principal this change takes away, deleted after it succeeded (removal without
    /// orphans; none unless [`Plan::with_role_assignment_deletions`] added them; see [`crate::role_cleanup`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_assignment_deletions: Vec<RoleAssignmentDeletion>,
}

impl Plan {
    fn noop(before: &IdentityState, reason: impl Into<String>, warnings: Vec<Warning>) -> Plan {
        Plan {
            outcome: Outcome::Noop(reason.into()),
            warnings,
            before: before.clone(),
            after: before.clone(),
            role_assignment_deletions: Vec::new(),
        }
    }

    fn refused(before: &IdentityState, reason: impl Into<String>) -> Plan {
        Plan {
            outcome: Outcome::Refused(reason.into()),
            warnings: Vec::new(),
            before: before.clone(),
            after: before.clone(),
            role_assignment_deletions: Vec::new(),
        }
    }

    /// The requests to send (empty for a no-op or a refusal).
    pub fn requests(&self) -> &[ArmRequest] {
        match &self.outcome {
            Outcome::Requests(r) => r,
            _ => &[],
        }
    }

    /// The no-op reason, if this plan sends nothing because nothing needs to change.
    pub fn noop_reason(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Noop(r) => Some(r),
            _ => None,
        }
    }

    /// The refusal reason, if this plan is refused.
    pub fn refusal(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// Whether a warning with this code is present.
    pub fn has_warning(&self, code: WarningCode) -> bool {
        self.warnings.iter().any(|w| w.code == code)
    }

    /// The JSON the `identity-plan` CLI prints: `{"requests":[{method,path,query,headers,body}]}`,
    /// `{"noop":"…"}` or `{"refused":"…"}`, plus `"warnings"`, `"before"` and `"after"`.
    /// Query and headers are objects (`{"api-version":"2024-11-01"}`).
    ///
    /// ```
    /// use identity_core::{plan::plan, operation::Operation, resource::ResourceState};
    /// let st = ResourceState::from_arm(&serde_json::json!({}),
    ///     Some("/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1")).unwrap();
    /// let out = plan(&st, &Operation::EnableSystemAssigned).to_cli_json();
    /// assert_eq!(out["requests"][0]["query"]["api-version"], identity_core::api_versions::COMPUTE);
    /// assert_eq!(out["requests"][0]["body"]["identity"]["type"], "SystemAssigned");
    /// ```
    pub fn to_cli_json(&self) -> Value {
        let mut out = Map::new();
        match &self.outcome {
            Outcome::Requests(reqs) => {
                let list: Vec<Value> = reqs.iter().map(request_json).collect();
                out.insert("requests".into(), Value::Array(list));
            }
            Outcome::Noop(r) => {
                out.insert("noop".into(), Value::String(r.clone()));
            }
            Outcome::Refused(r) => {
                out.insert("refused".into(), Value::String(r.clone()));
            }
        }
        if !self.role_assignment_deletions.is_empty() {
            let dels: Vec<Value> = self
                .role_assignment_deletions
                .iter()
                .map(|d| request_json(&d.request()))
                .collect();
            out.insert("roleAssignmentDeletions".into(), Value::Array(dels));
        }
        out.insert(
            "warnings".into(),
            serde_json::to_value(&self.warnings).unwrap_or(Value::Null),
        );
        out.insert(
            "before".into(),
            serde_json::to_value(&self.before).unwrap_or(Value::Null),
        );
        out.insert(
            "after".into(),
            serde_json::to_value(&self.after).unwrap_or(Value::Null),
        );
        Value::Object(out)
    }
}

/// One request as an object: `{"method","path","query":{…},"headers":{…},"body"}`.
pub fn request_json(r: &ArmRequest) -> Value {
    let obj = |pairs: &[(String, String)]| {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    };
    json!({
        "method": r.method.as_str(),
        "path": r.path,
        "query": obj(&r.query),
        "headers": obj(&r.headers),
        "body": r.body.clone().unwrap_or(Value::Null),
    })
}

/// The lossless `identity` PATCH body that turns `before` into `system_assigned` + `user_assigned`.
///
/// `user_assigned` lists the ids that must remain; ids already on the resource are sent with the
/// casing the resource holds (matched ignoring case), new ones as given. Ids in `before` that are
/// not kept are sent as `null` — only when at least one user-assigned identity remains; otherwise
/// the body has no map and the type drops `UserAssigned`.
///
/// ```
/// use identity_core::identity::{IdentityState, UserAssignedIdentity};
/// use identity_core::plan::identity_body;
/// let before = IdentityState { system_assigned: true, principal_id: None, tenant_id: None,
///     user_assigned: vec![UserAssignedIdentity::new("/A"), UserAssignedIdentity::new("/B")] };
/// assert_eq!(identity_body(&before, true, &["/b".to_string()]),
///     serde_json::json!({"identity": {"type": "SystemAssigned, UserAssigned",
///         "userAssignedIdentities": {"/A": null, "/B": {}}}}));
/// assert_eq!(identity_body(&before, false, &[]), serde_json::json!({"identity": {"type": "None"}}));
/// ```
pub fn identity_body(
    before: &IdentityState,
    system_assigned: bool,
    user_assigned: &[String],
) -> Value {
    let ty = IdentityType::from_parts(system_assigned, !user_assigned.is_empty());
    let mut identity = Map::new();
    identity.insert("type".into(), Value::String(ty.arm_str().into()));
    if !user_assigned.is_empty() {
        let mut map = Map::new();
        for id in user_assigned {
            let stored = before
                .find_user_assigned(id)
                .map(|u| u.id.clone())
                .unwrap_or_else(|| id.clone());
            map.insert(stored, json!({}));
        }
        for u in &before.user_assigned {
            if !user_assigned.iter().any(|k| same_id(k, &u.id)) {
                map.insert(u.id.clone(), Value::Null);
            }
        }
        identity.insert("userAssignedIdentities".into(), Value::Object(map));
    }
    json!({ "identity": identity })
}

/// The `identity` part of a create (PUT) body: only `{}` values, never nulls.
pub fn create_identity_value(system_assigned: bool, user_assigned: &[String]) -> Option<Value> {
    if !system_assigned && user_assigned.is_empty() {
        return None;
    }
    let body = identity_body(&IdentityState::none(), system_assigned, user_assigned);
    body.get("identity").cloned()
}

/// Check that every id is a user-assigned identity id; dedupe ignoring case (first spelling wins).
pub(crate) fn check_ua_ids(ids: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for raw in ids {
        let id = ResourceId::parse(raw).map_err(|e| {
            format!("{e}; a user-assigned identity id looks like /subscriptions/{{subscriptionId}}/resourceGroups/{{group}}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{{name}}")
        })?;
        if id.kind() != IdKind::UserAssignedIdentity {
            return Err(format!(
                "{raw:?} is not a user-assigned identity id (expected …/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{{name}})"
            ));
        }
        if !out.iter().any(|o| same_id(o, id.as_str())) {
            out.push(id.as_str().to_string());
        }
    }
    Ok(out)
}

fn names(ids: &[&str]) -> String {
    ids.iter()
        .map(|i| i.trim_end_matches('/').rsplit('/').next().unwrap_or(i))
        .collect::<Vec<_>>()
        .join(", ")
}

const LATENCY: &str = "Identity changes take effect after the operation completes, usually 10–60 s; a new identity's principalId/clientId appear only then (read the resource again before using them).";

/// Plan an operation on an existing scale set or VM.
///
/// See the module docs for the body rules; the [`Plan`] example shows a call.
pub fn plan(state: &ResourceState, op: &Operation) -> Plan {
    let before = &state.identity;
    let what = format!("{} {}", state.kind.describe(), state.id.name());
    let mut warnings = Vec::new();

    let (sa, ua): (bool, Vec<String>) = match op {
        Operation::InstallLegacyExtension => {
            return Plan::refused(before, LEGACY_EXTENSION_RETIRED);
        }
        Operation::RemoveLegacyExtension { upgrade_instances } => {
            // sends no identity: the extension's DELETE cannot drop one
            return plan_remove_extension(state, *upgrade_instances);
        }
        _ if state.identity_conflict.is_some() => {
            let why = state.identity_conflict.as_deref().unwrap_or_default();
            return Plan::refused(before, format!("Not planned on {what}: {why}"));
        }
        Operation::EnableSystemAssigned => {
            if before.system_assigned {
                let pid = before
                    .principal_id
                    .as_deref()
                    .map(|p| format!(" (principal {p})"))
                    .unwrap_or_default();
                return Plan::noop(
                    before,
                    format!(
                        "The system-assigned identity is already enabled on {what}{pid}; nothing to send."
                    ),
                    warnings,
                );
            }
            if !state.kind.supports_system_assigned() {
                return Plan::refused(before, flexible_refusal(&what));
            }
            (
                true,
                before
                    .user_assigned_ids()
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            )
        }
        Operation::RemoveSystemAssigned => {
            if !before.system_assigned {
                return Plan::noop(
                    before,
                    format!("{what} has no system-assigned identity; nothing to remove."),
                    warnings,
                );
            }
            (
                false,
                before
                    .user_assigned_ids()
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            )
        }
        Operation::AddUserAssigned { ids } => {
            let ids = match check_ua_ids(ids) {
                Ok(i) if i.is_empty() => {
                    return Plan::refused(before, "No user-assigned identity id was given to add.");
                }
                Ok(i) => i,
                Err(e) => return Plan::refused(before, e),
            };
            let (present, new): (Vec<&String>, Vec<&String>) =
                ids.iter().partition(|i| before.has_user_assigned(i));
            if !present.is_empty() {
                let p: Vec<&str> = present.iter().map(|s| s.as_str()).collect();
                if new.is_empty() {
                    return Plan::noop(
                        before,
                        format!(
                            "Already assigned to {what}: {}; nothing to send.",
                            names(&p)
                        ),
                        warnings,
                    );
                }
                warnings.push(Warning::new(
                    WarningCode::AlreadyAssigned,
                    format!("Already assigned, kept as they are: {}.", names(&p)),
                ));
            }
            let mut all: Vec<String> = before
                .user_assigned_ids()
                .iter()
                .map(|s| s.to_string())
                .collect();
            all.extend(new.into_iter().cloned());
            (before.system_assigned, all)
        }
        Operation::RemoveUserAssigned { ids } => {
            let ids = match check_ua_ids(ids) {
                Ok(i) if i.is_empty() => {
                    return Plan::refused(
                        before,
                        "No user-assigned identity id was given to remove.",
                    );
                }
                Ok(i) => i,
                Err(e) => return Plan::refused(before, e),
            };
            let (present, missing): (Vec<&String>, Vec<&String>) =
                ids.iter().partition(|i| before.has_user_assigned(i));
            let m: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            if present.is_empty() {
                return Plan::noop(
                    before,
                    format!("Not assigned to {what}: {}; nothing to remove.", names(&m)),
                    warnings,
                );
            }
            if !missing.is_empty() {
                warnings.push(Warning::new(
                    WarningCode::NotAssigned,
                    format!("Not assigned, so nothing is sent for them: {}.", names(&m)),
                ));
            }
            let keep = before
                .user_assigned
                .iter()
                .filter(|u| !present.iter().any(|p| same_id(p, &u.id)))
                .map(|u| u.id.clone())
                .collect();
            (before.system_assigned, keep)
        }
        Operation::RemoveAll => {
            if before.identity_type() == IdentityType::None {
                return Plan::noop(
                    before,
                    format!("{what} has no identity; nothing to remove."),
                    warnings,
                );
            }
            (false, Vec::new())
        }
        Operation::SetExact {
            system_assigned,
            user_assigned,
        } => {
            let ids = match check_ua_ids(user_assigned) {
                Ok(i) => i,
                Err(e) => return Plan::refused(before, e),
            };
            if *system_assigned && !before.system_assigned && !state.kind.supports_system_assigned()
            {
                return Plan::refused(before, flexible_refusal(&what));
            }
            (*system_assigned, ids)
        }
    };

    let after = after_state(before, sa, &ua);
    if after.same_identities(before) {
        return Plan::noop(
            before,
            format!(
                "{what} already has exactly these identities ({}); nothing to send.",
                describe_state(before)
            ),
            warnings,
        );
    }
    if before.system_assigned && !sa {
        let pid = before
            .principal_id
            .as_deref()
            .map(|p| format!(" (principal {p})"))
            .unwrap_or_default();
        warnings.push(Warning::new(
            WarningCode::SystemPrincipalRoles,
            format!("The system-assigned identity{pid} is deleted with it: role assignments it holds stop applying, and enabling it again creates a new principal that needs them granted anew."),
        ));
    }

    let mut req = ArmRequest::new(Method::Patch, state.id.as_str(), api_versions::COMPUTE);
    req.body = Some(identity_body(before, sa, &ua));
    add_if_match(&mut req, state, &mut warnings);
    common_warnings(state, &mut warnings);
    if state.kind.is_scale_set() && state.upgrade_mode == Some(UpgradeMode::Manual) {
        warnings.push(Warning::new(
            WarningCode::ManualUpgradeNotNeeded,
            "The scale set's upgrade policy is Manual: identity is tracked at the scale-set level, so no instance upgrade (manualupgrade / update-instances) is needed for this change.",
        ));
    }
    warnings.push(Warning::new(WarningCode::Latency, LATENCY));
    Plan {
        outcome: Outcome::Requests(vec![req]),
        warnings,
        before: before.clone(),
        after,
        role_assignment_deletions: Vec::new(),
    }
}

fn flexible_refusal(what: &str) -> String {
    format!(
        "{what} uses Flexible orchestration, which accepts only UserAssigned or None identities: Azure rejects a system-assigned identity there (400 InvalidParameter). Use a user-assigned identity, or enable the system-assigned identity on each member VM."
    )
}

fn describe_state(s: &IdentityState) -> String {
    let mut parts = Vec::new();
    if s.system_assigned {
        parts.push("system-assigned".to_string());
    }
    if !s.user_assigned.is_empty() {
        parts.push(format!("user-assigned: {}", names(&s.user_assigned_ids())));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join("; ")
    }
}

fn after_state(before: &IdentityState, sa: bool, ua: &[String]) -> IdentityState {
    IdentityState {
        system_assigned: sa,
        principal_id: if sa && before.system_assigned {
            before.principal_id.clone()
        } else {
            None
        },
        tenant_id: if sa && before.system_assigned {
            before.tenant_id.clone()
        } else {
            None
        },
        user_assigned: ua
            .iter()
            .map(|id| {
                before
                    .find_user_assigned(id)
                    .cloned()
                    .unwrap_or_else(|| UserAssignedIdentity::new(id.clone()))
            })
            .collect(),
    }
}

fn add_if_match(req: &mut ArmRequest, state: &ResourceState, warnings: &mut Vec<Warning>) {
    match &state.etag {
        Some(etag) => req.headers.push(("If-Match".into(), etag.clone())),
        None => warnings.push(Warning::new(
            WarningCode::NoEtag,
            "The resource returned no etag, so the request is sent without If-Match: a change made by someone else between reading and writing would not be detected.",
        )),
    }
}

fn common_warnings(state: &ResourceState, warnings: &mut Vec<Warning>) {
    if state.aks_managed {
        warnings.push(Warning::new(
            WarningCode::AksManaged,
            "This resource is managed by AKS (MC_* node resource group or aks-managed-* tags): AKS may revert or block changes made here. Prefer changing identities through the AKS cluster (az aks update / pod identity settings).",
        ));
    }
    if state.legacy_extension.is_some() {
        warnings.push(Warning::new(
            WarningCode::LegacyExtensionPresent,
            format!("The retired managed-identity extension is installed; tokens should come from IMDS instead. {LEGACY_EXTENSION_RETIRED}"),
        ));
    }
}

fn plan_remove_extension(state: &ResourceState, upgrade_instances: bool) -> Plan {
    let before = &state.identity;
    let what = format!("{} {}", state.kind.describe(), state.id.name());
    let Some(ext) = &state.legacy_extension else {
        return Plan::noop(
            before,
            format!(
                "No legacy managed-identity extension is installed on {what}; nothing to remove (tokens come from IMDS)."
            ),
            Vec::new(),
        );
    };
    let mut warnings = Vec::new();
    let ext_id = state.id.child("extensions", &ext.name);
    let mut reqs = vec![ArmRequest::new(
        Method::Delete,
        ext_id.as_str(),
        api_versions::COMPUTE,
    )];
    if state.kind.is_scale_set() && state.upgrade_mode == Some(UpgradeMode::Manual) {
        if upgrade_instances {
            let mut up = ArmRequest::new(
                Method::Post,
                format!("{}/manualupgrade", state.id.as_str()),
                api_versions::COMPUTE,
            );
            up.body = Some(json!({"instanceIds": ["*"]}));
            reqs.push(up);
            warnings.push(Warning::new(
                WarningCode::InstanceUpgrade,
                "The scale set's upgrade policy is Manual: removing the extension changes the instance model, so the plan then upgrades every instance (manualupgrade with instanceIds [\"*\"]) to apply it.",
            ));
        } else {
            warnings.push(Warning::new(
                WarningCode::InstanceUpgrade,
                "The scale set's upgrade policy is Manual: the instances keep running the extension until they are upgraded to the latest model (manualupgrade / update-instances).",
            ));
        }
    }
    let mut common = Vec::new();
    common_warnings(state, &mut common);
    warnings.extend(
        common
            .into_iter()
            .filter(|w| w.code != WarningCode::LegacyExtensionPresent),
    );
    warnings.push(Warning::new(
        WarningCode::Latency,
        "Removing an extension is a long-running operation (typically a minute or more per batch of instances).",
    ));
    Plan {
        outcome: Outcome::Requests(reqs),
        warnings,
        before: before.clone(),
        after: before.clone(),
        role_assignment_deletions: Vec::new(),
    }
}
