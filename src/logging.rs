//! Logging with tracing, to stderr (stdout belongs to the reports).
//!
//! Three shapes of the same events:
//! - **human**, on a terminal or in a file: tracing's usual lines, with time,
//!   level, target and the structured fields as `key=value`;
//! - **journal**, when stderr is the journal (systemd sets `JOURNAL_STREAM` to
//!   its device and inode): no time and no colours, since journald stamps every
//!   line itself, and a `<N>` syslog priority prefix so that `journalctl -p`
//!   and the colours of `journalctl` follow the level;
//! - **json** (`--log-format json`), one object a line for log shippers, with
//!   the fields at the top level next to `timestamp`, `level`, `target` and
//!   `message`.
//!
//! What is logged is chosen by `DRIFTWALL_LOG` (`EnvFilter` directives such as
//! `debug` or `info,driftwall::daemon=trace`).

use std::fmt;
use std::io::IsTerminal;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// The variable that selects what is logged.
pub const FILTER_VAR: &str = "DRIFTWALL_LOG";

/// How log lines are written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people; plain lines with syslog priorities when stderr is the
    /// journal.
    #[default]
    Human,
    /// One JSON object a line.
    Json,
}

/// Installs the global logger: `format` on stderr, filtered by `DRIFTWALL_LOG`
/// or, without it, at `info` (the daemon's level). A logger already installed
/// (by a test, say) stays.
pub fn init(format: LogFormat) {
    init_with_default(format, "info");
}

/// [`init`] with another filter when `DRIFTWALL_LOG` is unset or empty, such
/// as `warn` for the one-shot commands.
pub fn init_with_default(format: LogFormat, default_filter: &str) {
    let (filter, invalid) = filter(std::env::var(FILTER_VAR).ok().as_deref(), default_filter);
    let output = match format {
        LogFormat::Json => Output::Json,
        LogFormat::Human if stderr_is_journal() => Output::Journal,
        LogFormat::Human => Output::Human {
            ansi: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        },
    };
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(layer(output, std::io::stderr))
        .try_init();
    if let (Ok(()), Some((value, error))) = (installed, invalid) {
        tracing::warn!(DRIFTWALL_LOG = %value, %error, default = default_filter, "ignoring an invalid DRIFTWALL_LOG");
    }
}

/// The shape of the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Human { ansi: bool },
    Journal,
    Json,
}

/// The filter from `DRIFTWALL_LOG`'s value, or `default` when it is unset,
/// empty or invalid (then also the value and what is wrong with it).
fn filter(spec: Option<&str>, default: &str) -> (EnvFilter, Option<(String, String)>) {
    match spec.map(str::trim).filter(|spec| !spec.is_empty()) {
        None => (EnvFilter::new(default), None),
        Some(spec) => match EnvFilter::builder().parse(spec) {
            Ok(filter) => (filter, None),
            Err(error) => (
                EnvFilter::new(default),
                Some((spec.to_owned(), error.to_string())),
            ),
        },
    }
}

fn layer<S, W>(output: Output, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer);
    match output {
        Output::Human { ansi } => Box::new(fmt.with_ansi(ansi)),
        Output::Journal => Box::new(fmt.with_ansi(false).event_format(JournalLine)),
        Output::Json => Box::new(
            fmt.json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false),
        ),
    }
}

/// Whether stderr is the journal's stream: `JOURNAL_STREAM` (`device:inode`)
/// names the file stderr is. The variable alone is not enough, since children
/// inherit it with stderr redirected elsewhere.
fn stderr_is_journal() -> bool {
    use std::os::fd::AsFd;

    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(stderr) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    names_file(&stream, &std::fs::File::from(stderr))
}

/// Whether a `JOURNAL_STREAM` value (`device:inode`, in decimal) names `file`.
fn names_file(stream: &std::ffi::OsStr, file: &std::fs::File) -> bool {
    use std::os::unix::fs::MetadataExt;

    let Some((device, inode)) = stream.to_str().and_then(|s| s.split_once(':')) else {
        return false;
    };
    let (Ok(device), Ok(inode)) = (device.parse::<u64>(), inode.parse::<u64>()) else {
        return false;
    };
    file.metadata()
        .is_ok_and(|meta| meta.dev() == device && meta.ino() == inode)
}

/// A line for journald's stream protocol: `<priority>` (syslog's numbers),
/// the spans, the message and the fields; no time, no colours, no level word
/// (the priority carries it).
struct JournalLine;

impl<S, N> FormatEvent<S, N> for JournalLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let priority = match *event.metadata().level() {
            Level::ERROR => 3,
            Level::WARN => 4,
            Level::INFO => 6,
            Level::DEBUG | Level::TRACE => 7,
        };
        write!(writer, "<{priority}>")?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                writer.write_str(span.name())?;
                let extensions = span.extensions();
                if let Some(fields) = extensions
                    .get::<FormattedFields<N>>()
                    .filter(|fields| !fields.is_empty())
                {
                    write!(writer, "{{{fields}}}")?;
                }
                writer.write_str(": ")?;
            }
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::sync::{Arc, Mutex};

    /// Everything logged, for the assertions.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Captured {
        type Writer = Captured;
        fn make_writer(&'w self) -> Captured {
            self.clone()
        }
    }

    /// The lines `output` writes for what `log` logs, filtered by `filter`.
    fn capture(output: Output, filter: &str, log: impl FnOnce()) -> Vec<String> {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new(filter))
            .with(layer(output, captured.clone()));
        tracing::subscriber::with_default(subscriber, log);
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_owned).collect()
    }

    fn drift_events() {
        let span = tracing::info_span!("source", path = "/etc/nftables.conf");
        let _entered = span.enter();
        tracing::info!(events = 2, requirement = "facetime-media", "drift detected");
        tracing::warn!("parse error, keeping the last good state");
        tracing::error!(error = "connection refused", "cannot send alert");
        tracing::debug!("rescan");
    }

    #[test]
    fn json_lines_carry_level_message_fields_and_span() {
        let lines = capture(Output::Json, "debug", drift_events);
        assert_eq!(lines.len(), 4, "{lines:#?}");
        let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(first["level"], "INFO");
        assert_eq!(first["message"], "drift detected");
        assert_eq!(first["events"], 2);
        assert_eq!(first["requirement"], "facetime-media");
        assert_eq!(first["target"], module_path!());
        assert_eq!(first["span"]["name"], "source");
        assert_eq!(first["span"]["path"], "/etc/nftables.conf");
        assert!(first["timestamp"].is_string());
        let levels: Vec<String> = lines
            .iter()
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line).unwrap()["level"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(levels, ["INFO", "WARN", "ERROR", "DEBUG"]);
    }

    #[test]
    fn journal_lines_have_a_priority_and_no_time_or_colour() {
        let lines = capture(Output::Journal, "debug", drift_events);
        assert_eq!(
            lines,
            [
                r#"<6>source{path="/etc/nftables.conf"}: drift detected events=2 requirement="facetime-media""#,
                r#"<4>source{path="/etc/nftables.conf"}: parse error, keeping the last good state"#,
                r#"<3>source{path="/etc/nftables.conf"}: cannot send alert error="connection refused""#,
                r#"<7>source{path="/etc/nftables.conf"}: rescan"#,
            ]
        );
    }

    #[test]
    fn human_lines_without_a_terminal_have_no_colour() {
        let lines = capture(Output::Human { ansi: false }, "info", drift_events);
        assert_eq!(lines.len(), 3, "{lines:#?}");
        assert!(
            lines[0].contains(" INFO source{path=\"/etc/nftables.conf\"}: "),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].ends_with("drift detected events=2 requirement=\"facetime-media\""),
            "{}",
            lines[0]
        );
        assert!(lines.iter().all(|line| !line.contains('\x1b')));
    }

    #[test]
    fn the_filter_comes_from_driftwall_log_or_the_default() {
        let (filter, invalid) = filter(None, "warn");
        assert!(invalid.is_none());
        assert_eq!(filter.to_string(), "warn");
        let (filter, invalid) = super::filter(Some("  "), "info");
        assert!(invalid.is_none());
        assert_eq!(filter.to_string(), "info");
        let (filter, invalid) = super::filter(Some("debug,driftwall::eval=warn"), "info");
        assert!(invalid.is_none());
        let shown = filter.to_string();
        assert!(
            shown.contains("debug") && shown.contains("driftwall::eval=warn"),
            "{shown}"
        );
        let (filter, invalid) = super::filter(Some("driftwall=loud"), "info");
        assert_eq!(filter.to_string(), "info");
        assert_eq!(
            invalid.map(|(value, _)| value).as_deref(),
            Some("driftwall=loud")
        );
    }

    #[test]
    fn journal_stream_must_name_the_file_itself() {
        use std::os::unix::fs::MetadataExt;

        let path =
            std::env::temp_dir().join(format!("driftwall-journal-stream-{}", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let meta = file.metadata().unwrap();
        let stream = |value: String| names_file(std::ffi::OsStr::new(&value), &file);
        assert!(stream(format!("{}:{}", meta.dev(), meta.ino())));
        // Inherited by a child whose stderr went elsewhere.
        assert!(!stream(format!("{}:{}", meta.dev(), meta.ino() + 1)));
        assert!(!stream(format!("{}", meta.ino())));
        assert!(!stream("journal".to_owned()));
        drop(file);
        std::fs::remove_file(&path).unwrap();
    }
}
