use crate::components::retry::RetryBanner;
use crate::components::signin::{AuthContext, AuthProvider, Phase};
use crate::components::{footer::Footer, header::Header};
use crate::config::AppConfig;
use crate::nav::{NavProvider, use_nav};
use crate::pages;
use crate::session::{self, Connector, LogEntry, Mode, RetryNote, Session};
use identity_core::route::Route;
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// The application: sign-in, session and navigation contexts, header, the page, footer.
#[component]
pub fn App() -> Html {
    html! {
        <AuthProvider>
            <WithSession />
        </AuthProvider>
    }
}

#[component]
fn WithSession() -> Html {
    let auth = use_context::<AuthContext>();
    let signed_in = auth.as_ref().and_then(|a| match (&a.phase, &a.session) {
        (Phase::SignedIn(acc), Some(s)) => {
            Some((format!("{}|{}", acc.username, s.tenant()), s.clone()))
        }
        _ => None,
    });
    let log = use_memo((), |_| Rc::new(RefCell::new(Vec::<LogEntry>::new())));
    let log: Rc<RefCell<Vec<LogEntry>>> = (*log).clone();
    let read_write = use_state(session::stored_read_write);
    // the switch the ARM clients obey (writes are refused where they are sent when it is off)
    let write = use_memo((), |_| {
        arm_client::WriteAccess::new(session::stored_read_write())
    });
    let write: arm_client::WriteAccess = (*write).clone();
    let config = use_state(|| None::<AppConfig>);
    let config_error = use_state(|| None::<String>);
    {
        let config = config.clone();
        let config_error = config_error.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let (loaded, error) =
                    crate::config::read_config(crate::config::config_text().await);
                config_error.set(error);
                config.set(Some(loaded));
            });
        });
    }
    let cfg = (*config).clone().unwrap_or_default();
    let retry_note = use_state(|| None::<RetryNote>);
    let connector = {
        let log = log.clone();
        let on_retry = {
            let retry_note = retry_note.clone();
            Callback::from(move |n: RetryNote| retry_note.set(Some(n)))
        };
        let key = (cfg.clone(), signed_in.as_ref().map(|(k, _)| k.clone()));
        let auth_session = signed_in.map(|(_, s)| s);
        let write = write.clone();
        use_memo(key, move |(cfg, _)| {
            Rc::new(Connector::new(
                Rc::new(cfg.clone()),
                auth_session,
                log,
                on_retry,
                write,
            ))
        })
    };
    let set_rw = {
        let read_write = read_write.clone();
        let write = write.clone();
        Callback::from(move |on: bool| {
            session::store_read_write(on);
            write.set(on);
            read_write.set(on);
        })
    };
    let connector: Rc<Connector> = (*connector).clone();
    let mode = connector.expected_mode();
    let session = Session {
        cloud: Rc::new(cfg.cloud()),
        config: connector.config.clone(),
        mode,
        client: None,
        notice: (mode == Mode::SnippetsOnly).then(|| session::snippet_only_notice(&cfg)),
        connector,
        log,
        read_write: *read_write,
        set_read_write: set_rw,
    };
    html! {
        <ContextProvider<Session> context={session}>
            <NavProvider warm={crate::nav::Warm(crate::lazy::warm)}>
                <Header />
                if let Some(e) = (*config_error).clone() {
                    <p class="error" role="alert" id="config-error">{ e }</p>
                }
                if let Some(n) = (*retry_note).clone() {
                    <RetryBanner note={n} />
                }
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
        Route::NotFound(path) => html! {
            <section>
                <h2>{ "Not found" }</h2>
                <p>{ format!("Nothing lives at {path}. Resource pages are ARM ids of scale sets, VMs or user-assigned identities.") }</p>
                <crate::nav::Link to={Route::Home}>{ "Back to the start" }</crate::nav::Link>
            </section>
        },
        // a page of a split-off module: at once when its code is here, else once it arrived
        route => {
            html! { <crate::lazy::Lazy<Route> split={crate::lazy::page(&route)} props={route} /> }
        }
    }
}
