//! Against armsim: in-process (virtual clock: operations progress in virtual time)
//! and over HTTP to armsim's server on 127.0.0.1 (faults through its control
//! endpoint), each also in a strict-CORS-like mode where no ARM response header is
//! readable.

use arm_client::testing::{StrictCors, block_on};
use arm_client::transport::sim::SimTransport;
use arm_client::transport::tcp::TcpTransport;
use arm_client::*;
use armsim::{Change, Fault, LogEntry, Matcher, Seed, Sim, SimConfig, Trigger};
use identity_core::Operation;
use serde_json::{Value, json};
use std::rc::Rc;

const SUB: &str = "11111111-1111-4111-8111-111111111111";
const VMSS_API: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api";
const VMSS_WEB: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web";
const ID_BATCH: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-batch";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    InProcess,
    Http,
}

const MODES: [(Mode, bool); 4] = [
    (Mode::InProcess, false),
    (Mode::InProcess, true),
    (Mode::Http, false),
    (Mode::Http, true),
];

struct Env {
    client: ArmClient,
    clock: VirtualClock,
    sim: Option<SimTransport>,
    server: Option<armsim::server::Server>,
    mode: Mode,
}

impl Env {
    fn new(mode: Mode, strict: bool, seed: Seed, mut cfg: SimConfig) -> Env {
        let clock = VirtualClock::new(1_700_000_000_000);
        let (transport, endpoint, sim, server): (Rc<dyn Transport>, String, _, _) = match mode {
            Mode::InProcess => {
                let t = SimTransport::new(Sim::with_config(seed, cfg), Rc::new(clock.clone()));
                (
                    Rc::new(t.clone()),
                    "https://management.azure.com".to_string(),
                    Some(t),
                    None,
                )
            }
            Mode::Http => {
                cfg.control = true;
                // the server runs on the real clock: operations finish at the next poll
                cfg.lro_delay_ms = 0;
                let keep = cfg.base_url != SimConfig::default().base_url;
                let s =
                    armsim::server::Server::start(Sim::with_config(seed, cfg), 0, keep).unwrap();
                (Rc::new(TcpTransport::default()), s.url(), None, Some(s))
            }
        };
        let transport: Rc<dyn Transport> = if strict {
            Rc::new(StrictCors(transport))
        } else {
            transport
        };
        let client =
            ArmClient::builder(endpoint, transport, Rc::new(StaticToken::new("test-token")))
                .clock(Rc::new(clock.clone()))
                .retry(RetryPolicy::default().with_seed(3))
                .build()
                .unwrap();
        Env {
            client,
            clock,
            sim,
            server,
            mode,
        }
    }

    fn demo(mode: Mode, strict: bool) -> Env {
        Env::new(mode, strict, Seed::demo(), SimConfig::default())
    }

    fn control(&self, method: Method, what: &str, body: Option<Value>) -> HttpResponse {
        let url = format!("{}/_armsim/{what}", self.server.as_ref().unwrap().url());
        let mut r = HttpRequest::new(method, url);
        if let Some(b) = body {
            r.body = Some(serde_json::to_vec(&b).unwrap());
            r.set_header("Content-Type", "application/json");
        }
        TcpTransport::default().send_blocking(&r).unwrap()
    }

    /// Inject a fault (over HTTP through the control endpoint).
    fn inject(&self, f: Fault) {
        match self.mode {
            Mode::InProcess => {
                self.sim.as_ref().unwrap().sim().inject(f);
            }
            Mode::Http => {
                let r = self.control(
                    Method::Post,
                    "faults",
                    Some(serde_json::to_value(&f).unwrap()),
                );
                assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
            }
        }
    }

    fn log(&self) -> Vec<LogEntry> {
        match self.mode {
            Mode::InProcess => self.sim.as_ref().unwrap().sim().request_log().to_vec(),
            Mode::Http => {
                let r = self.control(Method::Get, "requests", None);
                serde_json::from_value(r.body_json().unwrap()["value"].clone()).unwrap()
            }
        }
    }

    fn clear_log(&self) {
        match self.mode {
            Mode::InProcess => self.sim.as_ref().unwrap().sim().clear_request_log(),
            Mode::Http => assert_eq!(self.control(Method::Delete, "requests", None).status, 204),
        }
    }

    fn state(&self, id: &str) -> identity_core::ResourceState {
        block_on(identity::read_state(&self.client, id)).unwrap()
    }
}

fn summary(log: &[LogEntry]) -> Vec<String> {
    log.iter()
        .map(|e| format!("{} {} {}", e.method, e.status, e.path))
        .collect()
}

fn m(method: &str, path: &str) -> Matcher {
    Matcher {
        method: Some(method.into()),
        path_contains: Some(path.into()),
    }
}

#[test]
fn identity_change_is_one_get_one_patch_and_polls() {
    for (mode, strict) in MODES {
        let env = Env::demo(mode, strict);
        let mut events = Vec::new();
        let ch = block_on(identity::change_identity(
            &env.client,
            VMSS_API,
            &Operation::AddUserAssigned {
                ids: vec![ID_BATCH.into()],
            },
            &mut |p| events.push(p.clone()),
        ))
        .unwrap();
        let log = env.log();
        let s = summary(&log);
        assert_eq!(log[0].method, "GET", "{s:?}");
        assert_eq!(
            log.iter().filter(|e| e.method == "PATCH").count(),
            1,
            "{s:?}"
        );
        assert_eq!(log[1].method, "PATCH");
        assert!(
            log[2..]
                .iter()
                .all(|e| e.method == "GET" && e.status == 200),
            "{s:?}"
        );
        let polls = (log.len() - 2) as u32;
        assert_eq!(
            ch.outcomes[0].polls, polls,
            "{mode:?} strict={strict}: {s:?}"
        );
        // the PATCH carried the GET's etag and only `identity`
        let if_match = log[1]
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("if-match"))
            .map(|(_, v)| v.clone());
        assert_eq!(if_match, ch.before.etag.clone());
        assert!(if_match.is_some());
        let body: Value = serde_json::from_str(&log[1].body).unwrap();
        assert_eq!(
            body,
            json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {ID_BATCH: {}}}})
        );
        // the token went with every request, and armsim logged it redacted
        assert!(log.iter().all(|e| {
            e.headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v == "<redacted>")
        }));
        if strict {
            // nothing readable: provisioningState polled on the resource itself
            assert!(log[2..].iter().all(|e| e.path == VMSS_API), "{s:?}");
            assert_eq!(ch.outcomes[0].via, PollVia::ProvisioningState);
        } else {
            assert!(
                log[2..log.len() - 1]
                    .iter()
                    .all(|e| e.path.contains("/operations/")),
                "{s:?}"
            );
            assert_eq!(log.last().unwrap().path, VMSS_API, "read back");
            assert_eq!(ch.outcomes[0].via, PollVia::AsyncOperation);
        }
        if mode == Mode::InProcess {
            // armsim's default 5 s operation: several InProgress polls in virtual time
            assert!(polls >= 2, "{s:?}");
            assert!(ch.outcomes[0].elapsed_ms >= 5_000);
            assert!(events.iter().any(|e| e.state != "Succeeded"));
        }
        assert_eq!(events.last().unwrap().state, "Succeeded");
        let after = ch.after.expect("read back");
        assert_eq!(after.identity.user_assigned.len(), 1);
        assert!(
            after.identity.user_assigned[0]
                .id
                .eq_ignore_ascii_case(ID_BATCH)
        );
        // and a fresh read agrees
        assert_eq!(env.state(VMSS_API).identity, after.identity);
    }
}

#[test]
fn throttling_n_times_then_success() {
    for (mode, strict) in MODES {
        let env = Env::demo(mode, strict);
        env.inject(Fault::Throttle {
            count: 3,
            retry_after_seconds: 7,
            matcher: m("GET", "resourcegroups"),
        });
        let groups = block_on(
            env.client
                .list::<ResourceGroup>(ops::list_resource_groups(SUB))
                .collect_all(),
        )
        .unwrap();
        assert!(groups.iter().any(|g| g.name == "rg-web"));
        let log = env.log();
        let statuses: Vec<u16> = log.iter().map(|e| e.status).collect();
        assert_eq!(statuses, [429, 429, 429, 200], "{mode:?}");
        let sleeps = env.clock.sleeps();
        if strict {
            assert_eq!(sleeps.len(), 3);
            assert!(
                sleeps.iter().all(|s| *s < 7_000 && *s >= 500),
                "backoff, not Retry-After: {sleeps:?}"
            );
        } else {
            assert_eq!(sleeps, [7_000, 7_000, 7_000]);
        }
    }
}

#[test]
fn throttling_longer_than_the_budget_is_surfaced_with_retry_after() {
    for (mode, strict) in MODES {
        let env = Env::demo(mode, strict);
        env.inject(Fault::Throttle {
            count: 10,
            retry_after_seconds: 3600,
            matcher: Matcher::default(),
        });
        let e = block_on(env.client.send(&ops::list_subscriptions())).unwrap_err();
        assert_eq!(e.status, Some(429));
        assert_eq!(e.code.as_deref(), Some("SubscriptionRequestsThrottled"));
        assert!(e.hint().unwrap().contains("throttling"));
        if strict {
            assert_eq!(e.retry_after_ms, None);
            assert_eq!(e.attempts, 5, "backoff until retries run out");
        } else {
            assert_eq!(e.retry_after_ms, Some(3_600_000));
            assert_eq!(e.attempts, 1, "an hour is not waited inside a call");
        }
    }
}

#[test]
fn server_errors_retried_for_reads_and_guarded_writes_only() {
    for (mode, strict) in MODES {
        for status in [500, 502, 503, 504] {
            let env = Env::demo(mode, strict);
            env.inject(Fault::ServerError {
                count: 2,
                status,
                matcher: m("GET", "virtualMachineScaleSets"),
            });
            let st = env.state(VMSS_API);
            assert_eq!(
                env.log().iter().map(|e| e.status).collect::<Vec<_>>(),
                [status, status, 200]
            );
            env.clear_log();
            // an unguarded write is not repeated
            env.inject(Fault::ServerError {
                count: 1,
                status,
                matcher: m("PATCH", "vmss-api"),
            });
            let unguarded =
                ops::patch_identity(VMSS_API, json!({"type": "SystemAssigned"}), None).unwrap();
            let e = block_on(env.client.send(&unguarded)).unwrap_err();
            assert_eq!((e.status, e.attempts), (Some(status), 1));
            assert!(e.hint().is_some());
            assert_eq!(env.log().len(), 1);
            env.clear_log();
            // with If-Match it is
            env.inject(Fault::ServerError {
                count: 1,
                status,
                matcher: m("PATCH", "vmss-api"),
            });
            let guarded = ops::patch_identity(
                VMSS_API,
                json!({"type": "SystemAssigned"}),
                st.etag.as_deref(),
            )
            .unwrap();
            block_on(env.client.send(&guarded)).unwrap();
            assert_eq!(
                env.log().iter().map(|e| e.status).collect::<Vec<_>>(),
                [status, 200]
            );
        }
    }
}

#[test]
fn a_dropped_connection_while_polling_is_survived() {
    for (mode, strict) in MODES {
        let env = Env::demo(mode, strict);
        // strict mode polls the resource (the first GET is matched too), else the
        // operation URL
        let path = if strict { "vmss-web" } else { "/operations/" };
        env.inject(Fault::Drop {
            count: 2,
            after_processing: false,
            matcher: m("GET", path),
        });
        let e = block_on(identity::change_identity(
            &env.client,
            VMSS_WEB,
            &Operation::RemoveUserAssigned { ids: vec!["/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web".into()] },
            &mut |_| {},
        ));
        let ch = e.unwrap_or_else(|e| panic!("{mode:?} strict={strict}: {e}"));
        let log = env.log();
        assert_eq!(
            log.iter().filter(|e| e.status == 0).count(),
            2,
            "{:?}",
            summary(&log)
        );
        assert_eq!(log.iter().filter(|e| e.method == "PATCH").count(), 1);
        let after = ch.after.unwrap();
        assert!(after.identity.system_assigned);
        assert_eq!(
            after.identity.user_assigned.len(),
            1,
            "only id-keyvault-reader left"
        );
    }
}

#[test]
fn a_concurrent_writer_gives_412_and_a_re_read_succeeds() {
    for (mode, strict) in MODES {
        for change in [
            Change::BumpEtag,
            Change::Identity {
                identity: json!({"type": "SystemAssigned"}),
            },
        ] {
            let env = Env::demo(mode, strict);
            env.inject(Fault::ConcurrentWrite {
                resource_id: VMSS_API.into(),
                change: change.clone(),
                trigger: Trigger::AfterNextGet,
            });
            let op = Operation::AddUserAssigned {
                ids: vec![ID_BATCH.into()],
            };
            let e = block_on(identity::change_identity(
                &env.client,
                VMSS_API,
                &op,
                &mut |_| {},
            ))
            .unwrap_err();
            assert_eq!(
                (e.status, e.code.as_deref()),
                (Some(412), Some("PreconditionFailed"))
            );
            assert!(e.hint().unwrap().contains("changed by someone else"));
            assert_eq!(e.attempts, 1, "a 412 is not retried");
            // re-read and re-plan: the other writer's identity is kept
            let ch = block_on(identity::change_identity(
                &env.client,
                VMSS_API,
                &op,
                &mut |_| {},
            ))
            .unwrap();
            let after = ch.after.unwrap();
            assert_eq!(after.identity.user_assigned.len(), 1);
            assert_eq!(
                after.identity.system_assigned,
                matches!(change, Change::Identity { .. })
            );
            let log = env.log();
            assert_eq!(
                log.iter()
                    .filter(|e| e.method == "PATCH")
                    .map(|e| e.status)
                    .collect::<Vec<_>>(),
                [412, 200]
            );
        }
    }
}

#[test]
fn a_write_during_a_running_operation_gets_409() {
    for (mode, strict) in MODES {
        if mode == Mode::Http {
            continue; // the server's operations end at once (lro-delay 0): no window for a 409
        }
        let env = Env::demo(mode, strict);
        let first = ops::patch_identity(VMSS_API, json!({"type": "SystemAssigned"}), None).unwrap();
        let r = block_on(env.client.send(&first)).unwrap();
        assert_eq!(
            r.body_json().unwrap()["properties"]["provisioningState"],
            "Updating"
        );
        let second = ops::patch_identity(VMSS_API, json!({"type": "None"}), None).unwrap();
        let e = block_on(env.client.send(&second)).unwrap_err();
        assert_eq!(e.status, Some(409));
        assert!(e.hint().unwrap().contains("Another operation"), "{e}");
        assert_eq!(e.attempts, 1);
        // after the operation, the write goes through
        let o = block_on(
            env.client
                .wait_for_resource(&ops::get_resource(VMSS_API).unwrap(), &mut |_| {}),
        )
        .unwrap();
        assert_eq!(o.state, "Succeeded");
        block_on(env.client.execute(&second, &mut |_| {})).unwrap();
        assert!(!env.state(VMSS_API).identity.system_assigned);
    }
}

#[test]
fn operation_failed_and_latency_faults() {
    for (mode, strict) in MODES {
        let env = Env::demo(mode, strict);
        env.inject(Fault::FailOperation {
            count: 1,
            code: "InternalExecutionError".into(),
            message: "boom".into(),
        });
        let mut states = Vec::new();
        let e = block_on(identity::change_identity(
            &env.client,
            VMSS_API,
            &Operation::EnableSystemAssigned,
            &mut |p| states.push(p.state.clone()),
        ))
        .unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::OperationFailed,
            "{mode:?} strict={strict}: {e}"
        );
        assert_eq!(states.last().map(String::as_str), Some("Failed"));
        if !strict {
            assert_eq!(e.code.as_deref(), Some("InternalExecutionError"));
            assert!(e.message.contains("boom"));
        }
        if mode == Mode::InProcess {
            let before = env.clock.now_ms();
            env.inject(Fault::Latency {
                count: 1,
                ms: 1_500,
                matcher: Matcher::default(),
            });
            block_on(env.client.send(&ops::list_subscriptions())).unwrap();
            assert_eq!(
                env.clock.now_ms() - before,
                1_500,
                "latency on the virtual clock"
            );
        }
    }
}

#[test]
fn paging_over_10000_scale_sets() {
    // (armsim needs ~30 ms per 10,000-item page in a debug build: two of the four modes)
    for (mode, strict) in [(Mode::InProcess, false), (Mode::Http, true)] {
        let cfg = SimConfig {
            page_size: 100,
            ..Default::default()
        };
        let env = Env::new(mode, strict, Seed::generate_scale(10_000, 1), cfg);
        let subs = block_on(
            env.client
                .list::<Subscription>(ops::list_subscriptions())
                .collect_all(),
        )
        .unwrap();
        assert_eq!(subs.len(), 1);
        env.clear_log();
        let mut pager = env
            .client
            .list::<Value>(ops::list_scale_sets(&subs[0].subscription_id, None));
        let mut ids = std::collections::BTreeSet::new();
        let mut pages = 0;
        while let Some(page) = block_on(pager.next_page()) {
            let page = page.unwrap();
            assert!(page.len() <= 100);
            pages += 1;
            for v in page {
                assert!(
                    ids.insert(v["id"].as_str().unwrap().to_ascii_lowercase()),
                    "duplicate"
                );
            }
        }
        assert_eq!(ids.len(), 10_000);
        assert_eq!(pages, 100);
        assert_eq!(pager.requests(), 100);
        assert_eq!(env.log().len(), 100);
    }
}

#[test]
fn links_to_another_host_are_refused_and_nothing_leaves() {
    // a "collector" on another port stands for a foreign host; armsim is told to put
    // it into nextLink and Azure-AsyncOperation URLs
    let collector = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    collector.set_nonblocking(true).unwrap();
    let foreign = format!("http://{}", collector.local_addr().unwrap());
    for mode in [Mode::InProcess, Mode::Http] {
        let cfg = SimConfig {
            base_url: foreign.clone(),
            page_size: 2,
            ..Default::default()
        };
        let env = Env::new(mode, false, Seed::demo(), cfg);
        let mut p = env.client.list::<Value>(ops::list_scale_sets(SUB, None));
        assert_eq!(block_on(p.next_page()).unwrap().unwrap().len(), 2);
        let e = block_on(p.next_page()).unwrap().unwrap_err();
        assert_eq!(e.kind, ErrorKind::ForeignOrigin);
        assert!(
            e.message.contains(&foreign) && e.message.contains("refused"),
            "{}",
            e.message
        );
        // the write itself goes to ARM; the foreign operation URL is not polled
        let patch = ops::patch_identity(VMSS_API, json!({"type": "SystemAssigned"}), None).unwrap();
        let e = block_on(env.client.execute(&patch, &mut |_| {})).unwrap_err();
        assert_eq!(e.kind, ErrorKind::ForeignOrigin);
        let log = env.log();
        assert_eq!(
            summary(&log).len(),
            2,
            "one list page and the PATCH: {:?}",
            summary(&log)
        );
    }
    // not one connection reached the collector: no header, no token left
    match collector.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the foreign host was contacted: {other:?}"),
    }
}

#[test]
fn typed_lists_and_reads_against_the_demo_tenant() {
    for (mode, strict) in MODES {
        let env = Env::demo(mode, strict);
        let c = &env.client;
        let locs: Vec<Location> = block_on(c.list(ops::list_locations(SUB)).collect_all()).unwrap();
        assert!(
            locs.iter()
                .any(|l| l.name == "westeurope" && l.display_name == "West Europe")
        );
        let vms: Vec<Value> =
            block_on(c.list(ops::list_vms(SUB, Some("rg-web"))).collect_all()).unwrap();
        assert!(vms.iter().any(|v| v["name"] == "vm-jump"));
        let uais: Vec<Value> = block_on(
            c.list(ops::list_user_assigned_identities(SUB, None))
                .collect_all(),
        )
        .unwrap();
        assert!(uais.iter().any(|v| v["name"] == "id-batch"));
        let st = env.state(VMSS_WEB);
        assert!(st.identity.system_assigned && st.identity.user_assigned.len() == 2);
        let e =
            block_on(c.send(&ops::get_resource(&format!("{VMSS_WEB}-nope")).unwrap())).unwrap_err();
        assert_eq!(e.status, Some(404));
        if !strict {
            assert!(
                e.request_id.is_some() && e.correlation_id.is_some(),
                "{e:?}"
            );
        }
    }
}
