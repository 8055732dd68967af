#![cfg(not(target_arch = "wasm32"))]
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

mod common;

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
        let tenants: Vec<Tenant> = block_on(c.list(ops::list_tenants()).collect_all()).unwrap();
        assert_eq!(tenants.len(), 1);
        let subs: Vec<Subscription> =
            block_on(c.list(ops::list_subscriptions()).collect_all()).unwrap();
        assert!(
            subs.iter()
                .all(|s| s.tenant_id.as_deref() == Some(tenants[0].tenant_id.as_str()))
        );
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

/// The same change against the real `armsim` binary (its own process, its own
/// clock, operations lasting 300 ms of real time). Run with
/// `ARMSIM_BIN=path/to/armsim cargo test -p arm-client --test armsim -- --ignored`.
#[test]
#[ignore = "needs ARMSIM_BIN (a built armsim binary)"]
fn over_the_armsim_binary() {
    use std::io::BufRead;
    let bin = std::env::var("ARMSIM_BIN").expect("set ARMSIM_BIN to the armsim binary");
    let mut child = std::process::Command::new(bin)
        .args(["--port", "0", "--control", "--lro-delay-ms", "300"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    // real time here: the server's operations end after 300 ms of wall clock
    let client = ArmClient::builder(
        &url,
        Rc::new(TcpTransport::default()),
        Rc::new(StaticToken::new("t")),
    )
    .lro(LroOptions {
        poll_ms: 100,
        max_poll_ms: 200,
        ..Default::default()
    })
    .build()
    .unwrap();
    let fault =
        json!({"kind": "throttle", "count": 2, "retryAfterSeconds": 0, "match": {"method": "GET"}});
    let mut r = HttpRequest::new(Method::Post, format!("{url}/_armsim/faults"));
    r.body = Some(fault.to_string().into_bytes());
    assert_eq!(
        TcpTransport::default().send_blocking(&r).unwrap().status,
        200
    );
    let mut states = Vec::new();
    let ch = block_on(identity::change_identity(
        &client,
        VMSS_API,
        &Operation::EnableSystemAssigned,
        &mut |p| states.push(p.state.clone()),
    ));
    let log = TcpTransport::default()
        .send_blocking(&HttpRequest::new(
            Method::Get,
            format!("{url}/_armsim/requests"),
        ))
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let ch = ch.unwrap();
    let log: Vec<LogEntry> =
        serde_json::from_value(log.body_json().unwrap()["value"].clone()).unwrap();
    let s = summary(&log);
    assert_eq!(
        log.iter().map(|e| e.status).take(3).collect::<Vec<_>>(),
        [429, 429, 200],
        "{s:?}"
    );
    assert_eq!(
        log.iter().filter(|e| e.method == "PATCH").count(),
        1,
        "{s:?}"
    );
    assert!(states.iter().any(|s| s == "InProgress"), "{states:?}");
    assert!(ch.after.unwrap().identity.system_assigned);
    eprintln!("armsim binary: {} requests: {s:#?}", log.len());
}

#[test]
fn removing_the_legacy_extension_follows_delete_and_manualupgrade() {
    const LEGACY: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-batch/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-legacy";
    for (mode, strict) in MODES {
        let env = Env::demo(mode, strict);
        let before = env.state(LEGACY);
        assert!(before.legacy_extension.is_some());
        env.clear_log();
        let op = Operation::RemoveLegacyExtension {
            upgrade_instances: true,
        };
        let ch = block_on(identity::change_identity(
            &env.client,
            LEGACY,
            &op,
            &mut |_| {},
        ))
        .unwrap_or_else(|e| panic!("{mode:?} strict={strict}: {e}"));
        let log = env.log();
        let s = summary(&log);
        let writes: Vec<&str> = log
            .iter()
            .filter(|e| e.method != "GET")
            .map(|e| e.method.as_str())
            .collect();
        let planned: Vec<&str> = ch
            .plan
            .requests()
            .iter()
            .map(|r| r.method.as_str())
            .collect();
        assert_eq!(writes, planned, "{s:?}");
        assert_eq!(ch.outcomes.len(), planned.len());
        assert!(
            ch.outcomes
                .iter()
                .all(|o| o.state == "Succeeded" || (strict && o.state == "Accepted")),
            "{:?}",
            ch.outcomes
                .iter()
                .map(|o| (&o.state, o.via))
                .collect::<Vec<_>>()
        );
        if strict {
            assert_eq!(
                ch.outcomes[0].via,
                PollVia::ResourceGone,
                "DELETE followed until 404"
            );
        }
        assert!(env.state(LEGACY).legacy_extension.is_none(), "{s:?}");
    }
}

#[test]
fn each_lro_terminal_state_against_armsim() {
    for (mode, strict) in MODES {
        for terminal in ["Succeeded", "Failed", "Canceled"] {
            let env = Env::demo(mode, strict);
            match terminal {
                "Failed" => env.inject(Fault::FailOperation {
                    count: 1,
                    code: "InternalExecutionError".into(),
                    message: "boom".into(),
                }),
                "Canceled" => env.inject(Fault::CancelOperation { count: 1 }),
                _ => {}
            }
            let mut states = Vec::new();
            let out = block_on(identity::change_identity(
                &env.client,
                VMSS_API,
                &Operation::EnableSystemAssigned,
                &mut |p| states.push(p.state.clone()),
            ));
            assert_eq!(
                states.last().map(String::as_str),
                Some(terminal),
                "{mode:?} strict={strict}"
            );
            match out {
                Ok(ch) => {
                    assert_eq!(terminal, "Succeeded");
                    assert!(ch.after.unwrap().identity.system_assigned);
                }
                Err(e) => {
                    assert_eq!(e.kind, ErrorKind::OperationFailed, "{e}");
                    assert!(e.message.contains(terminal), "{e}");
                    if !strict && terminal == "Canceled" {
                        assert_eq!(e.code.as_deref(), Some("OperationCanceled"));
                    }
                }
            }
            assert_eq!(env.log().iter().filter(|e| e.method == "PATCH").count(), 1);
        }
    }
}

#[test]
fn forbidden_writes_explain_the_missing_role() {
    for (mode, strict) in MODES {
        for linked in [false, true] {
            let env = Env::demo(mode, strict);
            env.inject(Fault::Forbidden {
                count: 1,
                linked,
                matcher: m("PATCH", "vmss-api"),
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
            assert_eq!(e.status, Some(403));
            let want = if linked {
                "LinkedAuthorizationFailed"
            } else {
                "AuthorizationFailed"
            };
            assert_eq!(e.code.as_deref(), Some(want));
            let hint = e.hint().unwrap();
            assert!(
                hint.contains(if linked {
                    "Managed Identity Operator"
                } else {
                    "role"
                }),
                "{hint}"
            );
            assert_eq!(e.attempts, 1, "403 is not retried");
            assert!(
                !env.state(VMSS_API)
                    .identity
                    .user_assigned
                    .iter()
                    .any(|u| u.id.eq_ignore_ascii_case(ID_BATCH))
            );
        }
    }
}

#[test]
fn an_expired_token_is_refreshed_once() {
    for (mode, strict) in MODES {
        let env = Env::demo(mode, strict);
        let tokens = common::CountingTokens::new();
        let transport: Rc<dyn Transport> = match (mode, &env.sim, &env.server) {
            (Mode::InProcess, Some(sim), _) => Rc::new(sim.clone()),
            (_, _, Some(_)) => Rc::new(TcpTransport::default()),
            _ => unreachable!(),
        };
        let transport: Rc<dyn Transport> = if strict {
            Rc::new(StrictCors(transport))
        } else {
            transport
        };
        let endpoint = env
            .server
            .as_ref()
            .map(|s| s.url())
            .unwrap_or_else(|| "https://management.azure.com".into());
        let c = ArmClient::builder(endpoint, transport, tokens.clone())
            .clock(Rc::new(env.clock.clone()))
            .build()
            .unwrap();
        env.inject(Fault::Unauthorized {
            count: 1,
            matcher: Matcher::default(),
        });
        block_on(c.send(&ops::list_subscriptions())).unwrap();
        assert_eq!(tokens.0.get(), 1);
        assert_eq!(
            env.log().iter().map(|e| e.status).collect::<Vec<_>>(),
            [401, 200]
        );
        // twice in a row: one refresh only, then the error
        env.inject(Fault::Unauthorized {
            count: 2,
            matcher: Matcher::default(),
        });
        let e = block_on(c.send(&ops::list_subscriptions())).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_deref()),
            (Some(401), Some("ExpiredAuthenticationToken"))
        );
        assert!(e.hint().unwrap().contains("Sign in again"));
        assert_eq!(tokens.0.get(), 2);
    }
}

#[test]
fn a_lost_answer_to_a_write_is_not_applied_twice() {
    for (mode, strict) in MODES {
        let env = Env::demo(mode, strict);
        // the PATCH takes effect but its answer is lost
        env.inject(Fault::Drop {
            count: 1,
            after_processing: true,
            matcher: m("PATCH", "vmss-api"),
        });
        let op = Operation::EnableSystemAssigned;
        let e = block_on(identity::change_identity(
            &env.client,
            VMSS_API,
            &op,
            &mut |_| {},
        ))
        .unwrap_err();
        // the If-Match retry meets the etag the lost write produced
        assert_eq!(
            (e.status, e.attempts),
            (Some(412), 2),
            "{mode:?} strict={strict}: {e}"
        );
        assert!(e.message.contains("earlier attempt may have been applied"));
        assert!(e.hint().unwrap().contains("probably applied"));
        let log = env.log();
        assert_eq!(
            log.iter()
                .filter(|e| e.method == "PATCH")
                .map(|e| e.status)
                .collect::<Vec<_>>(),
            [0, 412]
        );
        // re-reading shows the change was applied; planning again is a no-op
        let ch = block_on(identity::change_identity(
            &env.client,
            VMSS_API,
            &op,
            &mut |_| {},
        ))
        .unwrap();
        assert!(ch.before.identity.system_assigned);
        assert!(ch.outcomes.is_empty(), "nothing sent twice");
        // an unguarded write is not repeated at all
        env.inject(Fault::Drop {
            count: 1,
            after_processing: true,
            matcher: m("PATCH", "vmss-api"),
        });
        let unguarded = ops::patch_identity(VMSS_API, json!({"type": "None"}), None).unwrap();
        let e = block_on(env.client.send(&unguarded)).unwrap_err();
        assert_eq!((e.kind, e.attempts), (ErrorKind::Network, 1));
        assert!(e.hint().unwrap().contains("re-read"));
    }
}

#[test]
fn resource_graph_pages_with_skip_token() {
    for (mode, strict) in [(Mode::InProcess, false), (Mode::Http, true)] {
        let env = Env::new(
            mode,
            strict,
            Seed::generate_scale(1_200, 3),
            SimConfig::default(),
        );
        let subs: Vec<Subscription> =
            block_on(env.client.list(ops::list_subscriptions()).collect_all()).unwrap();
        let ids: Vec<&str> = subs.iter().map(|s| s.subscription_id.as_str()).collect();
        env.clear_log();
        let mut p =
            env.client
                .graph::<Value>(ops::resource_graph(ops::SCALE_SETS_QUERY, &ids, 500));
        let mut rows = Vec::new();
        while let Some(page) = block_on(p.next_page()) {
            rows.extend(page.unwrap());
        }
        assert_eq!(rows.len(), 1_200);
        assert_eq!((p.requests(), p.total_records()), (3, Some(1_200)));
        // the same scale sets, with the same orchestration mode, as the per-subscription lists
        let log = env.log();
        let mut listed = std::collections::BTreeMap::new();
        for s in &ids {
            let v: Vec<Value> =
                block_on(env.client.list(ops::list_scale_sets(s, None)).collect_all()).unwrap();
            for x in v {
                listed.insert(
                    x["id"].as_str().unwrap().to_ascii_lowercase(),
                    x["properties"]["orchestrationMode"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                );
            }
        }
        let graphed: std::collections::BTreeMap<_, _> = rows
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_ascii_lowercase(),
                    r["orchestrationMode"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(graphed.len(), 1_200, "no duplicates");
        assert_eq!(graphed, listed);
        assert!(
            log.iter().all(
                |e| e.method == "POST" && e.path.ends_with("Microsoft.ResourceGraph/resources")
            )
        );
        assert_eq!(log.len(), 3);
    }
    // which resources use a given user-assigned identity
    let env = Env::demo(Mode::InProcess, false);
    let q = format!(
        "Resources | where identity.userAssignedIdentities has '{}' | project id, name | order by id asc",
        "/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web"
    );
    let users: Vec<Value> = block_on(
        env.client
            .graph(ops::resource_graph(&q, &[], 100))
            .collect_all(),
    )
    .unwrap();
    let names: Vec<&str> = users.iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["vmss-flex", "vmss-web"]);
}

#[test]
fn real_token_checks_an_expired_token_is_replaced_once() {
    use std::cell::Cell;
    struct Minter {
        issuer: Rc<armsim::testing::TestIssuer>,
        now_s: Box<dyn Fn() -> u64>,
        calls: Cell<u32>,
    }
    impl TokenSource for Minter {
        fn token(&self, refresh: bool) -> LocalBoxFuture<'_, Result<String, ArmError>> {
            self.calls.set(self.calls.get() + 1);
            // the cached token expired an hour ago; a refresh mints a fresh one
            let now = (self.now_s)();
            let t = if refresh {
                self.issuer
                    .token("11111111-aaaa-4aaa-8aaa-000000000001", now)
            } else {
                self.issuer
                    .token("11111111-aaaa-4aaa-8aaa-000000000001", now - 7_200)
            };
            Box::pin(async move { Ok(t) })
        }
    }
    let issuer = Rc::new(armsim::testing::TestIssuer::with_bits(7, 1024));
    for mode in [Mode::InProcess, Mode::Http] {
        let cfg = SimConfig {
            auth: Some(issuer.auth_config()),
            ..Default::default()
        };
        let env = Env::new(mode, false, Seed::demo(), cfg);
        let clock = env.clock.clone();
        let now_s: Box<dyn Fn() -> u64> = match mode {
            Mode::InProcess => Box::new(move || clock.now_ms() / 1000),
            Mode::Http => Box::new(|| armsim::server::now_ms() / 1000),
        };
        let minter = Rc::new(Minter {
            issuer: issuer.clone(),
            now_s,
            calls: Cell::new(0),
        });
        let (transport, endpoint): (Rc<dyn Transport>, String) = match (&env.sim, &env.server) {
            (Some(sim), _) => (Rc::new(sim.clone()), "https://management.azure.com".into()),
            (_, Some(s)) => (Rc::new(TcpTransport::default()), s.url()),
            _ => unreachable!(),
        };
        let c = ArmClient::builder(endpoint, transport, minter.clone())
            .clock(Rc::new(env.clock.clone()))
            .build()
            .unwrap();
        let subs: Vec<Subscription> =
            block_on(c.list(ops::list_subscriptions()).collect_all()).unwrap();
        assert_eq!(subs.len(), 2);
        assert_eq!(minter.calls.get(), 2, "one cached token, one refresh");
        let log = env.log();
        assert_eq!(
            log.iter().map(|e| e.status).collect::<Vec<_>>(),
            [401, 200],
            "{mode:?}"
        );
        // a token-less client is refused by armsim with ARM's 401
        let e = block_on(env.client.send(&ops::list_subscriptions())).unwrap_err();
        assert_eq!(e.status, Some(401));
        assert!(e.hint().unwrap().contains("Sign in again"));
    }
}

#[test]
fn role_definitions_and_assignments_with_replication_delay() {
    for strict in [false, true] {
        let cfg = SimConfig {
            principal_delay_ms: 30_000,
            ..Default::default()
        };
        let env = Env::new(Mode::InProcess, strict, Seed::demo(), cfg);
        let c = &env.client;
        let scope = format!("/subscriptions/{SUB}/resourceGroups/rg-web");
        let defs: Vec<RoleDefinition> = block_on(
            c.list(ops::list_role_definitions(&scope, Some("Reader")).unwrap())
                .collect_all(),
        )
        .unwrap();
        assert_eq!(defs.len(), 1);
        assert_eq!(defs[0].properties.role_name, "Reader");
        // a new identity, then a role for its principal at once
        let uai = format!(
            "/subscriptions/{SUB}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-new"
        );
        let created = block_on(c.execute(
            &ops::put_create(&uai, json!({"location": "westeurope"})).unwrap(),
            &mut |_| {},
        ))
        .unwrap();
        let principal = created.response.body_json().unwrap()["properties"]["principalId"]
            .as_str()
            .unwrap()
            .to_string();
        let assign = ops::create_role_assignment(
            &scope,
            "6f1e7c1a-0000-4000-8000-000000000001",
            &defs[0].id,
            &principal,
        )
        .unwrap();
        let e = block_on(c.send(&assign)).unwrap_err();
        assert_eq!(e.code.as_deref(), Some("PrincipalNotFound"));
        assert!(e.hint().unwrap().contains("replicated"));
        env.clock.advance(31_000);
        let r = block_on(c.send(&assign)).unwrap();
        assert!(r.status == 200 || r.status == 201);
        let mine: Vec<Value> = block_on(
            c.list(ops::list_role_assignments(&scope, Some(&principal)).unwrap())
                .collect_all(),
        )
        .unwrap();
        assert_eq!(mine.len(), 1);
        let id = mine[0]["id"].as_str().unwrap().to_string();
        block_on(c.send(&ops::delete_role_assignment(&id).unwrap())).unwrap();
        let mine: Vec<Value> = block_on(
            c.list(ops::list_role_assignments(&scope, Some(&principal)).unwrap())
                .collect_all(),
        )
        .unwrap();
        assert!(mine.is_empty());
    }
}
