//! How the fake binds a call's arguments to a method, as Odoo does: over XML-RPC and
//! JSON-RPC through `call_kw` (ids and `create`'s values positional), over JSON-2 by name
//! against the method's signature.

use orderbridge_wire::Value;

use crate::exception::Exception;
use crate::fields::MODELS;

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

    pub fn strings(&self, k: &str) -> Result<Option<Vec<String>>, Exception> {
        match self.present(k) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        Exception::TypeError(format!("{k} must be a list of strings"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(Exception::TypeError(format!(
                "{k} must be a list, not {}",
                other.describe()
            ))),
        }
    }

    pub fn int(&self, k: &str) -> Result<Option<i64>, Exception> {
        match self.present(k) {
            None => Ok(None),
            Some(Value::Int(i)) => Ok(Some(*i)),
            Some(other) => Err(Exception::TypeError(format!(
                "{k} must be an integer, not {}",
                other.describe()
            ))),
        }
    }

    pub fn str(&self, k: &str) -> Result<Option<&str>, Exception> {
        match self.present(k) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(other) => Err(Exception::TypeError(format!(
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
        "button_validate" => s(&[], 0, false, false, "Picking.button_validate"),
        "process" => s(&[], 0, false, false, "StockBackorderConfirmation.process"),
        "create_invoices" => s(
            &[],
            0,
            false,
            false,
            "SaleAdvancePaymentInv.create_invoices",
        ),
        "web_save" => s(
            &["vals", "specification", "next_id"],
            1,
            false,
            false,
            "BaseModel.web_save",
        ),
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
) -> Result<Bound, Exception> {
    let sig = check_callable(model, method)?;
    let index_error = || {
        let seq = if version >= 19 { "list" } else { "tuple" };
        Exception::IndexError(format!("{seq} index out of range"))
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
        return Err(Exception::Signature {
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
        return Err(Exception::TypeError(format!(
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
) -> Result<Bound, Exception> {
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
        return Err(Exception::IdsOnModelMethod(format!("{model}.{method}")));
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

fn check_callable(model: &str, method: &str) -> Result<Sig, Exception> {
    if !MODELS.contains(&model) {
        return Err(Exception::UnknownModel(model.to_string()));
    }
    if method.starts_with('_') {
        return Err(Exception::PrivateMethod(format!("{model}.{method}")));
    }
    match signature(method) {
        Some(sig) if method != "context_get" || model == "res.users" => Ok(sig),
        _ => Err(Exception::UnknownMethod(format!("{model}.{method}"))),
    }
}

fn bind_kwargs(
    sig: &Sig,
    bound: &mut Vec<(String, Value)>,
    kwargs: &[(String, Value)],
) -> Result<(), Exception> {
    let mut unexpected = None;
    for (k, v) in kwargs {
        if k == "context" {
            // Not a parameter: Odoo puts it in the environment; wizards read it there.
            bound.push((k.clone(), v.clone()));
            continue;
        }
        if sig.params.contains(&k.as_str()) {
            bound.push((k.clone(), v.clone()));
        } else if sig.var_kw {
            return Err(Exception::TypeError(format!(
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
    Err(Exception::Signature { python, json2 })
}

fn ids_of(v: &Value) -> Result<Vec<i64>, Exception> {
    match v {
        Value::Int(i) => Ok(vec![*i]),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_i64()
                    .ok_or_else(|| Exception::TypeError("ids must be integers".into()))
            })
            .collect(),
        Value::Bool(false) | Value::Nil => Ok(vec![]),
        other => Err(Exception::TypeError(format!(
            "ids must be a list, not {}",
            other.describe()
        ))),
    }
}
