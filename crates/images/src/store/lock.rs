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
        source: std::io::Error::from(errno),
    })
}
