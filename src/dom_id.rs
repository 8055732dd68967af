//! Element ids made from names and resource ids. Every form control's `id` (and the label's
//! `for`) must name one control only: `id_web` and `id-web` are two identities, so an id made by
//! replacing punctuation would let a label toggle the wrong one.

/// `prefix` followed by an injective encoding of `key`: ASCII letters, digits and `-` are kept,
/// every other character becomes `_` + its code point in hex + `_` (so `_` itself is `_5f_`).
/// Different keys give different ids, and every id is a valid HTML id and CSS identifier tail.
pub fn dom_id(prefix: &str, key: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + key.len() * 2);
    s.push_str(prefix);
    for c in key.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            s.push(c);
        } else {
            s.push_str(&format!("_{:x}_", c as u32));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::dom_id;

    #[test]
    fn names_that_differ_only_in_punctuation_get_different_ids() {
        let a = dom_id(
            "pick-",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id_web",
        );
        let b = dom_id(
            "pick-",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web",
        );
        assert_ne!(a, b);
        assert!(a.ends_with("id_5f_web") && b.ends_with("id-web"), "{a} {b}");
        assert_eq!(dom_id("x-", "a.b"), "x-a_2e_b");
        // the escape character itself is escaped: these would collide otherwise
        assert_ne!(dom_id("", "_2e_"), dom_id("", "."));
        assert_ne!(dom_id("", "é"), dom_id("", "_e9_"));
        assert!(
            dom_id("", "a b\"c<d>é")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        );
    }
}
