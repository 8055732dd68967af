//! wasm-bindgen bindings to the parts of `@azure/msal-browser` (the UMD bundle, global `msal`)
//! the app uses. Private to [`crate::auth`]: nothing else in the app sees MSAL.
//!
//! The bundle is loaded after the first paint (`loader::load_script`), so these are only
//! called once `window.msal` exists. Every method that returns a promise is `catch`: a
//! synchronous throw becomes an `Err` instead of a panic.

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `msal.PublicClientApplication`.
    #[wasm_bindgen(js_namespace = msal)]
    pub type PublicClientApplication;

    /// `new msal.PublicClientApplication(config)`.
    #[wasm_bindgen(constructor, js_namespace = msal, catch)]
    pub fn new(config: &JsValue) -> Result<PublicClientApplication, JsValue>;

    /// `initialize(): Promise<void>`.
    #[wasm_bindgen(method, catch)]
    pub fn initialize(this: &PublicClientApplication) -> Result<Promise, JsValue>;

    /// `handleRedirectPromise(): Promise<AuthenticationResult | null>`.
    #[wasm_bindgen(method, catch, js_name = handleRedirectPromise)]
    pub fn handle_redirect_promise(this: &PublicClientApplication) -> Result<Promise, JsValue>;

    /// `loginPopup(request): Promise<AuthenticationResult>`.
    #[wasm_bindgen(method, catch, js_name = loginPopup)]
    pub fn login_popup(
        this: &PublicClientApplication,
        request: &JsValue,
    ) -> Result<Promise, JsValue>;

    /// `loginRedirect(request): Promise<void>` (navigates away).
    #[wasm_bindgen(method, catch, js_name = loginRedirect)]
    pub fn login_redirect(
        this: &PublicClientApplication,
        request: &JsValue,
    ) -> Result<Promise, JsValue>;

    /// `acquireTokenSilent(request): Promise<AuthenticationResult>`.
    #[wasm_bindgen(method, catch, js_name = acquireTokenSilent)]
    pub fn acquire_token_silent(
        this: &PublicClientApplication,
        request: &JsValue,
    ) -> Result<Promise, JsValue>;

    /// `acquireTokenPopup(request): Promise<AuthenticationResult>` (the interactive fallback).
    #[wasm_bindgen(method, catch, js_name = acquireTokenPopup)]
    pub fn acquire_token_popup(
        this: &PublicClientApplication,
        request: &JsValue,
    ) -> Result<Promise, JsValue>;

    /// `getAllAccounts(): AccountInfo[]`.
    #[wasm_bindgen(method, js_name = getAllAccounts)]
    pub fn get_all_accounts(this: &PublicClientApplication) -> Array;

    /// `getActiveAccount(): AccountInfo | null`.
    #[wasm_bindgen(method, js_name = getActiveAccount)]
    pub fn get_active_account(this: &PublicClientApplication) -> JsValue;

    /// `setActiveAccount(account | null)`.
    #[wasm_bindgen(method, js_name = setActiveAccount)]
    pub fn set_active_account(this: &PublicClientApplication, account: &JsValue);

    /// `logoutRedirect(request): Promise<void>` (navigates to the end-session endpoint).
    #[wasm_bindgen(method, catch, js_name = logoutRedirect)]
    pub fn logout_redirect(
        this: &PublicClientApplication,
        request: &JsValue,
    ) -> Result<Promise, JsValue>;

    /// `logoutPopup(request): Promise<void>`.
    #[wasm_bindgen(method, catch, js_name = logoutPopup)]
    pub fn logout_popup(
        this: &PublicClientApplication,
        request: &JsValue,
    ) -> Result<Promise, JsValue>;

    /// `msal.InteractionRequiredAuthError` (for `instanceof`).
    #[wasm_bindgen(js_namespace = msal)]
    pub type InteractionRequiredAuthError;
}
