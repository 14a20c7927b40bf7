//! docs/alerts/example.txt and example.html are what the code renders for
//! the example alert (src/alert/example.rs), and example.png is that HTML
//! as headless Chromium shows it. Regenerate all three with
//! `DRIFTWALL_BLESS=1 cargo test --test email_docs`.

mod support;

use driftwall::alert::{example, message};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{Scratch, signal, skip, wait_exit};

fn blessing() -> bool {
    std::env::var_os("DRIFTWALL_BLESS").is_some()
}

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/alerts")
}

fn rendered() -> message::Rendered {
    message::render(&example::mail(), example::HOST, example::ACCEPT)
}

#[test]
fn the_example_alert_in_docs_is_current() {
    let r = rendered();
    let text = format!("Subject: {}\n\n{}", r.subject, r.text);
    let dir = docs();
    let mut stale = Vec::new();
    for (name, want) in [("example.txt", &text), ("example.html", &r.html)] {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_ref() != Some(want) {
            if blessing() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, want).unwrap();
            } else {
                stale.push(name);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/alerts/{stale:?} out of date with the renderer; rerun with DRIFTWALL_BLESS=1"
    );
}

#[test]
fn the_example_alert_says_what_a_network_engineer_needs() {
    let r = rendered();
    assert_eq!(
        r.subject,
        "[driftwall] fw1.example.org: HTTPS (tcp 443 in) now rejected – 1 requirement broken"
    );
    for want in [
        "== HTTPS (tcp 443 inbound) is now rejected for 192.0.2.0/24\n   requirement web-server/https-open\n   in /etc/iptables/rules.v4: pass -> fail\n",
        "witness: tcp 192.0.2.1:49152 -> 198.51.100.20:443 in on eth0 (inbound): allow -> reject",
        "decided now by: /etc/iptables/rules.v4:12  -A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset",
        "in the baseline: /etc/iptables/rules.v4:12  -A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT",
        "  + /etc/iptables/rules.v4:12  -A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 443 -j REJECT --reject-with tcp-reset",
        example::ACCEPT,
        "delete the + rule at /etc/iptables/rules.v4:12",
    ] {
        assert!(r.text.contains(want), "`{want}` in\n{}", r.text);
    }
    // Issue 20: said once, in words, not "https-open is fail" three times.
    assert_eq!(r.text.matches("web-server/https-open").count(), 1);
    assert_eq!(r.html.matches("web-server/https-open").count(), 1);
    assert!(!r.text.contains(" is fail"), "{}", r.text);
    assert!(
        r.html.contains("<table") && r.html.contains("-j REJECT") && !r.html.contains("<script")
    );
}

/// The Chromium to take the screenshot with: `DRIFTWALL_CHROMIUM`, else
/// `chromium` (Debian's package) or `chromium-browser` on the PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DRIFTWALL_CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

/// A PNG's width and height, from its signature and IHDR chunk.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let signature = b"\x89PNG\r\n\x1a\n";
    let dims = |r: std::ops::Range<usize>| {
        bytes
            .get(r)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    (bytes.get(..8) == Some(signature) && bytes.get(12..16) == Some(b"IHDR"))
        .then(|| Some((dims(16..20)?, dims(20..24)?)))
        .flatten()
}

/// FNV-1a (64 bits) of the HTML a screenshot shows, as hex: the note the
/// blessed PNG carries, so the test knows it is of the current HTML.
fn fnv(bytes: &[u8]) -> String {
    let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{h:016x}")
}

/// CRC-32 (ISO-HDLC, as PNG chunks use), bit by bit: a few hundred bytes.
fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |mut c, b| {
        c ^= u32::from(*b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
        c
    })
}

const NOTE: &str = "driftwall-html-fnv1a";

/// The PNG with a tEXt chunk `NOTE` = `value` after its IHDR chunk (which
/// ends at byte 33: signature 8, length 4, type 4, data 13, CRC 4).
fn with_note(png: &[u8], value: &str) -> Vec<u8> {
    let mut chunk = format!("tEXt{NOTE}\0{value}").into_bytes();
    let crc = crc32(&chunk);
    let len = u32::try_from(chunk.len() - 4).unwrap_or(0);
    chunk.extend_from_slice(&crc.to_be_bytes());
    let mut out = png.get(..33).unwrap_or_default().to_vec();
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(png.get(33..).unwrap_or_default());
    out
}

/// The value of the `NOTE` tEXt chunk, if the PNG has one.
fn note(png: &[u8]) -> Option<String> {
    let mut at = 8;
    while let Some(len) = png
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
    {
        let data = png.get(at + 8..at + 8 + len as usize)?;
        if png.get(at + 4..at + 8) == Some(b"tEXt")
            && let Some(value) = data.strip_prefix(format!("{NOTE}\0").as_bytes())
        {
            return String::from_utf8(value.to_vec()).ok();
        }
        at += 12 + len as usize;
    }
    None
}

const WIDTH: u32 = 1100;
const HEIGHT: u32 = 900;

/// docs/alerts/example.png is taken by a real browser from what the code
/// renders, never by hand: the HTML part goes through headless Chromium
/// (a fresh profile, no network services, no GPU) and the screenshot must
/// be a PNG of the window's size with something drawn on it.
#[test]
fn the_example_screenshot_is_taken_by_headless_chromium() {
    let Some(browser) = chromium() else {
        skip(
            "chromium not found (scripts/test installs Debian's chromium; or set DRIFTWALL_CHROMIUM)",
        );
        return;
    };
    let scratch = Scratch::new("screenshot");
    let page = rendered().html;
    let html = scratch.file("example.html", &page);
    let png = scratch.join("example.png");
    let profile = scratch.join("profile");
    let mut child = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let code = wait_exit(&mut child, Duration::from_secs(90));
    if code.is_none() {
        // Stopped by its id, the one process this test started.
        signal(&child, "KILL");
        let _ = child.wait();
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    assert_eq!(
        code,
        Some(0),
        "{} failed or hung:\n{err}",
        browser.display()
    );
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot ({e}):\n{err}"));
    assert_eq!(
        png_size(&bytes),
        Some((WIDTH, HEIGHT)),
        "not a {WIDTH}x{HEIGHT} PNG"
    );
    // A blank page of this size compresses to a few kilobytes; the alert's
    // text, tables and colours make tens.
    assert!(
        bytes.len() > 20_000,
        "the screenshot is nearly empty: {} bytes",
        bytes.len()
    );
    // Pixels differ between Chromium versions and fonts, so what is
    // compared is the HTML the shipped screenshot was taken of.
    let taken_of = fnv(page.as_bytes());
    let shipped = docs().join("example.png");
    if blessing() {
        let noted = with_note(&bytes, &taken_of);
        assert_eq!(note(&noted).as_deref(), Some(taken_of.as_str()));
        std::fs::write(&shipped, &noted).expect("write docs/alerts/example.png");
    }
    let kept = std::fs::read(&shipped).unwrap_or_default();
    assert_eq!(
        (png_size(&kept), note(&kept)),
        (Some((WIDTH, HEIGHT)), Some(taken_of)),
        "docs/alerts/example.png is not this test's screenshot of the current HTML; rerun with DRIFTWALL_BLESS=1"
    );
}
