//! ARM resource ids: parse, format, compare ignoring case, and keep the casing the resource holds.
//!
//! ARM treats ids case-insensitively: Microsoft.ManagedIdentity answers with `resourcegroups`,
//! Microsoft.Compute with `resourceGroups`, and both name the same resource. A [`ResourceId`]
//! therefore compares and hashes ignoring ASCII case, while [`ResourceId::as_str`] (and `Display`)
//! return the id exactly as it was parsed, so that an id sent back to ARM keeps the casing the
//! resource itself holds.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::hash::{Hash, Hasher};

/// What kind of resource an id names (from its provider namespace and resource type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IdKind {
    /// `/subscriptions/{sub}`
    Subscription,
    /// `/subscriptions/{sub}/resourceGroups/{rg}`
    ResourceGroup,
    /// `Microsoft.Compute/virtualMachineScaleSets`
    ScaleSet,
    /// `Microsoft.Compute/virtualMachines`
    VirtualMachine,
    /// `Microsoft.ManagedIdentity/userAssignedIdentities`
    UserAssignedIdentity,
    /// Any other resource (or a child resource such as an extension).
    Other,
}

/// Why a string is not an ARM resource id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdError {
    /// The input, as given.
    pub input: String,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not an ARM resource id ({}): {:?}",
            self.reason, self.input
        )
    }
}

impl std::error::Error for IdError {}

/// A parsed ARM resource id.
///
/// ```
/// use identity_core::resource_id::{IdKind, ResourceId};
/// let a: ResourceId = "/subscriptions/0000/resourcegroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
///     .parse().unwrap();
/// let b: ResourceId = "/SUBSCRIPTIONS/0000/resourceGroups/RG1/providers/microsoft.managedidentity/userassignedidentities/ID1"
///     .parse().unwrap();
/// assert_eq!(a, b); // ARM ids compare ignoring case
/// assert_eq!(a.kind(), IdKind::UserAssignedIdentity);
/// assert_eq!(a.subscription(), "0000");
/// assert_eq!(a.resource_group(), Some("rg1"));
/// assert_eq!(a.name(), "id1");
/// // the text is kept exactly as parsed
/// assert!(a.as_str().contains("/resourcegroups/"));
/// ```
#[derive(Debug, Clone)]
pub struct ResourceId {
    raw: String,
    subscription: String,
    resource_group: Option<String>,
    /// `Microsoft.Compute` etc., when the id has a `providers` segment.
    namespace: Option<String>,
    /// `(type, name)` pairs after the namespace, e.g. `[("virtualMachineScaleSets","vmss1"),("extensions","x")]`.
    types: Vec<(String, String)>,
}

fn err(input: &str, reason: impl Into<String>) -> IdError {
    IdError {
        input: input.to_string(),
        reason: reason.into(),
    }
}

impl ResourceId {
    /// Parse an id such as `/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{type}/{name}`.
    /// A trailing `/` is dropped; surrounding whitespace is an error (ids never contain it).
    pub fn parse(s: &str) -> Result<ResourceId, IdError> {
        if s.trim() != s {
            return Err(err(s, "leading or trailing whitespace"));
        }
        let trimmed = s.strip_suffix('/').unwrap_or(s);
        if !trimmed.starts_with('/') {
            return Err(err(s, "must start with '/subscriptions/'"));
        }
        let segs: Vec<&str> = trimmed[1..].split('/').collect();
        if segs.iter().any(|p| p.is_empty()) {
            return Err(err(s, "empty segment ('//')"));
        }
        if segs.len() < 2 || !segs[0].eq_ignore_ascii_case("subscriptions") {
            return Err(err(s, "must start with '/subscriptions/{subscriptionId}'"));
        }
        let subscription = segs[1].to_string();
        let mut i = 2;
        let mut resource_group = None;
        if i < segs.len() && segs[i].eq_ignore_ascii_case("resourceGroups") {
            if i + 1 >= segs.len() {
                return Err(err(s, "'resourceGroups' without a name"));
            }
            resource_group = Some(segs[i + 1].to_string());
            i += 2;
        }
        let mut namespace = None;
        let mut types = Vec::new();
        if i < segs.len() {
            if !segs[i].eq_ignore_ascii_case("providers") {
                return Err(err(s, format!("unexpected segment {:?}", segs[i])));
            }
            if i + 1 >= segs.len() {
                return Err(err(s, "'providers' without a namespace"));
            }
            namespace = Some(segs[i + 1].to_string());
            let rest = &segs[i + 2..];
            if !rest.len().is_multiple_of(2) {
                return Err(err(s, "resource type without a name"));
            }
            for pair in rest.chunks(2) {
                types.push((pair[0].to_string(), pair[1].to_string()));
            }
            if types.is_empty() && resource_group.is_some() {
                return Err(err(s, "provider namespace without a resource type"));
            }
        }
        Ok(ResourceId {
            raw: trimmed.to_string(),
            subscription,
            resource_group,
            namespace,
            types,
        })
    }

    fn build(sub: &str, rg: &str, ns: &str, ty: &str, name: &str) -> ResourceId {
        let raw = format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{ty}/{name}");
        ResourceId {
            raw,
            subscription: sub.to_string(),
            resource_group: Some(rg.to_string()),
            namespace: Some(ns.to_string()),
            types: vec![(ty.to_string(), name.to_string())],
        }
    }

    /// The id of a scale set.
    ///
    /// ```
    /// let id = identity_core::resource_id::ResourceId::scale_set("s", "rg", "vmss1");
    /// assert_eq!(id.as_str(), "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss1");
    /// ```
    pub fn scale_set(sub: &str, rg: &str, name: &str) -> ResourceId {
        Self::build(
            sub,
            rg,
            "Microsoft.Compute",
            "virtualMachineScaleSets",
            name,
        )
    }

    /// The id of a virtual machine.
    pub fn vm(sub: &str, rg: &str, name: &str) -> ResourceId {
        Self::build(sub, rg, "Microsoft.Compute", "virtualMachines", name)
    }

    /// The id of a user-assigned identity.
    pub fn user_assigned_identity(sub: &str, rg: &str, name: &str) -> ResourceId {
        Self::build(
            sub,
            rg,
            "Microsoft.ManagedIdentity",
            "userAssignedIdentities",
            name,
        )
    }

    /// The id of a resource group.
    pub fn resource_group_id(sub: &str, rg: &str) -> ResourceId {
        ResourceId {
            raw: format!("/subscriptions/{sub}/resourceGroups/{rg}"),
            subscription: sub.to_string(),
            resource_group: Some(rg.to_string()),
            namespace: None,
            types: Vec::new(),
        }
    }

    /// The id exactly as parsed (without a trailing `/`): use it when sending the id back.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The subscription id segment.
    pub fn subscription(&self) -> &str {
        &self.subscription
    }

    /// The resource group name, if the id is inside one.
    pub fn resource_group(&self) -> Option<&str> {
        self.resource_group.as_deref()
    }

    /// The provider namespace (`Microsoft.Compute`), if any.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The full resource type, e.g. `Microsoft.Compute/virtualMachineScaleSets/extensions`.
    pub fn resource_type(&self) -> Option<String> {
        let ns = self.namespace.as_ref()?;
        let mut s = ns.clone();
        for (t, _) in &self.types {
            s.push('/');
            s.push_str(t);
        }
        Some(s)
    }

    /// The last name in the id (the resource's own name; the group or subscription for those ids).
    pub fn name(&self) -> &str {
        if let Some((_, n)) = self.types.last() {
            n
        } else if let Some(rg) = &self.resource_group {
            rg
        } else {
            &self.subscription
        }
    }

    /// What this id names. Child resources (e.g. extensions) are [`IdKind::Other`].
    pub fn kind(&self) -> IdKind {
        let ns = match &self.namespace {
            None if self.resource_group.is_some() => return IdKind::ResourceGroup,
            None => return IdKind::Subscription,
            Some(ns) => ns,
        };
        if self.types.len() != 1 {
            return IdKind::Other;
        }
        let ty = &self.types[0].0;
        if ns.eq_ignore_ascii_case("Microsoft.Compute") {
            if ty.eq_ignore_ascii_case("virtualMachineScaleSets") {
                return IdKind::ScaleSet;
            }
            if ty.eq_ignore_ascii_case("virtualMachines") {
                return IdKind::VirtualMachine;
            }
        }
        if ns.eq_ignore_ascii_case("Microsoft.ManagedIdentity")
            && ty.eq_ignore_ascii_case("userAssignedIdentities")
        {
            return IdKind::UserAssignedIdentity;
        }
        IdKind::Other
    }

    /// A child id, e.g. `id.child("extensions", "x")`, keeping this id's casing.
    pub fn child(&self, ty: &str, name: &str) -> ResourceId {
        let mut c = self.clone();
        c.raw = format!("{}/{ty}/{name}", self.raw);
        c.types.push((ty.to_string(), name.to_string()));
        c
    }

    /// The id lower-cased: the key under which ids compare.
    pub fn key(&self) -> String {
        self.raw.to_ascii_lowercase()
    }
}

/// Compare two id strings the way ARM does (ignoring ASCII case and a trailing `/`),
/// without requiring them to parse.
///
/// ```
/// assert!(identity_core::resource_id::same_id("/subscriptions/A/resourcegroups/x", "/SUBSCRIPTIONS/a/resourceGroups/X/"));
/// ```
pub fn same_id(a: &str, b: &str) -> bool {
    let a = a.strip_suffix('/').unwrap_or(a);
    let b = b.strip_suffix('/').unwrap_or(b);
    a.eq_ignore_ascii_case(b)
}

impl PartialEq for ResourceId {
    fn eq(&self, other: &Self) -> bool {
        self.raw.eq_ignore_ascii_case(&other.raw)
    }
}

impl Eq for ResourceId {}

impl Hash for ResourceId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for b in self.raw.bytes() {
            state.write_u8(b.to_ascii_lowercase());
        }
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl std::str::FromStr for ResourceId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        ResourceId::parse(s)
    }
}

impl Serialize for ResourceId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for ResourceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ResourceId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const UA: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";

    #[test]
    fn parses_every_part_and_round_trips_text() {
        let id = ResourceId::parse(UA).unwrap();
        assert_eq!(id.as_str(), UA);
        assert_eq!(id.to_string(), UA);
        assert_eq!(id.namespace(), Some("Microsoft.ManagedIdentity"));
        assert_eq!(
            id.resource_type().as_deref(),
            Some("Microsoft.ManagedIdentity/userAssignedIdentities")
        );
        let with_slash = ResourceId::parse(&format!("{UA}/")).unwrap();
        assert_eq!(with_slash.as_str(), UA);
    }

    #[test]
    fn equality_and_hash_ignore_case() {
        let a = ResourceId::parse(UA).unwrap();
        let b = ResourceId::parse(&UA.to_uppercase()).unwrap();
        let c = ResourceId::parse(&UA.replace("id1", "id2")).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let set: HashSet<_> = [a.clone(), b, c].into_iter().collect();
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn kinds() {
        assert_eq!(
            ResourceId::scale_set("s", "g", "n").kind(),
            IdKind::ScaleSet
        );
        assert_eq!(ResourceId::vm("s", "g", "n").kind(), IdKind::VirtualMachine);
        assert_eq!(
            ResourceId::parse("/subscriptions/s").unwrap().kind(),
            IdKind::Subscription
        );
        assert_eq!(
            ResourceId::parse("/subscriptions/s/resourcegroups/g")
                .unwrap()
                .kind(),
            IdKind::ResourceGroup
        );
        let ext = ResourceId::scale_set("s", "g", "n").child("extensions", "e");
        assert_eq!(ext.kind(), IdKind::Other);
        assert_eq!(ext.name(), "e");
        assert!(
            ext.as_str()
                .ends_with("/virtualMachineScaleSets/n/extensions/e")
        );
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "",
            "subscriptions/s",
            "/subscriptions",
            "/subscriptions//resourceGroups/g",
            "/subscriptions/s/resourceGroups",
            "/subscriptions/s/resourceGroups/g/providers",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines",
            "/subscriptions/s/foo/bar",
            " /subscriptions/s",
        ] {
            assert!(ResourceId::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn serde_is_a_plain_string() {
        let id = ResourceId::parse(UA).unwrap();
        let v = serde_json::to_value(&id).unwrap();
        assert_eq!(v, serde_json::Value::String(UA.into()));
        let back: ResourceId = serde_json::from_value(v).unwrap();
        assert_eq!(back.as_str(), UA);
        assert!(serde_json::from_str::<ResourceId>("\"nope\"").is_err());
    }
}
