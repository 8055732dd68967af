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
