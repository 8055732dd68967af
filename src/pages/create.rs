//! Create with identity: a scale set or a VM with system- and/or user-assigned identities (the
//! steps and validation are identity-core's [`CreateWizard`] reducer; the VM's Instances step asks
//! only its image and size), sent by arm-client's create flow, and a user-assigned identity on its
//! own or inline from the assign wizard ([`NewIdentityForm`]). Lists come from ARM: subscriptions,
//! groups, regions, VM sizes of the region, virtual networks with their subnets, identities.
//!
//! A module of its own in the production build (`crate::lazy::CREATE`, `crate::lazy::NEW_IDENTITY_FORM`):
//! the other pages reach it only through those split points.

use crate::components::error::{ErrorBox, ErrorView};
use crate::components::grant::GrantAccess;
use crate::components::review::{Requests, ScriptSource, Scripts};
use crate::hooks::{Load, remember_subscription, use_arm, use_options};
use crate::nav::Link;
use crate::session::{Session, use_session};
use arm_client::flow::{self, Outcome, Wait};
use arm_client::{ArmClient, ArmError, ops};
use identity_core::api_versions;
use identity_core::create::{
    ImagePreset, Orchestration, UserAssignedIdentitySpec, VM_ADMIN_PASSWORD_POINTER,
};
use identity_core::create_wizard::{
    CreateAction, CreateReview, CreateStep, CreateTarget, CreateWizard, Field,
};
use identity_core::naming::{self, OsType};
use identity_core::route::Route;
use identity_core::scripts::ScriptPlan;
use identity_core::{ArmRequest, Method, ResourceState};
use std::rc::Rc;
use yew::prelude::*;

#[derive(Clone, PartialEq)]
struct Model(CreateWizard);

impl Reducible for Model {
    type Action = CreateAction;
    fn reduce(self: Rc<Self>, action: CreateAction) -> Rc<Self> {
        Rc::new(Model(self.0.reduce(action)))
    }
}

/// A subnet of a virtual network, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct SubnetChoice {
    pub id: String,
    pub label: String,
    pub location: String,
}

/// VM sizes offered when a region's list cannot be read: general-purpose sizes available in
/// most regions (Azure's "Sizes for virtual machines" page, B, D and F series).
pub const FALLBACK_SIZES: &[&str] = &[
    "Standard_B2s",
    "Standard_B2ms",
    "Standard_D2s_v3",
    "Standard_D2s_v5",
    "Standard_D4s_v5",
    "Standard_F2s_v2",
];

fn str_at(v: &serde_json::Value, ptr: &str) -> String {
    v.pointer(ptr)
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_string()
}

async fn list_values(c: &ArmClient, req: ArmRequest) -> Result<Vec<serde_json::Value>, ArmError> {
    c.list(req).collect_all().await
}

/// Every subnet of every virtual network in a subscription.
async fn subnets(c: Rc<ArmClient>, sub: String) -> Result<Rc<Vec<SubnetChoice>>, ArmError> {
    if sub.is_empty() {
        return Ok(Rc::new(Vec::new()));
    }
    let req = ArmRequest::new(
        Method::Get,
        format!("/subscriptions/{sub}/providers/Microsoft.Network/virtualNetworks"),
        api_versions::NETWORK,
    );
    let mut out = Vec::new();
    for v in list_values(&c, req).await? {
        let vnet = str_at(&v, "/name");
        let location = str_at(&v, "/location");
        let group = identity_core::ResourceId::parse(&str_at(&v, "/id"))
            .ok()
            .and_then(|i| i.resource_group().map(str::to_string))
            .unwrap_or_default();
        for s in v
            .pointer("/properties/subnets")
            .and_then(|x| x.as_array())
            .into_iter()
            .flatten()
        {
            out.push(SubnetChoice {
                id: str_at(s, "/id"),
                label: format!(
                    "{vnet} / {} ({}, {group}, {location})",
                    str_at(s, "/name"),
                    str_at(s, "/properties/addressPrefix")
                ),
                location: location.clone(),
            });
        }
    }
    Ok(Rc::new(out))
}

async fn sizes(c: Rc<ArmClient>, sub: String, loc: String) -> Result<Rc<Vec<String>>, ArmError> {
    if sub.is_empty() || loc.is_empty() {
        return Ok(Rc::new(Vec::new()));
    }
    let req = ArmRequest::new(
        Method::Get,
        format!("/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/vmSizes"),
        api_versions::COMPUTE,
    );
    let v = list_values(&c, req).await?;
    Ok(Rc::new(v.iter().map(|s| str_at(s, "/name")).collect()))
}

/// `(value, label)` options, as read from ARM.
type Options = UseStateHandle<Load<crate::hooks::Options>>;

/// Subscriptions as (id, label).
#[hook]
fn use_subscriptions() -> Options {
    use_options(
        Some(ops::list_subscriptions()),
        |s: arm_client::Subscription| {
            remember_subscription(&s);
            let label = if s.display_name.is_empty() {
                s.subscription_id.clone()
            } else {
                format!("{} ({})", s.display_name, s.subscription_id)
            };
            (s.subscription_id, label)
        },
    )
}

/// Groups of a subscription as (name, label).
#[hook]
fn use_groups(sub: String) -> Options {
    use_options(
        (!sub.is_empty()).then(|| ops::list_resource_groups(&sub)),
        |g: arm_client::ResourceGroup| (g.name.clone(), format!("{} ({})", g.name, g.location)),
    )
}

/// Regions of a subscription as (name, label).
#[hook]
fn use_locations(sub: String) -> Options {
    use_options(
        (!sub.is_empty()).then(|| ops::list_locations(&sub)),
        |l: arm_client::Location| {
            let label = if l.display_name.is_empty() {
                l.name.clone()
            } else {
                format!("{} ({})", l.display_name, l.name)
            };
            (l.name, label)
        },
    )
}

fn options(load: &Load<crate::hooks::Options>) -> Vec<(String, String)> {
    match load {
        Load::Ready(v) => (**v).clone(),
        _ => Vec::new(),
    }
}

fn load_note(load: &Load<impl Clone>, what: &str) -> Html {
    match load {
        Load::Loading => {
            html! { <p class="loading" role="status">{ format!("Reading {what}…") }</p> }
        }
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} /> },
        _ => html! {},
    }
}

/// A labelled text input bound to a setter; its error (if any) is linked by `aria-describedby`.
fn text_input(
    id: &str,
    label: &str,
    value: &str,
    kind: &str,
    error: Option<String>,
    hint: Option<&str>,
    set: Callback<String>,
) -> Html {
    let oninput = Callback::from(move |e: InputEvent| {
        set.emit(
            e.target_unchecked_into::<web_sys::HtmlInputElement>()
                .value(),
        )
    });
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = match (&error, hint) {
        (Some(_), Some(_)) => format!("{err_id} {hint_id}"),
        (Some(_), None) => err_id.clone(),
        (None, Some(_)) => hint_id.clone(),
        (None, None) => String::new(),
    };
    html! {
        <div class={classes!("field", error.is_some().then_some("invalid"))}>
            <label for={id.to_string()}>{ label }</label>
            <input id={id.to_string()} type={kind.to_string()} value={value.to_string()} {oninput} autocomplete="off"
                aria-invalid={error.is_some().to_string()} aria-describedby={(!described.is_empty()).then_some(described)} />
            if let Some(h) = hint { <p class="hint" id={hint_id}>{ h }</p> }
            if let Some(e) = error { <p class="field-error" id={err_id}>{ e }</p> }
        </div>
    }
}

/// A labelled select over `(value, label)` options with an empty first choice.
fn select_input(
    id: &str,
    label: &str,
    value: &str,
    opts: &[(String, String)],
    error: Option<String>,
    set: Callback<String>,
) -> Html {
    let onchange = Callback::from(move |e: Event| {
        set.emit(
            e.target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value(),
        )
    });
    let err_id = format!("{id}-error");
    html! {
        <div class={classes!("field", error.is_some().then_some("invalid"))}>
            <label for={id.to_string()}>{ label }</label>
            <select id={id.to_string()} {onchange} aria-invalid={error.is_some().to_string()}
                aria-describedby={error.is_some().then(|| err_id.clone())}>
                <option value="" selected={value.is_empty()}>{ "— choose —" }</option>
                { for opts.iter().map(|(v, l)| html! { <option value={v.clone()} selected={v.eq_ignore_ascii_case(value)}>{ l }</option> }) }
            </select>
            if let Some(e) = error { <p class="field-error" id={err_id}>{ e }</p> }
        </div>
    }
}

/// Radio buttons in a fieldset.
fn radios(
    name: &str,
    legend: &str,
    value: &str,
    opts: &[(&str, &str)],
    set: Callback<String>,
) -> Html {
    html! {
        <fieldset class="radios" id={format!("{name}-group")}>
            <legend>{ legend }</legend>
            { for opts.iter().map(|(v, l)| {
                let set = set.clone();
                let v2 = v.to_string();
                let onchange = Callback::from(move |_: Event| set.emit(v2.clone()));
                let id = format!("{name}-{}", v.to_ascii_lowercase());
                html! {
                    <label for={id.clone()} class="radio">
                        <input type="radio" id={id} name={name.to_string()} value={v.to_string()} checked={*v == value} {onchange} />
                        { format!(" {l}") }
                    </label>
                }
            }) }
        </fieldset>
    }
}

/// Where an apply stands (the create flow's events and outcome, as shown).
#[derive(Debug, Clone, PartialEq)]
enum Apply {
    Idle,
    Running {
        what: String,
        state: String,
        elapsed_ms: u64,
    },
    Done {
        id: String,
        state: Rc<ResourceState>,
        elapsed_ms: u64,
    },
    Failed {
        what: String,
        error: ErrorView,
        not_sent: bool,
        /// What the flow created before it failed, and what became of it.
        left: Vec<(String, Left)>,
    },
    /// A resource of that name exists: nothing was replaced.
    Exists {
        id: String,
        left: Vec<(String, Left)>,
    },
}

/// A resource a failed create left behind: the user deletes or keeps it.
#[derive(Debug, Clone, PartialEq)]
enum Left {
    Offered,
    Deleting,
    Deleted,
    Kept,
    Failed(ErrorView),
}

/// The noun the page uses for what it creates.
fn noun(t: CreateTarget) -> &'static str {
    match t {
        CreateTarget::ScaleSet => "scale set",
        CreateTarget::Vm => "VM",
    }
}

/// The review of a create wizard: the plans (the identity's PUT guarded with
/// `If-None-Match: *`) and their scripts, computed once per wizard state.
#[derive(PartialEq)]
struct Reviewed {
    review: CreateReview,
    /// What the identity's scripts are generated from (when one is created first).
    identity_scripts: Option<ScriptPlan>,
    /// ... and the scale set's or the VM's.
    resource_scripts: ScriptPlan,
}

/// The body shown on the page: the password replaced by a placeholder (it is sent, not shown).
fn shown_request(r: &ArmRequest) -> ArmRequest {
    let mut r = r.clone();
    for pointer in [
        "/properties/virtualMachineProfile/osProfile/adminPassword",
        VM_ADMIN_PASSWORD_POINTER,
    ] {
        if let Some(pw) = r.body.as_mut().and_then(|b| b.pointer_mut(pointer)) {
            *pw = serde_json::Value::String("(the password you typed: sent, never shown)".into());
        }
    }
    r
}

fn origin(s: &Session) -> String {
    s.client
        .as_ref()
        .map(|c| c.origin().to_string())
        .unwrap_or_else(|| s.cloud.arm_endpoint.clone())
}

/// `/create/scale-set`: the create-a-scale-set wizard.
#[component]
pub fn CreateScaleSet() -> Html {
    html! { <CreatePage target={CreateTarget::ScaleSet} /> }
}

/// `/create/vm`: the same wizard creating a VM.
#[component]
pub fn CreateVm() -> Html {
    html! { <CreatePage target={CreateTarget::Vm} /> }
}

#[derive(Properties, PartialEq)]
struct CreateProps {
    target: CreateTarget,
}

/// The create wizard for a scale set or a VM.
#[component]
fn CreatePage(props: &CreateProps) -> Html {
    let target = props.target;
    let s = use_session();
    let model = use_reducer(move || {
        Model(CreateWizard {
            target,
            ..CreateWizard::default()
        })
    });
    let apply = use_state(|| Apply::Idle);
    let w = &model.0;
    let subs = use_subscriptions();
    let groups = use_groups(w.subscription.clone());
    let locs = use_locations(w.subscription.clone());
    let (sub, loc) = (w.subscription.clone(), w.location.clone());
    let size_list = use_arm(format!("create:sizes:{sub}:{loc}"), move |c| {
        sizes(c, sub, loc)
    });
    let sub = w.subscription.clone();
    let nets = use_arm(format!("create:vnets:{sub}"), move |c| subnets(c, sub));
    let sub = w.subscription.clone();
    let uais = use_arm(
        format!("create:uai:{sub}"),
        move |c: Rc<ArmClient>| async move {
            if sub.is_empty() {
                return Ok(Rc::new(Vec::new()));
            }
            list_values(&c, ops::list_user_assigned_identities(&sub, None))
                .await
                .map(Rc::new)
        },
    );

    let set = |f: Field| {
        let model = model.clone();
        Callback::from(move |v: String| model.dispatch(CreateAction::Set(f, v)))
    };
    let dispatch = |a: CreateAction| {
        let model = model.clone();
        Callback::from(move |_: MouseEvent| model.dispatch(a.clone()))
    };
    let running = matches!(*apply, Apply::Running { .. });
    let cloud = s.config.script_cloud();
    let reviewed = use_memo(
        ((w.step == CreateStep::Review).then(|| w.clone()), cloud),
        |(w, cloud)| {
            w.as_ref().map(|w| {
                let mut review = w.review();
                if let Some((spec, p)) = review.identity.take() {
                    review.identity = Some((spec, flow::guard_creates(p)));
                }
                Reviewed {
                    resource_scripts: review.script_plan(*cloud),
                    identity_scripts: review
                        .identity
                        .as_ref()
                        .map(|(spec, p)| ScriptPlan::from_user_assigned_identity(*cloud, spec, p)),
                    review,
                }
            })
        },
    );

    let steps = html! {
        <ol class="steps" id="create-steps" aria-label="Steps">
            { for CreateStep::ALL.iter().map(|st| {
                let current = *st == w.step;
                let reachable = *st < w.step && !running;
                html! {
                    <li data-step={st.slug()} aria-current={current.then_some("step")} class={classes!(current.then_some("on"))}>
                        if reachable {
                            <button type="button" class="link" onclick={dispatch(CreateAction::GoTo(*st))}>{ st.title() }</button>
                        } else {
                            <span>{ st.title() }</span>
                        }
                    </li>
                }
            }) }
        </ol>
    };

    let body = match w.step {
        CreateStep::Basics => html! {
            <>
                { load_note(&*subs, "subscriptions") }
                { select_input("create-subscription", "Subscription", &w.subscription, &options(&subs), w.error(Field::Subscription), set(Field::Subscription)) }
                { load_note(&*groups, "resource groups") }
                { select_input("create-group", "Resource group", &w.resource_group, &options(&groups), w.error(Field::ResourceGroup), set(Field::ResourceGroup)) }
                { text_input("create-name", if target == CreateTarget::Vm { "VM name" } else { "Scale set name" }, &w.name, "text", w.error(Field::Name), Some(if target == CreateTarget::Vm { "1–64 characters for Linux, 1–15 for Windows (it is also the computer name); letters, digits and '-'." } else { "1–64 characters for Linux, 1–15 for Windows; letters, digits and '-'." }), set(Field::Name)) }
                { load_note(&*locs, "regions") }
                { select_input("create-location", "Region", &w.location, &options(&locs), w.error(Field::Location), set(Field::Location)) }
            </>
        },
        CreateStep::Instances => {
            let (size_opts, fallback) = match &*size_list {
                Load::Ready(v) if !v.is_empty() => (
                    v.iter().map(|n| (n.clone(), n.clone())).collect::<Vec<_>>(),
                    false,
                ),
                Load::Loading => (Vec::new(), false),
                _ => (
                    FALLBACK_SIZES
                        .iter()
                        .map(|n| (n.to_string(), n.to_string()))
                        .collect(),
                    true,
                ),
            };
            html! {
                <>
                    if target == CreateTarget::ScaleSet {
                        { radios("orchestration", "Orchestration mode", match w.orchestration { Orchestration::Uniform => "Uniform", Orchestration::Flexible => "Flexible" },
                            &[("Uniform", "Uniform (identical instances, system-assigned identity supported)"), ("Flexible", "Flexible (user-assigned identities only)")], set(Field::Orchestration)) }
                    }
                    { radios("image", "Image", match w.image { ImagePreset::UbuntuLts => "ubuntu", ImagePreset::WindowsServer => "windows" },
                        &[("ubuntu", "Ubuntu Server 24.04 LTS (Linux, SSH key)"), ("windows", "Windows Server 2022 Datacenter Azure Edition (password)")], set(Field::Image)) }
                    if let Some(e) = w.step_errors(CreateStep::Instances).into_iter().find(|(f, _)| *f == Field::Name).map(|(_, e)| e) {
                        <p class="field-error" id="create-name-error" role="alert">{ e }</p>
                    }
                    { load_note(&*size_list, "VM sizes of the region") }
                    { select_input("create-size", &format!("VM size (in {})", w.location), &w.sku, &size_opts, w.error(Field::Sku), set(Field::Sku)) }
                    if fallback { <p class="note" id="size-fallback">{ "The region's size list could not be read: these general-purpose sizes are offered instead." }</p> }
                    if target == CreateTarget::ScaleSet {
                        { text_input("create-capacity", "Instance count", &w.capacity, "number", w.error(Field::Capacity), None, set(Field::Capacity)) }
                        { radios("upgrade", "Upgrade policy", w.upgrade_mode.as_str(),
                            &[("Manual", "Manual"), ("Automatic", "Automatic"), ("Rolling", "Rolling")], set(Field::UpgradeMode)) }
                        if let Some(e) = w.error(Field::UpgradeMode) { <p class="field-error" id="create-upgrade-error">{ e }</p> }
                    }
                </>
            }
        }
        CreateStep::Network => {
            let (opts, other_region) = match &*nets {
                Load::Ready(v) => {
                    let here: Vec<(String, String)> = v
                        .iter()
                        .filter(|n| n.location.eq_ignore_ascii_case(&w.location))
                        .map(|n| (n.id.clone(), n.label.clone()))
                        .collect();
                    (here, v.len())
                }
                _ => (Vec::new(), 0),
            };
            html! {
                <>
                    { load_note(&*nets, "virtual networks") }
                    { select_input("create-subnet", &format!("Virtual network and subnet (in {})", w.location), &w.subnet_id, &opts, w.error(Field::SubnetId), set(Field::SubnetId)) }
                    if matches!(&*nets, Load::Ready(_)) && opts.is_empty() {
                        <p class="note" id="no-subnet">{ format!("No virtual network of this subscription is in {} ({} subnet(s) elsewhere): a {}'s subnet must be in its region. Create one first, or choose another region.", w.location, other_region, noun(target)) }</p>
                    }
                </>
            }
        }
        CreateStep::Admin => html! {
            <>
                { text_input("create-admin", "Admin user name", &w.admin_username, "text", w.error(Field::AdminUsername), None, set(Field::AdminUsername)) }
                if w.os() == OsType::Linux {
                    { text_input("create-ssh", "SSH public key (one OpenSSH line)", &w.ssh_key, "text", w.error(Field::SshKey), Some("e.g. the content of ~/.ssh/id_ed25519.pub; password sign-in stays disabled."), set(Field::SshKey)) }
                } else {
                    { text_input("create-password", "Admin password", &w.password, "password", w.error(Field::Password), Some("12–123 characters with three of: lower-case, upper-case, digit, special character. Sent in the request, never shown or put into the scripts."), set(Field::Password)) }
                }
            </>
        },
        CreateStep::Identity => {
            let sa_toggle = {
                let model = model.clone();
                let on = w.system_assigned;
                Callback::from(move |_: Event| {
                    model.dispatch(CreateAction::Set(Field::SystemAssigned, (!on).to_string()))
                })
            };
            let list: Vec<serde_json::Value> = match &*uais {
                Load::Ready(v) => (**v).clone(),
                _ => Vec::new(),
            };
            html! {
                <>
                    <div class={classes!("field", w.error(Field::SystemAssigned).is_some().then_some("invalid"))}>
                        <label class="option" for="create-sa">
                            <input type="checkbox" id="create-sa" checked={w.system_assigned} onchange={sa_toggle}
                                aria-describedby={w.error(Field::SystemAssigned).map(|_| "create-sa-error")} />
                            { format!(" System-assigned identity (lives and dies with the {})", noun(target)) }
                        </label>
                        if let Some(e) = w.error(Field::SystemAssigned) { <p class="field-error refusal" id="create-sa-error" role="alert">{ e }</p> }
                    </div>
                    { load_note(&*uais, "user-assigned identities") }
                    <fieldset class="choices" id="create-ua">
                        <legend>{ format!("Existing user-assigned identities in this subscription ({})", list.len()) }</legend>
                        { for list.iter().map(|v| {
                            let id = str_at(v, "/id");
                            let input_id = crate::dom_id::dom_id("ua-", &id);
                            let toggle = { let model = model.clone(); let id = id.clone(); Callback::from(move |_: Event| model.dispatch(CreateAction::ToggleUserAssigned(id.clone()))) };
                            let checked = w.user_assigned.iter().any(|x| x.eq_ignore_ascii_case(&id));
                            html! {
                                <div class="choice" data-id={id.clone()}>
                                    <input type="checkbox" id={input_id.clone()} {checked} onchange={toggle} />
                                    <label for={input_id}><strong>{ str_at(v, "/name") }</strong>
                                        <span class="detail">{ format!(" · {} · {}", identity_core::wizard::Candidate::from_id(&id).resource_group, str_at(v, "/location")) }</span></label>
                                </div>
                            }
                        }) }
                    </fieldset>
                    { text_input("create-new-identity", "New user-assigned identity to create first (optional name)", &w.new_identity_name, "text", w.error(Field::NewIdentityName),
                        Some(if target == CreateTarget::Vm { "Created in the same subscription, group and region, just before the VM." } else { "Created in the same subscription, group and region, just before the scale set." }), set(Field::NewIdentityName)) }
                </>
            }
        }
        CreateStep::Review => match &*reviewed {
            Some(r) => review(&s, target, r, &model, &apply),
            None => html! {},
        },
    };

    let onsubmit = {
        let model = model.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            model.dispatch(CreateAction::Next)
        })
    };
    let errors = w.step_errors(w.step);
    let attempted = w.attempted.contains(&w.step);
    html! {
        <section aria-labelledby="create-title" id="create" data-step={w.step.slug()}>
            <nav aria-label="Breadcrumb" class="crumbs"><Link to={Route::Home}>{ "Start" }</Link>{ " / " }<span aria-current="page">{ format!("Create a {}", noun(target)) }</span></nav>
            <h2 id="create-title">{ format!("Create a {} with an identity", noun(target)) }</h2>
            if s.client.is_none() {
                <p class="note">{ "Not signed in: nothing can be listed or created here. The scripts of this scenario are produced from the review once signed in, or try the demo tenant." }</p>
            }
            { steps }
            <form class="create-form" {onsubmit} novalidate=true>
                <fieldset class="step" id={format!("step-{}", w.step.slug())}>
                    <legend>{ format!("{}. {}", w.step as usize + 1, w.step.title()) }</legend>
                    { body }
                </fieldset>
                if attempted && !errors.is_empty() && w.step != CreateStep::Review {
                    <p class="error" role="alert" id="step-errors">{ format!("{} problem(s) on this step: fix them to continue.", errors.len()) }</p>
                }
                <div class="apply-bar">
                    if w.step != CreateStep::Basics {
                        <button type="button" class="button secondary" id="create-back" onclick={dispatch(CreateAction::Back)} disabled={running}>{ "Back" }</button>
                    }
                    if w.step != CreateStep::Review {
                        <button type="submit" class="button primary" id="create-next">{ if w.step == CreateStep::Identity { "Review" } else { "Next" } }</button>
                    }
                </div>
            </form>
        </section>
    }
}

fn left_of(ids: Vec<String>) -> Vec<(String, Left)> {
    ids.into_iter().map(|id| (id, Left::Offered)).collect()
}

/// The create flow's events, shown as progress.
fn progress_events(apply: &UseStateHandle<Apply>) -> impl FnMut(&flow::Event) + 'static {
    let h = apply.clone();
    move |e: &flow::Event| match e {
        flow::Event::Sending { step } => h.set(Apply::Running {
            what: step.clone(),
            state: String::new(),
            elapsed_ms: 0,
        }),
        flow::Event::Progress {
            step,
            state,
            elapsed_ms,
        } => h.set(Apply::Running {
            what: step.clone(),
            state: state.clone(),
            elapsed_ms: *elapsed_ms,
        }),
        flow::Event::Waiting {
            step,
            why,
            seconds_left,
            ..
        } => h.set(Apply::Running {
            what: step.clone(),
            state: match why {
                Wait::Throttled => {
                    format!("Azure is throttling requests: retrying in {seconds_left} s")
                }
                Wait::PrincipalNotFound => format!("retrying in {seconds_left} s"),
            },
            elapsed_ms: 0,
        }),
        flow::Event::Resuming { step } => h.set(Apply::Running {
            what: step.clone(),
            state:
                "the connection dropped after Azure acknowledged the request: reading the resource"
                    .into(),
            elapsed_ms: 0,
        }),
    }
}

fn review(
    s: &Session,
    target: CreateTarget,
    reviewed: &Reviewed,
    model: &UseReducerHandle<Model>,
    apply: &UseStateHandle<Apply>,
) -> Html {
    let r = &reviewed.review;
    let origin = origin(s);
    let refusal = r.refusal();
    let (spec, _) = r.scale_set.clone();
    let plan = r.resource_plan().clone();
    let running = matches!(**apply, Apply::Running { .. });
    let onapply = {
        let apply = apply.clone();
        let client = s.client.clone();
        let r = r.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(client) = client.clone() else { return };
            let (apply, r) = (apply.clone(), r.clone());
            apply.set(Apply::Running {
                what: "Sending".into(),
                state: String::new(),
                elapsed_ms: 0,
            });
            wasm_bindgen_futures::spawn_local(async move {
                let mut events = progress_events(&apply);
                match flow::create_reviewed(&client, &r, &mut events).await {
                    Outcome::Applied(c) => apply.set(Apply::Done {
                        id: c.id,
                        state: Rc::new(c.state),
                        elapsed_ms: c.elapsed_ms,
                    }),
                    Outcome::Exists { id, created } => apply.set(Apply::Exists {
                        id,
                        left: left_of(created),
                    }),
                    Outcome::Failed(f) => apply.set(Apply::Failed {
                        what: f.step,
                        error: ErrorView::from(&f.error),
                        not_sent: false,
                        left: left_of(f.created),
                    }),
                    Outcome::NotSent(f) => apply.set(Apply::Failed {
                        what: f.step,
                        error: ErrorView::from(&f.error),
                        not_sent: true,
                        left: left_of(f.created),
                    }),
                    Outcome::Noop(why) | Outcome::Refused(why) => apply.set(Apply::Failed {
                        what: "Creating".into(),
                        error: ErrorView::plain("Not sent", why),
                        not_sent: true,
                        left: vec![],
                    }),
                    Outcome::ConflictReplanned(rp) => apply.set(Apply::Failed {
                        what: "Creating".into(),
                        error: ErrorView::from(&rp.error),
                        not_sent: false,
                        left: vec![],
                    }),
                }
            });
        })
    };
    let can_send = s.client.is_some() && refusal.is_none();
    html! {
        <div class="review" id="create-review">
            if let Some(why) = &refusal {
                <p class="refusal" role="alert" id="outcome" data-outcome="refused">{ format!("Not possible: {why}") }</p>
            } else {
                <p id="outcome" data-outcome="requests">{ format!("{} request(s) will be sent, in this order, after you apply.", plan.requests().len() + r.identity.as_ref().map(|(_, p)| p.requests().len()).unwrap_or(0)) }</p>
            }
            <dl class="summary" id="create-summary">
                if let Some((vm, _)) = &r.vm {
                    <dt>{ "VM" }</dt><dd>{ vm.id().as_str().to_string() }</dd>
                    <dt>{ "Size" }</dt><dd>{ vm.size.clone() }</dd>
                    <dt>{ "Network" }</dt><dd>{ format!("a NIC in {} (from the VM's networkInterfaceConfigurations)", vm.subnet_id) }</dd>
                } else {
                    <dt>{ "Scale set" }</dt><dd>{ spec.id().as_str().to_string() }</dd>
                    <dt>{ "Orchestration" }</dt><dd>{ format!("{:?}", spec.orchestration) }</dd>
                    <dt>{ "Size × count" }</dt><dd>{ format!("{} × {}", spec.sku, spec.capacity) }</dd>
                }
                <dt>{ "Identities" }</dt><dd id="create-identities">{ crate::pages::pickers::identity_summary(&plan.after) }</dd>
            </dl>
            if !plan.warnings.is_empty() {
                <ul class="warnings" id="warnings">{ for plan.warnings.iter().map(|x| html! { <li>{ &x.message }</li> }) }</ul>
            }
            if let Some((ispec, iplan)) = &r.identity {
                <h4>{ format!("First: create the user-assigned identity {}", ispec.name) }</h4>
                <Requests prefix="uai-" origin={origin.clone()} requests={iplan.requests().to_vec()} />
                if let Some(plan) = &reviewed.identity_scripts {
                    <Scripts prefix="uai-" source={ScriptSource::Plan(plan.clone())} />
                }
            }
            if refusal.is_none() {
                <h4>{ format!("The {}'s exact request", noun(target)) }</h4>
                <Requests origin={origin.clone()} requests={plan.requests().iter().map(shown_request).collect::<Vec<_>>()} />
                <h4>{ "Equivalent scripts" }</h4>
                <Scripts source={ScriptSource::Plan(reviewed.resource_scripts.clone())} />
            }
            <div class="apply-bar">
                if can_send {
                    <button type="button" class="button primary" id="apply" onclick={onapply} disabled={!s.read_write || running || matches!(**apply, Apply::Done { .. })}>{ "Create" }</button>
                    if !s.read_write { <span class="note" id="read-only-note">{ "Read-only: switch to read-write in the header to send these requests." }</span> }
                }
            </div>
            { match &**apply {
                Apply::Idle => html! {},
                Apply::Running { what, state, elapsed_ms } => html! {
                    <p class="progress" role="status" id="progress" aria-live="polite">
                        <progress aria-label="Operation in progress"></progress>
                        { format!(" {what}: {} · {} s", if state.is_empty() { "sending" } else { state }, crate::pages::seconds(*elapsed_ms)) }
                    </p>
                },
                Apply::Done { id, state, elapsed_ms } => html! {
                    <div class="done" role="status" id="result">
                        <p>{ format!("Created in {} s: {} with {}.", crate::pages::seconds(*elapsed_ms), state.id.name(), crate::pages::pickers::identity_summary(&state.identity)) }</p>
                        <p><Link to={Route::Resource { id: id.clone(), wizard: None }} id="open-created">{ format!("Open the new {}", noun(target)) }</Link></p>
                        <GrantAccess principals={crate::components::grant::principals_of(&state.identity)} scope={id.clone()} />
                    </div>
                },
                Apply::Failed { what, error, not_sent, left } => html! {
                    <ErrorBox error={error.clone()}>
                        <p>{ format!("{what} failed.") }</p>
                        if *not_sent {
                            <p id="not-sent">{ "Azure did not acknowledge this request (or it was not sent), so nothing is claimed: check the resource group before trying again." }</p>
                        }
                        { left_behind(s, apply, left) }
                    </ErrorBox>
                },
                Apply::Exists { id, left } => {
                    let is_identity = id.to_ascii_lowercase().contains("/userassignedidentities/");
                    let use_it = {
                        let (model, apply, id) = (model.clone(), apply.clone(), id.clone());
                        Callback::from(move |_: MouseEvent| {
                            model.dispatch(CreateAction::Set(Field::NewIdentityName, String::new()));
                            model.dispatch(CreateAction::ToggleUserAssigned(id.clone()));
                            apply.set(Apply::Idle);
                        })
                    };
                    html! {
                        <div class="error" role="alert" id="exists">
                            <p>{ format!("{id} exists already: nothing was replaced (If-None-Match: *).") }</p>
                            if is_identity {
                                <button type="button" class="button" id="use-existing" onclick={use_it}>{ "Use the existing identity instead" }</button>
                            }
                            { left_behind(s, apply, left) }
                        </div>
                    }
                }

            } }
        </div>
    }
}

/// What a failed create left behind, each with "Delete it" and "Keep it".
fn left_behind(s: &Session, apply: &UseStateHandle<Apply>, left: &[(String, Left)]) -> Html {
    if left.is_empty() {
        return html! {};
    }
    let set = |apply: &UseStateHandle<Apply>, id: &str, to: Left| {
        let mut a = (**apply).clone();
        if let Apply::Failed { left, .. } | Apply::Exists { left, .. } = &mut a {
            for (i, l) in left.iter_mut() {
                if i == id {
                    *l = to.clone();
                }
            }
        }
        apply.set(a);
    };
    html! {
        <div class="left-behind" id="left-behind">
            <p>{ "Created before the failure:" }</p>
            <ul>
                { for left.iter().map(|(id, l)| {
                    let delete = {
                        let (client, apply, id) = (s.client.clone(), apply.clone(), id.clone());
                        Callback::from(move |_: MouseEvent| {
                            let Some(client) = client.clone() else { return };
                            let (apply, id) = (apply.clone(), id.clone());
                            set(&apply, &id, Left::Deleting);
                            wasm_bindgen_futures::spawn_local(async move {
                                let out = flow::delete_created(&client, &id, &mut |_| {}).await;
                                let to = match out {
                                    Outcome::Failed(f) | Outcome::NotSent(f) => Left::Failed(ErrorView::from(&f.error)),
                                    _ => Left::Deleted,
                                };
                                set(&apply, &id, to);
                            });
                        })
                    };
                    let keep = { let (apply, id) = (apply.clone(), id.clone()); Callback::from(move |_: MouseEvent| set(&apply, &id, Left::Kept)) };
                    html! {
                        <li data-id={id.clone()}>
                            <code>{ id.clone() }</code>
                            { match l {
                                Left::Offered => html! { <>
                                    { " " }
                                    <button type="button" class="button secondary" id="delete-left" onclick={delete} disabled={!s.read_write}>{ "Delete it" }</button>
                                    { " " }
                                    <button type="button" class="button secondary" id="keep-left" onclick={keep}>{ "Keep it" }</button>
                                </> },
                                Left::Deleting => html! { <span class="progress">{ " deleting…" }</span> },
                                Left::Deleted => html! { <span>{ " deleted." }</span> },
                                Left::Kept => html! { <span>{ " kept." }</span> },
                                Left::Failed(e) => html! { <ErrorBox error={e.clone()} /> },
                            } }
                        </li>
                    }
                }) }
            </ul>
        </div>
    }
}

/// Where the new-identity form stands.
#[derive(Debug, Clone, PartialEq)]
enum Made {
    Idle,
    Sending,
    Done(String),
    /// One of that name exists: nothing was replaced; offered instead.
    Exists(String),
    Failed(ErrorView),
}

/// The page for a create route (what `crate::lazy::CREATE` loads).
pub fn render(route: &Route) -> Html {
    crate::pages::connected(match route {
        Route::CreateVm => html! { <CreateVm /> },
        Route::CreateIdentity => html! { <CreateIdentity /> },
        _ => html! { <CreateScaleSet /> },
    })
}

/// The new-identity form (what `crate::lazy::NEW_IDENTITY_FORM` loads for the assign wizard).
pub fn render_new_identity_form(props: &NewIdentityProps) -> Html {
    html! { <NewIdentityForm ..props.clone() /> }
}

#[derive(Properties, PartialEq, Clone)]
pub struct NewIdentityProps {
    /// Preselected subscription, group and region (e.g. those of the scale set being changed).
    #[prop_or_default]
    pub subscription: String,
    #[prop_or_default]
    pub resource_group: String,
    #[prop_or_default]
    pub location: String,
    /// Called with the new identity's id once it exists.
    #[prop_or_default]
    pub on_created: Callback<String>,
    /// Heading level 3 (inline) or 2 (own page).
    #[prop_or_default]
    pub inline: bool,
}

/// "Create a new identity": name, group, region → PUT (read-write only), with the request and
/// scripts shown before it is sent.
#[component]
pub fn NewIdentityForm(props: &NewIdentityProps) -> Html {
    let s = use_session();
    let spec = use_state(|| UserAssignedIdentitySpec {
        subscription: props.subscription.clone(),
        resource_group: props.resource_group.clone(),
        name: String::new(),
        location: props.location.clone(),
    });
    let made = use_state(|| Made::Idle);
    let subs = use_subscriptions();
    let groups = use_groups(spec.subscription.clone());
    let locs = use_locations(spec.subscription.clone());
    let setter = |f: fn(&mut UserAssignedIdentitySpec, String)| {
        let spec = spec.clone();
        let made = made.clone();
        Callback::from(move |v: String| {
            let mut x = (*spec).clone();
            f(&mut x, v);
            spec.set(x);
            if matches!(*made, Made::Done(_) | Made::Exists(_) | Made::Failed(_)) {
                made.set(Made::Idle);
            }
        })
    };
    let name_err = (!spec.name.is_empty())
        .then(|| naming::validate_user_assigned_identity_name(&spec.name).err())
        .flatten()
        .map(|e| e.to_string());
    // the PUT as sent: If-None-Match: * (an existing identity is never replaced)
    let plan = flow::identity_plan(&spec);
    let ready = plan.refusal().is_none();
    let oncreate = {
        let (client, spec, made, cb) = (
            s.client.clone(),
            (*spec).clone(),
            made.clone(),
            props.on_created.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(client) = client.clone() else { return };
            let (spec, made, cb) = (spec.clone(), made.clone(), cb.clone());
            made.set(Made::Sending);
            wasm_bindgen_futures::spawn_local(async move {
                match flow::create_identity(&client, &spec, &mut |_| {}).await {
                    Outcome::Applied(c) => {
                        made.set(Made::Done(c.id.clone()));
                        cb.emit(c.id);
                    }
                    Outcome::Exists { id, .. } => made.set(Made::Exists(id)),
                    Outcome::Failed(f) | Outcome::NotSent(f) => {
                        made.set(Made::Failed(ErrorView::from(&f.error)))
                    }
                    Outcome::Noop(why) | Outcome::Refused(why) => {
                        made.set(Made::Failed(ErrorView::plain("Not sent", why)))
                    }
                    Outcome::ConflictReplanned(r) => {
                        made.set(Made::Failed(ErrorView::from(&r.error)))
                    }
                }
            });
        })
    };
    let title = "Create a new user-assigned identity";
    html! {
        <section class="new-identity" id="new-identity" aria-labelledby="new-identity-title">
            if props.inline { <h4 id="new-identity-title">{ title }</h4> } else { <h2 id="new-identity-title">{ title }</h2> }
            { load_note(&*subs, "subscriptions") }
            { select_input("uai-subscription", "Subscription", &spec.subscription, &options(&subs), None, setter(|x, v| { if x.subscription != v { x.resource_group.clear(); } x.subscription = v; })) }
            { select_input("uai-group", "Resource group", &spec.resource_group, &options(&groups), None, setter(|x, v| x.resource_group = v)) }
            { select_input("uai-location", "Region", &spec.location, &options(&locs), None, setter(|x, v| x.location = v)) }
            { text_input("uai-name", "Identity name", &spec.name, "text", name_err, Some("3–128 characters: letters, digits, '-' and '_', starting with a letter or digit."), setter(|x, v| x.name = v)) }
            if ready {
                <Requests prefix="uai-" origin={origin(&s)} requests={plan.requests().to_vec()} />
                <Scripts prefix="uai-" source={ScriptSource::Plan(ScriptPlan::from_user_assigned_identity(s.config.script_cloud(), &spec, &plan))} />
                if s.client.is_some() {
                    <button type="button" class="button primary" id="uai-create" onclick={oncreate} disabled={!s.read_write || *made == Made::Sending}>{ "Create identity" }</button>
                    if !s.read_write { <span class="note">{ "Read-only: switch to read-write in the header to create it." }</span> }
                }
            }
            { match &*made {
                Made::Idle => html! {},
                Made::Sending => html! { <p class="progress" role="status" id="uai-progress">{ "Creating…" }</p> },
                Made::Done(id) => html! { <p class="done" role="status" id="uai-result">{ format!("Created {}.", id) }</p> },
                Made::Exists(id) => {
                    let use_it = { let (cb, made, id) = (props.on_created.clone(), made.clone(), id.clone()); Callback::from(move |_: MouseEvent| { made.set(Made::Done(id.clone())); cb.emit(id.clone()) }) };
                    html! {
                        <div class="error" role="alert" id="uai-exists">
                            <p>{ format!("An identity {} exists already: nothing was replaced (If-None-Match: *).", id) }</p>
                            <button type="button" class="button" id="uai-use-existing" onclick={use_it}>{ "Use it instead" }</button>
                        </div>
                    }
                }
                Made::Failed(e) => html! { <ErrorBox error={e.clone()} /> },
            } }
        </section>
    }
}

/// `/create/identity`: a user-assigned identity on its own, then optionally a role for it.
#[component]
pub fn CreateIdentity() -> Html {
    let created = use_state(|| None::<String>);
    let on_created = {
        let created = created.clone();
        Callback::from(move |id: String| created.set(Some(id)))
    };
    html! {
        <section>
            <nav aria-label="Breadcrumb" class="crumbs"><Link to={Route::Home}>{ "Start" }</Link>{ " / " }<span aria-current="page">{ "Create an identity" }</span></nav>
            <NewIdentityForm {on_created} />
            if let Some(id) = &*created {
                <crate::components::grant::IdentityGrant id={id.clone()} />
            }
        </section>
    }
}
