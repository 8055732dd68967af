//! Pickers: subscription → resource group → scale set or VM. Every list is read through the
//! ARM client (all `nextLink` pages), filtered as you type.

use crate::components::signin::{AuthAction, AuthContext, Phase};
use crate::hooks::{Load, remember_subscription, show, use_arm, use_subscription_name};
use crate::nav::Link;
use arm_client::{ArmClient, ops};
use identity_core::resource::ResourceKind;
use identity_core::route::Route;
use identity_core::{IdentityState, ResourceState};
use std::rc::Rc;
use yew::prelude::*;

/// One row of a picker.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub title: String,
    pub detail: String,
    pub to: Route,
}

#[derive(Properties, PartialEq)]
pub struct FilterListProps {
    pub label: AttrValue,
    pub items: Rc<Vec<Item>>,
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// At most this many rows are rendered; the filter narrows the rest.
const SHOWN: usize = 200;

/// A list with a type-to-filter box.
#[component]
pub fn FilterList(props: &FilterListProps) -> Html {
    let filter = use_state(String::new);
    let oninput = {
        let filter = filter.clone();
        Callback::from(move |e: InputEvent| {
            let v = e
                .target_unchecked_into::<web_sys::HtmlInputElement>()
                .value();
            filter.set(v);
        })
    };
    let f = filter.to_lowercase();
    let matching: Vec<&Item> = props
        .items
        .iter()
        .filter(|i| {
            f.is_empty()
                || i.title.to_lowercase().contains(&f)
                || i.detail.to_lowercase().contains(&f)
        })
        .collect();
    let input_id = format!("filter-{}", props.id.clone().unwrap_or_default());
    html! {
        <div class="picker" id={props.id.clone()}>
            <label for={input_id.clone()}>{ format!("Filter {}", props.label) }</label>
            <input id={input_id} type="search" class="filter" value={(*filter).clone()} {oninput} autocomplete="off" />
            <p class="count" aria-live="polite">{ format!("{} of {} {}", matching.len(), props.items.len(), props.label) }</p>
            <ul class="items">
                { for matching.iter().take(SHOWN).map(|i| html! {
                    <li><Link to={i.to.clone()}>{ &i.title }</Link><span class="detail">{ &i.detail }</span></li>
                }) }
            </ul>
            if matching.len() > SHOWN {
                <p class="note">{ format!("Showing the first {SHOWN}: type to narrow the list.") }</p>
            }
        </div>
    }
}

fn crumbs(items: Vec<(String, Route)>, here: String) -> Html {
    html! {
        <nav aria-label="Breadcrumb" class="crumbs">
            <Link to={Route::Home}>{ "Start" }</Link>
            { for items.into_iter().map(|(t, r)| html! { <>{ " / " }<Link to={r}>{ t }</Link></> }) }
            { " / " }<span aria-current="page">{ here }</span>
        </nav>
    }
}

/// The directories (tenants) the account can use, from ARM `/tenants`; signed in, a guest user
/// switches to another one here (a token for that tenant's authority; the lists follow).
#[component]
pub fn Tenants() -> Html {
    let auth = use_context::<AuthContext>();
    let current = auth.as_ref().and_then(|a| match &a.phase {
        Phase::SignedIn(acc) => Some(acc.tenant_id.clone()),
        _ => None,
    });
    let load = use_arm("tenants".to_string(), |c: Rc<ArmClient>| async move {
        let t: Vec<arm_client::ops::Tenant> = c.list(ops::list_tenants()).collect_all().await?;
        Ok(Rc::new(t))
    });
    let switch = |tenant: String| -> Callback<MouseEvent> {
        let auth = auth.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(state) = auth.clone() else { return };
            let Some(session) = state.session.clone() else {
                return;
            };
            let target = tenant.clone();
            state.dispatch(AuthAction::Busy);
            wasm_bindgen_futures::spawn_local(async move {
                state.dispatch(match session.switch_tenant(&target).await {
                    Ok(a) => AuthAction::SignedIn(a, Some(format!("Switched to tenant {target}."))),
                    Err(e) => AuthAction::Error(e.user_message()),
                })
            });
        })
    };
    // the subscription list below shows any error; the directory list just stays away
    if matches!(&*load, Load::Failed(_) | Load::Offline) {
        return html! {};
    }
    show(&load, "directories", |tenants| {
        if tenants.is_empty() {
            return html! {};
        }
        html! {
            <section class="tenants" id="tenants" aria-labelledby="tenants-title">
                <h3 id="tenants-title">{ "Directory" }</h3>
                <ul class="items">
                    { for tenants.iter().map(|t| {
                        let is_current = current.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&t.tenant_id));
                        let name = t.display_name.clone().unwrap_or_else(|| t.tenant_id.clone());
                        html! {
                            <li data-tenant={t.tenant_id.clone()}>
                                <strong>{ name }</strong>
                                <span class="detail">{ format!("{}{}", t.tenant_id, t.default_domain.as_ref().map(|d| format!(" · {d}")).unwrap_or_default()) }</span>
                                if is_current {
                                    <span class="badge">{ "current" }</span>
                                } else if current.is_some() {
                                    <button type="button" class="button secondary switch-tenant" onclick={switch(t.tenant_id.clone())}>{ "Switch to this directory" }</button>
                                }
                            </li>
                        }
                    }) }
                </ul>
            </section>
        }
    })
}

/// Pick a subscription.
#[component]
pub fn Subscriptions() -> Html {
    let load = use_arm("subs".to_string(), |c: Rc<ArmClient>| async move {
        let subs: Vec<arm_client::Subscription> =
            c.list(ops::list_subscriptions()).collect_all().await?;
        subs.iter().for_each(remember_subscription);
        Ok(Rc::new(
            subs.into_iter()
                .map(|s| Item {
                    title: if s.display_name.is_empty() {
                        s.subscription_id.clone()
                    } else {
                        s.display_name.clone()
                    },
                    detail: s.subscription_id.clone(),
                    to: Route::Subscription {
                        sub: s.subscription_id,
                    },
                })
                .collect::<Vec<_>>(),
        ))
    });
    html! {
        <section>
            { crumbs(vec![], "Subscriptions".into()) }
            <Tenants />
            <h2>{ "Pick a subscription" }</h2>
            { show(&load, "subscriptions", |items| html! { <FilterList label="subscriptions" id="subscriptions" items={items.clone()} /> }) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct SubProps {
    pub sub: String,
}

/// Pick a resource group.
#[component]
pub fn ResourceGroups(props: &SubProps) -> Html {
    let sub = props.sub.clone();
    let load = use_arm(sub.clone(), move |c: Rc<ArmClient>| async move {
        let groups: Vec<arm_client::ResourceGroup> = c
            .list(ops::list_resource_groups(&sub))
            .collect_all()
            .await?;
        Ok(Rc::new(
            groups
                .into_iter()
                .map(|g| Item {
                    title: g.name.clone(),
                    detail: g.location.clone(),
                    to: Route::ResourceGroup {
                        sub: sub.clone(),
                        rg: g.name,
                    },
                })
                .collect::<Vec<_>>(),
        ))
    });
    let sub_name = use_subscription_name(props.sub.clone()).unwrap_or_else(|| props.sub.clone());
    html! {
        <section>
            { crumbs(vec![("Subscriptions".into(), Route::Subscriptions)], sub_name) }
            <h2>{ "Pick a resource group" }</h2>
            { show(&load, "resource groups", |items| html! { <FilterList label="resource groups" id="groups" items={items.clone()} /> }) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct GroupProps {
    pub sub: String,
    pub rg: String,
}

/// A one-line summary of identities ("system-assigned + 2 user-assigned").
pub fn identity_summary(id: &IdentityState) -> String {
    match (id.system_assigned, id.user_assigned.len()) {
        (false, 0) => "no managed identity".into(),
        (true, 0) => "system-assigned".into(),
        (false, n) => format!("{n} user-assigned"),
        (true, n) => format!("system-assigned + {n} user-assigned"),
    }
}

fn resource_items(values: Vec<serde_json::Value>) -> Vec<Item> {
    values
        .iter()
        .filter_map(|v| ResourceState::from_arm(v, None).ok())
        .map(|st| {
            let kind = match st.kind {
                ResourceKind::ScaleSetUniform => "scale set (Uniform)",
                ResourceKind::ScaleSetFlexible => "scale set (Flexible)",
                ResourceKind::Vm => "VM",
            };
            Item {
                title: st.id.name().to_string(),
                detail: format!(
                    "{kind} · {} · {}",
                    st.location.clone().unwrap_or_default(),
                    identity_summary(&st.identity)
                ),
                to: Route::Resource {
                    id: st.id.as_str().to_string(),
                    wizard: None,
                },
            }
        })
        .collect()
}

/// Pick a scale set or VM.
#[component]
pub fn Resources(props: &GroupProps) -> Html {
    let (sub, rg) = (props.sub.clone(), props.rg.clone());
    let load = use_arm(format!("{sub}/{rg}"), move |c: Rc<ArmClient>| async move {
        let sets: Vec<serde_json::Value> = c
            .list(ops::list_scale_sets(&sub, Some(&rg)))
            .collect_all()
            .await?;
        let vms: Vec<serde_json::Value> =
            c.list(ops::list_vms(&sub, Some(&rg))).collect_all().await?;
        let mut items = resource_items(sets);
        items.extend(resource_items(vms));
        Ok(Rc::new(items))
    });
    let sub_name = use_subscription_name(props.sub.clone()).unwrap_or_else(|| props.sub.clone());
    html! {
        <section>
            { crumbs(vec![("Subscriptions".into(), Route::Subscriptions), (sub_name, Route::Subscription { sub: props.sub.clone() })], props.rg.clone()) }
            <h2>{ "Pick a scale set or VM" }</h2>
            { show(&load, "scale sets and VMs", |items| if items.is_empty() {
                html! { <p class="note">{ "No scale set or VM in this resource group." }</p> }
            } else {
                html! { <FilterList label="scale sets and VMs" id="resources" items={items.clone()} /> }
            }) }
        </section>
    }
}
