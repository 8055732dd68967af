//! Bearer-token authentication as ARM enforces it: a JWT whose signature (RS256) verifies against a JWKS,
//! whose `iss` is accepted, whose `aud` is one of ARM's audiences and which is within `nbf`..`exp`.
//!
//! Off unless [`crate::SimConfig::auth`] is set. Failures are 401 with ARM's error codes and a
//! `WWW-Authenticate: Bearer authorization_uri="…", error="invalid_token", error_description="…"` header.
//!
//! Sources: the audience message and the allowed-audience list are quoted in public issues
//! (`hashicorp/go-azure-helpers#51`, `JetBrains/azure-tools-for-intellij#16`); the other messages follow the
//! shape ARM answers as seen in public issues but were not checked against a recording (README, "not recorded").
//! The signature check needs the `rs256` feature (native; part of `server`): without it every token fails.
//!
//! ```
//! use armsim::auth::{AuthConfig, Claims};
//! let cfg = AuthConfig::new("https://login.example/tenant/v2.0", serde_json::json!({"keys": []})).unwrap();
//! assert!(cfg.audiences.iter().any(|a| a == "https://management.azure.com/"));
//! // no token → 401 AuthenticationFailed
//! let e = cfg.authenticate(None, 0).unwrap_err();
//! assert_eq!((e.status, e.code.as_str()), (401, "AuthenticationFailed"));
//! assert!(e.headers[0].1.starts_with("Bearer authorization_uri="));
//! # let _ = Claims::default();
//! ```

use crate::error::ArmError;
use serde_json::Value;

/// The audiences ARM accepts in the public cloud, in the order its error message lists them.
pub const ARM_AUDIENCES: [&str; 4] = [
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

/// One RSA public key of a JWKS (`kty` `RSA`; `n` and `e` base64url, big-endian).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    /// Key id (`kid`), matched against the token header's `kid` when both are present.
    pub kid: Option<String>,
    /// Modulus, big-endian bytes.
    pub n: Vec<u8>,
    /// Public exponent, big-endian bytes.
    pub e: Vec<u8>,
}

/// Authentication settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Accepted `iss` values (exact match, also with or without a trailing `/`).
    pub issuers: Vec<String>,
    /// Accepted `aud` values (exact match, as ARM: "It should exactly match with one of the allowed audiences").
    pub audiences: Vec<String>,
    /// Verification keys.
    pub keys: Vec<Jwk>,
    /// `authorization_uri` in `WWW-Authenticate` (ARM names the login endpoint; default: the first issuer
    /// without its `/v2.0` suffix).
    pub authorization_uri: String,
    /// Clock skew tolerated on `exp` / `nbf`, seconds (default 300, what ARM-side validators commonly allow; not
    /// documented for ARM).
    pub leeway_s: u64,
}

/// The claims of an accepted token that the simulator uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    /// Object id of the caller (`oid`; `sub` when absent).
    pub oid: String,
    /// Client id (`appid` or `azp`), shown in authorization messages.
    pub app_id: String,
    /// Tenant (`tid`).
    pub tenant_id: String,
}

impl AuthConfig {
    /// Settings for one issuer and a JWKS document (`{"keys":[…]}`), with ARM's default audiences.
    pub fn new(issuer: &str, jwks: Value) -> Result<AuthConfig, String> {
        Ok(AuthConfig {
            issuers: vec![issuer.to_string()],
            audiences: ARM_AUDIENCES.iter().map(|s| s.to_string()).collect(),
            keys: parse_jwks(&jwks)?,
            authorization_uri: issuer
                .trim_end_matches('/')
                .trim_end_matches("/v2.0")
                .to_string(),
            leeway_s: 300,
        })
    }

    /// Checks the `Authorization` header value at `now_ms`; returns the caller's claims or ARM's 401.
    pub fn authenticate(&self, header: Option<&str>, now_ms: u64) -> Result<Claims, ArmError> {
        let Some(h) = header.map(str::trim).filter(|h| !h.is_empty()) else {
            return Err(self.fail(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                "The authentication failed because of missing 'Authorization' header.",
            ));
        };
        let token = match h.split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
            _ => {
                return Err(self.fail(
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                    "The authentication scheme of the 'Authorization' header is not 'Bearer'.",
                ));
            }
        };
        let invalid = |why: &str| {
            self.fail(
                "InvalidAuthenticationToken",
                "The access token is invalid.",
                &format!("The access token is invalid: {why}."),
            )
        };
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return Err(invalid("not a JWS compact serialization"));
        }
        let header: Value = b64url(parts[0])
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| invalid("the header is not base64url JSON"))?;
        let claims: Value = b64url(parts[1])
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| invalid("the payload is not base64url JSON"))?;
        let sig = b64url(parts[2]).ok_or_else(|| invalid("the signature is not base64url"))?;
        if header["alg"].as_str() != Some("RS256") {
            return Err(invalid("the signing algorithm is not RS256"));
        }
        let kid = header["kid"].as_str();
        let candidates: Vec<&Jwk> = self
            .keys
            .iter()
            .filter(|k| kid.is_none() || k.kid.is_none() || k.kid.as_deref() == kid)
            .collect();
        let signed = &token[..parts[0].len() + 1 + parts[1].len()];
        if !candidates
            .iter()
            .any(|k| verify_rs256(k, signed.as_bytes(), &sig))
        {
            return Err(invalid(
                "the signature could not be verified with the configured keys",
            ));
        }
        let iss = claims["iss"].as_str().unwrap_or_default();
        let norm = |s: &str| s.trim_end_matches('/').to_string();
        if !self.issuers.iter().any(|i| norm(i) == norm(iss)) {
            // ARM's code for a token of another tenant; message shape per public reports, not recorded.
            return Err(self.fail(
                "InvalidAuthenticationTokenTenant",
                &format!(
                    "The access token is from the wrong issuer '{iss}'. It must match the tenant '{}' associated with this subscription. Please use the authority (URL) '{}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.",
                    self.issuers.first().cloned().unwrap_or_default(),
                    self.authorization_uri
                ),
                "The access token is from the wrong issuer.",
            ));
        }
        let auds: Vec<&str> = match &claims["aud"] {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !auds.iter().any(|a| self.audiences.iter().any(|x| x == a)) {
            return Err(self.fail(
                "InvalidAuthenticationTokenAudience",
                &format!(
                    "The access token has been obtained for wrong audience or resource '{}'. It should exactly match with one of the allowed audiences {}.",
                    auds.join(","),
                    self.audiences
                        .iter()
                        .map(|a| format!("'{a}'"))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                "The access token has been obtained for wrong audience or resource.",
            ));
        }
        let now_s = now_ms / 1000;
        let exp = claims["exp"].as_u64();
        let Some(exp) = exp else {
            return Err(invalid("the 'exp' claim is missing"));
        };
        if exp + self.leeway_s <= now_s {
            return Err(self.fail(
                "ExpiredAuthenticationToken",
                &format!(
                    "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                    us_time(exp),
                    us_time(now_s)
                ),
                "The access token is expired.",
            ));
        }
        if let Some(nbf) = claims["nbf"].as_u64()
            && nbf > now_s + self.leeway_s
        {
            return Err(self.fail(
                "InvalidAuthenticationToken",
                &format!(
                    "The access token is not yet valid: its 'not before' UTC time '{}' is later than current UTC time '{}'.",
                    us_time(nbf),
                    us_time(now_s)
                ),
                "The access token is not yet valid.",
            ));
        }
        let s = |k: &str| claims[k].as_str().unwrap_or_default().to_string();
        let oid = if claims["oid"].is_string() {
            s("oid")
        } else {
            s("sub")
        };
        if oid.is_empty() {
            return Err(invalid(
                "at least one of the claims 'oid' or 'sub' should be present",
            ));
        }
        let app_id = if claims["appid"].is_string() {
            s("appid")
        } else if claims["azp"].is_string() {
            s("azp")
        } else {
            s("client_id")
        };
        Ok(Claims {
            oid,
            app_id,
            tenant_id: s("tid"),
        })
    }

    fn fail(&self, code: &str, message: &str, description: &str) -> ArmError {
        let mut e = ArmError::new(401, code, message);
        e.headers.push((
            "WWW-Authenticate".into(),
            format!(
                "Bearer authorization_uri=\"{}\", error=\"invalid_token\", error_description=\"{}\"",
                self.authorization_uri,
                description.replace('"', "'")
            ),
        ));
        e
    }
}

/// Parses a JWKS document; keys other than RSA are skipped.
pub fn parse_jwks(jwks: &Value) -> Result<Vec<Jwk>, String> {
    let keys = jwks["keys"]
        .as_array()
        .ok_or("a JWKS needs a \"keys\" array")?;
    let mut out = vec![];
    for k in keys {
        if k["kty"].as_str() != Some("RSA") {
            continue;
        }
        let n = k["n"]
            .as_str()
            .and_then(b64url)
            .ok_or("an RSA key without a base64url \"n\"")?;
        let e = k["e"]
            .as_str()
            .and_then(b64url)
            .ok_or("an RSA key without a base64url \"e\"")?;
        out.push(Jwk {
            kid: k["kid"].as_str().map(str::to_string),
            n,
            e,
        });
    }
    Ok(out)
}

/// `M/D/YYYY h:mm:ss AM` — the US-style time ARM prints in its expiry message.
fn us_time(s: u64) -> String {
    let iso = crate::rng::iso8601(s * 1000);
    let y = &iso[0..4];
    let mo: u32 = iso[5..7].parse().unwrap_or(1);
    let d: u32 = iso[8..10].parse().unwrap_or(1);
    let h: u32 = iso[11..13].parse().unwrap_or(0);
    let (h12, ampm) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    format!("{mo}/{d}/{y} {h12}:{} {ampm}", &iso[14..19])
}

/// Decodes base64url without padding (padding tolerated).
pub fn b64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Encodes base64url without padding.
///
/// ```
/// assert_eq!(armsim::auth::b64url_encode(b"hi?"), "aGk_");
/// assert_eq!(armsim::auth::b64url(&armsim::auth::b64url_encode(b"\x00\xff")).unwrap(), b"\x00\xff");
/// ```
pub fn b64url_encode(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut o = String::with_capacity(b.len() * 4 / 3 + 2);
    for ch in b.chunks(3) {
        let n = (ch[0] as u32) << 16
            | (*ch.get(1).unwrap_or(&0) as u32) << 8
            | *ch.get(2).unwrap_or(&0) as u32;
        for i in 0..=ch.len() {
            o.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
        }
    }
    o
}

#[cfg(feature = "rs256")]
fn verify_rs256(k: &Jwk, signed: &[u8], sig: &[u8]) -> bool {
    use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
    use sha2::{Digest, Sha256};
    let Ok(key) = RsaPublicKey::new(BigUint::from_bytes_be(&k.n), BigUint::from_bytes_be(&k.e))
    else {
        return false;
    };
    let hash = Sha256::digest(signed);
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &hash, sig)
        .is_ok()
}

#[cfg(not(feature = "rs256"))]
fn verify_rs256(_k: &Jwk, _signed: &[u8], _sig: &[u8]) -> bool {
    // Built without the `rs256` feature (e.g. wasm32): no signature can be checked, so none is accepted.
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips() {
        for n in 0..40u8 {
            let v: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(b64url(&b64url_encode(&v)).unwrap(), v);
        }
        assert!(b64url("a b").is_none());
    }

    #[test]
    fn us_time_is_arms_format() {
        assert_eq!(us_time(1_558_440_000), "5/21/2019 12:00:00 PM");
        assert_eq!(us_time(0), "1/1/1970 12:00:00 AM");
    }
}
