//! `/metrics` over HTTP/1.1 (`metrics.listen`): a listener on its own
//! thread, so a scrape is answered from the latest snapshot while the main
//! loop is busy with a check. A scrape is one small GET; a web framework
//! would bring more code than the whole daemon, and std's sockets do it.
//!
//! One connection at a time, each with short timeouts and `Connection:
//! close`: Prometheus scrapes one request per interval, and a client that
//! stalls holds the listener for two seconds at most.

use super::Metrics;
use super::error::MetricsError;
use super::registry::CONTENT_TYPE;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a client may take to send its request or read the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

/// The most a request head may hold; a scrape's is a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;

/// The running listener; [`Server::stop`] ends it.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on `addr` (`127.0.0.1:9420`, `[::]:9420`) and serves
    /// `metrics` until stopped.
    pub fn start(addr: &str, metrics: Arc<Metrics>) -> Result<Server, MetricsError> {
        let listen_err = |error| MetricsError::Listen {
            addr: addr.to_string(),
            error,
        };
        let listener = TcpListener::bind(addr).map_err(listen_err)?;
        let bound = listener.local_addr().map_err(listen_err)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || serve(&listener, &metrics, &flag))
            .map_err(listen_err)?;
        Ok(Server {
            addr: bound,
            stop,
            thread: Some(thread),
        })
    }

    /// The address bound (with the port the system chose for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the listener and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // accept() blocks: a connection of our own wakes it to see the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.shutdown();
        }
    }
}

fn serve(listener: &TcpListener, metrics: &Metrics, stop: &AtomicBool) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match conn {
            Ok(stream) => {
                if let Err(e) = answer(stream, metrics) {
                    tracing::debug!(error = %e, "metrics request not answered");
                }
            }
            // Out of file descriptors, or a connection reset before accept:
            // not worth stopping the listener for.
            Err(e) => {
                tracing::warn!(error = %e, "cannot accept a metrics connection");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Request {
    Metrics { head_only: bool },
    Index,
    NotFound,
    MethodNotAllowed,
    Bad,
}

/// Reads a request line: `GET /metrics HTTP/1.1`. Query strings are
/// ignored (Prometheus sends none, others may).
pub(crate) fn request(head: &str) -> Request {
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Request::Bad;
    };
    if !version.starts_with("HTTP/1.") {
        return Request::Bad;
    }
    let path = target.split('?').next().unwrap_or_default();
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Request::MethodNotAllowed,
    };
    match path {
        "/metrics" => Request::Metrics { head_only },
        "/" => Request::Index,
        _ => Request::NotFound,
    }
}

fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

fn answer(mut stream: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let head = read_head(&mut stream)?;
    if head.is_empty() {
        // The wake-up connection of `stop`, or a port check.
        return Ok(());
    }
    let (status, content_type, body, head_only) = match request(&head) {
        Request::Metrics { head_only } => match metrics.render() {
            Ok(text) => ("200 OK", CONTENT_TYPE, text, head_only),
            Err(e) => {
                tracing::error!(error = %e, "cannot encode the metrics");
                (
                    "500 Internal Server Error",
                    "text/plain; charset=utf-8",
                    format!("{e}\n"),
                    false,
                )
            }
        },
        Request::Index => (
            "200 OK",
            "text/html; charset=utf-8",
            "<html><head><title>driftwall</title></head><body><a href=\"/metrics\">metrics</a></body></html>\n".into(),
            false,
        ),
        Request::NotFound => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found: the metrics are at /metrics\n".into(),
            false,
        ),
        Request::MethodNotAllowed => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET and HEAD\n".into(),
            false,
        ),
        Request::Bad => (
            "400 Bad Request",
            "text/plain; charset=utf-8",
            "not an HTTP/1 request\n".into(),
            false,
        ),
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    stream.write_all(&out)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_are_read() {
        assert_eq!(
            request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Request::Metrics { head_only: false }
        );
        assert_eq!(
            request("HEAD /metrics?x=1 HTTP/1.0\r\n\r\n"),
            Request::Metrics { head_only: true }
        );
        assert_eq!(request("GET / HTTP/1.1\r\n\r\n"), Request::Index);
        assert_eq!(request("GET /other HTTP/1.1\r\n\r\n"), Request::NotFound);
        assert_eq!(
            request("POST /metrics HTTP/1.1\r\n\r\n"),
            Request::MethodNotAllowed
        );
        assert_eq!(request("garbage"), Request::Bad);
        assert_eq!(request("GET /metrics SPDY/3\r\n\r\n"), Request::Bad);
    }

    #[test]
    fn a_scrape_is_answered_on_a_real_socket() {
        let metrics = Arc::new(Metrics::default());
        let server = Server::start("127.0.0.1:0", metrics).unwrap();
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(
            text.contains("Content-Type: text/plain; version=0.0.4"),
            "{text}"
        );
        assert!(text.contains("driftwall_build_info{version="), "{text}");
        server.stop();
    }
}
