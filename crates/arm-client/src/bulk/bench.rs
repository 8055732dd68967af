//! The bulk benchmark of issue 17 (feature `sim`): one user-assigned identity assigned to every scale set of a
//! generated tenant (armsim's [`armsim::tenant`]) in-process, with armsim's quotas on, on an [`EventClock`].
//! The figures are measured independently of the scheduler's own accounting: 429s and accepted requests from
//! armsim's request log, identities lost from a read-back compared with a separate copy of the tenant.

use super::{
    BatchState, BulkOptions, Counters, EventClock, IdentityRunner, ItemStatus, PacedTransport,
    Pacer, Scheduler,
};
use crate::transport::sim::SimTransport;
use crate::{ArmClient, Clock, LroOptions, RetryPolicy, StaticToken};
use armsim::quota::{READS_BURST, READS_PER_S, WRITES_BURST, WRITES_PER_S};
use armsim::tenant::TenantSpec;
use armsim::{Seed, Sim, SimConfig, SimRequest};
use identity_core::Operation;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// What the benchmark measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchFigures {
    /// Items in the batch.
    pub changes: usize,
    /// L: identities present before and missing on read-back (the change named none of them).
    pub lost: usize,
    /// F: items not applied (failed, never run, or applied but the identity is missing on read-back); no-ops
    /// and refusals are not failures.
    pub failed: usize,
    /// Z: writes answered 429.
    pub throttled_writes: usize,
    /// Writes sent in all.
    pub writes: usize,
    /// T: virtual seconds from the first request to the last answer.
    pub seconds: f64,
    /// M: the shortest time ARM's buckets allow for the requests the batch had accepted, per subscription
    /// (the slowest subscription): max((writes − 200) / 10, (reads − 250) / 25).
    pub quota_min_seconds: f64,
    /// Per-status counts.
    pub counters: Counters,
    /// The first few failures (item: message), to say why.
    pub failures: Vec<String>,
}

impl BenchFigures {
    /// The line `scripts/bench` prints.
    pub fn line(&self) -> String {
        format!(
            "bulk: {} changes, {} lost, {} failed, {} throttled, {:.1} s (quota minimum {:.1} s)",
            self.changes,
            self.lost,
            self.failed,
            self.throttled_writes,
            self.seconds,
            self.quota_min_seconds
        )
    }
}

/// Identities of a resource body: `"system"` and the user-assigned ids (lower case).
fn identities(body: &Value) -> BTreeSet<String> {
    let mut s = BTreeSet::new();
    let ty = body["identity"]["type"]
        .as_str()
        .unwrap_or("")
        .to_ascii_lowercase();
    if ty.contains("systemassigned") {
        s.insert("system".to_string());
    }
    if let Some(m) = body["identity"]["userAssignedIdentities"].as_object() {
        s.extend(m.keys().map(|k| k.to_ascii_lowercase()));
    }
    s
}

/// The batch checked against the read-back: identities lost (held before, gone after), items not as their status
/// says (applied or no-op but without `ua`, or not finished), and the first five of those.
fn verify(
    state: &BatchState,
    before: &[BTreeSet<String>],
    after: &[BTreeSet<String>],
    ua: &str,
) -> (usize, usize, Vec<String>) {
    let ua_key = ua.to_ascii_lowercase();
    let (mut lost, mut failed, mut failures) = (0, 0, vec![]);
    for (k, it) in state.items.iter().enumerate() {
        lost += before[k].difference(&after[k]).count();
        let ok = match it.status {
            ItemStatus::Applied | ItemStatus::NoOp => after[k].contains(&ua_key),
            ItemStatus::Refused => true,
            _ => false,
        };
        failed += usize::from(!ok);
        if !ok && failures.len() < 5 {
            failures.push(format!(
                "{}: {}",
                it.id,
                it.message.as_deref().unwrap_or("missing on read-back")
            ));
        }
    }
    (lost, failed, failures)
}

fn read_all(sim: &mut Sim, ids: &[String], now: u64) -> Vec<BTreeSet<String>> {
    ids.iter()
        .map(|id| {
            let r = sim.handle(
                SimRequest::new("GET", &format!("{id}?api-version=2024-11-01")),
                now,
            );
            identities(&r.json())
        })
        .collect()
}

/// The ids of every scale set of a tenant, in the seed's order (the bench's items).
pub fn scale_set_ids(seed: &Seed) -> Vec<String> {
    let mut items = Vec::new();
    for s in &seed.subscriptions {
        for g in &s.resource_groups {
            for v in &g.virtual_machine_scale_sets {
                items.push(format!(
                    "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachineScaleSets/{}",
                    s.subscription_id, g.name, v.name
                ));
            }
        }
    }
    items
}

/// The generated tenant's shared platform identity (`id-shared-platform` in the first subscription), the one the
/// bench assigns.
pub fn shared_identity(seed: &Seed) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/rg-identities-000/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-shared-platform",
        seed.subscriptions[0].subscription_id
    )
}

/// Runs the benchmark: `subscriptions` × `per_subscription` scale sets, `concurrency` items in flight.
pub fn identity_bench(
    subscriptions: usize,
    per_subscription: usize,
    opts: BulkOptions,
) -> BenchFigures {
    let spec = TenantSpec {
        subscriptions,
        scale_sets: subscriptions * per_subscription,
        vms: 0,
        identities: subscriptions * 4,
    };
    let seed = Seed::generate_tenant(&spec);
    let items = scale_set_ids(&seed);
    let ua = shared_identity(&seed);
    // the state before, from a separate copy of the same tenant
    let before = read_all(&mut Sim::from_seed(seed.clone()), &items, 0);

    let cfg = SimConfig {
        arm_quota: true,
        lro_delay_ms: 2_000,
        ..SimConfig::default()
    };
    let clock = EventClock::new(0);
    let sim = SimTransport::new(Sim::with_config(seed, cfg), Rc::new(clock.clone()));
    let pacer = Rc::new(Pacer::arm(Rc::new(clock.clone())));
    let paced = PacedTransport::new(Rc::new(sim.clone()), pacer.clone());
    let client = ArmClient::builder(
        "https://management.azure.com",
        Rc::new(paced),
        Rc::new(StaticToken::new("bench")),
    )
    .clock(Rc::new(clock.clone()))
    .concurrency(opts.concurrency.max(1) * 2)
    .retry(RetryPolicy::default().with_seed(17))
    .lro(LroOptions {
        poll_ms: 2_000,
        final_get: false,
        ..LroOptions::default()
    })
    .build()
    .expect("client");
    let runner = IdentityRunner::new(
        client,
        Operation::AddUserAssigned {
            ids: vec![ua.clone()],
        },
    );
    let sched = Scheduler::new(&items, runner, Rc::new(clock.clone()), opts);
    let handle = sched.handle();
    let counters = clock.run(sched.run());
    let seconds = clock.now_ms() as f64 / 1000.0;

    // the simulator's log: 429s on writes, accepted requests per subscription
    let mut sim_ref = sim.sim();
    let mut throttled_writes = 0;
    let mut writes = 0;
    let mut accepted: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for e in sim_ref.request_log() {
        let read = e.method.eq_ignore_ascii_case("GET");
        if !read {
            writes += 1;
        }
        if e.status == 429 {
            throttled_writes += usize::from(!read);
            continue;
        }
        let sub = super::subscription_of(&e.path);
        let a = accepted.entry(sub).or_default();
        if read {
            a.0 += 1;
        } else {
            a.1 += 1;
        }
    }
    let quota_min_seconds = accepted
        .values()
        .map(|(r, w)| {
            let r = ((*r as f64 - READS_BURST) / READS_PER_S).max(0.0);
            let w = ((*w as f64 - WRITES_BURST) / WRITES_PER_S).max(0.0);
            r.max(w)
        })
        .fold(0.0, f64::max);

    // read back, quotas off, long after
    let mut cfg = sim_ref.config().clone();
    cfg.arm_quota = false;
    sim_ref.set_config(cfg);
    let after = read_all(&mut sim_ref, &items, clock.now_ms() + 3_600_000);
    let (lost, failed, failures) = verify(&handle.snapshot(), &before, &after, &ua);
    BenchFigures {
        changes: items.len(),
        lost,
        failed,
        throttled_writes,
        writes,
        seconds,
        quota_min_seconds,
        counters,
        failures,
    }
}

/// The same benchmark against the **armsim server** (a separate process on loopback, started with
/// `--tenant SUBS,SCALE_SETS,0,IDENTITIES --arm-quota on --control`): requests over real TCP
/// ([`crate::transport::tcp::ThreadedTcpTransport`], one thread per request in flight) on the real clock
/// ([`super::RealClock`]). `url` is the server's `http://127.0.0.1:PORT`; `spec` the tenant it generated (the
/// same generator gives the state before, independently of the server). Figures from the server's request log
/// (`/_armsim/requests`): writes answered 429, accepted requests per subscription (M); the read-back after the
/// batch with the quotas switched off through `/_armsim/config`.
#[cfg(not(target_arch = "wasm32"))]
pub fn server_bench(
    url: &str,
    spec: &TenantSpec,
    opts: BulkOptions,
) -> Result<BenchFigures, String> {
    use crate::http::{HttpRequest, Method};
    use crate::transport::tcp::{TcpTransport, ThreadedTcpTransport};
    let url = url.trim_end_matches('/').to_string();
    let tcp = TcpTransport::default();
    let control = |method: Method, path: &str, body: Option<Value>| -> Result<Value, String> {
        let req = HttpRequest {
            method,
            url: format!("{url}{path}"),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.map(|b| b.to_string().into_bytes()),
        };
        let r = tcp
            .send_blocking(&req)
            .map_err(|e| format!("{path}: {e:?}"))?;
        if r.status >= 300 {
            return Err(format!(
                "{path}: {} {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            ));
        }
        Ok(serde_json::from_slice(&r.body).unwrap_or(Value::Null))
    };
    let seed = Seed::generate_tenant(spec);
    let items = scale_set_ids(&seed);
    let ua = shared_identity(&seed);
    let before = read_all(&mut Sim::from_seed(seed.clone()), &items, 0);
    control(Method::Delete, "/_armsim/requests", None)?;

    let clock = super::RealClock::new();
    let pacer = Rc::new(Pacer::arm(Rc::new(clock.clone())));
    let paced = PacedTransport::new(Rc::new(ThreadedTcpTransport::default()), pacer);
    let client = ArmClient::builder(&url, Rc::new(paced), Rc::new(StaticToken::new("bench")))
        .clock(Rc::new(clock.clone()))
        .concurrency(opts.concurrency.max(1) * 2)
        .retry(RetryPolicy::default().with_seed(17))
        .lro(LroOptions {
            poll_ms: 2_000,
            final_get: false,
            ..LroOptions::default()
        })
        .build()
        .map_err(|e| format!("client: {e}"))?;
    let runner = IdentityRunner::new(
        client,
        Operation::AddUserAssigned {
            ids: vec![ua.clone()],
        },
    );
    let sched = Scheduler::new(&items, runner, Rc::new(clock.clone()), opts);
    let handle = sched.handle();
    let started = std::time::Instant::now();
    let counters = clock.run(sched.run());
    let seconds = started.elapsed().as_secs_f64();

    let log = control(Method::Get, "/_armsim/requests", None)?;
    let entries = log
        .as_array()
        .cloned()
        .or_else(|| log["value"].as_array().cloned())
        .ok_or("the request log is not a list")?;
    let mut throttled_writes = 0;
    let mut writes = 0;
    let mut accepted: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for e in &entries {
        let method = e["method"].as_str().unwrap_or("");
        if method.eq_ignore_ascii_case("OPTIONS") {
            continue;
        }
        let read = method.eq_ignore_ascii_case("GET");
        let status = e["status"].as_u64().unwrap_or(0);
        writes += usize::from(!read);
        if status == 429 {
            throttled_writes += usize::from(!read);
            continue;
        }
        let a = accepted
            .entry(super::subscription_of(e["path"].as_str().unwrap_or("")))
            .or_default();
        if read {
            a.0 += 1;
        } else {
            a.1 += 1;
        }
    }
    let quota_min_seconds = accepted
        .values()
        .map(|(r, w)| {
            let r = ((*r as f64 - READS_BURST) / READS_PER_S).max(0.0);
            let w = ((*w as f64 - WRITES_BURST) / WRITES_PER_S).max(0.0);
            r.max(w)
        })
        .fold(0.0, f64::max);

    // read back with the quotas off
    control(
        Method::Post,
        "/_armsim/config",
        Some(serde_json::json!({"armQuota": false})),
    )?;
    let mut after = Vec::with_capacity(items.len());
    for id in &items {
        let req = HttpRequest {
            method: Method::Get,
            url: format!(
                "{url}{id}?api-version={}",
                identity_core::api_versions::COMPUTE
            ),
            headers: vec![("Authorization".into(), "Bearer bench".into())],
            body: None,
        };
        let r = tcp
            .send_blocking(&req)
            .map_err(|e| format!("read-back {id}: {e:?}"))?;
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        after.push(identities(&v));
    }
    let (lost, failed, failures) = verify(&handle.snapshot(), &before, &after, &ua);
    Ok(BenchFigures {
        changes: items.len(),
        lost,
        failed,
        throttled_writes,
        writes,
        seconds,
        quota_min_seconds,
        counters,
        failures,
    })
}
