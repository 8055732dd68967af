//! Routing: tenants, subscriptions, locations, resource groups, then each provider's routes; paging.

use super::compute::type_name;
use super::errors::{method_not_allowed, no_route, not_found, only, rg_not_found};
use super::{
    Call, Group, Kind, R, Res, Sim, body_location, body_tags, hex, key, ok, parse_body, unhex,
};
use crate::apiver::{self, Family};
use crate::error::ArmError;
use crate::http::{SimRequest, SimResponse, Target};
use serde_json::{Value, json};

impl Sim {
    pub(super) fn dispatch(&mut self, c: Call<'_>) -> R {
        let Call { m, t, req, now } = c;
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
                self.provider(c, &sub, Some(&g), &seg[5..])
            }
            "providers" if seg.len() >= 4 => self.provider(c, &sub, None, &seg[3..]),
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
        let (loc, tags) = (body_location(&b)?, body_tags(&b));
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

    /// `…/providers/{namespace}/…` at subscription scope (`g` is `None`) or in a group; `rest` starts at the namespace.
    pub(super) fn provider(
        &mut self,
        c: Call<'_>,
        sub: &str,
        g: Option<&Group>,
        rest: &[String],
    ) -> R {
        let Call { m, t, now, .. } = c;
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
                [ty @ ("virtualmachinescalesets" | "virtualmachines"), _, ..],
            ) if g.is_some() => {
                let v = api(Family::Compute, type_name(ty))?;
                let g = g.unwrap_or_else(|| unreachable!());
                self.compute_item(c, sub, g, rest, &v)
            }
            ("microsoft.compute", ["locations", _, "publishers", ..]) if g.is_none() => {
                self.image_route(c, sub, &rest[2], &rest[3..])
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
                self.identity_item(c, sub, g, &rest[2])
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
            ("microsoft.resources", ["deployments", _, ..]) if g.is_some() => {
                let g = g.unwrap_or_else(|| unreachable!());
                self.deployment_route(c, sub, g, rest)
            }
            _ if m == "GET"
                && self
                    .res
                    .get(&key(&t.path_decoded()))
                    .is_some_and(|r| r.kind == Kind::Generic) =>
            {
                Ok(ok(200, &self.res[&key(&t.path_decoded())].body))
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

    pub(super) fn children<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Res)> + 'a {
        self.res
            .range(prefix.to_string()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .filter(move |(k, _)| !k[prefix.len()..].contains('/'))
    }

    pub(super) fn page(
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
}
