//! The bulk review rendered with yew's SSR renderer: counts, the confirmation naming the count and the operation,
//! Apply blocked while read-only, requests as text.
#![cfg(not(target_arch = "wasm32"))]

use identity_core::ResourceState;
use identity_core::bulk::{BulkOp, review};
use identity_wizard::bulk::review::{ReviewView, ReviewViewProps};
use identity_wizard::bulk::run::BulkReview;
use identity_wizard::bulk::spec::BatchSpec;
use std::rc::Rc;
use yew::prelude::*;

const UA: &str = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-monitor";

fn vmss(name: &str, identity: serde_json::Value) -> ResourceState {
    ResourceState::from_arm(
        &serde_json::json!({
            "id": format!("/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/{name}"),
            "identity": identity,
            "etag": "\"3\"",
        }),
        None,
    )
    .unwrap()
}

async fn render(read_write: bool) -> String {
    let op = BulkOp::AssignUserAssigned {
        identity: UA.into(),
        grant: None,
    };
    let states = vec![
        vmss("a", serde_json::json!({"type": "None"})),
        vmss("b", serde_json::json!({"type": "SystemAssigned"})),
        vmss(
            "c",
            serde_json::json!({"type": "UserAssigned", "userAssignedIdentities": {UA: {}}}),
        ),
    ];
    let scripts =
        identity_core::scripts::batch::batch_all(&identity_core::scripts::batch::BatchRequest {
            cloud: identity_core::scripts::Cloud::AzureCloud,
            op: op.clone(),
            items: states.iter().map(|s| s.id.as_str().to_string()).collect(),
        });
    let br = BulkReview {
        review: review(&op, &states, None),
        unreadable: vec![],
        from_inventory: true,
    };
    yew::ServerRenderer::<ReviewView>::with_props(move || ReviewViewProps {
        review: Rc::new(br),
        scripts: Rc::new(scripts),
        spec: BatchSpec {
            operation: op,
            from_identity: None,
        },
        origin: AttrValue::from("https://management.azure.com"),
        read_write,
        on_apply: Callback::noop(),
    })
    .render()
    .await
}

#[tokio::test]
async fn the_review_names_the_count_and_blocks_apply_while_read_only() {
    let html = render(false).await;
    assert!(html.contains(r#"id="bulk-r-requests">2<"#), "{html}");
    assert!(html.contains(r#"id="bulk-r-noop">1<"#), "{html}");
    assert!(
        html.contains("Assign id-monitor to 2 scale sets and VMs</button>"),
        "{html}"
    );
    assert!(
        html.contains(r#"id="bulk-apply" disabled="disabled""#),
        "{html}"
    );
    assert!(html.contains("Allow changes"), "{html}");
    // the body holds only the identity, id-monitor added
    assert!(html.contains(r#""identity": {"#), "{html}");
    // the sample: the PATCH with only the identity, If-Match
    assert!(html.contains("PATCH https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/a?api-version="), "{html}");
    assert!(html.contains("If-Match: "), "{html}");
    // the batch as scripts, Az PowerShell first
    assert!(html.contains(r#"id="bulk-tab-az-powershell""#), "{html}");
    assert!(html.contains("foreach ($itemId in $items)"), "{html}");
    let rw = render(true).await;
    assert!(
        !rw.contains(r#"id="bulk-apply" disabled="disabled""#),
        "{rw}"
    );
    assert!(!rw.contains("Allow changes"), "{rw}");
}
