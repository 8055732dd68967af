//! User-assigned identities (`Microsoft.ManagedIdentity/userAssignedIdentities`): bodies and the ids a scale set's or
//! VM's user-assigned entry shows.

use super::errors::{method_not_allowed, not_found};
use super::{Call, Group, Kind, R, Sim, body_location, body_tags, key, ok, parse_body};
use crate::http::SimResponse;
use crate::identity::UserIds;
use serde_json::{Map, Value, json};

/// What a user-assigned identity's body is made of.
pub(super) struct UaiFields<'a> {
    pub(super) sub: &'a str,
    pub(super) rg: &'a str,
    pub(super) name: &'a str,
    pub(super) loc: &'a str,
    pub(super) tags: &'a Map<String, Value>,
    pub(super) principal_id: &'a str,
    pub(super) client_id: &'a str,
}

impl Sim {
    /// `…/userAssignedIdentities/{name}` in group `g`: GET, PUT (synchronous: 201 + `Location`, or 200), DELETE.
    pub(super) fn identity_item(&mut self, c: Call<'_>, sub: &str, g: &Group, name: &str) -> R {
        let Call { m, t, req, .. } = c;
        let k = key(&t.path_decoded_prefix(8));
        match m {
            "GET" => {
                let r = self
                    .res
                    .get(&k)
                    .ok_or_else(|| not_found("userAssignedIdentities", name, &g.name))?;
                Ok(ok(200, &r.body))
            }
            "PUT" => {
                super::errors::create_guard(req, self.res.contains_key(&k))?;
                let b = parse_body(req)?;
                crate::schema::check_identity_put(&b)?;
                let (loc, tags) = (body_location(&b)?, body_tags(&b));
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
                let body = self.uai_body(&UaiFields {
                    sub,
                    rg: &g.name,
                    name,
                    loc: &loc,
                    tags: &tags,
                    principal_id: &pid,
                    client_id: &cid,
                });
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

    pub(super) fn uai_body(&self, f: &UaiFields<'_>) -> Value {
        let UaiFields {
            sub,
            rg,
            name,
            loc,
            tags,
            principal_id: pid,
            client_id: cid,
        } = *f;
        // Microsoft.ManagedIdentity answers ids with lower-case `resourcegroups` (recorded).
        json!({"location": loc, "tags": tags,
            "id": format!("/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"),
            "name": name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "properties": {"isolationScope": "None", "tenantId": self.tenant_id, "principalId": pid, "clientId": cid}})
    }

    pub(super) fn ua_ids(&self, id: &str) -> Option<UserIds> {
        let r = self.res.get(&key(id)).filter(|r| r.kind == Kind::Uai)?;
        Some(UserIds {
            principal_id: r.body["properties"]["principalId"].as_str()?.to_string(),
            client_id: r.body["properties"]["clientId"].as_str()?.to_string(),
        })
    }
}
