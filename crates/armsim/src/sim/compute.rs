//! Scale sets and VMs (`Microsoft.Compute`): rendering, PATCH/PUT with the identity merge, `manualupgrade`,
//! extension DELETE, and the preconditions (If-Match, busy, unknown user-assigned ids).

use super::errors::{
    entity_not_found, invalid_body, method_not_allowed, no_route, not_found, only,
};
use super::{Call, Group, Kind, OpKind, R, Res, Sim, body_location, key, ok, parse_body};
use crate::apiver;
use crate::error::{ArmError, invalid_parameter};
use crate::http::{SimRequest, SimResponse};
use crate::identity::{IdentityState, MergeMode, SystemIds, merge_identity};
use crate::rng::iso8601;
use serde_json::{Value, json};

/// A request on one scale set or VM, with what each of its handlers needs.
#[derive(Clone, Copy)]
struct OnCompute<'a> {
    c: Call<'a>,
    sub: &'a str,
    g: &'a Group,
    kind: Kind,
    /// the resource's key (its id, lower case)
    k: &'a str,
    name: &'a str,
    /// the api-version, already checked
    api: &'a str,
}

impl Sim {
    /// `…/{virtualMachineScaleSets|virtualMachines}/{name}[/manualupgrade | /extensions[/{e}]]` in group `g`;
    /// `rest` starts at the namespace, `v` is the checked api-version.
    pub(super) fn compute_item(
        &mut self,
        c: Call<'_>,
        sub: &str,
        g: &Group,
        rest: &[String],
        v: &str,
    ) -> R {
        let Call { m, t, .. } = c;
        let lc: Vec<String> = rest[1..].iter().map(|s| s.to_ascii_lowercase()).collect();
        let (ty, tail) = (lc[0].as_str(), &lc[2..]);
        let tail: Vec<&str> = tail.iter().map(String::as_str).collect();
        let kind = if ty == "virtualmachinescalesets" {
            Kind::Vmss
        } else {
            Kind::Vm
        };
        let name = &rest[2];
        let k = key(&t.path_decoded_prefix(8));
        let on = OnCompute {
            c,
            sub,
            g,
            kind,
            k: &k,
            name,
            api: v,
        };
        match tail.as_slice() {
            [] => match m {
                "GET" => {
                    let rr = self
                        .res
                        .get(&k)
                        .ok_or_else(|| not_found(ty, name, &g.name))?;
                    let etag = rr.etag;
                    let mut body = self.render(&k, Some(v));
                    if kind == Kind::Vm
                        && t.param("$expand")
                            .is_some_and(|e| e.eq_ignore_ascii_case("instanceView"))
                    {
                        body["properties"]["instanceView"] = instance_view(&body);
                    }
                    let mut resp = ok(200, &body);
                    if v >= apiver::COMPUTE_ETAG_SINCE {
                        resp.headers.push(("ETag".into(), format!("\"{etag}\"")));
                    }
                    Ok(resp)
                }
                "PATCH" => self.patch_compute(&on),
                "PUT" => self.put_compute(&on),
                _ => Err(method_not_allowed(m)),
            },
            ["manualupgrade"] if kind == Kind::Vmss => {
                only(m, &["POST"])?;
                self.manual_upgrade(&on)
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
                    "DELETE" => self.delete_extension(&on, &ek),
                    _ => Err(method_not_allowed(m)),
                }
            }
            _ => Err(no_route(t)),
        }
    }

    pub(super) fn render(&self, k: &str, api: Option<&str>) -> Value {
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

    /// The answer to a write that starts a long-running operation: the resource as it is now, its ETag, and
    /// `Azure-AsyncOperation` (+ `Azure-AsyncNotification: Enabled`), as recorded.
    fn lro_response(
        &mut self,
        on: &OnCompute<'_>,
        loc: &str,
        status: u16,
        kind: OpKind,
    ) -> SimResponse {
        let OnCompute {
            c: Call { now, .. },
            sub,
            k,
            api,
            ..
        } = *on;
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

    fn patch_compute(&mut self, on: &OnCompute<'_>) -> R {
        let OnCompute {
            c: Call { req, .. },
            g,
            kind,
            k,
            name,
            ..
        } = *on;
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
        Ok(self.lro_response(on, &loc, 200, OpKind::Update))
    }

    fn put_compute(&mut self, on: &OnCompute<'_>) -> R {
        let OnCompute {
            c: Call { req, now, .. },
            g,
            kind,
            k,
            name,
            ..
        } = *on;
        let exists = self.res.contains_key(k);
        super::errors::create_guard(req, exists)?;
        if exists {
            self.check_if_match(req, k)?;
            self.check_busy(k)?;
        }
        let b = parse_body(req)?;
        if !b.is_object() {
            return Err(invalid_body("The request content must be a JSON object."));
        }
        crate::schema::check_compute_put(&b)?;
        let loc = body_location(&b)?;
        if kind == Kind::Vm
            && let Some(np) = b.pointer("/properties/networkProfile")
        {
            for subnet in crate::schema::check_vm_network_profile(np)? {
                self.check_subnet(&subnet)?;
            }
        }
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
        // A scale set model's `extensionProfile.extensions` is its extension set: a PUT that carries it replaces
        // the extension resources (az vmss extension delete PUTs the model without the extension). Kept as child
        // resources, as the seed loader does.
        let extensions = (kind == Kind::Vmss)
            .then(|| {
                body["properties"]["virtualMachineProfile"]
                    .get_mut("extensionProfile")
                    .and_then(Value::as_object_mut)
                    .and_then(|e| e.remove("extensions"))
            })
            .flatten();
        if let Some(Value::Array(list)) = extensions {
            let prefix = format!("{k}/extensions/");
            let stale: Vec<String> = self.children(&prefix).map(|(c, _)| c.clone()).collect();
            for c in stale {
                self.res.remove(&c);
            }
            for mut e in list {
                let en = e["name"].as_str().unwrap_or_default().to_string();
                e["id"] = json!(format!("{id}/extensions/{en}"));
                e["type"] = json!("Microsoft.Compute/virtualMachineScaleSets/extensions");
                self.put_res(Kind::VmssExt, e, 0);
            }
        }
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
        Ok(self.lro_response(on, &loc, status, kind_op))
    }

    /// A subnet a VM's NIC configuration references must exist (a VNet of the simulator with that subnet).
    /// Not recorded: the answer for a missing one; the simulator answers as Network does for a missing
    /// referenced resource, 400 `InvalidResourceReference`.
    fn check_subnet(&self, subnet_id: &str) -> Result<(), ArmError> {
        let lower = subnet_id.to_ascii_lowercase();
        let found = lower.rsplit_once("/subnets/").is_some_and(|(vnet, sn)| {
            vnet.contains("/providers/microsoft.network/virtualnetworks/")
                && self.res.get(vnet).is_some_and(|v| {
                    v.kind == Kind::Vnet
                        && v.body["properties"]["subnets"].as_array().is_some_and(|a| {
                            a.iter().any(|x| {
                                x["name"]
                                    .as_str()
                                    .is_some_and(|n| n.eq_ignore_ascii_case(sn))
                            })
                        })
                })
        });
        if found {
            Ok(())
        } else {
            Err(ArmError::new(
                400,
                "InvalidResourceReference",
                format!(
                    "Resource {subnet_id} referenced by the virtual machine's network interface configuration was not found. Please make sure that the referenced resource exists, and that both resources are in the same region."
                ),
            ))
        }
    }

    fn manual_upgrade(&mut self, on: &OnCompute<'_>) -> R {
        let OnCompute {
            c: Call { req, now, .. },
            sub,
            g,
            k,
            name,
            ..
        } = *on;
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
        // Recorded: 202 with both operation URLs and `Azure-AsyncNotification: Enabled`, no `Retry-After`.
        Ok(SimResponse {
            status: 202,
            headers: vec![
                ("Azure-AsyncNotification".into(), "Enabled".into()),
                ("Azure-AsyncOperation".into(), aao),
                ("Location".into(), location),
            ],
            ..Default::default()
        })
    }

    fn delete_extension(&mut self, on: &OnCompute<'_>, ek: &str) -> R {
        let OnCompute {
            c: Call { now, .. },
            sub,
            k,
            ..
        } = *on;
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
}

/// ARM answers enum properties in their declared spelling whatever the case sent (recorded: the template sent
/// `"upgradePolicy": {"mode": "manual"}`, the scale set GET shows `"Manual"`).
pub(super) fn canonical_enums(body: &mut Value) {
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

pub(super) fn is_flexible(body: &Value) -> bool {
    body["properties"]["orchestrationMode"]
        .as_str()
        .is_some_and(|m| m.eq_ignore_ascii_case("flexible"))
}

pub(super) fn set_identity(body: &mut Value, st: &IdentityState) {
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
pub(super) fn merge_json(target: &mut Value, patch: &Value) {
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

pub(super) fn type_name(lc: &str) -> &'static str {
    if lc == "virtualmachinescalesets" {
        "virtualMachineScaleSets"
    } else {
        "virtualMachines"
    }
}

/// A VM's `instanceView` (`GET …?$expand=instanceView`, read by `az vm create` after its deployment): the
/// computer name and the provisioning and power states. Not recorded: the simulator runs no guest, so the VM
/// is reported running once provisioned (`PowerState/starting` before); no agent, disks or boot diagnostics.
fn instance_view(body: &Value) -> Value {
    let state = body["properties"]["provisioningState"]
        .as_str()
        .unwrap_or("Succeeded");
    let running = state == "Succeeded";
    json!({
        "computerName": body["properties"]["osProfile"]["computerName"],
        "statuses": [
            {"code": format!("ProvisioningState/{}", state.to_ascii_lowercase()), "level": "Info",
             "displayStatus": format!("Provisioning {}", state.to_ascii_lowercase())},
            {"code": if running { "PowerState/running" } else { "PowerState/starting" }, "level": "Info",
             "displayStatus": if running { "VM running" } else { "VM starting" }},
        ]
    })
}
