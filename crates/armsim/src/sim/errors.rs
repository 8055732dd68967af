//! ARM error answers shared by the routes (not found, method not allowed, invalid body, …).

use crate::error::ArmError;
use crate::http::Target;

pub(super) fn invalid_body(detail: &str) -> ArmError {
    ArmError::new(
        400,
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: '{detail}'."),
    )
}

pub(super) fn location_required() -> ArmError {
    ArmError::new(
        400,
        "LocationRequired",
        "The location property is required for this definition.",
    )
}

/// The conditional headers of a PUT as ARM applies them to any resource type: `If-None-Match: *` refuses
/// to replace an existing resource, and an `If-Match` on a resource that does not exist refuses to create
/// it (both 412). `If-Match` against an existing resource's etag is checked by the resource's own route.
pub(super) fn create_guard(req: &crate::http::SimRequest, exists: bool) -> Result<(), ArmError> {
    if exists {
        if req
            .get_header("If-None-Match")
            .is_some_and(|v| v.trim() == "*")
        {
            // Not recorded: the message for If-None-Match: * on an existing resource.
            return Err(ArmError::new(
                412,
                "PreconditionFailed",
                "The resource already exists and the if-none-match header \"*\" does not allow it to be replaced.",
            ));
        }
    } else if req.get_header("If-Match").is_some() {
        return Err(ArmError::new(
            412,
            "PreconditionFailed",
            "The resource does not exist and the if-match header requires an existing resource.",
        ));
    }
    Ok(())
}

pub(super) fn only(m: &str, allowed: &[&str]) -> Result<(), ArmError> {
    if allowed.contains(&m) {
        Ok(())
    } else {
        Err(method_not_allowed(m))
    }
}

pub(super) fn method_not_allowed(m: &str) -> ArmError {
    // Not recorded: ARM's answer to an unsupported method on a known route.
    ArmError::new(
        405,
        "MethodNotAllowed",
        format!("The requested method '{m}' is not allowed for this resource."),
    )
}

pub(super) fn no_route(t: &Target) -> ArmError {
    // Not recorded: ARM's answer to a URL that names no resource type it knows.
    ArmError::new(
        404,
        "InvalidResourceType",
        format!("No route for '{}' in the simulator.", t.path),
    )
}

pub(super) fn rg_not_found(rg: &str) -> ArmError {
    ArmError::new(
        404,
        "ResourceGroupNotFound",
        format!("Resource group '{rg}' could not be found."),
    )
}

pub(super) fn not_found(ty: &str, name: &str, rg: &str) -> ArmError {
    let ty = match ty.to_ascii_lowercase().as_str() {
        "virtualmachinescalesets" => "Microsoft.Compute/virtualMachineScaleSets".to_string(),
        "virtualmachines" => "Microsoft.Compute/virtualMachines".to_string(),
        "userassignedidentities" => "Microsoft.ManagedIdentity/userAssignedIdentities".to_string(),
        "virtualnetworks" => "Microsoft.Network/virtualNetworks".to_string(),
        other => other.to_string(),
    };
    ArmError::new(
        404,
        "ResourceNotFound",
        format!(
            "The Resource '{ty}/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

pub(super) fn entity_not_found() -> ArmError {
    ArmError::new(
        404,
        "NotFound",
        "The entity was not found in this Azure location.",
    )
}
