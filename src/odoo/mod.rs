//! The Odoo client: one API over JSON-2, JSON-RPC and XML-RPC.
//!
//! [`OdooClient`] is what the rest of the crate uses. It picks the protocol, authenticates
//! once per run (a password check costs Odoo about a second), and turns every answer into
//! a [`Value`] or a typed [`OdooError`].

pub mod error;
mod json2;
mod jsonrpc;
pub mod models;
mod transport;
pub mod value;
pub mod xmlrpc;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use tokio::sync::OnceCell;

pub use error::{OdooError, TransportKind};
pub use models::{Partner, SaleOrder};
pub use value::{DecodeError, Many2One, Record, Value, domain};

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

/// One model method call, in a shape every protocol can carry: the record ids (for methods
/// on records) and named arguments.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub model: &'a str,
    pub method: &'a str,
    pub ids: Option<&'a [i64]>,
    pub kwargs: Vec<(&'static str, Value)>,
}

impl<'a> Call<'a> {
    pub fn new(model: &'a str, method: &'a str) -> Self {
        Call {
            model,
            method,
            ids: None,
            kwargs: Vec::new(),
        }
    }

    pub fn on(mut self, ids: &'a [i64]) -> Self {
        self.ids = Some(ids);
        self
    }

    pub fn arg(mut self, name: &'static str, v: impl Into<Value>) -> Self {
        self.kwargs.push((name, v.into()));
        self
    }
}

/// Options of `search` / `search_read`.
#[derive(Debug, Clone, Default)]
pub struct SearchOpts<'a> {
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    pub order: Option<&'a str>,
}

/// The parts of the configuration the protocol adapters need.
pub(crate) struct Ctx {
    pub db: String,
    pub login: String,
    pub api_key: Option<Secret>,
    /// Password, or API key used as password (RPC protocols accept either).
    pub rpc_secret: Option<Secret>,
}

impl Ctx {
    fn login_shown(&self) -> String {
        if self.login.is_empty() {
            "(API key)".to_string()
        } else {
            self.login.clone()
        }
    }
}

/// The protocol and identity settled on at the first call.
#[derive(Debug, Clone)]
pub struct Session {
    pub protocol: Protocol,
    pub uid: i64,
    pub version: Option<ServerVersion>,
}

pub struct OdooClient {
    http: Http,
    ctx: Ctx,
    choice: ProtocolChoice,
    session: OnceCell<Session>,
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
            ctx: Ctx {
                db: cfg.db.clone(),
                login: cfg.login.clone(),
                api_key: cfg.api_key.clone(),
                rpc_secret,
            },
            choice: cfg.protocol,
            session: OnceCell::new(),
        })
    }

    /// HTTP requests made so far (the round trips a run cost).
    pub fn round_trips(&self) -> u64 {
        self.http.round_trips()
    }

    pub fn url(&self) -> &str {
        self.http.shown_url()
    }

    pub fn db(&self) -> &str {
        &self.ctx.db
    }

    /// Settles the protocol and logs in, once; later calls reuse the session.
    pub async fn session(&self) -> Result<&Session, OdooError> {
        self.session.get_or_try_init(|| self.open_session()).await
    }

    async fn open_session(&self) -> Result<Session, OdooError> {
        let (protocol, version) = match self.choice {
            ProtocolChoice::Fixed(p) => (p, None),
            ProtocolChoice::Auto => {
                let v = self.version_via(Protocol::JsonRpc).await?;
                let p = if v.major >= 19 && self.ctx.api_key.is_some() {
                    Protocol::Json2
                } else {
                    Protocol::JsonRpc
                };
                (p, Some(v))
            }
        };
        let uid = match protocol {
            Protocol::Json2 => {
                // JSON-2 has no login step: the API key is checked on every call. Ask who we are.
                let ctx = json2::execute(
                    &self.http,
                    &self.ctx,
                    &Call::new("res.users", "context_get"),
                )
                .await?;
                ctx.get("uid")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| OdooError::Protocol {
                        detail: "res.users.context_get returned no uid".into(),
                    })?
            }
            Protocol::JsonRpc | Protocol::XmlRpc => self.authenticate(protocol).await?,
        };
        tracing::debug!(%protocol, uid, "odoo session opened");
        Ok(Session {
            protocol,
            uid,
            version,
        })
    }

    async fn authenticate(&self, protocol: Protocol) -> Result<i64, OdooError> {
        let secret = self.ctx.rpc_secret.as_ref().ok_or_else(|| {
            OdooError::Config("set ODOO_PASSWORD or ODOO_API_KEY to log in to Odoo".into())
        })?;
        if self.ctx.login.is_empty() {
            return Err(OdooError::Config(
                "set ODOO_USERNAME to log in to Odoo".into(),
            ));
        }
        let args = vec![
            Value::str(&self.ctx.db),
            Value::str(&self.ctx.login),
            Value::str(secret.expose()),
            Value::Struct(Vec::new()),
        ];
        let what = "common.authenticate";
        let v = match protocol {
            Protocol::XmlRpc => {
                xmlrpc::call_service(
                    &self.http,
                    &self.ctx,
                    "/xmlrpc/2/common",
                    "authenticate",
                    &args,
                    what,
                )
                .await?
            }
            _ => {
                jsonrpc::call_service(&self.http, &self.ctx, "common", "authenticate", args, what)
                    .await?
            }
        };
        match v {
            Value::Int(uid) if uid > 0 => Ok(uid),
            // A wrong password is not a fault: Odoo answers False.
            Value::Bool(false) => Err(OdooError::AuthFailed {
                login: self.ctx.login.clone(),
                db: self.ctx.db.clone(),
                detail: String::new(),
            }),
            other => Err(OdooError::Protocol {
                detail: format!("authenticate returned {}", other.describe()),
            }),
        }
    }

    /// The server's version, over the given protocol's unauthenticated endpoint.
    async fn version_via(&self, protocol: Protocol) -> Result<ServerVersion, OdooError> {
        let v = match protocol {
            Protocol::XmlRpc => {
                xmlrpc::call_service(
                    &self.http,
                    &self.ctx,
                    "/xmlrpc/2/common",
                    "version",
                    &[],
                    "common.version",
                )
                .await?
            }
            Protocol::JsonRpc => {
                jsonrpc::call_service(
                    &self.http,
                    &self.ctx,
                    "common",
                    "version",
                    vec![],
                    "common.version",
                )
                .await?
            }
            Protocol::Json2 => {
                let reply = self.http.get("/web/version").await?;
                if reply.status != 200 {
                    return Err(OdooError::Http {
                        status: reply.status,
                        url: self.url().to_string(),
                        snippet: error::snippet(&reply.body),
                    });
                }
                let j = json2::parse_json(&reply.body)?;
                Value::object([
                    ("server_version", Value::from_json(&j["version"])),
                    ("server_version_info", Value::from_json(&j["version_info"])),
                ])
            }
        };
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
            .map(|m| m as u32)
            .or_else(|| {
                // "saas~18.2" and similar: take the first run of digits.
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

    /// The server version (asked over the session's protocol, reused if auto-detection
    /// already asked).
    pub async fn version(&self) -> Result<ServerVersion, OdooError> {
        let s = self.session().await?;
        match &s.version {
            Some(v) => Ok(v.clone()),
            None => self.version_via(s.protocol).await,
        }
    }

    /// Calls a model method; the generic entry point behind every helper below.
    pub async fn execute(&self, call: Call<'_>) -> Result<Value, OdooError> {
        let s = self.session().await?;
        tracing::debug!(model = call.model, method = call.method, "odoo call");
        match s.protocol {
            Protocol::Json2 => json2::execute(&self.http, &self.ctx, &call).await,
            Protocol::JsonRpc => jsonrpc::execute(&self.http, &self.ctx, s.uid, &call).await,
            Protocol::XmlRpc => xmlrpc::execute(&self.http, &self.ctx, s.uid, &call).await,
        }
    }

    pub async fn search_read(
        &self,
        model: &str,
        domain: Value,
        fields: &[&str],
        opts: SearchOpts<'_>,
    ) -> Result<Vec<Value>, OdooError> {
        let mut call = Call::new(model, "search_read")
            .arg("domain", domain)
            .arg("fields", Value::strs(fields));
        call = with_opts(call, &opts);
        list(self.execute(call).await?, model, "search_read")
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
        let call = Call::new(model, "read")
            .on(ids)
            .arg("fields", Value::strs(fields));
        list(self.execute(call).await?, model, "read")
    }

    pub async fn search(
        &self,
        model: &str,
        domain: Value,
        opts: SearchOpts<'_>,
    ) -> Result<Vec<i64>, OdooError> {
        let call = with_opts(Call::new(model, "search").arg("domain", domain), &opts);
        list(self.execute(call).await?, model, "search")?
            .iter()
            .map(|v| v.as_i64().ok_or_else(|| bad_answer(model, "search", v)))
            .collect()
    }

    pub async fn search_count(&self, model: &str, domain: Value) -> Result<i64, OdooError> {
        let v = self
            .execute(Call::new(model, "search_count").arg("domain", domain))
            .await?;
        v.as_i64()
            .ok_or_else(|| bad_answer(model, "search_count", &v))
    }

    /// Creates one record per vals in one call; returns their ids in order.
    pub async fn create_many(
        &self,
        model: &str,
        vals_list: Vec<Value>,
    ) -> Result<Vec<i64>, OdooError> {
        let n = vals_list.len();
        let v = self
            .execute(Call::new(model, "create").arg("vals_list", Value::Array(vals_list)))
            .await?;
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

    pub async fn write(&self, model: &str, ids: &[i64], vals: Value) -> Result<(), OdooError> {
        self.execute(Call::new(model, "write").on(ids).arg("vals", vals))
            .await?;
        Ok(())
    }

    /// Calls a method such as `action_confirm`; a None result comes back as `Value::Nil`.
    pub async fn call(&self, model: &str, method: &str, ids: &[i64]) -> Result<Value, OdooError> {
        self.execute(Call::new(model, method).on(ids)).await
    }

    /// The logged-in user's id and login.
    pub async fn whoami(&self) -> Result<(i64, String), OdooError> {
        let uid = self.session().await?.uid;
        let rows = self.read("res.users", &[uid], &["login"]).await?;
        let login = rows
            .first()
            .and_then(|r| r.get("login"))
            .and_then(Value::as_str)
            .unwrap_or(&self.ctx.login)
            .to_string();
        Ok((uid, login))
    }

    /// Whether the user may perform `operation` (read, create, write, unlink) on `model`.
    pub async fn check_access_rights(
        &self,
        model: &str,
        operation: &str,
    ) -> Result<bool, OdooError> {
        let call = Call::new(model, "check_access_rights")
            .arg("operation", operation)
            .arg("raise_exception", false);
        match self.execute(call).await {
            Ok(v) => Ok(v.truthy()),
            // Newer servers may drop the deprecated method; has_access is its successor.
            Err(OdooError::Fault {
                exception, message, ..
            }) if message.contains("does not exist")
                && (exception == "AttributeError" || exception == "NotFound") =>
            {
                let v = self
                    .execute(
                        Call::new(model, "has_access")
                            .on(&[])
                            .arg("operation", operation),
                    )
                    .await?;
                Ok(v.truthy())
            }
            Err(e) => Err(e),
        }
    }
}

fn with_opts<'a>(mut call: Call<'a>, opts: &SearchOpts<'_>) -> Call<'a> {
    if let Some(l) = opts.limit {
        call = call.arg("limit", i64::from(l));
    }
    if let Some(o) = opts.offset {
        call = call.arg("offset", i64::from(o));
    }
    if let Some(o) = opts.order {
        call = call.arg("order", o);
    }
    call
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

/// `execute_kw(db, uid, secret, model, method, args, kwargs)`: ids go positionally, the rest
/// by name.
pub(crate) fn execute_kw_args(ctx: &Ctx, uid: i64, call: &Call<'_>) -> Vec<Value> {
    let args = match call.ids {
        Some(ids) => vec![Value::ints(ids)],
        None => vec![],
    };
    let kwargs = Value::Struct(
        call.kwargs
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect(),
    );
    vec![
        Value::str(&ctx.db),
        Value::Int(uid),
        Value::str(ctx.rpc_secret.as_ref().map(Secret::expose).unwrap_or("")),
        Value::str(call.model),
        Value::str(call.method),
        Value::Array(args),
        kwargs,
    ]
}

/// Maps an Odoo exception onto the error a caller can act on.
pub(crate) fn fault_to_error(
    ctx: &Ctx,
    what: &str,
    exception: String,
    message: String,
    traceback: Option<String>,
) -> OdooError {
    if exception == "AccessDenied" {
        return OdooError::AuthFailed {
            login: ctx.login_shown(),
            db: ctx.db.clone(),
            detail: message,
        };
    }
    let tb = traceback.as_deref().unwrap_or("");
    if exception == "OperationalError"
        && (message.contains("does not exist") || tb.contains("does not exist"))
    {
        return OdooError::UnknownDatabase { db: ctx.db.clone() };
    }
    OdooError::Fault {
        call: what.to_string(),
        exception,
        message,
        traceback,
    }
}
