//! Where the store lives: a SQLite file (the embedded default), a PostgreSQL database
//! (`postgres://` or `postgresql://`), or a MySQL / MariaDB database (`mysql://`,
//! `mariadb://`): the portal's own.

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
        f.write_str(&crate::secret::mask_url(&self.0))
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({self})")
    }
}

/// A MySQL or MariaDB URL (`mysql://USER[:PASSWORD]@HOST[:PORT]/DB`, `mariadb://...`, a
/// unix socket as `?socket=/run/mysqld/mysqld.sock`). Displays without its password.
#[derive(Clone, PartialEq, Eq)]
pub struct MyUrl(String);

impl MyUrl {
    /// The URL as the client takes it (`mysql://`), password included: only for connecting.
    pub(crate) fn secret(&self) -> String {
        match self.0.split_once("://") {
            Some((_, rest)) => format!("mysql://{rest}"),
            None => self.0.clone(),
        }
    }
}

impl fmt::Display for MyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::secret::mask_url(&self.0))
    }
}

impl fmt::Debug for MyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MyUrl({self})")
    }
}

/// The store's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Postgres(PgUrl),
    Mysql(MyUrl),
}

/// The store URL schemes this build supports, for messages.
pub const SUPPORTED: &str = "a SQLite file path, postgres://USER[:PASSWORD]@HOST[:PORT]/DB (postgresql://…), mysql://USER[:PASSWORD]@HOST[:PORT]/DB (mariadb://…)";

impl Location {
    /// `postgres://…`, `postgresql://…`, `mysql://…`, `mariadb://…` is a server; a URL of another
    /// scheme is refused
    /// (its text is shown with its password masked); anything else is a file path.
    pub fn parse(s: &str) -> Result<Location, String> {
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(Location::Postgres(PgUrl(s.to_string())));
        }
        if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
            return Ok(Location::Mysql(MyUrl(s.to_string())));
        }
        if let Some((scheme, _)) = s.split_once("://")
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(format!(
                "unsupported store URL {} (scheme '{scheme}'); supported: {SUPPORTED}",
                crate::secret::mask_url(s)
            ));
        }
        Ok(Location::File(PathBuf::from(s)))
    }

    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Postgres(_) | Location::Mysql(_) => None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Postgres(u) => write!(f, "{u}"),
            Location::Mysql(u) => write!(f, "{u}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_is_shown_without_its_password() {
        let l = Location::parse("postgres://ob:s3cret@db.example:5432/portal").unwrap();
        assert_eq!(l.to_string(), "postgres://ob:***@db.example:5432/portal");
        let q = Location::parse("postgresql://db/portal?user=ob&password=s3cret").unwrap();
        assert_eq!(q.to_string(), "postgresql://db/portal?user=ob&password=***");
    }

    #[test]
    fn anything_but_a_postgres_url_is_a_file() {
        assert_eq!(
            Location::parse("storage/orderbridge.db"),
            Ok(Location::File("storage/orderbridge.db".into()))
        );
        assert!(matches!(
            Location::parse("POSTGRES://h/d"),
            Ok(Location::Postgres(_))
        ));
    }

    #[test]
    fn a_url_of_another_scheme_is_refused_without_its_password() {
        let e = Location::parse("mssql://portal:PW@db/portal").unwrap_err();
        assert!(
            e.starts_with("unsupported store URL mssql://portal:***@db/portal"),
            "{e}"
        );
        assert!(!e.contains("PW"), "{e}");
        assert!(e.contains("postgres://") && e.contains("mysql://"), "{e}");
    }

    #[test]
    fn a_mysql_or_mariadb_url_is_a_server_shown_without_its_password() {
        let l =
            Location::parse("mariadb://portal:PW@db:3306/portal?socket=/run/mysqld/mysqld.sock")
                .unwrap();
        assert_eq!(
            l.to_string(),
            "mariadb://portal:***@db:3306/portal?socket=/run/mysqld/mysqld.sock"
        );
        let Location::Mysql(u) = l else {
            panic!("not mysql")
        };
        assert!(u.secret().starts_with("mysql://portal:PW@"));
    }
}
