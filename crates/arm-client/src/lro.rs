//! Long-running operations: after a write answered 2xx, follow it to a terminal state.
//!
//! Order of preference (ARM's async-operations rules, CONTRACT §1.5 and §3.1):
//! 1. `Azure-AsyncOperation` header → poll it; body `status` InProgress → Succeeded /
//!    Failed / Canceled; on success a PUT/PATCH resource is read back with one GET.
//! 2. else `Location` on a 202 → poll it; 202 = running, 200/201/204 = done.
//! 3. else a PUT/PATCH body whose `properties.provisioningState` is not terminal →
//!    poll the resource GET until it is (the strict-CORS path: no header readable).
//! 4. else a DELETE answered 202 → poll the resource until 404.
//! 5. else the response is final.
//!
//! Poll waits honour `Retry-After` when readable, else start at
//! [`LroOptions::poll_ms`] and grow by half up to [`LroOptions::max_poll_ms`]; the
//! whole operation is bounded by [`LroOptions::max_wait_ms`].

use crate::clock::Clock;
use crate::error::{ArmError, ErrorKind, fill_from_envelope};
use crate::http::{HttpResponse, Method};
use std::future::Future;

/// Polling settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LroOptions {
    /// First wait between polls when no `Retry-After` is readable.
    pub poll_ms: u64,
    /// Longest wait between polls.
    pub max_poll_ms: u64,
    /// Bound on the whole operation (from the initial request).
    pub max_wait_ms: u64,
    /// Read a PUT/PATCH resource back after an operation-URL poll succeeded.
    pub final_get: bool,
}

impl Default for LroOptions {
    fn default() -> Self {
        LroOptions {
            poll_ms: 2_000,
            max_poll_ms: 15_000,
            max_wait_ms: 15 * 60_000,
            final_get: true,
        }
    }
}

/// What is being polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollVia {
    /// Nothing: the first response was final.
    None,
    /// The `Azure-AsyncOperation` URL.
    AsyncOperation,
    /// The `Location` URL.
    Location,
    /// The resource's `provisioningState`.
    ProvisioningState,
    /// The resource, until it is gone (DELETE).
    ResourceGone,
}

/// A progress event: the state last seen and the time since the request was sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// `InProgress`, `Updating`, `Succeeded`, …
    pub state: String,
    /// Milliseconds since the initial request.
    pub elapsed_ms: u64,
    /// Polls sent so far.
    pub polls: u32,
    /// What is polled.
    pub via: PollVia,
}

/// The end of a successful operation.
#[derive(Debug, Clone, PartialEq)]
pub struct LroOutcome {
    /// Terminal state (`Succeeded`, or `Accepted` for a 202 that could not be tracked
    /// because no header was readable).
    pub state: String,
    /// The final response: the resource read back, or the last response.
    pub response: HttpResponse,
    /// Requests sent after the initial one (polls and the read-back).
    pub polls: u32,
    /// Milliseconds from the initial request to the end.
    pub elapsed_ms: u64,
    /// What was polled.
    pub via: PollVia,
}

enum Term {
    Succeeded,
    Failed,
    Running,
}

fn classify(state: &str) -> Term {
    let s = state.trim();
    if s.eq_ignore_ascii_case("succeeded") {
        Term::Succeeded
    } else if ["failed", "canceled", "cancelled"]
        .iter()
        .any(|t| s.eq_ignore_ascii_case(t))
    {
        Term::Failed
    } else {
        Term::Running
    }
}

fn provisioning_state(v: &serde_json::Value) -> Option<String> {
    v.get("properties")
        .and_then(|p| p.get("provisioningState"))
        .and_then(|s| s.as_str())
        .map(str::to_string)
}

/// Follow `initial` (a 2xx answer to `method` on `resource_url`) to its end. `get`
/// sends one GET through the retry layer and returns the response whatever its
/// status. `started_ms` is the clock time of the initial request.
#[allow(clippy::too_many_arguments)]
pub async fn follow<G, Fut>(
    initial: HttpResponse,
    method: Method,
    resource_url: &str,
    get: G,
    clock: &dyn Clock,
    opts: &LroOptions,
    started_ms: u64,
    progress: &mut dyn FnMut(&Progress),
) -> Result<LroOutcome, ArmError>
where
    G: Fn(String) -> Fut,
    Fut: Future<Output = Result<HttpResponse, ArmError>>,
{
    let body = initial.json_opt();
    let put_like = matches!(method, Method::Put | Method::Patch);
    let (via, poll_url) = if let Some(u) = initial.header("azure-asyncoperation") {
        (PollVia::AsyncOperation, u.to_string())
    } else if let (202, Some(u)) = (initial.status, initial.header("location")) {
        (PollVia::Location, u.to_string())
    } else if let (true, Some(ps)) = (put_like, body.as_ref().and_then(provisioning_state)) {
        match classify(&ps) {
            Term::Running => (PollVia::ProvisioningState, resource_url.to_string()),
            Term::Failed => {
                return Err(op_failed(&ps, body.as_ref(), resource_url, 0));
            }
            Term::Succeeded => (PollVia::None, String::new()),
        }
    } else if method == Method::Delete && initial.status == 202 {
        (PollVia::ResourceGone, resource_url.to_string())
    } else {
        (PollVia::None, String::new())
    };
    let elapsed = |c: &dyn Clock| c.now_ms().saturating_sub(started_ms);
    let mut state = body
        .as_ref()
        .and_then(provisioning_state)
        .unwrap_or_else(|| {
            if via == PollVia::None && initial.status == 202 {
                "Accepted".into()
            } else if via == PollVia::None {
                "Succeeded".into()
            } else {
                "InProgress".into()
            }
        });
    let mut polls = 0u32;
    progress(&Progress {
        state: state.clone(),
        elapsed_ms: elapsed(clock),
        polls,
        via,
    });
    if via == PollVia::None {
        return Ok(LroOutcome {
            state,
            response: initial,
            polls,
            elapsed_ms: elapsed(clock),
            via,
        });
    }
    let mut interval = opts.poll_ms;
    let mut wait = retry_after(&initial).unwrap_or(interval);
    loop {
        if elapsed(clock) + wait > opts.max_wait_ms {
            let mut e = ArmError::new(
                ErrorKind::Timeout,
                format!(
                    "the operation was still {state} after {} s (bound {} s)",
                    elapsed(clock) / 1000,
                    opts.max_wait_ms / 1000
                ),
            )
            .at("GET", &poll_url);
            e.attempts = polls;
            return Err(e);
        }
        clock.sleep(wait).await;
        let resp = get(poll_url.clone()).await?;
        polls += 1;
        interval = (interval + interval / 2).min(opts.max_poll_ms).max(1);
        wait = retry_after(&resp).unwrap_or(interval);
        let v = resp.json_opt();
        let done: Option<HttpResponse> = match via {
            // the operation's own status, or the resource's provisioningState
            PollVia::AsyncOperation | PollVia::ProvisioningState => {
                if !resp.is_success() {
                    return Err(ArmError::from_response("GET", &poll_url, &resp));
                }
                let s = if via == PollVia::AsyncOperation {
                    v.as_ref()
                        .and_then(|v| v.get("status"))
                        .and_then(|s| s.as_str())
                        .unwrap_or("InProgress")
                        .to_string()
                } else {
                    v.as_ref()
                        .and_then(provisioning_state)
                        .unwrap_or_else(|| "Succeeded".into())
                };
                state = s.clone();
                match classify(&s) {
                    Term::Running => None,
                    Term::Failed => {
                        let e = op_failed(&s, v.as_ref(), &poll_url, polls);
                        progress(&Progress {
                            state: s.clone(),
                            elapsed_ms: elapsed(clock),
                            polls,
                            via,
                        });
                        return Err(e);
                    }
                    Term::Succeeded => Some(resp),
                }
            }
            PollVia::Location => match resp.status {
                202 => {
                    if let Some(s) = v
                        .as_ref()
                        .and_then(|v| v.get("status"))
                        .and_then(|s| s.as_str())
                    {
                        state = s.to_string();
                    }
                    None
                }
                200 | 201 | 204 => {
                    state = "Succeeded".into();
                    Some(resp)
                }
                _ => return Err(ArmError::from_response("GET", &poll_url, &resp)),
            },
            PollVia::ResourceGone => match resp.status {
                404 => {
                    state = "Succeeded".into();
                    Some(resp)
                }
                s if (200..300).contains(&s) => {
                    if let Some(ps) = v.as_ref().and_then(provisioning_state) {
                        state = ps;
                    }
                    None
                }
                _ => return Err(ArmError::from_response("GET", &poll_url, &resp)),
            },
            PollVia::None => unreachable!(),
        };
        progress(&Progress {
            state: state.clone(),
            elapsed_ms: elapsed(clock),
            polls,
            via,
        });
        if let Some(mut response) = done {
            if via == PollVia::AsyncOperation && put_like && opts.final_get {
                let back = get(resource_url.to_string()).await?;
                polls += 1;
                if !back.is_success() {
                    return Err(ArmError::from_response("GET", resource_url, &back));
                }
                response = back;
            }
            return Ok(LroOutcome {
                state,
                response,
                polls,
                elapsed_ms: elapsed(clock),
                via,
            });
        }
    }
}

fn retry_after(r: &HttpResponse) -> Option<u64> {
    crate::error::retry_after_ms(r)
}

fn op_failed(state: &str, body: Option<&serde_json::Value>, url: &str, polls: u32) -> ArmError {
    let mut e = ArmError::new(ErrorKind::OperationFailed, String::new()).at("GET", url);
    if let Some(env) = body.and_then(|b| {
        b.get("error")
            .or_else(|| b.get("properties").and_then(|p| p.get("error")))
    }) {
        fill_from_envelope(&mut e, env);
    }
    if e.message.is_empty() {
        e.message = format!("the operation ended {state}");
    } else {
        e.message = format!("the operation ended {state}: {}", e.message);
    }
    if e.code.is_none() {
        e.code = Some(state.to_string());
    }
    e.attempts = polls;
    e
}
