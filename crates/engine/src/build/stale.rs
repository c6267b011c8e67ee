//! What a killed build leaves, and its collection. Every build holds a
//! lock (`<dir>.lock`, flock) on its temporary directory under
//! `<root>/build/tmp/` and on an unpacked context under `<root>/build/`,
//! and labels its step containers with its directory's name. Before each
//! build and at `builder prune`, what belongs to no live build goes: its
//! step containers once they have exited, the mounts under its directory
//! (a COPY's overlay), the directory itself.

use std::fs;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::lifecycle::{self, Host};
use crate::Engine;

/// The label of a build's step containers: the build's directory name.
pub const STEP_LABEL: &str = "io.yurta.build";

/// A directory held by a live build, removed (and unlocked) on drop.
pub struct Held {
    pub dir: PathBuf,
    _lock: Option<Flock<fs::File>>,
}

impl Held {
    /// Makes `dir` and takes its lock.
    pub fn new(dir: PathBuf) -> anyhow::Result<Held> {
        // The lock first: a directory that exists is always held or stale.
        if let Some(parent) = dir.parent() {
            fs::create_dir_all(parent)?;
        }
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(&dir))?;
        let lock = Flock::lock(file, FlockArg::LockExclusiveNonblock)
            .map_err(|(_, e)| anyhow::anyhow!("lock {}: {e}", dir.display()))?;
        fs::create_dir_all(&dir)?;
        Ok(Held {
            dir,
            _lock: Some(lock),
        })
    }

    /// The directory's name (the build's ID in its containers' label).
    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        unmount_below(&self.dir);
        let _ = fs::remove_dir_all(&self.dir);
        let _ = fs::remove_file(lock_path(&self.dir));
    }
}

fn lock_path(dir: &Path) -> PathBuf {
    let mut name = dir.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Whether a live build holds `dir`.
fn held(dir: &Path) -> bool {
    let Ok(file) = fs::OpenOptions::new().write(true).open(lock_path(dir)) else {
        return false;
    };
    Flock::lock(file, FlockArg::LockExclusiveNonblock).is_err()
}

/// Collects what builds that are gone left under `root`; the names of
/// the directories removed.
pub fn collect(host: &Host, engine: &Engine) -> Vec<String> {
    let build = host.root.join("build");
    let mut gone = Vec::new();
    let tmp = build.join("tmp");
    let candidates = [
        list_dirs(&tmp, |_| true),
        list_dirs(&build, |n| n.starts_with("context-")),
    ];
    for dir in candidates.into_iter().flatten() {
        if held(&dir) {
            continue;
        }
        unmount_below(&dir);
        let _ = fs::remove_dir_all(&dir);
        let _ = fs::remove_file(lock_path(&dir));
        if let Some(n) = dir.file_name() {
            gone.push(n.to_string_lossy().into_owned());
        }
    }
    remove_step_containers(host, engine, &tmp);
    gone
}

fn list_dirs(dir: &Path, want: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| want(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect()
}

/// Exited step containers of builds that are gone.
fn remove_step_containers(host: &Host, engine: &Engine, tmp: &Path) {
    let Ok(all) = engine.list() else { return };
    for rec in all {
        let Some(owner) = rec.config.labels.get(STEP_LABEL) else {
            continue;
        };
        let rec = lifecycle::reconcile::refresh(host, engine, rec.clone());
        if rec.state.running || held(&tmp.join(owner)) {
            continue;
        }
        let _ = lifecycle::remove(host, engine, &rec, true, true);
    }
}

/// Unmounts everything mounted at or below `dir`, deepest first.
fn unmount_below(dir: &Path) {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let prefix = dir.display().to_string();
    let mut points: Vec<&str> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| *m == prefix || m.starts_with(&format!("{prefix}/")))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        let _ = nix::mount::umount2(p, nix::mount::MntFlags::MNT_DETACH);
    }
}
