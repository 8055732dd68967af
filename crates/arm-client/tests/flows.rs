#![cfg(not(target_arch = "wasm32"))]
//! The flows (`arm_client::flow`) against armsim in-process on a virtual clock, each outcome
//! driven by armsim's own faults: Applied, Noop, Refused, ConflictReplanned, Exists, Failed,
//! NotSent; the waits (429 beyond the client's budget, PrincipalNotFound), the dropped
//! connection resumed only after an acknowledged write, the 401 token refresh and the read-only
//! switch.

use arm_client::flow::{self, Event, Outcome, Wait};
use arm_client::testing::block_on;
use arm_client::transport::sim::SimTransport;
use arm_client::*;
use armsim::{Change, Fault, Matcher, Seed, Sim, SimConfig, Trigger};
use identity_core::create::{
    AdminAuth, IdentityRequest, ImagePreset, Orchestration, RoleAssignmentSpec, ScaleSetSpec,
    UserAssignedIdentitySpec, VmSpec, create_scale_set, create_user_assigned_identity, create_vm,
};
use identity_core::create_wizard::CreateReview;
use identity_core::resource::UpgradeMode;
use identity_core::role_cleanup::RoleAssignmentDeletion;
use identity_core::{Operation, ResourceState, plan};
use std::cell::RefCell;

mod common;
use common::{CountingTokens, sim_client};
use std::rc::Rc;

const SUB: &str = "11111111-1111-4111-8111-111111111111";
const VMSS_API: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api";
const VMSS_WEB: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web";
const ID_BATCH: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-batch";
const LEGACY: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-batch/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-legacy";
const SUBNET: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/snet-web";

struct Env {
    client: ArmClient,
    clock: VirtualClock,
    sim: SimTransport,
    tokens: Rc<CountingTokens>,
    access: WriteAccess,
}

impl Env {
    fn new() -> Env {
        Env::with(SimConfig::default())
    }
    fn with(cfg: SimConfig) -> Env {
        let clock = VirtualClock::new(1_700_000_000_000);
        let sim = SimTransport::new(Sim::with_config(Seed::demo(), cfg), Rc::new(clock.clone()));
        let tokens = CountingTokens::new();
        let access = WriteAccess::new(true);
        let client = sim_client(&sim, &clock, tokens.clone())
            .retry(RetryPolicy::default().with_seed(7))
            .write_access(access.clone())
            .build()
            .unwrap();
        Env {
            client,
            clock,
            sim,
            tokens,
            access,
        }
    }
    fn inject(&self, f: Fault) {
        self.sim.sim().inject(f);
    }
    fn state(&self, id: &str) -> ResourceState {
        block_on(identity::read_state(&self.client, id)).unwrap()
    }
    /// (method, status) of every request whose path contains `part`, in order.
    fn sent(&self, method: &str, part: &str) -> Vec<u16> {
        self.sim
            .sim()
            .request_log()
            .iter()
            .filter(|e| e.method == method && e.path.contains(part))
            .map(|e| e.status)
            .collect()
    }
}

fn m(method: &str, path: &str) -> Matcher {
    serde_json::from_value(serde_json::json!({"method": method, "pathContains": path})).unwrap()
}

/// Run a flow, collecting its events.
fn run<T>(f: impl FnOnce(&mut dyn FnMut(&Event)) -> T) -> (T, Vec<Event>) {
    let events = RefCell::new(Vec::new());
    let out = f(&mut |e: &Event| events.borrow_mut().push(e.clone()));
    (out, events.into_inner())
}

fn change(env: &Env, id: &str, op: &Operation) -> (Outcome<flow::Changed>, Vec<Event>) {
    let st = env.state(id);
    run(|ev| block_on(flow::change_identity(&env.client, &st, op, ev)))
}

/// The failure of an outcome that must be `Failed` (anything else fails the test, showing it).
fn failed<T: std::fmt::Debug>(out: Outcome<T>) -> flow::Failure {
    let Outcome::Failed(f) = out else {
        panic!("{out:?}")
    };
    f
}

/// The failure of an outcome that must be `NotSent` (anything else fails the test, showing it).
fn not_sent<T: std::fmt::Debug>(out: Outcome<T>) -> flow::Failure {
    let Outcome::NotSent(f) = out else {
        panic!("{out:?}")
    };
    f
}

fn add_batch() -> Operation {
    Operation::AddUserAssigned {
        ids: vec![ID_BATCH.into()],
    }
}

#[test]
fn identity_change_applied_with_the_read_back_and_progress() {
    let env = Env::new();
    let (out, events) = change(&env, VMSS_API, &add_batch());
    let Outcome::Applied(ch) = out else {
        panic!("{out:?}")
    };
    let after = ch.after.expect("read back");
    assert!(after.identity.has_user_assigned(ID_BATCH));
    assert!(!ch.resumed);
    assert!(ch.elapsed_ms > 0, "the operation took virtual time");
    assert!(matches!(events[0], Event::Sending { .. }));
    let states: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Progress { state, .. } => Some(state.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(states.last(), Some(&"Succeeded"), "{states:?}");
    assert!(states.len() >= 2, "{states:?}");
    assert_eq!(env.sent("PATCH", "vmss-api"), [200]);
}

#[test]
fn identity_change_noop_and_refused_send_nothing() {
    let env = Env::new();
    let (out, events) = change(
        &env,
        VMSS_API,
        &Operation::RemoveUserAssigned {
            ids: vec![ID_BATCH.into()],
        },
    );
    assert!(matches!(out, Outcome::Noop(_)), "{out:?}");
    let (out, _) = change(&env, VMSS_API, &Operation::InstallLegacyExtension);
    assert!(
        matches!(&out, Outcome::Refused(w) if w.contains("retired")),
        "{out:?}"
    );
    assert!(events.is_empty());
    assert!(env.sent("PATCH", "").is_empty() && env.sent("PUT", "").is_empty());
}

#[test]
fn a_412_rereads_and_replans_with_the_choice_kept() {
    let env = Env::new();
    let st = env.state(VMSS_API);
    // another writer enables system-assigned between the review and the apply
    env.inject(Fault::ConcurrentWrite {
        resource_id: VMSS_API.into(),
        change: Change::Identity {
            identity: serde_json::json!({"type": "SystemAssigned"}),
        },
        trigger: Trigger::Now,
    });
    let (out, _) = run(|ev| block_on(flow::change_identity(&env.client, &st, &add_batch(), ev)));
    let Outcome::ConflictReplanned(r) = out else {
        panic!("{out:?}")
    };
    assert_eq!(r.error.status, Some(412));
    assert!(
        r.state.identity.system_assigned,
        "the other writer's change was read"
    );
    assert!(r.plan.after.system_assigned && r.plan.after.has_user_assigned(ID_BATCH));
    assert_ne!(
        r.plan.requests()[0].header("If-Match"),
        st.etag.as_deref(),
        "the new plan carries the new etag"
    );
    // the re-planned change then applies
    let (out, _) = run(|ev| {
        block_on(flow::apply_change(
            &env.client,
            &r.state,
            &r.plan,
            &|s| plan(s, &add_batch()),
            ev,
        ))
    });
    assert!(matches!(out, Outcome::Applied(_)), "{out:?}");
    assert_eq!(env.sent("PATCH", "vmss-api"), [412, 200]);
}

#[test]
fn a_lost_answer_then_412_replans_to_nothing_left_to_send() {
    let env = Env::new();
    env.inject(Fault::Drop {
        count: 1,
        after_processing: true,
        matcher: m("PATCH", "vmss-api"),
    });
    let (out, _) = change(&env, VMSS_API, &Operation::EnableSystemAssigned);
    let Outcome::ConflictReplanned(r) = out else {
        panic!("{out:?}")
    };
    assert!(
        r.plan.noop_reason().is_some(),
        "applied once, not twice: {:?}",
        r.plan
    );
    assert_eq!(env.sent("PATCH", "vmss-api"), [0, 412]);
}

#[test]
fn a_409_fails_with_the_busy_class_and_its_hint() {
    let env = Env::new();
    // someone else's change is still running when the resource is read and changed
    let other = ops::patch_identity(
        VMSS_API,
        serde_json::json!({"type": "SystemAssigned"}),
        None,
    )
    .unwrap();
    block_on(env.client.send(&other)).unwrap();
    let st = env.state(VMSS_API);
    let (out, _) = run(|ev| block_on(flow::change_identity(&env.client, &st, &add_batch(), ev)));
    let f = failed(out);
    assert_eq!(f.class, Class::Busy);
    assert_eq!(f.error.status, Some(409));
    assert!(f.hint.unwrap().contains("Another operation is running"));
    assert!(f.created.is_empty());
}

#[test]
fn a_403_linked_authorization_names_the_permission_and_the_identity() {
    let env = Env::new();
    env.inject(Fault::Forbidden {
        count: 1,
        linked: true,
        matcher: m("PATCH", "vmss-api"),
    });
    let (out, _) = change(&env, VMSS_API, &add_batch());
    let f = failed(out);
    assert_eq!(f.class, Class::LinkedForbidden);
    let hint = f.hint.unwrap();
    assert!(
        hint.contains("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"),
        "{hint}"
    );
    assert!(
        hint.contains("Managed Identity Operator on id-batch"),
        "{hint}"
    );
    assert!(
        hint.to_lowercase().contains(&ID_BATCH.to_lowercase()),
        "{hint}"
    );
}

#[test]
fn a_connection_dropped_before_any_answer_is_not_sent_not_resumed() {
    let env = Env::new();
    // every try of the PATCH drops before armsim applies it: more than the client's retries
    env.inject(Fault::Drop {
        count: 10,
        after_processing: false,
        matcher: m("PATCH", "vmss-api"),
    });
    let (out, events) = change(&env, VMSS_API, &add_batch());
    let f = not_sent(out);
    assert_eq!(f.class, Class::Network);
    assert!(!events.iter().any(|e| matches!(e, Event::Resuming { .. })));
    assert!(!env.state(VMSS_API).identity.has_user_assigned(ID_BATCH));
}

#[test]
fn a_connection_dropped_after_the_acknowledged_write_is_resumed() {
    let env = Env::new();
    // the PATCH is answered; then every poll drops, more than the client's own retries
    env.inject(Fault::Drop {
        count: 7,
        after_processing: false,
        matcher: m("GET", "/operations/"),
    });
    let (out, events) = change(&env, VMSS_API, &add_batch());
    let Outcome::Applied(ch) = out else {
        panic!("{out:?}")
    };
    assert!(ch.resumed);
    assert!(events.iter().any(|e| matches!(e, Event::Resuming { .. })));
    assert!(ch.after.unwrap().identity.has_user_assigned(ID_BATCH));
    assert_eq!(env.sent("PATCH", "vmss-api"), [200]);
}

#[test]
fn legacy_extension_removal_applies_and_resumes_a_dropped_delete() {
    let env = Env::new();
    let st = env.state(LEGACY);
    assert!(st.legacy_extension.is_some());
    // the DELETE is acknowledged (202), then the polls of its operation drop
    env.inject(Fault::Drop {
        count: 7,
        after_processing: false,
        matcher: m("GET", "/operations/"),
    });
    let (out, events) =
        run(|ev| block_on(flow::remove_legacy_extension(&env.client, &st, true, ev)));
    let Outcome::Applied(ch) = out else {
        panic!("{out:?}")
    };
    assert!(ch.resumed, "{events:?}");
    let after = ch.after.expect("read back");
    assert!(after.legacy_extension.is_none());
    assert_eq!(after.identity, st.identity, "identities untouched");
    assert_eq!(env.sent("DELETE", "vmss-legacy").len(), 1);
}

#[test]
fn throttling_beyond_the_clients_budget_is_waited_visibly() {
    let env = Env::new();
    // 120 s is more than the client waits on its own (60 s): the flow waits it out
    env.inject(Fault::Throttle {
        count: 1,
        retry_after_seconds: 120,
        matcher: m("PATCH", "vmss-api"),
    });
    let t0 = env.clock.now_ms();
    let (out, events) = change(&env, VMSS_API, &add_batch());
    assert!(matches!(out, Outcome::Applied(_)), "{out:?}");
    let waits: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Waiting {
                why: Wait::Throttled,
                seconds_left,
                ..
            } => Some(*seconds_left),
            _ => None,
        })
        .collect();
    assert_eq!(waits.len(), 120, "one event a second");
    assert_eq!((waits[0], waits[119]), (120, 1));
    assert!(env.clock.now_ms() - t0 >= 120_000);
    assert_eq!(env.sent("PATCH", "vmss-api"), [429, 200]);
}

#[test]
fn an_expired_token_is_reacquired_once_during_a_flow() {
    let env = Env::new();
    env.inject(Fault::Unauthorized {
        count: 1,
        matcher: m("PATCH", "vmss-api"),
    });
    let (out, _) = change(&env, VMSS_API, &add_batch());
    assert!(matches!(out, Outcome::Applied(_)), "{out:?}");
    assert_eq!(env.tokens.0.get(), 1, "one fresh token");
    assert_eq!(env.sent("PATCH", "vmss-api"), [401, 200]);
}

#[test]
fn a_read_only_session_sends_no_write() {
    let env = Env::new();
    let st = env.state(VMSS_API);
    env.access.set(false);
    let (out, _) = run(|ev| block_on(flow::change_identity(&env.client, &st, &add_batch(), ev)));
    let f = not_sent(out);
    assert_eq!(f.class, Class::ReadOnly);
    assert!(f.hint.unwrap().contains("read-write"));
    let spec = uai("id-readonly");
    let (out, _) = run(|ev| block_on(flow::create_identity(&env.client, &spec, ev)));
    assert!(matches!(out, Outcome::NotSent(_)), "{out:?}");
    assert!(env.sent("PATCH", "").is_empty());
    assert!(env.sent("PUT", "").is_empty());
    // reads still work
    assert_eq!(env.sent("GET", "vmss-api"), [200]);
}

fn uai(name: &str) -> UserAssignedIdentitySpec {
    UserAssignedIdentitySpec {
        subscription: SUB.into(),
        resource_group: "rg-identity".into(),
        name: name.into(),
        location: "westeurope".into(),
    }
}

#[test]
fn creating_an_identity_carries_if_none_match_and_an_existing_one_is_offered() {
    let env = Env::new();
    let (out, _) = run(|ev| block_on(flow::create_identity(&env.client, &uai("id-new"), ev)));
    let Outcome::Applied(c) = out else {
        panic!("{out:?}")
    };
    assert!(c.id.ends_with("/userAssignedIdentities/id-new"));
    assert!(c.body.pointer("/properties/principalId").is_some());
    let puts: Vec<_> = env
        .sim
        .sim()
        .request_log()
        .iter()
        .filter(|e| e.method == "PUT")
        .cloned()
        .collect();
    assert!(
        puts[0]
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("if-none-match") && v == "*")
    );
    // id-batch exists: nothing is replaced, the outcome names it
    let (out, _) = run(|ev| block_on(flow::create_identity(&env.client, &uai("id-batch"), ev)));
    match out {
        Outcome::Exists { id, created } => {
            assert!(id.eq_ignore_ascii_case(ID_BATCH), "{id}");
            assert!(created.is_empty());
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(env.sent("PUT", "id-batch"), [412]);
}

fn scale_set(name: &str, new_identity: Option<&str>) -> CreateReview {
    let identity = new_identity.map(|n| {
        let s = uai(n);
        let p = create_user_assigned_identity(&s);
        (s, p)
    });
    let spec = ScaleSetSpec {
        subscription: SUB.into(),
        resource_group: "rg-web".into(),
        name: name.into(),
        location: "westeurope".into(),
        orchestration: Orchestration::Uniform,
        sku: "Standard_B2s".into(),
        capacity: 1,
        image: ImagePreset::UbuntuLts,
        subnet_id: SUBNET.into(),
        admin_username: "azureuser".into(),
        admin_auth: AdminAuth::SshPublicKey(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host".into(),
        ),
        upgrade_mode: UpgradeMode::Manual,
        identity: IdentityRequest {
            system_assigned: true,
            user_assigned: identity
                .iter()
                .map(|(s, _)| {
                    identity_core::ResourceId::user_assigned_identity(
                        &s.subscription,
                        &s.resource_group,
                        &s.name,
                    )
                    .as_str()
                    .to_string()
                })
                .collect(),
        },
    };
    let p = create_scale_set(&spec);
    CreateReview {
        identity,
        scale_set: (spec, p),
        vm: None,
    }
}

#[test]
fn creating_a_scale_set_with_a_new_identity_puts_the_identity_first() {
    let env = Env::new();
    let review = scale_set("vmss-new", Some("id-for-vmss"));
    assert!(review.refusal().is_none(), "{:?}", review.refusal());
    let (out, events) = run(|ev| block_on(flow::create_scale_set(&env.client, &review, ev)));
    let Outcome::Applied(c) = out else {
        panic!("{out:?}")
    };
    assert_eq!(c.created.len(), 2);
    assert!(c.created[0].ends_with("/id-for-vmss"));
    assert!(c.state.identity.system_assigned);
    assert_eq!(c.state.identity.user_assigned.len(), 1);
    let steps: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Sending { step } => Some(step.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        steps,
        [
            "Creating identity id-for-vmss",
            "Creating scale set vmss-new"
        ]
    );
}

#[test]
fn a_create_failing_after_its_identity_lists_it_and_it_can_be_deleted() {
    let env = Env::new();
    env.inject(Fault::Forbidden {
        count: 1,
        linked: false,
        matcher: m("PUT", "virtualMachineScaleSets/vmss-denied"),
    });
    let review = scale_set("vmss-denied", Some("id-orphan"));
    let (out, _) = run(|ev| block_on(flow::create_scale_set(&env.client, &review, ev)));
    let f = failed(out);
    assert_eq!(f.class, Class::Forbidden);
    assert_eq!(f.created.len(), 1);
    assert!(f.created[0].ends_with("/id-orphan"));
    assert_eq!(f.step, "Creating scale set vmss-denied");
    // "Delete it"
    let (out, _) = run(|ev| block_on(flow::delete_created(&env.client, &f.created[0], ev)));
    assert!(matches!(out, Outcome::Applied(())), "{out:?}");
    let e = block_on(env.client.send(&ops::get_resource(&f.created[0]).unwrap())).unwrap_err();
    assert_eq!(e.status, Some(404));
    // a scale set that exists is not replaced
    let (out, _) = run(|ev| {
        block_on(flow::create_scale_set(
            &env.client,
            &scale_set("vmss-web", None),
            ev,
        ))
    });
    assert!(
        matches!(&out, Outcome::Exists { id, created } if id.eq_ignore_ascii_case(VMSS_WEB) && created.is_empty()),
        "{out:?}"
    );
}

type VmReview = (
    Option<(UserAssignedIdentitySpec, identity_core::Plan)>,
    (VmSpec, identity_core::Plan),
);

fn vm(
    name: &str,
    image: ImagePreset,
    system_assigned: bool,
    new_identity: Option<&str>,
) -> VmReview {
    let identity = new_identity.map(|n| {
        let s = uai(n);
        let p = create_user_assigned_identity(&s);
        (s, p)
    });
    let spec = VmSpec {
        subscription: SUB.into(),
        resource_group: "rg-web".into(),
        name: name.into(),
        location: "westeurope".into(),
        size: "Standard_B2s".into(),
        image,
        subnet_id: SUBNET.into(),
        admin_username: "azureuser".into(),
        admin_auth: match image {
            ImagePreset::WindowsServer => AdminAuth::Password("Correct-Horse-9".into()),
            _ => AdminAuth::SshPublicKey(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host".into(),
            ),
        },
        identity: IdentityRequest {
            system_assigned,
            user_assigned: identity
                .iter()
                .map(|(s, _)| {
                    identity_core::ResourceId::user_assigned_identity(
                        &s.subscription,
                        &s.resource_group,
                        &s.name,
                    )
                    .as_str()
                    .to_string()
                })
                .collect(),
        },
    };
    let p = create_vm(&spec);
    (identity, (spec, p))
}

fn create_vm_flow(env: &Env, r: &VmReview) -> (Outcome<flow::CreatedResource>, Vec<Event>) {
    run(|ev| block_on(flow::create_vm(&env.client, r.0.as_ref(), &r.1, ev)))
}

/// The VM create is the scale set's flow: identity first, the VM's PUT with `If-None-Match: *`
/// and its identities, the read-back showing both; a Windows VM with system-assigned only.
#[test]
fn creating_a_vm_with_a_new_identity_puts_the_identity_first_and_reads_it_back() {
    let env = Env::new();
    let review = vm("vm-new", ImagePreset::UbuntuLts, true, Some("id-for-vm"));
    let (out, events) = create_vm_flow(&env, &review);
    let Outcome::Applied(c) = out else {
        panic!("{out:?}")
    };
    assert!(c.id.ends_with("/virtualMachines/vm-new"), "{}", c.id);
    assert_eq!(c.created.len(), 2);
    assert!(c.created[0].ends_with("/userAssignedIdentities/id-for-vm"));
    assert!(c.state.identity.system_assigned);
    assert!(c.state.identity.principal_id.is_some());
    assert_eq!(c.state.identity.user_assigned.len(), 1);
    let steps: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Sending { step } => Some(step.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(steps, ["Creating identity id-for-vm", "Creating VM vm-new"]);
    let put = env
        .sim
        .sim()
        .request_log()
        .iter()
        .find(|e| e.method == "PUT" && e.path.contains("virtualMachines/vm-new"))
        .cloned()
        .unwrap();
    assert!(
        put.headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("if-none-match") && v == "*")
    );
    // a Windows VM, system-assigned only
    let review = vm("vmwin01", ImagePreset::WindowsServer, true, None);
    let (out, _) = create_vm_flow(&env, &review);
    let Outcome::Applied(c) = out else {
        panic!("{out:?}")
    };
    assert_eq!(c.created.len(), 1);
    assert_eq!(c.created[0], c.id);
    assert!(c.state.identity.system_assigned && c.state.identity.user_assigned.is_empty());
}

/// The pages' entry: a review whose target is a VM creates the VM (not the scale set it also holds).
#[test]
fn a_reviewed_vm_target_creates_the_vm_not_the_scale_set() {
    let env = Env::new();
    let (identity, vm_plan) = vm(
        "vm-reviewed",
        ImagePreset::UbuntuLts,
        true,
        Some("id-reviewed"),
    );
    let mut review = scale_set("vmss-not-made", None);
    review.identity = identity;
    review.vm = Some(vm_plan);
    let (out, _) = run(|ev| block_on(flow::create_reviewed(&env.client, &review, ev)));
    let Outcome::Applied(c) = out else {
        panic!("{out:?}")
    };
    assert!(c.id.ends_with("/virtualMachines/vm-reviewed"), "{}", c.id);
    assert_eq!(c.state.identity.user_assigned.len(), 1);
    assert!(env.sent("PUT", "vmss-not-made").is_empty());
    // without a VM the same review creates the scale set
    review.vm = None;
    review.identity = None;
    let (out, _) = run(|ev| block_on(flow::create_reviewed(&env.client, &review, ev)));
    assert!(
        matches!(&out, Outcome::Applied(c) if c.id.ends_with("/virtualMachineScaleSets/vmss-not-made")),
        "{out:?}"
    );
}

/// Exists on 412 (the VM is not replaced), Failed with what was created, Refused before sending.
#[test]
fn a_vm_create_is_exists_on_412_lists_what_it_made_on_failure_and_refuses_bad_specs() {
    let env = Env::new();
    let (out, _) = create_vm_flow(&env, &vm("vm-twice", ImagePreset::UbuntuLts, true, None));
    assert!(matches!(out, Outcome::Applied(_)), "{out:?}");
    let (out, _) = create_vm_flow(&env, &vm("vm-twice", ImagePreset::UbuntuLts, true, None));
    assert!(
        matches!(&out, Outcome::Exists { id, created } if id.ends_with("/virtualMachines/vm-twice") && created.is_empty()),
        "{out:?}"
    );
    assert_eq!(env.sent("PUT", "virtualMachines/vm-twice"), [201, 412]);

    env.inject(Fault::Forbidden {
        count: 1,
        linked: false,
        matcher: m("PUT", "virtualMachines/vm-denied"),
    });
    let (out, _) = create_vm_flow(
        &env,
        &vm(
            "vm-denied",
            ImagePreset::UbuntuLts,
            false,
            Some("id-orphan-vm"),
        ),
    );
    let f = failed(out);
    assert_eq!(f.class, Class::Forbidden);
    assert_eq!(f.step, "Creating VM vm-denied");
    assert_eq!(f.created.len(), 1);
    assert!(f.created[0].ends_with("/id-orphan-vm"));

    let before = env.sim.sim().request_log().len();
    let (out, _) = create_vm_flow(
        &env,
        &vm(
            "a-windows-name-too-long",
            ImagePreset::WindowsServer,
            true,
            None,
        ),
    );
    assert!(
        matches!(&out, Outcome::Refused(why) if why.contains("1-15")),
        "{out:?}"
    );
    assert_eq!(env.sim.sim().request_log().len(), before, "nothing sent");
}

fn grant_env() -> (Env, RoleAssignmentSpec) {
    let env = Env::with(SimConfig {
        principal_delay_ms: 25_000,
        ..Default::default()
    });
    let (out, _) = run(|ev| block_on(flow::create_identity(&env.client, &uai("id-fresh"), ev)));
    let Outcome::Applied(c) = out else {
        panic!("{out:?}")
    };
    let principal = c.body["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let spec = RoleAssignmentSpec {
        scope: format!("/subscriptions/{SUB}/resourceGroups/rg-web"),
        role_definition: "acdd72a7-3385-48ef-bd42-f606fba81ae7".into(),
        principal_id: principal,
        assignment_name: "6f1e7c1a-0000-4000-8000-000000000001".into(),
    };
    (env, spec)
}

#[test]
fn a_role_grant_waits_out_principal_not_found_with_a_countdown() {
    let (env, spec) = grant_env();
    let (out, events) = run(|ev| block_on(flow::grant_role(&env.client, &spec, ev)));
    let Outcome::Applied(id) = out else {
        panic!("{out:?}")
    };
    assert!(id.ends_with("/roleAssignments/6f1e7c1a-0000-4000-8000-000000000001"));
    let waits: Vec<(u32, u64)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Waiting {
                why: Wait::PrincipalNotFound,
                attempt,
                seconds_left,
                ..
            } => Some((*attempt, *seconds_left)),
            _ => None,
        })
        .collect();
    // 25 s of replication: attempts at 0, 10, 20 s fail, the one at 30 s succeeds
    assert_eq!(waits.len(), 30, "{waits:?}");
    assert_eq!(waits[0], (1, 10));
    assert_eq!(waits[29], (3, 1));
    assert_eq!(env.sent("PUT", "roleAssignments"), [400, 400, 400, 201]);
}

#[test]
fn a_role_grant_stops_waiting_when_the_session_turns_read_only() {
    let (env, spec) = grant_env();
    let access = env.access.clone();
    let (out, events) = run(|ev| {
        block_on(flow::grant_role(&env.client, &spec, &mut |e: &Event| {
            ev(e);
            if matches!(
                e,
                Event::Waiting {
                    seconds_left: 7,
                    ..
                }
            ) {
                access.set(false);
            }
        }))
    });
    let f = not_sent(out);
    assert_eq!(f.class, Class::ReadOnly);
    let last = events.last().unwrap();
    assert!(
        matches!(
            last,
            Event::Waiting {
                seconds_left: 7,
                ..
            }
        ),
        "stopped at once: {last:?}"
    );
    assert_eq!(env.sent("PUT", "roleAssignments"), [400], "no retry sent");
}

// ---- removal without orphans: the identity change, then each role assignment DELETE ----

const VM_JUMP: &str = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-jump";

/// What `principal` can access, read through Resource Graph (complete, or the test fails).
fn access(env: &Env, principal: &str) -> inventory::AccessLoad {
    let a = block_on(inventory::load_access(
        &env.client,
        &[principal.to_string()],
        &[],
        &inventory::LoadOptions::default(),
        &inventory::CancelFlag::new(),
        &mut |_| {},
    ));
    assert!(a.is_complete(), "{:?}", a.completeness);
    a
}

fn deletions(a: &inventory::AccessLoad) -> Vec<RoleAssignmentDeletion> {
    a.assignments
        .iter()
        .map(RoleAssignmentDeletion::from_row)
        .collect::<Result<_, _>>()
        .unwrap()
}

/// (method, path) of every write in the simulator's log, in order.
fn writes(env: &Env) -> Vec<(String, String)> {
    env.sim
        .sim()
        .request_log()
        .iter()
        .filter(|e| e.method != "GET" && e.method != "POST")
        .map(|e| (e.method.clone(), e.path.clone()))
        .collect()
}

#[test]
fn removing_the_system_assigned_identity_deletes_its_role_assignments_after_the_change() {
    let env = Env::new();
    let st = env.state(VM_JUMP);
    let pid = st.identity.principal_id.clone().unwrap();
    // listed while the principal exists: role names, scopes (the demo seed's two)
    let before = access(&env, &pid);
    let mut roles: Vec<&str> = before
        .assignments
        .iter()
        .map(|a| a.role_name.as_deref().unwrap())
        .collect();
    roles.sort();
    assert_eq!(roles, ["Reader", "Virtual Machine Contributor"]);
    let dels = deletions(&before);
    let (out, events) = run(|ev| {
        block_on(flow::change_identity_and_delete_role_assignments(
            &env.client,
            &st,
            &Operation::RemoveSystemAssigned,
            &dels,
            ev,
        ))
    });
    let Outcome::Applied(ch) = out else {
        panic!("{out:?}")
    };
    assert!(!ch.after.as_ref().unwrap().identity.system_assigned);
    assert_eq!(ch.deletions.len(), 2);
    assert!(ch.failed_deletions().is_empty(), "{:?}", ch.deletions);
    // the PATCH first, then one DELETE per assignment, by id
    let w = writes(&env);
    assert_eq!(w[0].0, "PATCH");
    assert!(w[0].1.ends_with("/vm-jump"), "{w:?}");
    let deleted: Vec<&str> = w[1..]
        .iter()
        .map(|(m, p)| {
            assert_eq!(m, "DELETE");
            p.as_str()
        })
        .collect();
    let mut want: Vec<String> = dels.iter().map(|d| d.id.clone()).collect();
    want.sort();
    let mut got: Vec<String> = deleted.iter().map(|p| p.to_string()).collect();
    got.sort();
    assert_eq!(got, want);
    assert!(events.iter().any(
        |e| matches!(e, Event::Sending { step } if step.starts_with("Deleting the role assignment"))
    ));
    // no orphan left: nothing is held by the removed principal
    assert!(access(&env, &pid).assignments.is_empty());
}

#[test]
fn a_failed_role_assignment_delete_is_reported_per_assignment_and_the_change_stays_applied() {
    let env = Env::new();
    let st = env.state(VM_JUMP);
    let pid = st.identity.principal_id.clone().unwrap();
    let before = access(&env, &pid);
    let dels = deletions(&before);
    let refused = dels[0].name().to_string();
    env.inject(Fault::Forbidden {
        count: 1,
        linked: false,
        matcher: m("DELETE", &refused),
    });
    let (out, _) = run(|ev| {
        block_on(flow::change_identity_and_delete_role_assignments(
            &env.client,
            &st,
            &Operation::RemoveSystemAssigned,
            &dels,
            ev,
        ))
    });
    let Outcome::Applied(ch) = out else {
        panic!("the identity change succeeded and is said so: {out:?}")
    };
    assert!(!ch.after.as_ref().unwrap().identity.system_assigned);
    let failed = ch.failed_deletions();
    assert_eq!(failed.len(), 1, "{:?}", ch.deletions);
    assert_eq!(failed[0].assignment.name(), refused);
    let f = failed[0].result.as_ref().unwrap_err();
    assert_eq!(f.class, Class::Forbidden);
    assert_eq!(f.error.status, Some(403));
    assert!(f.hint.as_deref().is_some_and(|h| !h.is_empty()), "{f:?}");
    assert!(f.step.contains(&refused));
    // the other one was still deleted; the refused one is left, the only one remaining
    let left = access(&env, &pid);
    assert_eq!(left.assignments.len(), 1);
    assert!(left.assignments[0].id.ends_with(&refused));
}

#[test]
fn a_read_only_session_sends_neither_the_change_nor_a_delete() {
    let env = Env::new();
    let st = env.state(VM_JUMP);
    let pid = st.identity.principal_id.clone().unwrap();
    let dels = deletions(&access(&env, &pid));
    env.access.set(false);
    let (out, _) = run(|ev| {
        block_on(flow::change_identity_and_delete_role_assignments(
            &env.client,
            &st,
            &Operation::RemoveSystemAssigned,
            &dels,
            ev,
        ))
    });
    assert_eq!(not_sent(out).class, Class::ReadOnly);
    assert!(writes(&env).is_empty());
    assert_eq!(access(&env, &pid).assignments.len(), 2);
}

#[test]
fn a_user_assigned_identity_leaving_its_last_user_takes_its_assignments_with_it() {
    let env = Env::new();
    const VM_DEV_2: &str = "/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-dev/providers/Microsoft.Compute/virtualMachines/vm-dev-2";
    let st = env.state(VM_DEV_2);
    // id-batch: is vm-dev-2 its last user? Resource Graph says so
    let users = block_on(inventory::load_users_of_identity(
        &env.client,
        ID_BATCH,
        &[],
        &inventory::LoadOptions::default(),
        &inventory::CancelFlag::new(),
        &mut |_| {},
    ));
    assert!(users.is_complete(), "{:?}", users.completeness);
    assert_eq!(users.users.len(), 1, "{:?}", users.users);
    assert!(users.others(VM_DEV_2).is_empty());
    // id-web is used by two scale sets
    let web = ID_BATCH.replace("id-batch", "id-web");
    let web_users = block_on(inventory::load_users_of_identity(
        &env.client,
        &web,
        &[],
        &inventory::LoadOptions::default(),
        &inventory::CancelFlag::new(),
        &mut |_| {},
    ));
    assert_eq!(web_users.users.len(), 2, "{:?}", web_users.users);
    let ua_pid = st
        .identity
        .find_user_assigned(ID_BATCH)
        .and_then(|u| u.principal_id.clone())
        .unwrap();
    let dels = deletions(&access(&env, &ua_pid));
    assert_eq!(dels.len(), 1);
    let op = Operation::RemoveUserAssigned {
        ids: vec![ID_BATCH.into()],
    };
    let (out, _) = run(|ev| {
        block_on(flow::change_identity_and_delete_role_assignments(
            &env.client,
            &st,
            &op,
            &dels,
            ev,
        ))
    });
    let Outcome::Applied(ch) = out else {
        panic!("{out:?}")
    };
    assert!(ch.failed_deletions().is_empty(), "{:?}", ch.deletions);
    let after = ch.after.unwrap();
    assert!(!after.identity.has_user_assigned(ID_BATCH));
    assert!(after.identity.system_assigned, "the rest stays");
    assert!(access(&env, &ua_pid).assignments.is_empty());
    // a query refused for a malformed id sends nothing
    let bad = block_on(inventory::load_users_of_identity(
        &env.client,
        &format!("{ID_BATCH}' or 1==1"),
        &[],
        &inventory::LoadOptions::default(),
        &inventory::CancelFlag::new(),
        &mut |_| {},
    ));
    assert!(!bad.is_complete() && bad.requests == 0);
}
