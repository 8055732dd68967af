//! The pages beyond the start page, loaded on first use.
//!
//! The production build (`--features split`, see `scripts/build`) cuts the wasm at three split points:
//! [`load_pages`] (everything only the pages reach: pickers, resource page, wizards, review, scripts,
//! create, the ARM operations), [`load_inventory`] (the inventory page, its table, filters, export and
//! selection) and [`load_bulk`] (the bulk changes: review, batch scripts, scheduler, report). Each goes into a module of its own that the page fetches the first time one of its routes
//! is shown; code both reach (the ARM client, the demo tenant) is a shared chunk fetched with
//! whichever comes first. The first load carries the shell (header, sign-in, start page, footer) and
//! nothing else. Without the feature (native tests, wasm-bindgen-test) the same functions return at
//! once.

use identity_core::route::Route;
use std::cell::Cell;
use yew::prelude::*;

/// Renders the page for a route other than the start page.
pub type PageFn = fn(&Route) -> Html;

/// The lazily loaded modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Module {
    /// Pickers, resource page, wizards, create, change log, snippets.
    Pages,
    /// The inventory page.
    Inventory,
    /// The bulk changes (`/bulk`): review, apply, report.
    Bulk,
}

impl Module {
    /// The module a route's page lives in.
    pub fn of(route: &Route) -> Module {
        match route {
            Route::Inventory { .. } => Module::Inventory,
            Route::Bulk => Module::Bulk,
            _ => Module::Pages,
        }
    }

    fn slot(self) -> &'static std::thread::LocalKey<Cell<Option<PageFn>>> {
        match self {
            Module::Pages => &PAGES,
            Module::Inventory => &INVENTORY,
            Module::Bulk => &BULK,
        }
    }

    fn loaded(self) -> Option<PageFn> {
        self.slot().with(Cell::get)
    }

    async fn load(self) -> Result<PageFn, String> {
        match self {
            Module::Pages => load_pages().await.map_err(|e| e.to_string()),
            Module::Inventory => load_inventory().await.map_err(|e| e.to_string()),
            Module::Bulk => load_bulk().await.map_err(|e| e.to_string()),
        }
    }
}

thread_local! {
    static PAGES: Cell<Option<PageFn>> = const { Cell::new(None) };
        static INVENTORY: Cell<Option<PageFn>> = const { Cell::new(None) };
    static BULK: Cell<Option<PageFn>> = const { Cell::new(None) };
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

#[cfg(feature = "split")]
#[wasm_split_helpers::wasm_split(inventory, fallible, preload(preload_inventory))]
fn load_inventory() -> Result<PageFn, wasm_split_helpers::SplitLoaderError> {
    Ok(crate::inventory::render)
}

#[cfg(not(feature = "split"))]
async fn load_inventory() -> Result<PageFn, std::convert::Infallible> {
    Ok(crate::inventory::render)
}

#[cfg(feature = "split")]
#[wasm_split_helpers::wasm_split(bulk, fallible, preload(preload_bulk))]
fn load_bulk() -> Result<PageFn, wasm_split_helpers::SplitLoaderError> {
    Ok(crate::bulk::render)
}

#[cfg(not(feature = "split"))]
async fn load_bulk() -> Result<PageFn, std::convert::Infallible> {
    Ok(crate::bulk::render)
}

/// Start fetching a page's module when a link to it is pointed at or focused, so that the click
/// that follows rarely waits (nothing is fetched before a user shows the intent; a failure here is
/// silent: the page itself reports it when it is shown).
pub fn warm(route: &Route) {
    #[cfg(feature = "split")]
    {
        let m = Module::of(route);
        if m.loaded().is_none() {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = match m {
                    Module::Pages => preload_pages().await,
                    Module::Inventory => preload_inventory().await,
                    Module::Bulk => preload_bulk().await,
                };
            });
        }
    }
    #[cfg(not(feature = "split"))]
    let _ = route;
}

#[derive(Properties, PartialEq)]
pub struct LazyPageProps {
    pub route: Route,
}

/// A route's page: at once when its code is here, else after it has been fetched (with a
/// message, and a way to retry when the fetch fails).
#[component]
pub fn LazyPage(props: &LazyPageProps) -> Html {
    let module = Module::of(&props.route);
    let pages = use_state(|| None::<(Module, PageFn)>);
    let failed = use_state(|| None::<String>);
    let attempt = use_state(|| 0u32);
    {
        let (pages, failed) = (pages.clone(), failed.clone());
        use_effect_with((*attempt, module), move |&(_, module)| {
            if module.loaded().is_none() {
                wasm_bindgen_futures::spawn_local(async move {
                    match module.load().await {
                        Ok(f) => {
                            module.slot().with(|p| p.set(Some(f)));
                            failed.set(None);
                            pages.set(Some((module, f)));
                        }
                        Err(e) => failed.set(Some(e)),
                    }
                });
            }
        });
    }
    // (the state is only a signal that a module arrived: which one is in the slot)
    let arrived = (*pages).filter(|(m, _)| *m == module).map(|(_, f)| f);
    if let Some(render) = module.loaded().or(arrived) {
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
