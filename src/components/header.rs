use crate::components::signin::AccountMenu;
use yew::prelude::*;

#[component]
pub fn Header() -> Html {
    html! {
        <header class="topbar">
            <a class="skip" href="#main">{ "Skip to content" }</a>
            <h1 class="brand">{ "identity-wizard" }</h1>
            <p class="tagline">{ "Managed identities for Azure scale sets and VMs — every request shown before it is sent." }</p>
            <AccountMenu />
        </header>
    }
}
