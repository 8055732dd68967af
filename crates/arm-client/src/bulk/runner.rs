//! The identity change as a bulk runner: per item, GET, identity-core's lossless plan, the plan's PATCH with
//! `If-Match` (tagged with a correlation id of its own, which ARM echoes), the operation followed to its end.

use super::{ItemCtx, ItemResult, ItemRunner, Outcome};
use crate::client::ArmClient;
use crate::http::LocalBoxFuture;
use identity_core::{Operation, plan};

/// Runs one [`Operation`] on each item.
pub struct IdentityRunner {
    client: ArmClient,
    op: Operation,
}

impl IdentityRunner {
    pub fn new(client: ArmClient, op: Operation) -> Self {
        IdentityRunner { client, op }
    }
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A correlation id (GUID shape) for one write of one item.
fn correlation_id(item: &str, attempt: u32, now: u64) -> String {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in item.bytes() {
        h = (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x100_0000_01b3);
    }
    let x = mix(h ^ u64::from(attempt));
    let y = mix(x ^ now);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (x >> 32) as u32,
        (x >> 16) & 0xffff,
        x & 0xfff,
        (y >> 48) & 0xfff,
        y & 0xffff_ffff_ffff
    )
}

impl ItemRunner for IdentityRunner {
    fn run<'a>(&'a self, item: String, ctx: ItemCtx) -> LocalBoxFuture<'a, ItemResult> {
        Box::pin(async move {
            let failed = |e: crate::ArmError| {
                let outcome = if e.status == Some(412) {
                    Outcome::Conflict
                } else {
                    Outcome::Failed
                };
                ItemResult {
                    outcome,
                    status: e.status,
                    correlation_id: e.correlation_id.clone(),
                    message: Some(e.to_string()),
                }
            };
            // always a fresh read: the plan is made from it, never from the list the batch started with
            let before = match crate::identity::read_state(&self.client, &item).await {
                Ok(s) => s,
                Err(e) => return failed(e),
            };
            let mut p = plan(&before, &self.op);
            if let Some(r) = p.noop_reason() {
                return ItemResult {
                    message: Some(r.to_string()),
                    ..ItemResult::of(Outcome::NoOp)
                };
            }
            if let Some(r) = p.refusal() {
                return ItemResult {
                    message: Some(r.to_string()),
                    ..ItemResult::of(Outcome::Refused)
                };
            }
            let corr = correlation_id(
                &item,
                ctx.attempt,
                crate::Clock::now_ms(self.client.clock()),
            );
            if let identity_core::plan::Outcome::Requests(reqs) = &mut p.outcome {
                for r in reqs.iter_mut() {
                    r.headers
                        .push(("x-ms-correlation-request-id".into(), corr.clone()));
                }
            }
            match crate::identity::apply(&self.client, &p, &mut |_| {}).await {
                Ok(outs) => {
                    let last = outs.last();
                    let ok = outs
                        .iter()
                        .all(|o| o.state.eq_ignore_ascii_case("Succeeded"));
                    ItemResult {
                        outcome: if ok { Outcome::Applied } else { Outcome::Failed },
                        status: last.map(|o| o.response.status),
                        correlation_id: Some(corr),
                        message: (!ok).then(|| {
                            format!(
                                "The operation ended {}; open the resource and check its identities.",
                                last.map(|o| o.state.as_str()).unwrap_or("without an answer")
                            )
                        }),
                    }
                }
                Err(e) => {
                    let mut r = failed(e);
                    r.correlation_id = r.correlation_id.or(Some(corr));
                    r
                }
            }
        })
    }
}
