//! Alerts as files, when no SMTP server is configured: each message
//! becomes one `.eml` file (for people and mail tools) and one `.json` file
//! (for programs), written atomically under a name made from its stable
//! Message-ID, so writing the same message again replaces it instead of
//! adding a copy.

use super::lifecycle::Mail;
use crate::fsutil::write_atomic;
use crate::stable_hash::fnv;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// RFC 2822 date of a time, in UTC.
pub fn rfc2822(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86400) as i64, secs % 86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(month - 1) as usize];
    format!(
        "{weekday}, {day:02} {mon} {year} {:02}:{:02}:{:02} +0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Writes one message; returns its `.eml` path.
pub fn write(outbox: &Path, mail: &Mail, eml: &[u8]) -> std::io::Result<PathBuf> {
    let name = fnv(mail.message_id.as_bytes());
    let path = outbox.join(format!("{name}.eml"));
    write_atomic(
        &outbox.join(format!("{name}.json")),
        &serde_json::to_vec_pretty(mail).map_err(std::io::Error::other)?,
    )?;
    write_atomic(&path, eml)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc2822() {
        assert_eq!(rfc2822(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc2822(UNIX_EPOCH + std::time::Duration::from_secs(1_795_651_200)),
            "Thu, 26 Nov 2026 00:00:00 +0000"
        );
    }
}
