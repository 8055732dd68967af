//! Native component tests (no browser): render the app with yew's SSR renderer.
#![cfg(not(target_arch = "wasm32"))]

use identity_core::catalogue::SCENARIOS;
use identity_core::identity::{IdentityState, UserAssignedIdentity};
use identity_wizard::components::review::{DiffProps, IdentityDiff};

#[tokio::test]
async fn shell_lists_every_scenario_and_the_version() {
    let html = yew::ServerRenderer::<identity_wizard::app::App>::new()
        .render()
        .await;
    assert!(html.contains(r#"<h1 class="brand"><!--<[identity_wizard::nav::Link]>--><a href="/">identity-wizard</a>"#), "{html}");
    for s in SCENARIOS {
        assert!(
            html.contains(&format!("data-slug=\"{}\"", s.slug)),
            "missing {}: {html}",
            s.slug
        );
    }
    assert!(
        html.contains(&format!("identity-wizard v{}", env!("CARGO_PKG_VERSION"))),
        "{html}"
    );
    // this build (no `demo` feature, nobody signed in) says so and offers scripts only
    assert!(
        html.contains(r#"class="mode mode-snippet-only">Snippet-only</span>"#),
        "{html}"
    );
    assert!(html.contains("This build has no demo tenant"), "{html}");
    assert!(
        html.contains(r#"href="/snippets/assign-user-assigned""#),
        "{html}"
    );
    assert!(
        !html.contains("Pick a scale set or VM"),
        "no pickers without ARM access: {html}"
    );
}

#[tokio::test]
async fn identity_diff_shows_kept_rows_and_escapes_names() {
    let a = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<img src=x onerror=alert(1)>";
    let b = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kept";
    let before = IdentityState {
        system_assigned: true,
        user_assigned: vec![UserAssignedIdentity::new(b)],
        ..Default::default()
    };
    let after = IdentityState {
        system_assigned: true,
        user_assigned: vec![UserAssignedIdentity::new(b), UserAssignedIdentity::new(a)],
        ..Default::default()
    };
    let html = yew::ServerRenderer::<IdentityDiff>::with_props(move || DiffProps { before, after })
        .render()
        .await;
    assert!(
        html.contains(r#"data-change="kept""#) && html.contains(r#"data-change="added""#),
        "{html}"
    );
    assert_eq!(html.matches("<tr data-change=").count(), 3, "{html}");
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;") && !html.contains("<img"),
        "names from Azure are text: {html}"
    );
}

#[tokio::test]
async fn header_has_the_sign_in_area_before_msal_loads() {
    let html = yew::ServerRenderer::<identity_wizard::app::App>::new()
        .render()
        .await;
    // MSAL loads after the first paint: the first render shows the sign-in area's loading state
    assert!(
        html.contains(r#"<div id="signin" aria-busy="false" class="signin">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<span id="auth-status" class="auth-status">Sign-in: loading…</span>"#),
        "{html}"
    );
    assert!(!html.contains("id=\"account-menu\""), "{html}");
}

// ---- components rendered inside a session (as the pages see it) ----

use identity_wizard::session::{Connector, Mode, Session};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
struct InSessionProps {
    mode: Mode,
    read_write: bool,
    children: Html,
}

#[component]
fn InSession(p: &InSessionProps) -> Html {
    let config = Rc::new(identity_wizard::config::AppConfig::default());
    let log = Rc::new(RefCell::new(Vec::new()));
    let session = Session {
        cloud: Rc::new(config.cloud()),
        config: config.clone(),
        mode: p.mode,
        client: None,
        connector: Rc::new(Connector::new(
            config,
            None,
            log.clone(),
            Callback::noop(),
            arm_client::WriteAccess::new(p.read_write),
        )),
        log,
        read_write: p.read_write,
        set_read_write: Callback::noop(),
        notice: None,
    };
    html! { <ContextProvider<Session> context={session}>{ p.children.clone() }</ContextProvider<Session>> }
}

async fn render_in_session(mode: Mode, read_write: bool, f: fn() -> Html) -> String {
    yew::ServerRenderer::<InSession>::with_props(move || InSessionProps {
        mode,
        read_write,
        children: f(),
    })
    .render()
    .await
}

/// Every value of `attr="…"` in the rendered HTML.
fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let key = format!(" {attr}=\"");
    html.match_indices(&key)
        .map(|(i, _)| {
            let rest = &html[i + key.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

/// No two elements share an id, and every label names exactly one element.
fn assert_ids_unique_and_labels_resolve(html: &str) {
    let ids = attr_values(html, "id");
    let mut seen = std::collections::HashSet::new();
    for id in &ids {
        assert!(seen.insert(id), "id {id:?} is used twice: {html}");
    }
    for f in attr_values(html, "for") {
        assert!(seen.contains(&f), "label for {f:?} names nothing: {html}");
    }
}

const ID_WEB_UNDERSCORE: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id_web";
const ID_WEB_DASH: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web";

fn scale_set_with(ids: &[&str]) -> Rc<identity_core::ResourceState> {
    let map: serde_json::Map<String, serde_json::Value> = ids
        .iter()
        .map(|i| {
            (
                i.to_string(),
                serde_json::json!({"principalId": "p", "clientId": "c"}),
            )
        })
        .collect();
    let body = serde_json::json!({
        "id": "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web",
        "name": "vmss-web", "location": "westeurope",
        "identity": if ids.is_empty() { serde_json::json!({"type": "None"}) } else { serde_json::json!({"type": "UserAssigned", "userAssignedIdentities": map}) },
        "properties": {"orchestrationMode": "Uniform", "upgradePolicy": {"mode": "Manual"}}
    });
    Rc::new(identity_core::ResourceState::from_arm(&body, None).unwrap())
}

#[tokio::test]
async fn identities_whose_names_differ_only_in_punctuation_get_their_own_checkbox_ids() {
    use identity_core::wizard::WizardKind;
    use identity_wizard::pages::wizard::WizardPanel;
    let html = render_in_session(Mode::Demo, false, || {
        html! { <WizardPanel kind={WizardKind::RemoveUserAssigned} state={scale_set_with(&[ID_WEB_UNDERSCORE, ID_WEB_DASH])} reload={Callback::noop()} /> }
    })
    .await;
    assert_ids_unique_and_labels_resolve(&html);
    // each checkbox's label is the one next to it, naming its own identity
    for (id, name) in [(ID_WEB_UNDERSCORE, "id_web"), (ID_WEB_DASH, "id-web")] {
        let start = html.find(&format!("data-id=\"{id}\"")).unwrap();
        let choice = &html[start..start + html[start..].find("</div>").unwrap()];
        let input_id = &attr_values(choice, "id")[0];
        assert_eq!(
            attr_values(choice, "for"),
            vec![input_id.clone()],
            "{choice}"
        );
        assert!(
            choice.contains(&format!("<strong>{name}</strong>")),
            "{choice}"
        );
    }
    let pick_ids: Vec<String> = attr_values(&html, "id")
        .into_iter()
        .filter(|i| i.starts_with("pick-"))
        .collect();
    assert_eq!(pick_ids.len(), 2, "{html}");
}

#[tokio::test]
async fn the_assign_wizard_offers_to_paste_an_identity_id_with_a_labelled_box() {
    use identity_core::wizard::WizardKind;
    use identity_wizard::pages::wizard::WizardPanel;
    let html = render_in_session(Mode::Demo, false, || {
        html! { <WizardPanel kind={WizardKind::AssignUserAssigned} state={scale_set_with(&[ID_WEB_DASH])} reload={Callback::noop()} /> }
    })
    .await;
    assert_ids_unique_and_labels_resolve(&html);
    assert!(html.contains(r#"<label for="paste-id">"#), "{html}");
    assert!(html.contains(r#"id="paste-add""#), "{html}");
}

#[tokio::test]
async fn the_read_write_switch_is_a_switch_that_says_its_state_in_words() {
    use identity_wizard::components::header::Header;
    let off = render_in_session(Mode::Demo, false, || html! { <Header /> }).await;
    let on = render_in_session(Mode::Demo, true, || html! { <Header /> }).await;
    for (html, checked, words) in [
        (&off, "false", "Read-only"),
        (&on, "true", "Read-write: changes will be sent"),
    ] {
        let start = html.find(r#"id="read-write""#).expect(html);
        let input = &html[html[..start].rfind('<').unwrap()..][..200];
        assert!(input.contains(r#"role="switch""#), "{input}");
        assert!(
            input.contains(&format!(r#"aria-checked="{checked}""#)),
            "{input}"
        );
        assert!(
            input.contains(r#"aria-describedby="read-write-state""#),
            "{input}"
        );
        let state = &html[html.find(r#"id="read-write-state""#).unwrap()..];
        assert!(
            state.contains(&format!(">{words}</span>")) && state.find('>') < state.find(words),
            "{state}"
        );
        assert!(
            html.contains(r#"<label for="read-write">Allow changes</label>"#),
            "{html}"
        );
        assert_ids_unique_and_labels_resolve(html);
    }
    // snippet-only: nothing can be sent, so there is no switch
    let snippets = render_in_session(Mode::SnippetsOnly, false, || html! { <Header /> }).await;
    assert!(!snippets.contains("read-write"), "{snippets}");
}

#[tokio::test]
async fn grant_access_is_offered_only_where_there_is_an_identity() {
    use identity_wizard::components::grant::{GrantAccess, principals_of};
    let none = render_in_session(Mode::Demo, true, || {
        let st = scale_set_with(&[]);
        html! { <GrantAccess principals={principals_of(&st.identity)} scope={st.id.as_str().to_string()} /> }
    })
    .await;
    assert!(!none.contains("grant-open"), "{none}");
    assert!(!none.contains("Grant access"), "{none}");
    let some = render_in_session(Mode::Demo, true, || {
        let st = scale_set_with(&[ID_WEB_DASH]);
        html! { <GrantAccess principals={principals_of(&st.identity)} scope={st.id.as_str().to_string()} /> }
    })
    .await;
    assert!(some.contains(r#"id="grant-open""#), "{some}");
}

/// `/create/vm` is the create wizard for a VM (its own title, the VM name's rule), and the start
/// page's catalogue links to it next to "Create a scale set" when ARM is reachable.
#[tokio::test]
async fn the_vm_create_page_and_its_link_from_the_catalogue() {
    use identity_wizard::components::scenario_list::ScenarioList;
    use identity_wizard::pages::create::{CreateScaleSet, CreateVm};
    let vm = render_in_session(Mode::Demo, true, || html! { <CreateVm /> }).await;
    assert!(
        vm.contains(r#"<h2 id="create-title">Create a VM with an identity</h2>"#),
        "{vm}"
    );
    assert!(
        vm.contains(r#"<label for="create-name">VM name</label>"#),
        "{vm}"
    );
    assert!(vm.contains("it is also the computer name"), "{vm}");
    assert!(vm.contains(r#"data-step="basics""#), "{vm}");
    assert_ids_unique_and_labels_resolve(&vm);
    let ss = render_in_session(Mode::Demo, true, || html! { <CreateScaleSet /> }).await;
    assert!(
        ss.contains(r#"<h2 id="create-title">Create a scale set with an identity</h2>"#),
        "{ss}"
    );
    assert!(
        ss.contains(r#"<label for="create-name">Scale set name</label>"#),
        "{ss}"
    );

    let live = render_in_session(Mode::Demo, false, || html! { <ScenarioList /> }).await;
    let create = &live[live.find(r#"data-slug="create-scale-set""#).unwrap()..];
    let create = &create[..create.find("</li>").unwrap()];
    assert!(create.contains(r#"href="/create/scale-set""#), "{create}");
    assert!(create.contains(r#"href="/create/vm""#), "{create}");
    assert!(create.contains(">Create a VM</a>"), "{create}");
    let none = render_in_session(Mode::SnippetsOnly, false, || html! { <ScenarioList /> }).await;
    assert!(!none.contains(r#"href="/create/vm""#), "{none}");
}

// ---- the inventory page ----

use identity_wizard::inventory::page::{InventoryPage, LoadState};
use identity_wizard::inventory::run::{Loaded, Progress};

/// `n` resources in two subscriptions (every third a VM, every fourth with the legacy extension, even ones using
/// identity `id-0`), and two identities.
fn inventory_of(n: usize) -> Rc<Loaded> {
    use serde_json::json;
    let ua = |k: usize| {
        format!(
            "/subscriptions/s1/resourceGroups/rg-ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-{k}"
        )
    };
    let mut compute: Vec<serde_json::Value> = vec![];
    for i in 0..n {
        let sub = if i % 2 == 0 { "s1" } else { "s2" };
        let vm = i % 3 == 0;
        let (ty, name, seg) = if vm {
            (
                "microsoft.compute/virtualmachines",
                format!("vm-{i:05}"),
                "virtualMachines",
            )
        } else {
            (
                "microsoft.compute/virtualmachinescalesets",
                format!("vmss-{i:05}"),
                "virtualMachineScaleSets",
            )
        };
        let identity = if i % 2 == 0 {
            json!({"type": "UserAssigned", "userAssignedIdentities": {ua(0): {}}})
        } else {
            serde_json::Value::Null
        };
        let id = format!(
            "/subscriptions/{sub}/resourceGroups/rg-{}/providers/Microsoft.Compute/{seg}/{name}",
            i % 5
        );
        let mut row = json!({"id": id, "name": name, "type": ty, "subscriptionId": sub,
            "resourceGroup": format!("rg-{}", i % 5), "location": "westeurope", "orchestrationMode": "Uniform",
            "provisioningState": "Succeeded", "identity": identity});
        if i % 4 == 0 {
            if vm {
                compute.push(json!({"id": format!("{id}/extensions/mi"), "type": "microsoft.compute/virtualmachines/extensions",
                    "extensionType": "ManagedIdentityExtensionForLinux"}));
            } else {
                row["extensions"] =
                    json!([{"properties": {"type": "ManagedIdentityExtensionForLinux"}}]);
            }
        }
        compute.push(row);
    }
    let identities: Vec<serde_json::Value> = (0..2)
        .map(|k| json!({"id": ua(k), "name": format!("id-{k}"), "subscriptionId": "s1", "resourceGroup": "rg-ids",
            "principalId": format!("p-{k}"), "clientId": format!("c-{k}")}))
        .collect();
    let subscriptions = vec![
        ("s1".to_string(), "Prod <main>".to_string()),
        ("s2".to_string(), "Test".to_string()),
    ];
    let inv = identity_core::inventory::Inventory::from_rows(
        &subscriptions,
        &compute,
        &identities,
        &[],
        &[],
    );
    Rc::new(Loaded {
        inventory: Rc::new(inv),
        partial: vec![],
        subscriptions,
        roles_pending: false,
        list_complete: true,
    })
}

#[derive(Properties, PartialEq)]
struct InvProps {
    query: String,
    state: LoadState,
}

#[component]
fn InvInSession(p: &InvProps) -> Html {
    html! {
        <InSession mode={Mode::Demo} read_write={false}>
            <InventoryPage query={p.query.clone()} initial={Some(p.state.clone())} />
        </InSession>
    }
}

/// Renders the page at `query` in the state `make` gives (a fn: the renderer wants what it is given to be `Send`).
async fn render_inventory(query: &'static str, make: fn() -> LoadState) -> String {
    yew::ServerRenderer::<InvInSession>::with_props(move || InvProps {
        query: query.to_string(),
        state: make(),
    })
    .render()
    .await
}

/// The `<tbody>` of the resource table.
fn resource_rows(html: &str) -> &str {
    let t = &html[html.find(r#"id="inv-resources""#).expect("resource table")..];
    &t[t.find("<tbody>").unwrap()..t.find("</tbody>").unwrap()]
}

#[tokio::test]
async fn inventory_renders_only_the_rows_in_view_of_a_long_list() {
    let html = render_inventory("", || LoadState::Done(inventory_of(12_500))).await;
    let body = resource_rows(&html);
    // the first screenful and the overscan below it, not 12,500 rows; two spacers keep the scroll height
    let rows = body.matches("<tr").count();
    assert_eq!(rows, 24 + 2, "{body}");
    assert!(
        body.contains("vm-00000") && !body.contains("vmss-12499"),
        "{body}"
    );
    assert!(
        html.contains("12500 of 12500 scale sets and VMs shown"),
        "{html}"
    );
    assert!(html.contains(r#"aria-rowcount="12501""#), "{html}");
    assert!(
        html.contains(
            "Complete: 12500 scale sets and VMs, 2 user-assigned identities in 2 subscriptions."
        ),
        "{html}"
    );
    assert_ids_unique_and_labels_resolve(&html);
}

#[tokio::test]
async fn inventory_view_follows_the_query_and_escapes_names() {
    let html = render_inventory("kind=vm&legacy=1&sort=name&desc=1", || {
        LoadState::Done(inventory_of(40))
    })
    .await;
    let body = resource_rows(&html);
    // VMs (i % 3 == 0) with the legacy extension (i % 4 == 0): 0, 12, 24, 36 — descending by name
    let names: Vec<&str> = body
        .match_indices(">vm")
        .map(|(i, _)| &body[i + 1..i + 9])
        .collect();
    assert_eq!(
        names,
        ["vm-00036", "vm-00024", "vm-00012", "vm-00000"],
        "{body}"
    );
    assert!(html.contains("4 of 40 scale sets and VMs shown"), "{html}");
    assert!(
        html.contains(r#"<input checked type="checkbox" id="inv-kind-vm">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<input type="checkbox" id="inv-kind-uniform">"#),
        "{html}"
    );
    assert!(html.contains(r#"aria-sort="descending""#), "{html}");
    // a subscription name from Azure is text
    assert!(
        html.contains("Prod &lt;main&gt;") && !html.contains("<main>"),
        "{html}"
    );
    // the identities: ids and users
    let ids = &html[html.find(r#"id="inv-identities""#).unwrap()..];
    assert!(
        ids.contains("c-0") && ids.contains("p-0") && ids.contains(">20<"),
        "id-0 is used by the 20 even rows: {ids}"
    );
    assert!(ids.contains(" and 15 more"), "{ids}");
    assert_ids_unique_and_labels_resolve(&html);
}

#[tokio::test]
async fn inventory_progress_wait_and_partial_are_shown_as_such() {
    let html = render_inventory("", || {
        LoadState::Loading(Progress {
            loaded: 4_000,
            total: 12_500,
            requests: 5,
            waiting: Some((4_200, arm_client::inventory::WaitReason::Quota)),
            subscriptions: 100,
        })
    })
    .await;
    assert!(html.contains("Loaded 4000 of 12500 rows from 100 subscriptions (5 queries); waiting 5 s for the Resource Graph quota to reset"), "{html}");
    assert!(
        html.contains(r#"max="12500""#) && html.contains(r#"value="4000""#),
        "{html}"
    );
    assert!(html.contains(">Cancel</button>"), "{html}");
    let html = render_inventory("", || {
        let mut l = (*inventory_of(3)).clone();
        l.list_complete = false;
        l.partial = vec![identity_wizard::inventory::run::partial_text(
            &arm_client::inventory::Partial::Cancelled,
        )];
        LoadState::Done(Rc::new(l))
    })
    .await;
    assert!(
        html.contains("Partial result: ") && html.contains("you cancelled the load"),
        "{html}"
    );
    assert!(!html.contains("Complete:"), "{html}");
}

#[tokio::test]
async fn inventory_list_shown_complete_while_the_role_assignments_are_read() {
    let html = render_inventory("", || {
        let mut l = (*inventory_of(40)).clone();
        l.roles_pending = true;
        LoadState::Done(Rc::new(l))
    })
    .await;
    assert!(
        html.contains(
            "Complete: 40 scale sets and VMs, 2 user-assigned identities in 2 subscriptions."
        ) && html.contains("Reading the role assignments…")
            && html.contains(r#"id="inv-cancel""#),
        "{html}"
    );
    assert!(!html.contains("Load again"), "{html}");
    assert!(html.contains("40 of 40 scale sets and VMs shown"), "{html}");
    // cancelled (or failed) while reading them: partial, and it says that the list itself is whole
    let html = render_inventory("", || {
        let mut l = (*inventory_of(40)).clone();
        l.partial = vec![identity_wizard::inventory::run::partial_text(
            &arm_client::inventory::Partial::Cancelled,
        )];
        LoadState::Done(Rc::new(l))
    })
    .await;
    assert!(
        html.contains("Partial result: ")
            && html.contains("but not every role assignment")
            && html.contains("you cancelled the load"),
        "{html}"
    );
    assert!(!html.contains("Complete:"), "{html}");
}

// ---- the identity page ----

use identity_wizard::inventory::identity::{IdentityLoad, IdentityPage};

const ID_0: &str = "/subscriptions/s1/resourceGroups/rg-ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-0";

/// id-0 used by a scale set in s1 and a VM in s2, with a role assignment whose condition is markup.
fn identity_loaded(with_identity_row: bool, partial: bool) -> IdentityLoad {
    use serde_json::json;
    let compute = vec![
        json!({"id": "/subscriptions/s1/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-<b>web</b>",
            "name": "vmss-<b>web</b>", "type": "microsoft.compute/virtualmachinescalesets", "subscriptionId": "s1",
            "resourceGroup": "rg-web", "location": "westeurope", "orchestrationMode": "Flexible",
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {ID_0.to_lowercase(): {}}}}),
        json!({"id": "/subscriptions/s2/resourceGroups/rg-dev/providers/Microsoft.Compute/virtualMachines/vm-dev",
            "name": "vm-dev", "type": "microsoft.compute/virtualmachines", "subscriptionId": "s2",
            "resourceGroup": "rg-dev", "location": "eastus",
            "identity": {"type": "SystemAssigned, UserAssigned", "principalId": "x", "userAssignedIdentities": {ID_0: {}}}}),
    ];
    let identities = if with_identity_row {
        vec![
            json!({"id": ID_0, "name": "id-0", "subscriptionId": "s1", "resourceGroup": "rg-ids", "location": "westeurope",
            "principalId": "p-0", "clientId": "c-0"}),
        ]
    } else {
        vec![]
    };
    let ras = vec![
        json!({"id": "/subscriptions/s1/providers/Microsoft.Authorization/roleAssignments/a1", "principalId": "p-0",
            "roleDefinitionId": "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
            "scope": "/subscriptions/s1", "condition": "<img src=x onerror=alert(1)>"}),
        json!({"id": "/subscriptions/s1/resourceGroups/rg-web/providers/Microsoft.Authorization/roleAssignments/a2", "principalId": "P-0",
            "roleDefinitionId": "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-4000-8000-00000000abcd",
            "scope": "/subscriptions/s1/resourceGroups/rg-web", "condition": ""}),
    ];
    let defs = vec![
        json!({"id": "/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "roleName": "Reader"}),
    ];
    let subscriptions = vec![
        ("s1".to_string(), "Prod <main>".to_string()),
        ("s2".to_string(), "Test".to_string()),
    ];
    let inv = identity_core::inventory::Inventory::from_rows(
        &subscriptions,
        &compute,
        &identities,
        &ras,
        &defs,
    );
    IdentityLoad::Done {
        loaded: Rc::new(Loaded {
            inventory: Rc::new(inv),
            partial: if partial {
                vec![identity_wizard::inventory::run::partial_text(
                    &arm_client::inventory::Partial::Cancelled,
                )]
            } else {
                vec![]
            },
            subscriptions,
            roles_pending: false,
            list_complete: true,
        }),
        from_inventory: !partial,
    }
}

#[derive(Properties, PartialEq)]
struct IdProps {
    state: IdentityLoad,
}

#[component]
fn IdInSession(p: &IdProps) -> Html {
    html! {
        <InSession mode={Mode::Demo} read_write={false}>
            <IdentityPage id={ID_0.to_string()} initial={Some(p.state.clone())} />
        </InSession>
    }
}

async fn render_identity(make: fn() -> IdentityLoad) -> String {
    yew::ServerRenderer::<IdInSession>::with_props(move || IdProps { state: make() })
        .render()
        .await
}

#[tokio::test]
async fn identity_page_lists_users_with_links_and_role_assignments_as_text() {
    let html = render_identity(|| identity_loaded(true, false)).await;
    assert!(
        html.contains(r#"<h2 id="identity-name">id-0</h2>"#),
        "{html}"
    );
    assert!(
        html.contains("From the inventory loaded in this session."),
        "{html}"
    );
    let facts = &html[html.find(r#"id="identity-facts""#).unwrap()..];
    assert!(
        facts.contains(r#"<dd id="identity-subscription">Prod &lt;main&gt;</dd>"#),
        "{facts}"
    );
    assert!(
        facts.contains(r#"<code id="identity-client-id">c-0</code>"#)
            && facts.contains(r#"<code id="identity-principal-id">p-0</code>"#)
            && facts.contains("westeurope"),
        "{facts}"
    );
    // the users: both subscriptions, each a link to its resource page, names as text
    let users = &html[html.find(r#"<table id="identity-users""#).unwrap()..];
    let users = &users[..users.find("</table>").unwrap()];
    assert_eq!(
        users.matches("<tr key").count() + users.matches("<tr data-id").count(),
        2,
        "{users}"
    );
    assert!(html.contains("Used by (2)"), "{html}");
    assert!(
        users.contains(r#"href="/subscriptions/s2/resourceGroups/rg-dev/providers/Microsoft.Compute/virtualMachines/vm-dev""#),
        "{users}"
    );
    assert!(
        users.contains("vmss-&lt;b&gt;web&lt;/b&gt;") && !users.contains("<b>"),
        "{users}"
    );
    assert!(
        users.contains(">Flexible<") && users.contains(">VM<") && users.contains(">Test<"),
        "{users}"
    );
    // role assignments (principal matched ignoring case): name or GUID, scope, condition as text
    let roles = &html[html.find(r#"<table id="identity-roles""#).unwrap()..];
    let roles = &roles[..roles.find("</table>").unwrap()];
    assert!(html.contains("Role assignments (2)"), "{html}");
    assert!(
        roles.contains(">Reader<") && roles.contains("/subscriptions/s1/resourceGroups/rg-web"),
        "{roles}"
    );
    assert!(
        roles.contains("role 00000000-0000-4000-8000-00000000abcd (name not read)"),
        "{roles}"
    );
    assert!(
        roles.contains("&lt;img src=x onerror=alert(1)&gt;") && !html.contains("<img"),
        "{roles}"
    );
    assert!(roles.contains(">none<"), "{roles}");
    // the scripts: the identity's focused queries, in the two tabs
    assert!(
        html.contains(r#"id="identity-tab-az-powershell""#)
            && html.contains(r#"id="identity-tab-cli-bash""#),
        "{html}"
    );
    assert!(
        html.contains("Search-AzGraph")
            && html.contains("mv-expand ua = identity.userAssignedIdentities"),
        "{html}"
    );
    assert!(!html.contains("id=\"identity-partial\""), "{html}");
    assert_ids_unique_and_labels_resolve(&html);
}

#[tokio::test]
async fn identity_page_says_partial_and_missing_as_such() {
    let html = render_identity(|| identity_loaded(false, true)).await;
    assert!(
        html.contains("Partial result: ") && html.contains("you cancelled the load"),
        "{html}"
    );
    assert!(!html.contains("identity-complete"), "{html}");
    assert!(html.contains(r#"id="identity-missing""#), "{html}");
    // without its row: the id's parts, the subscription's name, the users from the resources' own maps
    assert!(
        html.contains(r#"<dd id="identity-subscription">Prod &lt;main&gt;</dd>"#),
        "{html}"
    );
    assert!(html.contains("Used by (2)"), "{html}");
    assert!(
        html.contains("Not read: the identity&#x27;s principal id is unknown.")
            || html.contains("Not read: the identity's principal id is unknown."),
        "{html}"
    );
    let html = render_identity(|| {
        IdentityLoad::Loading(Progress {
            loaded: 3,
            total: 7,
            requests: 2,
            waiting: Some((2_000, arm_client::inventory::WaitReason::Throttled)),
            subscriptions: 2,
        })
    })
    .await;
    assert!(html.contains("Loaded 3 of 7 rows from 2 subscriptions (2 queries); throttled by Resource Graph, waiting 2 s"), "{html}");
    assert!(html.contains(r#"id="identity-cancel""#), "{html}");
    assert_ids_unique_and_labels_resolve(&html);
}

#[tokio::test]
async fn inventory_links_identities_to_their_pages_and_shows_the_scripts() {
    let html = render_inventory("", || LoadState::Done(inventory_of(4))).await;
    let href = format!(r#"href="{ID_0}""#);
    // the identity's row, and each resource row that uses it (rows 0 and 2)
    let ids = &html[html.find(r#"id="inv-identities""#).unwrap()..];
    assert_eq!(ids.matches(&href).count(), 1, "{ids}");
    assert_eq!(resource_rows(&html).matches(&href).count(), 2, "{html}");
    assert!(
        html.contains(r#"id="inv-tab-az-powershell""#) && html.contains(r#"id="inv-tab-cli-bash""#),
        "{html}"
    );
    assert!(html.contains("-First 1000 -SkipToken"), "{html}");
    assert_ids_unique_and_labels_resolve(&html);
}
