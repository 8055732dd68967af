use crate::session::use_session;
use yew::prelude::*;

/// Every request sent in this session (time, method, path, status, correlation id), downloadable as JSON.
#[component]
pub fn ChangeLog() -> Html {
    let s = use_session();
    let entries = s.log.borrow().clone();
    let json = serde_json::to_string_pretty(&entries).unwrap_or_default();
    let href = use_memo(json.clone(), |json| blob_url(json));
    html! {
        <section>
            <h2>{ "Change log" }</h2>
            <p>{ format!("{} requests sent in this session to {}.", entries.len(), s.client.as_ref().map(|c| c.origin().to_string()).unwrap_or_else(|| "nowhere (snippet-only)".into())) }</p>
            if let Some(h) = (*href).clone() {
                <a class="button" id="download-log" href={h} download="identity-wizard-requests.json">{ "Download as JSON" }</a>
            }
            <table class="log" id="log">
                <thead><tr><th scope="col">{ "Time" }</th><th scope="col">{ "Method" }</th><th scope="col">{ "Path" }</th><th scope="col">{ "Status" }</th><th scope="col">{ "Correlation id" }</th></tr></thead>
                <tbody>
                    { for entries.iter().map(|e| html! {
                        <tr><td>{ &e.time }</td><td>{ &e.method }</td><td class="path">{ &e.path }</td>
                            <td>{ e.status.map(|s| s.to_string()).unwrap_or_else(|| "no response".into()) }</td>
                            <td>{ e.correlation_id.clone().unwrap_or_default() }</td></tr>
                    }) }
                </tbody>
            </table>
        </section>
    }
}

fn blob_url(json: &str) -> Option<String> {
    if !cfg!(target_arch = "wasm32") {
        return None;
    }
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(json));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("application/json");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}
