//! Where reports go: `--format F --output FILE` pairs, so one run can write
//! SARIF for code scanning, JUnit for the test tab, and still print the
//! human report in the job's log.

use std::path::PathBuf;

/// The formats of `check` and `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// rustc-style, for people.
    Human,
    /// Versioned JSON (schemas/check-report.schema.json, schemas/diff-report.schema.json).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
    /// GitHub Actions workflow commands (annotations on the lines); the
    /// Markdown summary also goes to `$GITHUB_STEP_SUMMARY` when it is set.
    Github,
    /// A Markdown summary table of every requirement.
    Markdown,
}

/// One report to write: its format, and the file it goes to (standard
/// output when `None`).
pub type Destination = (ReportFormat, Option<PathBuf>);

/// Why `--format`/`--output` pairs do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DestinationError {
    #[error(
        "several --output files need a --format each, e.g. --format sarif --output driftwall.sarif --format junit --output junit.xml"
    )]
    OutputsWithoutFormats,
    #[error("--output needs a --format")]
    OutputWithoutFormat,
    #[error(
        "--format {format} has two --output files ({first} and {second}); give a --format before each"
    )]
    TwoOutputs {
        format: String,
        first: String,
        second: String,
    },
    #[error("only one report can go to standard output; give the others an --output FILE")]
    TwoToStdout,
}

/// Pairs each `--output` with the `--format` given just before it on the
/// command line (or, for an `--output` before any `--format`, the first
/// one after it). Formats without a file go to standard output; when every
/// report goes to a file, the human report still goes to standard output,
/// for the job's log.
pub fn destinations(
    formats: &[(usize, ReportFormat)],
    outputs: &[(usize, PathBuf)],
) -> Result<Vec<Destination>, DestinationError> {
    let mut out: Vec<Destination> = formats.iter().map(|(_, f)| (*f, None)).collect();
    if formats.is_empty() {
        return match outputs {
            [] => Ok(vec![(ReportFormat::Human, None)]),
            [(_, path)] => Ok(vec![(ReportFormat::Human, Some(path.clone()))]),
            _ => Err(DestinationError::OutputsWithoutFormats),
        };
    }
    for (at, path) in outputs {
        let before = formats.iter().rposition(|(i, _)| i < at);
        let target = before
            .or_else(|| formats.iter().position(|(i, _)| i > at))
            .ok_or(DestinationError::OutputWithoutFormat)?;
        let slot = &mut out[target];
        if let Some(other) = &slot.1 {
            return Err(DestinationError::TwoOutputs {
                format: name(slot.0),
                first: other.display().to_string(),
                second: path.display().to_string(),
            });
        }
        slot.1 = Some(path.clone());
    }
    let to_stdout = out.iter().filter(|(_, p)| p.is_none()).count();
    if to_stdout > 1 {
        return Err(DestinationError::TwoToStdout);
    }
    if to_stdout == 0 {
        out.push((ReportFormat::Human, None));
    }
    Ok(out)
}

fn name(f: ReportFormat) -> String {
    clap::ValueEnum::to_possible_value(&f)
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// Why an `--output` path is refused, before anything is read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    #[error(
        "--output {0}: not a regular file (a device, a FIFO or a folder); --output writes only to a regular file or a new path"
    )]
    NotAFile(String),
    #[error("--output {0}: its folder does not exist; create it first")]
    NoFolder(String),
    #[error(
        "--output {0}: it is one of the files being checked (or a policy); the report would replace it"
    )]
    IsAnInput(String),
}

/// Refuses `--output` paths that writing a report would harm (issue 18):
/// anything but a regular file or a new path in an existing folder, and
/// the inputs and policies themselves. A report is written by renaming a
/// new file over the path, which would turn a device into a regular file.
pub fn check_paths(
    destinations: &[Destination],
    guarded: &[&std::path::Path],
) -> Result<(), OutputError> {
    let same = |a: &std::path::Path, b: &std::path::Path| match (a.canonicalize(), b.canonicalize())
    {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    for (_, path) in destinations {
        let Some(p) = path else { continue };
        let shown = p.display().to_string();
        match std::fs::metadata(p) {
            Ok(m) if !m.is_file() => return Err(OutputError::NotAFile(shown)),
            Ok(_) => {
                if guarded.iter().any(|g| same(p, g)) {
                    return Err(OutputError::IsAnInput(shown));
                }
            }
            Err(_) => {
                let folder = p
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(std::path::Path::new("."));
                if !folder.is_dir() {
                    return Err(OutputError::NoFolder(shown));
                }
            }
        }
    }
    Ok(())
}

/// Writes each report; files are replaced atomically, so a CI step never
/// uploads half a report.
pub fn write(
    destinations: &[Destination],
    render: impl Fn(ReportFormat) -> String,
) -> anyhow::Result<()> {
    for (format, path) in destinations {
        let text = render(*format);
        match path {
            Some(p) => crate::fsutil::write_atomic(p, text.as_bytes()).map_err(|e| {
                anyhow::anyhow!(
                    "{}: cannot write the {} report: {e}",
                    p.display(),
                    name(*format)
                )
            })?,
            None => super::emit(&text)?,
        }
    }
    Ok(())
}

/// Under GitHub Actions, the summary of a `github` report is added to the
/// job's summary page.
pub fn github_step_summary(
    destinations: &[Destination],
    summary: impl Fn() -> String,
) -> anyhow::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    if !destinations.iter().any(|(f, _)| *f == ReportFormat::Github) {
        return Ok(());
    }
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot open $GITHUB_STEP_SUMMARY: {e}",
                PathBuf::from(&path).display()
            )
        })?;
    file.write_all(summary().as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ReportFormat::*;
    use super::*;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn outputs_pair_with_the_format_before_them() {
        // check --format sarif --output a.sarif --format human
        assert_eq!(
            destinations(&[(1, Sarif), (5, Human)], &[(3, p("a.sarif"))]).unwrap(),
            vec![(Sarif, Some(p("a.sarif"))), (Human, None)]
        );
        // check --format sarif --output a --format junit --output b: human still printed
        assert_eq!(
            destinations(&[(1, Sarif), (5, Junit)], &[(3, p("a")), (7, p("b"))]).unwrap(),
            vec![(Sarif, Some(p("a"))), (Junit, Some(p("b"))), (Human, None)]
        );
        // check --output a.json --format json
        assert_eq!(
            destinations(&[(3, Json)], &[(1, p("a.json"))]).unwrap(),
            vec![(Json, Some(p("a.json"))), (Human, None)]
        );
        assert_eq!(destinations(&[], &[]).unwrap(), vec![(Human, None)]);
        assert_eq!(
            destinations(&[], &[(1, p("r.txt"))]).unwrap(),
            vec![(Human, Some(p("r.txt")))]
        );
    }

    #[test]
    fn ambiguous_pairs_are_refused() {
        assert!(
            destinations(&[(1, Sarif)], &[(3, p("a")), (5, p("b"))])
                .unwrap_err()
                .to_string()
                .contains("two --output")
        );
        assert_eq!(
            destinations(&[(1, Sarif), (3, Json)], &[]).unwrap_err(),
            DestinationError::TwoToStdout
        );
        assert!(destinations(&[], &[(1, p("a")), (3, p("b"))]).is_err());
    }
}
