//! ARM's request quotas: the subscription token buckets (per subscription **and caller**, as the throttling doc
//! describes: reads 250 refilled 25/s, writes 200 refilled 10/s, deletes 200 refilled 10/s) and Compute's own
//! per-resource and per-subscription budgets, counted on every answer and reported in the
//! `x-ms-ratelimit-remaining-*` headers. With [`super::SimConfig::arm_quota`] (off by default; the server's
//! `--arm-quota on`, the control endpoint's `{"armQuota": true}`) they are also **enforced**: a request finding
//! its bucket empty gets 429 `SubscriptionRequestsThrottled` with `Retry-After` (whole seconds until one token has
//! refilled) and is not counted; past a Compute budget it gets 429 `OperationNotAllowed` with a `TooManyRequests`
//! detail naming the policy (Compute's documented throttling shape) and `Retry-After` to the window's end.
//!
//! Time is the `now_ms` passed to [`super::Sim::handle`]; nothing reads a real clock.

use super::{Sim, key};
use crate::error::ArmError;
use crate::http::Target;
use serde_json::json;

/// Read bucket: capacity.
pub const READS_BURST: f64 = 250.0;
/// Read bucket: tokens per second.
pub const READS_PER_S: f64 = 25.0;
/// Write bucket (PUT, PATCH, POST): capacity.
pub const WRITES_BURST: f64 = 200.0;
/// Write bucket: tokens per second.
pub const WRITES_PER_S: f64 = 10.0;
/// Delete bucket: capacity.
pub const DELETES_BURST: f64 = 200.0;
/// Delete bucket: tokens per second.
pub const DELETES_PER_S: f64 = 10.0;
/// Compute's budget window (3 minutes; the recorded header values give the budgets, the window is an assumption).
pub const COMPUTE_WINDOW_MS: u64 = 180_000;
/// Compute: reads of one scale set or VM per window.
pub const COMPUTE_RESOURCE_READS: u32 = 35;
/// Compute: updates and actions on one scale set or VM per window.
pub const COMPUTE_RESOURCE_ACTIONS: u32 = 12;
/// Compute: reads of scale sets (or VMs) per subscription per window.
pub const COMPUTE_SUBSCRIPTION_READS: u32 = 2_400;
/// Compute: updates and actions per subscription per window.
pub const COMPUTE_SUBSCRIPTION_ACTIONS: u32 = 1_500;

/// One caller's buckets in one subscription.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bucket {
    reads: f64,
    writes: f64,
    deletes: f64,
    at_ms: u64,
}

impl Bucket {
    fn full(now: u64) -> Bucket {
        Bucket {
            reads: READS_BURST,
            writes: WRITES_BURST,
            deletes: DELETES_BURST,
            at_ms: now,
        }
    }
    fn refill(&mut self, now: u64) {
        let dt = now.saturating_sub(self.at_ms) as f64 / 1000.0;
        self.reads = (self.reads + dt * READS_PER_S).min(READS_BURST);
        self.writes = (self.writes + dt * WRITES_PER_S).min(WRITES_BURST);
        self.deletes = (self.deletes + dt * DELETES_PER_S).min(DELETES_BURST);
        self.at_ms = now.max(self.at_ms);
    }
}

/// The kind of request as ARM counts it.
fn kind(method: &str) -> (&'static str, f64) {
    match method {
        "GET" | "HEAD" => ("reads", READS_PER_S),
        "DELETE" => ("deletes", DELETES_PER_S),
        _ => ("writes", WRITES_PER_S),
    }
}

impl Sim {
    /// Counts one request against the caller's subscription bucket and Compute's budgets; returns the rate-limit
    /// headers and, when [`super::SimConfig::arm_quota`] is on and a budget is exhausted, the 429 to answer.
    pub(super) fn quota_account(
        &mut self,
        method: &str,
        t: &Target,
        now: u64,
    ) -> (Vec<(String, String)>, Option<ArmError>) {
        let enforce = self.cfg.arm_quota;
        let sub = match t.segments.first() {
            Some(s) if s.eq_ignore_ascii_case("subscriptions") => t.segments.get(1).cloned(),
            _ => None,
        }
        .unwrap_or_else(|| "tenant".into())
        .to_ascii_lowercase();
        let actor = self
            .caller
            .as_ref()
            .map(|c| c.oid.clone())
            .unwrap_or_else(|| "anonymous".into());
        let b = self
            .buckets
            .entry(format!("{sub}|{actor}"))
            .or_insert_with(|| Bucket::full(now));
        b.refill(now);
        let (what, rate) = kind(method);
        let left = match what {
            "reads" => &mut b.reads,
            "deletes" => &mut b.deletes,
            _ => &mut b.writes,
        };
        let mut h = vec![];
        let header = |n: f64| {
            vec![
                (
                    format!("x-ms-ratelimit-remaining-subscription-{what}"),
                    format!("{}", n as u64),
                ),
                (
                    format!("x-ms-ratelimit-remaining-subscription-global-{what}"),
                    format!("{}", (n * 15.0) as u64),
                ),
            ]
        };
        if enforce && *left < 1.0 {
            let secs = ((1.0 - *left) / rate).ceil().max(1.0) as u64;
            h.extend(header(0.0));
            let kind = what.trim_end_matches('s');
            let mut e = ArmError::new(
                429,
                "SubscriptionRequestsThrottled",
                format!(
                    "Number of '{kind}' requests for subscription '{sub}' actor '{actor}' exceeded. Please try again after '{secs}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling"
                ),
            );
            e.headers.push(("Retry-After".into(), secs.to_string()));
            return (h, Some(e));
        }
        *left = (*left - 1.0).max(0.0);
        h.extend(header(*left));
        match self.compute_budget(method, t, now) {
            Some((v, refusal)) => {
                h.push(("x-ms-ratelimit-remaining-resource".into(), v));
                (h, refusal.filter(|_| enforce))
            }
            None => (h, None),
        }
    }

    /// Compute's own budgets in the recorded header shape
    /// (`Microsoft.Compute/GetVMScaleSetSubscriptionMaximum;2396,Microsoft.Compute/GetVMScaleSetResource;31`,
    /// `Microsoft.Compute/VMScaleSetActionsSubscriptionMaximum;1499,Microsoft.Compute/VMScaleSetActionsResource;11`).
    /// The budgets (2,400 / 35 reads and 1,500 / 12 actions per 3-minute window) are read off the recorded values;
    /// the window length is an assumption. Returns the header and the 429 when a budget was already spent (the
    /// refused request is not counted).
    fn compute_budget(
        &mut self,
        method: &str,
        t: &Target,
        now: u64,
    ) -> Option<(String, Option<ArmError>)> {
        let seg = &t.segments;
        if seg.len() < 8 || !seg[5].eq_ignore_ascii_case("microsoft.compute") {
            return None;
        }
        let noun = if seg[6].eq_ignore_ascii_case("virtualmachinescalesets") {
            "VMScaleSet"
        } else if seg[6].eq_ignore_ascii_case("virtualmachines") {
            "VM"
        } else {
            return None;
        };
        let read = method == "GET";
        let (sub_max, res_max) = if read {
            (COMPUTE_SUBSCRIPTION_READS, COMPUTE_RESOURCE_READS)
        } else {
            (COMPUTE_SUBSCRIPTION_ACTIONS, COMPUTE_RESOURCE_ACTIONS)
        };
        let (sub_policy, res_policy) = if read {
            (
                format!("Get{noun}SubscriptionMaximum"),
                format!("Get{noun}Resource"),
            )
        } else {
            (
                format!("{noun}ActionsSubscriptionMaximum"),
                format!("{noun}ActionsResource"),
            )
        };
        let window = now / COMPUTE_WINDOW_MS;
        let sub_key = format!("{}|{}|{read}", seg[1].to_ascii_lowercase(), noun);
        let res_key = format!("{}|{read}", key(&t.path_decoded_prefix(8)));
        let mut used = |k: &str| {
            let e = self
                .compute_budgets
                .entry(k.to_string())
                .or_insert((window, 0));
            if e.0 != window {
                *e = (window, 0);
            }
            e.1
        };
        let (used_sub, used_res) = (used(&sub_key), used(&res_key));
        let over = if used_sub >= sub_max {
            Some((&sub_policy, sub_max, used_sub))
        } else if used_res >= res_max {
            Some((&res_policy, res_max, used_res))
        } else {
            None
        };
        let header = |s: u32, r: u32| {
            format!(
                "Microsoft.Compute/{sub_policy};{},Microsoft.Compute/{res_policy};{}",
                sub_max.saturating_sub(s),
                res_max.saturating_sub(r)
            )
        };
        if let (Some((policy, allowed, measured)), true) = (over, self.cfg.arm_quota) {
            let start = window * COMPUTE_WINDOW_MS;
            let end = start + COMPUTE_WINDOW_MS;
            let secs = end.saturating_sub(now).div_ceil(1000).max(1);
            let mut e = ArmError::new(
                429,
                "OperationNotAllowed",
                "The server rejected the request because too many requests have been received for this subscription.",
            );
            let detail = json!({
                "operationGroup": policy,
                "startTime": crate::rng::iso8601(start),
                "endTime": crate::rng::iso8601(end),
                "allowedRequestCount": allowed,
                "measuredRequestCount": measured + 1,
            });
            e.details = Some(Box::new(json!([{
                "code": "TooManyRequests",
                "target": policy,
                "message": detail.to_string(),
            }])));
            e.headers.push(("Retry-After".into(), secs.to_string()));
            return Some((header(used_sub, used_res), Some(e)));
        }
        for k in [&sub_key, &res_key] {
            if let Some(e) = self.compute_budgets.get_mut(k) {
                e.1 += 1;
            }
        }
        Some((header(used_sub + 1, used_res + 1), None))
    }
}
