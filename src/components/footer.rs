use yew::prelude::*;

/// Footer: version, and the state of the sign-in library, which is loaded after the first paint.
#[component]
pub fn Footer() -> Html {
    let msal = use_state(|| "sign-in library: loading after first paint".to_string());
    {
        let msal = msal.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let text = match crate::loader::load_script(crate::MSAL_SRC).await {
                    Ok(()) => match crate::loader::msal_version() {
                        Some(v) => format!("sign-in library: MSAL {v}"),
                        None => "sign-in library: loaded without a version".to_string(),
                    },
                    Err(_) => "sign-in library: could not be loaded (sign-in unavailable; snippets still work)".to_string(),
                };
                msal.set(text);
            });
        });
    }
    html! {
        <footer class="footer">
            <span id="version">{ format!("identity-wizard v{}", crate::VERSION) }</span>
            <span id="msal-status">{ (*msal).clone() }</span>
        </footer>
    }
}
