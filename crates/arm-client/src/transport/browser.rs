//! The browser transport: `fetch` through gloo-net. Only the response headers the
//! server exposes through CORS are visible; the layers above cope with none. Redirects are
//! refused (`redirect: "error"`): ARM never redirects, and a followed redirect would carry the
//! request (and its token) to a URL the client's origin check never saw.

use crate::http::{HttpRequest, HttpResponse, LocalBoxFuture, Method, Transport, TransportError};
use gloo_net::http::{Request, RequestBuilder};
use web_sys::RequestRedirect;

/// Sends requests with the browser's `fetch`.
#[derive(Debug, Default, Clone, Copy)]
pub struct FetchTransport;

impl FetchTransport {
    /// The `fetch` request for `req` (method, URL, headers; `redirect: "error"`), without its
    /// body.
    pub fn builder(req: &HttpRequest) -> RequestBuilder {
        let mut b = match req.method {
            Method::Get => Request::get(&req.url),
            Method::Put => Request::put(&req.url),
            Method::Patch => Request::patch(&req.url),
            Method::Post => Request::post(&req.url),
            Method::Delete => Request::delete(&req.url),
        }
        .redirect(RequestRedirect::Error);
        for (k, v) in &req.headers {
            b = b.header(k, v);
        }
        b
    }
}

impl Transport for FetchTransport {
    fn send(&self, req: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let b = Self::builder(&req);
            let r = match req.body {
                Some(body) => {
                    let text = String::from_utf8(body)
                        .map_err(|e| TransportError::Invalid(e.to_string()))?;
                    b.body(text)
                        .map_err(|e| TransportError::Invalid(e.to_string()))?
                        .send()
                        .await
                }
                None => b.send().await,
            }
            .map_err(|e| TransportError::Network(e.to_string()))?;
            let status = r.status();
            let headers = r.headers().entries().collect();
            let body = r
                .binary()
                .await
                .map_err(|e| TransportError::Network(e.to_string()))?;
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        })
    }
}
