//! A deterministic large-tenant generator: N subscriptions × M scale sets / VMs / user-assigned identities with
//! realistic identity mixes, and the role assignments those identities hold. Used by the server
//! (`--tenant` / `--generate-scale`), the bench and the tests; [`crate::Seed::generate_scale`] is its scale-sets-only
//! form.
//!
//! The mix, per scale set or VM (from a hash of its subscription and index, so the same spec gives the same
//! tenant): about 20 % no identity, 30 % system-assigned, 25 % user-assigned (one or two of the subscription's
//! identities), 25 % both; about 10 % of the user-assigned ones also carry the tenant-wide *shared* identity
//! (`id-shared-platform` in the first subscription, used across every subscription); 5 % carry the retired
//! `ManagedIdentityExtensionForLinux/Windows` extension; 1 % are `Failed`. About 10 % of the scale sets are AKS
//! node pools: `Uniform`, in an `MC_…` group whose `managedBy` is the cluster, tagged `aks-managed-poolName`, using
//! the cluster's kubelet identity (`aks-NNN-agentpool`, in the `MC_` group) when the subscription has two
//! identities or more. Other scale sets: 70 % `Uniform`, 30 % `Flexible` (never system-assigned: Azure accepts
//! only `UserAssigned` or `None` there, so the system-assigned part of their roll is dropped); 20 % Windows.
//!
//! Role assignments: every user-assigned identity holds `Reader` on its subscription and half of them also
//! `Storage Blob Data Reader` on their group (with an ABAC condition on one in ten); about a third of the
//! system-assigned principals hold `Reader` on their group; every subscription holds one assignment of a principal
//! that no longer exists (what the portal shows as "Identity not found").
//!
//! ```
//! use armsim::tenant::TenantSpec;
//! let spec = TenantSpec { subscriptions: 3, scale_sets: 30, vms: 6, identities: 9 };
//! let a = armsim::Seed::generate_tenant(&spec);
//! assert_eq!(a, armsim::Seed::generate_tenant(&spec)); // deterministic
//! assert_eq!(spec.count(&a), (30, 6, 9));
//! ```

use crate::seed::{
    Seed, SeedCompute, SeedExtension, SeedGroup, SeedIdentity, SeedLocation, SeedRoleAssignment,
    SeedSubnet, SeedSubscription, SeedUserIdentity, SeedVmSize, SeedVnet,
};
use serde_json::{Map, json};

/// How big a tenant to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantSpec {
    /// Subscriptions (at least 1).
    pub subscriptions: usize,
    /// Scale sets, spread evenly over the subscriptions.
    pub scale_sets: usize,
    /// Virtual machines, spread evenly.
    pub vms: usize,
    /// User-assigned identities, spread evenly (the AKS kubelet identities and the shared one included).
    pub identities: usize,
}

impl TenantSpec {
    /// The tenant of issue 16's benchmark: 100 subscriptions, 10,000 scale sets, 2,000 VMs, 500 identities.
    pub const BENCH: TenantSpec = TenantSpec {
        subscriptions: 100,
        scale_sets: 10_000,
        vms: 2_000,
        identities: 500,
    };

    /// Parses `SUBS,SCALE_SETS,VMS,IDENTITIES` (e.g. `100,10000,2000,500`).
    ///
    /// ```
    /// use armsim::tenant::TenantSpec;
    /// assert_eq!(TenantSpec::parse("100,10000,2000,500"), Ok(TenantSpec::BENCH));
    /// assert!(TenantSpec::parse("1,2").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<TenantSpec, String> {
        let n: Vec<usize> = s
            .split(',')
            .map(|x| x.trim().parse::<usize>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("expected SUBS,SCALE_SETS,VMS,IDENTITIES (numbers), not `{s}`"))?;
        match n.as_slice() {
            [a, b, c, d] => Ok(TenantSpec {
                subscriptions: *a,
                scale_sets: *b,
                vms: *c,
                identities: *d,
            }),
            _ => Err(format!(
                "expected SUBS,SCALE_SETS,VMS,IDENTITIES (four numbers), not `{s}`"
            )),
        }
    }

    /// (scale sets, VMs, user-assigned identities) in a seed.
    pub fn count(&self, seed: &Seed) -> (usize, usize, usize) {
        let gs = seed.subscriptions.iter().flat_map(|s| &s.resource_groups);
        gs.fold((0, 0, 0), |(a, b, c), g| {
            (
                a + g.virtual_machine_scale_sets.len(),
                b + g.virtual_machines.len(),
                c + g.user_assigned_identities.len(),
            )
        })
    }
}

const REGIONS: [(&str, &str); 3] = [
    ("westeurope", "West Europe"),
    ("northeurope", "North Europe"),
    ("eastus", "East US"),
];
const PURPOSES: [&str; 5] = ["web", "api", "batch", "data", "deploy"];
const ENVS: [&str; 4] = ["Prod", "Dev", "Test", "Shared"];

fn mix(mut x: u64) -> u64 {
    // splitmix64
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn h(kind: u64, s: usize, i: usize) -> u64 {
    mix(mix(kind << 40 ^ s as u64) ^ (i as u64).wrapping_mul(0x1000_0001))
}

/// A GUID made from a hash (version-4 shape).
fn guid(x: u64, y: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (x >> 32) as u32,
        (x >> 16) & 0xffff,
        x & 0xfff,
        (y >> 48) & 0xfff,
        y & 0xffff_ffff_ffff
    )
}

fn share(total: usize, parts: usize, k: usize) -> usize {
    total / parts + usize::from(k < total % parts)
}

fn sub_id(s: usize) -> String {
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        0x5ca1_e000u32 + s as u32,
        s
    )
}

struct Ua {
    /// `group/name` (same subscription) — the form the seed resolves.
    reference: String,
}

impl Seed {
    /// A generated tenant (see the [module](crate::tenant) for the mix).
    pub fn generate_tenant(spec: &TenantSpec) -> Seed {
        let subs = spec.subscriptions.max(1);
        let mut seed = Seed {
            tenant_id: crate::seed::default_tenant(),
            rng_seed: 1,
            locations: REGIONS
                .iter()
                .map(|(n, d)| SeedLocation {
                    name: (*n).into(),
                    display_name: (*d).into(),
                    regional_display_name: None,
                })
                .collect(),
            vm_sizes: vec![SeedVmSize {
                name: "Standard_D2s_v3".into(),
                number_of_cores: 2,
                memory_in_mb: 8192,
                max_data_disk_count: 4,
            }],
            ..Default::default()
        };
        let has_shared = share(spec.identities, subs, 0) > 0;
        let shared_id = format!(
            "/subscriptions/{}/resourceGroups/rg-identities-000/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-shared-platform",
            sub_id(0)
        );
        // the shared identity: `group/name` in its own subscription, its full id elsewhere
        let shared = |s: usize| -> Option<&str> {
            match (has_shared, s) {
                (false, _) => None,
                (true, 0) => Some("rg-identities-000/id-shared-platform"),
                _ => Some(shared_id.as_str()),
            }
        };
        for s in 0..subs {
            let sid = sub_id(s);
            let (loc, _) = REGIONS[s % REGIONS.len()];
            let n_ids = share(spec.identities, subs, s);
            let n_vmss = share(spec.scale_sets, subs, s);
            let n_vms = share(spec.vms, subs, s);
            let aks = n_ids >= 2 && n_vmss > 0;
            let cluster = format!("aks-{s:03}");
            let mc_name = format!("MC_rg-aks-{s:03}_{cluster}_{loc}");
            let mut ids_group = SeedGroup {
                name: format!("rg-identities-{s:03}"),
                location: loc.into(),
                ..Default::default()
            };
            let mut uas: Vec<Ua> = vec![];
            let mut kubelet: Option<Ua> = None;
            let mut kubelet_ua: Option<SeedUserIdentity> = None;
            for k in 0..n_ids {
                let hk = h(1, s, k);
                let principal = guid(hk, mix(hk));
                let client = guid(mix(hk ^ 0xc11e), mix(hk ^ 0xc11f));
                let (group, name) = if s == 0 && k == 0 {
                    (ids_group.name.clone(), "id-shared-platform".to_string())
                } else if aks && k == n_ids - 1 {
                    (mc_name.clone(), format!("{cluster}-agentpool"))
                } else {
                    (
                        ids_group.name.clone(),
                        format!("id-{}-{s:03}-{k:02}", PURPOSES[k % PURPOSES.len()]),
                    )
                };
                let ua = SeedUserIdentity {
                    name: name.clone(),
                    principal_id: Some(principal.clone()),
                    client_id: Some(client),
                    ..Default::default()
                };
                let scope_group = format!("/subscriptions/{sid}/resourceGroups/{group}");
                seed.role_assignments.push(SeedRoleAssignment {
                    name: Some(guid(mix(hk ^ 1), mix(hk ^ 2))),
                    scope: format!("/subscriptions/{sid}"),
                    role: "Reader".into(),
                    principal_id: principal.clone(),
                    principal_type: Some("ServicePrincipal".into()),
                    condition: None,
                });
                if hk.is_multiple_of(2) {
                    seed.role_assignments.push(SeedRoleAssignment {
                        name: Some(guid(mix(hk ^ 3), mix(hk ^ 4))),
                        scope: scope_group,
                        role: "Storage Blob Data Reader".into(),
                        principal_id: principal.clone(),
                        principal_type: Some("ServicePrincipal".into()),
                        condition: hk.is_multiple_of(10).then(|| {
                            "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'logs'))".to_string()
                        }),
                    });
                }
                let entry = Ua {
                    reference: format!("{group}/{name}"),
                };
                if group == mc_name {
                    kubelet = Some(entry);
                } else {
                    uas.push(entry);
                }
                if group == ids_group.name {
                    ids_group.user_assigned_identities.push(ua);
                } else {
                    // the kubelet identity lives in the MC_ group, made below
                    kubelet_ua = Some(ua);
                }
            }
            let vnet = |g: &str| SeedVnet {
                name: format!("vnet-{g}"),
                location: None,
                address_prefixes: vec!["10.0.0.0/16".into()],
                subnets: vec![SeedSubnet {
                    name: "default".into(),
                    address_prefix: "10.0.0.0/24".into(),
                }],
            };
            let app_groups: Vec<String> = (0..2).map(|a| format!("rg-app-{s:03}-{a}")).collect();
            let mut groups: Vec<SeedGroup> = app_groups
                .iter()
                .enumerate()
                .map(|(a, name)| SeedGroup {
                    name: name.clone(),
                    location: REGIONS[(s + a) % REGIONS.len()].0.into(),
                    virtual_networks: vec![vnet(name)],
                    tags: Map::from_iter([("env".to_string(), json!(ENVS[s % ENVS.len()]))]),
                    ..Default::default()
                })
                .collect();
            let mut mc = SeedGroup {
                name: mc_name.clone(),
                location: loc.into(),
                managed_by: Some(format!(
                    "/subscriptions/{sid}/resourceGroups/rg-aks-{s:03}/providers/Microsoft.ContainerService/managedClusters/{cluster}"
                )),
                tags: Map::from_iter([
                    ("aks-managed-cluster-name".to_string(), json!(cluster)),
                    (
                        "aks-managed-cluster-rg".to_string(),
                        json!(format!("rg-aks-{s:03}")),
                    ),
                ]),
                virtual_networks: vec![vnet("aks")],
                user_assigned_identities: kubelet_ua.into_iter().collect(),
                ..Default::default()
            };
            for i in 0..n_vmss {
                let x = h(2, s, i);
                let is_aks = x.is_multiple_of(10);
                if is_aks {
                    let pool = format!("nodepool{}", i % 3 + 1);
                    let mut tags = Map::new();
                    tags.insert("aks-managed-poolName".into(), json!(pool));
                    tags.insert(
                        "aks-managed-orchestrator".into(),
                        json!("Kubernetes:1.31.2"),
                    );
                    let c = SeedCompute {
                        // 7919 is prime to 10^8: a distinct number per index (names must not collide)
                        name: format!(
                            "aks-{pool}-{:08}-vmss",
                            (i as u64 * 7919 + 10_000_000) % 100_000_000
                        ),
                        orchestration_mode: Some("Uniform".into()),
                        subnet: Some("vnet-aks/default".into()),
                        identity: kubelet.as_ref().map(|k| SeedIdentity {
                            identity_type: "UserAssigned".into(),
                            principal_id: None,
                            user_assigned: vec![k.reference.clone()],
                        }),
                        tags,
                        ..Default::default()
                    };
                    mc.virtual_machine_scale_sets.push(c);
                    continue;
                }
                let g = (x >> 4) as usize % app_groups.len();
                let mut c = compute(x, &format!("vmss-{s:03}-{i:05}"), &uas, shared(s));
                c.orchestration_mode = Some(
                    if (x >> 40) % 10 < 7 {
                        "Uniform"
                    } else {
                        "Flexible"
                    }
                    .into(),
                );
                if c.orchestration_mode.as_deref() == Some("Flexible") {
                    no_system_assigned(&mut c);
                }
                c.subnet = Some(format!("vnet-{}/default", app_groups[g]));
                note_system(&mut seed, &c, x, &sid, &app_groups[g]);
                groups[g].virtual_machine_scale_sets.push(c);
            }
            for i in 0..n_vms {
                let x = h(3, s, i);
                let g = (x >> 4) as usize % app_groups.len();
                let c = compute(x, &format!("vm-{s:03}-{i:05}"), &uas, shared(s));
                note_system(&mut seed, &c, x, &sid, &app_groups[g]);
                groups[g].virtual_machines.push(c);
            }
            // an assignment whose principal is gone ("Identity not found")
            let xo = h(4, s, 0);
            seed.role_assignments.push(SeedRoleAssignment {
                name: Some(guid(xo, mix(xo))),
                scope: format!("/subscriptions/{sid}/resourceGroups/{}", app_groups[0]),
                role: "Contributor".into(),
                principal_id: guid(mix(xo ^ 7), mix(xo ^ 8)),
                principal_type: Some("ServicePrincipal".into()),
                condition: None,
            });
            let mut all = vec![ids_group];
            all.extend(groups);
            if !mc.virtual_machine_scale_sets.is_empty() || !mc.user_assigned_identities.is_empty()
            {
                all.push(mc);
            }
            seed.subscriptions.push(SeedSubscription {
                subscription_id: sid,
                display_name: format!("Contoso {} {s:03}", ENVS[s % ENVS.len()]),
                state: "Enabled".into(),
                resource_groups: all,
            });
        }
        seed
    }
}

/// A scale set or VM with the identity mix.
fn compute(x: u64, name: &str, uas: &[Ua], shared: Option<&str>) -> SeedCompute {
    let roll = (x >> 8) % 100;
    let (system, user) = match roll {
        0..20 => (false, false),
        20..50 => (true, false),
        50..75 => (false, true),
        _ => (true, true),
    };
    let mut user_list: Vec<String> = vec![];
    if user && !uas.is_empty() {
        let a = (x >> 16) as usize % uas.len();
        user_list.push(uas[a].reference.clone());
        if (x >> 20).is_multiple_of(3) && uas.len() > 1 {
            user_list.push(uas[(a + 1) % uas.len()].reference.clone());
        }
    }
    if let Some(shared) =
        shared.filter(|_| user && ((x >> 24).is_multiple_of(10) || uas.is_empty()))
        && !user_list.iter().any(|u| u == shared)
    {
        user_list.push(shared.to_string());
    }
    let user = user && !user_list.is_empty();
    let identity = match (system, user) {
        (false, false) => None,
        (s_, u) => Some(SeedIdentity {
            identity_type: match (s_, u) {
                (true, true) => "SystemAssigned, UserAssigned",
                (true, false) => "SystemAssigned",
                _ => "UserAssigned",
            }
            .into(),
            principal_id: s_.then(|| guid(mix(x ^ 0x5a), mix(x ^ 0x5b))),
            user_assigned: if u { user_list } else { vec![] },
        }),
    };
    let windows = (x >> 28).is_multiple_of(5);
    let extensions = if (x >> 32).is_multiple_of(20) {
        let t = if windows {
            "ManagedIdentityExtensionForWindows"
        } else {
            "ManagedIdentityExtensionForLinux"
        };
        vec![SeedExtension {
            name: t.into(),
            publisher: "Microsoft.ManagedIdentity".into(),
            extension_type: t.into(),
            type_handler_version: "1.0".into(),
            settings: Some(json!({"port": 50342})),
        }]
    } else {
        vec![]
    };
    SeedCompute {
        name: name.into(),
        os: windows.then(|| "Windows".into()),
        identity,
        extensions,
        properties: (x >> 36)
            .is_multiple_of(100)
            .then(|| json!({"provisioningState": "Failed"})),
        ..Default::default()
    }
}

/// A Flexible scale set accepts only `UserAssigned` or `None` (armsim answers 400 to anything else), so the
/// generator never gives one a system-assigned identity: `SystemAssigned, UserAssigned` becomes `UserAssigned`,
/// `SystemAssigned` none.
fn no_system_assigned(c: &mut SeedCompute) {
    c.identity = c.identity.take().and_then(|mut i| {
        if i.user_assigned.is_empty() {
            return None;
        }
        i.identity_type = "UserAssigned".into();
        i.principal_id = None;
        Some(i)
    });
}

/// About a third of the system-assigned principals hold `Reader` on their group.
fn note_system(seed: &mut Seed, c: &SeedCompute, x: u64, sid: &str, group: &str) {
    let Some(pid) = c.identity.as_ref().and_then(|i| i.principal_id.clone()) else {
        return;
    };
    if (x >> 44).is_multiple_of(3) {
        seed.role_assignments.push(SeedRoleAssignment {
            name: Some(guid(mix(x ^ 0x7a), mix(x ^ 0x7b))),
            scope: format!("/subscriptions/{sid}/resourceGroups/{group}"),
            role: "Reader".into(),
            principal_id: pid,
            principal_type: Some("ServicePrincipal".into()),
            condition: None,
        });
    }
}
