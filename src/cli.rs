//! Command-line interface: arguments, logging, and the exit code.

use crate::commands::{check, explain, probe};
use crate::eval::Direction;
use crate::input::{self, InputFormat};
use crate::policy;
use crate::report::{self, CheckReport, Format};
use clap::{Parser, Subcommand, ValueEnum};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_CODES: &str = "Exit codes:
  0  every requirement passes
  1  a requirement fails or is indeterminate
  2  an input or usage error (unreadable file, parse error, invalid policy)";

#[derive(Parser, Debug)]
#[command(name = "driftwall", version, about = "Audits firewall configuration against port policies", after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Checks firewall files against policies.
    #[command(after_help = EXIT_CODES)]
    Check {
        /// Policy files (YAML); may be given several times.
        #[arg(long = "policy", short = 'p', required = true)]
        policies: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        #[arg(long = "input-format", value_enum, default_value = "auto")]
        input_format: InputFormat,
        /// Firewall files (iptables-save / ip6tables-save format).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Shows the path of one connection through the chains, forward and reply.
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
    /// Prints the normalized model of a firewall file as JSON, or its errors.
    Parse {
        file: PathBuf,
        #[arg(long = "input-format", value_enum, default_value = "auto")]
        input_format: InputFormat,
    },
}

fn parse_host_address(s: &str) -> Result<(String, IpAddr), String> {
    let (iface, addr) = s.split_once('=').ok_or_else(|| format!("expected IFACE=ADDR, found `{s}`"))?;
    let addr: IpAddr = addr.parse().map_err(|_| format!("`{addr}` is not an IP address"))?;
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
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_env("DRIFTWALL_LOG")).with_writer(std::io::stderr).init();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            report::emit_err(&format!("error: {e:#}"));
            ExitCode::from(2)
        }
    }
}

fn load_input(path: &PathBuf, format: InputFormat) -> anyhow::Result<input::Input> {
    let input = input::load(path, format)?;
    if !input.errors.is_empty() {
        for e in &input.errors {
            report::emit_err(&report::human::parse_error(e, input.ruleset.sources.first().map(|s| s.text.as_str())));
        }
        anyhow::bail!("{}: {} parse error(s)", input.path, input.errors.len());
    }
    Ok(input)
}

pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Check { policies, format, input_format, files } => {
            let mut rep = CheckReport::default();
            let mut loaded = Vec::new();
            for p in &policies {
                let shown = p.display().to_string();
                match std::fs::read_to_string(p) {
                    Err(e) => rep.read_errors.push(format!("{shown}: cannot read the policy: {e}")),
                    Ok(text) => match policy::load_str(&shown, &text) {
                        Ok(pol) => loaded.push(pol),
                        Err(errs) => {
                            rep.policy_errors.extend(errs);
                            rep.sources.push((shown, text));
                        }
                    },
                }
            }
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
                    Ok(inp) if rep.policy_errors.is_empty() => rep.inputs.push(check::check_input_owned(inp, &loaded)),
                    Ok(_) => {}
                }
            }
            let text = match format {
                Format::Human => report::human::check(&rep),
                Format::Json => report::json::check(&rep),
            };
            report::emit(&text)?;
            Ok(rep.exit_code())
        }
        Command::Explain { file, proto, dport, direction, src, dst, sport, iif, oif, format, input_format } => {
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
        Command::Probe { file, probes, input_format, host_addresses } => {
            let input = load_input(&file, input_format)?;
            let text = std::fs::read_to_string(&probes).map_err(|e| anyhow::anyhow!("{}: cannot read the probes: {e}", probes.display()))?;
            let list: Vec<probe::Probe> = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}:{}:{}: invalid probes: {e}", probes.display(), e.line(), e.column()))?;
            let results = probe::run(&input, &list, &host_addresses)?;
            report::emit(&report::json::value(&results))?;
            Ok(0)
        }
        Command::Parse { file, input_format } => {
            let input = input::load(&file, input_format)?;
            if !input.errors.is_empty() {
                let src = input.ruleset.sources.first().map(|s| s.text.as_str());
                for e in &input.errors {
                    report::emit_err(&report::human::parse_error(e, src));
                }
                report::emit(&report::json::value(&serde_json::json!({ "errors": input.errors })))?;
                return Ok(2);
            }
            report::emit(&report::json::value(&input.ruleset))?;
            Ok(0)
        }
    }
}
