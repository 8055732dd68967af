//! The hooks pages and components share: something read from ARM ([`use_arm`] into a [`Load`]),
//! a list read as `(value, label)` options ([`use_options`]), and the display name of a
//! subscription ([`use_subscription_name`]).

use crate::components::error::{ErrorBox, ErrorView};
use crate::session::use_session;
use arm_client::{ArmClient, ArmError, ops};
use identity_core::ArmRequest;
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;
use yew::prelude::*;

/// Something being read from ARM.
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Failed(ErrorView),
    /// No ARM access in this session (snippet-only).
    Offline,
}

/// Run `f` with the session's client when `key` changes, keeping the result in a state.
#[hook]
pub fn use_arm<T, F, Fut>(key: String, f: F) -> UseStateHandle<Load<T>>
where
    T: 'static,
    F: FnOnce(Rc<ArmClient>) -> Fut + 'static,
    Fut: Future<Output = Result<T, ArmError>> + 'static,
{
    let s = use_session();
    let state = use_state(|| Load::Loading);
    {
        let state = state.clone();
        let client = s.client.clone();
        // re-run when the way to ARM changes too (e.g. MSAL finished signing in after a reload)
        let client_key = client.as_ref().map(|c| Rc::as_ptr(c) as usize);
        use_effect_with((key, client_key), move |_| match client {
            None => state.set(Load::Offline),
            Some(c) => {
                state.set(Load::Loading);
                wasm_bindgen_futures::spawn_local(async move {
                    state.set(match f(c).await {
                        Ok(v) => Load::Ready(v),
                        Err(e) => Load::Failed(ErrorView::from(&e)),
                    });
                });
            }
        });
    }
    state
}

/// Render a load state, or the ready content.
pub fn show<T>(load: &Load<T>, what: &str, ready: impl FnOnce(&T) -> Html) -> Html {
    match load {
        Load::Loading => {
            html! { <p class="loading" role="status">{ format!("Reading {what}…") }</p> }
        }
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} /> },
        Load::Offline => {
            html! { <p class="note">{ "Not signed in: nothing can be listed. Use a wizard's \"Scripts only\" mode from the start page." }</p> }
        }
        Load::Ready(v) => ready(v),
    }
}

/// `(value, label)` options, as read from ARM.
pub type Options = Rc<Vec<(String, String)>>;

/// Every item of a paged ARM list (`request`; none = nothing to list yet, e.g. no subscription
/// chosen), each made an option by `option`. Read again when the request changes.
#[hook]
pub fn use_options<T>(
    request: Option<ArmRequest>,
    option: fn(T) -> (String, String),
) -> UseStateHandle<Load<Options>>
where
    T: DeserializeOwned + 'static,
{
    let key = request
        .as_ref()
        .map(|r| r.path_and_query())
        .unwrap_or_default();
    use_arm(key, move |c: Rc<ArmClient>| async move {
        let Some(req) = request else {
            return Ok(Rc::new(Vec::new()));
        };
        let items: Vec<T> = c.list(req).collect_all().await?;
        Ok(Rc::new(items.into_iter().map(option).collect::<Vec<_>>()))
    })
}

thread_local! {
    /// Subscription id (lower case) → display name, from every subscription list read.
    static SUBSCRIPTION_NAMES: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// Remember the display name of a listed subscription (for breadcrumbs elsewhere).
pub fn remember_subscription(s: &arm_client::Subscription) {
    if !s.display_name.is_empty() {
        SUBSCRIPTION_NAMES.with(|m| {
            m.borrow_mut().insert(
                s.subscription_id.to_ascii_lowercase(),
                s.display_name.clone(),
            )
        });
    }
}

/// The display name of a subscription, if a list read in this page named it.
pub fn subscription_name(id: &str) -> Option<String> {
    SUBSCRIPTION_NAMES.with(|m| m.borrow().get(&id.to_ascii_lowercase()).cloned())
}

/// A subscription's display name: known from an earlier list, else read once (`GET
/// /subscriptions`); `None` while unknown (e.g. snippet-only, or the list failed): show the id.
#[hook]
pub fn use_subscription_name(sub: String) -> Option<String> {
    let known = subscription_name(&sub);
    let wanted = (known.is_none() && !sub.is_empty()).then(|| sub.clone());
    let load = use_arm(
        format!("subscription-name:{}", wanted.clone().unwrap_or_default()),
        move |c: Rc<ArmClient>| async move {
            let Some(sub) = wanted else {
                return Ok(None);
            };
            let subs: Vec<arm_client::Subscription> =
                c.list(ops::list_subscriptions()).collect_all().await?;
            subs.iter().for_each(remember_subscription);
            Ok(subscription_name(&sub))
        },
    );
    known.or_else(|| match &*load {
        Load::Ready(n) => n.clone(),
        _ => None,
    })
}
