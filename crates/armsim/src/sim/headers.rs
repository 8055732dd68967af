//! ARM's common response headers: request ids, the subscription rate-limit counters and Compute's own budgets.

use super::{Bucket, Sim, iso_compact, key};
use crate::http::{SimRequest, SimResponse, Target};

impl Sim {
    /// ARM's common headers: request ids and the subscription rate-limit counters (a token bucket of 250 reads
    /// refilled 25/s and 200 writes refilled 10/s per subscription, per the throttling doc; reported, not enforced).
    pub(super) fn stamp(
        &mut self,
        resp: &mut SimResponse,
        req: &SimRequest,
        method: &str,
        t: &Target,
        now: u64,
    ) {
        let rid = self.rng.uuid();
        let corr = req
            .get_header("x-ms-correlation-request-id")
            .map(str::to_string)
            .unwrap_or_else(|| rid.clone());
        let mut h = vec![
            ("Cache-Control".to_string(), "no-cache".to_string()),
            ("Pragma".into(), "no-cache".into()),
            ("Expires".into(), "-1".into()),
            ("x-ms-request-id".into(), rid.clone()),
            ("x-ms-correlation-request-id".into(), corr),
            (
                "x-ms-routing-request-id".into(),
                format!("WESTEUROPE:{}:{}", iso_compact(now), rid.to_uppercase()),
            ),
        ];
        if !resp.body.is_empty() {
            h.push((
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            ));
        }
        let sub = match t.segments.first() {
            Some(s) if s.eq_ignore_ascii_case("subscriptions") => t.segments.get(1).cloned(),
            _ => None,
        }
        .unwrap_or_else(|| "tenant".into())
        .to_ascii_lowercase();
        let b = self.buckets.entry(sub).or_insert(Bucket {
            reads: 250.0,
            writes: 200.0,
            deletes: 200.0,
            at_ms: now,
        });
        let dt = now.saturating_sub(b.at_ms) as f64 / 1000.0;
        b.reads = (b.reads + dt * 25.0).min(250.0);
        b.writes = (b.writes + dt * 10.0).min(200.0);
        b.deletes = (b.deletes + dt * 10.0).min(200.0);
        b.at_ms = now.max(b.at_ms);
        let (left, what) = match method {
            "GET" => (&mut b.reads, "reads"),
            "DELETE" => (&mut b.deletes, "deletes"),
            _ => (&mut b.writes, "writes"),
        };
        *left = (*left - 1.0).max(0.0);
        h.push((
            format!("x-ms-ratelimit-remaining-subscription-{what}"),
            format!("{}", *left as u64),
        ));
        h.push((
            format!("x-ms-ratelimit-remaining-subscription-global-{what}"),
            format!("{}", (*left * 15.0) as u64),
        ));
        if let Some(v) = self.compute_budget(method, t, now) {
            h.push(("x-ms-ratelimit-remaining-resource".into(), v));
        }
        h.append(&mut resp.headers);
        resp.headers = h;
    }

    /// Compute's own budgets in the recorded header shape
    /// (`Microsoft.Compute/GetVMScaleSetSubscriptionMaximum;2396,Microsoft.Compute/GetVMScaleSetResource;31`,
    /// `Microsoft.Compute/VMScaleSetActionsSubscriptionMaximum;1499,Microsoft.Compute/VMScaleSetActionsResource;11`).
    /// The budgets (2,400 / 35 reads and 1,500 / 12 actions per 3-minute window) are read off the recorded values;
    /// the window length is an assumption. Reported only, never enforced.
    fn compute_budget(&mut self, method: &str, t: &Target, now: u64) -> Option<String> {
        let seg = &t.segments;
        if seg.len() < 8 || !seg[5].eq_ignore_ascii_case("microsoft.compute") {
            return None;
        }
        let (noun, read_max, act_max) = if seg[6].eq_ignore_ascii_case("virtualmachinescalesets") {
            ("VMScaleSet", 35u32, 12u32)
        } else if seg[6].eq_ignore_ascii_case("virtualmachines") {
            ("VM", 35, 12)
        } else {
            return None;
        };
        let read = method == "GET";
        let window = now / 180_000;
        let sub_key = format!("{}|{}|{read}", seg[1].to_ascii_lowercase(), noun);
        let res_key = format!("{}|{read}", key(&t.path_decoded_prefix(8)));
        let mut bump = |k: String| {
            let e = self.compute_budgets.entry(k).or_insert((window, 0));
            if e.0 != window {
                *e = (window, 0);
            }
            e.1 += 1;
            e.1
        };
        let used_sub = bump(sub_key);
        let used_res = bump(res_key);
        Some(if read {
            format!(
                "Microsoft.Compute/Get{noun}SubscriptionMaximum;{},Microsoft.Compute/Get{noun}Resource;{}",
                2_400u32.saturating_sub(used_sub),
                read_max.saturating_sub(used_res)
            )
        } else {
            format!(
                "Microsoft.Compute/{noun}ActionsSubscriptionMaximum;{},Microsoft.Compute/{noun}ActionsResource;{}",
                1_500u32.saturating_sub(used_sub),
                act_max.saturating_sub(used_res)
            )
        })
    }
}
