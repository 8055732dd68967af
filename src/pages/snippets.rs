//! Snippet-only mode: a wizard with typed names and ids, producing scripts that read the current
//! state when they run (nothing is sent from here, and no state is assumed).

use crate::components::review::{ScriptSource, Scripts};
use crate::nav::Link;
use crate::session::use_session;
use identity_core::operation::Operation;
use identity_core::resource_id::{IdKind, ResourceId};
use identity_core::route::Route;
use identity_core::scripts::{Intent, Resource, SnippetRequest, TargetKind};
use identity_core::wizard::WizardKind;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SnippetProps {
    pub slug: String,
}

#[derive(Clone, PartialEq, Default)]
struct Form {
    sub: String,
    rg: String,
    name: String,
    kind: String,
    ids: String,
}

fn input(label: &str, id: &str, value: &str, on: Callback<String>, hint: &str) -> Html {
    let oninput = Callback::from(move |e: InputEvent| {
        on.emit(
            e.target_unchecked_into::<web_sys::HtmlInputElement>()
                .value(),
        )
    });
    html! {
        <div class="field">
            <label for={id.to_string()}>{ label }</label>
            <input id={id.to_string()} type="text" value={value.to_string()} {oninput} autocomplete="off" spellcheck="false" aria-describedby={format!("{id}-hint")} />
            <span class="hint" id={format!("{id}-hint")}>{ hint }</span>
        </div>
    }
}

/// Validate the form into a snippet request.
fn build(
    kind: WizardKind,
    f: &Form,
    cloud: identity_core::scripts::Cloud,
) -> Result<SnippetRequest, String> {
    let target_kind = match f.kind.as_str() {
        "flexible" => TargetKind::ScaleSetFlexible,
        "vm" => TargetKind::Vm,
        _ => TargetKind::ScaleSetUniform,
    };
    if f.sub.trim().is_empty() || f.rg.trim().is_empty() || f.name.trim().is_empty() {
        return Err("Type the subscription, resource group and name.".into());
    }
    let id = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/{}/{}",
        f.sub.trim(),
        f.rg.trim(),
        if target_kind == TargetKind::Vm {
            "virtualMachines"
        } else {
            "virtualMachineScaleSets"
        },
        f.name.trim()
    );
    ResourceId::parse(&id).map_err(|e| e.to_string())?;
    let ids: Vec<String> = f
        .ids
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    for i in &ids {
        let parsed = ResourceId::parse(i).map_err(|e| format!("{i}: {e}"))?;
        if parsed.kind() != IdKind::UserAssignedIdentity {
            return Err(format!(
                "{i} is not a user-assigned identity id (…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME)."
            ));
        }
    }
    let op = match kind {
        WizardKind::EnableSystemAssigned if target_kind == TargetKind::ScaleSetFlexible => {
            return Err("A Flexible scale set accepts only user-assigned identities: Azure rejects SystemAssigned (400 InvalidParameter).".into());
        }
        WizardKind::EnableSystemAssigned => Operation::EnableSystemAssigned,
        WizardKind::RemoveSystemAssigned => Operation::RemoveSystemAssigned,
        WizardKind::AssignUserAssigned | WizardKind::RemoveUserAssigned if ids.is_empty() => {
            return Err("Type at least one user-assigned identity id, one per line.".into());
        }
        WizardKind::AssignUserAssigned => Operation::AddUserAssigned { ids },
        WizardKind::RemoveUserAssigned => Operation::RemoveUserAssigned { ids },
        WizardKind::RemoveLegacyExtension => {
            return Err("Scripts for removing the legacy extension are generated from the resource page (they need the installed extension's name): sign in or use the demo tenant.".into());
        }
    };
    let intent = Intent::from_operation(&op).ok_or("no script for this operation")?;
    Ok(SnippetRequest {
        cloud,
        target: Resource::new(f.sub.trim(), f.rg.trim(), f.name.trim(), target_kind),
        intent,
    })
}

#[component]
pub fn Snippets(props: &SnippetProps) -> Html {
    let s = use_session();
    let form = use_state(|| Form {
        kind: "uniform".into(),
        ..Default::default()
    });
    let Some(kind) = WizardKind::from_slug(&props.slug) else {
        return html! { <section><h2>{ "Unknown wizard" }</h2><p>{ format!("There is no snippet-only wizard called {:?}.", props.slug) }</p><Link to={Route::Home}>{ "Back" }</Link></section> };
    };
    let set = |f: fn(&mut Form, String)| {
        let form = form.clone();
        Callback::from(move |v: String| {
            let mut n = (*form).clone();
            f(&mut n, v);
            form.set(n);
        })
    };
    let on_kind = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            let mut n = (*form).clone();
            n.kind = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            form.set(n);
        })
    };
    let on_ids = {
        let form = form.clone();
        Callback::from(move |e: InputEvent| {
            let mut n = (*form).clone();
            n.ids = e
                .target_unchecked_into::<web_sys::HtmlTextAreaElement>()
                .value();
            form.set(n);
        })
    };
    let result = build(kind, &form, s.config.script_cloud());
    html! {
        <section class="wizard snippets" id="wizard" data-step="snippets">
            <nav aria-label="Breadcrumb" class="crumbs"><Link to={Route::Home}>{ "Start" }</Link>{ " / Scripts only" }</nav>
            <h2 id="wizard-title">{ kind.title() }</h2>
            <p class="banner" role="note">{ "Scripts only: type the names; the scripts read the current identities when they run and keep every identity you do not name. Nothing is sent from this page." }</p>
            <form class="snippet-form" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
                { input("Subscription id", "sn-sub", &form.sub, set(|f, v| f.sub = v), "The subscription GUID") }
                { input("Resource group", "sn-rg", &form.rg, set(|f, v| f.rg = v), "The resource group that holds it") }
                { input("Name", "sn-name", &form.name, set(|f, v| f.name = v), "The scale set or VM name") }
                <div class="field">
                    <label for="sn-kind">{ "Kind" }</label>
                    <select id="sn-kind" onchange={on_kind}>
                        <option value="uniform" selected={form.kind == "uniform"}>{ "Scale set (Uniform)" }</option>
                        <option value="flexible" selected={form.kind == "flexible"}>{ "Scale set (Flexible)" }</option>
                        <option value="vm" selected={form.kind == "vm"}>{ "Virtual machine" }</option>
                    </select>
                </div>
                if kind.needs_selection() {
                    <div class="field">
                        <label for="sn-ids">{ "User-assigned identity ids, one per line" }</label>
                        <textarea id="sn-ids" rows="3" value={form.ids.clone()} oninput={on_ids} spellcheck="false" />
                    </div>
                }
            </form>
            { match result {
                Ok(req) => html! { <Scripts source={ScriptSource::Snippet(req)} /> },
                Err(e) => html! { <p class="note" id="snippet-error" role="status">{ e }</p> },
            } }
        </section>
    }
}
