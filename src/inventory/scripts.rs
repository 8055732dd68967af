//! The inventory's Resource Graph queries as scripts, in tabs with copy buttons: on the inventory page the
//! tenant's inventory (`Search-AzGraph` / `az graph query`, identity-core's `inventory::scripts::{powershell,
//! bash}`), on an identity page the same focused queries the page runs (`identity_powershell`, `identity_bash`).

use crate::components::review::ScriptTabs;
use crate::session::use_session;
use identity_core::inventory::scripts;
use identity_core::scripts::{Flavour, Language, Script};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct GraphScriptsProps {
    /// An identity page's identity (its ARM id); `None`: the whole inventory.
    #[prop_or_default]
    pub identity: Option<String>,
}

/// "Scripts": Az PowerShell and Azure CLI (bash) tabs.
#[component]
pub fn GraphScripts(props: &GraphScriptsProps) -> Html {
    let cloud = use_session().config.script_cloud();
    let list = use_memo((cloud, props.identity.clone()), |(cloud, identity)| {
        let (ps, sh) = match identity {
            None => (
                Some(scripts::powershell(*cloud)),
                Some(scripts::bash(*cloud)),
            ),
            Some(id) => (
                scripts::identity_powershell(*cloud, id),
                scripts::identity_bash(*cloud, id),
            ),
        };
        let mut v = vec![];
        if let Some(text) = ps {
            v.push(Script {
                flavour: Flavour::AzPowerShell,
                language: Language::PowerShell,
                text,
            });
        }
        if let Some(text) = sh {
            v.push(Script {
                flavour: Flavour::CliBash,
                language: Language::Bash,
                text,
            });
        }
        v
    });
    let (prefix, what) = match &props.identity {
        None => (
            "inv-",
            "The same Resource Graph queries as this page, to run yourself: every page of 1,000 rows (Search-AzGraph -First 1000 -SkipToken; az graph query --first 1000 --skip-token), the subscriptions in batches of 1,000, one file per shape.",
        ),
        Some(_) => (
            "identity-",
            "The same Resource Graph queries as this page, to run yourself: the identity, the scale sets and VMs that use it, its principal's role assignments and their role names.",
        ),
    };
    html! {
        <section class="graph-scripts" aria-labelledby={format!("{prefix}scripts-h")}>
            <h3 id={format!("{prefix}scripts-h")}>{ "Scripts" }</h3>
            if list.is_empty() {
                <p>{ "No script: this id cannot be written into a Resource Graph query." }</p>
            } else {
                <p>{ what }</p>
                <ScriptTabs {prefix} scripts={(*list).clone()} />
            }
        </section>
    }
}
