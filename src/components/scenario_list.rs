use identity_core::catalogue::{Applies, SCENARIOS};
use yew::prelude::*;

/// The catalogue of identity scenarios.
#[component]
pub fn ScenarioList() -> Html {
    html! {
        <section aria-labelledby="scenarios-title">
            <h2 id="scenarios-title">{ "What do you want to do?" }</h2>
            <ul class="scenarios" id="scenarios">
                { for SCENARIOS.iter().map(|s| html! {
                    <li class="scenario" data-slug={s.slug}>
                        <h3>{ s.title }</h3>
                        <p>{ s.summary }</p>
                        <span class="badge">{ match s.applies {
                            Applies::Existing => "existing scale set or VM",
                            Applies::Create => "new scale set",
                        } }</span>
                    </li>
                }) }
            </ul>
        </section>
    }
}
