//! The content store, with OCI image-layout semantics:
//!
//! ```text
//! <root>/images/
//!   oci-layout              {"imageLayoutVersion":"1.0.0"}
//!   blobs/sha256/<hex>      content-addressed, complete and verified only
//!   ingest/                 blobs being written (<hex>.partial resumes)
//!   snapshots/<chainid>/fs  layers unpacked once (see `layers`)
//!   tmp/                    scratch space of running operations
//!   catalog.json            images and tags (see `catalog`)
//!   catalog.lock, gc.lock   flock(2) locks
//! ```
//!
//! It owns blobs, the catalog and locking; it does not parse archives or
//! unpack layers (`archive`, `layers`) and does not talk to registries.

mod blob;
mod catalog;
mod lock;

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

pub use blob::BlobWriter;
pub use catalog::{Catalog, CatalogFile, ImageRecord};
pub use lock::LockGuard;
pub(crate) use lock::{hold, try_lock_unheld};

use crate::digest::Digest;
use crate::reference::{Reference, ReferenceError};
use crate::spec::{media, Descriptor, ImageConfig, Manifest, Probe};
use crate::time::now_rfc3339;

/// Where yurta keeps its state unless `--root` / `YURTA_ROOT` says otherwise.
pub const DEFAULT_ROOT: &str = "/var/lib/yurta";

/// JSON documents (manifests, configs, indexes) larger than this are refused.
pub const MAX_JSON_BLOB: u64 = 8 << 20;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    // The cause is in the message, so it is not also a `source` (which
    // would print it twice in a chain).
    #[error("{what} {}: {error}", path.display())]
    Io {
        what: String,
        path: PathBuf,
        error: io::Error,
    },
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("size mismatch for {digest}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        digest: Digest,
        expected: u64,
        actual: u64,
    },
    #[error("blob {0} is not in the store")]
    BlobMissing(Digest),
    #[error("blob {digest} is too large for a JSON document: {size} bytes")]
    TooLarge { digest: Digest, size: u64 },
    #[error("invalid JSON in {what}: {error}")]
    Json {
        what: String,
        error: serde_json::Error,
    },
    #[error("{digest} is an index, not an image manifest; choose a platform first")]
    NotAManifest { digest: Digest },
    #[error("no such image: {0}")]
    ImageNotFound(String),
    #[error("image ID prefix {0} matches more than one image")]
    Ambiguous(String),
    #[error("{0} needs a tag (name:tag)")]
    NoTag(String),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
}

impl StoreError {
    /// `map_err` helper: an I/O error naming the operation and the path.
    pub fn io<'a>(what: &'a str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
        move |error| StoreError::Io {
            what: what.to_string(),
            path: path.to_path_buf(),
            error,
        }
    }
}

/// Where a new image came from, for its catalog record.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// `name@sha256:...` a registry knows it by (pull).
    pub repo_digest: Option<String>,
    /// Uncompressed sizes of layers (diff ID → bytes of the tar stream)
    /// the caller learnt while writing or unpacking them; the others are
    /// looked up or counted (see [`Store::add_image`]).
    pub diff_sizes: HashMap<Digest, u64>,
    /// Made by a build step (see [`ImageRecord::build_cache`]).
    pub build_cache: bool,
}

/// An open image store.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the image store under a yurta root.
    pub fn open_root(root: &Path) -> Result<Store, StoreError> {
        Store::open(root.join("images"))
    }

    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Store, StoreError> {
        let store = Store { dir: dir.into() };
        for sub in ["blobs/sha256", "ingest", "snapshots", "tmp"] {
            let p = store.dir.join(sub);
            fs::create_dir_all(&p).map_err(StoreError::io("create directory", &p))?;
        }
        let layout = store.dir.join("oci-layout");
        if !layout.exists() {
            let tmp = store
                .dir
                .join(format!("oci-layout.tmp-{}", std::process::id()));
            fs::write(&tmp, br#"{"imageLayoutVersion":"1.0.0"}"#)
                .and_then(|_| fs::rename(&tmp, &layout))
                .map_err(|e| {
                    let _ = fs::remove_file(&tmp);
                    StoreError::io("write", &layout)(e)
                })?;
        }
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn blobs_dir(&self) -> PathBuf {
        self.dir.join("blobs/sha256")
    }

    pub(crate) fn ingest_dir(&self) -> PathBuf {
        self.dir.join("ingest")
    }

    pub fn snapshots_dir(&self) -> PathBuf {
        self.dir.join("snapshots")
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs_dir().join(digest.hex())
    }

    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// The size of a stored blob.
    pub fn blob_size(&self, digest: &Digest) -> Result<u64, StoreError> {
        let p = self.blob_path(digest);
        match fs::metadata(&p) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::BlobMissing(digest.clone()))
            }
            Err(e) => Err(StoreError::io("stat", &p)(e)),
        }
    }

    /// Opens a stored blob for reading.
    pub fn open_blob(&self, digest: &Digest) -> Result<File, StoreError> {
        let p = self.blob_path(digest);
        File::open(&p).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::BlobMissing(digest.clone()),
            _ => StoreError::io("open", &p)(e),
        })
    }

    /// Reads a small blob (a JSON document), checking its digest again.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        let size = self.blob_size(digest)?;
        if size > MAX_JSON_BLOB {
            return Err(StoreError::TooLarge {
                digest: digest.clone(),
                size,
            });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        let p = self.blob_path(digest);
        self.open_blob(digest)?
            .read_to_end(&mut bytes)
            .map_err(StoreError::io("read", &p))?;
        let actual = Digest::of(&bytes);
        if &actual != digest {
            return Err(StoreError::DigestMismatch {
                expected: digest.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// A writer for a blob whose digest and size are known (pull): resumes
    /// what an earlier attempt left; see [`BlobWriter`].
    pub fn blob_writer(&self, digest: &Digest, size: u64) -> Result<BlobWriter, StoreError> {
        BlobWriter::known(self, digest, size)
    }

    /// A writer for a blob whose digest is learnt by writing it (import,
    /// load); `commit` returns the digest.
    pub fn ingest(&self) -> Result<BlobWriter, StoreError> {
        BlobWriter::unknown(self)
    }

    /// Stores `bytes` and returns their digest.
    pub fn put_blob(&self, bytes: &[u8]) -> Result<Digest, StoreError> {
        let digest = Digest::of(bytes);
        if self.has_blob(&digest) {
            return Ok(digest);
        }
        let mut w = self.blob_writer(&digest, bytes.len() as u64)?;
        if !w.is_complete() {
            w.restart()?;
            w.write_all(bytes)
                .map_err(StoreError::io("write blob", &self.ingest_dir()))?;
        }
        w.commit().map(|(d, _)| d)
    }

    /// Stores a manifest or index after checking that it parses.
    pub fn put_manifest(&self, bytes: &[u8]) -> Result<Digest, StoreError> {
        let digest = Digest::of(bytes);
        parse_json::<Probe>(bytes, &digest.to_string())?;
        self.put_blob(bytes)
    }

    /// Parses a stored JSON blob.
    pub fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        digest: &Digest,
    ) -> Result<T, StoreError> {
        parse_json(&self.read_blob(digest)?, &digest.to_string())
    }

    /// Whether a stored manifest blob is an index (or manifest list).
    pub fn is_index(&self, digest: &Digest) -> Result<bool, StoreError> {
        Ok(self.read_json::<Probe>(digest)?.is_index())
    }

    /// Records the image whose manifest is stored under `manifest`: its
    /// config and every layer must already be stored. Idempotent.
    pub fn add_image(
        &self,
        manifest: &Digest,
        from: &Provenance,
    ) -> Result<ImageRecord, StoreError> {
        let catalog = self.list()?;
        let record = match catalog.images.get(manifest) {
            Some(known) => known.clone(),
            None => self.new_record(manifest, &catalog, from)?,
        };
        self.catalog().update(|c| {
            let entry = c
                .images
                .entry(manifest.clone())
                .or_insert_with(|| record.clone());
            if let Some(rd) = &from.repo_digest {
                if !entry.repo_digests.contains(rd) {
                    entry.repo_digests.push(rd.clone());
                }
            }
            Ok(entry.clone())
        })
    }

    fn new_record(
        &self,
        manifest: &Digest,
        catalog: &Catalog,
        from: &Provenance,
    ) -> Result<ImageRecord, StoreError> {
        let bytes = self.read_blob(manifest)?;
        let probe: Probe = parse_json(&bytes, &manifest.to_string())?;
        if probe.is_index() {
            return Err(StoreError::NotAManifest {
                digest: manifest.clone(),
            });
        }
        let m: Manifest = parse_json(&bytes, &manifest.to_string())?;
        let config: ImageConfig = self.read_json(&m.config.digest)?;
        let diff_ids = &config.rootfs.diff_ids;
        let diff_sizes = self.diff_sizes(&m.layers, diff_ids, catalog, &from.diff_sizes)?;
        let media_type = m
            .media_type
            .clone()
            .unwrap_or_else(|| media::OCI_MANIFEST.to_string());
        Ok(ImageRecord {
            manifest: Descriptor::new(&media_type, manifest.clone(), bytes.len() as u64),
            id: m.config.digest.clone(),
            created: config.created.clone(),
            platform: config.platform(),
            layers: m.layers.clone(),
            diff_ids: diff_ids.clone(),
            size: m.config.size + diff_sizes.iter().sum::<u64>(),
            diff_sizes,
            repo_digests: Vec::new(),
            added: now_rfc3339(),
            build_cache: from.build_cache,
        })
    }

    /// The uncompressed size of each layer (the length of its tar stream,
    /// which its diff ID names): told by the caller, known from another
    /// image with that diff ID, the blob's own size when it is not
    /// compressed, else counted by decompressing the blob. An image's size
    /// is thus the same however its layers are stored (a loaded
    /// docker-archive stores them uncompressed, a pull as the registry has
    /// them).
    fn diff_sizes(
        &self,
        layers: &[Descriptor],
        diff_ids: &[Digest],
        catalog: &Catalog,
        told: &HashMap<Digest, u64>,
    ) -> Result<Vec<u64>, StoreError> {
        let mut known: HashMap<&Digest, u64> = HashMap::new();
        for i in catalog.images.values() {
            known.extend(i.diff_ids.iter().zip(i.diff_sizes.iter().copied()));
        }
        known.extend(told.iter().map(|(d, s)| (d, *s)));
        let mut sizes = Vec::with_capacity(layers.len());
        for (layer, diff_id) in layers.iter().zip(diff_ids) {
            sizes.push(match known.get(diff_id) {
                Some(s) => *s,
                None if &layer.digest == diff_id => self.blob_size(&layer.digest)?,
                None => self.count_uncompressed(&layer.digest)?,
            });
        }
        Ok(sizes)
    }

    fn count_uncompressed(&self, blob: &Digest) -> Result<u64, StoreError> {
        let path = self.blob_path(blob);
        crate::layers::decompress(self.open_blob(blob)?)
            .and_then(|mut r| io::copy(&mut r, &mut io::sink()))
            .map_err(StoreError::io("decompress", &path))
    }

    /// Points `reference` (`name[:tag]`, `latest` by default) at the image
    /// with manifest `manifest`, moving the tag if it pointed elsewhere.
    pub fn tag(&self, reference: &str, manifest: &Digest) -> Result<String, StoreError> {
        let r: Reference = reference.parse()?;
        let key = r
            .with_default_tag()
            .tagged()
            .ok_or_else(|| StoreError::NoTag(reference.to_string()))?;
        self.catalog().update(|c| {
            if !c.images.contains_key(manifest) {
                return Err(StoreError::ImageNotFound(manifest.to_string()));
            }
            c.tags.insert(key.clone(), manifest.clone());
            Ok(key.clone())
        })
    }

    /// Removes a tag; returns the manifest digest it pointed at.
    pub fn untag(&self, reference: &str) -> Result<Digest, StoreError> {
        let r: Reference = reference.parse()?;
        let key = r
            .with_default_tag()
            .tagged()
            .ok_or_else(|| StoreError::NoTag(reference.to_string()))?;
        self.catalog().update(|c| {
            c.tags
                .remove(&key)
                .ok_or_else(|| StoreError::ImageNotFound(reference.to_string()))
        })
    }

    /// Finds an image by reference, ID, ID prefix or digest.
    pub fn resolve(&self, query: &str) -> Result<ImageRecord, StoreError> {
        self.catalog().read()?.find(query).cloned()
    }

    /// A consistent copy of the catalog.
    pub fn list(&self) -> Result<Catalog, StoreError> {
        self.catalog().read()
    }

    /// The catalog file, for read-modify-write under its lock.
    pub fn catalog(&self) -> CatalogFile<'_> {
        CatalogFile { dir: &self.dir }
    }

    /// A lease: while held, garbage collection waits, so blobs written but
    /// not yet recorded in the catalog (a pull or load in progress) survive.
    pub fn lease(&self) -> Result<LockGuard, StoreError> {
        lock::lock(&self.dir.join("gc.lock"), false)
    }

    /// The exclusive side of [`Store::lease`], for garbage collection.
    pub fn gc_lock(&self) -> Result<LockGuard, StoreError> {
        lock::lock(&self.dir.join("gc.lock"), true)
    }
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|error| StoreError::Json {
        what: what.to_string(),
        error,
    })
}

/// fsync(2) on a directory, so a rename in it survives a crash.
pub(crate) fn fsync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io("fsync", dir))
}

#[cfg(test)]
#[path = "tests.rs"]
pub(crate) mod tests;
