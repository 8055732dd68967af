//! MSAL's errors mapped to one Rust type with messages a user can act on. Pure.

/// Everything sign-in can fail with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The sign-in library could not be loaded.
    Unavailable(String),
    /// No client id is configured yet (sign-in is optional: the snippets work without it).
    NotConfigured,
    /// The configuration is invalid (text says what).
    Config(String),
    /// No account is signed in.
    NotSignedIn,
    /// The user closed the sign-in window or cancelled.
    Cancelled,
    /// The browser blocked the sign-in pop-up window.
    PopupBlocked,
    /// Another sign-in is already running in this tab.
    InProgress,
    /// A silent token request needs the user (expired session, consent, MFA, another tenant).
    InteractionRequired {
        /// MSAL / OAuth error code (`login_required`, `consent_required` …).
        code: String,
    },
    /// The sign-in authority could not be reached or is not trusted.
    AuthorityUnreachable {
        /// MSAL error code.
        code: String,
    },
    /// No answer in time.
    Timeout,
    /// Network failure talking to the authority.
    Network,
    /// The authority answered with an error (AADSTS… codes keep their message).
    Server {
        /// OAuth error code (`invalid_request`, `access_denied` …).
        code: String,
        /// The authority's description.
        message: String,
    },
    /// Anything else.
    Other {
        /// MSAL error code, or the JS error name.
        code: String,
        /// MSAL's message.
        message: String,
    },
}

/// A hint for the Entra ID error numbers users meet when setting the app up.
fn aadsts_hint(message: &str) -> Option<&'static str> {
    const HINTS: &[(&str, &str)] = &[
        (
            "AADSTS50011",
            "The redirect URI is not registered: add <origin>/redirect.html to the app registration's single-page application platform.",
        ),
        (
            "AADSTS700016",
            "The application (client) id is not known in this tenant: check clientId and tenant.",
        ),
        (
            "AADSTS9002326",
            "The redirect URI is registered as 'Web', not as 'Single-page application'.",
        ),
        (
            "AADSTS65001",
            "Consent is missing: grant the delegated Azure Service Management user_impersonation permission.",
        ),
        (
            "AADSTS50020",
            "This account is not a member or guest of that tenant.",
        ),
        ("AADSTS90002", "That tenant does not exist in this cloud."),
        (
            "AADSTS50076",
            "The tenant requires multi-factor authentication: sign in again interactively.",
        ),
    ];
    HINTS
        .iter()
        .find(|(code, _)| message.contains(code))
        .map(|(_, h)| *h)
}

/// The authority's own words from an MSAL server error message: MSAL formats it as
/// `Error(s): 50020 - Timestamp: … - Description: AADSTS50020: … - Correlation ID: … - Trace ID: …`;
/// Entra's descriptions continue with `Trace ID:` lines. The first line of the description.
fn server_description(message: &str) -> &str {
    let d = match message.find("Description: ") {
        Some(i) => &message[i + "Description: ".len()..],
        None => message,
    };
    let d = d.lines().next().unwrap_or("");
    let end = [" - Correlation ID:", " - Trace ID:", " - Timestamp:"]
        .iter()
        .filter_map(|m| d.find(m))
        .min()
        .unwrap_or(d.len());
    d[..end].trim()
}

impl AuthError {
    /// Map an MSAL error (its JS `name`, `errorCode` and `errorMessage`).
    ///
    /// ```
    /// use identity_wizard::auth::AuthError;
    /// let e = AuthError::from_msal("BrowserAuthError", "user_cancelled", "User cancelled the flow.");
    /// assert_eq!(e, AuthError::Cancelled);
    /// let e = AuthError::from_msal("InteractionRequiredAuthError", "login_required", "");
    /// assert!(e.is_interaction_required());
    /// ```
    pub fn from_msal(name: &str, code: &str, message: &str) -> AuthError {
        let interaction = name == "InteractionRequiredAuthError"
            || matches!(
                code,
                "interaction_required"
                    | "login_required"
                    | "consent_required"
                    | "no_tokens_found"
                    | "native_account_unavailable"
                    | "refresh_token_expired"
                    | "bad_token"
                    | "ux_not_allowed"
            );
        if interaction {
            return AuthError::InteractionRequired {
                code: code.to_string(),
            };
        }
        match code {
            "user_cancelled" => AuthError::Cancelled,
            "popup_window_error" | "empty_window_error" => AuthError::PopupBlocked,
            "interaction_in_progress" | "block_nested_popups" => AuthError::InProgress,
            "endpoints_resolution_error"
            | "untrusted_authority"
            | "openid_config_error"
            | "invalid_authority_metadata"
            | "invalid_cloud_discovery_metadata" => AuthError::AuthorityUnreachable {
                code: code.to_string(),
            },
            "authority_uri_insecure"
            | "url_parse_error"
            | "empty_url_error"
            | "invalid_known_authorities" => AuthError::Config(format!("{code}: {message}")),
            "timed_out" | "monitor_window_timeout" | "popup_bridge_timeout" => AuthError::Timeout,
            "no_network_connectivity"
            | "post_request_failed"
            | "get_request_failed"
            | "failed_to_parse_response" => AuthError::Network,
            "no_account_error" | "no_account_in_silent_request" => AuthError::NotSignedIn,
            _ if name == "ServerError" || message.contains("AADSTS") => AuthError::Server {
                code: code.to_string(),
                message: message.to_string(),
            },
            _ => AuthError::Other {
                code: if code.is_empty() { name } else { code }.to_string(),
                message: message.to_string(),
            },
        }
    }

    /// Whether the user has to sign in interactively.
    pub fn is_interaction_required(&self) -> bool {
        matches!(self, AuthError::InteractionRequired { .. })
    }

    /// The text shown to the user.
    pub fn user_message(&self) -> String {
        match self {
            AuthError::Unavailable(m) => format!("Sign-in is unavailable: {m}"),
            AuthError::NotConfigured => crate::auth::ConfigError::NoClientId.to_string(),
            AuthError::Config(m) => format!("Sign-in configuration error: {m}"),
            AuthError::NotSignedIn => "You are not signed in.".into(),
            AuthError::Cancelled => "Sign-in was cancelled.".into(),
            AuthError::PopupBlocked => {
                "The browser blocked the sign-in window. Allow pop-ups for this site, or use \"Sign in in this tab\".".into()
            }
            AuthError::InProgress => {
                "A sign-in is already in progress in this tab; finish or close it first.".into()
            }
            AuthError::InteractionRequired { code } => format!(
                "Your session needs you to sign in again ({code})."
            ),
            AuthError::AuthorityUnreachable { code } => format!(
                "The sign-in authority could not be reached or is not trusted ({code}). Check the cloud and authority settings and the network."
            ),
            AuthError::Timeout => {
                "The sign-in did not finish in time, or its window was closed. Try again.".into()
            }
            AuthError::Network => {
                "The network failed while talking to the sign-in authority. Try again.".into()
            }
            AuthError::Server { code, message } => {
                let first = server_description(message);
                match aadsts_hint(message) {
                    Some(h) => format!("Sign-in was refused ({code}): {h} [{first}]"),
                    None if first.is_empty() => format!("Sign-in was refused ({code})."),
                    None => format!("Sign-in was refused ({code}): {first}"),
                }
            }
            AuthError::Other { code, message } => {
                let first = message.lines().next().unwrap_or("").trim();
                if first.is_empty() {
                    format!("Sign-in failed ({code}).")
                } else {
                    format!("Sign-in failed ({code}): {first}")
                }
            }
        }
    }
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.user_message())
    }
}

impl std::error::Error for AuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interaction_required_by_class_or_code() {
        for (name, code) in [
            ("InteractionRequiredAuthError", "whatever"),
            ("AuthError", "login_required"),
            ("ServerError", "consent_required"),
            ("BrowserAuthError", "no_tokens_found"),
        ] {
            let e = AuthError::from_msal(name, code, "");
            assert!(e.is_interaction_required(), "{name} {code}");
            assert!(e.user_message().contains(code));
        }
    }

    #[test]
    fn browser_errors_get_their_own_kind() {
        assert_eq!(
            AuthError::from_msal("BrowserAuthError", "popup_window_error", "x"),
            AuthError::PopupBlocked
        );
        assert_eq!(
            AuthError::from_msal("BrowserAuthError", "interaction_in_progress", "x"),
            AuthError::InProgress
        );
        assert_eq!(
            AuthError::from_msal("BrowserAuthError", "timed_out", "x"),
            AuthError::Timeout
        );
        assert!(matches!(
            AuthError::from_msal("ClientAuthError", "endpoints_resolution_error", ""),
            AuthError::AuthorityUnreachable { .. }
        ));
        assert!(matches!(
            AuthError::from_msal("ClientConfigurationError", "authority_uri_insecure", "Authority URIs must use https."),
            AuthError::Config(m) if m.contains("https")
        ));
    }

    #[test]
    fn server_errors_keep_the_authority_message_and_add_a_hint() {
        let e = AuthError::from_msal(
            "ServerError",
            "invalid_request",
            "AADSTS50011: The redirect URI 'http://localhost:8080/redirect.html' specified in the request does not match.\nTrace ID: 1",
        );
        let m = e.user_message();
        assert!(m.contains("redirect.html to the app registration"), "{m}");
        assert!(m.contains("AADSTS50011: The redirect URI"), "{m}");
        assert!(!m.contains("Trace ID"), "first line only: {m}");
        let plain = AuthError::from_msal("ServerError", "access_denied", "nope");
        assert_eq!(
            plain.user_message(),
            "Sign-in was refused (access_denied): nope"
        );
    }

    #[test]
    fn msal_formatted_server_messages_are_reduced_to_the_description() {
        let e = AuthError::from_msal(
            "ServerError",
            "invalid_grant",
            "Error(s): 50020 - Timestamp: 2026-11-27 05:41:00Z - Description: AADSTS50020: User account 'bob@contoso.test' does not exist in tenant 'b'. - Correlation ID: c - Trace ID: t",
        );
        assert_eq!(
            e.user_message(),
            "Sign-in was refused (invalid_grant): This account is not a member or guest of that tenant. [AADSTS50020: User account 'bob@contoso.test' does not exist in tenant 'b'.]"
        );
    }

    #[test]
    fn unknown_errors_keep_code_or_name() {
        let e = AuthError::from_msal("TypeError", "", "x is not a function");
        assert_eq!(
            e.user_message(),
            "Sign-in failed (TypeError): x is not a function"
        );
    }
}
