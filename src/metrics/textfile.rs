//! `metrics.textfile`: the same metrics written to a file for
//! node_exporter's textfile collector, for hosts that expose no port of
//! their own. Written atomically (a temporary file renamed over it), since
//! the collector may read it at any moment and must never see half of it.

use super::Metrics;
use super::error::MetricsError;
use crate::fsutil::write_atomic;
use std::path::Path;

/// Writes the metrics now to `path` (by convention `*.prom` in the
/// collector's folder, e.g. /var/lib/prometheus/node-exporter/driftwall.prom).
pub fn write(path: &Path, metrics: &Metrics) -> Result<(), MetricsError> {
    let text = metrics.render()?;
    write_atomic(path, text.as_bytes()).map_err(|error| MetricsError::Write {
        path: path.display().to_string(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_holds_the_metrics_and_no_temporary_file_is_left() {
        let dir = std::env::temp_dir().join(format!("driftwall-textfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("driftwall.prom");
        write(&path, &Metrics::default()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# TYPE driftwall_build_info gauge"), "{text}");
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["driftwall.prom"]);
        let _ = std::fs::remove_file(&path);
        // A folder where the file should be: the rename over it fails.
        std::fs::create_dir_all(dir.join("taken.prom/inside")).unwrap();
        let err = write(&dir.join("taken.prom"), &Metrics::default()).unwrap_err();
        assert!(
            err.to_string().contains("cannot write the metrics"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
