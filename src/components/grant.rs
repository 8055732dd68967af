//! Grant access: a role assignment for a managed identity's principal. Role picker with search
//! over the subscription's role definitions, scope picker (subscription / group / resource),
//! principalType ServicePrincipal, a random GUID as the assignment's name (made here, in the
//! browser), the request and the scripts before sending; sending is arm-client's flow
//! ([`arm_client::flow::grant_role`]: `PrincipalNotFound` while a new principal replicates is
//! waited out there), shown here with its countdown.

use crate::components::error::{ErrorBox, ErrorView};
use crate::components::review::{Requests, ScriptSource, Scripts};
use crate::guid::new_guid;
use crate::hooks::{Load, use_arm};
use crate::session::use_session;
use arm_client::{ArmClient, ops};
use identity_core::IdentityState;
use identity_core::create::{RoleAssignmentSpec, role_assignment};
use identity_core::create_wizard::{grant_scopes, search_roles};
use identity_core::scripts::ScriptPlan;
use std::rc::Rc;
use yew::prelude::*;

/// A principal that can be granted a role.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// "system-assigned" or the user-assigned identity's name.
    pub label: String,
    /// The principal (object) id; `None` while Azure has not issued it yet.
    pub principal_id: Option<String>,
}

/// The principals of a resource's identities.
pub fn principals_of(id: &IdentityState) -> Vec<Principal> {
    let mut out = Vec::new();
    if id.system_assigned {
        out.push(Principal {
            label: "system-assigned".into(),
            principal_id: id.principal_id.clone(),
        });
    }
    for u in &id.user_assigned {
        out.push(Principal {
            label: format!("user-assigned {}", u.name()),
            principal_id: u.principal_id.clone(),
        });
    }
    out
}

use arm_client::flow::{self, Outcome, PRINCIPAL_ATTEMPTS as ATTEMPTS, Wait};

#[derive(Debug, Clone, PartialEq)]
enum Send {
    Idle,
    Sending { attempt: u32 },
    Waiting { attempt: u32, seconds: u64 },
    Throttled { seconds: u64 },
    Done { id: String },
    Failed(ErrorView),
}

#[derive(Properties, PartialEq)]
pub struct GrantProps {
    pub principals: Vec<Principal>,
    /// The resource (or group) the identity belongs to: the scopes offered derive from it.
    pub scope: String,
}

/// The "Grant access" section (nothing where there is no identity to grant a role to).
#[component]
pub fn GrantAccess(props: &GrantProps) -> Html {
    let s = use_session();
    let open = use_state(|| false);
    let who = use_state(|| 0usize);
    let query = use_state(String::new);
    let role = use_state(|| None::<(String, String)>);
    let scopes = grant_scopes(&props.scope);
    let scope = use_state(|| scopes.len().saturating_sub(1));
    let name = use_state(new_guid);
    let send = use_state(|| Send::Idle);
    let sub_scope = scopes.first().map(|(_, s)| s.clone()).unwrap_or_default();
    let want = *open;
    let roles = use_arm(
        format!("roles:{sub_scope}:{want}"),
        move |c: Rc<ArmClient>| async move {
            if !want || sub_scope.is_empty() {
                return Ok(Rc::new(Vec::new()));
            }
            let req = ops::list_role_definitions(&sub_scope, None)?;
            let v: Vec<arm_client::RoleDefinition> = c.list(req).collect_all().await?;
            Ok(Rc::new(v))
        },
    );
    if props.principals.is_empty() {
        // no identity: nothing could be granted a role
        return html! {};
    }
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let head = html! {
        <button type="button" class="button secondary" id="grant-open" aria-expanded={want.to_string()} aria-controls="grant" onclick={toggle}>
            { if want { "Hide: grant access" } else { "Grant access: add a role assignment for this identity" } }
        </button>
    };
    if !want {
        return html! { <div class="grant-closed">{ head }</div> };
    }
    let usable: Vec<&Principal> = props
        .principals
        .iter()
        .filter(|p| p.principal_id.is_some())
        .collect();
    if usable.is_empty() {
        return html! {
            <div class="grant" id="grant">{ head }
                <p class="note">{ "No identity here has a principal id yet: grant a role once the identity exists." }</p>
            </div>
        };
    }
    let principal = usable[(*who).min(usable.len() - 1)];
    let list: Vec<arm_client::RoleDefinition> = match &*roles {
        Load::Ready(v) => (**v).clone(),
        _ => Vec::new(),
    };
    let pairs: Vec<(&str, &str)> = list
        .iter()
        .map(|r| {
            (
                r.properties.role_name.as_str(),
                r.properties.description.as_deref().unwrap_or(""),
            )
        })
        .collect();
    let hits = search_roles(&pairs, &query);
    let spec = role.as_ref().and_then(|(id, _)| {
        scopes.get(*scope).map(|(_, sc)| RoleAssignmentSpec {
            scope: sc.clone(),
            role_definition: id.clone(),
            principal_id: principal.principal_id.clone().unwrap_or_default(),
            assignment_name: (*name).clone(),
        })
    });
    let on_query = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            query.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .value(),
            )
        })
    };
    let on_who = {
        let who = who.clone();
        Callback::from(move |e: Event| {
            let v = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            who.set(v.parse().unwrap_or(0));
        })
    };
    let busy = matches!(
        *send,
        Send::Sending { .. } | Send::Waiting { .. } | Send::Throttled { .. }
    );
    let onsend = {
        let (client, send, spec, name) =
            (s.client.clone(), send.clone(), spec.clone(), name.clone());
        Callback::from(move |_: MouseEvent| {
            let (Some(client), Some(spec)) = (client.clone(), spec.clone()) else {
                return;
            };
            let send = send.clone();
            let name = name.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let h = send.clone();
                let mut attempt = 1;
                let mut events = move |e: &flow::Event| match e {
                    flow::Event::Sending { .. } => h.set(Send::Sending { attempt }),
                    flow::Event::Waiting {
                        why: Wait::PrincipalNotFound,
                        attempt: a,
                        seconds_left,
                        ..
                    } => {
                        attempt = a + 1;
                        h.set(Send::Waiting {
                            attempt: *a,
                            seconds: *seconds_left,
                        })
                    }
                    flow::Event::Waiting {
                        why: Wait::Throttled,
                        seconds_left,
                        ..
                    } => h.set(Send::Throttled {
                        seconds: *seconds_left,
                    }),
                    flow::Event::Progress { .. } | flow::Event::Resuming { .. } => {}
                };
                match flow::grant_role(&client, &spec, &mut events).await {
                    Outcome::Applied(id) => {
                        send.set(Send::Done { id });
                        // a next grant gets a new name
                        name.set(new_guid());
                    }
                    Outcome::Failed(f) | Outcome::NotSent(f) => {
                        send.set(Send::Failed(ErrorView::from(&f.error)))
                    }
                    Outcome::Noop(why) | Outcome::Refused(why) => {
                        send.set(Send::Failed(ErrorView::plain("Not sent", why)))
                    }
                    Outcome::Exists { .. } | Outcome::ConflictReplanned(_) => {
                        send.set(Send::Failed(ErrorView::plain(
                            "Not changed",
                            "Azure answered 412 to a new role assignment: nothing was changed. Read the role assignments and try again.",
                        )))
                    }
                }
            });
        })
    };
    let origin = s
        .client
        .as_ref()
        .map(|c| c.origin().to_string())
        .unwrap_or_else(|| s.cloud.arm_endpoint.clone());
    html! {
        <div class="grant" id="grant">
            { head }
            <h4 id="grant-title">{ "Grant access" }</h4>
            if usable.len() > 1 {
                <div class="field">
                    <label for="grant-principal">{ "Identity" }</label>
                    <select id="grant-principal" onchange={on_who}>
                        { for usable.iter().enumerate().map(|(i, p)| html! {
                            <option value={i.to_string()} selected={i == *who}>{ format!("{} ({})", p.label, p.principal_id.clone().unwrap_or_default()) }</option>
                        }) }
                    </select>
                </div>
            } else {
                <p id="grant-principal">{ format!("Identity: {} (principal {})", principal.label, principal.principal_id.clone().unwrap_or_default()) }</p>
            }
            <div class="field">
                <label for="grant-role-search">{ "Search roles" }</label>
                <input id="grant-role-search" type="search" value={(*query).clone()} oninput={on_query} autocomplete="off" />
            </div>
            { match &*roles {
                Load::Loading => html! { <p class="loading" role="status">{ "Reading role definitions…" }</p> },
                Load::Failed(e) => html! { <ErrorBox error={e.clone()} /> },
                _ => html! {},
            } }
            <fieldset class="choices" id="grant-roles">
                <legend>{ format!("Role ({} of {})", hits.len(), list.len()) }</legend>
                { for hits.iter().take(25).map(|&i| {
                    let r = &list[i];
                    let pick = { let role = role.clone(); let v = (r.id.clone(), r.properties.role_name.clone()); Callback::from(move |_: Event| role.set(Some(v.clone()))) };
                    let input_id = crate::dom_id::dom_id("role-", &r.name);
                    let on = role.as_ref().is_some_and(|(id, _)| *id == r.id);
                    html! {
                        <div class="choice" data-role={r.properties.role_name.clone()}>
                            <input type="radio" name="grant-role" id={input_id.clone()} checked={on} onchange={pick} />
                            <label for={input_id}><strong>{ &r.properties.role_name }</strong>
                                <span class="detail">{ format!(" · {}", r.properties.description.clone().unwrap_or_default()) }</span></label>
                        </div>
                    }
                }) }
            </fieldset>
            <fieldset class="radios" id="grant-scope">
                <legend>{ "Scope" }</legend>
                { for scopes.iter().enumerate().map(|(i, (kind, sc))| {
                    let pick = { let scope = scope.clone(); Callback::from(move |_: Event| scope.set(i)) };
                    let id = format!("grant-scope-{}", kind.replace(' ', "-"));
                    html! {
                        <label for={id.clone()} class="radio">
                            <input type="radio" name="grant-scope" id={id} checked={i == *scope} onchange={pick} />
                            { format!(" {kind}: {sc}") }
                        </label>
                    }
                }) }
            </fieldset>
            if let Some(spec) = &spec {
                { {
                    let plan = role_assignment(spec);
                    html! {
                        <>
                            if let Some(why) = plan.refusal() { <p class="refusal" role="alert">{ format!("Not possible: {why}") }</p> }
                            if !plan.warnings.is_empty() {
                                <ul class="warnings">{ for plan.warnings.iter().map(|x| html! { <li>{ &x.message }</li> }) }</ul>
                            }
                            <Requests prefix="grant-" origin={origin.clone()} requests={plan.requests().to_vec()} />
                            <Scripts prefix="grant-" source={ScriptSource::Plan(ScriptPlan::from_role_assignment(s.config.script_cloud(), spec, &plan))} />
                            if s.client.is_some() && plan.refusal().is_none() {
                                <button type="button" class="button primary" id="grant-apply" onclick={onsend} disabled={!s.read_write || busy}>
                                    { format!("Assign {}", role.as_ref().map(|(_, n)| n.as_str()).unwrap_or("")) }
                                </button>
                                if !s.read_write { <span class="note">{ "Read-only: switch to read-write in the header to send it." }</span> }
                            }
                        </>
                    }
                } }
            }
            { match &*send {
                Send::Idle => html! {},
                Send::Sending { attempt } => html! { <p class="progress" role="status" id="grant-progress">{ format!("Sending (attempt {attempt})…") }</p> },
                Send::Waiting { attempt, seconds } => html! {
                    <p class="progress" role="status" id="grant-countdown" aria-live="polite" data-seconds={seconds.to_string()}>
                        { format!("Azure does not know this principal yet (PrincipalNotFound: a new identity takes a while to replicate). Attempt {attempt} of {ATTEMPTS}; retrying in {seconds} s…") }
                    </p>
                },
                Send::Throttled { seconds } => html! {
                    <p class="progress" role="status" id="grant-countdown" aria-live="polite" data-seconds={seconds.to_string()}>
                        { format!("Azure is throttling requests: retrying in {seconds} s…") }
                    </p>
                },
                Send::Done { id } => html! { <p class="done" role="status" id="grant-result">{ format!("Role assignment created: {id}") }</p> },
                Send::Failed(e) => html! { <ErrorBox error={e.clone()} /> },
            } }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct IdentityGrantProps {
    /// A user-assigned identity's id.
    pub id: String,
}

/// Grant access for one user-assigned identity (read to learn its principal id).
#[component]
pub fn IdentityGrant(props: &IdentityGrantProps) -> Html {
    let id = props.id.clone();
    let load = use_arm(format!("uai:{id}"), move |c: Rc<ArmClient>| async move {
        let req = ops::get_resource(&id)?;
        let v: serde_json::Value = c.send_json(&req).await?;
        Ok(Rc::new(v))
    });
    match &*load {
        Load::Ready(v) => {
            let p = Principal {
                label: format!(
                    "user-assigned {}",
                    v.get("name").and_then(|x| x.as_str()).unwrap_or_default()
                ),
                principal_id: v
                    .pointer("/properties/principalId")
                    .and_then(|x| x.as_str())
                    .map(str::to_string),
            };
            html! { <GrantAccess principals={vec![p]} scope={props.id.clone()} /> }
        }
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} /> },
        _ => html! {},
    }
}
