use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CopyProps {
    pub text: AttrValue,
    /// What is copied, for the button's accessible name ("Copy Az PowerShell").
    pub label: AttrValue,
}

/// Copy to the clipboard (Clipboard API, falling back to a selected textarea and
/// `document.execCommand("copy")`), with "Copied" feedback.
#[component]
pub fn CopyButton(props: &CopyProps) -> Html {
    let state = use_state(|| None::<bool>);
    let onclick = {
        let text = props.text.to_string();
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            let text = text.clone();
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                state.set(Some(copy_text(&text).await));
            });
        })
    };
    let label = match *state {
        None => "Copy",
        Some(true) => "Copied",
        Some(false) => "Copy failed: select the text",
    };
    html! {
        <button type="button" class="copy" aria-label={format!("Copy {}", props.label)} {onclick}>
            { label }
            <span class="sr-live" aria-live="polite">{ if *state == Some(true) { "copied to the clipboard" } else { "" } }</span>
        </button>
    }
}

async fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = window.navigator().clipboard();
    if wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text))
        .await
        .is_ok()
    {
        return true;
    }
    fallback_copy(&window, text)
}

fn fallback_copy(window: &web_sys::Window, text: &str) -> bool {
    use wasm_bindgen::JsCast;
    let Some(doc) = window.document() else {
        return false;
    };
    let Some(body) = doc.body() else { return false };
    let Ok(el) = doc.create_element("textarea") else {
        return false;
    };
    let Ok(ta) = el.dyn_into::<web_sys::HtmlTextAreaElement>() else {
        return false;
    };
    ta.set_value(text);
    ta.set_attribute("readonly", "").ok();
    ta.set_class_name("offscreen");
    if body.append_child(&ta).is_err() {
        return false;
    }
    ta.select();
    let html_doc: &web_sys::HtmlDocument = match doc.dyn_ref() {
        Some(d) => d,
        None => {
            ta.remove();
            return false;
        }
    };
    let ok = html_doc.exec_command("copy").unwrap_or(false);
    ta.remove();
    ok
}
