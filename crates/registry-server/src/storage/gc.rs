//! Garbage collection: removes blobs that no manifest of any repository
//! names, and uploads abandoned halfway. Safe while the server runs:
//!
//! - it holds `gc.lock` exclusively while it marks and sweeps, and the
//!   server holds it shared around each change (a verified blob renamed
//!   in and marked; a manifest stored after its blobs were checked);
//! - a blob pushed before its manifest (the usual order) carries a mark;
//!   a mark protects its blob until it has been seen by one earlier gc
//!   run *and* is older than the grace. The first condition does not
//!   depend on the clock, so a clock that jumps cannot make one gc run
//!   take a blob a client is still pushing a manifest for;
//! - an upload is abandoned when its bytes are older than the grace and
//!   an earlier gc run already saw it (same two conditions).
//!
//! Manifests (tagged or not) are never removed here: they are the roots.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::{remove_if_present, sorted_names, Context, Result, Storage};
use crate::names::Digest;

/// How gc decides.
#[derive(Debug, Clone, Copy)]
pub struct GcOptions {
    /// Marks and uploads younger than this are kept regardless.
    pub grace: Duration,
    /// Report what would go without removing anything.
    pub dry_run: bool,
}

/// What a gc run removed (or, dry, would remove).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GcReport {
    pub blobs_removed: usize,
    pub bytes_freed: u64,
    /// Unreferenced blobs kept because a recent push marked them.
    pub blobs_kept_marked: usize,
    pub uploads_removed: usize,
    pub generation: u64,
}

impl Storage {
    /// One gc run (blocks while the server is storing something, and
    /// blocks the server's changes while it sweeps).
    pub fn gc(&self, opts: GcOptions) -> Result<GcReport> {
        let _lock = self.exclusive_lock()?;
        let seen_before = self.generation();
        let this_run = seen_before + 1;
        let referenced = self.referenced()?;
        let marked = self.live_marks(&referenced, seen_before, opts)?;
        let mut report = GcReport {
            generation: this_run,
            ..Default::default()
        };
        self.sweep_blobs(&referenced, &marked, opts, &mut report)?;
        if !opts.dry_run {
            self.unlink_missing_blobs()?;
        }
        report.uploads_removed = self.purge_uploads(this_run, opts)?;
        if !opts.dry_run {
            self.purge_tmp(opts.grace)?;
            self.set_generation(this_run)?;
        }
        Ok(report)
    }

    /// Every manifest and every digest a manifest names.
    fn referenced(&self) -> Result<HashSet<Digest>> {
        let mut set = HashSet::new();
        for (_, revisions) in self.all_revisions()? {
            for d in revisions {
                set.insert(d);
                let path = self.blob_path(&d);
                let Ok(data) = fs::read(&path) else {
                    continue;
                };
                if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&data) {
                    set.extend(named_digests(&v));
                }
            }
        }
        Ok(set)
    }

    /// The marked blobs still under protection; drops the marks that no
    /// longer protect anything.
    fn live_marks(
        &self,
        referenced: &HashSet<Digest>,
        seen_before: u64,
        opts: GcOptions,
    ) -> Result<HashSet<Digest>> {
        let dir = self.root.join("marks/sha256");
        let mut live = HashSet::new();
        for hex in sorted_names(&dir)? {
            let Ok(d) = Digest::parse(&format!("sha256:{hex}")) else {
                continue;
            };
            let path = dir.join(&hex);
            let written_in: u64 = fs::read_to_string(&path)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            let unseen = written_in >= seen_before;
            if !referenced.contains(&d) && (unseen || young(&path, opts.grace)) {
                live.insert(d);
            } else if !opts.dry_run {
                remove_if_present(&path)?;
            }
        }
        Ok(live)
    }

    fn sweep_blobs(
        &self,
        referenced: &HashSet<Digest>,
        marked: &HashSet<Digest>,
        opts: GcOptions,
        report: &mut GcReport,
    ) -> Result<()> {
        let top = self.root.join("blobs/sha256");
        for prefix in sorted_names(&top)? {
            for hex in sorted_names(&top.join(&prefix))? {
                let Ok(d) = Digest::parse(&format!("sha256:{hex}")) else {
                    continue;
                };
                if referenced.contains(&d) {
                    continue;
                }
                if marked.contains(&d) {
                    report.blobs_kept_marked += 1;
                    continue;
                }
                let path = top.join(&prefix).join(&hex);
                report.bytes_freed += fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                report.blobs_removed += 1;
                if !opts.dry_run {
                    remove_if_present(&path)?;
                }
            }
        }
        Ok(())
    }

    /// Removes repositories' links to blobs that are gone.
    fn unlink_missing_blobs(&self) -> Result<()> {
        let mut stack = vec![self.root.join("repositories")];
        while let Some(dir) = stack.pop() {
            for entry in sorted_names(&dir)? {
                let path = dir.join(&entry);
                if entry == "_layers" {
                    let links = path.join("sha256");
                    for hex in sorted_names(&links)? {
                        let gone = Digest::parse(&format!("sha256:{hex}"))
                            .map(|d| !self.blob_path(&d).exists())
                            .unwrap_or(true);
                        if gone {
                            remove_if_present(&links.join(hex))?;
                        }
                    }
                } else if !entry.starts_with('_') && path.is_dir() {
                    stack.push(path);
                }
            }
        }
        Ok(())
    }

    /// Removes abandoned uploads; returns how many.
    fn purge_uploads(&self, this_run: u64, opts: GcOptions) -> Result<usize> {
        let top = self.root.join("uploads");
        let mut removed = 0;
        for id in sorted_names(&top)? {
            let dir = top.join(&id);
            let seen = dir.join("gc-seen");
            let earlier = fs::read_to_string(&seen)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .is_some_and(|g| g < this_run);
            if earlier && !young(&dir.join("data"), opts.grace) {
                removed += 1;
                if !opts.dry_run {
                    fs::remove_dir_all(&dir).at("remove", &dir)?;
                }
            } else if !earlier && !opts.dry_run && dir.is_dir() {
                fs::write(&seen, this_run.to_string()).at("write", &seen)?;
            }
        }
        Ok(removed)
    }

    /// Temporary files left by a crash.
    fn purge_tmp(&self, grace: Duration) -> Result<()> {
        let tmp = self.root.join("tmp");
        for name in sorted_names(&tmp)? {
            let path = tmp.join(name);
            if !young(&path, grace) {
                remove_if_present(&path)?;
            }
        }
        Ok(())
    }
}

/// Modified less than `grace` ago (a file that cannot be read counts as
/// young: gc keeps what it is unsure of).
fn young(path: &Path, grace: Duration) -> bool {
    let Ok(modified) = fs::metadata(path).and_then(|m| m.modified()) else {
        return true;
    };
    match SystemTime::now().duration_since(modified) {
        Ok(age) => age < grace,
        Err(_) => true,
    }
}

/// The digests a manifest or index names: config, layers, entries, subject.
fn named_digests(v: &serde_json::Value) -> Vec<Digest> {
    let mut out = Vec::new();
    let mut take = |d: &serde_json::Value| {
        if let Some(Ok(d)) = d["digest"].as_str().map(Digest::parse) {
            out.push(d);
        }
    };
    take(&v["config"]);
    for key in ["layers", "manifests"] {
        for entry in v[key].as_array().into_iter().flatten() {
            take(entry);
        }
    }
    out
}
