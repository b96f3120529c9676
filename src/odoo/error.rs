//! What can go wrong talking to Odoo, typed so callers can decide (retry, adopt, report).
//!
//! Messages never contain a password or API key: requests are never echoed, and server
//! text is cut to a short snippet.

use std::fmt;

/// How the request failed before an HTTP answer arrived. The first three happen while
/// connecting, so the request was never sent; the others may have reached Odoo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Nothing listens at the address.
    Refused,
    /// No connection could be made (host name not found, network unreachable, connect
    /// timeout).
    Connect,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// No answer within the timeout: the request may have been processed.
    Timeout,
    /// The connection broke after it was made: the request may have been processed.
    Interrupted,
}

impl TransportKind {
    /// The request never left this machine: Odoo cannot have processed it.
    pub fn never_sent(self) -> bool {
        matches!(
            self,
            TransportKind::Refused | TransportKind::Connect | TransportKind::Tls
        )
    }
}

/// What kind of exception an Odoo fault carries, from its fault code (XML-RPC) or its
/// exception's module (JSON-RPC, JSON-2), never from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `odoo.exceptions.UserError`, `ValidationError`, `MissingError`: about the data sent.
    User,
    /// `odoo.exceptions.AccessError`: the user's rights.
    Access,
    /// Any other exception (`IndexError`, `TypeError`, ...): Odoo failed on the request,
    /// which is no fault of the order's data.
    Internal,
}

impl FaultKind {
    /// From a Python exception path such as `odoo.exceptions.UserError` or `builtins.KeyError`.
    pub fn of_exception_path(path: &str) -> FaultKind {
        match path.strip_prefix("odoo.exceptions.") {
            Some("AccessError") => FaultKind::Access,
            Some(_) => FaultKind::User,
            None => FaultKind::Internal,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum OdooError {
    #[error("{}", transport_message(*.kind, .url, .detail))]
    Transport {
        kind: TransportKind,
        url: String,
        detail: String,
    },

    #[error("Odoo at {url} answered HTTP {status}{}", snippet_suffix(.snippet))]
    Http {
        status: u16,
        url: String,
        /// At most ~200 bytes of a body that was not the expected XML/JSON (a proxy's page).
        snippet: String,
    },

    #[error("authentication failed for user '{login}' on database '{db}'{}", detail_suffix(.detail))]
    AuthFailed {
        login: String,
        db: String,
        detail: String,
    },

    #[error("database '{db}' does not exist on the Odoo server")]
    UnknownDatabase { db: String },

    #[error("{}", fault_message(*.kind, .call, .exception, .message))]
    Fault {
        /// `model.method` that was called.
        call: String,
        kind: FaultKind,
        /// Short exception name: `AccessError`, `MissingError`, `ValidationError`, ...
        exception: String,
        message: String,
        /// The server traceback, shown only with `-v`.
        traceback: Option<String>,
    },

    /// Odoo answered an API call with a redirect, which the client never follows.
    #[error(
        "Odoo at {url} answered HTTP {status}, a redirect to '{location}', instead of an API answer"
    )]
    Redirected {
        status: u16,
        url: String,
        location: String,
    },

    #[error("this server is Odoo {server_version}; JSON-2 needs Odoo 19 or later")]
    Json2Unsupported { server_version: String, major: u32 },

    #[error("Odoo sent an answer that could not be read ({detail})")]
    Protocol { detail: String },

    #[error("{0}")]
    Config(String),
}

fn transport_message(kind: TransportKind, url: &str, detail: &str) -> String {
    let what = match kind {
        TransportKind::Refused => "connection refused",
        TransportKind::Connect => "could not connect",
        TransportKind::Tls => "TLS handshake failed",
        TransportKind::Timeout => "no answer before the timeout",
        TransportKind::Interrupted => "connection closed before the answer was complete",
    };
    if detail.is_empty() {
        format!("cannot reach Odoo at {url}: {what}")
    } else {
        format!("cannot reach Odoo at {url}: {what} ({detail})")
    }
}

fn fault_message(kind: FaultKind, call: &str, exception: &str, message: &str) -> String {
    match kind {
        FaultKind::Internal => format!(
            "Odoo failed on {call} with an unexpected {exception}: {}",
            one_line(message)
        ),
        _ if exception.is_empty() => format!("Odoo refused {call}: {}", one_line(message)),
        _ => format!("Odoo refused {call}: {exception}: {}", one_line(message)),
    }
}

/// Odoo's messages span lines; an error line must not.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn snippet_suffix(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(": {s}")
    }
}

fn detail_suffix(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" ({s})")
    }
}

/// What to do when Odoo failed inside on a request.
pub(crate) const INTERNAL_FAULT_HINT: &str = "this is an error inside Odoo, not a problem with the data sent: run with -v to see Odoo's traceback, and check the server's Odoo version (orderbridge supports 16 to 19)";

impl OdooError {
    /// What the user can do about it, in one line.
    pub fn hint(&self) -> &'static str {
        match self {
            OdooError::Transport {
                kind: TransportKind::Refused | TransportKind::Connect,
                ..
            } => "check ODOO_URL and that the Odoo server is running",
            OdooError::Transport {
                kind: TransportKind::Tls,
                ..
            } => "check the https URL and the server's certificate",
            OdooError::Transport {
                kind: TransportKind::Timeout,
                ..
            } => "the server is slow or unreachable; raise ODOO_TIMEOUT or try again later",
            OdooError::Transport { .. } => {
                "check the network path to the Odoo server and try again"
            }
            OdooError::Http { status: 404, .. } => {
                "check ODOO_URL (and ODOO_DB, which JSON-2 sends as X-Odoo-Database)"
            }
            OdooError::Http { .. } => {
                "a proxy or the server failed; try again later or check the server's logs"
            }
            OdooError::AuthFailed { .. } => {
                "check ODOO_USERNAME and ODOO_PASSWORD or ODOO_API_KEY (JSON-2 needs ODOO_API_KEY)"
            }
            OdooError::UnknownDatabase { .. } => "check ODOO_DB",
            OdooError::Fault {
                kind: FaultKind::Access,
                ..
            } => {
                "the Odoo user lacks the access rights for this operation; ask an Odoo administrator"
            }
            OdooError::Fault {
                kind: FaultKind::Internal,
                ..
            } => INTERNAL_FAULT_HINT,
            OdooError::Redirected { .. } => {
                "set ODOO_URL to the server's base URL (https://host, without /odoo or /web); on /json/2 a redirect to /web/login means the server has no JSON-2"
            }
            OdooError::Json2Unsupported { .. } => {
                "use ODOO_PROTOCOL=jsonrpc or auto (JSON-RPC and XML-RPC work on Odoo 16 to 19)"
            }
            OdooError::Fault { .. } => "Odoo rejected the request; see the message above",
            OdooError::Protocol { .. } => {
                "ODOO_URL may point at something that is not Odoo, or ODOO_PROTOCOL does not fit the server"
            }
            OdooError::Config(_) => "fix the configuration and run again",
        }
    }

    /// True when the server may have carried out the request although we saw no answer:
    /// a create with such an outcome must be looked up before it is retried.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            OdooError::Transport { kind, .. } => !kind.never_sent(),
            // A gateway error: the request may have reached Odoo behind the proxy.
            OdooError::Http { status, .. } => *status >= 500,
            OdooError::Protocol { .. } => true,
            _ => false,
        }
    }

    /// True when the settings, not Odoo, must change (exit code 2).
    pub fn is_misconfigured(&self) -> bool {
        matches!(
            self,
            OdooError::Config(_)
                | OdooError::Redirected { .. }
                | OdooError::Json2Unsupported { .. }
        )
    }

    /// True when Odoo could not be reached or refused our credentials (exit code 3).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            OdooError::Transport { .. }
                | OdooError::Http { .. }
                | OdooError::AuthFailed { .. }
                | OdooError::UnknownDatabase { .. }
                | OdooError::Protocol { .. }
        )
    }

    /// The same error with every secret value replaced by `***` in any text that came from
    /// the server (a proxy or a server may echo the request, password included).
    pub fn redacted(self, secrets: &[&str]) -> OdooError {
        let clean = |s: String| redact(s, secrets);
        match self {
            OdooError::Transport { kind, url, detail } => OdooError::Transport {
                kind,
                url: clean(url),
                detail: clean(detail),
            },
            OdooError::Http {
                status,
                url,
                snippet,
            } => OdooError::Http {
                status,
                url: clean(url),
                snippet: clean(snippet),
            },
            OdooError::AuthFailed { login, db, detail } => OdooError::AuthFailed {
                login,
                db,
                detail: clean(detail),
            },
            OdooError::Fault {
                call,
                kind,
                exception,
                message,
                traceback,
            } => OdooError::Fault {
                call,
                kind,
                exception: clean(exception),
                message: clean(message),
                traceback: traceback.map(clean),
            },
            OdooError::Redirected {
                status,
                url,
                location,
            } => OdooError::Redirected {
                status,
                url: clean(url),
                location: clean(location),
            },
            OdooError::Json2Unsupported {
                server_version,
                major,
            } => OdooError::Json2Unsupported {
                server_version: clean(server_version),
                major,
            },
            OdooError::Protocol { detail } => OdooError::Protocol {
                detail: clean(detail),
            },
            e @ (OdooError::UnknownDatabase { .. } | OdooError::Config(_)) => e,
        }
    }

    /// The server traceback, if any (for `-v`).
    pub fn traceback(&self) -> Option<&str> {
        match self {
            OdooError::Fault { traceback, .. } => traceback.as_deref(),
            _ => None,
        }
    }
}

/// `text` with every (non-empty) secret replaced by `***`.
pub(crate) fn redact(text: String, secrets: &[&str]) -> String {
    secrets.iter().filter(|s| !s.is_empty()).fold(text, |t, s| {
        if t.contains(s) {
            t.replace(s, "***")
        } else {
            t
        }
    })
}

/// Cuts a server body to a short, printable snippet (HTML tags collapsed to spaces).
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut in_tag = false;
    for ch in text.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(if c.is_control() { ' ' } else { c }),
            _ => {}
        }
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = collapsed.chars().take(200).collect();
    if collapsed.chars().count() > 200 {
        cut.push('…');
    }
    cut
}

/// A short name for a Python exception path: `odoo.exceptions.AccessError` → `AccessError`.
pub(crate) fn short_exception(name: &str) -> String {
    name.rsplit('.').next().unwrap_or(name).to_string()
}

/// Splits an XML-RPC code-1 fault string (a traceback) into exception name and message,
/// from its last line `ExceptionName: message`.
pub(crate) fn parse_traceback(tb: &str) -> (String, String) {
    let last = tb.trim_end().lines().last().unwrap_or("").trim();
    match last.split_once(": ") {
        Some((name, msg)) if !name.contains(' ') => (short_exception(name), msg.to_string()),
        _ => ("Exception".to_string(), last.to_string()),
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceback_last_line_gives_name_and_message() {
        let tb = "Traceback (most recent call last):\n  File \"x\"\nAttributeError: The method 'sale.order.no_such_method' does not exist\n";
        assert_eq!(
            parse_traceback(tb),
            (
                "AttributeError".into(),
                "The method 'sale.order.no_such_method' does not exist".into()
            )
        );
        let tb = "...\npsycopg2.OperationalError: connection to server failed\n\n";
        assert_eq!(parse_traceback(tb).0, "OperationalError");
    }

    #[test]
    fn fault_kind_comes_from_the_exception_module_not_its_text() {
        assert_eq!(
            FaultKind::of_exception_path("odoo.exceptions.ValidationError"),
            FaultKind::User
        );
        assert_eq!(
            FaultKind::of_exception_path("odoo.exceptions.AccessError"),
            FaultKind::Access
        );
        assert_eq!(
            FaultKind::of_exception_path("builtins.IndexError"),
            FaultKind::Internal
        );
        assert_eq!(
            FaultKind::of_exception_path("werkzeug.exceptions.UnprocessableEntity"),
            FaultKind::Internal
        );
    }

    #[test]
    fn secrets_are_redacted_from_every_server_text() {
        let e = OdooError::Fault {
            call: "sale.order.create".into(),
            kind: FaultKind::Internal,
            exception: "TypeError".into(),
            message: "bad args ['portal', 2, 'hunter2']".into(),
            traceback: Some("... 'hunter2' ...".into()),
        }
        .redacted(&["hunter2", ""]);
        let text = format!("{e} {:?}", e.traceback());
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("'***'"), "{text}");
    }

    #[test]
    fn html_snippet_is_short_and_tagless() {
        let page = b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
        assert_eq!(snippet(page), "502 Bad Gateway 502 Bad Gateway nginx");
        let long = vec![b'x'; 1000];
        assert!(snippet(&long).chars().count() <= 201);
    }
}
