//! Fault injection and the request log (the control endpoint's model).
//!
//! Over HTTP (server started with `--control`): `POST /_armsim/faults` with one [`Fault`] as JSON,
//! `GET`/`DELETE /_armsim/faults`, `GET`/`DELETE /_armsim/requests`. In-process: [`crate::Sim::inject`],
//! [`crate::Sim::clear_faults`], [`crate::Sim::request_log`], [`crate::Sim::clear_request_log`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which requests a fault applies to (all when empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Matcher {
    /// HTTP method, ignoring case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A substring of the path, ignoring case (e.g. `virtualMachineScaleSets/vmss1`, `/operations/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_contains: Option<String>,
}

impl Matcher {
    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_ref()
                .is_none_or(|p| path.to_ascii_lowercase().contains(&p.to_ascii_lowercase()))
    }
}

fn one() -> u32 {
    1
}

/// What a concurrent writer does to a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type", deny_unknown_fields)]
pub enum Change {
    /// Another writer changed something unrelated (e.g. tags): only the etag moves on.
    BumpEtag,
    /// Another writer PATCHed this `identity` value (ARM's merge rule applies; completes at once).
    Identity {
        /// The `identity` object the other writer sent.
        identity: Value,
    },
}

/// When a concurrent write happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Trigger {
    /// Right after the next successful GET of that resource has been answered (the GET→PATCH race).
    #[default]
    AfterNextGet,
    /// Immediately when injected.
    Now,
}

/// One injectable fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", deny_unknown_fields)]
pub enum Fault {
    /// The next `count` matching requests get 429 with `Retry-After: retry_after_seconds`.
    #[serde(rename_all = "camelCase")]
    Throttle {
        #[serde(default = "one")]
        count: u32,
        #[serde(default = "one")]
        retry_after_seconds: u32,
        #[serde(default, rename = "match")]
        matcher: Matcher,
    },
    /// The next `count` matching requests get `status` (500, 502, 503, 504) with ARM's envelope.
    #[serde(rename_all = "camelCase")]
    ServerError {
        #[serde(default = "one")]
        count: u32,
        status: u16,
        #[serde(default, rename = "match")]
        matcher: Matcher,
    },
    /// The next `count` matching requests are answered after `ms` extra milliseconds.
    #[serde(rename_all = "camelCase")]
    Latency {
        #[serde(default = "one")]
        count: u32,
        ms: u64,
        #[serde(default, rename = "match")]
        matcher: Matcher,
    },
    /// The next `count` matching requests get no answer: the connection is closed. With
    /// `after_processing` the request still takes effect (the answer is lost), else it is never applied.
    #[serde(rename_all = "camelCase")]
    Drop {
        #[serde(default = "one")]
        count: u32,
        #[serde(default)]
        after_processing: bool,
        #[serde(default, rename = "match")]
        matcher: Matcher,
    },
    /// Another writer changes `resource_id` (a scale set or VM) — by default right after the next GET of it.
    #[serde(rename_all = "camelCase")]
    ConcurrentWrite {
        resource_id: String,
        change: Change,
        #[serde(default)]
        trigger: Trigger,
    },
    /// The next `count` long-running operations started end in `Failed` with this error.
    #[serde(rename_all = "camelCase")]
    FailOperation {
        #[serde(default = "one")]
        count: u32,
        #[serde(default = "default_fail_code")]
        code: String,
        #[serde(default = "default_fail_message")]
        message: String,
    },
}

fn default_fail_code() -> String {
    "InternalExecutionError".into()
}
fn default_fail_message() -> String {
    "An internal execution error occurred. Please retry later.".into()
}

/// One request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// Sequence number since the simulator started (not reset by clearing).
    pub seq: u64,
    /// The clock value passed with the request (ms since the Unix epoch for the server).
    pub time_ms: u64,
    /// Method as sent.
    pub method: String,
    /// Path as sent (percent-encoded).
    pub path: String,
    /// Query string without `?`.
    pub query: String,
    /// Headers; the value of `Authorization` is replaced by `<redacted>`.
    pub headers: Vec<(String, String)>,
    /// Body as sent.
    pub body: String,
    /// Status answered (0 when the connection was dropped without an answer).
    pub status: u16,
    /// The fault that shaped the answer, if any (`throttle`, `serverError`, `latency`, `drop`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}
