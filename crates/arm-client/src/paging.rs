//! Paging: ARM lists (`{value, nextLink}`, the link followed verbatim and refused if it
//! leaves the ARM origin) and Resource Graph queries (`{data, $skipToken}`, the token
//! sent back in `options.$skipToken`), one page per call.

use crate::client::ArmClient;
use crate::error::{ArmError, ErrorKind};
use crate::http::{HttpRequest, Method};
use crate::url::resolve;
use identity_core::ArmRequest;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

enum Cursor {
    First(HttpRequest),
    Next(String),
    Graph {
        first: HttpRequest,
        skip_token: Option<String>,
    },
    Done,
}

/// A list, fetched one page at a time.
///
/// ```
/// use arm_client::{ArmClient, StaticToken, VirtualClock, ops, HttpResponse, testing::{ScriptedTransport, block_on}};
/// use std::rc::Rc;
/// let t = Rc::new(ScriptedTransport::new());
/// t.push(HttpResponse::json(200, &serde_json::json!({"value": [{"name": "a"}],
///     "nextLink": "https://management.azure.com/subscriptions/s/resourcegroups?$skiptoken=2"})));
/// t.push(HttpResponse::json(200, &serde_json::json!({"value": [{"name": "b"}]})));
/// let c = ArmClient::builder("https://management.azure.com", t.clone(), Rc::new(StaticToken::new("x")))
///     .clock(Rc::new(VirtualClock::new(0))).build().unwrap();
/// let mut pages = c.list::<serde_json::Value>(ops::list_resource_groups("s"));
/// let first = block_on(pages.next_page()).unwrap().unwrap();
/// assert_eq!(first[0]["name"], "a");
/// let second = block_on(pages.next_page()).unwrap().unwrap();
/// assert_eq!(second[0]["name"], "b");
/// assert!(block_on(pages.next_page()).is_none());
/// assert_eq!(pages.requests(), 2);
/// ```
pub struct Pager<'c, T> {
    client: &'c ArmClient,
    cursor: Cursor,
    requests: u32,
    seen: std::collections::HashSet<String>,
    total: Option<u64>,
    _t: PhantomData<fn() -> T>,
}

impl ArmClient {
    /// Page through an ARM list request (`{value, nextLink}`).
    pub fn list<T: DeserializeOwned>(&self, req: ArmRequest) -> Pager<'_, T> {
        Pager {
            client: self,
            cursor: Cursor::First(self.http_request(&req)),
            requests: 0,
            seen: Default::default(),
            total: None,
            _t: PhantomData,
        }
    }

    /// Page through a Resource Graph query built by [`crate::ops::resource_graph`].
    pub fn graph<T: DeserializeOwned>(&self, req: ArmRequest) -> Pager<'_, T> {
        Pager {
            client: self,
            cursor: Cursor::Graph {
                first: self.http_request(&req),
                skip_token: None,
            },
            requests: 0,
            seen: Default::default(),
            total: None,
            _t: PhantomData,
        }
    }
}

impl<T: DeserializeOwned> Pager<'_, T> {
    /// Requests sent so far.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// Resource Graph's `totalRecords`, once the first page is in.
    pub fn total_records(&self) -> Option<u64> {
        self.total
    }

    /// The next page, `None` after the last. After an error the pager stops.
    pub async fn next_page(&mut self) -> Option<Result<Vec<T>, ArmError>> {
        let cursor = std::mem::replace(&mut self.cursor, Cursor::Done);
        let (req, graph_first) = match cursor {
            Cursor::Done => return None,
            Cursor::First(r) => (r, None),
            Cursor::Next(url) => (HttpRequest::new(Method::Get, url), None),
            Cursor::Graph { first, skip_token } => {
                let mut r = first.clone();
                if let Some(tok) = &skip_token {
                    let mut body: serde_json::Value = r
                        .body
                        .as_deref()
                        .and_then(|b| serde_json::from_slice(b).ok())
                        .unwrap_or_else(|| serde_json::json!({}));
                    if !body["options"].is_object() {
                        body["options"] = serde_json::json!({});
                    }
                    body["options"]["$skipToken"] = serde_json::Value::String(tok.clone());
                    r.body = Some(serde_json::to_vec(&body).unwrap_or_default());
                }
                (r, Some((first, skip_token)))
            }
        };
        let url = req.url.clone();
        self.requests += 1;
        let resp = match self.client.send_http(req).await {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        let mut v: serde_json::Value = match serde_json::from_slice(&resp.body) {
            Ok(v) => v,
            Err(e) => return Some(Err(decode(&url, e.to_string()))),
        };
        let items_key = if graph_first.is_some() {
            "data"
        } else {
            "value"
        };
        let items = match v.get_mut(items_key).map(serde_json::Value::take) {
            Some(serde_json::Value::Array(a)) => a,
            Some(serde_json::Value::Object(o)) if graph_first.is_some() => {
                // resultFormat "table": {columns, rows}
                match table_rows(&o) {
                    Some(rows) => rows,
                    None => return Some(Err(decode(&url, "unreadable table result".into()))),
                }
            }
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(_) => return Some(Err(decode(&url, format!("`{items_key}` is not a list")))),
        };
        let parsed: Result<Vec<T>, _> = items.into_iter().map(serde_json::from_value).collect();
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => return Some(Err(decode(&url, e.to_string()))),
        };
        match graph_first {
            Some((first, prev)) => {
                self.total = v
                    .get("totalRecords")
                    .and_then(|t| t.as_u64())
                    .or(self.total);
                let tok = v
                    .get("$skipToken")
                    .and_then(|t| t.as_str())
                    .filter(|t| !t.is_empty());
                if let Some(tok) = tok {
                    if Some(tok) == prev.as_deref() {
                        return Some(Err(decode(
                            &url,
                            "the same $skipToken came back twice".into(),
                        )));
                    }
                    self.cursor = Cursor::Graph {
                        first,
                        skip_token: Some(tok.to_string()),
                    };
                }
            }
            None => {
                let next = v
                    .get("nextLink")
                    .and_then(|n| n.as_str())
                    .filter(|n| !n.is_empty());
                if let Some(next) = next {
                    let next = resolve(self.client.origin(), next);
                    if self.seen.contains(&next) || next == url {
                        return Some(Err(decode(
                            &url,
                            "nextLink points to a page already read".into(),
                        )));
                    }
                    self.cursor = Cursor::Next(next);
                }
            }
        }
        self.seen.insert(url);
        Some(Ok(parsed))
    }

    /// Every item of every page.
    pub async fn collect_all(mut self) -> Result<Vec<T>, ArmError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await {
            all.extend(page?);
        }
        Ok(all)
    }
}

fn decode(url: &str, msg: String) -> ArmError {
    ArmError::new(ErrorKind::Decode, format!("unexpected list page: {msg}")).at("GET", url)
}

fn table_rows(o: &serde_json::Map<String, serde_json::Value>) -> Option<Vec<serde_json::Value>> {
    let cols: Vec<&str> = o
        .get("columns")?
        .as_array()?
        .iter()
        .map(|c| c.get("name").and_then(|n| n.as_str()))
        .collect::<Option<_>>()?;
    let rows = o.get("rows")?.as_array()?;
    rows.iter()
        .map(|r| {
            let r = r.as_array()?;
            Some(serde_json::Value::Object(
                cols.iter()
                    .zip(r)
                    .map(|(c, v)| (c.to_string(), v.clone()))
                    .collect(),
            ))
        })
        .collect()
}
