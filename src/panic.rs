//! A panic never leaves a blank or frozen page: the hook shows what happened and a Reload
//! button. The release build aborts on panic (the app is dead afterwards), so the region is
//! made with plain DOM calls (text nodes only, never HTML) and its button calls the browser's
//! own `location.reload`, not code of this module.

use wasm_bindgen::{JsCast, JsValue};

/// The id of the error region.
pub const REGION_ID: &str = "fatal-error";

/// Install the hook (first thing at start-up). It keeps the default behaviour (the message in
/// the console) and then shows the region.
pub fn install() {
    std::panic::set_hook(Box::new(|info| report(&info.to_string())));
}

/// What the hook does with a panic's message: the console, then the region.
pub fn report(message: &str) {
    web_sys::console::error_1(&JsValue::from_str(&format!(
        "identity-wizard stopped: {message}"
    )));
    show(message);
}

/// Show the error region with `message` (the panic's text, shown as text). A second call
/// replaces the message. Does nothing outside a browser.
pub fn show(message: &str) {
    let _ = try_show(message);
}

fn try_show(message: &str) -> Option<()> {
    let window = web_sys::window()?;
    let doc = window.document()?;
    let body = doc.body()?;
    if let Some(old) = doc.get_element_by_id(REGION_ID) {
        old.remove();
    }
    let region = doc.create_element("section").ok()?;
    region.set_id(REGION_ID);
    region.set_class_name("error fatal");
    region.set_attribute("role", "alert").ok()?;
    region.set_attribute("tabindex", "-1").ok()?;
    region
        .set_attribute("aria-labelledby", &format!("{REGION_ID}-title"))
        .ok()?;

    let title = doc.create_element("h2").ok()?;
    title.set_id(&format!("{REGION_ID}-title"));
    title.set_text_content(Some("identity-wizard stopped because of an internal error"));
    region.append_child(&title).ok()?;

    let what = doc.create_element("p").ok()?;
    what.set_text_content(Some("What happened: "));
    let code = doc.create_element("code").ok()?;
    code.set_id(&format!("{REGION_ID}-message"));
    code.set_text_content(Some(message));
    what.append_child(&code).ok()?;
    region.append_child(&what).ok()?;

    let todo = doc.create_element("p").ok()?;
    todo.set_text_content(Some(
        "Nothing more is sent from this page. A change sent before this error may have been applied: \
         reload the page, open the resource again and check its identities before you retry.",
    ));
    region.append_child(&todo).ok()?;

    let button = doc.create_element("button").ok()?;
    button.set_id(&format!("{REGION_ID}-reload"));
    button.set_attribute("type", "button").ok()?;
    button.set_class_name("button primary");
    button.set_text_content(Some("Reload"));
    // the browser's own reload, bound to the location: no wasm runs when it is clicked
    let location = window.location();
    let reload: js_sys::Function = js_sys::Reflect::get(&location, &JsValue::from_str("reload"))
        .ok()?
        .dyn_into()
        .ok()?;
    let reload = reload.bind0(&location);
    button
        .add_event_listener_with_callback("click", &reload)
        .ok()?;
    region.append_child(&button).ok()?;

    body.insert_before(&region, body.first_child().as_ref())
        .ok()?;
    if let Some(el) = region.dyn_ref::<web_sys::HtmlElement>() {
        let _ = el.focus();
    }
    Some(())
}
