//! Blobs: the content-addressed files, the links that put them in a
//! repository, and the marks that keep a freshly pushed blob from gc
//! until a manifest refers to it.

use std::fs;
use std::path::{Path, PathBuf};

use super::{remove_if_present, Context, Result, Storage};
use crate::names::{Digest, RepoName};

impl Storage {
    /// The blob's file and size, if it is stored and linked into `repo`.
    pub fn blob(&self, repo: &RepoName, d: &Digest) -> Result<Option<(PathBuf, u64)>> {
        if !self.layer_link(repo, d).exists() {
            return Ok(None);
        }
        let path = self.blob_path(d);
        match fs::metadata(&path) {
            Ok(m) => Ok(Some((path, m.len()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).at("stat", &path),
        }
    }

    /// Whether the blob is linked into `repo` and stored.
    pub fn has_blob(&self, repo: &RepoName, d: &Digest) -> bool {
        self.layer_link(repo, d).exists() && self.blob_path(d).exists()
    }

    /// Moves a verified, fsynced file in as blob `d` of `repo`, marked
    /// for gc's grace. The caller holds the shared gc lock.
    pub(super) fn commit_blob_file(&self, file: &Path, repo: &RepoName, d: &Digest) -> Result<()> {
        self.rename_into(file, &self.blob_path(d))?;
        self.mark(d)?;
        self.link_blob(repo, d)
    }

    fn link_blob(&self, repo: &RepoName, d: &Digest) -> Result<()> {
        let link = self.layer_link(repo, d);
        if link.exists() {
            return Ok(());
        }
        self.write_atomic(&link, b"")
    }

    /// Records that `d` was just pushed or found by a pusher: gc keeps it
    /// for its grace (see [`super::gc`]).
    fn mark(&self, d: &Digest) -> Result<()> {
        let gen = self.generation();
        self.write_atomic(&self.mark_path(d), gen.to_string().as_bytes())
    }

    /// A pusher asked whether `d` exists (and will likely name it in a
    /// manifest): keeps it from gc like a fresh upload. Cheap when marked.
    pub fn touch_blob(&self, d: &Digest) -> Result<()> {
        if self.mark_path(d).exists() {
            return Ok(());
        }
        let _lock = self.shared_lock()?;
        if self.blob_path(d).exists() {
            self.mark(d)?;
        }
        Ok(())
    }

    /// Cross-repository mount: links `d` from `from` into `to`, if `from`
    /// holds it.
    pub fn mount_blob(&self, from: &RepoName, to: &RepoName, d: &Digest) -> Result<bool> {
        let _lock = self.shared_lock()?;
        if !self.has_blob(from, d) {
            return Ok(false);
        }
        self.mark(d)?;
        self.link_blob(to, d)?;
        Ok(true)
    }

    /// Removes `d` from `repo` (its bytes go at the next gc if nothing
    /// else refers to them). False: it was not there.
    pub fn delete_blob(&self, repo: &RepoName, d: &Digest) -> Result<bool> {
        let _lock = self.shared_lock()?;
        remove_if_present(&self.layer_link(repo, d))
    }
}
