use crate::session::use_session;
use yew::prelude::*;

/// Every request sent in this session (time, method, path, status, correlation id), downloadable as JSON.
#[component]
pub fn ChangeLog() -> Html {
    let s = use_session();
    let entries = s.log.borrow().clone();
    let download = {
        let log = s.log.clone();
        Callback::from(move |_: MouseEvent| {
            // what the log holds when the button is pressed
            let json = serde_json::to_string_pretty(&*log.borrow()).unwrap_or_default();
            crate::download::download_text(
                "identity-wizard-requests.json",
                "application/json",
                &json,
            );
        })
    };
    html! {
        <section>
            <h2>{ "Change log" }</h2>
            <p>{ format!("{} requests sent in this session to {}.", entries.len(), s.client.as_ref().map(|c| c.origin().to_string()).unwrap_or_else(|| "nowhere (snippet-only)".into())) }</p>
            <button type="button" class="button" id="download-log" onclick={download}>{ "Download as JSON" }</button>
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
