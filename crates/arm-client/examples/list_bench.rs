//! Requests and wall time for listing 10,000 scale sets against armsim: per
//! subscription (`GET …/virtualMachineScaleSets`, nextLink paging) — in-process and
//! over HTTP to armsim's server — and via Resource Graph when armsim answers it.
//!
//! `cargo run --release -p arm-client --example list_bench [-- SCALE_SETS SUBSCRIPTIONS PAGE_SIZE]`

#[cfg(not(target_arch = "wasm32"))]
mod bench {
    use arm_client::testing::block_on;
    use arm_client::transport::sim::SimTransport;
    use arm_client::transport::tcp::TcpTransport;
    use arm_client::*;
    use armsim::{Seed, Sim, SimConfig};
    use serde_json::Value;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Instant;

    /// Measures the time spent inside the wrapped transport (armsim's share).
    struct Timed<T>(T, Rc<Cell<std::time::Duration>>, Rc<Cell<usize>>);

    impl<T: Transport> Transport for Timed<T> {
        fn send(
            &self,
            req: HttpRequest,
        ) -> LocalBoxFuture<'_, Result<HttpResponse, TransportError>> {
            let t = Instant::now();
            let out = block_on(self.0.send(req));
            self.1.set(self.1.get() + t.elapsed());
            if let Ok(r) = &out {
                self.2.set(self.2.get() + r.body.len());
            }
            Box::pin(std::future::ready(out))
        }
    }

    fn client(
        endpoint: &str,
        t: Rc<dyn Transport>,
        clock: Rc<dyn Clock>,
        count: Rc<Cell<u32>>,
    ) -> ArmClient {
        ArmClient::builder(endpoint, t, Rc::new(StaticToken::new("bench")))
            .clock(clock)
            .concurrency(1)
            .observer(move |_| count.set(count.get() + 1))
            .build()
            .unwrap()
    }

    fn per_subscription(c: &ArmClient) -> usize {
        let subs: Vec<Subscription> =
            block_on(c.list(ops::list_subscriptions()).collect_all()).unwrap();
        let mut n = 0;
        for s in &subs {
            let v: Vec<Value> = block_on(
                c.list(ops::list_scale_sets(&s.subscription_id, None))
                    .collect_all(),
            )
            .unwrap();
            n += v.len();
        }
        n
    }

    fn graph(c: &ArmClient) -> Result<usize, ArmError> {
        let subs: Vec<Subscription> = block_on(c.list(ops::list_subscriptions()).collect_all())?;
        let ids: Vec<&str> = subs.iter().map(|s| s.subscription_id.as_str()).collect();
        let rows: Vec<Value> = block_on(
            c.graph(ops::resource_graph(ops::SCALE_SETS_QUERY, &ids, 1000))
                .collect_all(),
        )?;
        Ok(rows.len())
    }

    pub fn main() {
        let args: Vec<usize> = std::env::args()
            .skip(1)
            .map(|a| a.parse().unwrap())
            .collect();
        let n = *args.first().unwrap_or(&10_000);
        let subs = *args.get(1).unwrap_or(&100);
        let page = *args.get(2).unwrap_or(&100);
        println!("armsim: {n} scale sets over {subs} subscription(s), page size {page}");
        let t0 = Instant::now();
        let seed = Seed::generate_scale(n, subs);
        println!("seed generated in {:?}", t0.elapsed());
        let cfg = SimConfig {
            page_size: page,
            ..Default::default()
        };

        // in-process
        let clock: Rc<dyn Clock> = Rc::new(VirtualClock::new(0));
        let count = Rc::new(Cell::new(0));
        let sim = SimTransport::new(Sim::with_config(seed.clone(), cfg.clone()), clock.clone());
        let in_sim = Rc::new(Cell::new(std::time::Duration::ZERO));
        let bytes = Rc::new(Cell::new(0usize));
        let c = client(
            "https://management.azure.com",
            Rc::new(Timed(sim, in_sim.clone(), bytes.clone())),
            clock.clone(),
            count.clone(),
        );
        let t = Instant::now();
        let got = per_subscription(&c);
        println!(
            "in-process, per subscription: {got} scale sets, {} requests, {} response bytes, {:?} (inside armsim: {:?})",
            count.get(),
            bytes.get(),
            t.elapsed(),
            in_sim.get()
        );
        count.set(0);
        in_sim.set(std::time::Duration::ZERO);
        bytes.set(0);
        let t = Instant::now();
        match graph(&c) {
            Ok(got) => println!(
                "in-process, Resource Graph: {got} rows, {} requests, {} response bytes, {:?} (inside armsim: {:?})",
                count.get(),
                bytes.get(),
                t.elapsed(),
                in_sim.get()
            ),
            Err(e) => println!("in-process, Resource Graph: not available in armsim ({e})"),
        }

        // over HTTP
        let server = armsim::server::Server::start(Sim::with_config(seed, cfg), 0, false).unwrap();
        let count = Rc::new(Cell::new(0));
        let c = client(
            &server.url(),
            Rc::new(TcpTransport::default()),
            clock,
            count.clone(),
        );
        let t = Instant::now();
        let got = per_subscription(&c);
        println!(
            "HTTP, per subscription: {got} scale sets, {} requests, {:?}",
            count.get(),
            t.elapsed()
        );
        count.set(0);
        let t = Instant::now();
        match graph(&c) {
            Ok(got) => println!(
                "HTTP, Resource Graph: {got} rows, {} requests, {:?}",
                count.get(),
                t.elapsed()
            ),
            Err(e) => println!("HTTP, Resource Graph: not available in armsim ({e})"),
        }
    }
}

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    bench::main();
}
