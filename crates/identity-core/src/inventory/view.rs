//! Filters and sort of the inventory's resource list, and their URL query string (so a view can be shared).
//!
//! ```
//! use identity_core::inventory::view::{Filter, SortKey};
//! use identity_core::inventory::Kind;
//! let f = Filter { text: "web & api".into(), kinds: vec![Kind::Vm], legacy_extension: true, sort: SortKey::Subscription, descending: true, ..Filter::default() };
//! let q = f.to_query();
//! assert_eq!(q, "q=web%20%26%20api&kind=vm&legacy=1&sort=subscription&desc=1");
//! assert_eq!(Filter::from_query(&q), f);
//! ```

use super::model::{Inventory, Kind, ResourceRow};

/// Sort column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum SortKey {
    #[default]
    Name,
    Subscription,
    Group,
    Location,
    Kind,
    Identities,
    State,
}

impl SortKey {
    pub const ALL: [SortKey; 7] = [
        SortKey::Name,
        SortKey::Subscription,
        SortKey::Group,
        SortKey::Location,
        SortKey::Kind,
        SortKey::Identities,
        SortKey::State,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Subscription => "subscription",
            SortKey::Group => "group",
            SortKey::Location => "location",
            SortKey::Kind => "kind",
            SortKey::Identities => "identities",
            SortKey::State => "state",
        }
    }

    pub fn from_slug(s: &str) -> Option<SortKey> {
        SortKey::ALL
            .into_iter()
            .find(|k| k.slug().eq_ignore_ascii_case(s))
    }
}

/// What the list shows. Every condition narrows (they combine with "and"); empty = everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// Case-insensitive substring of the name, id, group, subscription (name or id), region, principal ids and
    /// user-assigned identity ids (and their client / principal ids).
    pub text: String,
    /// Only these kinds (none = all).
    pub kinds: Vec<Kind>,
    /// Only this subscription (id, ignoring case).
    pub subscription: Option<String>,
    /// Only resources that use this user-assigned identity (id, ignoring case).
    pub uses_identity: Option<String>,
    /// Only resources with the legacy extension.
    pub legacy_extension: bool,
    /// Only resources without any identity.
    pub no_identity: bool,
    pub sort: SortKey,
    pub descending: bool,
}

/// Percent-encoding of a query value: RFC 3986 unreserved characters stay, every other byte is `%XX`.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decoding (`+` is a space, as in forms); invalid escapes are kept as they are, invalid UTF-8 is
/// replaced — never a panic.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match h {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Filter {
    /// Nothing narrows the list.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
            && self.kinds.is_empty()
            && self.subscription.is_none()
            && self.uses_identity.is_none()
            && !self.legacy_extension
            && !self.no_identity
    }

    /// The query string (without `?`), keys in a fixed order, defaults left out.
    pub fn to_query(&self) -> String {
        let mut p: Vec<String> = vec![];
        if !self.text.is_empty() {
            p.push(format!("q={}", encode(&self.text)));
        }
        if !self.kinds.is_empty() {
            let mut k = self.kinds.clone();
            k.sort();
            k.dedup();
            let k: Vec<&str> = k.iter().map(|k| k.slug()).collect();
            p.push(format!("kind={}", k.join(",")));
        }
        if let Some(s) = &self.subscription {
            p.push(format!("sub={}", encode(s)));
        }
        if let Some(u) = &self.uses_identity {
            p.push(format!("uses={}", encode(u)));
        }
        if self.legacy_extension {
            p.push("legacy=1".into());
        }
        if self.no_identity {
            p.push("none=1".into());
        }
        if self.sort != SortKey::Name {
            p.push(format!("sort={}", self.sort.slug()));
        }
        if self.descending {
            p.push("desc=1".into());
        }
        p.join("&")
    }

    /// Reads a query string (with or without `?`); unknown keys and unreadable values are ignored.
    pub fn from_query(q: &str) -> Filter {
        let mut f = Filter::default();
        for pair in q.trim_start_matches('?').split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = decode(v);
            match k {
                "q" => f.text = v,
                "kind" => {
                    for s in v.split(',') {
                        if let Some(k) = Kind::from_slug(s.trim())
                            && !f.kinds.contains(&k)
                        {
                            f.kinds.push(k);
                        }
                    }
                    f.kinds.sort();
                }
                "sub" if !v.is_empty() => f.subscription = Some(v),
                "uses" if !v.is_empty() => f.uses_identity = Some(v),
                "legacy" => f.legacy_extension = v == "1" || v.eq_ignore_ascii_case("true"),
                "none" => f.no_identity = v == "1" || v.eq_ignore_ascii_case("true"),
                "sort" => f.sort = SortKey::from_slug(&v).unwrap_or_default(),
                "desc" => f.descending = v == "1" || v.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        f
    }

    /// Whether a row passes (`text_lc` = the text lower-cased and trimmed, computed once per filtering).
    fn matches(&self, r: &ResourceRow, text_lc: &str, uses_lc: Option<&str>) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&r.kind))
            && self
                .subscription
                .as_ref()
                .is_none_or(|s| s.eq_ignore_ascii_case(&r.subscription_id))
            && uses_lc.is_none_or(|u| r.users_lc.iter().any(|x| x == u))
            && (!self.legacy_extension || r.legacy_extension)
            && (!self.no_identity || r.has_no_identity())
            && (text_lc.is_empty() || r.haystack.contains(text_lc))
    }

    /// Indices into `inv.resources` of the rows shown, in display order (ties broken by id, so the order is
    /// total and stable).
    pub fn apply(&self, inv: &Inventory) -> Vec<usize> {
        let mut out = self.select(inv, 0..inv.resources.len());
        self.sort_rows(inv, &mut out);
        out
    }

    /// The rows of `order` (indices into `inv.resources`) that pass, in that order. With `order` =
    /// [`Filter::order`] of the same sort this is [`Filter::apply`], without sorting again: a page sorts once per
    /// sort key and only filters per keystroke.
    ///
    /// ```
    /// use identity_core::inventory::view::Filter;
    /// # let inv = identity_core::inventory::Inventory::default();
    /// let f = Filter { text: "web".into(), ..Filter::default() };
    /// assert_eq!(f.select(&inv, f.order(&inv)), f.apply(&inv));
    /// ```
    pub fn select(&self, inv: &Inventory, order: impl IntoIterator<Item = usize>) -> Vec<usize> {
        let text_lc = self.text.trim().to_lowercase();
        let uses_lc = self.uses_identity.as_ref().map(|u| u.to_lowercase());
        order
            .into_iter()
            .filter(|&i| {
                inv.resources
                    .get(i)
                    .is_some_and(|r| self.matches(r, &text_lc, uses_lc.as_deref()))
            })
            .collect()
    }

    /// Whether every row this filter shows is among the rows `prev` shows, in the same order: the same filter
    /// but a text that contains `prev`'s (ignoring case; typing on narrows). Then `self.select(inv, prev_view)`
    /// is `self.apply(inv)`, scanning only `prev`'s rows.
    ///
    /// ```
    /// use identity_core::inventory::view::Filter;
    /// let f = |t: &str| Filter { text: t.into(), ..Filter::default() };
    /// assert!(f("vmss-04").narrows(&f("vmss-0")) && f("WEB").narrows(&f("we")) && f("x").narrows(&f("")));
    /// assert!(!f("vmss-0").narrows(&f("vmss-04")));
    /// // another sort (or any other field changed): not a narrowing of that view
    /// assert!(!Filter { descending: true, ..f("web") }.narrows(&f("we")));
    /// ```
    pub fn narrows(&self, prev: &Filter) -> bool {
        let (a, b) = (
            self.text.trim().to_lowercase(),
            prev.text.trim().to_lowercase(),
        );
        a.contains(&b)
            && Filter {
                text: String::new(),
                ..self.clone()
            } == Filter {
                text: String::new(),
                ..prev.clone()
            }
    }

    /// Every row in this filter's display order (its sort and direction; the other fields are ignored).
    pub fn order(&self, inv: &Inventory) -> Vec<usize> {
        let mut out: Vec<usize> = (0..inv.resources.len()).collect();
        self.sort_rows(inv, &mut out);
        out
    }

    fn sort_rows(&self, inv: &Inventory, out: &mut [usize]) {
        let rs = &inv.resources;
        // precomputed lower-cased keys: no allocation per comparison
        let col = match self.sort {
            SortKey::Name => Some(0),
            SortKey::Subscription => Some(1),
            SortKey::Group => Some(2),
            SortKey::Location => Some(3),
            SortKey::State => Some(4),
            SortKey::Kind | SortKey::Identities => None,
        };
        let count =
            |r: &ResourceRow| r.user_assigned.len() + usize::from(r.system_assigned.is_some());
        out.sort_unstable_by(|&a, &b| {
            let (x, y) = (&rs[a], &rs[b]);
            let primary = match (col, self.sort) {
                (Some(c), _) => x.keys[c].cmp(&y.keys[c]),
                (None, SortKey::Kind) => x.kind.label().cmp(y.kind.label()),
                _ => count(x).cmp(&count(y)),
            };
            // ties by id: a total order, so unstable sorting is deterministic
            primary
                .then_with(|| x.keys[5].cmp(&y.keys[5]))
                .then(a.cmp(&b))
        });
        if self.descending {
            out.reverse();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_never_panics_on_broken_escapes() {
        for s in ["%", "%4", "%zz", "a%e9b", "%E2%82", "%%41", "é%"] {
            let _ = decode(s);
        }
        assert_eq!(decode("a%20b+c"), "a b c");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%41%"), "A%");
    }

    #[test]
    fn unknown_keys_and_values_are_ignored() {
        let f = Filter::from_query("?kind=vm,bogus,VM&sort=nope&x=1&legacy=yes&none=true");
        assert_eq!(f.kinds, vec![Kind::Vm]);
        assert_eq!(f.sort, SortKey::Name);
        assert!(!f.legacy_extension && f.no_identity);
    }
}
