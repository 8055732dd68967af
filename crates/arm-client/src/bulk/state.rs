//! The batch as data: item ids and per-item outcomes (never a token), serialized to JSON to survive a reload,
//! and the report (CSV and JSON).

use super::Counters;
use serde::{Deserialize, Serialize};

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ItemStatus {
    Pending,
    Running,
    Applied,
    NoOp,
    Refused,
    Failed,
}

impl ItemStatus {
    /// Done: skipped when the batch resumes.
    pub fn is_final(self) -> bool {
        !matches!(self, ItemStatus::Pending | ItemStatus::Running)
    }
    /// The word in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Pending => "not sent",
            ItemStatus::Running => "running",
            ItemStatus::Applied => "applied",
            ItemStatus::NoOp => "no-op",
            ItemStatus::Refused => "refused",
            ItemStatus::Failed => "failed",
        }
    }
}

/// One item of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemRecord {
    /// The resource id.
    pub id: String,
    pub status: ItemStatus,
    /// HTTP status of the write or of the failing request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Reason of a no-op or refusal, or the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A failure's classification (`Throttled`, `Forbidden`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// What to do about a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// When it finished (the clock's milliseconds; Unix epoch in the browser).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<u64>,
    /// Runs started (all sessions).
    #[serde(default)]
    pub attempts: u32,
    /// Re-plans after a 412 (this session).
    #[serde(default, skip_serializing)]
    pub replans: u32,
    /// It was running when the batch stopped (a reload): it is read again before anything is re-sent.
    #[serde(default)]
    pub interrupted: bool,
}

/// A batch: its items, in order. `operation` is a label chosen by the caller (e.g. the operation's JSON) so the
/// batch can be offered again with what it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchState {
    pub version: u32,
    #[serde(default)]
    pub operation: String,
    pub items: Vec<ItemRecord>,
}

impl BatchState {
    /// Every item pending; ids repeated (ignoring case) are kept once.
    pub fn new(ids: &[String]) -> Self {
        let mut seen = std::collections::BTreeSet::new();
        let items = ids
            .iter()
            .filter(|id| seen.insert(id.to_ascii_lowercase()))
            .map(|id| ItemRecord {
                id: id.clone(),
                status: ItemStatus::Pending,
                http_status: None,
                correlation_id: None,
                message: None,
                class: None,
                hint: None,
                time_ms: None,
                attempts: 0,
                replans: 0,
                interrupted: false,
            })
            .collect();
        BatchState {
            version: 1,
            operation: String::new(),
            items,
        }
    }

    /// With an operation label.
    pub fn with_operation(mut self, op: impl Into<String>) -> Self {
        self.operation = op.into();
        self
    }

    /// With a bulk operation as its label (its JSON), so a saved batch says what it does.
    ///
    /// ```
    /// use arm_client::bulk::{BatchState, BulkOp};
    /// let st = BatchState::new(&["/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v".into()])
    ///     .with_op(&BulkOp::RemoveSystemAssigned);
    /// let back = BatchState::from_json(&st.to_json()).unwrap();
    /// assert_eq!(back.bulk_op(), Some(BulkOp::RemoveSystemAssigned));
    /// ```
    pub fn with_op(self, op: &identity_core::bulk::BulkOp) -> Self {
        self.with_operation(serde_json::to_string(op).unwrap_or_default())
    }

    /// The bulk operation of a batch saved with [`BatchState::with_op`] (`None` for another label).
    pub fn bulk_op(&self) -> Option<identity_core::bulk::BulkOp> {
        serde_json::from_str(&self.operation).ok()
    }

    /// The JSON kept in the browser's storage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a saved batch; a clear message when it is not one.
    pub fn from_json(s: &str) -> Result<BatchState, String> {
        let st: BatchState = serde_json::from_str(s).map_err(|e| {
            format!("The saved batch could not be read ({e}); start the batch again.")
        })?;
        if st.version != 1 {
            return Err(format!(
                "The saved batch has version {} (this app reads version 1); start the batch again.",
                st.version
            ));
        }
        Ok(st)
    }

    /// Whether every item is done.
    pub fn is_finished(&self) -> bool {
        self.items.iter().all(|i| i.status.is_final())
    }

    /// Counts per status.
    pub fn counters(&self) -> Counters {
        let mut c = Counters::default();
        for i in &self.items {
            match i.status {
                ItemStatus::Pending => c.pending += 1,
                ItemStatus::Running => c.running += 1,
                ItemStatus::Applied => c.applied += 1,
                ItemStatus::NoOp => c.no_op += 1,
                ItemStatus::Refused => c.refused += 1,
                ItemStatus::Failed => c.failed += 1,
            }
        }
        c
    }

    /// The report as CSV: `item,outcome,status,correlation_id,time,message,class,hint` (identity-core's
    /// [`identity_core::inventory::export::csv_cell`]: RFC 4180 quoting; a cell starting with `=`, `+`, `-`, `@`, tab or
    /// CR gets a leading `'` so a spreadsheet shows it as text).
    pub fn report_csv(&self) -> String {
        let mut out =
            String::from("item,outcome,status,correlation_id,time,message,class,hint\r\n");
        for i in &self.items {
            let cells = [
                i.id.clone(),
                i.status.as_str().to_string(),
                i.http_status.map(|s| s.to_string()).unwrap_or_default(),
                i.correlation_id.clone().unwrap_or_default(),
                i.time_ms.map(iso8601).unwrap_or_default(),
                i.message.clone().unwrap_or_default(),
                i.class.clone().unwrap_or_default(),
                i.hint.clone().unwrap_or_default(),
            ];
            let row: Vec<String> = cells
                .iter()
                .map(|c| identity_core::inventory::export::csv_cell(c))
                .collect();
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// The report as JSON: `[{item, outcome, status, correlationId, time, message, class, hint}]`.
    pub fn report_json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.items
                .iter()
                .map(|i| {
                    serde_json::json!({
                        "item": i.id,
                        "outcome": i.status.as_str(),
                        "status": i.http_status,
                        "correlationId": i.correlation_id,
                        "time": i.time_ms.map(iso8601),
                        "message": i.message,
                        "class": i.class,
                        "hint": i.hint,
                    })
                })
                .collect(),
        )
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` from milliseconds since the Unix epoch.
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // civil from days (H. Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_764_892_800_123), "2025-12-05T00:00:00.123Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
