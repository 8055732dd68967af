//! Azure Resource Graph: `POST /providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01` over the
//! simulator's resources (the `Resources` table) and role assignments / definitions (`AuthorizationResources`),
//! for a small, documented subset of KQL.
//!
//! Supported (case-insensitive keywords): `Resources` or `AuthorizationResources` (any casing) then any of
//! - `| where COND` — `COND` is terms joined by `and` / `or` (and binds tighter), `not(COND)`, `(COND)`; a term is
//!   `EXPR OP 'lit'` with `==`, `!=`, `=~`, `!~`, `has`, `!has`, `contains`, `!contains`, `startswith`,
//!   `endswith`, `EXPR in~ ('a', …)` / `in (…)` / `!in~ (…)`, `isnull(EXPR)`, `isnotnull(EXPR)`,
//!   `isempty(EXPR)`, `isnotempty(EXPR)`;
//! - `| project A, B = EXPR, …`, `| extend B = EXPR, …`, `| project-away A, …`;
//! - `| order by A [asc|desc]` (or `sort by`), `| limit N` / `| take N`;
//! - `| mv-expand [Name =] EXPR` (one column: an array gives a row per element, a property bag a row per entry
//!   holding `{key: value}`; an empty or null value keeps the row with null — not verified).
//!
//! `EXPR` is a column or a dotted / bracketed path into it (`identity.userAssignedIdentities`,
//! `properties['orchestrationMode']`, `a[0]`), optionally wrapped in `tostring()`, `tolower()`, `toupper()`, or
//! `bag_keys(EXPR)` / `bag_keys(EXPR)[n]`.
//! `has` on an object compares against its JSON text, ignoring case (how the app asks which resources use a
//! user-assigned identity: `| where identity.userAssignedIdentities has '<id>'`; KQL's term rules are
//! simplified to a substring match), or in the `mv-expand` form (`| mv-expand ua = identity.userAssignedIdentities
//! | extend uaId = tostring(bag_keys(ua)[0]) | where uaId =~ '<id>'`). Anything else (e.g. `summarize`, `join`) is refused with a
//! 400 in ARG's error shape (`BadRequest` with an `InvalidQuery` detail; the exact detail text is not recorded).
//!
//! Tables: `Resources` — every scale set (with `properties.virtualMachineProfile.extensionProfile` listing its
//! extensions, as ARG shows the model), VM, VM extension (`microsoft.compute/virtualmachines/extensions`),
//! user-assigned identity and virtual network; `AuthorizationResources` — every role assignment
//! (`microsoft.authorization/roleassignments`: `properties.principalId`, `roleDefinitionId`, `scope`, `condition`,
//! `conditionVersion`, `principalType`, `createdOn`, …) and, per subscription, the built-in role definitions
//! (`microsoft.authorization/roledefinitions`, id `/subscriptions/{s}/providers/Microsoft.Authorization/
//! roleDefinitions/{guid}` — the id an assignment's `roleDefinitionId` names — with `properties.roleName`, `type`
//! `BuiltInRole`); with a role map only the assignments the caller may read. `type` is lower-cased as the spec
//! example shows, and `resourceGroup` lower-cased (widely reported of ARG; not in the spec example).
//! Paging: `options.$top` (1–1000, default 1000: not verified), `options.$skip`, `options.$skipToken` (only when
//! `id` is in the result, as ARG requires; else `resultTruncated: "true"`).
//!
//! Quota (the throttling guidance: 15 queries per 5-second window per user): every answer carries
//! `x-ms-user-quota-remaining` and `x-ms-user-quota-resets-after` (`hh:mm:ss`); with `SimConfig::graph_quota`
//! (on by default; `POST /_armsim/config {"graphQuota": false}`, the server's `--graph-quota off`) the 16th query
//! of a window gets 429 `RateLimiting` with `Retry-After` (whole seconds to the window's end) and remaining 0; a
//! refused query does not count. The error's message text is not recorded.

use super::{Kind, Sim, Target, hex, ok, unhex};
use crate::error::ArmError;
use crate::http::{SimRequest, SimResponse};
use serde_json::{Map, Value, json};
use std::borrow::Cow;

/// api-versions of Microsoft.ResourceGraph/resources the simulator accepts.
pub const GRAPH_VERSIONS: &[&str] = &[
    "2019-04-01",
    "2020-04-01-preview",
    "2021-03-01",
    "2022-10-01",
    "2024-04-01",
];

fn query_error(msg: &str) -> ArmError {
    let mut e = ArmError::new(
        400,
        "BadRequest",
        "Please provide below info when asking for support: timestamp = <armsim>, correlationId = <armsim>.",
    );
    e.details = Some(Box::new(json!([
        {"code": "InvalidQuery", "message": "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying."},
        {"code": "UnsupportedQuery", "message": format!("armsim supports a subset of KQL (see crates/armsim/src/sim/graph.rs): {msg}")}
    ])));
    e
}

#[derive(Debug, Clone)]
enum Expr {
    Path(Vec<String>),
    Func(String, Box<Expr>),
    /// `bag_keys(EXPR)`, optionally indexed: `bag_keys(EXPR)[n]`.
    Keys(Box<Expr>, Option<usize>),
}

#[derive(Debug, Clone)]
enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp(Expr, String, Vec<String>),
    Test(String, Expr),
}

#[derive(Debug, Clone)]
enum Op {
    Where(Cond),
    Project(Vec<(String, Expr)>),
    Extend(Vec<(String, Expr)>),
    Away(Vec<String>),
    Order(String, bool),
    Limit(usize),
    /// `mv-expand [Name =] EXPR`: one row per array element / per property-bag entry (`{key: value}`).
    MvExpand(String, Expr),
}

/// Splits at `sep` outside quotes and parentheses.
fn split_top(s: &str, sep: &str, ci: bool) -> Vec<String> {
    let (mut out, mut depth, mut quote, mut last) = (vec![], 0i32, None::<char>, 0usize);
    let low = if ci {
        s.to_ascii_lowercase()
    } else {
        s.to_string()
    };
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (bi, c) = chars[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                _ if depth == 0 && low[bi..].starts_with(sep) => {
                    out.push(s[last..bi].to_string());
                    last = bi + sep.len();
                    while i + 1 < chars.len() && chars[i + 1].0 < last {
                        i += 1;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    out.push(s[last..].to_string());
    out
}

fn lit(s: &str) -> Result<String, ArmError> {
    let s = s.trim();
    let q = s.chars().next().filter(|c| *c == '\'' || *c == '"');
    match q {
        Some(q) if s.len() >= 2 && s.ends_with(q) => Ok(s[1..s.len() - 1].to_string()),
        _ => Err(query_error(&format!(
            "expected a quoted string, found `{s}`"
        ))),
    }
}

fn parse_expr(s: &str) -> Result<Expr, ArmError> {
    let s = s.trim();
    let lc = s.to_ascii_lowercase();
    for f in ["tostring", "tolower", "toupper"] {
        if lc.starts_with(&format!("{f}(")) && s.ends_with(')') {
            return Ok(Expr::Func(
                f.into(),
                Box::new(parse_expr(&s[f.len() + 1..s.len() - 1])?),
            ));
        }
    }
    if lc.starts_with("bag_keys(") {
        let close = s
            .rfind(')')
            .filter(|&i| i > 9)
            .ok_or_else(|| query_error("unbalanced `bag_keys(`"))?;
        let inner = parse_expr(&s[9..close])?;
        let tail = s[close + 1..].trim();
        let idx = if tail.is_empty() {
            None
        } else {
            let n = tail
                .strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| query_error(&format!("unsupported expression `{s}`")))?;
            Some(n)
        };
        return Ok(Expr::Keys(Box::new(inner), idx));
    }
    let mut path = vec![];
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => path.push(std::mem::take(&mut cur)),
            '[' => {
                if !cur.is_empty() {
                    path.push(std::mem::take(&mut cur));
                }
                let inner: String = chars.by_ref().take_while(|c| *c != ']').collect();
                match inner.trim().parse::<usize>() {
                    Ok(n) => path.push(format!("[{n}]")),
                    Err(_) => path.push(lit(&inner)?),
                }
            }
            c if c.is_ascii_alphanumeric() || c == '_' => cur.push(c),
            _ => return Err(query_error(&format!("unsupported expression `{s}`"))),
        }
    }
    if !cur.is_empty() {
        path.push(cur);
    }
    if path.is_empty() || path.iter().any(String::is_empty) {
        return Err(query_error(&format!("unsupported expression `{s}`")));
    }
    Ok(Expr::Path(path))
}

fn parse_cond(s: &str) -> Result<Cond, ArmError> {
    let s = s.trim();
    let ors = split_top(s, " or ", true);
    if ors.len() > 1 {
        return Ok(Cond::Or(
            ors.iter()
                .map(|x| parse_cond(x))
                .collect::<Result<_, _>>()?,
        ));
    }
    let ands = split_top(s, " and ", true);
    if ands.len() > 1 {
        return Ok(Cond::And(
            ands.iter()
                .map(|x| parse_cond(x))
                .collect::<Result<_, _>>()?,
        ));
    }
    let lc = s.to_ascii_lowercase();
    if s.starts_with('(')
        && s.ends_with(')')
        && split_top(&s[1..s.len() - 1], ")", false).len() == 1
    {
        return parse_cond(&s[1..s.len() - 1]);
    }
    if lc.starts_with("not(") && s.ends_with(')') {
        return Ok(Cond::Not(Box::new(parse_cond(&s[4..s.len() - 1])?)));
    }
    for f in ["isnotnull", "isnull", "isnotempty", "isempty"] {
        if lc.starts_with(&format!("{f}(")) && s.ends_with(')') {
            return Ok(Cond::Test(
                f.into(),
                parse_expr(&s[f.len() + 1..s.len() - 1])?,
            ));
        }
    }
    for op in ["!in~", "in~", "!in", "in"] {
        let parts = split_top(s, &format!(" {op} "), true);
        if parts.len() == 2 {
            let list = parts[1].trim();
            if !(list.starts_with('(') && list.ends_with(')')) {
                return Err(query_error("`in` needs a parenthesised list"));
            }
            let items = split_top(&list[1..list.len() - 1], ",", false)
                .iter()
                .map(|x| lit(x))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Cond::Cmp(parse_expr(&parts[0])?, op.into(), items));
        }
    }
    for op in [
        "==",
        "!=",
        "=~",
        "!~",
        "!has",
        "has",
        "!contains",
        "contains",
        "startswith",
        "endswith",
    ] {
        let sep = if op.chars().all(|c| c.is_ascii_alphabetic() || c == '!') {
            format!(" {op} ")
        } else {
            op.to_string()
        };
        let parts = split_top(s, &sep, true);
        if parts.len() == 2 {
            return Ok(Cond::Cmp(
                parse_expr(&parts[0])?,
                op.into(),
                vec![lit(&parts[1])?],
            ));
        }
    }
    Err(query_error(&format!("unsupported condition `{s}`")))
}

fn parse_assignments(s: &str) -> Result<Vec<(String, Expr)>, ArmError> {
    split_top(s, ",", false)
        .iter()
        .map(|p| {
            let parts = split_top(p, "=", false);
            match parts.as_slice() {
                [one] => {
                    let e = parse_expr(one)?;
                    let name = match &e {
                        Expr::Path(p) => p.last().cloned().unwrap_or_default(),
                        Expr::Func(..) | Expr::Keys(..) => {
                            return Err(query_error("a computed column needs a name"));
                        }
                    };
                    Ok((name, e))
                }
                [n, e] => Ok((n.trim().to_string(), parse_expr(e)?)),
                _ => Err(query_error(&format!("unsupported column `{p}`"))),
            }
        })
        .collect()
}

/// The simulated tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Resources,
    Authorization,
}

fn parse_query(q: &str) -> Result<(Table, Vec<Op>), ArmError> {
    let stages = split_top(q, "|", false);
    let table = stages[0].trim();
    let table = if table.eq_ignore_ascii_case("resources") {
        Table::Resources
    } else if table.eq_ignore_ascii_case("authorizationresources") {
        Table::Authorization
    } else {
        return Err(query_error(&format!(
            "only the Resources and AuthorizationResources tables are simulated, not `{table}`"
        )));
    };
    let mut ops = vec![];
    for st in &stages[1..] {
        let st = st.trim();
        let (kw, rest) = st.split_once(char::is_whitespace).unwrap_or((st, ""));
        let kw = kw.to_ascii_lowercase();
        let rest = rest.trim();
        ops.push(match kw.as_str() {
            "where" => Op::Where(parse_cond(rest)?),
            "project" => Op::Project(parse_assignments(rest)?),
            "extend" => Op::Extend(parse_assignments(rest)?),
            "project-away" => Op::Away(rest.split(',').map(|x| x.trim().to_string()).collect()),
            "order" | "sort" => {
                let r = rest
                    .strip_prefix("by ")
                    .or_else(|| rest.strip_prefix("BY "))
                    .ok_or_else(|| query_error("expected `order by`"))?;
                let mut w = r.split_whitespace();
                let col = w
                    .next()
                    .ok_or_else(|| query_error("`order by` needs a column"))?;
                let desc = !w.next().is_some_and(|d| d.eq_ignore_ascii_case("asc"));
                Op::Order(col.to_string(), desc)
            }
            "mv-expand" => {
                let mut a = parse_assignments(rest)?;
                if a.len() != 1 {
                    return Err(query_error("`mv-expand` of one column is simulated"));
                }
                let (n, e) = a.remove(0);
                Op::MvExpand(n, e)
            }
            "limit" | "take" => Op::Limit(
                rest.parse()
                    .map_err(|_| query_error(&format!("`{kw}` needs a number")))?,
            ),
            other => {
                return Err(query_error(&format!(
                    "the operator `{other}` is not simulated"
                )));
            }
        });
    }
    Ok((table, ops))
}

fn get_ci<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a Value> {
    o.get(k).or_else(|| {
        o.iter()
            .find(|(x, _)| x.eq_ignore_ascii_case(k))
            .map(|(_, v)| v)
    })
}

/// A `Resources` row still backed by the resource's body (nothing cloned until a column is read).
struct VRow<'a> {
    id: &'a str,
    sub: &'a str,
    rg: &'a str,
    tenant: &'a str,
    /// The stored body, or (a scale set with extensions) the body with its `extensionProfile`.
    body: Cow<'a, Value>,
}

/// A row before (`V`) or after (`M`) a projection.
enum Row<'a> {
    V(VRow<'a>),
    M(Map<String, Value>),
}

const COLUMNS: [&str; 16] = [
    "id",
    "name",
    "type",
    "tenantId",
    "kind",
    "location",
    "resourceGroup",
    "subscriptionId",
    "managedBy",
    "sku",
    "plan",
    "properties",
    "tags",
    "identity",
    "zones",
    "extendedLocation",
];

impl Row<'_> {
    fn col(&self, k: &str) -> Option<Cow<'_, Value>> {
        match self {
            Row::M(m) => get_ci(m, k).map(Cow::Borrowed),
            Row::V(v) => {
                let owned = |x: Value| Some(Cow::Owned(x));
                let field = |f: &str, default: Value| match v.body.get(f) {
                    Some(x) => Some(Cow::Borrowed(x)),
                    None => Some(Cow::Owned(default)),
                };
                match k.to_ascii_lowercase().as_str() {
                    "id" => owned(json!(v.id)),
                    "name" => field("name", Value::Null),
                    "type" => owned(json!(
                        v.body["type"].as_str().unwrap_or_default().to_lowercase()
                    )),
                    "tenantid" => owned(json!(v.tenant)),
                    "kind" | "managedby" => owned(json!("")),
                    "location" => field("location", Value::Null),
                    "resourcegroup" => owned(json!(v.rg.to_lowercase())),
                    "subscriptionid" => owned(json!(v.sub)),
                    "sku" => field("sku", Value::Null),
                    "plan" => field("plan", Value::Null),
                    "properties" => field("properties", json!({})),
                    "tags" => field("tags", json!({})),
                    "identity" => field("identity", Value::Null),
                    "zones" => field("zones", Value::Null),
                    "extendedlocation" => owned(Value::Null),
                    _ => None,
                }
            }
        }
    }

    fn into_map(self) -> Map<String, Value> {
        match self {
            Row::M(m) => m,
            Row::V(_) => COLUMNS
                .iter()
                .map(|c| {
                    (
                        c.to_string(),
                        self.col(c).map(Cow::into_owned).unwrap_or(Value::Null),
                    )
                })
                .collect(),
        }
    }
}

fn eval(e: &Expr, row: &Row) -> Value {
    match e {
        Expr::Path(p) => {
            let Some(first) = row.col(&p[0]) else {
                return Value::Null;
            };
            let mut v: &Value = &first;
            for k in &p[1..] {
                let idx = k
                    .strip_prefix('[')
                    .and_then(|t| t.strip_suffix(']'))
                    .and_then(|t| t.parse::<usize>().ok());
                let next = match (v, idx) {
                    (Value::Array(a), Some(i)) => a.get(i),
                    _ => v.as_object().and_then(|o| get_ci(o, k)),
                };
                v = match next {
                    Some(x) => x,
                    None => return Value::Null,
                };
            }
            v.clone()
        }
        Expr::Keys(inner, idx) => {
            let keys: Vec<Value> = match eval(inner, row) {
                Value::Object(o) => o.keys().map(|k| json!(k)).collect(),
                _ => return Value::Null,
            };
            match idx {
                Some(i) => keys.get(*i).cloned().unwrap_or(Value::Null),
                None => Value::Array(keys),
            }
        }
        Expr::Func(f, inner) => {
            let v = eval(inner, row);
            let s = text(&v);
            match f.as_str() {
                "tolower" => json!(s.to_lowercase()),
                "toupper" => json!(s.to_uppercase()),
                _ => json!(s),
            }
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn test(c: &Cond, row: &Row) -> bool {
    match c {
        Cond::And(v) => v.iter().all(|x| test(x, row)),
        Cond::Or(v) => v.iter().any(|x| test(x, row)),
        Cond::Not(x) => !test(x, row),
        Cond::Test(f, e) => {
            let v = eval(e, row);
            let empty = v.is_null() || text(&v).is_empty();
            match f.as_str() {
                "isnull" => v.is_null(),
                "isnotnull" => !v.is_null(),
                "isempty" => empty,
                _ => !empty,
            }
        }
        Cond::Cmp(e, op, lits) => {
            let s = text(&eval(e, row));
            // lower-cased only when the operator needs it (this runs for every row of every query)
            let low = || (s.to_lowercase(), lits[0].to_lowercase());
            let eq_ci = || {
                if s.is_ascii() && lits[0].is_ascii() {
                    s.eq_ignore_ascii_case(&lits[0])
                } else {
                    let (sl, l0) = low();
                    sl == l0
                }
            };
            match op.as_str() {
                "==" => s == lits[0],
                "!=" => s != lits[0],
                "=~" => eq_ci(),
                "!~" => !eq_ci(),
                "has" | "contains" => {
                    let (sl, l0) = low();
                    sl.contains(&l0)
                }
                "!has" | "!contains" => {
                    let (sl, l0) = low();
                    !sl.contains(&l0)
                }
                "startswith" => {
                    let (sl, l0) = low();
                    sl.starts_with(&l0)
                }
                "endswith" => {
                    let (sl, l0) = low();
                    sl.ends_with(&l0)
                }
                "in" => lits.contains(&s),
                "!in" => !lits.contains(&s),
                "in~" => lits.iter().any(|l| l.eq_ignore_ascii_case(&s)),
                _ => !lits.iter().any(|l| l.eq_ignore_ascii_case(&s)),
            }
        }
    }
}

impl Sim {
    fn graph_rows(&self, subs: Option<&[String]>) -> Vec<Row<'_>> {
        let caller = self.caller.as_ref().filter(|_| self.cfg.role_map.is_some());
        // resource keys are lower-cased ids: look subscriptions up by lower-cased id, once per query
        let by_id: std::collections::HashMap<String, &super::Sub> = self
            .subs
            .iter()
            .map(|s| (s.id.to_ascii_lowercase(), s))
            .collect();
        let allowed: Option<std::collections::HashSet<String>> =
            subs.map(|l| l.iter().map(|x| x.to_ascii_lowercase()).collect());
        self.res
            .iter()
            .filter(|(_, r)| {
                matches!(
                    r.kind,
                    Kind::Vmss | Kind::Vm | Kind::Uai | Kind::Vnet | Kind::VmExt
                )
            })
            .filter_map(|(k, r)| {
                let sid = k.split('/').filter(|s| !s.is_empty()).nth(1)?;
                let sub = *by_id.get(sid)?;
                if allowed.as_ref().is_some_and(|a| !a.contains(sid)) {
                    return None;
                }
                let id = r.body["id"].as_str().unwrap_or_default();
                if let Some(c) = caller {
                    let ids: Vec<String> = id
                        .split('/')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect();
                    let (action, scope) = super::roles::action_of("GET", &ids)?;
                    if !self.permitted(&c.oid, &action, &scope) {
                        return None;
                    }
                }
                let rg = id.split('/').nth(4).unwrap_or_default();
                let body = if r.kind == Kind::Vmss
                    && self.children(&format!("{k}/extensions/")).next().is_some()
                {
                    let mut b = self.render(k, None);
                    if let Some(o) = b.as_object_mut() {
                        o.remove("etag");
                    }
                    Cow::Owned(b)
                } else {
                    Cow::Borrowed(&r.body)
                };
                Some(Row::V(VRow {
                    id,
                    sub: &sub.id,
                    rg,
                    tenant: &self.tenant_id,
                    body,
                }))
            })
            .collect()
    }

    pub(super) fn graph_query(
        &mut self,
        m: &str,
        t: &Target,
        req: &SimRequest,
    ) -> Result<SimResponse, ArmError> {
        super::only(m, &["POST"])?;
        let v = t
            .param("api-version")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                ArmError::new(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                )
            })?;
        if !GRAPH_VERSIONS.contains(&v) {
            return Err(ArmError::new(
                400,
                "InvalidApiVersionParameter",
                format!(
                    "The api-version '{v}' is invalid. The supported versions are '{}'.",
                    GRAPH_VERSIONS.join(",")
                ),
            ));
        }
        let (remaining, resets, retry_after) = self.graph_quota();
        if let Some(secs) = retry_after {
            let mut e = ArmError::new(
                429,
                "RateLimiting",
                "Please provide below info when asking for support: timestamp = <armsim>, correlationId = <armsim>.",
            );
            e.details = Some(Box::new(json!([{"code": "RateLimiting",
                "message": "Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraphthrottling for help."}])));
            let mut resp = super::error_response(&e);
            resp.headers.push(("Retry-After".into(), secs.to_string()));
            resp.headers
                .push(("x-ms-user-quota-remaining".into(), "0".into()));
            resp.headers
                .push(("x-ms-user-quota-resets-after".into(), resets));
            return Ok(resp);
        }
        let b = super::parse_body(req)?;
        let q = b["query"]
            .as_str()
            .ok_or_else(|| query_error("the request needs a `query` string"))?;
        let subs: Option<Vec<String>> = b["subscriptions"].as_array().map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        });
        let opts = &b["options"];
        let top = opts["$top"].as_u64().unwrap_or(1000);
        if !(1..=1000).contains(&top) {
            return Err(ArmError::new(
                400,
                "BadRequest",
                "The $top option must be between 1 and 1000.",
            )
            .target("$top"));
        }
        // the pages after the first: from the query's snapshot when nothing changed since (same answer as running
        // it again, without running it again: a 12,000-row query is paged 13 times)
        let mut start = opts["$skip"].as_u64().unwrap_or(0) as usize;
        let mut snapshot_id = None;
        if let Some(tok) = opts["$skipToken"].as_str() {
            let t = unhex(tok);
            let mut parts = t.strip_prefix("armsim-offset:").unwrap_or("-").split(':');
            start = parts.next().and_then(|n| n.parse().ok()).ok_or_else(|| {
                ArmError::new(400, "BadRequest", "The $skipToken is invalid.").target("$skipToken")
            })?;
            snapshot_id = parts.next().and_then(|n| n.parse::<u64>().ok());
        }
        let key = format!(
            "{}\n{:?}\n{}\n{q}",
            self.caller
                .as_ref()
                .map(|c| c.oid.as_str())
                .unwrap_or_default(),
            subs,
            opts["resultFormat"].as_str().unwrap_or_default()
        );
        if let Some(snap) = snapshot_id.and_then(|id| {
            self.graph_snapshots
                .iter()
                .find(|s| s.id == id && s.epoch == self.graph_epoch && s.key == key)
        }) {
            let total = snap.rows.len();
            let start = start.min(total);
            let end = (start + top as usize).min(total);
            let page = snap.rows[start..end].to_vec();
            let (id, has_id) = (snap.id, snap.has_id);
            return Ok(graph_page(
                opts,
                page,
                total,
                start,
                end,
                has_id,
                Some(id),
                remaining,
                resets,
            ));
        }
        let (table, ops) = parse_query(q)?;
        let mut rows = match table {
            Table::Resources => self.graph_rows(subs.as_deref()),
            Table::Authorization => self.authorization_rows(subs.as_deref()),
        };
        // A trailing projection is applied to the returned page only (same result, far less copying).
        let (ops, last_project) = match ops.split_last() {
            Some((Op::Project(cols), head)) => (head, Some(cols)),
            _ => (&ops[..], None),
        };
        for op in ops {
            match op {
                Op::Where(c) => rows.retain(|r| test(c, r)),
                Op::Project(cols) => {
                    rows = rows
                        .iter()
                        .map(|r| {
                            Row::M(cols.iter().map(|(n, e)| (n.clone(), eval(e, r))).collect())
                        })
                        .collect()
                }
                Op::Extend(cols) => {
                    rows = rows
                        .into_iter()
                        .map(|r| {
                            let vals: Vec<(String, Value)> =
                                cols.iter().map(|(n, e)| (n.clone(), eval(e, &r))).collect();
                            let mut m = r.into_map();
                            m.extend(vals);
                            Row::M(m)
                        })
                        .collect()
                }
                Op::Away(cols) => {
                    rows = rows
                        .into_iter()
                        .map(|r| {
                            let mut m = r.into_map();
                            m.retain(|k, _| !cols.iter().any(|c| c.eq_ignore_ascii_case(k)));
                            Row::M(m)
                        })
                        .collect()
                }
                Op::Order(col, desc) => {
                    let key = Expr::Path(vec![col.clone()]);
                    rows.sort_by_cached_key(|r| text(&eval(&key, r)).to_lowercase());
                    if *desc {
                        rows.reverse();
                    }
                }
                Op::Limit(n) => rows.truncate(*n),
                Op::MvExpand(name, e) => {
                    let mut out = Vec::with_capacity(rows.len());
                    for r in rows {
                        let items: Vec<Value> = match eval(e, &r) {
                            Value::Array(a) => a,
                            Value::Object(o) => {
                                o.into_iter().map(|(k, v)| json!({ k: v })).collect()
                            }
                            other => vec![other],
                        };
                        let base = r.into_map();
                        // Not verified: an empty array or bag keeps the row with a null value.
                        let items = if items.is_empty() {
                            vec![Value::Null]
                        } else {
                            items
                        };
                        for it in items {
                            let mut m = base.clone();
                            m.insert(name.clone(), it);
                            out.push(Row::M(m));
                        }
                    }
                    rows = out;
                }
            }
        }
        let total = rows.len();
        let has_id = match last_project {
            Some(cols) => cols.iter().any(|(n, _)| n == "id"),
            None => rows.first().is_none_or(|r| r.col("id").is_some()),
        };
        let start = start.min(total);
        let end = (start + top as usize).min(total);
        let more = end < total;
        let project = |r: Row| match last_project {
            Some(cols) => cols.iter().map(|(n, e)| (n.clone(), eval(e, &r))).collect(),
            None => r.into_map(),
        };
        if more && has_id {
            // more pages to come: keep the whole result for them
            let all: Vec<Map<String, Value>> = rows.into_iter().map(project).collect();
            let page = all[start..end].to_vec();
            self.graph_snapshot_seq += 1;
            let id = self.graph_snapshot_seq;
            if self.graph_snapshots.len() >= SNAPSHOTS {
                self.graph_snapshots.remove(0);
            }
            self.graph_snapshots.push(Snapshot {
                id,
                epoch: self.graph_epoch,
                key,
                rows: all,
                has_id,
            });
            return Ok(graph_page(
                opts,
                page,
                total,
                start,
                end,
                has_id,
                Some(id),
                remaining,
                resets,
            ));
        }
        let page: Vec<Map<String, Value>> = rows.drain(start..end).map(project).collect();
        Ok(graph_page(
            opts, page, total, start, end, has_id, None, remaining, resets,
        ))
    }
}

/// A query's whole result (after its last `project`), kept for its later pages: valid while the simulator's
/// graph epoch is unchanged (no write, no finished operation, no control change, no armed fault since).
#[derive(Debug, Clone)]
pub(super) struct Snapshot {
    id: u64,
    epoch: u64,
    /// Caller, subscriptions, format and query text.
    key: String,
    rows: Vec<Map<String, Value>>,
    has_id: bool,
}

/// Snapshots kept (the latest queries').
const SNAPSHOTS: usize = 8;

/// A page's answer: `data`, totals, `$skipToken` when more pages follow (with the snapshot to serve them
/// from), and the quota headers.
#[allow(clippy::too_many_arguments)]
fn graph_page(
    opts: &Value,
    page: Vec<Map<String, Value>>,
    total: usize,
    start: usize,
    end: usize,
    has_id: bool,
    snapshot: Option<u64>,
    remaining: u32,
    resets: String,
) -> SimResponse {
    let more = end < total;
    let data = if opts["resultFormat"]
        .as_str()
        .is_some_and(|f| f.eq_ignore_ascii_case("table"))
    {
        let cols: Vec<String> = page
            .first()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        json!({"columns": cols.iter().map(|c| json!({"name": c, "type": "string"})).collect::<Vec<_>>(),
                "rows": page.iter().map(|r| cols.iter().map(|c| r[c].clone()).collect::<Vec<_>>()).collect::<Vec<_>>()})
    } else {
        json!(page)
    };
    let mut body = json!({"totalRecords": total, "count": end - start,
            "resultTruncated": if more && !has_id { "true" } else { "false" }, "facets": [], "data": data});
    if more && has_id {
        let tok = match snapshot {
            Some(id) => format!("armsim-offset:{end}:{id}"),
            None => format!("armsim-offset:{end}"),
        };
        body["$skipToken"] = json!(hex(&tok));
    }
    let mut resp = ok(200, &body);
    resp.headers
        .push(("x-ms-user-quota-remaining".into(), remaining.to_string()));
    resp.headers
        .push(("x-ms-user-quota-resets-after".into(), resets));
    resp
}

impl Sim {
    /// 15 queries per 5-second window per caller: (remaining, `hh:mm:ss` until the window resets, and — when
    /// [`super::SimConfig::graph_quota`] is on and the window is spent — the seconds to wait). A refused query
    /// does not count against the window.
    fn graph_quota(&mut self) -> (u32, String, Option<u64>) {
        let who = self
            .caller
            .as_ref()
            .map(|c| c.oid.clone())
            .unwrap_or_default();
        let now = self.now_ms;
        let e = self.graph_windows.entry(who).or_insert((now, 0));
        if now >= e.0 + 5_000 {
            *e = (now, 0);
        }
        let left_ms = (e.0 + 5_000).saturating_sub(now);
        let s = left_ms.div_ceil(1000);
        let resets = format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
        if self.cfg.graph_quota && e.1 >= QUOTA {
            return (0, resets, Some(s.max(1)));
        }
        e.1 += 1;
        (QUOTA.saturating_sub(e.1), resets, None)
    }

    /// Role assignments (and the built-in role definitions, one per subscription, as ARG lists them) as rows of
    /// `AuthorizationResources`, in ARG's shape: lower-cased `type`, the assignment's fields under `properties`.
    /// With a role map, only the assignments the caller may read (`Microsoft.Authorization/roleAssignments/read`
    /// at their scope).
    fn authorization_rows(&self, subs: Option<&[String]>) -> Vec<Row<'_>> {
        let caller = self.caller.as_ref().filter(|_| self.cfg.role_map.is_some());
        let in_subs =
            |sid: &str| subs.is_none_or(|l| l.iter().any(|x| x.eq_ignore_ascii_case(sid)));
        let mut out = vec![];
        for a in self.rbac.assignments.values() {
            let segs: Vec<&str> = a.scope.split('/').filter(|s| !s.is_empty()).collect();
            let sid = segs.get(1).copied().unwrap_or_default();
            if !segs
                .first()
                .is_some_and(|s| s.eq_ignore_ascii_case("subscriptions"))
                || !self.subs.iter().any(|s| s.id.eq_ignore_ascii_case(sid))
                || !in_subs(sid)
            {
                continue;
            }
            if let Some(c) = caller
                && !self.permitted(
                    &c.oid,
                    "Microsoft.Authorization/roleAssignments/read",
                    &a.scope,
                )
            {
                continue;
            }
            let rg = if segs.len() >= 4 && segs[2].eq_ignore_ascii_case("resourceGroups") {
                segs[3].to_lowercase()
            } else {
                String::new()
            };
            let t = crate::rng::iso8601(a.created_ms).replace("+00:00", "Z");
            let row = json!({
                "id": format!("{}/providers/Microsoft.Authorization/roleAssignments/{}", a.scope, a.name),
                "name": a.name, "type": "microsoft.authorization/roleassignments", "tenantId": self.tenant_id,
                "kind": "", "location": "", "resourceGroup": rg, "subscriptionId": sid, "managedBy": "",
                "sku": null, "plan": null,
                "properties": {"roleDefinitionId": format!("/subscriptions/{sid}/providers/Microsoft.Authorization/roleDefinitions/{}", a.role_guid),
                    "principalId": a.principal_id, "principalType": a.principal_type, "scope": a.scope,
                    "condition": a.condition, "conditionVersion": a.condition.as_ref().map(|_| "2.0"),
                    "createdOn": t, "updatedOn": t, "createdBy": null, "updatedBy": null,
                    "delegatedManagedIdentityResourceId": null, "description": null},
                "tags": {}, "identity": null, "zones": null, "extendedLocation": null});
            if let Value::Object(m) = row {
                out.push(Row::M(m));
            }
        }
        for s in self.subs.iter().filter(|s| in_subs(&s.id)) {
            for r in super::roles::BUILTIN_ROLES {
                let row = json!({
                    "id": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{}", s.id, r.guid),
                    "name": r.guid, "type": "microsoft.authorization/roledefinitions", "tenantId": self.tenant_id,
                    "kind": "", "location": "", "resourceGroup": "", "subscriptionId": s.id, "managedBy": "",
                    "sku": null, "plan": null,
                    "properties": {"roleName": r.name, "type": "BuiltInRole", "description": r.description,
                        "assignableScopes": ["/"],
                        "permissions": [{"actions": r.actions, "notActions": r.not_actions, "dataActions": r.data_actions, "notDataActions": []}]},
                    "tags": {}, "identity": null, "zones": null, "extendedLocation": null});
                if let Value::Object(m) = row {
                    out.push(Row::M(m));
                }
            }
        }
        out
    }

    /// Loads the seed's role assignments (unknown roles are skipped).
    pub(super) fn load_seed_role_assignments(&mut self, seed: &crate::seed::Seed) {
        for a in &seed.role_assignments {
            let Some(role) = super::roles::builtin_role(&a.role) else {
                continue;
            };
            let name = a
                .name
                .clone()
                .unwrap_or_else(|| self.rng.uuid())
                .to_ascii_lowercase();
            let scope = a.scope.trim_end_matches('/').to_string();
            let id = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
            self.rbac.assignments.insert(
                super::key(&id),
                super::roles::Assignment {
                    name,
                    scope,
                    role_guid: role.guid.to_string(),
                    principal_id: a.principal_id.clone(),
                    principal_type: a
                        .principal_type
                        .clone()
                        .unwrap_or_else(|| "ServicePrincipal".into()),
                    created_ms: 0,
                    condition: a.condition.clone(),
                },
            );
        }
    }
}

/// Queries per caller per 5-second window.
const QUOTA: u32 = 15;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_apps_queries() {
        let q = "resources | where type in~ ('microsoft.compute/virtualmachinescalesets','microsoft.compute/virtualmachines') | project id, name, type, resourceGroup, subscriptionId, location, identity";
        assert_eq!(parse_query(q).unwrap().1.len(), 2);
        let q = "Resources | where identity.userAssignedIdentities has '/subscriptions/x/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a' and type =~ 'microsoft.compute/virtualmachinescalesets' | project id, identityType = tostring(identity.type) | order by id asc";
        assert_eq!(parse_query(q).unwrap().1.len(), 3);
        assert!(parse_query("Resources | summarize count() by type").is_err());
        assert!(parse_query("ResourceContainers").is_err());
        let q = "authorizationresources | where type =~ 'microsoft.authorization/roleassignments' | project id, principalId = tostring(properties.principalId)";
        assert_eq!(parse_query(q).unwrap().0, Table::Authorization);
        assert!(parse_query("Resources | where name").is_err());
    }

    #[test]
    fn split_respects_quotes_and_parens() {
        assert_eq!(split_top("a | b '|' | (c|d)", "|", false).len(), 3);
        assert_eq!(
            split_top("x == 'a and b' and y == 'c'", " and ", true).len(),
            2
        );
    }
}
