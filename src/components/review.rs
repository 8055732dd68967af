//! The review: the before/after identity diff (kept identities visible), the exact HTTP
//! request(s), and the equivalent scripts in tabs with copy buttons (their generators load on
//! first use: [`Scripts`]).

use crate::components::copy::CopyButton;
use identity_core::ArmRequest;
use identity_core::IdentityState;
use identity_core::scripts::{Flavour, Script, ScriptPlan, SnippetRequest};
use identity_core::wizard::{Change, diff};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DiffProps {
    pub before: IdentityState,
    pub after: IdentityState,
}

/// Before/after, one row per identity.
#[component]
pub fn IdentityDiff(props: &DiffProps) -> Html {
    let rows = diff(&props.before, &props.after);
    if rows.is_empty() {
        return html! { <p class="note" id="diff">{ "No managed identity before or after." }</p> };
    }
    html! {
        <table class="diff" id="diff">
            <caption>{ "Identities before and after" }</caption>
            <thead><tr><th scope="col">{ "Identity" }</th><th scope="col">{ "Before" }</th><th scope="col">{ "After" }</th><th scope="col">{ "Change" }</th></tr></thead>
            <tbody>
                { for rows.iter().map(|r| {
                    let (b, a) = match r.change {
                        Change::Kept => ("yes", "yes"),
                        Change::Added => ("—", "yes"),
                        Change::Removed => ("yes", "—"),
                    };
                    html! {
                        <tr class={classes!("change", r.change.as_str())} data-change={r.change.as_str()}>
                            <th scope="row" title={r.id.clone()}>{ &r.label }</th>
                            <td>{ b }</td><td>{ a }</td><td>{ r.change.as_str() }</td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

/// The request as text: `METHOD URL`, headers (no Authorization: the app adds the token and
/// never shows it), blank line, pretty JSON body.
pub fn request_text(origin: &str, r: &ArmRequest) -> String {
    let mut s = format!("{} {}{}\n", r.method.as_str(), origin, r.path_and_query());
    if r.body.is_some() {
        s.push_str("Content-Type: application/json\n");
    }
    for (k, v) in &r.headers {
        s.push_str(&format!("{k}: {v}\n"));
    }
    if let Some(b) = &r.body {
        s.push('\n');
        s.push_str(&serde_json::to_string_pretty(b).unwrap_or_default());
        s.push('\n');
    }
    s
}

#[derive(Properties, PartialEq)]
pub struct RequestsProps {
    pub origin: AttrValue,
    pub requests: Vec<ArmRequest>,
    /// Prefix of the element id (`{prefix}requests`), for a second list on the same page.
    #[prop_or_default]
    pub prefix: AttrValue,
}

/// The exact HTTP request(s) the app will send.
#[component]
pub fn Requests(props: &RequestsProps) -> Html {
    html! {
        <div class="requests" id={format!("{}requests", props.prefix)}>
            { for props.requests.iter().enumerate().map(|(i, r)| {
                let text = request_text(&props.origin, r);
                html! {
                    <figure class="request">
                        <figcaption>{ format!("Request {} of {}", i + 1, props.requests.len()) }
                            <CopyButton text={text.clone()} label={format!("request {}", i + 1)} />
                        </figcaption>
                        <pre class="http" tabindex="0" aria-label={format!("Request {}", i + 1)}><code>{ text }</code></pre>
                    </figure>
                }
            }) }
        </div>
    }
}

/// What the equivalent scripts are generated from.
#[derive(Clone, PartialEq)]
pub enum ScriptSource {
    /// A change's or a create's plan ([`identity_core::scripts::generate_all`]).
    Plan(ScriptPlan),
    /// A snippet for a resource not read ([`identity_core::scripts::snippet_all`]).
    Snippet(SnippetRequest),
}

#[derive(Properties, PartialEq, Clone)]
pub struct ScriptsProps {
    pub source: ScriptSource,
    /// Prefix of the element ids (`{prefix}scripts`, `{prefix}tab-…`, `{prefix}script-panel`),
    /// for a second set on the same page.
    #[prop_or_default]
    pub prefix: AttrValue,
}

/// The equivalent scripts in tabs (Az PowerShell first), each with a copy button. The generators
/// are a module of their own in the production build (`crate::lazy::SCRIPTS`), fetched the first
/// time scripts are shown.
#[component]
pub fn Scripts(props: &ScriptsProps) -> Html {
    html! { <crate::lazy::Lazy<ScriptsProps> split={&crate::lazy::SCRIPTS} props={props.clone()} /> }
}

#[derive(Properties, PartialEq)]
pub struct ScriptTabsProps {
    pub scripts: Vec<Script>,
    /// Prefix of the element ids (`{prefix}scripts`, `{prefix}tab-…`, `{prefix}script-panel`),
    /// for a second set on the same page.
    #[prop_or_default]
    pub prefix: AttrValue,
}

/// Scripts in tabs (Az PowerShell first), each with a copy button: the tabs of the generated scripts
/// (`crate::components::scripts`, in the `scripts` module) and of those a page makes itself (the inventory's). Keyboard as the ARIA tabs pattern: the
/// selected tab is the tab stop; Left / Right (wrapping), Home and End select and focus another tab.
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
    let onkeydown = {
        let flavours: Vec<Flavour> = props.scripts.iter().map(|s| s.flavour).collect();
        let (selected, at, pre) = (selected.clone(), current.flavour, pre.to_string());
        Callback::from(move |e: KeyboardEvent| {
            let Some(i) = flavours.iter().position(|f| *f == at) else {
                return;
            };
            let n = flavours.len();
            let to = match e.key().as_str() {
                "ArrowRight" => (i + 1) % n,
                "ArrowLeft" => (i + n - 1) % n,
                "Home" => 0,
                "End" => n - 1,
                _ => return,
            };
            e.prevent_default();
            selected.set(flavours[to]);
            let id = format!("{pre}tab-{}", flavours[to].slug());
            if let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(&id))
                .and_then(|el| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok())
            {
                let _ = el.focus();
            }
        })
    };
    html! {
        <div class="scripts" id={format!("{pre}scripts")}>
            <div role="tablist" aria-label="Equivalent scripts" class="tabs" {onkeydown}>
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

#[cfg(test)]
mod tests {
    use super::*;
    use identity_core::Method;

    #[test]
    fn request_text_is_method_url_headers_and_pretty_body() {
        let mut r = ArmRequest::new(Method::Patch, "/subscriptions/s/x", "2024-11-01");
        r.headers.push(("If-Match".into(), "\"3\"".into()));
        r.body = Some(serde_json::json!({"identity": {"type": "None"}}));
        let t = request_text("https://management.azure.com", &r);
        let (head, body) = t.split_once("\n\n").unwrap();
        assert_eq!(
            head,
            "PATCH https://management.azure.com/subscriptions/s/x?api-version=2024-11-01\nContent-Type: application/json\nIf-Match: \"3\""
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(body).unwrap(),
            r.body.unwrap()
        );
        assert!(!t.to_lowercase().contains("authorization"));
        let get = ArmRequest::new(Method::Get, "/subscriptions", "2022-12-01");
        assert_eq!(
            request_text("https://h", &get),
            "GET https://h/subscriptions?api-version=2022-12-01\n"
        );
    }
}
