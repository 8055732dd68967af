//! The Azure clouds the app can talk to: ARM endpoint, sign-in authority, ARM scope, and the names
//! Az PowerShell (`-Environment`) and the Azure CLI (`az cloud set`) use. One table
//! (`clouds.json`), shared with the build's Content-Security-Policy generator; `build.rs` turns it
//! into constants (no JSON parsing at run time).

use std::sync::OnceLock;

/// One Azure cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A row of `clouds.json` as `build.rs` writes it.
struct CloudRow {
    name: &'static str,
    label: &'static str,
    arm_endpoint: &'static str,
    authority: &'static str,
    ps_environment: &'static str,
    cli_cloud: &'static str,
    legacy_audience: &'static str,
}

const TABLE: &[CloudRow] = include!(concat!(env!("OUT_DIR"), "/clouds_table.rs"));

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
        TABLE
            .iter()
            .map(|r| Cloud {
                name: r.name.into(),
                label: r.label.into(),
                arm_endpoint: r.arm_endpoint.into(),
                authority: r.authority.into(),
                ps_environment: r.ps_environment.into(),
                cli_cloud: r.cli_cloud.into(),
                legacy_audience: r.legacy_audience.into(),
            })
            .collect()
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
    fn the_generated_table_is_clouds_json() {
        let json: serde_json::Value = serde_json::from_str(include_str!("../clouds.json")).unwrap();
        let rows = json["clouds"].as_array().unwrap();
        assert_eq!(rows.len(), all().len());
        for (row, c) in rows.iter().zip(all()) {
            let pairs = [
                ("name", &c.name),
                ("label", &c.label),
                ("armEndpoint", &c.arm_endpoint),
                ("authority", &c.authority),
                ("psEnvironment", &c.ps_environment),
                ("cliCloud", &c.cli_cloud),
                ("legacyAudience", &c.legacy_audience),
            ];
            for (key, value) in pairs {
                assert_eq!(row[key].as_str(), Some(value.as_str()), "{key}");
            }
        }
    }

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
