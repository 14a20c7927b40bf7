//! Delivery over SMTP with lettre: STARTTLS (required) or implicit TLS with
//! rustls, or plain text to the local host when configured so;
//! authentication; an optional CA file added to the system's roots. Every
//! send is bounded by the configured timeout as a whole (lettre's own
//! covers the connection, and a server that accepts and never greets would
//! hang it). A failure says at which step it failed: DNS, TCP, TLS,
//! authentication, a refused recipient or message, or the timeout.

use super::config::{Smtp, TlsMode};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::fmt;

/// The step a delivery failed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Config,
    Dns,
    Tcp,
    Timeout,
    Tls,
    Authentication,
    Rejected,
    Server,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Config => "configuration",
            Stage::Dns => "DNS",
            Stage::Tcp => "TCP connection",
            Stage::Timeout => "timeout",
            Stage::Tls => "TLS",
            Stage::Authentication => "authentication",
            Stage::Rejected => "recipient or message refused",
            Stage::Server => "server error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub stage: Stage,
    pub message: String,
    /// A 4xx answer or a network problem: worth trying again.
    pub transient: bool,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.stage.name(), self.message)
    }
}

fn err(stage: Stage, message: String) -> SendError {
    SendError {
        stage,
        message,
        transient: !matches!(stage, Stage::Config),
    }
}

/// The error and every cause under it, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn transport(smtp: &Smtp, hello: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
        .port(smtp.port)
        .timeout(Some(smtp.timeout))
        .hello_name(ClientId::Domain(hello.to_string()));
    if smtp.tls != TlsMode::None {
        let mut params = TlsParameters::builder(smtp.host.clone());
        if let Some(ca) = &smtp.ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                err(
                    Stage::Config,
                    format!("{}: cannot read the CA file: {e}", ca.display()),
                )
            })?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| err(Stage::Config, format!("{}: {}", ca.display(), chain(&e))))?;
            params = params.add_root_certificate(cert);
        }
        let params = params
            .build_rustls()
            .map_err(|e| err(Stage::Tls, chain(&e)))?;
        b = b.tls(if smtp.tls == TlsMode::Starttls {
            Tls::Required(params)
        } else {
            Tls::Wrapper(params)
        });
    }
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        b = b.credentials(Credentials::new(user.clone(), password.0.clone()));
    }
    Ok(b.build())
}

/// Resolves the server's name and opens (and closes) a TCP connection:
/// which of the two fails, and why.
async fn reach(smtp: &Smtp) -> Result<std::net::SocketAddr, SendError> {
    let target = format!("{}:{}", smtp.host, smtp.port);
    let addrs: Vec<std::net::SocketAddr> =
        match tokio::time::timeout(smtp.timeout, tokio::net::lookup_host(target.as_str())).await {
            Err(_) => {
                return Err(err(
                    Stage::Dns,
                    format!(
                        "no answer from the resolver for `{}` within {:?}",
                        smtp.host, smtp.timeout
                    ),
                ));
            }
            Ok(Err(e)) => {
                return Err(err(
                    Stage::Dns,
                    format!("cannot resolve `{}`: {e}", smtp.host),
                ));
            }
            Ok(Ok(a)) => a.collect(),
        };
    let mut last = None;
    for addr in &addrs {
        match tokio::time::timeout(smtp.timeout, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_)) => return Ok(*addr),
            Ok(Err(e)) => last = Some(format!("cannot connect to {addr}: {e}")),
            Err(_) => last = Some(format!("no answer from {addr} within {:?}", smtp.timeout)),
        }
    }
    Err(err(
        Stage::Tcp,
        last.unwrap_or_else(|| format!("`{}` resolves to no address", smtp.host)),
    ))
}

fn classify(e: &lettre::transport::smtp::Error, smtp: &Smtp) -> SendError {
    let text = chain(e);
    let lower = text.to_lowercase();
    if e.is_timeout() {
        return err(Stage::Timeout, format!("{text} (after {:?})", smtp.timeout));
    }
    // The server hung up in the middle of the session (rustls words it as
    // a missing close_notify, with a link to its manual): say so plainly.
    if lower.contains("close_notify") || lower.contains("unexpected eof") {
        return err(
            Stage::Server,
            format!(
                "{}:{} closed the connection in the middle of the session, before it accepted the message",
                smtp.host, smtp.port
            ),
        );
    }
    if e.is_tls()
        || lower.contains("starttls")
        || lower.contains("certificate")
        || lower.contains("tls")
    {
        return err(Stage::Tls, text);
    }
    if let Some(code) = e.status() {
        let n: u16 = code.to_string().parse().unwrap_or(0);
        let transient = e.is_transient();
        let stage = match n {
            530 | 534 | 535 | 538 | 454 => Stage::Authentication,
            _ if lower.contains("auth") => Stage::Authentication,
            550..=554 | 501 => Stage::Rejected,
            _ => Stage::Server,
        };
        let what = if stage == Stage::Rejected
            && (lower.contains("recipient") || lower.contains("rcpt") || lower.contains("mailbox"))
        {
            "the server refused a recipient: "
        } else {
            ""
        };
        return SendError {
            stage,
            message: format!("{what}{text}"),
            transient,
        };
    }
    if lower.contains("authentication") || lower.contains("mechanism") {
        return err(Stage::Authentication, text);
    }
    err(Stage::Server, text)
}

/// Sends one message; the server's answer on acceptance.
pub async fn send(
    smtp: &Smtp,
    hello: &str,
    from: &str,
    to: &[String],
    eml: &[u8],
) -> Result<String, SendError> {
    let parse = |s: &str| {
        s.parse::<lettre::Address>()
            .map_err(|e| err(Stage::Config, format!("`{s}` is not an email address: {e}")))
    };
    let mut rcpt = Vec::new();
    for t in to {
        // A mailbox such as `Net Ops <netops@example.org>` has its address inside.
        let addr = t
            .parse::<lettre::message::Mailbox>()
            .map(|m| m.email)
            .or_else(|_| parse(t))?;
        rcpt.push(addr);
    }
    let sender = from
        .parse::<lettre::message::Mailbox>()
        .map(|m| m.email)
        .or_else(|_| parse(from))?;
    let envelope =
        Envelope::new(Some(sender), rcpt).map_err(|e| err(Stage::Config, e.to_string()))?;
    let t = transport(smtp, hello)?;
    match tokio::time::timeout(smtp.timeout, t.send_raw(&envelope, eml)).await {
        Ok(Ok(answer)) => Ok(format!(
            "{} {}",
            answer.code(),
            answer.message().collect::<Vec<_>>().join(" ")
        )),
        Ok(Err(e)) => {
            let classified = classify(&e, smtp);
            // A connection that failed: tell the name that does not resolve
            // from the port that does not answer.
            if classified.stage == Stage::Server && text_is_connection(&e) {
                reach(smtp).await?;
            }
            Err(classified)
        }
        Err(_) => Err(err(
            Stage::Timeout,
            format!(
                "no complete SMTP exchange with {}:{} within {:?} (the server accepted the connection but did not answer in time)",
                smtp.host, smtp.port, smtp.timeout
            ),
        )),
    }
}

fn text_is_connection(e: &lettre::transport::smtp::Error) -> bool {
    let t = e.to_string().to_lowercase();
    t.starts_with("connection error") || t.starts_with("network error")
}

/// For `driftwall test-email`: the server's name and port first, then a message.
pub async fn test(
    smtp: &Smtp,
    hello: &str,
    from: &str,
    to: &[String],
    eml: &[u8],
) -> Result<(std::net::SocketAddr, String), SendError> {
    let addr = reach(smtp).await?;
    let answer = send(smtp, hello, from, to, eml).await?;
    Ok((addr, answer))
}

/// A runtime for the blocking callers (the delivery thread, test-email).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
}
