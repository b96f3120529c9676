//! The fake's HTTP side: a small HTTP/1.1 server (one request per connection, as Odoo's
//! werkzeug answers with `Connection: close`) that routes XML-RPC, JSON-RPC and JSON-2, and
//! injects faults at the byte level (dropped, truncated or HTML answers), which a framework
//! would hide from us. (Just over 500 lines: the routing and the byte-level faults that
//! interrupt it read best side by side.)

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::binding::{bind_json2, bind_rpc};
use super::exception::Exception;
use super::world::{self, World};
use super::{Fault, Shared};
use orderbridge_wire::Value;
use orderbridge_wire::xmlrpc;

pub(crate) struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// `Location` of a redirect.
    pub location: Option<String>,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        303 => "SEE OTHER",
        400 => "BAD REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT FOUND",
        405 => "METHOD NOT ALLOWED",
        422 => "UNPROCESSABLE ENTITY",
        502 => "Bad Gateway",
        _ => "INTERNAL SERVER ERROR",
    }
}

const XML: &str = "text/xml; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

fn xml(body: String) -> Response {
    Response {
        status: 200,
        content_type: XML,
        body: body.into_bytes(),
        location: None,
    }
}

fn json(status: u16, j: &serde_json::Value) -> Response {
    Response {
        status,
        content_type: JSON,
        body: serde_json::to_vec(j).unwrap_or_default(),
        location: None,
    }
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Request> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 1 << 20 {
            return Err(std::io::ErrorKind::InvalidData.into());
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split_whitespace();
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    Ok(Request {
        method,
        path,
        headers,
        body,
    })
}

/// Werkzeug's `Date` header (IMF-fixdate) from the world's clock: Odoo's "now" as a client
/// sees it.
fn http_date(now: chrono::DateTime<chrono::Utc>) -> String {
    now.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn encode_head(resp: &Response, date: &str) -> Vec<u8> {
    let location = resp
        .location
        .as_ref()
        .map(|l| format!("Location: {l}\r\n"))
        .unwrap_or_default();
    format!(
        "HTTP/1.1 {} {}\r\nServer: Werkzeug/2.2.2 Python/3.11.7\r\nDate: {date}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{location}X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        resp.status,
        reason(resp.status),
        resp.content_type,
        resp.body.len()
    )
    .into_bytes()
}

/// Serves one connection: one request, one answer (or an injected failure).
pub(crate) async fn serve(mut stream: TcpStream, inner: Arc<Shared>) {
    let Ok(mut req) = read_request(&mut stream).await else {
        return;
    };
    // Behind a reverse proxy that mounts Odoo under a path, Odoo sees the path without it.
    if let Some(rest) = inner
        .base_path
        .as_deref()
        .and_then(|b| req.path.strip_prefix(b))
    {
        req.path = rest.to_string();
    }
    let key = call_key(&req);
    inner.count(&key);
    let (latency, fault) = inner.take_fault(&key);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if !inner.login_cost.is_zero() && (key == "common.authenticate" || key == "common.login") {
        tokio::time::sleep(inner.login_cost).await;
    }
    let resp = match &fault {
        Some(Fault::BadGateway) => Response {
            status: 502,
            content_type: HTML,
            body: b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n".to_vec(),
            location: None,
        },
        Some(Fault::EchoRequest) => {
            let headers: String = req
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}\n"))
                .collect();
            Response {
                status: 500,
                content_type: HTML,
                body: format!(
                    "<html><body><h1>Upstream error</h1><pre>{}\n{} {}\n{headers}</pre></body></html>",
                    String::from_utf8_lossy(&req.body),
                    req.method,
                    req.path
                )
                .into_bytes(),
                location: None,
            }
        }
        Some(Fault::MalformedBody) => {
            let ct = if req.path.starts_with("/xmlrpc") { XML } else { JSON };
            Response { status: 200, content_type: ct, body: b"<?xml version=\"1.0\"?>\n<methodResponse><params><param><value><int>1</i\n{\"jsonrpc\": \"2.0\", \"res".to_vec(), location: None }
        }
        _ => handle(&inner, &req),
    };
    // After the commit, before the answer: the user's save waits for its webhooks.
    let hooks = inner.world.lock().unwrap().take_webhooks();
    for hook in &hooks {
        crate::webhooks::post(hook).await;
    }
    let date = http_date(inner.world.lock().unwrap().now());
    let head = encode_head(&resp, &date);
    match fault {
        Some(Fault::CommitThenDrop) => {}
        Some(Fault::CommitThenHang(d)) => tokio::time::sleep(d).await,
        Some(Fault::TruncatedBody) => {
            let _ = stream.write_all(&head).await;
            let _ = stream.write_all(&resp.body[..resp.body.len() / 2]).await;
        }
        _ => {
            let mut all = head;
            all.extend_from_slice(&resp.body);
            let _ = stream.write_all(&all).await;
        }
    }
    let _ = stream.shutdown().await;
}

/// `model.method` (or `common.method`) of a request, for counting and fault matching.
fn call_key(req: &Request) -> String {
    if let Some(rest) = req.path.strip_prefix("/json/2/") {
        return rest.replacen('/', ".", 1);
    }
    let body = String::from_utf8_lossy(&req.body);
    if req.path.starts_with("/xmlrpc") {
        return match xmlrpc::decode_call(&body) {
            Ok((m, params)) if m == "execute_kw" || m == "execute" => format!(
                "{}.{}",
                params.get(3).and_then(Value::as_str).unwrap_or("?"),
                params.get(4).and_then(Value::as_str).unwrap_or("?")
            ),
            Ok((m, _)) => format!("common.{m}"),
            Err(_) => "?.?".into(),
        };
    }
    if req.path == "/jsonrpc"
        && let Ok(j) = serde_json::from_slice::<serde_json::Value>(&req.body)
    {
        let p = &j["params"];
        let method = p["method"].as_str().unwrap_or("?");
        if method == "execute_kw" {
            return format!(
                "{}.{}",
                p["args"][3].as_str().unwrap_or("?"),
                p["args"][4].as_str().unwrap_or("?")
            );
        }
        return format!("{}.{method}", p["service"].as_str().unwrap_or("?"));
    }
    format!("http.{}", req.path)
}

fn not_found() -> Response {
    Response {
        status: 404,
        content_type: HTML,
        body: b"<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.</p>\n".to_vec(),
        location: None,
    }
}

fn handle(inner: &Shared, req: &Request) -> Response {
    let version = inner.version;
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/web/version") | ("GET", "/json/version") if version >= 19 => json(
            200,
            &serde_json::json!({"version_info": [version, 0, 0, "final", 0, ""], "version": server_version(version)}),
        ),
        // Before 19 there is no JSON-2: Odoo's catch-all sends the caller to its login page.
        (_, p) if p.starts_with("/json/2/") && version < 19 => Response {
            status: 303,
            content_type: HTML,
            body: b"<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href=\"/web/login\">/web/login</a>. If not, click the link.\n".to_vec(),
            location: Some(format!("/web/login?redirect={}", req.path)),
        },
        ("POST", "/xmlrpc/2/common") | ("POST", "/xmlrpc/common") => xmlrpc_common(inner, req),
        ("POST", "/xmlrpc/2/object") => xmlrpc_object(inner, req, false),
        ("POST", "/xmlrpc/object") => xmlrpc_object(inner, req, true),
        ("POST", "/jsonrpc") => jsonrpc(inner, req),
        (_, p) if p.starts_with("/json/2/") => json2(inner, req),
        _ => not_found(),
    }
}

/// `server_version` as each version's server says it.
fn server_version(version: u32) -> String {
    match version {
        18 => "18.0-20250421".into(),
        v => format!("{v}.0"),
    }
}

fn version_value(version: u32) -> Value {
    Value::object([
        ("server_version", Value::str(server_version(version))),
        (
            "server_version_info",
            Value::Array(vec![
                Value::Int(i64::from(version)),
                Value::Int(0),
                Value::Int(0),
                Value::str("final"),
                Value::Int(0),
                Value::str(""),
            ]),
        ),
        ("server_serie", Value::str(format!("{version}.0"))),
        ("protocol_version", Value::Int(1)),
    ])
}

/// `common` service: version, authenticate, login.
fn common(inner: &Shared, method: &str, params: &[Value]) -> Result<Value, Exception> {
    let s = |i: usize| params.get(i).and_then(Value::as_str).unwrap_or("");
    match method {
        "version" => Ok(version_value(inner.version)),
        "authenticate" | "login" => {
            if s(0) != world::DB {
                return Err(Exception::UnknownDb(s(0).to_string()));
            }
            if inner.rejects_credentials() {
                return Ok(Value::Bool(false));
            }
            let w = inner.world.lock().unwrap();
            // A wrong password is not an error: Odoo answers False.
            Ok(w.login(s(1), s(2)).map_or(Value::Bool(false), Value::Int))
        }
        other => Err(Exception::UnknownMethod(format!("common.{other}"))),
    }
}

/// `object.execute_kw(db, uid, secret, model, method, args, kwargs)`.
fn execute_kw(inner: &Shared, params: &[Value]) -> Result<Value, Exception> {
    let db = params.first().and_then(Value::as_str).unwrap_or("");
    if db != world::DB {
        return Err(Exception::UnknownDb(db.to_string()));
    }
    let uid = params.get(1).and_then(Value::as_i64).unwrap_or(0);
    let secret = params.get(2).and_then(Value::as_str).unwrap_or("");
    let mut w = inner.world.lock().unwrap();
    if inner.rejects_credentials() || !w.check_secret(uid, secret) {
        return Err(Exception::AccessDenied);
    }
    let model = params.get(3).and_then(Value::as_str).unwrap_or("");
    let method = params.get(4).and_then(Value::as_str).unwrap_or("");
    let args = params.get(5).and_then(Value::as_array).unwrap_or(&[]);
    let kwargs = match params.get(6) {
        Some(Value::Struct(m)) => m.as_slice(),
        _ => &[],
    };
    let bound = bind_rpc(w.version, model, method, args, kwargs)?;
    w.call(uid, model, method, bound.ids, &bound.args)
}

fn xmlrpc_common(inner: &Shared, req: &Request) -> Response {
    let body = String::from_utf8_lossy(&req.body);
    match xmlrpc::decode_call(&body) {
        Ok((method, params)) => match common(inner, &method, &params) {
            Ok(v) => xml(xmlrpc::encode_response(&v)),
            Err(e) => xml_fault(&e, false),
        },
        Err(e) => xml_parse_fault(&e),
    }
}

fn xmlrpc_object(inner: &Shared, req: &Request, legacy: bool) -> Response {
    let body = String::from_utf8_lossy(&req.body);
    let (method, params) = match xmlrpc::decode_call(&body) {
        Ok(x) => x,
        Err(e) => return xml_parse_fault(&e),
    };
    if method != "execute_kw" {
        return xml_fault(
            &Exception::UnknownMethod(format!("object.{method}")),
            legacy,
        );
    }
    match execute_kw(inner, &params) {
        // Python's marshaller refuses None, anywhere in the answer (`create_invoices`'
        // action holds one); the method has run and Odoo has committed.
        Ok(v) if has_nil(&v) => xml_fault(
            &Exception::TypeError("cannot marshal None unless allow_none is enabled".into()),
            legacy,
        ),
        Ok(v) => xml(xmlrpc::encode_response(&v)),
        Err(e) => xml_fault(&e, legacy),
    }
}

fn has_nil(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Array(a) => a.iter().any(has_nil),
        Value::Struct(m) => m.iter().any(|(_, v)| has_nil(v)),
        _ => false,
    }
}

fn xml_fault(e: &Exception, legacy: bool) -> Response {
    let (code, string) = e.xmlrpc_fault();
    if legacy && code == 2 {
        // The legacy /xmlrpc/object path puts the exception into faultCode as a string.
        let (name, message) = e.name_and_message();
        let short = name.rsplit('.').next().unwrap_or(name);
        return xml(xmlrpc::encode_fault(
            &Value::str(format!("warning -- {short}\n\n{message}")),
            "",
        ));
    }
    xml(xmlrpc::encode_fault(&Value::Int(code), &string))
}

fn xml_parse_fault(detail: &str) -> Response {
    let tb = format!(
        "Traceback (most recent call last):\n  File \"/opt/odoo/addons/rpc/controllers/xmlrpc.py\", line 133, in _xmlrpc\n    params, method = xmlrpc.client.loads(data, use_datetime=True)\nxml.parsers.expat.ExpatError: {detail}\n"
    );
    xml(xmlrpc::encode_fault(&Value::Int(1), &tb))
}

fn jsonrpc(inner: &Shared, req: &Request) -> Response {
    let Ok(j) = serde_json::from_slice::<serde_json::Value>(&req.body) else {
        return Response {
            status: 400,
            content_type: HTML,
            body: b"Invalid JSON data".to_vec(),
            location: None,
        };
    };
    let id = j.get("id").cloned().unwrap_or(serde_json::Value::Null);
    let p = &j["params"];
    let service = p["service"].as_str().unwrap_or("");
    let method = p["method"].as_str().unwrap_or("");
    let args: Vec<Value> = p["args"]
        .as_array()
        .map(|a| a.iter().map(Value::from_json).collect())
        .unwrap_or_default();
    let result = match service {
        "common" => common(inner, method, &args),
        "object" if method == "execute_kw" => execute_kw(inner, &args),
        _ => Err(Exception::UnknownMethod(format!("{service}.{method}"))),
    };
    match result {
        // A None result: the answer simply has no "result" member.
        Ok(Value::Nil) => json(200, &serde_json::json!({"jsonrpc": "2.0", "id": id})),
        Ok(v) => json(
            200,
            &serde_json::json!({"jsonrpc": "2.0", "id": id, "result": v.to_json()}),
        ),
        Err(e) => json(
            200,
            &serde_json::json!({"jsonrpc": "2.0", "id": id, "error": e.jsonrpc_error()}),
        ),
    }
}

fn json2_unauthorized(message: &str) -> Response {
    json(
        401,
        &serde_json::json!({"name": "werkzeug.exceptions.Unauthorized", "message": message, "arguments": [message, 401], "context": {}, "debug": format!("Traceback (most recent call last):\nwerkzeug.exceptions.Unauthorized: 401 Unauthorized: {message}\n")}),
    )
}

fn json2(inner: &Shared, req: &Request) -> Response {
    if let Some(db) = req.header("X-Odoo-Database")
        && db != world::DB
    {
        return Response {
                status: 404,
                content_type: HTML,
                body: b"<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database is selected and the requested URL was not found in the server-wide controllers.</p><p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>\n<!-- Alternatively, use the X-Odoo-Database header. -->\n".to_vec(),
                location: None,
            };
    }
    if req.method != "POST" {
        let m = "Did you mean POST /json/2/<model>/<method>?";
        return json(
            404,
            &serde_json::json!({"name": "werkzeug.exceptions.NotFound", "message": m, "arguments": [m, 404], "context": {}, "debug": ""}),
        );
    }
    let key = req
        .header("Authorization")
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, k)| k.trim().to_string());
    let Some(key) = key else {
        return json2_unauthorized(
            "User not authenticated, use an API Key with a Bearer Authorization header.",
        );
    };
    let mut w = inner.world.lock().unwrap();
    let uid = match w.user_by_key(&key) {
        Some(uid) if !inner.rejects_credentials() => uid,
        _ => return json2_unauthorized("Invalid apikey"),
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&req.body) {
        Ok(serde_json::Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), Value::from_json(v)))
            .collect(),
        Ok(_) | Err(_) => {
            let m = "could not parse the body as json: Expecting value: line 1 column 1 (char 0)";
            return json(
                400,
                &serde_json::json!({"name": "werkzeug.exceptions.BadRequest", "message": m, "arguments": [m, 400], "context": {}, "debug": ""}),
            );
        }
    };
    let rest = req.path.trim_start_matches("/json/2/");
    let (model, method) = rest.split_once('/').unwrap_or((rest, ""));
    let result =
        bind_json2(model, method, body).and_then(|b| w.call(uid, model, method, b.ids, &b.args));
    match result {
        Ok(v) => json(200, &v.to_json()),
        Err(e) => {
            let (status, body) = e.json2_error();
            json(status, &body)
        }
    }
}

/// Lets tests and the demo drive the world directly (e.g. "staff adds a line in Odoo").
pub(crate) fn with_world<R>(inner: &Shared, f: impl FnOnce(&mut World) -> R) -> R {
    f(&mut inner.world.lock().unwrap())
}
