//! Recorded exchanges (../shared/arm/recordings, or $IDENTITY_RECORDINGS_DIR): for every identity
//! PATCH whose prior state the recording shows, our plan from that state yields the same resulting
//! identity as the one Azure accepted (merged with ARM's rule, implemented here independently).
//!
//! Works on azure-cli recording files (`interactions: [{request, response}]`), full ones (response
//! `body: {string: …}`) and excerpts (`body_identity_part`, ids elided as `.../name`).
#![cfg(not(target_arch = "wasm32"))]

use identity_core::identity::IdentityState;
use identity_core::resource_id::{IdKind, ResourceId};
use identity_core::{Operation, ResourceState, plan};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

fn recordings_dir() -> PathBuf {
    if let Ok(d) = std::env::var("IDENTITY_RECORDINGS_DIR") {
        return PathBuf::from(d);
    }
    // the project keeps shared/ beside the repository (repo/../shared): look upwards for it
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|a| a.join("shared/arm/recordings"))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| manifest.join("../../../shared/arm/recordings"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Set {
    sa: bool,
    ua: BTreeSet<String>,
}

fn set_of(s: &IdentityState) -> Set {
    Set {
        sa: s.system_assigned,
        ua: s
            .user_assigned
            .iter()
            .map(|u| u.id.to_ascii_lowercase())
            .collect(),
    }
}

/// ARM's merge rule (see merge_props.rs for the commented version).
fn arm_merge(current: &Set, body: &Value) -> Set {
    let ident = &body["identity"];
    let ty = ident["type"].as_str().unwrap_or("None");
    let parts: Vec<String> = ty
        .split(',')
        .map(|p| p.trim().to_ascii_lowercase())
        .collect();
    let sa = parts.iter().any(|p| p == "systemassigned");
    if !parts.iter().any(|p| p == "userassigned") {
        return Set {
            sa,
            ua: BTreeSet::new(),
        };
    }
    let mut ua = current.ua.clone();
    if let Some(m) = ident["userAssignedIdentities"].as_object() {
        for (k, v) in m {
            if v.is_null() {
                ua.remove(&k.to_ascii_lowercase());
            } else {
                ua.insert(k.to_ascii_lowercase());
            }
        }
    }
    Set { sa, ua }
}

/// Strings anywhere in a value.
fn all_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            out.push(s.clone());
            if let Ok(inner) = serde_json::from_str::<Value>(s)
                && inner.is_object()
            {
                all_strings(&inner, out);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                all_strings(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| all_strings(v, out)),
        _ => {}
    }
}

/// Expand `.../userAssignedIdentities/id1` to the full id seen elsewhere in the file.
fn expand(identity: &Value, full_ids: &[String]) -> Value {
    let mut v = identity.clone();
    if let Some(m) = v
        .get_mut("userAssignedIdentities")
        .and_then(Value::as_object_mut)
    {
        let entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
        for (k, val) in entries {
            let key = match k.strip_prefix("...") {
                Some(suffix) => full_ids
                    .iter()
                    .find(|f| {
                        f.to_ascii_lowercase()
                            .ends_with(&suffix.to_ascii_lowercase())
                    })
                    .cloned()
                    .unwrap_or_else(|| {
                        panic!("elided id {k} not found in full form in the recording")
                    }),
                None => k,
            };
            m.insert(key, val);
        }
    }
    v
}

fn body_json(b: &Value) -> Option<Value> {
    let s = match b {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.get("string")?.as_str()?.to_string(),
        _ => return None,
    };
    serde_json::from_str(&s).ok()
}

/// The resource an interaction's URI addresses (a scale set or VM), if any.
fn compute_id(uri: &str) -> Option<ResourceId> {
    let path = uri.split('?').next()?;
    let path = path.find("/subscriptions/").map(|i| &path[i..])?;
    let id = ResourceId::parse(path).ok()?;
    matches!(id.kind(), IdKind::ScaleSet | IdKind::VirtualMachine).then_some(id)
}

/// The identity (and etag) a response shows, if it shows one.
fn response_state(resp: &Value, full_ids: &[String]) -> Option<(Value, Option<String>)> {
    let etag_hdr = resp["headers"]["etag"]
        .as_str()
        .or_else(|| resp["headers"]["etag"][0].as_str())
        .map(str::to_string);
    if let Some(b) = resp.get("body").and_then(body_json)
        && (b.get("id").is_some() || b.get("identity").is_some() || b.get("properties").is_some())
    {
        let etag = b["etag"].as_str().map(str::to_string).or(etag_hdr);
        return Some((
            b.get("identity")
                .map(|i| expand(i, full_ids))
                .unwrap_or(Value::Null),
            etag,
        ));
    }
    let part = resp.get("body_identity_part")?;
    let etag = part["etag"].as_str().map(str::to_string).or(etag_hdr);
    Some((
        part.get("identity")
            .map(|i| expand(i, full_ids))
            .unwrap_or(Value::Null),
        etag,
    ))
}

/// The operation a user would pick for the change from `before` to `after`.
fn natural_op(before: &Set, after: &Set, full: &HashMap<String, String>) -> Operation {
    let added: Vec<String> = after
        .ua
        .difference(&before.ua)
        .map(|k| full[k].clone())
        .collect();
    let removed: Vec<String> = before
        .ua
        .difference(&after.ua)
        .map(|k| full[k].clone())
        .collect();
    match (before.sa == after.sa, added.is_empty(), removed.is_empty()) {
        (true, false, true) => Operation::AddUserAssigned { ids: added },
        (true, true, false) => Operation::RemoveUserAssigned { ids: removed },
        (false, true, true) if after.sa => Operation::EnableSystemAssigned,
        (false, true, true) => Operation::RemoveSystemAssigned,
        _ => Operation::SetExact {
            system_assigned: after.sa,
            user_assigned: after.ua.iter().map(|k| full[k].clone()).collect(),
        },
    }
}

/// Check every identity PATCH of one recording; returns how many could be checked.
fn check_recording(doc: &Value, label: &str) -> usize {
    let Some(interactions) = doc.get("interactions").and_then(Value::as_array) else {
        return 0;
    };
    let mut checked = 0;
    let mut strings = Vec::new();
    all_strings(doc, &mut strings);
    let full_ids: Vec<String> = strings
        .into_iter()
        .filter(|s| s.starts_with("/subscriptions/") && !s.contains(' ') && !s.contains("..."))
        .filter(|s| ResourceId::parse(s).is_ok_and(|i| i.kind() == IdKind::UserAssignedIdentity))
        .collect();
    let mut by_key: HashMap<String, String> = HashMap::new();
    for f in &full_ids {
        by_key
            .entry(f.to_ascii_lowercase())
            .or_insert_with(|| f.clone());
    }
    // last known (identity, etag) per resource
    let mut known: HashMap<ResourceId, (Value, Option<String>)> = HashMap::new();
    for it in interactions {
        let req = &it["request"];
        let resp = &it["response"];
        let method = req["method"].as_str().unwrap_or("");
        let Some(id) = req["uri"].as_str().and_then(compute_id) else {
            continue;
        };
        let status = resp["status"]["code"].as_u64().unwrap_or(0);
        match method {
            "GET" if status == 200 => {
                if let Some(s) = response_state(resp, &full_ids) {
                    known.insert(id, s);
                }
            }
            "PATCH" => {
                let Some(sent) = req.get("body").and_then(body_json) else {
                    continue;
                };
                if sent.get("identity").is_none() {
                    continue;
                }
                let accepted = response_state(resp, &full_ids);
                if let (Some((before_ident, etag)), true, Some((acc_ident, _))) =
                    (known.get(&id).cloned(), status == 200, accepted.clone())
                {
                    let before = IdentityState::from_arm(Some(&before_ident)).unwrap();
                    let after = IdentityState::from_arm(Some(&acc_ident)).unwrap();
                    let (b, a) = (set_of(&before), set_of(&after));
                    // our merge rule explains what Azure did with the recorded body
                    assert_eq!(arm_merge(&b, &sent), a, "{}: merge rule vs Azure", label);
                    let mut body = json!({"id": id.as_str(), "properties": {}});
                    if !before_ident.is_null() {
                        body["identity"] = before_ident.clone();
                    }
                    if let Some(e) = &etag {
                        body["etag"] = json!(e);
                    }
                    let st = ResourceState::from_arm(&body, None).unwrap();
                    for op in [
                        natural_op(&b, &a, &by_key),
                        Operation::SetExact {
                            system_assigned: a.sa,
                            user_assigned: a.ua.iter().map(|k| by_key[k].clone()).collect(),
                        },
                    ] {
                        let p = plan(&st, &op);
                        let reqs = p.requests();
                        assert_eq!(reqs.len(), 1, "{}: {op:?} -> {:?}", label, p.outcome);
                        assert_eq!(reqs[0].method.as_str(), "PATCH");
                        assert!(reqs[0].path.eq_ignore_ascii_case(id.as_str()));
                        let ours = reqs[0].body.as_ref().unwrap();
                        assert_eq!(arm_merge(&b, ours), a, "{}: {op:?}: {ours}", label);
                        assert_eq!(reqs[0].header("If-Match"), etag.as_deref());
                        assert!(p.after.same_identities(&after));
                    }
                    checked += 1;
                }
                if let (Some(s), 200) = (accepted, status) {
                    known.insert(id, s);
                }
            }
            _ => {}
        }
    }
    checked
}

#[test]
fn our_plans_reach_what_azure_accepted() {
    let dir = recordings_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "recordings not found at {} ({e}); set IDENTITY_RECORDINGS_DIR",
            dir.display()
        )
    });
    let mut checked = 0;
    let mut files = 0;
    for e in entries {
        let path = e.unwrap().path();
        if !matches!(
            path.extension().and_then(|x| x.to_str()),
            Some("yaml" | "yml")
        ) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if !text.lines().any(|l| l.starts_with("interactions:")) {
            continue; // e.g. the error fixtures: no exchanges (and not strict YAML)
        }
        let doc: Value =
            yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if doc.get("interactions").and_then(Value::as_array).is_none() {
            continue;
        }
        files += 1;
        checked += check_recording(&doc, &path.display().to_string());
    }
    assert!(
        files >= 1,
        "no recording with interactions in {}",
        dir.display()
    );
    assert!(checked >= 2, "only {checked} exchanges could be checked");
    eprintln!("checked {checked} recorded identity PATCHes in {files} recording(s)");
}

#[test]
fn full_cassette_format_is_read() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/test_vmss_msi.reconstructed.yaml"
    );
    let doc: Value = yaml_serde::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // both PATCHes (enable SA on a resource with no identity key; remove the only SA) are checked
    assert_eq!(check_recording(&doc, path), 2);
}
