//! One wizard on a scale set or VM: choose (assign / remove user-assigned), review (diff, exact
//! request, scripts), apply (read-write only) with progress to the end, and the result read back.
//! The steps and validation are identity-core's [`Wizard`] reducer; the apply is arm-client's
//! flow ([`arm_client::flow::change_identity`]); this file renders both.

use crate::components::error::{ErrorBox, ErrorView};
use crate::components::review::{IdentityDiff, Requests, ScriptSource, Scripts};
use crate::hooks::{Load, use_arm};
use crate::lazy::Lazy;
use crate::nav::Link;
use crate::pages::create::NewIdentityProps;
use crate::session::use_session;
use arm_client::flow::{self, Outcome as FlowOutcome, Wait};
use arm_client::{ArmClient, ArmError, ops};
use identity_core::plan::Outcome;
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

/// The plan of the operation against the state, and what its scripts are generated from: computed
/// once per (state, operation), not on every progress tick.
type Planned = Option<(Operation, Plan, ScriptPlan)>;

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
    let planned: Rc<Planned> = use_memo(
        (st.clone(), w.operation().ok(), cloud),
        |(st, op, cloud)| {
            op.clone().map(|op| {
                let p = plan(st, &op);
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
        Step::Review => review(props, &s, w, &planned, &model, &apply, &notice),
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

fn review(
    props: &WizardProps,
    s: &crate::session::Session,
    w: &Wizard,
    planned: &Planned,
    model: &UseReducerHandle<Model>,
    apply: &UseStateHandle<Apply>,
    notice: &UseStateHandle<Option<String>>,
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
    let requests = p.requests().to_vec();
    let can_send = s.client.is_some() && !requests.is_empty();
    let running = matches!(**apply, Apply::Running { .. });
    let onapply = {
        let apply = apply.clone();
        let notice = notice.clone();
        let client = s.client.clone();
        let reload = props.reload.clone();
        let st = st.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(client) = client.clone() else { return };
            let (apply, notice, reload, st, op) = (
                apply.clone(),
                notice.clone(),
                reload.clone(),
                st.clone(),
                op.clone(),
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
                    op => flow::change_identity(&client, &st, &op, &mut events).await,
                };
                match out {
                    FlowOutcome::Applied(ch) => {
                        apply.set(Apply::Done {
                            before: ch.before,
                            elapsed_ms: ch.elapsed_ms,
                            after: ch.after.map(|s| s.identity),
                            resumed: ch.resumed,
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
    html! {
        <div class="review" data-step="review">
            if let Some(n) = &**notice { <p class="notice" role="status" id="wizard-notice">{ n }</p> }
            { match &p.outcome {
                Outcome::Noop(why) if applied => html! { <p class="noop" role="status" id="outcome" data-outcome="noop">{ format!("Applied. Planned again against the state read back, there is nothing left to send: {why}") }</p> },
                Outcome::Noop(why) => html! { <p class="noop" role="status" id="outcome" data-outcome="noop">{ format!("Nothing to send: {why}") }</p> },
                Outcome::Refused(why) => html! { <p class="refusal" role="alert" id="outcome" data-outcome="refused">{ format!("Not possible: {why}") }</p> },
                Outcome::Requests(r) => html! { <p id="outcome" data-outcome="requests">{ format!("{} request{} will be sent, after you apply.", r.len(), if r.len() == 1 { "" } else { "s" }) }</p> },
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
            <h4>{ "Before and after" }</h4>
            <IdentityDiff before={p.before.clone()} after={p.after.clone()} />
            if !requests.is_empty() {
                <h4>{ "The exact request" }</h4>
                <Requests origin={origin} requests={requests.clone()} />
            }
            <h4>{ "Equivalent scripts" }</h4>
            <Scripts source={ScriptSource::Plan(scripts)} />
            <div class="apply-bar">
                if props.kind.needs_selection() {
                    <button type="button" class="button secondary" onclick={back} disabled={running}>{ "Back" }</button>
                }
                if can_send {
                    <button type="button" class="button primary" id="apply" onclick={onapply} disabled={!s.read_write || running}>{ "Apply" }</button>
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
                Apply::Done { elapsed_ms, before, after, resumed } => html! {
                    <div class="done" role="status" id="result">
                        <p>{ format!("Succeeded in {} s{}. The identities read back:", crate::pages::seconds(*elapsed_ms), if *resumed { " (resumed after a dropped connection)" } else { "" }) }</p>
                        if let Some(a) = after {
                            <IdentityDiff before={before.clone()} after={a.clone()} />
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
