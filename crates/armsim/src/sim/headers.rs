//! ARM's common response headers: request ids, the subscription rate-limit counters and Compute's own budgets.

use super::{Sim, iso_compact};
use crate::http::{SimRequest, SimResponse, Target};

impl Sim {
    /// ARM's common headers: request ids and the rate-limit counters of [`super::quota`] (ARM's buckets per
    /// subscription and caller, Compute's budgets).
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
        // counted before dispatch by `handle` (see `quota`); requests refused earlier are counted here
        let rate = match self.rate_headers.take() {
            Some(r) => r,
            None => self.quota_account(method, t, now).0,
        };
        h.extend(rate);
        h.append(&mut resp.headers);
        resp.headers = h;
    }
}
