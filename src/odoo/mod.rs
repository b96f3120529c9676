//! The Odoo client: one API over JSON-2, JSON-RPC and XML-RPC.
//!
//! [`OdooClient`] is what the rest of the crate uses. It picks the protocol, authenticates
//! once per run (a password check costs Odoo about a second), and turns every answer into
//! a [`Value`] or a typed [`OdooError`]. (Over 500 lines: the session — protocol choice,
//! version, login — and the typed calls that use it belong together; the call shapes,
//! protocols and transport live in their own files.)

mod call;
pub(crate) mod details;
mod dialect;
pub(crate) mod error;
mod json2;
mod jsonrpc;
pub(crate) mod models;
mod transport;
pub(crate) mod value;
pub(crate) mod xmlrpc;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::OnceCell;

pub use call::{Call, SearchOpts};
pub use dialect::Dialect;
pub use error::{FaultKind, OdooError, TransportKind};
pub use models::{Partner, SaleOrder, order_state};
pub use value::{Record, Value, domain};

use crate::secret::Secret;
use transport::Http;

/// The wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Json2,
    JsonRpc,
    XmlRpc,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Json2 => "json2",
            Protocol::JsonRpc => "jsonrpc",
            Protocol::XmlRpc => "xmlrpc",
        })
    }
}

/// `ODOO_PROTOCOL`: a fixed protocol, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolChoice {
    /// JSON-2 when the server is Odoo 19+ and an API key is configured, else JSON-RPC.
    Auto,
    Fixed(Protocol),
}

impl FromStr for ProtocolChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(ProtocolChoice::Auto),
            "json2" | "json-2" => Ok(ProtocolChoice::Fixed(Protocol::Json2)),
            "jsonrpc" | "json-rpc" => Ok(ProtocolChoice::Fixed(Protocol::JsonRpc)),
            "xmlrpc" | "xml-rpc" => Ok(ProtocolChoice::Fixed(Protocol::XmlRpc)),
            other => Err(format!(
                "'{other}' is not one of auto, json2, jsonrpc, xmlrpc"
            )),
        }
    }
}

/// Everything the client needs to reach and log in to Odoo.
#[derive(Debug, Clone)]
pub struct OdooConfig {
    pub url: String,
    pub db: String,
    pub login: String,
    pub password: Option<Secret>,
    pub api_key: Option<Secret>,
    pub protocol: ProtocolChoice,
    pub timeout: Duration,
}

/// What the server says about itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerVersion {
    pub server_version: String,
    pub major: u32,
}

/// Who the client is to Odoo: the database, login and secrets the protocol adapters send.
pub(crate) struct Credentials {
    pub db: String,
    pub login: String,
    pub api_key: Option<Secret>,
    /// Password, or API key used as password (RPC protocols accept either).
    pub rpc_secret: Option<Secret>,
}

impl Credentials {
    fn login_shown(&self) -> String {
        if self.login.is_empty() {
            "(API key)".to_string()
        } else {
            self.login.clone()
        }
    }
}

/// The protocol and server version settled on at the first call.
#[derive(Debug, Clone)]
pub struct Session {
    pub protocol: Protocol,
    pub version: ServerVersion,
}

/// Where a client remembers the uid Odoo gave its login, across runs: Odoo caches a checked
/// (uid, password) pair, but never an `authenticate`, which costs it a PBKDF2 check (most of
/// a second) on every call. Best effort: what cannot be recalled is asked again.
pub trait LoginMemory: Send + Sync {
    /// The uid given to this server, database and login before, if known.
    fn recall(&self) -> Option<i64>;
    /// Remembers the uid `authenticate` gave.
    fn remember(&self, uid: i64);
    /// The modules this server was found to lack (`sale_stock`), when checked lately.
    fn recall_missing(&self) -> Option<Vec<String>> {
        None
    }
    /// Remembers what the server lacks (also for `status`).
    fn remember_missing(&self, _missing: &[&str]) {}
}

/// Why [`OdooClient::create_read`] failed.
#[derive(Debug)]
pub enum CreateReadError {
    /// The create itself failed (it may still have happened: see
    /// [`OdooError::outcome_unknown`]).
    Create(OdooError),
    /// The record was created (its id, when known) but could not be read back.
    ReadBack { id: Option<i64>, cause: OdooError },
}

pub struct OdooClient {
    http: Http,
    creds: Credentials,
    choice: ProtocolChoice,
    session: OnceCell<Session>,
    /// The user's id (0: not known yet). Over JSON-RPC and XML-RPC it is sent with every
    /// call; a remembered one is used until Odoo refuses it.
    uid: AtomicI64,
    /// Odoo accepted the uid in this run (or `authenticate` gave it).
    uid_checked: AtomicBool,
    /// One login at a time when a remembered uid is refused by calls in flight.
    relogin: tokio::sync::Mutex<()>,
    memory: Option<Arc<dyn LoginMemory>>,
    /// What the server offers of the whole order, asked once.
    features: OnceCell<details::Features>,
    /// At most this many calls in flight (a process serving many requests).
    in_flight: Option<Arc<tokio::sync::Semaphore>>,
}

impl OdooClient {
    pub fn new(cfg: &OdooConfig) -> Result<Self, OdooError> {
        if cfg.url.trim().is_empty() {
            return Err(OdooError::Config("ODOO_URL is empty".into()));
        }
        let http = Http::new(&cfg.url, cfg.timeout)?;
        let rpc_secret = cfg.api_key.clone().or_else(|| cfg.password.clone());
        Ok(OdooClient {
            http,
            creds: Credentials {
                db: cfg.db.clone(),
                login: cfg.login.clone(),
                api_key: cfg.api_key.clone(),
                rpc_secret,
            },
            choice: cfg.protocol,
            session: OnceCell::new(),
            uid: AtomicI64::new(0),
            uid_checked: AtomicBool::new(false),
            relogin: tokio::sync::Mutex::new(()),
            memory: None,
            features: OnceCell::new(),
            in_flight: None,
        })
    }

    /// Lets at most `n` calls be in flight at once; the others wait their turn. A server
    /// under a burst keeps Odoo's workers for the ERP's own users.
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.in_flight = Some(Arc::new(tokio::sync::Semaphore::new(n.max(1))));
        self
    }

    /// Remembers the login's uid across runs in `memory`: a run logs in only when Odoo
    /// refuses the remembered uid (password changed, user gone).
    pub fn with_login_memory(mut self, memory: Arc<dyn LoginMemory>) -> Self {
        self.memory = Some(memory);
        self
    }

    /// HTTP requests made so far (the round trips a run cost).
    pub fn round_trips(&self) -> u64 {
        self.http.round_trips()
    }

    pub fn url(&self) -> &str {
        self.http.shown_url()
    }

    /// Odoo's clock at its last answer (the HTTP `Date` header), if it sends one.
    pub fn server_clock(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.http.server_clock()
    }

    pub fn db(&self) -> &str {
        &self.creds.db
    }

    /// Settles the protocol, learns the server version and (over JSON-RPC and XML-RPC) the
    /// uid, once; later calls reuse the session. One round trip with a remembered uid or over
    /// JSON-2 (whose API key is checked on every call), two with a login.
    pub async fn session(&self) -> Result<&Session, OdooError> {
        self.session
            .get_or_try_init(|| self.open_session())
            .await
            .map_err(|e| self.redacted(e))
    }

    /// Every configured secret out of an error's server texts: nothing the server says is
    /// printed, logged or stored with a password or key in it.
    fn redacted(&self, e: OdooError) -> OdooError {
        let secrets: Vec<&str> = [&self.creds.api_key, &self.creds.rpc_secret]
            .into_iter()
            .flatten()
            .map(Secret::expose)
            .collect();
        e.redacted(&secrets)
    }

    async fn open_session(&self) -> Result<Session, OdooError> {
        let (protocol, version) = match self.choice {
            ProtocolChoice::Auto => {
                // common.version over JSON-RPC answers on every version from 16 to 19.
                let v = self.version_via(Protocol::JsonRpc).await?;
                let p = if Dialect::of(&v).has_json2() && self.creds.api_key.is_some() {
                    Protocol::Json2
                } else {
                    Protocol::JsonRpc
                };
                (p, v)
            }
            ProtocolChoice::Fixed(Protocol::Json2) => {
                (Protocol::Json2, self.json2_version().await?)
            }
            ProtocolChoice::Fixed(p) => (p, self.version_via(p).await?),
        };
        if !dialect::SUPPORTED.contains(&version.major) {
            tracing::warn!(server_version = %version.server_version, "this Odoo version is outside the versions orderbridge is tested with (16 to 19)");
        }
        if protocol == Protocol::Json2 && !Dialect::of(&version).has_json2() {
            return Err(json2_unsupported(version));
        }
        if protocol != Protocol::Json2 {
            let remembered = match &self.memory {
                Some(m) => {
                    let m = Arc::clone(m);
                    tokio::task::spawn_blocking(move || m.recall())
                        .await
                        .ok()
                        .flatten()
                }
                None => None,
            };
            match remembered {
                Some(uid) if uid > 0 => self.uid.store(uid, Ordering::Relaxed),
                _ => self.login(protocol).await.map(|_| ())?,
            }
        }
        tracing::debug!(%protocol, server_version = %version.server_version, "odoo session opened");
        Ok(Session { protocol, version })
    }

    /// Authenticates, and remembers the uid for later runs.
    async fn login(&self, protocol: Protocol) -> Result<i64, OdooError> {
        let uid = self.authenticate(protocol).await?;
        self.uid.store(uid, Ordering::Relaxed);
        self.uid_checked.store(true, Ordering::Relaxed);
        if let Some(m) = &self.memory {
            let m = Arc::clone(m);
            let _ = tokio::task::spawn_blocking(move || m.remember(uid)).await;
        }
        Ok(uid)
    }

    /// Logs in again after Odoo refused the remembered `stale` uid; calls in flight that
    /// were refused together share one login.
    async fn relogin(&self, protocol: Protocol, stale: i64) -> Result<i64, OdooError> {
        let _one = self.relogin.lock().await;
        let now = self.uid.load(Ordering::Relaxed);
        if now != stale && self.uid_checked.load(Ordering::Relaxed) {
            return Ok(now);
        }
        tracing::debug!(uid = stale, "the remembered uid was refused; logging in");
        self.login(protocol).await
    }

    /// The logged-in user's id: known over JSON-RPC and XML-RPC once the session is open;
    /// over JSON-2 asked of Odoo (`res.users/context_get`) the first time it is needed.
    pub async fn uid(&self) -> Result<i64, OdooError> {
        let s = self.session().await?;
        let known = self.uid.load(Ordering::Relaxed);
        if known > 0 {
            return Ok(known);
        }
        let version = s.version.clone();
        let user_context = json2::execute(&self.http, &self.creds, &Call::context_get())
            .await
            .map_err(|e| match e {
                // No JSON-2 after all: Odoo sends the API call to its login page.
                OdooError::Redirected { .. } => json2_unsupported(version),
                e => self.redacted(e),
            })?;
        let uid = user_context
            .get("uid")
            .and_then(Value::as_i64)
            .ok_or_else(|| OdooError::Protocol {
                detail: "res.users.context_get returned no uid".into(),
            })?;
        self.uid.store(uid, Ordering::Relaxed);
        Ok(uid)
    }

    async fn authenticate(&self, protocol: Protocol) -> Result<i64, OdooError> {
        let secret = self.creds.rpc_secret.as_ref().ok_or_else(|| {
            OdooError::Config("set ODOO_PASSWORD or ODOO_API_KEY to log in to Odoo".into())
        })?;
        if self.creds.login.is_empty() {
            return Err(OdooError::Config(
                "set ODOO_USERNAME to log in to Odoo".into(),
            ));
        }
        let args = vec![
            Value::str(&self.creds.db),
            Value::str(&self.creds.login),
            Value::str(secret.expose()),
            Value::Struct(Vec::new()),
        ];
        let v = self
            .call_service(protocol, "authenticate", args, "common.authenticate")
            .await?;
        match v {
            Value::Int(uid) if uid > 0 => Ok(uid),
            // A wrong password is not a fault: Odoo answers False.
            Value::Bool(false) => Err(OdooError::AuthFailed {
                login: self.creds.login.clone(),
                db: self.creds.db.clone(),
                detail: String::new(),
            }),
            other => Err(OdooError::Protocol {
                detail: format!("authenticate returned {}", other.describe()),
            }),
        }
    }

    /// `common.<method>(*args)` over XML-RPC or JSON-RPC.
    async fn call_service(
        &self,
        protocol: Protocol,
        method: &str,
        args: Vec<Value>,
        what: &str,
    ) -> Result<Value, OdooError> {
        match protocol {
            Protocol::XmlRpc => {
                xmlrpc::call_service(
                    &self.http,
                    &self.creds,
                    "/xmlrpc/2/common",
                    method,
                    &args,
                    what,
                )
                .await
            }
            _ => jsonrpc::call_service(&self.http, &self.creds, "common", method, args, what).await,
        }
    }

    /// The server's version over an RPC protocol's unauthenticated `common.version`.
    async fn version_via(&self, protocol: Protocol) -> Result<ServerVersion, OdooError> {
        let v = self
            .call_service(protocol, "version", vec![], "common.version")
            .await?;
        ServerVersion::from_value(&v)
    }

    /// The version for a JSON-2 session: `GET /web/version` (Odoo 19), else `common.version`
    /// over JSON-RPC, which older servers answer, so that the error can name their version.
    async fn json2_version(&self) -> Result<ServerVersion, OdooError> {
        let reply = match self.http.get("/web/version").await {
            Ok(reply) => Some(reply),
            Err(OdooError::Redirected { .. }) => None,
            Err(e) => return Err(e),
        };
        if let Some(reply) = reply
            && reply.status == 200
            && !reply.is_html()
            && let Ok(j) = json2::parse_json(&reply.body)
        {
            let v = Value::object([
                ("server_version", Value::from_json(&j["version"])),
                ("server_version_info", Value::from_json(&j["version_info"])),
            ]);
            return ServerVersion::from_value(&v);
        }
        self.version_via(Protocol::JsonRpc).await
    }

    /// The server version (learnt when the session opened).
    pub async fn version(&self) -> Result<ServerVersion, OdooError> {
        Ok(self.session().await?.version.clone())
    }

    /// Field names and states of the server's version.
    pub async fn dialect(&self) -> Result<Dialect, OdooError> {
        Ok(Dialect::of(&self.session().await?.version))
    }

    /// Calls a model method; the generic entry point behind every helper below. A call Odoo
    /// refuses for a remembered uid (Access Denied: checked before the method runs, so
    /// nothing was done) is sent again after a login.
    pub async fn execute(&self, call: Call<'_>) -> Result<Value, OdooError> {
        let s = self.session().await?;
        let _turn = match &self.in_flight {
            Some(limit) => Some(limit.acquire().await.map_err(|_| OdooError::Protocol {
                detail: "the client is shutting down".into(),
            })?),
            None => None,
        };
        tracing::debug!(model = call.model, method = call.method, "odoo call");
        let uid = self.uid.load(Ordering::Relaxed);
        let answer = match self.dispatch(s.protocol, uid, &call).await {
            // Refused for a uid not yet accepted, or for one another call in flight has
            // replaced meanwhile (its answer came after that call's login): a stale uid,
            // not wrong credentials.
            Err(OdooError::AuthFailed { .. })
                if s.protocol != Protocol::Json2
                    && (!self.uid_checked.load(Ordering::Relaxed)
                        || self.uid.load(Ordering::Relaxed) != uid) =>
            {
                let uid = self.relogin(s.protocol, uid).await?;
                self.dispatch(s.protocol, uid, &call).await
            }
            other => other,
        };
        if answer.is_ok() {
            self.uid_checked.store(true, Ordering::Relaxed);
        }
        answer.map_err(|e| self.redacted(e))
    }

    async fn dispatch(
        &self,
        protocol: Protocol,
        uid: i64,
        call: &Call<'_>,
    ) -> Result<Value, OdooError> {
        match protocol {
            Protocol::Json2 => json2::execute(&self.http, &self.creds, call).await,
            Protocol::JsonRpc => jsonrpc::execute(&self.http, &self.creds, uid, call).await,
            Protocol::XmlRpc => xmlrpc::execute(&self.http, &self.creds, uid, call).await,
        }
    }

    pub async fn search_read(
        &self,
        model: &str,
        domain: Value,
        fields: &[&str],
        opts: SearchOpts<'_>,
    ) -> Result<Vec<Value>, OdooError> {
        let call = Call::search_read(model, domain, fields, &opts);
        list(self.execute(call).await?, model, "search_read")
    }

    /// The ids of the records matching `domain`; anything but a list of ids is a protocol
    /// error, not an empty answer.
    pub async fn search(&self, model: &str, domain: Value) -> Result<Vec<i64>, OdooError> {
        let v = self.execute(Call::search(model, domain)).await?;
        list(v, model, "search")?
            .iter()
            .map(|x| x.as_i64().ok_or_else(|| bad_answer(model, "search", x)))
            .collect()
    }

    /// The sale orders matching `domain`, oldest first, decoded.
    pub async fn sale_orders(&self, domain: Value) -> Result<Vec<SaleOrder>, OdooError> {
        let opts = SearchOpts {
            order: Some("id"),
            ..Default::default()
        };
        let rows = self
            .search_read("sale.order", domain, SaleOrder::FIELDS, opts)
            .await?;
        rows.iter()
            .map(|v| SaleOrder::from_value(v).map_err(OdooError::from))
            .collect()
    }

    pub async fn read(
        &self,
        model: &str,
        ids: &[i64],
        fields: &[&str],
    ) -> Result<Vec<Value>, OdooError> {
        let v = self.execute(Call::read(model, ids, fields)).await?;
        list(v, model, "read")
    }

    /// Creates one record per vals in one call; returns their ids in order.
    pub async fn create_many(
        &self,
        model: &str,
        vals_list: Vec<Value>,
    ) -> Result<Vec<i64>, OdooError> {
        let n = vals_list.len();
        let v = self.execute(Call::create(model, vals_list)).await?;
        let ids: Vec<i64> = match &v {
            Value::Int(id) => vec![*id],
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_i64().ok_or_else(|| bad_answer(model, "create", &v)))
                .collect::<Result<_, _>>()?,
            _ => return Err(bad_answer(model, "create", &v)),
        };
        if ids.len() != n {
            return Err(bad_answer(model, "create", &v));
        }
        Ok(ids)
    }

    pub async fn create(&self, model: &str, vals: Value) -> Result<i64, OdooError> {
        Ok(self.create_many(model, vec![vals]).await?[0])
    }

    /// Creates one record and reads `fields` of it back: one call (`web_save`) where the
    /// server has it (17.0 and later), else `create` then `read`. The error says which
    /// step failed: [`CreateReadError::Create`] means the record may or may not exist (as
    /// [`OdooError::outcome_unknown`] says); [`CreateReadError::ReadBack`] that it exists.
    pub async fn create_read(
        &self,
        model: &str,
        vals: Value,
        fields: &[&str],
    ) -> Result<Value, CreateReadError> {
        let dialect = self.dialect().await.map_err(CreateReadError::Create)?;
        if dialect.has_web_save() {
            let v = self
                .execute(Call::web_save_create(model, vals, fields))
                .await
                .map_err(CreateReadError::Create)?;
            return match list(v, model, "web_save") {
                Ok(mut rows) if rows.len() == 1 => Ok(rows.remove(0)),
                // Odoo answered: the record was made, but the answer is not what it sends.
                Ok(rows) => Err(CreateReadError::ReadBack {
                    id: None,
                    cause: bad_answer(model, "web_save", &Value::Array(rows)),
                }),
                Err(e) => Err(CreateReadError::ReadBack { id: None, cause: e }),
            };
        }
        let id = self
            .create(model, vals)
            .await
            .map_err(CreateReadError::Create)?;
        match self.read(model, &[id], fields).await {
            Ok(mut rows) if !rows.is_empty() => Ok(rows.remove(0)),
            Ok(_) => Err(CreateReadError::ReadBack {
                id: Some(id),
                cause: OdooError::Protocol {
                    detail: format!("{model} {id} vanished right after its creation"),
                },
            }),
            Err(e) => Err(CreateReadError::ReadBack {
                id: Some(id),
                cause: e,
            }),
        }
    }

    /// The logged-in user's id and login.
    pub async fn whoami(&self) -> Result<(i64, String), OdooError> {
        let uid = self.uid().await?;
        let rows = self.read("res.users", &[uid], &["login"]).await?;
        let login = rows
            .first()
            .and_then(|r| r.get("login"))
            .and_then(Value::as_str)
            .unwrap_or(&self.creds.login)
            .to_string();
        Ok((uid, login))
    }

    /// Whether the user may perform `operation` (read, create, write, unlink) on `model`.
    pub async fn check_access_rights(
        &self,
        model: &str,
        operation: &str,
    ) -> Result<bool, OdooError> {
        let call = Call::check_access_rights(model, operation);
        match self.execute(call).await {
            Ok(v) => Ok(v.truthy()),
            // A server without the deprecated method: has_access is its successor (18+).
            Err(OdooError::Fault {
                kind: FaultKind::Internal,
                exception,
                ..
            }) if exception == "AttributeError" || exception == "NotFound" => {
                let v = self.execute(Call::has_access(model, operation)).await?;
                Ok(v.truthy())
            }
            Err(e) => Err(e),
        }
    }
}

fn json2_unsupported(version: ServerVersion) -> OdooError {
    OdooError::Json2Unsupported {
        server_version: version.server_version,
        major: version.major,
    }
}

impl ServerVersion {
    /// From `common.version`'s answer: `server_version_info[0]`, else the first number of
    /// `server_version` (`saas~18.2`).
    fn from_value(v: &Value) -> Result<ServerVersion, OdooError> {
        let text = v
            .get("server_version")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let major = v
            .get("server_version_info")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_i64)
            .and_then(|m| u32::try_from(m).ok())
            .or_else(|| {
                let digits: String = text
                    .chars()
                    .skip_while(|c| !c.is_ascii_digit())
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.parse().ok()
            })
            .ok_or_else(|| OdooError::Protocol {
                detail: format!("the server version '{text}' could not be read"),
            })?;
        Ok(ServerVersion {
            server_version: text,
            major,
        })
    }
}

fn list(v: Value, model: &str, method: &str) -> Result<Vec<Value>, OdooError> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(bad_answer(model, method, &other)),
    }
}

fn bad_answer(model: &str, method: &str, v: &Value) -> OdooError {
    OdooError::Protocol {
        detail: format!("{model}.{method} returned {}", v.describe()),
    }
}

/// `execute_kw(db, uid, secret, model, method, args, kwargs)`, shaped by [`Call::rpc_args`].
pub(crate) fn execute_kw_args(creds: &Credentials, uid: i64, call: &Call<'_>) -> Vec<Value> {
    let (args, kwargs) = call.rpc_args();
    vec![
        Value::str(&creds.db),
        Value::Int(uid),
        Value::str(creds.rpc_secret.as_ref().map(Secret::expose).unwrap_or("")),
        Value::str(call.model),
        Value::str(call.method),
        Value::Array(args),
        Value::Struct(kwargs),
    ]
}

/// Maps an Odoo exception onto the error a caller can act on.
pub(crate) fn fault_to_error(
    creds: &Credentials,
    what: &str,
    kind: FaultKind,
    exception: String,
    message: String,
    traceback: Option<String>,
) -> OdooError {
    if exception == "AccessDenied" {
        return OdooError::AuthFailed {
            login: creds.login_shown(),
            db: creds.db.clone(),
            detail: message,
        };
    }
    let tb = traceback.as_deref().unwrap_or("");
    if exception == "OperationalError"
        && (message.contains("does not exist") || tb.contains("does not exist"))
    {
        return OdooError::UnknownDatabase {
            db: creds.db.clone(),
        };
    }
    OdooError::Fault {
        call: what.to_string(),
        kind,
        exception,
        message,
        traceback,
    }
}
