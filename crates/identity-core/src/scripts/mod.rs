//! Equivalent scripts for every plan: Az PowerShell (idiomatic and exact), legacy AzureRM,
//! Azure CLI (idiomatic and `az rest`, for bash and for PowerShell), and snippet-only scripts
//! that read the state when they run.
//!
//! Every user-supplied string is quoted by [`quote`]; every script is plain text that runs as
//! printed (no placeholders, every variable defined).
//!
//! ```
//! use identity_core::scripts::*;
//! let target = Resource::new("00000000-0000-0000-0000-000000000000", "rg", "vmss1", TargetKind::ScaleSetUniform);
//! let ua = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";
//! let plan = ScriptPlan::identity(
//!     Cloud::AzureCloud,
//!     target,
//!     Identities { system: true, user: vec![] },
//!     Identities { system: true, user: vec![ua.into()] },
//!     Some("\"4\"".into()),
//! );
//! let ps = generate(&plan, Flavour::AzPowerShell);
//! assert!(ps.text.contains("-IdentityType SystemAssignedUserAssigned"));
//! assert!(ps.text.contains("-IfMatch $etag"));
//! ```

pub mod batch;
pub mod quote;

mod azurerm;
mod cli;
mod create;
mod powershell;
mod rest;
mod snippet;

use crate::api_versions;
use crate::create::{
    AdminAuth, Orchestration, RoleAssignmentSpec, ScaleSetSpec, UserAssignedIdentitySpec, VmSpec,
};
use crate::identity::{IdentityState, UserAssignedIdentity};
use crate::operation::Operation;
use crate::plan::Plan;
use crate::request::{ArmRequest, Method};
use crate::resource::{ResourceKind, ResourceState};
use serde::{Deserialize, Serialize};

pub use crate::plan::Outcome;
pub use cli::AZ_CLI_MIN_VERSION;
pub use snippet::{CLI_IDENTITY_QUERY, Intent, SnippetRequest, snippet, snippet_all};

/// The Azure cloud the script signs in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cloud {
    AzureCloud,
    AzureUSGovernment,
    AzureChinaCloud,
}

impl Cloud {
    /// All clouds, for tests and pickers.
    pub const ALL: [Cloud; 3] = [
        Cloud::AzureCloud,
        Cloud::AzureUSGovernment,
        Cloud::AzureChinaCloud,
    ];

    /// The name used by `Connect-AzAccount -Environment` and `az cloud set --name`.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "AzureCloud",
            Cloud::AzureUSGovernment => "AzureUSGovernment",
            Cloud::AzureChinaCloud => "AzureChinaCloud",
        }
    }

    /// The ARM endpoint (no trailing slash), from the one cloud table (`clouds.json`).
    pub fn arm_endpoint(self) -> &'static str {
        crate::clouds::by_name(self.name())
            .map(|c| c.arm_endpoint.as_str())
            .expect("every script cloud is in clouds.json")
    }
}

/// What kind of compute resource carries the identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TargetKind {
    ScaleSetUniform,
    ScaleSetFlexible,
    Vm,
}

impl TargetKind {
    pub const ALL: [TargetKind; 3] = [
        TargetKind::ScaleSetUniform,
        TargetKind::ScaleSetFlexible,
        TargetKind::Vm,
    ];

    pub fn is_vm(self) -> bool {
        self == TargetKind::Vm
    }

    /// `vmss` or `vm` (the Azure CLI command group).
    pub fn cli_group(self) -> &'static str {
        if self.is_vm() { "vm" } else { "vmss" }
    }

    fn provider_type(self) -> &'static str {
        if self.is_vm() {
            "virtualMachines"
        } else {
            "virtualMachineScaleSets"
        }
    }

    fn noun(self) -> &'static str {
        match self {
            TargetKind::ScaleSetUniform => "scale set (Uniform)",
            TargetKind::ScaleSetFlexible => "scale set (Flexible)",
            TargetKind::Vm => "virtual machine",
        }
    }
}

impl From<ResourceKind> for TargetKind {
    fn from(k: ResourceKind) -> Self {
        match k {
            ResourceKind::ScaleSetUniform => TargetKind::ScaleSetUniform,
            ResourceKind::ScaleSetFlexible => TargetKind::ScaleSetFlexible,
            ResourceKind::Vm => TargetKind::Vm,
        }
    }
}

/// A scale set or VM, by its parts (as the resource itself spells them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
    pub kind: TargetKind,
}

impl Resource {
    /// Build from parts.
    pub fn new(
        subscription_id: impl Into<String>,
        resource_group: impl Into<String>,
        name: impl Into<String>,
        kind: TargetKind,
    ) -> Self {
        Resource {
            subscription_id: subscription_id.into(),
            resource_group: resource_group.into(),
            name: name.into(),
            kind,
        }
    }

    /// The ARM path `/subscriptions/…/providers/Microsoft.Compute/{type}/{name}`.
    pub fn path(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/{}/{}",
            self.subscription_id,
            self.resource_group,
            self.kind.provider_type(),
            self.name
        )
    }
}

/// An identity set: the system-assigned flag and the user-assigned ids (as ARM holds them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identities {
    pub system: bool,
    pub user: Vec<String>,
}

impl Identities {
    /// Does the set contain this user-assigned id (ARM ids compare ignoring case)?
    pub fn has_user(&self, id: &str) -> bool {
        self.user.iter().any(|u| u.eq_ignore_ascii_case(id))
    }

    /// The ARM wire `type`: `SystemAssigned`, `UserAssigned`, `SystemAssigned, UserAssigned`, `None`.
    pub fn arm_type(&self) -> &'static str {
        match (self.system, !self.user.is_empty()) {
            (true, true) => "SystemAssigned, UserAssigned",
            (true, false) => "SystemAssigned",
            (false, true) => "UserAssigned",
            (false, false) => "None",
        }
    }

    /// The PowerShell enum member name (`-IdentityType`): `SystemAssignedUserAssigned` for the combined type.
    pub fn ps_enum(&self) -> &'static str {
        match (self.system, !self.user.is_empty()) {
            (true, true) => "SystemAssignedUserAssigned",
            (true, false) => "SystemAssigned",
            (false, true) => "UserAssigned",
            (false, false) => "None",
        }
    }

    /// From the model's identity state (ids as the resource holds them).
    pub fn from_state(s: &IdentityState) -> Self {
        Identities {
            system: s.system_assigned,
            user: s.user_assigned.iter().map(|u| u.id.clone()).collect(),
        }
    }

    /// To the model's identity state (no read-only values).
    pub fn to_state(&self) -> IdentityState {
        IdentityState {
            system_assigned: self.system,
            principal_id: None,
            tenant_id: None,
            user_assigned: self
                .user
                .iter()
                .map(|u| UserAssignedIdentity::new(u.clone()))
                .collect(),
        }
    }

    fn describe(&self) -> String {
        let mut parts = vec![format!(
            "system-assigned: {}",
            if self.system { "yes" } else { "no" }
        )];
        if self.user.is_empty() {
            parts.push("user-assigned: none".into());
        } else {
            let names: Vec<String> = self.user.iter().map(|u| last_segment(u)).collect();
            parts.push(format!("user-assigned: {}", names.join(", ")));
        }
        parts.join("; ")
    }
}

/// What a plan changes (the data the scripts need besides the exact requests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Change {
    /// An identity change on an existing scale set or VM (PATCH with only `identity`).
    Identity {
        target: Resource,
        before: Identities,
        after: Identities,
    },
    /// Create a user-assigned identity.
    CreateUserAssigned {
        subscription_id: String,
        resource_group: String,
        name: String,
        location: String,
    },
    /// A role assignment for an identity's principal (principalType ServicePrincipal).
    RoleAssignment {
        subscription_id: String,
        scope: String,
        principal_id: String,
        /// Full role definition id (`/subscriptions/…/providers/Microsoft.Authorization/roleDefinitions/<guid>`) or a GUID.
        role_definition_id: String,
    },
    /// Create a scale set or a VM (`target.kind`) with identities (PUT with `If-None-Match: *`).
    /// The admin password, if any, is never written into a script: the request body carries
    /// [`ADMIN_PASSWORD_SLOT`] and the scripts prompt for the password when they run.
    Create {
        target: Resource,
        after: Identities,
        admin_username: String,
        password: bool,
    },
    /// Remove the retired managed-identity extension (plus the instance upgrade a Manual scale set needs).
    RemoveExtension {
        target: Resource,
        extension: String,
        manual_upgrade: bool,
    },
}

/// Everything a script generator needs: cloud, change, outcome (with the exact requests) and warnings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptPlan {
    pub cloud: Cloud,
    pub change: Change,
    pub outcome: Outcome,
    pub warnings: Vec<String>,
}

impl ScriptPlan {
    /// An identity change with the request the app would send (PATCH with only `identity`,
    /// kept ids as `{}`, removed as `null`, `If-Match` when an etag is known), or a no-op /
    /// refusal. Useful when the caller has states but no plan object.
    pub fn identity(
        cloud: Cloud,
        target: Resource,
        before: Identities,
        after: Identities,
        etag: Option<String>,
    ) -> Self {
        let outcome = if target.kind == TargetKind::ScaleSetFlexible && after.system {
            Outcome::Refused(
                "A Flexible scale set accepts only UserAssigned or None identities; manage the system-assigned identity on each member VM.".into(),
            )
        } else if before.to_state().same_identities(&after.to_state()) {
            Outcome::Noop("The identities are already as requested.".into())
        } else {
            let mut r = ArmRequest::new(Method::Patch, target.path(), api_versions::COMPUTE);
            if let Some(e) = etag {
                r.headers.push(("If-Match".into(), e));
            }
            r.body = Some(crate::plan::identity_body(
                &before.to_state(),
                after.system,
                &after.user,
            ));
            Outcome::Requests(vec![r])
        };
        ScriptPlan {
            cloud,
            change: Change::Identity {
                target,
                before,
                after,
            },
            outcome,
            warnings: Vec::new(),
        }
    }

    /// The scripts' view of a plan made by [`crate::plan::plan`] for `op` on `state`.
    ///
    /// ```
    /// use identity_core::{plan::plan, operation::Operation, resource::ResourceState};
    /// use identity_core::scripts::{Cloud, Flavour, ScriptPlan, generate};
    /// let body = serde_json::json!({
    ///   "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss1",
    ///   "etag": "\"7\"", "identity": {"type": "SystemAssigned", "principalId": "p"}});
    /// let st = ResourceState::from_arm(&body, None).unwrap();
    /// let op = Operation::RemoveSystemAssigned;
    /// let sp = ScriptPlan::from_plan(Cloud::AzureCloud, &st, &op, &plan(&st, &op));
    /// let ps = generate(&sp, Flavour::AzPowerShell).text;
    /// assert!(ps.contains("-IdentityType None -IfMatch $etag"));
    /// ```
    pub fn from_plan(cloud: Cloud, state: &ResourceState, op: &Operation, plan: &Plan) -> Self {
        let target = Resource::new(
            state.id.subscription(),
            state.id.resource_group().unwrap_or_default(),
            state.id.name(),
            TargetKind::from(state.kind),
        );
        let change = match op {
            Operation::RemoveLegacyExtension { .. } => Change::RemoveExtension {
                target,
                extension: state
                    .legacy_extension
                    .as_ref()
                    .map(|e| e.name.clone())
                    .unwrap_or_default(),
                manual_upgrade: plan
                    .requests()
                    .iter()
                    .any(|r| r.path.to_ascii_lowercase().ends_with("/manualupgrade")),
            },
            _ => Change::Identity {
                target,
                before: Identities::from_state(&plan.before),
                after: Identities::from_state(&plan.after),
            },
        };
        ScriptPlan {
            cloud,
            change,
            outcome: plan.outcome.clone(),
            warnings: plan.warnings.iter().map(|w| w.message.clone()).collect(),
        }
    }

    /// The scripts' view of [`crate::create::create_user_assigned_identity`].
    pub fn from_user_assigned_identity(
        cloud: Cloud,
        spec: &UserAssignedIdentitySpec,
        plan: &Plan,
    ) -> Self {
        ScriptPlan {
            cloud,
            change: Change::CreateUserAssigned {
                subscription_id: spec.subscription.clone(),
                resource_group: spec.resource_group.clone(),
                name: spec.name.clone(),
                location: spec.location.clone(),
            },
            outcome: plan.outcome.clone(),
            warnings: plan.warnings.iter().map(|w| w.message.clone()).collect(),
        }
    }

    /// The scripts' view of [`crate::create::create_scale_set`]. A password in the body is
    /// replaced by [`ADMIN_PASSWORD_SLOT`]; the scripts read it at run time.
    ///
    /// ```
    /// use identity_core::create::*;
    /// use identity_core::resource::UpgradeMode;
    /// use identity_core::scripts::{Cloud, Flavour, ScriptPlan, generate};
    /// let spec = ScaleSetSpec {
    ///     subscription: "00000000-0000-0000-0000-000000000000".into(), resource_group: "rg".into(),
    ///     name: "vmss1".into(), location: "westus2".into(), orchestration: Orchestration::Uniform,
    ///     sku: "Standard_D2s_v3".into(), capacity: 2, image: ImagePreset::WindowsServer,
    ///     subnet_id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s".into(),
    ///     admin_username: "azureadmin".into(), admin_auth: AdminAuth::Password("S3cret!Passw0rd".into()),
    ///     upgrade_mode: UpgradeMode::Manual,
    ///     identity: IdentityRequest { system_assigned: true, user_assigned: vec![] } };
    /// let sp = ScriptPlan::from_scale_set(Cloud::AzureCloud, &spec, &create_scale_set(&spec));
    /// let ps = generate(&sp, Flavour::AzPowerShellExact).text;
    /// assert!(!ps.contains("S3cret!Passw0rd"));
    /// assert!(ps.contains("Read-Host"));
    /// // the idiomatic forms: the New-AzVmssConfig chain and az vmss create
    /// let az = generate(&sp, Flavour::AzPowerShell).text;
    /// assert!(az.contains("New-AzVmssConfig") && az.contains("-IdentityType SystemAssigned"));
    /// assert!(az.contains("-IfNoneMatch '*'") && !az.contains("S3cret!Passw0rd"));
    /// let cli = generate(&sp, Flavour::CliBash).text;
    /// assert!(cli.contains("az vmss create") && cli.contains("--assign-identity '[system]'"));
    /// ```
    pub fn from_scale_set(cloud: Cloud, spec: &ScaleSetSpec, plan: &Plan) -> Self {
        let kind = match spec.orchestration {
            Orchestration::Uniform => TargetKind::ScaleSetUniform,
            Orchestration::Flexible => TargetKind::ScaleSetFlexible,
        };
        let target = Resource::new(
            spec.subscription.clone(),
            spec.resource_group.clone(),
            spec.name.clone(),
            kind,
        );
        let password = matches!(spec.admin_auth, AdminAuth::Password(_));
        Self::from_create(cloud, target, &spec.admin_username, password, plan)
    }

    /// The scripts' view of [`crate::create::create_vm`], like [`ScriptPlan::from_scale_set`].
    ///
    /// ```
    /// use identity_core::create::*;
    /// use identity_core::scripts::{Cloud, Flavour, ScriptPlan, generate};
    /// let spec = VmSpec {
    ///     subscription: "00000000-0000-0000-0000-000000000000".into(), resource_group: "rg".into(),
    ///     name: "vm1".into(), location: "westus2".into(), size: "Standard_D2s_v3".into(),
    ///     image: ImagePreset::WindowsServer,
    ///     subnet_id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s".into(),
    ///     admin_username: "azureadmin".into(), admin_auth: AdminAuth::Password("S3cret!Passw0rd".into()),
    ///     identity: IdentityRequest { system_assigned: true, user_assigned: vec![] } };
    /// let sp = ScriptPlan::from_vm(Cloud::AzureCloud, &spec, &create_vm(&spec));
    /// let cli = generate(&sp, Flavour::CliBash).text;
    /// assert!(cli.contains("az vm create") && cli.contains("--assign-identity '[system]'"));
    /// assert!(!cli.contains("S3cret!Passw0rd"));
    /// let ps = generate(&sp, Flavour::AzPowerShell).text;
    /// assert!(ps.contains("If-None-Match") && ps.contains("Read-Host") && !ps.contains("S3cret!Passw0rd"));
    /// ```
    pub fn from_vm(cloud: Cloud, spec: &VmSpec, plan: &Plan) -> Self {
        let target = Resource::new(
            spec.subscription.clone(),
            spec.resource_group.clone(),
            spec.name.clone(),
            TargetKind::Vm,
        );
        let password = matches!(spec.admin_auth, AdminAuth::Password(_));
        Self::from_create(cloud, target, &spec.admin_username, password, plan)
    }

    fn from_create(
        cloud: Cloud,
        target: Resource,
        admin_username: &str,
        password: bool,
        plan: &Plan,
    ) -> Self {
        let mut outcome = plan.outcome.clone();
        if let Outcome::Requests(reqs) = &mut outcome {
            for r in reqs {
                for pointer in [
                    crate::create::ADMIN_PASSWORD_POINTER,
                    crate::create::VM_ADMIN_PASSWORD_POINTER,
                ] {
                    if let Some(pw) = r.body.as_mut().and_then(|b| b.pointer_mut(pointer)) {
                        *pw = serde_json::Value::String(ADMIN_PASSWORD_SLOT.into());
                    }
                }
            }
        }
        ScriptPlan {
            cloud,
            change: Change::Create {
                target,
                after: Identities::from_state(&plan.after),
                admin_username: admin_username.to_string(),
                password,
            },
            outcome,
            warnings: plan.warnings.iter().map(|w| w.message.clone()).collect(),
        }
    }

    /// The scripts' view of [`crate::create::role_assignment`].
    pub fn from_role_assignment(cloud: Cloud, spec: &RoleAssignmentSpec, plan: &Plan) -> Self {
        let subscription_id = crate::resource_id::ResourceId::parse(&spec.scope)
            .map(|id| id.subscription().to_string())
            .unwrap_or_default();
        ScriptPlan {
            cloud,
            change: Change::RoleAssignment {
                subscription_id,
                scope: spec.scope.clone(),
                principal_id: spec.principal_id.clone(),
                role_definition_id: spec.role_definition.clone(),
            },
            outcome: plan.outcome.clone(),
            warnings: plan.warnings.iter().map(|w| w.message.clone()).collect(),
        }
    }

    /// The `If-Match` value of the first request, if any.
    pub fn if_match(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Requests(rs) => rs.iter().find_map(|r| r.header("If-Match")),
            _ => None,
        }
    }

    /// The body of the first request (`Null` when none): the create PUT's body.
    fn create_body(&self) -> &serde_json::Value {
        static NULL: serde_json::Value = serde_json::Value::Null;
        self.requests()
            .first()
            .and_then(|r| r.body.as_ref())
            .unwrap_or(&NULL)
    }

    fn requests(&self) -> &[ArmRequest] {
        match &self.outcome {
            Outcome::Requests(rs) => rs,
            _ => &[],
        }
    }
}

/// The user ids removed between two states (kept in `before`'s spelling).
pub fn removed_users(before: &Identities, after: &Identities) -> Vec<String> {
    before
        .user
        .iter()
        .filter(|u| !after.has_user(u))
        .cloned()
        .collect()
}

/// The user ids added between two states.
pub fn added_users(before: &Identities, after: &Identities) -> Vec<String> {
    after
        .user
        .iter()
        .filter(|u| !before.has_user(u))
        .cloned()
        .collect()
}

/// The value that stands for the admin password in a create body handed to the scripts; the
/// scripts replace it with a password read when they run (never written into the script).
pub const ADMIN_PASSWORD_SLOT: &str = "__ADMIN_PASSWORD_READ_AT_RUN_TIME__";

/// Split serialised JSON around the password slot (the quoted string): `(before, after)`.
pub(crate) fn split_secret(json: &str) -> Option<(String, String)> {
    let slot = format!("\"{ADMIN_PASSWORD_SLOT}\"");
    let i = json.find(&slot)?;
    Some((json[..i].to_string(), json[i + slot.len()..].to_string()))
}

/// Script flavours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Flavour {
    /// Az PowerShell cmdlets (Update-AzVmss / Update-AzVM …), self-contained.
    AzPowerShell,
    /// The exact request in PowerShell (Invoke-AzRestMethod, or Invoke-RestMethod when If-Match is needed).
    AzPowerShellExact,
    /// Legacy AzureRM 6.13 names (retired 29 February 2024).
    AzureRm,
    /// Azure CLI commands for bash.
    CliBash,
    /// Azure CLI commands for PowerShell.
    CliPowerShell,
    /// `az rest` with the exact request, for bash.
    CliRestBash,
    /// `az rest` with the exact request, for PowerShell.
    CliRestPowerShell,
}

impl Flavour {
    pub const ALL: [Flavour; 7] = [
        Flavour::AzPowerShell,
        Flavour::AzPowerShellExact,
        Flavour::AzureRm,
        Flavour::CliBash,
        Flavour::CliPowerShell,
        Flavour::CliRestBash,
        Flavour::CliRestPowerShell,
    ];

    /// The shell the script is written for.
    pub fn language(self) -> Language {
        match self {
            Flavour::CliBash | Flavour::CliRestBash => Language::Bash,
            _ => Language::PowerShell,
        }
    }

    /// A short title for a tab.
    pub fn title(self) -> &'static str {
        match self {
            Flavour::AzPowerShell => "Az PowerShell",
            Flavour::AzPowerShellExact => "Az PowerShell (exact REST)",
            Flavour::AzureRm => "AzureRM (retired)",
            Flavour::CliBash => "Azure CLI (bash)",
            Flavour::CliPowerShell => "Azure CLI (PowerShell)",
            Flavour::CliRestBash => "az rest (bash)",
            Flavour::CliRestPowerShell => "az rest (PowerShell)",
        }
    }

    /// A stable slug (file names, snapshot names).
    pub fn slug(self) -> &'static str {
        match self {
            Flavour::AzPowerShell => "az-powershell",
            Flavour::AzPowerShellExact => "az-powershell-exact",
            Flavour::AzureRm => "azurerm",
            Flavour::CliBash => "cli-bash",
            Flavour::CliPowerShell => "cli-powershell",
            Flavour::CliRestBash => "cli-rest-bash",
            Flavour::CliRestPowerShell => "cli-rest-powershell",
        }
    }
}

/// Script language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Language {
    PowerShell,
    Bash,
}

/// A generated script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    pub flavour: Flavour,
    pub language: Language,
    pub text: String,
}

/// Generate one flavour for a plan.
pub fn generate(plan: &ScriptPlan, flavour: Flavour) -> Script {
    let text = match flavour {
        Flavour::AzPowerShell => powershell::cmdlets(plan, &powershell::AZ),
        Flavour::AzPowerShellExact => rest::az_exact(plan),
        Flavour::AzureRm => azurerm::script(plan),
        Flavour::CliBash => cli::idiomatic(plan, Language::Bash),
        Flavour::CliPowerShell => cli::idiomatic(plan, Language::PowerShell),
        Flavour::CliRestBash => cli::rest(plan, Language::Bash),
        Flavour::CliRestPowerShell => cli::rest(plan, Language::PowerShell),
    };
    Script {
        flavour,
        language: flavour.language(),
        text,
    }
}

/// Every flavour for a plan, in [`Flavour::ALL`] order.
pub fn generate_all(plan: &ScriptPlan) -> Vec<Script> {
    Flavour::ALL.iter().map(|f| generate(plan, *f)).collect()
}

// ---- shared helpers for the generators ----

/// Text safe inside a `#` comment line (PowerShell and bash): control and line-separator
/// characters become `?`, so user text cannot end the comment.
pub(crate) fn comment_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' || c == '\u{85}' {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// The last `/`-separated segment of an id (for display only).
pub(crate) fn last_segment(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_string()
}

/// Header comment lines shared by every flavour.
pub(crate) fn header_lines(plan: &ScriptPlan, flavour_line: &str) -> Vec<String> {
    let mut out = vec![format!("# {}", comment_safe(flavour_line))];
    out.push(format!("# {}", comment_safe(&summary(&plan.change))));
    if let Change::Identity { before, after, .. } = &plan.change {
        out.push(format!("# Before: {}", comment_safe(&before.describe())));
        out.push(format!("# After:  {}", comment_safe(&after.describe())));
    }
    for w in &plan.warnings {
        out.push(format!("# Warning: {}", comment_safe(w)));
    }
    out
}

/// One-line description of a change.
pub(crate) fn summary(change: &Change) -> String {
    match change {
        Change::Create { target, after, .. } => format!(
            "Create the {} '{}' in resource group '{}' with identities ({})",
            target.kind.noun(),
            target.name,
            target.resource_group,
            after.describe()
        ),
        Change::Identity { target, .. } => format!(
            "Identity change on {} '{}' in resource group '{}' (subscription {})",
            target.kind.noun(),
            target.name,
            target.resource_group,
            target.subscription_id
        ),
        Change::CreateUserAssigned {
            resource_group,
            name,
            location,
            ..
        } => format!(
            "Create the user-assigned identity '{name}' in resource group '{resource_group}' ({location})"
        ),
        Change::RoleAssignment {
            scope,
            principal_id,
            role_definition_id,
            ..
        } => format!(
            "Grant role {} to principal {principal_id} (ServicePrincipal) at scope {scope}",
            last_segment(role_definition_id)
        ),
        Change::RemoveExtension {
            target, extension, ..
        } => format!(
            "Remove the retired extension '{extension}' from {} '{}' (tokens come from IMDS instead)",
            target.kind.noun(),
            target.name
        ),
    }
}

/// The lines of a plan that sends nothing: a no-op says so (exit 0); a refusal prints its reason to
/// standard error and stops with a non-zero exit (bash `exit 1`, PowerShell `throw`), in every flavour.
/// `None` when the plan sends requests.
pub(crate) fn nothing_to_send(plan: &ScriptPlan, lang: Language) -> Option<Vec<String>> {
    let reason = match &plan.outcome {
        Outcome::Noop(reason) => reason,
        // a refusal stops with a non-zero exit in every flavour, so a pipeline can tell it from success
        Outcome::Refused(reason) => return Some(cli::refuse(lang, reason)),
        Outcome::Requests(_) => return None,
    };
    let msg = format!("Nothing to do: {reason} No request is sent.");
    Some(vec![match lang {
        Language::PowerShell => format!("Write-Output {}", quote::ps_single(&msg)),
        Language::Bash => format!("echo {}", quote::sh_single(&msg)),
    }])
}

/// The subscription a plan works in.
pub(crate) fn subscription_of(change: &Change) -> &str {
    match change {
        Change::Identity { target, .. }
        | Change::RemoveExtension { target, .. }
        | Change::Create { target, .. } => &target.subscription_id,
        Change::CreateUserAssigned {
            subscription_id, ..
        }
        | Change::RoleAssignment {
            subscription_id, ..
        } => subscription_id,
    }
}

/// The GUID of a role definition id (its last segment).
pub(crate) fn role_guid(role_definition_id: &str) -> String {
    last_segment(role_definition_id)
}

/// Does a Compute request start a long-running operation worth waiting for?
pub(crate) fn is_compute_write(r: &ArmRequest) -> bool {
    matches!(r.method, Method::Patch | Method::Put | Method::Post)
        && r.path
            .to_ascii_lowercase()
            .contains("/providers/microsoft.compute/")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scripts' clouds are exactly the cloud table's, with the same names and endpoints.
    #[test]
    fn script_clouds_are_the_cloud_table() {
        let names: Vec<&str> = Cloud::ALL.iter().map(|c| c.name()).collect();
        let table: Vec<&str> = crate::clouds::all()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, table);
        for c in Cloud::ALL {
            let row = crate::clouds::by_name(c.name()).unwrap();
            assert_eq!(c.arm_endpoint(), row.arm_endpoint);
            assert_eq!(
                c.name(),
                row.ps_environment,
                "Connect-AzAccount -Environment"
            );
            assert_eq!(c.name(), row.cli_cloud, "az cloud set --name");
        }
    }

    #[test]
    fn comment_safe_strips_line_breaks() {
        assert_eq!(comment_safe("a\nb\r\u{2028}c"), "a?b??c");
    }
}
