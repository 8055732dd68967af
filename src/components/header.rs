use crate::components::signin::AccountMenu;
use crate::nav::Link;
use crate::session::{Mode, use_session};
use identity_core::route::Route;
use yew::prelude::*;

/// The read-write switch's state in words.
pub fn read_write_state(on: bool) -> &'static str {
    if on {
        "Read-write: changes will be sent"
    } else {
        "Read-only"
    }
}

/// Header: brand, where requests go (demo / signed in / snippet-only), the read-write switch.
#[component]
pub fn Header() -> Html {
    let s = use_session();
    let (badge, title) = match s.mode {
        Mode::Demo => (
            "Demo tenant",
            "A simulated Azure tenant running in this page: nothing leaves your browser."
                .to_string(),
        ),
        Mode::SignedIn => (
            "Signed in",
            format!("Requests go to {}", s.cloud.arm_endpoint),
        ),
        Mode::SnippetsOnly => (
            "Snippet-only",
            "Not signed in: wizards produce scripts and send nothing.".to_string(),
        ),
    };
    let toggle = {
        let set = s.set_read_write.clone();
        let on = s.read_write;
        Callback::from(move |_: Event| set.emit(!on))
    };
    html! {
        <header class="topbar">
            <a class="skip" href="#main">{ "Skip to content" }</a>
            <h1 class="brand"><Link to={Route::Home}>{ "identity-wizard" }</Link></h1>
            <p class="tagline">{ "Managed identities for Azure scale sets and VMs — every request shown before it is sent." }</p>
            <div class="session">
                <span class={classes!("mode", format!("mode-{}", badge.to_ascii_lowercase().replace(' ', "-")))} id="mode" title={title.clone()}>{ badge }</span>
                <span class="cloud" title="Azure cloud">{ s.cloud.label.clone() }</span>
                if s.mode != Mode::SnippetsOnly {
                    <div class={classes!("rw", s.read_write.then_some("on"))} title="Read-only is the default: reviews and scripts only. Read-write lets Apply send the request.">
                        <input type="checkbox" role="switch" id="read-write" checked={s.read_write}
                            aria-checked={s.read_write.to_string()} aria-describedby="read-write-state" onchange={toggle} />
                        <label for="read-write">{ "Allow changes" }</label>
                        <span id="read-write-state" class="rw-state" aria-live="polite">{ read_write_state(s.read_write) }</span>
                    </div>
                }
                <AccountMenu />
                <Link to={Route::Inventory { query: String::new() }} class="loglink" id="nav-inventory">{ "Inventory" }</Link>
                <Link to={Route::ChangeLog} class="loglink">{ "Change log" }</Link>
            </div>
        </header>
    }
}
