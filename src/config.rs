//! The app's configuration: `/config.json` (see README "Configuration"), loaded at start.

use identity_core::clouds::{self, Cloud};

/// `/config.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct AppConfig {
    /// `AzureCloud`, `AzureUSGovernment` or `AzureChinaCloud` (`cloud`).
    pub cloud: String,
    /// The Entra ID application (client) id of this single-page app; empty = sign-in not
    /// configured (`clientId`).
    pub client_id: String,
    /// Tenant id or `organizations` (`tenant`).
    pub tenant: String,
    /// Run against the built-in demo tenant (only in a build with the `demo` feature) (`demo`).
    pub demo: bool,
    /// Override the cloud's sign-in authority origin, e.g. a local OpenID provider (`authority`).
    pub authority: Option<String>,
    /// Override the cloud's ARM endpoint (`armEndpoint`).
    pub arm_endpoint: Option<String>,
}

/// The text of `/config.json`, fetched once per page: the app's settings ([`AppConfig`]) and the
/// sign-in settings (`auth::load_config`) are both read from it. `None` when it could not be read.
#[cfg(target_arch = "wasm32")]
pub async fn config_text() -> Option<String> {
    use std::cell::RefCell;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    thread_local! {
        // the response is never read itself, only clones of it: every caller gets the body
        static RESPONSE: RefCell<Option<js_sys::Promise>> = const { RefCell::new(None) };
    }
    let pending = RESPONSE.with(|r| {
        r.borrow_mut()
            .get_or_insert_with(|| {
                web_sys::window()
                    .map(|w| w.fetch_with_str("/config.json"))
                    .unwrap_or_else(|| js_sys::Promise::reject(&"no window".into()))
            })
            .clone()
    });
    let resp: web_sys::Response = JsFuture::from(pending).await.ok()?.dyn_into().ok()?;
    if !resp.ok() {
        return None;
    }
    let text = resp.clone().ok()?.text().ok()?;
    JsFuture::from(text).await.ok()?.as_string()
}

/// Outside a browser there is no `/config.json`.
#[cfg(not(target_arch = "wasm32"))]
pub async fn config_text() -> Option<String> {
    None
}

/// A member of the `config.json` object.
enum Field {
    Missing,
    Str(String),
    Bool(bool),
    Other,
}

/// The members of a parsed `config.json`. In the page the browser's own JSON parser reads the
/// file (the first-loaded wasm carries none); natively (tests) serde_json does.
#[cfg(target_arch = "wasm32")]
fn fields(text: &str) -> Result<impl Fn(&str) -> Field, String> {
    let v = js_sys::JSON::parse(text).map_err(|e| {
        js_sys::Error::from(e)
            .message()
            .as_string()
            .unwrap_or_else(|| "not JSON".into())
    })?;
    if !v.is_object() || js_sys::Array::is_array(&v) {
        return Err("not a JSON object".into());
    }
    Ok(move |k: &str| match js_sys::Reflect::get(&v, &k.into()) {
        Ok(x) if x.is_undefined() || x.is_null() => Field::Missing,
        Ok(x) => match (x.as_string(), x.as_bool()) {
            (Some(s), _) => Field::Str(s),
            (_, Some(b)) => Field::Bool(b),
            _ => Field::Other,
        },
        Err(_) => Field::Missing,
    })
}

#[cfg(not(target_arch = "wasm32"))]
fn fields(text: &str) -> Result<impl Fn(&str) -> Field, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    Ok(move |k: &str| match v.get(k) {
        None | Some(serde_json::Value::Null) => Field::Missing,
        Some(serde_json::Value::String(s)) => Field::Str(s.clone()),
        Some(serde_json::Value::Bool(b)) => Field::Bool(*b),
        Some(_) => Field::Other,
    })
}

fn default_cloud() -> String {
    "AzureCloud".into()
}
fn default_tenant() -> String {
    "organizations".into()
}

/// The app's configuration from `/config.json`'s text (`None`: not served, the defaults apply), and the
/// message to show when the file is there but invalid. An invalid file never silently turns into the
/// defaults (which run the demo tenant where it is built in): the app then runs in snippet-only mode, and the
/// message says what is wrong and what to do.
pub fn read_config(text: Option<String>) -> (AppConfig, Option<String>) {
    match text {
        None => (AppConfig::default(), None),
        Some(t) => match AppConfig::parse(&t) {
            Ok(c) => (c, None),
            Err(e) => (
                AppConfig {
                    demo: false,
                    ..AppConfig::default()
                },
                Some(format!(
                    "The app's configuration could not be used ({e}). Sign-in and the demo tenant are off; fix /config.json (see the README, \"Sign-in and configuration\") and reload."
                )),
            ),
        },
    }
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
        let get = fields(text).map_err(|e| format!("config.json: {e}"))?;
        let string = |k: &str| match get(k) {
            Field::Missing => Ok(None),
            Field::Str(s) => Ok(Some(s)),
            _ => Err(format!("config.json: {k} must be a string")),
        };
        let demo = match get("demo") {
            Field::Missing => false,
            Field::Bool(b) => b,
            _ => return Err("config.json: demo must be true or false".into()),
        };
        // http only on this machine (the same rule as the sign-in configuration's)
        for (field, v) in [
            ("authority", string("authority")?),
            ("armEndpoint", string("armEndpoint")?),
        ] {
            if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
                crate::auth::config::endpoint_origin(field, &v)
                    .map_err(|e| format!("config.json: {e}"))?;
            }
        }
        Ok(AppConfig {
            cloud: string("cloud")?.unwrap_or_else(default_cloud),
            client_id: string("clientId")?.unwrap_or_default(),
            tenant: string("tenant")?.unwrap_or_else(default_tenant),
            demo,
            authority: string("authority")?,
            arm_endpoint: string("armEndpoint")?,
        })
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
        assert!(AppConfig::parse("[]").is_err());
        assert_eq!(
            AppConfig::parse(r#"{"demo":"yes"}"#),
            Err("config.json: demo must be true or false".into())
        );
        assert_eq!(
            AppConfig::parse(r#"{"cloud":1}"#),
            Err("config.json: cloud must be a string".into())
        );
        let demo = AppConfig::parse(
            r#"{"demo":true,"tenant":"contoso.onmicrosoft.com","authority":null}"#,
        )
        .unwrap();
        assert!(demo.demo);
        assert_eq!(demo.tenant, "contoso.onmicrosoft.com");
        assert_eq!(demo.authority, None);
    }

    #[test]
    fn endpoints_use_https_except_on_this_machine() {
        let c = AppConfig::parse(
            r#"{"armEndpoint":"http://[::1]:4000","authority":"http://localhost:8443"}"#,
        )
        .unwrap();
        assert_eq!(c.cloud().arm_endpoint, "http://[::1]:4000");
        assert_eq!(
            AppConfig::parse(r#"{"armEndpoint":"http://management.contoso.test/"}"#),
            Err("config.json: armEndpoint 'http://management.contoso.test/' uses http, which is allowed only on this machine (localhost, 127.0.0.0/8, [::1]); use https".into())
        );
        assert!(
            AppConfig::parse(r#"{"authority":"http://10.1.2.3"}"#)
                .unwrap_err()
                .starts_with("config.json: authority 'http://10.1.2.3' uses http")
        );
        assert!(
            AppConfig::parse(r#"{"armEndpoint":"ftp://x"}"#)
                .unwrap_err()
                .contains("is not a URL")
        );
    }

    #[test]
    fn an_invalid_config_is_reported_and_never_falls_back_to_the_demo() {
        let (c, e) = read_config(Some(r#"{"armEndpoint":"http://arm.contoso.com"}"#.into()));
        assert!(!c.demo, "an invalid file must not turn on the demo tenant");
        let e = e.expect("a message");
        assert!(
            e.contains("only on this machine") || e.contains("http"),
            "{e}"
        );
        assert!(e.contains("fix /config.json"), "{e}");
        let (c, e) = read_config(Some("{not json".into()));
        assert!(!c.demo && e.is_some());
        let (c, e) = read_config(Some(r#"{"demo":true}"#.into()));
        assert!(c.demo && e.is_none());
        let (c, e) = read_config(None);
        assert_eq!((c, e), (AppConfig::default(), None));
    }
}
