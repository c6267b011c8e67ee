//! Advisory file locks (flock) that make any number of yurta processes safe
//! on one store: shared for readers, exclusive for writers. The lock files
//! are never renamed or deleted, so a lock always guards the same inode.

use std::fs::{File, OpenOptions};
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

use super::StoreError;

/// A held lock; released when dropped.
pub struct LockGuard {
    _lock: Flock<File>,
}

/// Takes a shared (`exclusive == false`) or exclusive lock on `path`,
/// creating the file if needed; blocks until granted.
pub fn lock(path: &Path, exclusive: bool) -> Result<LockGuard, StoreError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(StoreError::io("open lock file", path))?;
    lock_file(file, exclusive, path).map(|lock| LockGuard { _lock: lock })
}

/// flock(2) on an open file, blocking.
pub fn lock_file(file: File, exclusive: bool, path: &Path) -> Result<Flock<File>, StoreError> {
    let arg = if exclusive {
        FlockArg::LockExclusive
    } else {
        FlockArg::LockShared
    };
    Flock::lock(file, arg).map_err(|(_, errno)| StoreError::Io {
        what: "lock".to_string(),
        path: path.to_path_buf(),
        error: std::io::Error::from(errno),
    })
}

/// An exclusive lock on a file or directory that nobody else holds, or
/// None when a live process holds it (or the path is gone). Garbage
/// collection and `system df` tell leftovers of killed writers (ingest
/// files, unpack directories) from work in progress this way: every
/// writer holds such a lock for as long as it works on the path.
pub fn try_lock_unheld(path: &Path) -> Option<Flock<File>> {
    let file = File::open(path).ok()?;
    Flock::lock(file, FlockArg::LockExclusiveNonblock).ok()
}

/// Takes an exclusive lock on a path the caller just created (a file or a
/// directory), held until dropped: marks it as work in progress.
pub fn hold(path: &Path) -> Result<Flock<File>, StoreError> {
    let file = File::open(path).map_err(StoreError::io("open", path))?;
    lock_file(file, true, path)
}
