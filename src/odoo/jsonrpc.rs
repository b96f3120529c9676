//! JSON-RPC: `POST /jsonrpc`, services `common` and `object` (`execute_kw`). Deprecated in
//! Odoo 19 and scheduled for removal, still the way to talk to Odoo 18 and older.

use std::sync::atomic::{AtomicU64, Ordering};

use super::error::{FaultKind, OdooError, parse_traceback, short_exception, snippet};
use super::json2::parse_json;
use super::transport::Http;
use super::value::Value;
use super::{Call, Credentials, execute_kw_args, fault_to_error};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The body of a JSON-RPC call of `service.method(*args)`.
pub(crate) fn request_body(
    service: &str,
    method: &str,
    args: Vec<Value>,
    id: u64,
) -> Result<Vec<u8>, OdooError> {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "method": "call",
        "params": {"service": service, "method": method, "args": Value::Array(args).to_json()},
        "id": id,
    });
    serde_json::to_vec(&body).map_err(|e| OdooError::Protocol {
        detail: e.to_string(),
    })
}

/// Calls `service.method(*args)` and returns the result (`Nil` when Odoo sends no result,
/// which it does for methods that return None).
pub(crate) async fn call_service(
    http: &Http,
    creds: &Credentials,
    service: &str,
    method: &str,
    args: Vec<Value>,
    what: &str,
) -> Result<Value, OdooError> {
    let body = request_body(
        service,
        method,
        args,
        NEXT_ID.fetch_add(1, Ordering::Relaxed),
    )?;
    let reply = http.post("/jsonrpc", "application/json", &[], body).await?;
    if reply.status != 200 || reply.is_html() {
        return Err(OdooError::Http {
            status: reply.status,
            url: http.shown_url().to_string(),
            snippet: snippet(&reply.body),
        });
    }
    let j = parse_json(&reply.body)?;
    if let Some(err) = j.get("error") {
        let data = &err["data"];
        let name = data["name"].as_str().unwrap_or("");
        let message = data["message"]
            .as_str()
            .or(err["message"].as_str())
            .unwrap_or("")
            .trim_end()
            .to_string();
        let debug = data["debug"].as_str().map(str::to_string);
        let exception = if name.is_empty() {
            debug
                .as_deref()
                .map(|d| parse_traceback(d).0)
                .unwrap_or_else(|| "Exception".into())
        } else {
            short_exception(name)
        };
        let kind = FaultKind::of_exception_path(name);
        return Err(fault_to_error(creds, what, kind, exception, message, debug));
    }
    match j.get("result") {
        Some(r) => Ok(Value::from_json(r)),
        None if j.get("jsonrpc").is_some() => Ok(Value::Nil),
        None => Err(OdooError::Protocol {
            detail: "a JSON answer without 'result' or 'error'".into(),
        }),
    }
}

pub(crate) async fn execute(
    http: &Http,
    creds: &Credentials,
    uid: i64,
    call: &Call<'_>,
) -> Result<Value, OdooError> {
    call_service(
        http,
        creds,
        "object",
        "execute_kw",
        execute_kw_args(creds, uid, call),
        &call.label(),
    )
    .await
}
