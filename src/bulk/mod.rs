//! Bulk changes (`/bulk`, issue 17): one identity change across many scale sets and VMs, selected in the
//! inventory (or from an identity page). The page is its own wasm module (see `crate::lazy`); the selection bar
//! ([`select`]) lives with the inventory.
//!
//! - [`spec`]: what a batch does and the words for it (the confirmation names the count and the operation);
//! - [`store`]: the selection (sessionStorage) and the batch under way (localStorage, never a token);
//! - [`run`]: the orchestration, no Yew — read and plan each item for the review, apply through arm-client's
//!   bulk scheduler with each item applied by `arm_client::flow` from a fresh read, the report;
//! - [`select`]: the selection bar of the inventory; [`page`]: the review, apply and report page.

use yew::prelude::*;

/// The page for [`identity_core::route::Route::Bulk`] (what `crate::lazy` loads).
pub fn render(_route: &identity_core::route::Route) -> Html {
    html! { <page::BulkPage /> }
}

pub mod cleanup;
pub mod page;
pub mod review;
pub mod run;
pub mod select;
pub mod spec;
pub mod store;

/// Starts a bulk change from an identity's page: "remove from every resource that uses it". Keeps the
/// selection (`users`: the resource ids that use `identity_id`) for the review and returns the route to go to
/// (`/bulk`); the report then offers to delete the identity. None: the browser refused to keep it.
pub fn remove_everywhere(
    identity_id: &str,
    users: Vec<String>,
) -> Option<identity_core::route::Route> {
    let d = spec::Draft {
        spec: spec::BatchSpec {
            operation: identity_core::bulk::BulkOp::RemoveUserAssigned {
                identity: identity_id.to_string(),
            },
            from_identity: Some(identity_id.to_string()),
        },
        items: users,
    };
    store::save_draft(&d).then_some(identity_core::route::Route::Bulk)
}
