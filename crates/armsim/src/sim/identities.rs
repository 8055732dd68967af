//! User-assigned identities (`Microsoft.ManagedIdentity/userAssignedIdentities`): bodies and the ids a scale set's or
//! VM's user-assigned entry shows.

use super::{Kind, Sim, key};
use crate::identity::UserIds;
use serde_json::{Map, Value, json};

impl Sim {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn uai_body(
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

    pub(super) fn ua_ids(&self, id: &str) -> Option<UserIds> {
        let r = self.res.get(&key(id)).filter(|r| r.kind == Kind::Uai)?;
        Some(UserIds {
            principal_id: r.body["properties"]["principalId"].as_str()?.to_string(),
            client_id: r.body["properties"]["clientId"].as_str()?.to_string(),
        })
    }
}
