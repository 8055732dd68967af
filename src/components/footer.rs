use yew::prelude::*;

#[component]
pub fn Footer() -> Html {
    html! {
        <footer class="footer">
            <span id="version">{ format!("identity-wizard v{}", crate::VERSION) }</span>
        </footer>
    }
}
