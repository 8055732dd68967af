//! The transport-neutral request and response the simulator core speaks.

use serde_json::Value;

/// One HTTP request to the simulator.
///
/// `url` is absolute (`https://management.azure.com/subscriptions?api-version=2022-12-01`; the origin is ignored)
/// or a path with its query (`/subscriptions?api-version=2022-12-01`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimRequest {
    /// `GET`, `PUT`, `PATCH`, `POST`, `DELETE` (any case).
    pub method: String,
    /// Absolute URL or path + query.
    pub url: String,
    /// Request headers (names compared ignoring case).
    pub headers: Vec<(String, String)>,
    /// The body as text; empty for none.
    pub body: String,
}

impl SimRequest {
    /// A request without headers or body.
    ///
    /// ```
    /// let r = armsim::SimRequest::new("GET", "/subscriptions?api-version=2022-12-01");
    /// assert_eq!(r.method, "GET");
    /// ```
    pub fn new(method: &str, url: &str) -> Self {
        SimRequest {
            method: method.to_string(),
            url: url.to_string(),
            headers: vec![],
            body: String::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets a JSON body (and `Content-Type: application/json`).
    pub fn json(mut self, body: &Value) -> Self {
        self.body = body.to_string();
        self.headers
            .push(("Content-Type".into(), "application/json".into()));
        self
    }

    /// The first header with that name (ignoring case).
    pub fn get_header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// The simulator's answer.
///
/// `delay_ms` and `drop_connection` are transport instructions from injected faults: a server sleeps that long
/// before answering, or closes the connection without answering; an in-process transport should do the same
/// (or turn `drop_connection` into its "connection closed" error).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers in ARM's spelling.
    pub headers: Vec<(String, String)>,
    /// Body text (JSON or empty).
    pub body: String,
    /// Injected latency the transport should add before answering.
    pub delay_ms: u64,
    /// Injected fault: the transport must close the connection without sending anything.
    pub drop_connection: bool,
}

impl SimResponse {
    /// The first header with that name (ignoring case).
    ///
    /// ```
    /// let r = armsim::SimResponse { status: 200, headers: vec![("ETag".into(), "\"1\"".into())], ..Default::default() };
    /// assert_eq!(r.header("etag"), Some("\"1\""));
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body parsed as JSON (`Value::Null` when empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

pub(crate) fn find_header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A parsed request target.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    /// Raw path (percent-encoded, as received).
    pub path: String,
    /// Raw query string without `?`.
    pub query: String,
    /// Decoded, non-empty path segments.
    pub segments: Vec<String>,
    /// Decoded query pairs.
    pub params: Vec<(String, String)>,
}

impl Target {
    pub fn parse(url: &str) -> Target {
        let mut rest = url;
        if let Some(i) = rest.find("://") {
            rest = &rest[i + 3..];
            rest = rest.find('/').map(|j| &rest[j..]).unwrap_or("/");
        }
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, q),
            None => (rest, ""),
        };
        let path = path.split('#').next().unwrap_or_default();
        let query = query.split('#').next().unwrap_or_default();
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let params = query
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (percent_decode(k), percent_decode(v)),
                None => (percent_decode(kv), String::new()),
            })
            .collect();
        Target {
            path: path.to_string(),
            query: query.to_string(),
            segments,
            params,
        }
    }

    /// A query parameter by name, ignoring case (`$skipToken` = `$skiptoken`).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes `%XX` escapes (invalid escapes are kept as they are).
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = h {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but unreserved characters.
#[cfg(test)]
pub(crate) fn percent_encode(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
            o.push(c as char);
        } else {
            o.push_str(&format!("%{c:02X}"));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_absolute_and_relative_targets() {
        let t = Target::parse(
            "https://management.azure.com/subscriptions/a%20b/x?api-version=1&$skipToken=q%2Fr#f",
        );
        assert_eq!(t.segments, vec!["subscriptions", "a b", "x"]);
        assert_eq!(t.param("api-version"), Some("1"));
        assert_eq!(t.param("$skiptoken"), Some("q/r"));
        let t = Target::parse("/subscriptions/");
        assert_eq!(t.segments, vec!["subscriptions"]);
        assert!(t.params.is_empty());
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode(&percent_encode("/a b?ü")), "/a b?ü");
    }
}
