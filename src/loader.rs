//! Load a classic script after the first paint (used for the MSAL bundle, so that the sign-in
//! library never delays the first render), pinned by the integrity the build wrote for it.

use js_sys::{Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;

/// Append `<script src=…>` to `<head>` (once) and wait until it has loaded. Concurrent and
/// later calls for the same `src` wait for the same load (the promise is kept on the element).
pub async fn load_script(src: &str) -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let selector = format!("script[data-loaded-src=\"{src}\"]");
    let key = JsValue::from_str("__iwLoad");
    let promise = match document.query_selector(&selector)? {
        Some(existing) => Promise::from(Reflect::get(&existing, &key)?),
        None => {
            let script: web_sys::HtmlScriptElement =
                document.create_element("script")?.dyn_into()?;
            script.set_attribute("data-loaded-src", src)?;
            let promise = Promise::new(&mut |resolve, reject| {
                let onload = Closure::once_into_js(move || {
                    let _ = resolve.call0(&JsValue::NULL);
                });
                let onerror = Closure::once_into_js(move || {
                    let _ = reject.call0(&JsValue::NULL);
                });
                script.set_onload(Some(onload.unchecked_ref()));
                script.set_onerror(Some(onerror.unchecked_ref()));
            });
            Reflect::set(&script, &key, &promise)?;
            // Subresource Integrity: scripts/build writes the sha384 of each script loaded here into
            // index.html (`<meta name="iw-integrity" data-src=… content="sha384-…">`); the
            // browser then refuses a copy that does not match.
            let pin = format!("meta[name=\"iw-integrity\"][data-src=\"{src}\"]");
            if let Some(integrity) = document
                .query_selector(&pin)?
                .and_then(|m| m.get_attribute("content"))
            {
                script.set_attribute("integrity", &integrity)?;
            }
            script.set_src(src);
            document
                .head()
                .ok_or_else(|| JsValue::from_str("no <head>"))?
                .append_child(&script)?;
            promise
        }
    };
    JsFuture::from(promise)
        .await
        .map_err(|_| JsValue::from_str(&format!("could not load {src}")))?;
    Ok(())
}

/// The version of the loaded MSAL bundle (`window.msal.version`), if it is loaded.
pub fn msal_version() -> Option<String> {
    let window = web_sys::window()?;
    let msal = Reflect::get(&window, &JsValue::from_str("msal")).ok()?;
    if msal.is_undefined() {
        return None;
    }
    Reflect::get(&msal, &JsValue::from_str("version"))
        .ok()?
        .as_string()
}
