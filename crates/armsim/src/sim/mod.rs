//! The in-memory ARM: its state, the public API ([`Sim`]) and the request pipeline (faults, dispatch, headers,
//! log). Each concern has its own module: `load` (seeds), `routes` (dispatch and paging), `compute` (scale sets,
//! VMs, extensions), `identities` (user-assigned identities), `operations` (long-running operations), `faults`
//! (injected faults and the control endpoint), `headers` (common headers), `quota` (ARM's and Compute's request
//! quotas), `errors` (ARM errors),
//! `roles` (role definitions and assignments, authorization), `graph` (Resource Graph), `ext` (the authentication
//! and authorization hooks around routing), `images` (the marketplace image catalog), `deployments` (the
//! `Microsoft.Resources/deployments` engine) with `template` (template expressions).

use crate::control::{Fault, LogEntry, Trigger};
use crate::error::ArmError;
use crate::http::{SimRequest, SimResponse, Target, percent_decode};
use crate::rng::{Rng, iso8601};
use crate::seed::{Seed, SeedLocation, SeedVmSize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

mod compute;
mod deployments;
mod errors;
mod ext;
mod faults;
pub mod graph;
mod headers;
mod identities;
mod images;
mod load;
mod operations;
pub mod quota;
pub mod roles;
mod routes;
mod template;

use errors::{invalid_body, method_not_allowed, no_route, only, rg_not_found};
use faults::{FaultEffects, FaultOutcome};

/// Settings of one simulator.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Origin used in `nextLink`, `Azure-AsyncOperation` and `Location` URLs (no trailing slash).
    pub base_url: String,
    /// Items per page of every list.
    pub page_size: usize,
    /// How long a long-running operation stays `InProgress`.
    pub lro_delay_ms: u64,
    /// Whether `/_armsim/…` control routes are answered by [`Sim::handle`] (the server's `--control`).
    pub control: bool,
    /// Bearer-token authentication (off when `None`); see [`crate::auth`].
    pub auth: Option<crate::auth::AuthConfig>,
    /// CORS for browser origins (off when no origin is configured); see [`crate::cors`].
    pub cors: crate::cors::CorsConfig,
    /// The per-principal role map: with `auth`, every request is authorized against the role assignments
    /// (these grants plus those made through the API); `None` = no authorization check.
    pub role_map: Option<Vec<roles::RoleGrant>>,
    /// How long a newly created principal (system- or user-assigned identity) answers `PrincipalNotFound` to
    /// role assignments (Azure's replication delay).
    pub principal_delay_ms: u64,
    /// Resource Graph's per-user quota enforced: past 15 queries in a 5-second window a caller gets 429 with
    /// `Retry-After` (the headers are sent either way); see [`graph`]. On by default.
    pub graph_quota: bool,
    /// ARM's request quotas enforced (see [`quota`]): the subscription buckets per caller (reads 250 + 25/s,
    /// writes 200 + 10/s, deletes 200 + 10/s) and Compute's per-resource budgets answer 429 + `Retry-After` when
    /// exhausted. The `x-ms-ratelimit-remaining-*` headers are sent either way. Off by default.
    pub arm_quota: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            base_url: "https://management.azure.com".into(),
            page_size: 100,
            lro_delay_ms: 5_000,
            control: false,
            auth: None,
            cors: crate::cors::CorsConfig::default(),
            role_map: None,
            principal_delay_ms: 0,
            graph_quota: true,
            arm_quota: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Vmss,
    Vm,
    Uai,
    Vnet,
    VmssExt,
    VmExt,
    /// A resource a deployment stored as it was sent (`Microsoft.Network/*` other than virtual networks).
    Generic,
}

#[derive(Debug, Clone)]
struct Res {
    kind: Kind,
    body: Value,
    etag: u64,
    busy: Option<String>,
}

#[derive(Debug, Clone)]
struct Group {
    id: String,
    name: String,
    location: String,
    tags: Map<String, Value>,
    managed_by: Option<String>,
}

#[derive(Debug, Clone)]
struct Sub {
    id: String,
    display_name: String,
    state: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Update,
    Create,
    Upgrade,
    DeleteExtension,
}

#[derive(Debug, Clone)]
struct Op {
    name: String,
    p: String,
    start_ms: u64,
    end_ms: u64,
    key: String,
    kind: OpKind,
    /// (terminal status, error code, message) when the operation does not succeed
    fail: Option<(String, String, String)>,
    done: bool,
}

#[derive(Debug, Clone)]
struct ActiveFault {
    id: u64,
    fault: Fault,
}

/// The simulator. Deterministic: the same seed and the same requests at the same clock values give the
/// same answers (ids come from a seeded PRNG; time only from the `now_ms` passed in).
///
/// ```
/// use armsim::{Seed, Sim, SimRequest};
/// let mut sim = Sim::from_seed(Seed::demo());
/// let r = sim.handle(SimRequest::new("GET", "/subscriptions?api-version=2022-12-01"), 0);
/// assert_eq!(r.status, 200);
/// assert_eq!(r.json()["value"].as_array().unwrap().len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Sim {
    cfg: SimConfig,
    tenant_id: String,
    tenant_name: String,
    guest_tenants: Vec<crate::seed::SeedTenant>,
    rng: Rng,
    subs: Vec<Sub>,
    groups: BTreeMap<String, Group>,
    res: BTreeMap<String, Res>,
    ops: BTreeMap<String, Op>,
    pending_ops: Vec<String>,
    locations: Vec<SeedLocation>,
    vm_sizes: Vec<SeedVmSize>,
    faults: Vec<ActiveFault>,
    fault_seq: u64,
    log: Vec<LogEntry>,
    seq: u64,
    buckets: BTreeMap<String, quota::Bucket>,
    /// The rate-limit headers counted for the request in progress (see `quota`).
    rate_headers: Option<Vec<(String, String)>>,
    rbac: roles::Rbac,
    caller: Option<crate::auth::Claims>,
    now_ms: u64,
    graph_windows: BTreeMap<String, (u64, u32)>,
    compute_budgets: BTreeMap<String, (u64, u32)>,
    deployments: BTreeMap<String, deployments::Deployment>,
    /// Bumped by anything that may change what a Resource Graph query returns (see `graph::Snapshot`).
    graph_epoch: u64,
    /// The latest queries' whole results, for the pages after their first.
    graph_snapshots: Vec<graph::Snapshot>,
    graph_snapshot_seq: u64,
}

type R = Result<SimResponse, ArmError>;

/// One request on its way through the routes: its method (upper case), parsed URL, the request and the clock.
#[derive(Clone, Copy)]
struct Call<'a> {
    m: &'a str,
    t: &'a Target,
    req: &'a SimRequest,
    now: u64,
}

/// Maximum entries kept in the request log (oldest dropped first).
pub const LOG_CAPACITY: usize = 100_000;

impl Sim {
    /// A simulator with the default configuration.
    pub fn from_seed(seed: Seed) -> Sim {
        Sim::with_config(seed, SimConfig::default())
    }

    /// A simulator with the given configuration.
    ///
    /// ```
    /// use armsim::{Seed, Sim, SimConfig};
    /// let cfg = SimConfig { base_url: "http://127.0.0.1:8080".into(), page_size: 2, ..SimConfig::default() };
    /// let sim = Sim::with_config(Seed::demo(), cfg);
    /// assert_eq!(sim.config().page_size, 2);
    /// ```
    pub fn with_config(seed: Seed, cfg: SimConfig) -> Sim {
        let mut sim = Sim {
            cfg,
            tenant_id: seed.tenant_id.clone(),
            tenant_name: seed
                .tenant_display_name
                .clone()
                .unwrap_or_else(|| "Contoso".into()),
            guest_tenants: seed.guest_tenants.clone(),
            rng: Rng::new(seed.rng_seed),
            subs: vec![],
            groups: BTreeMap::new(),
            res: BTreeMap::new(),
            ops: BTreeMap::new(),
            pending_ops: vec![],
            locations: seed.locations.clone(),
            vm_sizes: seed.vm_sizes.clone(),
            faults: vec![],
            fault_seq: 0,
            log: vec![],
            seq: 0,
            buckets: BTreeMap::new(),
            rate_headers: None,
            rbac: roles::Rbac::default(),
            caller: None,
            now_ms: 0,
            graph_windows: BTreeMap::new(),
            compute_budgets: BTreeMap::new(),
            deployments: BTreeMap::new(),
            graph_epoch: 0,
            graph_snapshots: vec![],
            graph_snapshot_seq: 0,
        };
        sim.cfg.base_url = sim.cfg.base_url.trim_end_matches('/').to_string();
        sim.load(&seed);
        sim.load_role_map();
        sim.load_seed_role_assignments(&seed);
        sim
    }

    /// The configuration in force.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// Changes the configuration (e.g. the base URL once a server knows its port).
    pub fn set_config(&mut self, cfg: SimConfig) {
        self.graph_epoch += 1;
        self.cfg = cfg;
        self.cfg.base_url = self.cfg.base_url.trim_end_matches('/').to_string();
    }

    /// Adds a fault; returns its id.
    ///
    /// ```
    /// use armsim::{Fault, Matcher, Seed, Sim, SimRequest};
    /// let mut sim = Sim::from_seed(Seed::demo());
    /// sim.inject(Fault::Throttle { count: 1, retry_after_seconds: 7, matcher: Matcher::default() });
    /// let r = sim.handle(SimRequest::new("GET", "/subscriptions?api-version=2022-12-01"), 0);
    /// assert_eq!((r.status, r.header("Retry-After")), (429, Some("7")));
    /// ```
    pub fn inject(&mut self, fault: Fault) -> u64 {
        self.graph_epoch += 1;
        self.fault_seq += 1;
        let id = self.fault_seq;
        if let Fault::ConcurrentWrite {
            resource_id,
            change,
            trigger: Trigger::Now,
        } = &fault
        {
            let (rid, ch) = (resource_id.clone(), change.clone());
            self.concurrent_write(&rid, &ch);
            return id;
        }
        self.faults.push(ActiveFault { id, fault });
        id
    }

    /// Faults still armed (with their remaining counts).
    pub fn faults(&self) -> Vec<(u64, Fault)> {
        self.faults
            .iter()
            .map(|f| (f.id, f.fault.clone()))
            .collect()
    }

    /// Disarms every fault.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// The requests seen since the log was last cleared (control requests are not logged).
    pub fn request_log(&self) -> &[LogEntry] {
        &self.log
    }

    /// Empties the request log.
    pub fn clear_request_log(&mut self) {
        self.log.clear();
    }

    /// Answers one request at time `now_ms` (milliseconds since the Unix epoch; any monotonic clock works).
    ///
    /// ```
    /// use armsim::{Seed, Sim, SimRequest};
    /// use serde_json::json;
    /// let mut sim = Sim::from_seed(Seed::demo());
    /// let id = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web";
    /// let get = sim.handle(SimRequest::new("GET", &format!("{id}?api-version=2024-11-01")), 0);
    /// let etag = get.header("ETag").unwrap().to_string();
    /// let patch = SimRequest::new("PATCH", &format!("{id}?api-version=2024-11-01"))
    ///     .header("If-Match", &etag)
    ///     .json(&json!({"identity": {"type": "None"}}));
    /// let r = sim.handle(patch, 1_000);
    /// assert_eq!(r.status, 200);
    /// assert!(r.header("Azure-AsyncOperation").is_some());
    /// assert_eq!(r.json()["properties"]["provisioningState"], "Updating");
    /// ```
    pub fn handle(&mut self, req: SimRequest, now_ms: u64) -> SimResponse {
        let t = Target::parse(&req.url);
        // what may change a Resource Graph result: anything but a read or a query while no fault is armed
        let method = req.method.to_ascii_uppercase();
        let is_query = method == "POST"
            && t.segments
                .last()
                .is_some_and(|s| s.eq_ignore_ascii_case("resources"))
            && t.segments
                .iter()
                .any(|s| s.eq_ignore_ascii_case("Microsoft.ResourceGraph"));
        if !(matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS") || is_query)
            || !self.faults.is_empty()
        {
            self.graph_epoch += 1;
        }
        if self.cfg.control && t.segments.first().is_some_and(|s| s == "_armsim") {
            if let Some(r) = self.control_roles(&req, &t) {
                return r;
            }
            return self.control_http(&req, &t);
        }
        if let Some(r) = self.cfg.cors.preflight(&req) {
            // logged like any request: a test can see that a browser's preflight reached armsim
            self.seq += 1;
            self.record(&req, &t, now_ms, r.status, None);
            return r;
        }
        self.seq += 1;
        self.complete_due(now_ms);
        let caller = match self.gate(&req, &t, &method, now_ms) {
            Ok(c) => c,
            Err(e) => {
                let mut resp = error_response(&e);
                // counted against no caller's bucket but the anonymous one (not the previous request's caller)
                self.caller = None;
                self.stamp(&mut resp, &req, &method, &t, now_ms);
                self.cfg.cors.decorate(&req, &mut resp);
                self.record(&req, &t, now_ms, resp.status, None);
                return resp;
            }
        };
        self.caller = caller.clone();
        self.now_ms = now_ms;
        let (rate, throttled) = self.quota_account(&method, &t, now_ms);
        self.rate_headers = Some(rate);
        if let Some(e) = throttled {
            let mut resp = error_response(&e);
            self.stamp(&mut resp, &req, &method, &t, now_ms);
            self.cfg.cors.decorate(&req, &mut resp);
            self.record(&req, &t, now_ms, resp.status, Some("quota".into()));
            return resp;
        }
        let FaultEffects {
            delay_ms,
            name: fault_name,
            drop_after,
            forced,
        } = match self.apply_faults(&req, &t, &method, now_ms) {
            FaultOutcome::Dropped(resp) => return resp,
            FaultOutcome::Apply(effects) => effects,
        };
        let mut resp = match forced {
            Some(e) => error_response(&e),
            None => match self.dispatch(Call {
                m: &method,
                t: &t,
                req: &req,
                now: now_ms,
            }) {
                Ok(r) => r,
                Err(e) => error_response(&e),
            },
        };
        if method == "GET" && resp.status == 200 {
            self.trigger_after_get(&t);
        }
        self.after_dispatch(caller.as_ref(), &method, &t, &mut resp, now_ms);
        self.stamp(&mut resp, &req, &method, &t, now_ms);
        self.cfg.cors.decorate(&req, &mut resp);
        resp.delay_ms = delay_ms;
        if drop_after {
            resp.drop_connection = true;
        }
        let status = if drop_after { 0 } else { resp.status };
        self.record(&req, &t, now_ms, status, fault_name);
        resp
    }

    fn record(
        &mut self,
        req: &SimRequest,
        t: &Target,
        now: u64,
        status: u16,
        fault: Option<String>,
    ) {
        let headers = req
            .headers
            .iter()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("authorization") {
                    "<redacted>".to_string()
                } else {
                    v.clone()
                };
                (k.clone(), v)
            })
            .collect();
        if self.log.len() >= LOG_CAPACITY {
            self.log.remove(0);
        }
        self.log.push(LogEntry {
            seq: self.seq,
            time_ms: now,
            method: req.method.clone(),
            path: t.path.clone(),
            query: t.query.clone(),
            headers,
            body: req.body.clone(),
            status,
            fault,
        });
    }
}

// -------------------------------------------------------------------- helpers shared by the modules

impl Target {
    fn path_decoded(&self) -> String {
        format!("/{}", self.segments.join("/"))
    }
    fn path_decoded_prefix(&self, n: usize) -> String {
        format!("/{}", self.segments[..n.min(self.segments.len())].join("/"))
    }
}

fn key(id: &str) -> String {
    id.to_ascii_lowercase()
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> String {
    let s = percent_decode(s);
    let bytes: Vec<u8> = (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn iso_compact(ms: u64) -> String {
    let s = iso8601(ms);
    format!("{}Z", s[..19].replace(['-', ':'], ""))
}

fn ok(status: u16, body: &Value) -> SimResponse {
    SimResponse {
        status,
        body: body.to_string(),
        ..Default::default()
    }
}

pub(crate) fn error_response(e: &ArmError) -> SimResponse {
    SimResponse {
        status: e.status,
        headers: e.headers.clone(),
        body: e.body().to_string(),
        ..Default::default()
    }
}

/// A PUT body's `location` (required: 400 `LocationRequired` without it).
fn body_location(b: &Value) -> Result<String, ArmError> {
    b.get("location")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(errors::location_required)
}

/// A PUT body's `tags` (`{}` when absent or not an object).
fn body_tags(b: &Value) -> Map<String, Value> {
    b.get("tags")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn parse_body(req: &SimRequest) -> Result<Value, ArmError> {
    if req.body.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str(&req.body).map_err(|e| invalid_body(&e.to_string()))
}
