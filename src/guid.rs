//! Random GUIDs made in the browser (the names of new role assignments).

/// A version-4 GUID from 16 random bytes: the version and variant bits set, lower-case hex in
/// the 8-4-4-4-12 form ARM prints.
pub fn format_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// A random version-4 GUID from the browser's `crypto.getRandomValues` (`Math.random` where
/// there is no Web Crypto).
#[cfg(target_arch = "wasm32")]
pub fn new_guid() -> String {
    let mut b = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut b).is_ok());
    if !filled {
        for x in b.iter_mut() {
            *x = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    format_v4(b)
}

/// Outside a browser (server-side rendering in tests): random bytes from the standard library's
/// randomly keyed hasher.
#[cfg(not(target_arch = "wasm32"))]
pub fn new_guid() -> String {
    use std::hash::BuildHasher;
    let s = std::collections::hash_map::RandomState::new();
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&s.hash_one(1u8).to_le_bytes());
    b[8..].copy_from_slice(&s.hash_one(2u8).to_le_bytes());
    format_v4(b)
}

#[cfg(test)]
mod tests {
    use super::format_v4;

    #[test]
    fn version_and_variant_bits_are_set_and_the_layout_is_8_4_4_4_12() {
        assert_eq!(format_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
        assert_eq!(
            format_v4([0xff; 16]),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        let b: [u8; 16] = std::array::from_fn(|i| (i as u8) * 17);
        assert_eq!(format_v4(b), "00112233-4455-4677-8899-aabbccddeeff");
    }
}
