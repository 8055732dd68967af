//! The Resource Graph queries of the inventory: one per resource shape, shared by the app's loader
//! (arm-client's `inventory`) and the generated scripts, so the page and a script read the same rows.
//!
//! Each query orders by `id` (stable pages) before its final `project`, and projects `id` (ARG returns a
//! `$skipToken` only when `id` is in the result).

/// Rows per page (`$top`, `-First`, `--first`): Resource Graph's maximum.
pub const PAGE_SIZE: u32 = 1000;

/// Subscriptions per request. The troubleshooting guide: Azure CLI and Az PowerShell forward only the first
/// 1,000 subscriptions to Resource Graph, so larger tenants are queried in batches of at most 1,000 (the REST API
/// answers up to 10,000 and flags the rest with `x-ms-tenant-subscription-limit-hit`).
pub const SUBSCRIPTION_BATCH: usize = 1000;

/// The retired VM extensions that provided managed identity tokens before IMDS.
pub const LEGACY_EXTENSION_TYPES: [&str; 2] = [
    "ManagedIdentityExtensionForLinux",
    "ManagedIdentityExtensionForWindows",
];

/// Scale sets and VMs with their identities, plus the VMs' legacy identity extensions (extension rows; a scale
/// set's extensions come with its model in `extensions`).
pub const COMPUTE: &str = "resources \
| where type in~ ('microsoft.compute/virtualmachinescalesets','microsoft.compute/virtualmachines') \
or (type =~ 'microsoft.compute/virtualmachines/extensions' and tostring(properties.type) in~ ('ManagedIdentityExtensionForLinux','ManagedIdentityExtensionForWindows')) \
| order by id asc \
| project id, name, type, subscriptionId, resourceGroup, location, tags, identity, \
orchestrationMode = tostring(properties.orchestrationMode), \
provisioningState = tostring(properties.provisioningState), \
extensions = properties.virtualMachineProfile.extensionProfile.extensions, \
extensionType = tostring(properties.type)";

/// User-assigned identities with their client and principal ids.
pub const IDENTITIES: &str = "resources \
| where type =~ 'microsoft.managedidentity/userassignedidentities' \
| order by id asc \
| project id, name, subscriptionId, resourceGroup, location, \
principalId = tostring(properties.principalId), clientId = tostring(properties.clientId)";

/// Role assignments (who holds which role where).
pub const ROLE_ASSIGNMENTS: &str = "authorizationresources \
| where type =~ 'microsoft.authorization/roleassignments' \
| order by id asc \
| project id, subscriptionId, principalId = tostring(properties.principalId), \
principalType = tostring(properties.principalType), \
roleDefinitionId = tostring(properties.roleDefinitionId), \
scope = tostring(properties.scope), condition = tostring(properties.condition)";

/// Role definitions are listed per subscription (an assignment's `roleDefinitionId` names the subscription's
/// copy), so the inventory asks only for the roles its assignments use, by GUID, at most this many per query.
pub const ROLE_GUIDS_PER_QUERY: usize = 200;

/// The role-definition query up to its GUID list (`'g1', 'g2'`) …
pub const ROLE_DEFINITIONS_PREFIX: &str = "authorizationresources \
| where type =~ 'microsoft.authorization/roledefinitions' and name in~ (";

/// … and after it.
pub const ROLE_DEFINITIONS_SUFFIX: &str = ") \
| order by id asc \
| project id, name, roleName = tostring(properties.roleName), roleType = tostring(properties.type)";

/// Is `s` a GUID (8-4-4-4-12 hex)? Only GUIDs are ever written into a query.
pub fn is_guid(s: &str) -> bool {
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

/// The role GUID at the end of a `roleDefinitionId`, when it is one.
///
/// ```
/// use identity_core::inventory::queries::role_guid;
/// let id = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7";
/// assert_eq!(role_guid(id), Some("acdd72a7-3385-48ef-bd42-f606fba81ae7".to_string()));
/// assert_eq!(role_guid("/x/'; drop"), None);
/// ```
pub fn role_guid(role_definition_id: &str) -> Option<String> {
    let g = role_definition_id.rsplit('/').next()?;
    is_guid(g).then(|| g.to_ascii_lowercase())
}

/// The role-definition queries for these GUIDs (deduplicated, non-GUIDs dropped, sorted; one query per
/// [`ROLE_GUIDS_PER_QUERY`]); none for none.
///
/// ```
/// use identity_core::inventory::queries::role_definitions;
/// let q = role_definitions(&["ACDD72A7-3385-48EF-BD42-F606FBA81AE7".into(), "nope'".into()]);
/// assert_eq!(q.len(), 1);
/// assert!(q[0].contains("name in~ ('acdd72a7-3385-48ef-bd42-f606fba81ae7')"));
/// assert!(role_definitions(&[]).is_empty());
/// ```
pub fn role_definitions(guids: &[String]) -> Vec<String> {
    let mut g: Vec<String> = guids
        .iter()
        .filter(|g| is_guid(g))
        .map(|g| g.to_ascii_lowercase())
        .collect();
    g.sort();
    g.dedup();
    g.chunks(ROLE_GUIDS_PER_QUERY)
        .map(|c| {
            let list: Vec<String> = c.iter().map(|x| format!("'{x}'")).collect();
            format!(
                "{ROLE_DEFINITIONS_PREFIX}{}{ROLE_DEFINITIONS_SUFFIX}",
                list.join(", ")
            )
        })
        .collect()
}

/// Subscriptions in batches of at most [`SUBSCRIPTION_BATCH`]; one empty batch (= every subscription the
/// caller can read) for none.
pub fn batches(subscriptions: &[String]) -> Vec<Vec<String>> {
    if subscriptions.is_empty() {
        return vec![vec![]];
    }
    subscriptions
        .chunks(SUBSCRIPTION_BATCH)
        .map(<[String]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_stay_within_the_limit_and_cover_everything() {
        let subs: Vec<String> = (0..2_345).map(|i| format!("s{i}")).collect();
        let b = batches(&subs);
        assert_eq!(
            b.iter().map(Vec::len).collect::<Vec<_>>(),
            [1000, 1000, 345]
        );
        assert_eq!(b.concat(), subs);
        assert_eq!(batches(&[]), vec![Vec::<String>::new()]);
    }

    #[test]
    fn role_queries_chunk_and_only_carry_guids() {
        let guids: Vec<String> = (0..450)
            .map(|i| format!("{i:08x}-0000-4000-8000-000000000000"))
            .collect();
        let q = role_definitions(&guids);
        assert_eq!(q.len(), 3);
        assert_eq!(
            q.iter()
                .map(|x| x.matches("-0000-4000-8000-").count())
                .sum::<usize>(),
            450
        );
        assert!(role_definitions(&["') | project x".into()]).is_empty());
    }

    #[test]
    fn every_query_projects_id_last() {
        for q in [COMPUTE, IDENTITIES, ROLE_ASSIGNMENTS] {
            let last = q.rsplit('|').next().unwrap().trim();
            assert!(last.starts_with("project id,"), "{q}");
        }
    }
}
