//! Figures (not a test): the time of one Resource Graph page per query shape over the generated tenant of
//! issue 16 (100 subscriptions, 10,000 scale sets, 2,000 VMs, 500 identities), in-process.
//!
//! `cargo run --release -p armsim --example graph_bench`

use armsim::tenant::TenantSpec;
use armsim::{Seed, Sim, SimConfig, SimRequest};
use std::time::Instant;

const URL: &str = "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01";

fn main() {
    let t = Instant::now();
    let seed = Seed::generate_tenant(&TenantSpec::BENCH);
    let subs: Vec<String> = seed
        .subscriptions
        .iter()
        .map(|s| s.subscription_id.clone())
        .collect();
    let mut sim = Sim::with_config(
        seed,
        SimConfig {
            graph_quota: false,
            ..SimConfig::default()
        },
    );
    println!("generate + load: {} ms", t.elapsed().as_millis());
    let shapes = [
        (
            "scale sets + VMs",
            "resources | where type in~ ('microsoft.compute/virtualmachinescalesets','microsoft.compute/virtualmachines') or (type =~ 'microsoft.compute/virtualmachines/extensions' and tostring(properties.type) in~ ('ManagedIdentityExtensionForLinux','ManagedIdentityExtensionForWindows')) | order by id asc | project id, name, type, subscriptionId, resourceGroup, location, tags, identity, orchestrationMode = tostring(properties.orchestrationMode), provisioningState = tostring(properties.provisioningState), extensions = properties.virtualMachineProfile.extensionProfile.extensions, extensionType = tostring(properties.type)",
        ),
        (
            "identities",
            "resources | where type =~ 'microsoft.managedidentity/userassignedidentities' | order by id asc | project id, name, principalId = tostring(properties.principalId)",
        ),
        (
            "role assignments",
            "authorizationresources | where type =~ 'microsoft.authorization/roleassignments' | order by id asc | project id, principalId = tostring(properties.principalId)",
        ),
    ];
    for (name, q) in shapes {
        let n = 5;
        let t = Instant::now();
        for _ in 0..n {
            let r = sim.handle(
                SimRequest::new("POST", URL).json(&serde_json::json!({"query": q, "subscriptions": subs, "options": {"$top": 1000}})),
                0,
            );
            assert_eq!(r.status, 200);
        }
        println!(
            "{name}: {:.1} ms per page",
            t.elapsed().as_secs_f64() * 1000.0 / n as f64
        );
    }
}
