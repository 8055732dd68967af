//! Code loaded on first use: the split points of the production build.
//!
//! The production build (`--features split`, see `scripts/build`) cuts the wasm at every
//! [`split_point!`] below. All split points that name the same module go into one wasm module of its
//! own, fetched the first time one of them is needed; code that several modules reach is a shared
//! chunk fetched with whichever needs it first. The first load carries the shell (header, sign-in,
//! start page, footer) and nothing else. Without the feature (native tests, wasm-bindgen-test) every
//! split point holds its value from the start.
//!
//! | split point | module | what it holds |
//! |---|---|---|
//! | [`PAGES`] | `pages` | the pickers, resource page, wizards and their review, grant access, snippets page, change log |
//! | [`CREATE`], [`NEW_IDENTITY_FORM`] | `create` | the create wizards (`/create/...`) and the new-identity form (also inline in the assign wizard) |
//! | [`SCRIPTS`] | `scripts` | the script generators and the script tabs (fetched when a review's scripts are shown) |
//! | [`INVENTORY`] | `inventory` | the inventory page, its table, filters, export and selection; the identity pages |
//! | [`BULK`] | `bulk` | the bulk changes (`/bulk`): review, batch scripts, scheduler, report |
//!
//! One more split point: a `split_point!` with the function it loads (usually a render function
//! `fn(&Props) -> Html`), then show it with [`Lazy`] (a page: map its routes in [`page`]). Keep
//! whatever the module holds from being named anywhere else (only through its split point), or it
//! stays in the module that names it.

use identity_core::route::Route;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::thread::LocalKey;
use yew::prelude::*;

/// Renders the page for a route other than the start page.
pub type PageFn = fn(&Route) -> Html;

type Boxed<T> = Pin<Box<dyn Future<Output = T>>>;

/// Why a module did not arrive.
#[cfg(feature = "split")]
pub type LoadError = wasm_split_helpers::SplitLoaderError;
/// Why a module did not arrive (never, without the feature `split`).
#[cfg(not(feature = "split"))]
pub type LoadError = std::convert::Infallible;

/// A split point: a value (usually a render function) whose code is in a module fetched on first use.
pub struct Split<T: 'static> {
    /// What it shows, as the subject of "… could not be loaded" (e.g. "This page").
    pub what: &'static str,
    slot: &'static LocalKey<Cell<Option<T>>>,
    fetch: fn() -> Boxed<Result<T, LoadError>>,
}

impl<T: Copy + 'static> Split<T> {
    /// The value, if its module is here.
    pub fn get(&'static self) -> Option<T> {
        self.slot.with(Cell::get)
    }

    /// The value, after fetching its module if needed (a failure is not remembered: the next call
    /// fetches again).
    pub async fn load(&'static self) -> Result<T, String> {
        if let Some(v) = self.get() {
            return Ok(v);
        }
        let v = (self.fetch)().await.map_err(|e| e.to_string())?;
        self.slot.with(|s| s.set(Some(v)));
        Ok(v)
    }

    /// Start fetching the module (when the user shows the intent to open what it holds), so that
    /// the click that follows rarely waits. A failure here is silent: [`Lazy`] reports it when it is shown.
    pub fn warm(&'static self) {
        if self.get().is_none() {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = self.load().await;
            });
        }
    }
}

impl<T> PartialEq for Split<T> {
    fn eq(&self, o: &Self) -> bool {
        std::ptr::eq(self, o)
    }
}

/// Declare a split point: `static NAME: Split<T> = module("What") => value;`. With the feature
/// `split`, `value` and all only it reaches are cut into the wasm module `module` (several split
/// points may share one); without it, the value is there from the start.
macro_rules! split_point {
    ($(#[$attr:meta])* $vis:vis static $name:ident: Split<$t:ty> = $module:ident($what:literal) => $value:expr;) => {
        $(#[$attr])*
        $vis static $name: Split<$t> = {
            #[cfg(feature = "split")]
            #[wasm_split_helpers::wasm_split($module, fallible)]
            fn $module() -> Result<$t, LoadError> {
                Ok($value)
            }
            #[cfg(not(feature = "split"))]
            async fn $module() -> Result<$t, LoadError> {
                Ok($value)
            }
            #[cfg(feature = "split")]
            thread_local! { static SLOT: Cell<Option<$t>> = const { Cell::new(None) }; }
            #[cfg(not(feature = "split"))]
            thread_local! { static SLOT: Cell<Option<$t>> = const { Cell::new(Some($value)) }; }
            fn fetch() -> Boxed<Result<$t, LoadError>> {
                Box::pin($module())
            }
            Split {
                what: $what,
                slot: &SLOT,
                fetch,
            }
        };
    };
}

split_point! {
    /// The pages: pickers, resource page, wizards, snippets, change log.
    pub static PAGES: Split<PageFn> = pages("This page") => crate::pages::render;
}
split_point! {
    /// The create wizards (`/create/...`).
    pub static CREATE: Split<PageFn> = create("This page") => crate::pages::create::render;
}
split_point! {
    /// The new-identity form, inline in the assign wizard (same module as [`CREATE`]).
    pub static NEW_IDENTITY_FORM: Split<fn(&crate::pages::create::NewIdentityProps) -> Html> =
        create("The new-identity form") => crate::pages::create::render_new_identity_form;
}
split_point! {
    /// The script generators and their tabs.
    pub static SCRIPTS: Split<fn(&crate::components::review::ScriptsProps) -> Html> =
        scripts("The scripts") => crate::components::scripts::render;
}
split_point! {
    /// The inventory page and the identity pages.
    pub static INVENTORY: Split<PageFn> = inventory("This page") => crate::inventory::render;
}
split_point! {
    /// The bulk changes (`/bulk`): review, apply, report.
    pub static BULK: Split<PageFn> = bulk("This page") => crate::bulk::render;
}

/// The split point of a route's page (not the start page, which is in the shell).
pub fn page(route: &Route) -> &'static Split<PageFn> {
    match route {
        Route::Inventory { .. } | Route::Identity { .. } => &INVENTORY,
        Route::Bulk => &BULK,
        Route::CreateScaleSet | Route::CreateVm | Route::CreateIdentity => &CREATE,
        _ => &PAGES,
    }
}

/// Start fetching a page's module when a link to it is pointed at or focused (see [`Split::warm`]).
pub fn warm(route: &Route) {
    page(route).warm();
}

#[derive(Properties)]
pub struct LazyProps<P: PartialEq + 'static> {
    pub split: &'static Split<fn(&P) -> Html>,
    /// What the split point's render function is given.
    pub props: P,
}

impl<P: PartialEq + 'static> PartialEq for LazyProps<P> {
    fn eq(&self, o: &Self) -> bool {
        self.split == o.split && self.props == o.props
    }
}

/// What a split point renders: at once when its module is here, else after it has been fetched
/// (with a message, and a way to retry when the fetch fails).
#[component]
pub fn Lazy<P: PartialEq + 'static>(props: &LazyProps<P>) -> Html {
    let split = props.split;
    let id = split as *const Split<fn(&P) -> Html> as usize;
    let arrived = use_state(|| 0u32); // a signal that a module arrived (the value is in its slot)
    let failed = use_state(|| None::<(usize, String)>); // (of which split point, why)
    let attempt = use_state(|| 0u32);
    {
        let (arrived, failed) = (arrived.clone(), failed.clone());
        use_effect_with((*attempt, id), move |_| {
            if split.get().is_none() {
                wasm_bindgen_futures::spawn_local(async move {
                    match split.load().await {
                        Ok(_) => {
                            failed.set(None);
                            arrived.set(*arrived + 1);
                        }
                        Err(e) => failed.set(Some((id, e))),
                    }
                });
            }
        });
    }
    if let Some(render) = split.get() {
        return render(&props.props);
    }
    match &*failed {
        Some((of, e)) if *of == id => {
            let retry = {
                let (attempt, failed) = (attempt.clone(), failed.clone());
                Callback::from(move |_| {
                    failed.set(None); // "Loading…" again while it is fetched
                    attempt.set(*attempt + 1);
                })
            };
            html! {
                <section class="error" role="alert">
                    <h2>{ format!("{} could not be loaded", split.what) }</h2>
                    <p>{ format!("Its code did not arrive ({e}). Check the connection, then try again.") }</p>
                    <button type="button" onclick={retry}>{ "Try again" }</button>
                </section>
            }
        }
        _ => html! { <p class="loading" role="status" aria-busy="true">{ "Loading…" }</p> },
    }
}
