//! Posting an automation rule's webhooks as Odoo does: once, after the commit, from the
//! request that made the change, with a 1 s timeout and no retry ("send and forget").

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::world::Webhook;

/// Odoo's `requests.post(url, data=..., timeout=1)`.
const TIMEOUT: Duration = Duration::from_secs(1);

/// Posts one webhook; every failure (refused, slow, bad URL) is dropped, as Odoo drops it.
pub(crate) async fn post(hook: &Webhook) {
    let _ = tokio::time::timeout(TIMEOUT, send(hook)).await;
}

async fn send(hook: &Webhook) -> std::io::Result<()> {
    let rest = hook
        .url
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other("the fake posts over plain http only"))?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: python-requests/2.31.0\r\nAccept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        hook.body.len(),
        hook.body
    );
    stream.write_all(request.as_bytes()).await?;
    // Odoo waits for the answer (within the timeout) and ignores it.
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(())
}
