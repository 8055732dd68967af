//! The inventory built from Resource Graph rows ([`super::queries`]): one row per scale set / VM, the
//! user-assigned identities with the resources that use each, and the role assignments per principal.
//! Ids are matched ignoring case (ARG and ARM do not keep one casing); nothing here panics on odd input — a row
//! without an id is skipped and counted.

use super::queries::{LEGACY_EXTENSION_TYPES, role_guid};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// Scale set orchestration mode, or a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Kind {
    Uniform,
    Flexible,
    Vm,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Uniform, Kind::Flexible, Kind::Vm];

    /// `Uniform`, `Flexible`, `VM` (shown and exported).
    pub fn label(self) -> &'static str {
        match self {
            Kind::Uniform => "Uniform",
            Kind::Flexible => "Flexible",
            Kind::Vm => "VM",
        }
    }

    /// `uniform`, `flexible`, `vm` (in the URL).
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Uniform => "uniform",
            Kind::Flexible => "flexible",
            Kind::Vm => "vm",
        }
    }

    pub fn from_slug(s: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.slug().eq_ignore_ascii_case(s))
    }
}

/// A scale set or VM.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRow {
    pub id: String,
    pub name: String,
    pub subscription_id: String,
    /// The subscription's display name (its id when the name is unknown).
    pub subscription_name: String,
    pub resource_group: String,
    pub location: String,
    pub kind: Kind,
    /// The system-assigned identity's principal id (`Some("")` when enabled but not yet reported).
    pub system_assigned: Option<String>,
    /// User-assigned identity ids, as the resource holds them.
    pub user_assigned: Vec<String>,
    /// Carries `ManagedIdentityExtensionForLinux/Windows`.
    pub legacy_extension: bool,
    /// Managed by AKS (`MC_*` group or `aks-managed-*` tags): AKS may revert identity changes.
    pub aks_managed: bool,
    pub provisioning_state: String,
    /// Why the row's identity `type` and `userAssignedIdentities` disagree (a change planned on it is refused).
    #[serde(skip)]
    pub identity_conflict: Option<String>,
    /// The legacy extension's name and type (its DELETE path), when it carries one.
    #[serde(skip)]
    pub legacy_extension_detail: Option<crate::resource::LegacyExtension>,
    /// Every identity the row's `identity` mentions (as [`crate::IdentityState::read_arm`] reads it).
    #[serde(skip)]
    pub identity_state: crate::IdentityState,
    /// Lower-cased text the filter searches (name, id, group, subscription, principal and identity ids).
    #[serde(skip)]
    pub(crate) haystack: String,
    /// Lower-cased user-assigned ids.
    #[serde(skip)]
    pub(crate) users_lc: Vec<String>,
    /// Lower-cased sort keys: name, subscription name, group, location, state, id.
    #[serde(skip)]
    pub(crate) keys: [String; 6],
}

impl ResourceRow {
    /// No identity at all.
    pub fn has_no_identity(&self) -> bool {
        self.system_assigned.is_none() && self.user_assigned.is_empty()
    }
}

/// A user-assigned identity and who uses it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRow {
    pub id: String,
    pub name: String,
    pub subscription_id: String,
    pub subscription_name: String,
    pub resource_group: String,
    pub location: String,
    pub client_id: String,
    pub principal_id: String,
    /// Indices into [`Inventory::resources`] of the resources that use it.
    pub used_by: Vec<usize>,
}

/// A role assignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentRow {
    pub id: String,
    pub principal_id: String,
    pub principal_type: String,
    pub role_definition_id: String,
    /// From the role definitions loaded (`None` when not loaded or unknown).
    pub role_name: Option<String>,
    pub scope: String,
    /// ABAC condition, if any.
    pub condition: Option<String>,
}

/// Everything the inventory page shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    pub resources: Vec<ResourceRow>,
    pub identities: Vec<IdentityRow>,
    pub role_assignments: Vec<RoleAssignmentRow>,
    /// User-assigned ids that resources use but that are not among the identities read (another tenant, no
    /// read access, or deleted), lower-cased, sorted.
    pub unknown_identities: Vec<String>,
    /// Rows skipped because they had no id.
    pub skipped_rows: usize,
    #[serde(skip)]
    identity_index: HashMap<String, usize>,
    #[serde(skip)]
    principal_index: HashMap<String, Vec<usize>>,
}

fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn is_legacy(ext_type: &str) -> bool {
    LEGACY_EXTENSION_TYPES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(ext_type))
}

/// The group segment of an ARM id (`/subscriptions/s/resourceGroups/{g}/…`).
fn group_of(id: &str) -> String {
    let segs: Vec<&str> = id.split('/').filter(|x| !x.is_empty()).collect();
    match segs.as_slice() {
        [s, _, g, name, ..]
            if s.eq_ignore_ascii_case("subscriptions")
                && g.eq_ignore_ascii_case("resourceGroups") =>
        {
            name.to_string()
        }
        _ => String::new(),
    }
}

impl Inventory {
    /// Builds the inventory from the rows of [`super::queries::COMPUTE`], [`super::queries::IDENTITIES`],
    /// [`super::queries::ROLE_ASSIGNMENTS`] and the role-definition queries; `subscriptions` maps subscription
    /// ids to display names.
    pub fn from_rows(
        subscriptions: &[(String, String)],
        compute: &[Value],
        identities: &[Value],
        role_assignments: &[Value],
        role_definitions: &[Value],
    ) -> Inventory {
        let sub_names: HashMap<String, &str> = subscriptions
            .iter()
            .map(|(id, n)| (id.to_ascii_lowercase(), n.as_str()))
            .collect();
        let sub_name = |id: &str| -> String {
            sub_names
                .get(&id.to_ascii_lowercase())
                .map(|n| n.to_string())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| id.to_string())
        };
        let mut inv = Inventory::default();

        // VM extension rows first: which VMs carry the legacy extension
        let mut legacy_vms: HashMap<String, crate::resource::LegacyExtension> = Default::default();
        for r in compute {
            let ty = s(r, "type").to_ascii_lowercase();
            if ty == "microsoft.compute/virtualmachines/extensions"
                && is_legacy(&s(r, "extensionType"))
            {
                let id = s(r, "id");
                let lower = id.to_ascii_lowercase();
                if let Some(p) = lower.find("/extensions/") {
                    let name = id
                        .get(p + "/extensions/".len()..)
                        .unwrap_or_default()
                        .to_string();
                    legacy_vms.insert(
                        lower[..p].to_string(),
                        crate::resource::LegacyExtension {
                            name,
                            extension_type: s(r, "extensionType"),
                        },
                    );
                }
            }
        }
        let mut seen: std::collections::HashSet<String> = Default::default();
        for r in compute {
            let ty = s(r, "type").to_ascii_lowercase();
            let kind = match ty.as_str() {
                "microsoft.compute/virtualmachinescalesets" => {
                    if s(r, "orchestrationMode").eq_ignore_ascii_case("flexible") {
                        Kind::Flexible
                    } else {
                        Kind::Uniform
                    }
                }
                "microsoft.compute/virtualmachines" => Kind::Vm,
                _ => continue,
            };
            let id = s(r, "id");
            if id.is_empty() {
                inv.skipped_rows += 1;
                continue;
            }
            if !seen.insert(id.to_ascii_lowercase()) {
                continue;
            }
            let ident = r.get("identity").filter(|v| v.is_object());
            let ty_text = ident.map(|i| s(i, "type")).unwrap_or_default();
            let system = ty_text.to_ascii_lowercase().contains("systemassigned");
            let system_assigned =
                system.then(|| ident.map(|i| s(i, "principalId")).unwrap_or_default());
            let user_assigned: Vec<String> = ident
                .and_then(|i| i.get("userAssignedIdentities"))
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            let legacy_extension_detail = match kind {
                Kind::Vm => legacy_vms.get(&id.to_ascii_lowercase()).cloned(),
                _ => r.get("extensions").and_then(Value::as_array).and_then(|a| {
                    a.iter().find_map(|e| {
                        let t = e
                            .get("properties")
                            .map(|p| s(p, "type"))
                            .unwrap_or_default();
                        let name = Some(s(e, "name"))
                            .filter(|n| !n.is_empty())
                            .unwrap_or_else(|| t.clone());
                        is_legacy(&t).then(|| crate::resource::LegacyExtension {
                            name: name.rsplit('/').next().unwrap_or_default().to_string(),
                            extension_type: t,
                        })
                    })
                }),
            };
            let legacy_extension = legacy_extension_detail.is_some();
            let (identity_state, identity_conflict) =
                match crate::IdentityState::read_arm(r.get("identity")) {
                    Ok(reading) => (reading.state, reading.conflict),
                    Err(e) => (crate::IdentityState::default(), Some(e)),
                };
            let mut group = s(r, "resourceGroup");
            // ARG lower-cases resourceGroup: show the id's casing
            let from_id = group_of(&id);
            if from_id.eq_ignore_ascii_case(&group) || group.is_empty() {
                group = from_id;
            }
            let tags_aks = r
                .get("tags")
                .and_then(Value::as_object)
                .is_some_and(|t| t.keys().any(|k| starts_with_ci(k, "aks-managed-")));
            let aks_managed = (group.len() > 3 && starts_with_ci(&group, "MC_")) || tags_aks;
            let sub = s(r, "subscriptionId");
            let row = ResourceRow {
                name: s(r, "name"),
                subscription_name: sub_name(&sub),
                subscription_id: sub,
                resource_group: group,
                location: s(r, "location"),
                kind,
                users_lc: user_assigned.iter().map(|u| u.to_lowercase()).collect(),
                system_assigned,
                user_assigned,
                legacy_extension,
                legacy_extension_detail,
                identity_conflict,
                identity_state,
                aks_managed,
                provisioning_state: s(r, "provisioningState"),
                haystack: String::new(),
                keys: Default::default(),
                id,
            };
            inv.resources.push(row);
        }

        for r in identities {
            let id = s(r, "id");
            if id.is_empty() {
                inv.skipped_rows += 1;
                continue;
            }
            let key = id.to_lowercase();
            if inv.identity_index.contains_key(&key) {
                continue;
            }
            let sub = s(r, "subscriptionId");
            let from_id = group_of(&id);
            inv.identity_index.insert(key, inv.identities.len());
            inv.identities.push(IdentityRow {
                name: s(r, "name"),
                subscription_name: sub_name(&sub),
                subscription_id: sub,
                resource_group: from_id,
                location: s(r, "location"),
                client_id: s(r, "clientId"),
                principal_id: s(r, "principalId"),
                used_by: vec![],
                id,
            });
        }
        let mut unknown = std::collections::BTreeSet::new();
        for (ri, row) in inv.resources.iter_mut().enumerate() {
            let mut hay = vec![
                row.name.to_lowercase(),
                row.id.to_lowercase(),
                row.resource_group.to_lowercase(),
                row.subscription_name.to_lowercase(),
                row.subscription_id.to_lowercase(),
                row.location.to_lowercase(),
            ];
            if let Some(p) = &row.system_assigned {
                hay.push(p.to_lowercase());
            }
            for u in &row.users_lc {
                hay.push(u.clone());
                match inv.identity_index.get(u) {
                    Some(&ii) => {
                        let ident = &mut inv.identities[ii];
                        ident.used_by.push(ri);
                        hay.push(ident.principal_id.to_lowercase());
                        hay.push(ident.client_id.to_lowercase());
                    }
                    None => {
                        unknown.insert(u.clone());
                    }
                }
            }
            row.haystack = hay.join("\n");
            row.keys = [
                row.name.to_lowercase(),
                row.subscription_name.to_lowercase(),
                row.resource_group.to_lowercase(),
                row.location.to_lowercase(),
                row.provisioning_state.to_lowercase(),
                row.id.to_lowercase(),
            ];
        }
        inv.unknown_identities = unknown.into_iter().collect();

        let role_names: HashMap<String, String> = role_definitions
            .iter()
            .filter_map(|d| {
                let g = role_guid(&s(d, "id")).or_else(|| role_guid(&s(d, "name")))?;
                let n = s(d, "roleName");
                (!n.is_empty()).then_some((g, n))
            })
            .collect();
        let mut seen: std::collections::HashSet<String> = Default::default();
        for a in role_assignments {
            let id = s(a, "id");
            if id.is_empty() {
                inv.skipped_rows += 1;
                continue;
            }
            if !seen.insert(id.to_lowercase()) {
                continue;
            }
            let rd = s(a, "roleDefinitionId");
            let cond = s(a, "condition");
            let row = RoleAssignmentRow {
                role_name: role_guid(&rd).and_then(|g| role_names.get(&g).cloned()),
                principal_id: s(a, "principalId"),
                principal_type: s(a, "principalType"),
                role_definition_id: rd,
                scope: s(a, "scope"),
                condition: (!cond.is_empty()).then_some(cond),
                id,
            };
            inv.principal_index
                .entry(row.principal_id.to_lowercase())
                .or_default()
                .push(inv.role_assignments.len());
            inv.role_assignments.push(row);
        }
        inv
    }

    /// The identity with this id (ignoring case).
    pub fn identity(&self, id: &str) -> Option<&IdentityRow> {
        self.identity_index
            .get(&id.to_lowercase())
            .map(|&i| &self.identities[i])
    }

    /// The resources that use this user-assigned identity (ignoring case).
    pub fn users_of(&self, identity_id: &str) -> Vec<&ResourceRow> {
        let key = identity_id.to_lowercase();
        match self.identity(identity_id) {
            Some(i) => i.used_by.iter().map(|&r| &self.resources[r]).collect(),
            // not read as an identity: still answer from the resources' own lists
            None => self
                .resources
                .iter()
                .filter(|r| r.users_lc.contains(&key))
                .collect(),
        }
    }

    /// The role assignments a principal holds (ignoring case).
    pub fn assignments_of(&self, principal_id: &str) -> Vec<&RoleAssignmentRow> {
        if principal_id.is_empty() {
            return vec![];
        }
        self.principal_index
            .get(&principal_id.to_lowercase())
            .map(|v| v.iter().map(|&i| &self.role_assignments[i]).collect())
            .unwrap_or_default()
    }

    /// The subscriptions the resources and identities are in, as (id, name), sorted by name then id (for the
    /// subscription filter).
    pub fn subscriptions(&self) -> Vec<(String, String)> {
        let mut m: std::collections::BTreeMap<String, (String, String)> = Default::default();
        let rows = self
            .resources
            .iter()
            .map(|r| (&r.subscription_id, &r.subscription_name))
            .chain(
                self.identities
                    .iter()
                    .map(|i| (&i.subscription_id, &i.subscription_name)),
            );
        for (id, name) in rows {
            m.entry(id.to_lowercase())
                .or_insert_with(|| (id.clone(), name.clone()));
        }
        let mut v: Vec<(String, String)> = m.into_values().collect();
        v.sort_by(|a, b| {
            (a.1.to_lowercase(), a.0.to_lowercase()).cmp(&(b.1.to_lowercase(), b.0.to_lowercase()))
        });
        v
    }

    /// Role GUIDs the assignments use (for [`super::queries::role_definitions`]).
    pub fn role_guids(role_assignments: &[Value]) -> Vec<String> {
        let mut g: Vec<String> = role_assignments
            .iter()
            .filter_map(|a| role_guid(&s(a, "roleDefinitionId")))
            .collect();
        g.sort();
        g.dedup();
        g
    }
}
