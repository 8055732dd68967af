//! Quoting for the generated scripts: every user-supplied string goes through one of these.
//!
//! - PowerShell: single-quoted (verbatim) literals. PowerShell treats U+2018–U+201B as single
//!   quotes too, so every one of those characters is doubled, exactly like `'`.
//! - POSIX shells (bash): single quotes; an embedded `'` becomes `'\''`.
//! - JSON bodies: serialised with every non-ASCII character escaped as `\uXXXX`, so a body is
//!   plain ASCII whatever console, code page or file encoding it passes through.

/// Characters PowerShell's tokenizer accepts as a single quote: `'` and U+2018–U+201B.
pub const PS_SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// Is `c` one of the characters PowerShell treats as a single quote?
pub fn is_ps_single_quote(c: char) -> bool {
    PS_SINGLE_QUOTES.contains(&c)
}

/// A PowerShell single-quoted string literal whose value is exactly `s`.
///
/// Nothing is expanded inside single quotes (`$`, backtick, `;`, newlines are literal); each
/// quote character (ASCII or typographic) is written twice.
///
/// ```
/// use identity_core::scripts::quote::ps_single;
/// assert_eq!(ps_single("Bob's $x"), "'Bob''s $x'");
/// assert_eq!(ps_single("a\u{2019}b"), "'a\u{2019}\u{2019}b'");
/// ```
pub fn ps_single(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if is_ps_single_quote(c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A POSIX-shell word whose value is exactly `s` (single-quoted; `'` as `'\''`).
///
/// ```
/// use identity_core::scripts::quote::sh_single;
/// assert_eq!(sh_single("it's"), r"'it'\''s'");
/// assert_eq!(sh_single("$HOME `x`"), "'$HOME `x`'");
/// ```
pub fn sh_single(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Escape every non-ASCII character of already-serialised JSON as `\uXXXX` (UTF-16 units).
/// Non-ASCII characters can only occur inside JSON strings, so the result is equivalent JSON.
fn ascii_json(json: String) -> String {
    if json.is_ascii() {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// Compact JSON, ASCII only.
///
/// ```
/// use identity_core::scripts::quote::json_compact;
/// let v = serde_json::json!({"a": "é"});
/// assert_eq!(json_compact(&v), r#"{"a":"\u00e9"}"#);
/// ```
pub fn json_compact(v: &serde_json::Value) -> String {
    ascii_json(serde_json::to_string(v).expect("a Value always serialises"))
}

/// Pretty (2-space indented) JSON, ASCII only.
pub fn json_pretty(v: &serde_json::Value) -> String {
    ascii_json(serde_json::to_string_pretty(v).expect("a Value always serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_typographic_quote_is_doubled() {
        for q in PS_SINGLE_QUOTES {
            let s = format!("x{q}y");
            let lit = ps_single(&s);
            assert_eq!(
                lit.chars().filter(|c| *c == q).count(),
                if q == '\'' { 4 } else { 2 }
            );
        }
    }

    #[test]
    fn double_quotes_and_dollars_are_left_alone_in_powershell() {
        assert_eq!(ps_single("\"$a\"`n"), "'\"$a\"`n'");
    }

    #[test]
    fn astral_characters_become_surrogate_pairs() {
        let v = serde_json::json!({"k": "\u{1F600}"});
        let s = json_compact(&v);
        assert!(s.is_ascii());
        assert_eq!(s, r#"{"k":"\ud83d\ude00"}"#);
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }
}
