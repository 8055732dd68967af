//! Sign-in UI: [`AuthProvider`] starts the session after the first paint and shares it as a
//! context ([`AuthContext`]); [`AccountMenu`] is the header's sign-in button / account menu.
//! Thin: everything that talks to MSAL is in [`crate::auth`].

use crate::auth::{self, Account, AuthError, Session};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// Where sign-in stands.
#[derive(Clone, PartialEq)]
pub enum Phase {
    /// MSAL is loading (after the first paint).
    Loading,
    /// Sign-in cannot work here (text in `error`).
    Unavailable,
    /// No client id (or an invalid configuration): the settings panel is offered.
    NotConfigured,
    /// Ready, nobody signed in.
    SignedOut,
    /// Signed in.
    SignedIn(Account),
}

/// The sign-in state shared with the app.
#[derive(Clone)]
pub struct AuthState {
    /// Phase.
    pub phase: Phase,
    /// The session, once MSAL is up.
    pub session: Option<Rc<Session>>,
    /// An action is running (buttons disabled).
    pub busy: bool,
    /// The last error, as text for the user.
    pub error: Option<String>,
    /// The last success message (e.g. the ARM check).
    pub notice: Option<String>,
}

impl Default for AuthState {
    fn default() -> Self {
        AuthState {
            phase: Phase::Loading,
            session: None,
            busy: false,
            error: None,
            notice: None,
        }
    }
}

impl PartialEq for AuthState {
    fn eq(&self, o: &Self) -> bool {
        self.phase == o.phase
            && self.busy == o.busy
            && self.error == o.error
            && self.notice == o.notice
            && match (&self.session, &o.session) {
                (Some(a), Some(b)) => Rc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

/// State changes.
pub enum AuthAction {
    /// The session started.
    Started(Rc<Session>, Option<Account>, Option<String>),
    /// Sign-in cannot start: phase and reason.
    Failed(Phase, String),
    /// No client id configured (shown as information, not as an error).
    Unconfigured(String),
    /// An action started.
    Busy,
    /// Signed in (or switched tenant) as this account.
    SignedIn(Account, Option<String>),
    /// An action failed.
    Error(String),
    /// An action succeeded with a message.
    Notice(String),
}

impl Reducible for AuthState {
    type Action = AuthAction;
    fn reduce(self: Rc<Self>, action: AuthAction) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            AuthAction::Started(session, account, error) => {
                s.phase = account.map_or(Phase::SignedOut, Phase::SignedIn);
                s.session = Some(session);
                s.error = error;
            }
            AuthAction::Failed(phase, reason) => {
                s.phase = phase;
                s.error = Some(reason);
            }
            AuthAction::Unconfigured(text) => {
                s.phase = Phase::NotConfigured;
                s.notice = Some(text);
            }
            AuthAction::Busy => {
                s.busy = true;
                s.error = None;
                s.notice = None;
            }
            AuthAction::SignedIn(account, notice) => {
                s.busy = false;
                s.phase = Phase::SignedIn(account);
                s.notice = notice;
            }
            AuthAction::Error(e) => {
                s.busy = false;
                s.error = Some(e);
            }
            AuthAction::Notice(n) => {
                s.busy = false;
                s.notice = Some(n);
            }
        }
        Rc::new(s)
    }
}

/// The context components use to reach the session (`use_context::<AuthContext>()`).
pub type AuthContext = UseReducerHandle<AuthState>;

/// Props with children.
#[derive(Properties, PartialEq)]
pub struct ChildrenProps {
    /// Children.
    pub children: Html,
}

/// Starts sign-in after the first render and provides [`AuthContext`] to its children.
#[component]
pub fn AuthProvider(props: &ChildrenProps) -> Html {
    let state = use_reducer(AuthState::default);
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            spawn_local(async move {
                let config = match auth::load_config().await {
                    Ok(c) => c,
                    Err(AuthError::NotConfigured) => {
                        // not an error: sign-in is optional until a client id is set
                        state.dispatch(AuthAction::Unconfigured(
                            AuthError::NotConfigured.user_message(),
                        ));
                        return;
                    }
                    Err(e) => {
                        state.dispatch(AuthAction::Failed(Phase::NotConfigured, e.user_message()));
                        return;
                    }
                };
                match Session::start(config).await {
                    Ok(started) => state.dispatch(AuthAction::Started(
                        Rc::new(started.session),
                        started.account,
                        started.redirect_error.map(|e| e.user_message()),
                    )),
                    Err(e @ AuthError::Unavailable(_)) => {
                        state.dispatch(AuthAction::Failed(Phase::Unavailable, e.user_message()))
                    }
                    Err(e) => {
                        state.dispatch(AuthAction::Failed(Phase::NotConfigured, e.user_message()))
                    }
                }
            });
        });
    }
    html! {
        <ContextProvider<AuthContext> context={state}>
            { props.children.clone() }
        </ContextProvider<AuthContext>>
    }
}

fn run<F>(state: &AuthContext, f: impl FnOnce(Rc<Session>) -> F + 'static) -> Callback<MouseEvent>
where
    F: std::future::Future<Output = AuthAction> + 'static,
{
    let state = state.clone();
    let f = std::cell::RefCell::new(Some(f));
    Callback::from(move |_: MouseEvent| {
        let Some(session) = state.session.clone() else {
            return;
        };
        let Some(f) = f.borrow_mut().take() else {
            return;
        };
        state.dispatch(AuthAction::Busy);
        let state = state.clone();
        spawn_local(async move { state.dispatch(f(session).await) });
    })
}

fn input_value(r: &NodeRef) -> String {
    r.cast::<web_sys::HtmlInputElement>()
        .map(|i| i.value().trim().to_string())
        .unwrap_or_default()
}

/// The sign-in settings panel: client id and tenant, remembered in localStorage.
#[component]
fn SettingsPanel() -> Html {
    let client = NodeRef::default();
    let tenant = NodeRef::default();
    let (saved_client, saved_tenant) = auth::saved_settings();
    let onsubmit = {
        let (client, tenant) = (client.clone(), tenant.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (c, t) = (input_value(&client), input_value(&tenant));
            auth::save_settings(
                Some(c.as_str()).filter(|s| !s.is_empty()),
                Some(t.as_str()).filter(|s| !s.is_empty()),
            );
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        })
    };
    let reset = Callback::from(|_: MouseEvent| {
        auth::save_settings(None, None);
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    });
    html! {
        <details class="signin-settings" id="signin-settings">
            <summary>{ "Sign-in settings" }</summary>
            <form class="settings-form" {onsubmit}>
                <label for="settings-client-id">{ "Application (client) ID" }</label>
                <input id="settings-client-id" ref={client} value={saved_client.unwrap_or_default()}
                    placeholder="from config.json" autocomplete="off" spellcheck="false" />
                <label for="settings-tenant">{ "Tenant (ID or domain)" }</label>
                <input id="settings-tenant" ref={tenant} value={saved_tenant.unwrap_or_default()}
                    placeholder="from config.json" autocomplete="off" spellcheck="false" />
                <div class="actions">
                    <button type="submit" id="settings-save">{ "Save and reload" }</button>
                    <button type="button" id="settings-reset" onclick={reset}>{ "Use config.json" }</button>
                </div>
            </form>
        </details>
    }
}

fn short(id: &str) -> String {
    if id.len() > 13 {
        format!("{}…", &id[..8])
    } else {
        id.to_string()
    }
}

/// The header's sign-in area: a Sign in button, or the account menu (user, cloud, tenant,
/// tenant switch, ARM check, sign-out). Errors are shown as text.
#[component]
pub fn AccountMenu() -> Html {
    let Some(state) = use_context::<AuthContext>() else {
        return html! {};
    };
    let tenant_input = NodeRef::default();
    let busy = state.busy;
    let cloud = state
        .session
        .as_ref()
        .map(|s| s.config().cloud_label.clone())
        .unwrap_or_default();
    let body = match &state.phase {
        Phase::Loading => {
            html! { <span class="auth-status" id="auth-status">{ "Sign-in: loading…" }</span> }
        }
        Phase::Unavailable => {
            html! { <span class="auth-status" id="auth-status">{ "Sign-in unavailable" }</span> }
        }
        Phase::NotConfigured => html! {
            <>
                <span class="auth-status" id="auth-status">{ "Sign-in not configured" }</span>
                <SettingsPanel />
            </>
        },
        Phase::SignedOut => {
            let popup = run(&state, |s| async move {
                match s.sign_in_popup().await {
                    Ok(a) => AuthAction::SignedIn(a, None),
                    Err(e) => AuthAction::Error(e.user_message()),
                }
            });
            let redirect = run(&state, |s| async move {
                match s.sign_in_redirect().await {
                    Ok(()) => AuthAction::Notice("Redirecting to sign in…".into()),
                    Err(e) => AuthAction::Error(e.user_message()),
                }
            });
            html! {
                <>
                    <span class="auth-status" id="auth-status">{ format!("Signed out · {cloud}") }</span>
                    <button id="sign-in" class="primary" onclick={popup} disabled={busy}>{ "Sign in" }</button>
                    <button id="sign-in-redirect" onclick={redirect} disabled={busy}>{ "Sign in in this tab" }</button>
                    <SettingsPanel />
                </>
            }
        }
        Phase::SignedIn(account) => {
            let session = state.session.clone();
            let tenant = session.as_ref().map(|s| s.tenant()).unwrap_or_default();
            let switch = {
                let state = state.clone();
                let tenant_input = tenant_input.clone();
                Callback::from(move |e: SubmitEvent| {
                    e.prevent_default();
                    let Some(session) = state.session.clone() else {
                        return;
                    };
                    let target = input_value(&tenant_input);
                    state.dispatch(AuthAction::Busy);
                    let state = state.clone();
                    spawn_local(async move {
                        state.dispatch(match session.switch_tenant(&target).await {
                            Ok(a) => AuthAction::SignedIn(
                                a,
                                Some(format!("Switched to tenant {target}.")),
                            ),
                            Err(e) => AuthAction::Error(e.user_message()),
                        })
                    });
                })
            };
            let check = {
                let state = state.clone();
                Callback::from(move |_: MouseEvent| {
                    let Some(session) = state.session.clone() else {
                        return;
                    };
                    state.dispatch(AuthAction::Busy);
                    let state = state.clone();
                    spawn_local(async move {
                        state.dispatch(match auth::check_arm_access(session).await {
                            Ok(m) => AuthAction::Notice(m),
                            Err(e) => AuthAction::Error(e),
                        })
                    });
                })
            };
            let sign_out = run(&state, |s| async move {
                match s.sign_out().await {
                    Ok(()) => AuthAction::Notice("Signing out…".into()),
                    Err(e) => AuthAction::Error(e.user_message()),
                }
            });
            let who = if account.name.is_empty() {
                account.username.clone()
            } else {
                account.name.clone()
            };
            html! {
                <details class="account-menu" id="account-menu">
                    <summary id="account-summary">
                        <span class="sr-only">{ "Account menu: " }</span>
                        <span id="account-name">{ who }</span>
                        <span class="account-where">
                            <span id="account-cloud">{ cloud.clone() }</span>
                            { " · tenant " }
                            <span id="account-tenant" title={tenant.clone()}>{ short(&tenant) }</span>
                        </span>
                        <span class="sr-only">{ format!(" ({})", account.username) }</span>
                    </summary>
                    <div class="account-panel">
                        <dl>
                            <dt>{ "Account" }</dt><dd id="account-username">{ account.username.clone() }</dd>
                            <dt>{ "Cloud" }</dt><dd>{ cloud.clone() }</dd>
                            <dt>{ "Tenant" }</dt><dd id="account-tenant-full">{ tenant.clone() }</dd>
                        </dl>
                        <form class="switch-tenant" onsubmit={switch}>
                            <label for="tenant-input">{ "Switch to tenant (ID or domain)" }</label>
                            <input id="tenant-input" ref={tenant_input} autocomplete="off" spellcheck="false" required=true />
                            <button type="submit" id="switch-tenant" disabled={busy}>{ "Switch tenant" }</button>
                        </form>
                        <div class="actions">
                            <button type="button" id="check-arm" onclick={check} disabled={busy}>{ "Check ARM access" }</button>
                            <button type="button" id="sign-out" onclick={sign_out} disabled={busy}>{ "Sign out" }</button>
                        </div>
                    </div>
                </details>
            }
        }
    };
    html! {
        <div class="signin" id="signin" aria-busy={busy.to_string()}>
            { body }
            if let Some(e) = &state.error {
                <p class="auth-error" id="auth-error" role="alert">{ e.clone() }</p>
            }
            if let Some(n) = &state.notice {
                <p class="auth-notice" id="auth-notice" role="status">{ n.clone() }</p>
            }
        </div>
    }
}
