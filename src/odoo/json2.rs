//! Odoo 19's JSON-2 API: `POST /json/2/<model>/<method>`, bearer API key, named arguments,
//! real HTTP statuses for errors.

use super::error::{FaultKind, OdooError, short_exception, snippet};
use super::transport::{Http, Reply};
use super::value::Value;
use super::{Call, Credentials};

/// A JSON-2 request: path, headers (the key among them) and body.
pub(crate) struct Request {
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

pub(crate) fn request(creds: &Credentials, call: &Call<'_>) -> Result<Request, OdooError> {
    let key = creds.api_key.as_ref().ok_or_else(|| {
        OdooError::Config(
            "ODOO_PROTOCOL=json2 needs ODOO_API_KEY (an API key from the Odoo user's preferences)"
                .into(),
        )
    })?;
    let body = serde_json::to_vec(&Value::Struct(call.json2_body()).to_json()).map_err(|e| {
        OdooError::Protocol {
            detail: e.to_string(),
        }
    })?;
    let mut headers = vec![("Authorization", format!("bearer {}", key.expose()))];
    if !creds.db.is_empty() {
        headers.push(("X-Odoo-Database", creds.db.clone()));
    }
    Ok(Request {
        path: format!("/json/2/{}/{}", call.model, call.method),
        headers,
        body,
    })
}

pub(crate) async fn execute(
    http: &Http,
    creds: &Credentials,
    call: &Call<'_>,
) -> Result<Value, OdooError> {
    let req = request(creds, call)?;
    let reply = http
        .post(
            &req.path,
            "application/json; charset=utf-8",
            &req.headers,
            req.body,
        )
        .await?;
    interpret(http, creds, call, reply)
}

fn interpret(
    http: &Http,
    creds: &Credentials,
    call: &Call<'_>,
    reply: Reply,
) -> Result<Value, OdooError> {
    if reply.status == 200 {
        return parse_json(&reply.body).map(|j| Value::from_json(&j));
    }
    // Odoo's own errors are JSON {name, message, arguments, context, debug}.
    if !reply.is_html()
        && let Ok(j) = serde_json::from_slice::<serde_json::Value>(&reply.body)
        && let (Some(name), Some(message)) = (j["name"].as_str(), j["message"].as_str())
    {
        if reply.status == 401 {
            return Err(OdooError::AuthFailed {
                login: creds.login_shown(),
                db: creds.db.clone(),
                detail: format!("API key refused: {message}"),
            });
        }
        return Err(OdooError::Fault {
            call: call.label(),
            kind: FaultKind::of_exception_path(name),
            exception: short_exception(name),
            message: message.trim_end().to_string(),
            traceback: j["debug"].as_str().map(str::to_string),
        });
    }
    let text = String::from_utf8_lossy(&reply.body);
    if reply.status == 404 && text.contains("No database is selected") {
        return Err(OdooError::UnknownDatabase {
            db: creds.db.clone(),
        });
    }
    Err(OdooError::Http {
        status: reply.status,
        url: http.shown_url().to_string(),
        snippet: snippet(&reply.body),
    })
}

pub(crate) fn parse_json(body: &[u8]) -> Result<serde_json::Value, OdooError> {
    serde_json::from_slice(body).map_err(|e| OdooError::Protocol {
        detail: format!(
            "expected JSON: {e}; the answer began with '{}'",
            snippet(&body[..body.len().min(200)])
        ),
    })
}
