//! URL origins, for token confinement. Parsing is deliberately strict: anything that
//! is not a plain `scheme://host[:port]` authority is not the ARM origin.

/// The origin of an absolute URL: scheme, host and port (default port filled in),
/// lower-cased.
///
/// ```
/// use arm_client::Origin;
/// let a = Origin::parse("https://Management.Azure.com/subscriptions?x=1").unwrap();
/// let b = Origin::parse("https://management.azure.com:443").unwrap();
/// assert_eq!(a, b);
/// assert_ne!(a, Origin::parse("https://management.azure.com.evil.example/").unwrap());
/// assert_ne!(a, Origin::parse("https://management.azure.com@evil.example/").unwrap());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// Host name or IP literal, lower-cased.
    pub host: String,
    /// Port (explicit or the scheme's default).
    pub port: u16,
}

impl Origin {
    /// Parse the origin of an absolute `http`/`https` URL; `None` for anything else.
    pub fn parse(url: &str) -> Option<Origin> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
        let authority = &rest[..end];
        // user-info ("arm@evil") means the host is after the last '@'
        let authority = match authority.rfind('@') {
            Some(i) => &authority[i + 1..],
            None => authority,
        };
        if authority.is_empty() {
            return None;
        }
        let (host, port) = if let Some(stripped) = authority.strip_prefix('[') {
            let close = stripped.find(']')?;
            let host = &authority[..close + 2];
            let after = &stripped[close + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().ok()?,
                None if after.is_empty() => default_port,
                None => return None,
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, "")) => (h, default_port),
                Some((h, p)) => (h, p.parse().ok()?),
                None => (authority, default_port),
            }
        };
        if host.is_empty()
            || host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '%')
        {
            return None;
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        Some(Origin { scheme, host, port })
    }

    /// `scheme://host[:port]` with the default port omitted.
    pub fn as_url(&self) -> String {
        let default = if self.scheme == "https" { 443 } else { 80 };
        if self.port == default {
            format!("{}://{}", self.scheme, self.host)
        } else {
            format!("{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_url())
    }
}

/// Resolve a link ARM returned: absolute URLs are used verbatim, `/path` is joined to
/// the endpoint's origin.
pub(crate) fn resolve(origin: &Origin, link: &str) -> String {
    if link.starts_with('/') && !link.starts_with("//") {
        format!("{}{}", origin.as_url(), link)
    } else {
        link.to_string()
    }
}

/// The path of an absolute URL (without query), or the input if it is a path already.
pub(crate) fn path_of(url: &str) -> &str {
    let after = match url.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(i) => &rest[i..],
            None => "/",
        },
        None => url,
    };
    match after.find(['?', '#']) {
        Some(i) => &after[..i],
        None => after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(s: &str) -> Option<Origin> {
        Origin::parse(s)
    }

    #[test]
    fn default_ports_and_case_are_normalised() {
        assert_eq!(o("HTTPS://A.example"), o("https://a.example:443/x"));
        assert_eq!(o("http://127.0.0.1:8080/x").unwrap().port, 8080);
        assert_ne!(o("http://a.example"), o("https://a.example"));
        assert_ne!(o("https://a.example:444"), o("https://a.example"));
    }

    #[test]
    fn tricky_authorities_are_not_confused_with_the_arm_host() {
        let arm = o("https://management.azure.com").unwrap();
        for bad in [
            "https://management.azure.com.evil.example/x",
            "https://management.azure.com@evil.example/x",
            "https://evil.example\\@management.azure.com/",
            "https://evil.example#@management.azure.com/",
            "https://evil.example?@management.azure.com/",
            "https://management.azure.com:8443/",
            "http://management.azure.com/",
        ] {
            assert_ne!(o(bad).as_ref(), Some(&arm), "{bad}");
        }
        for unparsable in [
            "//management.azure.com/x",
            "/subscriptions",
            "ftp://management.azure.com/",
            "https://",
            "https://a b/",
            "https://a:99999/",
            "javascript:alert(1)",
        ] {
            assert_eq!(o(unparsable), None, "{unparsable}");
        }
    }

    #[test]
    fn ipv6_literals_and_paths() {
        let v6 = o("http://[::1]:9000/a").unwrap();
        assert_eq!(v6.host, "[::1]");
        assert_eq!(v6.port, 9000);
        assert_eq!(v6.as_url(), "http://[::1]:9000");
        assert_eq!(path_of("https://h/a/b?c=1"), "/a/b");
        assert_eq!(path_of("/a?x"), "/a");
        assert_eq!(path_of("https://h"), "/");
        let arm = o("https://h").unwrap();
        assert_eq!(resolve(&arm, "/next?x=1"), "https://h/next?x=1");
        assert_eq!(resolve(&arm, "https://other/next"), "https://other/next");
        assert_eq!(resolve(&arm, "//other/next"), "//other/next");
    }
}
