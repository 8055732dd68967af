//! Long-running operations: start, completion at `lro_delay_ms`, the operation URLs and their status polls.

use super::compute::set_identity;
use super::{Op, OpKind, R, Sim, error_response, ok};
use crate::control::Fault;
use crate::error::ArmError;
use crate::http::{SimResponse, Target};
use crate::identity::IdentityState;
use crate::rng::iso8601;
use serde_json::json;

impl Sim {
    pub(super) fn complete_due(&mut self, now: u64) {
        let due: Vec<String> = self
            .pending_ops
            .iter()
            .filter(|id| self.ops.get(*id).is_some_and(|o| o.end_ms <= now))
            .cloned()
            .collect();
        if due.is_empty() {
            return;
        }
        self.graph_epoch += 1;
        self.pending_ops.retain(|id| !due.contains(id));
        for id in due {
            let Some(op) = self.ops.get_mut(&id) else {
                continue;
            };
            op.done = true;
            let op = op.clone();
            let ok = op.fail.is_none();
            let state = op
                .fail
                .as_ref()
                .map(|f| f.0.as_str())
                .unwrap_or("Succeeded")
                .to_string();
            let state = state.as_str();
            match op.kind {
                OpKind::DeleteExtension => {
                    let parent = op
                        .key
                        .split("/extensions/")
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    if ok {
                        self.res.remove(&op.key);
                    } else if let Some(e) = self.res.get_mut(&op.key) {
                        e.body["properties"]["provisioningState"] = json!("Failed");
                    }
                    if let Some(p) = self.res.get_mut(&parent) {
                        p.busy = None;
                        p.body["properties"]["provisioningState"] = json!(state);
                    }
                }
                _ => {
                    let mut ident = None;
                    if let Some(r) = self.res.get(&op.key) {
                        let mut st = IdentityState::from_json(r.body.get("identity"));
                        for (uid, ids) in st.user.iter_mut() {
                            if ids.is_none() {
                                *ids = self.ua_ids(uid);
                            }
                        }
                        ident = Some(st);
                    }
                    if let Some(r) = self.res.get_mut(&op.key) {
                        r.busy = None;
                        if op.kind != OpKind::Upgrade {
                            r.body["properties"]["provisioningState"] = json!(state);
                        }
                        if let Some(st) = ident {
                            set_identity(&mut r.body, &st);
                        }
                    }
                }
            }
        }
    }

    pub(super) fn start_op(&mut self, key_: &str, kind: OpKind, now: u64) -> (String, String) {
        let name = self.rng.uuid();
        let p = self.rng.uuid();
        let fail = self.take_fail();
        self.ops.insert(
            name.clone(),
            Op {
                name: name.clone(),
                p: p.clone(),
                start_ms: now,
                end_ms: now + self.cfg.lro_delay_ms,
                key: key_.to_string(),
                kind,
                fail,
                done: false,
            },
        );
        self.pending_ops.push(name.clone());
        if let Some(r) = self.res.get_mut(key_) {
            r.busy = Some(name.clone());
        }
        (name, p)
    }

    fn take_fail(&mut self) -> Option<(String, String, String)> {
        let i = self.faults.iter().position(|f| {
            matches!(
                f.fault,
                Fault::FailOperation { .. } | Fault::CancelOperation { .. }
            )
        })?;
        let mut out = None;
        let mut done = false;
        match &mut self.faults[i].fault {
            Fault::FailOperation {
                count,
                code,
                message,
            } => {
                out = Some(("Failed".to_string(), code.clone(), message.clone()));
                *count = count.saturating_sub(1);
                done = *count == 0;
            }
            Fault::CancelOperation { count } => {
                // Not recorded: the error a canceled Compute operation carries.
                out = Some((
                    "Canceled".to_string(),
                    "OperationCanceled".to_string(),
                    "The operation was canceled.".to_string(),
                ));
                *count = count.saturating_sub(1);
                done = *count == 0;
            }
            _ => {}
        }
        if done {
            self.faults.remove(i);
        }
        out
    }

    /// The operation URL in the recorded shape: `{base}/subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/operations/{id}?p=…&api-version=…&t=…&c=…&s=…&h=…`
    /// (the signature parameters are opaque; the recorded ones are ~3.5 KB, these ~1 KB).
    pub(super) fn op_url(
        &mut self,
        sub: &str,
        loc: &str,
        name: &str,
        p: &str,
        monitor: bool,
        now: u64,
    ) -> String {
        let c = self.rng.token(700);
        let s = self.rng.token(200);
        let h = self.rng.token(43);
        format!(
            "{}/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/operations/{name}?p={p}{}&api-version=2024-11-01&t={}&c={c}&s={s}&h={h}",
            self.cfg.base_url,
            if monitor { "&monitor=true" } else { "" },
            now * 10_000 + 621_355_968_000_000_000,
        )
    }

    pub(super) fn op_status(
        &mut self,
        t: &Target,
        sub: &str,
        loc: &str,
        name: &str,
        now: u64,
    ) -> R {
        let op = self
            .ops
            .get(&name.to_ascii_lowercase())
            .or_else(|| self.ops.get(name))
            .cloned();
        // The simulator requires the URL to be used verbatim (its `p` signature must match); what ARM answers to
        // a tampered URL is not recorded.
        let op = op
            .filter(|o| t.param("p") == Some(o.p.as_str()))
            .ok_or_else(|| {
                ArmError::new(
                    404,
                    "NotFound",
                    format!("The operation '{name}' was not found."),
                )
            })?;
        let monitor = t
            .param("monitor")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let status = if !op.done {
            "InProgress"
        } else {
            op.fail
                .as_ref()
                .map(|f| f.0.as_str())
                .unwrap_or("Succeeded")
        };
        if monitor {
            // Location semantics (async-operations doc): 202 while running, then the final answer. The exact final
            // body for Compute actions is not recorded; the simulator answers 200 with no body, or the error.
            return Ok(match status {
                "InProgress" => {
                    let url = self.op_url(sub, loc, &op.name, &op.p, true, now);
                    SimResponse {
                        status: 202,
                        headers: vec![("Location".into(), url), ("Retry-After".into(), "5".into())],
                        ..Default::default()
                    }
                }
                "Succeeded" => SimResponse {
                    status: 200,
                    ..Default::default()
                },
                _ => {
                    let (_, c, m) = op.fail.clone().unwrap_or_default();
                    error_response(&ArmError::new(500, &c, m))
                }
            });
        }
        let mut b = json!({"startTime": iso8601(op.start_ms), "status": status, "name": op.name});
        if op.done {
            b["endTime"] = json!(iso8601(op.end_ms));
        }
        if let Some((_, c, m)) = op.fail.as_ref().filter(|_| op.done) {
            b["error"] = json!({"code": c, "message": m});
        }
        Ok(ok(200, &b))
    }
}
