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
