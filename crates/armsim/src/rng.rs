//! A tiny deterministic PRNG (SplitMix64) so the core needs no `getrandom` and runs in wasm32.

/// SplitMix64: fast, seedable, good enough for ids and jitter (not cryptographic).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed; the same seed gives the same sequence.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A random version-4-shaped GUID in lower case, as ARM prints them.
    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        let bytes: Vec<u8> = a
            .to_be_bytes()
            .iter()
            .chain(b.to_be_bytes().iter())
            .copied()
            .collect();
        let mut b16 = [0u8; 16];
        b16.copy_from_slice(&bytes);
        b16[6] = (b16[6] & 0x0f) | 0x40;
        b16[8] = (b16[8] & 0x3f) | 0x80;
        let h: String = b16.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// `n` characters of URL-safe base64 alphabet (for the opaque signature parameters of operation URLs).
    pub fn token(&mut self, n: usize) -> String {
        const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..n)
            .map(|_| ALPHA[(self.next_u64() % 64) as usize] as char)
            .collect()
    }
}

/// Formats milliseconds since the Unix epoch as ARM does in operation bodies:
/// `2026-05-07T07:31:34.9869398+00:00` (seven fractional digits, explicit offset).
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let frac = (ms % 1000) * 10_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:07}+00:00",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

// Howard Hinnant's days -> civil date algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_match_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.0000000+00:00");
        // 2026-05-07T07:31:34.986Z
        assert_eq!(
            iso8601(1_778_139_094_986),
            "2026-05-07T07:31:34.9860000+00:00"
        );
        // leap day
        assert_eq!(
            iso8601(951_782_400_000),
            "2000-02-29T00:00:00.0000000+00:00"
        );
    }

    #[test]
    fn uuids_are_deterministic_and_v4_shaped() {
        let a = Rng::new(7).uuid();
        let b = Rng::new(7).uuid();
        let c = Rng::new(8).uuid();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}
