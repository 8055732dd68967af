//! Where a batch is kept in the browser (never a token):
//!
//! - the selection on its way to the review ([`super::spec::Draft`]): `sessionStorage` (this tab);
//! - the batch being applied ([`BatchState`], its `operation` the [`super::spec::BatchSpec`] as JSON):
//!   `localStorage`, written as items finish, so a reload or a closed tab can resume it;
//! - a one-line summary of that batch for the offer on the start page ([`Offer`]): `localStorage`, plain
//!   text, so the start page (the shell, loaded first) offers it without reading JSON.

use super::spec::{BatchSpec, Draft};
use arm_client::bulk::BatchState;

/// sessionStorage: the selection to review.
pub const DRAFT_KEY: &str = "identity-wizard.bulk.draft";
pub use crate::bulk_offer::{BATCH_KEY, OFFER_KEY};

fn local() -> Option<web_sys::Storage> {
    if !cfg!(target_arch = "wasm32") {
        return None; // server-side rendering in tests
    }
    web_sys::window()?.local_storage().ok()?
}

fn session() -> Option<web_sys::Storage> {
    if !cfg!(target_arch = "wasm32") {
        return None;
    }
    web_sys::window()?.session_storage().ok()?
}

/// Keep the selection for the review (false: the browser refused).
pub fn save_draft(d: &Draft) -> bool {
    let Ok(json) = serde_json::to_string(d) else {
        return false;
    };
    session()
        .and_then(|s| s.set_item(DRAFT_KEY, &json).ok())
        .is_some()
}

/// The selection to review, if any.
pub fn load_draft() -> Option<Draft> {
    let raw = session()?.get_item(DRAFT_KEY).ok()??;
    serde_json::from_str(&raw).ok()
}

pub fn clear_draft() {
    if let Some(s) = session() {
        let _ = s.remove_item(DRAFT_KEY);
    }
}

/// The offer of an unfinished batch: "Resume batch: 113 of 300 left (Assign id-monitor)" (control characters of
/// the title as spaces).
///
/// ```
/// use identity_wizard::bulk::store::offer_text;
/// assert_eq!(offer_text(113, 300, "Assign id-monitor"), "Resume batch: 113 of 300 left (Assign id-monitor)");
/// ```
pub fn offer_text(left: usize, total: usize, title: &str) -> String {
    let title: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("Resume batch: {left} of {total} left ({title})")
}

/// The batch's spec, read from its `operation`.
pub fn spec_of(state: &BatchState) -> Result<BatchSpec, String> {
    serde_json::from_str(&state.operation).map_err(|e| {
        format!("The saved batch does not say what it does ({e}); discard it and start again.")
    })
}

/// Keep the batch (and its summary for the start page). False: the browser refused (storage full or off).
pub fn save_batch(state: &BatchState, title: &str) -> bool {
    let Some(l) = local() else { return false };
    let ok = l.set_item(BATCH_KEY, &state.to_json()).is_ok();
    let c = state.counters();
    let left = c.pending + c.running;
    let offer = if left == 0 {
        l.remove_item(OFFER_KEY).is_ok()
    } else {
        l.set_item(OFFER_KEY, &offer_text(left, state.items.len(), title))
            .is_ok()
    };
    ok && offer
}

/// The batch kept, if any (Err: it is there but unreadable; the message says what to do).
pub fn load_batch() -> Option<Result<BatchState, String>> {
    let raw = local()?.get_item(BATCH_KEY).ok()??;
    Some(BatchState::from_json(&raw))
}

/// Forget the batch (discarded, or finished and its report seen).
pub fn clear_batch() {
    crate::bulk_offer::discard();
}
