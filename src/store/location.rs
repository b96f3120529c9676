//! Where the store lives: a SQLite file (the embedded default) or a PostgreSQL database
//! (`postgres://` or `postgresql://`), for portals on several hosts.

use std::fmt;
use std::path::PathBuf;

/// A PostgreSQL URL. Displays without its password: it is shown in errors and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl(String);

impl PgUrl {
    /// The URL as given, password included: only for connecting.
    pub(crate) fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // scheme://user:password@host/db → scheme://user:***@host/db
        if let Some((scheme, rest)) = self.0.split_once("://")
            && let Some((userinfo, host)) = rest.rsplit_once('@')
            && let Some((user, _)) = userinfo.split_once(':')
        {
            return write!(f, "{scheme}://{user}:***@{host}");
        }
        // Query parameters may carry a password too (`?password=`).
        match self.0.split_once('?') {
            Some((base, q)) if q.to_ascii_lowercase().contains("password") => {
                write!(f, "{base}?***")
            }
            _ => f.write_str(&self.0),
        }
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({self})")
    }
}

/// The store's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Postgres(PgUrl),
}

impl Location {
    /// `postgres://…` / `postgresql://…` is a server; anything else a file path.
    pub fn parse(s: &str) -> Location {
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Location::Postgres(PgUrl(s.to_string()))
        } else {
            Location::File(PathBuf::from(s))
        }
    }

    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Postgres(u) => write!(f, "{u}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_is_shown_without_its_password() {
        let l = Location::parse("postgres://ob:s3cret@db.example:5432/portal");
        assert_eq!(l.to_string(), "postgres://ob:***@db.example:5432/portal");
        let q = Location::parse("postgresql://db/portal?user=ob&password=s3cret");
        assert_eq!(q.to_string(), "postgresql://db/portal?***");
    }

    #[test]
    fn anything_but_a_postgres_url_is_a_file() {
        assert_eq!(
            Location::parse("storage/orderbridge.db"),
            Location::File("storage/orderbridge.db".into())
        );
        assert!(matches!(
            Location::parse("POSTGRES://h/d"),
            Location::Postgres(_)
        ));
    }
}
