//! Appending to the journal, and its rotation.
//!
//! The protocol, shared by every writer (CLI, supervisors) and reader:
//! - a writer opens `events.log` with `O_APPEND`, takes a shared `flock`
//!   on it, checks that the path still names the file it opened (a
//!   rotation may have renamed it in between: then it opens again),
//!   appends the line with one `write(2)` and closes. Appends of one write
//!   to a local file do not interleave with other appenders' on Linux;
//! - when the file has grown past [`MAX_FILE`], the writer that noticed
//!   takes the lock exclusively, checks again (another may have rotated
//!   already) and renames `events.log` over `events.log.1`. The exclusive
//!   lock waits for the writers under way, so no line is ever written to
//!   a file after it was renamed, and a reader that sees the rename can
//!   read the old file to its end and go on with the new one;
//! - nothing fails the operation that emits: a missing directory is made,
//!   a full disk or any other error drops the event. A write cut short by
//!   a full disk leaves a torn line, which readers skip. No fsync: after a
//!   crash the last events may be lost, never the operation's own state.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::Event;

/// The journal's directory under the root.
pub const DIR: &str = "events";
/// The file being appended to.
pub const CURRENT: &str = "events.log";
/// The file before it (rotation keeps one).
pub const PREVIOUS: &str = "events.log.1";
/// The size past which the current file is rotated: the journal keeps the
/// last 4–8 MiB, some 20,000 events or more.
pub const MAX_FILE: u64 = 4 << 20;

/// The journal in one directory.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
    max_file: u64,
}

impl Journal {
    /// The journal of a yurta root: `<root>/events`.
    pub fn under(root: &Path) -> Journal {
        Journal::at(root.join(DIR))
    }

    /// The journal in `dir` (the supervisor's `--events-dir`).
    pub fn at(dir: PathBuf) -> Journal {
        Journal {
            dir,
            max_file: MAX_FILE,
        }
    }

    /// Rotates past `max_file` bytes instead of [`MAX_FILE`] (tests).
    pub fn with_max_file(mut self, max_file: u64) -> Journal {
        self.max_file = max_file.max(1);
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn current(&self) -> PathBuf {
        self.dir.join(CURRENT)
    }

    pub fn previous(&self) -> PathBuf {
        self.dir.join(PREVIOUS)
    }

    /// Appends one line (ending in a newline) with one write, rotating the
    /// file when it has grown too big. A short write (a full disk) is an
    /// error, and the torn line stays: readers skip it.
    pub fn append(&self, line: &[u8]) -> io::Result<()> {
        let (mut file, path) = self.open_locked()?;
        let n = file.write(line)?;
        if n != line.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("{}: wrote {n} of {} bytes", path.display(), line.len()),
            ));
        }
        if file.metadata()?.len() > self.max_file {
            self.rotate(&file, &path)?;
        }
        Ok(())
    }

    /// The current file, open for appending, under a shared lock, and
    /// still the one its path names.
    fn open_locked(&self) -> io::Result<(File, PathBuf)> {
        let path = self.current();
        for _ in 0..8 {
            let file = match open_append(&path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    std::fs::create_dir_all(&self.dir)?;
                    open_append(&path)?
                }
                r => r?,
            };
            flock(&file, libc::LOCK_SH)?;
            if is_named(&file, &path) {
                return Ok((file, path));
            }
        }
        Err(io::Error::other(format!(
            "{}: rotated again and again",
            path.display()
        )))
    }

    /// Renames the current file over the previous one, under the
    /// exclusive lock, unless another writer did it first.
    fn rotate(&self, file: &File, path: &Path) -> io::Result<()> {
        // Converting the lock drops the shared one first: two writers
        // rotating at once do not deadlock, and the second finds the
        // path renamed.
        flock(file, libc::LOCK_EX)?;
        if is_named(file, path) && file.metadata()?.len() > self.max_file {
            std::fs::rename(path, self.previous())?;
        }
        Ok(())
    }
}

/// Records an event in the journal under `root`, now. Never fails: an
/// event that cannot be written is dropped.
pub fn emit(root: &Path, event: &Event) {
    let _ = Journal::under(root).append(&event.line(now_nanos()));
}

/// Nanoseconds since the epoch.
pub fn now_nanos() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    d.as_secs() as i64 * 1_000_000_000 + i64::from(d.subsec_nanos())
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
}

/// Whether `path` names the file `file` is open on.
pub(crate) fn is_named(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// `flock(2)`, retried when a signal interrupts it.
pub(crate) fn flock(file: &File, op: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: flock on a descriptor this File owns; no memory involved.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(i: usize) -> Vec<u8> {
        let id = format!("{i:064}");
        Event {
            kind: "container",
            action: "die",
            id: &id,
            attributes: &[("exitCode", "0")],
        }
        .line(i as i64)
    }

    #[test]
    fn appends_make_the_directory_and_rotate_past_the_limit() {
        let t = tempfile::tempdir().unwrap();
        let j = Journal::under(t.path()).with_max_file(1000);
        let line = event(1);
        for _ in 0..10 {
            j.append(&line).unwrap();
        }
        let cur = std::fs::metadata(j.current()).map_or(0, |m| m.len());
        let prev = std::fs::metadata(j.previous()).unwrap().len();
        assert!(prev > 1000 && prev <= 1000 + line.len() as u64, "{prev}");
        assert_eq!(cur + prev, 10 * line.len() as u64);
    }

    #[test]
    fn threads_appending_at_once_lose_and_tear_nothing() {
        let t = tempfile::tempdir().unwrap();
        let j = Journal::under(t.path()).with_max_file(1 << 30);
        std::thread::scope(|s| {
            for w in 0..8 {
                let j = j.clone();
                s.spawn(move || {
                    for i in 0..200 {
                        j.append(&event(w * 1000 + i)).unwrap();
                    }
                });
            }
        });
        let text = std::fs::read_to_string(j.current()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1600);
        let whole = |l: &&str| l.starts_with(crate::LINE_START) && l.ends_with("\"0\"}}}");
        assert!(lines.iter().all(whole));
        let times: std::collections::HashSet<&str> =
            lines.iter().map(|l| &l[12..l.find(',').unwrap()]).collect();
        assert_eq!(times.len(), 1600);
    }
}
