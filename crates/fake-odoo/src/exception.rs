//! The exceptions the fake raises, and how each protocol renders them (fault codes,
//! JSON-RPC error names, JSON-2 HTTP statuses), as a real Odoo answers.

#[derive(Debug, Clone, PartialEq)]
pub enum Exception {
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

impl Exception {
    /// `(python exception path, message)`.
    pub fn name_and_message(&self) -> (&'static str, String) {
        match self {
            Exception::AccessDenied => ("odoo.exceptions.AccessDenied", "Access Denied".into()),
            Exception::AccessError(m) => ("odoo.exceptions.AccessError", m.clone()),
            Exception::PrivateMethod(q) => (
                "odoo.exceptions.AccessError",
                format!("Private methods (such as '{q}') cannot be called remotely."),
            ),
            Exception::MissingError(m) => ("odoo.exceptions.MissingError", m.clone()),
            Exception::ValidationError(m) => ("odoo.exceptions.ValidationError", m.clone()),
            Exception::UserError(m) => ("odoo.exceptions.UserError", m.clone()),
            Exception::UnknownModel(m) => (
                "odoo.exceptions.UserError",
                format!("Object {m} doesn't exist"),
            ),
            Exception::UnknownMethod(q) => (
                "builtins.AttributeError",
                format!("The method '{q}' does not exist"),
            ),
            Exception::Signature { python, .. } => ("builtins.TypeError", python.clone()),
            Exception::IdsOnModelMethod(q) => {
                ("builtins.TypeError", format!("cannot call {q} with ids"))
            }
            Exception::TypeError(m) => ("builtins.TypeError", m.clone()),
            Exception::ValueError(m) => ("builtins.ValueError", m.clone()),
            Exception::IndexError(m) => ("builtins.IndexError", m.clone()),
            Exception::UnknownDb(db) => (
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
            Exception::AccessDenied => (3, "Access Denied".into()),
            Exception::AccessError(_) | Exception::PrivateMethod(_) => {
                (4, self.name_and_message().1)
            }
            Exception::MissingError(_)
            | Exception::ValidationError(_)
            | Exception::UserError(_)
            | Exception::UnknownModel(_) => (2, self.name_and_message().1),
            _ => (1, self.traceback()),
        }
    }

    /// JSON-RPC `error` member.
    pub fn jsonrpc_error(&self) -> serde_json::Value {
        let (name, message) = self.name_and_message();
        let debug = match self {
            Exception::AccessDenied => "odoo.exceptions.AccessDenied: Access Denied\n".to_string(),
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
            Exception::AccessDenied => werkzeug(
                401,
                "werkzeug.exceptions.Unauthorized",
                "Invalid apikey".into(),
            ),
            Exception::UnknownModel(m) => werkzeug(
                404,
                "werkzeug.exceptions.NotFound",
                format!("the model '{m}' does not exist"),
            ),
            Exception::UnknownMethod(_) => werkzeug(
                404,
                "werkzeug.exceptions.NotFound",
                self.name_and_message().1,
            ),
            Exception::Signature { json2, .. } => werkzeug(
                422,
                "werkzeug.exceptions.UnprocessableEntity",
                json2.clone(),
            ),
            Exception::IdsOnModelMethod(_) => werkzeug(
                422,
                "werkzeug.exceptions.UnprocessableEntity",
                self.name_and_message().1,
            ),
            _ => {
                let status = match self {
                    Exception::AccessError(_) | Exception::PrivateMethod(_) => 403,
                    Exception::MissingError(_) => 404,
                    Exception::ValidationError(_) | Exception::UserError(_) => 422,
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
