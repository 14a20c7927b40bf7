//! Every metric the daemon exposes, with its labels and help text, built
//! afresh from a [`Snapshot`] at each scrape and encoded by the prometheus
//! crate. Built afresh because the snapshot is the whole truth: a source
//! or a requirement that is gone must vanish from the output, not keep its
//! last value.
//!
//! docs/fleet.md is the reference of these names and labels; change both
//! together.

use super::error::MetricsError;
use super::snapshot::{CHANNELS, Counters, Snapshot, Spools};
use crate::drift::event::EventKind;
use crate::policy::check::Status;
use prometheus::{Gauge, IntCounterVec, IntGaugeVec, Opts, Registry};

/// The results a requirement can have: one series each, 1 for the current
/// one and 0 for the others (a state set), so a query can select on the
/// label and a changed result never leaves a stale series behind.
pub const STATUSES: &[Status] = &[Status::Pass, Status::Fail, Status::Indeterminate];

fn int_gauge_vec(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntGaugeVec, MetricsError> {
    let g = IntGaugeVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(g.clone()))?;
    Ok(g)
}

fn counter_vec(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntCounterVec, MetricsError> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

fn flag(b: bool) -> i64 {
    i64::from(b)
}

/// The registry of one scrape.
pub fn registry(
    s: &Snapshot,
    counters: &Counters,
    spools: &Spools,
) -> Result<Registry, MetricsError> {
    let r = Registry::new();
    int_gauge_vec(
        &r,
        "driftwall_build_info",
        "The driftwall version that serves these metrics; always 1.",
        &["version"],
    )?
    .with_label_values(&[env!("CARGO_PKG_VERSION")])
    .set(1);

    let status = int_gauge_vec(
        &r,
        "driftwall_requirement_status",
        "A requirement's result on a watched source: 1 for its current status (pass, fail or indeterminate), 0 for the other two.",
        &["policy", "requirement", "source", "status"],
    )?;
    let accepted = int_gauge_vec(
        &r,
        "driftwall_requirement_accepted",
        "1 when the requirement's current result was accepted as the baseline (driftwall baseline accept): the daemon does not alert on it.",
        &["policy", "requirement", "source"],
    )?;
    for row in &s.requirements {
        for st in STATUSES {
            status
                .with_label_values(&[
                    row.policy.as_str(),
                    &row.requirement,
                    &row.source,
                    st.name(),
                ])
                .set(flag(row.status == *st));
        }
        accepted
            .with_label_values(&[row.policy.as_str(), &row.requirement, &row.source])
            .set(flag(row.accepted));
    }

    let parses = int_gauge_vec(
        &r,
        "driftwall_source_parses",
        "1 when the latest text of a watched source parses; 0 when it does not (its last good text stays in force).",
        &["source"],
    )?;
    let rules = int_gauge_vec(
        &r,
        "driftwall_source_rules",
        "Rules in the text of a watched source that is in force (the last one that parsed).",
        &["source"],
    )?;
    let differs = int_gauge_vec(
        &r,
        "driftwall_source_differs_from_baseline",
        "1 when the text of a watched source differs from its accepted baseline.",
        &["source"],
    )?;
    for row in &s.sources {
        parses
            .with_label_values(&[row.source.as_str()])
            .set(flag(row.parses));
        if let Some(n) = row.rules {
            rules
                .with_label_values(&[row.source.as_str()])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        differs
            .with_label_values(&[row.source.as_str()])
            .set(flag(row.differs_from_baseline));
    }

    let live = int_gauge_vec(
        &r,
        "driftwall_live_ruleset_differs",
        "1 when the ruleset loaded in the kernel (source, the command that prints it) differs from the file it is loaded from (compared_with).",
        &["source", "compared_with"],
    )?;
    for row in &s.live {
        live.with_label_values(&[row.source.as_str(), &row.compared_with])
            .set(flag(row.differs));
    }

    let events = counter_vec(
        &r,
        "driftwall_drift_events_total",
        "Drift events the daemon found since it started, by kind.",
        &["kind"],
    )?;
    // Every kind from the start, so that rate() sees the first event.
    for kind in EventKind::ALL {
        events.with_label_values(&[kind.name()]);
    }
    for (kind, n) in counters.events() {
        events.with_label_values(&[kind.as_str()]).inc_by(n);
    }

    if let Some(t) = s.last_assessment {
        let g = Gauge::new(
            "driftwall_last_assessment_timestamp_seconds",
            "When the daemon last assessed a watched source, in seconds since the epoch.",
        )?;
        r.register(Box::new(g.clone()))?;
        g.set(t);
    }
    let rescan = Gauge::new(
        "driftwall_rescan_interval_seconds",
        "The configured rescan_interval: every source is assessed at least this often.",
    )?;
    r.register(Box::new(rescan.clone()))?;
    rescan.set(s.rescan_interval_seconds);

    let depth = int_gauge_vec(
        &r,
        "driftwall_alert_spool_depth",
        "Alerts waiting in a delivery channel's spool (email: messages; alertmanager: alert postings).",
        &["channel"],
    )?;
    let failures = counter_vec(
        &r,
        "driftwall_alert_delivery_failures_total",
        "Failed delivery attempts by channel since the daemon started (the alert stays in the spool and is retried).",
        &["channel"],
    )?;
    for channel in CHANNELS {
        depth
            .with_label_values(&[*channel])
            .set(i64::try_from(spools.depth(channel, counters)).unwrap_or(i64::MAX));
        failures
            .with_label_values(&[*channel])
            .inc_by(counters.failures(channel));
    }
    Ok(r)
}

/// The metrics of one scrape, in the Prometheus text format (0.0.4).
pub fn encode(s: &Snapshot, counters: &Counters, spools: &Spools) -> Result<String, MetricsError> {
    let r = registry(s, counters, spools)?;
    let mut out = String::new();
    prometheus::TextEncoder::new().encode_utf8(&r.gather(), &mut out)?;
    Ok(out)
}

/// The content type of what [`encode`] writes: the encoder's own, so the
/// two cannot disagree.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::snapshot::{LiveRow, RequirementRow, SourceRow};

    fn snapshot() -> Snapshot {
        Snapshot {
            requirements: vec![RequirementRow {
                policy: "web-server".into(),
                requirement: "https-open".into(),
                source: "/etc/iptables/rules.v4".into(),
                status: Status::Fail,
                accepted: false,
            }],
            sources: vec![SourceRow {
                source: "/etc/iptables/rules.v4".into(),
                parses: true,
                rules: Some(10),
                differs_from_baseline: false,
            }],
            live: vec![LiveRow {
                source: "live: nft -j list ruleset".into(),
                compared_with: "/etc/nftables.conf".into(),
                differs: true,
            }],
            last_assessment: Some(1_800_000_000.5),
            rescan_interval_seconds: 300.0,
        }
    }

    #[test]
    fn every_metric_is_there_with_its_help_and_type() {
        let c = Counters::default();
        c.event("requirement-changed");
        c.event("requirement-changed");
        c.alertmanager_failures
            .fetch_add(3, std::sync::atomic::Ordering::Relaxed);
        let text = encode(&snapshot(), &c, &Spools::default()).unwrap();
        for line in [
            "# TYPE driftwall_requirement_status gauge",
            "driftwall_requirement_status{policy=\"web-server\",requirement=\"https-open\",source=\"/etc/iptables/rules.v4\",status=\"fail\"} 1",
            "driftwall_requirement_status{policy=\"web-server\",requirement=\"https-open\",source=\"/etc/iptables/rules.v4\",status=\"pass\"} 0",
            "driftwall_source_parses{source=\"/etc/iptables/rules.v4\"} 1",
            "driftwall_source_rules{source=\"/etc/iptables/rules.v4\"} 10",
            "driftwall_source_differs_from_baseline{source=\"/etc/iptables/rules.v4\"} 0",
            "driftwall_live_ruleset_differs{compared_with=\"/etc/nftables.conf\",source=\"live: nft -j list ruleset\"} 1",
            "# TYPE driftwall_drift_events_total counter",
            "driftwall_drift_events_total{kind=\"requirement-changed\"} 2",
            "driftwall_drift_events_total{kind=\"parse-error\"} 0",
            "driftwall_last_assessment_timestamp_seconds 1800000000.5",
            "driftwall_rescan_interval_seconds 300",
            "driftwall_alert_spool_depth{channel=\"email\"} 0",
            "driftwall_alert_delivery_failures_total{channel=\"alertmanager\"} 3",
            "# TYPE driftwall_build_info gauge",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n---\n{text}");
        }
        // Every family has a help text.
        let families = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
        let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
        assert_eq!(families, helps, "{text}");
    }

    #[test]
    fn event_kinds_are_named_as_in_the_events_json() {
        for k in EventKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let mut s = snapshot();
        s.sources[0].source = "C:\\fw \"main\"\nrules".into();
        let text = encode(&s, &Counters::default(), &Spools::default()).unwrap();
        assert!(
            text.lines()
                .any(|l| l == r#"driftwall_source_parses{source="C:\\fw \"main\"\nrules"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn what_is_gone_from_the_snapshot_is_gone_from_the_metrics() {
        let mut s = snapshot();
        s.requirements.clear();
        s.last_assessment = None;
        let text = encode(&s, &Counters::default(), &Spools::default()).unwrap();
        assert!(!text.contains("driftwall_requirement_status{"), "{text}");
        assert!(!text.contains("driftwall_last_assessment_timestamp_seconds"));
    }
}
