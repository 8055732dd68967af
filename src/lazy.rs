//! The pages beyond the start page, loaded on first use.
//!
//! The production build (`--features split`, see `scripts/build`) cuts the wasm at
//! [`load_pages`]: everything only the pages reach (pickers, resource page, wizards, review,
//! scripts, create, the ARM operations) goes into a second module that the page fetches the
//! first time a route other than the start page is shown. The first load carries the shell
//! (header, sign-in, start page, footer) and nothing else. Without the feature (native tests,
//! wasm-bindgen-test) the same function returns at once.

use identity_core::route::Route;
use std::cell::Cell;
use yew::prelude::*;

/// Renders the page for a route other than the start page.
pub type PageFn = fn(&Route) -> Html;

thread_local! {
    static PAGES: Cell<Option<PageFn>> = const { Cell::new(None) };
}

#[cfg(feature = "split")]
#[wasm_split_helpers::wasm_split(pages, fallible, preload(preload_pages))]
fn load_pages() -> Result<PageFn, wasm_split_helpers::SplitLoaderError> {
    Ok(crate::pages::render)
}

#[cfg(not(feature = "split"))]
async fn load_pages() -> Result<PageFn, std::convert::Infallible> {
    Ok(crate::pages::render)
}

/// Start fetching the pages' module when a link to a page is pointed at or focused, so that the
/// click that follows rarely waits (nothing is fetched before a user shows the intent; a failure
/// here is silent: the page itself reports it when it is shown).
pub fn warm() {
    #[cfg(feature = "split")]
    if PAGES.with(Cell::get).is_none() {
        wasm_bindgen_futures::spawn_local(async {
            let _ = preload_pages().await;
        });
    }
}

#[derive(Properties, PartialEq)]
pub struct LazyPageProps {
    pub route: Route,
}

/// A route's page: at once when its code is here, else after it has been fetched (with a
/// message, and a way to retry when the fetch fails).
#[component]
pub fn LazyPage(props: &LazyPageProps) -> Html {
    let pages = use_state(|| PAGES.with(Cell::get));
    let failed = use_state(|| None::<String>);
    let attempt = use_state(|| 0u32);
    {
        let (pages, failed) = (pages.clone(), failed.clone());
        use_effect_with(*attempt, move |_| {
            if pages.is_none() {
                wasm_bindgen_futures::spawn_local(async move {
                    match load_pages().await {
                        Ok(f) => {
                            PAGES.with(|p| p.set(Some(f)));
                            failed.set(None);
                            pages.set(Some(f));
                        }
                        Err(e) => failed.set(Some(e.to_string())),
                    }
                });
            }
        });
    }
    if let Some(render) = *pages {
        return render(&props.route);
    }
    match &*failed {
        Some(e) => {
            let retry = {
                let (attempt, failed) = (attempt.clone(), failed.clone());
                Callback::from(move |_| {
                    failed.set(None); // "Loading…" again while it is fetched
                    attempt.set(*attempt + 1);
                })
            };
            html! {
                <section class="error" role="alert">
                    <h2>{ "This page could not be loaded" }</h2>
                    <p>{ format!("Its code did not arrive ({e}). Check the connection, then try again.") }</p>
                    <button type="button" onclick={retry}>{ "Try again" }</button>
                </section>
            }
        }
        None => html! { <p class="loading" role="status" aria-busy="true">{ "Loading…" }</p> },
    }
}
