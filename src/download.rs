//! Downloads made in the page (the change log as JSON): a Blob, an object URL for one click of
//! a temporary `<a download>`, and the URL revoked afterwards, so no Blob outlives its download.

use wasm_bindgen::JsCast;

/// How long the object URL lives after the click: the browser has read the Blob by then.
const REVOKE_AFTER_MS: u32 = 1_000;

/// Offer `text` as a file called `filename` of type `mime`. Returns false when the browser
/// could not be asked (no document, Blob refused).
pub fn download_text(filename: &str, mime: &str, text: &str) -> bool {
    try_download(filename, mime, text).is_some()
}

fn try_download(filename: &str, mime: &str, text: &str) -> Option<()> {
    let doc = web_sys::window()?.document()?;
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts).ok()?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
    let clicked = doc
        .create_element("a")
        .ok()
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        .map(|a| {
            a.set_href(&url);
            a.set_download(filename);
            a.click();
        });
    gloo_timers::callback::Timeout::new(REVOKE_AFTER_MS, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    clicked
}
