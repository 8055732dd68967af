//! The inventory page (`/inventory`, issue 16): every scale set, VM and user-assigned identity of the
//! subscriptions the user can read, with filters and sort in the URL and CSV / JSON export of the view.
//! In the production build this module is its own wasm module, fetched the first time the page is shown
//! (see `crate::lazy`).
//!
//! - [`run`]: the orchestration, no Yew — lists the subscriptions, runs arm-client's Resource Graph loader
//!   and turns its events into [`run::Progress`]; the page renders that state and sends intent (load, cancel);
//! - [`window`]: which rows of a long list are rendered (fixed row height, scroll offset → slice);
//! - [`page`]: the Yew page;
//! - [`identity`]: the identity page (one user-assigned identity: who uses it, its role assignments);
//! - [`scripts`]: the queries as Az PowerShell / Azure CLI scripts, in tabs.

pub mod identity;
pub mod page;
pub mod run;
pub mod scripts;
pub mod window;

use identity_core::route::Route;
use yew::prelude::*;

/// The page for [`Route::Inventory`] and [`Route::Identity`] (what `crate::lazy` loads).
pub fn render(route: &Route) -> Html {
    match route {
        Route::Identity { id } => html! { <identity::IdentityPage id={id.clone()} /> },
        Route::Inventory { query } => html! { <page::InventoryPage query={query.clone()} /> },
        _ => html! { <page::InventoryPage query={String::new()} /> },
    }
}
