//! The app's configuration: `/config.json` (see README "Configuration"), loaded at start.

use identity_core::clouds::{self, Cloud};
use serde::Deserialize;

/// `/config.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppConfig {
    /// `AzureCloud`, `AzureUSGovernment` or `AzureChinaCloud`.
    #[serde(default = "default_cloud")]
    pub cloud: String,
    /// The Entra ID application (client) id of this single-page app; empty = sign-in not configured.
    #[serde(default)]
    pub client_id: String,
    /// Tenant id or `organizations`.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// Run against the built-in demo tenant (only in a build with the `demo` feature).
    #[serde(default)]
    pub demo: bool,
    /// Override the cloud's sign-in authority origin (e.g. a local OpenID provider).
    #[serde(default)]
    pub authority: Option<String>,
    /// Override the cloud's ARM endpoint.
    #[serde(default)]
    pub arm_endpoint: Option<String>,
}

fn default_cloud() -> String {
    "AzureCloud".into()
}
fn default_tenant() -> String {
    "organizations".into()
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            cloud: default_cloud(),
            client_id: String::new(),
            tenant: default_tenant(),
            demo: true,
            authority: None,
            arm_endpoint: None,
        }
    }
}

impl AppConfig {
    /// Parse the JSON text of `/config.json`.
    pub fn parse(text: &str) -> Result<AppConfig, String> {
        serde_json::from_str(text).map_err(|e| format!("config.json: {e}"))
    }

    /// The configured cloud (unknown names fall back to the public cloud, with the endpoints
    /// overridden by `authority` / `armEndpoint` when given).
    pub fn cloud(&self) -> Cloud {
        let mut c = clouds::by_name(&self.cloud)
            .unwrap_or(&clouds::all()[0])
            .clone();
        if let Some(a) = &self.authority {
            c.authority = a.trim_end_matches('/').to_string();
        }
        if let Some(a) = &self.arm_endpoint {
            c.arm_endpoint = a.trim_end_matches('/').to_string();
        }
        if clouds::by_name(&self.cloud).is_none()
            || self.authority.is_some()
            || self.arm_endpoint.is_some()
        {
            let host = c
                .arm_endpoint
                .split("://")
                .nth(1)
                .unwrap_or(&c.arm_endpoint)
                .to_string();
            c.label = format!("Custom ({host})");
        }
        c
    }

    /// The cloud as the script generators name it.
    pub fn script_cloud(&self) -> identity_core::scripts::Cloud {
        use identity_core::scripts::Cloud as S;
        S::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(&self.cloud))
            .unwrap_or(S::AzureCloud)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_overrides_endpoints() {
        let c = AppConfig::parse(r#"{"cloud":"AzureUSGovernment","clientId":"x"}"#).unwrap();
        assert_eq!(
            c.cloud().arm_endpoint,
            "https://management.usgovcloudapi.net"
        );
        assert_eq!(c.tenant, "organizations");
        assert!(!c.demo);
        assert_eq!(c.script_cloud().name(), "AzureUSGovernment");
        let c = AppConfig::parse(
            r#"{"armEndpoint":"http://127.0.0.1:9/","authority":"https://127.0.0.1:8443"}"#,
        )
        .unwrap();
        assert_eq!(c.cloud().arm_endpoint, "http://127.0.0.1:9");
        assert_eq!(c.cloud().authority, "https://127.0.0.1:8443");
        assert_eq!(c.cloud().label, "Custom (127.0.0.1:9)");
        assert_eq!(
            AppConfig::parse("{}").unwrap().cloud().label,
            "Azure (public)"
        );
        assert!(AppConfig::parse("{").is_err());
    }
}
