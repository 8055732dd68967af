//! A small schema check of the request bodies the simulator accepts, written from the official definitions in
//! `shared/arm/spec` (Compute 2025-11-01 `VirtualMachineScaleSetIdentity` / `VirtualMachineIdentity` /
//! `Common.ResourceIdentityType` (enum, `modelAsString: false`) / `VirtualMachineScaleSetUpdate`; MSI 2024-11-30
//! `IdentityCreate`; Authorization 2022-04-01 `RoleAssignmentCreateParameters`: `properties.roleDefinitionId` and
//! `properties.principalId` required, `principalType` one of User/Group/ServicePrincipal/ForeignGroup/Device).
//!
//! Only types, required properties and enums are checked; the 400 uses ARM's `InvalidRequestContent` /
//! `InvalidParameter` codes (messages not recorded).
//!
//! ```
//! use serde_json::json;
//! assert!(armsim::schema::check_identity(&json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {"/x": {}}})).is_ok());
//! assert!(armsim::schema::check_identity(&json!({"type": 7})).is_err());
//! assert!(armsim::schema::check_identity(&json!({"userAssignedIdentities": {"/x": {"clientId": 1}}})).is_err());
//! assert!(armsim::schema::check_identity(&json!({"userAssignedIdentities": []})).is_err());
//! ```

use crate::error::ArmError;
use serde_json::Value;

fn bad(path: &str, why: &str) -> ArmError {
    ArmError::new(
        400,
        "InvalidRequestContent",
        format!(
            "The request content was invalid and could not be deserialized: '{why}' at '{path}'."
        ),
    )
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a serde_json::Map<String, Value>, ArmError> {
    v.as_object().ok_or_else(|| bad(path, "expected an object"))
}

/// `identity` of a scale set or VM (PUT or PATCH): `type` a string (its enum is checked by the merge, ignoring
/// case and spaces as the service does); user-assigned values are `{}` or `null`
/// (`principalId`/`clientId` are read-only strings).
pub fn check_identity(v: &Value) -> Result<(), ArmError> {
    if v.is_null() {
        return Ok(());
    }
    let o = object(v, "identity")?;
    if let Some(t) = o.get("type").filter(|t| !t.is_null()) {
        // The enum itself (`Common.ResourceIdentityType`) is checked by the identity merge, with ARM's message.
        t.as_str()
            .ok_or_else(|| bad("identity.type", "expected a string"))?;
    }
    for ro in ["principalId", "tenantId"] {
        if let Some(x) = o.get(ro).filter(|x| !x.is_null())
            && !x.is_string()
        {
            return Err(bad(&format!("identity.{ro}"), "expected a string"));
        }
    }
    if let Some(m) = o.get("userAssignedIdentities").filter(|m| !m.is_null()) {
        let m = object(m, "identity.userAssignedIdentities")?;
        for (k, val) in m {
            let p = format!("identity.userAssignedIdentities['{k}']");
            if val.is_null() {
                continue;
            }
            let vo = object(val, &p)?;
            for (f, x) in vo {
                if !(f == "principalId" || f == "clientId") || !(x.is_string() || x.is_null()) {
                    return Err(bad(&format!("{p}.{f}"), "unexpected property"));
                }
            }
        }
    }
    Ok(())
}

/// A scale-set / VM PATCH body (`VirtualMachineScaleSetUpdate` / `VirtualMachineUpdate`).
pub fn check_compute_patch(b: &Value) -> Result<(), ArmError> {
    let o = object(b, "$")?;
    if let Some(t) = o.get("tags").filter(|t| !t.is_null()) {
        let t = object(t, "tags")?;
        if let Some((k, _)) = t.iter().find(|(_, v)| !v.is_string()) {
            return Err(bad(&format!("tags.{k}"), "expected a string"));
        }
    }
    for f in ["sku", "plan", "properties", "placement"] {
        if let Some(x) = o.get(f).filter(|x| !x.is_null()) {
            object(x, f)?;
        }
    }
    if let Some(z) = o.get("zones").filter(|z| !z.is_null())
        && !z.as_array().is_some_and(|a| a.iter().all(Value::is_string))
    {
        return Err(bad("zones", "expected an array of strings"));
    }
    if let Some(i) = o.get("identity") {
        check_identity(i)?;
    }
    Ok(())
}

/// A scale-set / VM PUT body: a PATCH body plus `location` (string, required).
pub fn check_compute_put(b: &Value) -> Result<(), ArmError> {
    check_compute_patch(b)?;
    if let Some(l) = b.get("location")
        && !l.is_string()
    {
        return Err(bad("location", "expected a string"));
    }
    if let Some(c) = b.pointer("/sku/capacity")
        && !c.is_u64()
    {
        return Err(bad("sku.capacity", "expected an integer"));
    }
    Ok(())
}

/// The `networkApiVersion` values of a VM's `networkProfile` (Compute `NetworkProfile.networkApiVersion`, an
/// extensible enum since api-version 2020-11-01).
pub const NETWORK_API_VERSIONS: &[&str] = &["2020-11-01", "2022-11-01"];

/// A VM PUT's `properties.networkProfile` (Compute `NetworkProfile`): `networkInterfaces` (references to NIC
/// resources) or `networkInterfaceConfigurations` (NICs Compute creates; each a `name` and
/// `properties.ipConfigurations`, each with a `name` and `properties.subnet.id`), the latter only with a
/// `networkApiVersion` (ARM's code `InvalidParameter`; its message is not recorded). Returns the subnet ids the
/// configurations reference.
///
/// ```
/// use serde_json::json;
/// let ok = json!({"networkApiVersion": "2020-11-01", "networkInterfaceConfigurations": [{"name": "n",
///     "properties": {"primary": true, "ipConfigurations": [{"name": "i", "properties": {"subnet": {"id": "/s"}}}]}}]});
/// assert_eq!(armsim::schema::check_vm_network_profile(&ok).unwrap(), vec!["/s".to_string()]);
/// let mut no_version = ok.clone();
/// no_version.as_object_mut().unwrap().remove("networkApiVersion");
/// assert_eq!(armsim::schema::check_vm_network_profile(&no_version).unwrap_err().code, "InvalidParameter");
/// ```
pub fn check_vm_network_profile(np: &Value) -> Result<Vec<String>, ArmError> {
    const P: &str = "properties.networkProfile";
    let mut subnets = Vec::new();
    if np.is_null() {
        return Ok(subnets);
    }
    let o = object(np, P)?;
    let version = match o.get("networkApiVersion").filter(|v| !v.is_null()) {
        Some(v) => {
            let v = v
                .as_str()
                .ok_or_else(|| bad(&format!("{P}.networkApiVersion"), "expected a string"))?;
            if !NETWORK_API_VERSIONS.contains(&v) {
                return Err(ArmError::new(
                    400,
                    "InvalidParameter",
                    format!(
                        "The value '{v}' of parameter 'networkProfile.networkApiVersion' is not allowed. Allowed values are: {}.",
                        NETWORK_API_VERSIONS.join(", ")
                    ),
                )
                .target("networkProfile.networkApiVersion"));
            }
            Some(v)
        }
        None => None,
    };
    let Some(configs) = o
        .get("networkInterfaceConfigurations")
        .filter(|c| !c.is_null())
    else {
        return Ok(subnets);
    };
    let configs = configs.as_array().ok_or_else(|| {
        bad(
            &format!("{P}.networkInterfaceConfigurations"),
            "expected an array",
        )
    })?;
    if !configs.is_empty() && version.is_none() {
        return Err(ArmError::new(
            400,
            "InvalidParameter",
            "Parameter 'networkProfile.networkApiVersion' is required when 'networkProfile.networkInterfaceConfigurations' is specified.",
        )
        .target("networkProfile.networkApiVersion"));
    }
    for (i, c) in configs.iter().enumerate() {
        let cp = format!("{P}.networkInterfaceConfigurations[{i}]");
        let co = object(c, &cp)?;
        if !co.get("name").is_some_and(Value::is_string) {
            return Err(bad(
                &format!("{cp}.name"),
                "required string property missing",
            ));
        }
        let ipcs = c
            .pointer("/properties/ipConfigurations")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                bad(
                    &format!("{cp}.properties.ipConfigurations"),
                    "required array property missing",
                )
            })?;
        for (j, ipc) in ipcs.iter().enumerate() {
            let ip = format!("{cp}.properties.ipConfigurations[{j}]");
            let io = object(ipc, &ip)?;
            if !io.get("name").is_some_and(Value::is_string) {
                return Err(bad(
                    &format!("{ip}.name"),
                    "required string property missing",
                ));
            }
            if let Some(sn) = ipc.pointer("/properties/subnet").filter(|s| !s.is_null()) {
                let id = sn.get("id").and_then(Value::as_str).ok_or_else(|| {
                    bad(&format!("{ip}.properties.subnet.id"), "expected a string")
                })?;
                subnets.push(id.to_string());
            }
        }
    }
    Ok(subnets)
}

/// A user-assigned identity PUT body (`Identity`): `location` string, `tags` strings.
pub fn check_identity_put(b: &Value) -> Result<(), ArmError> {
    let o = object(b, "$")?;
    if let Some(l) = o.get("location")
        && !l.is_string()
    {
        return Err(bad("location", "expected a string"));
    }
    if let Some(t) = o.get("tags").filter(|t| !t.is_null()) {
        let t = object(t, "tags")?;
        if let Some((k, _)) = t.iter().find(|(_, v)| !v.is_string()) {
            return Err(bad(&format!("tags.{k}"), "expected a string"));
        }
    }
    Ok(())
}

/// A role assignment PUT body (`RoleAssignmentCreateParameters`).
pub fn check_role_assignment(b: &Value) -> Result<(), ArmError> {
    let o = object(b, "$")?;
    let p = o
        .get("properties")
        .ok_or_else(|| bad("properties", "required property missing"))?;
    let p = object(p, "properties")?;
    for req in ["roleDefinitionId", "principalId"] {
        if !p.get(req).is_some_and(Value::is_string) {
            return Err(bad(
                &format!("properties.{req}"),
                "required string property missing",
            ));
        }
    }
    if let Some(t) = p.get("principalType").filter(|t| !t.is_null()) {
        let s = t.as_str().unwrap_or_default();
        if ![
            "User",
            "Group",
            "ServicePrincipal",
            "ForeignGroup",
            "Device",
        ]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(s))
        {
            return Err(ArmError::new(
                400,
                "InvalidParameter",
                format!("The value '{s}' of parameter 'principalType' is not allowed. Allowed values are: User, Group, ServicePrincipal, ForeignGroup, Device."),
            )
            .target("principalType"));
        }
    }
    Ok(())
}
