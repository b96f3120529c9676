//! A password or API key: usable by the code that needs it, invisible everywhere else.

use std::fmt;

/// Holds a secret; `Debug` and `Display` print `***` so it cannot leak into output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one place that sends it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A URL as it may be shown: the userinfo's password and any query parameter that names a
/// password, key or secret replaced by `***` (`mysql://portal:***@db/portal`). Text that is
/// not a URL is returned as it is.
pub(crate) fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (base, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    // The authority ends at the first '/'; its last '@' ends the userinfo.
    let (authority, path) = base.split_at(base.find('/').unwrap_or(base.len()));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let mut out = format!("{scheme}://{authority}{path}");
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if secret_name(k) => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// A setting or parameter name that holds a secret (`password`, `api_key`, `DB_PASSWORD`).
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["pass", "secret", "key", "token"]
        .iter()
        .any(|w| n.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_urls_password_is_masked() {
        assert_eq!(
            mask_url("mysql://portal:PW@db.example:3306/portal"),
            "mysql://portal:***@db.example:3306/portal"
        );
        assert_eq!(
            mask_url("postgresql://db/portal?user=ob&password=s3cret"),
            "postgresql://db/portal?user=ob&password=***"
        );
        assert_eq!(
            mask_url("postgres://ob@db/portal"),
            "postgres://ob@db/portal"
        );
        assert_eq!(mask_url("storage/orderbridge.db"), "storage/orderbridge.db");
    }

    #[test]
    fn an_at_sign_in_the_password_is_masked_whole() {
        assert_eq!(mask_url("mysql://u:p@ss@h/d"), "mysql://u:***@h/d");
    }

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(s.expose(), "hunter2");
    }
}
