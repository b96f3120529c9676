//! Output: one path for every report. `--json` serializes the report; otherwise it reads as
//! lines for people. Both go to stdout; a closed pipe is the reader's choice, not an error.

use std::io::{self, Write};

/// How reports are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Human,
    Json,
}

/// A report the CLI prints.
pub(super) trait Report: serde::Serialize {
    /// The report as lines for people.
    fn human(&self, out: &mut dyn Write) -> io::Result<()>;
}

/// Prints `report` on stdout in `format`, whole or not at all when serialization fails.
pub(super) fn emit<R: Report>(report: &R, format: Format) -> io::Result<()> {
    let mut buf = Vec::new();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut buf, report).map_err(io::Error::other)?;
            buf.push(b'\n');
        }
        Format::Human => report.human(&mut buf)?,
    }
    let mut stdout = io::stdout().lock();
    stdout.write_all(&buf)?;
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
