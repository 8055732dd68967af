//! One error type for everything the client can meet, with ARM's envelope kept whole
//! and a short hint for the codes users actually hit.

use crate::http::{HttpResponse, TransportError};

/// Coarse classification (as in azure-sdk-for-rust): callers match on this, and read
/// the details from [`ArmError`]'s fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// ARM answered with a non-success status (see `status` and `code`).
    Http,
    /// The connection failed or dropped; no response was read.
    Network,
    /// A URL outside the configured ARM origin was about to receive a request; it was
    /// refused before anything was sent.
    ForeignOrigin,
    /// The token source could not produce a token.
    Credential,
    /// A long-running operation ended Failed or Canceled.
    OperationFailed,
    /// A long-running operation did not finish within the configured bound.
    Timeout,
    /// A response body could not be understood.
    Decode,
    /// The request could not be built (bad id, bad URL).
    InvalidRequest,
    /// A write was refused before sending: the session is read-only (see
    /// [`crate::WriteAccess`]).
    ReadOnly,
}

/// One entry of ARM's `error.details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    /// `code` of the detail.
    pub code: Option<String>,
    /// `message` of the detail.
    pub message: Option<String>,
    /// `target` of the detail.
    pub target: Option<String>,
}

/// The error of every client call.
///
/// ```
/// use arm_client::{ArmError, ErrorKind, HttpResponse};
/// let resp = HttpResponse::json(412, &serde_json::json!({"error": {
///     "code": "PreconditionFailed",
///     "message": "Etag provided in if-match header \"2\" does not match etag \"3\" of resource."}}))
///     .with_header("x-ms-correlation-request-id", "c-1");
/// let e = ArmError::from_response("PATCH", "https://management.azure.com/x", &resp);
/// assert_eq!(e.kind, ErrorKind::Http);
/// assert_eq!(e.status, Some(412));
/// assert_eq!(e.code.as_deref(), Some("PreconditionFailed"));
/// assert_eq!(e.correlation_id.as_deref(), Some("c-1"));
/// assert!(e.hint().unwrap().contains("changed"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ArmError(Box<ErrorInfo>);

/// The fields of an [`ArmError`] (reached through `Deref`: `err.status`, `err.code`…).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorInfo {
    /// Coarse kind.
    pub kind: ErrorKind,
    /// HTTP status, when a response was read.
    pub status: Option<u16>,
    /// ARM `error.code` (or the operation's error code for a failed LRO).
    pub code: Option<String>,
    /// ARM `error.message`, or a description of what went wrong.
    pub message: String,
    /// ARM `error.target`.
    pub target: Option<String>,
    /// ARM `error.details`.
    pub details: Vec<ErrorDetail>,
    /// `x-ms-request-id`, when readable.
    pub request_id: Option<String>,
    /// `x-ms-correlation-request-id`, when readable.
    pub correlation_id: Option<String>,
    /// `Retry-After` in milliseconds, when readable.
    pub retry_after_ms: Option<u64>,
    /// Method of the request that failed.
    pub method: String,
    /// URL of the request that failed (the query is kept: ARM operation URLs carry
    /// signatures, not secrets of ours; the token is never part of a URL).
    pub url: String,
    /// Attempts made for this call (retries included).
    pub attempts: u32,
}

impl std::ops::Deref for ArmError {
    type Target = ErrorInfo;
    fn deref(&self) -> &ErrorInfo {
        &self.0
    }
}

impl std::ops::DerefMut for ArmError {
    fn deref_mut(&mut self) -> &mut ErrorInfo {
        &mut self.0
    }
}

impl ArmError {
    /// A non-HTTP error of the given kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ArmError(Box::new(ErrorInfo {
            kind,
            status: None,
            code: None,
            message: message.into(),
            target: None,
            details: Vec::new(),
            request_id: None,
            correlation_id: None,
            retry_after_ms: None,
            method: String::new(),
            url: String::new(),
            attempts: 0,
        }))
    }

    pub(crate) fn at(mut self, method: &str, url: &str) -> Self {
        self.method = method.to_string();
        self.url = url.to_string();
        self
    }

    /// Build the error from a non-success response: reads the `{error:{…}}` envelope
    /// (or a bare `{code,message}`), the request/correlation ids and `Retry-After`.
    pub fn from_response(method: &str, url: &str, resp: &HttpResponse) -> Self {
        let mut e = ArmError::new(ErrorKind::Http, String::new()).at(method, url);
        e.status = Some(resp.status);
        e.request_id = resp.header("x-ms-request-id").map(str::to_string);
        e.correlation_id = resp
            .header("x-ms-correlation-request-id")
            .map(str::to_string);
        e.retry_after_ms = retry_after_ms(resp);
        if let Some(v) = resp.json_opt() {
            let env = if v.get("error").is_some_and(|x| x.is_object()) {
                &v["error"]
            } else {
                &v
            };
            fill_from_envelope(&mut e, env);
        } else if !resp.body.is_empty() {
            let text = String::from_utf8_lossy(&resp.body);
            e.message = text.chars().take(300).collect();
        }
        if e.message.is_empty() {
            e.message = format!("HTTP {}", resp.status);
        }
        e
    }

    /// A transport failure (no response).
    pub fn from_transport(method: &str, url: &str, err: &TransportError) -> Self {
        let kind = match err {
            TransportError::Network(_) => ErrorKind::Network,
            TransportError::Invalid(_) => ErrorKind::InvalidRequest,
        };
        ArmError::new(kind, err.to_string()).at(method, url)
    }

    /// `true` when ARM said this was throttling (HTTP 429).
    pub fn is_throttling(&self) -> bool {
        self.status == Some(429)
    }

    /// What this error is, for the flows and the pages: one classification for the whole app
    /// (see [`Class`]).
    pub fn class(&self) -> Class {
        let code = self.code.as_deref().unwrap_or("");
        let is = |c: &str| code.eq_ignore_ascii_case(c);
        match self.kind {
            ErrorKind::ReadOnly => return Class::ReadOnly,
            ErrorKind::Network => return Class::Network,
            ErrorKind::ForeignOrigin => return Class::ForeignOrigin,
            ErrorKind::Credential => return Class::SignIn,
            ErrorKind::Timeout => return Class::StillRunning,
            ErrorKind::Decode | ErrorKind::InvalidRequest => return Class::Other,
            ErrorKind::Http | ErrorKind::OperationFailed => {}
        }
        if is("LinkedAuthorizationFailed") {
            Class::LinkedForbidden
        } else if is("AuthorizationFailed") {
            Class::Forbidden
        } else if (is("PreconditionFailed") || self.status == Some(412)) && self.attempts > 1 {
            Class::LostAnswer
        } else if is("PreconditionFailed") || self.status == Some(412) {
            Class::Changed
        } else if is("RoleAssignmentExists") {
            Class::AlreadyExists
        } else if is("OperationNotAllowed") && self.message.contains("in progress")
            || is("AnotherOperationInProgress")
            || is("RetryableErrorDueToAnotherOperation")
            || self.status == Some(409)
        {
            Class::Busy
        } else if is("InvalidParameter") || is("InvalidIdentityValues") {
            Class::InvalidValue
        } else if is("PrincipalNotFound") {
            Class::PrincipalNotFound
        } else if is("InvalidAuthenticationTokenAudience") {
            Class::WrongAudience
        } else if is("InvalidAuthenticationTokenTenant") {
            Class::WrongTenant
        } else if is("ExpiredAuthenticationToken")
            || is("InvalidAuthenticationToken")
            || is("AuthenticationFailed")
            || self.status == Some(401)
        {
            Class::SignIn
        } else if self.status == Some(429) {
            Class::Throttled
        } else if matches!(self.status, Some(500 | 502 | 503 | 504)) {
            Class::Transient
        } else if is("ResourceNotFound") || is("ResourceGroupNotFound") || self.status == Some(404)
        {
            Class::NotFound
        } else if self.kind == ErrorKind::OperationFailed {
            Class::OperationFailed
        } else {
            Class::Other
        }
    }

    /// For a `LinkedAuthorizationFailed`: the permission (action) missing and the linked
    /// scope it is missing on, read from ARM's message.
    ///
    /// ```
    /// use arm_client::{ArmError, HttpResponse};
    /// let resp = HttpResponse::json(403, &serde_json::json!({"error": {"code": "LinkedAuthorizationFailed",
    ///   "message": "The client 'a' with object id 'o' has permission to perform action 'Microsoft.Compute/virtualMachineScaleSets/write' on scope '/s'; however, it does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1' or the linked scope(s) are invalid."}}));
    /// let e = ArmError::from_response("PATCH", "https://management.azure.com/s", &resp);
    /// let (action, scope) = e.linked_permission().unwrap();
    /// assert_eq!(action, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action");
    /// assert!(scope.ends_with("/userAssignedIdentities/id1"));
    /// assert!(e.hint().unwrap().contains("Managed Identity Operator on id1"));
    /// ```
    pub fn linked_permission(&self) -> Option<(String, String)> {
        let m = &self.message;
        let after = |hay: &str, marker: &str| -> Option<String> {
            let at = hay.find(marker)? + marker.len();
            let rest = &hay[at..];
            Some(rest[..rest.find('\'')?].to_string())
        };
        let tail = m
            .find("does not have permission")
            .map(|i| &m[i..])
            .unwrap_or(m);
        let action = after(tail, "perform action '")?;
        let scope = after(tail, "linked scope(s) '")?;
        Some((action, scope))
    }

    /// A short, user-facing hint: what happened and what to do (`None` for errors nobody
    /// can act on beyond ARM's own message). The one wording of the whole app.
    pub fn hint(&self) -> Option<String> {
        Some(match self.class() {
            Class::ReadOnly => {
                "The session is read-only: nothing was sent. Switch to read-write in the header, \
                 then try again."
                    .into()
            }
            Class::Network => "The connection dropped before Azure answered. Check the network; \
                 a change may still have been applied, so re-read the resource before trying again."
                .into(),
            Class::ForeignOrigin => "Azure returned a link to another host; it was not followed, \
                 so your token stayed with Azure Resource Manager."
                .into(),
            Class::SignIn if self.kind == ErrorKind::Credential => {
                "Sign in again to get a new access token.".into()
            }
            Class::SignIn => {
                "Your sign-in expired or is not valid for this tenant. Sign in again.".into()
            }
            Class::StillRunning => {
                "The operation is still running in Azure; check it again in a minute.".into()
            }
            Class::LinkedForbidden => match self.linked_permission() {
                Some((action, scope)) => {
                    let name = scope.rsplit('/').next().unwrap_or(&scope);
                    let role = if action
                        .to_ascii_lowercase()
                        .contains("userassignedidentities")
                        && action.to_ascii_lowercase().ends_with("/assign/action")
                    {
                        format!(" — e.g. the role Managed Identity Operator on {name}")
                    } else {
                        String::new()
                    };
                    format!(
                        "You may change this resource but not use a linked one: your account lacks \
                         {action} on {scope}{role}. Ask for it, then sign in again and retry."
                    )
                }
                None => "You may change this resource but not use a linked one: assigning a \
                     user-assigned identity needs Managed Identity Operator (…/assign/action) on \
                     that identity."
                    .into(),
            },
            Class::Forbidden => "Your account lacks the role for this action on this scope (e.g. \
                 Virtual Machine Contributor). If access was granted just now, sign in again."
                .into(),
            Class::LostAnswer => "The answer to an earlier attempt was lost and that attempt was \
                 probably applied. Re-read the resource to see its current state."
                .into(),
            Class::Changed => "The resource was changed by someone else since it was read. \
                 Re-read it and review the change again."
                .into(),
            Class::Busy => "Another operation is running on this resource. Wait for it to finish, \
                 then retry."
                .into(),
            Class::AlreadyExists => "This role assignment already exists.".into(),
            Class::InvalidValue => "Azure rejected a value in the request; see the target and \
                 message for which one (e.g. a system-assigned identity on a Flexible scale set)."
                .into(),
            Class::PrincipalNotFound => "The identity was created moments ago and has not \
                 replicated yet. Retry in a minute."
                .into(),
            Class::WrongAudience => {
                "The token was issued for another ARM endpoint (audience) than \
                 this one accepts: check the cloud (and armAudience) in the app's configuration \
                 (config.json), then sign in again."
                    .into()
            }
            Class::WrongTenant => {
                "The token is for another tenant than the subscription's: switch to that tenant."
                    .into()
            }
            Class::Throttled => match self.retry_after_ms {
                Some(ms) => format!(
                    "Azure is throttling requests: wait {} s, then retry.",
                    ms.div_ceil(1000)
                ),
                None => "Azure is throttling requests: wait a little, then retry.".into(),
            },
            Class::Transient => "Azure had a temporary problem. Try again shortly.".into(),
            Class::NotFound => {
                "The resource does not exist (any more), or is in another subscription.".into()
            }
            Class::OperationFailed | Class::Other => return None,
        })
    }
}

/// What an error means for the user: the one classification of the app (the flows decide by
/// it, [`ArmError::hint`] words it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The session is read-only: the write was refused before sending.
    ReadOnly,
    /// The connection dropped; no answer was read.
    Network,
    /// A link to another host was refused.
    ForeignOrigin,
    /// Sign in again (401, an expired or invalid token, no token).
    SignIn,
    /// The token's audience is not this ARM endpoint.
    WrongAudience,
    /// The token is for another tenant.
    WrongTenant,
    /// A long-running operation outlived the client's bound.
    StillRunning,
    /// 403 `LinkedAuthorizationFailed`: a permission on a linked resource is missing.
    LinkedForbidden,
    /// 403 `AuthorizationFailed`.
    Forbidden,
    /// 412 after a retried write: the earlier attempt was probably applied.
    LostAnswer,
    /// 412: changed by someone else since it was read.
    Changed,
    /// 409: another operation is running.
    Busy,
    /// 409 `RoleAssignmentExists`.
    AlreadyExists,
    /// 400 `InvalidParameter`.
    InvalidValue,
    /// `PrincipalNotFound`: a new principal still replicating.
    PrincipalNotFound,
    /// 429 after the client's own retries.
    Throttled,
    /// 5xx after the client's own retries.
    Transient,
    /// 404.
    NotFound,
    /// A long-running operation ended Failed or Canceled.
    OperationFailed,
    /// Anything else.
    Other,
}

fn str_field(v: &serde_json::Value, k: &str) -> Option<String> {
    v.get(k).and_then(|x| x.as_str()).map(str::to_string)
}

pub(crate) fn fill_from_envelope(e: &mut ArmError, env: &serde_json::Value) {
    e.code = str_field(env, "code");
    e.message = str_field(env, "message").unwrap_or_default();
    e.target = str_field(env, "target");
    if let Some(details) = env.get("details").and_then(|d| d.as_array()) {
        e.details = details
            .iter()
            .map(|d| ErrorDetail {
                code: str_field(d, "code"),
                message: str_field(d, "message"),
                target: str_field(d, "target"),
            })
            .collect();
    }
}

/// The wait a response asks for: `Retry-After` as delta-seconds (ARM's form), or as
/// an HTTP-date measured from the response's own `Date` header (no local wall clock
/// needed). `None` when not readable.
///
/// ```
/// use arm_client::{HttpResponse, error::retry_after_ms};
/// let r = HttpResponse::default().with_header("Retry-After", "3");
/// assert_eq!(retry_after_ms(&r), Some(3_000));
/// let r = HttpResponse::default()
///     .with_header("Date", "Wed, 21 Oct 2015 07:28:00 GMT")
///     .with_header("Retry-After", "Wed, 21 Oct 2015 07:28:30 GMT");
/// assert_eq!(retry_after_ms(&r), Some(30_000));
/// ```
pub fn retry_after_ms(resp: &HttpResponse) -> Option<u64> {
    let v = resp.header("retry-after")?;
    if let Some(ms) = parse_retry_after_ms(v) {
        return Some(ms);
    }
    let at = parse_http_date(v)?;
    let now = parse_http_date(resp.header("date")?)?;
    Some(at.saturating_sub(now) * 1000)
}

/// Seconds since the Unix epoch of an IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`).
fn parse_http_date(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, mon, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u64 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mon = MONTHS.iter().position(|m| m == mon)? as i64 + 1;
    let hms: Vec<u64> = time
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, sec] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day) || *h > 23 || *m > 59 || *sec > 60 {
        return None;
    }
    // days from civil (Howard Hinnant's algorithm)
    let y = if mon <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mon + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + (*h * 3600 + *m * 60 + *sec) as i64).ok()
}

/// Parse `Retry-After` as delta-seconds (ARM's form; fractions accepted).
pub fn parse_retry_after_ms(v: &str) -> Option<u64> {
    let s: f64 = v.trim().parse().ok()?;
    if !s.is_finite() || s < 0.0 {
        return None;
    }
    Some((s * 1000.0).round().min(u64::MAX as f64) as u64)
}

impl std::fmt::Display for ArmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(s) = self.status {
            write!(f, "HTTP {s} ")?;
        }
        if let Some(c) = &self.code {
            write!(f, "{c}: ")?;
        }
        f.write_str(&self.message)?;
        if !self.method.is_empty() {
            write!(f, " ({} {})", self.method, crate::url::path_of(&self.url))?;
        }
        if let Some(c) = &self.correlation_id {
            write!(f, " [correlation {c}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ArmError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error bodies in ../shared/arm/recordings/error-responses.fixtures.yaml,
    /// as (status, body, code the hint must be about).
    fn fixture(status: u16, body: &str) -> ArmError {
        let resp = HttpResponse {
            status,
            headers: vec![
                ("x-ms-request-id".into(), "rid".into()),
                ("Retry-After".into(), "7".into()),
            ],
            body: body.as_bytes().to_vec(),
        };
        ArmError::from_response("PATCH", "https://management.azure.com/s", &resp)
    }

    #[test]
    fn envelope_fields_and_hints_for_recorded_errors() {
        let cases = [
            (
                412,
                r#"{"error": {"code": "PreconditionFailed", "message": "Etag provided in if-match header \"2\" does not match etag \"3\" of resource."}}"#,
                "PreconditionFailed",
                "someone else",
            ),
            (
                403,
                r#"{"error": {"code": "LinkedAuthorizationFailed", "message": "... on the linked scope(s) ..."}}"#,
                "LinkedAuthorizationFailed",
                "Managed Identity Operator",
            ),
            (
                403,
                r#"{"error": {"code": "AuthorizationFailed", "message": "does not have authorization"}}"#,
                "AuthorizationFailed",
                "role",
            ),
            (
                400,
                r#"{"code": "InvalidParameter", "target": "identity", "message": "The value 'SystemAssigned' of parameter 'identity' is not allowed. Allowed values are: UserAssigned, None."}"#,
                "InvalidParameter",
                "rejected a value",
            ),
            (
                409,
                r#"{"error": {"code": "OperationNotAllowed", "message": "Operation 'PATCH' is not allowed since another operation is in progress."}}"#,
                "OperationNotAllowed",
                "Another operation",
            ),
            (
                400,
                r#"{"error": {"code": "PrincipalNotFound", "message": "Principal abc does not exist in the directory."}}"#,
                "PrincipalNotFound",
                "replicated",
            ),
            (
                401,
                r#"{"error": {"code": "ExpiredAuthenticationToken", "message": "The access token expiry ..."}}"#,
                "ExpiredAuthenticationToken",
                "Sign in again",
            ),
            (
                429,
                r#"{"error": {"code": "TooManyRequests", "message": "throttled"}}"#,
                "TooManyRequests",
                "throttling",
            ),
        ];
        for (status, body, code, hint) in cases {
            let e = fixture(status, body);
            assert_eq!(e.status, Some(status));
            assert_eq!(e.code.as_deref(), Some(code));
            assert!(!e.message.is_empty());
            assert_eq!(e.request_id.as_deref(), Some("rid"));
            assert_eq!(e.retry_after_ms, Some(7000));
            let h = e.hint().unwrap_or_else(|| panic!("no hint for {code}"));
            assert!(h.contains(hint), "{code}: {h}");
        }
        let flex = fixture(400, cases[3].1);
        assert_eq!(flex.target.as_deref(), Some("identity"));
    }

    #[test]
    fn details_non_json_bodies_and_transport_errors() {
        let e = fixture(
            400,
            r#"{"error":{"code":"InvalidTemplate","message":"m","details":[{"code":"A","message":"first","target":"t"},{"code":"B"}]}}"#,
        );
        assert_eq!(e.details.len(), 2);
        assert_eq!(e.details[0].target.as_deref(), Some("t"));
        assert_eq!(e.details[1].code.as_deref(), Some("B"));
        assert_eq!(e.hint(), None);
        let html = fixture(502, "<html>Bad Gateway</html>");
        assert_eq!(html.code, None);
        assert!(html.message.contains("Bad Gateway"));
        let empty = fixture(503, "");
        assert_eq!(empty.message, "HTTP 503");
        let n = ArmError::from_transport("GET", "u", &TransportError::Network("reset".into()));
        assert_eq!(n.kind, ErrorKind::Network);
        assert!(n.hint().unwrap().contains("connection dropped"));
        assert!(n.to_string().contains("reset"));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after_ms("5"), Some(5000));
        assert_eq!(parse_retry_after_ms(" 0.5 "), Some(500));
        assert_eq!(parse_retry_after_ms("-1"), None);
        assert_eq!(parse_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Sat, 29 Feb 2020 12:00:01 GMT"),
            Some(1_582_977_601)
        );
        assert_eq!(
            parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(1_445_412_480)
        );
        assert_eq!(parse_http_date("Wed, 21 Foo 2015 07:28:00 GMT"), None);
        assert_eq!(parse_http_date("Wed, 21 Oct 2015 07:28 GMT"), None);
        // a date in the past means "now"; a date without the server's Date is unreadable
        let r = HttpResponse::default()
            .with_header("Date", "Wed, 21 Oct 2015 07:28:00 GMT")
            .with_header("Retry-After", "Wed, 21 Oct 2015 07:27:00 GMT");
        assert_eq!(retry_after_ms(&r), Some(0));
        let r = HttpResponse::default().with_header("Retry-After", "Wed, 21 Oct 2015 07:27:00 GMT");
        assert_eq!(retry_after_ms(&r), None);
    }
}
