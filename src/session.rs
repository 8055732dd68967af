//! The session: configuration, how the app reaches ARM (demo tenant, signed in, or not at all:
//! snippet-only), the read-write switch and the change log. Provided as a context.

use crate::config::AppConfig;
use arm_client::{ArmClient, Exchange, WriteAccess};
use identity_core::clouds::Cloud;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// How the app reaches Azure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The built-in demo tenant: armsim's core in this page; nothing leaves the browser.
    Demo,
    /// Signed in: requests go to the configured ARM endpoint with the user's token.
    SignedIn,
    /// Not signed in: wizards produce scripts from typed names; nothing is sent.
    SnippetsOnly,
}

/// One request of this session's change log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// ISO 8601 time.
    pub time: String,
    pub method: String,
    /// Path and query (the ARM origin is the same for every entry).
    pub path: String,
    pub status: Option<u16>,
    pub correlation_id: Option<String>,
}

/// A retry the client is waiting for (429 / 5xx / dropped connection), shown as a countdown.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryNote {
    /// `Date.now()` when the retry goes out.
    pub at_ms: f64,
    pub status: Option<u16>,
    pub retry: u32,
    /// The wait is the server's `Retry-After` (otherwise the client's own backoff).
    pub from_retry_after: bool,
    pub method: String,
}

/// The callback a client calls before each retry wait.
pub fn retry_reporter(
    cb: Callback<RetryNote>,
) -> impl Fn(&Exchange, &arm_client::retry::RetryWait) + 'static {
    move |x, w| {
        cb.emit(RetryNote {
            at_ms: js_sys::Date::now() + w.wait_ms as f64,
            status: w.status,
            retry: w.retry,
            from_retry_after: w.from_retry_after,
            method: x.method.as_str().to_string(),
        })
    }
}

/// How the app reaches ARM, as made for one configuration and sign-in: the mode, the client
/// (none in snippet-only mode) and why there is none.
pub type Access = (Mode, Option<Rc<ArmClient>>, Option<String>);

/// What it takes to make the ARM client, and the client once made. The shell only fills this in;
/// the pages make the client on first use ([`Connector::access`]), so the ARM client (and the
/// demo tenant) load with the pages, not with the first page. One connector per configuration
/// and sign-in: the client, and the demo tenant's state, live as long as those do.
pub struct Connector {
    pub config: Rc<AppConfig>,
    pub auth: Option<Rc<crate::auth::Session>>,
    pub log: Rc<RefCell<Vec<LogEntry>>>,
    pub on_retry: Callback<RetryNote>,
    /// The read-write switch every client made here obeys: a write is refused where it is sent
    /// while the session is read-only (not only by a disabled button).
    pub write: WriteAccess,
    made: RefCell<Option<Access>>,
}

impl Connector {
    pub fn new(
        config: Rc<AppConfig>,
        auth: Option<Rc<crate::auth::Session>>,
        log: Rc<RefCell<Vec<LogEntry>>>,
        on_retry: Callback<RetryNote>,
        write: WriteAccess,
    ) -> Self {
        Connector {
            config,
            auth,
            log,
            on_retry,
            write,
            made: RefCell::new(None),
        }
    }

    /// The mode before the client is made (what the header shows on the start page).
    pub fn expected_mode(&self) -> Mode {
        if self.config.demo && HAS_DEMO {
            Mode::Demo
        } else if self.auth.is_some() {
            Mode::SignedIn
        } else {
            Mode::SnippetsOnly
        }
    }

    /// The client for this configuration and sign-in, made on the first call.
    pub fn access(&self) -> Access {
        self.made
            .borrow_mut()
            .get_or_insert_with(|| make_access(self))
            .clone()
    }
}

/// How the app reaches ARM for a configuration and a sign-in state: the client for the mode the
/// shell expects, or snippet-only with the reason when it cannot be made.
fn make_access(c: &Connector) -> Access {
    let mode = c.expected_mode();
    let made = match (mode, &c.auth) {
        #[cfg(feature = "demo")]
        (Mode::Demo, _) => demo_client(c.log.clone(), c.on_retry.clone(), c.write.clone())
            .map_err(|e| format!("The demo tenant could not start: {e}")),
        (Mode::SignedIn, Some(auth)) => live_client(
            auth.clone(),
            c.log.clone(),
            c.on_retry.clone(),
            c.write.clone(),
        )
        .map_err(|e| format!("Signed in, but the ARM client could not start: {e}")),
        _ => Err(snippet_only_notice(&c.config)),
    };
    match made {
        Ok(client) => (mode, Some(Rc::new(client)), None),
        Err(notice) => (Mode::SnippetsOnly, None, Some(notice)),
    }
}

/// Why there is no client when nobody is signed in.
pub fn snippet_only_notice(config: &AppConfig) -> String {
    if config.demo {
        "This build has no demo tenant (scripts/serve serves the one that has). Sign in, or use the wizards in snippet-only mode.".into()
    } else {
        "Not signed in: wizards run in snippet-only mode and send nothing. Sign in to pick a scale set or VM.".into()
    }
}

/// The session context.
#[derive(Clone)]
pub struct Session {
    pub config: Rc<AppConfig>,
    pub cloud: Rc<Cloud>,
    pub mode: Mode,
    /// The ARM client: none in the shell (see [`Connector`]) and in snippet-only mode; the
    /// pages see it once made.
    pub client: Option<Rc<ArmClient>>,
    pub connector: Rc<Connector>,
    pub log: Rc<RefCell<Vec<LogEntry>>>,
    /// Read-only is the default; sending changes needs the switch (remembered for the session).
    pub read_write: bool,
    pub set_read_write: Callback<bool>,
    /// Why there is no client (snippet-only), for the banner.
    pub notice: Option<String>,
}

impl PartialEq for Session {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.config, &o.config)
            && self.mode == o.mode
            && self.read_write == o.read_write
            && self.notice == o.notice
            && Rc::ptr_eq(&self.connector, &o.connector)
            && match (&self.client, &o.client) {
                (Some(a), Some(b)) => Rc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

/// The session context (panics outside the provider: a programming error).
#[hook]
pub fn use_session() -> Session {
    use_context::<Session>().expect("Session context")
}

fn iso_time(ms: f64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms))
        .to_iso_string()
        .as_string()
        .unwrap_or_default()
}

/// The observer that fills the change log.
pub fn log_observer(
    log: Rc<RefCell<Vec<LogEntry>>>,
    origin_len: usize,
) -> impl Fn(&Exchange) + 'static {
    move |x: &Exchange| {
        log.borrow_mut().push(LogEntry {
            time: iso_time(js_sys::Date::now()),
            method: x.method.as_str().to_string(),
            path: x.url.get(origin_len..).unwrap_or(&x.url).to_string(),
            status: x.status,
            correlation_id: x.correlation_id.clone(),
        });
    }
}

/// Build the demo tenant's client (the ARM client's in-process demo tenant, in this page).
#[cfg(feature = "demo")]
pub fn demo_client(
    log: Rc<RefCell<Vec<LogEntry>>>,
    on_retry: Callback<RetryNote>,
    write: WriteAccess,
) -> Result<ArmClient, String> {
    use arm_client::clock::BrowserClock;
    use arm_client::transport::sim::SimTransport;
    let origin = "https://management.azure.com";
    let clock: Rc<dyn arm_client::Clock> = Rc::new(BrowserClock);
    // operations take 2.5 s; a new principal is "not found" by role assignments for 12 s, as in Azure
    let sim = SimTransport::demo(origin, 2_500, 12_000, clock.clone());
    ArmClient::builder(
        origin,
        Rc::new(sim),
        Rc::new(arm_client::StaticToken::new("demo-token")),
    )
    .clock(clock)
    .observer(log_observer(log, origin.len()))
    .on_retry(retry_reporter(on_retry))
    .write_access(write)
    .build()
    .map_err(|e| e.to_string())
}

/// The client for a signed-in user: the browser's fetch to the configured ARM endpoint, with the
/// user's token (only ever attached to that origin).
#[cfg(target_arch = "wasm32")]
pub fn live_client(
    auth: Rc<crate::auth::Session>,
    log: Rc<RefCell<Vec<LogEntry>>>,
    on_retry: Callback<RetryNote>,
    write: WriteAccess,
) -> Result<ArmClient, String> {
    let origin = auth.config().arm_endpoint.clone();
    let clock: Rc<dyn arm_client::Clock> = Rc::new(arm_client::clock::BrowserClock);
    let tokens: Rc<dyn arm_client::TokenSource> = auth;
    ArmClient::builder(
        &origin,
        Rc::new(arm_client::transport::browser::FetchTransport),
        tokens,
    )
    .clock(clock)
    .observer(log_observer(log, origin.len()))
    .on_retry(retry_reporter(on_retry))
    .write_access(write)
    .build()
    .map_err(|e| e.to_string())
}

/// Outside a browser (server-side rendering in tests) nobody is signed in.
#[cfg(not(target_arch = "wasm32"))]
pub fn live_client(
    _: Rc<crate::auth::Session>,
    _: Rc<RefCell<Vec<LogEntry>>>,
    _: Callback<RetryNote>,
    _: WriteAccess,
) -> Result<ArmClient, String> {
    Err("signing in needs a browser".into())
}

/// Whether this build carries the demo tenant.
pub const HAS_DEMO: bool = cfg!(feature = "demo");

const RW_KEY: &str = "identity-wizard.read-write";

/// The read-write switch as remembered for this browser session (off when nothing is stored,
/// and outside a browser).
pub fn stored_read_write() -> bool {
    if !cfg!(target_arch = "wasm32") {
        return false;
    }
    web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .and_then(|s| s.get_item(RW_KEY).ok().flatten())
        .is_some_and(|v| v == "1")
}

pub fn store_read_write(on: bool) {
    if let Some(s) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = s.set_item(RW_KEY, if on { "1" } else { "0" });
    }
}
