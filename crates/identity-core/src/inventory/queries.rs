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

/// Principals per role-assignment query ([`role_assignments_of`]).
pub const PRINCIPALS_PER_QUERY: usize = 200;

/// The role-assignment query of some principals up to their quoted GUID list (`'g1', 'g2'`) …
pub const PRINCIPAL_ASSIGNMENTS_PREFIX: &str = "authorizationresources \
| where type =~ 'microsoft.authorization/roleassignments' and tostring(properties.principalId) in~ (";

/// … and after it: its ordering and projection are those of [`ROLE_ASSIGNMENTS`].
pub fn principal_assignments_suffix() -> String {
    format!(") {}", order_and_project(ROLE_ASSIGNMENTS))
}

/// The role assignments these principals hold ("what can this identity access"): [`ROLE_ASSIGNMENTS`] narrowed
/// to `principalId in~ (…)`, one query per [`PRINCIPALS_PER_QUERY`], the same columns (so
/// [`super::Inventory::from_rows`] reads the rows). Strict: every principal id must be a GUID — anything else is
/// an error naming it, never written into the query (nothing can inject KQL); an empty list makes no query.
///
/// ```
/// use identity_core::inventory::queries::role_assignments_of;
/// let q = role_assignments_of(&["1C2B3A4D-0000-4000-8000-00000000000A".into()]).unwrap();
/// assert_eq!(q.len(), 1);
/// assert!(q[0].contains("tostring(properties.principalId) in~ ('1c2b3a4d-0000-4000-8000-00000000000a') | order by id asc"));
/// assert!(role_assignments_of(&["x') or 1==1 or ('".into()]).is_err());
/// assert!(role_assignments_of(&[]).unwrap().is_empty());
/// ```
pub fn role_assignments_of(principal_ids: &[String]) -> Result<Vec<String>, String> {
    let mut g: Vec<String> = Vec::with_capacity(principal_ids.len());
    for p in principal_ids {
        if !is_guid(p) {
            return Err(format!(
                "{p:?} is not a principal id (a GUID like 00000000-0000-0000-0000-000000000000): not queried"
            ));
        }
        g.push(p.to_ascii_lowercase());
    }
    g.sort();
    g.dedup();
    let suffix = principal_assignments_suffix();
    Ok(g.chunks(PRINCIPALS_PER_QUERY)
        .map(|c| {
            let list: Vec<String> = c.iter().map(|x| format!("'{x}'")).collect();
            format!("{PRINCIPAL_ASSIGNMENTS_PREFIX}{}{suffix}", list.join(", "))
        })
        .collect())
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

// ---- One user-assigned identity (the identity page): focused queries instead of the tenant's inventory ----

/// A query's ordering and projection: from its `| order by` on (rows of a focused query keep the shape of the
/// inventory query they are cut from, so [`super::Inventory::from_rows`] reads both).
fn order_and_project(q: &'static str) -> &'static str {
    q.find("| order by").map_or("", |i| &q[i..])
}

/// `id` as a KQL string literal (`'…'`, as given), when it is a user-assigned identity's ARM id with its
/// resource group, made only of the characters ARM allows in the parts of such an id (ASCII letters and digits,
/// `-`, `_`, `.`, `(`, `)`, and `/` between parts): no quote, backslash, space or control character can reach a
/// query. Else an error naming the id (nothing is queried).
///
/// ```
/// use identity_core::inventory::queries::identity_literal;
/// let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web";
/// assert_eq!(identity_literal(id), Ok(format!("'{id}'")));
/// assert!(identity_literal("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x') or ('").is_err());
/// assert!(identity_literal("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm").is_err());
/// ```
pub fn identity_literal(id: &str) -> Result<String, String> {
    let plain = crate::resource_id::ResourceId::parse(id).is_ok_and(|r| {
        r.kind() == crate::resource_id::IdKind::UserAssignedIdentity && r.resource_group().is_some()
    }) && id
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"-_.()/".contains(&c));
    if plain {
        Ok(format!("'{id}'"))
    } else {
        Err(format!(
            "{id:?} is not the resource id of a user-assigned identity that can be queried \
             (/subscriptions/{{id}}/resourceGroups/{{group}}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{{name}}, \
             of letters, digits and - _ . ( )): check the address"
        ))
    }
}

/// The identity's own row (the shape of [`IDENTITIES`]); an error when `id` cannot be queried
/// ([`identity_literal`]).
pub fn identity_row(id: &str) -> Result<String, String> {
    Ok(format!(
        "resources | where type =~ 'microsoft.managedidentity/userassignedidentities' and id =~ {} {}",
        identity_literal(id)?,
        order_and_project(IDENTITIES)
    ))
}

/// The scale sets and VMs that use this user-assigned identity ("is this its last user?", the identity page's
/// users): every one whose identity map holds it, in the shape of [`COMPUTE`], one row per user — the map is
/// expanded (`mv-expand`, a row per entry) and its key compared ignoring case, as ids are. An error when `id`
/// cannot be queried ([`identity_literal`]).
///
/// ```
/// use identity_core::inventory::queries::identity_users;
/// let id = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web";
/// assert!(identity_users(id).unwrap().contains(&format!("| where uaId =~ '{id}' |")));
/// assert!(identity_users(&format!("{id}' or 1==1")).is_err());
/// ```
pub fn identity_users(id: &str) -> Result<String, String> {
    Ok(format!(
        "resources | where type in~ ('microsoft.compute/virtualmachinescalesets','microsoft.compute/virtualmachines') \
| mv-expand ua = identity.userAssignedIdentities \
| extend uaId = tostring(bag_keys(ua)[0]) \
| where uaId =~ {} {}",
        identity_literal(id)?,
        order_and_project(COMPUTE)
    ))
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
    fn principal_queries_chunk_dedupe_and_refuse_anything_but_guids() {
        let ps: Vec<String> = (0..450)
            .map(|i| format!("{i:08X}-0000-4000-8000-000000000000"))
            .chain(std::iter::once(
                "00000000-0000-4000-8000-000000000000".into(),
            ))
            .collect();
        let q = role_assignments_of(&ps).unwrap();
        assert_eq!(q.len(), 3);
        let n: usize = q
            .iter()
            .map(|x| x.matches("-0000-4000-8000-").count())
            .sum();
        assert_eq!(n, 450, "deduplicated ignoring case");
        for bad in [
            "",
            "00000000-0000-4000-8000-00000000000",
            "00000000-0000-4000-8000-0000000000000",
            "00000000-0000-4000-8000-00000000000g",
            "00000000'0000-4000-8000-000000000000",
            " 00000000-0000-4000-8000-00000000000",
        ] {
            let e =
                role_assignments_of(&["00000000-0000-4000-8000-000000000001".into(), bad.into()])
                    .unwrap_err();
            assert!(e.contains("not a principal id"), "{bad:?}: {e}");
        }
        for q in q {
            let last = q.rsplit('|').next().unwrap().trim();
            assert_eq!(last, ROLE_ASSIGNMENTS.rsplit('|').next().unwrap().trim());
        }
    }

    #[test]
    fn every_query_projects_id_last() {
        for q in [COMPUTE, IDENTITIES, ROLE_ASSIGNMENTS] {
            let last = q.rsplit('|').next().unwrap().trim();
            assert!(last.starts_with("project id,"), "{q}");
        }
    }

    const UA: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web";

    #[test]
    fn focused_queries_keep_the_inventory_shapes_and_order() {
        let pairs = [
            (identity_row(UA).unwrap(), IDENTITIES),
            (identity_users(UA).unwrap(), COMPUTE),
            (
                role_assignments_of(&["00000000-0000-4000-8000-000000000001".into()]).unwrap()[0]
                    .clone(),
                ROLE_ASSIGNMENTS,
            ),
        ];
        for (focused, full) in pairs {
            let tail = order_and_project(full);
            assert!(
                tail.starts_with("| order by id asc | project id,"),
                "{full}"
            );
            assert!(focused.ends_with(&format!(" {tail}")), "{focused}");
            assert_eq!(focused.matches("| order by").count(), 1, "{focused}");
            assert!(!focused.contains("  "), "{focused}");
        }
        assert!(
            identity_row(UA)
                .unwrap()
                .contains(&format!("and id =~ '{UA}' |"))
        );
        assert!(
            identity_users(UA)
                .unwrap()
                .contains(&format!("| where uaId =~ '{UA}' |"))
        );
    }

    #[test]
    fn only_plain_user_assigned_identity_ids_go_into_a_query() {
        let bad = [
            "",
            "id-web",
            "/subscriptions/s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/x",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x'",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a'b",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a b",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a\\",
            "/subscriptions/s/resourceGroups/r\\g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x\n| take 1",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/\"x",
            // letters outside ASCII are valid in a group's name, but not written into a query (the strict rule)
            "/subscriptions/s/resourceGroups/rg-\u{e4}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x",
        ];
        for id in bad {
            let e = identity_literal(id).unwrap_err();
            assert!(e.contains("check the address"), "{id:?}: {e}");
            assert_eq!(identity_row(id), Err(e.clone()));
            assert_eq!(identity_users(id), Err(e));
        }
        // parentheses, dots, underscores and digits are plain, and the id stays as given
        let odd = "/subscriptions/s1/resourceGroups/rg_(x).1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID-web_2";
        assert_eq!(identity_literal(odd), Ok(format!("'{odd}'")));
        assert!(identity_users(odd).is_ok() && identity_row(odd).is_ok());
    }
}
