//! The seed: the tenant the simulator starts with (JSON; documented in the crate README).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The whole starting state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// Tenant of every subscription and identity (`tenantId`).
    #[serde(default = "default_tenant")]
    pub tenant_id: String,
    /// Name of the tenant answered by `GET /tenants` (default `Contoso`).
    #[serde(default)]
    pub tenant_display_name: Option<String>,
    /// Further tenants the caller is a guest in, also answered by `GET /tenants` (no resources of
    /// their own here: subscriptions are not scoped by tenant in the simulator).
    #[serde(default)]
    pub guest_tenants: Vec<SeedTenant>,
    /// Seed of the PRNG that makes principal ids, client ids, operation ids and request ids.
    #[serde(default)]
    pub rng_seed: u64,
    /// Regions answered by `GET /subscriptions/{s}/locations`.
    #[serde(default)]
    pub locations: Vec<SeedLocation>,
    /// VM sizes answered by `…/providers/Microsoft.Compute/locations/{l}/vmSizes` (same list in every region).
    #[serde(default)]
    pub vm_sizes: Vec<SeedVmSize>,
    /// Subscriptions with their resource groups and resources.
    #[serde(default)]
    pub subscriptions: Vec<SeedSubscription>,
    /// Role assignments held from the start (listed by the API and by Resource Graph's
    /// `authorizationresources`; with a role map they also authorize).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_assignments: Vec<SeedRoleAssignment>,
}

/// A role assignment of the seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRoleAssignment {
    /// Assignment name (a GUID; generated when absent).
    #[serde(default)]
    pub name: Option<String>,
    /// `/subscriptions/{s}`, a group id or a resource id.
    pub scope: String,
    /// Built-in role name or GUID (`Reader`, `acdd72a7-…`).
    pub role: String,
    /// Object id of the principal (e.g. an identity's `principalId`).
    pub principal_id: String,
    /// `ServicePrincipal` (default), `User`, `Group`.
    #[serde(default)]
    pub principal_type: Option<String>,
    /// An ABAC condition, if any.
    #[serde(default)]
    pub condition: Option<String>,
}

/// A guest tenant listed by `GET /tenants`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTenant {
    pub tenant_id: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

pub(crate) fn default_tenant() -> String {
    "a1a1a1a1-0000-4000-8000-000000000001".into()
}

/// A region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedLocation {
    /// `westeurope`.
    pub name: String,
    /// `West Europe`.
    pub display_name: String,
    /// `(Europe) West Europe`; defaults to the display name.
    #[serde(default)]
    pub regional_display_name: Option<String>,
}

/// A VM size.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedVmSize {
    /// `Standard_D2s_v3`.
    pub name: String,
    /// vCPUs.
    pub number_of_cores: u32,
    /// Memory.
    pub memory_in_mb: u32,
    /// Data disks.
    #[serde(default = "default_disks")]
    pub max_data_disk_count: u32,
}

fn default_disks() -> u32 {
    4
}

/// A subscription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSubscription {
    /// GUID.
    pub subscription_id: String,
    /// Name shown to users.
    pub display_name: String,
    /// `Enabled` unless given.
    #[serde(default = "enabled")]
    pub state: String,
    /// Its resource groups.
    #[serde(default)]
    pub resource_groups: Vec<SeedGroup>,
}

fn enabled() -> String {
    "Enabled".into()
}

/// A resource group and what it holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedGroup {
    /// Name (casing kept).
    pub name: String,
    /// Region; also the default region of its resources.
    pub location: String,
    /// Tags.
    #[serde(default)]
    pub tags: Map<String, Value>,
    /// `managedBy` (AKS sets it on `MC_` groups to the cluster id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    /// User-assigned identities.
    #[serde(default)]
    pub user_assigned_identities: Vec<SeedUserIdentity>,
    /// Virtual networks.
    #[serde(default)]
    pub virtual_networks: Vec<SeedVnet>,
    /// Scale sets.
    #[serde(default)]
    pub virtual_machine_scale_sets: Vec<SeedCompute>,
    /// Virtual machines.
    #[serde(default)]
    pub virtual_machines: Vec<SeedCompute>,
    /// Resources as full ARM bodies (e.g. `az vmss show` output): scale sets, VMs, user-assigned identities,
    /// virtual networks, picked by `type`; the id is rebuilt in this group, `etag` kept, embedded extensions
    /// become extension resources. Other types are ignored.
    #[serde(default)]
    pub resources: Vec<Value>,
}

/// A user-assigned identity (principal and client ids are generated when absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedUserIdentity {
    /// Name.
    pub name: String,
    /// Region (default: the group's).
    #[serde(default)]
    pub location: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Map<String, Value>,
    /// Fixed principal id.
    #[serde(default)]
    pub principal_id: Option<String>,
    /// Fixed client id.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// A virtual network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedVnet {
    /// Name.
    pub name: String,
    /// Region (default: the group's).
    #[serde(default)]
    pub location: Option<String>,
    /// e.g. `["10.0.0.0/16"]`.
    pub address_prefixes: Vec<String>,
    /// Subnets.
    #[serde(default)]
    pub subnets: Vec<SeedSubnet>,
}

/// A subnet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSubnet {
    /// Name.
    pub name: String,
    /// e.g. `10.0.1.0/24`.
    pub address_prefix: String,
}

/// Identities of a seeded scale set or VM.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedIdentity {
    /// `SystemAssigned`, `UserAssigned`, `SystemAssigned, UserAssigned`.
    #[serde(rename = "type")]
    pub identity_type: String,
    /// Fixed system-assigned principal id (generated when absent).
    #[serde(default)]
    pub principal_id: Option<String>,
    /// User-assigned identities: a name in the same group, `group/name` in the same subscription, or a full id.
    #[serde(default)]
    pub user_assigned: Vec<String>,
}

/// An extension on a seeded scale set or VM.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedExtension {
    /// Name, e.g. `ManagedIdentityExtensionForLinux`.
    pub name: String,
    /// Publisher, e.g. `Microsoft.ManagedIdentity`.
    pub publisher: String,
    /// Handler type, e.g. `ManagedIdentityExtensionForLinux`.
    #[serde(rename = "type")]
    pub extension_type: String,
    /// e.g. `1.0`.
    #[serde(default = "v1")]
    pub type_handler_version: String,
    /// Public settings.
    #[serde(default)]
    pub settings: Option<Value>,
}

fn v1() -> String {
    "1.0".into()
}

/// A scale set or VM in compact form; the simulator expands it into a full ARM body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedCompute {
    /// Name.
    pub name: String,
    /// Region (default: the group's).
    #[serde(default)]
    pub location: Option<String>,
    /// VM size (default `Standard_D2s_v3`).
    #[serde(default)]
    pub sku: Option<String>,
    /// Scale sets: instance count (default 2).
    #[serde(default)]
    pub capacity: Option<u32>,
    /// Scale sets: `Uniform` (default) or `Flexible`.
    #[serde(default)]
    pub orchestration_mode: Option<String>,
    /// Scale sets: `Manual` (default), `Automatic` or `Rolling`.
    #[serde(default)]
    pub upgrade_policy: Option<String>,
    /// `Linux` (default, Ubuntu 24.04 LTS) or `Windows` (Windows Server 2022).
    #[serde(default)]
    pub os: Option<String>,
    /// Subnet: `vnet/subnet` in the same group or a full subnet id.
    #[serde(default)]
    pub subnet: Option<String>,
    /// Identities.
    #[serde(default)]
    pub identity: Option<SeedIdentity>,
    /// Extensions.
    #[serde(default)]
    pub extensions: Vec<SeedExtension>,
    /// Tags.
    #[serde(default)]
    pub tags: Map<String, Value>,
    /// Starting etag sequence number (default 1).
    #[serde(default)]
    pub etag: Option<u64>,
    /// JSON merged over the generated `properties` (to seed anything the compact form lacks).
    #[serde(default)]
    pub properties: Option<Value>,
}

impl Seed {
    /// Parses a seed file.
    ///
    /// ```
    /// let s = armsim::Seed::from_json(r#"{"subscriptions":[{"subscriptionId":"s1","displayName":"One"}]}"#).unwrap();
    /// assert_eq!(s.subscriptions[0].state, "Enabled");
    /// ```
    pub fn from_json(text: &str) -> Result<Seed, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid seed: {e}"))
    }

    /// The demo tenant (`seeds/demo.json`, compiled in).
    pub fn demo() -> Seed {
        Seed::from_json(include_str!("../seeds/demo.json")).expect("seeds/demo.json is valid")
    }

    /// A scale fixture: `scale_sets` scale sets spread evenly over `subscriptions` subscriptions, with the
    /// realistic identity mix of [`crate::tenant::TenantSpec`] (no VMs, one identity per subscription); see
    /// [`Seed::generate_tenant`] for VMs and more identities.
    ///
    /// ```
    /// let s = armsim::Seed::generate_scale(10, 3);
    /// let n: usize = s.subscriptions.iter()
    ///     .flat_map(|s| &s.resource_groups).map(|g| g.virtual_machine_scale_sets.len()).sum();
    /// assert_eq!(n, 10);
    /// ```
    pub fn generate_scale(scale_sets: usize, subscriptions: usize) -> Seed {
        Seed::generate_tenant(&crate::tenant::TenantSpec {
            subscriptions,
            scale_sets,
            vms: 0,
            identities: subscriptions.max(1),
        })
    }
}
