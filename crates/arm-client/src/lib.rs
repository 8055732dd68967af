//! # arm-client: one typed way to talk to Azure Resource Manager
//!
//! Request building is apart from sending (as in octocrab): [`ops`] builds
//! [`ArmRequest`]s (pure data — identity-core's plans are `ArmRequest`s too), and one
//! [`Transport`] trait sends an absolute-URL HTTP request. Between them, layers as in
//! azure-sdk's pipeline, each in its own module and tested on its own:
//!
//! | layer | module | what it does |
//! |---|---|---|
//! | confinement | [`auth`] | the bearer token only goes to the configured ARM origin; any other URL is refused before sending |
//! | retry | [`retry`] | 429 always; 500/502/503/504 and dropped connections for reads and `If-Match` writes; `Retry-After` or capped jittered backoff |
//! | limiter | [`limit`] | at most N requests in flight |
//! | token | [`auth`] | [`TokenSource`]; on 401 one fresh token and one more try |
//! | long-running ops | [`lro`] | `Azure-AsyncOperation`, else `Location`, else `provisioningState`; progress events; a bound on the wait |
//! | paging | [`paging`] | `nextLink` and Resource Graph `$skipToken`, page by page |
//! | flows | [`flow`] | one async flow per kind of change, typed events and outcomes (what the app applies with) |
//! | bulk | [`bulk`] | one change over many resources: paced under ARM's quotas, resumable, reported |
//!
//! Time goes through [`Clock`]: a [`VirtualClock`] in tests, `setTimeout` in the browser.
//! Every failure is one [`ArmError`] (status, ARM code, message, details, request and
//! correlation ids, Retry-After, and a [`ArmError::hint`] for users).
//!
//! Transports: [`transport::browser::FetchTransport`] (wasm32, gloo-net),
//! `transport::sim::SimTransport` (feature `sim`: armsim in-process — tests and the demo
//! tenant), [`transport::tcp::TcpTransport`] (native: HTTP/1.1 to the armsim server).
//!
//! ```
//! use arm_client::{ArmClient, StaticToken, VirtualClock, ops, testing::{ScriptedTransport, block_on}, HttpResponse};
//! use std::rc::Rc;
//! let t = Rc::new(ScriptedTransport::new());
//! t.push(HttpResponse::json(429, &serde_json::json!({"error": {"code": "TooManyRequests", "message": "slow down"}}))
//!     .with_header("Retry-After", "2"));
//! t.push(HttpResponse::json(200, &serde_json::json!({"value": [{"name": "westeurope", "displayName": "West Europe"}]})));
//! let clock = VirtualClock::new(0);
//! let c = ArmClient::builder("https://management.azure.com", t.clone(), Rc::new(StaticToken::new("tok")))
//!     .clock(Rc::new(clock.clone())).build().unwrap();
//! let locs: Vec<ops::Location> = block_on(c.list(ops::list_locations("s1")).collect_all()).unwrap();
//! assert_eq!(locs[0].display_name, "West Europe");
//! assert_eq!(clock.sleeps(), vec![2_000]); // Retry-After honoured, on the virtual clock
//! ```

pub mod auth;
pub mod bulk;
pub mod client;
pub mod clock;
pub mod error;
pub mod flow;
pub mod http;
pub mod identity;
pub mod inventory;
pub mod limit;
pub mod lro;
pub mod ops;
pub mod paging;
pub mod retry;
pub mod testing;
pub mod transport;
pub mod url;

pub use auth::{StaticToken, TokenSource, check_origin};
pub use client::{ArmClient, ArmClientBuilder, ArmResponse, Exchange, WriteAccess};
pub use clock::{Clock, VirtualClock};
pub use error::{ArmError, Class, ErrorDetail, ErrorInfo, ErrorKind};
pub use http::{HttpRequest, HttpResponse, LocalBoxFuture, Method, Transport, TransportError};
pub use identity_core::ArmRequest;
pub use limit::Limiter;
pub use lro::{LroOptions, LroOutcome, PollVia, Progress};
pub use ops::{Location, ResourceGroup, RoleDefinition, Subscription, Tenant};
pub use paging::Pager;
pub use retry::{RetryPolicy, RetryWait, Safety};
pub use url::Origin;
