//! Loading a [`Seed`] into the simulator: groups, user-assigned identities, networks, scale sets and VMs (typed or as
//! full ARM bodies), extensions; then the user-assigned entries get their identities' ids.

use super::compute::{canonical_enums, merge_json, set_identity};
use super::identities::UaiFields;
use super::{Group, Kind, Res, Sim, Sub, key};
use crate::identity::{IdentityState, SystemIds};
use crate::seed::{Seed, SeedCompute};
use serde_json::{Value, json};

impl Sim {
    pub(super) fn load(&mut self, seed: &Seed) {
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
                    // (a pinned id still draws its number: pinning one id never shifts the others')
                    let (gen_pid, gen_cid) = (self.rng.uuid(), self.rng.uuid());
                    let pid = u.principal_id.clone().unwrap_or(gen_pid);
                    let cid = u.client_id.clone().unwrap_or(gen_cid);
                    let body = self.uai_body(&UaiFields {
                        sub: &s.subscription_id,
                        rg: &g.name,
                        name: &u.name,
                        loc: &loc,
                        tags: &u.tags,
                        principal_id: &pid,
                        client_id: &cid,
                    });
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
        self.fill_seeded_user_ids();
    }

    /// A seeded scale set or VM may name a user-assigned identity that the seed lists after it (in a later group
    /// or subscription, or in a group's `resources`): once everything is loaded, every entry still without ids
    /// gets the identity's principalId/clientId, whatever the order of the seed.
    fn fill_seeded_user_ids(&mut self) {
        let keys: Vec<String> = self
            .res
            .iter()
            .filter(|(_, r)| matches!(r.kind, Kind::Vmss | Kind::Vm))
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            let mut st = IdentityState::from_json(self.res[&k].body.get("identity"));
            let mut filled = false;
            for (uid, ids) in st.user.iter_mut() {
                if ids.is_none()
                    && let Some(found) = self.ua_ids(uid)
                {
                    *ids = Some(found);
                    filled = true;
                }
            }
            if filled && let Some(r) = self.res.get_mut(&k) {
                set_identity(&mut r.body, &st);
            }
        }
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
                let generated = self.rng.uuid(); // (drawn also when pinned: see above)
                let pid = si.principal_id.clone().unwrap_or(generated);
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

    pub(super) fn put_res(&mut self, kind: Kind, body: Value, etag: u64) {
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
}
