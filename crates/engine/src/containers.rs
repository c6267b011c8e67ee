//! The container store: one directory per container under
//! `<root>/containers/<id>/` holding `container.json` (the record) and a
//! `lock` file. Records change only under that container's flock and are
//! replaced atomically. Names are unique among the records themselves (no
//! separate index that could go stale); creating and renaming scan them
//! under the one global lock, `<root>/containers/names.lock`.
//!
//! This module does not start processes; it keeps what `ps` and `inspect`
//! show and what the other steps need to find a container again.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::fsutil::{self, FsError, Lock};
use crate::ids::{self, IdError};
use crate::record::ContainerRecord;

const RECORD: &str = "container.json";

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("No such container: {0}")]
    NotFound(String),
    #[error("multiple containers found with provided prefix: {0}")]
    Ambiguous(String),
    #[error("Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name.")]
    NameInUse { name: String, id: String },
    #[error(transparent)]
    Id(#[from] IdError),
    #[error(transparent)]
    Fs(#[from] FsError),
}

/// The containers under one root.
#[derive(Debug, Clone)]
pub struct ContainerStore {
    dir: PathBuf,
}

/// A record read under its lock, written back with [`Locked::save`].
pub struct Locked {
    pub record: ContainerRecord,
    path: PathBuf,
    _lock: Lock,
}

impl Locked {
    /// Writes the (changed) record atomically; the lock is still held.
    /// The record of a `--rm` container is not fsynced: it replaces an
    /// existing, fsynced record (ext4 writes a file renamed over another
    /// before the rename commits) and the container is removed at its
    /// exit anyway; a crash may lose the change, and `ps` reconciles the
    /// older state (docs/engine.md, "Records"). That saves an fsync per
    /// update of `run --rm` (0.2 ms on a quiet disk, many ms on a busy one).
    pub fn save(&self) -> Result<(), ContainerError> {
        if self.record.host_config.auto_remove {
            return Ok(fsutil::replace_json(&self.path, &self.record)?);
        }
        Ok(fsutil::write_json(&self.path, &self.record)?)
    }
}

impl ContainerStore {
    /// The store under `<root>/containers`, created if missing.
    pub fn open_root(root: &Path) -> Result<ContainerStore, ContainerError> {
        let dir = root.join("containers");
        fs::create_dir_all(&dir).map_err(FsError::io("create", &dir))?;
        Ok(ContainerStore { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<root>/containers/<id>`.
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    fn names_lock(&self) -> Result<Lock, ContainerError> {
        Ok(fsutil::lock(&self.dir.join("names.lock"), true)?)
    }

    /// Creates a container: a fresh ID, the given name (checked and free)
    /// or a generated one, and the record made by `make(id, name)`. The
    /// record appears complete or not at all.
    pub fn create(
        &self,
        name: Option<&str>,
        make: impl FnOnce(&str, &str) -> ContainerRecord,
    ) -> Result<ContainerRecord, ContainerError> {
        let wanted = name.map(ids::validate_name).transpose()?;
        let _names = self.names_lock()?;
        let records = self.list()?;
        let taken = |n: &str| records.iter().find(|r| r.bare_name() == n);
        let name = match wanted {
            Some(n) => {
                if let Some(r) = taken(&n) {
                    return Err(ContainerError::NameInUse {
                        name: n,
                        id: r.id.clone(),
                    });
                }
                n
            }
            None => {
                let mut n = ids::generate_name()?;
                while taken(&n).is_some() {
                    n = ids::generate_name_retry()?;
                }
                n
            }
        };
        let id = loop {
            let id = ids::new_id()?;
            if !self.container_dir(&id).exists() {
                break id;
            }
        };
        let mut record = make(&id, &name);
        record.id = id.clone();
        record.name = format!("/{name}");
        let tmp = self.dir.join(format!(".new-{id}"));
        fs::create_dir_all(&tmp).map_err(FsError::io("create", &tmp))?;
        let result = fsutil::write_json(&tmp.join(RECORD), &record).and_then(|()| {
            let dest = self.container_dir(&id);
            fs::rename(&tmp, &dest).map_err(FsError::io("rename", &dest))
        });
        if let Err(e) = result {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e.into());
        }
        Ok(record)
    }

    /// Every record (unordered). Half-made or half-removed directories
    /// (`.new-*`, `.removing-*`) are skipped, as are unreadable records.
    pub fn list(&self) -> Result<Vec<ContainerRecord>, ContainerError> {
        Ok(self.list_checked()?.0)
    }

    /// Every readable record, and the errors of the unreadable ones: a
    /// record that is not JSON any more (a crash before an unsynced
    /// update reached the disk, on a filesystem without ext4's
    /// replace-on-rename ordering) must not hide all the others from `ps`.
    pub fn list_checked(&self) -> Result<(Vec<ContainerRecord>, Vec<String>), ContainerError> {
        let (mut out, mut unreadable) = (Vec::new(), Vec::new());
        for id in self.ids()? {
            match self.read(&id) {
                Ok(r) => out.push(r),
                Err(ContainerError::NotFound(_)) => {}
                Err(e) => unreadable.push(e.to_string()),
            }
        }
        Ok((out, unreadable))
    }

    /// The IDs of the containers (directory names).
    pub fn ids(&self) -> Result<Vec<String>, ContainerError> {
        let entries = fs::read_dir(&self.dir).map_err(FsError::io("read", &self.dir))?;
        Ok(entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| ids::is_full_id(n))
            .collect())
    }

    /// Reads the record of a full ID without locking (a consistent
    /// snapshot, since writes are renames).
    pub fn read(&self, id: &str) -> Result<ContainerRecord, ContainerError> {
        let path = self.container_dir(id).join(RECORD);
        match fsutil::read_json(&path) {
            Err(FsError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Err(ContainerError::NotFound(id.to_string()))
            }
            other => Ok(other?),
        }
    }

    /// Finds a container by full ID, name (with or without `/`) or unique
    /// ID prefix, in that order (Docker's).
    pub fn lookup(&self, query: &str) -> Result<ContainerRecord, ContainerError> {
        let not_found = || ContainerError::NotFound(query.to_string());
        if query.is_empty() {
            return Err(not_found());
        }
        if ids::is_full_id(query) {
            if let Ok(r) = self.read(query) {
                return Ok(r);
            }
        }
        let records = self.list()?;
        let name = query.strip_prefix('/').unwrap_or(query);
        if let Some(r) = records.iter().find(|r| r.bare_name() == name) {
            return Ok(r.clone());
        }
        let mut matches = records.into_iter().filter(|r| r.id.starts_with(query));
        match (matches.next(), matches.next()) {
            (Some(r), None) => Ok(r),
            (Some(_), Some(_)) => Err(ContainerError::Ambiguous(query.to_string())),
            _ => Err(not_found()),
        }
    }

    /// Locks a container's record for a read-change-write.
    pub fn lock(&self, id: &str) -> Result<Locked, ContainerError> {
        let dir = self.container_dir(id);
        if !dir.is_dir() {
            return Err(ContainerError::NotFound(id.to_string()));
        }
        let lock = fsutil::lock(&dir.join("lock"), true)?;
        let record = self.read(id)?;
        Ok(Locked {
            record,
            path: dir.join(RECORD),
            _lock: lock,
        })
    }

    /// Changes a record under its lock and saves it; returns the new record.
    pub fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut ContainerRecord),
    ) -> Result<ContainerRecord, ContainerError> {
        let mut locked = self.lock(id)?;
        let before = locked.record.clone();
        change(&mut locked.record);
        // A change that changes nothing is not written (no rename, no fsync).
        if locked.record != before {
            locked.save()?;
        }
        Ok(locked.record)
    }

    /// Renames a container (Docker's `rename`), name uniqueness under the
    /// global lock.
    pub fn rename(&self, query: &str, new_name: &str) -> Result<ContainerRecord, ContainerError> {
        let new_name = ids::validate_name(new_name)?;
        let _names = self.names_lock()?;
        let record = self.lookup(query)?;
        if let Some(other) = self.list()?.iter().find(|r| r.bare_name() == new_name) {
            return Err(ContainerError::NameInUse {
                name: new_name,
                id: other.id.clone(),
            });
        }
        self.update(&record.id, |r| r.name = format!("/{new_name}"))
    }

    /// Removes a container's directory: renamed away first, so that it
    /// disappears from `ps` at once, then deleted. Missing is not an error.
    pub fn remove(&self, id: &str) -> Result<(), ContainerError> {
        let dir = self.container_dir(id);
        let gone = self.dir.join(format!(".removing-{id}"));
        match fs::rename(&dir, &gone) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(FsError::io("rename", &dir)(e).into()),
        }
        match fs::remove_dir_all(&gone) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(FsError::io("remove", &gone)(e).into())
            }
            _ => Ok(()),
        }
    }

    /// Removes leftovers of killed creates and removes (`.new-*`,
    /// `.removing-*`); returns how many.
    pub fn clean_stale(&self) -> Result<usize, ContainerError> {
        let _names = self.names_lock()?;
        let entries = fs::read_dir(&self.dir).map_err(FsError::io("read", &self.dir))?;
        let mut n = 0;
        for e in entries.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".new-") || name.starts_with(".removing-") {
                match fs::remove_dir_all(e.path()) {
                    Err(err) if err.kind() != io::ErrorKind::NotFound => {
                        return Err(FsError::io("remove", &e.path())(err).into())
                    }
                    _ => n += 1,
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
