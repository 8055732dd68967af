//! The wire types between request building and sending, and the one [`Transport`] trait.

use std::future::Future;
use std::pin::Pin;

pub use identity_core::Method;

/// A boxed future without a `Send` bound (the browser is single-threaded).
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// One HTTP request with an absolute URL, exactly as a transport sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// HTTP method.
    pub method: Method,
    /// Absolute URL (`https://management.azure.com/subscriptions?api-version=…`).
    pub url: String,
    /// Request headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes (JSON for ARM).
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// A request without headers or body.
    ///
    /// ```
    /// use arm_client::{HttpRequest, Method};
    /// let r = HttpRequest::new(Method::Get, "https://management.azure.com/subscriptions");
    /// assert!(r.header("authorization").is_none());
    /// ```
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        HttpRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// The value of a header, matched ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Replace (or add) a header.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.into()));
    }
}

/// What a transport got back: status, the headers it could read, body bytes.
///
/// A browser under strict CORS exposes only the safelisted headers; code above the
/// transport therefore treats every ARM header as optional.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Readable response headers.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with a JSON body and a `Content-Type` header.
    ///
    /// ```
    /// use arm_client::HttpResponse;
    /// let r = HttpResponse::json(200, &serde_json::json!({"value": []}));
    /// assert_eq!(r.header("content-type"), Some("application/json"));
    /// assert_eq!(r.body_json().unwrap()["value"], serde_json::json!([]));
    /// ```
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        HttpResponse {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }

    /// Add a header (builder style).
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The value of a header, matched ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body parsed as JSON (`None` when empty or not JSON).
    pub fn json_opt(&self) -> Option<serde_json::Value> {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }

    /// The body parsed as JSON.
    pub fn body_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// `true` for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a transport could not deliver a response at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The connection failed or dropped before a full response (includes browser
    /// `fetch` rejections, which also cover CORS refusals).
    Network(String),
    /// The transport refused the request itself (e.g. an unsupported URL).
    Invalid(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Network(m) => write!(f, "network error: {m}"),
            TransportError::Invalid(m) => write!(f, "invalid request: {m}"),
        }
    }
}

/// Sends one HTTP request. Everything else (tokens, retries, polling, paging) is
/// layered above it, so a transport is tiny: the browser's `fetch`, armsim in-process,
/// or a socket to the armsim server.
///
/// ```
/// use arm_client::{HttpRequest, HttpResponse, LocalBoxFuture, Transport, TransportError};
/// struct Always404;
/// impl Transport for Always404 {
///     fn send(&self, _req: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, TransportError>> {
///         Box::pin(async { Ok(HttpResponse { status: 404, ..Default::default() }) })
///     }
/// }
/// ```
pub trait Transport {
    /// Send `req` and return whatever came back, whatever its status.
    fn send(&self, req: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, TransportError>>;
}

impl<T: Transport + ?Sized> Transport for std::rc::Rc<T> {
    fn send(&self, req: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, TransportError>> {
        (**self).send(req)
    }
}

pub(crate) fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
