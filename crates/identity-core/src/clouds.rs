//! The Azure clouds the app can talk to: ARM endpoint, sign-in authority, ARM scope, and the names
//! Az PowerShell (`-Environment`) and the Azure CLI (`az cloud set`) use. One table
//! (`clouds.json`), shared with the build's Content-Security-Policy generator.

use serde::Deserialize;
use std::sync::OnceLock;

/// One Azure cloud.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cloud {
    /// `AzureCloud`, `AzureUSGovernment`, `AzureChinaCloud`.
    pub name: String,
    pub label: String,
    /// ARM endpoint origin, without a trailing slash.
    pub arm_endpoint: String,
    /// Microsoft Entra ID authority host, without a trailing slash.
    pub authority: String,
    /// `Connect-AzAccount -Environment` value.
    pub ps_environment: String,
    /// `az cloud set --name` value.
    pub cli_cloud: String,
    /// The legacy ARM audience some tokens carry.
    pub legacy_audience: String,
}

impl Cloud {
    /// The delegated ARM scope MSAL asks for (`https://management.azure.com/user_impersonation`).
    pub fn arm_scope(&self) -> String {
        format!("{}/user_impersonation", self.arm_endpoint)
    }

    /// Whether this is the public cloud (scripts then need no `-Environment`).
    pub fn is_public(&self) -> bool {
        self.name == "AzureCloud"
    }
}

#[derive(Deserialize)]
struct Table {
    clouds: Vec<Cloud>,
}

/// Every known cloud, public first.
///
/// ```
/// let gov = identity_core::clouds::by_name("azureusgovernment").unwrap();
/// assert_eq!(gov.arm_scope(), "https://management.usgovcloudapi.net/user_impersonation");
/// assert_eq!(identity_core::clouds::all()[0].name, "AzureCloud");
/// ```
pub fn all() -> &'static [Cloud] {
    static CLOUDS: OnceLock<Vec<Cloud>> = OnceLock::new();
    CLOUDS.get_or_init(|| {
        serde_json::from_str::<Table>(include_str!("../clouds.json"))
            .expect("clouds.json is valid")
            .clouds
    })
}

/// A cloud by name, ignoring case.
pub fn by_name(name: &str) -> Option<&'static Cloud> {
    all().iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_origins_without_trailing_slash() {
        assert_eq!(all().len(), 3);
        for c in all() {
            for url in [&c.arm_endpoint, &c.authority] {
                assert!(url.starts_with("https://") && !url.ends_with('/'), "{url}");
                assert!(
                    !url["https://".len()..].contains('/'),
                    "not an origin: {url}"
                );
            }
        }
        assert!(
            by_name("AzureChinaCloud")
                .unwrap()
                .arm_endpoint
                .ends_with(".cn")
        );
        assert!(by_name("AzureGermanCloud").is_none(), "closed in 2021");
    }
}
