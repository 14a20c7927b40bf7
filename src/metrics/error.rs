//! What can go wrong with the metrics.

/// Why the metrics could not be encoded or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    #[error("cannot encode the metrics: {0}")]
    Encode(#[from] prometheus::Error),
    #[error("{path}: cannot write the metrics: {error}")]
    Write { path: String, error: std::io::Error },
    #[error("{addr}: cannot listen for metrics scrapes: {error}")]
    Listen { addr: String, error: std::io::Error },
}
