use crate::components::{footer::Footer, header::Header};
use crate::config::AppConfig;
use crate::nav::{NavProvider, use_nav};
use crate::pages;
use crate::session::{self, LogEntry, Mode, Session};
use identity_core::route::Route;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// Build the session for a configuration.
fn make_session(
    config: AppConfig,
    log: Rc<RefCell<Vec<LogEntry>>>,
    read_write: bool,
    set_rw: Callback<bool>,
) -> Session {
    let cloud = Rc::new(config.cloud());
    let (mode, client, notice) = if config.demo && session::HAS_DEMO {
        #[cfg(feature = "demo")]
        {
            match session::demo_client(log.clone()) {
                Ok(c) => (Mode::Demo, Some(Rc::new(c)), None),
                Err(e) => (
                    Mode::SnippetsOnly,
                    None,
                    Some(format!("The demo tenant could not start: {e}")),
                ),
            }
        }
        #[cfg(not(feature = "demo"))]
        {
            (Mode::SnippetsOnly, None, None)
        }
    } else if config.demo {
        (
            Mode::SnippetsOnly,
            None,
            Some("This build has no demo tenant (scripts/serve serves the one that has). Wizards run in snippet-only mode.".into()),
        )
    } else {
        (
            Mode::SnippetsOnly,
            None,
            Some("Not signed in: wizards run in snippet-only mode and send nothing.".into()),
        )
    };
    Session {
        config: Rc::new(config),
        cloud,
        mode,
        client,
        log,
        read_write,
        set_read_write: set_rw,
        notice,
    }
}

/// The application: session and navigation contexts, header, the page for the route, footer.
#[component]
pub fn App() -> Html {
    let log = use_memo((), |_| Rc::new(RefCell::new(Vec::<LogEntry>::new())));
    let log: Rc<RefCell<Vec<LogEntry>>> = (*log).clone();
    let read_write = use_state(session::stored_read_write);
    let config = use_state(|| None::<AppConfig>);
    {
        let config = config.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let loaded = match gloo_net::http::Request::get("/config.json").send().await {
                    Ok(r) if r.ok() => match r.text().await {
                        Ok(t) => AppConfig::parse(&t).unwrap_or_default(),
                        Err(_) => AppConfig::default(),
                    },
                    _ => AppConfig::default(),
                };
                config.set(Some(loaded));
            });
        });
    }
    let set_rw = {
        let read_write = read_write.clone();
        Callback::from(move |on: bool| {
            session::store_read_write(on);
            read_write.set(on);
        })
    };
    let session = {
        let cfg = (*config).clone();
        let log = log.clone();
        let rw = *read_write;
        use_memo((cfg, rw), move |(cfg, rw)| {
            make_session(cfg.clone().unwrap_or_default(), log, *rw, set_rw)
        })
    };
    html! {
        <ContextProvider<Session> context={(*session).clone()}>
            <NavProvider>
                <Header />
                <main class="content" id="main" tabindex="-1">
                    <Page />
                </main>
                <Footer />
            </NavProvider>
        </ContextProvider<Session>>
    }
}

/// The page for the current route.
#[component]
fn Page() -> Html {
    let nav = use_nav();
    match nav.route {
        Route::Home => html! { <pages::home::Home /> },
        Route::Subscriptions => html! { <pages::pickers::Subscriptions /> },
        Route::Subscription { sub } => html! { <pages::pickers::ResourceGroups {sub} /> },
        Route::ResourceGroup { sub, rg } => html! { <pages::pickers::Resources {sub} {rg} /> },
        Route::Resource { id, wizard } => html! { <pages::resource::ResourcePage {id} {wizard} /> },
        Route::Snippets { slug } => html! { <pages::snippets::Snippets {slug} /> },
        Route::ChangeLog => html! { <pages::log::ChangeLog /> },
        Route::CreateScaleSet => html! { <pages::create::CreateScaleSet /> },
        Route::CreateIdentity => html! { <pages::create::CreateIdentity /> },
        Route::NotFound(path) => html! {
            <section>
                <h2>{ "Not found" }</h2>
                <p>{ format!("Nothing lives at {path}. Resource pages are ARM ids of scale sets or VMs.") }</p>
                <crate::nav::Link to={Route::Home}>{ "Back to the start" }</crate::nav::Link>
            </section>
        },
    }
}
