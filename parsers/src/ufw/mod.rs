//! ufw: a configuration directory read the way ufw loads it.
//!
//! ufw's rule files (`before.rules`, `user.rules`, `after.rules` and their
//! IPv6 twins) are iptables-restore input, but alone they do nothing: no
//! built-in chain jumps to them. ufw's init script (`ufw_start` in
//! `/usr/lib/ufw/ufw-init-functions`) first makes the primary chains and
//! their jumps from INPUT, OUTPUT and FORWARD, the reject, track, logging and
//! skip-to-policy chains, then loads the files with `iptables-restore -n`,
//! then hooks the user chains into the before chains and sets the built-in
//! policies. [`read`] does the same steps in the same order. The wiring is
//! in none of the files, so each step is a source of its own, named
//! `ufw (ufw-init: ufw_start, <step>)`, and a verdict it decides names it.
//!
//! What cannot be known from the files is said, not guessed: executable
//! `before.init`/`after.init` scripts are reported as not evaluated, and
//! `limit` rules (the recent module) keep an unknown match, so results they
//! decide are indeterminate.

mod settings;
#[cfg(test)]
mod tests;

use crate::Parsed;
use crate::error::{ErrorKind, ParseError};
use crate::iptables;
use crate::model::{Family, Ruleset, Skipped, Source, Span};
use settings::Assignment;

/// A file as found: the path to show and its text.
pub type FileText = (String, String);

/// The files of a ufw configuration, as ufw-init reads them. `None` is a
/// file that is absent; the caller passes `before_init`/`after_init` only
/// when they are executable, since only then does ufw-init run them.
#[derive(Debug, Clone, Default)]
pub struct Files {
    /// The configuration folder, to name the files that are absent.
    pub dir: String,
    pub ufw_conf: Option<FileText>,
    /// `/etc/default/ufw`.
    pub defaults: Option<FileText>,
    pub before_rules: Option<FileText>,
    pub before6_rules: Option<FileText>,
    pub user_rules: Option<FileText>,
    pub user6_rules: Option<FileText>,
    pub after_rules: Option<FileText>,
    pub after6_rules: Option<FileText>,
    /// The file `IPT_SYSCTL` names (`/etc/ufw/sysctl.conf`).
    pub sysctl: Option<FileText>,
    pub before_init: Option<FileText>,
    pub after_init: Option<FileText>,
}

/// A `DEFAULT_*_POLICY` of the defaults file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultPolicy {
    Accept,
    Drop,
    Reject,
}

impl DefaultPolicy {
    fn word(self) -> &'static str {
        match self {
            DefaultPolicy::Accept => "ACCEPT",
            DefaultPolicy::Drop => "DROP",
            DefaultPolicy::Reject => "REJECT",
        }
    }

    /// The built-in chain's policy: ufw-init sets DROP for REJECT and lets
    /// the reject chain do the rejecting.
    fn builtin_word(self) -> &'static str {
        match self {
            DefaultPolicy::Reject => "DROP",
            other => other.word(),
        }
    }
}

/// What `ufw.conf`, the defaults file and `sysctl.conf` say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `ENABLED=yes`: ufw-init loads the rules at boot.
    pub enabled: bool,
    /// `IPV6=yes`: the IPv6 rule files are loaded; otherwise ufw-init drops
    /// all IPv6 except on loopback.
    pub ipv6: bool,
    pub input: DefaultPolicy,
    pub output: DefaultPolicy,
    pub forward: DefaultPolicy,
    /// `net.ipv4.ip_forward` as the sysctl file sets it, if it does.
    pub ipv4_forwarding: Option<bool>,
    /// `net.ipv6.conf.all.forwarding` (or `.default.`), if set.
    pub ipv6_forwarding: Option<bool>,
}

impl Default for Settings {
    /// What ufw ships: off until enabled, IPv6 on, deny in, allow out,
    /// deny forwarded.
    fn default() -> Self {
        Settings {
            enabled: false,
            ipv6: true,
            input: DefaultPolicy::Drop,
            output: DefaultPolicy::Accept,
            forward: DefaultPolicy::Drop,
            ipv4_forwarding: None,
            ipv6_forwarding: None,
        }
    }
}

/// A ufw configuration read: the ruleset ufw-init would load, every error on
/// the way, and the settings.
#[derive(Debug, Clone)]
pub struct Read {
    pub parsed: Parsed,
    pub settings: Settings,
}

/// The sysctl file ufw-init applies: `IPT_SYSCTL` of the defaults file or
/// `ufw.conf` (sourced in that order), `/etc/ufw/sysctl.conf` if neither
/// sets it, `None` if it is set empty.
pub fn sysctl_path(defaults: &str, ufw_conf: &str) -> Option<String> {
    let mut list = settings::assignments(defaults, 0);
    list.extend(settings::assignments(ufw_conf, 1));
    match settings::last(&list, "IPT_SYSCTL") {
        Some(a) if a.value.is_empty() => None,
        Some(a) => Some(a.value.clone()),
        None => Some("/etc/ufw/sysctl.conf".to_string()),
    }
}

/// Builds the ruleset ufw-init loads from `files`.
pub fn read(files: &Files) -> Read {
    let mut ruleset = Ruleset::default();
    let mut errors = Vec::new();
    let conf = add_source(&mut ruleset, files.ufw_conf.as_ref());
    let defaults = add_source(&mut ruleset, files.defaults.as_ref());
    let sysctl = add_source(&mut ruleset, files.sysctl.as_ref());
    let settings = settings_of(&ruleset, conf, defaults, sysctl, &mut errors);
    // Both families are spoken for: ufw loads IPv6 rules, or blocks IPv6.
    ruleset.families = vec![Family::Ipv4, Family::Ipv6];

    // ufw-init sources both with `[ -s file ] || exit 1`.
    let mut aborted = false;
    for (name, file, fallback) in [
        (
            "ufw.conf",
            &files.ufw_conf,
            format!("{}/ufw.conf", files.dir),
        ),
        (
            "the defaults file (/etc/default/ufw)",
            &files.defaults,
            "/etc/default/ufw".to_string(),
        ),
    ] {
        if absent(file) {
            aborted = true;
            let path = file.as_ref().map_or(fallback, |(p, _)| p.clone());
            errors.push(missing(
                &path,
                &format!("{name} is absent or empty: ufw-init aborts and loads nothing"),
            ));
        }
    }
    if aborted {
        return Read {
            parsed: Parsed { ruleset, errors },
            settings,
        };
    }
    if !settings.enabled {
        let span = conf
            .and_then(|file| enabled_span(&ruleset, file))
            .unwrap_or(Span {
                file: 0,
                line: 1,
                column: 1,
                start: 0,
                end: 0,
            });
        ruleset.skipped.push(Skipped {
            span,
            what: "ufw is off (ENABLED is not yes): ufw-init loads no rules, so nothing is \
                   filtered and every requirement is checked against an empty ruleset"
                .to_string(),
        });
        return Read {
            parsed: Parsed { ruleset, errors },
            settings,
        };
    }
    for (name, script) in [
        ("before.init", &files.before_init),
        ("after.init", &files.after_init),
    ] {
        let Some(script) = script else { continue };
        let Some(file) = add_source(&mut ruleset, Some(script)) else {
            continue;
        };
        let end = script.1.find('\n').unwrap_or(script.1.len());
        ruleset.skipped.push(Skipped {
            span: Span {
                file,
                line: 1,
                column: 1,
                start: 0,
                end: u32::try_from(end).unwrap_or(0),
            },
            what: format!(
                "{name} is an executable shell script that ufw-init runs ({name} start); \
                 what it changes is not evaluated"
            ),
        });
    }

    forwarding_notes(&mut ruleset, sysctl);
    let mut load = Loader {
        ruleset,
        errors,
        dir: &files.dir,
    };
    load.family(Family::Ipv4, &settings, files);
    if settings.ipv6 {
        load.family(Family::Ipv6, &settings, files);
    } else {
        load.step(Family::Ipv6, "IPV6=no", IPV6_OFF.to_string());
    }
    let Loader {
        mut ruleset,
        mut errors,
        ..
    } = load;
    for table in &mut ruleset.tables {
        iptables::model_local_delivery(table);
    }
    errors.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    Read {
        parsed: Parsed { ruleset, errors },
        settings,
    }
}

/// A sysctl file that turns forwarding off makes the host route nothing,
/// whatever the FORWARD chain says; the verdicts assume it routes, so the
/// report says where it does not.
fn forwarding_notes(ruleset: &mut Ruleset, sysctl: Option<u32>) {
    let Some(file) = sysctl else { return };
    let Some(text) = ruleset.sources.get(file as usize).map(|s| s.text.clone()) else {
        return;
    };
    for (key, family) in [
        ("net.ipv4.ip_forward", "IPv4"),
        ("net.ipv6.conf.all.forwarding", "IPv6"),
    ] {
        if let Some(("0", span)) = settings::sysctl_setting(&text, key, file) {
            ruleset.skipped.push(Skipped {
                span,
                what: format!(
                    "{key}=0: the host does not route {family}, so no forwarded {family} \
                     packet passes whatever the FORWARD rules say; forward results assume it routes"
                ),
            });
        }
    }
}

/// Absent or empty, which ufw-init's `[ -s file ]` tells apart from neither.
fn absent(file: &Option<FileText>) -> bool {
    file.as_ref().is_none_or(|(_, text)| text.is_empty())
}

/// What ufw-init loads for IPv6 when `IPV6` is not yes.
const IPV6_OFF: &str = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n\
                        -A INPUT -i lo -j ACCEPT\n-A OUTPUT -o lo -j ACCEPT\nCOMMIT\n";

/// Adds a file as a source (for spans) and returns its index.
fn add_source(ruleset: &mut Ruleset, file: Option<&FileText>) -> Option<u32> {
    let (path, text) = file?;
    let index = u32::try_from(ruleset.sources.len()).ok()?;
    ruleset.sources.push(Source {
        path: path.clone(),
        text: text.clone(),
    });
    Some(index)
}

fn missing(path: &str, message: &str) -> ParseError {
    ParseError {
        kind: ErrorKind::BadReference,
        path: path.to_string(),
        line: 1,
        column: 1,
        start: 0,
        end: 0,
        message: message.to_string(),
    }
}

fn enabled_span(ruleset: &Ruleset, file: u32) -> Option<Span> {
    let text = &ruleset.sources.get(file as usize)?.text;
    let list = settings::assignments(text, file);
    Some(
        settings::last(&list, "ENABLED")
            .map(|a| a.span)
            .unwrap_or(Span {
                file,
                line: 1,
                column: 1,
                start: 0,
                end: 0,
            }),
    )
}

/// Reads the settings, with an error for each value ufw-init cannot use.
fn settings_of(
    ruleset: &Ruleset,
    conf: Option<u32>,
    defaults: Option<u32>,
    sysctl: Option<u32>,
    errors: &mut Vec<ParseError>,
) -> Settings {
    let assignments = |file: Option<u32>| -> Vec<Assignment> {
        file.and_then(|f| ruleset.sources.get(f as usize).map(|s| (f, s)))
            .map(|(f, s)| settings::assignments(&s.text, f))
            .unwrap_or_default()
    };
    let conf_list = assignments(conf);
    let defaults_list = assignments(defaults);
    let mut s = Settings::default();
    // ufw-init's tests are `= "yes" || = "YES"`: anything else is off.
    let yes = |a: &Assignment| a.value == "yes" || a.value == "YES";
    // ufw-init sources the defaults file first, then ufw.conf.
    let both: Vec<Assignment> = defaults_list.iter().chain(&conf_list).cloned().collect();
    s.enabled = settings::last(&both, "ENABLED").is_some_and(yes);
    s.ipv6 = settings::last(&both, "IPV6").is_some_and(yes);
    for (name, slot) in [
        ("DEFAULT_INPUT_POLICY", &mut s.input),
        ("DEFAULT_OUTPUT_POLICY", &mut s.output),
        ("DEFAULT_FORWARD_POLICY", &mut s.forward),
    ] {
        let Some(a) = settings::last(&both, name) else {
            if defaults_list.is_empty() {
                // An absent or empty defaults file is its own error.
                continue;
            }
            let path = defaults
                .and_then(|f| ruleset.sources.get(f as usize))
                .map(|s| s.path.clone())
                .unwrap_or_default();
            errors.push(missing(
                &path,
                &format!(
                    "{name} is not set, expected ACCEPT, DROP or REJECT: ufw-init cannot set the policy"
                ),
            ));
            continue;
        };
        *slot = match a.value.as_str() {
            "ACCEPT" => DefaultPolicy::Accept,
            "DROP" => DefaultPolicy::Drop,
            "REJECT" => DefaultPolicy::Reject,
            other => {
                let path = ruleset
                    .sources
                    .get(a.span.file as usize)
                    .map(|s| s.path.clone())
                    .unwrap_or_default();
                errors.push(ParseError {
                    kind: ErrorKind::InvalidValue,
                    path,
                    line: a.span.line,
                    column: a.span.column,
                    start: a.span.start,
                    end: a.span.end,
                    message: format!(
                        "{name} is `{other}`, expected ACCEPT, DROP or REJECT (read as DROP)"
                    ),
                });
                DefaultPolicy::Drop
            }
        };
    }
    if let Some((file, text)) = sysctl.and_then(|f| ruleset.sources.get(f as usize).map(|s| (f, s)))
    {
        let flag =
            |key: &str| settings::sysctl_setting(&text.text, key, file).map(|(v, _)| v == "1");
        s.ipv4_forwarding = flag("net.ipv4.ip_forward");
        s.ipv6_forwarding =
            flag("net.ipv6.conf.all.forwarding").or(flag("net.ipv6.conf.default.forwarding"));
    }
    s
}

/// Applies ufw-init's steps, one `iptables-restore -n` at a time.
struct Loader<'a> {
    ruleset: Ruleset,
    errors: Vec<ParseError>,
    dir: &'a str,
}

impl Loader<'_> {
    /// One of ufw-init's own restores, as a source named after its step.
    fn step(&mut self, family: Family, step: &str, text: String) {
        let tool = match family {
            Family::Ipv4 => "",
            Family::Ipv6 => ", ip6tables",
        };
        let path = format!("ufw (ufw-init: ufw_start, {step}{tool})");
        self.restore(&path, &text, family);
    }

    fn restore(&mut self, path: &str, text: &str, family: Family) {
        let ruleset = std::mem::take(&mut self.ruleset);
        let parsed = iptables::parse_noflush(path, text, family, ruleset);
        self.ruleset = parsed.ruleset;
        self.errors.extend(parsed.errors);
    }

    /// A rule file, or the error ufw-init prints when it is absent or empty.
    fn file(&mut self, family: Family, name: &str, file: &Option<FileText>) {
        match file {
            Some((path, text)) if !text.is_empty() => self.restore(path, text, family),
            _ => {
                let path = file
                    .as_ref()
                    .map(|(p, _)| p.clone())
                    .unwrap_or_else(|| format!("{}/{name}", self.dir));
                self.errors.push(missing(
                    &path,
                    &format!("{name} is absent or empty: ufw-init reports an error and goes on without it"),
                ));
            }
        }
    }

    /// `ufw_start` for one of `iptables` and `ip6tables`.
    fn family(&mut self, family: Family, s: &Settings, files: &Files) {
        let t = if family == Family::Ipv6 { "6" } else { "" };
        let pick = |v4: &Option<FileText>, v6: &Option<FileText>| match family {
            Family::Ipv4 => v4.clone(),
            Family::Ipv6 => v6.clone(),
        };
        self.step(family, "primary chains", primary_chains(t));
        let directions = [
            ("input", s.input),
            ("output", s.output),
            ("forward", s.forward),
        ];
        let rejects: String = directions
            .iter()
            .filter(|(_, p)| *p == DefaultPolicy::Reject)
            .map(|(d, _)| format!("-A ufw{t}-reject-{d} -j REJECT\n"))
            .collect();
        if !rejects.is_empty() {
            self.step(
                family,
                "reject policy",
                format!("*filter\n{rejects}COMMIT\n"),
            );
        }
        let tracks: String = directions
            .iter()
            .filter(|(_, p)| *p == DefaultPolicy::Accept)
            .map(|(d, _)| {
                format!(
                    "-A ufw{t}-track-{d} -p tcp -m conntrack --ctstate NEW -j ACCEPT\n\
                     -A ufw{t}-track-{d} -p udp -m conntrack --ctstate NEW -j ACCEPT\n"
                )
            })
            .collect();
        if !tracks.is_empty() {
            self.step(
                family,
                "tracking policy",
                format!("*filter\n{tracks}COMMIT\n"),
            );
        }
        self.step(
            family,
            "logging chains",
            format!(
                "*filter\n:ufw{t}-logging-deny - [0:0]\n:ufw{t}-logging-allow - [0:0]\nCOMMIT\n"
            ),
        );
        self.step(
            family,
            "skip-to-policy chains",
            format!(
                "*filter\n:ufw{t}-skip-to-policy-input - [0:0]\n:ufw{t}-skip-to-policy-output - [0:0]\n\
                 :ufw{t}-skip-to-policy-forward - [0:0]\n-A ufw{t}-skip-to-policy-input -j {}\n\
                 -A ufw{t}-skip-to-policy-output -j {}\n-A ufw{t}-skip-to-policy-forward -j {}\nCOMMIT\n",
                s.input.word(),
                s.output.word(),
                s.forward.word()
            ),
        );
        self.file(
            family,
            &format!("before{t}.rules"),
            &pick(&files.before_rules, &files.before6_rules),
        );
        self.file(
            family,
            &format!("after{t}.rules"),
            &pick(&files.after_rules, &files.after6_rules),
        );
        let user = pick(&files.user_rules, &files.user6_rules);
        if !absent(&user) {
            self.step(family, "user chains", user_chains(t));
            self.file(family, &format!("user{t}.rules"), &user);
            self.step(
                family,
                "user chains hooked into the before chains",
                format!(
                    "*filter\n-A ufw{t}-before-input -j ufw{t}-user-input\n\
                     -A ufw{t}-before-output -j ufw{t}-user-output\n\
                     -A ufw{t}-before-forward -j ufw{t}-user-forward\nCOMMIT\n"
                ),
            );
        } else {
            self.file(family, &format!("user{t}.rules"), &user);
        }
        self.step(
            family,
            "default policy",
            format!(
                "*filter\n:INPUT {} [0:0]\n:FORWARD {} [0:0]\n:OUTPUT {} [0:0]\nCOMMIT\n",
                s.input.builtin_word(),
                s.forward.builtin_word(),
                s.output.builtin_word()
            ),
        );
    }
}

/// The primary chains and their jumps from the built-in chains, in
/// ufw-init's order.
fn primary_chains(t: &str) -> String {
    let mut text = String::from("*filter\n");
    let parts = [
        "before-logging",
        "before",
        "after",
        "after-logging",
        "reject",
        "track",
    ];
    for part in parts {
        for d in ["input", "output", "forward"] {
            text += &format!(":ufw{t}-{part}-{d} - [0:0]\n");
        }
    }
    for (builtin, d) in [
        ("INPUT", "input"),
        ("OUTPUT", "output"),
        ("FORWARD", "forward"),
    ] {
        for part in parts {
            text += &format!("-A {builtin} -j ufw{t}-{part}-{d}\n");
        }
    }
    text + "COMMIT\n"
}

/// The secondary user chains ufw-init makes before it loads `user.rules`.
fn user_chains(t: &str) -> String {
    let mut text = String::from("*filter\n");
    for name in [
        "user-input",
        "user-output",
        "user-forward",
        "user-logging-input",
        "user-logging-output",
        "user-logging-forward",
        "user-limit",
        "user-limit-accept",
    ] {
        text += &format!(":ufw{t}-{name} - [0:0]\n");
    }
    text + "COMMIT\n"
}
