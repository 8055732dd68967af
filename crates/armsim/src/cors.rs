//! CORS for browser callers from configured origins, in two modes.
//!
//! What real ARM lists in `Access-Control-Expose-Headers` is not documented (CONTRACT §3.1, §8), so:
//! [`CorsMode::Generous`] exposes everything a client could want (`Azure-AsyncOperation`, `Location`,
//! `Retry-After`, `ETag`, `WWW-Authenticate` and the `x-ms-*` headers it sends), [`CorsMode::Strict`] exposes none
//! (a browser then reads only the CORS-safelisted response headers) — the app must work in both.
//!
//! ```
//! use armsim::cors::{CorsConfig, CorsMode};
//! use armsim::SimRequest;
//! let c = CorsConfig { origins: vec!["http://localhost:8080".into()], mode: CorsMode::Strict };
//! let pre = SimRequest::new("OPTIONS", "/subscriptions")
//!     .header("Origin", "http://localhost:8080")
//!     .header("Access-Control-Request-Method", "PATCH");
//! let r = c.preflight(&pre).unwrap();
//! assert_eq!(r.status, 200);
//! assert_eq!(r.header("Access-Control-Allow-Origin"), Some("http://localhost:8080"));
//! ```

use crate::http::{SimRequest, SimResponse};

/// Which response headers a browser may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CorsMode {
    /// Expose the LRO, paging, throttling, etag and `x-ms-*` headers.
    #[default]
    Generous,
    /// Expose no header (no `Access-Control-Expose-Headers`).
    Strict,
}

impl CorsMode {
    /// `generous` or `strict` (ignoring case).
    pub fn parse(s: &str) -> Option<CorsMode> {
        match s.to_ascii_lowercase().as_str() {
            "generous" => Some(CorsMode::Generous),
            "strict" => Some(CorsMode::Strict),
            _ => None,
        }
    }
}

/// CORS settings: no origins = CORS off (no `Access-Control-*` headers at all).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CorsConfig {
    /// Allowed origins, exact (`http://localhost:8080`), or `*` for any.
    pub origins: Vec<String>,
    /// What is exposed.
    pub mode: CorsMode,
}

/// Methods a preflight allows.
pub const ALLOW_METHODS: &str = "GET, PUT, PATCH, POST, DELETE, OPTIONS";
/// Request headers a preflight allows when the browser asks for none in particular.
pub const ALLOW_HEADERS: &str = "Authorization, Content-Type, If-Match, If-None-Match, x-ms-client-request-id, x-ms-correlation-request-id, x-ms-return-client-request-id, x-ms-command-name, x-ms-app";
/// What generous mode exposes.
pub const EXPOSE_GENEROUS: &str = "Azure-AsyncOperation, Azure-AsyncNotification, Location, Retry-After, ETag, WWW-Authenticate, x-ms-request-id, x-ms-correlation-request-id, x-ms-routing-request-id, x-ms-client-request-id, x-ms-ratelimit-remaining-subscription-reads, x-ms-ratelimit-remaining-subscription-writes, x-ms-ratelimit-remaining-subscription-global-reads, x-ms-ratelimit-remaining-subscription-global-writes, x-ms-ratelimit-remaining-resource, x-ms-user-quota-remaining, x-ms-user-quota-resets-after";

impl CorsConfig {
    fn allowed<'a>(&self, req: &'a SimRequest) -> Option<&'a str> {
        let o = req.get_header("Origin")?;
        self.origins
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(o))
            .then_some(o)
    }

    /// The answer to a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) from an allowed origin;
    /// `None` when the request is not one (then it is routed as usual). A preflight from another origin gets
    /// 200 without `Access-Control-Allow-Origin`, which the browser treats as a refusal.
    pub fn preflight(&self, req: &SimRequest) -> Option<SimResponse> {
        if self.origins.is_empty()
            || !req.method.eq_ignore_ascii_case("OPTIONS")
            || req.get_header("Access-Control-Request-Method").is_none()
        {
            return None;
        }
        let mut headers = vec![("Vary".to_string(), "Origin".to_string())];
        if let Some(o) = self.allowed(req) {
            // Echo the requested headers when they are all allowed (x-ms-* as a family); else our list.
            let asked = req
                .get_header("Access-Control-Request-Headers")
                .unwrap_or("");
            let allow = ALLOW_HEADERS.to_ascii_lowercase();
            let ok = asked.split(',').map(str::trim).all(|h| {
                let h = h.to_ascii_lowercase();
                h.is_empty()
                    || h.starts_with("x-ms-")
                    || allow.split(", ").any(|a| a == h)
                    || h == "accept"
                    || h == "accept-language"
            });
            let allow_headers = if ok && !asked.trim().is_empty() {
                asked.to_string()
            } else {
                ALLOW_HEADERS.to_string()
            };
            headers.extend([
                ("Access-Control-Allow-Origin".into(), o.to_string()),
                ("Access-Control-Allow-Methods".into(), ALLOW_METHODS.into()),
                ("Access-Control-Allow-Headers".into(), allow_headers),
                ("Access-Control-Max-Age".into(), "3600".into()),
            ]);
        }
        Some(SimResponse {
            status: 200,
            headers,
            ..Default::default()
        })
    }

    /// Adds `Access-Control-Allow-Origin` (and, in generous mode, `Access-Control-Expose-Headers`) to an actual
    /// response for an allowed origin.
    pub fn decorate(&self, req: &SimRequest, resp: &mut SimResponse) {
        if self.origins.is_empty() {
            return;
        }
        resp.headers.push(("Vary".into(), "Origin".into()));
        if let Some(o) = self.allowed(req) {
            resp.headers
                .push(("Access-Control-Allow-Origin".into(), o.to_string()));
            if self.mode == CorsMode::Generous {
                resp.headers.push((
                    "Access-Control-Expose-Headers".into(),
                    EXPOSE_GENEROUS.into(),
                ));
            }
        }
    }
}
