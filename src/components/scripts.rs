//! The equivalent scripts, generated: what [`crate::lazy::SCRIPTS`] loads (the script generators of
//! `identity-core` are a module of their own in the production build; pages show them with
//! [`crate::components::review::Scripts`], in the shared [`ScriptTabs`]).

use crate::components::review::{ScriptSource, ScriptTabs, ScriptsProps};
use identity_core::scripts::{generate_all, snippet_all};
use yew::prelude::*;

/// The scripts for `props.source`, in tabs.
pub fn render(props: &ScriptsProps) -> Html {
    let scripts = match &props.source {
        ScriptSource::Plan(p) => generate_all(p),
        ScriptSource::Snippet(r) => snippet_all(r),
    };
    html! { <ScriptTabs {scripts} prefix={props.prefix.clone()} /> }
}
