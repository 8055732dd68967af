//! The api-versions the simulator accepts per resource family, and ARM's 400 answers for others.
//!
//! Lists: the versions the contract names (az CLI 2.86 recordings: Compute 2024-11-01 / 2025-11-01 / 2026-04-01,
//! ManagedIdentity 2025-05-31-preview, resource groups 2024-11-01; identity-core's pinned constants) plus the
//! published stable versions of each spec that use the `userAssignedIdentities` dictionary (≥ 2018-06-01).

use crate::error::ArmError;

/// A resource family with its own api-version list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Subscriptions,
    ResourceGroups,
    Compute,
    ManagedIdentity,
    Network,
}

pub(crate) const COMPUTE: &[&str] = &[
    "2018-06-01",
    "2018-10-01",
    "2019-03-01",
    "2019-07-01",
    "2019-12-01",
    "2020-06-01",
    "2020-12-01",
    "2021-03-01",
    "2021-04-01",
    "2021-07-01",
    "2021-11-01",
    "2022-03-01",
    "2022-08-01",
    "2022-11-01",
    "2023-03-01",
    "2023-07-01",
    "2023-09-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-04-01",
    "2025-11-01",
    "2026-04-01",
];
pub(crate) const MANAGED_IDENTITY: &[&str] = &[
    "2018-11-30",
    "2021-09-30-preview",
    "2022-01-31-preview",
    "2023-01-31",
    "2023-07-31-preview",
    "2024-11-30",
    "2025-01-31-preview",
    "2025-05-31-preview",
    "2026-05-31",
];
pub(crate) const SUBSCRIPTIONS: &[&str] = &[
    "2016-06-01",
    "2018-06-01",
    "2019-06-01",
    "2019-11-01",
    "2020-01-01",
    "2021-01-01",
    "2022-01-01",
    "2022-12-01",
];
pub(crate) const RESOURCES: &[&str] = &[
    "2019-10-01",
    "2020-06-01",
    "2020-10-01",
    "2021-01-01",
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
];
pub(crate) const NETWORK: &[&str] = &[
    "2022-07-01",
    "2022-09-01",
    "2022-11-01",
    "2023-02-01",
    "2023-04-01",
    "2023-05-01",
    "2023-06-01",
    "2023-09-01",
    "2023-11-01",
    "2024-01-01",
    "2024-03-01",
    "2024-05-01",
    "2024-07-01",
    "2024-10-01",
    "2025-01-01",
];

/// First Compute api-version with `etag` on scale sets and VMs (azure-rest-api-specs PR #26368).
pub(crate) const COMPUTE_ETAG_SINCE: &str = "2023-09-01";

impl Family {
    pub(crate) fn versions(self) -> &'static [&'static str] {
        match self {
            Family::Subscriptions => SUBSCRIPTIONS,
            Family::ResourceGroups => RESOURCES,
            Family::Compute => COMPUTE,
            Family::ManagedIdentity => MANAGED_IDENTITY,
            Family::Network => NETWORK,
        }
    }
}

/// Checks `api-version`: missing → 400 `MissingApiVersionParameter`; unknown → 400 `InvalidApiVersionParameter`
/// (ARM's own endpoints) or `NoRegisteredProviderFound` (resource providers), with the supported list.
pub(crate) fn check(
    family: Family,
    given: Option<&str>,
    resource_type: &str,
    location: &str,
) -> Result<String, ArmError> {
    let Some(v) = given.filter(|v| !v.is_empty()) else {
        return Err(ArmError::new(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let list = family.versions();
    if list.contains(&v) {
        return Ok(v.to_string());
    }
    Err(match family {
        Family::Subscriptions | Family::ResourceGroups => ArmError::new(
            400,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{v}' is invalid. The supported versions are '{}'.",
                list.join(",")
            ),
        ),
        _ => ArmError::new(
            400,
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for location '{location}' and API version '{v}' for type '{resource_type}'. The supported api-versions are '{}'. The supported locations are '{location}'.",
                list.join(", ")
            ),
        ),
    })
}
