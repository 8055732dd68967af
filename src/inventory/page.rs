//! The inventory page: renders the state of [`super::run`] and sends intent (load, cancel, filter, export).

use super::run::{Loaded, Progress, run};
use super::window::{OVERSCAN, ROW_HEIGHT, VIEWPORT, window};
use crate::nav::Link;
use crate::session::use_session;
use arm_client::inventory::CancelFlag;
use identity_core::inventory::export::{to_csv, to_json};
use identity_core::inventory::view::{Filter, SortKey};
use identity_core::inventory::{Inventory, Kind};
use identity_core::route::Route;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Where the load is.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadState {
    /// No ARM access (snippet-only): the notice.
    Offline(String),
    Loading(Progress),
    Failed(String),
    Done(Rc<Loaded>),
}

#[derive(Properties, PartialEq)]
pub struct InventoryPageProps {
    /// The view's query string ([`Filter::to_query`]).
    pub query: String,
    /// The load's state to start from (tests render a given state; the page starts loading when `None`).
    #[prop_or_default]
    pub initial: Option<LoadState>,
}

fn replace_url(f: &Filter) {
    let href = Route::Inventory {
        query: f.to_query(),
    }
    .href();
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&href));
    }
}

/// `/inventory`.
#[component]
pub fn InventoryPage(props: &InventoryPageProps) -> Html {
    let s = use_session();
    let state = use_state(|| props.initial.clone());
    let attempt = use_state(|| 0u32);
    let cancel = use_mut_ref(CancelFlag::new);
    {
        let state = state.clone();
        let cancel = cancel.clone();
        let connector = s.connector.clone();
        let has_initial = props.initial.is_some();
        // (and again when the session changes: a reload restores the sign-in after the first render)
        let session_key = Rc::as_ptr(&s.connector) as usize;
        use_effect_with((*attempt, session_key), move |&(n, _)| {
            if n > 0 || !has_initial {
                let (_, client, notice) = connector.access();
                let connector = connector.clone();
                match client {
                    None => state.set(Some(LoadState::Offline(notice.unwrap_or_else(|| {
                        "Not signed in: sign in to read the inventory.".into()
                    })))),
                    Some(client) => {
                        let flag = CancelFlag::new();
                        *cancel.borrow_mut() = flag.clone();
                        state.set(Some(LoadState::Loading(Progress::default())));
                        let st = state.clone();
                        wasm_bindgen_futures::spawn_local(async move {
                            let on = {
                                let st = st.clone();
                                move |p: Progress| st.set(Some(LoadState::Loading(p)))
                            };
                            // the full list, shown while the role assignments are read
                            let on_list = {
                                let st = st.clone();
                                move |l: Loaded| st.set(Some(LoadState::Done(Rc::new(l))))
                            };
                            match run(client, flag, on, on_list).await {
                                Ok(l) => {
                                    let l = Rc::new(l);
                                    super::identity::remember(&connector, &l); // for the identity pages
                                    st.set(Some(LoadState::Done(l)))
                                }
                                Err(e) => st.set(Some(LoadState::Failed(e))),
                            }
                        });
                    }
                }
            }
        });
    }
    let filter = use_state(|| Filter::from_query(&props.query));
    {
        // the browser's back / forward, or a link, changed the query
        let filter = filter.clone();
        use_effect_with(props.query.clone(), move |q| {
            let f = Filter::from_query(q);
            if *filter != f {
                filter.set(f);
            }
        });
    }
    // stable across renders, so that what does not depend on the filter is not rendered again per keystroke
    let set_filter = {
        let filter = filter.clone();
        use_callback((), move |f: Filter, _| {
            replace_url(&f);
            filter.set(f);
        })
    };
    let reload = {
        let attempt = attempt.clone();
        Callback::from(move |_| attempt.set(*attempt + 1))
    };
    let on_cancel = {
        let cancel = cancel.clone();
        Callback::from(move |_| cancel.borrow().cancel())
    };
    let body = match (*state).clone() {
        None => html! { <p role="status">{ "Starting…" }</p> },
        Some(LoadState::Offline(notice)) => html! {
            <p class="notice" role="status">{ notice }</p>
        },
        Some(LoadState::Failed(e)) => html! {
            <section class="error" role="alert">
                <p>{ e }</p>
                <button type="button" onclick={reload}>{ "Load again" }</button>
            </section>
        },
        Some(LoadState::Loading(p)) => progress_view("inv", &p, on_cancel),
        Some(LoadState::Done(l)) => html! {
            <>
                if !l.is_complete() {
                    <section class="partial" role="alert" id="inv-partial">
                        <p><strong>{ "Partial result: " }</strong>{
                            if l.list_complete {
                                "every scale set, VM and identity was read, but not every role assignment: what an identity can access is incomplete."
                            } else {
                                "not every row was read, so this list is incomplete."
                            }
                        }</p>
                        <ul>{ for l.partial.iter().map(|r| html! { <li>{ r.clone() }</li> }) }</ul>
                        <button type="button" onclick={reload.clone()}>{ "Load again" }</button>
                    </section>
                } else {
                    <p class="done" role="status" id="inv-complete">
                        { format!("Complete: {} scale sets and VMs, {} user-assigned identities in {} subscription{}.",
                            l.inventory.resources.len(), l.inventory.identities.len(), l.subscriptions.len(),
                            if l.subscriptions.len() == 1 { "" } else { "s" }) }
                        if l.roles_pending {
                            { " " }<span id="inv-roles">{ "Reading the role assignments…" }</span>
                            { " " }<button type="button" id="inv-cancel" class="secondary" onclick={on_cancel}>{ "Cancel" }</button>
                        } else {
                            { " " }<button type="button" class="secondary" onclick={reload.clone()}>{ "Load again" }</button>
                        }
                    </p>
                }
                <Tables loaded={l} filter={(*filter).clone()} {set_filter} />
            </>
        },
    };
    html! {
        <section class="inventory">
            <nav aria-label="Breadcrumb" class="crumbs"><Link to={Route::Home}>{ "Start" }</Link>{ " / " }<span aria-current="page">{ "Inventory" }</span></nav>
            <h2>{ "Inventory" }</h2>
            { crate::bulk_offer::offer() }
            <p>{ "Every scale set, VM and user-assigned identity in the subscriptions you can read, from Azure Resource Graph." }</p>
            { body }
            <super::scripts::GraphScripts />
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct TablesProps {
    pub loaded: Rc<Loaded>,
    pub filter: Filter,
    pub set_filter: Callback<Filter>,
}

/// Filters, the resource table (windowed), export, and the identities.
#[component]
pub fn Tables(props: &TablesProps) -> Html {
    let inv = props.loaded.inventory.clone();
    // sorted once per inventory and sort key; a keystroke only filters that order
    let order = use_memo(
        (
            Same(inv.clone()),
            props.filter.sort,
            props.filter.descending,
        ),
        |(inv, sort, descending)| {
            Filter {
                sort: *sort,
                descending: *descending,
                ..Filter::default()
            }
            .order(&inv.0)
        },
    );
    // typing on narrows: then only the last view's rows are scanned
    let last = use_mut_ref(|| None::<(Same, Filter, Rc<Vec<usize>>)>);
    let view = {
        let order = order.clone();
        use_memo(
            (Same(inv.clone()), props.filter.clone()),
            move |(inv, f)| {
                let from = match &*last.borrow() {
                    Some((i, p, v)) if i == inv && f.narrows(p) => Some(v.clone()),
                    _ => None,
                };
                let v = Rc::new(match from {
                    Some(prev) => f.select(&inv.0, prev.iter().copied()),
                    None => f.select(&inv.0, order.iter().copied()),
                });
                *last.borrow_mut() = Some((inv.clone(), f.clone(), v.clone()));
                v
            },
        )
    };
    let view: Rc<Vec<usize>> = (*view).clone();
    // the subscriptions and identities to pick from, once per inventory
    let choices = use_memo(Same(inv.clone()), |inv| {
        let inv = &inv.0;
        let mut ids: Vec<(String, String)> = inv
            .identities
            .iter()
            .map(|i| (i.id.clone(), i.name.clone()))
            .collect();
        ids.sort_by_cached_key(|(id, name)| (name.to_lowercase(), id.clone()));
        (Rc::new(inv.subscriptions()), Rc::new(ids))
    });
    // the latest filter, for the callbacks that stay the same across renders (so that what they are given to
    // does not render again per keystroke)
    let latest = use_mut_ref(Filter::default);
    *latest.borrow_mut() = props.filter.clone();
    let f = props.filter.clone();
    let set = props.set_filter.clone();
    let upd = move |g: &dyn Fn(&mut Filter)| {
        let mut n = f.clone();
        g(&mut n);
        set.emit(n);
    };
    let upd = Rc::new(upd);
    let on_text = {
        let upd = upd.clone();
        Callback::from(move |e: InputEvent| {
            let v = input_value(&e);
            upd(&|f| f.text = v.clone());
        })
    };
    let kind_box = |k: Kind| {
        let upd = upd.clone();
        let checked = props.filter.kinds.contains(&k);
        let onchange = Callback::from(move |_: Event| {
            upd(&|f| {
                if let Some(i) = f.kinds.iter().position(|x| *x == k) {
                    f.kinds.remove(i);
                } else {
                    f.kinds.push(k);
                    f.kinds.sort();
                }
            })
        });
        let id = format!("inv-kind-{}", k.slug());
        html! { <label for={id.clone()}><input type="checkbox" id={id} {checked} {onchange} />{ k.label() }</label> }
    };
    let on_sub = {
        let latest = latest.clone();
        use_callback(props.set_filter.clone(), move |e: Event, set| {
            let v = select_value(&e);
            let mut f = latest.borrow().clone();
            f.subscription = (!v.is_empty()).then_some(v);
            set.emit(f);
        })
    };
    let on_uses = {
        let latest = latest.clone();
        use_callback(props.set_filter.clone(), move |e: Event, set| {
            let v = select_value(&e);
            let mut f = latest.borrow().clone();
            f.uses_identity = (!v.is_empty()).then_some(v);
            set.emit(f);
        })
    };
    let on_legacy = {
        let upd = upd.clone();
        Callback::from(move |_: Event| upd(&|f| f.legacy_extension = !f.legacy_extension))
    };
    let on_none = {
        let upd = upd.clone();
        Callback::from(move |_: Event| upd(&|f| f.no_identity = !f.no_identity))
    };
    let on_sort = {
        let upd = upd.clone();
        Callback::from(move |e: Event| {
            let v = select_value(&e);
            upd(&|f| f.sort = SortKey::from_slug(&v).unwrap_or_default());
        })
    };
    let on_desc = {
        let upd = upd.clone();
        Callback::from(move |_: Event| upd(&|f| f.descending = !f.descending))
    };
    let on_clear = {
        let set = props.set_filter.clone();
        let (sort, descending) = (props.filter.sort, props.filter.descending);
        Callback::from(move |_| {
            set.emit(Filter {
                sort,
                descending,
                ..Filter::default()
            })
        })
    };
    let export = |json: bool| {
        let (inv, view) = (inv.clone(), view.clone());
        Callback::from(move |_: MouseEvent| {
            if json {
                let text = serde_json::to_string_pretty(&to_json(&inv, &view)).unwrap_or_default();
                crate::download::download_text("inventory.json", "application/json", &text);
            } else {
                crate::download::download_text("inventory.csv", "text/csv", &to_csv(&inv, &view));
            }
        })
    };
    // "show its users" from an identity's row: the latest filter with that identity (a stable callback, so the
    // identities are not rendered again per keystroke)
    let on_show = use_callback(props.set_filter.clone(), move |id: String, set| {
        let f = latest.borrow().clone();
        set.emit(Filter {
            uses_identity: Some(id),
            ..f
        });
    });
    // the bulk selection (rows of this inventory; a new load starts empty)
    let selected = use_state(crate::bulk::select::Selection::default);
    {
        let selected = selected.clone();
        use_effect_with(Rc::as_ptr(&inv) as usize, move |_| {
            selected.set(Default::default())
        });
    }
    let set_selected = {
        let selected = selected.clone();
        use_callback((), move |s: crate::bulk::select::Selection, _| {
            selected.set(s)
        })
    };
    let on_toggle = {
        let selected = selected.clone();
        Callback::from(move |i: usize| selected.set(crate::bulk::select::toggled(&selected, i)))
    };
    let f = &props.filter;
    let (subs, ids) = (*choices).clone();
    let sub_sel = f.subscription.clone().unwrap_or_default();
    let uses_sel = f.uses_identity.clone().unwrap_or_default();
    html! {
        <>
            <form class="inv-filters" role="search" aria-label="Filter the scale sets and VMs" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
                <div class="field">
                    <label for="inv-text">{ "Search" }</label>
                    <input type="search" id="inv-text" value={f.text.clone()} oninput={on_text}
                        placeholder="name, group, region, principal or identity id" autocomplete="off" />
                </div>
                <fieldset class="field">
                    <legend>{ "Kind" }</legend>
                    { kind_box(Kind::Uniform) }{ kind_box(Kind::Flexible) }{ kind_box(Kind::Vm) }
                </fieldset>
                <div class="field">
                    <label for="inv-sub">{ "Subscription" }</label>
                    <Pick id="inv-sub" any="All" options={subs} selected={sub_sel} onchange={on_sub} />
                </div>
                <div class="field">
                    <label for="inv-uses">{ "Uses identity" }</label>
                    <Pick id="inv-uses" any="Any" options={ids} selected={uses_sel} onchange={on_uses} />
                </div>
                <fieldset class="field">
                    <legend>{ "Only" }</legend>
                    <label for="inv-legacy"><input type="checkbox" id="inv-legacy" checked={f.legacy_extension} onchange={on_legacy} />{ "with the legacy extension" }</label>
                    <label for="inv-none"><input type="checkbox" id="inv-none" checked={f.no_identity} onchange={on_none} />{ "without any identity" }</label>
                </fieldset>
                <div class="field">
                    <label for="inv-sort">{ "Sort by" }</label>
                    <select id="inv-sort" onchange={on_sort}>
                        { for SortKey::ALL.iter().map(|k| html! {
                            <option value={k.slug()} selected={*k == f.sort}>{ sort_label(*k) }</option>
                        }) }
                    </select>
                    <label for="inv-desc"><input type="checkbox" id="inv-desc" checked={f.descending} onchange={on_desc} />{ "descending" }</label>
                </div>
                <div class="actions">
                    <button type="button" id="inv-clear" class="secondary" onclick={on_clear} disabled={f.is_empty()}>{ "Clear filters" }</button>
                    <button type="button" id="inv-csv" onclick={export(false)}>{ "Export CSV" }</button>
                    <button type="button" id="inv-json" onclick={export(true)}>{ "Export JSON" }</button>
                </div>
            </form>
            <p id="inv-count" role="status" aria-live="polite">{ format!("{} of {} scale sets and VMs shown", view.len(), inv.resources.len()) }</p>
            <crate::bulk::select::SelectionBar inventory={inv.clone()} view={view.clone()} selected={(*selected).clone()} {set_selected} />
            <ResourceTable inventory={inv.clone()} view={view.clone()} sort={f.sort} descending={f.descending}
                selected={Some((*selected).clone())} {on_toggle} />
            <IdentityTable inventory={inv} {on_show} />
        </>
    }
}

/// An inventory, compared by identity (not by its rows): a memo keyed by it recomputes for another load.
#[derive(Clone)]
struct Same(Rc<Inventory>);

impl PartialEq for Same {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Properties, PartialEq)]
pub struct PickProps {
    pub id: AttrValue,
    /// The first choice's text (no filter).
    pub any: AttrValue,
    /// `(value, text)`.
    pub options: Rc<Vec<(String, String)>>,
    /// The value chosen ("" = none).
    pub selected: String,
    pub onchange: Callback<Event>,
}

/// A select of a long list (the subscriptions, the identities): its own component, so that a keystroke in the
/// text filter does not render its hundreds of options again.
#[component]
pub fn Pick(p: &PickProps) -> Html {
    html! {
        <select id={p.id.clone()} onchange={p.onchange.clone()}>
            <option value="" selected={p.selected.is_empty()}>{ p.any.clone() }</option>
            { for p.options.iter().map(|(id, name)| html! {
                <option value={id.clone()} selected={p.selected.eq_ignore_ascii_case(id)}>{ name.clone() }</option>
            }) }
        </select>
    }
}

fn sort_label(k: SortKey) -> &'static str {
    match k {
        SortKey::Name => "Name",
        SortKey::Subscription => "Subscription",
        SortKey::Group => "Resource group",
        SortKey::Location => "Region",
        SortKey::Kind => "Kind",
        SortKey::Identities => "Number of identities",
        SortKey::State => "Provisioning state",
    }
}

fn input_value(e: &InputEvent) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

fn select_value(e: &Event) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

/// The last segment of an ARM id (an identity's name).
fn last_segment(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// A user-assigned identity's name, linked to its identity page (text when the id has no page).
fn identity_link(id: &str) -> Html {
    let to = Route::Identity { id: id.to_string() };
    if Route::parse(&to.path(), "") == to {
        html! { <Link {to}>{ last_segment(id).to_string() }</Link> }
    } else {
        html! { { last_segment(id).to_string() } }
    }
}

#[derive(Properties, PartialEq)]
pub struct ResourceTableProps {
    pub inventory: Rc<Inventory>,
    pub view: Rc<Vec<usize>>,
    pub sort: SortKey,
    pub descending: bool,
    /// The bulk selection (None: no checkbox column).
    #[prop_or_default]
    pub selected: Option<crate::bulk::select::Selection>,
    #[prop_or_default]
    pub on_toggle: Callback<usize>,
}

/// The scale sets and VMs of the view: only the rows in the scrolling area are rendered.
#[component]
pub fn ResourceTable(props: &ResourceTableProps) -> Html {
    let scroll = use_state(|| 0.0f64);
    let (top_ref, bottom_ref, area) = (use_node_ref(), use_node_ref(), use_node_ref());
    let w = window(props.view.len(), *scroll, ROW_HEIGHT, VIEWPORT, OVERSCAN);
    {
        // spacer heights through the CSSOM (the CSP allows no inline style attributes)
        let (t, b) = (top_ref.clone(), bottom_ref.clone());
        use_effect_with(
            (w.before as u64, w.after as u64),
            move |&(before, after)| {
                for (r, h) in [(t, before), (b, after)] {
                    if let Some(el) = r.cast::<web_sys::HtmlElement>() {
                        let _ = el.style().set_property("height", &format!("{h}px"));
                    }
                }
            },
        );
    }
    {
        // a narrower view: back to the top when the old offset is beyond the list
        let (scroll, area) = (scroll.clone(), area.clone());
        let len = props.view.len();
        use_effect_with(Rc::as_ptr(&props.view) as usize, move |_| {
            if *scroll > len as f64 * ROW_HEIGHT {
                if let Some(el) = area.cast::<web_sys::Element>() {
                    el.set_scroll_top(0);
                }
                scroll.set(0.0);
            }
        });
    }
    let onscroll = {
        let scroll = scroll.clone();
        Callback::from(move |e: Event| {
            if let Some(el) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            {
                scroll.set(el.scroll_top() as f64);
            }
        })
    };
    let aria_sort = |k: SortKey| -> Option<AttrValue> {
        (props.sort == k).then(|| {
            if props.descending {
                "descending"
            } else {
                "ascending"
            }
            .into()
        })
    };
    let inv = &props.inventory;
    let cols = if props.selected.is_some() { "10" } else { "9" };
    let rows = props.view[w.rows.clone()].iter().enumerate().filter_map(|(n, &i)| {
        let r = inv.resources.get(i)?;
        // the system-assigned principal as text, each user-assigned identity a link to its page
        let system = r.system_assigned.as_ref().map(|p| if p.is_empty() { "system-assigned".to_string() } else { format!("system-assigned ({p})") });
        let mut idents: Vec<Html> = system.map(|t| html! { { t } }).into_iter().collect();
        idents.extend(r.user_assigned.iter().map(|u| identity_link(u)));
        let ident_cell = if idents.is_empty() { html! { { "none" } } } else {
            html! { <>{ for idents.into_iter().enumerate().map(|(k, h)| html! { <>{ if k > 0 { ", " } else { "" } }{ h }</> }) }</> }
        };
        let full_ids = r.user_assigned.join("\n");
        let pick = props.selected.as_ref().map(|s| {
            let on = props.on_toggle.clone();
            html! { <td class="pick"><input type="checkbox" id={format!("inv-pick-{i}")} checked={s.contains(&i)}
                aria-label={format!("Select {}", r.name)} onchange={Callback::from(move |_: Event| on.emit(i))} /></td> }
        });
        Some(html! {
            <tr key={r.id.clone()} aria-rowindex={(w.rows.start + n + 2).to_string()}>
                { for pick }
                <th scope="row"><Link to={Route::Resource { id: r.id.clone(), wizard: None }}>{ r.name.clone() }</Link></th>
                <td>{ r.subscription_name.clone() }</td>
                <td>{ r.resource_group.clone() }</td>
                <td>{ r.location.clone() }</td>
                <td>{ r.kind.label() }</td>
                <td title={full_ids}>{ ident_cell }</td>
                <td>{ if r.legacy_extension { "yes" } else { "no" } }</td>
                <td>{ if r.aks_managed { "yes" } else { "no" } }</td>
                <td>{ r.provisioning_state.clone() }</td>
            </tr>
        })
    });
    html! {
        <div class="inv-scroll" ref={area} tabindex="0" role="region" aria-label="Scale sets and VMs (scrolls)" {onscroll}>
            <table class="inv-table" id="inv-resources" aria-rowcount={(props.view.len() + 1).to_string()}>
                <caption class="sr-only">{ "Scale sets and VMs" }</caption>
                <thead>
                    <tr aria-rowindex="1">
                        if props.selected.is_some() { <th scope="col"><span class="sr-only">{ "Selected" }</span></th> }
                        <th scope="col" aria-sort={aria_sort(SortKey::Name)}>{ "Name" }</th>
                        <th scope="col" aria-sort={aria_sort(SortKey::Subscription)}>{ "Subscription" }</th>
                        <th scope="col" aria-sort={aria_sort(SortKey::Group)}>{ "Resource group" }</th>
                        <th scope="col" aria-sort={aria_sort(SortKey::Location)}>{ "Region" }</th>
                        <th scope="col" aria-sort={aria_sort(SortKey::Kind)}>{ "Kind" }</th>
                        <th scope="col" aria-sort={aria_sort(SortKey::Identities)}>{ "Identities" }</th>
                        <th scope="col">{ "Legacy extension" }</th>
                        <th scope="col">{ "AKS-managed" }</th>
                        <th scope="col" aria-sort={aria_sort(SortKey::State)}>{ "Provisioning state" }</th>
                    </tr>
                </thead>
                <tbody>
                    <tr class="spacer" aria-hidden="true"><td colspan={cols} ref={top_ref}></td></tr>
                    { for rows }
                    <tr class="spacer" aria-hidden="true"><td colspan={cols} ref={bottom_ref}></td></tr>
                </tbody>
            </table>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct IdentityTableProps {
    pub inventory: Rc<Inventory>,
    /// Filter the list by this identity (its id).
    pub on_show: Callback<String>,
}

/// How many users an identity row names (the rest: "and N more", and a button that filters the list).
const USERS_NAMED: usize = 5;

/// The user-assigned identities: ids, and who uses them.
#[component]
pub fn IdentityTable(props: &IdentityTableProps) -> Html {
    let inv = &props.inventory;
    html! {
        <section class="inv-identities" aria-labelledby="inv-identities-h">
            <h3 id="inv-identities-h">{ format!("User-assigned identities ({})", inv.identities.len()) }</h3>
            <div class="inv-scroll-ids" tabindex="0" role="region" aria-label="User-assigned identities (scrolls)">
            <table id="inv-identities">
                <thead><tr>
                    <th scope="col">{ "Name" }</th><th scope="col">{ "Subscription" }</th><th scope="col">{ "Resource group" }</th>
                    <th scope="col">{ "Client id" }</th><th scope="col">{ "Principal id" }</th>
                    <th scope="col">{ "Users" }</th><th scope="col">{ "Used by" }</th>
                </tr></thead>
                <tbody>
                    { for inv.identities.iter().map(|i| {
                        let names: Vec<String> = i.used_by.iter().take(USERS_NAMED)
                            .filter_map(|&u| inv.resources.get(u)).map(|r| r.name.clone()).collect();
                        let more = i.used_by.len().saturating_sub(USERS_NAMED);
                        let show = {
                            let (on, id) = (props.on_show.clone(), i.id.clone());
                            Callback::from(move |_| on.emit(id.clone()))
                        };
                        html! {
                            <tr key={i.id.clone()}>
                                <th scope="row" title={i.id.clone()}><Link to={Route::Identity { id: i.id.clone() }}>{ i.name.clone() }</Link></th>
                                <td>{ i.subscription_name.clone() }</td>
                                <td>{ i.resource_group.clone() }</td>
                                <td class="mono">{ i.client_id.clone() }</td>
                                <td class="mono">{ i.principal_id.clone() }</td>
                                <td>{ i.used_by.len() }</td>
                                <td>
                                    { names.join(", ") }
                                    if more > 0 { { format!(" and {more} more") } }
                                    if !i.used_by.is_empty() {
                                        { " " }<button type="button" class="link" onclick={show}
                                            aria-label={format!("Show in the list the resources that use {}", i.name)}>{ "Show in the list" }</button>
                                    }
                                </td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            </div>
        </section>
    }
}

/// A Resource Graph load in progress (the inventory's and an identity page's): rows loaded of the total, waits,
/// and Cancel; the element ids start with `prefix` (`{prefix}-progress`, `{prefix}-cancel`).
pub(super) fn progress_view(prefix: &str, p: &Progress, on_cancel: Callback<MouseEvent>) -> Html {
    let label = format!("{prefix}-progress-label");
    html! {
        <section class="inv-progress" aria-labelledby={label.clone()}>
            <p id={label.clone()} role="status" aria-live="polite">{ p.text() }</p>
            <progress id={format!("{prefix}-progress")} aria-labelledby={label}
                max={p.total.max(p.loaded).max(1).to_string()} value={p.loaded.to_string()} />
            <button type="button" id={format!("{prefix}-cancel")} onclick={on_cancel}>{ "Cancel" }</button>
        </section>
    }
}
