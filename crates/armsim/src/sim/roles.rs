//! Microsoft.Authorization: built-in role definitions, role assignments at subscription / group / resource
//! scope, the per-principal authorization check (403 `AuthorizationFailed` / `LinkedAuthorizationFailed`) and
//! the `PrincipalNotFound` replication delay.
//!
//! Sources: role GUIDs as used in public templates and docs (verified with the search tool); the permission
//! lists are abbreviated from the built-in roles reference (only the actions that matter for this app, not the
//! full lists); the error messages of `AuthorizationFailed` / `LinkedAuthorizationFailed` are the recorded shape
//! (`shared/arm/recordings/error-responses.fixtures.yaml`); `PrincipalNotFound`'s follows the Azure RBAC
//! troubleshooting doc; `RoleAssignmentExists`, `RoleDefinitionDoesNotExist`, `InvalidRoleAssignmentId` are
//! ARM's codes but their messages are not recorded.

use super::{Kind, Sim, key, ok};
use crate::error::ArmError;
use crate::http::{SimRequest, SimResponse};
use crate::rng::iso8601;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A built-in role: name, GUID and (abbreviated) permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinRole {
    /// `roleName`.
    pub name: &'static str,
    /// The role definition GUID (the same in every subscription and cloud).
    pub guid: &'static str,
    /// `description`.
    pub description: &'static str,
    /// Control-plane actions (`*` wildcards).
    pub actions: &'static [&'static str],
    /// Excluded control-plane actions.
    pub not_actions: &'static [&'static str],
    /// Data-plane actions.
    pub data_actions: &'static [&'static str],
}

const COMMON: [&str; 4] = [
    "Microsoft.Authorization/*/read",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Support/*",
];

/// The built-in roles the simulator knows.
pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        name: "Owner",
        guid: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        actions: &["*"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltinRole {
        name: "Contributor",
        guid: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
        ],
        data_actions: &[],
    },
    BuiltinRole {
        name: "Reader",
        guid: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        description: "View all resources, but does not allow you to make any changes.",
        actions: &["*/read"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltinRole {
        name: "User Access Administrator",
        guid: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        description: "Lets you manage user access to Azure resources.",
        actions: &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltinRole {
        name: "Role Based Access Control Administrator",
        guid: "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        description: "Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.",
        actions: &[
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "*/read",
            "Microsoft.Support/*",
        ],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltinRole {
        name: "Virtual Machine Contributor",
        guid: "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
        description: "Create and manage virtual machines, manage disks, install and run software, reset password of the root user of the virtual machine using VM extensions, and manage local user accounts using VM extensions. This role does not grant you management access to the virtual network or storage account the virtual machines are connected to. This role does not allow you to assign roles in Azure RBAC.",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Compute/availabilitySets/*",
            "Microsoft.Compute/locations/*",
            "Microsoft.Compute/virtualMachines/*",
            "Microsoft.Compute/virtualMachineScaleSets/*",
            "Microsoft.Compute/disks/write",
            "Microsoft.Compute/disks/read",
            "Microsoft.Compute/disks/delete",
            "Microsoft.Network/networkInterfaces/*",
            "Microsoft.Network/virtualNetworks/read",
            "Microsoft.Network/virtualNetworks/subnets/join/action",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Support/*",
        ],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltinRole {
        name: "Managed Identity Operator",
        guid: "f1a07417-d97a-45cb-824c-7a7467783830",
        description: "Read and Assign User Assigned Identity",
        actions: &[
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
        ],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltinRole {
        name: "Managed Identity Contributor",
        guid: "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",
        description: "Create, Read, Update, and Delete User Assigned Identity",
        actions: &[
            "Microsoft.ManagedIdentity/userAssignedIdentities/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/write",
            "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
            COMMON[0],
            COMMON[1],
            COMMON[2],
            COMMON[3],
        ],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltinRole {
        name: "Storage Blob Data Reader",
        guid: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        description: "Read and list Azure Storage containers and blobs.",
        actions: &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/read",
            "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        ],
        not_actions: &[],
        data_actions: &["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
    },
    BuiltinRole {
        name: "Key Vault Secrets User",
        guid: "4633458b-17de-408a-b874-0445c86b69e6",
        description: "Read secret contents. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
    },
];

/// Looks a built-in role up by name (ignoring case) or GUID.
///
/// ```
/// let r = armsim::roles::builtin_role("managed identity operator").unwrap();
/// assert_eq!(r.guid, "f1a07417-d97a-45cb-824c-7a7467783830");
/// assert!(armsim::roles::builtin_role(r.guid).is_some());
/// ```
pub fn builtin_role(name_or_guid: &str) -> Option<&'static BuiltinRole> {
    let s = name_or_guid.rsplit('/').next().unwrap_or(name_or_guid);
    BUILTIN_ROLES
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(s) || r.guid.eq_ignore_ascii_case(s))
}

/// Whether an action pattern (ARM's `*` wildcard, ignoring case) matches an action.
///
/// ```
/// use armsim::roles::action_matches;
/// assert!(action_matches("*/read", "Microsoft.Compute/virtualMachineScaleSets/read"));
/// assert!(action_matches("Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
///     "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"));
/// assert!(!action_matches("*/read", "Microsoft.Compute/virtualMachineScaleSets/write"));
/// ```
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let a = action.to_ascii_lowercase();
    glob(p.as_bytes(), a.as_bytes())
        || (p.contains("/*/") && glob(p.replace("/*/", "/").as_bytes(), a.as_bytes()))
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

impl BuiltinRole {
    /// Whether the role grants a control-plane action.
    pub fn allows(&self, action: &str) -> bool {
        self.actions.iter().any(|p| action_matches(p, action))
            && !self.not_actions.iter().any(|p| action_matches(p, action))
    }
}

/// One grant of the role map given to the simulator (`--roles FILE`): principal `oid`, role name or GUID, scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleGrant {
    /// Object id of the principal (the token's `oid`).
    pub principal_id: String,
    /// Built-in role name or GUID.
    pub role: String,
    /// `/subscriptions/{s}`, `/subscriptions/{s}/resourceGroups/{g}` or a resource id.
    pub scope: String,
}

/// A role assignment held by the simulator.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Assignment {
    pub name: String,
    pub scope: String,
    pub role_guid: String,
    pub principal_id: String,
    pub principal_type: String,
    pub created_ms: u64,
    /// ABAC condition (`conditionVersion` 2.0).
    pub condition: Option<String>,
}

/// Role assignments and when principals came into being.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rbac {
    /// By lower-cased assignment id.
    pub assignments: std::collections::BTreeMap<String, Assignment>,
    /// Principal id (lower case) → creation time, for principals made while the simulator runs.
    pub born: std::collections::BTreeMap<String, u64>,
    /// Principals that exist without a resource (users of the role map).
    pub users: std::collections::BTreeSet<String>,
}

pub(crate) const AUTH_VERSIONS: &[&str] = &[
    "2015-06-01",
    "2015-07-01",
    "2018-01-01-preview",
    "2018-09-01-preview",
    "2020-03-01-preview",
    "2020-04-01-preview",
    "2020-08-01-preview",
    "2020-10-01-preview",
    "2022-01-01-preview",
    "2022-04-01",
    "2022-05-01-preview",
];

fn assignment_id(scope: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{name}",
        scope.trim_end_matches('/')
    )
}

fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Whether scope `outer` contains `inner` (same or a descendant; ignoring case, on segment boundaries).
pub(crate) fn scope_contains(outer: &str, inner: &str) -> bool {
    let o = outer.trim_end_matches('/').to_ascii_lowercase();
    let i = inner.trim_end_matches('/').to_ascii_lowercase();
    o.is_empty() || i == o || i.starts_with(&format!("{o}/"))
}

/// The action and scope ARM authorizes a request against, derived from its method and path segments.
pub(crate) fn action_of(method: &str, segs: &[String]) -> Option<(String, String)> {
    if !segs
        .first()
        .is_some_and(|s| s.eq_ignore_ascii_case("subscriptions"))
        || segs.len() < 2
    {
        return None;
    }
    let scope = format!("/{}", segs.join("/"));
    let verb = match method {
        "GET" | "HEAD" => "read",
        "PUT" | "PATCH" => "write",
        "DELETE" => "delete",
        _ => "action",
    };
    let p = segs
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))
        .filter(|&i| i + 1 < segs.len());
    let mut parts: Vec<String> = match p {
        Some(i) => {
            let rest = &segs[i + 2..];
            let mut v = vec![segs[i + 1].clone()];
            v.extend(rest.iter().step_by(2).cloned());
            if verb == "action" && rest.len() % 2 == 1 && rest.len() > 1 {
                // POST …/{type}/{name}/{action}: the last segment is the action's name
                let last = v.pop().unwrap_or_default();
                v.push(last);
                v.push("action".into());
                return Some((v.join("/"), scope));
            }
            v
        }
        None => {
            let mut v = vec!["Microsoft.Resources".to_string()];
            v.extend(segs.iter().step_by(2).cloned());
            v
        }
    };
    parts.push(verb.to_string());
    Some((parts.join("/"), scope))
}

impl Sim {
    /// Seeds the role map's grants as role assignments (called once at construction).
    pub(crate) fn load_role_map(&mut self) {
        for g in self.cfg.role_map.clone().unwrap_or_default() {
            self.add_grant(&g);
        }
    }

    fn add_grant(&mut self, g: &RoleGrant) {
        let Some(role) = builtin_role(&g.role) else {
            return;
        };
        self.rbac.users.insert(g.principal_id.to_ascii_lowercase());
        let name = self.rng.uuid();
        let a = Assignment {
            name: name.clone(),
            scope: g.scope.trim_end_matches('/').to_string(),
            role_guid: role.guid.to_string(),
            principal_id: g.principal_id.clone(),
            principal_type: "User".into(),
            created_ms: 0,
            condition: None,
        };
        self.rbac
            .assignments
            .insert(key(&assignment_id(&a.scope, &name)), a);
    }

    /// Adds a grant of the role map at run time (a role assignment named by a generated GUID) and turns
    /// authorization on if it was off. Unknown roles are refused.
    ///
    /// ```
    /// use armsim::{Seed, Sim};
    /// use armsim::roles::RoleGrant;
    /// let mut sim = Sim::from_seed(Seed::demo());
    /// let held = sim.grants().len(); // the demo seed's own role assignments
    /// let g = RoleGrant { principal_id: "p1".into(), role: "Reader".into(), scope: "/subscriptions/x".into() };
    /// assert!(sim.grant(g).is_ok());
    /// assert_eq!(sim.grants().len(), held + 1);
    /// assert_eq!(sim.grants().iter().filter(|g| g.principal_id == "p1").count(), 1);
    /// ```
    pub fn grant(&mut self, g: RoleGrant) -> Result<(), String> {
        self.graph_epoch += 1;
        builtin_role(&g.role).ok_or_else(|| format!("unknown role '{}'", g.role))?;
        self.add_grant(&g);
        self.cfg.role_map.get_or_insert_with(Vec::new).push(g);
        Ok(())
    }

    /// The role assignments held, as grants (principal, role name, scope).
    pub fn grants(&self) -> Vec<RoleGrant> {
        self.rbac
            .assignments
            .values()
            .map(|a| RoleGrant {
                principal_id: a.principal_id.clone(),
                role: builtin_role(&a.role_guid)
                    .map(|r| r.name.to_string())
                    .unwrap_or_else(|| a.role_guid.clone()),
                scope: a.scope.clone(),
            })
            .collect()
    }

    /// Removes every role assignment of `principal` (all of them when `None`).
    pub fn revoke(&mut self, principal: Option<&str>) {
        self.graph_epoch += 1;
        self.rbac
            .assignments
            .retain(|_, a| principal.is_some_and(|p| !a.principal_id.eq_ignore_ascii_case(p)));
    }

    /// Control routes `/_armsim/roles`: GET lists the grants, POST adds one grant or an array, DELETE
    /// (`?principalId=…` or all) revokes.
    pub(crate) fn control_roles(
        &mut self,
        req: &SimRequest,
        t: &crate::http::Target,
    ) -> Option<SimResponse> {
        if t.segments.get(1).map(String::as_str) != Some("roles") {
            return None;
        }
        let bad =
            |m: String| super::error_response(&ArmError::new(400, "InvalidRequestContent", m));
        Some(match req.method.to_ascii_uppercase().as_str() {
            "GET" => ok(200, &json!({"value": self.grants()})),
            "POST" => {
                let v: Value = match serde_json::from_str(&req.body) {
                    Ok(v) => v,
                    Err(e) => return Some(bad(e.to_string())),
                };
                let list = if v.is_array() { v } else { json!([v]) };
                let grants: Vec<RoleGrant> = match serde_json::from_value(list) {
                    Ok(g) => g,
                    Err(e) => return Some(bad(format!("invalid grant: {e}"))),
                };
                for g in grants {
                    if let Err(e) = self.grant(g) {
                        return Some(bad(e));
                    }
                }
                ok(200, &json!({"value": self.grants()}))
            }
            "DELETE" => {
                self.revoke(t.param("principalId"));
                SimResponse {
                    status: 204,
                    ..Default::default()
                }
            }
            _ => super::error_response(&super::method_not_allowed(&req.method)),
        })
    }

    /// Whether `principal` may perform `action` at `scope` (an assignment at the scope or above grants it).
    pub(crate) fn permitted(&self, principal: &str, action: &str, scope: &str) -> bool {
        self.rbac.assignments.values().any(|a| {
            a.principal_id.eq_ignore_ascii_case(principal)
                && scope_contains(&a.scope, scope)
                && builtin_role(&a.role_guid).is_some_and(|r| r.allows(action))
        })
    }

    /// Whether `principal` has `action` anywhere at or below `scope` (lists that ARM filters).
    fn permitted_below(&self, principal: &str, action: &str, scope: &str) -> bool {
        self.rbac.assignments.values().any(|a| {
            a.principal_id.eq_ignore_ascii_case(principal)
                && scope_contains(scope, &a.scope)
                && builtin_role(&a.role_guid).is_some_and(|r| r.allows(action))
        })
    }

    /// The 403 for a request the caller may not make, if any (authorization on: auth and a role map).
    pub(crate) fn authorize(
        &self,
        c: &crate::auth::Claims,
        method: &str,
        segs: &[String],
        req: &SimRequest,
    ) -> Result<(), ArmError> {
        let Some((action, scope)) = action_of(method, segs) else {
            return Ok(());
        };
        let is_list = method == "GET" && {
            let p = segs
                .iter()
                .rposition(|s| s.eq_ignore_ascii_case("providers"));
            match p {
                Some(i) => (segs.len() - i - 2) % 2 == 1,
                None => segs.len() % 2 == 1,
            }
        };
        // Role definitions and the operation status are readable by any authenticated caller (Derived).
        let lc = action.to_ascii_lowercase();
        if lc.starts_with("microsoft.authorization/roledefinitions/read")
            || lc.ends_with("/locations/operations/read")
        {
            return Ok(());
        }
        // A list is allowed when some assignment at or below its container (subscription or group) grants the
        // read; its items are then filtered (`filter_list`).
        let container = match segs
            .iter()
            .rposition(|s| s.eq_ignore_ascii_case("providers"))
        {
            Some(i) => format!("/{}", segs[..i].join("/")),
            None => scope.clone(),
        };
        let ok_here = self.permitted(&c.oid, &action, &scope)
            || (is_list && self.permitted_below(&c.oid, &action, &container));
        if !ok_here {
            return Err(ArmError::new(
                403,
                "AuthorizationFailed",
                format!(
                    "The client '{}' with object id '{}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
                    if c.app_id.is_empty() {
                        &c.oid
                    } else {
                        &c.app_id
                    },
                    c.oid
                ),
            ));
        }
        // Linked scopes: assigning user-assigned identities to a scale set or VM needs assign/action on each.
        let lcs: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
        let compute = lcs.iter().any(|s| s == "microsoft.compute")
            && lcs
                .iter()
                .any(|s| s == "virtualmachinescalesets" || s == "virtualmachines")
            && !lcs
                .iter()
                .any(|s| s == "extensions" || s == "microsoft.authorization");
        if compute && (method == "PATCH" || method == "PUT") {
            let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
            let assign = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action";
            let missing: Vec<String> = body["identity"]["userAssignedIdentities"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, _)| k.clone())
                        .filter(|k| !self.permitted(&c.oid, assign, k))
                        .collect()
                })
                .unwrap_or_default();
            if !missing.is_empty() {
                return Err(ArmError::new(
                    403,
                    "LinkedAuthorizationFailed",
                    format!(
                        "The client '{}' with object id '{}' has permission to perform action '{action}' on scope '{scope}'; however, it does not have permission to perform action '{assign}' on the linked scope(s) '{}' or the linked scope(s) are invalid.",
                        if c.app_id.is_empty() {
                            &c.oid
                        } else {
                            &c.app_id
                        },
                        c.oid,
                        missing.join(",")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Drops the items of a list answer the caller may not read (ARM shows only what the caller can see).
    pub(crate) fn filter_list(&self, c: &crate::auth::Claims, resp: &mut SimResponse) {
        let mut b = resp.json();
        let Some(items) = b.get_mut("value").and_then(Value::as_array_mut) else {
            return;
        };
        let before = items.len();
        items.retain(|it| {
            let Some(id) = it["id"].as_str() else {
                return true;
            };
            if id
                .to_ascii_lowercase()
                .contains("/providers/microsoft.authorization/roledefinitions/")
            {
                return true; // role definitions are readable by every signed-in caller
            }
            let segs: Vec<String> = id
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            match action_of("GET", &segs) {
                Some((action, scope)) => {
                    self.permitted(&c.oid, &action, &scope)
                        || self.permitted_below(&c.oid, &action, &scope)
                }
                None => true,
            }
        });
        if items.len() != before {
            resp.body = b.to_string();
        }
    }

    /// Remembers when the principals of a resource first appeared (called after each successful write).
    pub(crate) fn note_principals(&mut self, path: &str, now: u64) {
        let k = key(path);
        let Some(r) = self.res.get(&k) else { return };
        let mut ids = vec![];
        if let Some(p) = r.body["identity"]["principalId"].as_str() {
            ids.push(p.to_ascii_lowercase());
        }
        if r.kind == Kind::Uai
            && let Some(p) = r.body["properties"]["principalId"].as_str()
        {
            ids.push(p.to_ascii_lowercase());
        }
        for id in ids {
            self.rbac.born.entry(id).or_insert(now);
        }
    }

    fn principal_exists(&self, pid: &str) -> bool {
        let p = pid.to_ascii_lowercase();
        if self.rbac.users.contains(&p) || self.rbac.born.contains_key(&p) {
            return true;
        }
        self.res.values().any(|r| {
            r.body["identity"]["principalId"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(pid))
                || (r.kind == Kind::Uai
                    && r.body["properties"]["principalId"]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(pid)))
        })
    }

    /// Routes `{scope}/providers/Microsoft.Authorization/{roleAssignments|roleDefinitions}[/{name}]`.
    pub(crate) fn authorization_route(
        &mut self,
        m: &str,
        t: &crate::http::Target,
        req: &SimRequest,
        now: u64,
        at: usize,
    ) -> Result<SimResponse, ArmError> {
        let segs = &t.segments;
        let scope = format!("/{}", segs[..at].join("/"));
        let scope = if scope == "/" { String::new() } else { scope };
        let api = t.param("api-version").filter(|v| !v.is_empty());
        let Some(api) = api else {
            return Err(ArmError::new(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            ));
        };
        if !AUTH_VERSIONS.contains(&api) {
            return Err(ArmError::new(
                400,
                "InvalidApiVersionParameter",
                format!(
                    "The api-version '{api}' is invalid. The supported versions are '{}'.",
                    AUTH_VERSIONS.join(",")
                ),
            ));
        }
        self.check_scope(&scope)?;
        let kind = segs[at + 2].to_ascii_lowercase();
        let name = segs.get(at + 3).cloned();
        if segs.len() > at + 4 {
            return Err(super::no_route(t));
        }
        let filter = t.param("$filter").unwrap_or("").to_string();
        match (kind.as_str(), name, m) {
            ("roledefinitions", None, "GET") => {
                let f = filter.to_ascii_lowercase();
                let want = quoted_after(&filter, "rolename eq");
                let builtin_only = f.contains("type eq 'builtinrole'");
                let _ = builtin_only;
                let v: Vec<Value> = BUILTIN_ROLES
                    .iter()
                    .filter(|r| want.as_ref().is_none_or(|w| r.name.eq_ignore_ascii_case(w)))
                    .map(|r| self.role_json(&scope, r))
                    .collect();
                Ok(ok(200, &json!({"value": v})))
            }
            ("roledefinitions", Some(id), "GET") => {
                let r = builtin_role(&id).filter(|_| is_guid(&id)).ok_or_else(|| {
                    ArmError::new(
                        404,
                        "RoleDefinitionDoesNotExist",
                        format!("The specified role definition with ID '{id}' does not exist."),
                    )
                })?;
                Ok(ok(200, &self.role_json(&scope, r)))
            }
            ("roleassignments", None, "GET") => {
                let at_scope = filter.to_ascii_lowercase().contains("atscope()");
                let principal = quoted_after(&filter, "principalid eq");
                let mut v: Vec<&Assignment> = self
                    .rbac
                    .assignments
                    .values()
                    .filter(|a| {
                        scope_contains(&a.scope, &scope)
                            || (!at_scope && scope_contains(&scope, &a.scope))
                    })
                    .filter(|a| {
                        principal
                            .as_ref()
                            .is_none_or(|p| a.principal_id.eq_ignore_ascii_case(p))
                    })
                    .collect();
                v.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then(a.name.cmp(&b.name)));
                let v: Vec<Value> = v.into_iter().map(|a| self.assignment_json(a)).collect();
                Ok(ok(200, &json!({"value": v})))
            }
            ("roleassignments", Some(n), "GET") => {
                let a = self
                    .rbac
                    .assignments
                    .get(&key(&assignment_id(&scope, &n)))
                    .ok_or_else(|| assignment_not_found(&n))?;
                Ok(ok(200, &self.assignment_json(a)))
            }
            ("roleassignments", Some(n), "DELETE") => {
                match self
                    .rbac
                    .assignments
                    .remove(&key(&assignment_id(&scope, &n)))
                {
                    Some(a) => Ok(ok(200, &self.assignment_json(&a))),
                    None => Ok(SimResponse {
                        status: 204,
                        ..Default::default()
                    }),
                }
            }
            ("roleassignments", Some(n), "PUT") => self.put_assignment(&scope, &n, req, now),
            _ => Err(super::method_not_allowed(m)),
        }
    }

    fn check_scope(&self, scope: &str) -> Result<(), ArmError> {
        let segs: Vec<&str> = scope.split('/').filter(|s| !s.is_empty()).collect();
        if segs.len() >= 2 && !self.subs.iter().any(|s| s.id.eq_ignore_ascii_case(segs[1])) {
            return Err(ArmError::new(
                404,
                "SubscriptionNotFound",
                format!("The subscription '{}' could not be found.", segs[1]),
            ));
        }
        if segs.len() >= 4 {
            let g = format!("/{}", segs[..4].join("/"));
            if !self.groups.contains_key(&key(&g)) {
                return Err(super::rg_not_found(segs[3]));
            }
        }
        if segs.len() >= 8 && !self.res.contains_key(&key(scope)) {
            // Not recorded: ARM's answer for an assignment on a resource that does not exist.
            return Err(ArmError::new(
                404,
                "ResourceNotFound",
                format!(
                    "The Resource '{}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                    segs[5..].join("/"),
                    segs[3]
                ),
            ));
        }
        Ok(())
    }

    fn put_assignment(
        &mut self,
        scope: &str,
        name: &str,
        req: &SimRequest,
        now: u64,
    ) -> Result<SimResponse, ArmError> {
        if !is_guid(name) {
            return Err(ArmError::new(
                400,
                "InvalidRoleAssignmentId",
                format!(
                    "The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
                ),
            ));
        }
        super::errors::create_guard(
            req,
            self.rbac
                .assignments
                .contains_key(&key(&assignment_id(scope, name))),
        )?;
        let b = super::parse_body(req)?;
        crate::schema::check_role_assignment(&b)?;
        let p = &b["properties"];
        let rd = p["roleDefinitionId"].as_str().unwrap_or_default();
        let guid = rd.rsplit('/').next().unwrap_or_default();
        let role = builtin_role(guid)
            .filter(|_| is_guid(guid))
            .ok_or_else(|| {
                ArmError::new(
                    400,
                    "RoleDefinitionDoesNotExist",
                    format!("The specified role definition with ID '{guid}' does not exist."),
                )
            })?;
        let pid = p["principalId"].as_str().unwrap_or_default().to_string();
        let ptype = p["principalType"].as_str().unwrap_or("User").to_string();
        // Replication delay: a principal made less than `principal_delay_ms` ago is not yet visible.
        let visible = match self.rbac.born.get(&pid.to_ascii_lowercase()) {
            Some(&born) => now >= born + self.cfg.principal_delay_ms,
            None => self.principal_exists(&pid),
        };
        if !visible {
            return Err(ArmError::new(
                400,
                "PrincipalNotFound",
                format!(
                    "Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
                    pid.replace('-', ""),
                    self.tenant_id
                ),
            ));
        }
        let id = assignment_id(scope, name);
        if let Some(old) = self.rbac.assignments.get(&key(&id)) {
            if old.role_guid.eq_ignore_ascii_case(role.guid)
                && old.principal_id.eq_ignore_ascii_case(&pid)
            {
                let a = old.clone();
                return Ok(ok(200, &self.assignment_json(&a)));
            }
            return Err(ArmError::new(
                400,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            ));
        }
        if self.rbac.assignments.values().any(|a| {
            a.scope.eq_ignore_ascii_case(scope.trim_end_matches('/'))
                && a.role_guid.eq_ignore_ascii_case(role.guid)
                && a.principal_id.eq_ignore_ascii_case(&pid)
        }) {
            return Err(ArmError::new(
                409,
                "RoleAssignmentExists",
                "The role assignment already exists.",
            ));
        }
        let a = Assignment {
            name: name.to_ascii_lowercase(),
            scope: scope.trim_end_matches('/').to_string(),
            role_guid: role.guid.to_string(),
            principal_id: pid,
            principal_type: ptype,
            created_ms: now,
            condition: p["condition"].as_str().map(str::to_string),
        };
        let body = self.assignment_json(&a);
        self.rbac.assignments.insert(key(&id), a);
        Ok(ok(201, &body))
    }

    fn role_json(&self, scope: &str, r: &BuiltinRole) -> Value {
        let sub_scope: String = scope
            .split('/')
            .filter(|s| !s.is_empty())
            .take(2)
            .collect::<Vec<_>>()
            .join("/");
        let prefix = if sub_scope.is_empty() {
            String::new()
        } else {
            format!("/{sub_scope}")
        };
        json!({"id": format!("{prefix}/providers/Microsoft.Authorization/roleDefinitions/{}", r.guid),
            "type": "Microsoft.Authorization/roleDefinitions", "name": r.guid,
            "properties": {"roleName": r.name, "type": "BuiltInRole", "description": r.description,
                "assignableScopes": ["/"],
                "permissions": [{"actions": r.actions, "notActions": r.not_actions, "dataActions": r.data_actions, "notDataActions": []}],
                "createdOn": "2015-02-02T21:55:09.8806423Z", "updatedOn": "2024-01-01T00:00:00.0000000Z",
                "createdBy": null, "updatedBy": null}})
    }

    fn assignment_json(&self, a: &Assignment) -> Value {
        let sub: String = a
            .scope
            .split('/')
            .filter(|s| !s.is_empty())
            .take(2)
            .collect::<Vec<_>>()
            .join("/");
        let t = iso8601(a.created_ms).replace("+00:00", "Z");
        json!({"id": assignment_id(&a.scope, &a.name), "type": "Microsoft.Authorization/roleAssignments", "name": a.name,
            "properties": {"roleDefinitionId": format!("/{sub}/providers/Microsoft.Authorization/roleDefinitions/{}", a.role_guid),
                "principalId": a.principal_id, "principalType": a.principal_type, "scope": a.scope,
                "condition": a.condition, "conditionVersion": a.condition.as_ref().map(|_| "2.0"), "createdOn": t, "updatedOn": t,
                "createdBy": null, "updatedBy": null, "delegatedManagedIdentityResourceId": null, "description": null}})
    }
}

fn assignment_not_found(name: &str) -> ArmError {
    ArmError::new(
        404,
        "RoleAssignmentNotFound",
        format!("The role assignment '{name}' is not found."),
    )
}

/// The single-quoted value after `prefix` in an OData filter (prefix compared ignoring case).
fn quoted_after(filter: &str, prefix: &str) -> Option<String> {
    let i = filter.to_ascii_lowercase().find(prefix)?;
    let rest = &filter[i + prefix.len()..];
    let a = rest.find('\'')?;
    // OData string literal: '' stands for one quote
    let mut out = String::new();
    let mut chars = rest[a + 1..].chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
            } else {
                return Some(out);
            }
        }
        out.push(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &str) -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn actions_from_paths() {
        let v = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/x";
        assert_eq!(
            action_of("PATCH", &segs(v)).unwrap().0,
            "Microsoft.Compute/virtualMachineScaleSets/write"
        );
        assert_eq!(
            action_of("GET", &segs(v)).unwrap().0,
            "Microsoft.Compute/virtualMachineScaleSets/read"
        );
        assert_eq!(
            action_of("POST", &segs(&format!("{v}/manualupgrade")))
                .unwrap()
                .0,
            "Microsoft.Compute/virtualMachineScaleSets/manualupgrade/action"
        );
        assert_eq!(
            action_of("DELETE", &segs(&format!("{v}/extensions/e")))
                .unwrap()
                .0,
            "Microsoft.Compute/virtualMachineScaleSets/extensions/delete"
        );
        assert_eq!(
            action_of(
                "PUT",
                &segs(&format!(
                    "{v}/providers/Microsoft.Authorization/roleAssignments/n"
                ))
            )
            .unwrap()
            .0,
            "Microsoft.Authorization/roleAssignments/write"
        );
        assert_eq!(
            action_of("GET", &segs("/subscriptions/s/resourceGroups"))
                .unwrap()
                .0,
            "Microsoft.Resources/subscriptions/resourceGroups/read"
        );
        assert_eq!(
            action_of("GET", &segs("/subscriptions/s")).unwrap().0,
            "Microsoft.Resources/subscriptions/read"
        );
        assert!(action_of("GET", &segs("/subscriptions")).is_none());
    }

    #[test]
    fn roles_grant_what_their_lists_say() {
        let vmc = builtin_role("Virtual Machine Contributor").unwrap();
        assert!(vmc.allows("Microsoft.Compute/virtualMachineScaleSets/write"));
        assert!(!vmc.allows("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"));
        let c = builtin_role("Contributor").unwrap();
        assert!(c.allows("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"));
        assert!(!c.allows("Microsoft.Authorization/roleAssignments/write"));
        let mio = builtin_role("Managed Identity Operator").unwrap();
        assert!(mio.allows("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"));
        assert!(mio.allows("Microsoft.ManagedIdentity/userAssignedIdentities/read"));
        assert!(!mio.allows("Microsoft.ManagedIdentity/userAssignedIdentities/write"));
        assert!(
            builtin_role("Owner")
                .unwrap()
                .allows("Microsoft.Authorization/roleAssignments/write")
        );
        assert!(scope_contains(
            "/subscriptions/A",
            "/subscriptions/a/resourceGroups/g"
        ));
        assert!(!scope_contains(
            "/subscriptions/a/resourceGroups/g",
            "/subscriptions/a/resourceGroups/g2"
        ));
        assert!(!scope_contains(
            "/subscriptions/a/resourceGroups/g",
            "/subscriptions/a/resourceGroups/gg"
        ));
        assert_eq!(
            quoted_after("roleName eq 'Key Vault Secrets User'", "rolename eq").as_deref(),
            Some("Key Vault Secrets User")
        );
        assert_eq!(
            quoted_after("principalId eq 'o''hara' and x", "principalid eq").as_deref(),
            Some("o'hara")
        );
        assert_eq!(quoted_after("roleName eq 'open", "rolename eq"), None);
    }
}
