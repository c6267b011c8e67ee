//! The network store: `<root>/networks/<name>.json`, one file per network,
//! each replaced atomically (write, fsync, rename) while holding an
//! exclusive flock on `<root>/networks/.lock`. Every operation that reads,
//! decides and writes (create, attach, publish…) holds the lock throughout,
//! so any number of yurta processes may run at once.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

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
        Ok(Locked {
            store: self,
            _lock: lock,
        })
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
        let tmp = self
            .store
            .dir
            .join(format!(".{}.json.{}", net.name, std::process::id()));
        let text = serde_json::to_vec_pretty(net).expect("network records serialize");
        let mut f = File::create(&tmp).map_err(io("create", &tmp))?;
        f.write_all(&text).map_err(io("write", &tmp))?;
        f.sync_all().map_err(io("fsync", &tmp))?;
        fs::rename(&tmp, &path).map_err(io("rename", &path))
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

fn read(path: &Path) -> Result<Network, StoreError> {
    let text = fs::read(path).map_err(io("read", path))?;
    serde_json::from_slice(&text).map_err(|source| StoreError::Corrupt {
        path: path.to_path_buf(),
        source,
    })
}
