//! Sign-in configuration: `static/config.json` (+ the client id and tenant a user saved in the
//! settings panel) → the authority, ARM endpoint and scope MSAL and the ARM client use. Pure.

use identity_core::clouds;

/// The raw settings, as read from `config.json` and the settings panel (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `AzureCloud` (default), `AzureUSGovernment`, `AzureChinaCloud`; ignored for the
    /// endpoints when `authority` / `armEndpoint` are given.
    pub cloud: Option<String>,
    /// The application (client) id of the single-page app registration.
    pub client_id: Option<String>,
    /// Tenant id or domain; `organizations` (default), `common`.
    pub tenant: Option<String>,
    /// Custom sign-in authority origin (e.g. `https://login.contoso.test`), without the tenant.
    pub authority: Option<String>,
    /// Custom ARM endpoint origin.
    pub arm_endpoint: Option<String>,
    /// The resource (audience) whose `user_impersonation` scope is asked for; default: the ARM
    /// endpoint of the cloud.
    pub arm_audience: Option<String>,
    /// Hosts MSAL may trust without instance discovery (`host[:port]`); default: the authority's
    /// host for every authority but the public cloud's.
    pub known_authorities: Option<Vec<String>>,
}

/// A resolved sign-in configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The cloud's name (`AzureCloud` …) or `Custom`.
    pub cloud: String,
    /// A label for the header (`Azure (public)`, `Custom (login.contoso.test)`).
    pub cloud_label: String,
    /// Application (client) id.
    pub client_id: String,
    /// The tenant the user signs in to first.
    pub tenant: String,
    /// Authority origin, no trailing slash, no tenant.
    pub authority_host: String,
    /// ARM endpoint origin, no trailing slash.
    pub arm_endpoint: String,
    /// The delegated ARM scope, e.g. `https://management.azure.com/user_impersonation`.
    pub arm_scope: String,
    /// MSAL `knownAuthorities` (`host[:port]`).
    pub known_authorities: Vec<String>,
}

/// Why a configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// No client id yet: the app works without sign-in (snippets) until one is set.
    NoClientId,
    /// A field is invalid; the text says which and why.
    Invalid(String),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::NoClientId => f.write_str(
                "Sign-in is not configured: set the application (client) id in config.json or in the sign-in settings.",
            ),
            ConfigError::Invalid(m) => write!(f, "Sign-in configuration error: {m}"),
        }
    }
}

/// The origin (`scheme://host[:port]`) of an absolute http(s) URL, lower-cased; `None` when
/// it is not one or carries user info.
fn origin_of(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let host_port = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    // `\` is a path separator to a browser (`https://evil.example\good.example` goes to evil.example)
    if host_port.is_empty()
        || host_port.contains(['@', '\\'])
        || host_port.contains(char::is_whitespace)
    {
        return None;
    }
    Some((format!("{scheme}://{host_port}"), host_port))
}

/// Whether `host_port` (`host[:port]` of a URL, lower-cased) is this machine: `localhost`, an
/// IPv4 address in 127.0.0.0/8 or `[::1]`. Anything else — including other spellings a browser
/// would also read as loopback (`127.1`, `0x7f.0.0.1`) — is not.
///
/// ```
/// use identity_wizard::auth::config::is_loopback;
/// assert!(is_loopback("127.0.0.1:4000") && is_loopback("127.8.9.10") && is_loopback("[::1]:8080"));
/// assert!(is_loopback("localhost:8080"));
/// assert!(!is_loopback("127.0.0.1.evil.example") && !is_loopback("[::2]") && !is_loopback("10.0.0.1"));
/// ```
pub fn is_loopback(host_port: &str) -> bool {
    let port_ok = |p: &str| p.is_empty() || (p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    if let Some(rest) = host_port.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((ip, tail)) => {
                (tail.is_empty() || tail.strip_prefix(':').is_some_and(port_ok))
                    && is_ipv6_loopback(ip)
            }
            None => false,
        };
    }
    let host = match host_port.split_once(':') {
        Some((h, p)) if port_ok(p) && !p.is_empty() => h,
        Some(_) => return false,
        None => host_port,
    };
    host == "localhost" || is_ipv4_loopback(host)
}

/// A dotted-decimal IPv4 address (four numbers 0–255, no leading zeros) in 127.0.0.0/8. Written out
/// rather than with `std::net`'s parsers, which would add their code to the shell's wasm.
fn is_ipv4_loopback(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
        && parts[0] == "127"
}

/// The IPv6 loopback address `::1`, compressed or written out (`0:0:0:0:0:0:0:1`, leading zeros allowed).
fn is_ipv6_loopback(ip: &str) -> bool {
    let groups = |s: &str| -> Option<Vec<u16>> {
        if s.is_empty() {
            return Some(Vec::new());
        }
        s.split(':')
            .map(|g| {
                (!g.is_empty() && g.len() <= 4 && g.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| u16::from_str_radix(g, 16).ok())
                    .flatten()
            })
            .collect()
    };
    let all: Option<Vec<u16>> = match ip.split_once("::") {
        Some((head, tail)) => {
            let (h, t) = (groups(head), groups(tail));
            match (h, t) {
                (Some(h), Some(t)) if h.len() + t.len() < 8 && !tail.contains("::") => {
                    let mut v = h.clone();
                    v.resize(8 - t.len(), 0);
                    v.extend(t);
                    Some(v)
                }
                _ => None,
            }
        }
        None => groups(ip).filter(|g| g.len() == 8),
    };
    all.is_some_and(|g| g == [0, 0, 0, 0, 0, 0, 0, 1])
}

/// The origin of an endpoint from the configuration (`field` names it in the error): an absolute
/// `https` URL, or `http` on this machine only (a local simulator or test server) — anywhere
/// else the bearer token and every change would travel in clear text.
///
/// ```
/// use identity_wizard::auth::config::endpoint_origin;
/// assert_eq!(endpoint_origin("armEndpoint", "http://127.0.0.1:4000/x").unwrap(), "http://127.0.0.1:4000");
/// assert!(endpoint_origin("armEndpoint", "http://arm.contoso.test").unwrap_err().contains("only on this machine"));
/// assert!(endpoint_origin("armEndpoint", "https://evil.example\\management.azure.com").is_err());
/// ```
pub fn endpoint_origin(field: &str, url: &str) -> Result<String, String> {
    let (origin, host_port) =
        origin_of(url).ok_or_else(|| format!("{field} '{url}' is not a URL"))?;
    if origin.starts_with("http://") && !is_loopback(&host_port) {
        return Err(format!(
            "{field} '{url}' uses http, which is allowed only on this machine (localhost, 127.0.0.0/8, [::1]); use https"
        ));
    }
    Ok(origin)
}

/// Whether `t` may be put into an authority path: a GUID, a domain, or `common` /
/// `organizations` / `consumers`.
///
/// ```
/// use identity_wizard::auth::config::valid_tenant;
/// assert!(valid_tenant("72f988bf-86f1-41af-91ab-2d7cd011db47"));
/// assert!(valid_tenant("contoso.onmicrosoft.com"));
/// assert!(!valid_tenant("a/../b"));
/// ```
pub fn valid_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 256
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !t.starts_with('.')
        && !t.contains("..")
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl AuthConfig {
    /// Resolve settings into a configuration.
    ///
    /// ```
    /// use identity_wizard::auth::config::{AuthConfig, Settings};
    /// let c = AuthConfig::resolve(&Settings {
    ///     cloud: Some("AzureUSGovernment".into()),
    ///     client_id: Some("22222222-2222-2222-2222-222222222222".into()),
    ///     ..Settings::default()
    /// }).unwrap();
    /// assert_eq!(c.authority(), "https://login.microsoftonline.us/organizations");
    /// assert_eq!(c.arm_scope, "https://management.usgovcloudapi.net/user_impersonation");
    /// assert_eq!(c.known_authorities, vec!["login.microsoftonline.us".to_string()]);
    /// ```
    pub fn resolve(s: &Settings) -> Result<AuthConfig, ConfigError> {
        let cloud_name = non_empty(&s.cloud).unwrap_or("AzureCloud");
        let cloud = clouds::by_name(cloud_name);
        let custom = non_empty(&s.authority).is_some() || non_empty(&s.arm_endpoint).is_some();
        if cloud.is_none() && !custom {
            return Err(ConfigError::Invalid(format!(
                "unknown cloud '{cloud_name}': use AzureCloud, AzureUSGovernment, AzureChinaCloud, or give authority and armEndpoint"
            )));
        }
        let authority = non_empty(&s.authority)
            .map(str::to_string)
            .or_else(|| cloud.map(|c| c.authority.clone()))
            .ok_or_else(|| ConfigError::Invalid("a custom cloud needs 'authority'".into()))?;
        let arm = non_empty(&s.arm_endpoint)
            .map(str::to_string)
            .or_else(|| cloud.map(|c| c.arm_endpoint.clone()))
            .ok_or_else(|| ConfigError::Invalid("a custom cloud needs 'armEndpoint'".into()))?;
        let (authority_host, authority_hostport) = origin_of(&authority)
            .ok_or_else(|| ConfigError::Invalid(format!("authority '{authority}' is not a URL")))?;
        if !authority_host.starts_with("https://") {
            return Err(ConfigError::Invalid(format!(
                "authority '{authority}' must use https (MSAL refuses anything else)"
            )));
        }
        let arm_endpoint = endpoint_origin("armEndpoint", &arm).map_err(ConfigError::Invalid)?;
        let audience = non_empty(&s.arm_audience)
            .map(|a| a.trim_end_matches('/').to_string())
            .unwrap_or_else(|| arm_endpoint.clone());
        let client_id = non_empty(&s.client_id).ok_or(ConfigError::NoClientId)?;
        if !client_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(ConfigError::Invalid(format!(
                "client id '{client_id}' is not an application id (a GUID)"
            )));
        }
        let tenant = non_empty(&s.tenant).unwrap_or("organizations");
        if !valid_tenant(tenant) {
            return Err(ConfigError::Invalid(format!(
                "tenant '{tenant}' is not a tenant id or domain"
            )));
        }
        let known_authorities = match &s.known_authorities {
            Some(list) => list.clone(),
            // The public cloud's host is built into MSAL. Every other host is listed, so that MSAL
            // neither asks login.microsoftonline.com for instance discovery nor swaps the host for
            // its "preferred network" alias (China: login.partner.microsoftonline.cn), which the
            // page's Content-Security-Policy would block.
            None if authority_hostport == "login.microsoftonline.com" => Vec::new(),
            None => vec![authority_hostport.clone()],
        };
        let (cloud, cloud_label) = match (custom, cloud) {
            (false, Some(c)) => (c.name.clone(), c.label.clone()),
            _ => (
                "Custom".to_string(),
                format!("Custom ({authority_hostport})"),
            ),
        };
        Ok(AuthConfig {
            cloud,
            cloud_label,
            client_id: client_id.to_string(),
            tenant: tenant.to_string(),
            authority_host,
            arm_endpoint,
            arm_scope: format!("{audience}/user_impersonation"),
            known_authorities,
        })
    }

    /// The authority of the configured tenant (`https://login.microsoftonline.com/organizations`).
    pub fn authority(&self) -> String {
        self.authority_for(&self.tenant)
    }

    /// The authority of another tenant (tenant switch).
    pub fn authority_for(&self, tenant: &str) -> String {
        format!("{}/{}", self.authority_host, tenant)
    }
}

/// A path to return to after a redirect sign-in: only same-origin absolute paths
/// (`/…`, not `//host…` or `/\host`), and never the bridge page itself.
///
/// ```
/// use identity_wizard::auth::config::safe_return_path;
/// assert_eq!(safe_return_path("/vmss/x?tab=review#top"), Some("/vmss/x?tab=review#top"));
/// assert_eq!(safe_return_path("//evil.example/"), None);
/// assert_eq!(safe_return_path("https://evil.example/"), None);
/// ```
pub fn safe_return_path(p: &str) -> Option<&str> {
    let ok = p.starts_with('/')
        && !p.starts_with("//")
        && !p.starts_with("/\\")
        && !p.starts_with("/redirect.html")
        && !p.chars().any(char::is_control);
    ok.then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_client(s: Settings) -> Settings {
        Settings {
            client_id: Some("22222222-2222-2222-2222-222222222222".into()),
            ..s
        }
    }

    #[test]
    fn every_known_cloud_resolves_to_its_own_endpoints() {
        for c in clouds::all() {
            let cfg = AuthConfig::resolve(&with_client(Settings {
                cloud: Some(c.name.to_ascii_lowercase()),
                tenant: Some("contoso.onmicrosoft.com".into()),
                ..Settings::default()
            }))
            .unwrap();
            assert_eq!(cfg.cloud, c.name);
            assert_eq!(cfg.cloud_label, c.label);
            assert_eq!(
                cfg.authority(),
                format!("{}/contoso.onmicrosoft.com", c.authority)
            );
            assert_eq!(cfg.arm_endpoint, c.arm_endpoint);
            assert_eq!(cfg.arm_scope, c.arm_scope());
            let host = c.authority.trim_start_matches("https://").to_string();
            if c.is_public() {
                assert!(cfg.known_authorities.is_empty(), "built into MSAL");
            } else {
                assert_eq!(cfg.known_authorities, vec![host]);
            }
        }
    }

    #[test]
    fn defaults_are_public_cloud_and_organizations() {
        let cfg = AuthConfig::resolve(&with_client(Settings::default())).unwrap();
        assert_eq!(cfg.cloud, "AzureCloud");
        assert_eq!(
            cfg.authority(),
            "https://login.microsoftonline.com/organizations"
        );
        assert_eq!(
            cfg.arm_scope,
            "https://management.azure.com/user_impersonation"
        );
    }

    #[test]
    fn custom_authority_is_trusted_by_host_and_port_and_audience_can_differ() {
        let cfg = AuthConfig::resolve(&with_client(Settings {
            authority: Some("https://127.0.0.1:8443/".into()),
            arm_endpoint: Some("http://127.0.0.1:4000/ignored/path".into()),
            arm_audience: Some("https://management.azure.com/".into()),
            tenant: Some("11111111-1111-1111-1111-111111111111".into()),
            ..Settings::default()
        }))
        .unwrap();
        assert_eq!(cfg.cloud, "Custom");
        assert_eq!(cfg.cloud_label, "Custom (127.0.0.1:8443)");
        assert_eq!(
            cfg.authority(),
            "https://127.0.0.1:8443/11111111-1111-1111-1111-111111111111"
        );
        assert_eq!(cfg.known_authorities, vec!["127.0.0.1:8443".to_string()]);
        assert_eq!(cfg.arm_endpoint, "http://127.0.0.1:4000");
        assert_eq!(
            cfg.arm_scope,
            "https://management.azure.com/user_impersonation"
        );
        assert_eq!(
            cfg.authority_for("33333333-3333-3333-3333-333333333333"),
            "https://127.0.0.1:8443/33333333-3333-3333-3333-333333333333"
        );
    }

    #[test]
    fn explicit_known_authorities_win() {
        let cfg = AuthConfig::resolve(&with_client(Settings {
            known_authorities: Some(vec!["login.contoso.test".into()]),
            ..Settings::default()
        }))
        .unwrap();
        assert_eq!(
            cfg.known_authorities,
            vec!["login.contoso.test".to_string()]
        );
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            AuthConfig::resolve(&Settings::default()),
            Err(ConfigError::NoClientId)
        );
        let e = |s: Settings| match AuthConfig::resolve(&with_client(s)) {
            Err(ConfigError::Invalid(m)) => m,
            other => panic!("expected an error, got {other:?}"),
        };
        assert!(
            e(Settings {
                cloud: Some("AzureGermanCloud".into()),
                ..Settings::default()
            })
            .contains("unknown cloud")
        );
        assert!(
            e(Settings {
                authority: Some("http://127.0.0.1:8443".into()),
                ..Settings::default()
            })
            .contains("https")
        );
        assert!(
            e(Settings {
                authority: Some("https://user@evil.example".into()),
                ..Settings::default()
            })
            .contains("not a URL")
        );
        assert!(
            e(Settings {
                tenant: Some("x/../../common".into()),
                ..Settings::default()
            })
            .contains("tenant")
        );
        let bad_client = AuthConfig::resolve(&Settings {
            client_id: Some("abc def".into()),
            ..Settings::default()
        });
        assert!(matches!(bad_client, Err(ConfigError::Invalid(m)) if m.contains("client id")));
        let custom_without_arm = AuthConfig::resolve(&with_client(Settings {
            cloud: Some("Nowhere".into()),
            authority: Some("https://login.contoso.test".into()),
            ..Settings::default()
        }));
        assert!(
            matches!(custom_without_arm, Err(ConfigError::Invalid(m)) if m.contains("armEndpoint"))
        );
    }

    #[test]
    fn loopback_parsing_agrees_with_std_net() {
        // std's parsers are the oracle (the app does without them to keep the shell small): whatever is
        // taken for loopback here is loopback to std; the usual spellings are taken
        let mut cases: Vec<String> = [
            "127.0.0.1",
            "127.255.255.255",
            "127.1",
            "127.0.0.01",
            "0x7f.0.0.1",
            "127.0.0.256",
            "128.0.0.1",
            "127.0.0.1.",
            ".127.0.0.1",
            "127..0.1",
            "1270.0.0.1",
            "+127.0.0.1",
            "::1",
            "0:0:0:0:0:0:0:1",
            "0000:0000:0000:0000:0000:0000:0000:0001",
            "0::1",
            "::0:1",
            "::1:0",
            ":::1",
            "::1::",
            "1::",
            "::",
            "::2",
            "0:0:0:0:0:0:0:0:1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "fe80::1",
            "::00001",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let alphabet = b"0127.:f";
            let n = (x % 12) as usize + 1;
            let s: String = (0..n)
                .map(|k| alphabet[((x >> (k * 3)) % alphabet.len() as u64) as usize] as char)
                .collect();
            cases.push(s);
        }
        for c in &cases {
            let v4 = c
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|a| a.is_loopback());
            let v6 = c
                .parse::<std::net::Ipv6Addr>()
                .is_ok_and(|a| a.is_loopback());
            assert_eq!(is_ipv4_loopback(c), v4, "ipv4 {c:?}");
            if is_ipv6_loopback(c) {
                assert!(v6, "ipv6 {c:?}");
            }
        }
        for c in ["::1", "0:0:0:0:0:0:0:1", "0::1", "::0:1"] {
            assert!(is_ipv6_loopback(c), "{c}");
        }
    }

    #[test]
    fn http_is_allowed_only_on_loopback() {
        let resolve = |arm: &str| {
            AuthConfig::resolve(&with_client(Settings {
                authority: Some("https://login.contoso.test".into()),
                arm_endpoint: Some(arm.into()),
                ..Settings::default()
            }))
        };
        for (ok, origin) in [
            ("http://127.0.0.1:4000/", "http://127.0.0.1:4000"),
            ("http://127.200.3.4", "http://127.200.3.4"),
            ("HTTP://LOCALHOST:8080/x", "http://localhost:8080"),
            ("http://[::1]:4000", "http://[::1]:4000"),
            ("https://arm.contoso.test", "https://arm.contoso.test"),
        ] {
            assert_eq!(
                resolve(ok).map(|c| c.arm_endpoint),
                Ok(origin.into()),
                "{ok}"
            );
        }
        for bad in [
            "http://arm.contoso.test",
            "http://10.0.0.4:4000",
            "http://128.0.0.1",
            "http://127.0.0.1.nip.io",
            "http://localhost.contoso.test",
            "http://[::2]:4000",
            "http://[::ffff:7f00:1]",
            "http://127.1",
            "http://0x7f000001",
            "http://127.0.0.1:80x",
        ] {
            match resolve(bad) {
                Err(ConfigError::Invalid(m)) => assert!(
                    m.starts_with(&format!(
                        "armEndpoint '{bad}' uses http, which is allowed only on this machine"
                    )),
                    "{bad}: {m}"
                ),
                other => panic!("{bad}: expected a refusal, got {other:?}"),
            }
        }
        // the authority: https always (MSAL refuses anything else), loopback included
        let e = AuthConfig::resolve(&with_client(Settings {
            authority: Some("http://127.0.0.1:8443".into()),
            arm_endpoint: Some("http://127.0.0.1:4000".into()),
            ..Settings::default()
        }));
        assert!(matches!(e, Err(ConfigError::Invalid(m)) if m.contains("must use https")));
    }

    #[test]
    fn return_paths_stay_on_this_origin() {
        for ok in ["/", "/a/b?c=d#e", "/vmss/%2F"] {
            assert_eq!(safe_return_path(ok), Some(ok));
        }
        for bad in [
            "",
            "a/b",
            "//evil.example",
            "/\\evil.example",
            "https://x/",
            "/redirect.html#code=1",
            "/a\nb",
        ] {
            assert_eq!(safe_return_path(bad), None, "{bad:?}");
        }
    }
}
