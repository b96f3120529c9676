//! Output: one path for every report. `--json` serializes the report; otherwise it reads as
//! lines for people. Both go to stdout; a closed pipe is the reader's choice, not an error.

use std::io::{self, Write};

/// How reports are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Human,
    Json,
}

/// Where a run's report goes: the format, and the command's name for the JSON envelope.
#[derive(Debug, Clone, Copy)]
pub(super) struct Output {
    pub format: Format,
    pub command: &'static str,
}

use crate::envelope::Envelope;

/// A report the CLI prints.
pub(super) trait Report: serde::Serialize {
    /// The report as lines for people.
    fn human(&self, out: &mut dyn Write) -> io::Result<()>;
}

/// Prints `report` on stdout, whole or not at all when serialization fails; returns the
/// exit code, which the JSON envelope carries.
pub(super) fn emit<R: Report>(report: &R, out: Output, exit_code: i32) -> io::Result<i32> {
    let mut buf = Vec::new();
    match out.format {
        Format::Json => {
            let envelope = Envelope::of(out.command, exit_code, report);
            serde_json::to_writer_pretty(&mut buf, &envelope).map_err(io::Error::other)?;
            buf.push(b'\n');
        }
        Format::Human => report.human(&mut buf)?,
    }
    write_out(&buf)?;
    Ok(exit_code)
}

/// The envelope of a run that failed, for `--json`.
pub(super) fn emit_error(e: &crate::error::Error, out: Output) -> io::Result<()> {
    let envelope = Envelope::failed(out.command, e);
    let mut buf = serde_json::to_vec_pretty(&envelope).map_err(io::Error::other)?;
    buf.push(b'\n');
    write_out(&buf)
}

/// A JSON envelope as one line, for `--json-lines` streams.
pub(super) fn envelope_line<T: serde::Serialize>(
    data: &T,
    out: Output,
    exit_code: i32,
) -> io::Result<String> {
    serde_json::to_string(&Envelope::of(out.command, exit_code, data)).map_err(io::Error::other)
}

/// Bytes as they are (completions, the man page).
pub(super) fn write_raw(buf: &[u8]) -> io::Result<()> {
    write_out(buf)
}

fn write_out(buf: &[u8]) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(buf)?;
    stdout.flush()
}

/// Text from a user or from Odoo, safe to print: control characters (escape sequences, line
/// breaks) are shown escaped instead of acting on the terminal.
pub(super) fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

/// Rows as CSV (RFC 4180: a field with a comma, quote or line break is quoted).
pub(super) fn write_csv(rows: &[Vec<String>]) -> io::Result<()> {
    let field = |f: &str| {
        if f.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", f.replace('"', "\"\""))
        } else {
            f.to_string()
        }
    };
    let mut buf = String::new();
    for row in rows {
        let line: Vec<String> = row.iter().map(|f| field(f)).collect();
        buf.push_str(&line.join(","));
        buf.push_str("\r\n");
    }
    write_out(buf.as_bytes())
}
