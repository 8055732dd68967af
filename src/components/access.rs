//! "What can this identity access": the role assignments a principal holds — role name, scope, condition —
//! read from Resource Graph's `authorizationresources` by arm-client ([`arm_client::inventory::load_access`]:
//! the inventory's paging and quota handling). Used on the resource page (its system-assigned principal and each
//! user-assigned identity's) and in the removal wizards (the assignments the removed principal leaves behind).

use crate::components::error::{ErrorBox, ErrorView};
use crate::components::grant::Principal;
use crate::hooks::{Load, use_arm};
use arm_client::ArmClient;
use arm_client::inventory::{
    AccessLoad, CancelFlag, Completeness, LoadOptions, Partial, load_access,
};
use identity_core::inventory::RoleAssignmentRow;
use std::rc::Rc;
use yew::prelude::*;

/// Reads what `principal_ids` can access (every subscription the session can read).
pub async fn read_access(client: Rc<ArmClient>, principal_ids: Vec<String>) -> AccessLoad {
    load_access(
        &client,
        &principal_ids,
        &[],
        &LoadOptions::default(),
        &CancelFlag::new(),
        &mut |_| {},
    )
    .await
}

/// Why a list of role assignments is partial, in words that say what to do.
pub fn partial_text(p: &Partial) -> String {
    match p {
        Partial::Cancelled => "the read was cancelled".into(),
        Partial::Failed(e) => format!("a Resource Graph query failed ({e})"),
        Partial::Truncated(_) => "Resource Graph cut the answer short".into(),
        Partial::SubscriptionLimitHit => {
            "more subscriptions than Resource Graph answers for".into()
        }
        Partial::Changed(_) => "the role assignments changed while they were read".into(),
    }
}

/// The reasons a load is partial, as one sentence (`None`: complete).
pub fn incomplete(load: &AccessLoad) -> Option<String> {
    match &load.completeness {
        Completeness::Complete => None,
        Completeness::Partial(ps) => Some(format!(
            "This list may be incomplete: {}. Read the page again to retry.",
            ps.iter().map(partial_text).collect::<Vec<_>>().join("; ")
        )),
    }
}

/// The first error of a partial load, for an error box.
fn failure(load: &AccessLoad) -> Option<ErrorView> {
    match &load.completeness {
        Completeness::Partial(ps) => ps.iter().find_map(|p| match p {
            Partial::Failed(e) => Some(ErrorView::from(e)),
            _ => None,
        }),
        Completeness::Complete => None,
    }
}

/// A table of role assignments (role, scope, condition), every Azure string as text.
pub fn assignments_table(id: &str, rows: &[&RoleAssignmentRow]) -> Html {
    html! {
        <table class="access-list" id={id.to_string()}>
            <thead><tr><th scope="col">{ "Role" }</th><th scope="col">{ "Scope" }</th><th scope="col">{ "Condition" }</th></tr></thead>
            <tbody>
                { for rows.iter().map(|a| html! {
                    <tr data-assignment={a.id.clone()}>
                        <th scope="row" title={a.role_definition_id.clone()}>{ a.role_name.clone().unwrap_or_else(|| a.role_definition_id.rsplit('/').next().unwrap_or_default().to_string()) }</th>
                        <td><code>{ &a.scope }</code></td>
                        <td>{ match &a.condition { Some(c) => html! { <code>{ c }</code> }, None => html! { "—" } } }</td>
                    </tr>
                }) }
            </tbody>
        </table>
    }
}

#[derive(Properties, PartialEq)]
pub struct AccessProps {
    /// The principals to show (one block each; one without a principal id yet says so).
    pub principals: Vec<Principal>,
    /// The section's element id (its tables' ids start with it).
    #[prop_or(AttrValue::Static("access"))]
    pub id: AttrValue,
    #[prop_or(AttrValue::Static("What these identities can access"))]
    pub title: AttrValue,
    /// Said when a principal holds none (default: none in the subscriptions you can read).
    #[prop_or(AttrValue::Static("No role assignment in the subscriptions you can read."))]
    pub none: AttrValue,
}

/// "What these identities can access": per principal, its role assignments; loading and failure said as text.
#[component]
pub fn IdentityAccess(props: &AccessProps) -> Html {
    let ids: Vec<String> = props
        .principals
        .iter()
        .filter_map(|p| p.principal_id.clone())
        .collect();
    let key = ids.join(",");
    let load = use_arm(
        format!("access:{key}"),
        move |c: Rc<ArmClient>| async move {
            Ok::<_, arm_client::ArmError>(Rc::new(read_access(c, ids).await))
        },
    );
    if props.principals.is_empty() {
        return html! {};
    }
    let body = match &*load {
        Load::Loading => html! {
            <p class="loading" role="status" id={format!("{}-loading", props.id)}>{ "Reading the role assignments from Azure Resource Graph…" }</p>
        },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} /> },
        Load::Offline => html! {
            <p class="note">{ "Not signed in: role assignments cannot be read." }</p>
        },
        Load::Ready(a) => html! {
            <>
                if let Some(why) = incomplete(a) {
                    <p class="warning" role="alert" id={format!("{}-partial", props.id)}>{ why }</p>
                    if let Some(e) = failure(a) { <ErrorBox error={e} /> }
                }
                { for props.principals.iter().enumerate().map(|(i, p)| {
                    let partial = !a.is_complete();
                    let rows = p.principal_id.as_deref().map(|id| a.of(id)).unwrap_or_default();
                    html! {
                        <div class="access-principal" data-principal={p.principal_id.clone().unwrap_or_default()}>
                            <h4>{ format!("{} ", p.label) }
                                if let Some(id) = &p.principal_id { <code class="detail">{ id }</code> }
                            </h4>
                            { match &p.principal_id {
                                None => html! { <p class="note">{ "No principal id yet (Azure issues it when the operation completes): read the resource again." }</p> },
                                Some(_) if rows.is_empty() && partial => html! { <p class="note">{ "None read: the list is incomplete (see above)." }</p> },
                                Some(_) if rows.is_empty() => html! { <p class="note none">{ props.none.clone() }</p> },
                                Some(_) => assignments_table(&format!("{}-{i}", props.id), &rows),
                            } }
                        </div>
                    }
                }) }
            </>
        },
    };
    html! {
        <section class="access" id={props.id.clone()} aria-labelledby={format!("{}-title", props.id)}>
            <h3 id={format!("{}-title", props.id)}>{ props.title.clone() }</h3>
            { body }
        </section>
    }
}
