//! Figures for the fleet inventory (not a test): loads armsim's generated tenant of issue 16 (100 subscriptions,
//! 10,000 scale sets, 2,000 VMs, 500 identities) in-process through the inventory loader, builds the model and
//! times the filter per keystroke.
//!
//! `cargo run --release -p arm-client --example inventory_bench`

use arm_client::inventory::{CancelFlag, LoadOptions, load_inventory};
use arm_client::testing::block_on;
use arm_client::transport::sim::SimTransport;
use arm_client::{ArmClient, RetryPolicy, StaticToken, VirtualClock};
use armsim::tenant::TenantSpec;
use identity_core::inventory::view::Filter;
use identity_core::inventory::{Inventory, Kind};
use std::rc::Rc;
use std::time::Instant;

fn main() {
    let seed = armsim::Seed::generate_tenant(&TenantSpec::BENCH);
    let subs: Vec<(String, String)> = seed
        .subscriptions
        .iter()
        .map(|s| (s.subscription_id.clone(), s.display_name.clone()))
        .collect();
    let ids: Vec<String> = subs.iter().map(|s| s.0.clone()).collect();
    let clock = VirtualClock::new(0);
    let sim = SimTransport::new(armsim::Sim::from_seed(seed), Rc::new(clock.clone()));
    let client = ArmClient::builder(
        "https://management.azure.com",
        Rc::new(sim),
        Rc::new(StaticToken::new("t")),
    )
    .clock(Rc::new(clock.clone()))
    .retry(RetryPolicy::none())
    .build()
    .expect("client");
    let t = Instant::now();
    let load = block_on(load_inventory(
        &client,
        &ids,
        &LoadOptions::default(),
        &CancelFlag::new(),
        &mut |_| {},
    ));
    let load_ms = t.elapsed().as_millis();
    let t = Instant::now();
    let inv: Inventory = load.inventory(&subs);
    let model_ms = t.elapsed().as_millis();
    println!(
        "load: {} rows in {} requests, complete: {}, {load_ms} ms in-process (+{} ms virtual quota wait), model {model_ms} ms",
        load.loaded,
        load.requests,
        load.is_complete(),
        load.waited_ms
    );
    // typing "vmss-042" one keystroke at a time, then other filters
    let word = "vmss-042";
    let mut filters: Vec<Filter> = (1..=word.len())
        .map(|n| Filter {
            text: word[..n].into(),
            ..Filter::default()
        })
        .collect();
    filters.push(Filter {
        kinds: vec![Kind::Flexible],
        legacy_extension: true,
        ..Filter::default()
    });
    filters.push(Filter {
        uses_identity: inv.identities.first().map(|i| i.id.clone()),
        ..Filter::default()
    });
    let rounds = 20;
    let t = Instant::now();
    let mut shown = 0;
    for _ in 0..rounds {
        for f in &filters {
            shown += std::hint::black_box(f.apply(&inv)).len();
        }
    }
    let per = t.elapsed().as_secs_f64() * 1000.0 / (rounds * filters.len()) as f64;
    println!(
        "filter: {} resource rows, {per:.2} ms per keystroke (native; {shown} rows shown in all)",
        inv.resources.len()
    );
}
