//! armsim in-process: the transport of the tests and of the app's offline demo
//! tenant. The simulator's clock is this client's [`Clock`], so long-running
//! operations progress in virtual time in tests and in real time in the browser.

use crate::clock::Clock;
use crate::http::{HttpRequest, HttpResponse, LocalBoxFuture, Transport, TransportError};
use armsim::{Sim, SimRequest};
use std::cell::RefCell;
use std::rc::Rc;

/// Sends requests to an in-memory [`Sim`]. Injected latency becomes a sleep on the
/// clock; an injected dropped connection becomes [`TransportError::Network`].
///
/// ```
/// use arm_client::{ArmClient, StaticToken, VirtualClock, ops, Subscription, testing::block_on};
/// use arm_client::transport::sim::SimTransport;
/// use std::rc::Rc;
/// let clock = Rc::new(VirtualClock::new(0));
/// let sim = SimTransport::new(armsim::Sim::from_seed(armsim::Seed::demo()), clock.clone());
/// let c = ArmClient::builder("https://management.azure.com", Rc::new(sim), Rc::new(StaticToken::new("t")))
///     .clock(clock).build().unwrap();
/// let subs: Vec<Subscription> = block_on(c.list(ops::list_subscriptions()).collect_all()).unwrap();
/// assert_eq!(subs.len(), 2);
/// ```
#[derive(Clone)]
pub struct SimTransport {
    sim: Rc<RefCell<Sim>>,
    clock: Rc<dyn Clock>,
}

impl SimTransport {
    /// Wrap a simulator; `clock` supplies each request's `now_ms`.
    pub fn new(sim: Sim, clock: Rc<dyn Clock>) -> Self {
        SimTransport {
            sim: Rc::new(RefCell::new(sim)),
            clock,
        }
    }

    /// The offline demo tenant (armsim's demo seed: two subscriptions, scale sets, VMs,
    /// identities) answering for `origin`: a long-running operation stays in progress for
    /// `lro_delay_ms`, and a new principal is unknown to role assignments for
    /// `principal_delay_ms` (Azure's replication delay). The app builds its demo client on this,
    /// so it never names the simulator itself.
    ///
    /// ```
    /// use arm_client::{ArmClient, StaticToken, VirtualClock, ops, Subscription, testing::block_on};
    /// use arm_client::transport::sim::SimTransport;
    /// use std::rc::Rc;
    /// let clock = Rc::new(VirtualClock::new(0));
    /// let origin = "https://management.azure.com";
    /// let sim = SimTransport::demo(origin, 2_500, 12_000, clock.clone());
    /// let c = ArmClient::builder(origin, Rc::new(sim), Rc::new(StaticToken::new("t")))
    ///     .clock(clock).build().unwrap();
    /// let subs: Vec<Subscription> = block_on(c.list(ops::list_subscriptions()).collect_all()).unwrap();
    /// assert_eq!(subs.len(), 2);
    /// ```
    pub fn demo(
        origin: &str,
        lro_delay_ms: u64,
        principal_delay_ms: u64,
        clock: Rc<dyn Clock>,
    ) -> Self {
        let cfg = armsim::SimConfig {
            base_url: origin.into(),
            lro_delay_ms,
            principal_delay_ms,
            ..Default::default()
        };
        SimTransport::new(Sim::with_config(armsim::Seed::demo(), cfg), clock)
    }

    /// The simulator (inject faults, read the request log).
    pub fn sim(&self) -> std::cell::RefMut<'_, Sim> {
        self.sim.borrow_mut()
    }
}

impl Transport for SimTransport {
    fn send(&self, req: HttpRequest) -> LocalBoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let body = match req.body {
                Some(b) => {
                    String::from_utf8(b).map_err(|e| TransportError::Invalid(e.to_string()))?
                }
                None => String::new(),
            };
            let sreq = SimRequest {
                method: req.method.as_str().to_string(),
                url: req.url,
                headers: req.headers,
                body,
            };
            let now = self.clock.now_ms();
            let resp = self.sim.borrow_mut().handle(sreq, now);
            if resp.delay_ms > 0 {
                self.clock.sleep(resp.delay_ms).await;
            }
            if resp.drop_connection {
                return Err(TransportError::Network(
                    "connection closed without a response".into(),
                ));
            }
            Ok(HttpResponse {
                status: resp.status,
                headers: resp.headers,
                body: resp.body.into_bytes(),
            })
        })
    }
}
