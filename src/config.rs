//! Settings, resolved once: flags over the environment over a `.env` file over a TOML file
//! over defaults. Every value remembers where it came from, so an error can say where to fix
//! it; secrets are held as [`Secret`] and never shown.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::odoo::{OdooConfig, ProtocolChoice};
use crate::secret::Secret;
use crate::store::Location;

/// How a setting is read and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// From a flag (if it has one), the environment, a .env or config file.
    Plain,
    /// A password, key or secret: never a flag, never shown.
    Secret,
    /// From the process environment only (it names the process, not the portal).
    ProcessEnv,
}

/// One setting: the one place each is defined, from which the reading, `config show` and
/// `--help` all come (README's table is checked against it by a test).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SettingDef {
    pub key: &'static str,
    pub flag: Option<&'static str>,
    pub kind: Kind,
    pub meaning: &'static str,
}

const fn plain(key: &'static str, flag: Option<&'static str>, meaning: &'static str) -> SettingDef {
    SettingDef {
        key,
        flag,
        kind: Kind::Plain,
        meaning,
    }
}

const fn secret(key: &'static str, meaning: &'static str) -> SettingDef {
    SettingDef {
        key,
        flag: None,
        kind: Kind::Secret,
        meaning,
    }
}

/// Every setting orderbridge reads.
pub(crate) const SETTINGS: &[SettingDef] = &[
    plain("ODOO_URL", Some("--odoo-url"), "Odoo's base URL"),
    plain("ODOO_DB", Some("--odoo-db"), "the Odoo database"),
    plain(
        "ODOO_USERNAME",
        Some("--odoo-username"),
        "the Odoo login (JSON-RPC, XML-RPC)",
    ),
    secret(
        "ODOO_PASSWORD",
        "the Odoo user's password (JSON-RPC, XML-RPC)",
    ),
    secret(
        "ODOO_API_KEY",
        "an API key: required by JSON-2, used instead of the password otherwise",
    ),
    plain(
        "ODOO_PROTOCOL",
        Some("--odoo-protocol"),
        "auto (default), json2, jsonrpc or xmlrpc",
    ),
    plain(
        "ODOO_TIMEOUT",
        Some("--odoo-timeout"),
        "seconds per Odoo request (default 30)",
    ),
    plain(
        "ORDERBRIDGE_DATABASE",
        Some("--database"),
        "the store: a SQLite file, or postgres://USER[:PASSWORD]@HOST[:PORT]/DB",
    ),
    plain(
        "ORDERBRIDGE_BUSY_TIMEOUT",
        None,
        "seconds to wait for another run's database lock (default 10)",
    ),
    plain(
        "ORDERBRIDGE_KEY_FIELD",
        None,
        "the sale.order field carrying the idempotency key (default origin)",
    ),
    plain(
        "ORDERBRIDGE_CREATE_GRACE",
        None,
        "seconds an unanswered create is only looked up, never sent again (default 180)",
    ),
    plain(
        "ORDERBRIDGE_CHANGE_OVERLAP",
        None,
        "seconds the change cursors re-read behind Odoo's clock (default 300)",
    ),
    secret(
        "ORDERBRIDGE_WEBHOOK_SECRET",
        "serve's webhook path secret (24+ URL-safe characters)",
    ),
    secret(
        "ORDERBRIDGE_API_TOKEN",
        "serve's order API: the bearer token /v1 asks over TCP (24+ characters; none: /v1 only on the unix socket)",
    ),
    plain(
        "ORDERBRIDGE_API_SOCKET",
        Some("--api-socket"),
        "serve's order API also on this unix socket, whose file permissions are its access control (no token asked)",
    ),
    plain(
        "ORDERBRIDGE_API_KEY_WAIT",
        None,
        "seconds an API request waits for another one creating the order of its idempotency key, then 409 (default 10)",
    ),
    plain(
        "ORDERBRIDGE_ODOO_CONCURRENCY",
        None,
        "serve: the most Odoo requests in flight at once (default 16)",
    ),
    plain(
        "ORDERBRIDGE_PORTAL_WEBHOOK_URL",
        None,
        "serve posts the portal's events here, signed (order.created, order.amount_changed, order.status_changed, order.conflict_opened)",
    ),
    secret(
        "ORDERBRIDGE_PORTAL_WEBHOOK_SECRET",
        "the key of the events' HMAC-SHA256 signature (header Orderbridge-Signature; 24+ characters)",
    ),
    plain(
        "ORDERBRIDGE_ORDER_DETAILS",
        None,
        "false: syncs read amounts and states only, not lines, delivery, invoicing and payment (default true)",
    ),
    plain(
        "ORDERBRIDGE_STATUS_WORDS",
        None,
        "the portal's status words: stage=word,... (stages: pending, quotation_sent, confirmed, partially_shipped, shipped, invoiced, paid, done, cancelled)",
    ),
    plain(
        "ORDERBRIDGE_STOP_TIMEOUT",
        Some("--stop-timeout"),
        "seconds serve's stop waits for requests and the poll under way, then cuts them (default 20)",
    ),
    plain(
        "ORDERBRIDGE_QUEUE_IF_UNAVAILABLE",
        Some("--queue-if-unavailable"),
        "true: queue orders while Odoo is unavailable (orders create)",
    ),
    plain(
        "ORDERBRIDGE_MAX_CHANGE",
        Some("--max-change"),
        "review threshold: 50%, 1000 or 50%,1000 (sync-amounts, serve)",
    ),
    plain(
        "DB_CONNECTION",
        None,
        "Laravel's database (with ORDERBRIDGE_DATABASE=laravel): sqlite, pgsql, mysql or mariadb",
    ),
    plain(
        "DB_URL",
        None,
        "Laravel's database as a URL; over the DB_* parts",
    ),
    plain(
        "DB_HOST",
        None,
        "Laravel's database host (default 127.0.0.1)",
    ),
    plain(
        "DB_PORT",
        None,
        "Laravel's database port (default 5432 for pgsql)",
    ),
    plain(
        "DB_DATABASE",
        None,
        "Laravel's database name, or the sqlite file (relative to the .env's folder)",
    ),
    plain("DB_USERNAME", None, "Laravel's database user"),
    secret("DB_PASSWORD", "Laravel's database password"),
    plain("DB_SOCKET", None, "Laravel's database unix socket (mysql)"),
    plain(
        "ORDERBRIDGE_CUSTOMERS_TABLE",
        None,
        "the portal's table of customers: customers (default), or users",
    ),
    SettingDef {
        key: "ORDERBRIDGE_HOST_ID",
        flag: None,
        kind: Kind::ProcessEnv,
        meaning: "the host name this process's claims and runs carry (default: the host's name)",
    },
];

/// The keys read from every source (flags, environment, .env, config file).
pub(crate) fn keys() -> impl Iterator<Item = &'static str> {
    SETTINGS
        .iter()
        .filter(|s| s.kind != Kind::ProcessEnv)
        .map(|s| s.key)
}

/// True for a key whose value is never shown.
pub(crate) fn is_secret(key: &str) -> bool {
    SETTINGS
        .iter()
        .any(|s| s.key == key && s.kind == Kind::Secret)
}

/// The settings part of `--help`, from [`SETTINGS`].
pub(crate) fn settings_help() -> String {
    let line = |d: &SettingDef| {
        let flag = d.flag.map_or(String::new(), |f| format!(" ({f})"));
        format!("  {}{flag}\n      {}\n", d.key, d.meaning)
    };
    let of = |k: Kind| -> String { SETTINGS.iter().filter(|d| d.kind == k).map(line).collect() };
    format!(
        "Settings (flag > environment > .env > config file > default; `orderbridge config show`):\n{}Secrets, never flags (a flag shows in `ps`), never printed:\n{}From the process environment only:\n{}",
        of(Kind::Plain),
        of(Kind::Secret),
        of(Kind::ProcessEnv)
    )
}

/// A settings file (`.env` syntax) with every setting described and commented out, secrets
/// empty. The package's (`packaged`) sets the one value it chooses: the store in the state
/// folder, which the system user owns.
pub(crate) fn env_template(packaged: bool) -> String {
    let mut t = String::from(
        "# orderbridge settings, KEY=value (read with --env-file).\n\
         # Precedence: flag > environment > this file > config file > default.\n\
         # Lines marked (secret) are never printed by orderbridge: keep this file readable only\n\
         # by root and the account orderbridge runs as (0640 root:orderbridge).\n",
    );
    for d in SETTINGS {
        let line = match d.kind {
            Kind::Plain => format!("\n# {}\n", d.meaning),
            Kind::Secret => format!("\n# (secret) {}\n", d.meaning),
            // Never read from a file: systemd's `Environment=` (systemctl edit) sets it.
            Kind::ProcessEnv => format!(
                "\n# {} -- from the process environment only, not this file\n# (systemctl edit: Environment={}=...)\n",
                d.meaning, d.key
            ),
        };
        t.push_str(&line);
        if packaged && d.key == "ORDERBRIDGE_DATABASE" {
            t.push_str(&format!(
                "ORDERBRIDGE_DATABASE={}\n",
                crate::systemd::packaged::DATABASE
            ));
        } else if d.kind != Kind::ProcessEnv {
            t.push_str(&format!("#{}=\n", d.key));
        }
    }
    t
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    Flag(&'static str),
    Env,
    DotEnv(PathBuf),
    Toml(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => write!(f, "flag {flag}"),
            Origin::Env => write!(f, "environment"),
            Origin::DotEnv(p) => write!(f, "{}", p.display()),
            Origin::Toml(p) => write!(f, "{}", p.display()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{key} is not set: {hint}")]
    Missing { key: &'static str, hint: String },
    #[error("{key} from {origin} is invalid: {why}")]
    Invalid {
        key: &'static str,
        origin: String,
        why: String,
    },
    #[error("cannot read {path}: {why}")]
    File { path: String, why: String },
}

/// Where to look for settings; flags are given by the CLI.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sources {
    /// Values given as flags, by key, with the flag's name.
    pub flags: Vec<(&'static str, &'static str, String)>,
    /// `--env-file`; otherwise `./.env` when it exists.
    pub env_file: Option<PathBuf>,
    /// `--config`; otherwise the platform's config dir when the file exists.
    pub config_file: Option<PathBuf>,
    /// Read the process environment (tests turn this off).
    pub ignore_process_env: bool,
}

/// The resolved settings.
#[derive(Clone, Default)]
pub(crate) struct Settings {
    values: BTreeMap<&'static str, (String, Origin)>,
    /// The .env / TOML files that were read, for messages.
    read_files: Vec<PathBuf>,
    /// Every setting parsed, once, on first use.
    typed: std::sync::OnceLock<Typed>,
}

/// Every setting parsed once into its type: a command asks for a value, never for text to
/// parse again. A missing or invalid value keeps its error (naming the key and where the
/// value came from: the provenance stays in [`Settings::get`]), which the command that
/// needs it reports; a command that does not need it never fails on it.
#[derive(Debug, Clone)]
struct Typed {
    odoo: Result<OdooConfig, ConfigError>,
    database: Result<Location, ConfigError>,
    busy_timeout: Result<Duration, ConfigError>,
    create_grace: Result<Duration, ConfigError>,
    stop_timeout: Result<Duration, ConfigError>,
    change_overlap: Result<Duration, ConfigError>,
    webhook_secret: Result<Secret, ConfigError>,
    api_token: Result<Option<Secret>, ConfigError>,
    api_socket: Option<PathBuf>,
    api_key_wait: Result<Duration, ConfigError>,
    odoo_concurrency: Result<usize, ConfigError>,
    portal_webhook: Result<Option<(String, Secret)>, ConfigError>,
    queue_if_unavailable: Result<bool, ConfigError>,
    order_details: Result<bool, ConfigError>,
    max_change: Result<crate::rules::MaxChange, ConfigError>,
    customers_table: Result<String, ConfigError>,
    key_field: Result<String, ConfigError>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, (v, o)) in &self.values {
            let shown = if is_secret(k) {
                "***".to_string()
            } else {
                v.clone()
            };
            m.entry(k, &format!("{shown} ({o})"));
        }
        m.finish()
    }
}

fn key_of(name: &str) -> Option<&'static str> {
    keys().find(|k| k.eq_ignore_ascii_case(name))
}

/// A URL's user or password, percent-encoded (RFC 3986 unreserved characters kept).
fn encode_userinfo(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The platform's default config file (`~/.config/orderbridge/config.toml` on Linux).
pub(crate) fn default_config_file() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("orderbridge").join("config.toml"))
}

/// The platform's default database (`~/.local/share/orderbridge/orderbridge.db` on Linux).
pub(crate) fn default_database() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("orderbridge")
        .join("orderbridge.db")
}

impl Settings {
    pub(crate) fn resolve(src: &Sources) -> Result<Settings, ConfigError> {
        let mut s = Settings::default();
        // Lowest precedence first; later layers overwrite.
        let toml_path = src
            .config_file
            .clone()
            .or_else(|| default_config_file().filter(|p| p.exists()));
        if let Some(p) = toml_path {
            s.read_toml(&std::path::absolute(&p).unwrap_or(p))?;
        }
        let env_path = src.env_file.clone().or_else(|| {
            let p = PathBuf::from(".env");
            p.exists().then_some(p)
        });
        if let Some(p) = env_path {
            s.read_dotenv(&std::path::absolute(&p).unwrap_or(p))?;
        }
        if !src.ignore_process_env {
            for k in keys() {
                if let Ok(v) = std::env::var(k)
                    && !v.is_empty()
                {
                    s.values.insert(k, (v, Origin::Env));
                }
            }
        }
        for (k, flag, v) in &src.flags {
            if let Some(key) = key_of(k) {
                s.values.insert(key, (v.clone(), Origin::Flag(flag)));
            }
        }
        Ok(s)
    }

    fn read_toml(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::File {
                path: path.display().to_string(),
                why: e.message().to_string(),
            })?;
        for (name, v) in table {
            let Some(key) = key_of(&name) else { continue };
            let value = match v {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                _ => {
                    return Err(ConfigError::Invalid {
                        key,
                        origin: path.display().to_string(),
                        why: "expected a string or a number".into(),
                    });
                }
            };
            self.values
                .insert(key, (value, Origin::Toml(path.to_path_buf())));
        }
        self.read_files.push(path.to_path_buf());
        Ok(())
    }

    fn read_dotenv(&mut self, path: &Path) -> Result<(), ConfigError> {
        let iter = dotenvy::from_path_iter(path).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        for item in iter {
            // A line that is not KEY=VALUE is reported without its content (it may be a secret).
            let (name, value) = item.map_err(|_| ConfigError::File {
                path: path.display().to_string(),
                why: "a line is not of the form KEY=VALUE".into(),
            })?;
            if let Some(key) = key_of(&name)
                && !value.is_empty()
            {
                self.values
                    .insert(key, (value, Origin::DotEnv(path.to_path_buf())));
            }
        }
        self.read_files.push(path.to_path_buf());
        Ok(())
    }

    /// The settings parsed, once.
    fn typed(&self) -> &Typed {
        self.typed.get_or_init(|| Typed {
            odoo: self.parse_odoo(),
            database: self.parse_database(),
            busy_timeout: self.parse_busy_timeout(),
            create_grace: self.parse_create_grace(),
            stop_timeout: self.parse_stop_timeout(),
            change_overlap: self.parse_change_overlap(),
            webhook_secret: self.parse_webhook_secret(),
            api_token: self.parse_api_token(),
            api_socket: self.parse_api_socket(),
            api_key_wait: self.parse_api_key_wait(),
            odoo_concurrency: self.parse_odoo_concurrency(),
            portal_webhook: self.parse_portal_webhook(),
            queue_if_unavailable: self.parse_queue_if_unavailable(),
            order_details: self.parse_order_details(),
            max_change: self.parse_max_change(),
            customers_table: self.parse_customers_table(),
            key_field: self.parse_key_field(),
        })
    }

    /// A value and its origin.
    pub(crate) fn get(&self, key: &str) -> Option<(&str, &Origin)> {
        self.values.get(key).map(|(v, o)| (v.as_str(), o))
    }

    fn missing(&self, key: &'static str, flag: Option<&str>) -> ConfigError {
        let mut places = vec![
            "the environment".to_string(),
            ".env (or --env-file)".to_string(),
        ];
        places.push(match default_config_file() {
            Some(p) => format!("the config file ({} or --config)", p.display()),
            None => "a config file (--config)".to_string(),
        });
        if let Some(f) = flag {
            places.push(format!("the {f} flag"));
        }
        ConfigError::Missing {
            key,
            hint: format!("set it in {}", places.join(", ")),
        }
    }

    fn required(&self, key: &'static str, flag: Option<&str>) -> Result<String, ConfigError> {
        self.get(key)
            .map(|(v, _)| v.to_string())
            .ok_or_else(|| self.missing(key, flag))
    }

    fn invalid(&self, key: &'static str, why: String) -> ConfigError {
        ConfigError::Invalid {
            key,
            origin: self
                .get(key)
                .map(|(_, o)| o.to_string())
                .unwrap_or_default(),
            why,
        }
    }

    /// The Odoo connection settings; names the first missing or invalid key.
    pub(crate) fn odoo(&self) -> Result<OdooConfig, ConfigError> {
        self.typed().odoo.clone()
    }

    /// Parses [`Settings::odoo`].
    fn parse_odoo(&self) -> Result<OdooConfig, ConfigError> {
        let url = self.required("ODOO_URL", Some("--odoo-url"))?;
        // The web client's address is not the API's: /odoo/... answers the CSRF-protected
        // web routes, and the error ("invalid CSRF token") would not say why.
        let trimmed = url.trim().trim_end_matches('/');
        for suffix in ["/odoo", "/web"] {
            if let Some(base) = trimmed.strip_suffix(suffix) {
                return Err(self.invalid(
                    "ODOO_URL",
                    format!("'{trimmed}' ends in {suffix}: use the server's base URL, '{base}'"),
                ));
            }
        }
        let protocol = match self.get("ODOO_PROTOCOL") {
            Some((v, _)) => v
                .parse::<ProtocolChoice>()
                .map_err(|e| self.invalid("ODOO_PROTOCOL", e))?,
            None => ProtocolChoice::Auto,
        };
        let api_key = self.get("ODOO_API_KEY").map(|(v, _)| Secret::new(v));
        let password = self.get("ODOO_PASSWORD").map(|(v, _)| Secret::new(v));
        let json2 = protocol == ProtocolChoice::Fixed(crate::odoo::Protocol::Json2);
        if json2 && api_key.is_none() {
            return Err(self.missing("ODOO_API_KEY", None));
        }
        // JSON-2 needs neither a login nor a database name (one-database servers).
        let db = if json2 {
            self.get("ODOO_DB")
                .map(|(v, _)| v.to_string())
                .unwrap_or_default()
        } else {
            self.required("ODOO_DB", Some("--odoo-db"))?
        };
        let login = if json2 {
            self.get("ODOO_USERNAME")
                .map(|(v, _)| v.to_string())
                .unwrap_or_default()
        } else {
            self.required("ODOO_USERNAME", Some("--odoo-username"))?
        };
        if !json2 && api_key.is_none() && password.is_none() {
            return Err(self.missing("ODOO_PASSWORD", None));
        }
        let timeout = match self.get("ODOO_TIMEOUT") {
            Some((v, _)) => {
                let secs: f64 = v.trim().trim_end_matches('s').parse().map_err(|_| {
                    self.invalid("ODOO_TIMEOUT", format!("'{v}' is not a number of seconds"))
                })?;
                if !(secs > 0.0 && secs <= 3600.0) {
                    return Err(self.invalid(
                        "ODOO_TIMEOUT",
                        format!("{v} is not between 0 and 3600 seconds"),
                    ));
                }
                Duration::from_secs_f64(secs)
            }
            None => Duration::from_secs(30),
        };
        Ok(OdooConfig {
            url,
            db,
            login,
            password,
            api_key,
            protocol,
            timeout,
        })
    }

    /// A duration setting in seconds (`30`, `30s`) within `min..=max` (`whole`: no
    /// fraction); `default` when unset.
    fn seconds(
        &self,
        key: &'static str,
        (min, max): (f64, f64),
        whole: bool,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        let Some((v, _)) = self.get(key) else {
            return Ok(default);
        };
        v.trim()
            .trim_end_matches('s')
            .parse::<f64>()
            .ok()
            .filter(|s| (min..=max).contains(s) && (!whole || s.fract() == 0.0))
            .map(Duration::from_secs_f64)
            .ok_or_else(|| {
                let kind = if whole { "a whole number" } else { "a number" };
                self.invalid(
                    key,
                    format!("'{v}' is not {kind} of seconds from {min} to {max}"),
                )
            })
    }

    /// How long to wait for another run's lock on the database (default 10 s).
    pub(crate) fn busy_timeout(&self) -> Result<Duration, ConfigError> {
        self.typed().busy_timeout.clone()
    }

    /// Parses [`Settings::busy_timeout`].
    fn parse_busy_timeout(&self) -> Result<Duration, ConfigError> {
        self.seconds(
            "ORDERBRIDGE_BUSY_TIMEOUT",
            (0.0, 3600.0),
            false,
            Duration::from_secs(10),
        )
    }

    /// How long after an unanswered create request Odoo may still be working on it (default
    /// 180 s: Odoo's default `limit_time_real` of 120 s, after which its worker is killed and
    /// the transaction rolled back, plus a minute for the commit and clocks that differ).
    pub(crate) fn create_grace(&self) -> Result<Duration, ConfigError> {
        self.typed().create_grace.clone()
    }

    /// Parses [`Settings::create_grace`].
    fn parse_create_grace(&self) -> Result<Duration, ConfigError> {
        self.seconds(
            "ORDERBRIDGE_CREATE_GRACE",
            (0.0, 86_400.0),
            false,
            Duration::from_secs(180),
        )
    }

    /// How long `serve`'s stop waits for the work under way (default 20 s: well inside
    /// systemd's 90 s and the packaged unit's 60 s).
    pub(crate) fn stop_timeout(&self) -> Result<Duration, ConfigError> {
        self.typed().stop_timeout.clone()
    }

    /// Parses [`Settings::stop_timeout`].
    fn parse_stop_timeout(&self) -> Result<Duration, ConfigError> {
        self.seconds(
            "ORDERBRIDGE_STOP_TIMEOUT",
            (1.0, 3600.0),
            true,
            Duration::from_secs(20),
        )
    }

    /// How far before the change cursor `--changed` re-reads (default 300 s): Odoo stamps a
    /// change with the time its transaction started, and one may commit up to its request
    /// time limit (120 s by default) later.
    pub(crate) fn change_overlap(&self) -> Result<Duration, ConfigError> {
        self.typed().change_overlap.clone()
    }

    /// Parses [`Settings::change_overlap`].
    fn parse_change_overlap(&self) -> Result<Duration, ConfigError> {
        self.seconds(
            "ORDERBRIDGE_CHANGE_OVERLAP",
            (0.0, 86_400.0),
            true,
            Duration::from_secs(300),
        )
    }

    /// The secret of `serve`'s webhook path, `/odoo/webhook/<secret>`: Odoo signs nothing,
    /// so the URL is the only credential. At least 24 URL-safe characters.
    pub(crate) fn webhook_secret(&self) -> Result<Secret, ConfigError> {
        self.typed().webhook_secret.clone()
    }

    /// Parses [`Settings::webhook_secret`].
    fn parse_webhook_secret(&self) -> Result<Secret, ConfigError> {
        let key = "ORDERBRIDGE_WEBHOOK_SECRET";
        let Some((v, _)) = self.get(key) else {
            return Err(ConfigError::Missing {
                key,
                hint: "set it (e.g. to the output of `openssl rand -hex 24`) in the environment, .env or config file; Odoo posts to /odoo/webhook/<secret>".into(),
            });
        };
        let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~');
        if v.len() < 24 || !v.chars().all(safe) {
            return Err(self.invalid(
                key,
                "it must be at least 24 characters of A-Z a-z 0-9 - _ . ~ (e.g. `openssl rand -hex 24`)".into(),
            ));
        }
        Ok(Secret::new(v.to_string()))
    }

    /// `orders create` queues instead of failing when Odoo is unavailable (default false).
    /// A secret of at least 24 characters, or `None` when unset.
    fn long_secret(&self, key: &'static str) -> Result<Option<Secret>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some((v, _)) if v.trim().len() < 24 => Err(self.invalid(
                key,
                "it must be at least 24 characters (e.g. `openssl rand -hex 24`)".into(),
            )),
            Some((v, _)) => Ok(Some(Secret::new(v.trim().to_string()))),
        }
    }

    /// The order API's bearer token (`None`: /v1 answers only on the unix socket).
    pub(crate) fn api_token(&self) -> Result<Option<Secret>, ConfigError> {
        self.typed().api_token.clone()
    }

    /// Parses [`Settings::api_token`].
    fn parse_api_token(&self) -> Result<Option<Secret>, ConfigError> {
        self.long_secret("ORDERBRIDGE_API_TOKEN")
    }

    pub(crate) fn api_socket(&self) -> Option<PathBuf> {
        self.typed().api_socket.clone()
    }

    fn parse_api_socket(&self) -> Option<PathBuf> {
        self.get("ORDERBRIDGE_API_SOCKET")
            .map(|(v, _)| v.trim())
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }

    /// How long an API request waits for another one with its key (default 10 s).
    pub(crate) fn api_key_wait(&self) -> Result<Duration, ConfigError> {
        self.typed().api_key_wait.clone()
    }

    /// Parses [`Settings::api_key_wait`].
    fn parse_api_key_wait(&self) -> Result<Duration, ConfigError> {
        self.seconds(
            "ORDERBRIDGE_API_KEY_WAIT",
            (0.0, 600.0),
            false,
            Duration::from_secs(10),
        )
    }

    /// The most Odoo requests `serve` has in flight at once (default 16).
    pub(crate) fn odoo_concurrency(&self) -> Result<usize, ConfigError> {
        self.typed().odoo_concurrency.clone()
    }

    /// Parses [`Settings::odoo_concurrency`].
    fn parse_odoo_concurrency(&self) -> Result<usize, ConfigError> {
        let key = "ORDERBRIDGE_ODOO_CONCURRENCY";
        match self.get(key) {
            None => Ok(16),
            Some((v, _)) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1024).contains(n))
                .ok_or_else(|| {
                    self.invalid(key, format!("'{v}' is not a whole number from 1 to 1024"))
                }),
        }
    }

    /// Where events are posted, and the key they are signed with: both, or neither.
    pub(crate) fn portal_webhook(&self) -> Result<Option<(String, Secret)>, ConfigError> {
        self.typed().portal_webhook.clone()
    }

    /// Parses [`Settings::portal_webhook`].
    fn parse_portal_webhook(&self) -> Result<Option<(String, Secret)>, ConfigError> {
        let url = self
            .get("ORDERBRIDGE_PORTAL_WEBHOOK_URL")
            .map(|(v, _)| v.trim().to_string())
            .filter(|v| !v.is_empty());
        let secret = self.long_secret("ORDERBRIDGE_PORTAL_WEBHOOK_SECRET")?;
        match (url, secret) {
            (None, _) => Ok(None),
            (Some(url), Some(secret)) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(self.invalid(
                        "ORDERBRIDGE_PORTAL_WEBHOOK_URL",
                        format!("'{url}' is not an http:// or https:// URL"),
                    ));
                }
                Ok(Some((url, secret)))
            }
            (Some(_), None) => Err(ConfigError::Missing {
                key: "ORDERBRIDGE_PORTAL_WEBHOOK_SECRET",
                hint: "events are signed: set it (e.g. to the output of `openssl rand -hex 32`) and give the portal the same value".into(),
            }),
        }
    }

    pub(crate) fn queue_if_unavailable(&self) -> Result<bool, ConfigError> {
        self.typed().queue_if_unavailable.clone()
    }

    fn parse_queue_if_unavailable(&self) -> Result<bool, ConfigError> {
        self.flag("ORDERBRIDGE_QUEUE_IF_UNAVAILABLE", false)
    }

    /// A true/false setting (`1`, `yes`, `on` ...; empty is false); `default` when unset.
    fn flag(&self, key: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key).map(|(v, _)| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) => match v.as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" | "" => Ok(false),
                _ => Err(self.invalid(key, format!("'{v}' is not true or false"))),
            },
        }
    }

    /// Whether syncs read the whole order (lines, delivery, invoicing, payment) or only its
    /// amount and state (`ORDERBRIDGE_ORDER_DETAILS=false`: a round trip less per chunk).
    pub(crate) fn order_details(&self) -> Result<bool, ConfigError> {
        self.typed().order_details.clone()
    }

    /// Parses [`Settings::order_details`].
    fn parse_order_details(&self) -> Result<bool, ConfigError> {
        self.flag("ORDERBRIDGE_ORDER_DETAILS", true)
    }

    /// The review threshold of amount changes (default none: every change is applied).
    pub(crate) fn max_change(&self) -> Result<crate::rules::MaxChange, ConfigError> {
        self.typed().max_change.clone()
    }

    /// Parses [`Settings::max_change`].
    fn parse_max_change(&self) -> Result<crate::rules::MaxChange, ConfigError> {
        let key = "ORDERBRIDGE_MAX_CHANGE";
        match self.get(key) {
            None => Ok(Default::default()),
            Some((v, _)) => crate::rules::MaxChange::parse(v).map_err(|why| self.invalid(key, why)),
        }
    }

    /// The portal's status words (`ORDERBRIDGE_STATUS_WORDS`), read once for the process:
    /// every sync of a run names the stages alike.
    pub(crate) fn status_words(&self) -> Result<&'static crate::rules::StatusWords, ConfigError> {
        static WORDS: std::sync::OnceLock<crate::rules::StatusWords> = std::sync::OnceLock::new();
        if let Some(w) = WORDS.get() {
            return Ok(w);
        }
        let key = "ORDERBRIDGE_STATUS_WORDS";
        let words = match self.get(key) {
            None => crate::rules::StatusWords::default(),
            Some((v, _)) => {
                crate::rules::StatusWords::parse(v).map_err(|why| self.invalid(key, why))?
            }
        };
        Ok(WORDS.get_or_init(|| words))
    }

    /// The portal's table of customers (`ORDERBRIDGE_CUSTOMERS_TABLE`): a plain table name.
    pub(crate) fn customers_table(&self) -> Result<String, ConfigError> {
        self.typed().customers_table.clone()
    }

    /// Parses [`Settings::customers_table`].
    fn parse_customers_table(&self) -> Result<String, ConfigError> {
        let key = "ORDERBRIDGE_CUSTOMERS_TABLE";
        let v = self
            .get(key)
            .map_or(crate::store::DEFAULT_CUSTOMERS, |(v, _)| v)
            .trim()
            .to_string();
        let plain = v
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && v.len() <= 64;
        if !plain {
            return Err(self.invalid(key, format!("'{v}' is not a table name")));
        }
        Ok(v)
    }

    /// The sale.order field that carries the idempotency key (default `origin`, the
    /// "Source Document"; `client_order_ref` stays free for the customer's PO number).
    pub(crate) fn key_field(&self) -> Result<String, ConfigError> {
        self.typed().key_field.clone()
    }

    /// Parses [`Settings::key_field`].
    fn parse_key_field(&self) -> Result<String, ConfigError> {
        let v = self
            .get("ORDERBRIDGE_KEY_FIELD")
            .map_or("origin", |(v, _)| v)
            .trim()
            .to_string();
        if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(self.invalid(
                "ORDERBRIDGE_KEY_FIELD",
                format!("'{v}' is not a field name"),
            ));
        }
        Ok(v)
    }

    /// The store: a `postgres://` URL, or the SQLite file's path. A relative path from a
    /// .env or config file is relative to that file's folder (as Laravel reads it),
    /// whatever folder the command runs in.
    pub(crate) fn database(&self) -> Result<Location, ConfigError> {
        self.typed().database.clone()
    }

    /// Parses [`Settings::database`].
    fn parse_database(&self) -> Result<Location, ConfigError> {
        Ok(match self.get("ORDERBRIDGE_DATABASE") {
            Some((v, _)) if v.trim().eq_ignore_ascii_case("laravel") => self.laravel_database()?,
            Some((v, origin)) => {
                match Location::parse(v).map_err(|why| self.invalid("ORDERBRIDGE_DATABASE", why))? {
                    Location::File(p) if p.is_relative() => match origin {
                        Origin::DotEnv(file) | Origin::Toml(file) => {
                            Location::File(file.parent().unwrap_or(Path::new(".")).join(p))
                        }
                        _ => Location::File(p),
                    },
                    location => location,
                }
            }
            None => Location::File(default_database()),
        })
    }

    /// Where the store's setting came from, for messages and `config show`: the setting's
    /// origin, and for `laravel` which of Laravel's keys decided.
    pub(crate) fn database_source(&self) -> String {
        match self.get("ORDERBRIDGE_DATABASE") {
            None => "the default location".to_string(),
            Some((v, origin)) if v.trim().eq_ignore_ascii_case("laravel") => {
                let decided = match self.get("DB_URL") {
                    Some((_, o)) => format!("DB_URL from {o}"),
                    None => match self.get("DB_CONNECTION") {
                        Some((c, o)) => format!("DB_CONNECTION={c} and its DB_* keys from {o}"),
                        None => "DB_CONNECTION, which is not set".to_string(),
                    },
                };
                format!("ORDERBRIDGE_DATABASE=laravel from {origin}: Laravel's {decided}")
            }
            Some((_, origin)) => origin.to_string(),
        }
    }

    /// The database a Laravel portal's settings describe (`DB_URL`, else `DB_CONNECTION`
    /// and its `DB_*` keys), as Laravel reads them: a relative sqlite path is relative to the
    /// app's folder (the .env's).
    fn laravel_database(&self) -> Result<Location, ConfigError> {
        let app_dir = |key: &str| match self.get(key).map(|(_, o)| o) {
            Some(Origin::DotEnv(f) | Origin::Toml(f)) => {
                f.parent().unwrap_or(Path::new(".")).to_path_buf()
            }
            _ => PathBuf::from("."),
        };
        if let Some((url, _)) = self.get("DB_URL") {
            let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
            return match scheme.to_ascii_lowercase().as_str() {
                "pgsql" | "postgres" | "postgresql" => {
                    Location::parse(&format!("postgres://{rest}"))
                        .map_err(|why| self.invalid("DB_URL", why))
                }
                "sqlite" => Ok(Location::File(app_dir("DB_URL").join(rest))),
                "mysql" | "mariadb" => Location::parse(&format!("mysql://{rest}"))
                    .map_err(|why| self.invalid("DB_URL", why)),
                other => Err(self.unsupported_laravel("DB_URL", other)),
            };
        }
        let Some((connection, _)) = self.get("DB_CONNECTION") else {
            return Err(ConfigError::Missing {
                key: "DB_CONNECTION",
                hint: "ORDERBRIDGE_DATABASE=laravel reads the portal's database from its .env (--env-file): DB_CONNECTION and its DB_* keys, or DB_URL".into(),
            });
        };
        let part = |key: &str, default: &str| {
            self.get(key)
                .map_or(default.to_string(), |(v, _)| v.trim().to_string())
        };
        match connection.trim().to_ascii_lowercase().as_str() {
            "sqlite" => {
                let file = part("DB_DATABASE", "database/database.sqlite");
                if file == ":memory:" {
                    return Err(self.invalid(
                        "DB_DATABASE",
                        "an in-memory sqlite database keeps nothing between runs".into(),
                    ));
                }
                let path = PathBuf::from(&file);
                Ok(Location::File(if path.is_relative() {
                    app_dir(if self.get("DB_DATABASE").is_some() {
                        "DB_DATABASE"
                    } else {
                        "DB_CONNECTION"
                    })
                    .join(path)
                } else {
                    path
                }))
            }
            "pgsql" => {
                let user = part("DB_USERNAME", "root");
                let password = self
                    .get("DB_PASSWORD")
                    .map(|(p, _)| format!(":{}", encode_userinfo(p)))
                    .unwrap_or_default();
                let url = format!(
                    "postgres://{}{password}@{}:{}/{}",
                    encode_userinfo(&user),
                    part("DB_HOST", "127.0.0.1"),
                    part("DB_PORT", "5432"),
                    part("DB_DATABASE", "laravel")
                );
                Location::parse(&url).map_err(|why| self.invalid("DB_CONNECTION", why))
            }
            "mysql" | "mariadb" => {
                let user = part("DB_USERNAME", "root");
                let password = self
                    .get("DB_PASSWORD")
                    .map(|(p, _)| format!(":{}", encode_userinfo(p)))
                    .unwrap_or_default();
                let socket = self
                    .get("DB_SOCKET")
                    .map(|(s, _)| format!("?socket={}", s.trim()))
                    .unwrap_or_default();
                let url = format!(
                    "mysql://{}{password}@{}:{}/{}{socket}",
                    encode_userinfo(&user),
                    part("DB_HOST", "127.0.0.1"),
                    part("DB_PORT", "3306"),
                    part("DB_DATABASE", "laravel")
                );
                Location::parse(&url).map_err(|why| self.invalid("DB_CONNECTION", why))
            }
            other => Err(self.unsupported_laravel("DB_CONNECTION", other)),
        }
    }

    fn unsupported_laravel(&self, key: &'static str, what: &str) -> ConfigError {
        self.invalid(
            key,
            format!(
                "'{what}' is none of the connections orderbridge can use (sqlite, pgsql, mysql, mariadb)"
            ),
        )
    }

    /// A setting's value as it may be shown: a secret as `***`, a URL with its password
    /// masked.
    pub(crate) fn shown(&self, key: &str) -> Option<String> {
        let (v, _) = self.get(key)?;
        Some(if is_secret(key) {
            "***".to_string()
        } else {
            crate::secret::mask_url(v)
        })
    }

    /// The keys whose values came from the process environment.
    pub(crate) fn keys_from_environment(&self) -> Vec<&'static str> {
        self.values
            .iter()
            .filter(|(_, (_, o))| *o == Origin::Env)
            .map(|(k, _)| *k)
            .collect()
    }

    /// The .env and config files read, as absolute paths (for `schedule`).
    pub(crate) fn files_read(&self) -> &[PathBuf] {
        &self.read_files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(dir: &Path) -> Sources {
        Sources {
            env_file: Some(dir.join(".env")),
            config_file: Some(dir.join("config.toml")),
            ignore_process_env: true,
            ..Sources::default()
        }
    }

    #[test]
    fn flags_beat_dotenv_which_beats_toml() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "odoo_url = \"http://toml\"\nODOO_DB = \"tomldb\"\nodoo_timeout = 5\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "ODOO_URL=http://dotenv\nAPP_KEY=ignored\n",
        )
        .unwrap();
        let mut src = sources(dir.path());
        let s = Settings::resolve(&src).unwrap();
        assert_eq!(s.get("ODOO_URL").unwrap().0, "http://dotenv");
        assert_eq!(s.get("ODOO_DB").unwrap().0, "tomldb");
        assert_eq!(s.get("ODOO_TIMEOUT").unwrap().0, "5");
        src.flags
            .push(("ODOO_URL", "--odoo-url", "http://flag".into()));
        let s = Settings::resolve(&src).unwrap();
        assert_eq!(
            s.get("ODOO_URL").unwrap(),
            ("http://flag", &Origin::Flag("--odoo-url"))
        );
    }

    #[test]
    fn missing_key_names_the_key_and_where_to_set_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "ODOO_URL=http://x\n").unwrap();
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        let s = Settings::resolve(&sources(dir.path())).unwrap();
        let e = s.odoo().unwrap_err().to_string();
        assert!(e.starts_with("ODOO_DB is not set: set it in"), "{e}");
        assert!(e.contains("--odoo-db"), "{e}");
    }

    #[test]
    fn a_bad_value_fails_only_what_needs_it_and_names_its_origin() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "ORDERBRIDGE_BUSY_TIMEOUT=soon\nORDERBRIDGE_ODOO_CONCURRENCY=4\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        let s = Settings::resolve(&sources(dir.path())).unwrap();
        assert_eq!(s.odoo_concurrency().unwrap(), 4);
        let e = s.busy_timeout().unwrap_err().to_string();
        assert!(
            e.contains("ORDERBRIDGE_BUSY_TIMEOUT") && e.contains(".env"),
            "{e}"
        );
        // Parsed once: asked again, the same answer, from the typed settings.
        assert_eq!(s.busy_timeout().unwrap_err().to_string(), e);
        assert!(s.typed.get().is_some());
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "ODOO_PASSWORD=hunter2\nODOO_API_KEY=abcdef123\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        let s = Settings::resolve(&sources(dir.path())).unwrap();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("abcdef123"),
            "{shown}"
        );
    }

    #[test]
    fn bad_timeout_is_reported_with_its_origin() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "ODOO_URL=http://x\nODOO_DB=d\nODOO_USERNAME=u\nODOO_PASSWORD=p\nODOO_TIMEOUT=soon\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        let e = Settings::resolve(&sources(dir.path()))
            .unwrap()
            .odoo()
            .unwrap_err()
            .to_string();
        assert!(e.contains("ODOO_TIMEOUT") && e.contains(".env"), "{e}");
    }

    #[test]
    fn json2_needs_only_url_and_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "ODOO_URL=http://x\nODOO_PROTOCOL=json2\nODOO_API_KEY=k\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        let cfg = Settings::resolve(&sources(dir.path()))
            .unwrap()
            .odoo()
            .unwrap();
        assert_eq!(
            cfg.protocol,
            ProtocolChoice::Fixed(crate::odoo::Protocol::Json2)
        );
    }
}
