pub mod create;
pub mod home;
pub mod log;
pub mod pickers;
pub mod resource;
pub mod snippets;
pub mod wizard;

use identity_core::route::Route;
use yew::prelude::*;

/// The page for a route other than the start page (see `crate::lazy`: in the production
/// build this function and all it reaches load on first use).
pub fn render(route: &Route) -> Html {
    html! { <Connected>{ page(route) }</Connected> }
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

fn page(route: &Route) -> Html {
    match route.clone() {
        Route::Subscriptions => html! { <pickers::Subscriptions /> },
        Route::Subscription { sub } => html! { <pickers::ResourceGroups {sub} /> },
        Route::ResourceGroup { sub, rg } => html! { <pickers::Resources {sub} {rg} /> },
        Route::Resource { id, wizard } => html! { <resource::ResourcePage {id} {wizard} /> },
        Route::Snippets { slug } => html! { <snippets::Snippets {slug} /> },
        Route::ChangeLog => html! { <log::ChangeLog /> },
        Route::CreateScaleSet => html! { <create::CreateScaleSet /> },
        Route::CreateVm => html! { <create::CreateVm /> },
        Route::CreateIdentity => html! { <create::CreateIdentity /> },
        // (the inventory is its own module: `crate::lazy` never sends it here)
        Route::Home
        | Route::NotFound(_)
        | Route::Inventory { .. }
        | Route::Identity { .. }
        | Route::Bulk => {
            html! { <home::Home /> }
        }
    }
}
