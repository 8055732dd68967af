//! Pinned ARM api-versions: one constant per resource type, in one place.
//! See ../shared/arm/CONTRACT.md §1.1 (2024-11-01 is etag-capable and proven in recordings).

/// Microsoft.Compute virtualMachineScaleSets / virtualMachines (GET, PATCH, PUT, manualupgrade, extensions).
pub const COMPUTE: &str = "2024-11-01";
/// Microsoft.ManagedIdentity userAssignedIdentities.
pub const MANAGED_IDENTITY: &str = "2024-11-30";
/// Subscriptions, tenants, locations.
pub const SUBSCRIPTIONS: &str = "2022-12-01";
/// Resource groups (Microsoft.Resources).
pub const RESOURCES: &str = "2024-11-01";
/// Microsoft.Authorization role definitions / role assignments.
pub const AUTHORIZATION: &str = "2022-04-01";
/// Microsoft.Network virtual networks and subnets.
pub const NETWORK: &str = "2024-05-01";
/// Microsoft.ResourceGraph resources query.
pub const RESOURCE_GRAPH: &str = "2024-04-01";
