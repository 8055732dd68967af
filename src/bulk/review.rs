//! The review of a batch: the counts, the plan of each item, a sample of the exact requests, the list to
//! download, the batch as scripts, and the confirmation that names the count and the operation.

use super::run::BulkReview;
use super::spec::{BatchSpec, confirm_text, count_text, name_of, op_title};
use crate::components::review::{ScriptTabs, request_text};
use identity_core::scripts::Script;
use std::rc::Rc;
use yew::prelude::*;

/// Requests shown in full (the rest: in the download).
pub const SAMPLE: usize = 3;
/// Items listed (the rest: in the download).
pub const LISTED: usize = 500;

#[derive(Properties, PartialEq)]
pub struct ReviewViewProps {
    pub review: Rc<BulkReview>,
    /// The batch as scripts (none for the legacy extension, which the app removes).
    #[prop_or_default]
    pub scripts: Rc<Vec<Script>>,
    pub spec: BatchSpec,
    /// The ARM origin (for the requests shown).
    pub origin: AttrValue,
    pub read_write: bool,
    pub on_apply: Callback<()>,
}

/// The review; Apply only in read-write.
#[component]
pub fn ReviewView(props: &ReviewViewProps) -> Html {
    let br = &props.review;
    let r = &br.review;
    let c = r.counts;
    let unreadable = br.unreadable.len();
    let op = &props.spec.operation;
    let confirm = confirm_text(op, c.requests);
    let total = r.items.len() + unreadable;
    let download = |json: bool| {
        let (br, origin) = (br.clone(), props.origin.to_string());
        Callback::from(move |_: MouseEvent| {
            if json {
                let text = serde_json::to_string_pretty(&br.to_json(&origin)).unwrap_or_default();
                crate::download::download_text("bulk-plan.json", "application/json", &text);
            } else {
                crate::download::download_text("bulk-plan.csv", "text/csv", &br.to_csv(&origin));
            }
        })
    };
    let apply = {
        let on = props.on_apply.clone();
        Callback::from(move |_| on.emit(()))
    };
    let sample = r.sample(SAMPLE);
    html! {
        <section class="bulk-review" aria-labelledby="bulk-review-h">
            <h3 id="bulk-review-h">{ format!("Review: {} on {}", op_title(op), count_text(total)) }</h3>
            <p>{ if br.from_inventory {
                "Each item is planned from the inventory (Resource Graph). Apply reads each one again just before its change and plans it from that read, with its etag as If-Match."
            } else {
                "Each item was read just now and planned from its current state. Apply reads each one again just before its change."
            } }</p>
            if let Some(why) = &r.refusal {
                <p class="error" role="alert" id="bulk-refusal">{ why.clone() }</p>
            }
            <dl class="bulk-counters" id="bulk-review-counts">
                <dt>{ "Requests" }</dt><dd id="bulk-r-requests">{ c.requests }</dd>
                <dt>{ "No-op" }</dt><dd id="bulk-r-noop">{ c.no_ops }</dd>
                <dt>{ "Refused" }</dt><dd id="bulk-r-refused">{ c.refused }</dd>
                if c.grants > 0 { <dt>{ "Role grants" }</dt><dd id="bulk-r-grants">{ c.grants }</dd> }
                if unreadable > 0 { <dt>{ "Could not be read" }</dt><dd id="bulk-r-unreadable">{ unreadable }</dd> }
            </dl>
            <div class="actions">
                <button type="button" id="bulk-plan-csv" class="secondary" onclick={download(false)}>{ "Download the list (CSV)" }</button>
                <button type="button" id="bulk-plan-json" class="secondary" onclick={download(true)}>{ "Download the list (JSON)" }</button>
            </div>
            <div class="inv-scroll-ids" tabindex="0" role="region" aria-label="Plan per item (scrolls)">
            <table id="bulk-plan">
                <caption class="sr-only">{ "Plan per item" }</caption>
                <thead><tr><th scope="col">{ "Item" }</th><th scope="col">{ "Kind" }</th><th scope="col">{ "Plan" }</th><th scope="col">{ "Why" }</th></tr></thead>
                <tbody>
                    { for r.items.iter().take(LISTED).map(|it| html! {
                        <tr key={it.id.clone()} data-plan={it.verdict.as_str()}>
                            <th scope="row" title={it.id.clone()}>{ name_of(&it.id).to_string() }</th>
                            <td>{ it.kind.map(|k| k.describe()).unwrap_or_default() }</td>
                            <td>{ it.verdict.as_str() }</td>
                            <td>
                                { it.reason.clone().unwrap_or_default() }
                                { for it.warnings.iter().map(|w| html! { <span class="warning">{ " " }{ w.clone() }</span> }) }
                            </td>
                        </tr>
                    }) }
                    { for br.unreadable.iter().map(|(id, why)| html! {
                        <tr key={id.clone()} data-plan="unreadable">
                            <th scope="row" title={id.clone()}>{ name_of(id).to_string() }</th>
                            <td></td><td>{ "could not be read" }</td><td>{ why.clone() }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
            </div>
            if r.items.len() > LISTED {
                <p>{ format!("The first {LISTED} items are listed; the download holds all {total}.") }</p>
            }
            if let Some(g) = &r.grant_before {
                <h4>{ "The role grant made once, before the batch" }</h4>
                <pre class="http" id="bulk-grant-before" tabindex="0" aria-label="The role grant before the batch"><code>{ request_text(&props.origin, g) }</code></pre>
            }
            <h4>{ format!("Sample of the exact requests ({} of {})", sample.len(), c.requests) }</h4>
            <div id="bulk-sample">
                { for sample.into_iter().map(|it| {
                    let text = it.requests.iter().map(|q| request_text(&props.origin, q)).collect::<Vec<_>>().join("\n");
                    html! {
                        <figure class="request">
                            <figcaption>{ name_of(&it.id).to_string() }</figcaption>
                            <pre class="http" tabindex="0" aria-label={format!("Request for {}", name_of(&it.id))}><code>{ text }</code></pre>
                        </figure>
                    }
                }) }
            </div>
                        if !props.scripts.is_empty() {
                <h4 id="bulk-scripts-h">{ "The batch as scripts" }</h4>
                <p>{ "The same change to run elsewhere: each item is read, guarded and changed with If-Match in its own try, and a summary ends it." }</p>
                <ScriptTabs prefix="bulk-" scripts={(*props.scripts).clone()} />
            }
            <section class="bulk-confirm" aria-labelledby="bulk-confirm-h">
                <h4 id="bulk-confirm-h">{ "Apply" }</h4>
                if c.requests == 0 {
                    <p id="bulk-nothing">{ "Nothing to send: every item is a no-op or refused." }</p>
                } else {
                    <p>{ format!("{} no-op and {} refused are not sent; they are in the report as they are.", c.no_ops, c.refused + unreadable) }</p>
                    if !props.read_write {
                        <p class="notice" id="bulk-read-only" role="status">
                            { "Read-only: turn on \u{201c}Allow changes\u{201d} in the header to apply. The review and the scripts need no changes." }
                        </p>
                    }
                    <button type="button" id="bulk-apply" onclick={apply} disabled={!props.read_write}>{ confirm }</button>
                }
            </section>
        </section>
    }
}
