//! The in-memory ARM: state, routing, long-running operations, faults and the request log.

use crate::apiver::{self, Family};
use crate::control::{Change, Fault, LogEntry, Trigger};
use crate::error::{ArmError, invalid_parameter};
use crate::http::{SimRequest, SimResponse, Target, percent_decode};
use crate::identity::{IdentityState, MergeMode, SystemIds, UserIds, merge_identity};
use crate::rng::{Rng, iso8601};
use crate::seed::{Seed, SeedCompute, SeedLocation, SeedVmSize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

#[path = "ext.rs"]
mod ext;
#[path = "graph.rs"]
pub mod graph;
#[path = "roles.rs"]
pub mod roles;

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

#[derive(Debug, Clone, Copy)]
struct Bucket {
    reads: f64,
    writes: f64,
    deletes: f64,
    at_ms: u64,
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
    buckets: BTreeMap<String, Bucket>,
    rbac: roles::Rbac,
    caller: Option<crate::auth::Claims>,
    now_ms: u64,
    graph_windows: BTreeMap<String, (u64, u32)>,
    compute_budgets: BTreeMap<String, (u64, u32)>,
}

type R = Result<SimResponse, ArmError>;

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
            rbac: roles::Rbac::default(),
            caller: None,
            now_ms: 0,
            graph_windows: BTreeMap::new(),
            compute_budgets: BTreeMap::new(),
        };
        sim.cfg.base_url = sim.cfg.base_url.trim_end_matches('/').to_string();
        sim.load(&seed);
        sim.load_role_map();
        sim
    }

    /// The configuration in force.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// Changes the configuration (e.g. the base URL once a server knows its port).
    pub fn set_config(&mut self, cfg: SimConfig) {
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
        let method = req.method.to_ascii_uppercase();
        let caller = match self.gate(&req, &t, &method, now_ms) {
            Ok(c) => c,
            Err(e) => {
                let mut resp = error_response(&e);
                self.stamp(&mut resp, &req, &method, &t, now_ms);
                self.cfg.cors.decorate(&req, &mut resp);
                self.record(&req, &t, now_ms, resp.status, None);
                return resp;
            }
        };
        self.caller = caller.clone();
        self.now_ms = now_ms;
        let mut delay_ms = 0;
        let mut fault_name: Option<String> = None;
        let mut drop_after = false;
        let mut forced: Option<ArmError> = None;
        let tenant = self.tenant_id.clone();
        let mut i = 0;
        while i < self.faults.len() {
            let mut consumed = false;
            match &mut self.faults[i].fault {
                Fault::Latency { count, ms, matcher } if matcher.matches(&method, &t.path) => {
                    delay_ms += *ms;
                    fault_name.get_or_insert("latency".into());
                    *count = count.saturating_sub(1);
                    consumed = *count == 0;
                }
                Fault::Drop {
                    count,
                    after_processing,
                    matcher,
                } if forced.is_none() && !drop_after && matcher.matches(&method, &t.path) => {
                    let after = *after_processing;
                    *count = count.saturating_sub(1);
                    consumed = *count == 0;
                    fault_name = Some("drop".into());
                    if !after {
                        if consumed {
                            self.faults.remove(i);
                        }
                        let resp = SimResponse {
                            status: 0,
                            delay_ms,
                            drop_connection: true,
                            ..Default::default()
                        };
                        self.record(&req, &t, now_ms, 0, fault_name);
                        return resp;
                    }
                    drop_after = true;
                }
                Fault::Throttle {
                    count,
                    retry_after_seconds,
                    matcher,
                } if forced.is_none() && matcher.matches(&method, &t.path) => {
                    let sub = t.segments.get(1).cloned().unwrap_or_default();
                    let kind = if method == "GET" { "read" } else { "write" };
                    let mut e = ArmError::new(
                        429,
                        "SubscriptionRequestsThrottled",
                        format!(
                            "Number of '{kind}' requests for subscription '{sub}' actor '00000000-0000-0000-0000-000000000000' exceeded. Please try again after '{retry_after_seconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information."
                        ),
                    );
                    e.headers
                        .push(("Retry-After".into(), retry_after_seconds.to_string()));
                    forced = Some(e);
                    fault_name = Some("throttle".into());
                    *count = count.saturating_sub(1);
                    consumed = *count == 0;
                }
                Fault::Forbidden {
                    count,
                    linked,
                    matcher,
                } if forced.is_none() && matcher.matches(&method, &t.path) => {
                    forced = Some(forbidden(*linked, &method, &t, &req.body));
                    fault_name = Some("forbidden".into());
                    *count = count.saturating_sub(1);
                    consumed = *count == 0;
                }
                Fault::Unauthorized { count, matcher }
                    if forced.is_none() && matcher.matches(&method, &t.path) =>
                {
                    forced = Some(unauthorized(&tenant, now_ms));
                    fault_name = Some("unauthorized".into());
                    *count = count.saturating_sub(1);
                    consumed = *count == 0;
                }
                Fault::ServerError {
                    count,
                    status,
                    matcher,
                } if forced.is_none() && matcher.matches(&method, &t.path) => {
                    let (code, msg) = match *status {
                        503 => (
                            "ServiceUnavailable",
                            "The server is currently unable to handle the request. Please retry.",
                        ),
                        502 => (
                            "BadGateway",
                            "The gateway did not receive a response from the service in time.",
                        ),
                        504 => (
                            "GatewayTimeout",
                            "The gateway did not receive a response from 'Microsoft.Compute' within the specified time period.",
                        ),
                        _ => (
                            "InternalServerError",
                            "Encountered internal server error. Please try again.",
                        ),
                    };
                    forced = Some(ArmError::new(*status, code, msg));
                    fault_name = Some("serverError".into());
                    *count = count.saturating_sub(1);
                    consumed = *count == 0;
                }
                _ => {}
            }
            if consumed {
                self.faults.remove(i);
            } else {
                i += 1;
            }
        }
        let mut resp = match forced {
            Some(e) => error_response(&e),
            None => match self.dispatch(&method, &t, &req, now_ms) {
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

    // ---------------------------------------------------------------- seed

    fn load(&mut self, seed: &Seed) {
        for s in &seed.subscriptions {
            self.subs.push(Sub {
                id: s.subscription_id.clone(),
                display_name: s.display_name.clone(),
                state: s.state.clone(),
            });
            for g in &s.resource_groups {
                let gid = format!(
                    "/subscriptions/{}/resourceGroups/{}",
                    s.subscription_id, g.name
                );
                self.groups.insert(
                    key(&gid),
                    Group {
                        id: gid.clone(),
                        name: g.name.clone(),
                        location: g.location.clone(),
                        tags: g.tags.clone(),
                        managed_by: g.managed_by.clone(),
                    },
                );
                for u in &g.user_assigned_identities {
                    let loc = u.location.clone().unwrap_or_else(|| g.location.clone());
                    let pid = u.principal_id.clone().unwrap_or_else(|| self.rng.uuid());
                    let cid = u.client_id.clone().unwrap_or_else(|| self.rng.uuid());
                    let body = self.uai_body(
                        &s.subscription_id,
                        &g.name,
                        &u.name,
                        &loc,
                        &u.tags,
                        &pid,
                        &cid,
                    );
                    self.put_res(Kind::Uai, body, 0);
                }
                for v in &g.virtual_networks {
                    let loc = v.location.clone().unwrap_or_else(|| g.location.clone());
                    let id = format!(
                        "{gid}/providers/Microsoft.Network/virtualNetworks/{}",
                        v.name
                    );
                    let subnets: Vec<Value> = v
                        .subnets
                        .iter()
                        .map(|sn| {
                            json!({"name": sn.name, "id": format!("{id}/subnets/{}", sn.name),
                                "etag": format!("W/\"{}\"", self.rng.uuid()),
                                "type": "Microsoft.Network/virtualNetworks/subnets",
                                "properties": {"provisioningState": "Succeeded", "addressPrefix": sn.address_prefix}})
                        })
                        .collect();
                    let body = json!({"name": v.name, "id": id, "etag": format!("W/\"{}\"", self.rng.uuid()),
                        "type": "Microsoft.Network/virtualNetworks", "location": loc, "tags": {},
                        "properties": {"provisioningState": "Succeeded", "resourceGuid": self.rng.uuid(),
                            "addressSpace": {"addressPrefixes": v.address_prefixes}, "subnets": subnets}});
                    self.put_res(Kind::Vnet, body, 0);
                }
                for c in &g.virtual_machine_scale_sets {
                    self.load_compute(Kind::Vmss, &s.subscription_id, g, c);
                }
                for c in &g.virtual_machines {
                    self.load_compute(Kind::Vm, &s.subscription_id, g, c);
                }
                for raw in &g.resources {
                    self.load_raw(&s.subscription_id, g, raw);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn uai_body(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        loc: &str,
        tags: &Map<String, Value>,
        pid: &str,
        cid: &str,
    ) -> Value {
        // Microsoft.ManagedIdentity answers ids with lower-case `resourcegroups` (recorded).
        json!({"location": loc, "tags": tags,
            "id": format!("/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"),
            "name": name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "properties": {"isolationScope": "None", "tenantId": self.tenant_id, "principalId": pid, "clientId": cid}})
    }

    fn resolve_ua(&self, sub: &str, rg: &str, r: &str) -> String {
        if r.starts_with('/') {
            return r.to_string();
        }
        let (g, n) = r.split_once('/').unwrap_or((rg, r));
        format!(
            "/subscriptions/{sub}/resourceGroups/{g}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}"
        )
    }

    fn load_compute(&mut self, kind: Kind, sub: &str, g: &crate::seed::SeedGroup, c: &SeedCompute) {
        let gid = format!("/subscriptions/{sub}/resourceGroups/{}", g.name);
        let loc = c.location.clone().unwrap_or_else(|| g.location.clone());
        let size = c.sku.clone().unwrap_or_else(|| "Standard_D2s_v3".into());
        let windows =
            c.os.as_deref()
                .is_some_and(|o| o.eq_ignore_ascii_case("windows"));
        let subnet = c.subnet.as_ref().map(|s| {
            if s.starts_with('/') {
                s.clone()
            } else {
                let (v, n) = s.split_once('/').unwrap_or((s, "default"));
                format!("{gid}/providers/Microsoft.Network/virtualNetworks/{v}/subnets/{n}")
            }
        });
        let image = if windows {
            json!({"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-azure-edition", "version": "latest"})
        } else {
            json!({"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"})
        };
        let os_cfg = if windows {
            (
                "windowsConfiguration",
                json!({"provisionVMAgent": true, "enableAutomaticUpdates": true}),
            )
        } else {
            (
                "linuxConfiguration",
                json!({"disablePasswordAuthentication": true, "provisionVMAgent": true,
                "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIArmsimDemoKey azureuser"}]}}),
            )
        };
        let mut identity = IdentityState::default();
        if let Some(si) = &c.identity {
            let t = crate::identity::IdentityType::parse(&si.identity_type).unwrap_or(
                crate::identity::IdentityType {
                    system: false,
                    user: !si.user_assigned.is_empty(),
                },
            );
            if t.system {
                let pid = si.principal_id.clone().unwrap_or_else(|| self.rng.uuid());
                identity.system = Some(SystemIds {
                    principal_id: pid,
                    tenant_id: self.tenant_id.clone(),
                });
            }
            if t.user {
                for u in &si.user_assigned {
                    let id = self.resolve_ua(sub, &g.name, u);
                    let ids = self.ua_ids(&id);
                    identity.user.push((id, ids));
                }
            }
        }
        let (id, body) = match kind {
            Kind::Vmss => {
                let id = format!(
                    "{gid}/providers/Microsoft.Compute/virtualMachineScaleSets/{}",
                    c.name
                );
                let mode = c
                    .orchestration_mode
                    .clone()
                    .unwrap_or_else(|| "Uniform".into());
                let prefix: String = c
                    .name
                    .chars()
                    .filter(|ch| ch.is_ascii_alphanumeric())
                    .take(9)
                    .collect();
                let mut nic = json!({"name": format!("{}-nic", c.name), "properties": {"primary": true,
                    "ipConfigurations": [{"name": format!("{}-ipconfig", c.name), "properties": {"subnet": {"id": subnet}}}]}});
                if subnet.is_none() {
                    nic["properties"]["ipConfigurations"][0]["properties"] = json!({});
                }
                let mut vmp = json!({
                    "osProfile": {"computerNamePrefix": prefix, "adminUsername": "azureuser", os_cfg.0: os_cfg.1},
                    "storageProfile": {"imageReference": image, "osDisk": {"createOption": "FromImage", "caching": "ReadWrite", "managedDisk": {"storageAccountType": "Premium_LRS"}}},
                    "networkProfile": {"networkInterfaceConfigurations": [nic]}
                });
                if mode.eq_ignore_ascii_case("flexible") {
                    vmp["networkProfile"]["networkApiVersion"] = json!("2020-11-01");
                }
                let mut props = json!({
                    "singlePlacementGroup": false,
                    "orchestrationMode": mode,
                    "upgradePolicy": {"mode": c.upgrade_policy.clone().unwrap_or_else(|| "Manual".into())},
                    "virtualMachineProfile": vmp,
                    "overprovision": false,
                    "provisioningState": "Succeeded",
                    "uniqueId": self.rng.uuid(),
                    "timeCreated": "2026-01-15T09:30:00.0000000+00:00"
                });
                if mode.eq_ignore_ascii_case("flexible") {
                    props["platformFaultDomainCount"] = json!(1);
                }
                let body = json!({"name": c.name, "id": id, "type": "Microsoft.Compute/virtualMachineScaleSets",
                    "location": loc, "tags": c.tags,
                    "sku": {"name": size, "tier": "Standard", "capacity": c.capacity.unwrap_or(2)},
                    "properties": props});
                (id, body)
            }
            _ => {
                let id = format!(
                    "{gid}/providers/Microsoft.Compute/virtualMachines/{}",
                    c.name
                );
                let nic = format!(
                    "{gid}/providers/Microsoft.Network/networkInterfaces/{}-nic",
                    c.name
                );
                let body = json!({"name": c.name, "id": id, "type": "Microsoft.Compute/virtualMachines",
                    "location": loc, "tags": c.tags,
                    "properties": {"vmId": self.rng.uuid(), "hardwareProfile": {"vmSize": size},
                        "storageProfile": {"imageReference": image, "osDisk": {"osType": if windows {"Windows"} else {"Linux"}, "name": format!("{}_OsDisk_1", c.name), "createOption": "FromImage", "caching": "ReadWrite", "managedDisk": {"storageAccountType": "Premium_LRS"}}},
                        "osProfile": {"computerName": c.name, "adminUsername": "azureuser", os_cfg.0: os_cfg.1},
                        "networkProfile": {"networkInterfaces": [{"id": nic}]},
                        "provisioningState": "Succeeded",
                        "timeCreated": "2026-01-15T09:30:00.0000000+00:00"}});
                (id, body)
            }
        };
        let mut body = body;
        if let Some(extra) = &c.properties {
            merge_json(&mut body["properties"], extra);
        }
        set_identity(&mut body, &identity);
        let etag = c.etag.unwrap_or(1);
        self.put_res(kind, body, etag);
        for e in &c.extensions {
            let (ek, ety) = if kind == Kind::Vmss {
                (
                    Kind::VmssExt,
                    "Microsoft.Compute/virtualMachineScaleSets/extensions",
                )
            } else {
                (Kind::VmExt, "Microsoft.Compute/virtualMachines/extensions")
            };
            let mut eb = json!({"name": e.name, "id": format!("{id}/extensions/{}", e.name), "type": ety,
                "properties": {"autoUpgradeMinorVersion": true, "provisioningState": "Succeeded",
                    "publisher": e.publisher, "type": e.extension_type, "typeHandlerVersion": e.type_handler_version}});
            if let Some(s) = &e.settings {
                eb["properties"]["settings"] = s.clone();
            }
            if kind == Kind::Vm {
                eb["location"] = json!(loc);
            }
            self.put_res(ek, eb, 0);
        }
    }

    /// A resource given as a full ARM body (e.g. the output of `az vmss show`): its `type` picks the kind, its id
    /// is rebuilt in this group, its `etag` ("\"N\"") is kept, extensions listed in a scale set's
    /// `extensionProfile` or a VM's `resources` become extension resources.
    fn load_raw(&mut self, sub: &str, g: &crate::seed::SeedGroup, raw: &Value) {
        let ty = raw["type"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let name = raw["name"].as_str().unwrap_or_default().to_string();
        let gid = format!("/subscriptions/{sub}/resourceGroups/{}", g.name);
        let (kind, path) = match ty.as_str() {
            "microsoft.compute/virtualmachinescalesets" => {
                (Kind::Vmss, "Microsoft.Compute/virtualMachineScaleSets")
            }
            "microsoft.compute/virtualmachines" => (Kind::Vm, "Microsoft.Compute/virtualMachines"),
            "microsoft.managedidentity/userassignedidentities" => (
                Kind::Uai,
                "Microsoft.ManagedIdentity/userAssignedIdentities",
            ),
            "microsoft.network/virtualnetworks" => {
                (Kind::Vnet, "Microsoft.Network/virtualNetworks")
            }
            _ => return,
        };
        let mut body = raw.clone();
        let id = if kind == Kind::Uai {
            format!(
                "/subscriptions/{sub}/resourcegroups/{}/providers/{path}/{name}",
                g.name
            )
        } else {
            format!("{gid}/providers/{path}/{name}")
        };
        body["id"] = json!(id);
        if body.get("location").is_none() {
            body["location"] = json!(g.location);
        }
        let etag = body
            .get("etag")
            .and_then(Value::as_str)
            .and_then(|e| e.trim_matches('"').parse::<u64>().ok())
            .unwrap_or(1);
        let mut exts = vec![];
        if let Some(o) = body.as_object_mut() {
            o.remove("etag");
            if kind == Kind::Vm
                && let Some(Value::Array(r)) = o.remove("resources")
            {
                exts = r;
            }
        }
        if kind == Kind::Vmss
            && let Some(Value::Array(r)) = body["properties"]["virtualMachineProfile"]
                .get_mut("extensionProfile")
                .and_then(|e| e.as_object_mut())
                .and_then(|e| e.remove("extensions"))
        {
            exts = r;
        }
        if matches!(kind, Kind::Vmss | Kind::Vm) {
            let st = IdentityState::from_json(body.get("identity"));
            set_identity(&mut body, &st);
            canonical_enums(&mut body);
        }
        self.put_res(
            kind,
            body,
            if matches!(kind, Kind::Vmss | Kind::Vm) {
                etag
            } else {
                0
            },
        );
        let ekind = if kind == Kind::Vmss {
            Kind::VmssExt
        } else {
            Kind::VmExt
        };
        let ety = if kind == Kind::Vmss {
            "Microsoft.Compute/virtualMachineScaleSets/extensions"
        } else {
            "Microsoft.Compute/virtualMachines/extensions"
        };
        for mut e in exts {
            let en = e["name"].as_str().unwrap_or_default().to_string();
            e["id"] = json!(format!("{id}/extensions/{en}"));
            e["type"] = json!(ety);
            self.put_res(ekind, e, 0);
        }
    }

    fn put_res(&mut self, kind: Kind, body: Value, etag: u64) {
        let id = body["id"].as_str().unwrap_or_default().to_string();
        self.res.insert(
            key(&id),
            Res {
                kind,
                body,
                etag,
                busy: None,
            },
        );
    }

    fn ua_ids(&self, id: &str) -> Option<UserIds> {
        let r = self.res.get(&key(id)).filter(|r| r.kind == Kind::Uai)?;
        Some(UserIds {
            principal_id: r.body["properties"]["principalId"].as_str()?.to_string(),
            client_id: r.body["properties"]["clientId"].as_str()?.to_string(),
        })
    }

    // ---------------------------------------------------------------- plumbing

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

    /// ARM's common headers: request ids and the subscription rate-limit counters (a token bucket of 250 reads
    /// refilled 25/s and 200 writes refilled 10/s per subscription, per the throttling doc; reported, not enforced).
    fn stamp(
        &mut self,
        resp: &mut SimResponse,
        req: &SimRequest,
        method: &str,
        t: &Target,
        now: u64,
    ) {
        let rid = self.rng.uuid();
        let corr = req
            .get_header("x-ms-correlation-request-id")
            .map(str::to_string)
            .unwrap_or_else(|| rid.clone());
        let mut h = vec![
            ("Cache-Control".to_string(), "no-cache".to_string()),
            ("Pragma".into(), "no-cache".into()),
            ("Expires".into(), "-1".into()),
            ("x-ms-request-id".into(), rid.clone()),
            ("x-ms-correlation-request-id".into(), corr),
            (
                "x-ms-routing-request-id".into(),
                format!("WESTEUROPE:{}:{}", iso_compact(now), rid.to_uppercase()),
            ),
        ];
        if !resp.body.is_empty() {
            h.push((
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            ));
        }
        let sub = match t.segments.first() {
            Some(s) if s.eq_ignore_ascii_case("subscriptions") => t.segments.get(1).cloned(),
            _ => None,
        }
        .unwrap_or_else(|| "tenant".into())
        .to_ascii_lowercase();
        let b = self.buckets.entry(sub).or_insert(Bucket {
            reads: 250.0,
            writes: 200.0,
            deletes: 200.0,
            at_ms: now,
        });
        let dt = now.saturating_sub(b.at_ms) as f64 / 1000.0;
        b.reads = (b.reads + dt * 25.0).min(250.0);
        b.writes = (b.writes + dt * 10.0).min(200.0);
        b.deletes = (b.deletes + dt * 10.0).min(200.0);
        b.at_ms = now.max(b.at_ms);
        if method == "GET" {
            b.reads = (b.reads - 1.0).max(0.0);
            h.push((
                "x-ms-ratelimit-remaining-subscription-reads".into(),
                format!("{}", b.reads as u64),
            ));
            h.push((
                "x-ms-ratelimit-remaining-subscription-global-reads".into(),
                format!("{}", (b.reads * 15.0) as u64),
            ));
        } else if method == "DELETE" {
            b.deletes = (b.deletes - 1.0).max(0.0);
            h.push((
                "x-ms-ratelimit-remaining-subscription-deletes".into(),
                format!("{}", b.deletes as u64),
            ));
            h.push((
                "x-ms-ratelimit-remaining-subscription-global-deletes".into(),
                format!("{}", (b.deletes * 15.0) as u64),
            ));
        } else {
            b.writes = (b.writes - 1.0).max(0.0);
            h.push((
                "x-ms-ratelimit-remaining-subscription-writes".into(),
                format!("{}", b.writes as u64),
            ));
            h.push((
                "x-ms-ratelimit-remaining-subscription-global-writes".into(),
                format!("{}", (b.writes * 15.0) as u64),
            ));
        }
        if let Some(v) = self.compute_budget(method, t, now) {
            h.push(("x-ms-ratelimit-remaining-resource".into(), v));
        }
        h.append(&mut resp.headers);
        resp.headers = h;
    }

    /// Compute's own budgets in the recorded header shape
    /// (`Microsoft.Compute/GetVMScaleSetSubscriptionMaximum;2396,Microsoft.Compute/GetVMScaleSetResource;31`,
    /// `Microsoft.Compute/VMScaleSetActionsSubscriptionMaximum;1499,Microsoft.Compute/VMScaleSetActionsResource;11`).
    /// The budgets (2,400 / 35 reads and 1,500 / 12 actions per 3-minute window) are read off the recorded values;
    /// the window length is an assumption. Reported only, never enforced.
    fn compute_budget(&mut self, method: &str, t: &Target, now: u64) -> Option<String> {
        let seg = &t.segments;
        if seg.len() < 8 || !seg[5].eq_ignore_ascii_case("microsoft.compute") {
            return None;
        }
        let (noun, read_max, act_max) = if seg[6].eq_ignore_ascii_case("virtualmachinescalesets") {
            ("VMScaleSet", 35u32, 12u32)
        } else if seg[6].eq_ignore_ascii_case("virtualmachines") {
            ("VM", 35, 12)
        } else {
            return None;
        };
        let read = method == "GET";
        let window = now / 180_000;
        let sub_key = format!("{}|{}|{read}", seg[1].to_ascii_lowercase(), noun);
        let res_key = format!("{}|{read}", key(&t.path_decoded_prefix(8)));
        let mut bump = |k: String| {
            let e = self.compute_budgets.entry(k).or_insert((window, 0));
            if e.0 != window {
                *e = (window, 0);
            }
            e.1 += 1;
            e.1
        };
        let used_sub = bump(sub_key);
        let used_res = bump(res_key);
        Some(if read {
            format!(
                "Microsoft.Compute/Get{noun}SubscriptionMaximum;{},Microsoft.Compute/Get{noun}Resource;{}",
                2_400u32.saturating_sub(used_sub),
                read_max.saturating_sub(used_res)
            )
        } else {
            format!(
                "Microsoft.Compute/{noun}ActionsSubscriptionMaximum;{},Microsoft.Compute/{noun}ActionsResource;{}",
                1_500u32.saturating_sub(used_sub),
                act_max.saturating_sub(used_res)
            )
        })
    }

    fn complete_due(&mut self, now: u64) {
        let due: Vec<String> = self
            .pending_ops
            .iter()
            .filter(|id| self.ops.get(*id).is_some_and(|o| o.end_ms <= now))
            .cloned()
            .collect();
        if due.is_empty() {
            return;
        }
        self.pending_ops.retain(|id| !due.contains(id));
        for id in due {
            let Some(op) = self.ops.get_mut(&id) else {
                continue;
            };
            op.done = true;
            let op = op.clone();
            let ok = op.fail.is_none();
            let state = op
                .fail
                .as_ref()
                .map(|f| f.0.as_str())
                .unwrap_or("Succeeded")
                .to_string();
            let state = state.as_str();
            match op.kind {
                OpKind::DeleteExtension => {
                    let parent = op
                        .key
                        .split("/extensions/")
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    if ok {
                        self.res.remove(&op.key);
                    } else if let Some(e) = self.res.get_mut(&op.key) {
                        e.body["properties"]["provisioningState"] = json!("Failed");
                    }
                    if let Some(p) = self.res.get_mut(&parent) {
                        p.busy = None;
                        p.body["properties"]["provisioningState"] = json!(state);
                    }
                }
                _ => {
                    let mut ident = None;
                    if let Some(r) = self.res.get(&op.key) {
                        let mut st = IdentityState::from_json(r.body.get("identity"));
                        for (uid, ids) in st.user.iter_mut() {
                            if ids.is_none() {
                                *ids = self.ua_ids(uid);
                            }
                        }
                        ident = Some(st);
                    }
                    if let Some(r) = self.res.get_mut(&op.key) {
                        r.busy = None;
                        if op.kind != OpKind::Upgrade {
                            r.body["properties"]["provisioningState"] = json!(state);
                        }
                        if let Some(st) = ident {
                            set_identity(&mut r.body, &st);
                        }
                    }
                }
            }
        }
    }

    fn start_op(&mut self, key_: &str, kind: OpKind, now: u64) -> (String, String) {
        let name = self.rng.uuid();
        let p = self.rng.uuid();
        let fail = self.take_fail();
        self.ops.insert(
            name.clone(),
            Op {
                name: name.clone(),
                p: p.clone(),
                start_ms: now,
                end_ms: now + self.cfg.lro_delay_ms,
                key: key_.to_string(),
                kind,
                fail,
                done: false,
            },
        );
        self.pending_ops.push(name.clone());
        if let Some(r) = self.res.get_mut(key_) {
            r.busy = Some(name.clone());
        }
        (name, p)
    }

    fn take_fail(&mut self) -> Option<(String, String, String)> {
        let i = self.faults.iter().position(|f| {
            matches!(
                f.fault,
                Fault::FailOperation { .. } | Fault::CancelOperation { .. }
            )
        })?;
        let mut out = None;
        let mut done = false;
        match &mut self.faults[i].fault {
            Fault::FailOperation {
                count,
                code,
                message,
            } => {
                out = Some(("Failed".to_string(), code.clone(), message.clone()));
                *count = count.saturating_sub(1);
                done = *count == 0;
            }
            Fault::CancelOperation { count } => {
                // Not recorded: the error a canceled Compute operation carries.
                out = Some((
                    "Canceled".to_string(),
                    "OperationCanceled".to_string(),
                    "The operation was canceled.".to_string(),
                ));
                *count = count.saturating_sub(1);
                done = *count == 0;
            }
            _ => {}
        }
        if done {
            self.faults.remove(i);
        }
        out
    }

    /// The operation URL in the recorded shape: `{base}/subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/operations/{id}?p=…&api-version=…&t=…&c=…&s=…&h=…`
    /// (the signature parameters are opaque; the recorded ones are ~3.5 KB, these ~1 KB).
    fn op_url(
        &mut self,
        sub: &str,
        loc: &str,
        name: &str,
        p: &str,
        monitor: bool,
        now: u64,
    ) -> String {
        let c = self.rng.token(700);
        let s = self.rng.token(200);
        let h = self.rng.token(43);
        format!(
            "{}/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/operations/{name}?p={p}{}&api-version=2024-11-01&t={}&c={c}&s={s}&h={h}",
            self.cfg.base_url,
            if monitor { "&monitor=true" } else { "" },
            now * 10_000 + 621_355_968_000_000_000,
        )
    }

    fn trigger_after_get(&mut self, t: &Target) {
        let k = key(&t.path_decoded());
        let pos = self.faults.iter().position(|f| {
            matches!(&f.fault, Fault::ConcurrentWrite { resource_id, trigger: Trigger::AfterNextGet, .. } if key(resource_id) == k)
        });
        if let Some(i) = pos
            && let Fault::ConcurrentWrite {
                resource_id,
                change,
                ..
            } = self.faults.remove(i).fault
        {
            self.concurrent_write(&resource_id, &change);
        }
    }

    fn concurrent_write(&mut self, resource_id: &str, change: &Change) {
        let k = key(resource_id);
        let tenant = self.tenant_id.clone();
        let Some(r) = self.res.get(&k) else { return };
        let flexible = is_flexible(&r.body);
        let current = IdentityState::from_json(r.body.get("identity"));
        let mut new_state = None;
        if let Change::Identity { identity } = change {
            let mut rng = self.rng.clone();
            let out = merge_identity(&current, identity, flexible, MergeMode::Patch, &mut || {
                SystemIds {
                    principal_id: rng.uuid(),
                    tenant_id: tenant.clone(),
                }
            });
            self.rng = rng;
            if let Ok(mut o) = out {
                for (uid, ids) in o.state.user.iter_mut() {
                    if ids.is_none() {
                        *ids = self.ua_ids(uid);
                    }
                }
                new_state = Some(o.state);
            }
        }
        if let Some(r) = self.res.get_mut(&k) {
            r.etag += 1;
            if let Some(st) = new_state {
                set_identity(&mut r.body, &st);
            }
        }
    }

    // ---------------------------------------------------------------- rendering and paging

    fn render(&self, k: &str, api: Option<&str>) -> Value {
        let r = &self.res[k];
        let mut b = r.body.clone();
        let etag_ok = api.is_none_or(|v| v >= apiver::COMPUTE_ETAG_SINCE);
        match r.kind {
            Kind::Vmss | Kind::Vm => {
                if etag_ok {
                    b["etag"] = json!(format!("\"{}\"", r.etag));
                }
                let exts: Vec<Value> = self
                    .children(&format!("{k}/extensions/"))
                    .map(|(_, e)| e.body.clone())
                    .collect();
                if r.kind == Kind::Vmss {
                    if !exts.is_empty() {
                        b["properties"]["virtualMachineProfile"]["extensionProfile"] =
                            json!({"extensions": exts});
                    }
                } else if !exts.is_empty() {
                    b["resources"] = json!(exts);
                }
            }
            _ => {}
        }
        b
    }

    fn children<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a String, &'a Res)> + 'a {
        self.res
            .range(prefix.to_string()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .filter(move |(k, _)| !k[prefix.len()..].contains('/'))
    }

    fn page(
        &self,
        t: &Target,
        api: &str,
        keys: Vec<String>,
        render: &dyn Fn(&str) -> Value,
    ) -> SimResponse {
        let start = match t.param("$skiptoken") {
            Some(tok) => {
                let after = unhex(tok);
                keys.partition_point(|k| k.as_str() <= after.as_str())
            }
            None => 0,
        };
        let size = self.cfg.page_size.max(1);
        let end = (start + size).min(keys.len());
        let value: Vec<Value> = keys[start..end].iter().map(|k| render(k)).collect();
        let mut body = json!({ "value": value });
        if end < keys.len() {
            body["nextLink"] = json!(format!(
                "{}{}?api-version={api}&$skiptoken={}",
                self.cfg.base_url,
                t.path,
                hex(&keys[end - 1])
            ));
        }
        ok(200, &body)
    }

    fn list_res(&self, prefix: &str, kind: Kind) -> Vec<String> {
        self.res
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(_, r)| r.kind == kind)
            .map(|(k, _)| k.clone())
            .collect()
    }

    // ---------------------------------------------------------------- routing

    fn dispatch(&mut self, m: &str, t: &Target, req: &SimRequest, now: u64) -> R {
        if let Some(r) = self.extension_route(m, t, req, now) {
            return r;
        }
        let seg = &t.segments;
        let lc: Vec<String> = seg.iter().map(|s| s.to_ascii_lowercase()).collect();
        if lc.len() == 1 && lc[0] == "tenants" {
            only(m, &["GET"])?;
            apiver::check(
                Family::Subscriptions,
                t.param("api-version"),
                "tenants",
                "global",
            )?;
            let domain = format!(
                "{}.onmicrosoft.com",
                self.tenant_name.to_ascii_lowercase().replace(' ', "")
            );
            let mut value = vec![
                json!({"id": format!("/tenants/{}", self.tenant_id), "tenantId": self.tenant_id,
                "countryCode": "US", "displayName": self.tenant_name, "domains": [domain.clone()],
                "tenantCategory": "Home", "defaultDomain": domain, "tenantType": "AAD"}),
            ];
            // Guest tenants: ARM lists them too; their tenantCategory for a guest is not in any
            // recording or document we have, so it is left out (README, unrecorded behaviour).
            for g in &self.guest_tenants {
                let name = g
                    .display_name
                    .clone()
                    .unwrap_or_else(|| g.tenant_id.clone());
                value.push(
                    json!({"id": format!("/tenants/{}", g.tenant_id), "tenantId": g.tenant_id,
                    "displayName": name, "tenantType": "AAD"}),
                );
            }
            return Ok(ok(200, &json!({ "value": value })));
        }
        if lc.first().map(String::as_str) != Some("subscriptions") {
            return Err(no_route(t));
        }
        if seg.len() == 1 {
            only(m, &["GET"])?;
            let v = apiver::check(
                Family::Subscriptions,
                t.param("api-version"),
                "subscriptions",
                "global",
            )?;
            let keys: Vec<String> = (0..self.subs.len()).map(|i| format!("{i:08}")).collect();
            let mut r = self.page(t, &v, keys, &|k| {
                self.sub_json(k.parse::<usize>().unwrap_or(0))
            });
            let mut b = r.json();
            b["count"] = json!({"type": "Total", "value": self.subs.len()});
            r.body = b.to_string();
            return Ok(r);
        }
        let sub_i = self
            .subs
            .iter()
            .position(|s| s.id.eq_ignore_ascii_case(&seg[1]))
            .ok_or_else(|| {
                ArmError::new(
                    404,
                    "SubscriptionNotFound",
                    format!("The subscription '{}' could not be found.", seg[1]),
                )
            })?;
        let sub = self.subs[sub_i].id.clone();
        if seg.len() == 2 {
            only(m, &["GET"])?;
            apiver::check(
                Family::Subscriptions,
                t.param("api-version"),
                "subscriptions",
                "global",
            )?;
            return Ok(ok(200, &self.sub_json(sub_i)));
        }
        match lc[2].as_str() {
            "locations" if seg.len() == 3 => {
                only(m, &["GET"])?;
                let v = apiver::check(
                    Family::Subscriptions,
                    t.param("api-version"),
                    "locations",
                    "global",
                )?;
                let keys: Vec<String> = (0..self.locations.len())
                    .map(|i| format!("{i:08}"))
                    .collect();
                Ok(self.page(t, &v, keys, &|k| {
                    let l = &self.locations[k.parse::<usize>().unwrap_or(0)];
                    json!({"id": format!("/subscriptions/{sub}/locations/{}", l.name), "name": l.name, "type": "Region",
                        "displayName": l.display_name,
                        "regionalDisplayName": l.regional_display_name.clone().unwrap_or_else(|| l.display_name.clone()),
                        "metadata": {"regionType": "Physical", "regionCategory": "Recommended"}})
                }))
            }
            "resourcegroups" => {
                if seg.len() == 3 {
                    only(m, &["GET"])?;
                    let v = apiver::check(
                        Family::ResourceGroups,
                        t.param("api-version"),
                        "resourceGroups",
                        "global",
                    )?;
                    let prefix = key(&format!("/subscriptions/{sub}/resourceGroups/"));
                    let keys: Vec<String> = self
                        .groups
                        .range(prefix.clone()..)
                        .take_while(|(k, _)| k.starts_with(&prefix))
                        .map(|(k, _)| k.clone())
                        .collect();
                    return Ok(self.page(t, &v, keys, &|k| self.group_json(&self.groups[k])));
                }
                let rg = &seg[3];
                let gk = key(&format!("/subscriptions/{sub}/resourceGroups/{rg}"));
                if seg.len() == 4 {
                    apiver::check(
                        Family::ResourceGroups,
                        t.param("api-version"),
                        "resourceGroups",
                        "global",
                    )?;
                    return match m {
                        "GET" => {
                            let g = self.groups.get(&gk).ok_or_else(|| rg_not_found(rg))?;
                            Ok(ok(200, &self.group_json(g)))
                        }
                        "PUT" => self.put_group(&sub, rg, &gk, req),
                        _ => Err(method_not_allowed(m)),
                    };
                }
                let g = self
                    .groups
                    .get(&gk)
                    .ok_or_else(|| rg_not_found(rg))?
                    .clone();
                if lc[4] != "providers" || seg.len() < 6 {
                    return Err(no_route(t));
                }
                self.provider(m, t, req, now, &sub, Some(&g), &seg[5..])
            }
            "providers" if seg.len() >= 4 => self.provider(m, t, req, now, &sub, None, &seg[3..]),
            _ => Err(no_route(t)),
        }
    }

    fn sub_json(&self, i: usize) -> Value {
        let s = &self.subs[i];
        json!({"id": format!("/subscriptions/{}", s.id), "authorizationSource": "RoleBased", "managedByTenants": [],
            "subscriptionId": s.id, "tenantId": self.tenant_id, "displayName": s.display_name, "state": s.state,
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}})
    }

    fn group_json(&self, g: &Group) -> Value {
        let mut v = json!({"id": g.id, "name": g.name, "type": "Microsoft.Resources/resourceGroups",
            "location": g.location, "properties": {"provisioningState": "Succeeded"}});
        if !g.tags.is_empty() {
            v["tags"] = json!(g.tags);
        }
        if let Some(mb) = &g.managed_by {
            v["managedBy"] = json!(mb);
        }
        v
    }

    fn put_group(&mut self, sub: &str, rg: &str, gk: &str, req: &SimRequest) -> R {
        let b = parse_body(req)?;
        let loc = b
            .get("location")
            .and_then(Value::as_str)
            .ok_or_else(location_required)?
            .to_string();
        let tags = b
            .get("tags")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let existed = self.groups.contains_key(gk);
        let g = Group {
            id: format!("/subscriptions/{sub}/resourceGroups/{rg}"),
            name: rg.to_string(),
            location: loc,
            tags,
            managed_by: b
                .get("managedBy")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        let body = self.group_json(&g);
        self.groups.insert(gk.to_string(), g);
        Ok(ok(if existed { 200 } else { 201 }, &body))
    }

    #[allow(clippy::too_many_arguments)]
    fn provider(
        &mut self,
        m: &str,
        t: &Target,
        req: &SimRequest,
        now: u64,
        sub: &str,
        g: Option<&Group>,
        rest: &[String],
    ) -> R {
        let ns = rest[0].to_ascii_lowercase();
        let r: Vec<String> = rest[1..].iter().map(|s| s.to_ascii_lowercase()).collect();
        let rs: Vec<&str> = r.iter().map(String::as_str).collect();
        let scope = match g {
            Some(g) => key(&g.id) + "/",
            None => key(&format!("/subscriptions/{sub}/")),
        };
        let gloc = g
            .map(|g| g.location.clone())
            .unwrap_or_else(|| "westeurope".into());
        let api = |fam: Family, ty: &str| apiver::check(fam, t.param("api-version"), ty, &gloc);
        match (ns.as_str(), rs.as_slice()) {
            ("microsoft.compute", [ty @ ("virtualmachinescalesets" | "virtualmachines")]) => {
                let tyname = type_name(ty);
                let v = api(Family::Compute, tyname)?;
                only(m, &["GET"])?;
                let kind = if *ty == "virtualmachinescalesets" {
                    Kind::Vmss
                } else {
                    Kind::Vm
                };
                let keys = self.list_res(&scope, kind);
                Ok(self.page(t, &v, keys, &|k| self.render(k, Some(&v))))
            }
            (
                "microsoft.compute",
                [
                    ty @ ("virtualmachinescalesets" | "virtualmachines"),
                    _,
                    tail @ ..,
                ],
            ) if g.is_some() => {
                let v = api(Family::Compute, type_name(ty))?;
                let g = g.unwrap_or_else(|| unreachable!());
                let kind = if *ty == "virtualmachinescalesets" {
                    Kind::Vmss
                } else {
                    Kind::Vm
                };
                let name = &rest[2];
                let k = key(&t.path_decoded_prefix(8));
                match tail {
                    [] => match m {
                        "GET" => {
                            let rr = self
                                .res
                                .get(&k)
                                .ok_or_else(|| not_found(ty, name, &g.name))?;
                            let etag = rr.etag;
                            let mut resp = ok(200, &self.render(&k, Some(&v)));
                            if v.as_str() >= apiver::COMPUTE_ETAG_SINCE {
                                resp.headers.push(("ETag".into(), format!("\"{etag}\"")));
                            }
                            Ok(resp)
                        }
                        "PATCH" => self.patch_compute(t, req, now, sub, g, kind, &k, name, &v),
                        "PUT" => self.put_compute(t, req, now, sub, g, kind, &k, name, &v),
                        _ => Err(method_not_allowed(m)),
                    },
                    ["manualupgrade"] if kind == Kind::Vmss => {
                        only(m, &["POST"])?;
                        self.manual_upgrade(req, now, sub, g, &k, name)
                    }
                    ["extensions"] => {
                        only(m, &["GET"])?;
                        self.res
                            .get(&k)
                            .ok_or_else(|| not_found(ty, name, &g.name))?;
                        let exts: Vec<Value> = self
                            .children(&format!("{k}/extensions/"))
                            .map(|(_, e)| e.body.clone())
                            .collect();
                        Ok(ok(200, &json!({"value": exts})))
                    }
                    ["extensions", _] => {
                        self.res
                            .get(&k)
                            .ok_or_else(|| not_found(ty, name, &g.name))?;
                        let ek = format!("{k}/extensions/{}", rest[4].to_ascii_lowercase());
                        match m {
                            "GET" => {
                                let e = self.res.get(&ek).ok_or_else(entity_not_found)?;
                                Ok(ok(200, &e.body))
                            }
                            "DELETE" => self.delete_extension(now, sub, &k, &ek),
                            _ => Err(method_not_allowed(m)),
                        }
                    }
                    _ => Err(no_route(t)),
                }
            }
            ("microsoft.compute", ["locations", _, "operations", _]) if g.is_none() => {
                only(m, &["GET"])?;
                api(Family::Compute, "locations/operations")?;
                self.op_status(t, sub, &rest[2], &rest[4], now)
            }
            ("microsoft.compute", ["locations", _, "vmsizes"]) if g.is_none() => {
                only(m, &["GET"])?;
                api(Family::Compute, "locations/vmSizes")?;
                let v: Vec<Value> = self
                    .vm_sizes
                    .iter()
                    .map(|s| {
                        json!({"name": s.name, "numberOfCores": s.number_of_cores, "osDiskSizeInMB": 1_047_552,
                        "resourceDiskSizeInMB": s.number_of_cores * 8192, "memoryInMB": s.memory_in_mb,
                        "maxDataDiskCount": s.max_data_disk_count})
                    })
                    .collect();
                Ok(ok(200, &json!({"value": v})))
            }
            ("microsoft.managedidentity", ["userassignedidentities"]) => {
                only(m, &["GET"])?;
                let v = api(Family::ManagedIdentity, "userAssignedIdentities")?;
                let keys = self.list_res(&scope, Kind::Uai);
                Ok(self.page(t, &v, keys, &|k| self.res[k].body.clone()))
            }
            ("microsoft.managedidentity", ["userassignedidentities", _]) if g.is_some() => {
                let g = g.unwrap_or_else(|| unreachable!());
                api(Family::ManagedIdentity, "userAssignedIdentities")?;
                let k = key(&t.path_decoded_prefix(8));
                let name = &rest[2];
                match m {
                    "GET" => {
                        let r = self
                            .res
                            .get(&k)
                            .ok_or_else(|| not_found("userAssignedIdentities", name, &g.name))?;
                        Ok(ok(200, &r.body))
                    }
                    "PUT" => {
                        let b = parse_body(req)?;
                        crate::schema::check_identity_put(&b)?;
                        let loc = b
                            .get("location")
                            .and_then(Value::as_str)
                            .ok_or_else(location_required)?
                            .to_string();
                        let tags = b
                            .get("tags")
                            .and_then(Value::as_object)
                            .cloned()
                            .unwrap_or_default();
                        let existing = self.res.get(&k).map(|r| r.body.clone());
                        let (pid, cid, status) = match &existing {
                            Some(e) => (
                                e["properties"]["principalId"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_string(),
                                e["properties"]["clientId"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_string(),
                                200,
                            ),
                            None => (self.rng.uuid(), self.rng.uuid(), 201),
                        };
                        let body = self.uai_body(sub, &g.name, name, &loc, &tags, &pid, &cid);
                        self.put_res(Kind::Uai, body.clone(), 0);
                        let mut resp = ok(status, &body);
                        if status == 201 {
                            // recorded: a relative `location` header naming the new resource
                            resp.headers.push((
                                "Location".into(),
                                body["id"].as_str().unwrap_or_default().to_string(),
                            ));
                        }
                        Ok(resp)
                    }
                    "DELETE" => Ok(SimResponse {
                        status: if self.res.remove(&k).is_some() {
                            200
                        } else {
                            204
                        },
                        ..Default::default()
                    }),
                    _ => Err(method_not_allowed(m)),
                }
            }
            ("microsoft.network", ["virtualnetworks"]) => {
                only(m, &["GET"])?;
                let v = api(Family::Network, "virtualNetworks")?;
                let keys = self.list_res(&scope, Kind::Vnet);
                Ok(self.page(t, &v, keys, &|k| self.res[k].body.clone()))
            }
            ("microsoft.network", ["virtualnetworks", _, tail @ ..]) if g.is_some() => {
                let g = g.unwrap_or_else(|| unreachable!());
                only(m, &["GET"])?;
                api(Family::Network, "virtualNetworks")?;
                let k = key(&t.path_decoded_prefix(8));
                let vn = self
                    .res
                    .get(&k)
                    .ok_or_else(|| not_found("virtualNetworks", &rest[2], &g.name))?;
                match tail {
                    [] => Ok(ok(200, &vn.body)),
                    ["subnets"] => Ok(ok(200, &json!({"value": vn.body["properties"]["subnets"]}))),
                    ["subnets", s] => vn.body["properties"]["subnets"]
                        .as_array()
                        .and_then(|a| {
                            a.iter().find(|x| {
                                x["name"]
                                    .as_str()
                                    .is_some_and(|n| n.eq_ignore_ascii_case(s))
                            })
                        })
                        .map(|x| ok(200, x))
                        .ok_or_else(|| not_found("virtualNetworks/subnets", &rest[4], &g.name)),
                    _ => Err(no_route(t)),
                }
            }
            _ => Err(ArmError::new(
                404,
                "InvalidResourceType",
                format!(
                    "The resource type '{}' could not be found in the namespace '{}' for api version '{}'.",
                    rest.get(1).map(String::as_str).unwrap_or(""),
                    rest[0],
                    t.param("api-version").unwrap_or("")
                ),
            )),
        }
    }

    // ---------------------------------------------------------------- compute writes

    fn check_if_match(&self, req: &SimRequest, k: &str) -> Result<(), ArmError> {
        let Some(r) = self.res.get(k) else {
            return Ok(());
        };
        if let Some(im) = req.get_header("If-Match") {
            let cur = format!("\"{}\"", r.etag);
            let im = im.trim();
            if im != "*" && im != cur {
                return Err(ArmError::new(
                    412,
                    "PreconditionFailed",
                    format!(
                        "Etag provided in if-match header {im} does not match etag {cur} of resource."
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_busy(&self, k: &str) -> Result<(), ArmError> {
        if self.res.get(k).is_some_and(|r| r.busy.is_some()) {
            // Not recorded: the code and message of Compute's answer to a write while an operation runs.
            return Err(ArmError::new(
                409,
                "Conflict",
                "The request failed due to conflict with a concurrent request. To resolve it, please refer to https://aka.ms/activitylog to get more details on the conflicting requests.",
            ));
        }
        Ok(())
    }

    fn check_added_uas(&self, resource_id: &str, added: &[String]) -> Result<(), ArmError> {
        for a in added {
            if self.ua_ids(a).is_none() {
                let shown = a.replacen("/resourceGroups/", "/resourcegroups/", 1);
                return Err(ArmError::new(
                    400,
                    "FailedIdentityOperation",
                    format!(
                        "Identity operation for resource '{resource_id}' failed with error 'Failed to perform resource identity operation. Status: 'BadRequest'. Response: '{{\"error\":{{\"code\":\"BadRequest\",\"message\":\"Resource '{shown}' was not found.\"}}}}'.'"
                    ),
                ));
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn lro_response(
        &mut self,
        status: u16,
        sub: &str,
        loc: &str,
        k: &str,
        api: &str,
        kind: OpKind,
        now: u64,
    ) -> SimResponse {
        let (name, p) = self.start_op(k, kind, now);
        let url = self.op_url(sub, loc, &name, &p, false, now);
        let etag = self.res[k].etag;
        let mut resp = ok(status, &self.render(k, Some(api)));
        if api >= apiver::COMPUTE_ETAG_SINCE {
            resp.headers.push(("ETag".into(), format!("\"{etag}\"")));
        }
        resp.headers.push(("Azure-AsyncOperation".into(), url));
        resp.headers
            .push(("Azure-AsyncNotification".into(), "Enabled".into()));
        resp
    }

    #[allow(clippy::too_many_arguments)]
    fn patch_compute(
        &mut self,
        _t: &Target,
        req: &SimRequest,
        now: u64,
        sub: &str,
        g: &Group,
        kind: Kind,
        k: &str,
        name: &str,
        api: &str,
    ) -> R {
        let ty = if kind == Kind::Vmss {
            "virtualMachineScaleSets"
        } else {
            "virtualMachines"
        };
        let r = self
            .res
            .get(k)
            .ok_or_else(|| not_found(ty, name, &g.name))?;
        let id = r.body["id"].as_str().unwrap_or_default().to_string();
        let loc = r.body["location"]
            .as_str()
            .unwrap_or("westeurope")
            .to_string();
        let flexible = kind == Kind::Vmss && is_flexible(&r.body);
        let current = IdentityState::from_json(r.body.get("identity"));
        self.check_if_match(req, k)?;
        self.check_busy(k)?;
        let b = parse_body(req)?;
        crate::schema::check_compute_patch(&b)?;
        let mut new_ident = None;
        if let Some(pi) = b.get("identity") {
            let mut rng = self.rng.clone();
            let tenant = self.tenant_id.clone();
            let out = merge_identity(&current, pi, flexible, MergeMode::Patch, &mut || {
                SystemIds {
                    principal_id: rng.uuid(),
                    tenant_id: tenant.clone(),
                }
            })?;
            self.check_added_uas(&id, &out.added)?;
            self.rng = rng;
            new_ident = Some(out.state);
        }
        let r = self.res.get_mut(k).unwrap_or_else(|| unreachable!());
        // Other PATCH fields: `tags` replaces, objects merge (nulls ignored), read-only keys ignored.
        // Not recorded in detail; identity is what this simulator is about.
        if let Some(tags) = b.get("tags") {
            r.body["tags"] = tags.clone();
        }
        for f in ["sku", "plan", "properties"] {
            if let Some(v) = b.get(f) {
                let mut v = v.clone();
                if let Some(o) = v.as_object_mut() {
                    for ro in [
                        "provisioningState",
                        "uniqueId",
                        "timeCreated",
                        "orchestrationMode",
                        "vmId",
                    ] {
                        o.remove(ro);
                    }
                }
                merge_json(&mut r.body[f], &v);
            }
        }
        canonical_enums(&mut r.body);
        if let Some(st) = new_ident {
            set_identity(&mut r.body, &st);
        }
        r.etag += 1;
        r.body["properties"]["provisioningState"] = json!("Updating");
        Ok(self.lro_response(200, sub, &loc, k, api, OpKind::Update, now))
    }

    #[allow(clippy::too_many_arguments)]
    fn put_compute(
        &mut self,
        _t: &Target,
        req: &SimRequest,
        now: u64,
        sub: &str,
        g: &Group,
        kind: Kind,
        k: &str,
        name: &str,
        api: &str,
    ) -> R {
        let exists = self.res.contains_key(k);
        if exists {
            if req
                .get_header("If-None-Match")
                .is_some_and(|v| v.trim() == "*")
            {
                // Not recorded: the message for If-None-Match: * on an existing resource.
                return Err(ArmError::new(
                    412,
                    "PreconditionFailed",
                    "The resource already exists and the if-none-match header \"*\" does not allow it to be replaced.",
                ));
            }
            self.check_if_match(req, k)?;
            self.check_busy(k)?;
        } else if req.get_header("If-Match").is_some() {
            return Err(ArmError::new(
                412,
                "PreconditionFailed",
                "The resource does not exist and the if-match header requires an existing resource.",
            ));
        }
        let b = parse_body(req)?;
        if !b.is_object() {
            return Err(invalid_body("The request content must be a JSON object."));
        }
        crate::schema::check_compute_put(&b)?;
        let loc = b
            .get("location")
            .and_then(Value::as_str)
            .ok_or_else(location_required)?
            .to_string();
        let (ty, tyfull) = if kind == Kind::Vmss {
            (
                "virtualMachineScaleSets",
                "Microsoft.Compute/virtualMachineScaleSets",
            )
        } else {
            ("virtualMachines", "Microsoft.Compute/virtualMachines")
        };
        let id = format!("{}/providers/Microsoft.Compute/{ty}/{name}", g.id);
        let old = self.res.get(k).map(|r| r.body.clone());
        let mut body = json!({"name": name, "id": id, "type": tyfull, "location": loc,
            "tags": b.get("tags").cloned().unwrap_or(json!({}))});
        for f in ["sku", "plan", "zones", "properties"] {
            if let Some(v) = b.get(f) {
                body[f] = v.clone();
            }
        }
        if !body["properties"].is_object() {
            body["properties"] = json!({});
        }
        if kind == Kind::Vmss && body["properties"].get("orchestrationMode").is_none() {
            // Not recorded: the default orchestration mode of an API-created scale set; the simulator uses Uniform.
            body["properties"]["orchestrationMode"] = json!(
                old.as_ref()
                    .and_then(|o| o["properties"]["orchestrationMode"].as_str())
                    .unwrap_or("Uniform")
            );
        }
        canonical_enums(&mut body);
        let flexible = kind == Kind::Vmss && is_flexible(&body);
        let current = old
            .as_ref()
            .map(|o| IdentityState::from_json(o.get("identity")))
            .unwrap_or_default();
        let mut state = IdentityState::default();
        if let Some(pi) = b.get("identity") {
            let mut rng = self.rng.clone();
            let tenant = self.tenant_id.clone();
            let out = merge_identity(&current, pi, flexible, MergeMode::Put, &mut || SystemIds {
                principal_id: rng.uuid(),
                tenant_id: tenant.clone(),
            })?;
            self.check_added_uas(&id, &out.added)?;
            self.rng = rng;
            state = out.state;
        }
        set_identity(&mut body, &state);
        let (status, etag, kind_op) = match &old {
            Some(o) => {
                for ro in ["uniqueId", "timeCreated", "vmId"] {
                    if let Some(v) = o["properties"].get(ro) {
                        body["properties"][ro] = v.clone();
                    }
                }
                body["properties"]["provisioningState"] = json!("Updating");
                (200, self.res[k].etag + 1, OpKind::Update)
            }
            None => {
                let uid = self.rng.uuid();
                body["properties"][if kind == Kind::Vmss {
                    "uniqueId"
                } else {
                    "vmId"
                }] = json!(uid);
                body["properties"]["timeCreated"] = json!(iso8601(now));
                body["properties"]["provisioningState"] = json!("Creating");
                (201, 1, OpKind::Create)
            }
        };
        self.res.insert(
            k.to_string(),
            Res {
                kind,
                body,
                etag,
                busy: None,
            },
        );
        Ok(self.lro_response(status, sub, &loc, k, api, kind_op, now))
    }

    fn manual_upgrade(
        &mut self,
        req: &SimRequest,
        now: u64,
        sub: &str,
        g: &Group,
        k: &str,
        name: &str,
    ) -> R {
        let r = self
            .res
            .get(k)
            .ok_or_else(|| not_found("virtualMachineScaleSets", name, &g.name))?;
        let loc = r.body["location"]
            .as_str()
            .unwrap_or("westeurope")
            .to_string();
        self.check_busy(k)?;
        let b = parse_body(req)?;
        let ids = b.get("instanceIds").and_then(Value::as_array);
        if ids.is_none_or(|a| a.is_empty()) {
            // Not recorded: the message when instanceIds is missing (the spec marks it required).
            return Err(invalid_parameter(
                "Required parameter 'instanceIds' is missing (null).",
                "instanceIds",
            ));
        }
        // Recorded: the etag has moved on by one after a manual upgrade (the simulator moves it when accepted).
        if let Some(r) = self.res.get_mut(k) {
            r.etag += 1;
        }
        let (op, p) = self.start_op(k, OpKind::Upgrade, now);
        let aao = self.op_url(sub, &loc, &op, &p, false, now);
        let location = self.op_url(sub, &loc, &op, &p, true, now);
        Ok(SimResponse {
            status: 202,
            headers: vec![
                ("Azure-AsyncOperation".into(), aao),
                ("Location".into(), location),
            ],
            ..Default::default()
        })
    }

    fn delete_extension(&mut self, now: u64, sub: &str, k: &str, ek: &str) -> R {
        self.check_busy(k)?;
        if !self.res.contains_key(ek) {
            // Not recorded: deleting an absent extension; ARM's convention for DELETE of nothing is 204.
            return Ok(SimResponse {
                status: 204,
                ..Default::default()
            });
        }
        let loc = self.res[k].body["location"]
            .as_str()
            .unwrap_or("westeurope")
            .to_string();
        if let Some(e) = self.res.get_mut(ek) {
            e.body["properties"]["provisioningState"] = json!("Deleting");
        }
        if let Some(p) = self.res.get_mut(k) {
            p.etag += 1;
            p.body["properties"]["provisioningState"] = json!("Updating");
        }
        let (op, p) = self.start_op(ek, OpKind::DeleteExtension, now);
        if let Some(r) = self.res.get_mut(k) {
            r.busy = Some(op.clone());
        }
        let aao = self.op_url(sub, &loc, &op, &p, false, now);
        let location = self.op_url(sub, &loc, &op, &p, true, now);
        Ok(SimResponse {
            status: 202,
            headers: vec![
                ("Azure-AsyncOperation".into(), aao),
                ("Location".into(), location),
            ],
            ..Default::default()
        })
    }

    fn op_status(&mut self, t: &Target, sub: &str, loc: &str, name: &str, now: u64) -> R {
        let op = self
            .ops
            .get(&name.to_ascii_lowercase())
            .or_else(|| self.ops.get(name))
            .cloned();
        // The simulator requires the URL to be used verbatim (its `p` signature must match); what ARM answers to
        // a tampered URL is not recorded.
        let op = op
            .filter(|o| t.param("p") == Some(o.p.as_str()))
            .ok_or_else(|| {
                ArmError::new(
                    404,
                    "NotFound",
                    format!("The operation '{name}' was not found."),
                )
            })?;
        let monitor = t
            .param("monitor")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let status = if !op.done {
            "InProgress"
        } else {
            op.fail
                .as_ref()
                .map(|f| f.0.as_str())
                .unwrap_or("Succeeded")
        };
        if monitor {
            // Location semantics (async-operations doc): 202 while running, then the final answer. The exact final
            // body for Compute actions is not recorded; the simulator answers 200 with no body, or the error.
            return Ok(match status {
                "InProgress" => {
                    let url = self.op_url(sub, loc, &op.name, &op.p, true, now);
                    SimResponse {
                        status: 202,
                        headers: vec![("Location".into(), url), ("Retry-After".into(), "5".into())],
                        ..Default::default()
                    }
                }
                "Succeeded" => SimResponse {
                    status: 200,
                    ..Default::default()
                },
                _ => {
                    let (_, c, m) = op.fail.clone().unwrap_or_default();
                    error_response(&ArmError::new(500, &c, m))
                }
            });
        }
        let mut b = json!({"startTime": iso8601(op.start_ms), "status": status, "name": op.name});
        if op.done {
            b["endTime"] = json!(iso8601(op.end_ms));
        }
        if let Some((_, c, m)) = op.fail.as_ref().filter(|_| op.done) {
            b["error"] = json!({"code": c, "message": m});
        }
        Ok(ok(200, &b))
    }

    // ---------------------------------------------------------------- control over HTTP

    fn config_json(&self) -> Value {
        json!({"baseUrl": self.cfg.base_url, "pageSize": self.cfg.page_size, "lroDelayMs": self.cfg.lro_delay_ms})
    }

    fn control_http(&mut self, req: &SimRequest, t: &Target) -> SimResponse {
        let m = req.method.to_ascii_uppercase();
        let what = t.segments.get(1).map(String::as_str).unwrap_or("");
        match (m.as_str(), what) {
            ("POST", "faults") => match serde_json::from_str::<Fault>(&req.body) {
                Ok(f) => {
                    let id = self.inject(f);
                    ok(200, &json!({"id": id}))
                }
                Err(e) => error_response(&invalid_body(&format!("invalid fault: {e}"))),
            },
            ("GET", "faults") => ok(
                200,
                &json!({"value": self.faults().into_iter().map(|(id, f)| json!({"id": id, "fault": f})).collect::<Vec<_>>()}),
            ),
            ("DELETE", "faults") => {
                self.clear_faults();
                SimResponse {
                    status: 204,
                    ..Default::default()
                }
            }
            ("GET", "requests") => {
                let since: u64 = t.param("since").and_then(|v| v.parse().ok()).unwrap_or(0);
                let v: Vec<&LogEntry> = self.log.iter().filter(|e| e.seq > since).collect();
                ok(200, &json!({ "value": v }))
            }
            ("GET", "config") => ok(200, &self.config_json()),
            ("POST", "config") => {
                let b: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
                if let Some(n) = b.get("pageSize").and_then(Value::as_u64) {
                    self.cfg.page_size = n.max(1) as usize;
                }
                if let Some(n) = b.get("lroDelayMs").and_then(Value::as_u64) {
                    self.cfg.lro_delay_ms = n;
                }
                ok(200, &self.config_json())
            }
            ("DELETE", "requests") => {
                self.clear_request_log();
                SimResponse {
                    status: 204,
                    ..Default::default()
                }
            }
            _ => error_response(&ArmError::new(
                404,
                "NotFound",
                "Unknown control route. Use /_armsim/faults, /_armsim/requests or /_armsim/config.",
            )),
        }
    }
}

// -------------------------------------------------------------------- helpers

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

/// ARM answers enum properties in their declared spelling whatever the case sent (recorded: the template sent
/// `"upgradePolicy": {"mode": "manual"}`, the scale set GET shows `"Manual"`).
fn canonical_enums(body: &mut Value) {
    let fix = |v: &mut Value, allowed: &[&str]| {
        if let Some(s) = v.as_str()
            && let Some(a) = allowed.iter().find(|a| a.eq_ignore_ascii_case(s))
        {
            *v = json!(a);
        }
    };
    let p = &mut body["properties"];
    if p.is_object() {
        if let Some(m) = p.get_mut("upgradePolicy").and_then(|u| u.get_mut("mode")) {
            fix(m, &["Automatic", "Manual", "Rolling"]);
        }
        if let Some(m) = p.get_mut("orchestrationMode") {
            fix(m, &["Uniform", "Flexible"]);
        }
    }
}

fn is_flexible(body: &Value) -> bool {
    body["properties"]["orchestrationMode"]
        .as_str()
        .is_some_and(|m| m.eq_ignore_ascii_case("flexible"))
}

fn set_identity(body: &mut Value, st: &IdentityState) {
    if let Some(o) = body.as_object_mut() {
        match st.to_json() {
            Some(v) => {
                o.insert("identity".into(), v);
            }
            None => {
                o.remove("identity");
            }
        }
    }
}

/// Merges `patch` into `target`: objects recursively, nulls ignored, everything else replaced.
fn merge_json(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    continue;
                }
                merge_json(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn type_name(lc: &str) -> &'static str {
    if lc == "virtualmachinescalesets" {
        "virtualMachineScaleSets"
    } else {
        "virtualMachines"
    }
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

fn parse_body(req: &SimRequest) -> Result<Value, ArmError> {
    if req.body.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str(&req.body).map_err(|e| invalid_body(&e.to_string()))
}

fn invalid_body(detail: &str) -> ArmError {
    ArmError::new(
        400,
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: '{detail}'."),
    )
}

fn location_required() -> ArmError {
    ArmError::new(
        400,
        "LocationRequired",
        "The location property is required for this definition.",
    )
}

fn only(m: &str, allowed: &[&str]) -> Result<(), ArmError> {
    if allowed.contains(&m) {
        Ok(())
    } else {
        Err(method_not_allowed(m))
    }
}

fn method_not_allowed(m: &str) -> ArmError {
    // Not recorded: ARM's answer to an unsupported method on a known route.
    ArmError::new(
        405,
        "MethodNotAllowed",
        format!("The requested method '{m}' is not allowed for this resource."),
    )
}

fn no_route(t: &Target) -> ArmError {
    // Not recorded: ARM's answer to a URL that names no resource type it knows.
    ArmError::new(
        404,
        "InvalidResourceType",
        format!("No route for '{}' in the simulator.", t.path),
    )
}

fn rg_not_found(rg: &str) -> ArmError {
    ArmError::new(
        404,
        "ResourceGroupNotFound",
        format!("Resource group '{rg}' could not be found."),
    )
}

fn not_found(ty: &str, name: &str, rg: &str) -> ArmError {
    let ty = match ty.to_ascii_lowercase().as_str() {
        "virtualmachinescalesets" => "Microsoft.Compute/virtualMachineScaleSets".to_string(),
        "virtualmachines" => "Microsoft.Compute/virtualMachines".to_string(),
        "userassignedidentities" => "Microsoft.ManagedIdentity/userAssignedIdentities".to_string(),
        "virtualnetworks" => "Microsoft.Network/virtualNetworks".to_string(),
        other => other.to_string(),
    };
    ArmError::new(
        404,
        "ResourceNotFound",
        format!(
            "The Resource '{ty}/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

fn entity_not_found() -> ArmError {
    ArmError::new(
        404,
        "NotFound",
        "The entity was not found in this Azure location.",
    )
}

/// 403 in the recorded shapes (error fixtures: aad-pod-identity #788 and #613). The client and object ids are
/// placeholders until part 2 knows the caller.
fn forbidden(linked: bool, method: &str, t: &Target, body: &str) -> ArmError {
    const APP: &str = "aaaaaaaa-0000-4000-8000-00000000a991";
    const OID: &str = "bbbbbbbb-0000-4000-8000-0000000000b1";
    let seg = &t.segments;
    let p = seg.iter().position(|s| s.eq_ignore_ascii_case("providers"));
    let (action, scope) = match p {
        Some(p) if seg.len() > p + 2 => {
            let rest = &seg[p + 1..];
            let mut ty = vec![rest[0].clone()];
            let mut i = 1;
            let mut scope_len = p;
            while i < rest.len() {
                ty.push(rest[i].clone());
                if i + 1 < rest.len() {
                    scope_len = p + 1 + i + 2;
                }
                i += 2;
            }
            let verb = match method {
                "GET" => "read".to_string(),
                "DELETE" => "delete".to_string(),
                "POST" => "action".to_string(),
                _ => "write".to_string(),
            };
            (
                format!("{}/{verb}", ty.join("/")),
                format!("/{}", seg[..scope_len.min(seg.len())].join("/")),
            )
        }
        _ => (
            "Microsoft.Resources/subscriptions/read".to_string(),
            format!(
                "/{}",
                seg.iter().take(2).cloned().collect::<Vec<_>>().join("/")
            ),
        ),
    };
    let ua = serde_json::from_str::<Value>(body).ok().and_then(|b| {
        b["identity"]["userAssignedIdentities"]
            .as_object()?
            .iter()
            .find(|(_, v)| !v.is_null())
            .map(|(k, _)| k.replacen("/resourceGroups/", "/resourcegroups/", 1))
    });
    match ua.filter(|_| linked) {
        Some(ua) => ArmError::new(
            403,
            "LinkedAuthorizationFailed",
            format!(
                "The client '{APP}' with object id '{OID}' has permission to perform action '{action}' on scope '{scope}'; however, it does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '{ua}' or the linked scope(s) are invalid."
            ),
        ),
        None => ArmError::new(
            403,
            "AuthorizationFailed",
            format!(
                "The client '{APP}' with object id '{OID}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
            ),
        ),
    }
}

/// 401 for an expired token, in ARM's public shape (from memory, not a recording).
fn unauthorized(tenant: &str, now: u64) -> ArmError {
    let fmt = |ms: u64| {
        let s = iso8601(ms);
        let h: u32 = s[11..13].parse().unwrap_or(0);
        let (h12, ampm) = match h {
            0 => (12, "AM"),
            1..=11 => (h, "AM"),
            12 => (12, "PM"),
            _ => (h - 12, "PM"),
        };
        let m: u32 = s[5..7].parse().unwrap_or(1);
        let d: u32 = s[8..10].parse().unwrap_or(1);
        format!("{m}/{d}/{} {h12}:{} {ampm}", &s[..4], &s[14..19])
    };
    let mut e = ArmError::new(
        401,
        "ExpiredAuthenticationToken",
        format!(
            "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
            fmt(now.saturating_sub(60_000)),
            fmt(now)
        ),
    );
    e.headers.push((
        "WWW-Authenticate".into(),
        format!(
            "Bearer authorization_uri=\"https://login.windows.net/{tenant}\", error=\"invalid_token\", error_description=\"The access token has expired.\""
        ),
    ));
    e
}
