//! The identity page (`/subscriptions/…/userAssignedIdentities/{name}`, issue 16): one user-assigned identity —
//! what it is, who uses it across the tenant (every scale set and VM whose identity map holds it) and the role
//! assignments of its principal. It reads the inventory this session loaded when there is one (complete, and no
//! change sent since), otherwise the few focused Resource Graph queries of [`super::run::run_identity`]. A partial
//! or failed load is said as such. Part of the inventory's module (it loads with the inventory's wasm).

use super::run::{Loaded, Progress, run_identity};
use crate::nav::Link;
use crate::session::{Connector, LogEntry, use_session};
use arm_client::inventory::CancelFlag;
use identity_core::inventory::{Inventory, RoleAssignmentRow};
use identity_core::resource_id::{IdKind, ResourceId};
use identity_core::route::Route;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use yew::prelude::*;

// ---- the inventory this session loaded (the inventory page hands it over) ----

struct Remembered {
    connector: Weak<Connector>,
    /// Changes sent when it was loaded (see [`changes`]).
    changes: usize,
    loaded: Rc<Loaded>,
}

thread_local! {
    static LAST: RefCell<Option<Remembered>> = const { RefCell::new(None) };
}

/// Requests of the session's log that change something (anything but a GET or a Resource Graph query).
fn changes(log: &[LogEntry]) -> usize {
    log.iter()
        .filter(|e| {
            !(e.method.eq_ignore_ascii_case("GET")
                || e.method.eq_ignore_ascii_case("POST")
                    && e.path
                        .to_ascii_lowercase()
                        .starts_with("/providers/microsoft.resourcegraph/"))
        })
        .count()
}

/// Keeps a complete inventory the inventory page loaded, for the identity pages of this session (same sign-in,
/// same tenant: the same [`Connector`]).
pub fn remember(connector: &Rc<Connector>, loaded: &Rc<Loaded>) {
    if !loaded.is_complete() {
        return;
    }
    let changes = changes(&connector.log.borrow());
    LAST.with(|l| {
        *l.borrow_mut() = Some(Remembered {
            connector: Rc::downgrade(connector),
            changes,
            loaded: loaded.clone(),
        })
    });
}

/// The inventory [`remember`] kept, when it is of this connector and nothing was changed since.
fn remembered(connector: &Rc<Connector>) -> Option<Rc<Loaded>> {
    let now = changes(&connector.log.borrow());
    LAST.with(|l| {
        l.borrow()
            .as_ref()
            .filter(|r| r.connector.ptr_eq(&Rc::downgrade(connector)) && r.changes == now)
            .map(|r| r.loaded.clone())
    })
}

// ---- the page ----

/// Where the page's data is.
#[derive(Debug, Clone, PartialEq)]
pub enum IdentityLoad {
    /// No ARM access (snippet-only): the notice.
    Offline(String),
    Loading(Progress),
    /// The subscriptions could not be listed.
    Failed(String),
    /// Read: `from_inventory` when it is the inventory this session loaded.
    Done {
        loaded: Rc<Loaded>,
        from_inventory: bool,
    },
}

#[derive(Properties, PartialEq)]
pub struct IdentityPageProps {
    /// The identity's ARM id (as in the address).
    pub id: String,
    /// The state to start from (tests render a given state; the page starts loading when `None`).
    #[prop_or_default]
    pub initial: Option<IdentityLoad>,
}

/// `(subscription, group, name)` of the id.
fn parts(id: &str) -> (String, String, String) {
    ResourceId::parse(id)
        .ok()
        .filter(|r| r.kind() == IdKind::UserAssignedIdentity)
        .map(|r| {
            (
                r.subscription().to_string(),
                r.resource_group().unwrap_or_default().to_string(),
                r.name().to_string(),
            )
        })
        .unwrap_or_default()
}

/// The identity page.
#[component]
pub fn IdentityPage(props: &IdentityPageProps) -> Html {
    let s = use_session();
    let state = use_state(|| props.initial.clone());
    // 0: the inventory of this session when there is one; more: "Read again" (the focused queries)
    let attempt = use_state(|| 0u32);
    let cancel = use_mut_ref(CancelFlag::new);
    {
        let state = state.clone();
        let cancel = cancel.clone();
        let connector = s.connector.clone();
        let has_initial = props.initial.is_some();
        // (the connector changes when the sign-in does: after a reload MSAL signs in after the first render)
        use_effect_with(
            (
                props.id.clone(),
                *attempt,
                Rc::as_ptr(&s.connector) as usize,
            ),
            move |(id, n, _): &(String, u32, usize)| {
                // a load still running (another identity, or before "Read again") stops here
                let flag = CancelFlag::new();
                *cancel.borrow_mut() = flag.clone();
                if *n > 0 || !has_initial {
                    let (_, client, notice) = connector.access();
                    let cached = (*n == 0).then(|| remembered(&connector)).flatten();
                    match (client, cached) {
                        (_, Some(loaded)) => state.set(Some(IdentityLoad::Done {
                            loaded,
                            from_inventory: true,
                        })),
                        (None, None) => {
                            state.set(Some(IdentityLoad::Offline(notice.unwrap_or_else(|| {
                                "Not signed in: sign in to read the identity.".into()
                            }))))
                        }
                        (Some(client), None) => {
                            state.set(Some(IdentityLoad::Loading(Progress::default())));
                            let (st, id, flag) = (state.clone(), id.clone(), flag.clone());
                            wasm_bindgen_futures::spawn_local(async move {
                                let on = {
                                    let (st, flag) = (st.clone(), flag.clone());
                                    move |p: Progress| {
                                        if !flag.is_cancelled() {
                                            st.set(Some(IdentityLoad::Loading(p)))
                                        }
                                    }
                                };
                                let r = run_identity(client, id, flag.clone(), on).await;
                                st.set(Some(match r {
                                    Ok(l) => IdentityLoad::Done {
                                        loaded: Rc::new(l),
                                        from_inventory: false,
                                    },
                                    Err(e) => IdentityLoad::Failed(e),
                                }));
                            });
                        }
                    }
                }
                move || flag.cancel()
            },
        );
    }
    let reload = {
        let attempt = attempt.clone();
        Callback::from(move |_| attempt.set(*attempt + 1))
    };
    let on_cancel = {
        let cancel = cancel.clone();
        Callback::from(move |_| cancel.borrow().cancel())
    };
    let (sub, rg, name) = parts(&props.id);
    let body = match (*state).clone() {
        None => html! { <p role="status">{ "Starting…" }</p> },
        Some(IdentityLoad::Offline(notice)) => html! {
            <p class="notice" role="status">{ notice }</p>
        },
        Some(IdentityLoad::Failed(e)) => html! {
            <section class="error" role="alert">
                <p>{ e }</p>
                <button type="button" onclick={reload}>{ "Load again" }</button>
            </section>
        },
        Some(IdentityLoad::Loading(p)) => super::page::progress_view("identity", &p, on_cancel),
        Some(IdentityLoad::Done {
            loaded,
            from_inventory,
        }) => html! {
            <IdentityDetails id={props.id.clone()} {loaded} {from_inventory} {reload} />
        },
    };
    html! {
        <section class="identity-page">
            <nav aria-label="Breadcrumb" class="crumbs">
                <Link to={Route::Home}>{ "Start" }</Link>{ " / " }
                <Link to={Route::Inventory { query: String::new() }}>{ "Inventory" }</Link>{ " / " }
                <span aria-current="page">{ name.clone() }</span>
            </nav>
            <h2 id="identity-name">{ name }</h2>
            <p>{ "A user-assigned managed identity: who uses it across the subscriptions you can read, and what its principal may access." }</p>
            if sub.is_empty() || rg.is_empty() {
                <p class="error" role="alert">{ format!("{} is not the resource id of a user-assigned identity.", props.id) }</p>
            }
            { body }
            <super::scripts::GraphScripts identity={Some(props.id.clone())} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct DetailsProps {
    pub id: String,
    pub loaded: Rc<Loaded>,
    pub from_inventory: bool,
    pub reload: Callback<MouseEvent>,
}

/// The role's name (or its GUID when the name was not read).
fn role_label(a: &RoleAssignmentRow) -> String {
    a.role_name.clone().unwrap_or_else(|| {
        let guid = a.role_definition_id.rsplit('/').next().unwrap_or_default();
        format!("role {guid} (name not read)")
    })
}

fn dash(s: &str) -> String {
    if s.is_empty() {
        "—".into()
    } else {
        s.to_string()
    }
}

/// What was read: the facts, the users and the role assignments.
#[component]
pub fn IdentityDetails(props: &DetailsProps) -> Html {
    let l = &props.loaded;
    let inv: &Inventory = &l.inventory;
    let (sub, rg, name) = parts(&props.id);
    let row = inv.identity(&props.id);
    let sub_name = row.map(|r| r.subscription_name.clone()).unwrap_or_else(|| {
        l.subscriptions
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(&sub))
            .map(|(_, n)| n.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| sub.clone())
    });
    let principal = row.map(|r| r.principal_id.clone()).unwrap_or_default();
    let mut users = inv.users_of(&props.id);
    users.sort_by(|a, b| {
        (a.name.to_lowercase(), a.id.to_lowercase())
            .cmp(&(b.name.to_lowercase(), b.id.to_lowercase()))
    });
    let mut roles = inv.assignments_of(&principal);
    roles.sort_by(|a, b| (role_label(a), &a.scope).cmp(&(role_label(b), &b.scope)));
    let source = if props.from_inventory {
        "From the inventory loaded in this session."
    } else {
        "Read from Azure Resource Graph just now."
    };
    html! {
        <>
            if !l.is_complete() {
                <section class="partial" role="alert" id="identity-partial">
                    <p><strong>{ "Partial result: " }</strong>{ "not everything was read, so the users and role assignments below may be incomplete." }</p>
                    <ul>{ for l.partial.iter().map(|r| html! { <li>{ r.clone() }</li> }) }</ul>
                    <button type="button" onclick={props.reload.clone()}>{ "Load again" }</button>
                </section>
            } else {
                <p class="done" role="status" id="identity-complete">
                    { source }{ " " }
                    <button type="button" class="secondary" id="identity-reload" onclick={props.reload.clone()}>{ "Read again" }</button>
                </p>
            }
            if row.is_none() {
                <p class="warning" role="note" id="identity-missing">
                    { "Resource Graph did not return this identity: it was deleted, or it is in a subscription you cannot read. The resources that still name it are listed; its role assignments cannot be read without its principal id." }
                </p>
            }
            <div class="facts" id="identity-facts"><dl>
                <dt>{ "Name" }</dt><dd>{ row.map(|r| r.name.clone()).unwrap_or(name) }</dd>
                <dt>{ "Resource group" }</dt><dd>{ row.map(|r| r.resource_group.clone()).unwrap_or(rg) }</dd>
                <dt>{ "Subscription" }</dt><dd id="identity-subscription">{ sub_name }</dd>
                <dt>{ "Region" }</dt><dd>{ dash(row.map(|r| r.location.as_str()).unwrap_or_default()) }</dd>
                <dt>{ "Client id" }</dt><dd><code id="identity-client-id">{ dash(row.map(|r| r.client_id.as_str()).unwrap_or_default()) }</code></dd>
                <dt>{ "Principal id" }</dt><dd><code id="identity-principal-id">{ dash(&principal) }</code></dd>
                <dt>{ "Resource id" }</dt><dd><code>{ props.id.clone() }</code></dd>
            </dl></div>
            <section aria-labelledby="identity-users-h">
                <h3 id="identity-users-h">{ format!("Used by ({})", users.len()) }</h3>
                <p>{ "Every scale set and VM, in every subscription you can read, whose identities include this one." }</p>
                if users.is_empty() {
                    <p id="identity-users">{ "No scale set or VM uses it." }</p>
                } else {
                    <table id="identity-users">
                        <caption class="sr-only">{ "Scale sets and VMs that use this identity" }</caption>
                        <thead><tr>
                            <th scope="col">{ "Name" }</th><th scope="col">{ "Kind" }</th><th scope="col">{ "Subscription" }</th>
                            <th scope="col">{ "Resource group" }</th><th scope="col">{ "Region" }</th>
                        </tr></thead>
                        <tbody>
                            { for users.iter().map(|r| html! {
                                <tr key={r.id.clone()} data-id={r.id.clone()}>
                                    <th scope="row"><Link to={Route::Resource { id: r.id.clone(), wizard: None }}>{ r.name.clone() }</Link></th>
                                    <td>{ r.kind.label() }</td>
                                    <td>{ r.subscription_name.clone() }</td>
                                    <td>{ r.resource_group.clone() }</td>
                                    <td>{ r.location.clone() }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                    if l.is_complete() {
                        // a bulk change with these users selected (the review reads each again first)
                        <crate::bulk::cleanup::RemoveEverywhere identity={props.id.clone()}
                            users={std::rc::Rc::new(users.iter().map(|r| r.id.clone()).collect::<Vec<_>>())} />
                    }
                }
            </section>
            <section aria-labelledby="identity-roles-h">
                <h3 id="identity-roles-h">{ format!("Role assignments ({})", roles.len()) }</h3>
                if principal.is_empty() {
                    <p id="identity-roles">{ "Not read: the identity's principal id is unknown." }</p>
                } else if roles.is_empty() {
                    <p id="identity-roles">{ "Its principal holds no role assignment in the subscriptions you can read." }</p>
                } else {
                    <table id="identity-roles">
                        <caption class="sr-only">{ "Role assignments of this identity's principal" }</caption>
                        <thead><tr><th scope="col">{ "Role" }</th><th scope="col">{ "Scope" }</th><th scope="col">{ "Condition" }</th></tr></thead>
                        <tbody>
                            { for roles.iter().map(|a| html! {
                                <tr key={a.id.clone()} data-id={a.id.clone()}>
                                    <th scope="row">{ role_label(a) }</th>
                                    <td><code>{ a.scope.clone() }</code></td>
                                    <td>
                                        if let Some(c) = &a.condition { <code>{ c.clone() }</code> } else { { "none" } }
                                    </td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                }
            </section>
        </>
    }
}
