//! The daemon's configuration: YAML validated like policies (every problem
//! at once, with line and column, unknown keys rejected), or an embedded
//! default that watches the standard firewall files present on the machine.

use crate::alert::config::{Alertmanager, Email, Secret, Smtp, TlsMode};
use crate::duration::parse_duration;
use crate::input::InputFormat;
use crate::policy::yaml::{self, Node, Value};
use crate::policy::{Role, RoleKind};
use driftwall_parsers::model::Interface;
use ipnet::IpNet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One problem in the configuration, at its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
#[non_exhaustive]
pub struct ConfigError {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Something to watch.
#[derive(Debug, Clone, PartialEq)]
pub enum Watch {
    /// A firewall file; watched through its folder.
    File { path: PathBuf, format: InputFormat },
    /// A ufw configuration folder (`/etc/ufw`) and its defaults file (by
    /// default `ROOT/etc/default/ufw` beside `ROOT/etc/ufw`), watched and
    /// read as one source, the way ufw loads them.
    Ufw {
        dir: PathBuf,
        defaults: Option<PathBuf>,
    },
    /// A firewalld configuration folder (`/etc/firewalld`) with the stock
    /// definitions it is read over (`stock`: a folder or `builtin`; by
    /// default `ROOT/usr/lib/firewalld` beside `ROOT/etc/firewalld`, else the
    /// host's `/usr/lib/firewalld`, else the built-in table), watched and
    /// read as one source, the way firewalld applies them.
    Firewalld {
        dir: PathBuf,
        stock: Option<PathBuf>,
    },
    /// A command printing the ruleset loaded in the kernel (`nft -j list
    /// ruleset`), run every `interval`, compared with a file (or a
    /// firewalld folder) if given.
    Command {
        argv: Vec<String>,
        interval: Duration,
        format: InputFormat,
        compare_with: Option<PathBuf>,
    },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub watch: Vec<Watch>,
    /// `apple:<name>` or policy file paths.
    pub policies: Vec<String>,
    pub role: Role,
    pub state_dir: PathBuf,
    pub outbox: PathBuf,
    /// How long events gather before they go out as one alert.
    pub group_wait: Duration,
    /// The least time between two alerts of one group.
    pub group_interval: Duration,
    /// How often an alert that stays unresolved is repeated.
    pub repeat_interval: Duration,
    /// Whether a group whose problems cleared gets a resolved notice.
    pub send_resolved: bool,
    /// At most this many messages an hour; the overflow goes out as one digest.
    pub max_per_hour: Option<u32>,
    /// Delivery by SMTP; without it alerts land in the outbox.
    pub email: Option<Email>,
    /// Alerts also posted to an Alertmanager (with or without email).
    pub alertmanager: Option<Alertmanager>,
    /// Where `/metrics` is served, if anywhere.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// A file the metrics are written to after every turn, for
    /// node_exporter's textfile collector.
    pub metrics_textfile: Option<PathBuf>,
    /// How long a burst of notifications may last before the files are read.
    pub debounce: Duration,
    /// A full rescan this often catches what notifications missed.
    pub rescan_interval: Duration,
    /// The largest watched file (or included file) read; a larger one is
    /// reported as not readable. The state keeps the text of each source
    /// and of its baseline, so this also bounds the state.
    pub max_source_size: u64,
    /// Where the configuration came from, for logs.
    pub source: String,
}

/// The default of `max_source_size`: ten times the largest real ruleset
/// seen, a tenth of what `check` reads (a 100 MB file of 1.7 M rules took
/// the daemon past 2 GB, issue 18).
pub const MAX_SOURCE_SIZE: u64 = 32 << 20;

/// The environment variable a password may come from when neither a file
/// nor systemd's credentials give one.
pub const PASSWORD_ENV: &str = "DRIFTWALL_SMTP_PASSWORD";

/// The files the embedded default watches, if they exist.
pub const STANDARD_FILES: &[&str] = &[
    "/etc/nftables.conf",
    "/etc/iptables/rules.v4",
    "/etc/iptables/rules.v6",
    "/etc/sysconfig/iptables",
    "/etc/pf.conf",
];

/// ufw's configuration folder, which the embedded default watches as one
/// source (with `/etc/default/ufw`) when ufw is installed: its rule files
/// alone are wired to nothing and would read as accepting everything.
pub const UFW_DIR: &str = "/etc/ufw";

/// firewalld's configuration folder, which the embedded default watches as
/// one source when it holds `firewalld.conf` or `zones/`, and compares with
/// the ruleset loaded in the kernel ([`LIVE_NFT`]).
pub const FIREWALLD_DIR: &str = "/etc/firewalld";

/// The command printing the live ruleset, in nft's JSON.
pub const LIVE_NFT: &[&str] = &["nft", "-j", "list", "ruleset"];

/// Where `nft` is installed on the distributions firewalld runs on.
pub(crate) const NFT_PATHS: &[&str] = &["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"];

/// What the embedded default watches on the machine whose root folder is
/// `root` (`/`): the standard files that exist, ufw's folder when ufw is
/// configured, and firewalld's folder when firewalld is, with the live
/// ruleset compared with it when `nft` is installed. The paths are the
/// host's as seen from `root`.
pub fn standard_watches(root: &Path) -> Vec<Watch> {
    let at = |p: &str| root.join(p.trim_start_matches('/'));
    let format_of = |p: &str| {
        if p.ends_with("rules.v6") {
            InputFormat::Ip6tables
        } else {
            InputFormat::Auto
        }
    };
    let mut watch: Vec<Watch> = STANDARD_FILES
        .iter()
        .filter(|p| at(p).exists())
        .map(|p| Watch::File {
            path: at(p),
            format: format_of(p),
        })
        .collect();
    if at(UFW_DIR).join("ufw.conf").exists() {
        watch.push(Watch::Ufw {
            dir: at(UFW_DIR),
            defaults: None,
        });
    }
    let firewalld = at(FIREWALLD_DIR);
    if firewalld.join("firewalld.conf").is_file() || firewalld.join("zones").is_dir() {
        watch.push(Watch::Firewalld {
            dir: firewalld.clone(),
            stock: None,
        });
        if NFT_PATHS.iter().any(|p| at(p).is_file()) {
            watch.push(Watch::Command {
                argv: LIVE_NFT.iter().map(|a| a.to_string()).collect(),
                interval: Duration::from_secs(60),
                format: InputFormat::NftJson,
                compare_with: Some(firewalld),
            });
        }
    }
    watch
}

/// The state directory systemd gives (`StateDirectory=`), or the usual one.
fn default_state_dir() -> PathBuf {
    std::env::var_os("STATE_DIRECTORY")
        .and_then(|d| std::env::split_paths(&d).next())
        .unwrap_or_else(|| PathBuf::from("/var/lib/driftwall"))
}

impl Config {
    /// With no configuration file: the standard firewall files that exist,
    /// against `apple:essentials`, as a host.
    pub fn embedded_default() -> Config {
        let state_dir = default_state_dir();
        Config {
            watch: standard_watches(Path::new("/")),
            policies: vec!["apple:essentials".into()],
            role: Role::default(),
            outbox: state_dir.join("outbox"),
            state_dir,
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_secs(300),
            repeat_interval: Duration::from_secs(4 * 3600),
            send_resolved: true,
            max_per_hour: None,
            email: None,
            alertmanager: None,
            metrics_listen: None,
            metrics_textfile: None,
            debounce: Duration::from_millis(500),
            rescan_interval: Duration::from_secs(300),
            max_source_size: MAX_SOURCE_SIZE,
            source: "the embedded default".into(),
        }
    }

    pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
        let shown = path.display().to_string();
        let text = crate::fsutil::read_input(path)
            .and_then(crate::fsutil::utf8_text)
            .map_err(|e| {
                vec![ConfigError {
                    path: shown.clone(),
                    line: 1,
                    column: 1,
                    message: format!("cannot read the configuration: {e}"),
                }]
            })?;
        Config::from_str(&shown, &text)
    }

    pub fn from_str(path: &str, text: &str) -> Result<Config, Vec<ConfigError>> {
        let root = yaml::parse(text).map_err(|e| {
            vec![ConfigError {
                path: path.into(),
                line: e.line,
                column: e.column,
                message: e.display(),
            }]
        })?;
        let mut cx = Cx {
            path,
            errors: Vec::new(),
        };
        let config = cx.config(&root);
        match config {
            Some(c) if cx.errors.is_empty() => Ok(c),
            _ => {
                cx.errors.sort_by_key(|e| (e.line, e.column));
                Err(cx.errors)
            }
        }
    }
}

struct Cx<'a> {
    path: &'a str,
    errors: Vec<ConfigError>,
}

/// Every key the reader accepts, by the mapping it sits in (`""` the top,
/// `watch` each entry of the list): driftwall.yaml(5) documents exactly
/// these, which a test checks.
pub const KEYS: &[(&str, &[&str])] = &[
    ("", TOP_KEYS),
    ("watch", WATCH_KEYS),
    ("alerts", ALERT_KEYS),
    ("alerts.email", EMAIL_KEYS),
    ("alerts.email.smtp", SMTP_KEYS),
    ("alerts.alertmanager", ALERTMANAGER_KEYS),
    ("metrics", METRICS_KEYS),
];

const TOP_KEYS: &[&str] = &[
    "watch",
    "policies",
    "role",
    "lan_interface",
    "lan_network",
    "wan_interface",
    "state_dir",
    "alerts",
    "debounce",
    "rescan_interval",
    "max_source_size",
    "metrics",
];
const WATCH_KEYS: &[&str] = &[
    "path",
    "format",
    "defaults",
    "stock",
    "command",
    "interval",
    "compare_with",
];
const ALERT_KEYS: &[&str] = &[
    "outbox",
    "group_wait",
    "email",
    "group_interval",
    "repeat_interval",
    "send_resolved",
    "max_per_hour",
    "alertmanager",
];
const ALERTMANAGER_KEYS: &[&str] = &["url", "resend_interval", "timeout"];
const METRICS_KEYS: &[&str] = &["listen", "textfile"];
const EMAIL_KEYS: &[&str] = &["from", "to", "smtp"];
const SMTP_KEYS: &[&str] = &[
    "host",
    "port",
    "tls",
    "username",
    "password_file",
    "ca_file",
    "timeout",
];

/// An `http://HOST[:PORT][/PREFIX]` URL as host, port (9093, Alertmanager's,
/// if none) and path prefix; what is wrong with it otherwise.
fn parse_http_url(url: &str) -> Result<(String, u16, String), String> {
    if url.starts_with("https://") {
        return Err(format!(
            "`{url}`: https is not supported: driftwall posts to Alertmanager in plain HTTP (no TLS stack for one POST); use an http:// URL to an Alertmanager on the host or on a trusted network, or a local TLS proxy"
        ));
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!(
            "`{url}` is not an http:// URL, expected e.g. http://127.0.0.1:9093"
        ));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(format!(
            "`{url}`: credentials in the URL are not supported, expected e.g. http://127.0.0.1:9093"
        ));
    }
    if path.contains(['?', '#']) {
        return Err(format!(
            "`{url}`: a query or fragment has no place in Alertmanager's URL"
        ));
    }
    // `[::1]:9093`: the brackets hold an IPv6 address, the port follows.
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, p)) => (h.to_string(), p.strip_prefix(':')),
            None => return Err(format!("`{url}`: unclosed `[` in the host")),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(format!(
            "`{url}` names no host, expected e.g. http://127.0.0.1:9093"
        ));
    }
    let port = match port {
        None => 9093,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(format!("`{url}`: `{p}` is not a port number 1-65535"));
            }
        },
    };
    Ok((host, port, path.trim_end_matches('/').to_string()))
}

/// Hosts a plain-text connection may go to.
fn is_local(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

impl Cx<'_> {
    fn err(&mut self, n: &Node, message: String) {
        self.errors.push(ConfigError {
            path: self.path.to_string(),
            line: n.line,
            column: n.column,
            message,
        });
    }

    fn entries<'n>(
        &mut self,
        n: &'n Node,
        known: &[&str],
        what: &str,
    ) -> Option<Vec<(&'n str, &'n Node, &'n Node)>> {
        let mut errs = Vec::new();
        let e = yaml::entries(n, known, what, &mut |_, node, m| {
            errs.push((node.line, node.column, m))
        });
        for (line, column, message) in errs {
            self.errors.push(ConfigError {
                path: self.path.to_string(),
                line,
                column,
                message,
            });
        }
        e
    }

    fn text(&mut self, n: &Node, what: &str) -> Option<String> {
        match n.scalar_text() {
            Some(s) if !s.trim().is_empty() => Some(s),
            _ => {
                self.err(n, format!("expected {what}, found {}", n.kind()));
                None
            }
        }
    }

    fn duration(&mut self, n: Option<&Node>, default: Duration) -> Duration {
        let Some(n) = n else { return default };
        let Some(t) = self.text(n, "a duration such as 30s") else {
            return default;
        };
        parse_duration(&t).unwrap_or_else(|m| {
            self.err(n, m.to_string());
            default
        })
    }

    fn list<T>(
        &mut self,
        n: &Node,
        what: &str,
        mut conv: impl FnMut(&str) -> Result<T, String>,
    ) -> Vec<T> {
        let items: Vec<&Node> = match &n.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![n],
        };
        let mut out = Vec::new();
        for item in items {
            match item.scalar_text() {
                None => self.err(item, format!("expected {what}, found {}", item.kind())),
                Some(s) => match conv(s.trim()) {
                    Ok(v) => out.push(v),
                    Err(m) => self.err(item, m),
                },
            }
        }
        out
    }

    fn format(&mut self, n: Option<&Node>) -> InputFormat {
        let Some(n) = n else { return InputFormat::Auto };
        match n.as_str() {
            Some("auto") => InputFormat::Auto,
            Some("iptables") => InputFormat::Iptables,
            Some("ip6tables") => InputFormat::Ip6tables,
            Some("nftables") => InputFormat::Nftables,
            Some("nft-json") => InputFormat::NftJson,
            Some("ufw") => InputFormat::Ufw,
            Some("pf") => InputFormat::Pf,
            Some("firewalld") => InputFormat::Firewalld,
            _ => {
                self.err(n, format!("unknown format `{}`, expected auto, iptables, ip6tables, nftables, nft-json, ufw, pf or firewalld", n.scalar_text().unwrap_or_default()));
                InputFormat::Auto
            }
        }
    }

    fn watch_item(&mut self, n: &Node) -> Option<Watch> {
        let e = self.entries(n, WATCH_KEYS, "a watch entry")?;
        let format = self.format(yaml::get(&e, "format"));
        match (yaml::get(&e, "path"), yaml::get(&e, "command")) {
            (Some(p), None) => {
                for key in ["interval", "compare_with"] {
                    if let Some(v) = yaml::get(&e, key) {
                        self.err(
                            v,
                            format!("`{key}` belongs to a `command` entry, not to a `path`"),
                        );
                    }
                }
                let path = PathBuf::from(self.text(p, "a file path")?);
                let defaults = yaml::get(&e, "defaults");
                let stock = yaml::get(&e, "stock");
                // A folder is a firewalld or a ufw configuration, told apart
                // as `driftwall check` tells them; one not there yet, by its name.
                let firewalld = format == InputFormat::Firewalld
                    || (format == InputFormat::Auto
                        && if path.is_dir() {
                            crate::input::is_firewalld_dir(&path)
                        } else {
                            !path.exists() && path.file_name().is_some_and(|n| n == "firewalld")
                        });
                if firewalld {
                    if let Some(d) = defaults {
                        self.err(
                            d,
                            "`defaults` belongs to a ufw configuration folder (`format: ufw`)"
                                .into(),
                        );
                    }
                    let stock = stock.and_then(|s| {
                        let p = PathBuf::from(self.text(
                            s,
                            "the folder of firewalld's stock definitions, or `builtin`",
                        )?);
                        // Named on purpose, it must be there: without it every
                        // stock zone and service would be undefined.
                        if p != Path::new("builtin") && !p.is_dir() {
                            self.err(s, format!("`{}` is not a folder of firewalld's stock definitions, expected e.g. /usr/lib/firewalld, or `builtin` for the built-in table", p.display()));
                        }
                        Some(p)
                    });
                    return Some(Watch::Firewalld { dir: path, stock });
                }
                if let Some(s) = stock {
                    self.err(
                        s,
                        "`stock` belongs to a firewalld configuration folder (`format: firewalld`)"
                            .into(),
                    );
                }
                if format == InputFormat::Ufw || (format == InputFormat::Auto && path.is_dir()) {
                    let defaults = defaults
                        .and_then(|d| self.text(d, "the path of ufw's defaults file"))
                        .map(PathBuf::from);
                    return Some(Watch::Ufw {
                        dir: path,
                        defaults,
                    });
                }
                if let Some(d) = defaults {
                    self.err(
                        d,
                        "`defaults` belongs to a ufw configuration folder (`format: ufw`)".into(),
                    );
                }
                Some(Watch::File { path, format })
            }
            (None, Some(c)) => {
                let argv: Vec<String> = self.list(c, "a command word", |s| Ok(s.to_string()));
                if argv.is_empty() {
                    self.err(
                        c,
                        "`command` is empty, expected e.g. [nft, -j, list, ruleset]".into(),
                    );
                    return None;
                }
                for key in ["defaults", "stock"] {
                    if let Some(v) = yaml::get(&e, key) {
                        self.err(
                            v,
                            format!("`{key}` belongs to a configuration folder's `path`, not to a `command`"),
                        );
                    }
                }
                let interval = self.duration(yaml::get(&e, "interval"), Duration::from_secs(60));
                let compare_with = yaml::get(&e, "compare_with")
                    .and_then(|v| self.text(v, "a file path"))
                    .map(PathBuf::from);
                // What `nft -j` prints is JSON; anything else is detected.
                let format = if format == InputFormat::Auto && argv.iter().any(|a| a == "-j") {
                    InputFormat::NftJson
                } else {
                    format
                };
                Some(Watch::Command {
                    argv,
                    interval,
                    format,
                    compare_with,
                })
            }
            (Some(p), Some(_)) => {
                self.err(
                    p,
                    "a watch entry has either `path` or `command`, not both".into(),
                );
                None
            }
            (None, None) => {
                self.err(
                    n,
                    "a watch entry needs `path` (a file) or `command` (the live ruleset)".into(),
                );
                None
            }
        }
    }

    fn email(&mut self, n: &Node) -> Option<Email> {
        let e = self.entries(n, EMAIL_KEYS, "`alerts.email`")?;
        let mailbox = |s: &str| -> Result<String, String> {
            s.parse::<lettre::message::Mailbox>()
                .map(|_| s.to_string())
                .map_err(|e| {
                    format!("`{s}` is not an email address ({e}), expected e.g. netops@example.org")
                })
        };
        let from = match yaml::get(&e, "from") {
            Some(f) => self.list(f, "an email address", mailbox).into_iter().next(),
            None => {
                self.err(n, "`alerts.email` needs `from`, the sender address, e.g. driftwall@fw1.example.org".into());
                None
            }
        };
        let to = match yaml::get(&e, "to") {
            Some(t) => {
                let to = self.list(t, "an email address", mailbox);
                if to.is_empty() && matches!(&t.value, Value::Seq(items) if items.is_empty()) {
                    self.err(t, "`to` is empty, expected at least one recipient".into());
                }
                to
            }
            None => {
                self.err(n, "`alerts.email` needs `to`, a list of recipients".into());
                Vec::new()
            }
        };
        let smtp = match yaml::get(&e, "smtp") {
            Some(s) => self.smtp(s),
            None => {
                self.err(n, "`alerts.email` needs `smtp`, e.g. {host: smtp.example.org, port: 587, tls: starttls}".into());
                None
            }
        };
        Some(Email {
            from: from?,
            to,
            smtp: smtp?,
        })
    }

    fn smtp(&mut self, n: &Node) -> Option<Smtp> {
        let e = self.entries(n, SMTP_KEYS, "`alerts.email.smtp`")?;
        let host = match yaml::get(&e, "host") {
            Some(h) => self.text(h, "a host name or address"),
            None => {
                self.err(n, "`smtp` needs `host`".into());
                None
            }
        };
        let tls = match yaml::get(&e, "tls") {
            None => TlsMode::Starttls,
            Some(t) => match t.as_str() {
                Some("starttls") => TlsMode::Starttls,
                Some("tls") | Some("implicit") => TlsMode::Implicit,
                Some("none") => {
                    if let Some(h) = host.as_deref().filter(|h| !is_local(h)) {
                        self.err(t, format!("`tls: none` sends the password and the alerts in clear text: allowed only to localhost, not to `{h}`; use starttls or tls"));
                    }
                    TlsMode::None
                }
                _ => {
                    self.err(t, format!("unknown tls mode `{}`, expected starttls, tls (implicit, port 465) or none (localhost only)", t.scalar_text().unwrap_or_default()));
                    TlsMode::Starttls
                }
            },
        };
        let port = match yaml::get(&e, "port") {
            None => match tls {
                TlsMode::Starttls => 587,
                TlsMode::Implicit => 465,
                TlsMode::None => 25,
            },
            Some(p) => match p.value {
                Value::Int(v) if (1..=65535).contains(&v) => v as u16,
                _ => {
                    self.err(
                        p,
                        format!(
                            "expected a port number 1-65535, found {}",
                            p.scalar_text()
                                .map(|t| format!("`{t}`"))
                                .unwrap_or_else(|| p.kind().into())
                        ),
                    );
                    0
                }
            },
        };
        let username = yaml::get(&e, "username").and_then(|u| self.text(u, "a user name"));
        let ca_file = yaml::get(&e, "ca_file").and_then(|f| {
            let path = PathBuf::from(self.text(f, "a PEM file of CA certificates")?);
            match std::fs::read(&path) {
                Ok(pem)
                    if String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") =>
                {
                    Some(path)
                }
                Ok(_) => {
                    self.err(
                        f,
                        format!(
                            "{}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the CA file",
                            path.display()
                        ),
                    );
                    None
                }
                Err(err) => {
                    self.err(
                        f,
                        format!("{}: cannot read the CA file: {err}", path.display()),
                    );
                    None
                }
            }
        });
        let timeout = self.duration(yaml::get(&e, "timeout"), Duration::from_secs(30));
        if timeout.is_zero()
            && let Some(t) = yaml::get(&e, "timeout")
        {
            self.err(
                t,
                "a timeout of 0 would fail every delivery, expected e.g. 30s".into(),
            );
        }
        // The password: a file named here, systemd's credential, or the environment.
        let password = match yaml::get(&e, "password_file") {
            Some(f) => {
                let path = self.text(f, "a file holding the password")?;
                match std::fs::read_to_string(&path) {
                    Ok(p) => Some(Secret(p.trim_end_matches(['\n', '\r']).to_string())),
                    Err(err) => {
                        self.err(f, format!("{path}: cannot read the SMTP password: {err}"));
                        None
                    }
                }
            }
            None => {
                let credential = std::env::var_os("CREDENTIALS_DIRECTORY")
                    .map(|d| PathBuf::from(d).join("smtp-password"))
                    .and_then(|p| std::fs::read_to_string(p).ok());
                credential
                    .or_else(|| std::env::var(PASSWORD_ENV).ok())
                    .map(|p| Secret(p.trim_end_matches(['\n', '\r']).to_string()))
            }
        };
        if let (Some(u), None, None) = (
            yaml::get(&e, "username"),
            &password,
            yaml::get(&e, "password_file"),
        ) {
            self.err(u, format!("no password for the SMTP user: set `password_file`, or give it as the systemd credential `smtp-password` (LoadCredential=), or in ${PASSWORD_ENV}"));
        }
        Some(Smtp {
            host: host?,
            port,
            tls,
            username,
            password,
            ca_file,
            timeout,
        })
    }

    fn alertmanager(&mut self, n: &Node) -> Option<Alertmanager> {
        let e = self.entries(n, ALERTMANAGER_KEYS, "`alerts.alertmanager`")?;
        let url = match yaml::get(&e, "url") {
            Some(u) => (
                u,
                self.text(u, "Alertmanager's URL, e.g. http://127.0.0.1:9093")?,
            ),
            None => {
                self.err(
                    n,
                    "`alerts.alertmanager` needs `url`, e.g. http://127.0.0.1:9093".into(),
                );
                return None;
            }
        };
        let resend_interval =
            self.duration(yaml::get(&e, "resend_interval"), Duration::from_secs(60));
        if resend_interval.is_zero()
            && let Some(r) = yaml::get(&e, "resend_interval")
        {
            self.err(
                r,
                "a resend_interval of 0 would post without pause, expected e.g. 1m".into(),
            );
        }
        let timeout = self.duration(yaml::get(&e, "timeout"), Duration::from_secs(10));
        if timeout.is_zero()
            && let Some(t) = yaml::get(&e, "timeout")
        {
            self.err(
                t,
                "a timeout of 0 would fail every posting, expected e.g. 10s".into(),
            );
        }
        match parse_http_url(url.1.trim()) {
            Ok((host, port, prefix)) => Some(Alertmanager {
                url: url.1.trim().to_string(),
                host,
                port,
                prefix,
                resend_interval,
                timeout,
            }),
            Err(m) => {
                self.err(url.0, m);
                None
            }
        }
    }

    fn metrics(&mut self, n: &Node, c: &mut Config) {
        let Some(e) = self.entries(n, METRICS_KEYS, "`metrics`") else {
            return;
        };
        if let Some(l) = yaml::get(&e, "listen")
            && let Some(t) = self.text(l, "an address and port, e.g. 127.0.0.1:9420")
        {
            match t.trim().parse::<std::net::SocketAddr>() {
                Ok(a) => c.metrics_listen = Some(a),
                Err(_) => self.err(
                    l,
                    format!("`{t}` is not an address and port, expected e.g. 127.0.0.1:9420, [::1]:9420 or 0.0.0.0:9420"),
                ),
            }
        }
        if let Some(f) = yaml::get(&e, "textfile")
            && let Some(t) = self.text(
                f,
                "a file path, e.g. /var/lib/prometheus/node-exporter/driftwall.prom",
            )
        {
            let p = PathBuf::from(t.trim());
            if p.extension().is_none_or(|x| x != "prom") {
                self.err(
                    f,
                    format!("`{}`: node_exporter's textfile collector reads only files ending in .prom, expected e.g. /var/lib/prometheus/node-exporter/driftwall.prom", p.display()),
                );
            } else {
                c.metrics_textfile = Some(p);
            }
        }
    }

    fn config(&mut self, root: &Node) -> Option<Config> {
        let e = self.entries(root, TOP_KEYS, "the configuration")?;
        let mut c = Config::embedded_default();
        c.source = self.path.to_string();
        if let Some(w) = yaml::get(&e, "watch") {
            match &w.value {
                Value::Seq(items) => {
                    c.watch = items.iter().filter_map(|i| self.watch_item(i)).collect()
                }
                _ => self.err(
                    w,
                    format!("expected `watch` to be a list, found {}", w.kind()),
                ),
            }
        }
        if let Some(p) = yaml::get(&e, "policies") {
            c.policies = self.list(
                p,
                "a policy (apple:<name> or a file)",
                |s| Ok(s.to_string()),
            );
        }
        if let Some(r) = yaml::get(&e, "role") {
            c.role.kind = match r.as_str() {
                Some("host") => RoleKind::Host,
                Some("gateway") => RoleKind::Gateway,
                _ => {
                    self.err(r, "expected `host` or `gateway`".into());
                    RoleKind::Host
                }
            };
        }
        let iface = |s: &str| -> Result<Interface, String> {
            let name = s.strip_suffix('+').unwrap_or(s);
            if name.len() > 15 || (name.is_empty() && !s.ends_with('+')) {
                return Err(format!("interface name `{s}` must have 1-15 characters"));
            }
            Ok(Interface {
                name: name.to_string(),
                wildcard: s.ends_with('+'),
            })
        };
        if let Some(v) = yaml::get(&e, "lan_interface") {
            c.role.lan_interfaces = self.list(v, "an interface", iface);
        }
        if let Some(v) = yaml::get(&e, "wan_interface") {
            c.role.wan_interfaces = self.list(v, "an interface", iface);
        }
        if let Some(v) = yaml::get(&e, "lan_network") {
            c.role.lan_networks = self.list(v, "a network", |s| {
                s.parse::<IpNet>()
                    .map(|n| n.trunc())
                    .map_err(|_| format!("`{s}` is not a network, expected e.g. 192.168.1.0/24"))
            });
        }
        if let Some(s) = yaml::get(&e, "state_dir")
            && let Some(t) = self.text(s, "a folder")
        {
            c.state_dir = PathBuf::from(t);
            c.outbox = c.state_dir.join("outbox");
        }
        c.debounce = self.duration(yaml::get(&e, "debounce"), c.debounce);
        c.rescan_interval = self.duration(yaml::get(&e, "rescan_interval"), c.rescan_interval);
        if let Some(n) = yaml::get(&e, "max_source_size")
            && let Some(t) = self.text(n, "a size such as 32M")
        {
            match crate::fsutil::parse_size(&t) {
                Ok(size) => c.max_source_size = size,
                Err(m) => self.err(n, m),
            }
        }
        if let Some(a) = yaml::get(&e, "alerts")
            && let Some(ae) = self.entries(a, ALERT_KEYS, "`alerts`")
        {
            if let Some(o) = yaml::get(&ae, "outbox")
                && let Some(t) = self.text(o, "a folder")
            {
                c.outbox = PathBuf::from(t);
            }
            c.group_wait = self.duration(yaml::get(&ae, "group_wait"), c.group_wait);
            c.group_interval = self.duration(yaml::get(&ae, "group_interval"), c.group_interval);
            c.repeat_interval = self.duration(yaml::get(&ae, "repeat_interval"), c.repeat_interval);
            if let Some(v) = yaml::get(&ae, "send_resolved") {
                match v.value {
                    Value::Bool(b) => c.send_resolved = b,
                    _ => self.err(v, format!("expected `true` or `false`, found {}", v.kind())),
                }
            }
            if let Some(v) = yaml::get(&ae, "max_per_hour") {
                match v.value {
                    Value::Int(n) if n >= 1 && n <= i64::from(u32::MAX) => {
                        c.max_per_hour = Some(n as u32)
                    }
                    _ => self.err(
                        v,
                        format!(
                            "expected a number of messages of at least 1, found {}",
                            v.scalar_text()
                                .map(|t| format!("`{t}`"))
                                .unwrap_or_else(|| v.kind().into())
                        ),
                    ),
                }
            }
            if let Some(v) = yaml::get(&ae, "email") {
                c.email = self.email(v);
            }
            if let Some(v) = yaml::get(&ae, "alertmanager") {
                c.alertmanager = self.alertmanager(v);
            }
        }
        if let Some(m) = yaml::get(&e, "metrics") {
            self.metrics(m, &mut c);
        }
        if c.role.kind == RoleKind::Host
            && (!c.role.lan_interfaces.is_empty()
                || !c.role.lan_networks.is_empty()
                || !c.role.wan_interfaces.is_empty())
        {
            self.err(root, "`lan_interface`, `lan_network` and `wan_interface` describe a gateway: set `role: gateway`".into());
        }
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_keys_are_read() {
        let text = "watch:\n  - path: /etc/nftables.conf\n  - path: /etc/iptables/rules.v4\n    format: iptables\n  - command: [nft, -j, list, ruleset]\n    interval: 60s\n    compare_with: /etc/nftables.conf\npolicies: [apple:essentials, /etc/driftwall/policies/office.yaml]\nrole: host\nstate_dir: /var/lib/driftwall\nalerts:\n  outbox: /var/lib/driftwall/outbox\n  group_wait: 30s\n";
        let c = Config::from_str("c.yaml", text).unwrap();
        assert_eq!(c.watch.len(), 3);
        assert_eq!(
            c.watch[1],
            Watch::File {
                path: "/etc/iptables/rules.v4".into(),
                format: InputFormat::Iptables
            }
        );
        assert!(
            matches!(&c.watch[2], Watch::Command { argv, interval, format: InputFormat::NftJson, compare_with: Some(_) } if argv.len() == 4 && *interval == Duration::from_secs(60))
        );
        assert_eq!(c.policies.len(), 2);
        assert_eq!(
            (c.group_wait, c.outbox.clone()),
            (
                Duration::from_secs(30),
                PathBuf::from("/var/lib/driftwall/outbox")
            )
        );
    }

    #[test]
    fn a_pf_conf_is_a_format_of_its_own() {
        let c = Config::from_str("c.yaml", "watch:\n  - path: /etc/pf.conf\n    format: pf\n")
            .expect("valid");
        assert!(
            matches!(
                &c.watch[0],
                Watch::File {
                    format: InputFormat::Pf,
                    ..
                }
            ),
            "{:?}",
            c.watch
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        let text = "watch:\n  - path: /a\n    interval: 5s\n  - command: []\n  - {}\npolicies: apple:essentials\nrole: router\ncolour: red\nalerts:\n  group_wait: soon\n  email: {to: [a@b]}\n";
        let errs = Config::from_str("c.yaml", text).unwrap_err();
        let at: Vec<(u32, u32)> = errs.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(
            at,
            vec![
                (3, 15),
                (4, 14),
                (5, 5),
                (7, 7),
                (8, 1),
                (10, 15),
                (11, 10),
                (11, 10)
            ],
            "{errs:#?}"
        );
        assert!(errs[3].message.contains("`host` or `gateway`"));
        assert!(
            errs.iter().any(|e| e.message.contains("needs `from`"))
                && errs.iter().any(|e| e.message.contains("needs `smtp`")),
            "{errs:#?}"
        );
    }

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("driftwall-config-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn the_email_settings_of_the_issue_are_read() {
        let d = scratch("email");
        std::fs::write(d.join("pw"), "s3cret\n").unwrap();
        std::fs::write(
            d.join("ca.pem"),
            "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let text = format!(
            "alerts:\n  email:\n    from: driftwall@fw1.example.org\n    to: [netops@example.org]\n    smtp: {{host: smtp.example.org, port: 587, tls: starttls, username: driftwall, password_file: {pw}, ca_file: {ca}}}\n  group_wait: 30s\n  group_interval: 5m\n  repeat_interval: 4h\n  send_resolved: true\n  max_per_hour: 12\n",
            pw = d.join("pw").display(),
            ca = d.join("ca.pem").display()
        );
        let c = Config::from_str("c.yaml", &text).unwrap();
        let e = c.email.unwrap();
        assert_eq!(
            (e.from.as_str(), e.to.clone()),
            (
                "driftwall@fw1.example.org",
                vec!["netops@example.org".to_string()]
            )
        );
        assert_eq!(
            (e.smtp.host.as_str(), e.smtp.port, e.smtp.tls),
            ("smtp.example.org", 587, TlsMode::Starttls)
        );
        assert_eq!(
            e.smtp.password,
            Some(Secret("s3cret".into())),
            "the trailing newline of the file is not part of it"
        );
        assert!(
            !format!("{:?}", e.smtp).contains("s3cret"),
            "the password stays out of Debug"
        );
        assert_eq!(
            (
                c.group_interval,
                c.repeat_interval,
                c.send_resolved,
                c.max_per_hour
            ),
            (
                Duration::from_secs(300),
                Duration::from_secs(4 * 3600),
                true,
                Some(12)
            )
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn email_mistakes_are_reported_with_their_place() {
        let text = "alerts:\n  email:\n    from: not-an-address\n    to: [ok@example.org]\n    smtp: {host: smtp.example.org, tls: none, username: u, password_file: /nonexistent/pw, port: 99999}\n  send_resolved: maybe\n  max_per_hour: 0\n";
        let errs = Config::from_str("c.yaml", text).unwrap_err();
        let msgs: Vec<String> = errs
            .iter()
            .map(|e| format!("{}:{}: {}", e.line, e.column, e.message))
            .collect();
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("3:11:") && m.contains("not an email address")),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("5:41:") && m.contains("allowed only to localhost")),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("cannot read the SMTP password")),
            "{msgs:#?}"
        );
        assert!(msgs.iter().any(|m| m.contains("port number")), "{msgs:#?}");
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("6:18:") && m.contains("`true` or `false`")),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("7:17:") && m.contains("at least 1")),
            "{msgs:#?}"
        );
        // Plain text is fine to the local host, when asked for.
        let local = "alerts:\n  email:\n    from: a@example.org\n    to: b@example.org\n    smtp: {host: 127.0.0.1, port: 2525, tls: none}\n";
        let c = Config::from_str("c.yaml", local).unwrap();
        assert_eq!(c.email.unwrap().smtp.tls, TlsMode::None);
    }

    #[test]
    fn metrics_and_alertmanager_settings_are_read() {
        let text = "metrics:\n  listen: 127.0.0.1:9420\n  textfile: /var/lib/prometheus/node-exporter/driftwall.prom\nalerts:\n  alertmanager:\n    url: http://[::1]:9094/am/\n    resend_interval: 30s\n    timeout: 5s\n";
        let c = Config::from_str("c.yaml", text).unwrap();
        assert_eq!(c.metrics_listen, Some("127.0.0.1:9420".parse().unwrap()));
        assert_eq!(
            c.metrics_textfile,
            Some(PathBuf::from(
                "/var/lib/prometheus/node-exporter/driftwall.prom"
            ))
        );
        let am = c.alertmanager.unwrap();
        assert_eq!(
            (am.host.as_str(), am.port, am.prefix.as_str()),
            ("::1", 9094, "/am")
        );
        assert_eq!(
            (am.resend_interval, am.timeout, am.ends_after()),
            (
                Duration::from_secs(30),
                Duration::from_secs(5),
                Duration::from_secs(120)
            )
        );
        let c = Config::from_str(
            "c.yaml",
            "alerts:\n  alertmanager: {url: http://am.example.org}\n",
        )
        .unwrap();
        let am = c.alertmanager.unwrap();
        assert_eq!(
            (am.port, am.prefix.as_str(), am.resend_interval),
            (9093, "", Duration::from_secs(60))
        );
        assert!(c.metrics_listen.is_none() && c.metrics_textfile.is_none());
    }

    #[test]
    fn metrics_and_alertmanager_mistakes_are_reported_with_their_place() {
        let text = "metrics:\n  listen: localhost\n  textfile: /tmp/driftwall.txt\n  port: 9420\nalerts:\n  alertmanager:\n    url: https://am.example.org\n    resend_interval: 0s\n";
        let errs = Config::from_str("c.yaml", text).unwrap_err();
        let msgs: Vec<String> = errs
            .iter()
            .map(|e| format!("{}:{}: {}", e.line, e.column, e.message))
            .collect();
        for (at, what) in [
            ("2:11:", "not an address and port"),
            ("3:13:", "ending in .prom"),
            ("4:3:", "port"),
            ("7:10:", "https is not supported"),
            ("8:22:", "resend_interval of 0"),
        ] {
            assert!(
                msgs.iter().any(|m| m.starts_with(at) && m.contains(what)),
                "{at} {what}: {msgs:#?}"
            );
        }
        for (url, what) in [
            ("ftp://x", "not an http:// URL"),
            ("http://", "names no host"),
            ("http://x:0", "not a port number"),
            ("http://x:99999", "not a port number"),
            ("http://u:p@x", "credentials"),
            ("http://x/?a=1", "query"),
            ("http://[::1", "unclosed"),
        ] {
            let errs = Config::from_str(
                "c.yaml",
                &format!("alerts:\n  alertmanager:\n    url: \"{url}\"\n"),
            )
            .unwrap_err();
            assert!(
                errs.len() == 1 && errs[0].message.contains(what) && errs[0].line == 3,
                "{url}: {errs:?}"
            );
        }
        let errs = Config::from_str("c.yaml", "alerts:\n  alertmanager: {resend_interval: 1m}\n")
            .unwrap_err();
        assert!(errs[0].message.contains("needs `url`"), "{errs:?}");
        // Values of the wrong shape are refused at their place, never a panic.
        for (text, refused) in [
            ("metrics: [1]\n", true),
            ("metrics: 5\n", true),
            ("metrics: {listen: [a, b]}\n", true),
            ("metrics: {listen: 9420}\n", true),
            ("metrics: {textfile: {a: 1}}\n", true),
            ("alerts: {alertmanager: 5}\n", true),
            ("alerts: {alertmanager: {url: 80}}\n", true),
            ("alerts: {alertmanager: {url: [http://x]}}\n", true),
            (
                "alerts: {alertmanager: {url: http://x, timeout: 0s}}\n",
                true,
            ),
            (
                "alerts: {alertmanager: {url: \"http://\u{e9}\u{e9}:1/\"}}\n",
                false,
            ),
        ] {
            match Config::from_str("c.yaml", text) {
                Ok(_) => assert!(!refused, "{text}"),
                Err(errs) => {
                    assert!(refused, "{text}: {errs:?}");
                    assert!(errs.iter().all(|e| e.line == 1), "{text}: {errs:?}");
                }
            }
        }
    }

    #[test]
    fn the_password_comes_from_systemd_credentials() {
        let d = scratch("cred");
        std::fs::write(d.join("smtp-password"), "from-systemd").unwrap();
        // SAFETY: no other test of this binary reads CREDENTIALS_DIRECTORY.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("CREDENTIALS_DIRECTORY", &d)
        };
        let text = "alerts:\n  email:\n    from: a@example.org\n    to: b@example.org\n    smtp: {host: smtp.example.org, username: u}\n";
        let c = Config::from_str("c.yaml", text);
        // SAFETY: as above.
        #[allow(unsafe_code)]
        unsafe {
            std::env::remove_var("CREDENTIALS_DIRECTORY")
        };
        assert_eq!(
            c.unwrap().email.unwrap().smtp.password,
            Some(Secret("from-systemd".into()))
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_ufw_folder_is_one_watch_with_its_defaults_file() {
        let d = scratch("ufw");
        let text = format!(
            "watch:\n  - path: {}\n  - path: /etc/ufw\n    format: ufw\n    defaults: /srv/default-ufw\n",
            d.display()
        );
        let c = Config::from_str("c.yaml", &text).unwrap();
        assert_eq!(
            c.watch,
            [
                Watch::Ufw {
                    dir: d.clone(),
                    defaults: None
                },
                Watch::Ufw {
                    dir: PathBuf::from("/etc/ufw"),
                    defaults: Some(PathBuf::from("/srv/default-ufw"))
                },
            ]
        );
        let errs = Config::from_str(
            "c.yaml",
            "watch:\n  - path: /etc/x.rules\n    defaults: /y\n",
        )
        .unwrap_err();
        assert!(
            errs[0]
                .message
                .contains("belongs to a ufw configuration folder"),
            "{errs:?}"
        );
    }

    #[test]
    fn a_firewalld_folder_is_one_watch_with_its_stock_folder() {
        let d = scratch("firewalld");
        std::fs::create_dir_all(d.join("zones")).unwrap();
        let ufw = scratch("not-firewalld");
        std::fs::write(ufw.join("ufw.conf"), "ENABLED=yes\n").unwrap();
        std::fs::create_dir_all(ufw.join("zones")).unwrap();
        let text = format!(
            "watch:\n  - path: {}\n  - path: /srv/etc/firewalld\n  - path: /srv/conf\n    format: firewalld\n    stock: builtin\n  - path: {}\n  - command: [nft, -j, list, ruleset]\n    compare_with: /etc/firewalld\n",
            d.display(),
            ufw.display()
        );
        let c = Config::from_str("c.yaml", &text).unwrap();
        assert_eq!(
            c.watch[..4],
            [
                Watch::Firewalld {
                    dir: d.clone(),
                    stock: None
                },
                Watch::Firewalld {
                    dir: PathBuf::from("/srv/etc/firewalld"),
                    stock: None
                },
                Watch::Firewalld {
                    dir: PathBuf::from("/srv/conf"),
                    stock: Some(PathBuf::from("builtin"))
                },
                Watch::Ufw {
                    dir: ufw.clone(),
                    defaults: None
                },
            ]
        );
        assert!(
            matches!(&c.watch[4], Watch::Command { format: InputFormat::NftJson, compare_with: Some(f), .. } if f == Path::new("/etc/firewalld"))
        );
        let errs = Config::from_str(
            "c.yaml",
            "watch:\n  - path: /etc/x.rules\n    stock: /y\n  - path: /etc/firewalld\n    defaults: /z\n  - command: [nft, list, ruleset]\n    stock: builtin\n  - path: /srv/firewalld\n    stock: /nonexistent/usr/lib/firewalld\n",
        )
        .unwrap_err();
        let at: Vec<(u32, u32)> = errs.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(at, [(3, 12), (5, 15), (7, 12), (9, 12)], "{errs:?}");
        assert!(
            errs[3]
                .message
                .contains("is not a folder of firewalld's stock"),
            "{errs:?}"
        );
        assert!(
            errs[0]
                .message
                .contains("belongs to a firewalld configuration folder")
        );
        let _ = std::fs::remove_dir_all(&d);
        let _ = std::fs::remove_dir_all(&ufw);
    }

    #[test]
    fn the_default_watches_firewalld_and_compares_it_with_the_kernel() {
        let root = scratch("root");
        let none = standard_watches(&root);
        assert!(none.is_empty(), "{none:?}");
        // A firewalld host: the folder, and the live ruleset compared with it.
        std::fs::create_dir_all(root.join("etc/firewalld/zones")).unwrap();
        std::fs::create_dir_all(root.join("usr/sbin")).unwrap();
        std::fs::write(root.join("usr/sbin/nft"), "").unwrap();
        let dir = root.join("etc/firewalld");
        assert_eq!(
            standard_watches(&root),
            [
                Watch::Firewalld {
                    dir: dir.clone(),
                    stock: None
                },
                Watch::Command {
                    argv: vec!["nft".into(), "-j".into(), "list".into(), "ruleset".into()],
                    interval: Duration::from_secs(60),
                    format: InputFormat::NftJson,
                    compare_with: Some(dir.clone()),
                }
            ]
        );
        // Without nft there is no live ruleset to read; firewalld.conf alone
        // is enough to tell a firewalld host.
        std::fs::remove_file(root.join("usr/sbin/nft")).unwrap();
        std::fs::remove_dir(root.join("etc/firewalld/zones")).unwrap();
        std::fs::write(dir.join("firewalld.conf"), "DefaultZone=public\n").unwrap();
        assert_eq!(
            standard_watches(&root),
            [Watch::Firewalld {
                dir: dir.clone(),
                stock: None
            }]
        );
        // An empty /etc/firewalld (the package removed) is not watched.
        std::fs::remove_file(dir.join("firewalld.conf")).unwrap();
        assert!(standard_watches(&root).is_empty());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn the_embedded_default_watches_ufw_as_ufw_loads_it() {
        let c = Config::embedded_default();
        let ufw_here = Path::new(UFW_DIR).join("ufw.conf").exists();
        assert_eq!(
            c.watch.iter().any(
                |w| matches!(w, Watch::Ufw { dir, defaults: None } if dir == Path::new(UFW_DIR))
            ),
            ufw_here
        );
        assert!(
            !c.watch
                .iter()
                .any(|w| matches!(w, Watch::File { path, .. } if path.starts_with(UFW_DIR))),
            "never user.rules alone"
        );
    }

    /// The keys driftwall.yaml(5) names (`.TP` then `.B key`), dotted.
    fn documented_keys() -> std::collections::BTreeSet<String> {
        let lines: Vec<&str> = crate::cli::CONFIG_MAN_PAGE.lines().collect();
        lines
            .windows(2)
            .filter(|w| w[0] == ".TP")
            .filter_map(|w| w[1].strip_prefix(".B "))
            .filter(|k| !k.starts_with('/'))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_man_page_documents_every_key_the_reader_accepts_and_no_other() {
        let accepted: std::collections::BTreeSet<String> = KEYS
            .iter()
            .flat_map(|(at, keys)| {
                keys.iter().map(move |k| {
                    if at.is_empty() {
                        k.to_string()
                    } else {
                        format!("{at}.{k}")
                    }
                })
            })
            .collect();
        let documented = documented_keys();
        let missing: Vec<_> = accepted.difference(&documented).collect();
        let unknown: Vec<_> = documented.difference(&accepted).collect();
        assert!(
            missing.is_empty() && unknown.is_empty(),
            "driftwall.yaml(5) misses {missing:?} and documents keys the reader refuses: {unknown:?}"
        );
        // Every mapping of KEYS is reachable: its parent is a documented key.
        for (at, _) in KEYS.iter().filter(|(at, _)| !at.is_empty()) {
            assert!(documented.contains(*at), "{at}");
        }
    }

    #[test]
    fn the_man_page_example_is_a_valid_configuration() {
        let page = crate::cli::CONFIG_MAN_PAGE;
        let start = page.find(".SH EXAMPLE\n.nf\n").expect("an EXAMPLE section") + 16;
        let end = start + page[start..].find(".fi").expect("its end");
        // roff's \- is a plain minus in the file.
        let text = page[start..end].replace("\\-", "-");
        let c = Config::from_str("driftwall.yaml.5", &text);
        assert!(c.is_ok(), "{c:?}\n{text}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("4h"), Ok(Duration::from_secs(4 * 3600)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert!(parse_duration("soon").is_err() && parse_duration("5y").is_err());
    }
}
