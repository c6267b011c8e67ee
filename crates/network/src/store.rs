//! The network store: `<root>/networks/<name>.json`, one file per network,
//! each replaced atomically (write, fsync, rename) while holding an
//! exclusive flock on `<root>/networks/.lock`. Every operation that reads,
//! decides and writes (create, attach, publish…) holds the lock throughout,
//! so any number of yurta processes may run at once.
//!
//! The host's objects (the nft table, bridge names, subnets as routes) are
//! shared by every state root on the host, so the steps that decide or
//! change them also hold a host-wide flock ([`HostLock`]), always taken
//! after a root's lock, never before.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::record::Network;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("lock {path}: {errno}")]
    Lock { path: PathBuf, errno: nix::Error },
    #[error("corrupt network file {path}: {source}")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// The directory of network files.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

/// The store while its lock is held; dropping it unlocks.
pub struct Locked<'a> {
    store: &'a Store,
    _lock: Flock<File>,
}

impl Store {
    /// `<root>/networks`, created when missing.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        let dir = root.join("networks");
        fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        Ok(Store { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Waits for the exclusive lock.
    pub fn lock(&self) -> Result<Locked<'_>, StoreError> {
        let path = self.dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io("open", &path))?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| StoreError::Lock { path, errno })?;
        self.remove_stale_temp_files();
        Ok(Locked {
            store: self,
            _lock: lock,
        })
    }

    /// Records are written only under the lock: with it held, a temporary
    /// file of [`yurta_sysutil::replace_file`] is a killed writer's.
    fn remove_stale_temp_files(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            if e.file_name()
                .to_str()
                .is_some_and(yurta_sysutil::is_temp_name)
            {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

impl Locked<'_> {
    fn path(&self, name: &str) -> PathBuf {
        self.store.dir.join(format!("{name}.json"))
    }

    /// Every network, by name.
    pub fn load_all(&self) -> Result<Vec<Network>, StoreError> {
        let dir = &self.store.dir;
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).map_err(io("read", dir))? {
            let path = entry.map_err(io("read", dir))?.path();
            if path.extension().is_some_and(|e| e == "json") {
                out.push(read(&path)?);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The network called `name`, if any.
    pub fn load(&self, name: &str) -> Result<Option<Network>, StoreError> {
        let path = self.path(name);
        if !path.exists() {
            return Ok(None);
        }
        read(&path).map(Some)
    }

    /// Replaces the network's file atomically.
    pub fn save(&self, net: &Network) -> Result<(), StoreError> {
        let path = self.path(&net.name);
        let text = serde_json::to_vec_pretty(net).expect("network records serialize");
        let durability = yurta_sysutil::Durability::Synced;
        yurta_sysutil::replace_file(&path, &text, 0o644, durability).map_err(io("write", &path))
    }

    /// Removes the network's file; a missing file is fine.
    pub fn delete(&self, name: &str) -> Result<(), StoreError> {
        let path = self.path(name);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("remove", &path)(e)),
            _ => Ok(()),
        }
    }
}

/// An attach in progress (`<root>/networks/.pending.json`): the link it
/// makes (a veth's host side or a tap) and the endpoint whose port rules
/// it adds, before its record is saved. Written under the lock without an
/// fsync (only a killed process matters: after a power loss the links and
/// rules are gone too) and removed once the record is saved, so whoever
/// takes the lock next and finds it knows the writer died, and removes
/// what it names unless the record has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub network: String,
    pub link: String,
    /// Set when the endpoint publishes ports (it has rules).
    #[serde(default)]
    pub endpoint_id: Option<String>,
}

impl Locked<'_> {
    fn journal(&self) -> PathBuf {
        self.store.dir.join(".pending.json")
    }

    /// Notes an attach in progress.
    pub fn begin(&self, p: &Pending) -> Result<(), StoreError> {
        let path = self.journal();
        let text = serde_json::to_vec(p).expect("pending attaches serialize");
        fs::write(&path, text).map_err(io("write", &path))
    }

    /// The attach is recorded (or undone): forget it.
    pub fn done(&self) -> Result<(), StoreError> {
        let path = self.journal();
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("remove", &path)(e)),
            _ => Ok(()),
        }
    }

    /// An attach a dead process left; a file it could not finish writing
    /// is removed (nothing was made before it was written).
    pub fn pending(&self) -> Result<Option<Pending>, StoreError> {
        let path = self.journal();
        let text = match fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            r => r.map_err(io("read", &path))?,
        };
        match serde_json::from_slice(&text) {
            Ok(p) => Ok(Some(p)),
            Err(_) => self.done().map(|()| None),
        }
    }
}

/// The host-wide lock (a flock on a file in `/run/lock` by default);
/// dropping it unlocks.
pub struct HostLock {
    _lock: Flock<File>,
}

impl HostLock {
    /// Waits for the exclusive lock on `path` (made, with its directory,
    /// when missing).
    pub fn take(path: &Path) -> Result<HostLock, StoreError> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io("create", dir))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io("open", path))?;
        let lock =
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| StoreError::Lock {
                path: path.to_path_buf(),
                errno,
            })?;
        Ok(HostLock { _lock: lock })
    }
}

fn read(path: &Path) -> Result<Network, StoreError> {
    let text = fs::read(path).map_err(io("read", path))?;
    serde_json::from_slice(&text).map_err(|source| StoreError::Corrupt {
        path: path.to_path_buf(),
        source,
    })
}
