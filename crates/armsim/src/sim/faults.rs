//! Injected faults (concurrent writers, the 403/401 stand-ins) and the `/_armsim/…` control endpoint.

use super::compute::{is_flexible, set_identity};
use super::errors::invalid_body;
use super::{Sim, error_response, key, ok};
use crate::control::{Change, Fault, LogEntry, Trigger};
use crate::error::ArmError;
use crate::http::{SimRequest, SimResponse, Target};
use crate::identity::{IdentityState, MergeMode, SystemIds, merge_identity};
use crate::rng::iso8601;
use serde_json::{Value, json};

/// What the armed faults do to one request that is still answered.
pub(super) struct FaultEffects {
    /// latency before the answer (a transport instruction)
    pub(super) delay_ms: u64,
    /// the fault named in the request log
    pub(super) name: Option<String>,
    /// the request is applied, then the connection closed without an answer
    pub(super) drop_after: bool,
    /// the error answered instead of routing the request
    pub(super) forced: Option<ArmError>,
}

pub(super) enum FaultOutcome {
    /// the connection is dropped before the request is processed: this (logged) answer, at once
    Dropped(SimResponse),
    /// route the request, with these effects
    Apply(FaultEffects),
}

impl Sim {
    /// Applies the armed faults that match a request, in the order they were armed, and consumes their counts.
    pub(super) fn apply_faults(
        &mut self,
        req: &SimRequest,
        t: &Target,
        method: &str,
        now_ms: u64,
    ) -> FaultOutcome {
        let mut delay_ms = 0;
        let mut fault_name: Option<String> = None;
        let mut drop_after = false;
        let mut forced: Option<ArmError> = None;
        let tenant = self.tenant_id.clone();
        let mut i = 0;
        while i < self.faults.len() {
            let mut consumed = false;
            match &mut self.faults[i].fault {
                Fault::Latency { count, ms, matcher } if matcher.matches(method, &t.path) => {
                    delay_ms += *ms;
                    fault_name.get_or_insert("latency".into());
                    *count = count.saturating_sub(1);
                    consumed = *count == 0;
                }
                Fault::Drop {
                    count,
                    after_processing,
                    matcher,
                } if forced.is_none() && !drop_after && matcher.matches(method, &t.path) => {
                    let after = *after_processing;
                    *count = count.saturating_sub(1);
                    consumed = *count == 0;
                    fault_name = Some("drop".into());
                    if !after {
                        if consumed {
                            self.faults.remove(i);
                        }
                        let resp = SimResponse {
                            status: 0,
                            delay_ms,
                            drop_connection: true,
                            ..Default::default()
                        };
                        self.record(req, t, now_ms, 0, fault_name);
                        return FaultOutcome::Dropped(resp);
                    }
                    drop_after = true;
                }
                Fault::Throttle {
                    count,
                    retry_after_seconds,
                    matcher,
                } if forced.is_none() && matcher.matches(method, &t.path) => {
                    let sub = t.segments.get(1).cloned().unwrap_or_default();
                    let kind = if method == "GET" { "read" } else { "write" };
                    let mut e = ArmError::new(
                        429,
                        "SubscriptionRequestsThrottled",
                        format!(
                            "Number of '{kind}' requests for subscription '{sub}' actor '00000000-0000-0000-0000-000000000000' exceeded. Please try again after '{retry_after_seconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information."
                        ),
                    );
                    e.headers
                        .push(("Retry-After".into(), retry_after_seconds.to_string()));
                    forced = Some(e);
                    fault_name = Some("throttle".into());
                    *count = count.saturating_sub(1);
                    consumed = *count == 0;
                }
                Fault::Forbidden {
                    count,
                    linked,
                    matcher,
                } if forced.is_none() && matcher.matches(method, &t.path) => {
                    forced = Some(forbidden(*linked, method, t, &req.body));
                    fault_name = Some("forbidden".into());
                    *count = count.saturating_sub(1);
                    consumed = *count == 0;
                }
                Fault::Unauthorized { count, matcher }
                    if forced.is_none() && matcher.matches(method, &t.path) =>
                {
                    forced = Some(unauthorized(&tenant, now_ms));
                    fault_name = Some("unauthorized".into());
                    *count = count.saturating_sub(1);
                    consumed = *count == 0;
                }
                Fault::ServerError {
                    count,
                    status,
                    matcher,
                } if forced.is_none() && matcher.matches(method, &t.path) => {
                    let (code, msg) = match *status {
                        503 => (
                            "ServiceUnavailable",
                            "The server is currently unable to handle the request. Please retry.",
                        ),
                        502 => (
                            "BadGateway",
                            "The gateway did not receive a response from the service in time.",
                        ),
                        504 => (
                            "GatewayTimeout",
                            "The gateway did not receive a response from 'Microsoft.Compute' within the specified time period.",
                        ),
                        _ => (
                            "InternalServerError",
                            "Encountered internal server error. Please try again.",
                        ),
                    };
                    forced = Some(ArmError::new(*status, code, msg));
                    fault_name = Some("serverError".into());
                    *count = count.saturating_sub(1);
                    consumed = *count == 0;
                }
                _ => {}
            }
            if consumed {
                self.faults.remove(i);
            } else {
                i += 1;
            }
        }
        FaultOutcome::Apply(FaultEffects {
            delay_ms,
            name: fault_name,
            drop_after,
            forced,
        })
    }

    pub(super) fn trigger_after_get(&mut self, t: &Target) {
        let k = key(&t.path_decoded());
        let pos = self.faults.iter().position(|f| {
            matches!(&f.fault, Fault::ConcurrentWrite { resource_id, trigger: Trigger::AfterNextGet, .. } if key(resource_id) == k)
        });
        if let Some(i) = pos
            && let Fault::ConcurrentWrite {
                resource_id,
                change,
                ..
            } = self.faults.remove(i).fault
        {
            self.concurrent_write(&resource_id, &change);
        }
    }

    pub(super) fn concurrent_write(&mut self, resource_id: &str, change: &Change) {
        let k = key(resource_id);
        let tenant = self.tenant_id.clone();
        let Some(r) = self.res.get(&k) else { return };
        let flexible = is_flexible(&r.body);
        let current = IdentityState::from_json(r.body.get("identity"));
        let mut new_state = None;
        if let Change::Identity { identity } = change {
            let mut rng = self.rng.clone();
            let out = merge_identity(&current, identity, flexible, MergeMode::Patch, &mut || {
                SystemIds {
                    principal_id: rng.uuid(),
                    tenant_id: tenant.clone(),
                }
            });
            self.rng = rng;
            if let Ok(mut o) = out {
                for (uid, ids) in o.state.user.iter_mut() {
                    if ids.is_none() {
                        *ids = self.ua_ids(uid);
                    }
                }
                new_state = Some(o.state);
            }
        }
        if let Some(r) = self.res.get_mut(&k) {
            r.etag += 1;
            if let Some(st) = new_state {
                set_identity(&mut r.body, &st);
            }
        }
    }

    fn config_json(&self) -> Value {
        json!({"baseUrl": self.cfg.base_url, "pageSize": self.cfg.page_size, "lroDelayMs": self.cfg.lro_delay_ms, "graphQuota": self.cfg.graph_quota, "armQuota": self.cfg.arm_quota})
    }

    pub(super) fn control_http(&mut self, req: &SimRequest, t: &Target) -> SimResponse {
        let m = req.method.to_ascii_uppercase();
        let what = t.segments.get(1).map(String::as_str).unwrap_or("");
        match (m.as_str(), what) {
            ("POST", "faults") => match serde_json::from_str::<Fault>(&req.body) {
                Ok(f) => {
                    let id = self.inject(f);
                    ok(200, &json!({"id": id}))
                }
                Err(e) => error_response(&invalid_body(&format!("invalid fault: {e}"))),
            },
            ("GET", "faults") => ok(
                200,
                &json!({"value": self.faults().into_iter().map(|(id, f)| json!({"id": id, "fault": f})).collect::<Vec<_>>()}),
            ),
            ("DELETE", "faults") => {
                self.clear_faults();
                SimResponse {
                    status: 204,
                    ..Default::default()
                }
            }
            ("GET", "requests") => {
                let since: u64 = t.param("since").and_then(|v| v.parse().ok()).unwrap_or(0);
                let v: Vec<&LogEntry> = self.log.iter().filter(|e| e.seq > since).collect();
                ok(200, &json!({ "value": v }))
            }
            ("GET", "config") => ok(200, &self.config_json()),
            ("POST", "config") => {
                let b: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
                if let Some(n) = b.get("pageSize").and_then(Value::as_u64) {
                    self.cfg.page_size = n.max(1) as usize;
                }
                if let Some(n) = b.get("lroDelayMs").and_then(Value::as_u64) {
                    self.cfg.lro_delay_ms = n;
                }
                if let Some(q) = b.get("graphQuota").and_then(Value::as_bool) {
                    self.cfg.graph_quota = q;
                }
                if let Some(q) = b.get("armQuota").and_then(Value::as_bool) {
                    self.cfg.arm_quota = q;
                }
                ok(200, &self.config_json())
            }
            ("DELETE", "requests") => {
                self.clear_request_log();
                SimResponse {
                    status: 204,
                    ..Default::default()
                }
            }
            _ => error_response(&ArmError::new(
                404,
                "NotFound",
                "Unknown control route. Use /_armsim/faults, /_armsim/requests or /_armsim/config.",
            )),
        }
    }
}

/// 403 in the recorded shapes (error fixtures: aad-pod-identity #788 and #613). The client and object ids are
/// placeholders until part 2 knows the caller.
fn forbidden(linked: bool, method: &str, t: &Target, body: &str) -> ArmError {
    const APP: &str = "aaaaaaaa-0000-4000-8000-00000000a991";
    const OID: &str = "bbbbbbbb-0000-4000-8000-0000000000b1";
    let seg = &t.segments;
    let p = seg.iter().position(|s| s.eq_ignore_ascii_case("providers"));
    let (action, scope) = match p {
        Some(p) if seg.len() > p + 2 => {
            let rest = &seg[p + 1..];
            let mut ty = vec![rest[0].clone()];
            let mut i = 1;
            let mut scope_len = p;
            while i < rest.len() {
                ty.push(rest[i].clone());
                if i + 1 < rest.len() {
                    scope_len = p + 1 + i + 2;
                }
                i += 2;
            }
            let verb = match method {
                "GET" => "read".to_string(),
                "DELETE" => "delete".to_string(),
                "POST" => "action".to_string(),
                _ => "write".to_string(),
            };
            (
                format!("{}/{verb}", ty.join("/")),
                format!("/{}", seg[..scope_len.min(seg.len())].join("/")),
            )
        }
        _ => (
            "Microsoft.Resources/subscriptions/read".to_string(),
            format!(
                "/{}",
                seg.iter().take(2).cloned().collect::<Vec<_>>().join("/")
            ),
        ),
    };
    let ua = serde_json::from_str::<Value>(body).ok().and_then(|b| {
        b["identity"]["userAssignedIdentities"]
            .as_object()?
            .iter()
            .find(|(_, v)| !v.is_null())
            .map(|(k, _)| k.replacen("/resourceGroups/", "/resourcegroups/", 1))
    });
    match ua.filter(|_| linked) {
        Some(ua) => ArmError::new(
            403,
            "LinkedAuthorizationFailed",
            format!(
                "The client '{APP}' with object id '{OID}' has permission to perform action '{action}' on scope '{scope}'; however, it does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '{ua}' or the linked scope(s) are invalid."
            ),
        ),
        None => ArmError::new(
            403,
            "AuthorizationFailed",
            format!(
                "The client '{APP}' with object id '{OID}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
            ),
        ),
    }
}

/// 401 for an expired token, in ARM's public shape (from memory, not a recording).
fn unauthorized(tenant: &str, now: u64) -> ArmError {
    let fmt = |ms: u64| {
        let s = iso8601(ms);
        let h: u32 = s[11..13].parse().unwrap_or(0);
        let (h12, ampm) = match h {
            0 => (12, "AM"),
            1..=11 => (h, "AM"),
            12 => (12, "PM"),
            _ => (h - 12, "PM"),
        };
        let m: u32 = s[5..7].parse().unwrap_or(1);
        let d: u32 = s[8..10].parse().unwrap_or(1);
        format!("{m}/{d}/{} {h12}:{} {ampm}", &s[..4], &s[14..19])
    };
    let mut e = ArmError::new(
        401,
        "ExpiredAuthenticationToken",
        format!(
            "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
            fmt(now.saturating_sub(60_000)),
            fmt(now)
        ),
    );
    e.headers.push((
        "WWW-Authenticate".into(),
        format!(
            "Bearer authorization_uri=\"https://login.windows.net/{tenant}\", error=\"invalid_token\", error_description=\"The access token has expired.\""
        ),
    ));
    e
}
