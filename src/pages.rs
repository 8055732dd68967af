pub mod create;
pub mod home;
pub mod log;
pub mod pickers;
pub mod resource;
pub mod snippets;
pub mod wizard;

use identity_core::route::Route;
use yew::prelude::*;

/// The page for a route other than the start page, the create wizards and the inventory (see
/// `crate::lazy`: in the production build this function and all it reaches load on first use).
pub fn render(route: &Route) -> Html {
    connected(page(route))
}

/// A page inside the session as the pages see it (with the ARM client).
pub fn connected(page: Html) -> Html {
    html! { <Connected>{ page }</Connected> }
}

/// The session as the pages see it: with the ARM client, made on first use (see
/// [`crate::session::Connector`]).
#[component]
fn Connected(props: &crate::components::signin::ChildrenProps) -> Html {
    let s = crate::session::use_session();
    let (mode, client, notice) = s.connector.access();
    let session = crate::session::Session {
        mode,
        client,
        notice: notice.or(s.notice.clone()),
        ..s
    };
    html! {
        <ContextProvider<crate::session::Session> context={session}>
            { props.children.clone() }
        </ContextProvider<crate::session::Session>>
    }
}

/// Milliseconds as seconds with one decimal, rounded ("12.3"): without floating point, whose
/// formatting code would weigh on the pages module (see `crate::lazy`).
pub fn seconds(ms: u64) -> String {
    let tenths = ms.saturating_add(50) / 100;
    format!("{}.{}", tenths / 10, tenths % 10)
}

fn page(route: &Route) -> Html {
    match route.clone() {
        Route::Subscriptions => html! { <pickers::Subscriptions /> },
        Route::Subscription { sub } => html! { <pickers::ResourceGroups {sub} /> },
        Route::ResourceGroup { sub, rg } => html! { <pickers::Resources {sub} {rg} /> },
        Route::Resource { id, wizard } => html! { <resource::ResourcePage {id} {wizard} /> },
        Route::Snippets { slug } => html! { <snippets::Snippets {slug} /> },
        Route::ChangeLog => html! { <log::ChangeLog /> },
        // (the create wizards and the inventory — with the identity and bulk pages — are modules of
        // their own: `crate::lazy` never sends them here)
        Route::CreateScaleSet
        | Route::CreateVm
        | Route::CreateIdentity
        | Route::Home
        | Route::NotFound(_)
        | Route::Inventory { .. }
        | Route::Identity { .. }
        | Route::Bulk => html! { <home::Home /> },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn seconds_has_one_decimal_rounded_half_up() {
        for (ms, s) in [
            (0u64, "0.0"),
            (49, "0.0"),
            (50, "0.1"),
            (949, "0.9"),
            (950, "1.0"),
            (1_000, "1.0"),
            (12_345, "12.3"),
            (12_350, "12.4"),
            (59_999, "60.0"),
            (3_600_000, "3600.0"),
        ] {
            assert_eq!(super::seconds(ms), s, "{ms}");
        }
        assert_eq!(super::seconds(u64::MAX), "18446744073709551.6"); // no overflow
    }
}
