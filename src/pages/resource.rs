//! A scale set or VM: its identities, orchestration, upgrade policy, the legacy extension, the
//! AKS warning, and the wizards that apply (one of them open when `?wizard=` names it).

use crate::hooks::{Load, show, use_arm, use_subscription_name};
use crate::nav::Link;
use crate::pages::pickers::identity_summary;
use crate::pages::wizard::WizardPanel;
use arm_client::{ArmClient, identity::read_state};
use identity_core::ResourceState;
use identity_core::resource::ResourceKind;
use identity_core::route::Route;
use identity_core::wizard::WizardKind;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ResourceProps {
    pub id: String,
    pub wizard: Option<String>,
}

#[component]
pub fn ResourcePage(props: &ResourceProps) -> Html {
    let generation = use_state(|| 0u32);
    let id = props.id.clone();
    let load = use_arm(
        format!("{}#{}", props.id, *generation),
        move |c: Rc<ArmClient>| async move { read_state(&c, &id).await.map(Rc::new) },
    );
    let reload = {
        let generation = generation.clone();
        Callback::from(move |_| generation.set(*generation + 1))
    };
    // Keep showing the last state while it is read again after a change, so an open wizard
    // (and its result) stays mounted.
    let last = use_mut_ref(|| None::<(String, Rc<ResourceState>)>);
    if let Load::Ready(st) = &*load {
        *last.borrow_mut() = Some((props.id.clone(), st.clone()));
    }
    let cached = last
        .borrow()
        .clone()
        .filter(|(id, _)| *id == props.id)
        .map(|(_, st)| st);
    let (shown, refreshing) = match (&*load, cached) {
        (Load::Loading, Some(st)) => (Load::Ready(st), true),
        (other, _) => (other.clone(), false),
    };
    let parsed = identity_core::ResourceId::parse(&props.id).ok();
    let (sub, rg) = parsed
        .as_ref()
        .map(|p| {
            (
                p.subscription().to_string(),
                p.resource_group().unwrap_or_default().to_string(),
            )
        })
        .unwrap_or_default();
    let name = parsed
        .as_ref()
        .map(|p| p.name().to_string())
        .unwrap_or_default();
    let sub_name = use_subscription_name(sub.clone()).unwrap_or_else(|| sub.clone());
    html! {
        <section>
            <nav aria-label="Breadcrumb" class="crumbs">
                <Link to={Route::Home}>{ "Start" }</Link>{ " / " }
                <Link to={Route::Subscriptions}>{ "Subscriptions" }</Link>{ " / " }
                <Link to={Route::Subscription { sub: sub.clone() }}>{ sub_name }</Link>{ " / " }
                <Link to={Route::ResourceGroup { sub: sub.clone(), rg: rg.clone() }}>{ rg.clone() }</Link>{ " / " }
                <span aria-current="page">{ name.clone() }</span>
            </nav>
            <h2 id="resource-name">{ name }</h2>
            { show(&shown, "the resource", |st| html! {
                <>
                    if refreshing { <p class="loading" role="status">{ "Reading the resource again…" }</p> }
                    <ResourceFacts state={st.clone()} />
                    <crate::components::access::IdentityAccess principals={crate::components::grant::principals_of(&st.identity)} />
                    if props.wizard.is_none() {
                    <crate::components::grant::GrantAccess principals={crate::components::grant::principals_of(&st.identity)} scope={st.id.as_str().to_string()} />
                    }
                    <WizardMenu state={st.clone()} open={props.wizard.clone()} />
                    if let Some(kind) = props.wizard.as_deref().and_then(WizardKind::from_slug) {
                        <WizardPanel key={format!("{}{}", props.id, kind.slug())} {kind} state={st.clone()} reload={reload.clone()} />
                    } else if let Some(slug) = &props.wizard {
                        <p class="error" role="alert">{ format!("There is no wizard called {slug:?} for an existing resource.") }</p>
                    }
                </>
            }) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct FactsProps {
    pub state: Rc<ResourceState>,
}

/// What the resource is and which identities it has.
#[component]
pub fn ResourceFacts(props: &FactsProps) -> Html {
    let st = &props.state;
    let kind = match st.kind {
        ResourceKind::ScaleSetUniform => "Virtual machine scale set, Uniform orchestration",
        ResourceKind::ScaleSetFlexible => "Virtual machine scale set, Flexible orchestration",
        ResourceKind::Vm => "Virtual machine",
    };
    let id = &st.identity;
    html! {
        <div class="facts" id="facts">
            <dl>
                <dt>{ "Kind" }</dt><dd id="kind">{ kind }</dd>
                <dt>{ "Region" }</dt><dd>{ st.location.clone().unwrap_or_else(|| "—".into()) }</dd>
                if st.kind.is_scale_set() {
                    <dt>{ "Upgrade policy" }</dt><dd id="upgrade-policy">{ st.upgrade_mode.map(|m| m.as_str()).unwrap_or("—") }</dd>
                }
                <dt>{ "Provisioning state" }</dt><dd>{ st.provisioning_state.clone().unwrap_or_else(|| "—".into()) }</dd>
                <dt>{ "ETag" }</dt><dd><code>{ st.etag.clone().unwrap_or_else(|| "none (changes are sent without If-Match)".into()) }</code></dd>
                <dt>{ "Identities" }</dt><dd id="identity-summary">{ identity_summary(id) }</dd>
            </dl>
            if st.aks_managed {
                <p class="warning" role="note" id="aks-warning">{ "Managed by AKS: AKS reconciles this resource and may revert or block identity changes. Prefer changing the identity through AKS (az aks update)." }</p>
            }
            <h3>{ "System-assigned identity" }</h3>
            if id.system_assigned {
                <p id="system-assigned">{ "Enabled. Principal id " }<code>{ id.principal_id.clone().unwrap_or_else(|| "(not yet issued)".into()) }</code>
                    { id.tenant_id.as_ref().map(|t| format!(" in tenant {t}")).unwrap_or_default() }</p>
            } else {
                <p id="system-assigned">{ "Not enabled." }</p>
            }
            <h3>{ "User-assigned identities" }</h3>
            if id.user_assigned.is_empty() {
                <p id="user-assigned">{ "None." }</p>
            } else {
                <table class="identities" id="user-assigned">
                    <thead><tr><th scope="col">{ "Name" }</th><th scope="col">{ "Resource group" }</th><th scope="col">{ "Client id" }</th><th scope="col">{ "Principal id" }</th></tr></thead>
                    <tbody>
                        { for id.user_assigned.iter().map(|u| {
                            let c = identity_core::wizard::Candidate::from_id(&u.id);
                            html! {
                                <tr data-id={u.id.clone()}>
                                    <th scope="row" title={u.id.clone()}><Link to={Route::Identity { id: u.id.clone() }}>{ u.name() }</Link></th>
                                    <td>{ c.resource_group }</td>
                                    <td><code>{ u.client_id.clone().unwrap_or_else(|| "—".into()) }</code></td>
                                    <td><code>{ u.principal_id.clone().unwrap_or_else(|| "—".into()) }</code></td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            }
            if let Some(ext) = &st.legacy_extension {
                <p class="warning" role="note" id="legacy-extension">
                    { format!("The legacy managed-identity extension {} is installed. It is retired: applications get tokens from the instance metadata service (IMDS, http://169.254.169.254/metadata/identity/oauth2/token). Remove it once nothing calls localhost:50342.", ext.name) }
                </p>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct MenuProps {
    pub state: Rc<ResourceState>,
    pub open: Option<String>,
}

/// The wizards, each a link, or disabled with the reason it does not apply.
#[component]
fn WizardMenu(props: &MenuProps) -> Html {
    let st = &props.state;
    html! {
        <nav class="wizards" aria-label="Wizards" id="wizards">
            <h3>{ "Change identities" }</h3>
            <ul>
                { for WizardKind::ALL.iter().map(|k| {
                    let to = Route::Resource { id: st.id.as_str().to_string(), wizard: Some(k.slug().to_string()) };
                    let open = props.open.as_deref() == Some(k.slug());
                    match k.unavailable(st) {
                        None => html! { <li data-wizard={k.slug()}><Link to={to} class={classes!("button", open.then_some("on"))}>{ k.title() }</Link></li> },
                        Some(why) => html! {
                            <li data-wizard={k.slug()} class="unavailable">
                                <span class="button disabled" aria-disabled="true">{ k.title() }</span>
                                <span class="why">{ why }</span>
                            </li>
                        },
                    }
                }) }
            </ul>
        </nav>
    }
}
