//! The JSON envelope every answer comes in (docs/json-output.md): a command's `--json`
//! output and `serve`'s `/v1` answers alike.

/// `{ok, command, exit_code, data | error}`.
#[derive(serde::Serialize)]
pub(crate) struct Envelope<'a, T: serde::Serialize> {
    pub ok: bool,
    pub command: &'a str,
    pub exit_code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<&'a T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorOut>,
}

#[derive(serde::Serialize)]
pub(crate) struct ErrorOut {
    pub message: String,
    pub hint: Option<String>,
    /// Odoo's traceback, when Odoo sent one.
    pub detail: Option<String>,
}

impl<'a, T: serde::Serialize> Envelope<'a, T> {
    /// A report, `ok` when its exit code is 0.
    pub(crate) fn of(command: &'a str, exit_code: i32, data: &'a T) -> Self {
        Envelope {
            ok: exit_code == 0,
            command,
            exit_code,
            data: Some(data),
            error: None,
        }
    }
}

impl<'a> Envelope<'a, ()> {
    /// A failure: its message, what to do next, and its exit code.
    pub(crate) fn failed(command: &'a str, e: &crate::error::Error) -> Self {
        Envelope::refused(
            command,
            e.exit_code(),
            e.to_string(),
            e.hint(),
            e.detail().map(str::to_string),
        )
    }

    /// A request refused before any work (a missing token, a body too large): no error of
    /// the library's stands behind it.
    pub(crate) fn refused(
        command: &'a str,
        exit_code: i32,
        message: String,
        hint: Option<String>,
        detail: Option<String>,
    ) -> Self {
        Envelope {
            ok: false,
            command,
            exit_code,
            data: None,
            error: Some(ErrorOut {
                message,
                hint,
                detail,
            }),
        }
    }
}
