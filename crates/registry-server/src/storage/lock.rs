//! `gc.lock`: the server holds it shared while it changes what is stored
//! (renaming a verified blob in and marking it, storing a manifest after
//! checking its blobs), `gc` holds it exclusively while it marks and
//! sweeps. So gc never sees half of a push: a blob is either marked
//! before gc looks, or renamed in after gc is done.

use std::fs::{File, OpenOptions};

use nix::fcntl::{Flock, FlockArg};

use super::{Context, Result, Storage, StorageError};

/// A held `gc.lock`; released on drop.
pub struct GcLock {
    _lock: Flock<File>,
}

impl Storage {
    fn lock(&self, how: FlockArg) -> Result<GcLock> {
        let path = self.root.join("gc.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .at("open", &path)?;
        let lock = Flock::lock(file, how).map_err(|(_, errno)| StorageError {
            what: "lock",
            path,
            error: errno.into(),
        })?;
        Ok(GcLock { _lock: lock })
    }

    /// Taken by every change to what is stored (blocks while gc sweeps).
    pub fn shared_lock(&self) -> Result<GcLock> {
        self.lock(FlockArg::LockShared)
    }

    /// Taken by gc (blocks while changes are being made).
    pub fn exclusive_lock(&self) -> Result<GcLock> {
        self.lock(FlockArg::LockExclusive)
    }

    /// How many gc runs have completed (0 before the first).
    pub fn generation(&self) -> u64 {
        std::fs::read_to_string(self.root.join("gc.generation"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    pub(super) fn set_generation(&self, g: u64) -> Result<()> {
        self.write_atomic(&self.root.join("gc.generation"), g.to_string().as_bytes())
    }
}
