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
