//! Export of a view (the rows a [`super::view::Filter`] shows, in its order) as CSV or JSON.
//!
//! CSV follows RFC 4180 (CRLF line ends; a field holding `,`, `"`, CR or LF is quoted, `"` doubled) and is safe
//! to open in a spreadsheet: a cell starting with `=`, `+`, `-`, `@`, tab or CR is prefixed with `'` so it is
//! read as text, not as a formula (OWASP "CSV injection"). Azure names may start with `-`… and a tag or name is
//! anyone's input.
//!
//! ```
//! use identity_core::inventory::export::csv_cell;
//! assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
//! assert_eq!(csv_cell("a,b"), "\"a,b\"");
//! assert_eq!(csv_cell("plain"), "plain");
//! assert_eq!(csv_cell("=cmd()"), "'=cmd()");
//! assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
//! ```

use super::model::{Inventory, ResourceRow};
use serde_json::{Value, json};

/// The CSV header (and the JSON keys, in camelCase).
pub const COLUMNS: [&str; 12] = [
    "name",
    "kind",
    "subscription",
    "subscriptionId",
    "resourceGroup",
    "location",
    "systemAssignedPrincipalId",
    "userAssignedIdentities",
    "legacyExtension",
    "aksManaged",
    "provisioningState",
    "id",
];

/// One CSV field: neutralised against formulas, then quoted when needed.
pub fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

fn cells(r: &ResourceRow) -> [String; 12] {
    [
        r.name.clone(),
        r.kind.label().to_string(),
        r.subscription_name.clone(),
        r.subscription_id.clone(),
        r.resource_group.clone(),
        r.location.clone(),
        r.system_assigned.clone().unwrap_or_default(),
        r.user_assigned.join(" "),
        r.legacy_extension.to_string(),
        r.aks_managed.to_string(),
        r.provisioning_state.clone(),
        r.id.clone(),
    ]
}

/// The rows `view` (indices into `inv.resources`) as CSV: a header line, then one line per row, CRLF-ended.
/// User-assigned identity ids are separated by spaces (an ARM id holds none).
pub fn to_csv(inv: &Inventory, view: &[usize]) -> String {
    let mut out = String::new();
    out.push_str(&COLUMNS.join(","));
    out.push_str("\r\n");
    for &i in view {
        let Some(r) = inv.resources.get(i) else {
            continue;
        };
        let line: Vec<String> = cells(r).iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The rows `view` as a JSON array of objects (keys as [`COLUMNS`]; `userAssignedIdentities` an array,
/// booleans as booleans, no system-assigned identity as `null`). JSON needs no formula guard.
pub fn to_json(inv: &Inventory, view: &[usize]) -> Value {
    Value::Array(
        view.iter()
            .filter_map(|&i| inv.resources.get(i))
            .map(|r| {
                json!({
                    "name": r.name, "kind": r.kind.label(), "subscription": r.subscription_name,
                    "subscriptionId": r.subscription_id, "resourceGroup": r.resource_group, "location": r.location,
                    "systemAssignedPrincipalId": r.system_assigned, "userAssignedIdentities": r.user_assigned,
                    "legacyExtension": r.legacy_extension, "aksManaged": r.aks_managed,
                    "provisioningState": r.provisioning_state, "id": r.id,
                })
            })
            .collect(),
    )
}

/// Reads CSV written by [`to_csv`] back into fields (RFC 4180; for tests and checks).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    let mut row = vec![];
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            c => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}
