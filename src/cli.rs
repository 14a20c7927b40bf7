//! Command-line interface: arguments, logging, and the exit code.

use crate::commands::{check, explain, probe};
use crate::eval::Direction;
use crate::input::{self, InputFormat};
use crate::policy::{self, Role, RoleKind};
use crate::report::output::{Destination, ReportFormat};
use crate::report::{self, CheckReport, Format};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use driftwall_parsers::model::Interface;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// The exit codes, the same for every command (README.md, "Exit codes").
pub const EXIT_CODES: &str = "Exit codes (every command):
  0  clean: every requirement passes (diff: the change breaks none)
  1  a requirement fails, or is indeterminate unless --allow-indeterminate
     (diff: the change makes a requirement's result worse)
  2  an input or usage error (unreadable file, parse error, invalid policy
     or configuration, bad arguments); wins over 1";

#[derive(Parser, Debug)]
#[command(name = "driftwall", version, about = "Audits firewall configuration against port policies", after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log lines for people, or one JSON object per line for log shippers
    /// (under systemd, plain lines with priorities go to the journal).
    #[arg(long, value_enum, default_value = "human", global = true)]
    pub log_format: crate::logging::LogFormat,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Checks firewall files against policies.
    #[command(after_help = EXIT_CODES)]
    Check {
        #[command(flatten)]
        policy: PolicyArgs,
        #[command(flatten)]
        report: ReportArgs,
        #[arg(long = "input-format", value_enum, default_value = "auto")]
        input_format: InputFormat,
        /// Firewall files: iptables-save, ip6tables-save, nftables or nft JSON.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Shows the path of one connection through the chains, forward and reply.
    #[command(after_help = EXIT_CODES)]
    Explain {
        file: PathBuf,
        #[arg(long, value_enum)]
        proto: Proto,
        #[arg(long)]
        dport: u16,
        #[arg(long, value_enum)]
        direction: DirectionArg,
        #[arg(long)]
        src: Option<IpAddr>,
        #[arg(long)]
        dst: Option<IpAddr>,
        #[arg(long)]
        sport: Option<u16>,
        #[arg(long)]
        iif: Option<String>,
        #[arg(long)]
        oif: Option<String>,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        #[arg(long = "input-format", value_enum, default_value = "auto")]
        input_format: InputFormat,
    },
    /// Answers a batch of single-connection queries (JSON in, JSON out).
    #[command(after_help = EXIT_CODES)]
    Probe {
        file: PathBuf,
        /// A JSON array of probes: {"id", "kind": "in"|"out"|"fwd", "family"?, "proto", "src", "dst", "sport", "dport", "iif"?, "oif"?}.
        #[arg(long)]
        probes: PathBuf,
        /// The host's own address on an interface, IFACE=ADDR (repeatable):
        /// the source of the ICMP errors it sends for forwarded packets.
        #[arg(long = "host-address", value_parser = parse_host_address)]
        host_addresses: Vec<(String, IpAddr)>,
        #[arg(long = "input-format", value_enum, default_value = "auto")]
        input_format: InputFormat,
    },
    /// What changed between two firewall files, or between files and their
    /// version at a Git revision (--base): rule by rule, and for the
    /// policies every requirement whose result changes and the connections
    /// whose verdict changes, with the rules behind each verdict. Exits 1
    /// when the change breaks a requirement (makes its result worse).
    #[command(after_help = EXIT_CODES)]
    Diff {
        /// OLD NEW, or with --base the files to compare with their version at REV.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// A Git revision (HEAD~1, origin/main, a commit): each FILE is
        /// compared with its version there, read with `git show`.
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        #[command(flatten)]
        policy: PolicyArgs,
        #[command(flatten)]
        report: ReportArgs,
        #[arg(long = "input-format", value_enum, default_value = "auto")]
        input_format: InputFormat,
    },
    /// Runs the daemon: watches the firewall files (and the live ruleset),
    /// and writes an alert for every drift.
    #[command(after_help = EXIT_CODES)]
    Watch {
        /// The configuration (YAML); without it, the standard firewall files
        /// present are watched against apple:essentials.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Scan once, write what is due, and exit (for tests and cron).
        #[arg(long)]
        once: bool,
    },
    /// Sends a test message through the configured SMTP server and prints
    /// its answer, or the step that failed (DNS, TCP, TLS, authentication,
    /// a refused recipient) and why; exits 2 then.
    TestEmail {
        /// The daemon's configuration, with `alerts.email`.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Shows or accepts the baseline the daemon compares with.
    #[command(after_help = EXIT_CODES)]
    Baseline {
        #[command(subcommand)]
        command: BaselineCommand,
    },
    /// Lists and shows the shipped policies and the Apple port catalog.
    #[command(after_help = EXIT_CODES)]
    Policies {
        #[command(subcommand)]
        command: PoliciesCommand,
    },
    /// Prints the normalized model of a firewall file as JSON, or its errors.
    #[command(after_help = EXIT_CODES)]
    Parse {
        file: PathBuf,
        #[arg(long = "input-format", value_enum, default_value = "auto")]
        input_format: InputFormat,
    },
}

#[derive(Subcommand, Debug)]
pub enum PoliciesCommand {
    /// The shipped policies: name, title, number of requirements, products.
    List {
        /// `markdown` gives the table of every requirement, as in docs/policies.md.
        #[arg(long, value_enum, default_value = "human")]
        format: ListFormat,
    },
    /// A policy's requirements: ports, protocols, direction, expect,
    /// products, and the catalog rows behind them.
    Show {
        /// `apple:<name>`, a shipped name alone, or a YAML file.
        name: String,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Every row of Apple's table "TCP and UDP ports used by Apple software products".
    Catalog {
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
}

#[derive(Subcommand, Debug)]
pub enum BaselineCommand {
    /// The accepted state of every watched source, with its results.
    Show {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Makes the current state the baseline (of one source with --source).
    Accept {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        source: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
    Markdown,
}

/// Which reports `check` and `diff` write, and where.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// A report: human, json, sarif, junit, github (workflow commands) or
    /// markdown (a summary table). Repeat it, each with its --output, to
    /// write several reports in one run.
    #[arg(long = "format", value_enum, value_name = "FORMAT")]
    formats: Vec<ReportFormat>,
    /// Writes the report of the --format before it to FILE (replaced
    /// atomically). When every report goes to a file, the human report is
    /// printed too.
    #[arg(long = "output", short = 'o', value_name = "FILE")]
    outputs: Vec<PathBuf>,
    /// Indeterminate results do not fail the run: exit code 0, JUnit
    /// `skipped`, notices instead of warnings.
    #[arg(long)]
    allow_indeterminate: bool,
    /// The --format/--output pairs as given on the command line.
    #[arg(skip)]
    destinations: Option<Vec<Destination>>,
}

impl ReportArgs {
    /// Pairs formats and outputs by their places on the command line.
    fn pair(&mut self, matches: &clap::ArgMatches) -> Result<(), String> {
        let places = |id: &str| {
            matches
                .indices_of(id)
                .map(|i| i.collect::<Vec<_>>())
                .unwrap_or_default()
        };
        let formats: Vec<(usize, ReportFormat)> = places("formats")
            .into_iter()
            .zip(self.formats.iter().copied())
            .collect();
        let outputs: Vec<(usize, PathBuf)> = places("outputs")
            .into_iter()
            .zip(self.outputs.iter().cloned())
            .collect();
        self.destinations = Some(report::output::destinations(&formats, &outputs)?);
        Ok(())
    }

    fn destinations(&self) -> anyhow::Result<Vec<Destination>> {
        if let Some(d) = &self.destinations {
            return Ok(d.clone());
        }
        // Built without the command line (a library caller): in order.
        let formats: Vec<(usize, ReportFormat)> = self
            .formats
            .iter()
            .enumerate()
            .map(|(i, f)| (2 * i, *f))
            .collect();
        let outputs: Vec<(usize, PathBuf)> = self
            .outputs
            .iter()
            .enumerate()
            .map(|(i, p)| (2 * i + 1, p.clone()))
            .collect();
        report::output::destinations(&formats, &outputs).map_err(anyhow::Error::msg)
    }
}

/// The policies to check with, and the role they are read for.
#[derive(clap::Args, Debug)]
pub struct PolicyArgs {
    /// A policy: a YAML file, or `apple:<name>` for a shipped one
    /// (`driftwall policies list`); may be given several times.
    #[arg(long = "policy", short = 'p', required = true)]
    policies: Vec<String>,
    #[command(flatten)]
    role: RoleArgs,
}

/// The role of the firewall, which gives `egress`, `ingress` and `local`
/// their meaning (see policies/apple/README.md).
#[derive(clap::Args, Debug)]
pub struct RoleArgs {
    /// `host`: the firewall of the device itself; `gateway`: a router in
    /// front of a LAN of Apple devices.
    #[arg(long, value_enum, default_value = "host")]
    role: RoleKind,
    /// An interface on the gateway's LAN side (`+` at the end matches a
    /// prefix); repeatable.
    #[arg(long = "lan-interface", value_name = "IFACE")]
    lan_interfaces: Vec<String>,
    /// An interface that leads out of a gateway; repeatable. Without it,
    /// every interface but the LAN ones counts as outside.
    #[arg(long = "wan-interface", value_name = "IFACE")]
    wan_interfaces: Vec<String>,
    /// A network on the gateway's LAN side; repeatable.
    #[arg(long = "lan-network", value_name = "CIDR", value_parser = parse_network)]
    lan_networks: Vec<ipnet::IpNet>,
}

impl RoleArgs {
    fn role(&self) -> anyhow::Result<Role> {
        if self.role == RoleKind::Host
            && (!self.lan_interfaces.is_empty()
                || !self.lan_networks.is_empty()
                || !self.wan_interfaces.is_empty())
        {
            anyhow::bail!(
                "--lan-interface, --lan-network and --wan-interface describe a gateway's sides; use them with --role gateway"
            );
        }
        let interfaces = |list: &[String], option: &str| -> anyhow::Result<Vec<Interface>> {
            list.iter()
                .map(|s| {
                    let name = s.strip_suffix('+').unwrap_or(s);
                    if name.len() > 15 || (name.is_empty() && !s.ends_with('+')) {
                        anyhow::bail!("{option} `{s}`: an interface name has 1-15 characters");
                    }
                    Ok(Interface {
                        name: name.to_string(),
                        wildcard: s.ends_with('+'),
                    })
                })
                .collect()
        };
        Ok(Role {
            kind: self.role,
            lan_interfaces: interfaces(&self.lan_interfaces, "--lan-interface")?,
            lan_networks: self.lan_networks.clone(),
            wan_interfaces: interfaces(&self.wan_interfaces, "--wan-interface")?,
        })
    }
}

fn parse_network(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(ipnet::IpNet::from))
        .map(|n| n.trunc())
        .map_err(|_| format!("`{s}` is not a network, expected e.g. 192.168.1.0/24"))
}

fn parse_host_address(s: &str) -> Result<(String, IpAddr), String> {
    let (iface, addr) = s
        .split_once('=')
        .ok_or_else(|| format!("expected IFACE=ADDR, found `{s}`"))?;
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("`{addr}` is not an IP address"))?;
    if iface.is_empty() || iface.len() > 15 {
        return Err(format!("interface name `{iface}` must be 1-15 characters"));
    }
    Ok((iface.to_string(), addr))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Proto {
    Tcp,
    Udp,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DirectionArg {
    Inbound,
    Outbound,
    Forward,
}

/// Parses arguments, runs, and turns the outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // The daemon says what it does; the other commands only warn.
    let default = if matches!(cli.command, Command::Watch { .. }) {
        "info"
    } else {
        "warn"
    };
    crate::logging::init_with_default(cli.log_format, default);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            report::emit_err(&format!("error: {e:#}"));
            ExitCode::from(2)
        }
    }
}

/// Parses the command line, pairing each report format with its file.
fn parse_args() -> Result<Cli, clap::Error> {
    let matches = Cli::command().try_get_matches()?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    let sub = matches.subcommand().map(|(_, m)| m);
    if let (Command::Check { report, .. } | Command::Diff { report, .. }, Some(m)) =
        (&mut cli.command, sub)
    {
        report
            .pair(m)
            .map_err(|e| Cli::command().error(clap::error::ErrorKind::ArgumentConflict, e))?;
    }
    Ok(cli)
}

fn load_input(path: &std::path::Path, format: InputFormat) -> anyhow::Result<input::Input> {
    parsed(input::load(path, format)?)
}

/// An input without parse errors; its errors, quoted, otherwise.
fn parsed(input: input::Input) -> anyhow::Result<input::Input> {
    if !input.errors.is_empty() {
        for e in &input.errors {
            report::emit_err(&report::human::parse_error(
                e,
                input.ruleset.sources.first().map(|s| s.text.as_str()),
            ));
        }
        anyhow::bail!("{}: {} parse error(s)", input.path, input.errors.len());
    }
    Ok(input)
}

pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Check {
            policy: PolicyArgs { policies, role },
            report,
            input_format,
            files,
        } => {
            let destinations = report.destinations()?;
            let role = role.role()?;
            let mut rep = CheckReport::default();
            let l = policy::load_all(&policies, &role);
            let loaded = l.policies;
            rep.read_errors = l.unreadable;
            rep.policy_errors = l.invalid;
            rep.sources = l.sources;
            rep.policies = loaded.clone();
            for f in &files {
                match input::load(f, input_format) {
                    Err(e) => rep.read_errors.push(e.to_string()),
                    Ok(inp) if !inp.errors.is_empty() => {
                        rep.parse_errors.extend(inp.errors.iter().cloned());
                        if let Some(s) = inp.ruleset.sources.first() {
                            rep.sources.push((inp.path.clone(), s.text.clone()));
                        }
                    }
                    // An invalid policy leaves nothing trustworthy to check with.
                    Ok(inp) if rep.policy_errors.is_empty() => {
                        rep.inputs.push(check::check_input_owned(inp, &loaded))
                    }
                    Ok(_) => {}
                }
            }
            let allow = report.allow_indeterminate;
            let findings = report::findings::of_check(&rep, allow);
            report::output::write(&destinations, |format| match format {
                ReportFormat::Human => report::human::check(&rep),
                ReportFormat::Json => report::json::check(&rep, allow),
                other => render_findings(other, &findings, allow),
            })?;
            report::output::github_step_summary(&destinations, || {
                report::github::summary(&findings, allow)
            })?;
            Ok(rep.exit_code_with(allow))
        }
        Command::Explain {
            file,
            proto,
            dport,
            direction,
            src,
            dst,
            sport,
            iif,
            oif,
            format,
            input_format,
        } => {
            let input = load_input(&file, input_format)?;
            let conn = explain::Connection {
                direction: match direction {
                    DirectionArg::Inbound => Direction::Inbound,
                    DirectionArg::Outbound => Direction::Outbound,
                    DirectionArg::Forward => Direction::Forward,
                },
                protocol: match proto {
                    Proto::Tcp => 6,
                    Proto::Udp => 17,
                },
                dport,
                src,
                dst,
                sport,
                iif,
                oif,
            };
            let e = explain::explain(&input, &conn).map_err(anyhow::Error::msg)?;
            let text = match format {
                Format::Human => explain::render_human(&e),
                Format::Json => report::json::value(&e),
            };
            report::emit(&text)?;
            Ok(0)
        }
        Command::Probe {
            file,
            probes,
            input_format,
            host_addresses,
        } => {
            let input = load_input(&file, input_format)?;
            let text = std::fs::read_to_string(&probes).map_err(|e| {
                anyhow::anyhow!("{}: cannot read the probes: {e}", probes.display())
            })?;
            let list: Vec<probe::Probe> = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{}:{}:{}: invalid probes: {e}",
                    probes.display(),
                    e.line(),
                    e.column()
                )
            })?;
            let results = probe::run(&input, &list, &host_addresses)?;
            report::emit(&report::json::value(&results))?;
            Ok(0)
        }
        Command::Policies { command } => policies_command(command),
        Command::Watch { config, once } => crate::daemon::run(config, once),
        Command::TestEmail { config } => {
            let (ok, text) = crate::commands::test_email::run(config.as_deref())?;
            if ok {
                report::emit(&text)?;
                return Ok(0);
            }
            report::emit_err(&text);
            Ok(2)
        }
        Command::Baseline { command } => {
            let text = match command {
                BaselineCommand::Show { config } => crate::daemon::baseline(config, false, None)?,
                BaselineCommand::Accept { config, source } => {
                    crate::daemon::baseline(config, true, source)?
                }
            };
            report::emit(&text)?;
            Ok(0)
        }
        Command::Diff {
            files,
            base,
            policy: PolicyArgs { policies, role },
            report,
            input_format,
        } => {
            let destinations = report.destinations()?;
            let role = role.role()?;
            let l = policy::load_all(&policies, &role);
            if let Some(e) = l.unreadable.first() {
                anyhow::bail!("{e}");
            }
            for e in &l.invalid {
                let src = l
                    .sources
                    .iter()
                    .find(|(p, _)| *p == e.path)
                    .map(|(_, t)| t.as_str());
                report::emit_err(&report::human::policy_error(e, src));
            }
            let bad = !l.invalid.is_empty();
            let loaded = l.policies;
            // The pairs of versions to compare.
            let pairs: Vec<(anyhow::Result<input::Input>, anyhow::Result<input::Input>)> =
                match &base {
                    Some(rev) => files
                        .iter()
                        .map(|f| {
                            let old = crate::git::load_at(rev, f, input_format)
                                .map_err(anyhow::Error::msg)
                                .and_then(parsed);
                            (old, load_input(f, input_format))
                        })
                        .collect(),
                    None => match files.as_slice() {
                        [old, new] => {
                            vec![(load_input(old, input_format), load_input(new, input_format))]
                        }
                        _ => anyhow::bail!(
                            "diff compares two files (OLD NEW), or with --base REV each FILE with its version at REV; {} file(s) given",
                            files.len()
                        ),
                    },
                };
            let mut diffs = Vec::new();
            let mut failed = bad;
            for (a, b) in pairs {
                match (a, b) {
                    (Ok(a), Ok(b)) if !bad => {
                        diffs.push(crate::commands::diff::diff(&a, &b, &loaded))
                    }
                    (a, b) => {
                        for e in [a.err(), b.err()].into_iter().flatten() {
                            report::emit_err(&format!("error: {e:#}"));
                        }
                        failed = true;
                    }
                }
            }
            if failed {
                return Ok(2);
            }
            let allow = report.allow_indeterminate;
            let findings = report::findings::of_diff(&diffs, &loaded, allow);
            report::output::write(&destinations, |format| match format {
                ReportFormat::Human => diffs
                    .iter()
                    .map(crate::commands::diff::render_human)
                    .collect::<Vec<_>>()
                    .join("\n"),
                ReportFormat::Json => report::json::diff(&diffs, base.as_deref(), &findings, allow),
                other => render_findings(other, &findings, allow),
            })?;
            report::output::github_step_summary(&destinations, || {
                report::github::summary(&findings, allow)
            })?;
            Ok(findings.exit_code)
        }
        Command::Parse { file, input_format } => {
            let input = input::load(&file, input_format)?;
            if !input.errors.is_empty() {
                let src = input.ruleset.sources.first().map(|s| s.text.as_str());
                for e in &input.errors {
                    report::emit_err(&report::human::parse_error(e, src));
                }
                report::emit(&report::json::value(
                    &serde_json::json!({ "errors": input.errors }),
                ))?;
                return Ok(2);
            }
            report::emit(&report::json::value(&input.ruleset))?;
            Ok(0)
        }
    }
}

/// The reports made from findings (the same for `check` and `diff`).
fn render_findings(
    format: ReportFormat,
    findings: &report::findings::Findings,
    allow_indeterminate: bool,
) -> String {
    match format {
        ReportFormat::Sarif => report::sarif::render(findings),
        ReportFormat::Junit => report::junit::render(findings),
        ReportFormat::Github => report::github::render(findings),
        ReportFormat::Markdown | ReportFormat::Human | ReportFormat::Json => {
            report::github::summary(findings, allow_indeterminate)
        }
    }
}

fn policies_command(command: PoliciesCommand) -> anyhow::Result<u8> {
    use crate::commands::policies;
    let invalid = |errs: Vec<policy::PolicyError>, source: &str| -> u8 {
        for e in &errs {
            report::emit_err(&report::human::policy_error(e, Some(source)));
        }
        2
    };
    match command {
        PoliciesCommand::List { format } => {
            let all = match policies::shipped() {
                Ok(all) => all,
                Err(errs) => return Ok(invalid(errs, "")),
            };
            let text = match format {
                ListFormat::Human => policies::list_human(&policies::list(&all)),
                ListFormat::Json => report::json::value(&policies::list(&all)),
                ListFormat::Markdown => policies::markdown(&all),
            };
            report::emit(&text)?;
            Ok(0)
        }
        PoliciesCommand::Show { name, format } => {
            // A shipped name may be given without its prefix.
            let spec = if !name.contains(':') && policy::shipped::apple(&name).is_some() {
                format!("apple:{name}")
            } else {
                name
            };
            let (shown, text) = policy::read(&spec).map_err(anyhow::Error::msg)?;
            let p = match policy::load_str_for(&shown, &text, None) {
                Ok(p) => p,
                Err(errs) => return Ok(invalid(errs, &text)),
            };
            let out = match format {
                Format::Human => policies::show_human(&p),
                Format::Json => report::json::value(&p),
            };
            report::emit(&out)?;
            Ok(0)
        }
        PoliciesCommand::Catalog { format } => {
            let c = policy::catalog::Catalog::apple().map_err(anyhow::Error::msg)?;
            let out = match format {
                Format::Human => policies::catalog_human(c),
                Format::Json => report::json::value(&c.rows),
            };
            report::emit(&out)?;
            Ok(0)
        }
    }
}
