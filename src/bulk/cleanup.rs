//! From an identity's page: "Remove from every resource that uses it" (a button the identity page shows), and
//! after that batch, optionally delete the identity (`DELETE` with `If-Match`) and its role assignments.

use super::run::{self, IdentityToDelete};
use super::spec::name_of;
use crate::nav::use_nav;
use crate::session::use_session;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RemoveEverywhereProps {
    /// The user-assigned identity's id.
    pub identity: AttrValue,
    /// The scale sets and VMs that use it.
    pub users: Rc<Vec<String>>,
}

/// "Remove from every resource that uses it": the bulk review with those resources selected.
#[component]
pub fn RemoveEverywhere(props: &RemoveEverywhereProps) -> Html {
    let nav = use_nav();
    let failed = use_state(|| false);
    let onclick = {
        let (id, users, nav, failed) = (
            props.identity.to_string(),
            props.users.clone(),
            nav.clone(),
            failed.clone(),
        );
        Callback::from(
            move |_| match super::remove_everywhere(&id, (*users).clone()) {
                Some(route) => nav.go.emit(route),
                None => failed.set(true),
            },
        )
    };
    let n = props.users.len();
    html! {
        <>
            <button type="button" id="bulk-remove-everywhere" onclick={onclick} disabled={n == 0}>
                { format!("Remove from every resource that uses it ({n})") }
            </button>
            if *failed {
                <p class="error" role="alert">{ "The browser refused to keep the selection (storage is off or full); allow site storage and try again." }</p>
            }
        </>
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Idle,
    Reading,
    Ready(Rc<IdentityToDelete>),
    Deleting,
    Done(String),
    Failed(String),
}

#[derive(Properties, PartialEq)]
pub struct DeleteIdentityProps {
    pub identity: AttrValue,
}

/// After the batch: check, then delete the identity and its role assignments.
#[component]
pub fn DeleteIdentity(props: &DeleteIdentityProps) -> Html {
    let s = use_session();
    let step = use_state(|| Step::Idle);
    let name = name_of(&props.identity).to_string();
    let check = {
        let (step, s, id) = (step.clone(), s.clone(), props.identity.to_string());
        Callback::from(move |_| {
            let (_, client, notice) = s.connector.access();
            let Some(client) = client else {
                step.set(Step::Failed(notice.unwrap_or_default()));
                return;
            };
            step.set(Step::Reading);
            let (step, id) = (step.clone(), id.clone());
            wasm_bindgen_futures::spawn_local(async move {
                step.set(match run::prepare_delete(&client, &id).await {
                    Ok(d) => Step::Ready(Rc::new(d)),
                    Err(e) => Step::Failed(e),
                });
            });
        })
    };
    let body = match (*step).clone() {
        Step::Idle => html! {
            <button type="button" class="secondary" id="bulk-delete-check" onclick={check}>{ format!("Delete {name}…") }</button>
        },
        Step::Reading => {
            html! { <p role="status">{ format!("Reading {name} and its role assignments…") }</p> }
        }
        Step::Deleting => html! { <p role="status">{ format!("Deleting {name}…") }</p> },
        Step::Done(m) => html! { <p role="status" id="bulk-delete-done">{ m }</p> },
        Step::Failed(e) => html! {
            <>
                <p class="error" role="alert" id="bulk-delete-error">{ e }</p>
                <button type="button" class="secondary" onclick={check}>{ "Check again" }</button>
            </>
        },
        Step::Ready(d) => {
            let delete = {
                let (step, s, d) = (step.clone(), s.clone(), d.clone());
                Callback::from(move |_| {
                    let (_, client, _) = s.connector.access();
                    let Some(client) = client else { return };
                    step.set(Step::Deleting);
                    let (step, d) = (step.clone(), d.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        step.set(match run::delete_identity(&client, &d).await {
                            Ok(m) => Step::Done(m),
                            Err(e) => Step::Failed(e),
                        });
                    });
                })
            };
            let n = d.assignments.len();
            html! {
                <>
                    <p>{ format!("{name} (principal {}) has {n} role assignment{}:", d.principal_id, if n == 1 { "" } else { "s" }) }</p>
                    <ul id="bulk-delete-assignments">{ for d.assignments.iter().map(|a| html! { <li class="mono">{ a.clone() }</li> }) }</ul>
                    <p>{ format!("DELETE each role assignment, then DELETE {} with If-Match: {}.", d.id, d.etag.clone().unwrap_or_else(|| "(no etag read)".into())) }</p>
                    if !s.read_write {
                        <p class="notice" role="status">{ "Read-only: turn on \u{201c}Allow changes\u{201d} in the header to delete." }</p>
                    }
                    <button type="button" id="bulk-delete" onclick={delete} disabled={!s.read_write}>
                        { format!("Delete {name} and its {n} role assignment{}", if n == 1 { "" } else { "s" }) }
                    </button>
                </>
            }
        }
    };
    html! {
        <section class="bulk-delete" aria-labelledby="bulk-delete-h">
            <h4 id="bulk-delete-h">{ format!("Then delete {name}?") }</h4>
            <p>{ "Optional: the identity is no longer used by the resources of this batch. Deleting it also deletes its role assignments; resources elsewhere that still use it lose it." }</p>
            { body }
        </section>
    }
}
