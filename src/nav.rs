//! Navigation: the current [`Route`] in a context, `history.pushState` to move, `popstate` to
//! follow the browser's back and forward buttons. A [`Link`] is a real `<a href>` (open in a new
//! tab works) that navigates in place on a plain click, and tells the app (`NavProvider`'s
//! `warm`) when a link to a page is pointed at or focused, so the page's code can be fetched
//! early (see `crate::lazy`; the app wires the two, so navigation does not depend on the pages).

use identity_core::route::Route;
use wasm_bindgen::{JsCast, closure::Closure};
use yew::prelude::*;

/// The current route and a way to go elsewhere.
#[derive(Clone, PartialEq)]
pub struct Nav {
    pub route: Route,
    pub go: Callback<Route>,
    /// Called when a link to a page other than the start page is pointed at or focused.
    pub warm: Warm,
}

/// What to do when the user shows the intent to open a page (e.g. fetch its code).
#[derive(Clone, Copy)]
pub struct Warm(pub fn(&Route));

impl PartialEq for Warm {
    fn eq(&self, o: &Self) -> bool {
        std::ptr::fn_addr_eq(self.0, o.0)
    }
}

impl Default for Warm {
    fn default() -> Self {
        Warm(|_| {})
    }
}

/// Read the route from `window.location`.
pub fn current_route() -> Route {
    if !cfg!(target_arch = "wasm32") {
        return Route::Home; // server-side rendering in tests
    }
    let loc = web_sys::window().map(|w| w.location());
    let path = loc
        .as_ref()
        .and_then(|l| l.pathname().ok())
        .unwrap_or_else(|| "/".into());
    let search = loc
        .as_ref()
        .and_then(|l| l.search().ok())
        .unwrap_or_default();
    Route::parse(&path, &search)
}

#[derive(Properties, PartialEq)]
pub struct NavProviderProps {
    pub children: Html,
    /// What to do when the user shows the intent to open a page (see [`Nav::warm`]).
    #[prop_or_default]
    pub warm: Warm,
}

/// Provides [`Nav`] to the tree.
#[component]
pub fn NavProvider(props: &NavProviderProps) -> Html {
    let route = use_state(current_route);
    {
        let route = route.clone();
        use_effect_with((), move |_| {
            let cb = Closure::<dyn Fn()>::new(move || route.set(current_route()));
            let window = web_sys::window().expect("window");
            window
                .add_event_listener_with_callback("popstate", cb.as_ref().unchecked_ref())
                .ok();
            move || {
                window
                    .remove_event_listener_with_callback("popstate", cb.as_ref().unchecked_ref())
                    .ok();
            }
        });
    }
    let go = {
        let route = route.clone();
        Callback::from(move |r: Route| {
            if let Some(w) = web_sys::window() {
                if let Ok(h) = w.history() {
                    h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&r.href()))
                        .ok();
                }
                w.scroll_to_with_x_and_y(0.0, 0.0);
            }
            route.set(r);
        })
    };
    let nav = Nav {
        route: (*route).clone(),
        go,
        warm: props.warm,
    };
    html! { <ContextProvider<Nav> context={nav}>{ props.children.clone() }</ContextProvider<Nav>> }
}

/// The navigation context.
#[hook]
pub fn use_nav() -> Nav {
    use_context::<Nav>().unwrap_or_else(|| Nav {
        route: Route::Home,
        go: Callback::noop(),
        warm: Warm::default(),
    })
}

#[derive(Properties, PartialEq)]
pub struct LinkProps {
    pub to: Route,
    #[prop_or_default]
    pub class: Classes,
    #[prop_or_default]
    pub id: Option<AttrValue>,
    pub children: Html,
}

/// `<a href>` to a route.
#[component]
pub fn Link(props: &LinkProps) -> Html {
    let nav = use_nav();
    let warm = nav.warm.0;
    let to = props.to.clone();
    let onclick = Callback::from(move |e: MouseEvent| {
        if e.ctrl_key() || e.meta_key() || e.shift_key() || e.button() != 0 {
            return; // let the browser open a new tab or window
        }
        e.prevent_default();
        nav.go.emit(to.clone());
    });
    // a page other than the start page: its code may still have to be fetched
    let page = props.to != Route::Home;
    let (a, b) = (props.to.clone(), props.to.clone());
    let onpointerenter = page.then(|| Callback::from(move |_: PointerEvent| warm(&a)));
    let onfocus = page.then(|| Callback::from(move |_: FocusEvent| warm(&b)));
    html! {
        <a href={props.to.href()} class={props.class.clone()} id={props.id.clone()} {onclick}
            {onpointerenter} {onfocus}>
            { props.children.clone() }
        </a>
    }
}
