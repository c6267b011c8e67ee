//! Small OS helpers shared by every layer of yurta, with no dependencies
//! (the per-container supervisor links this too).
//!
//! - [`replace_file`], the one way yurta replaces a file atomically.
//!   Every state file (container records, network records, the runtime's
//!   state, the supervisor's exit file, pid files, caches) goes through
//!   it, so that a reader never sees half a file and a failure — a full
//!   disk above all — never leaves a temporary file behind.
//! - [`proc`]: a process's state and start time from `/proc/PID/stat`, the
//!   identity every record of a process is checked against (a pid alone
//!   may have been reused).

pub mod proc;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Whether [`replace_file`] waits for the data to reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync the new file before the rename: the new content survives a
    /// crash once the call returns (records that cannot be rebuilt).
    Synced,
    /// No fsync: readers see the old or the new content, never half, but a
    /// crash may lose the new one (files rebuilt at every start, caches,
    /// pid files). Saves up to several milliseconds on a busy disk.
    Unsynced,
}

/// Replaces `path` with `data`: written to a temporary file in the same
/// directory (mode `mode`), optionally fsynced, then renamed over `path`.
/// On any error the temporary file is removed, and `path` keeps its old
/// content (or stays absent). Concurrent writers of one path each use
/// their own temporary file; the last rename wins.
pub fn replace_file(path: &Path, data: &[u8], mode: u32, durability: Durability) -> io::Result<()> {
    let tmp = temp_path(path);
    let written = write_new(&tmp, data, mode, durability).and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

fn write_new(tmp: &Path, data: &[u8], mode: u32, durability: Durability) -> io::Result<()> {
    let mut f: File = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(tmp)?;
    f.write_all(data)?;
    if durability == Durability::Synced {
        f.sync_all()?;
    }
    Ok(())
}

/// `.<name>.tmp-<pid>-<n>` next to `path`: hidden from directory scans
/// that look for `*.json`, unique per process and call.
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = format!(".{name}.tmp-{}-{n}", std::process::id());
    path.with_file_name(tmp)
}

/// Whether `name` is a temporary file of [`replace_file`] (for the sweeps
/// that clean up after a process killed between its write and its rename).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_atomically_with_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        replace_file(&p, b"one", 0o600, Durability::Synced).unwrap();
        replace_file(&p, b"two", 0o600, Durability::Unsynced).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "no temporary file left");
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        // A full filesystem: /dev/full is not a directory we can write in,
        // so use a tmpfs-like failure: a path whose directory is missing
        // fails at create (nothing made), and a rename onto a directory
        // fails after the write (the temporary file must go).
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("taken");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("x"), b"").unwrap();
        let err = replace_file(&target, b"data", 0o644, Durability::Unsynced).unwrap_err();
        assert!(err.raw_os_error().is_some(), "{err}");
        let left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["taken"]);
        let missing = dir.path().join("no/such/dir/f");
        assert!(replace_file(&missing, b"", 0o644, Durability::Unsynced).is_err());
    }

    #[test]
    fn temp_names_are_recognised() {
        let t = temp_path(Path::new("/r/networks/bridge.json"));
        let name = t.file_name().unwrap().to_str().unwrap();
        assert!(is_temp_name(name), "{name}");
        assert!(!is_temp_name("bridge.json"));
        assert_ne!(temp_path(Path::new("/a")), temp_path(Path::new("/a")));
    }
}
