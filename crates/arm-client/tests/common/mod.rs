//! Helpers shared by arm-client's native test files (each includes this module with `mod common;`).
#![allow(dead_code)] // every test file uses a part of it

use arm_client::transport::sim::SimTransport;
use arm_client::{
    ArmClient, ArmClientBuilder, ArmError, LocalBoxFuture, TokenSource, VirtualClock,
};
use std::cell::Cell;
use std::rc::Rc;

/// A token source that counts its refreshes (after a 401): the token is `token-<refreshes>`.
pub struct CountingTokens(pub Cell<u32>);

impl CountingTokens {
    pub fn new() -> Rc<CountingTokens> {
        Rc::new(CountingTokens(Cell::new(0)))
    }
}

impl TokenSource for CountingTokens {
    fn token(&self, refresh: bool) -> LocalBoxFuture<'_, Result<String, ArmError>> {
        if refresh {
            self.0.set(self.0.get() + 1);
        }
        let t = format!("token-{}", self.0.get());
        Box::pin(async move { Ok(t) })
    }
}

/// A client builder for armsim in-process (`sim`) at the public-cloud endpoint, on `clock`.
pub fn sim_client(
    sim: &SimTransport,
    clock: &VirtualClock,
    tokens: Rc<dyn TokenSource>,
) -> ArmClientBuilder {
    ArmClient::builder("https://management.azure.com", Rc::new(sim.clone()), tokens)
        .clock(Rc::new(clock.clone()))
}

/// The start of the virtual clock of a [`GraphEnv`].
pub const T0: u64 = 1_700_000_000_000;

/// armsim in-process on a virtual clock at [`T0`], a client without retries (every wait is the loader's), and the
/// seed's subscriptions (id, display name): the Resource Graph loaders' tests.
pub struct GraphEnv {
    pub client: ArmClient,
    pub clock: VirtualClock,
    pub sim: SimTransport,
    pub subs: Vec<(String, String)>,
}

pub fn graph_env(seed: armsim::Seed) -> GraphEnv {
    let subs = seed
        .subscriptions
        .iter()
        .map(|s| (s.subscription_id.clone(), s.display_name.clone()))
        .collect();
    let clock = VirtualClock::new(T0);
    let sim = SimTransport::new(armsim::Sim::from_seed(seed), Rc::new(clock.clone()));
    let client = sim_client(&sim, &clock, Rc::new(arm_client::StaticToken::new("t")))
        .retry(arm_client::RetryPolicy::none())
        .build()
        .unwrap();
    GraphEnv {
        client,
        clock,
        sim,
        subs,
    }
}

impl GraphEnv {
    /// The seed's subscription ids.
    pub fn ids(&self) -> Vec<String> {
        self.subs.iter().map(|s| s.0.clone()).collect()
    }

    /// The Resource Graph requests armsim answered, in order.
    pub fn graph_log(&self) -> Vec<armsim::LogEntry> {
        self.sim
            .sim()
            .request_log()
            .iter()
            .filter(|e| e.path.to_lowercase().contains("resourcegraph"))
            .cloned()
            .collect()
    }

    /// Someone else's `n` queries spend the caller's quota at [`T0`] (Resource Graph's: 15 per 5 s).
    pub fn spend_quota(&self, n: usize) {
        for _ in 0..n {
            let r = self.sim.sim().handle(
                armsim::SimRequest::new(
                    "POST",
                    "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01",
                )
                .json(&serde_json::json!({"query": "resources | project id"})),
                T0,
            );
            assert_eq!(r.status, 200);
        }
    }
}
