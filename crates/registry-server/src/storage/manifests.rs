//! Manifests: stored as blobs, linked into a repository as revisions
//! (the link holds the media type), named by tags, and indexed by the
//! subject they refer to (the referrers API).

use std::fs;
use std::path::PathBuf;

use super::{remove_if_present, sorted_names, Context, Result, Storage};
use crate::names::{Digest, RepoName};

/// What a manifest refers to (see [`crate::manifest::parse`]).
#[derive(Debug, Clone, Default)]
pub struct ManifestInfo {
    pub media_type: String,
    /// Blobs it needs in the repository: config and layers.
    pub blobs: Vec<Digest>,
    /// Manifests it needs in the repository: an index's entries.
    pub manifests: Vec<Digest>,
    pub subject: Option<Digest>,
    /// Its descriptor for the referrers API, if it has a subject.
    pub referrer: Option<serde_json::Value>,
}

/// A manifest found by tag or digest.
#[derive(Debug, Clone)]
pub struct StoredManifest {
    pub digest: Digest,
    pub media_type: String,
    pub path: PathBuf,
    pub size: u64,
}

/// Why a manifest was not stored.
#[derive(Debug)]
pub enum PutError {
    /// It names this blob or manifest, which the repository lacks.
    Missing(Digest),
    Storage(super::StorageError),
}

impl From<super::StorageError> for PutError {
    fn from(e: super::StorageError) -> PutError {
        PutError::Storage(e)
    }
}

impl Storage {
    fn revision(&self, repo: &RepoName, d: &Digest) -> PathBuf {
        self.repo_dir(repo)
            .join("_manifests/revisions/sha256")
            .join(d.hex())
    }

    fn tag_path(&self, repo: &RepoName, tag: &str) -> PathBuf {
        self.repo_dir(repo).join("_manifests/tags").join(tag)
    }

    fn referrers_dir(&self, repo: &RepoName, subject: &Digest) -> PathBuf {
        self.repo_dir(repo)
            .join("_referrers/sha256")
            .join(subject.hex())
    }

    /// Whether `repo` holds manifest `d`.
    pub fn has_manifest(&self, repo: &RepoName, d: &Digest) -> bool {
        self.revision(repo, d).exists()
    }

    /// Stores a verified manifest in `repo`, tagged `tag` if given, after
    /// checking that everything it names is there.
    pub fn put_manifest(
        &self,
        repo: &RepoName,
        digest: &Digest,
        data: &[u8],
        info: &ManifestInfo,
        tag: Option<&str>,
    ) -> std::result::Result<(), PutError> {
        let _lock = self.shared_lock()?;
        if let Some(d) = info.blobs.iter().find(|d| !self.has_blob(repo, d)) {
            return Err(PutError::Missing(*d));
        }
        if let Some(d) = info.manifests.iter().find(|d| !self.has_manifest(repo, d)) {
            return Err(PutError::Missing(*d));
        }
        let blob = self.blob_path(digest);
        if !blob.exists() {
            self.write_atomic(&blob, data)?;
        }
        self.write_atomic(&self.revision(repo, digest), info.media_type.as_bytes())?;
        if let (Some(subject), Some(desc)) = (&info.subject, &info.referrer) {
            let path = self.referrers_dir(repo, subject).join(digest.hex());
            self.write_atomic(&path, desc.to_string().as_bytes())?;
        }
        if let Some(tag) = tag {
            self.write_atomic(&self.tag_path(repo, tag), digest.to_string().as_bytes())?;
        }
        Ok(())
    }

    /// The digest a tag names, if the tag exists.
    pub fn tag(&self, repo: &RepoName, tag: &str) -> Option<Digest> {
        let s = fs::read_to_string(self.tag_path(repo, tag)).ok()?;
        Digest::parse(s.trim()).ok()
    }

    /// The manifest `d` of `repo`, if stored.
    pub fn manifest(&self, repo: &RepoName, d: &Digest) -> Result<Option<StoredManifest>> {
        let Ok(media_type) = fs::read_to_string(self.revision(repo, d)) else {
            return Ok(None);
        };
        let path = self.blob_path(d);
        let size = match fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).at("stat", &path),
        };
        Ok(Some(StoredManifest {
            digest: *d,
            media_type,
            path,
            size,
        }))
    }

    /// The tags of `repo`, sorted; None if the repository does not exist.
    pub fn tags(&self, repo: &RepoName) -> Result<Option<Vec<String>>> {
        if !self.repo_exists(repo) {
            return Ok(None);
        }
        sorted_names(&self.repo_dir(repo).join("_manifests/tags")).map(Some)
    }

    /// Removes a tag (not its manifest). False: no such tag.
    pub fn delete_tag(&self, repo: &RepoName, tag: &str) -> Result<bool> {
        let _lock = self.shared_lock()?;
        remove_if_present(&self.tag_path(repo, tag))
    }

    /// Removes manifest `d` from `repo`, with the tags that name it and
    /// its referrer entry. False: it was not there.
    pub fn delete_manifest(&self, repo: &RepoName, d: &Digest) -> Result<bool> {
        let _lock = self.shared_lock()?;
        if !remove_if_present(&self.revision(repo, d))? {
            return Ok(false);
        }
        let tags_dir = self.repo_dir(repo).join("_manifests/tags");
        for tag in sorted_names(&tags_dir)? {
            if self.tag(repo, &tag).as_ref() == Some(d) {
                remove_if_present(&tags_dir.join(&tag))?;
            }
        }
        let referrers = self.repo_dir(repo).join("_referrers/sha256");
        for subject in sorted_names(&referrers)? {
            remove_if_present(&referrers.join(subject).join(d.hex()))?;
        }
        Ok(true)
    }

    /// The descriptors of the manifests in `repo` whose subject is `d`,
    /// ordered by digest.
    pub fn referrers(&self, repo: &RepoName, subject: &Digest) -> Result<Vec<serde_json::Value>> {
        let dir = self.referrers_dir(repo, subject);
        let mut out = Vec::new();
        for hex in sorted_names(&dir)? {
            let Ok(d) = Digest::parse(&format!("sha256:{hex}")) else {
                continue;
            };
            if !self.has_manifest(repo, &d) {
                continue;
            }
            let path = dir.join(&hex);
            let text = fs::read(&path).at("read", &path)?;
            if let Ok(desc) = serde_json::from_slice(&text) {
                out.push(desc);
            }
        }
        Ok(out)
    }

    /// Every repository with manifests, sorted.
    pub fn repositories(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let top = self.root.join("repositories");
        let mut stack = vec![(top.clone(), String::new())];
        while let Some((dir, name)) = stack.pop() {
            for entry in sorted_names(&dir)? {
                if entry.starts_with('_') {
                    continue;
                }
                let path = dir.join(&entry);
                if !path.is_dir() {
                    continue;
                }
                let full = if name.is_empty() {
                    entry
                } else {
                    format!("{name}/{entry}")
                };
                if path.join("_manifests").is_dir() {
                    out.push(full.clone());
                }
                stack.push((path, full));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Every repository directory with its revisions (gc's roots).
    pub(super) fn all_revisions(&self) -> Result<Vec<(RepoName, Vec<Digest>)>> {
        let mut out = Vec::new();
        for name in self.repositories()? {
            let Some(repo) = RepoName::parse(&name) else {
                continue;
            };
            let dir = self.repo_dir(&repo).join("_manifests/revisions/sha256");
            let digests = sorted_names(&dir)?
                .iter()
                .filter_map(|h| Digest::parse(&format!("sha256:{h}")).ok())
                .collect();
            out.push((repo, digests));
        }
        Ok(out)
    }
}
