//! The hooks part 2 adds around routing: authentication and authorization before a request is routed,
//! list filtering and principal bookkeeping after, and the routes of Microsoft.Authorization and Resource Graph.

use super::{R, Sim, Target};
use crate::auth::Claims;
use crate::error::ArmError;
use crate::http::{SimRequest, SimResponse};

impl Sim {
    /// Authenticates (when [`crate::SimConfig::auth`] is set) and authorizes (when a role map is set) a request.
    pub(super) fn gate(
        &self,
        req: &SimRequest,
        t: &Target,
        method: &str,
        now_ms: u64,
    ) -> Result<Option<Claims>, ArmError> {
        let Some(a) = &self.cfg.auth else {
            return Ok(None);
        };
        let c = a.authenticate(req.get_header("Authorization"), now_ms)?;
        if self.cfg.role_map.is_some() {
            self.authorize(&c, method, &t.segments, req)?;
        }
        Ok(Some(c))
    }

    /// After routing: lists keep only what the caller may read; principals made by a write are remembered.
    pub(super) fn after_dispatch(
        &mut self,
        caller: Option<&Claims>,
        method: &str,
        t: &Target,
        resp: &mut SimResponse,
        now: u64,
    ) {
        if let Some(c) = caller
            && self.cfg.role_map.is_some()
            && method == "GET"
            && resp.status == 200
        {
            self.filter_list(c, resp);
        }
        if (method == "PUT" || method == "PATCH") && (200..300).contains(&resp.status) {
            self.note_principals(&t.path_decoded(), now);
        }
    }

    /// Routes that do not start at `/subscriptions/{id}` with a known provider: Microsoft.Authorization at any
    /// scope, and the Resource Graph query.
    pub(super) fn extension_route(
        &mut self,
        m: &str,
        t: &Target,
        req: &SimRequest,
        now: u64,
    ) -> Option<R> {
        let s = &t.segments;
        let at = s
            .iter()
            .rposition(|x| x.eq_ignore_ascii_case("providers"))?;
        let ns = s.get(at + 1)?;
        if ns.eq_ignore_ascii_case("microsoft.authorization") && s.len() >= at + 3 {
            return Some(self.authorization_route(m, t, req, now, at));
        }
        if at == 0
            && ns.eq_ignore_ascii_case("microsoft.resourcegraph")
            && s.len() == 3
            && s[2].eq_ignore_ascii_case("resources")
        {
            return Some(self.graph_query(m, t, req));
        }
        None
    }
}
