//! XML-RPC: `POST /xmlrpc/2/common` and `/xmlrpc/2/object` (`execute_kw`). Deprecated in
//! Odoo 19 and scheduled for removal, still a way to talk to Odoo 16 to 18.

use orderbridge_wire::xmlrpc::{Response, decode_response, encode_call};

use super::error::{FaultKind, OdooError, parse_traceback, snippet};
use super::transport::Http;
use super::value::Value;
use super::{Call, Credentials, execute_kw_args, fault_to_error};

pub(crate) async fn call_service(
    http: &Http,
    creds: &Credentials,
    path: &str,
    method: &str,
    params: &[Value],
    what: &str,
) -> Result<Value, OdooError> {
    let body = encode_call(method, params).into_bytes();
    let reply = http.post(path, "text/xml", &[], body).await?;
    if reply.status != 200 || reply.is_html() {
        return Err(OdooError::Http {
            status: reply.status,
            url: http.shown_url().to_string(),
            snippet: snippet(&reply.body),
        });
    }
    let text = String::from_utf8_lossy(&reply.body);
    match decode_response(&text) {
        Ok(Response::Params(v)) => Ok(v),
        Ok(Response::Fault { code, string }) => fault(creds, what, &code, &string),
        Err(e) => Err(OdooError::Protocol {
            detail: format!(
                "expected XML-RPC: {e}; the answer began with '{}'",
                snippet(&reply.body)
            ),
        }),
    }
}

fn fault(creds: &Credentials, what: &str, code: &Value, string: &str) -> Result<Value, OdooError> {
    let (kind, exception, message, traceback) = match code {
        Value::Int(3) => (
            FaultKind::Access,
            "AccessDenied".to_string(),
            string.to_string(),
            None,
        ),
        Value::Int(4) => (
            FaultKind::Access,
            "AccessError".to_string(),
            string.to_string(),
            None,
        ),
        // Code 2 carries the message only, which Odoo's user-facing exceptions share: the
        // exception's name is not on the wire.
        Value::Int(2) => (FaultKind::User, String::new(), string.to_string(), None),
        Value::Int(1) => {
            let (name, msg) = parse_traceback(string);
            // The method ran and Odoo committed; only marshalling its None result failed.
            if name == "TypeError" && msg.starts_with("cannot marshal None") {
                return Ok(Value::Nil);
            }
            (FaultKind::Internal, name, msg, Some(string.to_string()))
        }
        // The legacy /xmlrpc/object path puts "warning -- MissingError\n\nmessage" in faultCode.
        Value::Str(s) => {
            let (head, rest) = s.split_once("\n\n").unwrap_or((s.as_str(), ""));
            let name = head
                .rsplit("-- ")
                .next()
                .unwrap_or("Exception")
                .trim()
                .to_string();
            (FaultKind::User, name, rest.trim().to_string(), None)
        }
        _ => (
            FaultKind::Internal,
            "Exception".to_string(),
            string.to_string(),
            None,
        ),
    };
    Err(fault_to_error(
        creds,
        what,
        kind,
        exception,
        message.trim_end().to_string(),
        traceback,
    ))
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
        "/xmlrpc/2/object",
        "execute_kw",
        &execute_kw_args(creds, uid, call),
        &call.label(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            db: "portal".into(),
            login: "admin".into(),
            api_key: None,
            rpc_secret: None,
        }
    }

    #[test]
    fn fault_code_1_is_odoo_failing_inside() {
        let tb = "Traceback (most recent call last):\n  File \"/opt/odoo/odoo/service/model.py\", line 98, in call_kw\nIndexError: list index out of range\n";
        match fault(&creds(), "sale.order.create", &Value::Int(1), tb) {
            Err(OdooError::Fault {
                kind, exception, ..
            }) => {
                assert_eq!(kind, FaultKind::Internal);
                assert_eq!(exception, "IndexError");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fault_code_2_is_about_the_data_sent() {
        let r = fault(
            &creds(),
            "sale.order.create",
            &Value::Int(2),
            "Record does not exist",
        );
        assert!(matches!(
            r,
            Err(OdooError::Fault {
                kind: FaultKind::User,
                ..
            })
        ));
    }
}
