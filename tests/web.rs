//! Browser tests (wasm-bindgen-test in headless Chromium via chromedriver):
//! `cargo test --target wasm32-unknown-unknown --tests` with the runner set by scripts/test.
#![cfg(target_arch = "wasm32")]

use identity_core::catalogue::SCENARIOS;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn sleep_ms(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

fn blob_url(js: &str) -> String {
    let parts = js_sys::Array::of1(&JsValue::from_str(js));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts).unwrap();
    web_sys::Url::create_object_url_with_blob(&blob).unwrap()
}

#[wasm_bindgen_test]
async fn app_mounts_and_lists_the_catalogue() {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<identity_wizard::app::App>::with_root(root.clone()).render();
    sleep_ms(50).await;
    let items = root.query_selector_all("li.scenario").unwrap();
    assert_eq!(items.length() as usize, SCENARIOS.len());
    let version = document
        .get_element_by_id("version")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(version.ends_with(env!("CARGO_PKG_VERSION")), "{version}");
}

#[wasm_bindgen_test]
async fn load_script_runs_the_script_once_and_reports_failures() {
    let url = blob_url(
        "window.__iwLoads = (window.__iwLoads || 0) + 1; window.msal = { version: '9.9.9' };",
    );
    identity_wizard::loader::load_script(&url).await.unwrap();
    identity_wizard::loader::load_script(&url).await.unwrap();
    let window = web_sys::window().unwrap();
    let loads = js_sys::Reflect::get(&window, &JsValue::from_str("__iwLoads")).unwrap();
    assert_eq!(loads.as_f64(), Some(1.0), "second call must not load again");
    assert_eq!(
        identity_wizard::loader::msal_version().as_deref(),
        Some("9.9.9")
    );

    let err = identity_wizard::loader::load_script("/definitely-missing-script.js").await;
    assert!(err.is_err());
}

#[wasm_bindgen_test]
async fn concurrent_loads_of_one_script_all_wait_for_it() {
    let url = blob_url("window.__iwSlow = (window.__iwSlow || 0) + 1;");
    let (u1, u2) = (url.clone(), url.clone());
    let first = wasm_bindgen_futures::future_to_promise(async move {
        identity_wizard::loader::load_script(&u1).await?;
        Ok(JsValue::TRUE)
    });
    let second = wasm_bindgen_futures::future_to_promise(async move {
        identity_wizard::loader::load_script(&u2).await?;
        // the second caller must not return before the script has run
        let w = web_sys::window().unwrap();
        Ok(js_sys::Reflect::get(&w, &JsValue::from_str("__iwSlow")).unwrap())
    });
    let both = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::all(&js_sys::Array::of2(
        &first, &second,
    )))
    .await
    .unwrap();
    let seen = js_sys::Array::from(&both).get(1);
    assert_eq!(
        seen.as_f64(),
        Some(1.0),
        "ran once, before the second call returned"
    );
}

/// A stand-in for the MSAL bundle: records what the Rust side passes and answers like MSAL
/// (acquireTokenSilent rejects with InteractionRequiredAuthError unless a token is cached).
const FAKE_MSAL: &str = r#"
(function () {
  class InteractionRequiredAuthError extends Error {
    constructor(code) { super(code); this.name = 'InteractionRequiredAuthError'; this.errorCode = code; this.errorMessage = code; }
  }
  const calls = (window.__msalCalls = []);
  const alice = (tenantId) => ({ username: 'alice@contoso.test', name: 'Alice', tenantId, homeAccountId: 'oid.home', localAccountId: 'oid' });
  class PublicClientApplication {
    constructor(config) { window.__msalConfig = config; this.active = null; this.cached = {}; }
    initialize() { calls.push(['initialize']); return Promise.resolve(); }
    handleRedirectPromise() { calls.push(['handleRedirectPromise']); return Promise.resolve(null); }
    getAllAccounts() { return this.active ? [this.active] : []; }
    getActiveAccount() { return this.active; }
    setActiveAccount(a) { this.active = a; }
    loginPopup(r) { calls.push(['loginPopup', r]); const account = alice('home'); this.cached[account.tenantId] = 'at-home'; return Promise.resolve({ account, accessToken: 'at-home' }); }
    acquireTokenSilent(r) {
      calls.push(['acquireTokenSilent', r]);
      const t = this.cached[r.account.tenantId];
      if (t && !r.forceRefresh) return Promise.resolve({ account: r.account, accessToken: t });
      return Promise.reject(new InteractionRequiredAuthError('login_required'));
    }
    acquireTokenPopup(r) {
      calls.push(['acquireTokenPopup', r]);
      const tenant = r.authority.split('/').pop();
      this.popups = (this.popups || 0) + 1;
      const token = 'at-' + tenant + '-' + this.popups;
      this.cached[tenant] = token;
      return Promise.resolve({ account: alice(tenant), accessToken: token });
    }
  }
  window.msal = { PublicClientApplication, InteractionRequiredAuthError, version: 'fake' };
})();
"#;

#[wasm_bindgen_test]
async fn session_drives_msal_with_config_silent_first_and_popup_fallback() {
    use identity_wizard::auth::{AuthConfig, AuthError, Session, Settings};
    let document = web_sys::window().unwrap().document().unwrap();
    // Pretend the bundle at MSAL_SRC is the fake above (load_script awaits the element's promise).
    let url = blob_url(FAKE_MSAL);
    identity_wizard::loader::load_script(&url).await.unwrap();
    let stale = document
        .query_selector_all(&format!(
            "script[data-loaded-src=\"{}\"]",
            identity_wizard::MSAL_SRC
        ))
        .unwrap();
    for i in 0..stale.length() {
        let node = stale.get(i).unwrap();
        node.parent_node().unwrap().remove_child(&node).unwrap();
    }
    let marker = document.create_element("script").unwrap();
    marker
        .set_attribute("data-loaded-src", identity_wizard::MSAL_SRC)
        .unwrap();
    js_sys::Reflect::set(
        &marker,
        &JsValue::from_str("__iwLoad"),
        &js_sys::Promise::resolve(&JsValue::NULL),
    )
    .unwrap();
    document.head().unwrap().append_child(&marker).unwrap();

    let config = AuthConfig::resolve(&Settings {
        client_id: Some("22222222-2222-2222-2222-222222222222".into()),
        tenant: Some("tenant-a".into()),
        authority: Some("https://127.0.0.1:8443".into()),
        arm_endpoint: Some("http://127.0.0.1:4000".into()),
        arm_audience: Some("https://management.azure.com".into()),
        ..Settings::default()
    })
    .unwrap();
    let started = Session::start(config).await.unwrap();
    assert!(started.account.is_none());
    let session = started.session;
    let w = web_sys::window().unwrap();
    let cfg = js_sys::Reflect::get(&w, &JsValue::from_str("__msalConfig")).unwrap();
    let json = String::from(js_sys::JSON::stringify(&cfg).unwrap());
    for part in [
        r#""authority":"https://127.0.0.1:8443/tenant-a""#,
        r#""knownAuthorities":["127.0.0.1:8443"]"#,
        r#""cacheLocation":"sessionStorage""#,
        "/redirect.html\"",
    ] {
        assert!(json.contains(part), "{part} in {json}");
    }

    assert_eq!(
        session.arm_token(false).await,
        Err(AuthError::NotSignedIn),
        "no account yet"
    );
    let account = session.sign_in_popup().await.unwrap();
    assert_eq!(account.username, "alice@contoso.test");
    assert_eq!(session.arm_token(false).await.unwrap(), "at-home");
    // forced refresh: silent fails with InteractionRequiredAuthError -> pop-up with a login hint
    assert_eq!(session.arm_token(true).await.unwrap(), "at-tenant-a-1");
    // switch: silent for the target tenant's view of the account, then the pop-up
    let b = session.switch_tenant("tenant-b").await.unwrap();
    assert_eq!(b.tenant_id, "tenant-b");
    assert_eq!(session.tenant(), "tenant-b");
    assert_eq!(session.arm_token(false).await.unwrap(), "at-tenant-b-2");
    assert!(session.switch_tenant("../evil").await.is_err());
    assert_eq!(
        session.tenant(),
        "tenant-b",
        "a refused switch keeps the tenant"
    );

    let calls = js_sys::Reflect::get(&w, &JsValue::from_str("__msalCalls")).unwrap();
    let calls = String::from(js_sys::JSON::stringify(&calls).unwrap());
    assert!(
        calls.contains(r#"["acquireTokenPopup",{"scopes":["https://management.azure.com/user_impersonation"],"authority":"https://127.0.0.1:8443/tenant-a","loginHint":"alice@contoso.test"}]"#),
        "{calls}"
    );
    assert!(
        calls.contains(r#""authority":"https://127.0.0.1:8443/tenant-b","account":{"username":"alice@contoso.test","name":"Alice","tenantId":"tenant-b""#),
        "switch asks with the target tenant's view of the account: {calls}"
    );

    // The session is the ARM client's token source: its token goes out as the bearer, and
    // after a 401 the client asks once more with refresh = true (MSAL's cache is bypassed).
    use arm_client::{ArmClient, HttpResponse, VirtualClock, ops, testing::ScriptedTransport};
    use std::rc::Rc;
    let t = Rc::new(ScriptedTransport::new());
    t.push(HttpResponse::json(
        401,
        &serde_json::json!({"error": {"code": "ExpiredAuthenticationToken", "message": "expired"}}),
    ));
    t.push(HttpResponse::json(
        200,
        &serde_json::json!({"value": [{"subscriptionId": "s1", "displayName": "Dev"}]}),
    ));
    let session = Rc::new(session);
    let client = ArmClient::builder("http://127.0.0.1:4000", t.clone(), session.clone())
        .clock(Rc::new(VirtualClock::new(0)))
        .build()
        .unwrap();
    let subs: Vec<arm_client::Subscription> = client
        .list(ops::list_subscriptions())
        .collect_all()
        .await
        .unwrap();
    assert_eq!(subs.len(), 1);
    let sent: Vec<_> = t
        .requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_string))
        .collect();
    assert_eq!(
        sent,
        vec![
            Some("Bearer at-tenant-b-2".to_string()),
            Some("Bearer at-tenant-b-3".to_string())
        ]
    );
    let _ = js_sys::Reflect::delete_property(&w, &JsValue::from_str("msal"));
}

/// In the page, config.json is read with the browser's JSON parser (no JSON parser in the wasm
/// that loads first): the same rules as the native tests in src/config.rs.
#[wasm_bindgen_test]
fn app_config_parses_with_the_browsers_json() {
    use identity_wizard::config::AppConfig;
    let c =
        AppConfig::parse(r#"{"cloud":"AzureChinaCloud","clientId":"abc","demo":true}"#).unwrap();
    assert_eq!(
        c.cloud().arm_endpoint,
        "https://management.chinacloudapi.cn"
    );
    assert_eq!(
        (c.client_id.as_str(), c.tenant.as_str(), c.demo),
        ("abc", "organizations", true)
    );
    let c = AppConfig::parse(r#"{"armEndpoint":"http://127.0.0.1:9/","authority":null}"#).unwrap();
    assert_eq!(c.cloud().arm_endpoint, "http://127.0.0.1:9");
    assert_eq!(c.authority, None);
    assert!(
        AppConfig::parse("{")
            .unwrap_err()
            .starts_with("config.json: ")
    );
    assert!(AppConfig::parse("[1]").is_err());
    assert_eq!(
        AppConfig::parse(r#"{"demo":"yes"}"#),
        Err("config.json: demo must be true or false".into())
    );
    assert_eq!(
        AppConfig::parse(r#"{"tenant":["a"]}"#),
        Err("config.json: tenant must be a string".into())
    );
}

#[wasm_bindgen_test]
fn a_panic_shows_an_alert_with_what_happened_and_a_reload_button() {
    use identity_wizard::panic::{REGION_ID, report};
    use wasm_bindgen::JsCast;
    let document = web_sys::window().unwrap().document().unwrap();
    // the hook's own function, with a message that must stay text
    report("index out of bounds at src/x.rs:1:1 <img src=x onerror=alert(1)>");
    let region = document.get_element_by_id(REGION_ID).expect("the region");
    assert_eq!(region.get_attribute("role").as_deref(), Some("alert"));
    assert_eq!(
        document
            .body()
            .unwrap()
            .first_element_child()
            .map(|e| e.id()),
        Some(REGION_ID.to_string()),
        "first in the page"
    );
    let text = region.text_content().unwrap();
    assert!(
        text.contains("stopped because of an internal error"),
        "{text}"
    );
    assert!(
        text.contains(
            "What happened: index out of bounds at src/x.rs:1:1 <img src=x onerror=alert(1)>"
        ),
        "{text}"
    );
    assert!(text.contains("reload the page"), "{text}");
    assert!(
        region.query_selector("img").unwrap().is_none(),
        "the message is text, never markup"
    );
    let title = region.get_attribute("aria-labelledby").unwrap();
    assert_eq!(document.get_element_by_id(&title).unwrap().tag_name(), "H2");
    let button = document
        .get_element_by_id(&format!("{REGION_ID}-reload"))
        .unwrap();
    assert_eq!(button.tag_name(), "BUTTON");
    assert_eq!(button.get_attribute("type").as_deref(), Some("button"));
    assert_eq!(button.text_content().as_deref(), Some("Reload"));
    assert!(region.contains(Some(&button)));
    // focus moves to the region, so a screen reader and the keyboard are there
    assert_eq!(
        document.active_element().map(|e| e.id()),
        Some(REGION_ID.to_string())
    );
    let _ = region.dyn_ref::<web_sys::HtmlElement>().unwrap();
    // a second panic replaces the message instead of stacking regions
    report("second");
    assert_eq!(
        document
            .query_selector_all(&format!("#{REGION_ID}"))
            .unwrap()
            .length(),
        1
    );
    assert_eq!(
        document
            .get_element_by_id(&format!("{REGION_ID}-message"))
            .unwrap()
            .text_content()
            .as_deref(),
        Some("second")
    );
    document.get_element_by_id(REGION_ID).unwrap().remove();
}
