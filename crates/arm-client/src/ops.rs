//! Typed operations: each function builds the [`ArmRequest`] of one ARM operation —
//! pure data, nothing sent (octocrab's builders apart from transport). Send them with
//! [`crate::ArmClient::send`], [`crate::ArmClient::execute`] (long-running writes),
//! [`crate::ArmClient::list`] or [`crate::ArmClient::graph`] (paged).
//!
//! api-versions come from `identity_core::api_versions` (one constant per type).

use crate::error::{ArmError, ErrorKind};
use identity_core::api_versions as v;
use identity_core::{ArmRequest, Method};
use serde::Deserialize;
use serde_json::json;

/// Percent-encode what may not appear raw in a path (ids and names are validated
/// elsewhere; this only keeps a stray `?`, `#`, `%` or space from changing the URL).
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            'A'..='Z'
            | 'a'..='z'
            | '0'..='9'
            | '-'
            | '_'
            | '.'
            | '~'
            | '/'
            | ':'
            | '@'
            | '!'
            | '$'
            | '&'
            | '\''
            | '('
            | ')'
            | '*'
            | '+'
            | ','
            | ';'
            | '=' => out.push(ch),
            _ => {
                let mut buf = [0u8; 4];
                for b in ch.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

fn seg(s: &str) -> String {
    enc(s).replace('/', "%2F")
}

fn scope_path(id: &str) -> Result<String, ArmError> {
    let id = id.trim_end_matches('/');
    if !id.starts_with('/') || id.contains("//") {
        return Err(ArmError::new(
            ErrorKind::InvalidRequest,
            format!("not an ARM resource id or scope: {id:?}"),
        ));
    }
    Ok(enc(id))
}

fn rg_scope(sub: &str, rg: Option<&str>) -> String {
    match rg {
        Some(rg) => format!("/subscriptions/{}/resourceGroups/{}", seg(sub), seg(rg)),
        None => format!("/subscriptions/{}", seg(sub)),
    }
}

/// `GET /subscriptions` (paged).
///
/// ```
/// let r = arm_client::ops::list_subscriptions();
/// assert_eq!(r.path_and_query(), "/subscriptions?api-version=2022-12-01");
/// ```
pub fn list_subscriptions() -> ArmRequest {
    ArmRequest::new(Method::Get, "/subscriptions", v::SUBSCRIPTIONS)
}

/// `GET /tenants` (paged): the directories the signed-in user can reach (tenant switch
/// for guest users).
///
/// ```
/// assert_eq!(arm_client::ops::list_tenants().path_and_query(), "/tenants?api-version=2022-12-01");
/// ```
pub fn list_tenants() -> ArmRequest {
    ArmRequest::new(Method::Get, "/tenants", v::SUBSCRIPTIONS)
}

/// `GET /subscriptions/{sub}/resourcegroups` (paged).
pub fn list_resource_groups(sub: &str) -> ArmRequest {
    ArmRequest::new(
        Method::Get,
        format!("/subscriptions/{}/resourcegroups", seg(sub)),
        v::RESOURCES,
    )
}

/// `GET /subscriptions/{sub}/locations`.
pub fn list_locations(sub: &str) -> ArmRequest {
    ArmRequest::new(
        Method::Get,
        format!("/subscriptions/{}/locations", seg(sub)),
        v::SUBSCRIPTIONS,
    )
}

/// Scale sets of a subscription, or of one resource group (paged).
///
/// ```
/// let r = arm_client::ops::list_scale_sets("s1", Some("rg"));
/// assert_eq!(r.path, "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets");
/// ```
pub fn list_scale_sets(sub: &str, rg: Option<&str>) -> ArmRequest {
    ArmRequest::new(
        Method::Get,
        format!(
            "{}/providers/Microsoft.Compute/virtualMachineScaleSets",
            rg_scope(sub, rg)
        ),
        v::COMPUTE,
    )
}

/// VMs of a subscription, or of one resource group (paged).
pub fn list_vms(sub: &str, rg: Option<&str>) -> ArmRequest {
    ArmRequest::new(
        Method::Get,
        format!(
            "{}/providers/Microsoft.Compute/virtualMachines",
            rg_scope(sub, rg)
        ),
        v::COMPUTE,
    )
}

/// User-assigned identities of a subscription, or of one resource group (paged).
pub fn list_user_assigned_identities(sub: &str, rg: Option<&str>) -> ArmRequest {
    ArmRequest::new(
        Method::Get,
        format!(
            "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
            rg_scope(sub, rg)
        ),
        v::MANAGED_IDENTITY,
    )
}

/// Role definitions at `scope`, optionally only the one named `role_name`
/// (`$filter=roleName eq '…'`).
///
/// ```
/// let r = arm_client::ops::list_role_definitions("/subscriptions/s1", Some("Reader")).unwrap();
/// assert!(r.path_and_query().ends_with("&$filter=roleName%20eq%20%27Reader%27"));
/// ```
pub fn list_role_definitions(scope: &str, role_name: Option<&str>) -> Result<ArmRequest, ArmError> {
    let mut r = ArmRequest::new(
        Method::Get,
        format!(
            "{}/providers/Microsoft.Authorization/roleDefinitions",
            scope_path(scope)?
        ),
        v::AUTHORIZATION,
    );
    if let Some(name) = role_name {
        r.query.push((
            "$filter".into(),
            format!("roleName eq '{}'", name.replace('\'', "''")),
        ));
    }
    Ok(r)
}

/// The pinned api-version for a resource id, from its provider namespace.
///
/// ```
/// use arm_client::ops::api_version_for;
/// assert_eq!(api_version_for("/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/v"),
///            Some(identity_core::api_versions::COMPUTE));
/// assert_eq!(api_version_for("/subscriptions/s/resourcegroups/g"), Some(identity_core::api_versions::RESOURCES));
/// assert_eq!(api_version_for("/subscriptions/s/providers/Contoso.Widgets/w/x"), None);
/// ```
pub fn api_version_for(id: &str) -> Option<&'static str> {
    let lower = id.to_ascii_lowercase();
    match lower.rfind("/providers/") {
        Some(i) => {
            let ns = lower[i + 11..].split('/').next().unwrap_or("");
            match ns {
                "microsoft.compute" => Some(v::COMPUTE),
                "microsoft.managedidentity" => Some(v::MANAGED_IDENTITY),
                "microsoft.authorization" => Some(v::AUTHORIZATION),
                "microsoft.network" => Some(v::NETWORK),
                "microsoft.resources" => Some(v::RESOURCES),
                _ => None,
            }
        }
        None if lower.contains("/resourcegroups/") => Some(v::RESOURCES),
        None if lower.starts_with("/subscriptions/") => Some(v::SUBSCRIPTIONS),
        None => None,
    }
}

fn version_for(id: &str) -> Result<&'static str, ArmError> {
    api_version_for(id).ok_or_else(|| {
        ArmError::new(
            ErrorKind::InvalidRequest,
            format!("no pinned api-version for the provider of {id}"),
        )
    })
}

/// `GET {id}` with the api-version pinned for its type.
pub fn get_resource(id: &str) -> Result<ArmRequest, ArmError> {
    Ok(ArmRequest::new(
        Method::Get,
        scope_path(id)?,
        version_for(id)?,
    ))
}

/// A plan's request (e.g. identity-core's identity PATCH with `If-Match`), checked
/// to be an ARM-relative request with an api-version. It is sent as is.
///
/// ```
/// use identity_core::{ArmRequest, Method};
/// let plan = ArmRequest::new(Method::Patch, "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/v", "2024-11-01");
/// assert!(arm_client::ops::from_plan(plan).is_ok());
/// let bad = ArmRequest { query: vec![], ..ArmRequest::new(Method::Patch, "/x", "") };
/// assert!(arm_client::ops::from_plan(bad).is_err());
/// ```
pub fn from_plan(req: ArmRequest) -> Result<ArmRequest, ArmError> {
    scope_path(&req.path)?;
    if req.path.contains(['?', '#']) {
        return Err(ArmError::new(
            ErrorKind::InvalidRequest,
            "a plan's path must not carry a query",
        ));
    }
    if !req.query.iter().any(|(k, _)| k == "api-version") {
        return Err(ArmError::new(
            ErrorKind::InvalidRequest,
            "a plan's request has no api-version",
        ));
    }
    Ok(req)
}

/// `PATCH {id}` with only `identity` in the body and `If-Match` when an etag is known
/// (normally identity-core's planner builds this; see [`from_plan`]).
pub fn patch_identity(
    id: &str,
    identity: serde_json::Value,
    etag: Option<&str>,
) -> Result<ArmRequest, ArmError> {
    let mut r = ArmRequest::new(Method::Patch, scope_path(id)?, version_for(id)?);
    if let Some(e) = etag {
        r.headers.push(("If-Match".into(), e.to_string()));
    }
    r.body = Some(json!({ "identity": identity }));
    Ok(r)
}

/// `PUT {id}` creating a resource (`If-None-Match: *` so that an existing one is not
/// overwritten).
pub fn put_create(id: &str, body: serde_json::Value) -> Result<ArmRequest, ArmError> {
    let mut r = ArmRequest::new(Method::Put, scope_path(id)?, version_for(id)?);
    r.headers.push(("If-None-Match".into(), "*".into()));
    r.body = Some(body);
    Ok(r)
}

/// `DELETE {vmss or vm id}/extensions/{name}` (the legacy managed-identity extension).
pub fn delete_extension(resource_id: &str, extension: &str) -> Result<ArmRequest, ArmError> {
    Ok(ArmRequest::new(
        Method::Delete,
        format!("{}/extensions/{}", scope_path(resource_id)?, seg(extension)),
        v::COMPUTE,
    ))
}

/// `POST {vmss id}/manualupgrade` with `{"instanceIds": [...]}`.
pub fn manual_upgrade(vmss_id: &str, instance_ids: &[&str]) -> Result<ArmRequest, ArmError> {
    let mut r = ArmRequest::new(
        Method::Post,
        format!("{}/manualupgrade", scope_path(vmss_id)?),
        v::COMPUTE,
    );
    r.body = Some(json!({ "instanceIds": instance_ids }));
    Ok(r)
}

/// `PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{name}` for a
/// service principal (a managed identity's principal). `name` is a GUID the caller
/// chooses (a repeat with the same name is idempotent).
pub fn create_role_assignment(
    scope: &str,
    name: &str,
    role_definition_id: &str,
    principal_id: &str,
) -> Result<ArmRequest, ArmError> {
    let mut r = ArmRequest::new(
        Method::Put,
        format!(
            "{}/providers/Microsoft.Authorization/roleAssignments/{}",
            scope_path(scope)?,
            seg(name)
        ),
        v::AUTHORIZATION,
    );
    r.body = Some(json!({"properties": {
        "roleDefinitionId": role_definition_id,
        "principalId": principal_id,
        "principalType": "ServicePrincipal",
    }}));
    Ok(r)
}

/// Role assignments at `scope` (and above/below as ARM returns them), optionally for
/// one principal.
pub fn list_role_assignments(
    scope: &str,
    principal_id: Option<&str>,
) -> Result<ArmRequest, ArmError> {
    let mut r = ArmRequest::new(
        Method::Get,
        format!(
            "{}/providers/Microsoft.Authorization/roleAssignments",
            scope_path(scope)?
        ),
        v::AUTHORIZATION,
    );
    if let Some(p) = principal_id {
        r.query.push((
            "$filter".into(),
            format!("principalId eq '{}'", p.replace('\'', "''")),
        ));
    }
    Ok(r)
}

/// `DELETE {role assignment id}`.
pub fn delete_role_assignment(id: &str) -> Result<ArmRequest, ArmError> {
    Ok(ArmRequest::new(
        Method::Delete,
        scope_path(id)?,
        v::AUTHORIZATION,
    ))
}

/// The Resource Graph query listing scale sets with their identities (stable order by
/// id, as paging requires).
pub const SCALE_SETS_QUERY: &str = "Resources \
| where type =~ 'microsoft.compute/virtualmachinescalesets' \
| project id, name, subscriptionId, resourceGroup, location, \
identityType = tostring(identity.type), principalId = tostring(identity.principalId), \
userAssigned = identity.userAssignedIdentities, \
orchestrationMode = tostring(properties.orchestrationMode), \
upgradeMode = tostring(properties.upgradePolicy.mode) \
| order by id asc";

/// The Resource Graph query listing VMs with their identities.
pub const VMS_QUERY: &str = "Resources \
| where type =~ 'microsoft.compute/virtualmachines' \
| project id, name, subscriptionId, resourceGroup, location, \
identityType = tostring(identity.type), principalId = tostring(identity.principalId), \
userAssigned = identity.userAssignedIdentities \
| order by id asc";

/// `POST /providers/Microsoft.ResourceGraph/resources` (page with
/// [`crate::ArmClient::graph`]; `top` is the page size, 1–1000).
///
/// ```
/// let r = arm_client::ops::resource_graph(arm_client::ops::SCALE_SETS_QUERY, &["s1"], 1000);
/// assert_eq!(r.body.as_ref().unwrap()["options"]["$top"], 1000);
/// assert_eq!(r.body.as_ref().unwrap()["options"]["resultFormat"], "objectArray");
/// ```
pub fn resource_graph(query: &str, subscriptions: &[&str], top: u32) -> ArmRequest {
    let mut r = ArmRequest::new(
        Method::Post,
        "/providers/Microsoft.ResourceGraph/resources",
        v::RESOURCE_GRAPH,
    );
    let mut body = json!({
        "query": query,
        "options": {"$top": top.clamp(1, 1000), "resultFormat": "objectArray"},
    });
    if !subscriptions.is_empty() {
        body["subscriptions"] = json!(subscriptions);
    }
    r.body = Some(body);
    r
}

/// A subscription (from [`list_subscriptions`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// The subscription GUID.
    pub subscription_id: String,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Home tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// `Enabled`, `Disabled`, …
    #[serde(default)]
    pub state: Option<String>,
}

/// A directory (from [`list_tenants`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    /// The tenant GUID.
    pub tenant_id: String,
    /// Display name, when ARM gives one.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Primary domain, when ARM gives one.
    #[serde(default)]
    pub default_domain: Option<String>,
}

/// A resource group (from [`list_resource_groups`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResourceGroup {
    /// Full id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Region.
    #[serde(default)]
    pub location: String,
}

/// A region (from [`list_locations`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// `westeurope`.
    pub name: String,
    /// `West Europe`.
    #[serde(default)]
    pub display_name: String,
}

/// A role definition (from [`list_role_definitions`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RoleDefinition {
    /// Full id (used as `roleDefinitionId`).
    pub id: String,
    /// GUID name.
    pub name: String,
    /// Properties.
    pub properties: RoleDefinitionProperties,
}

/// Properties of a [`RoleDefinition`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinitionProperties {
    /// `Reader`, `Managed Identity Operator`, …
    pub role_name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// `BuiltInRole` or `CustomRole`.
    #[serde(default, rename = "type")]
    pub role_type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const VMSS: &str = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/v1";

    #[test]
    fn builders_produce_the_documented_paths_and_versions() {
        let r = list_vms("s1", None);
        assert_eq!(
            r.path_and_query(),
            format!(
                "/subscriptions/s1/providers/Microsoft.Compute/virtualMachines?api-version={}",
                v::COMPUTE
            )
        );
        let r = list_user_assigned_identities("s1", Some("rg"));
        assert!(r.path.ends_with(
            "/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
        ));
        assert_eq!(r.query[0].1, v::MANAGED_IDENTITY);
        let r = get_resource(VMSS).unwrap();
        assert_eq!((r.method, r.path.as_str()), (Method::Get, VMSS));
        let r = patch_identity(VMSS, json!({"type": "SystemAssigned"}), Some("\"4\"")).unwrap();
        assert_eq!(r.header("if-match"), Some("\"4\""));
        assert_eq!(
            r.body.unwrap(),
            json!({"identity": {"type": "SystemAssigned"}})
        );
        let r = delete_extension(VMSS, "ManagedIdentityExtensionForLinux").unwrap();
        assert_eq!(r.method, Method::Delete);
        assert!(
            r.path
                .ends_with("/v1/extensions/ManagedIdentityExtensionForLinux")
        );
        let r = create_role_assignment("/subscriptions/s1", "0000-1", "/roleDefs/r", "p1").unwrap();
        assert_eq!(
            r.body.as_ref().unwrap()["properties"]["principalType"],
            "ServicePrincipal"
        );
        assert_eq!(r.query[0].1, v::AUTHORIZATION);
        let r = put_create(
            "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1",
            json!({"location": "westeurope"}),
        )
        .unwrap();
        assert_eq!(
            (r.method, r.header("If-None-Match")),
            (Method::Put, Some("*"))
        );
        assert_eq!(r.query[0].1, v::MANAGED_IDENTITY);
        let r = manual_upgrade(VMSS, &["*"]).unwrap();
        assert_eq!(r.body.unwrap(), json!({"instanceIds": ["*"]}));
    }

    #[test]
    fn hostile_names_cannot_change_the_url() {
        let r = list_resource_groups("s1?x=1#frag");
        assert_eq!(r.path, "/subscriptions/s1%3Fx=1%23frag/resourcegroups");
        let r = list_scale_sets("s", Some("a/../b"));
        assert_eq!(
            r.path,
            "/subscriptions/s/resourceGroups/a%2F..%2Fb/providers/Microsoft.Compute/virtualMachineScaleSets"
        );
        let r = list_role_assignments("/subscriptions/s", Some("o'hara")).unwrap();
        assert_eq!(r.query[1].1, "principalId eq 'o''hara'");
        assert!(get_resource("https://evil.example/x").is_err());
        assert!(get_resource("//evil.example/x").is_err());
        assert!(delete_role_assignment("subscriptions/x").is_err());
        let plan = ArmRequest::new(Method::Patch, "/a?b", "2024-11-01");
        assert!(from_plan(plan).is_err());
    }
}
