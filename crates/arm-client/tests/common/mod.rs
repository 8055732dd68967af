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
