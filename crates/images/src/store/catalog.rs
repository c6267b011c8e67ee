//! The catalog: which images the store holds (keyed by manifest digest) and
//! which `name:tag` points at which. One JSON file, `catalog.json`, read
//! under a shared lock and replaced (write, fsync, rename) under an
//! exclusive one, so readers never see a half-written file.
//!
//! On a full disk the temporary file cannot be written; a catalog that
//! shrinks (`rmi`, `image prune`) is then written over the old one in
//! place, padded with JSON whitespace to its length, which needs no new
//! blocks (see [`CatalogFile::save`]).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::blob::is_no_space;
use super::lock::{lock, LockGuard};
use super::{fsync_dir, StoreError};
use crate::digest::Digest;
use crate::platform::Platform;
use crate::reference::Reference;
use crate::spec::Descriptor;

/// What the store knows about one image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageRecord {
    /// The manifest (its digest is the catalog key).
    pub manifest: Descriptor,
    /// The config digest: Docker's image ID.
    pub id: Digest,
    #[serde(default)]
    pub created: Option<String>,
    pub platform: Platform,
    pub layers: Vec<Descriptor>,
    pub diff_ids: Vec<Digest>,
    /// Uncompressed bytes of each layer (its tar stream), in order; empty
    /// in records written before yurta kept them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diff_sizes: Vec<u64>,
    /// The image's size as Docker shows it: the config plus the
    /// uncompressed layers, so the same for every record of one image ID
    /// (records written before `diff_sizes` hold the stored blob bytes).
    pub size: u64,
    /// `name@sha256:...` under which registries know the image.
    #[serde(default)]
    pub repo_digests: Vec<String>,
    /// When it entered this store.
    pub added: String,
    /// A step of `yurta build` (its build cache): not listed while
    /// untagged, not dangling for `image prune`; `builder prune` removes
    /// the untagged ones.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub build_cache: bool,
}

impl ImageRecord {
    /// Listed by `images` and the API: everything but untagged build
    /// cache entries.
    pub fn listed(&self, catalog: &Catalog) -> bool {
        !self.build_cache || !catalog.tags_of(&self.manifest.digest).is_empty()
    }
}

/// The catalog file's content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    #[serde(default)]
    pub images: BTreeMap<Digest, ImageRecord>,
    /// `domain/path:tag` → manifest digest.
    #[serde(default)]
    pub tags: BTreeMap<String, Digest>,
}

impl Catalog {
    /// Tags pointing at the image with manifest `digest`, sorted.
    pub fn tags_of(&self, digest: &Digest) -> Vec<String> {
        self.tags
            .iter()
            .filter(|(_, d)| *d == digest)
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// Finds an image the way Docker does: a tagged reference, a
    /// `name@digest`, a full `sha256:` ID or manifest digest, or a unique
    /// prefix of an image ID.
    pub fn find(&self, query: &str) -> Result<&ImageRecord, StoreError> {
        let not_found = || StoreError::ImageNotFound(query.to_string());
        if let Ok(d) = query.parse::<Digest>() {
            return self.by_digest(&d).ok_or_else(not_found);
        }
        if let Ok(r) = query.parse::<Reference>() {
            if let Some(found) = self.by_reference(&r) {
                return Ok(found);
            }
        }
        self.by_id_prefix(query)?.ok_or_else(not_found)
    }

    fn by_digest(&self, d: &Digest) -> Option<&ImageRecord> {
        self.images
            .get(d)
            .or_else(|| self.images.values().find(|i| &i.id == d))
    }

    fn by_reference(&self, r: &Reference) -> Option<&ImageRecord> {
        if let Some(d) = &r.digest {
            let wanted = format!("{}@{d}", r.name);
            return self
                .images
                .values()
                .find(|i| &i.manifest.digest == d || i.repo_digests.contains(&wanted));
        }
        let key = r.clone().with_default_tag().tagged()?;
        self.tags.get(&key).and_then(|d| self.images.get(d))
    }

    fn by_id_prefix(&self, query: &str) -> Result<Option<&ImageRecord>, StoreError> {
        let prefix = query.strip_prefix("sha256:").unwrap_or(query);
        let hexish = !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_hexdigit());
        if !hexish {
            return Ok(None);
        }
        let mut hits = self
            .images
            .values()
            .filter(|i| i.id.hex().starts_with(prefix));
        let first = hits.next();
        if hits.any(|i| Some(&i.id) != first.map(|f| &f.id)) {
            return Err(StoreError::Ambiguous(query.to_string()));
        }
        Ok(first)
    }
}

/// The catalog file and its lock.
pub struct CatalogFile<'a> {
    pub dir: &'a Path,
}

impl CatalogFile<'_> {
    fn path(&self) -> std::path::PathBuf {
        self.dir.join("catalog.json")
    }

    /// A consistent copy of the catalog (shared lock while reading).
    pub fn read(&self) -> Result<Catalog, StoreError> {
        let _guard = self.lock(false)?;
        self.load()
    }

    /// Runs `change` on the catalog under the exclusive lock and saves the
    /// result when it succeeds (nothing is saved when it fails).
    pub fn update<T, E: From<StoreError>>(
        &self,
        change: impl FnOnce(&mut Catalog) -> Result<T, E>,
    ) -> Result<T, E> {
        let _guard = self.lock(true)?;
        let mut catalog = self.load()?;
        let out = change(&mut catalog)?;
        self.save(&catalog)?;
        Ok(out)
    }

    /// The exclusive lock, for callers that must hold it across other work
    /// (garbage collection).
    pub fn lock(&self, exclusive: bool) -> Result<LockGuard, StoreError> {
        lock(&self.dir.join("catalog.lock"), exclusive)
    }

    pub(crate) fn load(&self) -> Result<Catalog, StoreError> {
        let path = self.path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Json {
                what: path.display().to_string(),
                error: e,
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Catalog::default()),
            Err(e) => Err(StoreError::io("read", &path)(e)),
        }
    }

    /// Replaces the catalog (the caller holds the exclusive lock): write
    /// `catalog.json.tmp-<pid>`, fsync, rename. The temporary file never
    /// outlives a failure. When the disk is full and the new catalog is no
    /// longer than the old one, the old one is overwritten in place.
    pub(crate) fn save(&self, catalog: &Catalog) -> Result<(), StoreError> {
        let path = self.path();
        let tmp = self.temp_path();
        let bytes = serde_json::to_vec_pretty(catalog).expect("catalog serializes");
        if let Err(e) = write_synced(&tmp, &bytes) {
            let _ = fs::remove_file(&tmp);
            if is_no_space(&e) && self.overwrite(&bytes)? {
                return Ok(());
            }
            return Err(StoreError::io("write", &tmp)(e));
        }
        yurta_fault::point("store.catalog.written");
        if let Err(e) = fs::rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            return Err(StoreError::io("rename into", &path)(e));
        }
        fsync_dir(self.dir)
    }

    fn temp_path(&self) -> PathBuf {
        self.dir
            .join(format!("{TEMP_PREFIX}{}", std::process::id()))
    }

    /// Writes `bytes` over `catalog.json` in place, padded with spaces to
    /// its length so that the file is valid JSON before and after the one
    /// write, then cuts it to size. False when `bytes` is longer than the
    /// file (that would need new blocks).
    fn overwrite(&self, bytes: &[u8]) -> Result<bool, StoreError> {
        let path = self.path();
        let file = match fs::OpenOptions::new().write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(StoreError::io("open", &path)(e)),
        };
        let len = file
            .metadata()
            .map_err(StoreError::io("stat", &path))?
            .len();
        if bytes.len() as u64 > len {
            return Ok(false);
        }
        let mut padded = bytes.to_vec();
        padded.resize(len as usize, b' ');
        file.write_all_at(&padded, 0)
            .and_then(|_| file.sync_data())
            .and_then(|_| file.set_len(bytes.len() as u64))
            .and_then(|_| file.sync_all())
            .map_err(StoreError::io("overwrite", &path))?;
        Ok(true)
    }

    /// Removes temporary files of killed writers (the caller holds the
    /// exclusive lock, so no live writer has one); returns the bytes freed.
    pub(crate) fn remove_stale_temps(&self) -> u64 {
        let entries = fs::read_dir(self.dir).into_iter().flatten().flatten();
        let mut freed = 0;
        for e in entries.filter(|e| e.file_name().to_string_lossy().starts_with(TEMP_PREFIX)) {
            let size = crate::manage::disk_usage(&e.path());
            if fs::remove_file(e.path()).is_ok() {
                freed += size;
            }
        }
        freed
    }
}

/// How temporary catalog files are named (`catalog.json.tmp-<pid>`).
pub(crate) const TEMP_PREFIX: &str = "catalog.json.tmp-";

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
