//! [`ArmClient`]: the layers put together, in the order of azure-sdk's pipeline:
//! confinement (per call) → retry → limiter, token and 401 re-acquire (per try) →
//! transport.

use crate::auth::{TokenSource, check_origin};
use crate::clock::Clock;
use crate::error::{ArmError, ErrorKind};
use crate::http::{HttpRequest, HttpResponse, Method, Transport};
use crate::limit::Limiter;
use crate::lro::{self, LroOptions, LroOutcome, Progress};
use crate::retry::{RetryPolicy, RetryWait, Safety};
use crate::url::Origin;
use identity_core::ArmRequest;
use std::rc::Rc;

/// One request/response as seen by the client (for a session change log, counters).
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// Clock time when the response (or failure) arrived.
    pub at_ms: u64,
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Status, `None` for a transport failure.
    pub status: Option<u16>,
    /// `x-ms-correlation-request-id`, when readable.
    pub correlation_id: Option<String>,
    /// `true` when an `Authorization` header was attached.
    pub authorized: bool,
}

type Observer = Rc<dyn Fn(&Exchange)>;

/// Whether the session may write: a shared switch the client checks before it sends any
/// request that is not a read (every try, so a retry waiting when the switch goes to read-only
/// is not sent). Clones share the switch.
///
/// ```
/// use arm_client::{ArmClient, ErrorKind, StaticToken, VirtualClock, WriteAccess, ops, testing::{ScriptedTransport, block_on}};
/// use std::rc::Rc;
/// let t = Rc::new(ScriptedTransport::new());
/// let access = WriteAccess::new(false);
/// let c = ArmClient::builder("https://management.azure.com", t.clone(), Rc::new(StaticToken::new("tok")))
///     .clock(Rc::new(VirtualClock::new(0))).write_access(access.clone()).build().unwrap();
/// let put = ops::put_create("/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i",
///     serde_json::json!({"location": "westeurope"})).unwrap();
/// let e = block_on(c.send(&put)).unwrap_err();
/// assert_eq!(e.kind, ErrorKind::ReadOnly);
/// assert!(t.requests().is_empty(), "nothing was sent");
/// ```
#[derive(Debug, Clone)]
pub struct WriteAccess(Rc<std::cell::Cell<bool>>);

impl WriteAccess {
    /// A switch, on (`true`: writes allowed) or off.
    pub fn new(allowed: bool) -> Self {
        WriteAccess(Rc::new(std::cell::Cell::new(allowed)))
    }
    /// Turn writes on or off (for every client holding this switch).
    pub fn set(&self, allowed: bool) {
        self.0.set(allowed);
    }
    /// Whether writes are allowed now.
    pub fn allowed(&self) -> bool {
        self.0.get()
    }
}

impl Default for WriteAccess {
    /// Writes allowed (a library default; the app starts read-only).
    fn default() -> Self {
        WriteAccess::new(true)
    }
}
type WaitObserver = Rc<dyn Fn(&Exchange, &RetryWait)>;

/// Builds an [`ArmClient`].
pub struct ArmClientBuilder {
    endpoint: String,
    transport: Rc<dyn Transport>,
    tokens: Rc<dyn TokenSource>,
    clock: Option<Rc<dyn Clock>>,
    retry: RetryPolicy,
    lro: LroOptions,
    limit: usize,
    observer: Option<Observer>,
    on_retry: Option<WaitObserver>,
    write: WriteAccess,
}

impl ArmClientBuilder {
    /// The read-write switch this client obeys (default: writes allowed).
    pub fn write_access(mut self, w: WriteAccess) -> Self {
        self.write = w;
        self
    }
    /// Called before each retry wait with the request and the wait (a UI shows a
    /// countdown when `from_retry_after`).
    pub fn on_retry(mut self, f: impl Fn(&Exchange, &RetryWait) + 'static) -> Self {
        self.on_retry = Some(Rc::new(f));
        self
    }
    /// The clock used for retries and polling (default: the platform's real clock).
    pub fn clock(mut self, clock: Rc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }
    /// Retry settings.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// Long-running-operation settings.
    pub fn lro(mut self, lro: LroOptions) -> Self {
        self.lro = lro;
        self
    }
    /// At most `n` requests in flight (default 4).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.limit = n;
        self
    }
    /// Called after every exchange with the transport (each try, each poll).
    pub fn observer(mut self, f: impl Fn(&Exchange) + 'static) -> Self {
        self.observer = Some(Rc::new(f));
        self
    }
    /// Build; fails when the endpoint is not an absolute http(s) URL.
    pub fn build(self) -> Result<ArmClient, ArmError> {
        let origin = Origin::parse(&self.endpoint).ok_or_else(|| {
            ArmError::new(
                ErrorKind::InvalidRequest,
                format!("ARM endpoint is not an absolute URL: {}", self.endpoint),
            )
        })?;
        let clock = match self.clock {
            Some(c) => c,
            None => default_clock(),
        };
        Ok(ArmClient {
            origin,
            transport: self.transport,
            tokens: self.tokens,
            clock,
            retry: self.retry,
            lro: self.lro,
            limiter: Limiter::new(self.limit),
            observer: self.observer,
            on_retry: self.on_retry,
            write: self.write,
        })
    }
}

#[cfg(target_arch = "wasm32")]
fn default_clock() -> Rc<dyn Clock> {
    Rc::new(crate::clock::BrowserClock)
}

#[cfg(not(target_arch = "wasm32"))]
fn default_clock() -> Rc<dyn Clock> {
    Rc::new(crate::clock::SystemClock::default())
}

/// The ARM client. Cheap to share behind an `Rc`; not `Send` (browser-first).
///
/// ```
/// use arm_client::{ArmClient, StaticToken, VirtualClock, ops, testing::{ScriptedTransport, block_on}, HttpResponse};
/// use std::rc::Rc;
/// let t = Rc::new(ScriptedTransport::new());
/// t.push(HttpResponse::json(200, &serde_json::json!({"value": [{"subscriptionId": "s1", "displayName": "Dev"}]})));
/// let client = ArmClient::builder("https://management.azure.com/", t.clone(), Rc::new(StaticToken::new("tok")))
///     .clock(Rc::new(VirtualClock::new(0)))
///     .build().unwrap();
/// let subs: Vec<arm_client::Subscription> = block_on(client.list(ops::list_subscriptions()).collect_all()).unwrap();
/// assert_eq!(subs[0].subscription_id, "s1");
/// assert_eq!(t.requests()[0].header("authorization"), Some("Bearer tok"));
/// ```
pub struct ArmClient {
    origin: Origin,
    transport: Rc<dyn Transport>,
    tokens: Rc<dyn TokenSource>,
    clock: Rc<dyn Clock>,
    retry: RetryPolicy,
    lro: LroOptions,
    limiter: Limiter,
    observer: Option<Observer>,
    on_retry: Option<WaitObserver>,
    write: WriteAccess,
}

impl std::fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArmClient")
            .field("origin", &self.origin.as_url())
            .field("retry", &self.retry)
            .field("lro", &self.lro)
            .finish_non_exhaustive()
    }
}

/// A successful response.
pub type ArmResponse = HttpResponse;

impl ArmClient {
    /// Start building a client for `endpoint` (e.g. `https://management.azure.com/`).
    pub fn builder(
        endpoint: impl Into<String>,
        transport: Rc<dyn Transport>,
        tokens: Rc<dyn TokenSource>,
    ) -> ArmClientBuilder {
        ArmClientBuilder {
            endpoint: endpoint.into(),
            transport,
            tokens,
            clock: None,
            retry: RetryPolicy::default(),
            lro: LroOptions::default(),
            limit: 4,
            observer: None,
            on_retry: None,
            write: WriteAccess::default(),
        }
    }

    /// The same client (endpoint, tokens, clock, retries, observers, read-write switch) over another transport
    /// made from this one's, e.g. a bulk change's [`crate::bulk::PacedTransport`] around it: the requests still
    /// reach the same ARM (or the same demo tenant).
    ///
    /// ```
    /// use arm_client::{ArmClient, StaticToken, VirtualClock, ops, Subscription, testing::block_on};
    /// use arm_client::bulk::{PacedTransport, Pacer};
    /// use arm_client::transport::sim::SimTransport;
    /// use std::rc::Rc;
    /// let clock = Rc::new(VirtualClock::new(0));
    /// let origin = "https://management.azure.com";
    /// let sim = SimTransport::demo(origin, 0, 0, clock.clone());
    /// let c = ArmClient::builder(origin, Rc::new(sim), Rc::new(StaticToken::new("t")))
    ///     .clock(clock.clone()).build().unwrap();
    /// let pacer = Rc::new(Pacer::arm(clock));
    /// let paced = c.with_transport(|t| Rc::new(PacedTransport::new(t, pacer.clone())));
    /// let subs: Vec<Subscription> = block_on(paced.list(ops::list_subscriptions()).collect_all()).unwrap();
    /// assert_eq!(subs.len(), 2); // the same tenant
    /// let gets: u64 = pacer.stats().subscriptions.values().map(|s| s.reads).sum();
    /// assert!(gets >= 1, "the request went through the pacer");
    /// ```
    pub fn with_transport(
        &self,
        wrap: impl FnOnce(Rc<dyn Transport>) -> Rc<dyn Transport>,
    ) -> ArmClient {
        ArmClient {
            origin: self.origin.clone(),
            transport: wrap(self.transport.clone()),
            tokens: self.tokens.clone(),
            clock: self.clock.clone(),
            retry: self.retry.clone(),
            lro: self.lro.clone(),
            limiter: self.limiter.clone(),
            observer: self.observer.clone(),
            on_retry: self.on_retry.clone(),
            write: self.write.clone(),
        }
    }

    /// The read-write switch this client obeys.
    pub fn write_access(&self) -> &WriteAccess {
        &self.write
    }

    /// The ARM origin that alone receives the token.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The clock in use.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The concurrency limiter (shared by every call of this client).
    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    /// The absolute URL of an [`ArmRequest`] on this endpoint.
    pub fn url_of(&self, req: &ArmRequest) -> String {
        format!("{}{}", self.origin.as_url(), req.path_and_query())
    }

    /// Turn an [`ArmRequest`] into the HTTP request sent (JSON body, `Content-Type`).
    pub fn http_request(&self, req: &ArmRequest) -> HttpRequest {
        let mut h = HttpRequest::new(req.method, self.url_of(req));
        h.headers = req.headers.clone();
        if let Some(body) = &req.body {
            h.body = Some(serde_json::to_vec(body).unwrap_or_default());
            if h.header("content-type").is_none() {
                h.set_header("Content-Type", "application/json");
            }
        }
        h
    }

    /// Send through every layer except the status check: the final response of the
    /// retry layer, whatever its status.
    pub async fn send_http_raw(&self, req: HttpRequest) -> Result<HttpResponse, ArmError> {
        self.send_counted(req).await.0
    }

    async fn send_counted(&self, req: HttpRequest) -> (Result<HttpResponse, ArmError>, u32) {
        let method = req.method.as_str();
        if let Err(e) = check_origin(&self.origin, &req.url) {
            return (Err(e.at(method, &req.url)), 0);
        }
        if let Err(e) = self.check_write(&req) {
            return (Err(e), 0);
        }
        let safety = Safety::of(&req);
        let mut on_wait = |w: &RetryWait| {
            if let Some(f) = &self.on_retry {
                f(
                    &Exchange {
                        at_ms: self.clock.now_ms(),
                        method: req.method,
                        url: req.url.clone(),
                        status: w.status,
                        correlation_id: None,
                        authorized: true,
                    },
                    w,
                );
            }
        };
        let (out, attempts) = self
            .retry
            .run_observed(
                &*self.clock,
                safety,
                |_| self.try_once(req.clone()),
                &mut on_wait,
            )
            .await;
        let out = out.map_err(|mut e| {
            e.attempts = attempts;
            e
        });
        (out, attempts)
    }

    /// Send, and turn a non-2xx status into an [`ArmError`].
    pub async fn send_http(&self, req: HttpRequest) -> Result<HttpResponse, ArmError> {
        let (method, url) = (req.method.as_str(), req.url.clone());
        let (resp, attempts) = self.send_counted(req).await;
        let resp = resp?;
        if resp.is_success() {
            Ok(resp)
        } else {
            let mut e = ArmError::from_response(method, &url, &resp);
            e.attempts = attempts;
            if attempts > 1 && resp.status == 412 {
                e.message.push_str(
                    " (this write was retried after a failure; the earlier attempt may have \
                     been applied — re-read the resource)",
                );
            }
            Err(e)
        }
    }

    /// Send one [`ArmRequest`] (no long-running-operation handling).
    pub async fn send(&self, req: &ArmRequest) -> Result<HttpResponse, ArmError> {
        self.send_http(self.http_request(req)).await
    }

    /// Send and parse the JSON body.
    pub async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        req: &ArmRequest,
    ) -> Result<T, ArmError> {
        let url = self.url_of(req);
        let resp = self.send(req).await?;
        serde_json::from_slice(&resp.body).map_err(|e| {
            ArmError::new(ErrorKind::Decode, format!("unexpected response body: {e}"))
                .at(req.method.as_str(), &url)
        })
    }

    /// Send a request that may start a long-running operation, and follow it to its end
    /// (see [`crate::lro`]). `progress` receives (state, elapsed) along the way.
    pub async fn execute(
        &self,
        req: &ArmRequest,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<LroOutcome, ArmError> {
        let started = self.clock.now_ms();
        let initial = self.send(req).await?;
        self.follow(req, initial, started, progress).await
    }

    /// Follow the operation `req` started (its 2xx answer `initial`, sent at clock time
    /// `started_ms`) to its end (see [`crate::lro`]).
    pub async fn follow(
        &self,
        req: &ArmRequest,
        initial: HttpResponse,
        started_ms: u64,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<LroOutcome, ArmError> {
        let resource_url = self.url_of(&ArmRequest {
            method: Method::Get,
            path: req.path.clone(),
            query: req
                .query
                .iter()
                .filter(|(k, _)| k == "api-version")
                .cloned()
                .collect(),
            headers: vec![],
            body: None,
        });
        lro::follow(
            initial,
            req.method,
            &resource_url,
            |url| self.send_http_raw(HttpRequest::new(Method::Get, url)),
            &*self.clock,
            &self.lro,
            started_ms,
            progress,
        )
        .await
    }

    /// Resume following a resource whose change is under way (e.g. after the
    /// connection dropped while polling): GET it, then poll its `provisioningState`
    /// until terminal. `req` is the resource's GET (see [`crate::ops::get_resource`]).
    pub async fn wait_for_resource(
        &self,
        req: &ArmRequest,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<LroOutcome, ArmError> {
        let url = self.url_of(req);
        let started = self.clock.now_ms();
        let first = self.send(req).await?;
        lro::follow(
            first,
            Method::Patch,
            &url,
            |u| self.send_http_raw(HttpRequest::new(Method::Get, u)),
            &*self.clock,
            &self.lro,
            started,
            progress,
        )
        .await
    }

    /// One try: limiter permit, token, send; on 401 a fresh token and one more send.
    async fn try_once(&self, mut req: HttpRequest) -> Result<HttpResponse, ArmError> {
        // defence in depth: a token is only ever attached after this check
        check_origin(&self.origin, &req.url)?;
        let method = req.method.as_str();
        let url = req.url.clone();
        // checked on every try: a retry of a write is not sent once the session is read-only
        self.check_write(&req)?;
        let _permit = self.limiter.acquire().await;
        let token = self
            .tokens
            .token(false)
            .await
            .map_err(|e| cred_err(e, method, &url))?;
        req.set_header("Authorization", format!("Bearer {token}"));
        let resp = self.transmit(req.clone()).await?;
        if resp.status != 401 {
            return Ok(resp);
        }
        let token = self
            .tokens
            .token(true)
            .await
            .map_err(|e| cred_err(e, method, &url))?;
        req.set_header("Authorization", format!("Bearer {token}"));
        self.transmit(req).await
    }

    /// Refuse a write (any request but a read) when the session is read-only.
    fn check_write(&self, req: &HttpRequest) -> Result<(), ArmError> {
        if Safety::of(req) == Safety::Read || self.write.allowed() {
            return Ok(());
        }
        Err(ArmError::new(
            ErrorKind::ReadOnly,
            "the session is read-only: this change was not sent",
        )
        .at(req.method.as_str(), &req.url))
    }

    async fn transmit(&self, req: HttpRequest) -> Result<HttpResponse, ArmError> {
        let (method, url) = (req.method, req.url.clone());
        let authorized = req.header("authorization").is_some();
        let out = self.transport.send(req).await;
        if let Some(obs) = &self.observer {
            obs(&Exchange {
                at_ms: self.clock.now_ms(),
                method,
                url: url.clone(),
                status: out.as_ref().ok().map(|r| r.status),
                correlation_id: out
                    .as_ref()
                    .ok()
                    .and_then(|r| r.header("x-ms-correlation-request-id"))
                    .map(str::to_string),
                authorized,
            });
        }
        out.map_err(|e| ArmError::from_transport(method.as_str(), &url, &e))
    }
}

fn cred_err(mut e: ArmError, method: &str, url: &str) -> ArmError {
    if e.kind != ErrorKind::Credential {
        e.kind = ErrorKind::Credential;
    }
    e.at(method, url)
}
