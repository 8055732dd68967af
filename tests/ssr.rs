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
