//! The exact ARM request a plan sends: pure data, shared by the planner, the script
//! generators (the "exact REST" form) and the ARM client (which sends it).

use serde::{Deserialize, Serialize};

/// HTTP method of an ARM request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Put,
    Patch,
    Post,
    Delete,
}

impl Method {
    /// The method as it appears on the wire (`"PATCH"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// One ARM request: method, path (relative to the ARM endpoint, starting with `/`),
/// query pairs (always including `api-version`), headers (e.g. `If-Match`) and JSON body.
///
/// ```
/// use identity_core::{ArmRequest, Method};
/// let r = ArmRequest::new(Method::Get, "/subscriptions", "2022-12-01");
/// assert_eq!(r.path_and_query(), "/subscriptions?api-version=2022-12-01");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmRequest {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

impl ArmRequest {
    /// A request with only `api-version` in its query, no headers and no body.
    pub fn new(method: Method, path: impl Into<String>, api_version: &str) -> Self {
        ArmRequest {
            method,
            path: path.into(),
            query: vec![("api-version".to_string(), api_version.to_string())],
            headers: Vec::new(),
            body: None,
        }
    }

    /// Path plus percent-encoded query, as sent after the ARM endpoint's origin.
    pub fn path_and_query(&self) -> String {
        let mut s = self.path.clone();
        for (i, (k, v)) in self.query.iter().enumerate() {
            s.push(if i == 0 { '?' } else { '&' });
            s.push_str(&encode_query_component(k));
            s.push('=');
            s.push_str(&encode_query_component(v));
        }
        s
    }

    /// The value of a header, matched ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Percent-encode a query key or value (RFC 3986 unreserved characters kept, plus `$`
/// which ARM's own `$skipToken`/`$top` use unencoded).
pub fn encode_query_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'$' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_encoded_and_headers_match_ignoring_case() {
        let mut r = ArmRequest::new(Method::Patch, "/x", "2024-11-01");
        r.query.push(("$filter".into(), "name eq 'a b'".into()));
        r.headers.push(("If-Match".into(), "\"3\"".into()));
        assert_eq!(
            r.path_and_query(),
            "/x?api-version=2024-11-01&$filter=name%20eq%20%27a%20b%27"
        );
        assert_eq!(r.header("if-match"), Some("\"3\""));
        assert_eq!(r.header("etag"), None);
    }

    #[test]
    fn serializes_as_the_plan_json_shape() {
        let mut r = ArmRequest::new(Method::Patch, "/x", "2024-11-01");
        r.body = Some(serde_json::json!({"identity": {"type": "None"}}));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["method"], "PATCH");
        assert_eq!(v["query"][0][0], "api-version");
        assert_eq!(v["body"]["identity"]["type"], "None");
    }
}
