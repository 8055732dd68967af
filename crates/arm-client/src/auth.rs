//! Tokens, and the rule that a token only ever goes to the configured ARM origin.

use crate::error::{ArmError, ErrorKind};
use crate::http::LocalBoxFuture;
use crate::url::Origin;

/// Where bearer tokens come from. The sign-in module implements it over MSAL; tests
/// use [`StaticToken`].
pub trait TokenSource {
    /// A token for ARM. `refresh` is `true` after ARM answered 401 to the cached one:
    /// the source should then bypass its cache.
    fn token(&self, refresh: bool) -> LocalBoxFuture<'_, Result<String, ArmError>>;
}

impl<T: TokenSource + ?Sized> TokenSource for std::rc::Rc<T> {
    fn token(&self, refresh: bool) -> LocalBoxFuture<'_, Result<String, ArmError>> {
        (**self).token(refresh)
    }
}

/// A fixed token (tests, demo tenant).
///
/// ```
/// use arm_client::{StaticToken, TokenSource, testing::block_on};
/// assert_eq!(block_on(StaticToken::new("t").token(false)).unwrap(), "t");
/// ```
#[derive(Debug, Clone)]
pub struct StaticToken(String);

impl StaticToken {
    /// Wrap a token.
    pub fn new(token: impl Into<String>) -> Self {
        StaticToken(token.into())
    }
}

impl TokenSource for StaticToken {
    fn token(&self, _refresh: bool) -> LocalBoxFuture<'_, Result<String, ArmError>> {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
    }
}

/// Refuse `url` unless its origin is exactly `arm` (scheme, host, port). This runs
/// before a token is requested or anything is sent.
///
/// ```
/// use arm_client::{check_origin, Origin, ErrorKind};
/// let arm = Origin::parse("https://management.azure.com/").unwrap();
/// assert!(check_origin(&arm, "https://management.azure.com/subscriptions").is_ok());
/// let e = check_origin(&arm, "https://evil.example/next").unwrap_err();
/// assert_eq!(e.kind, ErrorKind::ForeignOrigin);
/// ```
pub fn check_origin(arm: &Origin, url: &str) -> Result<(), ArmError> {
    match Origin::parse(url) {
        Some(o) if &o == arm => Ok(()),
        Some(o) => Err(ArmError::new(
            ErrorKind::ForeignOrigin,
            format!(
                "refused to send a request to {o}: only {arm} receives the access token \
                 (a link from a response pointed elsewhere)"
            ),
        )
        .at("", url)),
        None => Err(ArmError::new(
            ErrorKind::ForeignOrigin,
            format!("refused to send a request to an unparsable URL; only {arm} is allowed"),
        )
        .at("", url)),
    }
}
