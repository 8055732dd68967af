//! One wizard on a scale set or VM: choose (assign / remove user-assigned), review (diff, exact
//! request, scripts), apply (read-write only) with progress to the end, and the result read back.
//! The steps and validation are identity-core's [`Wizard`] reducer; the apply is arm-client's
//! flow ([`arm_client::flow::change_identity`]); this file renders both.

use crate::components::access::{IdentityAccess, assignments_table, incomplete, read_access};
use crate::components::error::{ErrorBox, ErrorView};
use crate::components::grant::Principal;
use crate::components::review::{IdentityDiff, Requests, ScriptSource, Scripts};
use crate::hooks::{Load, use_arm};
use crate::lazy::Lazy;
use crate::nav::Link;
use crate::pages::create::NewIdentityProps;
use crate::session::use_session;
use arm_client::flow::{self, Outcome as FlowOutcome, Wait};
use arm_client::inventory::{AccessLoad, CancelFlag, LoadOptions, load_users_of_identity};
use arm_client::{ArmClient, ArmError, ops};
use identity_core::plan::Outcome;
use identity_core::role_cleanup::{RemovedPrincipal, RoleAssignmentDeletion, removed_principals};
use identity_core::route::Route;
use identity_core::scripts::ScriptPlan;
use identity_core::wizard::{Candidate, Step, Wizard, WizardAction, WizardKind};
use identity_core::{IdentityState, Operation, Plan, ResourceState, plan};
use std::rc::Rc;
use yew::prelude::*;

#[derive(Clone, PartialEq)]
struct Model(Wizard);

impl Reducible for Model {
    type Action = WizardAction;
    fn reduce(self: Rc<Self>, action: WizardAction) -> Rc<Self> {
        Rc::new(Model(self.0.reduce(action)))
    }
}

/// Where an apply stands (the flow's events and outcome, as shown).
#[derive(Debug, Clone, PartialEq)]
enum Apply {
    Idle,
    Running {
        state: String,
        elapsed_ms: u64,
    },
    Done {
        elapsed_ms: u64,
        before: IdentityState,
        after: Option<IdentityState>,
        resumed: bool,
        /// The role assignment deletions after the change, each with its end.
        deletions: Vec<flow::Deletion>,
    },
    /// The flow ended without the change: `not_sent` when nothing reached Azure (or Azure did
    /// not acknowledge it).
    Failed {
        error: ErrorView,
        not_sent: bool,
    },
}

const RESUMING: &str = "The connection dropped after Azure acknowledged the change; resuming by reading the resource until its operation ends…";

/// A flow's wait, as shown in the progress line.
fn wait_text(why: Wait, seconds_left: u64) -> String {
    match why {
        Wait::Throttled => format!("Azure is throttling requests: retrying in {seconds_left} s"),
        Wait::PrincipalNotFound => {
            format!("waiting for the principal: retrying in {seconds_left} s")
        }
    }
}

/// The plan of the operation against the state (with the role assignment deletions chosen), and what its
/// scripts are generated from: computed once per (state, operation, deletions), not on every progress tick.
type Planned = Option<(Operation, Plan, ScriptPlan)>;

/// A principal the change takes away, and whether its role assignments would be left as orphans.
#[derive(Debug, Clone, PartialEq)]
struct Removed {
    label: String,
    principal_id: Option<String>,
    /// Nothing will use it any more: its role assignments are offered for deletion.
    orphan: bool,
    /// Why (not), in words.
    note: String,
}

/// What removal without orphans offers: the removed principals and the role assignments of the orphaned ones.
#[derive(Debug, Clone, PartialEq, Default)]
struct Cleanup {
    principals: Vec<Removed>,
    access: Option<AccessLoad>,
}

impl Cleanup {
    /// The role assignments offered for deletion (the orphaned principals').
    fn offered(&self) -> Vec<RoleAssignmentDeletion> {
        let Some(a) = &self.access else {
            return vec![];
        };
        self.principals
            .iter()
            .filter(|p| p.orphan)
            .filter_map(|p| p.principal_id.as_deref())
            .flat_map(|id| a.of(id))
            .filter_map(|row| RoleAssignmentDeletion::from_row(row).ok())
            .collect()
    }
}

/// For each principal the change removes: is it an orphan afterwards (a system-assigned principal always is; a
/// user-assigned identity when Resource Graph finds no other scale set or VM using it), and what the orphans can
/// access — listed now, while the principal still exists.
async fn cleanup_of(
    c: Rc<ArmClient>,
    resource_id: String,
    removed: Vec<RemovedPrincipal>,
) -> Result<Rc<Cleanup>, ArmError> {
    let mut principals = Vec::new();
    for r in removed {
        match r {
            RemovedPrincipal::SystemAssigned { principal_id } => principals.push(Removed {
                label: "The system-assigned identity".into(),
                principal_id: Some(principal_id),
                orphan: true,
                note: "Its principal is deleted with it: nothing can use these role assignments again (enabling it again makes a new principal).".into(),
            }),
            RemovedPrincipal::UserAssigned {
                identity_id,
                principal_id,
            } => {
                let name = identity_id.rsplit('/').next().unwrap_or_default();
                let label = format!("The user-assigned identity {name}");
                let Some(pid) = principal_id else {
                    principals.push(Removed {
                        label,
                        principal_id: None,
                        orphan: false,
                        note: "The resource did not report its principal id, so its role assignments cannot be listed; they stay.".into(),
                    });
                    continue;
                };
                let users = load_users_of_identity(
                    &c,
                    &identity_id,
                    &[],
                    &LoadOptions::default(),
                    &CancelFlag::new(),
                    &mut |_| {},
                )
                .await;
                let others = users.others(&resource_id);
                let (orphan, note) = if !users.is_complete() {
                    (false, "Resource Graph could not tell whether other resources use it, so its role assignments stay.".to_string())
                } else if !others.is_empty() {
                    let names: Vec<&str> = others
                        .iter()
                        .map(|o| o.rsplit('/').next().unwrap_or_default())
                        .collect();
                    (
                        false,
                        format!(
                            "Still used by {} other resource{} ({}): its role assignments stay.",
                            others.len(),
                            if others.len() == 1 { "" } else { "s" },
                            names.join(", ")
                        ),
                    )
                } else {
                    (true, "This is its last user (no other scale set or VM in the subscriptions you can read uses it): after the change nothing uses its role assignments. The identity itself is not deleted and could be attached again.".to_string())
                };
                principals.push(Removed {
                    label,
                    principal_id: Some(pid),
                    orphan,
                    note,
                });
            }
        }
    }
    let ids: Vec<String> = principals
        .iter()
        .filter(|p| p.orphan)
        .filter_map(|p| p.principal_id.clone())
        .collect();
    let access = if ids.is_empty() {
        None
    } else {
        Some(read_access(c, ids).await)
    };
    Ok(Rc::new(Cleanup { principals, access }))
}

#[derive(Properties, PartialEq)]
pub struct WizardProps {
    pub kind: WizardKind,
    pub state: Rc<ResourceState>,
    /// Read the resource again (after a change, or a 412).
    pub reload: Callback<()>,
}

async fn visible_identities(c: Rc<ArmClient>) -> Result<Rc<Vec<Candidate>>, ArmError> {
    let subs: Vec<arm_client::Subscription> =
        c.list(ops::list_subscriptions()).collect_all().await?;
    let mut out = Vec::new();
    for s in subs {
        let ids: Vec<serde_json::Value> = c
            .list(ops::list_user_assigned_identities(&s.subscription_id, None))
            .collect_all()
            .await?;
        for v in ids {
            let Some(id) = v.get("id").and_then(|x| x.as_str()) else {
                continue;
            };
            let mut cand = Candidate::from_id(id);
            cand.location = v
                .get("location")
                .and_then(|x| x.as_str())
                .map(str::to_string);
            cand.client_id = v
                .pointer("/properties/clientId")
                .and_then(|x| x.as_str())
                .map(str::to_string);
            out.push(cand);
        }
    }
    Ok(Rc::new(out))
}

#[component]
pub fn WizardPanel(props: &WizardProps) -> Html {
    let s = use_session();
    let model = use_reducer(|| Model(Wizard::new(props.kind)));
    let apply = use_state(|| Apply::Idle);
    let notice = use_state(|| None::<String>);
    let w = &model.0;
    let st = props.state.clone();
    let needs_list = props.kind == WizardKind::AssignUserAssigned;
    // bumped when an identity is created inline, so the list is read again
    let listed = use_state(|| 0u32);
    // the text of the "paste a resource id" box
    let pasting = use_state(String::new);
    let visible = use_arm(
        format!("uai:{needs_list}:{}", *listed),
        move |c: Rc<ArmClient>| async move {
            if needs_list {
                visible_identities(c).await
            } else {
                Ok(Rc::new(Vec::new()))
            }
        },
    );
    let cloud = s.config.script_cloud();
    // removal without orphans: the principals the change takes away, listed at the review
    let removes = matches!(
        props.kind,
        WizardKind::RemoveSystemAssigned | WizardKind::RemoveUserAssigned
    );
    let removed: Vec<RemovedPrincipal> = match (removes, w.step, w.operation()) {
        (true, Step::Review, Ok(op)) => removed_principals(&plan(&st, &op)),
        _ => Vec::new(),
    };
    let cleanup = use_arm(format!("cleanup:{}:{removed:?}", st.id.as_str()), {
        let rid = st.id.as_str().to_string();
        let removed = removed.clone();
        move |c: Rc<ArmClient>| async move {
            if removed.is_empty() {
                Ok(Rc::new(Cleanup::default()))
            } else {
                cleanup_of(c, rid, removed).await
            }
        }
    });
    // Deleting them is on by default when the system-assigned identity goes: its principal is deleted with it, so
    // its role assignments can never be used again and only linger as "Identity not found" entries — an admin
    // removing the identity expects its access gone. Off when a user-assigned identity leaves its last user: the
    // identity (and its principal) lives on and may be attached again, so deleting its access is a separate,
    // deliberate choice.
    let delete_roles = use_state(|| None::<bool>);
    let delete_on = delete_roles.unwrap_or(props.kind == WizardKind::RemoveSystemAssigned);
    let deletions: Vec<RoleAssignmentDeletion> = match (&*cleanup, delete_on) {
        (Load::Ready(c), true) => c.offered(),
        _ => Vec::new(),
    };
    let planned: Rc<Planned> = use_memo(
        (st.clone(), w.operation().ok(), cloud, deletions),
        |(st, op, cloud, deletions)| {
            op.clone().map(|op| {
                let p = plan(st, &op).with_role_assignment_deletions(deletions);
                let scripts = ScriptPlan::from_plan(*cloud, st, &op, &p);
                (op, p, scripts)
            })
        },
    );
    let close = Route::Resource {
        id: st.id.as_str().to_string(),
        wizard: None,
    };
    let title = html! {
        <div class="wizard-head">
            <h3 id="wizard-title">{ props.kind.title() }</h3>
            <Link to={close} class="close">{ "Close" }</Link>
        </div>
    };

    if let Some(why) = props
        .kind
        .unavailable(&st)
        .filter(|_| matches!(*apply, Apply::Idle))
    {
        return html! {
            <section class="wizard" aria-labelledby="wizard-title" id="wizard" data-step="unavailable">
                { title }
                <p class="refusal" role="note">{ why }</p>
            </section>
        };
    }

    let body = match w.step {
        Step::Choose => {
            let list = match &*visible {
                Load::Ready(v) => Some(v.clone()),
                _ => None,
            };
            let choices = w.choices(&st, list.as_deref().map(|v| v.as_slice()).unwrap_or(&[]));
            let on_filter = {
                let model = model.clone();
                Callback::from(move |e: InputEvent| {
                    model.dispatch(WizardAction::SetFilter(
                        e.target_unchecked_into::<web_sys::HtmlInputElement>()
                            .value(),
                    ))
                })
            };
            let on_review = {
                let model = model.clone();
                Callback::from(move |_: MouseEvent| model.dispatch(WizardAction::Review))
            };
            html! {
                <div class="choose" data-step="choose">
                    <label for="identity-filter">{ if needs_list { "Search identities you can see (name, group, subscription or id)" } else { "Search the assigned identities" } }</label>
                    <input id="identity-filter" type="search" value={w.filter.clone()} oninput={on_filter} autocomplete="off" />
                    if needs_list {
                        { match &*visible {
                            Load::Loading => html! { <p class="loading" role="status">{ "Listing user-assigned identities in every subscription…" }</p> },
                            Load::Failed(e) => html! { <ErrorBox error={e.clone()} /> },
                            _ => html! {},
                        } }
                    }
                    <fieldset class="choices" id="choices">
                        <legend>{ format!("{} identities", choices.len()) }</legend>
                        { for choices.iter().map(|c| {
                            let id = c.id.clone();
                            let toggle = { let model = model.clone(); Callback::from(move |_: Event| model.dispatch(WizardAction::Toggle(id.clone()))) };
                            let input_id = crate::dom_id::dom_id("pick-", &c.id);
                            html! {
                                <div class="choice" data-id={c.id.clone()}>
                                    <input type="checkbox" id={input_id.clone()} checked={w.is_selected(&c.id)} onchange={toggle} />
                                    <label for={input_id}>
                                        <strong>{ &c.name }</strong>
                                        <span class="detail">{ format!(" · {} · {}{}", c.resource_group, c.subscription, c.location.as_ref().map(|l| format!(" · {l}")).unwrap_or_default()) }</span>
                                    </label>
                                </div>
                            }
                        }) }
                    </fieldset>
                    if needs_list {
                        { pasted_ids(w, &st, &model, &pasting, list.as_deref().map(|v| v.as_slice()).unwrap_or(&[])) }
                    }
                    if needs_list && s.client.is_some() {
                        <details class="inline-create" id="inline-create">
                            <summary>{ "Create a new identity" }</summary>
                            <Lazy<NewIdentityProps> split={&crate::lazy::NEW_IDENTITY_FORM} props={NewIdentityProps {
                                inline: true,
                                subscription: st.id.subscription().to_string(),
                                resource_group: st.id.resource_group().unwrap_or_default().to_string(),
                                location: st.location.clone().unwrap_or_default(),
                                on_created: { let model = model.clone(); let listed = listed.clone(); Callback::from(move |id: String| {
                                    listed.set(*listed + 1);
                                    model.dispatch(WizardAction::Toggle(id));
                                }) },
                            }} />
                        </details>
                    }
                    if let Some(e) = &w.error { <p class="error" role="alert" id="wizard-error">{ e }</p> }
                    <button type="button" class="button primary" id="to-review" onclick={on_review}>{ format!("Review ({} selected)", w.selected.len()) }</button>
                </div>
            }
        }
        Step::Review => review(
            props,
            &s,
            w,
            &planned,
            &model,
            &apply,
            &notice,
            Offer {
                shown: removes,
                cleanup: &cleanup,
                delete: &delete_roles,
                on: delete_on,
            },
        ),
    };

    html! {
        <section class="wizard" aria-labelledby="wizard-title" id="wizard" data-step={if w.step == Step::Choose { "choose" } else { "review" }}>
            { title }
            { body }
        </section>
    }
}

/// The assign wizard's "paste a resource id" box (for an identity no list shows, e.g. in a
/// subscription the user cannot list) and the identities selected that way.
fn pasted_ids(
    w: &Wizard,
    st: &ResourceState,
    model: &UseReducerHandle<Model>,
    text: &UseStateHandle<String>,
    listed: &[Candidate],
) -> Html {
    let pasted = w.pasted(st, listed);
    let oninput = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            text.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .value(),
            )
        })
    };
    let onsubmit = {
        let (model, text) = (model.clone(), text.clone());
        // an identity the lists show is selected with the casing they give
        let listed: Vec<String> = listed.iter().map(|c| c.id.clone()).collect();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let valid = identity_core::wizard::user_assigned_identity_id(&text).is_ok();
            let pasted = listed
                .iter()
                .find(|id| identity_core::resource_id::same_id(id, text.trim()))
                .cloned()
                .unwrap_or_else(|| (*text).clone());
            model.dispatch(WizardAction::AddById(pasted));
            if valid {
                text.set(String::new());
            }
        })
    };
    html! {
        <>
            if !pasted.is_empty() {
                <fieldset class="choices" id="pasted">
                    <legend>{ format!("Added by resource id ({})", pasted.len()) }</legend>
                    { for pasted.iter().map(|c| {
                        let id = c.id.clone();
                        let toggle = { let model = model.clone(); Callback::from(move |_: Event| model.dispatch(WizardAction::Toggle(id.clone()))) };
                        let input_id = crate::dom_id::dom_id("pasted-", &c.id);
                        html! {
                            <div class="choice" data-id={c.id.clone()}>
                                <input type="checkbox" id={input_id.clone()} checked={true} onchange={toggle} />
                                <label for={input_id}>
                                    <strong>{ &c.name }</strong>
                                    <span class="detail">{ format!(" · {} · {} · {}", c.resource_group, c.subscription,
                                        if st.identity.has_user_assigned(&c.id) { "already on this resource: it stays as it is" } else { "not in your lists: its id is sent as pasted" }) }</span>
                                </label>
                            </div>
                        }
                    }) }
                </fieldset>
            }
            <form class={classes!("field", "paste-id", w.id_error.is_some().then_some("invalid"))} id="paste-form" {onsubmit}>
                <label for="paste-id">{ "Or paste the resource id of an identity no list shows (e.g. in a subscription you cannot list)" }</label>
                <input id="paste-id" type="text" value={(**text).clone()} {oninput} autocomplete="off" spellcheck="false"
                    placeholder="/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/…"
                    aria-invalid={w.id_error.is_some().to_string()} aria-describedby={w.id_error.is_some().then_some("paste-id-error")} />
                <button type="submit" class="button secondary" id="paste-add">{ "Add" }</button>
                if let Some(e) = &w.id_error { <p class="field-error" id="paste-id-error" role="alert">{ e }</p> }
            </form>
        </>
    }
}

/// The removal-without-orphans part of a review: what is offered and the user's choice.
struct Offer<'a> {
    /// The wizard removes a principal (remove system-assigned / user-assigned).
    shown: bool,
    cleanup: &'a UseStateHandle<Load<Rc<Cleanup>>>,
    delete: &'a UseStateHandle<Option<bool>>,
    on: bool,
}

/// The removed principals, their role assignments and the "also delete them" choice.
fn offer_view(o: &Offer, running: bool) -> Html {
    let nothing_removed = matches!(&**o.cleanup, Load::Ready(c) if c.principals.is_empty());
    if !o.shown || nothing_removed {
        return html! {};
    }
    let body = match &**o.cleanup {
        Load::Loading => html! {
            <p class="loading" role="status" id="cleanup-loading">{ "Listing the role assignments the removed principal holds (Azure Resource Graph)…" }</p>
        },
        Load::Failed(e) => html! {
            <ErrorBox error={e.clone()}>
                <p>{ "Its role assignments could not be listed, so none is offered for deletion; the identity change itself is not affected." }</p>
            </ErrorBox>
        },
        Load::Offline => html! {
            <p class="note">{ "Not signed in: the role assignments cannot be listed. Check them in the portal (Access control) before removing the identity." }</p>
        },
        Load::Ready(c) => {
            let offered = c.offered();
            let toggle = {
                let (delete, on) = (o.delete.clone(), o.on);
                Callback::from(move |_: Event| delete.set(Some(!on)))
            };
            html! {
                <>
                    { for c.principals.iter().enumerate().map(|(i, p)| {
                        let rows = match (&c.access, &p.principal_id) {
                            (Some(a), Some(id)) if p.orphan => a.of(id),
                            _ => vec![],
                        };
                        html! {
                            <div class="cleanup-principal" data-orphan={p.orphan.to_string()}>
                                <p><strong>{ &p.label }</strong>
                                    if let Some(id) = &p.principal_id { { " (principal " }<code>{ id }</code>{ ")" } }
                                    { format!(": {}", p.note) }</p>
                                if p.orphan && rows.is_empty() {
                                    <p class="note">{ "It holds no role assignment in the subscriptions you can read: nothing is left behind." }</p>
                                } else if p.orphan {
                                    { assignments_table(&format!("cleanup-{i}"), &rows) }
                                }
                            </div>
                        }
                    }) }
                    if let Some(why) = c.access.as_ref().and_then(incomplete) {
                        <p class="warning" role="alert" id="cleanup-partial">{ why }</p>
                    }
                    if !offered.is_empty() {
                        <label class="option"><input type="checkbox" id="delete-role-assignments" checked={o.on} onchange={toggle} disabled={running} />
                            { format!(" Also delete {} once the identity change succeeded (each by its id; the DELETE requests and the scripts below include them)",
                                if offered.len() == 1 { "this role assignment".to_string() } else { format!("these {} role assignments", offered.len()) }) }</label>
                        if !o.on {
                            <p class="note" id="cleanup-kept">{ "They stay: without a principal that uses them, they show as \"Identity not found\" in the portal's role assignments." }</p>
                        }
                    }
                </>
            }
        }
    };
    html! {
        <section class="cleanup" id="cleanup" aria-labelledby="cleanup-title">
            <h4 id="cleanup-title">{ "Role assignments of the removed principal" }</h4>
            { body }
        </section>
    }
}

#[allow(clippy::too_many_arguments)]
fn review(
    props: &WizardProps,
    s: &crate::session::Session,
    w: &Wizard,
    planned: &Planned,
    model: &UseReducerHandle<Model>,
    apply: &UseStateHandle<Apply>,
    notice: &UseStateHandle<Option<String>>,
    offer: Offer,
) -> Html {
    let st = props.state.clone();
    let (op, p, scripts) = match (w.operation(), planned) {
        (Err(e), _) => return html! { <p class="error" role="alert">{ e }</p> },
        (Ok(_), None) => return html! {},
        (Ok(_), Some((op, p, scripts))) => (op.clone(), p.clone(), scripts.clone()),
    };
    let origin = s
        .client
        .as_ref()
        .map(|c| c.origin().to_string())
        .unwrap_or_else(|| s.cloud.arm_endpoint.clone());
    let back = {
        let model = model.clone();
        Callback::from(move |_: MouseEvent| model.dispatch(WizardAction::Back))
    };
    let upgrade_toggle = {
        let model = model.clone();
        let on = w.upgrade_instances;
        Callback::from(move |_: Event| model.dispatch(WizardAction::SetUpgradeInstances(!on)))
    };
    // the identity change, then the role assignment deletions
    let requests = p.all_requests();
    let can_send = s.client.is_some() && !requests.is_empty();
    let dels = p.role_assignment_deletions.clone();
    let running = matches!(**apply, Apply::Running { .. });
    let onapply = {
        let apply = apply.clone();
        let notice = notice.clone();
        let client = s.client.clone();
        let reload = props.reload.clone();
        let st = st.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(client) = client.clone() else { return };
            let (apply, notice, reload, st, op, dels) = (
                apply.clone(),
                notice.clone(),
                reload.clone(),
                st.clone(),
                op.clone(),
                dels.clone(),
            );
            notice.set(None);
            apply.set(Apply::Running {
                state: "Sending".into(),
                elapsed_ms: 0,
            });
            wasm_bindgen_futures::spawn_local(async move {
                let (h, n) = (apply.clone(), notice.clone());
                let mut elapsed = 0;
                let mut events = move |e: &flow::Event| match e {
                    // the deletions after the change: say which one is being sent
                    flow::Event::Sending { step } if step.starts_with("Deleting") => {
                        h.set(Apply::Running {
                            state: step.clone(),
                            elapsed_ms: elapsed,
                        })
                    }
                    flow::Event::Sending { .. } => {}
                    flow::Event::Progress {
                        state, elapsed_ms, ..
                    } => {
                        elapsed = *elapsed_ms;
                        h.set(Apply::Running {
                            state: state.clone(),
                            elapsed_ms: elapsed,
                        })
                    }
                    flow::Event::Waiting {
                        why, seconds_left, ..
                    } => h.set(Apply::Running {
                        state: wait_text(*why, *seconds_left),
                        elapsed_ms: elapsed,
                    }),
                    flow::Event::Resuming { .. } => n.set(Some(RESUMING.into())),
                };
                let out = match op {
                    Operation::RemoveLegacyExtension { upgrade_instances } => {
                        flow::remove_legacy_extension(&client, &st, upgrade_instances, &mut events)
                            .await
                    }
                    op if !dels.is_empty() => {
                        flow::change_identity_and_delete_role_assignments(
                            &client,
                            &st,
                            &op,
                            &dels,
                            &mut events,
                        )
                        .await
                    }
                    op => flow::change_identity(&client, &st, &op, &mut events).await,
                };
                match out {
                    FlowOutcome::Applied(ch) => {
                        apply.set(Apply::Done {
                            before: ch.before,
                            elapsed_ms: ch.elapsed_ms,
                            after: ch.after.map(|s| s.identity),
                            resumed: ch.resumed,
                            deletions: ch.deletions,
                        });
                        reload.emit(());
                    }
                    FlowOutcome::ConflictReplanned(_) => {
                        notice.set(Some("Someone changed this resource after it was read (412 PreconditionFailed). It has been read again and the review below is re-planned against its current state, with your choice kept. Review it and apply again.".into()));
                        apply.set(Apply::Idle);
                        reload.emit(());
                    }
                    FlowOutcome::Noop(why) | FlowOutcome::Refused(why) => {
                        notice.set(Some(why));
                        apply.set(Apply::Idle);
                    }
                    FlowOutcome::Exists { id, .. } => {
                        notice.set(Some(format!("{id} exists already: nothing was replaced.")));
                        apply.set(Apply::Idle);
                    }
                    FlowOutcome::Failed(f) => apply.set(Apply::Failed {
                        error: ErrorView::from(&f.error),
                        not_sent: false,
                    }),
                    FlowOutcome::NotSent(f) => apply.set(Apply::Failed {
                        error: ErrorView::from(&f.error),
                        not_sent: true,
                    }),
                }
            });
        })
    };
    let retry = {
        let apply = apply.clone();
        let reload = props.reload.clone();
        Callback::from(move |_: MouseEvent| {
            apply.set(Apply::Idle);
            reload.emit(());
        })
    };
    let applied = matches!(**apply, Apply::Done { .. });
    let listing = offer.shown && matches!(**offer.cleanup, Load::Loading);
    html! {
        <div class="review" data-step="review">
            if let Some(n) = &**notice { <p class="notice" role="status" id="wizard-notice">{ n }</p> }
            { match &p.outcome {
                Outcome::Noop(why) if applied => html! { <p class="noop" role="status" id="outcome" data-outcome="noop">{ format!("Applied. Planned again against the state read back, there is nothing left to send: {why}") }</p> },
                Outcome::Noop(why) => html! { <p class="noop" role="status" id="outcome" data-outcome="noop">{ format!("Nothing to send: {why}") }</p> },
                Outcome::Refused(why) => html! { <p class="refusal" role="alert" id="outcome" data-outcome="refused">{ format!("Not possible: {why}") }</p> },
                Outcome::Requests(_) => html! { <p id="outcome" data-outcome="requests">{ format!("{} request{} will be sent, after you apply.", requests.len(), if requests.len() == 1 { "" } else { "s" }) }</p> },
            } }
            if !p.warnings.is_empty() {
                <ul class="warnings" id="warnings">
                    { for p.warnings.iter().map(|x| html! { <li data-code={format!("{:?}", x.code)}>{ &x.message }</li> }) }
                </ul>
            }
            if props.kind == WizardKind::RemoveLegacyExtension && st.kind.is_scale_set() {
                <label class="option"><input type="checkbox" id="upgrade-instances" checked={w.upgrade_instances} onchange={upgrade_toggle} />
                    { " Also apply the model to the instances (manualupgrade), needed on a Manual scale set for the extension to leave the VMs" }</label>
            }
            if !applied { { offer_view(&offer, running) } }
            <h4>{ "Before and after" }</h4>
            <IdentityDiff before={p.before.clone()} after={p.after.clone()} />
            if !requests.is_empty() {
                <h4>{ if requests.len() == 1 { "The exact request" } else { "The exact requests, in order" } }</h4>
                <Requests origin={origin} requests={requests.clone()} />
            }
            <h4>{ "Equivalent scripts" }</h4>
            <Scripts source={ScriptSource::Plan(scripts)} />
            <div class="apply-bar">
                if props.kind.needs_selection() {
                    <button type="button" class="button secondary" onclick={back} disabled={running}>{ "Back" }</button>
                }
                if can_send {
                    // not before the removed principal's role assignments are listed: what is sent is what was reviewed
                    <button type="button" class="button primary" id="apply" onclick={onapply} disabled={!s.read_write || running || listing}>{ "Apply" }</button>
                    if !s.read_write {
                        <span class="note" id="read-only-note">{ "Read-only: switch to read-write in the header to send this request." }</span>
                    }
                } else if s.client.is_none() {
                    <span class="note">{ "Not signed in: copy a script above." }</span>
                }
            </div>
            { match &**apply {
                Apply::Idle => html! {},
                Apply::Running { state, elapsed_ms } => html! {
                    <p class="progress" role="status" id="progress" aria-live="polite">
                        <progress aria-label="Operation in progress"></progress>
                        { format!(" {state} · {} s", crate::pages::seconds(*elapsed_ms)) }
                    </p>
                },
                Apply::Done { elapsed_ms, before, after, resumed, deletions } => html! {
                    <div class="done" role="status" id="result">
                        <p>{ format!("Succeeded in {} s{}. The identities read back:", crate::pages::seconds(*elapsed_ms), if *resumed { " (resumed after a dropped connection)" } else { "" }) }</p>
                        if let Some(a) = after {
                            <IdentityDiff before={before.clone()} after={a.clone()} />
                        }
                        { deletions_view(deletions) }
                        if let Some(a) = after {
                            <crate::components::grant::GrantAccess principals={crate::components::grant::principals_of(a)} scope={st.id.as_str().to_string()} />
                        }
                    </div>
                },
                Apply::Failed { error, not_sent } => html! {
                    <ErrorBox error={error.clone()}>
                        if *not_sent {
                            <p id="not-sent">{ "Azure did not acknowledge this change (or it was not sent), so nothing is claimed. Try again: the resource is read first and the change planned again." }</p>
                        }
                        <button type="button" class="button" id="retry" onclick={retry}>{ if *not_sent { "Try again" } else { "Read the resource again and retry" } }</button>
                    </ErrorBox>
                },
            } }
        </div>
    }
}

/// How each role assignment deletion ended (a failure with its error and hint, never hiding that the identity
/// change itself succeeded), then what the removed principals still hold, read again.
fn deletions_view(deletions: &[flow::Deletion]) -> Html {
    if deletions.is_empty() {
        return html! {};
    }
    let failed = deletions.iter().filter(|d| d.result.is_err()).count();
    let mut principals: Vec<String> = deletions
        .iter()
        .map(|d| d.assignment.principal_id.clone())
        .collect();
    principals.dedup();
    html! {
        <div class="deletions" id="deletions">
            <h4>{ "Role assignments of the removed principal" }</h4>
            <ul>
                { for deletions.iter().map(|d| {
                    let what = format!("{} at {}", d.assignment.role_label(), d.assignment.scope);
                    match &d.result {
                        Ok(()) => html! { <li data-deleted="true" data-assignment={d.assignment.id.clone()}>{ format!("Deleted: {what}") }</li> },
                        Err(f) => html! {
                            <li data-deleted="false" data-assignment={d.assignment.id.clone()}>
                                { format!("Not deleted: {what}") }
                                <ErrorBox error={ErrorView::from(&f.error)} />
                            </li>
                        },
                    }
                }) }
            </ul>
            if failed > 0 {
                <p class="warning" role="alert" id="deletions-failed">{ format!(
                    "The identity change succeeded; {failed} role assignment{} could not be deleted and {} still there (listed above with what to do): delete {} in the portal (Access control) or with the scripts.",
                    if failed == 1 { "" } else { "s" }, if failed == 1 { "is" } else { "are" }, if failed == 1 { "it" } else { "them" }) }</p>
            }
            <IdentityAccess id="orphans" title="Role assignments left for the removed principal (read again)"
                none="None: nothing is left behind (Resource Graph can take a minute to show a deletion made elsewhere)."
                principals={principals.into_iter().map(|p| Principal { label: "Removed principal".into(), principal_id: Some(p) }).collect::<Vec<_>>()} />
        </div>
    }
}
