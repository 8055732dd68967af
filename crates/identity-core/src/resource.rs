//! The current state of a scale set or VM, read from an ARM GET body (or `az vmss show` / `az vm show`).

use crate::identity::IdentityState;
use crate::naming::OsType;
use crate::resource_id::{IdKind, ResourceId, same_id};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// What kind of compute resource this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResourceKind {
    /// A scale set in Uniform orchestration mode (the default when the mode is absent).
    ScaleSetUniform,
    /// A scale set in Flexible orchestration mode: accepts only `UserAssigned` or `None`.
    ScaleSetFlexible,
    /// A virtual machine.
    Vm,
}

impl ResourceKind {
    /// Whether this is a scale set (either mode).
    pub fn is_scale_set(self) -> bool {
        !matches!(self, ResourceKind::Vm)
    }

    /// Whether ARM accepts a system-assigned identity on this kind.
    pub fn supports_system_assigned(self) -> bool {
        !matches!(self, ResourceKind::ScaleSetFlexible)
    }

    /// Words for messages ("scale set (Flexible)").
    pub fn describe(self) -> &'static str {
        match self {
            ResourceKind::ScaleSetUniform => "scale set (Uniform)",
            ResourceKind::ScaleSetFlexible => "scale set (Flexible)",
            ResourceKind::Vm => "virtual machine",
        }
    }
}

/// A scale set's `upgradePolicy.mode` (parsed ignoring case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UpgradeMode {
    Automatic,
    Manual,
    Rolling,
}

impl UpgradeMode {
    /// Parse ignoring case; unknown strings give `None`.
    pub fn parse(s: &str) -> Option<UpgradeMode> {
        [
            UpgradeMode::Automatic,
            UpgradeMode::Manual,
            UpgradeMode::Rolling,
        ]
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The ARM spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            UpgradeMode::Automatic => "Automatic",
            UpgradeMode::Manual => "Manual",
            UpgradeMode::Rolling => "Rolling",
        }
    }
}

/// Publisher of the retired managed-identity VM extension.
pub const LEGACY_EXTENSION_PUBLISHER: &str = "Microsoft.ManagedIdentity";
/// Extension types of the retired managed-identity VM extension.
pub const LEGACY_EXTENSION_TYPES: [&str; 2] = [
    "ManagedIdentityExtensionForWindows",
    "ManagedIdentityExtensionForLinux",
];
/// Why this tool never installs the legacy extension (shown where a user looks for it).
pub const LEGACY_EXTENSION_RETIRED: &str = "The managed-identity VM extension (ManagedIdentityExtensionForWindows/Linux) is retired: it was deprecated in favour of the Azure Instance Metadata Service (IMDS) endpoint http://169.254.169.254/metadata/identity/oauth2/token, which every VM and scale-set instance already has. This tool does not install it; it only offers to remove it.";

/// The legacy managed-identity extension, found on a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyExtension {
    /// The extension's name on the resource (used in the DELETE path).
    pub name: String,
    /// `ManagedIdentityExtensionForWindows` or `ManagedIdentityExtensionForLinux`.
    pub extension_type: String,
}

/// Why a GET body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// The current state of a scale set or VM: everything a plan depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceState {
    /// The resource id, as the resource reports it.
    pub id: ResourceId,
    /// Scale set (Uniform / Flexible) or VM.
    pub kind: ResourceKind,
    /// Azure region (`westeurope`), if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Current identities (when the GET contradicts itself: every identity it mentions).
    pub identity: IdentityState,
    /// Why the GET's `identity` contradicts itself (its `type` and `userAssignedIdentities`
    /// disagree, …), and what to do; plans refuse to change the identities of such a state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_conflict: Option<String>,
    /// The body's `etag` (e.g. `"\"4\""`), sent back as `If-Match`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Scale sets: `upgradePolicy.mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_mode: Option<UpgradeMode>,
    /// The retired managed-identity extension, if installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_extension: Option<LegacyExtension>,
    /// Managed by AKS (node resource group `MC_*` or `aks-managed-*` tags): AKS may revert changes.
    pub aks_managed: bool,
    /// Operating system, when the body says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<OsType>,
    /// `properties.provisioningState`, if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Resource tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for k in path {
        cur = cur.get(*k)?;
    }
    Some(cur)
}

fn get_str<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(v, path).and_then(Value::as_str)
}

fn legacy_in(list: Option<&Value>) -> Option<LegacyExtension> {
    for ext in list?.as_array()? {
        let props = ext.get("properties").unwrap_or(ext);
        let publisher = props.get("publisher").and_then(Value::as_str).unwrap_or("");
        // ARM nests `properties.type`; the az CLI flattens it to `typePropertiesType`.
        let ty = ["type", "typePropertiesType"]
            .iter()
            .filter_map(|k| props.get(*k).and_then(Value::as_str))
            .find(|t| {
                LEGACY_EXTENSION_TYPES
                    .iter()
                    .any(|l| l.eq_ignore_ascii_case(t))
            });
        if let (true, Some(ty)) = (
            publisher.eq_ignore_ascii_case(LEGACY_EXTENSION_PUBLISHER),
            ty,
        ) {
            let name = ext
                .get("name")
                .and_then(Value::as_str)
                .map(|n| n.rsplit('/').next().unwrap_or(n).to_string())
                .unwrap_or_else(|| ty.to_string());
            return Some(LegacyExtension {
                name,
                extension_type: ty.to_string(),
            });
        }
    }
    None
}

/// Whether `s` starts with the ASCII `prefix`, ignoring ASCII case. Compares bytes, so a name
/// whose first characters are multi-byte (`grüppe`, `日本-rg`) is simply no match (slicing the
/// `str` at the prefix's length would panic inside such a character).
fn starts_with_ignore_ascii_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Tag-key prefix that AKS puts on the scale sets it manages.
pub const AKS_TAG_PREFIX: &str = "aks-managed-";

impl ResourceState {
    /// Read the state from an ARM GET body (or the JSON of `az vmss show` / `az vm show`).
    ///
    /// `resource_id` is used when the body has no `id`; when both are present they must name the
    /// same resource (ignoring case). A missing `identity` key means no identity. An `identity`
    /// whose parts disagree is read (every identity it mentions kept) and flagged in
    /// [`ResourceState::identity_conflict`]; only an `identity` that is not an object is an error.
    ///
    /// ```
    /// use identity_core::resource::{ResourceKind, ResourceState, UpgradeMode};
    /// let body = serde_json::json!({
    ///   "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss1",
    ///   "location": "westeurope", "etag": "\"4\"",
    ///   "properties": {"orchestrationMode": "Uniform", "upgradePolicy": {"mode": "Manual"}}
    /// });
    /// let st = ResourceState::from_arm(&body, None).unwrap();
    /// assert_eq!(st.kind, ResourceKind::ScaleSetUniform);
    /// assert_eq!(st.upgrade_mode, Some(UpgradeMode::Manual));
    /// assert_eq!(st.etag.as_deref(), Some("\"4\""));
    /// assert!(!st.identity.system_assigned && st.identity.user_assigned.is_empty());
    /// ```
    pub fn from_arm(body: &Value, resource_id: Option<&str>) -> Result<ResourceState, ParseError> {
        if !body.is_object() {
            return Err(ParseError("the resource is not a JSON object".into()));
        }
        let body_id = get_str(body, &["id"]);
        let id_text = match (body_id, resource_id) {
            (Some(b), Some(r)) if !same_id(b, r) => {
                return Err(ParseError(format!(
                    "resourceId {r:?} does not match the body's id {b:?}"
                )));
            }
            (Some(b), _) => b,
            (None, Some(r)) => r,
            (None, None) => {
                return Err(ParseError(
                    "no resource id: the body has no \"id\" and no resourceId was given".into(),
                ));
            }
        };
        let id = ResourceId::parse(id_text).map_err(|e| ParseError(e.to_string()))?;
        // ARM nests the model under `properties`; `az vmss show` / `az vm show` flatten it.
        let props = match body.get("properties") {
            Some(p @ Value::Object(_)) => p.clone(),
            _ => body.clone(),
        };
        let kind = match id.kind() {
            IdKind::ScaleSet => {
                let mode = get_str(&props, &["orchestrationMode"]).unwrap_or("Uniform");
                if mode.eq_ignore_ascii_case("Flexible") {
                    ResourceKind::ScaleSetFlexible
                } else if mode.eq_ignore_ascii_case("Uniform") {
                    ResourceKind::ScaleSetUniform
                } else {
                    return Err(ParseError(format!("unknown orchestrationMode {mode:?}")));
                }
            }
            IdKind::VirtualMachine => ResourceKind::Vm,
            _ => {
                return Err(ParseError(format!(
                    "{id} is neither a scale set (Microsoft.Compute/virtualMachineScaleSets) nor a VM (Microsoft.Compute/virtualMachines)"
                )));
            }
        };
        let reading = IdentityState::read_arm(body.get("identity"))
            .map_err(|e| ParseError(format!("identity: {e}")))?;
        let etag = match body.get("etag") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let upgrade_mode = if kind.is_scale_set() {
            get_str(&props, &["upgradePolicy", "mode"]).and_then(UpgradeMode::parse)
        } else {
            None
        };
        let legacy_extension = if kind.is_scale_set() {
            legacy_in(get(
                &props,
                &["virtualMachineProfile", "extensionProfile", "extensions"],
            ))
        } else {
            legacy_in(body.get("resources"))
        };
        let tags: BTreeMap<String, String> = body
            .get("tags")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let rg_is_aks = id
            .resource_group()
            .is_some_and(|g| g.len() > 3 && starts_with_ignore_ascii_case(g, "MC_"));
        let tag_is_aks = tags
            .keys()
            .any(|k| starts_with_ignore_ascii_case(k, AKS_TAG_PREFIX));
        let os_path: &[&str] = if kind.is_scale_set() {
            &[
                "virtualMachineProfile",
                "storageProfile",
                "osDisk",
                "osType",
            ]
        } else {
            &["storageProfile", "osDisk", "osType"]
        };
        let profile: &[&str] = if kind.is_scale_set() {
            &["virtualMachineProfile", "osProfile"]
        } else {
            &["osProfile"]
        };
        let os_type = match get_str(&props, os_path) {
            Some(s) if s.eq_ignore_ascii_case("Linux") => Some(OsType::Linux),
            Some(s) if s.eq_ignore_ascii_case("Windows") => Some(OsType::Windows),
            _ => {
                let p = get(&props, profile);
                if p.and_then(|p| p.get("linuxConfiguration"))
                    .is_some_and(|v| !v.is_null())
                {
                    Some(OsType::Linux)
                } else if p
                    .and_then(|p| p.get("windowsConfiguration"))
                    .is_some_and(|v| !v.is_null())
                {
                    Some(OsType::Windows)
                } else {
                    None
                }
            }
        };
        Ok(ResourceState {
            id,
            kind,
            location: get_str(body, &["location"]).map(str::to_string),
            identity: reading.state,
            identity_conflict: reading.conflict,
            etag,
            upgrade_mode,
            legacy_extension,
            aks_managed: rg_is_aks || tag_is_aks,
            os_type,
            provisioning_state: get_str(&props, &["provisioningState"]).map(str::to_string),
            tags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const VMSS: &str =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/v";
    const VM: &str =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/m";

    #[test]
    fn kind_from_id_and_orchestration_mode() {
        let k = |props: Value, id: &str| {
            ResourceState::from_arm(&json!({"id": id, "properties": props}), None)
                .unwrap()
                .kind
        };
        assert_eq!(k(json!({}), VMSS), ResourceKind::ScaleSetUniform);
        assert_eq!(
            k(json!({"orchestrationMode": "flexible"}), VMSS),
            ResourceKind::ScaleSetFlexible
        );
        assert_eq!(k(json!({}), VM), ResourceKind::Vm);
        assert!(
            ResourceState::from_arm(
                &json!({"id": VMSS, "properties": {"orchestrationMode": "Odd"}}),
                None
            )
            .is_err()
        );
        let uai = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x";
        assert!(ResourceState::from_arm(&json!({"id": uai}), None).is_err());
    }

    #[test]
    fn id_from_argument_or_body_must_agree() {
        let st = ResourceState::from_arm(&json!({}), Some(VM)).unwrap();
        assert_eq!(st.id.as_str(), VM);
        assert!(ResourceState::from_arm(&json!({"id": VM}), Some(&VM.to_uppercase())).is_ok());
        assert!(ResourceState::from_arm(&json!({"id": VM}), Some(VMSS)).is_err());
        assert!(ResourceState::from_arm(&json!({}), None).is_err());
        assert!(ResourceState::from_arm(&json!([]), Some(VM)).is_err());
    }

    #[test]
    fn az_cli_flattened_output() {
        // `az vmss show -o json` flattens `properties` (and extension properties)
        let body = json!({
            "id": VMSS, "etag": "\"3\"", "identity": null, "tags": null,
            "orchestrationMode": "Flexible", "upgradePolicy": {"mode": "Manual"},
            "provisioningState": "Succeeded",
            "virtualMachineProfile": {"storageProfile": {"osDisk": {"osType": "Windows"}},
                "extensionProfile": {"extensions": [{"name": "mi", "publisher": "Microsoft.ManagedIdentity",
                    "type": "Microsoft.Compute/virtualMachineScaleSets/extensions",
                    "typePropertiesType": "ManagedIdentityExtensionForWindows"}]}}
        });
        let st = ResourceState::from_arm(&body, None).unwrap();
        assert_eq!(st.kind, ResourceKind::ScaleSetFlexible);
        assert_eq!(st.upgrade_mode, Some(UpgradeMode::Manual));
        assert_eq!(st.os_type, Some(OsType::Windows));
        assert_eq!(st.provisioning_state.as_deref(), Some("Succeeded"));
        assert_eq!(st.identity, IdentityState::none());
        assert_eq!(
            st.legacy_extension.unwrap().extension_type,
            "ManagedIdentityExtensionForWindows"
        );
    }

    #[test]
    fn legacy_extension_aks_and_os() {
        let body = json!({
            "id": "/subscriptions/s/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1",
            "properties": {"upgradePolicy": {"mode": "manual"}, "virtualMachineProfile": {
                "storageProfile": {"osDisk": {"osType": "Linux"}},
                "extensionProfile": {"extensions": [
                    {"name": "CustomScript", "properties": {"publisher": "Microsoft.Azure.Extensions", "type": "CustomScript"}},
                    {"name": "msi", "properties": {"publisher": "Microsoft.ManagedIdentity", "type": "ManagedIdentityExtensionForLinux"}}
                ]}}}
        });
        let st = ResourceState::from_arm(&body, None).unwrap();
        assert!(st.aks_managed);
        assert_eq!(st.upgrade_mode, Some(UpgradeMode::Manual));
        assert_eq!(st.os_type, Some(OsType::Linux));
        assert_eq!(
            st.legacy_extension,
            Some(LegacyExtension {
                name: "msi".into(),
                extension_type: "ManagedIdentityExtensionForLinux".into()
            })
        );
        let vm = json!({"id": VM, "tags": {"aks-managed-poolName": "np"},
            "properties": {"osProfile": {"windowsConfiguration": {}}},
            "resources": [{"name": "ManagedIdentityExtensionForWindows", "properties": {"publisher": "Microsoft.ManagedIdentity", "type": "ManagedIdentityExtensionForWindows"}}]});
        let st = ResourceState::from_arm(&vm, None).unwrap();
        assert!(st.aks_managed);
        assert_eq!(st.os_type, Some(OsType::Windows));
        assert_eq!(st.upgrade_mode, None);
        assert_eq!(
            st.legacy_extension.unwrap().name,
            "ManagedIdentityExtensionForWindows"
        );
        let plain = ResourceState::from_arm(&json!({"id": VMSS}), None).unwrap();
        assert!(!plain.aks_managed && plain.legacy_extension.is_none() && plain.etag.is_none());
    }

    #[test]
    fn multi_byte_group_names_and_tag_keys_do_not_panic() {
        // Azure allows Unicode letters in resource group names; these used to panic (byte slicing)
        for g in ["grüppe", "日本-rg", "MC日本", "Mé", "ü", "MC_ü_aks"] {
            let id = format!(
                "/subscriptions/s/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachineScaleSets/v"
            );
            let st = ResourceState::from_arm(
                &json!({"id": id, "tags": {"aks-managed-ü": "x", "日本語のタグ": "y", "akş": "z", "aks-managedü": "w"}}),
                None,
            )
            .unwrap();
            assert_eq!(st.id.resource_group(), Some(g));
            assert!(st.aks_managed); // the aks-managed-ü tag
            let untagged =
                ResourceState::from_arm(&json!({"id": id, "tags": {"aks-managé": "x"}}), None)
                    .unwrap();
            assert_eq!(untagged.aks_managed, g.starts_with("MC_"), "{g}");
        }
    }
}
