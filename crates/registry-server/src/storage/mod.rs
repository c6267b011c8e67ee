//! The registry's storage: a directory of content-addressed blobs and,
//! per repository, links that say what the repository holds.
//!
//! ```text
//! blobs/sha256/ab/abcd…                     every blob and manifest, by digest
//! repositories/NAME/_layers/sha256/abcd…    NAME holds this blob (empty file)
//! repositories/NAME/_manifests/revisions/sha256/abcd…   … this manifest (its media type)
//! repositories/NAME/_manifests/tags/TAG     TAG's manifest digest
//! repositories/NAME/_referrers/sha256/SUBJECT/REFERRER  a referrer's descriptor (JSON)
//! uploads/ID/{repo,data}                    an upload in progress
//! marks/sha256/abcd…                        a blob pushed recently: kept by gc
//! gc.lock, gc.generation                    serialises gc against pushes
//! ```
//!
//! Every file that holds content is written under a temporary name,
//! fsynced, renamed into place and its directory fsynced, so a crash
//! leaves either the old state or the new one. Blobs are only renamed in
//! after their digest was verified; two pushes of the same blob rename
//! identical bytes over each other. It does not own HTTP or auth.

mod blobs;
pub mod gc;
mod lock;
pub mod manifests;
mod uploads;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use lock::GcLock;
pub use manifests::{ManifestInfo, StoredManifest};
pub(crate) use uploads::random_id;
pub use uploads::{BeginError, Sessions, Upload, UploadId};

use crate::names::{Digest, RepoName};

/// A filesystem operation that failed, with the path.
#[derive(Debug, thiserror::Error)]
#[error("{what} {}: {error}", path.display())]
pub struct StorageError {
    pub what: &'static str,
    pub path: PathBuf,
    pub error: io::Error,
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// Adds the operation and path to an io error.
pub(crate) trait Context<T> {
    fn at(self, what: &'static str, path: &Path) -> Result<T>;
}

impl<T> Context<T> for io::Result<T> {
    fn at(self, what: &'static str, path: &Path) -> Result<T> {
        self.map_err(|error| StorageError {
            what,
            path: path.to_path_buf(),
            error,
        })
    }
}

/// The storage directory.
#[derive(Debug, Clone)]
pub struct Storage {
    root: PathBuf,
}

impl Storage {
    /// Opens (creating) the storage under `root`.
    pub fn open(root: &Path) -> Result<Storage> {
        for dir in [
            "blobs/sha256",
            "repositories",
            "uploads",
            "marks/sha256",
            "tmp",
        ] {
            let d = root.join(dir);
            fs::create_dir_all(&d).at("create", &d)?;
        }
        Ok(Storage {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn blob_path(&self, d: &Digest) -> PathBuf {
        let hex = d.hex();
        self.root.join("blobs/sha256").join(&hex[..2]).join(hex)
    }

    fn repo_dir(&self, repo: &RepoName) -> PathBuf {
        self.root.join("repositories").join(repo.as_str())
    }

    fn layer_link(&self, repo: &RepoName, d: &Digest) -> PathBuf {
        self.repo_dir(repo).join("_layers/sha256").join(d.hex())
    }

    fn mark_path(&self, d: &Digest) -> PathBuf {
        self.root.join("marks/sha256").join(d.hex())
    }

    /// Whether the repository exists (something was pushed to it).
    pub fn repo_exists(&self, repo: &RepoName) -> bool {
        self.repo_dir(repo).is_dir()
    }

    /// A fresh name in `tmp/` for a file being written.
    fn temp_path(&self) -> PathBuf {
        self.root.join("tmp").join(uploads::random_id())
    }

    /// Writes `data` to `path` atomically (temp file, fsync, rename, fsync
    /// of the directory), creating the parent directories.
    fn write_atomic(&self, path: &Path, data: &[u8]) -> Result<()> {
        let tmp = self.temp_path();
        let mut f = fs::File::create(&tmp).at("create", &tmp)?;
        f.write_all(data).at("write", &tmp)?;
        f.sync_all().at("fsync", &tmp)?;
        drop(f);
        self.rename_into(&tmp, path)
    }

    /// Renames a finished, fsynced file to `path` and makes the rename
    /// durable; the temp file is removed if that fails.
    fn rename_into(&self, tmp: &Path, path: &Path) -> Result<()> {
        let parent = path.parent().unwrap_or(&self.root);
        let res = fs::create_dir_all(parent)
            .at("create", parent)
            .and_then(|()| fs::rename(tmp, path).at("rename into place", path))
            .and_then(|()| sync_dir(parent));
        if res.is_err() {
            let _ = fs::remove_file(tmp);
        }
        res
    }
}

/// fsyncs a directory, so that renames and creations in it are durable.
fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .at("fsync", dir)
}

/// Removes a file; a file already gone is not an error.
fn remove_if_present(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).at("remove", path),
    }
}

/// A directory's entries' names, sorted; a missing directory is empty.
fn sorted_names(dir: &Path) -> Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).at("list", dir),
    };
    let mut names = Vec::new();
    for e in entries {
        let e = e.at("list", dir)?;
        if let Ok(name) = e.file_name().into_string() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}
