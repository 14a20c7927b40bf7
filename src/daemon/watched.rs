//! The folders the watcher watches, kept to what the watched sources need
//! as files, includes and folders come and go.
//!
//! A watch belongs to a folder's inode, not its name: when a watched folder
//! is deleted (or replaced by another of the same name), its watch is gone,
//! and nothing would be heard from the new one. So a notification that
//! names a watched folder itself (deleted, moved, its attributes changed)
//! makes it watched anew ([`Watched::forget`]), and each turn also checks
//! that every watched folder is still the one that was watched (a new
//! folder may get the old one's inode number, so that check alone would
//! not do; it covers notifications that were lost). One that is gone
//! is said (once), and its nearest existing ancestor is watched in its
//! place, so that its return wakes the daemon at once; when it is back it
//! is said again, watched, and what it holds is read (issue 18).

use ::notify::{RecursiveMode, Watcher};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A folder's identity: device and inode.
type Identity = (u64, u64);

fn identity(dir: &Path) -> Option<Identity> {
    std::fs::metadata(dir)
        .ok()
        .filter(|m| m.is_dir())
        .map(|m| (m.dev(), m.ino()))
}

/// The nearest ancestor of `dir` that is a folder.
fn existing_ancestor(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .skip(1)
        .find(|a| !a.as_os_str().is_empty() && a.is_dir())
        .map(Path::to_path_buf)
}

#[derive(Default)]
pub struct Watched {
    /// Folders watched, with the identity of the folder the watch is on.
    folders: BTreeMap<PathBuf, Identity>,
    /// Ancestors watched in place of wanted folders that are not there.
    stand_ins: BTreeSet<PathBuf>,
    /// Wanted folders that are not there: said when they go and come back.
    missing: BTreeSet<PathBuf>,
    /// Folders that exist but could not be watched: tried again at every
    /// turn, and said once.
    failed: BTreeSet<PathBuf>,
}

impl Watched {
    /// Drops the watches of the watched folders among `paths` (named by a
    /// notification themselves): the next [`Watched::update`] watches them
    /// again if they are there, or watches for their return.
    pub fn forget<W: Watcher>(&mut self, watcher: &mut W, paths: &[PathBuf]) {
        for p in paths {
            if self.folders.remove(p).is_some() {
                let _ = watcher.unwatch(p);
            }
        }
    }

    /// Watches the folders of `wanted` and no others; returns the folders
    /// newly watched (a folder that came back among them), whose sources
    /// the caller reads again.
    pub fn update<W: Watcher>(
        &mut self,
        watcher: &mut W,
        wanted: &BTreeSet<PathBuf>,
    ) -> Vec<PathBuf> {
        for (dir, id) in std::mem::take(&mut self.folders) {
            let now = identity(&dir);
            if !wanted.contains(&dir) || now != Some(id) {
                // A folder removed took its watch with it: nothing to undo then.
                if let Err(e) = watcher.unwatch(&dir) {
                    tracing::debug!(folder = %dir.display(), error = %e, "cannot stop watching the folder");
                }
                if wanted.contains(&dir) && now.is_some() {
                    tracing::info!(folder = %dir.display(), "a watched folder was replaced; watching the new one");
                }
                continue;
            }
            self.folders.insert(dir, id);
        }
        self.failed.retain(|d| wanted.contains(d));
        self.missing.retain(|d| wanted.contains(d));
        let mut added = Vec::new();
        let mut stand_ins = BTreeSet::new();
        for dir in wanted {
            if self.folders.contains_key(dir) {
                continue;
            }
            let Some(id) = identity(dir) else {
                if self.missing.insert(dir.clone()) {
                    tracing::warn!(folder = %dir.display(), "a watched folder is not there; its return is watched for");
                }
                stand_ins.extend(existing_ancestor(dir));
                continue;
            };
            match watcher.watch(dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.failed.remove(dir);
                    if self.missing.remove(dir) {
                        tracing::info!(folder = %dir.display(), "a watched folder is back");
                    }
                    self.folders.insert(dir.clone(), id);
                    added.push(dir.clone());
                }
                Err(e) if self.failed.insert(dir.clone()) => {
                    tracing::warn!(folder = %dir.display(), error = %e, "cannot watch the folder; the periodic rescan covers it")
                }
                Err(_) => {}
            }
        }
        // A stand-in that is also a wanted folder is watched as that.
        stand_ins.retain(|a| !self.folders.contains_key(a));
        for gone in self.stand_ins.difference(&stand_ins) {
            let _ = watcher.unwatch(gone);
        }
        for a in stand_ins.difference(&self.stand_ins) {
            if let Err(e) = watcher.watch(a, RecursiveMode::NonRecursive) {
                tracing::debug!(folder = %a.display(), error = %e, "cannot watch the folder above a missing one");
            }
        }
        self.stand_ins = stand_ins;
        added
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what is watched, as the `notify` watcher would hold it.
    #[derive(Default)]
    struct Fake(BTreeSet<PathBuf>);

    impl Watcher for Fake {
        fn new<F: ::notify::EventHandler>(_: F, _: ::notify::Config) -> ::notify::Result<Self> {
            Ok(Fake::default())
        }
        fn watch(&mut self, path: &Path, _: RecursiveMode) -> ::notify::Result<()> {
            self.0.insert(path.to_path_buf());
            Ok(())
        }
        fn unwatch(&mut self, path: &Path) -> ::notify::Result<()> {
            self.0.remove(path);
            Ok(())
        }
        fn kind() -> ::notify::WatcherKind {
            ::notify::WatcherKind::NullWatcher
        }
    }

    #[test]
    fn a_folder_deleted_and_made_again_is_watched_again_through_its_parent_meanwhile() {
        let top = std::env::temp_dir().join(format!("driftwall-watched-{}", std::process::id()));
        let dir = top.join("etc/iptables");
        std::fs::create_dir_all(&dir).expect("folder");
        let wanted = BTreeSet::from([dir.clone()]);
        let (mut w, mut fake) = (Watched::default(), Fake::default());
        assert_eq!(w.update(&mut fake, &wanted), vec![dir.clone()]);
        assert_eq!(fake.0, wanted);
        // Deleted: its parent stands in.
        std::fs::remove_dir_all(top.join("etc")).expect("remove");
        assert!(w.update(&mut fake, &wanted).is_empty());
        assert_eq!(fake.0, BTreeSet::from([top.clone()]));
        // Back: watched again, and reported as new, so it is read.
        std::fs::create_dir_all(&dir).expect("folder again");
        assert_eq!(w.update(&mut fake, &wanted), vec![dir.clone()]);
        assert_eq!(fake.0, wanted);
        // Replaced between two turns, and the notification of it names the
        // folder: watched anew (the new folder may have the old inode).
        std::fs::remove_dir_all(&dir).expect("remove");
        std::fs::create_dir_all(&dir).expect("folder again");
        w.forget(&mut fake, std::slice::from_ref(&dir));
        assert_eq!(w.update(&mut fake, &wanted), vec![dir.clone()]);
        assert_eq!(fake.0, wanted);
        // No longer wanted: not watched.
        assert!(w.update(&mut fake, &BTreeSet::new()).is_empty());
        assert!(fake.0.is_empty());
        let _ = std::fs::remove_dir_all(&top);
    }
}
