//! The identity change as a bulk runner, on [`crate::flow`] (the one tested way a change is applied): per item a
//! fresh GET, identity-core's lossless plan, [`flow::apply_change`] (the plan's PATCH or the legacy extension's
//! DELETE with `If-Match`, tagged with a correlation id of its own, which ARM echoes; the operation followed to its
//! end; 429s waited out), and for [`BulkOp::EnableSystemAssigned`] with a grant, [`flow::grant_role`] for the
//! principal read back. Flow outcomes map to bulk [`Outcome`]s: `Applied` → Applied, `Noop` → NoOp, `Refused` →
//! Refused, `ConflictReplanned` (412) → Conflict (the scheduler runs the item again, from a fresh read), a write
//! refused because the session is read-only → ReadOnly (the item stays pending, the batch pauses), other `Failed` /
//! `NotSent` → Failed with the error's class and hint.

use super::{ItemCtx, ItemResult, ItemRunner, Outcome};
use crate::client::ArmClient;
use crate::error::{ArmError, Class};
use crate::flow::{self, Outcome as FlowOutcome};
use crate::http::LocalBoxFuture;
use identity_core::bulk::{BulkOp, RoleGrant};
use identity_core::{Operation, plan};

/// Runs one operation on each item: an identity-core [`Operation`] ([`IdentityRunner::new`]) or a [`BulkOp`]
/// with its per-item role grant ([`IdentityRunner::for_op`]).
pub struct IdentityRunner {
    /// Shared with the caller's other uses (the app's one client per session).
    client: std::rc::Rc<ArmClient>,
    op: Operation,
    /// Granted to each item's system-assigned principal after its change.
    grant: Option<RoleGrant>,
}

impl IdentityRunner {
    /// Plans `op` on each item.
    pub fn new(client: impl Into<std::rc::Rc<ArmClient>>, op: Operation) -> Self {
        IdentityRunner {
            client: client.into(),
            op,
            grant: None,
        }
    }

    /// Runs a bulk operation on each item. A grant of [`BulkOp::AssignUserAssigned`] is not made here: call
    /// [`grant_before_batch`] once before the batch.
    pub fn for_op(client: impl Into<std::rc::Rc<ArmClient>>, op: &BulkOp) -> Self {
        IdentityRunner {
            client: client.into(),
            op: op.operation(),
            grant: if op.grants_per_item() {
                op.grant().cloned()
            } else {
                None
            },
        }
    }

    /// The client it sends with.
    pub fn client(&self) -> &ArmClient {
        &self.client
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

/// The name of a [`Class`] in a report (`Throttled`, `Changed`, …).
pub fn class_name(c: Class) -> String {
    format!("{c:?}")
}

fn failed_with(f: &flow::Failure, corr: Option<&str>, prefix: &str) -> ItemResult {
    let outcome = if f.error.status == Some(412) && f.class == Class::Changed {
        Outcome::Conflict
    } else if f.class == Class::ReadOnly {
        Outcome::ReadOnly
    } else {
        Outcome::Failed
    };
    ItemResult {
        outcome,
        status: f.error.status,
        correlation_id: f
            .error
            .correlation_id
            .clone()
            .or_else(|| corr.map(str::to_string)),
        message: Some(format!("{prefix}{}: {}", f.step, f.error)),
        class: Some(class_name(f.class)),
        hint: f.hint.clone(),
    }
}

fn read_failed(e: ArmError) -> ItemResult {
    ItemResult {
        outcome: if e.status == Some(412) {
            Outcome::Conflict
        } else {
            Outcome::Failed
        },
        status: e.status,
        correlation_id: e.correlation_id.clone(),
        message: Some(format!("Reading the resource: {e}")),
        class: Some(class_name(e.class())),
        hint: e.hint(),
    }
}

/// What a role grant ended in, for an item (or the batch).
enum Granted {
    /// Made (or already there: the derived name existed, or ARM said `RoleAssignmentExists`).
    Yes(String),
    No(ItemResult),
}

async fn grant(client: &ArmClient, g: &RoleGrant, on: &str, principal: &str) -> Granted {
    let spec = match g.spec(on, principal) {
        Ok(s) => s,
        Err(e) => {
            return Granted::No(ItemResult {
                message: Some(format!("The role grant cannot be made: {e}")),
                ..ItemResult::of(Outcome::Failed)
            });
        }
    };
    let what = format!("{} at {}", g.role_label(), spec.scope);
    match flow::grant_role(client, &spec, &mut |_| {}).await {
        FlowOutcome::Applied(id) => Granted::Yes(format!("granted {what} ({id})")),
        // If-None-Match: * on the derived name: an assignment of that very name exists = this grant exists
        FlowOutcome::Failed(f)
            if f.error.status == Some(412) || f.class == Class::AlreadyExists =>
        {
            Granted::Yes(format!("{what} was already granted"))
        }
        FlowOutcome::Noop(w) => Granted::Yes(w),
        FlowOutcome::Refused(w) => Granted::No(ItemResult {
            message: Some(format!("The role grant was refused: {w}")),
            ..ItemResult::of(Outcome::Failed)
        }),
        FlowOutcome::Failed(f) | FlowOutcome::NotSent(f) => {
            let mut r = failed_with(&f, None, "");
            r.outcome = Outcome::Failed;
            Granted::No(r)
        }
        FlowOutcome::ConflictReplanned(_) | FlowOutcome::Exists { .. } => {
            Granted::Yes(format!("{what} was already granted"))
        }
    }
}

/// The grant made once before a batch of [`BulkOp::AssignUserAssigned`] with a grant: reads the identity's
/// principal id (GET of the identity) and grants it the role at the fixed scope ([`flow::grant_role`], waiting
/// out `PrincipalNotFound`). `None` when the operation has no such grant. `Some(Ok(message))` when granted (or
/// already granted); `Some(Err(result))` says why not — then do not start the batch.
pub async fn grant_before_batch(
    client: &ArmClient,
    op: &BulkOp,
) -> Option<Result<String, ItemResult>> {
    let BulkOp::AssignUserAssigned {
        identity,
        grant: Some(g),
    } = op
    else {
        return None;
    };
    if let Err(e) = op.validate() {
        return Some(Err(ItemResult {
            message: Some(e),
            ..ItemResult::of(Outcome::Refused)
        }));
    }
    let get = match crate::ops::get_resource(identity) {
        Ok(g) => g,
        Err(e) => return Some(Err(read_failed(e))),
    };
    let body: serde_json::Value = match client.send_json(&get).await {
        Ok(b) => b,
        Err(e) => return Some(Err(read_failed(e))),
    };
    let principal = body["properties"]["principalId"]
        .as_str()
        .unwrap_or("")
        .to_string();
    if principal.is_empty() {
        return Some(Err(ItemResult {
            message: Some(format!(
                "The identity {identity} has no principal id yet; try again in a minute."
            )),
            ..ItemResult::of(Outcome::Failed)
        }));
    }
    Some(match grant(client, g, identity, &principal).await {
        Granted::Yes(m) => Ok(m),
        Granted::No(r) => Err(r),
    })
}

impl ItemRunner for IdentityRunner {
    fn run<'a>(&'a self, item: String, ctx: ItemCtx) -> LocalBoxFuture<'a, ItemResult> {
        Box::pin(async move {
            // always a fresh read: the plan is made from it, never from the list the batch started with
            let before = match crate::identity::read_state(&self.client, &item).await {
                Ok(s) => s,
                Err(e) => return read_failed(e),
            };
            let mut p = plan(&before, &self.op);
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
            let op = &self.op;
            let out =
                flow::apply_change(&self.client, &before, &p, &|st| plan(st, op), &mut |_| {})
                    .await;
            let changed = match out {
                FlowOutcome::Applied(c) => c,
                FlowOutcome::Noop(why) => {
                    // an item started before (a reload, a 412 re-run) may have been changed without its grant
                    if let (Some(g), true, Some(pid)) = (
                        &self.grant,
                        ctx.rerun,
                        before
                            .identity
                            .principal_id
                            .as_deref()
                            .filter(|p| !p.is_empty()),
                    ) {
                        return match grant(&self.client, g, &item, pid).await {
                            Granted::Yes(m) => ItemResult {
                                message: Some(format!("{why} ({m})")),
                                ..ItemResult::of(Outcome::NoOp)
                            },
                            Granted::No(mut r) => {
                                r.message = Some(format!(
                                    "{why} The role grant failed: {}",
                                    r.message.unwrap_or_default()
                                ));
                                r
                            }
                        };
                    }
                    return ItemResult {
                        message: Some(why),
                        ..ItemResult::of(Outcome::NoOp)
                    };
                }
                FlowOutcome::Refused(why) => {
                    return ItemResult {
                        message: Some(why),
                        ..ItemResult::of(Outcome::Refused)
                    };
                }
                FlowOutcome::ConflictReplanned(r) => {
                    return ItemResult {
                        outcome: Outcome::Conflict,
                        status: r.error.status,
                        correlation_id: r.error.correlation_id.clone().or(Some(corr)),
                        message: Some(format!(
                            "412: the resource changed since it was read ({}); it is read and planned again.",
                            r.error
                        )),
                        class: Some(class_name(r.error.class())),
                        hint: r.error.hint(),
                    };
                }
                FlowOutcome::Failed(f) | FlowOutcome::NotSent(f) => {
                    return failed_with(&f, Some(&corr), "");
                }
                FlowOutcome::Exists { id, .. } => {
                    return ItemResult {
                        message: Some(format!("{id} exists")),
                        ..ItemResult::of(Outcome::Failed)
                    };
                }
            };
            let applied = ItemResult {
                status: changed.write_status,
                correlation_id: Some(corr.clone()),
                message: changed
                    .resumed
                    .then(|| "The connection dropped after Azure acknowledged the change; the resource was read until its operation ended.".to_string()),
                ..ItemResult::of(Outcome::Applied)
            };
            let Some(g) = &self.grant else {
                return applied;
            };
            // the new principal, as read back
            let mut principal = changed
                .after
                .as_ref()
                .and_then(|a| a.identity.principal_id.clone())
                .filter(|p| !p.is_empty());
            if principal.is_none()
                && let Ok(st) = crate::identity::read_state(&self.client, &item).await
            {
                principal = st.identity.principal_id.filter(|p| !p.is_empty());
            }
            let Some(pid) = principal else {
                return ItemResult {
                    outcome: Outcome::Failed,
                    message: Some("The system-assigned identity was enabled, but its principal id was not read back, so the role was not granted: open the resource and grant it there.".into()),
                    ..applied
                };
            };
            match grant(&self.client, g, &item, &pid).await {
                Granted::Yes(m) => ItemResult {
                    message: Some(match applied.message {
                        Some(a) => format!("{a} Then {m}."),
                        None => format!("Enabled; {m}."),
                    }),
                    ..applied
                },
                Granted::No(r) => ItemResult {
                    outcome: Outcome::Failed,
                    status: r.status,
                    correlation_id: r.correlation_id.or(applied.correlation_id),
                    message: Some(format!(
                        "The system-assigned identity was enabled (principal {pid}), but the role grant failed: {}",
                        r.message.unwrap_or_default()
                    )),
                    class: r.class,
                    hint: r.hint,
                },
            }
        })
    }
}
