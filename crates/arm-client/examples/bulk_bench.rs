//! Issue 17's figure: 1,000 identity assignments (one user-assigned identity on every scale set of 2 subscriptions
//! × 500) against armsim in-process with ARM's quotas on, on a virtual clock. Prints the line `scripts/bench` keeps:
//! `bulk: 1000 changes, L lost, F failed, Z throttled, T s (quota minimum M s)`.
//!
//! `cargo run --release -p arm-client --example bulk_bench`

use arm_client::bulk::{BulkOptions, bench::identity_bench};

fn main() {
    let f = identity_bench(
        2,
        500,
        BulkOptions {
            concurrency: 128,
            max_replans: 3,
        },
    );
    println!("{}", f.line());
    let c = f.counters;
    println!(
        "  ({} applied, {} no-op, {} refused, {} failed; {} writes sent)",
        c.applied, c.no_op, c.refused, c.failed, f.writes
    );
    for m in &f.failures {
        println!("  failed: {m}");
    }
}
