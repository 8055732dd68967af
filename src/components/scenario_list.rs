use crate::nav::Link;
use crate::session::use_session;
use identity_core::catalogue::{Applies, SCENARIOS};
use identity_core::route::Route;
use yew::prelude::*;

/// The catalogue of identity scenarios, each with where to start it.
#[component]
pub fn ScenarioList() -> Html {
    let s = use_session();
    let live = s.mode != crate::session::Mode::SnippetsOnly;
    html! {
        <section aria-labelledby="scenarios-title">
            <h2 id="scenarios-title">{ "What do you want to do?" }</h2>
            <ul class="scenarios" id="scenarios">
                { for SCENARIOS.iter().map(|sc| html! {
                    <li class="scenario" data-slug={sc.slug}>
                        <h3>{ sc.title }</h3>
                        <p>{ sc.summary }</p>
                        <span class="badge">{ match sc.applies {
                            Applies::Existing => "existing scale set or VM",
                            Applies::Create => "new scale set or VM",
                        } }</span>
                        <div class="actions">
                            if sc.applies == Applies::Existing {
                                if live {
                                    <Link to={Route::Subscriptions} class="button">{ "Pick a scale set or VM" }</Link>
                                }
                                <Link to={Route::Snippets { slug: sc.slug.to_string() }} class="button secondary">{ "Scripts only" }</Link>
                            } else {
                                if live {
                                    <Link to={Route::CreateScaleSet} class="button">{ "Create a scale set" }</Link>
                                    <Link to={Route::CreateVm} class="button">{ "Create a VM" }</Link>
                                    <Link to={Route::CreateIdentity} class="button secondary">{ "Create a user-assigned identity" }</Link>
                                } else {
                                    <span class="note">{ "Creating needs ARM access: sign in, or use the demo tenant (scripts/serve)." }</span>
                                }
                            }
                        </div>
                    </li>
                }) }
            </ul>
        </section>
    }
}
