//! Plans that create things: a scale set with identities, a user-assigned identity, a role
//! assignment for an identity's principal.
//!
//! Every function is pure: role-assignment names (GUIDs) are supplied by the caller.

use crate::api_versions;
use crate::identity::{IdentityState, UserAssignedIdentity};
use crate::naming::{self, NameError, OsType};
use crate::plan::{Outcome, Plan, Warning, WarningCode, check_ua_ids, create_identity_value};
use crate::request::{ArmRequest, Method};
use crate::resource::UpgradeMode;
use crate::resource_id::{IdKind, ResourceId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Orchestration mode of a new scale set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Orchestration {
    Uniform,
    Flexible,
}

/// Image presets offered by the create wizard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ImagePreset {
    /// Ubuntu Server 24.04 LTS (`Canonical:ubuntu-24_04-lts:server:latest`).
    UbuntuLts,
    /// Windows Server 2022 Datacenter Azure Edition (`MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest`).
    WindowsServer,
}

impl ImagePreset {
    /// The OS the image runs.
    pub fn os(self) -> OsType {
        match self {
            ImagePreset::UbuntuLts => OsType::Linux,
            ImagePreset::WindowsServer => OsType::Windows,
        }
    }

    /// `(publisher, offer, sku, version)`.
    pub fn reference(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            ImagePreset::UbuntuLts => ("Canonical", "ubuntu-24_04-lts", "server", "latest"),
            ImagePreset::WindowsServer => (
                "MicrosoftWindowsServer",
                "WindowsServer",
                "2022-datacenter-azure-edition",
                "latest",
            ),
        }
    }
}

/// How the admin user signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AdminAuth {
    /// An OpenSSH public key line (Linux only).
    SshPublicKey(String),
    /// A password (Windows; Linux too, with password authentication enabled).
    Password(String),
}

/// Identities for a new resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentityRequest {
    pub system_assigned: bool,
    #[serde(default)]
    pub user_assigned: Vec<String>,
}

/// Everything a minimal valid scale set PUT needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaleSetSpec {
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    pub orchestration: Orchestration,
    /// VM size, e.g. `Standard_D2s_v3`.
    pub sku: String,
    pub capacity: u32,
    pub image: ImagePreset,
    /// An existing subnet: `/subscriptions/…/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}`.
    pub subnet_id: String,
    pub admin_username: String,
    pub admin_auth: AdminAuth,
    pub upgrade_mode: UpgradeMode,
    pub identity: IdentityRequest,
}

/// Admin user names Azure refuses.
pub const RESERVED_ADMIN_NAMES: &[&str] = &[
    "administrator",
    "admin",
    "user",
    "user1",
    "test",
    "user2",
    "test1",
    "user3",
    "admin1",
    "1",
    "123",
    "a",
    "actuser",
    "adm",
    "admin2",
    "aspnet",
    "backup",
    "console",
    "david",
    "guest",
    "john",
    "owner",
    "root",
    "server",
    "sql",
    "support",
    "support_388945a0",
    "sys",
    "test2",
    "test3",
    "user4",
    "user5",
];

fn name_err(what: &'static str, name: &str, rule: impl Into<String>) -> NameError {
    NameError {
        what,
        name: name.to_string(),
        rule: rule.into(),
    }
}

/// Admin user name: not reserved, 1–20 (Windows) / 1–32 (Linux) characters, letters, digits,
/// `-`, `_`, `.`, not ending with `.`.
pub fn validate_admin_username(name: &str, os: OsType) -> Result<(), NameError> {
    const W: &str = "admin user name";
    let max = if os == OsType::Windows { 20 } else { 32 };
    if let Some(rule) = naming::length_rule(name.chars().count(), 1, max, &format!(" for {os:?}")) {
        return Err(name_err(W, name, rule));
    }
    if RESERVED_ADMIN_NAMES
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
    {
        return Err(name_err(
            W,
            name,
            "is reserved by Azure (like admin, administrator, root, guest, test): choose another name",
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c)))
    {
        return Err(name_err(
            W,
            name,
            format!(
                "contains {c:?}, which is not allowed (only letters, digits, '-', '_' and '.'): remove it"
            ),
        ));
    }
    if name.ends_with('.') {
        return Err(name_err(
            W,
            name,
            "ends with '.', which is not allowed (a user name cannot end with a period): remove it",
        ));
    }
    Ok(())
}

/// Password complexity as Azure checks it: 12–123 characters on Windows (6–72 on Linux), no
/// control characters, and at least three of: a lower-case letter, an upper-case letter, a
/// digit, a special character.
///
/// ```
/// use identity_core::{create::validate_admin_password, naming::OsType};
/// assert!(validate_admin_password("Str0ng-enough!", OsType::Windows).is_ok());
/// assert!(validate_admin_password("alllowercase", OsType::Windows).unwrap_err().rule.contains("three of"));
/// ```
pub fn validate_admin_password(pw: &str, os: OsType) -> Result<(), NameError> {
    const W: &str = "admin password";
    let shown = ""; // never shown
    let (min, max) = if os == OsType::Windows {
        (12, 123)
    } else {
        (6, 72)
    };
    if let Some(rule) = naming::length_rule(pw.chars().count(), min, max, &format!(" for {os:?}")) {
        return Err(name_err(W, shown, rule));
    }
    if pw.chars().any(char::is_control) {
        return Err(name_err(
            W,
            shown,
            "contains a control character, which is not allowed: remove it",
        ));
    }
    let classes = [
        pw.chars().any(|c| c.is_lowercase()),
        pw.chars().any(|c| c.is_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|b| **b).count() < 3 {
        return Err(name_err(
            W,
            shown,
            "is too simple (Azure wants three of: a lower-case letter, an upper-case letter, a digit, a special character): add the missing kinds",
        ));
    }
    Ok(())
}

fn validate_ssh_key(key: &str) -> Result<(), NameError> {
    let parts: Vec<&str> = key.split_whitespace().collect();
    let ok_type = parts
        .first()
        .is_some_and(|t| *t == "ssh-rsa" || *t == "ssh-ed25519" || t.starts_with("ecdsa-sha2-"));
    if !ok_type || parts.len() < 2 || key.contains('\n') {
        return Err(name_err(
            "SSH public key",
            "",
            "is not one OpenSSH public key line: paste the whole line of the .pub file, like 'ssh-ed25519 AAAA… comment' (ssh-rsa, ssh-ed25519 or ecdsa-sha2-…)",
        ));
    }
    Ok(())
}

/// The parts every compute create validates the same way (scale set and VM).
struct Common<'a> {
    /// The name's check (its rules depend on the kind of resource).
    name: Result<(), NameError>,
    subscription: &'a str,
    resource_group: &'a str,
    location: &'a str,
    size: &'a str,
    subnet_id: &'a str,
    admin_username: &'a str,
    admin_auth: &'a AdminAuth,
    os: OsType,
    user_assigned: &'a [String],
}

fn validate_common(c: &Common) -> Vec<NameError> {
    let mut errs = Vec::new();
    let mut push = |r: Result<(), NameError>| {
        if let Err(e) = r {
            errs.push(e);
        }
    };
    push(naming::validate_guid("subscription id", c.subscription));
    push(naming::validate_resource_group_name(c.resource_group));
    push(c.name.clone());
    if c.location.is_empty() || !c.location.chars().all(|ch| ch.is_ascii_alphanumeric()) {
        push(Err(name_err(
            "location",
            c.location,
            "is not a region name: choose one like 'westeurope' (letters and digits)",
        )));
    }
    if c.size.is_empty()
        || !c
            .size
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
    {
        push(Err(name_err(
            "VM size",
            c.size,
            "is not a VM size name: choose one like 'Standard_D2s_v3' (letters, digits, '_', '-')",
        )));
    }
    match ResourceId::parse(c.subnet_id) {
        Ok(id)
            if id.resource_type().is_some_and(|t| {
                t.eq_ignore_ascii_case("Microsoft.Network/virtualNetworks/subnets")
            }) => {}
        _ => push(Err(name_err(
            "subnet id",
            c.subnet_id,
            "is not a subnet's id: choose an existing subnet (/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet})",
        ))),
    }
    push(validate_admin_username(c.admin_username, c.os));
    match (c.admin_auth, c.os) {
        (AdminAuth::SshPublicKey(_), OsType::Windows) => push(Err(name_err(
            "admin credential",
            "",
            "is an SSH key, which a Windows image does not take: give a password",
        ))),
        (AdminAuth::SshPublicKey(k), OsType::Linux) => push(validate_ssh_key(k)),
        (AdminAuth::Password(p), os) => push(validate_admin_password(p, os)),
    }
    if let Err(e) = check_ua_ids(c.user_assigned) {
        push(Err(name_err(
            "user-assigned identity list",
            "",
            format!("holds an id that cannot be used: {e}"),
        )));
    }
    errs
}

/// The admin credential in an `osProfile` (scale set and VM alike).
fn add_credentials(os_profile: &mut Value, admin_username: &str, auth: &AdminAuth, os: OsType) {
    match (auth, os) {
        (AdminAuth::SshPublicKey(key), _) => {
            os_profile["linuxConfiguration"] = json!({
                "disablePasswordAuthentication": true,
                "ssh": {"publicKeys": [{
                    "path": format!("/home/{admin_username}/.ssh/authorized_keys"),
                    "keyData": key,
                }]}
            });
        }
        (AdminAuth::Password(pw), OsType::Linux) => {
            os_profile["adminPassword"] = json!(pw);
            os_profile["linuxConfiguration"] = json!({"disablePasswordAuthentication": false});
        }
        (AdminAuth::Password(pw), OsType::Windows) => {
            os_profile["adminPassword"] = json!(pw);
            os_profile["windowsConfiguration"] =
                json!({"provisionVMAgent": true, "enableAutomaticUpdates": true});
        }
    }
}

/// One primary NIC configuration `{name}-nic` with one IP configuration in the subnet (the
/// scale set's profile and the VM's `networkInterfaceConfigurations` have the same shape).
fn nic_configuration(name: &str, subnet_id: &str) -> Value {
    json!({
        "name": format!("{name}-nic"),
        "properties": {
            "primary": true,
            "ipConfigurations": [{
                "name": format!("{name}-ipconfig"),
                "properties": {"subnet": {"id": subnet_id}}
            }]
        }
    })
}

/// The `storageProfile` of an image preset (scale set profile and VM alike).
fn storage_profile(image: ImagePreset) -> Value {
    let (publisher, offer, sku, version) = image.reference();
    json!({
        "imageReference": {"publisher": publisher, "offer": offer, "sku": sku, "version": version},
        "osDisk": {"createOption": "FromImage", "caching": "ReadWrite", "managedDisk": {"storageAccountType": "Standard_LRS"}}
    })
}

impl ScaleSetSpec {
    /// The scale set's id.
    pub fn id(&self) -> ResourceId {
        ResourceId::scale_set(&self.subscription, &self.resource_group, &self.name)
    }

    /// Every problem with the spec (empty when valid). Flexible + system-assigned is not a
    /// validation error but a refusal of [`create_scale_set`].
    pub fn validate(&self) -> Vec<NameError> {
        let os = self.image.os();
        let mut errs = validate_common(&Common {
            name: naming::validate_scale_set_name(&self.name, os),
            subscription: &self.subscription,
            resource_group: &self.resource_group,
            location: &self.location,
            size: &self.sku,
            subnet_id: &self.subnet_id,
            admin_username: &self.admin_username,
            admin_auth: &self.admin_auth,
            os,
            user_assigned: &self.identity.user_assigned,
        });
        if self.capacity > 1000 {
            errs.push(name_err(
                "capacity",
                &self.capacity.to_string(),
                "is more than 1000 instances, the limit: choose 0-1000",
            ));
        }
        if self.upgrade_mode == UpgradeMode::Rolling {
            errs.push(name_err(
                "upgrade policy",
                "Rolling",
                "needs a health probe or the Application Health extension, which this minimal scale set does not have: choose Manual or Automatic",
            ));
        }
        errs
    }

    /// The PUT body (not validated).
    pub fn body(&self) -> Value {
        let os = self.image.os();
        let prefix_len = if os == OsType::Windows { 9 } else { 58 };
        let prefix: String = self
            .name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(prefix_len)
            .collect();
        let mut os_profile = json!({
            "computerNamePrefix": prefix,
            "adminUsername": self.admin_username,
        });
        add_credentials(&mut os_profile, &self.admin_username, &self.admin_auth, os);
        let nic = nic_configuration(&self.name, &self.subnet_id);
        let mut network = json!({"networkInterfaceConfigurations": [nic]});
        let mut props = json!({
            "orchestrationMode": match self.orchestration { Orchestration::Uniform => "Uniform", Orchestration::Flexible => "Flexible" },
            "upgradePolicy": {"mode": self.upgrade_mode.as_str()},
        });
        if self.orchestration == Orchestration::Flexible {
            // Flexible requires a fault-domain count and a network API version for NIC configurations.
            props["platformFaultDomainCount"] = json!(1);
            network["networkApiVersion"] = json!("2020-11-01");
        } else {
            props["overprovision"] = json!(false);
        }
        props["virtualMachineProfile"] = json!({
            "osProfile": os_profile,
            "storageProfile": storage_profile(self.image),
            "networkProfile": network,
        });
        let mut body = json!({
            "location": self.location,
            "sku": {"name": self.sku, "tier": "Standard", "capacity": self.capacity},
            "properties": props,
        });
        if let Some(identity) =
            create_identity_value(self.identity.system_assigned, &self.identity.user_assigned)
        {
            body["identity"] = identity;
        }
        body
    }
}

fn fresh(
    before: IdentityState,
    outcome: Outcome,
    warnings: Vec<Warning>,
    after: IdentityState,
) -> Plan {
    Plan {
        outcome,
        warnings,
        before,
        after,
        role_assignment_deletions: Vec::new(),
    }
}

fn refused(reason: String) -> Plan {
    fresh(
        IdentityState::none(),
        Outcome::Refused(reason),
        Vec::new(),
        IdentityState::none(),
    )
}

/// Plan the creation of a scale set with identities: one PUT with `If-None-Match: *` (so an
/// existing scale set is never overwritten). Invalid specs and Flexible + system-assigned are refused
/// with the rule that fails.
///
/// ```
/// use identity_core::create::*;
/// use identity_core::resource::UpgradeMode;
/// let spec = ScaleSetSpec {
///     subscription: "00000000-0000-0000-0000-000000000000".into(), resource_group: "rg".into(),
///     name: "vmss1".into(), location: "westeurope".into(), orchestration: Orchestration::Uniform,
///     sku: "Standard_B2s".into(), capacity: 2, image: ImagePreset::UbuntuLts,
///     subnet_id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/default".into(),
///     admin_username: "azureuser".into(), admin_auth: AdminAuth::SshPublicKey("ssh-ed25519 AAAAC3Nza me@host".into()),
///     upgrade_mode: UpgradeMode::Manual,
///     identity: IdentityRequest { system_assigned: true, user_assigned: vec![] },
/// };
/// let p = create_scale_set(&spec);
/// let r = &p.requests()[0];
/// assert_eq!(r.method.as_str(), "PUT");
/// assert_eq!(r.header("If-None-Match"), Some("*"));
/// assert_eq!(r.body.as_ref().unwrap()["identity"], serde_json::json!({"type": "SystemAssigned"}));
///
/// let flex = ScaleSetSpec { orchestration: Orchestration::Flexible, ..spec };
/// assert!(create_scale_set(&flex).refusal().unwrap().contains("Flexible"));
/// ```
pub fn create_scale_set(spec: &ScaleSetSpec) -> Plan {
    let errs = spec.validate();
    if !errs.is_empty() {
        let msg: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        return refused(msg.join("; "));
    }
    if spec.orchestration == Orchestration::Flexible && spec.identity.system_assigned {
        return refused(format!(
            "scale set {} would use Flexible orchestration, which accepts only UserAssigned or None identities: Azure rejects a system-assigned identity there (400 InvalidParameter). Choose Uniform, or use a user-assigned identity.",
            spec.name
        ));
    }
    let mut s = spec.clone();
    s.identity.user_assigned = check_ua_ids(&spec.identity.user_assigned).unwrap_or_default();
    create_put("scale set", spec.id().as_str(), s.body(), &spec.identity)
}

/// The `networkApiVersion` a VM's `networkInterfaceConfigurations` need (Compute creates the NIC
/// from the configuration with this Microsoft.Network version; a VM accepts it since Compute
/// api-version 2020-11-01).
pub const VM_NETWORK_API_VERSION: &str = "2020-11-01";

/// Everything a minimal valid VM PUT needs. The NIC is not a separate resource: the VM's
/// `networkProfile.networkInterfaceConfigurations` (with `networkApiVersion`) makes Compute
/// create it in the subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VmSpec {
    pub subscription: String,
    pub resource_group: String,
    /// The VM's name, also its computer name (so 1–15 characters for Windows).
    pub name: String,
    pub location: String,
    /// VM size, e.g. `Standard_D2s_v3`.
    pub size: String,
    pub image: ImagePreset,
    /// An existing subnet: `/subscriptions/…/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}`.
    pub subnet_id: String,
    pub admin_username: String,
    pub admin_auth: AdminAuth,
    pub identity: IdentityRequest,
}

impl VmSpec {
    /// The VM's id.
    pub fn id(&self) -> ResourceId {
        ResourceId::vm(&self.subscription, &self.resource_group, &self.name)
    }

    /// Every problem with the spec (empty when valid): the scale set's rules, with the VM name
    /// (also the computer name: 1–64 characters for Linux, 1–15 for Windows).
    pub fn validate(&self) -> Vec<NameError> {
        let os = self.image.os();
        validate_common(&Common {
            name: naming::validate_vm_name(&self.name, os),
            subscription: &self.subscription,
            resource_group: &self.resource_group,
            location: &self.location,
            size: &self.size,
            subnet_id: &self.subnet_id,
            admin_username: &self.admin_username,
            admin_auth: &self.admin_auth,
            os,
            user_assigned: &self.identity.user_assigned,
        })
    }

    /// The PUT body (not validated).
    pub fn body(&self) -> Value {
        let os = self.image.os();
        let mut os_profile = json!({
            "computerName": self.name,
            "adminUsername": self.admin_username,
        });
        add_credentials(&mut os_profile, &self.admin_username, &self.admin_auth, os);
        let mut body = json!({
            "location": self.location,
            "properties": {
                "hardwareProfile": {"vmSize": self.size},
                "osProfile": os_profile,
                "storageProfile": storage_profile(self.image),
                "networkProfile": {
                    "networkApiVersion": VM_NETWORK_API_VERSION,
                    "networkInterfaceConfigurations": [nic_configuration(&self.name, &self.subnet_id)],
                },
            },
        });
        if let Some(identity) =
            create_identity_value(self.identity.system_assigned, &self.identity.user_assigned)
        {
            body["identity"] = identity;
        }
        body
    }
}

/// One create PUT with `If-None-Match: *` and the identities it gives.
fn create_put(what: &str, path: &str, body: Value, identity: &IdentityRequest) -> Plan {
    let ids = check_ua_ids(&identity.user_assigned).unwrap_or_default();
    let mut req = ArmRequest::new(Method::Put, path, api_versions::COMPUTE);
    req.headers.push(("If-None-Match".into(), "*".into()));
    req.body = Some(body);
    let mut warnings = vec![Warning::new(
        WarningCode::Latency,
        format!(
            "Creating a {what} is a long-running operation (typically 1–5 minutes); the system-assigned principalId exists only once it is created."
        ),
    )];
    if identity.system_assigned || !ids.is_empty() {
        warnings.push(Warning::new(
            WarningCode::PrincipalReplication,
            "A role assignment for a new identity's principal can fail with PrincipalNotFound for up to a few minutes while it replicates; retry then.",
        ));
    }
    let after = IdentityState {
        system_assigned: identity.system_assigned,
        principal_id: None,
        tenant_id: None,
        user_assigned: ids.into_iter().map(UserAssignedIdentity::new).collect(),
    };
    fresh(
        IdentityState::none(),
        Outcome::Requests(vec![req]),
        warnings,
        after,
    )
}

/// Plan the creation of a VM with identities: one PUT with `If-None-Match: *` (an existing VM
/// is never overwritten); its NIC comes from `networkInterfaceConfigurations`. A VM accepts
/// system-assigned, user-assigned or both. Invalid specs are refused with the rule that fails.
///
/// ```
/// use identity_core::create::*;
/// let spec = VmSpec {
///     subscription: "00000000-0000-0000-0000-000000000000".into(), resource_group: "rg".into(),
///     name: "vm1".into(), location: "westeurope".into(), size: "Standard_B2s".into(),
///     image: ImagePreset::UbuntuLts,
///     subnet_id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/default".into(),
///     admin_username: "azureuser".into(), admin_auth: AdminAuth::SshPublicKey("ssh-ed25519 AAAAC3Nza me@host".into()),
///     identity: IdentityRequest { system_assigned: true, user_assigned: vec![] },
/// };
/// let p = create_vm(&spec);
/// let r = &p.requests()[0];
/// assert_eq!(r.method.as_str(), "PUT");
/// assert!(r.path.ends_with("/providers/Microsoft.Compute/virtualMachines/vm1"));
/// assert_eq!(r.header("If-None-Match"), Some("*"));
/// let body = r.body.as_ref().unwrap();
/// assert_eq!(body["identity"], serde_json::json!({"type": "SystemAssigned"}));
/// assert_eq!(body["properties"]["networkProfile"]["networkApiVersion"], "2020-11-01");
///
/// let windows = VmSpec { image: ImagePreset::WindowsServer, name: "a-windows-name-too-long".into(),
///     admin_auth: AdminAuth::Password("S3cret!Passw0rd".into()), ..spec };
/// assert!(create_vm(&windows).refusal().unwrap().contains("1-15 characters for Windows"));
/// ```
pub fn create_vm(spec: &VmSpec) -> Plan {
    let errs = spec.validate();
    if !errs.is_empty() {
        let msg: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        return refused(msg.join("; "));
    }
    let mut s = spec.clone();
    s.identity.user_assigned = check_ua_ids(&spec.identity.user_assigned).unwrap_or_default();
    create_put(
        "virtual machine",
        spec.id().as_str(),
        s.body(),
        &spec.identity,
    )
}

/// A new user-assigned identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserAssignedIdentitySpec {
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
    pub location: String,
}

/// Plan the creation of a user-assigned identity (PUT with `If-None-Match: *`, so an existing
/// identity of that name — and its principal, with the role assignments it holds — is never
/// replaced; synchronous; body `{"location":…}`).
///
/// ```
/// use identity_core::create::{create_user_assigned_identity, UserAssignedIdentitySpec};
/// let p = create_user_assigned_identity(&UserAssignedIdentitySpec {
///     subscription: "00000000-0000-0000-0000-000000000000".into(), resource_group: "rg".into(),
///     name: "id1".into(), location: "westcentralus".into() });
/// let r = &p.requests()[0];
/// assert!(r.path.ends_with("/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"));
/// assert_eq!(r.body, Some(serde_json::json!({"location": "westcentralus"})));
/// assert_eq!(r.header("If-None-Match"), Some("*"));
/// assert!(create_user_assigned_identity(&UserAssignedIdentitySpec { name: "x".into(), ..Default::default() }).refusal().is_some());
/// ```
pub fn create_user_assigned_identity(spec: &UserAssignedIdentitySpec) -> Plan {
    let mut errs = Vec::new();
    for r in [
        naming::validate_guid("subscription id", &spec.subscription),
        naming::validate_resource_group_name(&spec.resource_group),
        naming::validate_user_assigned_identity_name(&spec.name),
    ] {
        if let Err(e) = r {
            errs.push(e.to_string());
        }
    }
    if spec.location.is_empty() || !spec.location.chars().all(|c| c.is_ascii_alphanumeric()) {
        errs.push(
            name_err(
                "location",
                &spec.location,
                "is not a region name: choose one like 'westeurope' (letters and digits)",
            )
            .to_string(),
        );
    }
    if !errs.is_empty() {
        return refused(errs.join("; "));
    }
    let id =
        ResourceId::user_assigned_identity(&spec.subscription, &spec.resource_group, &spec.name);
    let mut req = ArmRequest::new(Method::Put, id.as_str(), api_versions::MANAGED_IDENTITY);
    req.headers.push(("If-None-Match".into(), "*".into()));
    req.body = Some(json!({"location": spec.location}));
    let warnings = vec![Warning::new(
        WarningCode::PrincipalReplication,
        "Do not delete and re-create an identity with the same name: its new client id is not picked up by IMDS caches for a while. A new identity's principal can be 'not found' by role assignments for a few minutes.",
    )];
    fresh(
        IdentityState::none(),
        Outcome::Requests(vec![req]),
        warnings,
        IdentityState::none(),
    )
}

/// A role assignment for an identity's principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleAssignmentSpec {
    /// Scope: a subscription, resource group or resource id.
    pub scope: String,
    /// A role definition GUID (e.g. Reader `acdd72a7-3385-48ef-bd42-f606fba81ae7`) or its full id.
    pub role_definition: String,
    /// The identity's principal (object) id.
    pub principal_id: String,
    /// The assignment's name: a new GUID chosen by the caller.
    pub assignment_name: String,
}

/// Plan a role assignment (PUT `{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}`
/// with `If-None-Match: *`, so an existing assignment of that name is never replaced — ARM answers
/// 412 PreconditionFailed instead; `principalType: ServicePrincipal`, which also lets a fresh
/// principal be assigned before it has replicated).
///
/// ```
/// use identity_core::create::{role_assignment, RoleAssignmentSpec};
/// let p = role_assignment(&RoleAssignmentSpec {
///     scope: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg".into(),
///     role_definition: "acdd72a7-3385-48ef-bd42-f606fba81ae7".into(),
///     principal_id: "ed85e730-10c0-4e47-8bbc-5b5190abbf97".into(),
///     assignment_name: "3f2504e0-4f89-41d3-9a0c-0305e82c3301".into() });
/// let r = &p.requests()[0];
/// assert_eq!(r.path, "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/3f2504e0-4f89-41d3-9a0c-0305e82c3301");
/// assert_eq!(r.body.as_ref().unwrap()["properties"]["principalType"], "ServicePrincipal");
/// assert_eq!(r.header("If-None-Match"), Some("*"));
/// ```
pub fn role_assignment(spec: &RoleAssignmentSpec) -> Plan {
    let mut errs = Vec::new();
    let scope = match ResourceId::parse(&spec.scope) {
        Ok(s) => Some(s),
        Err(e) => {
            errs.push(format!(
                "scope {:?} is not a resource id ({e}): give a subscription, resource group or resource id, like /subscriptions/{{subscriptionId}}/resourceGroups/{{group}}",
                spec.scope
            ));
            None
        }
    };
    if let Err(e) = naming::validate_guid("principal id", &spec.principal_id) {
        errs.push(e.to_string());
    }
    if let Err(e) = naming::validate_guid("role assignment name", &spec.assignment_name) {
        errs.push(e.to_string());
    }
    let role_id = if naming::validate_guid("role definition", &spec.role_definition).is_ok() {
        scope.as_ref().map(|s| {
            format!(
                "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{}",
                s.subscription(),
                spec.role_definition
            )
        })
    } else {
        let guid = spec.role_definition.rsplit('/').next().unwrap_or("");
        let lower = spec.role_definition.to_ascii_lowercase();
        if lower.contains("/providers/microsoft.authorization/roledefinitions/")
            && naming::validate_guid("role definition", guid).is_ok()
        {
            Some(spec.role_definition.clone())
        } else {
            errs.push(format!(
                "role definition {:?} is neither a GUID nor a role definition id: give its GUID (Reader is acdd72a7-3385-48ef-bd42-f606fba81ae7) or its id …/providers/Microsoft.Authorization/roleDefinitions/{{guid}}",
                spec.role_definition
            ));
            None
        }
    };
    if !errs.is_empty() {
        return refused(errs.join("; "));
    }
    let (Some(scope), Some(role_id)) = (scope, role_id) else {
        return refused(
            "the role assignment could not be read: check its scope and role definition".into(),
        );
    };
    let path = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{}",
        scope.as_str(),
        spec.assignment_name
    );
    let mut req = ArmRequest::new(Method::Put, path, api_versions::AUTHORIZATION);
    req.headers.push(("If-None-Match".into(), "*".into()));
    req.body = Some(json!({"properties": {
        "roleDefinitionId": role_id,
        "principalId": spec.principal_id,
        "principalType": "ServicePrincipal",
    }}));
    let mut warnings = vec![Warning::new(
        WarningCode::PrincipalReplication,
        "If the identity was created moments ago, Azure may answer PrincipalNotFound while the principal replicates; retry after a short wait.",
    )];
    if scope.kind() == IdKind::Subscription {
        warnings.push(Warning::new(
            WarningCode::BroadScope,
            "The scope is a whole subscription: prefer the narrowest scope that works.",
        ));
    }
    fresh(
        IdentityState::none(),
        Outcome::Requests(vec![req]),
        warnings,
        IdentityState::none(),
    )
}

/// A plan that creates something, as the `identity-plan` command reads it: an object with
/// `"op"` and the spec's fields (camelCase), like [`crate::operation::Operation`].
///
/// | `op` | fields |
/// |---|---|
/// | `createScaleSet` | the [`ScaleSetSpec`] fields |
/// | `createVm` | the [`VmSpec`] fields |
/// | `createUserAssignedIdentity` | `subscription`, `resourceGroup`, `name`, `location` |
/// | `createRoleAssignment` | `scope`, `roleDefinition`, `principalId`, `assignmentName` |
///
/// ```
/// use identity_core::create::CreateOperation;
/// let op: CreateOperation = serde_json::from_str(r#"{"op":"createUserAssignedIdentity",
///     "subscription":"00000000-0000-0000-0000-000000000000","resourceGroup":"rg","name":"id1","location":"westeurope"}"#).unwrap();
/// let p = op.plan();
/// assert_eq!(p.requests()[0].header("If-None-Match"), Some("*"));
/// // a misspelt field is an error, not a silently empty value
/// assert!(serde_json::from_str::<CreateOperation>(r#"{"op":"createUserAssignedIdentity","resourcegroup":"rg"}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum CreateOperation {
    /// [`create_scale_set`].
    CreateScaleSet(ScaleSetSpec),
    /// [`create_vm`].
    CreateVm(VmSpec),
    /// [`create_user_assigned_identity`].
    CreateUserAssignedIdentity(UserAssignedIdentitySpec),
    /// [`role_assignment`].
    CreateRoleAssignment(RoleAssignmentSpec),
}

impl CreateOperation {
    /// The plan: the same function, and so the same request, the app uses.
    pub fn plan(&self) -> Plan {
        match self {
            CreateOperation::CreateScaleSet(s) => create_scale_set(s),
            CreateOperation::CreateVm(s) => create_vm(s),
            CreateOperation::CreateUserAssignedIdentity(s) => create_user_assigned_identity(s),
            CreateOperation::CreateRoleAssignment(s) => role_assignment(s),
        }
    }

    /// Whether the operation carries a secret (a scale set's or VM's admin password).
    pub fn has_secret(&self) -> bool {
        match self {
            CreateOperation::CreateScaleSet(s) => matches!(s.admin_auth, AdminAuth::Password(_)),
            CreateOperation::CreateVm(s) => matches!(s.admin_auth, AdminAuth::Password(_)),
            _ => false,
        }
    }

    /// The JSON pointer of the admin password in the PUT body, for the creates that have one.
    pub fn password_pointer(&self) -> Option<&'static str> {
        match self {
            CreateOperation::CreateScaleSet(_) => Some(ADMIN_PASSWORD_POINTER),
            CreateOperation::CreateVm(_) => Some(VM_ADMIN_PASSWORD_POINTER),
            _ => None,
        }
    }
}

/// The JSON pointer of the admin password in a scale set's PUT body.
pub const ADMIN_PASSWORD_POINTER: &str =
    "/properties/virtualMachineProfile/osProfile/adminPassword";

/// The JSON pointer of the admin password in a VM's PUT body.
pub const VM_ADMIN_PASSWORD_POINTER: &str = "/properties/osProfile/adminPassword";
