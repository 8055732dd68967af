//! armsim: an Azure Resource Manager simulator for identity-wizard's tests and its offline demo tenant.
//!
//! A pure in-memory core ([`Sim`]) that also compiles to `wasm32-unknown-unknown`: time comes in with every
//! request (`now_ms`), randomness from a seeded PRNG. The native server (`armsim` binary, module `server`)
//! wraps it on 127.0.0.1. Independent of identity-core on purpose: its identity rules are written from
//! `shared/arm/CONTRACT.md` and the recordings, so it can serve as an oracle.
//!
//! ```
//! use armsim::{Seed, Sim, SimRequest};
//! let mut sim = Sim::from_seed(Seed::demo());
//! let r = sim.handle(SimRequest::new("GET", "https://management.azure.com/subscriptions?api-version=2022-12-01"), 0);
//! assert_eq!(r.status, 200);
//! assert!(r.header("x-ms-request-id").is_some());
//! ```

mod apiver;
pub mod auth;
pub mod control;
pub mod cors;
pub mod error;
pub mod http;
pub mod identity;
pub mod rng;
pub mod schema;
pub mod seed;
mod sim;
pub mod tenant;
#[cfg(all(feature = "rs256", not(target_arch = "wasm32")))]
pub mod testing;
#[cfg(all(feature = "tls", not(target_arch = "wasm32")))]
pub mod tls;

#[cfg(all(feature = "server", not(target_arch = "wasm32")))]
pub mod server;

pub use control::{Change, Fault, LogEntry, Matcher, Trigger};
pub use error::ArmError;
pub use http::{SimRequest, SimResponse};
pub use seed::Seed;
pub use sim::{LOG_CAPACITY, Sim, SimConfig, graph, quota, roles};
