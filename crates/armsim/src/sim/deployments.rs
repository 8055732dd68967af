//! `Microsoft.Resources/deployments` at resource-group scope: a minimal deployment engine, enough for the
//! templates `az vmss create` and `az vm create` send.
//!
//! - PUT `…/resourceGroups/{rg}/providers/Microsoft.Resources/deployments/{name}` with
//!   `{"properties": {"mode": "Incremental", "template": {…}, "parameters": {…}}}`: the template is validated
//!   first (400 `InvalidTemplate`: parameters, expressions, resource types, `dependsOn`, cycles); then every
//!   resource is created in dependency order through armsim's own handlers (a scale set or VM is the same as
//!   one made by a direct PUT: identities, principal ids, the caller's authorization, linked-scope checks).
//!   Answer: 201 (200 when the deployment existed), `provisioningState: Accepted`, `Azure-AsyncOperation`
//!   `…/deployments/{name}/operationStatuses/{id}`.
//! - The deployment is `Running` until `lro_delay_ms` has passed and every resource's own long-running operation
//!   has ended; then `Succeeded` (outputs evaluated, `outputResources`) or `Failed` with ARM's
//!   `DeploymentFailed` error whose `details` are the failing resources' errors.
//! - GET `…/deployments/{name}`, `…/operationStatuses/{id}`, `…/operations` (one per resource).
//!
//! Simplifications (README): resources are created one after the other when the PUT arrives (a dependent one
//! does not wait for its dependency's operation to end, but is created after it); the first failing resource
//! stops the deployment (independent ones after it are not created); only Incremental mode; resource types:
//! Compute scale sets and VMs, user-assigned identities, role assignments, and `Microsoft.Network/*` stored as
//! generic resources (readable by GET; virtual networks as armsim's virtual networks). Template functions: see
//! `template::PURE` and [`Ctx::call`].

use super::template::{self, Functions};
use super::{Call, Group, Kind, R, Res, Sim, key, ok, parse_body};
use crate::apiver::{self, Family};
use crate::error::ArmError;
use crate::http::{SimRequest, SimResponse, Target};
use crate::rng::iso8601;
use serde_json::{Map, Value, json};

/// One deployment.
#[derive(Debug, Clone)]
pub(super) struct Deployment {
    id: String,
    name: String,
    sub: String,
    group: Group,
    template: Value,
    params: Map<String, Value>,
    shown_params: Value,
    start_ms: u64,
    end_ms: u64,
    op_id: String,
    correlation: String,
    insts: Vec<Inst>,
    ops: Vec<ResOp>,
    state: String,
    error: Option<Value>,
    outputs: Option<Value>,
}

/// One resource of the template (a copy loop gives one per index).
#[derive(Debug, Clone)]
struct Inst {
    idx: usize,
    copy: Option<(String, i64)>,
    ty: String,
    name: String,
    api: String,
    id: String,
    deps: Vec<usize>,
}

/// What became of one resource.
#[derive(Debug, Clone)]
struct ResOp {
    inst: usize,
    op_id: String,
    status: u16,
    /// the resource's own long-running operation (Compute)
    lro: Option<String>,
    error: Option<(String, String)>,
    time_ms: u64,
}

/// Functions the engine supports besides [`template::PURE`].
pub(crate) const ENGINE_FUNCTIONS: &[&str] = &[
    "parameters",
    "variables",
    "resourceId",
    "reference",
    "providers",
    "copyIndex",
    "resourceGroup",
    "subscription",
];

const RESOURCE_KEYS: &[&str] = &[
    "location",
    "tags",
    "sku",
    "kind",
    "identity",
    "properties",
    "zones",
    "plan",
    "extendedLocation",
    "managedBy",
];

fn invalid_template(msg: impl std::fmt::Display) -> ArmError {
    ArmError::new(
        400,
        "InvalidTemplate",
        format!("Deployment template validation failed: '{msg}'."),
    )
}

/// How a resource type is created: through armsim's own route, or stored.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Via {
    Route,
    Vnet,
    Generic,
}

fn via(ty: &str) -> Option<Via> {
    let t = ty.to_ascii_lowercase();
    match t.as_str() {
        "microsoft.compute/virtualmachinescalesets"
        | "microsoft.compute/virtualmachines"
        | "microsoft.managedidentity/userassignedidentities"
        | "microsoft.authorization/roleassignments" => Some(Via::Route),
        "microsoft.network/virtualnetworks" => Some(Via::Vnet),
        _ if t.starts_with("microsoft.network/") && !t.contains("/subnets") => Some(Via::Generic),
        _ => None,
    }
}

/// The evaluation context of one template.
struct Ctx<'a> {
    sim: &'a mut Sim,
    sub: String,
    group: &'a Group,
    params: &'a Map<String, Value>,
    vars: &'a Map<String, Value>,
    var_stack: Vec<String>,
    copy: Option<i64>,
    insts: &'a [Inst],
    /// `reference()` allowed (while resources are created and for outputs, not while validating)
    live: bool,
    now: u64,
}

fn find<'v>(m: &'v Map<String, Value>, k: &str) -> Option<(&'v String, &'v Value)> {
    m.iter().find(|(x, _)| x.eq_ignore_ascii_case(k))
}

fn str_arg<'v>(f: &str, a: &'v [Value], i: usize) -> Result<&'v str, String> {
    a.get(i).and_then(Value::as_str).ok_or_else(|| {
        format!(
            "The template function '{f}' expects a string as argument {}.",
            i + 1
        )
    })
}

impl Functions for Ctx<'_> {
    fn call(&mut self, name: &str, a: &[Value]) -> Result<Value, String> {
        match name {
            "parameters" => {
                let p = str_arg("parameters", a, 0)?;
                find(self.params, p)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| format!("The template parameter '{p}' is not found."))
            }
            "variables" => {
                let v = str_arg("variables", a, 0)?;
                let (k, raw) = find(self.vars, v)
                    .ok_or_else(|| format!("The template variable '{v}' is not found."))?;
                if self.var_stack.iter().any(|s| s == k) {
                    return Err(format!("The template variable '{k}' refers to itself."));
                }
                self.var_stack.push(k.clone());
                let out = template::eval_value(raw, self);
                self.var_stack.pop();
                out
            }
            "copyindex" => {
                let i = self.copy.ok_or(
                    "The template function 'copyIndex' is not expected at this location: the resource has no copy loop.",
                )?;
                let off = a.first().and_then(Value::as_i64).unwrap_or(0);
                Ok(json!(i + off))
            }
            "resourcegroup" => Ok(json!({"id": self.group.id, "name": self.group.name,
                "type": "Microsoft.Resources/resourceGroups", "location": self.group.location,
                "properties": {"provisioningState": "Succeeded"}})),
            "subscription" => Ok(json!({"id": format!("/subscriptions/{}", self.sub),
                "subscriptionId": self.sub, "tenantId": self.sim.tenant_id})),
            "resourceid" => {
                let strs: Vec<&str> = (0..a.len())
                    .map(|i| str_arg("resourceId", a, i))
                    .collect::<Result<_, _>>()?;
                let ti = strs
                    .iter()
                    .position(|s| s.contains('/'))
                    .ok_or("The template function 'resourceId' needs a resource type.")?;
                let (sub, rg) = match ti {
                    0 => (self.sub.clone(), self.group.name.clone()),
                    1 => (self.sub.clone(), strs[0].to_string()),
                    2 => (strs[0].to_string(), strs[1].to_string()),
                    _ => return Err("The template function 'resourceId' has too many arguments before the type.".into()),
                };
                let names: Vec<&str> = strs[ti + 1..].iter().flat_map(|n| n.split('/')).collect();
                resource_id(
                    &format!("/subscriptions/{sub}/resourceGroups/{rg}"),
                    strs[ti],
                    &names.join("/"),
                )
            }
            "providers" => {
                let ns = str_arg("providers", a, 0)?;
                let ty = a.get(1).and_then(Value::as_str).unwrap_or("");
                let fam = family(&format!("{ns}/{ty}")).ok_or_else(|| {
                    format!("armsim knows no api-versions of the provider '{ns}'.")
                })?;
                let mut versions: Vec<&str> = fam.versions().to_vec();
                versions.reverse();
                let locations: Vec<&str> = self
                    .sim
                    .locations
                    .iter()
                    .map(|l| l.display_name.as_str())
                    .collect();
                Ok(
                    json!({"namespace": ns, "resourceType": ty, "apiVersions": versions, "locations": locations}),
                )
            }
            "reference" => {
                if !self.live {
                    return Err(
                        "The template function 'reference' is not expected at this location."
                            .into(),
                    );
                }
                let target = str_arg("reference", a, 0)?;
                let full = a
                    .get(2)
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case("full"));
                let inst = self.insts.iter().find(|i| {
                    i.id.eq_ignore_ascii_case(target) || i.name.eq_ignore_ascii_case(target)
                });
                let id = match inst {
                    Some(i) => i.id.clone(),
                    None if target.starts_with('/') => target.to_string(),
                    None => {
                        return Err(format!(
                            "The resource '{target}' is not defined in the template."
                        ));
                    }
                };
                let ty = type_of(&id);
                let api = match (a.get(1).and_then(Value::as_str), inst) {
                    (Some(v), _) => v.to_string(),
                    (None, Some(i)) => i.api.clone(),
                    (None, None) => family(&ty)
                        .and_then(|f| f.versions().last().copied())
                        .unwrap_or("2024-11-01")
                        .to_string(),
                };
                let r = self
                    .sim
                    .internal("GET", &id, &api, None, self.now)
                    .map_err(|e| {
                        format!(
                            "The resource '{id}' could not be read: {} ({}).",
                            e.message, e.code
                        )
                    })?;
                let b = r.json();
                Ok(if full {
                    b
                } else {
                    b.get("properties").cloned().unwrap_or(json!({}))
                })
            }
            _ => {
                let mut all: Vec<&str> = template::PURE.to_vec();
                all.extend(ENGINE_FUNCTIONS);
                Err(format!(
                    "The template function '{name}' is not supported by armsim's deployment engine (supported: {}).",
                    all.join(", ")
                ))
            }
        }
    }
}

/// `{scope}/providers/{ns}/{t1}/{n1}/{t2}/{n2}…` for type `ns/t1/t2` and name `n1/n2`.
fn resource_id(scope: &str, ty: &str, name: &str) -> Result<Value, String> {
    let parts: Vec<&str> = ty.split('/').collect();
    let names: Vec<&str> = name.split('/').collect();
    if parts.len() < 2 || names.len() != parts.len() - 1 || names.iter().any(|n| n.is_empty()) {
        return Err(format!(
            "The resource name '{name}' is not valid for the type '{ty}': it needs {} segment(s).",
            parts.len().saturating_sub(1)
        ));
    }
    let mut id = format!("{scope}/providers/{}", parts[0]);
    for (t, n) in parts[1..].iter().zip(&names) {
        id.push_str(&format!("/{t}/{n}"));
    }
    Ok(json!(id))
}

/// `ns/t1/t2` of a resource id.
fn type_of(id: &str) -> String {
    let segs: Vec<&str> = id.split('/').collect();
    let Some(p) = segs
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))
    else {
        return String::new();
    };
    let mut t = vec![segs.get(p + 1).copied().unwrap_or("")];
    t.extend(segs[p + 2..].iter().step_by(2));
    t.join("/")
}

fn family(ty: &str) -> Option<Family> {
    let ns = ty.split('/').next()?.to_ascii_lowercase();
    Some(match ns.as_str() {
        "microsoft.compute" => Family::Compute,
        "microsoft.managedidentity" => Family::ManagedIdentity,
        "microsoft.network" => Family::Network,
        "microsoft.resources" => Family::ResourceGroups,
        _ => return None,
    })
}

impl Sim {
    /// A request armsim makes to itself on the caller's behalf (a deployment's resources): authorized as the
    /// caller, routed, principals noted. Not logged (ARM's own calls are not the client's requests).
    fn internal(
        &mut self,
        method: &str,
        path: &str,
        api: &str,
        body: Option<&Value>,
        now: u64,
    ) -> R {
        let mut req = SimRequest::new(method, &format!("{path}?api-version={api}"));
        if let Some(b) = body {
            req = req.json(b);
        }
        let t = Target::parse(&req.url);
        if let Some(c) = self.caller.clone()
            && self.cfg.role_map.is_some()
        {
            self.authorize(&c, method, &t.segments, &req)?;
        }
        let r = self.dispatch(Call {
            m: method,
            t: &t,
            req: &req,
            now,
        })?;
        if method == "PUT" {
            self.note_principals(&t.path_decoded(), now);
        }
        Ok(r)
    }

    /// `…/providers/Microsoft.Resources/deployments/{name}[/operationStatuses/{id} | /operations]` in `g`.
    pub(super) fn deployment_route(
        &mut self,
        c: Call<'_>,
        sub: &str,
        g: &Group,
        rest: &[String],
    ) -> R {
        let Call { m, t, now, .. } = c;
        apiver::check(
            Family::ResourceGroups,
            t.param("api-version"),
            "deployments",
            &g.location,
        )?;
        let name = &rest[2];
        let k = key(&format!(
            "{}/providers/Microsoft.Resources/deployments/{name}",
            g.id
        ));
        let tail: Vec<String> = rest[3..].iter().map(|s| s.to_ascii_lowercase()).collect();
        let tail: Vec<&str> = tail.iter().map(String::as_str).collect();
        let not_found = || {
            ArmError::new(
                404,
                "DeploymentNotFound",
                format!("Deployment '{name}' could not be found."),
            )
        };
        if m == "PUT" && tail.is_empty() {
            return self.put_deployment(c, sub, g, name, &k);
        }
        super::errors::only(m, &["GET"])?;
        self.settle(&k, now);
        let d = self.deployments.get(&k).ok_or_else(not_found)?;
        match tail.as_slice() {
            [] => Ok(ok(200, &self.deployment_json(d))),
            ["operationstatuses", id] if id.eq_ignore_ascii_case(&d.op_id) => {
                let mut b = json!({"status": d.state});
                if let Some(e) = &d.error {
                    b["error"] = e.clone();
                }
                Ok(ok(200, &b))
            }
            ["operations"] => {
                let v: Vec<Value> = d.ops.iter().map(|o| self.res_op_json(d, o)).collect();
                Ok(ok(200, &json!({"value": v})))
            }
            _ => Err(not_found()),
        }
    }

    fn put_deployment(&mut self, c: Call<'_>, sub: &str, g: &Group, name: &str, k: &str) -> R {
        let Call { req, now, .. } = c;
        let b = parse_body(req)?;
        let props = b
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                super::errors::invalid_body("The deployment has no 'properties' object.")
            })?;
        if let Some(d) = self.deployments.get(k)
            && d.state == "Running"
        {
            return Err(ArmError::new(
                409,
                "DeploymentActive",
                format!(
                    "Unable to edit or replace deployment '{name}': previous deployment is still active (state: Running). Please see https://aka.ms/arm-deploy for usage details."
                ),
            ));
        }
        let mode = props.get("mode").and_then(Value::as_str).unwrap_or("");
        if !mode.eq_ignore_ascii_case("incremental") {
            return Err(ArmError::new(
                400,
                "InvalidDeploymentMode",
                format!(
                    "armsim's deployment engine supports mode 'Incremental' only, not '{mode}'."
                ),
            ));
        }
        let Some(tpl) = props.get("template").filter(|t| t.is_object()).cloned() else {
            return Err(ArmError::new(
                400,
                "InvalidTemplate",
                "The deployment needs an inline 'template' object (templateLink is not supported by armsim).",
            ));
        };
        let (params, shown) = resolve_params(&tpl, props.get("parameters"))?;
        let empty = Map::new();
        let vars = tpl
            .get("variables")
            .and_then(Value::as_object)
            .unwrap_or(&empty)
            .clone();
        let insts = self
            .expand(sub, g, &tpl, &params, &vars, now)
            .map_err(invalid_template)?;
        let order = order(&insts).map_err(invalid_template)?;
        let id = format!("{}/providers/Microsoft.Resources/deployments/{name}", g.id);
        let existed = self.deployments.contains_key(k);
        let mut d = Deployment {
            id: id.clone(),
            name: name.to_string(),
            sub: sub.to_string(),
            group: g.clone(),
            template: tpl,
            params,
            shown_params: shown,
            start_ms: now,
            end_ms: now + self.cfg.lro_delay_ms,
            op_id: format!("08584{}", &self.rng.uuid().replace('-', "")[..15]).to_ascii_uppercase(),
            correlation: self.rng.uuid(),
            insts: insts.clone(),
            ops: vec![],
            state: "Running".into(),
            error: None,
            outputs: None,
        };
        for i in order {
            let op = self.deploy_one(&d, i, &vars, now);
            let failed = op.error.is_some();
            d.ops.push(op);
            if failed {
                break;
            }
        }
        let url = format!(
            "{}/subscriptions/{sub}/resourcegroups/{}/providers/Microsoft.Resources/deployments/{name}/operationStatuses/{}?api-version={}",
            self.cfg.base_url,
            g.name,
            d.op_id,
            c.t.param("api-version").unwrap_or("")
        );
        let mut body = self.deployment_json(&d);
        body["properties"]["provisioningState"] = json!("Accepted");
        self.deployments.insert(k.to_string(), d);
        let mut r = ok(if existed { 200 } else { 201 }, &body);
        r.headers.push(("Azure-AsyncOperation".into(), url));
        Ok(r)
    }

    /// The template's resources, expanded (copy loops) and named, with their `dependsOn` (explicit and through
    /// `reference()`) resolved to indexes. Validation errors as text.
    fn expand(
        &mut self,
        sub: &str,
        g: &Group,
        tpl: &Value,
        params: &Map<String, Value>,
        vars: &Map<String, Value>,
        now: u64,
    ) -> Result<Vec<Inst>, String> {
        let empty = vec![];
        let resources = match tpl.get("resources") {
            None => &empty,
            Some(Value::Array(a)) => a,
            Some(_) => return Err("The template's 'resources' must be an array.".into()),
        };
        let mut insts = Vec::new();
        let mut raw_deps: Vec<Vec<String>> = Vec::new();
        for (idx, r) in resources.iter().enumerate() {
            let ro = r
                .as_object()
                .ok_or("A template resource must be an object.")?;
            if ro
                .get("resources")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
            {
                return Err("Nested child resources are not supported by armsim's deployment engine; declare them at the top level.".into());
            }
            let mut cx = Ctx {
                sim: self,
                sub: sub.to_string(),
                group: g,
                params,
                vars,
                var_stack: vec![],
                copy: None,
                insts: &[],
                live: false,
                now,
            };
            let copies: Vec<Option<(String, i64)>> = match ro.get("copy") {
                None => vec![None],
                Some(c) => {
                    let cname = c
                        .get("name")
                        .and_then(Value::as_str)
                        .ok_or("A copy loop needs a 'name'.")?;
                    let count =
                        template::eval_value(c.get("count").unwrap_or(&Value::Null), &mut cx)?
                            .as_i64()
                            .filter(|n| (0..=800).contains(n))
                            .ok_or("A copy loop's 'count' must be an integer from 0 to 800.")?;
                    (0..count).map(|i| Some((cname.to_string(), i))).collect()
                }
            };
            for copy in copies {
                cx.copy = copy.as_ref().map(|c| c.1);
                if let Some(cond) = ro.get("condition") {
                    let v = template::eval_value(cond, &mut cx)?;
                    if v == json!(false) {
                        continue;
                    }
                }
                let field = |cx: &mut Ctx<'_>, f: &str| -> Result<String, String> {
                    template::eval_value(ro.get(f).unwrap_or(&Value::Null), cx)?
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| {
                            format!("Template resource {} has no '{f}' string.", idx + 1)
                        })
                };
                let ty = field(&mut cx, "type")?;
                let name = field(&mut cx, "name")?;
                let api = field(&mut cx, "apiVersion")?;
                if via(&ty).is_none() {
                    return Err(format!(
                        "The resource type '{ty}' is not simulated by armsim's deployment engine (supported: Microsoft.Compute/virtualMachineScaleSets, Microsoft.Compute/virtualMachines, Microsoft.ManagedIdentity/userAssignedIdentities, Microsoft.Authorization/roleAssignments, Microsoft.Network/* but subnets as generic resources)"
                    ));
                }
                let id = resource_id(&g.id, &ty, &name)?
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let deps = match ro.get("dependsOn") {
                    None => vec![],
                    Some(d) => template::eval_value(d, &mut cx)?
                        .as_array()
                        .ok_or("'dependsOn' must be an array.")?
                        .iter()
                        .map(|x| {
                            x.as_str()
                                .map(str::to_string)
                                .ok_or("'dependsOn' entries must be strings.")
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                };
                // implicit dependencies: reference() of a resource of this template
                let mut refs = vec![];
                for f in RESOURCE_KEYS {
                    if let Some(v) = ro.get(*f) {
                        template::calls_in(v, "reference", &mut refs);
                    }
                }
                let mut deps = deps;
                for args in refs {
                    if let Some(first) = args.first()
                        && let Ok(Value::String(s)) = template::eval(first, &mut cx)
                    {
                        deps.push(format!("\u{0}{s}"));
                    }
                }
                insts.push(Inst {
                    idx,
                    copy: copy.clone(),
                    ty,
                    name,
                    api,
                    id,
                    deps: vec![],
                });
                raw_deps.push(deps);
            }
        }
        for (i, deps) in raw_deps.iter().enumerate() {
            let mut out = vec![];
            for d in deps {
                let (implicit, d) = match d.strip_prefix('\u{0}') {
                    Some(s) => (true, s),
                    None => (false, d.as_str()),
                };
                let dl = d.to_ascii_lowercase();
                let hits: Vec<usize> = insts
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| {
                        let idl = x.id.to_ascii_lowercase();
                        idl == dl
                            || (dl.contains('/') && idl.ends_with(&format!("/providers/{dl}")))
                            || (!dl.contains('/')
                                && (x.name.eq_ignore_ascii_case(d)
                                    || x.copy
                                        .as_ref()
                                        .is_some_and(|c| c.0.eq_ignore_ascii_case(d))))
                    })
                    .map(|(j, _)| j)
                    .collect();
                if hits.is_empty() && !implicit {
                    return Err(format!(
                        "The resource '{d}' is not defined in the template."
                    ));
                }
                out.extend(hits.into_iter().filter(|j| *j != i));
            }
            out.sort_unstable();
            out.dedup();
            insts[i].deps = out;
        }
        Ok(insts)
    }

    /// Creates one resource of the deployment.
    fn deploy_one(
        &mut self,
        d: &Deployment,
        i: usize,
        vars: &Map<String, Value>,
        now: u64,
    ) -> ResOp {
        let inst = d.insts[i].clone();
        let raw = d.template["resources"][inst.idx].clone();
        let mut op = ResOp {
            inst: i,
            op_id: self.rng.token(16).to_ascii_uppercase(),
            status: 0,
            lro: None,
            error: None,
            time_ms: now,
        };
        let mut body = Map::new();
        let mut cx = Ctx {
            sim: self,
            sub: d.sub.clone(),
            group: &d.group,
            params: &d.params,
            vars,
            var_stack: vec![],
            copy: inst.copy.as_ref().map(|c| c.1),
            insts: &d.insts,
            live: true,
            now,
        };
        for f in RESOURCE_KEYS {
            if let Some(v) = raw.get(*f) {
                match template::eval_value(v, &mut cx) {
                    Ok(v) => {
                        body.insert(f.to_string(), v);
                    }
                    Err(e) => {
                        op.status = 400;
                        op.error = Some((
                            "InvalidTemplate".into(),
                            format!(
                                "Unable to process template language expressions for resource '{}'. {e}",
                                inst.id
                            ),
                        ));
                        return op;
                    }
                }
            }
        }
        let body = Value::Object(body);
        let result = match via(&inst.ty) {
            Some(Via::Route) => self.internal("PUT", &inst.id, &inst.api, Some(&body), now),
            Some(v) => self.put_stored(&inst, &body, v == Via::Vnet),
            None => Err(ArmError::new(400, "InvalidTemplate", "unsupported type")),
        };
        match result {
            Ok(r) => {
                op.status = r.status;
                op.lro = self.res.get(&key(&inst.id)).and_then(|x| x.busy.clone());
            }
            Err(e) => {
                op.status = e.status;
                op.error = Some((e.code, e.message));
            }
        }
        op
    }

    /// A `Microsoft.Network` resource of a deployment, kept as it was sent (+ id, name, type,
    /// `provisioningState: Succeeded`); a virtual network as armsim's own (its subnets referable by id).
    fn put_stored(&mut self, inst: &Inst, b: &Value, vnet: bool) -> Result<SimResponse, ArmError> {
        let loc = super::body_location(b)?;
        let mut body = b.clone();
        body["id"] = json!(inst.id);
        body["name"] = json!(inst.name.rsplit('/').next().unwrap_or(&inst.name));
        body["type"] = json!(inst.ty);
        body["location"] = json!(loc);
        if !body["properties"].is_object() {
            body["properties"] = json!({});
        }
        body["properties"]["provisioningState"] = json!("Succeeded");
        if vnet && let Some(subnets) = body["properties"]["subnets"].as_array_mut() {
            for s in subnets {
                let n = s["name"].as_str().unwrap_or_default().to_string();
                s["id"] = json!(format!("{}/subnets/{n}", inst.id));
                s["type"] = json!("Microsoft.Network/virtualNetworks/subnets");
                if s["properties"].is_object() {
                    s["properties"]["provisioningState"] = json!("Succeeded");
                }
            }
        }
        let k = key(&inst.id);
        let existed = self.res.contains_key(&k);
        let etag = self.res.get(&k).map(|r| r.etag + 1).unwrap_or(1);
        self.res.insert(
            k,
            Res {
                kind: if vnet { Kind::Vnet } else { Kind::Generic },
                body: body.clone(),
                etag,
                busy: None,
            },
        );
        Ok(ok(if existed { 200 } else { 201 }, &body))
    }

    /// Moves a deployment to its terminal state once its time has come and its resources' operations ended.
    fn settle(&mut self, k: &str, now: u64) {
        let Some(d) = self.deployments.get(k) else {
            return;
        };
        if d.state != "Running" || now < d.end_ms {
            return;
        }
        let mut d = d.clone();
        for o in &mut d.ops {
            if let Some(l) = &o.lro {
                match self.ops.get(l) {
                    Some(op) if !op.done => return,
                    Some(op) => {
                        if let Some((_, code, msg)) = &op.fail {
                            o.error = Some((code.clone(), msg.clone()));
                        }
                    }
                    None => {}
                }
            }
        }
        let mut details: Vec<Value> = d
            .ops
            .iter()
            .filter_map(|o| o.error.as_ref())
            .map(|(c, m)| json!({"code": c, "message": m}))
            .collect();
        if details.is_empty() {
            let empty = Map::new();
            let outs = d
                .template
                .get("outputs")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let vars = d
                .template
                .get("variables")
                .and_then(Value::as_object)
                .unwrap_or(&empty)
                .clone();
            let mut cx = Ctx {
                sim: self,
                sub: d.sub.clone(),
                group: &d.group,
                params: &d.params,
                vars: &vars,
                var_stack: vec![],
                copy: None,
                insts: &d.insts,
                live: true,
                now,
            };
            let mut outputs = Map::new();
            for (name, o) in &outs {
                match template::eval_value(o.get("value").unwrap_or(&Value::Null), &mut cx) {
                    Ok(v) => {
                        let ty = o.get("type").and_then(Value::as_str).unwrap_or("String");
                        let mut t = ty.to_string();
                        if let Some(f) = t.get_mut(0..1) {
                            f.make_ascii_uppercase();
                        }
                        outputs.insert(template::camel(name), json!({"type": t, "value": v}));
                    }
                    Err(e) => details.push(json!({"code": "InvalidTemplate",
                        "message": format!("Unable to evaluate template outputs: '{name}'. {e}")})),
                }
            }
            d.outputs = Some(Value::Object(outputs));
        }
        if details.is_empty() {
            d.state = "Succeeded".into();
        } else {
            d.state = "Failed".into();
            d.outputs = None;
            d.error = Some(json!({"code": "DeploymentFailed", "target": d.id,
                "message": "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
                "details": details}));
        }
        d.end_ms = d.end_ms.max(now);
        self.deployments.insert(k.to_string(), d);
    }

    fn deployment_json(&self, d: &Deployment) -> Value {
        let deps: Vec<Value> = d
            .insts
            .iter()
            .filter(|i| !i.deps.is_empty())
            .map(|i| {
                let on: Vec<Value> = i
                    .deps
                    .iter()
                    .map(|j| {
                        let x = &d.insts[*j];
                        json!({"id": x.id, "resourceType": x.ty, "resourceName": x.name})
                    })
                    .collect();
                json!({"dependsOn": on, "id": i.id, "resourceType": i.ty, "resourceName": i.name})
            })
            .collect();
        let done = d.state != "Running";
        let mut p = json!({"templateHash": format!("{}", d.template.to_string().len()),
            "parameters": d.shown_params, "mode": "Incremental", "provisioningState": d.state,
            "timestamp": iso8601(if done { d.end_ms } else { d.start_ms }),
            "duration": format!("PT{}S", (d.end_ms.saturating_sub(d.start_ms)) as f64 / 1000.0),
            "correlationId": d.correlation, "dependencies": deps});
        if let Some(o) = &d.outputs {
            p["outputs"] = o.clone();
            let res: Vec<Value> = d
                .ops
                .iter()
                .map(|o| json!({"id": d.insts[o.inst].id}))
                .collect();
            p["outputResources"] = json!(res);
        }
        if let Some(e) = &d.error {
            p["error"] = e.clone();
        }
        json!({"id": d.id, "name": d.name, "type": "Microsoft.Resources/deployments", "properties": p})
    }

    fn res_op_json(&self, d: &Deployment, o: &ResOp) -> Value {
        let x = &d.insts[o.inst];
        let state = match (&o.error, d.state.as_str()) {
            (Some(_), _) => "Failed",
            (None, "Running") => "Running",
            _ => "Succeeded",
        };
        let mut p = json!({"provisioningOperation": "Create", "provisioningState": state,
            "timestamp": iso8601(o.time_ms), "statusCode": if o.error.is_some() { "BadRequest" } else if o.status == 200 { "OK" } else { "Created" },
            "targetResource": {"id": x.id, "resourceType": x.ty, "resourceName": x.name}});
        if let Some((c, m)) = &o.error {
            p["statusMessage"] = json!({"status": "Failed", "error": {"code": c, "message": m}});
        }
        json!({"id": format!("{}/operations/{}", d.id, o.op_id), "operationId": o.op_id, "properties": p})
    }
}

/// The template's parameters with the values given (or their defaults); the parameters as a deployment echoes
/// them (secure ones without their value).
fn resolve_params(
    tpl: &Value,
    given: Option<&Value>,
) -> Result<(Map<String, Value>, Value), ArmError> {
    let empty = Map::new();
    let decl = tpl
        .get("parameters")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let given = given.and_then(Value::as_object).unwrap_or(&empty);
    for k in given.keys() {
        if find(decl, k).is_none() {
            return Err(invalid_template(format!(
                "The template parameters '{k}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time."
            )));
        }
    }
    let mut values = Map::new();
    let mut shown = Map::new();
    for (k, d) in decl {
        let ty = d.get("type").and_then(Value::as_str).unwrap_or("string");
        let v = match find(given, k) {
            Some((_, g)) => g.get("value").cloned().ok_or_else(|| {
                invalid_template(format!("The value for the template parameter '{k}' must be given as {{\"value\": …}}"))
            })?,
            None => d.get("defaultValue").cloned().ok_or_else(|| {
                invalid_template(format!("The value for the template parameter '{k}' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details"))
            })?,
        };
        let secure = ty.to_ascii_lowercase().starts_with("secure");
        let mut t = ty.to_string();
        if let Some(f) = t.get_mut(0..1) {
            f.make_ascii_uppercase();
        }
        if secure {
            let shown_t = if ty.eq_ignore_ascii_case("securestring") {
                "SecureString"
            } else {
                "SecureObject"
            };
            shown.insert(k.clone(), json!({"type": shown_t}));
        } else {
            shown.insert(k.clone(), json!({"type": t, "value": v}));
        }
        values.insert(k.clone(), v);
    }
    Ok((values, Value::Object(shown)))
}

/// A creation order respecting `dependsOn` (template order among the ready ones), or the cycle.
fn order(insts: &[Inst]) -> Result<Vec<usize>, String> {
    let n = insts.len();
    let mut done = vec![false; n];
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let next = (0..n).find(|&i| !done[i] && insts[i].deps.iter().all(|&j| done[j]));
        match next {
            Some(i) => {
                done[i] = true;
                out.push(i);
            }
            None => {
                let stuck = (0..n).find(|&i| !done[i]).unwrap_or(0);
                return Err(format!(
                    "Circular dependency detected on resource: '{}'.",
                    insts[stuck].id
                ));
            }
        }
    }
    Ok(out)
}
