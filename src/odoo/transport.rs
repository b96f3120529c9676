//! The HTTP seam under the three protocols: one reqwest client, timeouts, round-trip
//! counting, and the mapping of network failures onto [`OdooError`].

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use super::error::{OdooError, TransportKind};

/// One HTTP answer, read completely.
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub(crate) fn is_html(&self) -> bool {
        self.content_type.starts_with("text/html")
            || self.body.trim_ascii_start().starts_with(b"<!DOCTYPE")
            || self.body.trim_ascii_start().starts_with(b"<html")
    }
}

pub(crate) struct Http {
    client: reqwest::Client,
    base: String,
    /// The base URL without any user:password part, for messages.
    shown: String,
    round_trips: AtomicU64,
    /// The `Date` of the last answer (Unix seconds; 0 before any): Odoo's clock, which the
    /// change cursors anchor their overlap on.
    last_date: AtomicI64,
}

impl Http {
    pub(crate) fn new(base_url: &str, timeout: Duration) -> Result<Self, OdooError> {
        let base = base_url.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base).map_err(|e| {
            OdooError::Config(format!(
                "ODOO_URL '{}' is not a valid URL: {e}",
                strip_userinfo(&base)
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(OdooError::Config(format!(
                "ODOO_URL must start with http:// or https://, not '{}'",
                parsed.scheme()
            )));
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("orderbridge/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            // An API call is never redirected by Odoo: a redirect is an answer to report
            // (wrong base URL; Odoo 18 sends /json/2 calls to its login page).
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| OdooError::Config(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Http {
            client,
            shown: strip_userinfo(&base),
            base,
            round_trips: AtomicU64::new(0),
            last_date: AtomicI64::new(0),
        })
    }

    pub(crate) fn shown_url(&self) -> &str {
        &self.shown
    }

    pub(crate) fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// The server's clock at its last answer (its `Date` header), if it sent one.
    pub(crate) fn server_clock(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self.last_date.load(Ordering::Relaxed) {
            0 => None,
            t => chrono::DateTime::from_timestamp(t, 0),
        }
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        content_type: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<Reply, OdooError> {
        let mut req = self
            .client
            .post(format!("{}{}", self.base, path))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        self.send(req).await
    }

    pub(crate) async fn get(&self, path: &str) -> Result<Reply, OdooError> {
        self.send(self.client.get(format!("{}{}", self.base, path)))
            .await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Reply, OdooError> {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let resp = req.send().await.map_err(|e| self.classify(&e))?;
        let status = resp.status().as_u16();
        if resp.status().is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            return Err(OdooError::Redirected {
                status,
                url: self.shown.clone(),
                location: strip_userinfo(&location),
            });
        }
        if let Some(date) = resp
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
        {
            self.last_date.store(date.timestamp(), Ordering::Relaxed);
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = resp.bytes().await.map_err(|e| {
            let mut err = self.classify(&e);
            if let OdooError::Transport { kind, detail, .. } = &mut err {
                // The request was sent and the answer began: never "not sent".
                if *kind != TransportKind::Timeout {
                    *kind = TransportKind::Interrupted;
                }
                *detail = format!("the answer was cut off: {detail}");
            }
            err
        })?;
        tracing::debug!(
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "odoo http"
        );
        Ok(Reply {
            status,
            content_type,
            body: body.to_vec(),
        })
    }

    /// Classifies a failure by its kind, never by its text (which holds the URL): only an
    /// error of the connect phase (DNS, TCP, TLS handshake) proves the request was not sent;
    /// anything else may have reached Odoo.
    fn classify(&self, e: &reqwest::Error) -> OdooError {
        let mut detail = String::new();
        let mut io_kind = None;
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                io_kind = Some(io.kind());
            }
            detail = s.to_string();
            source = s.source();
        }
        let kind = if e.is_connect() {
            match io_kind {
                Some(std::io::ErrorKind::ConnectionRefused) => TransportKind::Refused,
                // TLS libraries report a failed handshake as invalid data; TCP never does.
                Some(std::io::ErrorKind::InvalidData) => TransportKind::Tls,
                _ => TransportKind::Connect,
            }
        } else if e.is_timeout() {
            TransportKind::Timeout
        } else {
            TransportKind::Interrupted
        };
        OdooError::Transport {
            kind,
            url: self.shown.clone(),
            detail,
        }
    }
}

/// `https://user:pw@host/` → `https://host/`: a URL may carry credentials; messages must not.
pub(crate) fn strip_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_stripped_from_shown_urls() {
        assert_eq!(
            strip_userinfo("https://bob:pw@odoo.example.com/x"),
            "https://odoo.example.com/x"
        );
        assert_eq!(
            strip_userinfo("http://127.0.0.1:8069"),
            "http://127.0.0.1:8069"
        );
    }
}
