//! # Flows: the one way a change is applied
//!
//! One async function per kind of change, outside any UI: each takes its plan (or what it is
//! planned from) and a client, tells its progress as typed [`Event`]s, and ends in a typed
//! [`Outcome`]. A page only starts a flow, renders its events and renders its outcome.
//!
//! | flow | what it sends |
//! |---|---|
//! | [`change_identity`] / [`apply_change`] | an identity PATCH (the wizards) |
//! | [`remove_legacy_extension`] | DELETE of the retired extension (+ `manualupgrade`) |
//! | [`create_identity`] | PUT of a user-assigned identity, `If-None-Match: *` |
//! | [`create_reviewed`] ([`create_scale_set`], [`create_vm`]) | the new identity first (when asked), then the scale set's or VM's PUT |
//! | [`grant_role`] | a role assignment's PUT, waiting out `PrincipalNotFound` |
//! | [`delete_created`] | DELETE of what a failed create left behind |
//!
//! Every flow gives the same guarantees:
//! - **412** on a change: the resource is read again and re-planned with the user's choice kept
//!   ([`Outcome::ConflictReplanned`]); on a create (`If-None-Match: *`): the resource exists
//!   ([`Outcome::Exists`], so the page can offer to use it).
//! - **409** and every other refusal: [`Outcome::Failed`] with one classification
//!   ([`Class`]) and its hint ([`ArmError::hint`]).
//! - **429**: the client's retry layer waits `Retry-After` within its budget; a longer wait is
//!   waited here, visibly ([`Event::Waiting`] with [`Wait::Throttled`], one event a second).
//! - **A dropped connection** is resumed (by reading the resource until its operation ends) only
//!   after ARM acknowledged the write (a 2xx was read); without that acknowledgement nothing is
//!   claimed: [`Outcome::NotSent`] (the page offers "Try again", which reads again first).
//! - **401**: the client asks its token source for a fresh token once and tries again.
//! - **Read-only**: the client refuses every write while its [`crate::WriteAccess`] is off, so a
//!   flow started (or waiting) when the session goes read-only sends nothing more: `NotSent`.

use crate::client::ArmClient;
use crate::error::{ArmError, Class, ErrorKind};
use crate::http::{HttpResponse, Method};
use crate::identity::read_state;
use crate::lro::{LroOutcome, Progress};
use crate::ops;
use identity_core::create::{
    RoleAssignmentSpec, UserAssignedIdentitySpec, VmSpec, create_user_assigned_identity,
    role_assignment,
};
use identity_core::create_wizard::CreateReview;
use identity_core::{ArmRequest, IdentityState, Operation, Outcome as PlanOutcome, Plan};
use identity_core::{ResourceId, ResourceState, plan};

/// Waits for throttling done by a flow (beyond the client's own retries), at most this many.
pub const THROTTLE_WAITS: u32 = 3;
/// The longest throttling wait a flow sits through (longer: [`Outcome::Failed`]).
pub const MAX_THROTTLE_WAIT_MS: u64 = 5 * 60_000;
/// The wait when a 429 tells no `Retry-After`.
pub const DEFAULT_THROTTLE_WAIT_MS: u64 = 5_000;
/// Seconds between `PrincipalNotFound` retries of a role assignment.
pub const PRINCIPAL_RETRY_S: u64 = 10;
/// Attempts in all for a role assignment while its principal replicates.
pub const PRINCIPAL_ATTEMPTS: u32 = 30;

/// Why a flow waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// 429: Azure's `Retry-After` (or a default when none was readable).
    Throttled,
    /// A new principal is not yet known to role assignments.
    PrincipalNotFound,
}

/// What a flow tells along the way.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A request of `step` is being sent.
    Sending { step: String },
    /// The operation's state as last seen.
    Progress {
        step: String,
        state: String,
        elapsed_ms: u64,
    },
    /// Waiting before trying again: `seconds_left` counts down, one event a second.
    Waiting {
        step: String,
        why: Wait,
        seconds_left: u64,
        /// The attempt that failed (1 = the first).
        attempt: u32,
        /// Attempts in all.
        attempts: u32,
    },
    /// The connection dropped after ARM acknowledged the write: the resource is read until its
    /// operation ends.
    Resuming { step: String },
}

/// Why a flow ended without its change.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// What was being done ("Creating identity id-x").
    pub step: String,
    /// The error as read.
    pub error: ArmError,
    /// Its classification (the same for every page).
    pub class: Class,
    /// What to do, for the user.
    pub hint: Option<String>,
    /// Resources this flow created before it failed (ids): the page offers to delete or keep them.
    pub created: Vec<String>,
}

impl Failure {
    fn new(step: &str, error: ArmError, created: Vec<String>) -> Self {
        Failure {
            step: step.to_string(),
            class: error.class(),
            hint: error.hint(),
            error,
            created,
        }
    }
}

/// A 412 on a change: the state read again and the plan made again from the same choice.
#[derive(Debug, Clone, PartialEq)]
pub struct Replanned {
    /// The resource as read after the 412.
    pub state: ResourceState,
    /// The user's choice planned against it.
    pub plan: Plan,
    /// The 412 itself.
    pub error: ArmError,
}

/// How a flow ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// Done; `T` holds what was read back.
    Applied(T),
    /// Nothing to send, and why.
    Noop(String),
    /// Not possible, and why (nothing sent).
    Refused(String),
    /// 412: someone else changed the resource; read again and re-planned, nothing applied.
    ConflictReplanned(Box<Replanned>),
    /// A create met an existing resource (`If-None-Match: *` answered 412): nothing replaced.
    /// `created` lists what this flow had created before.
    Exists { id: String, created: Vec<String> },
    /// ARM refused or the operation failed.
    Failed(Failure),
    /// Nothing reached ARM, or ARM did not acknowledge it (read-only session, dropped connection
    /// before any answer, a link to another host, no token): nothing is claimed. Try again.
    NotSent(Failure),
}

/// What an identity change (or extension removal) applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Changed {
    /// The identities before.
    pub before: IdentityState,
    /// The resource read back at the end.
    pub after: Option<ResourceState>,
    /// The connection dropped after the write was acknowledged and the flow resumed.
    pub resumed: bool,
    /// Time spent in the operations.
    pub elapsed_ms: u64,
    /// The HTTP status ARM answered the last write with (200, 201, 202: its acknowledgement, also when the
    /// connection dropped afterwards).
    pub write_status: Option<u16>,
}

/// A created resource read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    /// Its id.
    pub id: String,
    /// Its body as read back (a user-assigned identity: `properties.principalId`, `clientId`).
    pub body: serde_json::Value,
}

/// A created scale set or VM read back.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedResource {
    /// Its id.
    pub id: String,
    /// The scale set or VM read back.
    pub state: ResourceState,
    /// Every resource created (the new identity first, then the scale set or VM).
    pub created: Vec<String>,
    /// Time spent in the operations.
    pub elapsed_ms: u64,
}

/// A created scale set read back (the name the scale-set flow has always used).
pub type CreatedScaleSet = CreatedResource;

type Events<'a> = &'a mut dyn FnMut(&Event);

/// A request's end: the operation followed, or why not and whether ARM had acknowledged it.
struct Sent {
    outcome: LroOutcome,
    resumed: bool,
    /// The write's own answer (before the operation was followed).
    status: u16,
}

struct NotDone {
    error: ArmError,
    /// ARM answered 2xx to the write (it may be applied).
    acknowledged: bool,
}

/// The resource a request acts on, read to resume: the request's path, or for an action
/// (`POST …/manualupgrade`) the resource it is on.
fn resume_target(req: &ArmRequest) -> String {
    match req.method {
        Method::Post => req
            .path
            .rsplit_once('/')
            .map(|(p, _)| p.to_string())
            .unwrap_or_else(|| req.path.clone()),
        _ => req.path.clone(),
    }
}

/// Countdown of `ms` in whole seconds, stopping early (with `false`) when the session turns
/// read-only.
async fn countdown(
    client: &ArmClient,
    ms: u64,
    ev: Events<'_>,
    make: &dyn Fn(u64) -> Event,
) -> bool {
    let mut left = ms;
    while left > 0 {
        if !client.write_access().allowed() {
            return false;
        }
        ev(&make(left.div_ceil(1000)));
        let step = left.min(1000);
        client.clock().sleep(step).await;
        left -= step;
    }
    client.write_access().allowed()
}

/// Send one request of a plan and follow its operation to the end: throttling waited out,
/// a dropped connection after an acknowledged write resumed.
async fn run_request(
    client: &ArmClient,
    req: &ArmRequest,
    step: &str,
    ev: Events<'_>,
) -> Result<Sent, NotDone> {
    let req = ops::from_plan(req.clone()).map_err(|error| NotDone {
        error,
        acknowledged: false,
    })?;
    let mut waits = 0;
    let (initial, started): (HttpResponse, u64) = loop {
        ev(&Event::Sending {
            step: step.to_string(),
        });
        let started = client.clock().now_ms();
        match client.send(&req).await {
            Ok(r) => break (r, started),
            Err(e) if e.class() == Class::Throttled && waits < THROTTLE_WAITS => {
                let wait = e.retry_after_ms.unwrap_or(DEFAULT_THROTTLE_WAIT_MS);
                if wait > MAX_THROTTLE_WAIT_MS {
                    return Err(NotDone {
                        error: e,
                        acknowledged: false,
                    });
                }
                waits += 1;
                let s = step.to_string();
                let ok = countdown(client, wait, ev, &|left| Event::Waiting {
                    step: s.clone(),
                    why: Wait::Throttled,
                    seconds_left: left,
                    attempt: waits,
                    attempts: THROTTLE_WAITS + 1,
                })
                .await;
                if !ok {
                    return Err(NotDone {
                        error: read_only_error(&req),
                        acknowledged: false,
                    });
                }
            }
            Err(error) => {
                return Err(NotDone {
                    error,
                    acknowledged: false,
                });
            }
        }
    };
    let progress_of = |p: &Progress| Event::Progress {
        step: step.to_string(),
        state: p.state.clone(),
        elapsed_ms: p.elapsed_ms,
    };
    let status = initial.status;
    let followed = client
        .follow(&req, initial, started, &mut |p| ev(&progress_of(p)))
        .await;
    match followed {
        Ok(outcome) => Ok(Sent {
            outcome,
            resumed: false,
            status,
        }),
        Err(e) if e.kind == ErrorKind::Network => {
            // the write was acknowledged (2xx): follow the resource instead of the lost poll
            ev(&Event::Resuming {
                step: step.to_string(),
            });
            let target = resume_target(&req);
            let resumed = match (req.method, ops::get_resource(&target)) {
                (_, Err(error)) => Err(error),
                (Method::Delete, Ok(get)) => {
                    // a deletion: poll until the resource is gone
                    let gone = HttpResponse {
                        status: 202,
                        ..Default::default()
                    };
                    let del = ArmRequest {
                        method: Method::Delete,
                        ..get
                    };
                    client
                        .follow(&del, gone, started, &mut |p| ev(&progress_of(p)))
                        .await
                }
                (_, Ok(get)) => {
                    client
                        .wait_for_resource(&get, &mut |p| ev(&progress_of(p)))
                        .await
                }
            };
            resumed
                .map(|outcome| Sent {
                    outcome,
                    resumed: true,
                    status,
                })
                .map_err(|error| NotDone {
                    error,
                    acknowledged: true,
                })
        }
        Err(error) => Err(NotDone {
            error,
            acknowledged: true,
        }),
    }
}

fn read_only_error(req: &ArmRequest) -> ArmError {
    let mut e = ArmError::new(
        ErrorKind::ReadOnly,
        "the session was switched to read-only while waiting: nothing more was sent",
    );
    e.method = req.method.as_str().to_string();
    e.url = req.path.clone();
    e
}

/// The outcome for an error that ended a step: `NotSent` when ARM never acknowledged anything
/// of this flow and the error is one where nothing reached ARM, else `Failed`.
fn ended<T>(step: &str, nd: NotDone, created: Vec<String>) -> Outcome<T> {
    let unsent = !nd.acknowledged
        && created.is_empty()
        && matches!(
            nd.error.kind,
            ErrorKind::ReadOnly
                | ErrorKind::Network
                | ErrorKind::ForeignOrigin
                | ErrorKind::Credential
                | ErrorKind::InvalidRequest
        );
    let f = Failure::new(step, nd.error, created);
    if unsent {
        Outcome::NotSent(f)
    } else {
        Outcome::Failed(f)
    }
}

fn is_412(e: &ArmError) -> bool {
    matches!(e.class(), Class::Changed | Class::LostAnswer)
}

/// Apply a change planned from `state`: send `plan`'s requests in order, following each
/// operation; on a 412 read the resource again and make the plan again with `replan` (the
/// user's choice kept). Ends with the resource read back.
pub async fn apply_change(
    client: &ArmClient,
    state: &ResourceState,
    plan: &Plan,
    replan: &dyn Fn(&ResourceState) -> Plan,
    ev: Events<'_>,
) -> Outcome<Changed> {
    let id = state.id.as_str().to_string();
    match &plan.outcome {
        PlanOutcome::Noop(why) => return Outcome::Noop(why.clone()),
        PlanOutcome::Refused(why) => return Outcome::Refused(why.clone()),
        PlanOutcome::Requests(_) => {}
    }
    let step = format!("Changing {}", state.id.name());
    let mut acknowledged = false;
    let mut resumed = false;
    let mut elapsed_ms = 0;
    let mut last: Option<LroOutcome> = None;
    let mut write_status = None;
    for req in plan.requests() {
        match run_request(client, req, &step, ev).await {
            Ok(sent) => {
                acknowledged = true;
                write_status = Some(sent.status);
                resumed |= sent.resumed;
                elapsed_ms += sent.outcome.elapsed_ms;
                last = Some(sent.outcome);
            }
            Err(nd) if is_412(&nd.error) => {
                return match read_state(client, &id).await {
                    Ok(st) => {
                        let plan = replan(&st);
                        Outcome::ConflictReplanned(Box::new(Replanned {
                            state: st,
                            plan,
                            error: nd.error,
                        }))
                    }
                    Err(e) => {
                        Outcome::Failed(Failure::new("Reading the resource again", e, vec![]))
                    }
                };
            }
            Err(mut nd) => {
                nd.acknowledged |= acknowledged;
                return ended(&step, nd, vec![]);
            }
        }
    }
    // the read-back: the last operation's resource when it is this one, else one GET
    let from_last = last
        .as_ref()
        .filter(|o| o.response.status == 200)
        .and_then(|o| o.response.body_json().ok())
        .filter(|b| {
            b.get("id")
                .and_then(|x| x.as_str())
                .is_some_and(|x| x.eq_ignore_ascii_case(&id))
        })
        .and_then(|b| ResourceState::from_arm(&b, Some(&id)).ok());
    let after = match from_last {
        Some(st) => Some(st),
        None => read_state(client, &id).await.ok(),
    };
    Outcome::Applied(Changed {
        before: plan.before.clone(),
        after,
        resumed,
        elapsed_ms,
        write_status,
    })
}

/// The identity change of a wizard: `op` planned against `state` (the state the user reviewed),
/// applied by [`apply_change`] (re-planned from `op` after a 412).
pub async fn change_identity(
    client: &ArmClient,
    state: &ResourceState,
    op: &Operation,
    ev: Events<'_>,
) -> Outcome<Changed> {
    let p = plan(state, op);
    apply_change(client, state, &p, &|st| plan(st, op), ev).await
}

/// Remove the retired managed-identity extension (+ `manualupgrade` on a Manual scale set when
/// `upgrade_instances`).
pub async fn remove_legacy_extension(
    client: &ArmClient,
    state: &ResourceState,
    upgrade_instances: bool,
    ev: Events<'_>,
) -> Outcome<Changed> {
    change_identity(
        client,
        state,
        &Operation::RemoveLegacyExtension { upgrade_instances },
        ev,
    )
    .await
}

/// A plan whose creating PUTs carry `If-None-Match: *` (an existing resource is never
/// replaced): every PUT without `If-Match` or `If-None-Match` gets it. The pages show this
/// plan's requests, the flows send them.
///
/// ```
/// use identity_core::create::{create_user_assigned_identity, UserAssignedIdentitySpec};
/// let p = arm_client::flow::guard_creates(create_user_assigned_identity(&UserAssignedIdentitySpec {
///     subscription: "00000000-0000-0000-0000-000000000000".into(), resource_group: "rg".into(),
///     name: "id1".into(), location: "westeurope".into() }));
/// assert_eq!(p.requests()[0].header("If-None-Match"), Some("*"));
/// ```
pub fn guard_creates(mut plan: Plan) -> Plan {
    if let PlanOutcome::Requests(reqs) = &mut plan.outcome {
        for r in reqs.iter_mut() {
            if r.method == Method::Put
                && r.header("If-Match").is_none()
                && r.header("If-None-Match").is_none()
            {
                r.headers.push(("If-None-Match".into(), "*".into()));
            }
        }
    }
    plan
}

/// The plan [`create_identity`] sends for `spec`.
pub fn identity_plan(spec: &UserAssignedIdentitySpec) -> Plan {
    guard_creates(create_user_assigned_identity(spec))
}

/// Send a create plan (one PUT): `Exists` on a 412 (`If-None-Match: *`).
async fn create_one(
    client: &ArmClient,
    plan: &Plan,
    id: &str,
    step: &str,
    created: &[String],
    ev: Events<'_>,
) -> Result<(Created, u64), Outcome<()>> {
    let plan = guard_creates(plan.clone());
    match &plan.outcome {
        PlanOutcome::Noop(why) => return Err(Outcome::Noop(why.clone())),
        PlanOutcome::Refused(why) => return Err(Outcome::Refused(why.clone())),
        PlanOutcome::Requests(_) => {}
    }
    let mut last = None;
    let mut elapsed = 0;
    for req in plan.requests() {
        match run_request(client, req, step, ev).await {
            Ok(sent) => {
                elapsed += sent.outcome.elapsed_ms;
                last = Some(sent.outcome);
            }
            Err(nd) if nd.error.status == Some(412) && !nd.acknowledged => {
                return Err(Outcome::Exists {
                    id: id.to_string(),
                    created: created.to_vec(),
                });
            }
            Err(nd) => return Err(ended(step, nd, created.to_vec())),
        }
    }
    let body = last
        .and_then(|o| o.response.body_json().ok())
        .filter(|b| b.get("id").is_some());
    let body = match body {
        Some(b) => b,
        None => {
            // no body readable: read it
            match ops::get_resource(id) {
                Ok(get) => client.send_json(&get).await.unwrap_or_default(),
                Err(_) => serde_json::Value::Null,
            }
        }
    };
    Ok((
        Created {
            id: id.to_string(),
            body,
        },
        elapsed,
    ))
}

fn recast<A, B>(o: Outcome<A>) -> Outcome<B> {
    match o {
        Outcome::Applied(_) => unreachable!("only endings are recast"),
        Outcome::Noop(w) => Outcome::Noop(w),
        Outcome::Refused(w) => Outcome::Refused(w),
        Outcome::ConflictReplanned(r) => Outcome::ConflictReplanned(r),
        Outcome::Exists { id, created } => Outcome::Exists { id, created },
        Outcome::Failed(f) => Outcome::Failed(f),
        Outcome::NotSent(f) => Outcome::NotSent(f),
    }
}

/// Create a user-assigned identity (PUT with `If-None-Match: *`); `Exists` when one of that
/// name is there already (the page offers to use it instead).
pub async fn create_identity(
    client: &ArmClient,
    spec: &UserAssignedIdentitySpec,
    ev: Events<'_>,
) -> Outcome<Created> {
    let id =
        ResourceId::user_assigned_identity(&spec.subscription, &spec.resource_group, &spec.name)
            .as_str()
            .to_string();
    let step = format!("Creating identity {}", spec.name);
    match create_one(client, &identity_plan(spec), &id, &step, &[], ev).await {
        Ok((c, _)) => Outcome::Applied(c),
        Err(o) => recast(o),
    }
}

/// Create what the create wizard reviewed: the VM when its target is a VM
/// ([`CreateReview::vm`]), else the scale set. The pages call this one.
pub async fn create_reviewed(
    client: &ArmClient,
    review: &CreateReview,
    ev: Events<'_>,
) -> Outcome<CreatedResource> {
    match &review.vm {
        Some(vm) => create_vm(client, review.identity.as_ref(), vm, ev).await,
        None => create_scale_set(client, review, ev).await,
    }
}

/// Create a scale set as reviewed: the new user-assigned identity first (when asked), then the
/// scale set (`If-None-Match: *`), read back at the end. A failure after the identity was
/// created lists it in [`Failure::created`] / [`Outcome::Exists`]'s `created`.
pub async fn create_scale_set(
    client: &ArmClient,
    review: &CreateReview,
    ev: Events<'_>,
) -> Outcome<CreatedScaleSet> {
    if let Some(why) = identity_refusal(review.identity.as_ref())
        .or_else(|| review.scale_set.1.refusal().map(str::to_string))
    {
        return Outcome::Refused(why);
    }
    let (spec, plan) = &review.scale_set;
    let target = Target {
        noun: "scale set",
        name: &spec.name,
        id: spec.id().as_str().to_string(),
        plan,
    };
    create_with_identity(client, review.identity.as_ref(), target, ev).await
}

/// Create a VM as reviewed, the same way as [`create_scale_set`]: the new user-assigned
/// identity first (when asked), then the VM's PUT (`If-None-Match: *`; its NIC comes from
/// `networkInterfaceConfigurations`), read back at the end. `Exists` on a 412; a failure after
/// the identity was created lists it in [`Failure::created`].
pub async fn create_vm(
    client: &ArmClient,
    identity: Option<&(UserAssignedIdentitySpec, Plan)>,
    vm: &(VmSpec, Plan),
    ev: Events<'_>,
) -> Outcome<CreatedResource> {
    let (spec, plan) = vm;
    if let Some(why) = identity_refusal(identity).or_else(|| plan.refusal().map(str::to_string)) {
        return Outcome::Refused(why);
    }
    let target = Target {
        noun: "VM",
        name: &spec.name,
        id: spec.id().as_str().to_string(),
        plan,
    };
    create_with_identity(client, identity, target, ev).await
}

fn identity_refusal(identity: Option<&(UserAssignedIdentitySpec, Plan)>) -> Option<String> {
    identity.and_then(|(_, p)| p.refusal().map(str::to_string))
}

/// What a create makes after its identity.
struct Target<'a> {
    /// `scale set`, `VM`: the step reads "Creating {noun} {name}".
    noun: &'static str,
    name: &'a str,
    id: String,
    plan: &'a Plan,
}

/// The one create sequence: the new identity (if any), the resource, the read-back.
async fn create_with_identity(
    client: &ArmClient,
    identity: Option<&(UserAssignedIdentitySpec, Plan)>,
    target: Target<'_>,
    ev: Events<'_>,
) -> Outcome<CreatedResource> {
    let mut created = Vec::new();
    let mut elapsed_ms = 0;
    if let Some((ispec, iplan)) = identity {
        let id = ResourceId::user_assigned_identity(
            &ispec.subscription,
            &ispec.resource_group,
            &ispec.name,
        )
        .as_str()
        .to_string();
        let step = format!("Creating identity {}", ispec.name);
        match create_one(client, iplan, &id, &step, &created, ev).await {
            Ok((c, ms)) => {
                created.push(c.id);
                elapsed_ms += ms;
            }
            Err(o) => return recast(o),
        }
    }
    let id = target.id;
    let step = format!("Creating {} {}", target.noun, target.name);
    match create_one(client, target.plan, &id, &step, &created, ev).await {
        Ok((_, ms)) => elapsed_ms += ms,
        Err(o) => return recast(o),
    }
    created.push(id.clone());
    match read_state(client, &id).await {
        Ok(state) => Outcome::Applied(CreatedResource {
            id,
            state,
            created,
            elapsed_ms,
        }),
        Err(e) => Outcome::Failed(Failure::new(
            &format!("Reading the new {}", target.noun),
            e,
            created,
        )),
    }
}

/// Grant a role to a principal (PUT of the role assignment). While the principal replicates
/// Azure answers `PrincipalNotFound`: the flow waits [`PRINCIPAL_RETRY_S`] seconds (counting
/// down in [`Event::Waiting`]) and tries again, [`PRINCIPAL_ATTEMPTS`] times in all, and stops
/// (`NotSent`) when the session turns read-only. Applied with the assignment's id.
pub async fn grant_role(
    client: &ArmClient,
    spec: &RoleAssignmentSpec,
    ev: Events<'_>,
) -> Outcome<String> {
    let p = role_assignment(spec);
    match &p.outcome {
        PlanOutcome::Noop(why) => return Outcome::Noop(why.clone()),
        PlanOutcome::Refused(why) => return Outcome::Refused(why.clone()),
        PlanOutcome::Requests(_) => {}
    }
    let step = "Assigning the role".to_string();
    let Some(req) = p.requests().first() else {
        return Outcome::Noop("nothing to send".into());
    };
    for attempt in 1..=PRINCIPAL_ATTEMPTS {
        match run_request(client, req, &step, ev).await {
            Ok(_) => return Outcome::Applied(req.path.clone()),
            Err(nd)
                if nd.error.class() == Class::PrincipalNotFound && attempt < PRINCIPAL_ATTEMPTS =>
            {
                let s = step.clone();
                let ok = countdown(client, PRINCIPAL_RETRY_S * 1000, ev, &|left| {
                    Event::Waiting {
                        step: s.clone(),
                        why: Wait::PrincipalNotFound,
                        seconds_left: left,
                        attempt,
                        attempts: PRINCIPAL_ATTEMPTS,
                    }
                })
                .await;
                if !ok {
                    return Outcome::NotSent(Failure::new(&step, read_only_error(req), vec![]));
                }
            }
            Err(nd) => return ended(&step, nd, vec![]),
        }
    }
    unreachable!("the last attempt returns")
}

/// Delete a resource a failed create left behind (the user chose "Delete it").
pub async fn delete_created(client: &ArmClient, id: &str, ev: Events<'_>) -> Outcome<()> {
    let step = format!("Deleting {}", id.rsplit('/').next().unwrap_or(id));
    let req = match ops::get_resource(id) {
        Ok(get) => ArmRequest {
            method: Method::Delete,
            ..get
        },
        Err(e) => return Outcome::NotSent(Failure::new(&step, e, vec![])),
    };
    match run_request(client, &req, &step, ev).await {
        Ok(_) => Outcome::Applied(()),
        Err(nd) => ended(&step, nd, vec![]),
    }
}
