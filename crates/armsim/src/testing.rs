//! Test support: a throw-away token issuer (RSA keypair + JWKS) that mints ARM-shaped access tokens, for tests
//! that run before sign-in exists (and for arm-client's tests). Native only (feature `rs256`).
//!
//! ```
//! use armsim::testing::TestIssuer;
//! let iss = TestIssuer::new(7);
//! let token = iss.token("00000000-0000-0000-0000-0000000000a1", 1_780_000_000);
//! let cfg = iss.auth_config();
//! let claims = cfg.authenticate(Some(&format!("Bearer {token}")), 1_780_000_000_000).unwrap();
//! assert_eq!(claims.oid, "00000000-0000-0000-0000-0000000000a1");
//! ```

use crate::auth::{AuthConfig, b64url_encode};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The tenant id the test issuer puts in `tid` and in its issuer URL.
pub const TEST_TENANT: &str = "72f988bf-0000-4000-8000-00000000a001";

/// A keypair and issuer URL; tokens it mints verify against [`TestIssuer::jwks`].
pub struct TestIssuer {
    key: RsaPrivateKey,
    /// `iss` of minted tokens, Entra v1-shaped: `https://sts.windows.net/{tenant}/`.
    pub issuer: String,
    /// `kid` of the key.
    pub kid: String,
}

/// A deterministic generator for the throw-away key (SplitMix64; not for anything but tests).
struct SeedRng(u64);
impl rand_core::RngCore for SeedRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for c in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl rand_core::CryptoRng for SeedRng {}

impl TestIssuer {
    /// A 2048-bit keypair derived from `seed` (different seeds give different keys).
    pub fn new(seed: u64) -> TestIssuer {
        TestIssuer::with_bits(seed, 2048)
    }

    /// A keypair of `bits` bits (≥ 1024) derived from `seed`.
    pub fn with_bits(seed: u64, bits: usize) -> TestIssuer {
        let mut rng = SeedRng(seed ^ 0xA5A5_5A5A_1234_5678);
        let key = RsaPrivateKey::new(&mut rng, bits).expect("RSA key generation");
        TestIssuer {
            key,
            issuer: format!("https://sts.windows.net/{TEST_TENANT}/"),
            kid: format!("armsim-test-{seed}"),
        }
    }

    /// The public key as a JWKS document.
    pub fn jwks(&self) -> Value {
        let p = self.key.to_public_key();
        json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": b64url_encode(&p.n().to_bytes_be()), "e": b64url_encode(&p.e().to_bytes_be())}]})
    }

    /// An [`AuthConfig`] that accepts this issuer's tokens with ARM's default audiences.
    pub fn auth_config(&self) -> AuthConfig {
        AuthConfig::new(&self.issuer, self.jwks()).expect("own JWKS parses")
    }

    /// Signs arbitrary claims (RS256, header `typ: JWT` and this issuer's `kid`).
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"typ": "JWT", "alg": "RS256", "kid": self.kid});
        let signed = format!(
            "{}.{}",
            b64url_encode(header.to_string().as_bytes()),
            b64url_encode(claims.to_string().as_bytes())
        );
        let hash = Sha256::digest(signed.as_bytes());
        let sig = self
            .key
            .sign(Pkcs1v15Sign::new::<Sha256>(), &hash)
            .expect("RSA signing");
        format!("{signed}.{}", b64url_encode(&sig))
    }

    /// The claims of an ARM access token for `oid`, valid from `now_s - 300` for one hour.
    pub fn claims(&self, oid: &str, now_s: u64) -> Value {
        json!({"aud": "https://management.azure.com/", "iss": self.issuer, "iat": now_s - 300,
            "nbf": now_s - 300, "exp": now_s + 3600, "oid": oid, "sub": oid, "tid": TEST_TENANT,
            "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "scp": "user_impersonation", "ver": "1.0"})
    }

    /// A valid ARM access token for `oid` at `now_s` (seconds since the Unix epoch).
    pub fn token(&self, oid: &str, now_s: u64) -> String {
        self.sign(&self.claims(oid, now_s))
    }
}
