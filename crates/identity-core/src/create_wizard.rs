//! The create wizard (a scale set or a VM, [`CreateTarget`]) as a reducer: the fields as typed,
//! validation per step with errors that name the rule, and the review (an optional new
//! user-assigned identity, then the scale set's [`ScaleSetSpec`] or the VM's [`VmSpec`] and their
//! plans). The steps are the same for both; a VM's Instances step has no capacity, orchestration
//! or upgrade policy. Pure; the app only renders it.
//!
//! ```
//! use identity_core::create_wizard::{CreateWizard, CreateAction, CreateStep, Field};
//! let mut w = CreateWizard::default();
//! w = w.reduce(CreateAction::Next);
//! assert_eq!(w.step, CreateStep::Basics); // nothing typed: the step does not advance
//! assert!(w.error(Field::Name).is_some());
//! for (f, v) in [(Field::Subscription, "00000000-0000-0000-0000-000000000000"),
//!                (Field::ResourceGroup, "rg"), (Field::Name, "vmss-web"), (Field::Location, "westeurope")] {
//!     w = w.reduce(CreateAction::Set(f, v.into()));
//! }
//! w = w.reduce(CreateAction::Next);
//! assert_eq!(w.step, CreateStep::Instances);
//! ```

use crate::create::{
    AdminAuth, IdentityRequest, ImagePreset, Orchestration, ScaleSetSpec, UserAssignedIdentitySpec,
    VmSpec, create_scale_set, create_user_assigned_identity, create_vm, validate_admin_password,
    validate_admin_username,
};
use crate::naming::{self, OsType};
use crate::plan::Plan;
use crate::resource::UpgradeMode;
use crate::resource_id::ResourceId;

/// What the wizard creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CreateTarget {
    #[default]
    ScaleSet,
    Vm,
}

impl CreateTarget {
    /// A noun for headings and messages.
    pub fn noun(self) -> &'static str {
        match self {
            CreateTarget::ScaleSet => "scale set",
            CreateTarget::Vm => "virtual machine",
        }
    }
}

/// The wizard's steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CreateStep {
    /// Subscription, resource group, name, region.
    Basics,
    /// Orchestration, image, size, capacity, upgrade policy (a VM: image and size only).
    Instances,
    /// An existing VNet's subnet.
    Network,
    /// Admin user and its SSH key or password.
    Admin,
    /// System-assigned, user-assigned (existing or new).
    Identity,
    /// The requests and scripts, before anything is sent.
    Review,
}

impl CreateStep {
    /// Every step, in order.
    pub const ALL: [CreateStep; 6] = [
        CreateStep::Basics,
        CreateStep::Instances,
        CreateStep::Network,
        CreateStep::Admin,
        CreateStep::Identity,
        CreateStep::Review,
    ];

    /// The step's heading.
    pub fn title(self) -> &'static str {
        match self {
            CreateStep::Basics => "Basics",
            CreateStep::Instances => "Instances",
            CreateStep::Network => "Network",
            CreateStep::Admin => "Administrator",
            CreateStep::Identity => "Identity",
            CreateStep::Review => "Review",
        }
    }

    /// A stable slug (for ids and test selectors).
    pub fn slug(self) -> &'static str {
        match self {
            CreateStep::Basics => "basics",
            CreateStep::Instances => "instances",
            CreateStep::Network => "network",
            CreateStep::Admin => "admin",
            CreateStep::Identity => "identity",
            CreateStep::Review => "review",
        }
    }

    fn index(self) -> usize {
        CreateStep::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    fn next(self) -> CreateStep {
        CreateStep::ALL[(self.index() + 1).min(CreateStep::ALL.len() - 1)]
    }

    fn prev(self) -> CreateStep {
        CreateStep::ALL[self.index().saturating_sub(1)]
    }
}

/// A field of the wizard. Enumerated fields take their value as a string too (see
/// [`CreateAction::Set`]), so the app needs one kind of callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `scaleSet` or `vm` ([`CreateTarget`]).
    Target,
    Subscription,
    ResourceGroup,
    Name,
    Location,
    /// `Uniform` or `Flexible`.
    Orchestration,
    /// `ubuntu` or `windows`.
    Image,
    Sku,
    Capacity,
    /// `Manual` or `Automatic` (`Rolling` is refused with its reason).
    UpgradeMode,
    SubnetId,
    AdminUsername,
    SshKey,
    Password,
    /// `true` / `false`.
    SystemAssigned,
    /// The name of a user-assigned identity to create with the scale set (empty: none).
    NewIdentityName,
}

impl Field {
    /// The step the field belongs to.
    pub fn step(self) -> CreateStep {
        use Field::*;
        match self {
            Target | Subscription | ResourceGroup | Name | Location => CreateStep::Basics,
            Orchestration | Image | Sku | Capacity | UpgradeMode => CreateStep::Instances,
            SubnetId => CreateStep::Network,
            AdminUsername | SshKey | Password => CreateStep::Admin,
            SystemAssigned | NewIdentityName => CreateStep::Identity,
        }
    }
}

/// What the user did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateAction {
    /// Set a field from its text (see [`Field`] for the enumerated ones).
    Set(Field, String),
    /// Add or remove an existing user-assigned identity (its ARM id).
    ToggleUserAssigned(String),
    /// Go to the next step if this one is valid (else its errors are shown).
    Next,
    /// Back one step.
    Back,
    /// Jump back to an earlier step (never forward past an invalid one).
    GoTo(CreateStep),
}

/// The wizard's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateWizard {
    pub step: CreateStep,
    pub target: CreateTarget,
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    pub orchestration: Orchestration,
    pub image: ImagePreset,
    pub sku: String,
    /// As typed (validated as 0–1000).
    pub capacity: String,
    pub upgrade_mode: UpgradeMode,
    pub subnet_id: String,
    pub admin_username: String,
    pub ssh_key: String,
    pub password: String,
    pub system_assigned: bool,
    /// Existing user-assigned identities (ARM ids), in the order picked.
    pub user_assigned: Vec<String>,
    pub new_identity_name: String,
    /// Steps on which the user pressed Next: their errors show even for untouched fields.
    pub attempted: Vec<CreateStep>,
}

impl Default for CreateWizard {
    fn default() -> Self {
        CreateWizard {
            step: CreateStep::Basics,
            target: CreateTarget::ScaleSet,
            subscription: String::new(),
            resource_group: String::new(),
            name: String::new(),
            location: String::new(),
            orchestration: Orchestration::Uniform,
            image: ImagePreset::UbuntuLts,
            sku: String::new(),
            capacity: "2".into(),
            upgrade_mode: UpgradeMode::Manual,
            subnet_id: String::new(),
            admin_username: "azureuser".into(),
            ssh_key: String::new(),
            password: String::new(),
            system_assigned: true,
            user_assigned: Vec::new(),
            new_identity_name: String::new(),
            attempted: Vec::new(),
        }
    }
}

fn err(r: Result<(), naming::NameError>) -> Option<String> {
    r.err().map(|e| e.to_string())
}

/// The reason Flexible + system-assigned is refused.
pub const FLEXIBLE_SYSTEM_ASSIGNED: &str = "A Flexible scale set accepts only user-assigned identities: Azure rejects a system-assigned identity there (400 InvalidParameter). Choose Uniform orchestration, or use a user-assigned identity.";

impl CreateWizard {
    /// Apply an action.
    pub fn reduce(&self, action: CreateAction) -> CreateWizard {
        let mut w = self.clone();
        match action {
            CreateAction::Set(f, v) => w.set(f, v),
            CreateAction::ToggleUserAssigned(id) => {
                if let Some(i) = w
                    .user_assigned
                    .iter()
                    .position(|x| x.eq_ignore_ascii_case(&id))
                {
                    w.user_assigned.remove(i);
                } else {
                    w.user_assigned.push(id);
                }
            }
            CreateAction::Next => {
                if !w.attempted.contains(&w.step) {
                    w.attempted.push(w.step);
                }
                if w.step_errors(w.step).is_empty() {
                    w.step = w.step.next();
                }
            }
            CreateAction::Back => w.step = w.step.prev(),
            CreateAction::GoTo(s) => {
                if s <= w.step {
                    w.step = s;
                }
            }
        }
        w
    }

    fn set(&mut self, f: Field, v: String) {
        match f {
            Field::Target => {
                self.target = if v.eq_ignore_ascii_case("vm") {
                    CreateTarget::Vm
                } else {
                    CreateTarget::ScaleSet
                }
            }
            Field::Subscription => {
                if !self.subscription.eq_ignore_ascii_case(&v) {
                    // the group, the subnet and the picked identities belong to the old subscription
                    self.resource_group.clear();
                    self.subnet_id.clear();
                }
                self.subscription = v;
            }
            Field::ResourceGroup => self.resource_group = v,
            Field::Name => self.name = v,
            Field::Location => self.location = v,
            Field::Orchestration => {
                self.orchestration = if v.eq_ignore_ascii_case("flexible") {
                    Orchestration::Flexible
                } else {
                    Orchestration::Uniform
                }
            }
            Field::Image => {
                self.image = if v.to_ascii_lowercase().starts_with("win") {
                    ImagePreset::WindowsServer
                } else {
                    ImagePreset::UbuntuLts
                }
            }
            Field::Sku => self.sku = v,
            Field::Capacity => self.capacity = v,
            Field::UpgradeMode => {
                if let Some(m) = UpgradeMode::parse(&v) {
                    self.upgrade_mode = m
                }
            }
            Field::SubnetId => self.subnet_id = v,
            Field::AdminUsername => self.admin_username = v,
            Field::SshKey => self.ssh_key = v,
            Field::Password => self.password = v,
            Field::SystemAssigned => self.system_assigned = v == "true",
            Field::NewIdentityName => self.new_identity_name = v,
        }
    }

    /// The OS of the chosen image.
    pub fn os(&self) -> OsType {
        self.image.os()
    }

    /// The problem with one field, if any (whether or not it is shown yet).
    pub fn check(&self, f: Field) -> Option<String> {
        let os = self.os();
        match f {
            Field::Subscription => err(naming::validate_guid("subscription id", &self.subscription)),
            Field::ResourceGroup => err(naming::validate_resource_group_name(&self.resource_group)),
            Field::Target => None,
            Field::Name => err(match self.target {
                CreateTarget::ScaleSet => naming::validate_scale_set_name(&self.name, os),
                CreateTarget::Vm => naming::validate_vm_name(&self.name, os),
            }),
            Field::Location => (self.location.is_empty()
                || !self.location.chars().all(|c| c.is_ascii_alphanumeric()))
            .then(|| "choose a region".to_string()),
            Field::Orchestration | Field::Image => None,
            Field::Sku => self.sku.is_empty().then(|| "choose a VM size".to_string()),
            Field::Capacity | Field::UpgradeMode if self.target == CreateTarget::Vm => None,
            Field::Capacity => match self.capacity.trim().parse::<u32>() {
                Ok(n) if n <= 1000 => None,
                _ => Some(format!(
                    "capacity {:?} is not a whole number of instances, 0-1000: give one, like 2",
                    self.capacity
                )),
            },
            Field::UpgradeMode => (self.upgrade_mode == UpgradeMode::Rolling).then(|| {
                "a Rolling upgrade policy needs a health probe or the Application Health extension, which this scale set does not have; choose Manual or Automatic".to_string()
            }),
            Field::SubnetId => match ResourceId::parse(&self.subnet_id) {
                Ok(id)
                    if id.resource_type().is_some_and(|t| {
                        t.eq_ignore_ascii_case("Microsoft.Network/virtualNetworks/subnets")
                    }) =>
                {
                    None
                }
                _ => Some("choose an existing virtual network and subnet".to_string()),
            },
            Field::AdminUsername => err(validate_admin_username(&self.admin_username, os)),
            Field::SshKey => match os {
                OsType::Windows => None,
                OsType::Linux => {
                    let spec = self.vm_spec_unchecked();
                    spec.validate()
                        .into_iter()
                        .find(|e| e.what == "SSH public key")
                        .map(|e| e.to_string())
                }
            },
            Field::Password => match os {
                OsType::Linux => None,
                OsType::Windows => err(validate_admin_password(&self.password, os)),
            },
            Field::SystemAssigned => (self.target == CreateTarget::ScaleSet
                && self.orchestration == Orchestration::Flexible
                && self.system_assigned)
                .then(|| FLEXIBLE_SYSTEM_ASSIGNED.to_string()),
            Field::NewIdentityName => {
                if self.new_identity_name.is_empty() {
                    None
                } else {
                    err(naming::validate_user_assigned_identity_name(
                        &self.new_identity_name,
                    ))
                }
            }
        }
    }

    /// The fields of a step with their problems.
    pub fn step_errors(&self, step: CreateStep) -> Vec<(Field, String)> {
        use Field::*;
        let fields: &[Field] = match step {
            CreateStep::Basics => &[Target, Subscription, ResourceGroup, Name, Location],
            CreateStep::Instances => &[Sku, Capacity, UpgradeMode],
            CreateStep::Network => &[SubnetId],
            CreateStep::Admin => &[AdminUsername, SshKey, Password],
            CreateStep::Identity => &[SystemAssigned, NewIdentityName],
            CreateStep::Review => &[],
        };
        let mut out: Vec<(Field, String)> = fields
            .iter()
            .filter_map(|f| self.check(*f).map(|e| (*f, e)))
            .collect();
        // A name that is valid for Linux can be too long for Windows: recheck it where the image is chosen.
        if step == CreateStep::Instances
            && let Some(e) = self.check(Name)
            && self.attempted.contains(&CreateStep::Basics)
        {
            out.push((Name, e));
        }
        if step == CreateStep::Identity
            && !self.system_assigned
            && self.user_assigned.is_empty()
            && self.new_identity_name.is_empty()
        {
            out.push((
                SystemAssigned,
                "choose at least one identity: system-assigned, an existing user-assigned identity, or a new one".into(),
            ));
        }
        out
    }

    /// The error to show next to a field: shown once the field has text, or once the user
    /// tried to leave its step.
    pub fn error(&self, f: Field) -> Option<String> {
        let typed = match f {
            Field::Subscription => !self.subscription.is_empty(),
            Field::ResourceGroup => !self.resource_group.is_empty(),
            Field::Name => !self.name.is_empty(),
            Field::Sku => !self.sku.is_empty(),
            Field::SubnetId => !self.subnet_id.is_empty(),
            Field::SshKey => !self.ssh_key.is_empty(),
            Field::Password => !self.password.is_empty(),
            Field::Location => !self.location.is_empty(),
            _ => true,
        };
        if typed || self.attempted.contains(&f.step()) {
            self.step_errors(f.step())
                .into_iter()
                .find(|(x, _)| *x == f)
                .map(|(_, e)| e)
        } else {
            None
        }
    }

    /// The new user-assigned identity, if one is asked for: same subscription, group and region.
    pub fn new_identity(&self) -> Option<UserAssignedIdentitySpec> {
        (!self.new_identity_name.is_empty()).then(|| UserAssignedIdentitySpec {
            subscription: self.subscription.clone(),
            resource_group: self.resource_group.clone(),
            name: self.new_identity_name.clone(),
            location: self.location.clone(),
        })
    }

    fn identity_request(&self) -> IdentityRequest {
        let mut user_assigned = self.user_assigned.clone();
        if let Some(n) = self.new_identity() {
            user_assigned.push(
                ResourceId::user_assigned_identity(&n.subscription, &n.resource_group, &n.name)
                    .as_str()
                    .to_string(),
            );
        }
        IdentityRequest {
            system_assigned: self.system_assigned,
            user_assigned,
        }
    }

    fn admin_auth(&self) -> AdminAuth {
        match self.os() {
            OsType::Linux => AdminAuth::SshPublicKey(self.ssh_key.trim().to_string()),
            OsType::Windows => AdminAuth::Password(self.password.clone()),
        }
    }

    fn vm_spec_unchecked(&self) -> VmSpec {
        VmSpec {
            subscription: self.subscription.clone(),
            resource_group: self.resource_group.clone(),
            name: self.name.clone(),
            location: self.location.clone(),
            size: self.sku.clone(),
            image: self.image,
            subnet_id: self.subnet_id.clone(),
            admin_username: self.admin_username.clone(),
            admin_auth: self.admin_auth(),
            identity: self.identity_request(),
        }
    }

    fn spec_unchecked(&self) -> ScaleSetSpec {
        ScaleSetSpec {
            subscription: self.subscription.clone(),
            resource_group: self.resource_group.clone(),
            name: self.name.clone(),
            location: self.location.clone(),
            orchestration: self.orchestration,
            sku: self.sku.clone(),
            capacity: self.capacity.trim().parse().unwrap_or(0),
            image: self.image,
            subnet_id: self.subnet_id.clone(),
            admin_username: self.admin_username.clone(),
            admin_auth: self.admin_auth(),
            upgrade_mode: self.upgrade_mode,
            identity: self.identity_request(),
        }
    }

    fn all_steps_valid(&self) -> Result<(), Vec<(Field, String)>> {
        for s in CreateStep::ALL {
            let e = self.step_errors(s);
            if !e.is_empty() {
                return Err(e);
            }
        }
        Ok(())
    }

    /// The scale set to create, once every step is valid (else the first step's errors).
    pub fn spec(&self) -> Result<ScaleSetSpec, Vec<(Field, String)>> {
        self.all_steps_valid().map(|()| self.spec_unchecked())
    }

    /// The VM to create, once every step is valid (else the first step's errors).
    pub fn vm_spec(&self) -> Result<VmSpec, Vec<(Field, String)>> {
        self.all_steps_valid().map(|()| self.vm_spec_unchecked())
    }

    /// The review: the identity to create first (if any) and the scale set or VM, with their
    /// plans. The plans refuse what Azure would reject (e.g. Flexible + system-assigned) even if
    /// the steps were skipped.
    pub fn review(&self) -> CreateReview {
        let spec = self.spec_unchecked();
        let identity = self.new_identity().map(|s| {
            let p = create_user_assigned_identity(&s);
            (s, p)
        });
        let plan = create_scale_set(&spec);
        let vm = (self.target == CreateTarget::Vm).then(|| {
            let spec = self.vm_spec_unchecked();
            let plan = create_vm(&spec);
            (spec, plan)
        });
        CreateReview {
            identity,
            scale_set: (spec, plan),
            vm,
        }
    }
}

/// What the review shows and Apply sends, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateReview {
    /// A new user-assigned identity, created first.
    pub identity: Option<(UserAssignedIdentitySpec, Plan)>,
    /// The scale set (the wizard's fields read as a scale set; what Apply sends when the
    /// target is a scale set).
    pub scale_set: (ScaleSetSpec, Plan),
    /// The VM, when the target is a VM: then this, not `scale_set`, is what Apply sends.
    pub vm: Option<(VmSpec, Plan)>,
}

impl CreateReview {
    /// The plan of the resource Apply creates (the VM's when the target is a VM).
    pub fn resource_plan(&self) -> &Plan {
        match &self.vm {
            Some((_, p)) => p,
            None => &self.scale_set.1,
        }
    }

    /// The scripts' view of the resource's plan (scale set or VM).
    pub fn script_plan(&self, cloud: crate::scripts::Cloud) -> crate::scripts::ScriptPlan {
        match &self.vm {
            Some((spec, plan)) => crate::scripts::ScriptPlan::from_vm(cloud, spec, plan),
            None => crate::scripts::ScriptPlan::from_scale_set(
                cloud,
                &self.scale_set.0,
                &self.scale_set.1,
            ),
        }
    }

    /// The first refusal, if any plan refuses.
    pub fn refusal(&self) -> Option<String> {
        self.identity
            .as_ref()
            .and_then(|(_, p)| p.refusal().map(str::to_string))
            .or_else(|| self.resource_plan().refusal().map(str::to_string))
    }
}

/// The scopes a role can be granted at for a resource (or group, or subscription) id, narrowest
/// last: `("subscription", …)`, `("resource group", …)`, `("resource", …)`.
///
/// ```
/// use identity_core::create_wizard::grant_scopes;
/// let s = grant_scopes("/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/v");
/// assert_eq!(s.iter().map(|(k, _)| *k).collect::<Vec<_>>(), ["subscription", "resource group", "resource"]);
/// assert_eq!(s[1].1, "/subscriptions/s/resourceGroups/g");
/// ```
pub fn grant_scopes(id: &str) -> Vec<(&'static str, String)> {
    let Ok(r) = ResourceId::parse(id) else {
        return Vec::new();
    };
    let mut out = vec![(
        "subscription",
        format!("/subscriptions/{}", r.subscription()),
    )];
    if let Some(g) = r.resource_group() {
        out.push((
            "resource group",
            format!("/subscriptions/{}/resourceGroups/{g}", r.subscription()),
        ));
        if r.resource_type().is_some() {
            out.push(("resource", r.as_str().to_string()));
        }
    }
    out
}

/// Role definitions whose name or description contains every word of `query` (ignoring case),
/// names that start with the query first. `roles` are `(name, description)`; the result holds
/// indices into it.
///
/// ```
/// use identity_core::create_wizard::search_roles;
/// let roles = [("Reader", "View all resources"), ("Storage Blob Data Reader", "Read blobs"), ("Owner", "Full access")];
/// assert_eq!(search_roles(&roles, "reader"), vec![0, 1]);
/// assert_eq!(search_roles(&roles, "blob read"), vec![1]);
/// ```
pub fn search_roles(roles: &[(&str, &str)], query: &str) -> Vec<usize> {
    let q = query.trim().to_lowercase();
    let words: Vec<&str> = q.split_whitespace().collect();
    let mut hits: Vec<(bool, usize)> = roles
        .iter()
        .enumerate()
        .filter(|(_, (n, d))| {
            let hay = format!("{} {}", n.to_lowercase(), d.to_lowercase());
            words.iter().all(|w| hay.contains(w))
        })
        .map(|(i, (n, _))| (!n.to_lowercase().starts_with(&q), i))
        .collect();
    hits.sort();
    hits.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::create::Orchestration;

    const SUB: &str = "11111111-1111-4111-8111-111111111111";

    fn subnet() -> String {
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default"
        )
    }

    fn filled() -> CreateWizard {
        let mut w = CreateWizard::default();
        for (f, v) in [
            (Field::Subscription, SUB.to_string()),
            (Field::ResourceGroup, "rg-web".into()),
            (Field::Name, "vmss-new".into()),
            (Field::Location, "westeurope".into()),
        ] {
            w = w.reduce(CreateAction::Set(f, v));
        }
        w = w.reduce(CreateAction::Next);
        assert_eq!(
            w.step,
            CreateStep::Instances,
            "{:?}",
            w.step_errors(CreateStep::Basics)
        );
        w = w.reduce(CreateAction::Set(Field::Sku, "Standard_B2s".into()));
        w = w.reduce(CreateAction::Next);
        w = w.reduce(CreateAction::Set(Field::SubnetId, subnet()));
        w = w.reduce(CreateAction::Next);
        w = w.reduce(CreateAction::Set(
            Field::SshKey,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG me@host".into(),
        ));
        w = w.reduce(CreateAction::Next);
        assert_eq!(w.step, CreateStep::Identity);
        w
    }

    /// A VM: the same steps; its Instances step asks no capacity or upgrade policy (a bad
    /// capacity left from the scale set does not block it), the name follows the VM (computer
    /// name) rule, system-assigned is fine with any orchestration left over, and the review plans
    /// the VM's PUT and its scripts.
    #[test]
    fn a_vm_takes_the_same_steps_without_scale_set_fields() {
        let mut w = CreateWizard::default().reduce(CreateAction::Set(Field::Target, "vm".into()));
        assert_eq!(w.target, CreateTarget::Vm);
        for (f, v) in [
            (Field::Subscription, SUB.to_string()),
            (Field::ResourceGroup, "rg-web".into()),
            (Field::Name, "vm-web-0123456789".into()),
            (Field::Location, "westeurope".into()),
            (Field::Capacity, "lots".into()),
            (Field::UpgradeMode, "Rolling".into()),
            (Field::Orchestration, "Flexible".into()),
        ] {
            w = w.reduce(CreateAction::Set(f, v));
        }
        w = w.reduce(CreateAction::Next);
        assert_eq!(w.step, CreateStep::Instances);
        // Windows: the 17-character name is too long for a computer name, rechecked here
        w = w.reduce(CreateAction::Set(Field::Image, "windows".into()));
        w = w.reduce(CreateAction::Set(Field::Sku, "Standard_B2s".into()));
        let errs = w.step_errors(CreateStep::Instances);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].1.contains("virtual machine name") && errs[0].1.contains("1-15"),
            "{errs:?}"
        );
        w = w.reduce(CreateAction::Set(Field::Image, "ubuntu".into()));
        w = w.reduce(CreateAction::Next);
        assert_eq!(w.step, CreateStep::Network);
        w = w.reduce(CreateAction::Set(Field::SubnetId, subnet()));
        w = w.reduce(CreateAction::Next);
        w = w.reduce(CreateAction::Set(
            Field::SshKey,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG me@host".into(),
        ));
        w = w.reduce(CreateAction::Next);
        assert_eq!(w.step, CreateStep::Identity);
        assert_eq!(w.check(Field::SystemAssigned), None);
        w = w.reduce(CreateAction::Next);
        assert_eq!(w.step, CreateStep::Review);
        let spec = w.vm_spec().unwrap();
        assert_eq!(spec.size, "Standard_B2s");
        let r = w.review();
        assert_eq!(r.refusal(), None);
        let (vspec, plan) = r.vm.as_ref().unwrap();
        assert_eq!(vspec, &spec);
        assert!(std::ptr::eq(r.resource_plan(), plan));
        let req = &plan.requests()[0];
        assert!(req.path.ends_with("/virtualMachines/vm-web-0123456789"));
        assert_eq!(req.header("If-None-Match"), Some("*"));
        let sp = r.script_plan(crate::scripts::Cloud::AzureCloud);
        let cli = crate::scripts::generate(&sp, crate::scripts::Flavour::CliBash).text;
        assert!(cli.contains("az vm create"), "{cli}");
        // the same fields as a scale set are refused where the scale set's rules apply
        let ss = w.reduce(CreateAction::Set(Field::Target, "scaleSet".into()));
        assert!(ss.review().vm.is_none());
        assert!(ss.check(Field::Capacity).is_some());
        assert!(ss.check(Field::SystemAssigned).is_some());
        assert!(ss.review().refusal().is_some());
    }

    #[test]
    fn each_step_blocks_until_valid_and_names_the_rule() {
        let w = CreateWizard::default();
        assert_eq!(w.error(Field::Name), None, "untouched fields show nothing");
        let w = w.reduce(CreateAction::Set(Field::Name, "bad name!".into()));
        let e = w.error(Field::Name).unwrap();
        assert!(e.contains("bad name!") && e.contains("not allowed"), "{e}");
        let w = w.reduce(CreateAction::Next);
        assert_eq!(w.step, CreateStep::Basics);
        assert!(w.error(Field::Subscription).is_some());
        assert!(w.error(Field::Location).is_some());
    }

    #[test]
    fn windows_needs_a_complex_password_and_a_short_name() {
        let mut w = filled();
        w = w.reduce(CreateAction::GoTo(CreateStep::Instances));
        w = w.reduce(CreateAction::Set(Field::Image, "windows".into()));
        w = w.reduce(CreateAction::Set(
            Field::Name,
            "a-name-longer-than-15".into(),
        ));
        assert!(w.error(Field::Name).unwrap().contains("1-15"));
        w = w.reduce(CreateAction::Next);
        assert_eq!(
            w.step,
            CreateStep::Instances,
            "the long name blocks the step"
        );
        w = w.reduce(CreateAction::Set(Field::Name, "vmsswin".into()));
        w = w.reduce(CreateAction::Next);
        w = w.reduce(CreateAction::Next);
        assert_eq!(w.step, CreateStep::Admin);
        w = w.reduce(CreateAction::Set(
            Field::Password,
            "alllowercaseletters".into(),
        ));
        assert!(w.error(Field::Password).unwrap().contains("three of"));
        w = w.reduce(CreateAction::Next);
        assert_eq!(w.step, CreateStep::Admin);
        w = w.reduce(CreateAction::Set(Field::Password, "Correct-Horse-9".into()));
        w = w.reduce(CreateAction::Next);
        assert_eq!(w.step, CreateStep::Identity);
        let spec = w.spec().unwrap();
        assert_eq!(
            spec.admin_auth,
            AdminAuth::Password("Correct-Horse-9".into())
        );
        assert_eq!(w.check(Field::SshKey), None, "no SSH key needed on Windows");
    }

    #[test]
    fn flexible_with_system_assigned_is_refused_with_the_reason() {
        let mut w = filled();
        w = w.reduce(CreateAction::GoTo(CreateStep::Instances));
        w = w.reduce(CreateAction::Set(Field::Orchestration, "Flexible".into()));
        for _ in 0..3 {
            w = w.reduce(CreateAction::Next);
        }
        assert_eq!(w.step, CreateStep::Identity);
        assert!(w.system_assigned);
        assert!(w.error(Field::SystemAssigned).unwrap().contains("Flexible"));
        let w2 = w.reduce(CreateAction::Next);
        assert_eq!(w2.step, CreateStep::Identity);
        // the plan refuses it too, independently of the step check
        assert!(w.review().refusal().unwrap().contains("Flexible"));
        // user-assigned only is fine on Flexible
        let w3 = w
            .reduce(CreateAction::Set(Field::SystemAssigned, "false".into()))
            .reduce(CreateAction::Set(Field::NewIdentityName, "id-flex".into()))
            .reduce(CreateAction::Next);
        assert_eq!(w3.step, CreateStep::Review);
        assert_eq!(w3.review().refusal(), None);
    }

    #[test]
    fn no_identity_at_all_is_an_error() {
        let w = filled()
            .reduce(CreateAction::Set(Field::SystemAssigned, "false".into()))
            .reduce(CreateAction::Next);
        assert_eq!(w.step, CreateStep::Identity);
        assert!(
            w.error(Field::SystemAssigned)
                .unwrap()
                .contains("at least one")
        );
    }

    #[test]
    fn review_creates_the_new_identity_first_and_references_it_in_the_scale_set() {
        let existing = format!(
            "/subscriptions/{SUB}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-shared"
        );
        let w = filled()
            .reduce(CreateAction::ToggleUserAssigned(existing.clone()))
            .reduce(CreateAction::Set(Field::NewIdentityName, "id-new".into()))
            .reduce(CreateAction::Next);
        assert_eq!(w.step, CreateStep::Review);
        let r = w.review();
        let (uai, uplan) = r.identity.clone().unwrap();
        assert_eq!(
            (uai.resource_group.as_str(), uai.location.as_str()),
            ("rg-web", "westeurope")
        );
        let new_id = uplan.requests()[0].path.clone();
        let body = r.scale_set.1.requests()[0].body.clone().unwrap();
        let map = body["identity"]["userAssignedIdentities"]
            .as_object()
            .unwrap();
        assert_eq!(map.len(), 2);
        assert!(map.keys().any(|k| k.eq_ignore_ascii_case(&new_id)));
        assert!(map.keys().any(|k| k.eq_ignore_ascii_case(&existing)));
        assert_eq!(body["identity"]["type"], "SystemAssigned, UserAssigned");
        // toggling again removes it
        let w = w.reduce(CreateAction::ToggleUserAssigned(existing.to_uppercase()));
        assert!(w.user_assigned.is_empty());
    }

    #[test]
    fn changing_subscription_clears_what_belonged_to_it() {
        let w = filled().reduce(CreateAction::Set(
            Field::Subscription,
            "22222222-2222-4222-8222-222222222222".into(),
        ));
        assert!(w.resource_group.is_empty() && w.subnet_id.is_empty());
        assert_eq!(w.name, "vmss-new");
    }

    #[test]
    fn navigation_is_bounded_and_goto_never_skips_forward() {
        let w = CreateWizard::default().reduce(CreateAction::Back);
        assert_eq!(w.step, CreateStep::Basics);
        let w = w.reduce(CreateAction::GoTo(CreateStep::Review));
        assert_eq!(w.step, CreateStep::Basics);
        let w = filled()
            .reduce(CreateAction::Next)
            .reduce(CreateAction::Next);
        assert_eq!(w.step, CreateStep::Review);
        assert_eq!(w.reduce(CreateAction::Back).step, CreateStep::Identity);
    }

    #[test]
    fn capacity_and_rolling_are_validated() {
        let mut w = filled().reduce(CreateAction::GoTo(CreateStep::Instances));
        for bad in ["", "-1", "1001", "two"] {
            w = w.reduce(CreateAction::Set(Field::Capacity, bad.into()));
            assert!(w.error(Field::Capacity).is_some(), "{bad:?}");
        }
        w = w.reduce(CreateAction::Set(Field::Capacity, " 3 ".into()));
        assert_eq!(w.error(Field::Capacity), None);
        w = w.reduce(CreateAction::Set(Field::UpgradeMode, "rolling".into()));
        assert!(
            w.error(Field::UpgradeMode)
                .unwrap()
                .contains("health probe")
        );
        w = w.reduce(CreateAction::Set(Field::UpgradeMode, "Automatic".into()));
        assert_eq!(w.error(Field::UpgradeMode), None);
        assert_eq!(w.spec_unchecked().capacity, 3);
        assert_eq!(w.spec_unchecked().orchestration, Orchestration::Uniform);
    }

    #[test]
    fn grant_scopes_follow_the_id_and_reject_garbage() {
        let s = grant_scopes(&subnet());
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].1, format!("/subscriptions/{SUB}"));
        assert_eq!(s[2].1, subnet());
        assert_eq!(
            grant_scopes(&format!("/subscriptions/{SUB}/resourceGroups/g")).len(),
            2
        );
        assert!(grant_scopes("not an id").is_empty());
    }

    #[test]
    fn role_search_matches_words_anywhere_and_prefers_name_prefixes() {
        let roles = [
            ("Storage Blob Data Reader", "Allows read access to blobs"),
            ("Reader", "View all resources"),
            ("Contributor", "Manage everything except access"),
        ];
        assert_eq!(search_roles(&roles, "READER"), vec![1, 0]);
        assert_eq!(search_roles(&roles, "access"), vec![0, 2]);
        assert_eq!(search_roles(&roles, "  "), vec![0, 1, 2]);
        assert!(search_roles(&roles, "owner").is_empty());
    }
}
