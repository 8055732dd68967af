//! Wizard state as a reducer: which scenario, which step, what the user picked, validation, and
//! the review model (a before/after diff in which kept identities are visible). The Yew
//! components only render this and dispatch [`WizardAction`]s.

use crate::catalogue::SCENARIOS;
use crate::identity::IdentityState;
use crate::operation::Operation;
use crate::resource::{ResourceKind, ResourceState};
use crate::resource_id::{IdKind, ResourceId, same_id};

/// The wizards that act on an existing scale set or VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WizardKind {
    EnableSystemAssigned,
    RemoveSystemAssigned,
    AssignUserAssigned,
    RemoveUserAssigned,
    RemoveLegacyExtension,
}

impl WizardKind {
    /// Every wizard, in the catalogue's order.
    pub const ALL: [WizardKind; 5] = [
        WizardKind::EnableSystemAssigned,
        WizardKind::RemoveSystemAssigned,
        WizardKind::AssignUserAssigned,
        WizardKind::RemoveUserAssigned,
        WizardKind::RemoveLegacyExtension,
    ];

    /// The catalogue slug (also the `?wizard=` value).
    pub fn slug(self) -> &'static str {
        match self {
            WizardKind::EnableSystemAssigned => "enable-system-assigned",
            WizardKind::RemoveSystemAssigned => "remove-system-assigned",
            WizardKind::AssignUserAssigned => "assign-user-assigned",
            WizardKind::RemoveUserAssigned => "remove-user-assigned",
            WizardKind::RemoveLegacyExtension => "remove-legacy-extension",
        }
    }

    /// The wizard for a slug.
    ///
    /// ```
    /// use identity_core::wizard::WizardKind;
    /// assert_eq!(WizardKind::from_slug("assign-user-assigned"), Some(WizardKind::AssignUserAssigned));
    /// assert_eq!(WizardKind::from_slug("create-scale-set"), None); // a creation wizard, not one on an existing resource
    /// ```
    pub fn from_slug(slug: &str) -> Option<WizardKind> {
        WizardKind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    /// The title from the catalogue.
    pub fn title(self) -> &'static str {
        SCENARIOS
            .iter()
            .find(|s| s.slug == self.slug())
            .map(|s| s.title)
            .unwrap_or("")
    }

    /// Whether the user picks identities first.
    pub fn needs_selection(self) -> bool {
        matches!(
            self,
            WizardKind::AssignUserAssigned | WizardKind::RemoveUserAssigned
        )
    }

    /// Why this wizard does not apply to the resource as it is now (`None`: it applies).
    /// The planner refuses or no-ops the same cases; this lets the page say so up front.
    pub fn unavailable(self, state: &ResourceState) -> Option<String> {
        let id = &state.identity;
        if let (Some(why), false) = (
            &state.identity_conflict,
            self == WizardKind::RemoveLegacyExtension,
        ) {
            return Some(why.clone());
        }
        match self {
            WizardKind::EnableSystemAssigned if state.kind == ResourceKind::ScaleSetFlexible => Some(
                "A Flexible scale set accepts only user-assigned identities (Azure rejects SystemAssigned with 400 InvalidParameter); enable the system-assigned identity on its member VMs instead."
                    .into(),
            ),
            WizardKind::EnableSystemAssigned if id.system_assigned => {
                Some("The system-assigned identity is already enabled.".into())
            }
            WizardKind::RemoveSystemAssigned if !id.system_assigned => {
                Some("There is no system-assigned identity to remove.".into())
            }
            WizardKind::RemoveUserAssigned if id.user_assigned.is_empty() => {
                Some("No user-assigned identity is assigned.".into())
            }
            WizardKind::RemoveLegacyExtension if state.legacy_extension.is_none() => Some(
                "The legacy managed-identity extension is not installed (good: it is retired; tokens come from IMDS)."
                    .into(),
            ),
            _ => None,
        }
    }
}

/// A user-assigned identity the user can pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    pub name: String,
    pub subscription: String,
    pub resource_group: String,
    pub location: Option<String>,
    pub client_id: Option<String>,
}

impl Candidate {
    /// A candidate from an identity's resource id (name, group and subscription taken from it).
    pub fn from_id(id: &str) -> Candidate {
        let segs: Vec<&str> = id.split('/').collect();
        let after = |key: &str| {
            segs.iter()
                .position(|s| s.eq_ignore_ascii_case(key))
                .and_then(|i| segs.get(i + 1))
                .map(|s| s.to_string())
                .unwrap_or_default()
        };
        Candidate {
            id: id.to_string(),
            name: segs.last().map(|s| s.to_string()).unwrap_or_default(),
            subscription: after("subscriptions"),
            resource_group: after("resourceGroups"),
            location: None,
            client_id: None,
        }
    }

    /// Search: name, group or subscription contain the text (ignoring case); a text with a `/`
    /// is matched against the whole id (for pasted ids).
    fn matches(&self, filter: &str) -> bool {
        let f = filter.trim().to_lowercase();
        if f.contains('/') {
            return self.id.to_lowercase().contains(&f);
        }
        f.is_empty()
            || [&self.name, &self.resource_group, &self.subscription]
                .iter()
                .any(|s| s.to_lowercase().contains(&f))
    }
}

/// The wizard's step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Pick identities (assign / remove user-assigned).
    Choose,
    /// Review the change: diff, exact request, scripts.
    Review,
}

/// What the user did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WizardAction {
    /// Select or unselect an identity (by id, compared ignoring case).
    Toggle(String),
    /// Type into the search box.
    SetFilter(String),
    /// Select a user-assigned identity by its resource id, pasted (e.g. one in a subscription
    /// the user cannot list): validated, then selected like a listed one.
    AddById(String),
    /// For the legacy extension on a Manual scale set: push the model to the instances too.
    SetUpgradeInstances(bool),
    /// Go to the review (validated).
    Review,
    /// Back to choosing.
    Back,
}

/// The state of one wizard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wizard {
    pub kind: WizardKind,
    pub step: Step,
    /// Selected identity ids, in the order picked.
    pub selected: Vec<String>,
    pub filter: String,
    pub upgrade_instances: bool,
    /// A validation message for the current step.
    pub error: Option<String>,
    /// Why the last pasted id was not added.
    pub id_error: Option<String>,
}

impl Wizard {
    /// A fresh wizard: wizards without a choice start at the review.
    pub fn new(kind: WizardKind) -> Wizard {
        Wizard {
            kind,
            step: if kind.needs_selection() {
                Step::Choose
            } else {
                Step::Review
            },
            selected: Vec::new(),
            filter: String::new(),
            upgrade_instances: true,
            error: None,
            id_error: None,
        }
    }

    /// Apply one action.
    ///
    /// ```
    /// use identity_core::wizard::*;
    /// let w = Wizard::new(WizardKind::AssignUserAssigned);
    /// let w = w.reduce(WizardAction::Review);
    /// assert_eq!(w.step, Step::Choose);
    /// assert!(w.error.is_some()); // nothing picked yet
    /// let w = w.reduce(WizardAction::Toggle("/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a".into()));
    /// let w = w.reduce(WizardAction::Review);
    /// assert_eq!(w.step, Step::Review);
    /// ```
    pub fn reduce(&self, action: WizardAction) -> Wizard {
        let mut w = self.clone();
        match action {
            WizardAction::Toggle(id) => {
                if let Some(i) = w.selected.iter().position(|s| same_id(s, &id)) {
                    w.selected.remove(i);
                } else {
                    w.selected.push(id);
                }
                w.error = None;
            }
            WizardAction::SetFilter(f) => w.filter = f,
            WizardAction::AddById(text) => match user_assigned_identity_id(&text) {
                Ok(id) => {
                    if !w.is_selected(&id) {
                        w.selected.push(id);
                    }
                    w.id_error = None;
                    w.error = None;
                }
                Err(e) => w.id_error = Some(e),
            },
            WizardAction::SetUpgradeInstances(b) => w.upgrade_instances = b,
            WizardAction::Review => match w.operation() {
                Ok(_) => {
                    w.step = Step::Review;
                    w.error = None;
                }
                Err(e) => w.error = Some(e),
            },
            WizardAction::Back => {
                if w.kind.needs_selection() {
                    w.step = Step::Choose;
                }
                w.error = None;
            }
        }
        w
    }

    /// Whether an identity is selected (ids compared ignoring case).
    pub fn is_selected(&self, id: &str) -> bool {
        self.selected.iter().any(|s| same_id(s, id))
    }

    /// The operation to plan, or why the wizard is not ready.
    pub fn operation(&self) -> Result<Operation, String> {
        let ids = self.selected.clone();
        match self.kind {
            WizardKind::EnableSystemAssigned => Ok(Operation::EnableSystemAssigned),
            WizardKind::RemoveSystemAssigned => Ok(Operation::RemoveSystemAssigned),
            WizardKind::AssignUserAssigned if ids.is_empty() => {
                Err("Pick at least one user-assigned identity to assign.".into())
            }
            WizardKind::AssignUserAssigned => Ok(Operation::AddUserAssigned { ids }),
            WizardKind::RemoveUserAssigned if ids.is_empty() => {
                Err("Pick at least one user-assigned identity to remove.".into())
            }
            WizardKind::RemoveUserAssigned => Ok(Operation::RemoveUserAssigned { ids }),
            WizardKind::RemoveLegacyExtension => Ok(Operation::RemoveLegacyExtension {
                upgrade_instances: self.upgrade_instances,
            }),
        }
    }

    /// The selected identities the choose step does not offer (added by their pasted id: not in
    /// `visible`, or already on the resource), in the order picked: shown apart so that the
    /// whole selection is visible whatever the lists hold.
    pub fn pasted(&self, state: &ResourceState, visible: &[Candidate]) -> Vec<Candidate> {
        self.selected
            .iter()
            .filter(|id| {
                state.identity.has_user_assigned(id) || !visible.iter().any(|c| same_id(&c.id, id))
            })
            .map(|id| Candidate::from_id(id))
            .collect()
    }

    /// The identities offered in the choose step, filtered by the search box: for assign, every
    /// visible identity not yet on the resource; for remove, the ones on it.
    pub fn choices(&self, state: &ResourceState, visible: &[Candidate]) -> Vec<Candidate> {
        let all: Vec<Candidate> = match self.kind {
            WizardKind::AssignUserAssigned => visible
                .iter()
                .filter(|c| !state.identity.has_user_assigned(&c.id))
                .cloned()
                .collect(),
            WizardKind::RemoveUserAssigned => state
                .identity
                .user_assigned
                .iter()
                .map(|u| {
                    let mut c = visible
                        .iter()
                        .find(|c| same_id(&c.id, &u.id))
                        .cloned()
                        .unwrap_or_else(|| Candidate::from_id(&u.id));
                    c.id = u.id.clone(); // the casing the resource holds
                    c.client_id = u.client_id.clone().or(c.client_id);
                    c
                })
                .collect(),
            _ => Vec::new(),
        };
        all.into_iter()
            .filter(|c| c.matches(&self.filter))
            .collect()
    }
}

/// A pasted user-assigned identity id, checked: an ARM resource id (surrounding whitespace
/// ignored) of type `Microsoft.ManagedIdentity/userAssignedIdentities`. The id is returned as
/// pasted (its casing kept).
///
/// ```
/// use identity_core::wizard::user_assigned_identity_id;
/// let id = " /subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a\n";
/// assert_eq!(user_assigned_identity_id(id).unwrap(), id.trim());
/// assert!(user_assigned_identity_id("/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v").is_err());
/// ```
pub fn user_assigned_identity_id(text: &str) -> Result<String, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("Paste the identity's resource id: /subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}.".into());
    }
    let id = ResourceId::parse(t).map_err(|e| {
        format!(
            "Not a resource id ({}). Copy it from the identity's Properties page in the portal or from `az identity show --query id`.",
            e.reason
        )
    })?;
    if id.kind() != IdKind::UserAssignedIdentity {
        let what = id
            .resource_type()
            .unwrap_or_else(|| format!("{:?}", id.kind()).to_lowercase());
        return Err(format!(
            "This id names a {what}, not a user-assigned identity (Microsoft.ManagedIdentity/userAssignedIdentities)."
        ));
    }
    Ok(id.as_str().to_string())
}

/// How one identity fares in a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Kept,
    Added,
    Removed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Kept => "kept",
            Change::Added => "added",
            Change::Removed => "removed",
        }
    }
}

/// One row of the before/after diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffRow {
    /// "System-assigned" or the identity's name.
    pub label: String,
    /// The user-assigned identity's id (`None` for the system-assigned one).
    pub id: Option<String>,
    pub change: Change,
}

/// The before/after diff: every identity that exists before or after, kept ones included.
///
/// ```
/// use identity_core::identity::{IdentityState, UserAssignedIdentity};
/// use identity_core::wizard::{diff, Change};
/// let a = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a";
/// let before = IdentityState { system_assigned: true, user_assigned: vec![UserAssignedIdentity::new(a)], ..Default::default() };
/// let after = IdentityState { system_assigned: false, ..before.clone() };
/// let rows = diff(&before, &after);
/// assert_eq!(rows[0].change, Change::Removed); // system-assigned
/// assert_eq!(rows[1].change, Change::Kept);    // a
/// ```
pub fn diff(before: &IdentityState, after: &IdentityState) -> Vec<DiffRow> {
    let mut rows = Vec::new();
    if before.system_assigned || after.system_assigned {
        rows.push(DiffRow {
            label: "System-assigned".into(),
            id: None,
            change: match (before.system_assigned, after.system_assigned) {
                (true, true) => Change::Kept,
                (false, true) => Change::Added,
                _ => Change::Removed,
            },
        });
    }
    for u in &before.user_assigned {
        rows.push(DiffRow {
            label: u.name().to_string(),
            id: Some(u.id.clone()),
            change: if after.has_user_assigned(&u.id) {
                Change::Kept
            } else {
                Change::Removed
            },
        });
    }
    for u in &after.user_assigned {
        if !before.has_user_assigned(&u.id) {
            rows.push(DiffRow {
                label: u.name().to_string(),
                id: Some(u.id.clone()),
                change: Change::Added,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::UserAssignedIdentity;
    use serde_json::json;

    const A: &str = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a";
    const B: &str = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b";

    fn state(flex: bool, system: bool, ua: &[&str]) -> ResourceState {
        let mut identity = json!({"type": "None"});
        let map: serde_json::Map<String, serde_json::Value> =
            ua.iter().map(|i| (i.to_string(), json!({}))).collect();
        let t = match (system, !ua.is_empty()) {
            (true, true) => "SystemAssigned, UserAssigned",
            (true, false) => "SystemAssigned",
            (false, true) => "UserAssigned",
            _ => "None",
        };
        identity["type"] = json!(t);
        if !ua.is_empty() {
            identity["userAssignedIdentities"] = json!(map);
        }
        let body = json!({
            "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/v",
            "name": "v", "location": "westeurope", "identity": identity,
            "properties": {"orchestrationMode": if flex { "Flexible" } else { "Uniform" }, "upgradePolicy": {"mode": "Manual"}}
        });
        ResourceState::from_arm(&body, None).unwrap()
    }

    #[test]
    fn availability_follows_the_state() {
        assert!(
            WizardKind::EnableSystemAssigned
                .unavailable(&state(true, false, &[]))
                .unwrap()
                .contains("Flexible")
        );
        assert!(
            WizardKind::EnableSystemAssigned
                .unavailable(&state(false, false, &[]))
                .is_none()
        );
        assert!(
            WizardKind::EnableSystemAssigned
                .unavailable(&state(false, true, &[]))
                .is_some()
        );
        assert!(
            WizardKind::RemoveSystemAssigned
                .unavailable(&state(false, false, &[A]))
                .is_some()
        );
        assert!(
            WizardKind::RemoveUserAssigned
                .unavailable(&state(false, true, &[]))
                .is_some()
        );
        assert!(
            WizardKind::RemoveUserAssigned
                .unavailable(&state(true, false, &[A]))
                .is_none()
        );
        assert!(
            WizardKind::AssignUserAssigned
                .unavailable(&state(true, false, &[]))
                .is_none()
        );
        assert!(
            WizardKind::RemoveLegacyExtension
                .unavailable(&state(false, false, &[]))
                .is_some()
        );
    }

    #[test]
    fn choices_exclude_assigned_ones_keep_the_resource_casing_and_filter() {
        let st = state(false, false, &[A]);
        let visible = vec![Candidate::from_id(&A.to_uppercase()), Candidate::from_id(B)];
        let assign = Wizard::new(WizardKind::AssignUserAssigned);
        let ids: Vec<_> = assign
            .choices(&st, &visible)
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, vec![B.to_string()]);
        let remove = Wizard::new(WizardKind::RemoveUserAssigned);
        let ids: Vec<_> = remove
            .choices(&st, &visible)
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, vec![A.to_string()], "the id as the resource holds it");
        let filtered = assign.reduce(WizardAction::SetFilter("  A ".into()));
        assert!(
            filtered.choices(&st, &visible).is_empty(),
            "only b is offered and it does not match 'a'"
        );
        let by_group = assign.reduce(WizardAction::SetFilter("G".into()));
        assert_eq!(by_group.choices(&st, &visible).len(), 1);
        let by_id = assign.reduce(WizardAction::SetFilter(
            "resourceGroups/g/providers/microsoft.managedidentity/userAssignedIdentities/B".into(),
        ));
        assert_eq!(by_id.choices(&st, &visible).len(), 1);
    }

    #[test]
    fn toggling_ignores_case_and_review_validates() {
        let w = Wizard::new(WizardKind::RemoveUserAssigned)
            .reduce(WizardAction::Toggle(A.into()))
            .reduce(WizardAction::Toggle(A.to_uppercase()));
        assert!(w.selected.is_empty());
        let w = w.reduce(WizardAction::Review);
        assert_eq!((w.step, w.error.is_some()), (Step::Choose, true));
        let w = w
            .reduce(WizardAction::Toggle(B.into()))
            .reduce(WizardAction::Review);
        assert_eq!(w.step, Step::Review);
        assert_eq!(
            w.operation().unwrap(),
            Operation::RemoveUserAssigned {
                ids: vec![B.into()]
            }
        );
        assert_eq!(w.reduce(WizardAction::Back).step, Step::Choose);
        let e = Wizard::new(WizardKind::EnableSystemAssigned);
        assert_eq!(e.step, Step::Review);
        assert_eq!(e.reduce(WizardAction::Back).step, Step::Review);
        let x = Wizard::new(WizardKind::RemoveLegacyExtension)
            .reduce(WizardAction::SetUpgradeInstances(false));
        assert_eq!(
            x.operation().unwrap(),
            Operation::RemoveLegacyExtension {
                upgrade_instances: false
            }
        );
    }

    #[test]
    fn diff_shows_kept_added_and_removed() {
        let before = IdentityState {
            system_assigned: false,
            user_assigned: vec![UserAssignedIdentity::new(A)],
            ..Default::default()
        };
        let after = IdentityState {
            system_assigned: true,
            user_assigned: vec![
                UserAssignedIdentity::new(A.to_uppercase()),
                UserAssignedIdentity::new(B),
            ],
            ..Default::default()
        };
        let rows: Vec<_> = diff(&before, &after)
            .into_iter()
            .map(|r| (r.label, r.change))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("System-assigned".into(), Change::Added),
                ("a".into(), Change::Kept),
                ("b".into(), Change::Added)
            ]
        );
        assert!(diff(&IdentityState::default(), &IdentityState::default()).is_empty());
    }

    #[test]
    fn every_wizard_has_a_catalogue_entry() {
        for k in WizardKind::ALL {
            assert!(!k.title().is_empty(), "{k:?}");
            assert_eq!(WizardKind::from_slug(k.slug()), Some(k));
        }
    }

    #[test]
    fn a_pasted_identity_id_is_validated_selected_and_planned_like_a_listed_one() {
        // in a subscription no list shows
        let other = "/subscriptions/99999999-9999-4999-8999-999999999999/resourceGroups/shared/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-shared";
        let w = Wizard::new(WizardKind::AssignUserAssigned);
        for (bad, why) in [
            ("", "Paste the identity's resource id"),
            ("id-shared", "Not a resource id"),
            (
                "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v",
                "Microsoft.Compute/virtualMachines, not a user-assigned identity",
            ),
            (
                "/subscriptions/s/resourceGroups/g",
                "resourcegroup, not a user-assigned identity",
            ),
            (&format!("{other}/extra/x"), "not a user-assigned identity"),
        ] {
            let e = w.reduce(WizardAction::AddById(bad.to_string()));
            assert!(e.selected.is_empty(), "{bad}");
            assert!(
                e.id_error.as_deref().unwrap_or_default().contains(why),
                "{bad}: {:?}",
                e.id_error
            );
        }
        let listed = [Candidate::from_id(B)];
        let w = w
            .reduce(WizardAction::AddById("x".into()))
            .reduce(WizardAction::AddById(format!("  {other}\n")))
            .reduce(WizardAction::Toggle(B.into()));
        assert_eq!(w.id_error, None, "a valid paste clears the last error");
        assert_eq!(w.selected, vec![other.to_string(), B.to_string()]);
        // pasting it again (other casing) does not select it twice
        let w = w.reduce(WizardAction::AddById(other.to_uppercase()));
        assert_eq!(w.selected.len(), 2);
        let pasted = w.pasted(&state(false, true, &[]), &listed);
        assert_eq!(pasted.len(), 1);
        assert_eq!(
            (pasted[0].name.as_str(), pasted[0].resource_group.as_str()),
            ("id-shared", "shared")
        );
        // one already on the resource is shown too (the lists do not offer it)
        assert_eq!(w.pasted(&state(false, true, &[B]), &listed).len(), 2);
        // the plan assigns it like a listed one, keeping what is there
        let st = state(false, true, &[A]);
        let w = w.reduce(WizardAction::Review);
        assert_eq!(w.step, Step::Review);
        let p = crate::plan(&st, &w.operation().unwrap());
        let after: Vec<&str> = p
            .after
            .user_assigned
            .iter()
            .map(|u| u.id.as_str())
            .collect();
        assert!(
            after.contains(&other) && after.contains(&A) && after.contains(&B),
            "{after:?}"
        );
    }
}
