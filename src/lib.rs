//! identity-wizard: the Yew app (thin; the logic lives in `identity-core`).

pub mod app;
pub mod auth;
pub mod bulk;
pub mod bulk_offer;
pub mod components;
pub mod config;
pub mod dom_id;
pub mod download;
pub mod guid;
pub mod hooks;
pub mod inventory;
pub mod lazy;
pub mod loader;
pub mod nav;
pub mod pages;
pub mod panic;
pub mod session;

/// Where trunk copies the pinned MSAL bundle (see index.html).
pub const MSAL_SRC: &str = "/msal-browser.min.js";

/// The version shown in the footer.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Mount the app into `<main id="app">` (or `<body>`). Called by the trunk-built binary.
pub fn run() {
    panic::install();
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"));
    match root {
        Some(root) => yew::Renderer::<app::App>::with_root(root).render(),
        None => yew::Renderer::<app::App>::new().render(),
    };
}
