//! Replays the corpora of the fuzz targets of this crate's readers
//! (`fuzz/corpus/{policy,config,probe}/`) through the same checks the
//! targets run (`fuzz/checks/driftwall.rs`), on stable Rust, so the inputs
//! the fuzzer kept (seeds, and every crash it found) stay checked by
//! `cargo test`. The parsers' corpora are replayed by
//! `parsers/tests/fuzz_corpus.rs`.

#[path = "../fuzz/checks/driftwall.rs"]
mod checks;

use std::path::Path;

/// Every file of one target's corpus through its check; how many.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let run = std::panic::catch_unwind(|| check(&data));
        assert!(run.is_ok(), "{} fails its check", path.display());
        n += 1;
    }
    n
}

#[test]
fn the_policy_corpus_is_read_or_refused_with_placed_errors() {
    assert!(replay("policy", checks::policy) >= 5);
}

#[test]
fn the_configuration_corpus_is_read_or_refused_with_placed_errors() {
    assert!(replay("config", checks::config) >= 2);
}

#[test]
fn the_probe_corpus_is_read_and_answered_or_refused_with_placed_errors() {
    assert!(replay("probe", checks::probe) >= 2);
}
