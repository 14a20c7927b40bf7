//! Durations as people write them in configuration and environment
//! variables (`30s`, `5m`, `250ms`).

use std::time::Duration;

/// Why a text is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    #[error("`{0}` is not a duration, expected e.g. 30s, 5m, 4h or 250ms")]
    NotANumber(String),
    #[error("unknown unit `{unit}` in `{text}`, expected ms, s, m, h or d")]
    UnknownUnit { unit: String, text: String },
    #[error("`{0}` is longer than the longest duration driftwall takes, 365 days")]
    TooLong(String),
}

/// The longest duration accepted: longer ones are typing mistakes, and
/// past about 584 billion years one does not fit a `Duration` at all.
const LONGEST: Duration = Duration::from_secs(365 * 86400);

/// `30s`, `5m`, `4h`, `250ms`, `1d`, or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| DurationError::NotANumber(s.to_string()))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        other => {
            return Err(DurationError::UnknownUnit {
                unit: other.to_string(),
                text: s.to_string(),
            });
        }
    };
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if d <= LONGEST => Ok(d),
        _ => Err(DurationError::TooLong(s.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_their_unit() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(
            parse_duration("5y").unwrap_err().to_string(),
            "unknown unit `y` in `5y`, expected ms, s, m, h or d"
        );
    }

    /// Issue 18: a huge duration panicked ("cannot convert float seconds
    /// to Duration"), and a SIGHUP loading it killed the daemon.
    #[test]
    fn huge_durations_are_errors_not_panics() {
        for text in ["18446744073709551615s", "99999999999999999h", "366d"] {
            assert!(
                matches!(parse_duration(text), Err(DurationError::TooLong(_))),
                "{text}: {:?}",
                parse_duration(text)
            );
        }
        assert_eq!(parse_duration("365d"), Ok(Duration::from_secs(365 * 86400)));
    }
}
