//! The equivalent scripts in tabs: what [`crate::lazy::SCRIPTS`] loads (the script generators of
//! `identity-core` and these tabs are a module of their own in the production build; pages show them
//! with [`crate::components::review::Scripts`]).

use crate::components::copy::CopyButton;
use crate::components::review::{ScriptSource, ScriptsProps};
use identity_core::scripts::{Flavour, Script, generate_all, snippet_all};
use yew::prelude::*;

/// The scripts for `props.source`, in tabs.
pub fn render(props: &ScriptsProps) -> Html {
    let scripts = match &props.source {
        ScriptSource::Plan(p) => generate_all(p),
        ScriptSource::Snippet(r) => snippet_all(r),
    };
    html! { <ScriptTabs {scripts} prefix={props.prefix.clone()} /> }
}

#[derive(Properties, PartialEq)]
pub struct ScriptTabsProps {
    pub scripts: Vec<Script>,
    /// Prefix of the element ids (`{prefix}scripts`, `{prefix}tab-…`, `{prefix}script-panel`),
    /// for a second set on the same page.
    #[prop_or_default]
    pub prefix: AttrValue,
}

/// Scripts in tabs (Az PowerShell first), each with a copy button.
#[component]
pub fn ScriptTabs(props: &ScriptTabsProps) -> Html {
    let selected = use_state(|| Flavour::AzPowerShell);
    let current = props
        .scripts
        .iter()
        .find(|s| s.flavour == *selected)
        .or_else(|| props.scripts.first());
    let Some(current) = current else {
        return html! {};
    };
    let pre = props.prefix.as_str();
    html! {
        <div class="scripts" id={format!("{pre}scripts")}>
            <div role="tablist" aria-label="Equivalent scripts" class="tabs">
                { for props.scripts.iter().map(|s| {
                    let on = s.flavour == current.flavour;
                    let pick = { let selected = selected.clone(); let f = s.flavour; Callback::from(move |_: MouseEvent| selected.set(f)) };
                    html! {
                        <button type="button" role="tab" id={format!("{pre}tab-{}", s.flavour.slug())} aria-selected={on.to_string()}
                            aria-controls={format!("{pre}script-panel")} tabindex={if on { "0" } else { "-1" }} class={classes!("tab", on.then_some("on"))} onclick={pick}>
                            { s.flavour.title() }
                        </button>
                    }
                }) }
            </div>
            <div role="tabpanel" id={format!("{pre}script-panel")} aria-labelledby={format!("{pre}tab-{}", current.flavour.slug())} data-flavour={current.flavour.slug()}>
                <CopyButton text={current.text.clone()} label={current.flavour.title()} />
                <pre class="script" tabindex="0" aria-label={current.flavour.title()}><code>{ &current.text }</code></pre>
            </div>
        </div>
    }
}
