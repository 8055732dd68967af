//! Issue 17's figure against the **armsim server**: 1,000 identity assignments (one user-assigned identity on
//! every scale set of 2 subscriptions × 500) over real TCP on the real clock, with the server's ARM quotas on.
//! Prints the line `scripts/bench` keeps: `bulk: 1000 changes, L lost, F failed, Z throttled, T s (quota minimum M s)`.
//!
//! Start the server first (scripts/bench-bulk does both):
//! `armsim --port 0 --tenant 2,1000,0,8 --arm-quota on --lro-delay-ms 2000 --control`, then
//! `cargo run --release -p arm-client --example bulk_server_bench -- http://127.0.0.1:PORT 2,1000,0,8`

use arm_client::bulk::{BulkOptions, bench::server_bench};
use armsim::tenant::TenantSpec;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(url), Some(spec)) = (args.first(), args.get(1)) else {
        eprintln!(
            "usage: bulk_server_bench http://127.0.0.1:PORT SUBS,SCALE_SETS,VMS,IDENTITIES (the server's --tenant)"
        );
        std::process::exit(2);
    };
    let spec = match TenantSpec::parse(spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let concurrency = args.get(2).and_then(|c| c.parse().ok()).unwrap_or(128);
    match server_bench(
        url,
        &spec,
        BulkOptions {
            concurrency,
            max_replans: 3,
        },
    ) {
        Ok(f) => {
            println!("{}", f.line());
            let c = f.counters;
            eprintln!(
                "  ({} applied, {} no-op, {} refused, {} failed, {} re-plans; {} writes sent)",
                c.applied, c.no_op, c.refused, c.failed, c.replans, f.writes
            );
            for m in &f.failures {
                eprintln!("  failed: {m}");
            }
        }
        Err(e) => {
            eprintln!("bulk bench: {e}");
            std::process::exit(1);
        }
    }
}
