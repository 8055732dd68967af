//! Bulk changes, the pure part: one [`BulkOp`] for many scale sets and VMs, and its [`Review`] — per item the
//! exact request, or a no-op or a refusal and why — made before anything is sent.
//!
//! The review plans each item from the state the inventory knows (Resource Graph's rows give the identities but
//! no etag), so every change request carries `If-Match: <etag read just before the write>`
//! ([`ETAG_PLACEHOLDER`]): when the batch runs, each item is read again and planned again from that fresh read
//! (`arm_client::bulk`), and that read's etag is sent. The same lossless rules as a single change apply: only
//! `identity` is patched, every identity not named is kept, and a resource whose identity type and map disagree
//! is refused.
//!
//! Role grants:
//! - [`BulkOp::EnableSystemAssigned`] with a grant: each item's **new** principal, after that item's change
//!   succeeded and its principal id was read back. An item whose system-assigned identity was already on is a
//!   no-op and gets no grant — except when the batch had already started that item (a reload or a 412 re-run
//!   before the grant was made), where the grant is made for the principal it has.
//! - [`BulkOp::AssignUserAssigned`] with a grant: the identity's principal, **once, before the batch** (so every
//!   resource that gets the identity can use the access at once; a grant that fails stops the batch before any
//!   resource is changed). Its scope must be [`GrantScope::Fixed`].
//!
//! Role assignment names are derived from (scope, role, principal) ([`assignment_name`]): running the batch
//! again, or resuming it, sends the same name with `If-None-Match: *`, so a grant is never made twice.
//!
//! ```
//! use identity_core::bulk::{BulkOp, review};
//! use identity_core::ResourceState;
//! let ua = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";
//! let op: BulkOp = serde_json::from_value(serde_json::json!({"op": "assignUserAssigned", "identity": ua})).unwrap();
//! let items: Vec<ResourceState> = ["a", "b"].iter().map(|n| ResourceState::from_arm(&serde_json::json!({
//!     "id": format!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/{n}"),
//!     "identity": if *n == "a" { serde_json::json!({"type": "None"}) }
//!                 else { serde_json::json!({"type": "UserAssigned", "userAssignedIdentities": {ua: {}}}) }
//! }), None).unwrap()).collect();
//! let r = review(&op, &items, None);
//! assert_eq!((r.counts.requests, r.counts.no_ops, r.counts.refused), (1, 1, 0));
//! assert_eq!(r.items[0].requests[0].header("If-Match"), Some(identity_core::bulk::ETAG_PLACEHOLDER));
//! ```

use crate::create::{RoleAssignmentSpec, role_assignment};
use crate::inventory::model::{Kind, ResourceRow};
use crate::operation::Operation;
use crate::plan::{Outcome as PlanOutcome, WarningCode, plan};
use crate::request::ArmRequest;
use crate::resource::{ResourceKind, ResourceState};
use crate::resource_id::{IdKind, ResourceId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The `If-Match` value shown in a review: the etag is the one read just before the write.
pub const ETAG_PLACEHOLDER: &str = "<etag read just before the write>";
/// The principal id shown in a per-item grant of a review: read back after the item's change.
pub const PRINCIPAL_PLACEHOLDER: &str = "<principal id read back after the change>";
/// The role assignment name shown in a per-item grant of a review: derived from scope, role and principal.
pub const ASSIGNMENT_NAME_PLACEHOLDER: &str = "<guid from scope, role and principal>";

/// One bulk operation. JSON: an object with `"op"` and its fields (camelCase), e.g.
/// `{"op":"assignUserAssigned","identity":"/subscriptions/…/userAssignedIdentities/id1","grant":{"roleDefinition":"acdd72a7-3385-48ef-bd42-f606fba81ae7","scope":{"kind":"fixed","scope":"/subscriptions/…"}}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", deny_unknown_fields)]
pub enum BulkOp {
    /// Turn on the system-assigned identity (every user-assigned one kept); optionally grant each new principal
    /// a role.
    EnableSystemAssigned {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant: Option<RoleGrant>,
    },
    /// Turn off the system-assigned identity (every user-assigned one kept).
    RemoveSystemAssigned,
    /// Assign one user-assigned identity (full resource id); optionally grant its principal a role once, before
    /// the batch.
    AssignUserAssigned {
        identity: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant: Option<RoleGrant>,
    },
    /// Remove one user-assigned identity (full resource id, compared ignoring case); every other identity kept.
    RemoveUserAssigned { identity: String },
    /// Remove the retired managed-identity extension (+ `manualupgrade` on a Manual scale set when
    /// `upgrade_instances`).
    #[serde(rename_all = "camelCase")]
    RemoveLegacyExtension {
        #[serde(default = "yes")]
        upgrade_instances: bool,
    },
}

fn yes() -> bool {
    true
}

/// A role to grant: a role definition (GUID or full id) at a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleGrant {
    /// A role definition GUID (Reader `acdd72a7-3385-48ef-bd42-f606fba81ae7`) or its full id.
    pub role_definition: String,
    /// Where.
    pub scope: GrantScope,
    /// The role's name, for messages (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
}

/// The scope of a grant: relative to each item (system-assigned principals only) or one fixed scope.
/// JSON: `{"kind":"resource"}`, `{"kind":"resourceGroup"}`, `{"kind":"subscription"}`,
/// `{"kind":"fixed","scope":"/subscriptions/…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum GrantScope {
    /// The item itself.
    Resource,
    /// The item's resource group.
    ResourceGroup,
    /// The item's subscription.
    Subscription,
    /// This scope (a subscription, resource group or resource id).
    Fixed { scope: String },
}

impl GrantScope {
    /// The scope for one item (`item` a scale set or VM id).
    pub fn for_item(&self, item: &str) -> Result<String, String> {
        if let GrantScope::Fixed { scope } = self {
            return Ok(scope.clone());
        }
        let id = ResourceId::parse(item).map_err(|e| format!("{item:?}: {e}"))?;
        Ok(match self {
            GrantScope::Resource => id.as_str().to_string(),
            GrantScope::ResourceGroup => match id.resource_group() {
                Some(g) => ResourceId::resource_group_id(id.subscription(), g)
                    .as_str()
                    .to_string(),
                None => return Err(format!("{item:?} has no resource group")),
            },
            GrantScope::Subscription => format!("/subscriptions/{}", id.subscription()),
            GrantScope::Fixed { .. } => unreachable!("returned above"),
        })
    }
}

impl RoleGrant {
    /// The role assignment for `principal_id` on `item`'s scope, with its derived name.
    pub fn spec(&self, item: &str, principal_id: &str) -> Result<RoleAssignmentSpec, String> {
        let scope = self.scope.for_item(item)?;
        Ok(RoleAssignmentSpec {
            assignment_name: assignment_name(&scope, &self.role_definition, principal_id),
            scope,
            role_definition: self.role_definition.clone(),
            principal_id: principal_id.to_string(),
        })
    }

    /// "Reader" or the role definition as given.
    pub fn role_label(&self) -> &str {
        self.role_name.as_deref().unwrap_or(&self.role_definition)
    }
}

fn fnv(seed: u64, s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    // final mix (splitmix64)
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

/// The role assignment name (a GUID, version 8) derived from scope, role and principal, ignoring case and the role
/// definition's form (GUID or id): the same grant always has the same name, so sending it again with
/// `If-None-Match: *` never makes a second assignment.
///
/// ```
/// use identity_core::bulk::assignment_name;
/// let a = assignment_name("/subscriptions/S/resourceGroups/rg", "acdd72a7-3385-48ef-bd42-f606fba81ae7", "P");
/// let b = assignment_name("/subscriptions/s/resourcegroups/RG", "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/ACDD72A7-3385-48ef-bd42-f606fba81ae7", "p");
/// assert_eq!(a, b);
/// assert!(identity_core::naming::validate_guid("role assignment name", &a).is_ok());
/// assert_ne!(a, assignment_name("/subscriptions/s/resourceGroups/rg", "acdd72a7-3385-48ef-bd42-f606fba81ae7", "q"));
/// ```
pub fn assignment_name(scope: &str, role_definition: &str, principal_id: &str) -> String {
    let role = role_definition
        .rsplit('/')
        .next()
        .unwrap_or(role_definition);
    let key = format!(
        "{}|{}|{}",
        scope.trim_end_matches('/').to_ascii_lowercase(),
        role.to_ascii_lowercase(),
        principal_id.to_ascii_lowercase()
    );
    let a = fnv(0x1d_e17e, &key);
    let b = fnv(0xb01c_c0de, &key);
    format!(
        "{:08x}-{:04x}-8{:03x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

impl BulkOp {
    /// The identity-core operation each item is planned with.
    pub fn operation(&self) -> Operation {
        match self {
            BulkOp::EnableSystemAssigned { .. } => Operation::EnableSystemAssigned,
            BulkOp::RemoveSystemAssigned => Operation::RemoveSystemAssigned,
            BulkOp::AssignUserAssigned { identity, .. } => Operation::AddUserAssigned {
                ids: vec![identity.clone()],
            },
            BulkOp::RemoveUserAssigned { identity } => Operation::RemoveUserAssigned {
                ids: vec![identity.clone()],
            },
            BulkOp::RemoveLegacyExtension { upgrade_instances } => {
                Operation::RemoveLegacyExtension {
                    upgrade_instances: *upgrade_instances,
                }
            }
        }
    }

    /// The grant, if any.
    pub fn grant(&self) -> Option<&RoleGrant> {
        match self {
            BulkOp::EnableSystemAssigned { grant } | BulkOp::AssignUserAssigned { grant, .. } => {
                grant.as_ref()
            }
            _ => None,
        }
    }

    /// Whether the grant is for each item's new system-assigned principal (else: none, or once before the
    /// batch).
    pub fn grants_per_item(&self) -> bool {
        matches!(self, BulkOp::EnableSystemAssigned { grant: Some(_) })
    }

    /// What it does, for a confirmation ("assign the user-assigned identity id1").
    pub fn describe(&self) -> String {
        let name = |id: &str| {
            id.trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(id)
                .to_string()
        };
        let grant = |g: &Option<RoleGrant>, whose: &str| match g {
            Some(g) => format!(", and grant {whose} the role {}", g.role_label()),
            None => String::new(),
        };
        match self {
            BulkOp::EnableSystemAssigned { grant: g } => format!(
                "enable the system-assigned identity{}",
                grant(g, "each new principal")
            ),
            BulkOp::RemoveSystemAssigned => "remove the system-assigned identity".into(),
            BulkOp::AssignUserAssigned { identity, grant: g } => format!(
                "assign the user-assigned identity {}{}",
                name(identity),
                grant(g, "its principal (once, before the batch)")
            ),
            BulkOp::RemoveUserAssigned { identity } => {
                format!("remove the user-assigned identity {}", name(identity))
            }
            BulkOp::RemoveLegacyExtension { .. } => {
                "remove the legacy managed-identity extension".into()
            }
        }
    }

    /// The confirmation sentence: "Assign the user-assigned identity id1 on 300 resources?".
    pub fn confirmation(&self, count: usize) -> String {
        let d = self.describe();
        let mut c = d.chars();
        let first = c
            .next()
            .map(|f| f.to_uppercase().collect::<String>())
            .unwrap_or_default();
        let noun = if count == 1 { "resource" } else { "resources" };
        format!("{first}{} on {count} {noun}?", c.as_str())
    }

    /// Why this operation cannot run at all (a bad identity id or grant), before any item is looked at.
    pub fn validate(&self) -> Result<(), String> {
        let ua = |id: &str| match ResourceId::parse(id) {
            Ok(r) if r.kind() == IdKind::UserAssignedIdentity => Ok(()),
            Ok(_) => Err(format!(
                "{id:?} is not a user-assigned identity id (…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{{name}})"
            )),
            Err(e) => Err(format!("identity {id:?}: {e}")),
        };
        match self {
            BulkOp::AssignUserAssigned { identity, grant } => {
                ua(identity)?;
                if let Some(g) = grant {
                    let GrantScope::Fixed { scope } = &g.scope else {
                        return Err("A user-assigned identity has one principal: its grant is made once, before the batch, so it needs one fixed scope (a subscription, resource group or resource id), not a scope relative to each resource.".into());
                    };
                    check_grant(g, scope)?;
                }
                Ok(())
            }
            BulkOp::RemoveUserAssigned { identity } => ua(identity),
            BulkOp::EnableSystemAssigned { grant: Some(g) } => {
                if let GrantScope::Fixed { scope } = &g.scope {
                    check_grant(g, scope)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The grant made once before the batch ([`BulkOp::AssignUserAssigned`] with a grant), for the identity's
    /// principal: its role assignment spec (name derived).
    pub fn grant_before_batch(
        &self,
        identity_principal: &str,
    ) -> Option<Result<RoleAssignmentSpec, String>> {
        match self {
            BulkOp::AssignUserAssigned {
                identity,
                grant: Some(g),
            } => Some(g.spec(identity, identity_principal)),
            _ => None,
        }
    }
}

/// A grant's plan with placeholders validated: the role and scope must plan (a zero principal stands in).
fn check_grant(g: &RoleGrant, scope: &str) -> Result<(), String> {
    let p = role_assignment(&RoleAssignmentSpec {
        scope: scope.to_string(),
        role_definition: g.role_definition.clone(),
        principal_id: ZERO.into(),
        assignment_name: ZERO.into(),
    });
    match p.refusal() {
        Some(r) => Err(format!("The role grant cannot be made: {r}")),
        None => Ok(()),
    }
}

const ZERO: &str = "00000000-0000-0000-0000-000000000000";

/// An item's plan in a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// A request will be sent (after a fresh read).
    Request,
    /// Nothing to change.
    NoOp,
    /// Not sent, and why.
    Refused,
}

impl Verdict {
    /// `request`, `no-op`, `refused` (the CSV's words).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Request => "request",
            Verdict::NoOp => "no-op",
            Verdict::Refused => "refused",
        }
    }
}

/// One item of a review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReview {
    /// The resource id.
    pub id: String,
    /// Scale set (Uniform / Flexible) or VM, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ResourceKind>,
    pub verdict: Verdict,
    /// The requests, in order (`If-Match` is [`ETAG_PLACEHOLDER`] unless the state had an etag); for a per-item
    /// grant, last, the role assignment PUT with [`PRINCIPAL_PLACEHOLDER`] and [`ASSIGNMENT_NAME_PLACEHOLDER`].
    #[serde(default)]
    pub requests: Vec<ArmRequest>,
    /// The no-op or refusal reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Warnings for this item (AKS-managed, Manual upgrade policy …).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Counts of a review.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewCounts {
    pub requests: usize,
    pub no_ops: usize,
    pub refused: usize,
    /// Role assignments planned (per item, or one before the batch).
    pub grants: usize,
}

/// The review of a batch: per item its plan, the counts, and the grant before the batch (if any).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub op: BulkOp,
    pub items: Vec<ItemReview>,
    pub counts: ReviewCounts,
    /// [`BulkOp::AssignUserAssigned`] with a grant: the role assignment PUT made once before the batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_before: Option<ArmRequest>,
    /// Why the whole batch cannot run ([`BulkOp::validate`], or the grant before it), if so: every item is then
    /// refused with this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
}

/// The review of `op` over `items` (states from the inventory: [`state_of_row`]; duplicates, ignoring case,
/// kept once). `identity_principal`: the user-assigned identity's principal id, for its grant before the batch
/// (without it that grant is shown with [`PRINCIPAL_PLACEHOLDER`]).
pub fn review(op: &BulkOp, items: &[ResourceState], identity_principal: Option<&str>) -> Review {
    let mut refusal = op.validate().err();
    let mut grant_before = None;
    if let (
        None,
        BulkOp::AssignUserAssigned {
            identity,
            grant: Some(g),
        },
    ) = (&refusal, op)
    {
        let principal = identity_principal.filter(|p| !p.is_empty());
        let spec = g.spec(identity, principal.unwrap_or(ZERO));
        match spec {
            Ok(spec) => {
                let p = role_assignment(&spec);
                match (p.refusal(), p.requests().first()) {
                    (Some(r), _) => refusal = Some(format!("The role grant cannot be made: {r}")),
                    (None, Some(req)) => {
                        let mut req = req.clone();
                        if principal.is_none() {
                            placeholder_grant(&mut req);
                        }
                        grant_before = Some(req);
                    }
                    (None, None) => {}
                }
            }
            Err(e) => refusal = Some(e),
        }
    }
    let operation = op.operation();
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for st in items {
        if !seen.insert(st.id.as_str().to_ascii_lowercase()) {
            continue;
        }
        out.push(review_item(op, &operation, st, refusal.as_deref()));
    }
    let mut counts = ReviewCounts::default();
    for i in &out {
        match i.verdict {
            Verdict::Request => counts.requests += 1,
            Verdict::NoOp => counts.no_ops += 1,
            Verdict::Refused => counts.refused += 1,
        }
    }
    counts.grants = if op.grants_per_item() {
        counts.requests
    } else {
        usize::from(grant_before.is_some())
    };
    Review {
        op: op.clone(),
        items: out,
        counts,
        grant_before,
        refusal,
    }
}

fn placeholder_grant(req: &mut ArmRequest) {
    if let Some((head, _)) = req.path.rsplit_once('/') {
        req.path = format!("{head}/{ASSIGNMENT_NAME_PLACEHOLDER}");
    }
    if let Some(b) = req.body.as_mut() {
        b["properties"]["principalId"] = Value::String(PRINCIPAL_PLACEHOLDER.into());
    }
}

/// One item planned as the batch will plan it (from the inventory's state, with the etag to be read).
pub fn review_item(
    op: &BulkOp,
    operation: &Operation,
    st: &ResourceState,
    batch_refusal: Option<&str>,
) -> ItemReview {
    let id = st.id.as_str().to_string();
    let base = ItemReview {
        id,
        kind: Some(st.kind),
        verdict: Verdict::Refused,
        requests: vec![],
        reason: None,
        warnings: vec![],
    };
    if let Some(r) = batch_refusal {
        return ItemReview {
            reason: Some(r.to_string()),
            ..base
        };
    }
    let mut st = st.clone();
    if st.etag.is_none() {
        st.etag = Some(ETAG_PLACEHOLDER.into());
    }
    let p = plan(&st, operation);
    let warnings = p
        .warnings
        .iter()
        .filter(|w| w.code != WarningCode::NoEtag)
        .map(|w| w.message.clone())
        .collect();
    match p.outcome {
        PlanOutcome::Noop(why) => ItemReview {
            verdict: Verdict::NoOp,
            reason: Some(why),
            warnings,
            ..base
        },
        PlanOutcome::Refused(why) => ItemReview {
            reason: Some(why),
            ..base
        },
        PlanOutcome::Requests(mut reqs) => {
            let mut warnings: Vec<String> = warnings;
            if let (Some(g), true) = (op.grant(), op.grants_per_item()) {
                match g.spec(&base.id, ZERO) {
                    Ok(spec) => {
                        if let Some(r) = role_assignment(&spec).requests().first() {
                            let mut r = r.clone();
                            placeholder_grant(&mut r);
                            reqs.push(r);
                        }
                    }
                    Err(e) => {
                        return ItemReview {
                            reason: Some(format!("The role grant cannot be made: {e}")),
                            ..base
                        };
                    }
                }
            }
            if st.kind.is_scale_set()
                && st.upgrade_mode.is_none()
                && matches!(
                    operation,
                    Operation::RemoveLegacyExtension {
                        upgrade_instances: true
                    }
                )
            {
                warnings.push("When the scale set's upgrade policy is Manual (seen on the read just before the write), the instances are then upgraded too (POST …/manualupgrade with instanceIds [\"*\"]).".into());
            }
            ItemReview {
                verdict: Verdict::Request,
                requests: reqs,
                warnings,
                ..base
            }
        }
    }
}

impl Review {
    /// Up to `n` items with requests, one of each (subscription, kind) first, then in list order: a sample of the
    /// exact requests.
    pub fn sample(&self, n: usize) -> Vec<&ItemReview> {
        let with: Vec<&ItemReview> = self
            .items
            .iter()
            .filter(|i| i.verdict == Verdict::Request)
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        let mut first: Vec<&ItemReview> = Vec::new();
        let mut rest: Vec<&ItemReview> = Vec::new();
        for i in with {
            let key = (
                crate::bulk::subscription_of(&i.id),
                i.kind.map(|k| k.describe()),
            );
            if seen.insert(key) {
                first.push(i);
            } else {
                rest.push(i);
            }
        }
        first.into_iter().chain(rest).take(n).collect()
    }

    /// The full list as CSV: `item,kind,plan,method,url,if_match,body,reason` — one line per request (an item
    /// with two requests has two lines), one line for a no-op or refusal. `endpoint` prefixes the URL
    /// (`https://management.azure.com`). The inventory export's cells ([`crate::inventory::export::csv_cell`]: RFC
    /// 4180 quoting; a cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`).
    pub fn to_csv(&self, endpoint: &str) -> String {
        let mut out = String::from("item,kind,plan,method,url,if_match,body,reason\r\n");
        let endpoint = endpoint.trim_end_matches('/');
        for i in &self.items {
            let kind = i.kind.map(|k| k.describe()).unwrap_or("");
            let reason = i.reason.clone().unwrap_or_default();
            let mut rows: Vec<[String; 8]> = Vec::new();
            for r in &i.requests {
                rows.push([
                    i.id.clone(),
                    kind.into(),
                    i.verdict.as_str().into(),
                    r.method.as_str().into(),
                    format!("{endpoint}{}", r.path_and_query()),
                    r.header("If-Match").unwrap_or("").into(),
                    r.body.as_ref().map(|b| b.to_string()).unwrap_or_default(),
                    reason.clone(),
                ]);
            }
            if rows.is_empty() {
                rows.push([
                    i.id.clone(),
                    kind.into(),
                    i.verdict.as_str().into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    reason,
                ]);
            }
            for row in rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| crate::inventory::export::csv_cell(c))
                    .collect();
                out.push_str(&cells.join(","));
                out.push_str("\r\n");
            }
        }
        out
    }

    /// The full list as JSON: `{operation, counts, grantBefore, refusal, items: [{item, kind, plan, requests:
    /// [{method, url, headers, body}], reason, warnings}]}`.
    pub fn to_json(&self, endpoint: &str) -> Value {
        let endpoint = endpoint.trim_end_matches('/');
        let req = |r: &ArmRequest| {
            json!({
                "method": r.method.as_str(),
                "url": format!("{endpoint}{}", r.path_and_query()),
                "headers": r.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
                "body": r.body,
            })
        };
        json!({
            "operation": self.op,
            "description": self.op.describe(),
            "counts": self.counts,
            "grantBefore": self.grant_before.as_ref().map(req),
            "refusal": self.refusal,
            "items": self.items.iter().map(|i| json!({
                "item": i.id,
                "kind": i.kind.map(|k| k.describe()),
                "plan": i.verdict.as_str(),
                "requests": i.requests.iter().map(req).collect::<Vec<_>>(),
                "reason": i.reason,
                "warnings": i.warnings,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The subscription of a resource id (lower case; empty when there is none).
pub fn subscription_of(id: &str) -> String {
    let mut parts = id.split('/').filter(|s| !s.is_empty());
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("subscriptions") {
            return parts.next().unwrap_or("").to_ascii_lowercase();
        }
    }
    String::new()
}

/// The state an inventory row knows (Resource Graph gives the identities, the orchestration mode, the legacy
/// extension; not the etag nor the upgrade policy, which the batch reads just before each write). A row whose
/// identity type and map disagree keeps that in [`ResourceState::identity_conflict`], so its plan is refused.
pub fn state_of_row(row: &ResourceRow) -> Result<ResourceState, String> {
    let id = ResourceId::parse(&row.id).map_err(|e| format!("{:?}: {e}", row.id))?;
    let kind = match (row.kind, id.kind()) {
        (Kind::Uniform, IdKind::ScaleSet) => ResourceKind::ScaleSetUniform,
        (Kind::Flexible, IdKind::ScaleSet) => ResourceKind::ScaleSetFlexible,
        (Kind::Vm, IdKind::VirtualMachine) => ResourceKind::Vm,
        _ => {
            return Err(format!(
                "{:?} is neither a scale set nor a VM as the inventory says ({})",
                row.id,
                row.kind.label()
            ));
        }
    };
    Ok(ResourceState {
        id,
        kind,
        location: (!row.location.is_empty()).then(|| row.location.clone()),
        identity: row.identity_state.clone(),
        identity_conflict: row.identity_conflict.clone(),
        etag: None,
        upgrade_mode: None,
        legacy_extension: row.legacy_extension_detail.clone(),
        aks_managed: row.aks_managed,
        os_type: None,
        provisioning_state: (!row.provisioning_state.is_empty())
            .then(|| row.provisioning_state.clone()),
        tags: Default::default(),
    })
}

/// [`review`] over inventory rows: a row that is not a scale set or VM is refused with the reason.
pub fn review_rows(op: &BulkOp, rows: &[&ResourceRow], identity_principal: Option<&str>) -> Review {
    let mut states = Vec::new();
    let mut bad = Vec::new();
    for r in rows {
        match state_of_row(r) {
            Ok(s) => states.push(s),
            Err(e) => bad.push((r.id.clone(), e)),
        }
    }
    let mut rv = review(op, &states, identity_principal);
    for (id, e) in bad {
        rv.counts.refused += 1;
        rv.items.push(ItemReview {
            id,
            kind: None,
            verdict: Verdict::Refused,
            requests: vec![],
            reason: Some(e),
            warnings: vec![],
        });
    }
    rv
}
