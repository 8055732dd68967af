//! The offer of an unfinished batch on the next visit ("Resume batch: 113 of 300 left"), on the start page and
//! the inventory. Part of the shell (the start page shows it), so it reads only the offer's words, which the
//! bulk page keeps beside the batch as it runs (`crate::bulk::store`), never the batch's JSON.

use crate::nav::Link;
use identity_core::route::Route;
use yew::prelude::*;

/// localStorage: the batch under way (`arm_client::bulk::BatchState` as JSON, never a token).
pub const BATCH_KEY: &str = "identity-wizard.bulk.batch";
/// localStorage: the offer's words while the batch has items left ("Resume batch: 113 of 300 left (…)").
pub const OFFER_KEY: &str = "identity-wizard.bulk.offer";

fn local() -> Option<web_sys::Storage> {
    // (no browser storage when rendered natively, e.g. server-side in the tests)
    if cfg!(not(target_arch = "wasm32")) {
        return None;
    }
    web_sys::window()?.local_storage().ok()?
}

/// The unfinished batch's offer, if there is one.
pub fn read() -> Option<String> {
    local()?.get_item(OFFER_KEY).ok()?.filter(|s| !s.is_empty())
}

/// Forget the batch and its offer.
pub fn discard() {
    if let Some(l) = local() {
        let _ = l.remove_item(BATCH_KEY);
        let _ = l.remove_item(OFFER_KEY);
    }
}

/// "Resume batch: 113 of 300 left (…)" with a link to the bulk page (which offers Resume and Discard); nothing
/// when no batch waits. A plain function, not a component: the first load stays small.
pub fn offer() -> Html {
    let Some(text) = read() else {
        return html! {};
    };
    html! {
        <section class="bulk-offer" id="bulk-offer">
            <p id="bulk-offer-text">{ text }</p>
            <Link to={Route::Bulk} id="bulk-offer-resume" class="button">{ "Open the batch" }</Link>
        </section>
    }
}
