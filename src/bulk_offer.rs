//! The offer of an unfinished batch on the next visit ("Resume batch: 113 of 300 left"), on the start page and
//! the inventory. Part of the shell (the start page shows it), so it reads only a one-line summary the bulk
//! page keeps beside the batch (`crate::bulk::store`), never the batch's JSON.

use crate::nav::Link;
use identity_core::route::Route;
use yew::prelude::*;

/// localStorage: the batch under way (`arm_client::bulk::BatchState` as JSON, never a token).
pub const BATCH_KEY: &str = "identity-wizard.bulk.batch";
/// localStorage: its summary, `left<TAB>total<TAB>title`.
pub const OFFER_KEY: &str = "identity-wizard.bulk.offer";

/// An unfinished batch, in a few words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// Items not yet done.
    pub left: usize,
    pub total: usize,
    /// What it does ("Assign id-monitor").
    pub title: String,
}

impl Offer {
    /// The stored line.
    pub fn to_line(&self) -> String {
        let title: String = self
            .title
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        format!("{}\t{}\t{title}", self.left, self.total)
    }

    /// Reads a stored line (None: not one).
    ///
    /// ```
    /// use identity_wizard::bulk_offer::Offer;
    /// let o = Offer { left: 113, total: 300, title: "Assign id-monitor".into() };
    /// assert_eq!(Offer::from_line(&o.to_line()), Some(o));
    /// assert_eq!(Offer::from_line("x\t1\tt"), None);
    /// ```
    pub fn from_line(s: &str) -> Option<Offer> {
        let mut p = s.splitn(3, '\t');
        let left = p.next()?.parse().ok()?;
        let total = p.next()?.parse().ok()?;
        let title = p.next()?.to_string();
        (left <= total).then_some(Offer { left, total, title })
    }

    /// "Resume batch: 113 of 300 left (Assign id-monitor)".
    pub fn text(&self) -> String {
        format!(
            "Resume batch: {} of {} left ({})",
            self.left, self.total, self.title
        )
    }
}

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The unfinished batch's summary, if there is one.
pub fn read() -> Option<Offer> {
    let line = local()?.get_item(OFFER_KEY).ok()??;
    Offer::from_line(&line).filter(|o| o.left > 0)
}

/// Forget the batch and its summary.
pub fn discard() {
    if let Some(l) = local() {
        let _ = l.remove_item(BATCH_KEY);
        let _ = l.remove_item(OFFER_KEY);
    }
}

/// "Resume batch: 113 of 300 left" with a link to the bulk page, and Discard. Nothing when no batch waits.
#[component]
pub fn ResumeOffer() -> Html {
    let offer = use_state(read);
    let Some(o) = (*offer).clone() else {
        return html! {};
    };
    let on_discard = {
        let offer = offer.clone();
        Callback::from(move |_| {
            discard();
            offer.set(None);
        })
    };
    html! {
        <section class="bulk-offer" id="bulk-offer" aria-labelledby="bulk-offer-text">
            <p id="bulk-offer-text">{ o.text() }</p>
            <p class="hint">{ "An unfinished bulk change was kept in this browser. Resuming reads every item that is not done again before anything is sent." }</p>
            <Link to={Route::Bulk} id="bulk-offer-resume" class="button">{ "Resume batch" }</Link>
            { " " }
            <button type="button" class="secondary" id="bulk-offer-discard" onclick={on_discard}>{ "Discard" }</button>
        </section>
    }
}
