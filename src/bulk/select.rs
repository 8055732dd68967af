//! The selection in the inventory: the bar above the resource table (count, "select all N matching this
//! filter", clear, the operation and its identity, Review). The checkboxes are the table's; the selection is
//! row indexes into the inventory's resources.

use super::spec::{BatchSpec, Draft, OpChoice, confirm_text, count_text};
use crate::nav::use_nav;
use identity_core::bulk::{GrantScope, RoleGrant};
use identity_core::inventory::Inventory;
use identity_core::route::Route;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// Built-in roles offered for a grant: (name, role definition GUID) — the same in every Azure cloud.
pub const ROLES: [(&str, &str); 4] = [
    ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
    (
        "Key Vault Secrets User",
        "4633458b-17de-408a-b874-0445c86b69e6",
    ),
    (
        "Storage Blob Data Reader",
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    ),
    ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
];

thread_local! {
    /// The inventory the last selection was made in: the review plans from its rows (no request) while it is
    /// at hand; after a reload it is not, and each item is read instead.
    static LAST: RefCell<Option<Rc<Inventory>>> = const { RefCell::new(None) };
}

/// The inventory the selection was made in, if this page still holds it.
pub fn last_inventory() -> Option<Rc<Inventory>> {
    LAST.with(|l| l.borrow().clone())
}
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Selected rows (indexes into [`Inventory::resources`]).
pub type Selection = Rc<BTreeSet<usize>>;

/// The selection with `i` toggled.
pub fn toggled(s: &Selection, i: usize) -> Selection {
    let mut n = (**s).clone();
    if !n.remove(&i) {
        n.insert(i);
    }
    Rc::new(n)
}

#[derive(Properties, PartialEq)]
pub struct SelectionBarProps {
    pub inventory: Rc<Inventory>,
    /// The rows matching the filter (all of them, not only those in view).
    pub view: Rc<Vec<usize>>,
    pub selected: Selection,
    pub set_selected: Callback<Selection>,
}

fn select_value(e: &Event) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

/// The bar: selection count, select all matching, clear, operation, Review.
#[component]
pub fn SelectionBar(props: &SelectionBarProps) -> Html {
    let nav = use_nav();
    let op = use_state(|| OpChoice::AssignUser);
    let identity = use_state(String::new);
    // the grant: role (empty: none) and scope ("resource", "resourceGroup", "subscription", or a fixed scope id)
    let role = use_state(String::new);
    let scope = use_state(|| "resourceGroup".to_string());
    let error = use_state(|| None::<String>);
    let n = props.selected.len();
    let matching = props.view.len();
    let all_in_view = matching > 0 && props.view.iter().all(|i| props.selected.contains(i));
    let select_all = {
        let (set, view, sel) = (
            props.set_selected.clone(),
            props.view.clone(),
            props.selected.clone(),
        );
        Callback::from(move |_| {
            let mut s = (*sel).clone();
            s.extend(view.iter().copied());
            set.emit(Rc::new(s));
        })
    };
    let clear = {
        let set = props.set_selected.clone();
        Callback::from(move |_| set.emit(Rc::default()))
    };
    let on_op = {
        let op = op.clone();
        Callback::from(move |e: Event| {
            if let Some(c) = OpChoice::from_slug(&select_value(&e)) {
                op.set(c);
            }
        })
    };
    let on_identity = {
        let identity = identity.clone();
        Callback::from(move |e: Event| identity.set(select_value(&e)))
    };
    let on_role = {
        let role = role.clone();
        Callback::from(move |e: Event| role.set(select_value(&e)))
    };
    let on_scope = {
        let scope = scope.clone();
        Callback::from(move |e: Event| scope.set(select_value(&e)))
    };
    let subs = props.inventory.subscriptions();
    let grant = ROLES
        .iter()
        .find(|(_, g)| *g == role.as_str())
        .filter(|_| op.can_grant())
        .map(|(name, guid)| {
            let scope = match (scope.as_str(), *op) {
                (s, OpChoice::AssignUser) if !s.starts_with('/') => GrantScope::Fixed {
                    scope: subs
                        .first()
                        .map(|(id, _)| format!("/subscriptions/{id}"))
                        .unwrap_or_default(),
                },
                ("resource", _) => GrantScope::Resource,
                ("subscription", _) => GrantScope::Subscription,
                (s, _) if s.starts_with('/') => GrantScope::Fixed {
                    scope: s.to_string(),
                },
                _ => GrantScope::ResourceGroup,
            };
            RoleGrant {
                role_definition: guid.to_string(),
                scope,
                role_name: Some(name.to_string()),
            }
        });
    let operation = op.operation(Some(identity.as_str()), grant);
    let review = {
        let (inv, sel, nav, error) = (
            props.inventory.clone(),
            props.selected.clone(),
            nav.clone(),
            error.clone(),
        );
        let operation = operation.clone();
        Callback::from(move |_| {
            let Some(operation) = operation.clone() else {
                error.set(Some("Pick the identity first.".into()));
                return;
            };
            let items: Vec<String> = sel
                .iter()
                .filter_map(|&i| inv.resources.get(i))
                .map(|r| r.id.clone())
                .collect();
            let d = Draft {
                spec: BatchSpec {
                    operation,
                    from_identity: None,
                },
                items,
            };
            if super::store::save_draft(&d) {
                LAST.with(|l| *l.borrow_mut() = Some(inv.clone()));
                nav.go.emit(Route::Bulk);
            } else {
                error.set(Some(
                    "The browser refused to keep the selection (storage is off or full); allow site storage and try again."
                        .into(),
                ));
            }
        })
    };
    let mut ids: Vec<(&str, &str, &str)> = props
        .inventory
        .identities
        .iter()
        .map(|i| (i.id.as_str(), i.name.as_str(), i.resource_group.as_str()))
        .collect();
    ids.sort_by(|a, b| {
        a.1.to_lowercase()
            .cmp(&b.1.to_lowercase())
            .then(a.0.cmp(b.0))
    });
    html! {
        <section class="bulk-bar" id="bulk-bar" aria-label="Bulk change">
            <p id="bulk-selected" role="status" aria-live="polite">
                { if n == 0 { "No scale set or VM selected.".to_string() } else { format!("{} selected.", count_text(n)) } }
            </p>
            <div class="actions">
                <button type="button" id="bulk-select-all" class="secondary" onclick={select_all} disabled={all_in_view}>
                    { format!("Select all {matching} matching this filter") }
                </button>
                <button type="button" id="bulk-clear" class="secondary" onclick={clear} disabled={n == 0}>{ "Clear selection" }</button>
            </div>
            if n > 0 {
                <div class="bulk-op">
                    <div class="field">
                        <label for="bulk-op">{ "Change" }</label>
                        <select id="bulk-op" onchange={on_op}>
                            { for OpChoice::ALL.iter().map(|c| html! {
                                <option value={c.slug()} selected={*c == *op}>{ c.label() }</option>
                            }) }
                        </select>
                    </div>
                    if op.needs_identity() {
                        <div class="field">
                            <label for="bulk-identity">{ "Identity" }</label>
                            <select id="bulk-identity" onchange={on_identity}>
                                <option value="" selected={identity.is_empty()}>{ "Pick an identity" }</option>
                                { for ids.iter().map(|(id, name, rg)| html! {
                                    <option value={id.to_string()} selected={identity.eq_ignore_ascii_case(id)}>{ format!("{name} ({rg})") }</option>
                                }) }
                            </select>
                        </div>
                    }
                    if op.can_grant() {
                        <div class="field">
                            <label for="bulk-role">{ "Grant the new principal a role (optional)" }</label>
                            <select id="bulk-role" onchange={on_role}>
                                <option value="" selected={role.is_empty()}>{ "No role" }</option>
                                { for ROLES.iter().map(|(name, guid)| html! {
                                    <option value={*guid} selected={role.as_str() == *guid}>{ *name }</option>
                                }) }
                            </select>
                        </div>
                        if !role.is_empty() {
                            <div class="field">
                                <label for="bulk-scope">{ "At" }</label>
                                <select id="bulk-scope" onchange={on_scope}>
                                    if *op == OpChoice::EnableSystem {
                                        <option value="resource" selected={scope.as_str() == "resource"}>{ "each scale set or VM itself" }</option>
                                        <option value="resourceGroup" selected={scope.as_str() == "resourceGroup"}>{ "its resource group" }</option>
                                        <option value="subscription" selected={scope.as_str() == "subscription"}>{ "its subscription" }</option>
                                    }
                                    { for subs.iter().map(|(id, name)| {
                                        let v = format!("/subscriptions/{id}");
                                        html! { <option value={v.clone()} selected={*scope == v}>{ format!("subscription {name}") }</option> }
                                    }) }
                                </select>
                            </div>
                        }
                    }
                    <button type="button" id="bulk-review" onclick={review}>
                        { match &operation {
                            Some(o) => format!("Review: {}", confirm_text(o, n)),
                            None => "Review".to_string(),
                        } }
                    </button>
                    if let Some(e) = &*error { <p class="error" role="alert">{ e.clone() }</p> }
                </div>
            }
        </section>
    }
}
