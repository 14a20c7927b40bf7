//! Command-line interface: arguments, logging, and the exit code.

use crate::commands::policies::ListFormat;
use crate::commands::{
    ExitCode, Reports, baseline, check, diff, explain, init, parse, policies, probe, test_email,
    watch,
};
use crate::eval::Direction;
use crate::input::InputFormat;
use crate::policy::{Role, RoleKind};
use crate::report::output::{Destination, DestinationError, ReportFormat};
use crate::report::{self, Format};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use driftwall_parsers::model::Interface;
use std::net::IpAddr;
use std::path::PathBuf;

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
    /// The largest file driftwall reads (rulesets, included files,
    /// policies, its configuration), in bytes or with K, M or G; 256M
    /// unless given.
    #[arg(long, global = true, value_name = "SIZE", value_parser = crate::fsutil::parse_size)]
    pub max_input_size: Option<u64>,
    /// The folder `include` (nft, pf) and `load anchor ... from` (pf) may
    /// read under; unless given, the folder driftwall runs in for a file
    /// named by a relative path, the file's own folder for an absolute one.
    /// `/` reads any file, as nft and pfctl do on the host itself.
    #[arg(long, global = true, value_name = "DIR")]
    pub include_root: Option<std::path::PathBuf>,
    /// Parse errors shown per file in human reports and on standard error
    /// (20 unless given; 0 shows every one), with a count of the rest. The
    /// JSON and SARIF reports list every error.
    #[arg(long, global = true, value_name = "N")]
    pub error_limit: Option<usize>,
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
        /// ufw's defaults file, for a ufw configuration folder whose
        /// defaults are not at ROOT/etc/default/ufw beside ROOT/etc/ufw.
        #[arg(long = "ufw-defaults", value_name = "FILE")]
        ufw_defaults: Option<PathBuf>,
        /// firewalld's stock definitions for a firewalld folder: a folder
        /// like /usr/lib/firewalld, or `builtin` for driftwall's own table
        /// (default: ROOT/usr/lib/firewalld beside ROOT/etc/firewalld, else
        /// /usr/lib/firewalld when present, else the table).
        #[arg(long = "firewalld-stock", value_name = "DIR|builtin")]
        firewalld_stock: Option<PathBuf>,
        /// Threads (default: one per core): files are checked at once, one
        /// per thread, and threads the files leave idle take a file's
        /// independent questions. Reports are the same whatever N; more
        /// threads hold more in memory at once.
        #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// Firewall files: iptables-save, ip6tables-save, nftables or nft
        /// JSON, or a ufw (/etc/ufw) or firewalld (/etc/firewalld)
        /// configuration folder.
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
        /// Threads (default: one per core): the two sides are checked at
        /// once, then the requirements. The report is the same whatever N;
        /// more threads hold more in memory at once.
        #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
    },
    /// Runs the daemon: watches the firewall files (and the live ruleset),
    /// and writes an alert for every drift.
    #[command(after_help = EXIT_CODES)]
    Watch {
        /// The configuration (YAML, driftwall.yaml(5)); without it, what
        /// `driftwall init` finds: the standard firewall files present,
        /// against apple:essentials.
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
    /// Finds the host's firewall (files present, units enabled, forwarding)
    /// and prints a configuration for `driftwall watch`, each line saying
    /// why; the same answer `driftwall watch` runs on without one.
    #[command(after_help = EXIT_CODES)]
    Init {
        /// The root folder of the host to look at (a mounted image, a
        /// container's tree); paths in the configuration are the host's.
        #[arg(long, value_name = "DIR", default_value = "/")]
        root: PathBuf,
        /// Also install it as ROOT/etc/driftwall/driftwall.yaml; exits 2
        /// without touching it when a file is already there.
        #[arg(long)]
        write: bool,
    },
    /// Prints a completion script for a shell: bash, zsh or fish.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Writes the man pages, driftwall(1), one page per command and
    /// driftwall.yaml(5), into a folder (for packaging).
    #[command(hide = true)]
    Man {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
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
        #[arg(value_parser = PolicyName, hide_possible_values = true)]
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
    fn pair(&mut self, matches: &clap::ArgMatches) -> Result<(), DestinationError> {
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

    /// Where the reports go, and whether indeterminate results fail the run.
    fn reports(&self) -> anyhow::Result<Reports> {
        Ok(Reports {
            destinations: self.destinations()?,
            allow_indeterminate: self.allow_indeterminate,
        })
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
        Ok(report::output::destinations(&formats, &outputs)?)
    }
}

/// The policies to check with, and the role they are read for.
#[derive(clap::Args, Debug)]
pub struct PolicyArgs {
    /// A policy: a YAML file, or `apple:<name>` for a shipped one
    /// (`driftwall policies list`); may be given several times.
    #[arg(long = "policy", short = 'p', required = true, value_parser = PolicyName, hide_possible_values = true)]
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

/// A policy argument: any text (a file or `apple:<name>`), with the shipped
/// `apple:<name>` values offered to shell completion (`apple:<TAB>`), so the
/// list completed is the list compiled in.
#[derive(Debug, Clone, Copy)]
struct PolicyName;

impl clap::builder::TypedValueParser for PolicyName {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(crate::policy::shipped::APPLE.iter().map(
            |(n, _)| clap::builder::PossibleValue::new(format!("apple:{n}")),
        )))
    }
}

/// The completion script for `shell`, from the clap definitions.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "driftwall", &mut out);
    let names: Vec<&str> = crate::policy::shipped::APPLE
        .iter()
        .map(|(n, _)| *n)
        .collect();
    match shell {
        clap_complete::Shell::Bash => {
            let text = String::from_utf8_lossy(&out)
                .replace("complete -F _driftwall ", "complete -F _driftwall_policy ");
            let apple: Vec<String> = names.iter().map(|n| format!("apple:{n}")).collect();
            let wrapper = BASH_POLICY
                .replace("APPLE_NAMES", &apple.join(" "))
                .replace("NAMES", &names.join(" "));
            out = format!("{text}{wrapper}").into_bytes();
        }
        // A policy is also a file: fish offers files beside the shipped
        // names (-F) where clap's script turned them off (-f).
        clap_complete::Shell::Fish => {
            let text: Vec<String> = String::from_utf8_lossy(&out)
                .lines()
                .map(|l| {
                    if l.contains("-f -a \"apple:") {
                        l.replacen(" -f -a \"apple:", " -F -a \"apple:", 1)
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            out = format!("{}\n", text.join("\n")).into_bytes();
        }
        _ => {}
    }
    out
}

/// bash splits `apple:NAME` at the colon (it is in COMP_WORDBREAKS), so the
/// generated function sees `apple`, `:` and the rest as three words and
/// offers nothing after the colon. This wrapper completes the name after
/// `--policy apple:` (or `-p`, or `policies show`) itself, offers files
/// beside the shipped names before the colon (a policy may be a file), and
/// leaves every other word to the generated function.
const BASH_POLICY: &str = r#"
_driftwall_policy() {
    local n=$COMP_CWORD word=${COMP_WORDS[COMP_CWORD]} prefix option
    if [[ $word == : ]]; then
        word="" prefix=${COMP_WORDS[n-1]} option=${COMP_WORDS[n-2]}
    elif [[ $n -ge 3 && ${COMP_WORDS[n-1]} == : ]]; then
        prefix=${COMP_WORDS[n-2]} option=${COMP_WORDS[n-3]}
    fi
    if [[ $prefix == apple && ( $option == --policy || $option == -p || $option == show ) ]]; then
        COMPREPLY=($(compgen -W "NAMES" -- "$word"))
        return 0
    fi
    # Before the colon, a policy is a shipped one or a file: offer both.
    local before=${COMP_WORDS[n-1]}
    if [[ $before == --policy || $before == -p || ( $before == show && ${COMP_WORDS[n-2]} == policies ) ]]; then
        COMPREPLY=($(compgen -W "APPLE_NAMES" -- "$word") $(compgen -f -- "$word"))
        return 0
    fi
    _driftwall "$@"
}
"#;

/// driftwall.yaml(5), written by hand: the configuration is not a command line.
pub const CONFIG_MAN_PAGE: &str = include_str!("../man/driftwall.yaml.5");

/// Writes driftwall.1, driftwall-COMMAND.1 for every visible command (and
/// subcommand) and driftwall.yaml.5 into `out`; gives the files written.
pub fn man_pages(out: &std::path::Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)
        .map_err(|e| anyhow::anyhow!("{}: cannot create the folder: {e}", out.display()))?;
    let mut written = Vec::new();
    let mut cmd = Cli::command();
    cmd.build();
    page(&cmd, "driftwall", out, &mut written)?;
    let path = out.join("driftwall.yaml.5");
    std::fs::write(&path, CONFIG_MAN_PAGE)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    written.push(path);
    Ok(written)
}

/// One page for `cmd`, named `name`, then one for each visible subcommand.
fn page(
    cmd: &clap::Command,
    name: &str,
    out: &std::path::Path,
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    // The page's title and NAME section come from the command's name; the
    // subcommand's own is `check`, the page is driftwall-check(1).
    let titled = cmd
        .clone()
        .name(name.to_string())
        .bin_name(name.replace('-', " "));
    let mut text = Vec::new();
    clap_mangen::Man::new(titled)
        .title(name.to_uppercase())
        .render(&mut text)?;
    let path = out.join(format!("{name}.1"));
    std::fs::write(&path, text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        page(sub, &format!("{name}-{}", sub.get_name()), out, written)?;
    }
    Ok(())
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
pub fn main() -> std::process::ExitCode {
    let cli = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCode::Error
            } else {
                ExitCode::Clean
            };
            let _ = e.print();
            return std::process::ExitCode::from(code.code());
        }
    };
    // The daemon says what it does; the other commands only warn.
    let default = if matches!(cli.command, Command::Watch { .. }) {
        "info"
    } else {
        "warn"
    };
    crate::logging::init_with_default(cli.log_format, default);
    if let Some(limit) = cli.max_input_size {
        crate::fsutil::set_read_limit(limit);
    }
    if let Some(root) = &cli.include_root {
        crate::input::set_include_root(root);
    }
    if let Some(limit) = cli.error_limit {
        crate::report::human::set_error_limit(limit);
    }
    match run(cli) {
        Ok(code) => std::process::ExitCode::from(code.code()),
        Err(e) => {
            report::emit_err(&format!("error: {e:#}"));
            std::process::ExitCode::from(ExitCode::Error.code())
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

/// Runs the command: each one's work lives in [`crate::commands`].
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check {
            policy: PolicyArgs { policies, role },
            report,
            input_format,
            ufw_defaults,
            firewalld_stock,
            jobs,
            files,
        } => {
            let reports = report.reports()?;
            let options = crate::input::Options {
                ufw_defaults,
                firewalld_stock,
            };
            check::run(
                &policies,
                &role.role()?,
                &reports,
                (input_format, &options),
                &files,
                jobs.map_or_else(check::default_jobs, usize::from),
            )
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
            explain::run(&file, input_format, &conn, format)
        }
        Command::Probe {
            file,
            probes,
            input_format,
            host_addresses,
        } => probe::run(&file, &probes, &host_addresses, input_format),
        Command::Policies { command } => match command {
            PoliciesCommand::List { format } => policies::run_list(format),
            PoliciesCommand::Show { name, format } => policies::run_show(name, format),
            PoliciesCommand::Catalog { format } => policies::run_catalog(format),
        },
        Command::Watch { config, once } => watch::run(config, once),
        Command::TestEmail { config } => test_email::run(config.as_deref()),
        Command::Baseline { command } => match command {
            BaselineCommand::Show { config } => baseline::run(config, false, None),
            BaselineCommand::Accept { config, source } => baseline::run(config, true, source),
        },
        Command::Diff {
            files,
            base,
            policy: PolicyArgs { policies, role },
            report,
            input_format,
            jobs,
        } => {
            let reports = report.reports()?;
            diff::run(
                &files,
                base.as_deref(),
                &policies,
                &role.role()?,
                &reports,
                input_format,
                jobs.map_or_else(check::default_jobs, usize::from),
            )
        }
        Command::Parse { file, input_format } => parse::run(&file, input_format),
        Command::Init { root, write } => init::run(&root, write),
        Command::Completions { shell } => {
            report::emit(&String::from_utf8_lossy(&completions(shell)))?;
            Ok(ExitCode::Clean)
        }
        Command::Man { out } => {
            let written: Vec<String> = man_pages(&out)?
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            report::emit(&written.join("\n"))?;
            Ok(ExitCode::Clean)
        }
    }
}
