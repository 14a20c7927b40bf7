//! One HTTP/1.1 POST of a JSON body over a plain TCP connection: all that
//! talking to Alertmanager's API needs. `Connection: close`, so the answer
//! ends where the connection does, and every step is bounded by a timeout.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Why a POST did not get a 2xx answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    #[error("cannot resolve {host}: {error}")]
    Resolve { host: String, error: std::io::Error },
    #[error("cannot connect to {addr}: {error}")]
    Connect { addr: String, error: std::io::Error },
    #[error("{addr}: {error}")]
    Io { addr: String, error: std::io::Error },
    #[error("{addr}: not an HTTP answer: {line:?}")]
    Garbled { addr: String, line: String },
    #[error("{addr} answered {status}: {body}")]
    Status {
        addr: String,
        status: u16,
        body: String,
    },
}

/// The most of an answer kept: Alertmanager's are a few bytes, an error
/// page is not worth more in a log.
const MAX_ANSWER: u64 = 64 * 1024;

/// POSTs `body` (JSON) to `http://host:port{path}`; the status on a 2xx.
pub fn post_json(
    host: &str,
    port: u16,
    path: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<u16, HttpError> {
    let shown = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|error| HttpError::Resolve {
            host: host.to_string(),
            error,
        })?
        .collect();
    let mut last = None;
    let mut stream = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let Some(mut stream) = stream else {
        return Err(HttpError::Connect {
            addr: shown,
            error: last.unwrap_or_else(|| std::io::Error::other("no address")),
        });
    };
    let io = |error| HttpError::Io {
        addr: shown.clone(),
        error,
    };
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {shown}\r\nUser-Agent: driftwall/{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).map_err(io)?;
    stream.flush().map_err(io)?;
    let mut answer = Vec::new();
    (&mut stream)
        .take(MAX_ANSWER)
        .read_to_end(&mut answer)
        .map_err(io)?;
    let text = String::from_utf8_lossy(&answer);
    let line = text.lines().next().unwrap_or_default();
    let status = line
        .strip_prefix("HTTP/1.")
        .and_then(|r| r.get(2..5))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| HttpError::Garbled {
            addr: shown.clone(),
            line: line.chars().take(80).collect(),
        })?;
    if (200..300).contains(&status) {
        return Ok(status);
    }
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.trim().chars().take(300).collect())
        .unwrap_or_default();
    Err(HttpError::Status {
        addr: shown,
        status,
        body,
    })
}
