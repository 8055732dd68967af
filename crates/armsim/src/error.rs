//! ARM's error envelope `{"error":{"code","message","target"?,"details"?}}`.

use serde_json::{Value, json};

/// An ARM error answer: HTTP status plus the envelope's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmError {
    /// HTTP status (400, 404, 409, 412, 429, 5xx …).
    pub status: u16,
    /// `error.code`.
    pub code: String,
    /// `error.message`.
    pub message: String,
    /// `error.target`, when ARM names the offending parameter.
    pub target: Option<String>,
    /// Extra response headers (e.g. `Retry-After`).
    pub headers: Vec<(String, String)>,
    /// `error.details` (a JSON array; omitted when `None`). Boxed to keep the error small.
    pub details: Option<Box<Value>>,
}

impl ArmError {
    /// A new error with no target and no extra headers.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ArmError {
            status,
            code: code.to_string(),
            message: message.into(),
            target: None,
            headers: vec![],
            details: None,
        }
    }

    /// Sets `error.target`.
    pub fn target(mut self, t: &str) -> Self {
        self.target = Some(t.to_string());
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut e = json!({"code": self.code, "message": self.message});
        if let Some(t) = &self.target {
            e["target"] = json!(t);
        }
        if let Some(d) = &self.details {
            e["details"] = (**d).clone();
        }
        json!({ "error": e })
    }
}

pub(crate) fn invalid_parameter(msg: impl Into<String>, target: &str) -> ArmError {
    ArmError::new(400, "InvalidParameter", msg).target(target)
}
