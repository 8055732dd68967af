use crate::components::scenario_list::ScenarioList;
use crate::session::{Mode, use_session};
use yew::prelude::*;

/// The start page: what this session can do, and the scenario catalogue.
#[component]
pub fn Home() -> Html {
    let s = use_session();
    html! {
        <>
            <div class={classes!("banner", format!("banner-{:?}", s.mode).to_ascii_lowercase())} id="banner" role="status">
                { match s.mode {
                    Mode::Demo => "You are in the demo tenant: a simulated Azure (two subscriptions, scale sets, VMs, identities) running in this page. Pick a scale set and try every wizard; nothing leaves your browser.".to_string(),
                    Mode::SignedIn => format!("Signed in. Requests go to {} after you review them.", s.cloud.arm_endpoint),
                    Mode::SnippetsOnly => s.notice.clone().unwrap_or_else(|| "Snippet-only mode.".into()),
                } }
            </div>
            if s.mode != Mode::SnippetsOnly {
                <p class="inv-start">
                    <crate::nav::Link to={identity_core::route::Route::Inventory { query: String::new() }} id="start-inventory">{ "See the inventory" }</crate::nav::Link>
                    { ": every scale set, VM and user-assigned identity you can read, who uses what, filtered and exported as CSV or JSON." }
                </p>
            }
            { crate::bulk_offer::offer() }
            <ScenarioList />
        </>
    }
}
