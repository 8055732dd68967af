//! Native component tests (no browser): render the app with yew's SSR renderer.
#![cfg(not(target_arch = "wasm32"))]

use identity_core::catalogue::SCENARIOS;

#[tokio::test]
async fn shell_lists_every_scenario_and_the_version() {
    let html = yew::ServerRenderer::<identity_wizard::app::App>::new()
        .render()
        .await;
    assert!(
        html.contains("<h1 class=\"brand\">identity-wizard</h1>"),
        "{html}"
    );
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
