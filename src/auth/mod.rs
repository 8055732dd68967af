//! Sign-in: the one module that talks to MSAL (`@azure/msal-browser`, bound in the private
//! `msal` module). The rest of the app uses [`Session`], [`Account`], [`AuthConfig`] and
//! [`AuthError`], and hands a `Rc<Session>` to the ARM client as its
//! [`arm_client::TokenSource`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), identity_wizard::auth::AuthError> {
//! use identity_wizard::auth::{load_config, Session};
//! let config = load_config().await?;                 // /config.json + saved settings
//! let started = Session::start(config).await?;       // loads MSAL, finishes a redirect sign-in
//! let session = std::rc::Rc::new(started.session);
//! if session.account().is_none() {
//!     session.sign_in_popup().await?;
//! }
//! let token = session.arm_token(false).await?;       // silent, popup only when needed
//! session.switch_tenant("33333333-3333-3333-3333-333333333333").await?;
//! # let _ = token; Ok(()) }
//! ```

pub mod config;
pub mod error;
mod msal;

pub use config::{AuthConfig, ConfigError, Settings};
pub use error::AuthError;

use js_sys::{Array, Object, Promise, Reflect};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// localStorage key of the settings saved in the sign-in settings panel (client id, tenant).
pub const SETTINGS_KEY: &str = "identity-wizard.signin";
/// sessionStorage key of the deep link to restore after a redirect sign-in.
pub const RETURN_KEY: &str = "identity-wizard.return-to";
/// sessionStorage key of the tenant the user switched to.
pub const TENANT_KEY: &str = "identity-wizard.tenant";
/// The v5 redirect-bridge page (copied by trunk; it must be a registered redirect URI).
pub const REDIRECT_PATH: &str = "/redirect.html";

/// A signed-in account (from MSAL's `AccountInfo`).
#[derive(Debug, Clone)]
pub struct Account {
    /// `username` (UPN / e-mail).
    pub username: String,
    /// Display name.
    pub name: String,
    /// The tenant this account object is for (`tenantId`).
    pub tenant_id: String,
    /// `homeAccountId` (`<oid>.<home tenant>`).
    pub home_account_id: String,
    raw: JsValue,
}

impl PartialEq for Account {
    fn eq(&self, other: &Self) -> bool {
        self.home_account_id == other.home_account_id
            && self.tenant_id == other.tenant_id
            && self.username == other.username
            && self.name == other.name
    }
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_str(obj: &JsValue, key: &str) -> String {
    get(obj, key).as_string().unwrap_or_default()
}

fn set(obj: &Object, key: &str, val: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &val.into());
}

fn strings(items: &[String]) -> Array {
    items.iter().map(|s| JsValue::from_str(s)).collect()
}

impl Account {
    fn from_js(v: &JsValue) -> Option<Account> {
        if v.is_null() || v.is_undefined() {
            return None;
        }
        Some(Account {
            username: get_str(v, "username"),
            name: get_str(v, "name"),
            tenant_id: get_str(v, "tenantId"),
            home_account_id: get_str(v, "homeAccountId"),
            raw: v.clone(),
        })
    }
}

/// Map a thrown / rejected JS value to an [`AuthError`].
fn auth_error(e: JsValue) -> AuthError {
    let name = get_str(&e, "name");
    let code = get_str(&e, "errorCode");
    let message = match get_str(&e, "errorMessage") {
        m if m.is_empty() => get_str(&e, "message"),
        m => m,
    };
    if e.is_instance_of::<msal::InteractionRequiredAuthError>() {
        return AuthError::from_msal("InteractionRequiredAuthError", &code, &message);
    }
    AuthError::from_msal(&name, &code, &message)
}

async fn wait(p: Result<Promise, JsValue>) -> Result<JsValue, AuthError> {
    JsFuture::from(p.map_err(auth_error)?)
        .await
        .map_err(auth_error)
}

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

fn session_storage() -> Option<web_sys::Storage> {
    window()?.session_storage().ok()?
}

fn local_storage() -> Option<web_sys::Storage> {
    window()?.local_storage().ok()?
}

fn origin() -> String {
    window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The settings saved in the settings panel (localStorage), if any.
pub fn saved_settings() -> (Option<String>, Option<String>) {
    let Some(raw) = local_storage().and_then(|s| s.get_item(SETTINGS_KEY).ok().flatten()) else {
        return (None, None);
    };
    let Ok(v) = js_sys::JSON::parse(&raw) else {
        return (None, None);
    };
    let opt = |k| Some(get_str(&v, k)).filter(|s| !s.trim().is_empty());
    (opt("clientId"), opt("tenant"))
}

/// Save (or with both `None`, forget) the client id and tenant from the settings panel.
pub fn save_settings(client_id: Option<&str>, tenant: Option<&str>) {
    let Some(store) = local_storage() else { return };
    if client_id.is_none() && tenant.is_none() {
        let _ = store.remove_item(SETTINGS_KEY);
        return;
    }
    let o = Object::new();
    if let Some(c) = client_id {
        set(&o, "clientId", c);
    }
    if let Some(t) = tenant {
        set(&o, "tenant", t);
    }
    if let Ok(s) = js_sys::JSON::stringify(&o) {
        let _ = store.set_item(SETTINGS_KEY, &String::from(s));
    }
}

/// Read `config.json` (served next to the page) into [`Settings`].
fn settings_from_json(v: &JsValue) -> Settings {
    let opt = |k| Some(get_str(v, k)).filter(|s| !s.trim().is_empty());
    let known = get(v, "knownAuthorities");
    Settings {
        cloud: opt("cloud"),
        client_id: opt("clientId"),
        tenant: opt("tenant"),
        authority: opt("authority"),
        arm_endpoint: opt("armEndpoint"),
        arm_audience: opt("armAudience"),
        known_authorities: Array::is_array(&known).then(|| {
            Array::from(&known)
                .iter()
                .filter_map(|x| x.as_string())
                .collect()
        }),
    }
}

/// Load `/config.json`, apply the client id and tenant saved in the settings panel, and
/// resolve the configuration.
pub async fn load_config() -> Result<AuthConfig, AuthError> {
    let fail = || AuthError::Config("config.json could not be read".into());
    let text = crate::config::config_text().await.ok_or_else(fail)?;
    let json = js_sys::JSON::parse(&text).map_err(|_| fail())?;
    let mut s = settings_from_json(&json);
    let (client_id, tenant) = saved_settings();
    s.client_id = client_id.or(s.client_id);
    s.tenant = tenant.or(s.tenant);
    AuthConfig::resolve(&s).map_err(|e| match e {
        ConfigError::NoClientId => AuthError::NotConfigured,
        ConfigError::Invalid(m) => AuthError::Config(m),
    })
}

/// What [`Session::start`] found.
pub struct Started {
    /// The session.
    pub session: Session,
    /// The account signed in (restored from the cache or just back from a redirect sign-in).
    pub account: Option<Account>,
    /// The error a redirect sign-in came back with, if any.
    pub redirect_error: Option<AuthError>,
}

/// A sign-in session over MSAL: one per page. Share it as `Rc<Session>`.
pub struct Session {
    pca: msal::PublicClientApplication,
    config: AuthConfig,
    tenant: RefCell<String>,
}

impl Session {
    fn msal_config(config: &AuthConfig) -> Object {
        let origin = origin();
        let auth = Object::new();
        set(&auth, "clientId", config.client_id.as_str());
        set(&auth, "authority", config.authority());
        set(
            &auth,
            "knownAuthorities",
            strings(&config.known_authorities),
        );
        set(&auth, "redirectUri", format!("{origin}{REDIRECT_PATH}"));
        set(&auth, "postLogoutRedirectUri", format!("{origin}/"));
        let cache = Object::new();
        set(&cache, "cacheLocation", "sessionStorage");
        let cfg = Object::new();
        set(&cfg, "auth", auth);
        set(&cfg, "cache", cache);
        cfg
    }

    /// Load MSAL (after the first paint), create and initialise it, finish a redirect sign-in
    /// if this page load is its return, and restore the deep link stored before it.
    pub async fn start(config: AuthConfig) -> Result<Started, AuthError> {
        crate::loader::load_script(crate::MSAL_SRC)
            .await
            .map_err(|_| AuthError::Unavailable("the MSAL bundle could not be loaded".into()))?;
        let pca =
            msal::PublicClientApplication::new(&Self::msal_config(&config)).map_err(auth_error)?;
        wait(pca.initialize()).await?;
        let tenant = session_storage()
            .and_then(|s| s.get_item(TENANT_KEY).ok().flatten())
            .filter(|t| config::valid_tenant(t))
            .unwrap_or_else(|| config.tenant.clone());
        let session = Session {
            pca,
            config,
            tenant: RefCell::new(tenant),
        };
        let mut redirect_error = None;
        match wait(session.pca.handle_redirect_promise()).await {
            Ok(result) if !result.is_null() && !result.is_undefined() => {
                session.pca.set_active_account(&get(&result, "account"));
            }
            Ok(_) => {
                if session.pca.get_active_account().is_null() {
                    let all = session.pca.get_all_accounts();
                    if all.length() > 0 {
                        session.pca.set_active_account(&all.get(0));
                    }
                }
            }
            Err(e) => redirect_error = Some(e),
        }
        restore_return_path();
        let account = session.account();
        Ok(Started {
            session,
            account,
            redirect_error,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The tenant tokens are requested for (the configured one, or the one switched to).
    pub fn tenant(&self) -> String {
        self.tenant.borrow().clone()
    }

    /// The active account.
    pub fn account(&self) -> Option<Account> {
        Account::from_js(&self.pca.get_active_account())
    }

    fn request(&self, scope: &str) -> Object {
        let r = Object::new();
        set(&r, "scopes", Array::of1(&JsValue::from_str(scope)));
        set(&r, "authority", self.config.authority_for(&self.tenant()));
        r
    }

    fn adopt(&self, result: &JsValue) -> Result<Account, AuthError> {
        let account = get(result, "account");
        self.pca.set_active_account(&account);
        Account::from_js(&account).ok_or(AuthError::NotSignedIn)
    }

    /// Sign in with a pop-up window.
    pub async fn sign_in_popup(&self) -> Result<Account, AuthError> {
        let result = wait(
            self.pca
                .login_popup(&self.request(&self.config.arm_scope).into()),
        )
        .await?;
        self.adopt(&result)
    }

    /// Sign in by navigating this tab to the authority. The current route (path, query,
    /// fragment) is stored first and restored by [`Session::start`] when the tab comes back.
    pub async fn sign_in_redirect(&self) -> Result<(), AuthError> {
        store_return_path();
        let r = self.request(&self.config.arm_scope);
        if let Some(href) = window().and_then(|w| w.location().href().ok()) {
            set(&r, "redirectStartPage", href);
        }
        let out = wait(self.pca.login_redirect(&r.into())).await.map(|_| ());
        if out.is_err()
            && let Some(s) = session_storage()
        {
            // the tab is not leaving: forget the deep link stored for the return
            let _ = s.remove_item(RETURN_KEY);
        }
        out
    }

    /// An access token for `scope` in the current tenant: from the cache, renewed silently
    /// (refresh token, then a hidden iframe), and only when that needs the user, through a
    /// pop-up. `force_refresh` skips the cached token (after ARM answered 401).
    pub async fn token_with(&self, scope: &str, force_refresh: bool) -> Result<String, AuthError> {
        let account = self.account().ok_or(AuthError::NotSignedIn)?;
        let r = self.request(scope);
        set(&r, "account", account.raw.clone());
        set(&r, "forceRefresh", force_refresh);
        let result = match wait(self.pca.acquire_token_silent(&r.clone().into())).await {
            Ok(result) => result,
            Err(e) if e.is_interaction_required() => {
                let r = self.request(scope);
                set(&r, "loginHint", account.username.as_str());
                let result = wait(self.pca.acquire_token_popup(&r.into())).await?;
                self.adopt(&result)?;
                result
            }
            Err(e) => return Err(e),
        };
        match get_str(&result, "accessToken") {
            t if t.is_empty() => Err(AuthError::Other {
                code: "no_access_token".into(),
                message: "the authority returned no access token".into(),
            }),
            t => Ok(t),
        }
    }

    /// [`Session::token_with`] without forcing a refresh.
    pub async fn token(&self, scope: &str) -> Result<String, AuthError> {
        self.token_with(scope, false).await
    }

    /// A token for ARM (the configured cloud's `user_impersonation` scope).
    pub async fn arm_token(&self, force_refresh: bool) -> Result<String, AuthError> {
        self.token_with(&self.config.arm_scope.clone(), force_refresh)
            .await
    }

    /// Switch to another tenant the account belongs to (e.g. as a guest): a token for that
    /// tenant's authority, silently when possible, else through a pop-up. Later tokens are
    /// for that tenant; the choice survives a reload of this tab.
    pub async fn switch_tenant(&self, tenant: &str) -> Result<Account, AuthError> {
        let tenant = tenant.trim();
        if !config::valid_tenant(tenant) {
            return Err(AuthError::Config(format!(
                "'{tenant}' is not a tenant id or domain"
            )));
        }
        let account = self.account().ok_or(AuthError::NotSignedIn)?;
        let previous = self.tenant.replace(tenant.to_string());
        let r = self.request(&self.config.arm_scope);
        // MSAL looks tokens up by the account's tenantId before the request's authority: ask
        // with this account as seen from the target tenant (same home account, so the refresh
        // token is reused; a new tenant profile comes back).
        let in_target = Object::assign(&Object::new(), account.raw.unchecked_ref());
        set(&in_target, "tenantId", tenant);
        set(&r, "account", in_target);
        let result = match wait(self.pca.acquire_token_silent(&r.into())).await {
            Ok(result) => Ok(result),
            Err(e) if e.is_interaction_required() => {
                let r = self.request(&self.config.arm_scope);
                set(&r, "loginHint", account.username.as_str());
                wait(self.pca.acquire_token_popup(&r.into())).await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(result) => {
                let account = self.adopt(&result)?;
                if let Some(s) = session_storage() {
                    let _ = s.set_item(TENANT_KEY, tenant);
                }
                Ok(account)
            }
            Err(e) => {
                self.tenant.replace(previous);
                Err(e)
            }
        }
    }

    /// Sign out: clears this account from the cache, ends the session at the authority and
    /// comes back to the start page.
    pub async fn sign_out(&self) -> Result<(), AuthError> {
        if let Some(s) = session_storage() {
            let _ = s.remove_item(TENANT_KEY);
        }
        let r = Object::new();
        if let Some(a) = self.account() {
            set(&r, "account", a.raw);
        }
        set(&r, "postLogoutRedirectUri", format!("{}/", origin()));
        wait(self.pca.logout_redirect(&r.into())).await.map(|_| ())
    }
}

fn current_path() -> Option<String> {
    let l = window()?.location();
    Some(format!(
        "{}{}{}",
        l.pathname().ok()?,
        l.search().ok()?,
        l.hash().ok()?
    ))
}

fn store_return_path() {
    if let (Some(s), Some(p)) = (session_storage(), current_path())
        && config::safe_return_path(&p).is_some()
    {
        let _ = s.set_item(RETURN_KEY, &p);
    }
}

/// After a redirect sign-in: put the stored deep link back into the address bar.
fn restore_return_path() {
    let Some(s) = session_storage() else { return };
    let Some(p) = s.get_item(RETURN_KEY).ok().flatten() else {
        return;
    };
    let _ = s.remove_item(RETURN_KEY);
    if config::safe_return_path(&p).is_none() || current_path().as_deref() == Some(p.as_str()) {
        return;
    }
    if let Some(h) = window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&p));
    }
}

/// The ARM client's token source: a token for ARM in the current tenant; `refresh` (after a
/// 401) bypasses the cache.
impl arm_client::TokenSource for Session {
    fn token(
        &self,
        refresh: bool,
    ) -> arm_client::LocalBoxFuture<'_, Result<String, arm_client::ArmError>> {
        Box::pin(async move {
            self.arm_token(refresh).await.map_err(|e| {
                arm_client::ArmError::new(arm_client::ErrorKind::Credential, e.user_message())
            })
        })
    }
}

/// A message for an ARM refusal of a request made with this session's token: ARM's own words
/// and the ARM client's hint (the app's one wording, [`arm_client::ArmError::hint`]); for a token
/// of the wrong audience also the endpoint and the scope this app asked for.
pub fn describe_arm_error(e: &arm_client::ArmError, config: &AuthConfig) -> String {
    let head = match (e.status, e.code.as_deref().unwrap_or("")) {
        (Some(s), c) if !c.is_empty() => format!("ARM refused the request ({s} {c})"),
        (Some(s), _) => format!("ARM refused the request ({s})"),
        _ => "The request to ARM failed".to_string(),
    };
    let mut hint = e.hint().unwrap_or_default();
    if e.class() == arm_client::Class::WrongAudience {
        hint.push_str(&format!(
            " This ARM endpoint is {}; the app asked for the scope {}.",
            config.arm_endpoint, config.arm_scope
        ));
    }
    let msg = e.message.trim();
    match (msg.is_empty(), hint.is_empty()) {
        (true, true) => format!("{head}."),
        (false, true) => format!("{head}: {msg}"),
        (true, false) => format!("{head}. {hint}"),
        (false, false) => format!("{head}: {msg} {hint}"),
    }
}

/// One `GET {arm}/subscriptions` with a bearer token, through the browser's `fetch` and
/// `js_sys` only (no JSON crate: this diagnostic must not weigh on the wasm). Returns the
/// status and the parsed body.
async fn get_subscriptions(arm: &str, token: &str) -> Result<(u16, JsValue), String> {
    let w = window().ok_or("no window")?;
    let fetch: js_sys::Function = get(&w, "fetch").dyn_into().map_err(|_| "no fetch")?;
    let headers = Object::new();
    set(&headers, "Authorization", format!("Bearer {token}"));
    let init = Object::new();
    set(&init, "headers", headers);
    let url = format!("{arm}/subscriptions?api-version=2022-12-01");
    let resp = fetch
        .call2(&w, &JsValue::from_str(&url), &init)
        .map(Promise::from)
        .map_err(|_| "fetch failed".to_string())?;
    let resp = JsFuture::from(resp)
        .await
        .map_err(|_| format!("The request to ARM ({arm}) failed: network error or CORS."))?;
    let status = get(&resp, "status").as_f64().unwrap_or(0.0) as u16;
    let json: js_sys::Function = get(&resp, "json").dyn_into().map_err(|_| "no json")?;
    let body = match json.call0(&resp) {
        Ok(p) => JsFuture::from(Promise::from(p))
            .await
            .unwrap_or(JsValue::NULL),
        Err(_) => JsValue::NULL,
    };
    Ok((status, body))
}

/// "Check ARM access": list the subscriptions the signed-in account sees in the current
/// tenant (one fresh token and one more try after a 401, as the ARM client does). A short
/// success text, or the error text for the user.
pub async fn check_arm_access(session: std::rc::Rc<Session>) -> Result<String, String> {
    let config = session.config().clone();
    let tenant = session.tenant();
    let mut refresh = false;
    loop {
        let token = session
            .arm_token(refresh)
            .await
            .map_err(|e| e.user_message())?;
        let (status, body) = get_subscriptions(&config.arm_endpoint, &token).await?;
        if (200..300).contains(&status) {
            let n = Array::from(&get(&body, "value")).length();
            return Ok(format!(
                "ARM access works: {n} subscription(s) visible in tenant {tenant}."
            ));
        }
        if status == 401 && !refresh {
            refresh = true;
            continue;
        }
        let err = get(&body, "error");
        let mut e =
            arm_client::ArmError::new(arm_client::ErrorKind::Http, get_str(&err, "message"));
        e.status = Some(status);
        e.code = Some(get_str(&err, "code")).filter(|c| !c.is_empty());
        return Err(describe_arm_error(&e, &config));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_audience_names_endpoint_and_scope() {
        let config = AuthConfig::resolve(&Settings {
            client_id: Some("c".into()),
            cloud: Some("AzureUSGovernment".into()),
            ..Settings::default()
        })
        .unwrap();
        let resp = arm_client::HttpResponse::json(
            401,
            &serde_json::json!({"error": {"code": "InvalidAuthenticationTokenAudience",
                "message": "The access token has been obtained for wrong audience or resource 'https://management.usgovcloudapi.net'."}}),
        );
        let e = arm_client::ArmError::from_response("GET", "https://x/subscriptions", &resp);
        let m = describe_arm_error(&e, &config);
        assert!(m.starts_with("ARM refused the request (401 InvalidAuthenticationTokenAudience): The access token has been obtained for wrong audience"), "{m}");
        assert!(
            m.contains("https://management.usgovcloudapi.net/user_impersonation"),
            "{m}"
        );
        assert!(m.contains("config.json"), "{m}");
    }

    #[test]
    fn other_arm_errors_use_the_client_hint() {
        let config = AuthConfig::resolve(&Settings {
            client_id: Some("c".into()),
            ..Settings::default()
        })
        .unwrap();
        let resp = arm_client::HttpResponse::json(
            403,
            &serde_json::json!({"error": {"code": "AuthorizationFailed", "message": "no"}}),
        );
        let e = arm_client::ArmError::from_response("GET", "https://x/", &resp);
        let m = describe_arm_error(&e, &config);
        assert_eq!(
            m,
            format!(
                "ARM refused the request (403 AuthorizationFailed): no {}",
                e.hint().unwrap()
            )
        );
    }
}
