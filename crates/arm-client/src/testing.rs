//! Test support usable by every crate: a tiny executor, a scripted transport that
//! records what it was sent, and a wrapper that hides response headers the way a
//! browser does under strict CORS.

use crate::http::{HttpRequest, HttpResponse, LocalBoxFuture, Transport, TransportError};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

#[cfg(not(target_arch = "wasm32"))]
struct ThreadWaker(std::thread::Thread);
#[cfg(not(target_arch = "wasm32"))]
impl std::task::Wake for ThreadWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// Run a future to completion on the current thread (native tests and tools). On
/// wasm32 it spins, so it only suits futures that never wait for the browser (e.g. the
/// in-process simulator on a virtual clock).
///
/// ```
/// assert_eq!(arm_client::testing::block_on(async { 1 + 1 }), 2);
/// ```
#[cfg(target_arch = "wasm32")]
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Run a future to completion on the current thread (native tests and tools).
///
/// ```
/// assert_eq!(arm_client::testing::block_on(async { 1 + 1 }), 2);
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let waker = std::task::Waker::from(std::sync::Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park_timeout(std::time::Duration::from_millis(50));
    }
}

/// Poll every future until all are done; results in input order.
pub async fn join_all<T>(futs: Vec<Pin<Box<dyn Future<Output = T> + '_>>>) -> Vec<T> {
    let mut futs: Vec<_> = futs.into_iter().map(Some).collect();
    let mut out: Vec<Option<T>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for (i, slot) in futs.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        out[i] = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(out.iter_mut().map(|o| o.take().unwrap()).collect())
        }
    })
    .await
}

/// Yield once to the executor.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

type Responder = Box<dyn Fn(&HttpRequest) -> Result<HttpResponse, TransportError>>;

/// A transport that answers from a script and records every request it receives.
///
/// ```
/// use arm_client::{testing::{ScriptedTransport, block_on}, HttpRequest, HttpResponse, Method, Transport};
/// let t = ScriptedTransport::new();
/// t.push(HttpResponse { status: 204, ..Default::default() });
/// let r = block_on(t.send(HttpRequest::new(Method::Delete, "https://h/x"))).unwrap();
/// assert_eq!(r.status, 204);
/// assert_eq!(t.requests().len(), 1);
/// ```
#[derive(Default)]
pub struct ScriptedTransport {
    script: RefCell<VecDeque<Responder>>,
    fallback: RefCell<Option<Responder>>,
    seen: RefCell<Vec<HttpRequest>>,
}

impl ScriptedTransport {
    /// An empty script (an unexpected request panics).
    pub fn new() -> Self {
        Self::default()
    }
    /// Queue a fixed response.
    pub fn push(&self, resp: HttpResponse) {
        self.script
            .borrow_mut()
            .push_back(Box::new(move |_| Ok(resp.clone())));
    }
    /// Queue a transport error.
    pub fn push_err(&self, err: TransportError) {
        self.script
            .borrow_mut()
            .push_back(Box::new(move |_| Err(err.clone())));
    }
    /// Queue a response computed from the request.
    pub fn push_fn(
        &self,
        f: impl Fn(&HttpRequest) -> Result<HttpResponse, TransportError> + 'static,
    ) {
        self.script.borrow_mut().push_back(Box::new(f));
    }
    /// Answer every request after the script is used up.
    pub fn fallback(
        &self,
        f: impl Fn(&HttpRequest) -> Result<HttpResponse, TransportError> + 'static,
    ) {
        *self.fallback.borrow_mut() = Some(Box::new(f));
    }
    /// Every request received so far.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.seen.borrow().clone()
    }
    /// Responses still queued.
    pub fn remaining(&self) -> usize {
        self.script.borrow().len()
    }
}

impl Transport for ScriptedTransport {
    fn send(&self, req: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, TransportError>> {
        self.seen.borrow_mut().push(req.clone());
        let next = self.script.borrow_mut().pop_front();
        let out = match next {
            Some(f) => f(&req),
            None => match &*self.fallback.borrow() {
                Some(f) => f(&req),
                None => panic!("unexpected request {} {}", req.method.as_str(), req.url),
            },
        };
        Box::pin(async move {
            yield_now().await;
            out
        })
    }
}

/// The response headers a browser lets script read from a cross-origin response when
/// the server exposes none (the CORS-safelisted response headers).
pub const CORS_SAFELISTED: [&str; 7] = [
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
];

/// Wraps a transport and drops every response header that strict CORS would hide
/// (`Azure-AsyncOperation`, `Location`, `Retry-After`, `ETag`, `x-ms-*`).
pub struct StrictCors<T>(pub T);

impl<T: Transport> Transport for StrictCors<T> {
    fn send(&self, req: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, TransportError>> {
        let fut = self.0.send(req);
        Box::pin(async move {
            let mut r = fut.await?;
            r.headers
                .retain(|(k, _)| CORS_SAFELISTED.iter().any(|s| s.eq_ignore_ascii_case(k)));
            Ok(r)
        })
    }
}
