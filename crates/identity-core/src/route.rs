//! The app's routes: the URL path is the ARM resource id of what is shown, so a deep link reads
//! like the resource (`/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}`),
//! and `?wizard={slug}` opens a wizard on it. Pure parsing and formatting, tested natively.

use crate::resource_id::{IdKind, ResourceId};

/// One page of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/`: the scenario catalogue and where to start.
    Home,
    /// `/subscriptions`: pick a subscription.
    Subscriptions,
    /// `/subscriptions/{sub}`: pick a resource group.
    Subscription { sub: String },
    /// `/subscriptions/{sub}/resourceGroups/{rg}`: pick a scale set or VM.
    ResourceGroup { sub: String, rg: String },
    /// A scale set or VM by its ARM id, optionally with a wizard open (`?wizard=slug`).
    Resource { id: String, wizard: Option<String> },
    /// `/snippets/{slug}`: a wizard in snippet-only mode (typed names, scripts only).
    Snippets { slug: String },
    /// `/log`: every request sent in this session.
    ChangeLog,
    /// `/create/scale-set`: the create-a-scale-set-with-identities wizard.
    CreateScaleSet,
    /// `/create/vm`: the same wizard creating a VM with identities.
    CreateVm,
    /// `/create/identity`: create a user-assigned identity on its own.
    CreateIdentity,
    /// `/inventory?…`: every scale set, VM and user-assigned identity; `query` (without `?`, as given) holds the
    /// view's filters and sort ([`crate::inventory::view::Filter::from_query`] reads it).
    Inventory { query: String },
    /// A user-assigned identity by its ARM id
    /// (`/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`):
    /// who uses it across the tenant and its role assignments (the inventory's module shows it).
    Identity { id: String },
    /// `/bulk`: one change across many scale sets and VMs (review, apply, report; the selection comes from the
    /// inventory or an identity page, a batch under way from the browser's storage).
    Bulk,
    /// Anything else (the path as given).
    NotFound(String),
}

fn decode(seg: &str) -> String {
    let bytes = seg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(seg: &str) -> String {
    let mut s = String::with_capacity(seg.len());
    for b in seg.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                s.push(b as char)
            }
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

fn query_value(query: &str, key: &str) -> Option<String> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| decode(v))
        .filter(|v| !v.is_empty())
}

impl Route {
    /// Parse `location.pathname` and `location.search`.
    ///
    /// ```
    /// use identity_core::route::Route;
    /// let r = Route::parse("/subscriptions/s1/resourceGroups/rg%201/providers/Microsoft.Compute/virtualMachineScaleSets/vmss1", "?wizard=assign-user-assigned");
    /// assert_eq!(r, Route::Resource {
    ///     id: "/subscriptions/s1/resourceGroups/rg 1/providers/Microsoft.Compute/virtualMachineScaleSets/vmss1".into(),
    ///     wizard: Some("assign-user-assigned".into()),
    /// });
    /// assert_eq!(Route::parse(&r.path(), &r.query()), r);
    /// ```
    pub fn parse(path: &str, query: &str) -> Route {
        let segs: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect();
        let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
        let l: Vec<&str> = lower.iter().map(String::as_str).collect();
        match l.as_slice() {
            [] => Route::Home,
            ["log"] => Route::ChangeLog,
            // the query as given: the inventory's module reads it (its parser stays out of the first load)
            ["inventory"] => Route::Inventory {
                query: query.trim_start_matches('?').to_string(),
            },
            ["bulk"] => Route::Bulk,
            ["create", "scale-set"] => Route::CreateScaleSet,
            ["create", "vm"] => Route::CreateVm,
            ["create", "identity"] => Route::CreateIdentity,
            ["snippets", _] => Route::Snippets {
                slug: segs[1].clone(),
            },
            ["subscriptions"] => Route::Subscriptions,
            ["subscriptions", _] => Route::Subscription {
                sub: segs[1].clone(),
            },
            ["subscriptions", _, "resourcegroups", _] => Route::ResourceGroup {
                sub: segs[1].clone(),
                rg: segs[3].clone(),
            },
            ["subscriptions", ..] => {
                let id = format!("/{}", segs.join("/"));
                match ResourceId::parse(&id).map(|r| (r.kind(), r.resource_group().is_some())) {
                    Ok((IdKind::ScaleSet | IdKind::VirtualMachine, _)) => Route::Resource {
                        id,
                        wizard: query_value(query, "wizard"),
                    },
                    Ok((IdKind::UserAssignedIdentity, true)) => Route::Identity { id },
                    _ => Route::NotFound(path.to_string()),
                }
            }
            _ => Route::NotFound(path.to_string()),
        }
    }

    /// The path of this route (segments percent-encoded).
    pub fn path(&self) -> String {
        match self {
            Route::Home => "/".into(),
            Route::Subscriptions => "/subscriptions".into(),
            Route::Subscription { sub } => format!("/subscriptions/{}", encode(sub)),
            Route::ResourceGroup { sub, rg } => {
                format!(
                    "/subscriptions/{}/resourceGroups/{}",
                    encode(sub),
                    encode(rg)
                )
            }
            Route::Resource { id, .. } | Route::Identity { id } => {
                let segs: Vec<String> = id
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(encode)
                    .collect();
                format!("/{}", segs.join("/"))
            }
            Route::Snippets { slug } => format!("/snippets/{}", encode(slug)),
            Route::ChangeLog => "/log".into(),
            Route::CreateScaleSet => "/create/scale-set".into(),
            Route::CreateVm => "/create/vm".into(),
            Route::CreateIdentity => "/create/identity".into(),
            Route::Inventory { .. } => "/inventory".into(),
            Route::Bulk => "/bulk".into(),
            Route::NotFound(p) => p.clone(),
        }
    }

    /// The query string (`?wizard=…`, or empty).
    pub fn query(&self) -> String {
        match self {
            Route::Resource {
                wizard: Some(w), ..
            } => format!("?wizard={}", encode(w)),
            Route::Inventory { query } if !query.is_empty() => format!("?{query}"),
            _ => String::new(),
        }
    }

    /// Path and query, for links and `history.pushState`.
    pub fn href(&self) -> String {
        format!("{}{}", self.path(), self.query())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_round_trips() {
        let routes = [
            Route::Home,
            Route::Subscriptions,
            Route::Subscription { sub: "0000-1111".into() },
            Route::ResourceGroup { sub: "s".into(), rg: "rg (prod) #1".into() },
            Route::Resource {
                id: "/subscriptions/s/resourceGroups/MC_aks_cl/providers/Microsoft.Compute/virtualMachines/vm-1".into(),
                wizard: None,
            },
            Route::Resource {
                id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/v".into(),
                wizard: Some("remove-user-assigned".into()),
            },
            Route::Snippets { slug: "enable-system-assigned".into() },
            Route::ChangeLog,
            Route::CreateScaleSet,
            Route::CreateVm,
            Route::CreateIdentity,
            Route::Inventory { query: String::new() },
            Route::Inventory { query: "q=web%20%26%20api&kind=vm&legacy=1&sort=subscription&desc=1".into() },
            Route::Identity {
                id: "/subscriptions/s/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web".into(),
            },
            Route::Identity {
                id: "/subscriptions/s/resourceGroups/rg (prod) #1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id_ä".into(),
            },
            Route::Bulk,
        ];
        for r in routes {
            assert_eq!(Route::parse(&r.path(), &r.query()), r, "{}", r.href());
        }
    }

    #[test]
    fn inventory_keeps_its_query() {
        assert_eq!(
            Route::parse("/Inventory/", "?desc=1&sort=group&kind=vm"),
            Route::Inventory {
                query: "desc=1&sort=group&kind=vm".into()
            }
        );
        assert_eq!(
            Route::parse("/inventory", ""),
            Route::Inventory {
                query: String::new()
            }
        );
        assert!(matches!(
            Route::parse("/inventory/x", ""),
            Route::NotFound(_)
        ));
    }

    #[test]
    fn provider_segments_are_matched_ignoring_case_and_others_are_not_found() {
        let r = Route::parse(
            "/SUBSCRIPTIONS/s/RESOURCEGROUPS/g/providers/microsoft.compute/virtualmachinescalesets/v",
            "",
        );
        assert!(matches!(r, Route::Resource { .. }), "{r:?}");
        assert!(matches!(
            Route::parse(
                "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/x",
                ""
            ),
            Route::NotFound(_)
        ));
        assert!(matches!(Route::parse("/nope", ""), Route::NotFound(_)));
        assert_eq!(
            Route::parse("/subscriptions/s/", "?wizard=x"),
            Route::Subscription { sub: "s".into() }
        );
    }

    #[test]
    fn identity_route_matches_the_provider_ignoring_case_and_keeps_the_id_as_given() {
        let id = "/subscriptions/s/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web";
        let r = Route::parse(id, "?wizard=x");
        assert_eq!(r, Route::Identity { id: id.into() });
        assert_eq!(r.href(), id, "no query: an identity page has no wizard");
        let lower = Route::parse(
            "/SUBSCRIPTIONS/s/RESOURCEGROUPS/g/PROVIDERS/microsoft.managedidentity/USERASSIGNEDIDENTITIES/Id1/",
            "",
        );
        assert_eq!(
            lower,
            Route::Identity {
                id: "/SUBSCRIPTIONS/s/RESOURCEGROUPS/g/PROVIDERS/microsoft.managedidentity/USERASSIGNEDIDENTITIES/Id1".into()
            }
        );
        // a name with a space or a slash is encoded in the path and decoded back
        let odd = Route::Identity {
            id: "/subscriptions/s/resourceGroups/rg 1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a%b".into(),
        };
        assert!(
            odd.path().contains("/rg%201/") && odd.path().ends_with("/a%25b"),
            "{}",
            odd.path()
        );
        assert_eq!(Route::parse(&odd.path(), ""), odd);
        // not an identity page: no group, a child resource, another provider, a missing name
        for p in [
            "/subscriptions/s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x/federatedIdentityCredentials/f",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentities/userAssignedIdentities/x",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
        ] {
            assert!(matches!(Route::parse(p, ""), Route::NotFound(_)), "{p}");
        }
    }

    #[test]
    fn create_routes_ignore_case_and_trailing_slash_but_not_extra_segments() {
        assert_eq!(
            Route::parse("/Create/Scale-Set/", ""),
            Route::CreateScaleSet
        );
        assert_eq!(
            Route::parse("/create/identity", "?x=1"),
            Route::CreateIdentity
        );
        assert!(matches!(Route::parse("/create", ""), Route::NotFound(_)));
        assert_eq!(Route::parse("/create/VM/", ""), Route::CreateVm);
        assert!(matches!(
            Route::parse("/create/vm/x", ""),
            Route::NotFound(_)
        ));
        assert!(matches!(
            Route::parse("/create/vms", ""),
            Route::NotFound(_)
        ));
        assert!(matches!(
            Route::parse("/create/scale-set/x", ""),
            Route::NotFound(_)
        ));
    }

    #[test]
    fn percent_decoding_is_strict_about_truncated_escapes() {
        assert_eq!(decode("a%20b"), "a b");
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%é1"), "%é1");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
