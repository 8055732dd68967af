//! Identity building blocks: read the resource (one GET), plan with identity-core, send the
//! plan's request(s) and follow each operation to its end. The app applies changes through
//! [`crate::flow`], which adds the guarantees every change gets (412 re-plan, waits, resume only
//! after an acknowledged write, typed outcomes).

use crate::client::ArmClient;
use crate::error::{ArmError, ErrorKind};
use crate::lro::{LroOutcome, Progress};
use crate::ops;
use identity_core::{Operation, Plan, ResourceState, plan};

/// Read a scale set or VM and parse its identity state. When the body has no `etag`
/// but the `ETag` header is readable, the header's value is used.
pub async fn read_state(client: &ArmClient, id: &str) -> Result<ResourceState, ArmError> {
    let req = ops::get_resource(id)?;
    let url = client.url_of(&req);
    let resp = client.send(&req).await?;
    state_from_response(&resp, id).map_err(|e| e.at("GET", &url))
}

fn state_from_response(resp: &crate::HttpResponse, id: &str) -> Result<ResourceState, ArmError> {
    let body = resp
        .body_json()
        .map_err(|e| ArmError::new(ErrorKind::Decode, format!("resource body: {e}")))?;
    let mut st = ResourceState::from_arm(&body, Some(id))
        .map_err(|e| ArmError::new(ErrorKind::Decode, e.to_string()))?;
    if st.etag.is_none() {
        st.etag = resp.header("etag").map(str::to_string);
    }
    Ok(st)
}

/// What [`change_identity`] did.
#[derive(Debug, Clone)]
pub struct Change {
    /// The state read before planning.
    pub before: ResourceState,
    /// The plan (a no-op or refusal sends nothing).
    pub plan: Plan,
    /// One outcome per request sent.
    pub outcomes: Vec<LroOutcome>,
    /// The state read back at the end (from the last operation's final response),
    /// when it is the resource.
    pub after: Option<ResourceState>,
}

/// Send every request of `plan` in order, following each long-running operation.
pub async fn apply(
    client: &ArmClient,
    plan: &Plan,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Vec<LroOutcome>, ArmError> {
    let mut out = Vec::new();
    for req in plan.requests() {
        let req = ops::from_plan(req.clone())?;
        out.push(client.execute(&req, progress).await?);
    }
    Ok(out)
}

/// GET, plan, PATCH (with `If-Match` from the GET), poll to the end.
///
/// A 412 comes back as an [`ArmError`] with `status == Some(412)`: the caller re-reads
/// and re-plans with the user's choice kept.
pub async fn change_identity(
    client: &ArmClient,
    id: &str,
    op: &Operation,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Change, ArmError> {
    let before = read_state(client, id).await?;
    let p = plan(&before, op);
    let outcomes = apply(client, &p, progress).await?;
    let after = outcomes
        .last()
        .filter(|o| o.response.status == 200)
        .and_then(|o| state_from_response(&o.response, id).ok());
    Ok(Change {
        before,
        plan: p,
        outcomes,
        after,
    })
}
