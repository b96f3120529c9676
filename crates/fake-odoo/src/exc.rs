//! The exceptions the fake raises, and how each protocol renders them (fault codes,
//! JSON-RPC error names, JSON-2 HTTP statuses), as the transcripts show.

use orderbridge_wire::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Exc {
    AccessDenied,
    AccessError(String),
    /// `model.method`
    PrivateMethod(String),
    MissingError(String),
    ValidationError(String),
    UserError(String),
    UnknownModel(String),
    /// `model.method`
    UnknownMethod(String),
    /// Arguments that do not fit the method: Python's text, and JSON-2's `signature.bind` text.
    Signature {
        python: String,
        json2: String,
    },
    /// JSON-2 only: ids given to a model-level method.
    IdsOnModelMethod(String),
    TypeError(String),
    ValueError(String),
    IndexError(String),
    UnknownDb(String),
}

impl Exc {
    /// `(python exception path, message)`.
    pub fn name_and_message(&self) -> (&'static str, String) {
        match self {
            Exc::AccessDenied => ("odoo.exceptions.AccessDenied", "Access Denied".into()),
            Exc::AccessError(m) => ("odoo.exceptions.AccessError", m.clone()),
            Exc::PrivateMethod(q) => (
                "odoo.exceptions.AccessError",
                format!("Private methods (such as '{q}') cannot be called remotely."),
            ),
            Exc::MissingError(m) => ("odoo.exceptions.MissingError", m.clone()),
            Exc::ValidationError(m) => ("odoo.exceptions.ValidationError", m.clone()),
            Exc::UserError(m) => ("odoo.exceptions.UserError", m.clone()),
            Exc::UnknownModel(m) => (
                "odoo.exceptions.UserError",
                format!("Object {m} doesn't exist"),
            ),
            Exc::UnknownMethod(q) => (
                "builtins.AttributeError",
                format!("The method '{q}' does not exist"),
            ),
            Exc::Signature { python, .. } => ("builtins.TypeError", python.clone()),
            Exc::IdsOnModelMethod(q) => ("builtins.TypeError", format!("cannot call {q} with ids")),
            Exc::TypeError(m) => ("builtins.TypeError", m.clone()),
            Exc::ValueError(m) => ("builtins.ValueError", m.clone()),
            Exc::IndexError(m) => ("builtins.IndexError", m.clone()),
            Exc::UnknownDb(db) => (
                "psycopg2.OperationalError",
                format!(
                    "connection to server at \"127.0.0.1\", port 5433 failed: FATAL:  database \"{db}\" does not exist\n"
                ),
            ),
        }
    }

    /// A server-side traceback ending in `Name: message`, like Odoo's `debug`.
    pub fn traceback(&self) -> String {
        let (name, message) = self.name_and_message();
        let short = match name {
            n if n.starts_with("builtins.") => &n["builtins.".len()..],
            n => n,
        };
        format!(
            "Traceback (most recent call last):\n  File \"/opt/odoo/odoo/service/model.py\", line 93, in call_kw\n    result = method(recs, *args, **kwargs)\n             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n{short}: {message}\n"
        )
    }

    /// XML-RPC `(faultCode, faultString)`.
    pub fn xmlrpc_fault(&self) -> (i64, String) {
        match self {
            Exc::AccessDenied => (3, "Access Denied".into()),
            Exc::AccessError(_) | Exc::PrivateMethod(_) => (4, self.name_and_message().1),
            Exc::MissingError(_)
            | Exc::ValidationError(_)
            | Exc::UserError(_)
            | Exc::UnknownModel(_) => (2, self.name_and_message().1),
            _ => (1, self.traceback()),
        }
    }

    /// JSON-RPC `error` member.
    pub fn jsonrpc_error(&self) -> serde_json::Value {
        let (name, message) = self.name_and_message();
        let debug = match self {
            Exc::AccessDenied => "odoo.exceptions.AccessDenied: Access Denied\n".to_string(),
            _ => self.traceback(),
        };
        serde_json::json!({
            "code": 0,
            "message": "Odoo Server Error",
            "data": {"name": name, "message": message, "arguments": [message], "context": {}, "debug": debug},
        })
    }

    /// JSON-2 `(status, body)`.
    pub fn json2_error(&self) -> (u16, serde_json::Value) {
        let werkzeug = |status: u16, name: &str, message: String| {
            (
                status,
                serde_json::json!({"name": name, "message": message, "arguments": [message, status], "context": {}, "debug": self.traceback()}),
            )
        };
        match self {
            Exc::AccessDenied => werkzeug(
                401,
                "werkzeug.exceptions.Unauthorized",
                "Invalid apikey".into(),
            ),
            Exc::UnknownModel(m) => werkzeug(
                404,
                "werkzeug.exceptions.NotFound",
                format!("the model '{m}' does not exist"),
            ),
            Exc::UnknownMethod(_) => werkzeug(
                404,
                "werkzeug.exceptions.NotFound",
                self.name_and_message().1,
            ),
            Exc::Signature { json2, .. } => werkzeug(
                422,
                "werkzeug.exceptions.UnprocessableEntity",
                json2.clone(),
            ),
            Exc::IdsOnModelMethod(_) => werkzeug(
                422,
                "werkzeug.exceptions.UnprocessableEntity",
                self.name_and_message().1,
            ),
            _ => {
                let status = match self {
                    Exc::AccessError(_) | Exc::PrivateMethod(_) => 403,
                    Exc::MissingError(_) => 404,
                    Exc::ValidationError(_) | Exc::UserError(_) => 422,
                    _ => 500,
                };
                let (name, message) = self.name_and_message();
                (
                    status,
                    serde_json::json!({"name": name, "message": message, "arguments": [message], "context": {}, "debug": self.traceback()}),
                )
            }
        }
    }
}

/// Arguments bound to a method's parameter names.
#[derive(Debug, Clone, Default)]
pub struct Args(pub Vec<(String, Value)>);

impl Args {
    pub fn get(&self, k: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v)
    }

    fn present(&self, k: &str) -> Option<&Value> {
        self.get(k)
            .filter(|v| !matches!(v, Value::Nil | Value::Bool(false)))
    }

    pub fn strings(&self, k: &str) -> Result<Option<Vec<String>>, Exc> {
        match self.present(k) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| Exc::TypeError(format!("{k} must be a list of strings")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(Exc::TypeError(format!(
                "{k} must be a list, not {}",
                other.describe()
            ))),
        }
    }

    pub fn int(&self, k: &str) -> Result<Option<i64>, Exc> {
        match self.present(k) {
            None => Ok(None),
            Some(Value::Int(i)) => Ok(Some(*i)),
            Some(other) => Err(Exc::TypeError(format!(
                "{k} must be an integer, not {}",
                other.describe()
            ))),
        }
    }

    pub fn str(&self, k: &str) -> Result<Option<&str>, Exc> {
        match self.present(k) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(other) => Err(Exc::TypeError(format!(
                "{k} must be a string, not {}",
                other.describe()
            ))),
        }
    }
}

struct Sig {
    params: &'static [&'static str],
    required: usize,
    /// Accepts `**kwargs` (search_read passes them on to `_read_format`).
    var_kw: bool,
    model_level: bool,
    qualname: &'static str,
}

fn signature(method: &str) -> Option<Sig> {
    let s = |params, required, var_kw, model_level, qualname| Sig {
        params,
        required,
        var_kw,
        model_level,
        qualname,
    };
    Some(match method {
        "search_read" => s(
            &["domain", "fields", "offset", "limit", "order"],
            0,
            true,
            true,
            "BaseModel.search_read",
        ),
        "read" => s(&["fields", "load"], 0, false, false, "BaseModel.read"),
        "search" => s(
            &["domain", "offset", "limit", "order"],
            1,
            false,
            true,
            "BaseModel.search",
        ),
        "search_count" => s(
            &["domain", "limit"],
            1,
            false,
            true,
            "BaseModel.search_count",
        ),
        "create" => s(&["vals_list"], 1, false, true, "BaseModel.create"),
        "write" => s(&["vals"], 1, false, false, "BaseModel.write"),
        "unlink" => s(&[], 0, false, false, "BaseModel.unlink"),
        "check_access_rights" => s(
            &["operation", "raise_exception"],
            1,
            false,
            true,
            "BaseModel.check_access_rights",
        ),
        "has_access" => s(&["operation"], 1, false, false, "BaseModel.has_access"),
        "context_get" => s(&[], 0, false, true, "ResUsers.context_get"),
        "fields_get" => s(
            &["allfields", "attributes"],
            0,
            false,
            true,
            "BaseModel.fields_get",
        ),
        m if m.starts_with("action_") => s(&[], 0, false, false, "SaleOrder.action"),
        _ => return None,
    })
}

/// The ids (for record methods) and bound arguments of a call, as Python would bind them.
pub(crate) struct Bound {
    pub ids: Option<Vec<i64>>,
    pub args: Args,
}

/// Binds an RPC call as Odoo's `call_kw` does: a record method takes its ids as the first
/// positional argument and `create` its values as the first positional argument; a keyword
/// in their place ends in Python's `IndexError` (Odoo 19 indexes a list, older versions a
/// tuple), and for `create` after the method ran, so its transaction is rolled back.
pub(crate) fn bind_rpc(
    version: u32,
    model: &str,
    method: &str,
    args: &[Value],
    kwargs: &[(String, Value)],
) -> Result<Bound, Exc> {
    let sig = check_callable(model, method)?;
    let index_error = || {
        let seq = if version >= 19 { "list" } else { "tuple" };
        Exc::IndexError(format!("{seq} index out of range"))
    };
    let (ids, positional) = if sig.model_level {
        (None, args)
    } else {
        let Some((first, rest)) = args.split_first() else {
            return Err(index_error());
        };
        (Some(ids_of(first)?), rest)
    };
    if positional.len() > sig.params.len() {
        return Err(Exc::Signature {
            python: format!(
                "{}() takes {} positional arguments but {} were given",
                sig.qualname,
                sig.params.len() + 1,
                positional.len() + 1
            ),
            json2: "too many positional arguments".into(),
        });
    }
    let mut bound: Vec<(String, Value)> = sig
        .params
        .iter()
        .zip(positional)
        .map(|(p, v)| (p.to_string(), v.clone()))
        .collect();
    if let Some((k, _)) = kwargs
        .iter()
        .find(|(k, _)| bound.iter().any(|(b, _)| b == k))
    {
        return Err(Exc::TypeError(format!(
            "{}() got multiple values for argument '{k}'",
            sig.qualname
        )));
    }
    bind_kwargs(&sig, &mut bound, kwargs)?;
    if method == "create" && positional.is_empty() {
        return Err(index_error());
    }
    Ok(Bound {
        ids,
        args: Args(bound),
    })
}

/// Binds a JSON-2 call: every argument by name, `ids` apart.
pub(crate) fn bind_json2(
    model: &str,
    method: &str,
    body: Vec<(String, Value)>,
) -> Result<Bound, Exc> {
    let sig = check_callable(model, method)?;
    let mut ids = None;
    let mut kwargs = Vec::new();
    for (k, v) in body {
        if k == "ids" {
            ids = Some(ids_of(&v)?);
        } else {
            kwargs.push((k, v));
        }
    }
    if sig.model_level && ids.is_some() {
        return Err(Exc::IdsOnModelMethod(format!("{model}.{method}")));
    }
    let mut bound = Vec::new();
    bind_kwargs(&sig, &mut bound, &kwargs)?;
    Ok(Bound {
        ids: if sig.model_level {
            None
        } else {
            Some(ids.unwrap_or_default())
        },
        args: Args(bound),
    })
}

fn check_callable(model: &str, method: &str) -> Result<Sig, Exc> {
    if !super::world::MODELS.contains(&model) {
        return Err(Exc::UnknownModel(model.to_string()));
    }
    if method.starts_with('_') {
        return Err(Exc::PrivateMethod(format!("{model}.{method}")));
    }
    match signature(method) {
        Some(sig) if method != "context_get" || model == "res.users" => Ok(sig),
        _ => Err(Exc::UnknownMethod(format!("{model}.{method}"))),
    }
}

fn bind_kwargs(
    sig: &Sig,
    bound: &mut Vec<(String, Value)>,
    kwargs: &[(String, Value)],
) -> Result<(), Exc> {
    let mut unexpected = None;
    for (k, v) in kwargs {
        if k == "context" {
            continue;
        }
        if sig.params.contains(&k.as_str()) {
            bound.push((k.clone(), v.clone()));
        } else if sig.var_kw {
            return Err(Exc::TypeError(format!(
                "BaseModel._read_format() got an unexpected keyword argument '{k}'"
            )));
        } else if unexpected.is_none() {
            unexpected = Some(k.clone());
        }
    }
    let missing = sig.params[..sig.required]
        .iter()
        .find(|p| !bound.iter().any(|(k, _)| k == *p));
    // A Python call reports the unexpected keyword first; JSON-2's signature.bind the missing one.
    let python = match (&unexpected, missing) {
        (Some(k), _) => format!(
            "{}() got an unexpected keyword argument '{k}'",
            sig.qualname
        ),
        (None, Some(p)) => format!(
            "{}() missing 1 required positional argument: '{p}'",
            sig.qualname
        ),
        (None, None) => return Ok(()),
    };
    let json2 = match (missing, &unexpected) {
        (Some(p), _) => format!("missing a required argument: '{p}'"),
        (None, Some(k)) => format!("got an unexpected keyword argument '{k}'"),
        (None, None) => unreachable!("returned above"),
    };
    Err(Exc::Signature { python, json2 })
}

fn ids_of(v: &Value) -> Result<Vec<i64>, Exc> {
    match v {
        Value::Int(i) => Ok(vec![*i]),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_i64()
                    .ok_or_else(|| Exc::TypeError("ids must be integers".into()))
            })
            .collect(),
        Value::Bool(false) | Value::Nil => Ok(vec![]),
        other => Err(Exc::TypeError(format!(
            "ids must be a list, not {}",
            other.describe()
        ))),
    }
}
