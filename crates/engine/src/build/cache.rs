//! The build cache's index: one file per step key under
//! `<root>/build/cache/` holding the manifest digest of the image the
//! step made. The images themselves are in the store, recorded as build
//! cache entries (not listed, not dangling); an entry whose image is gone
//! (`rmi`, `builder prune`) is a miss. Shared by every front end on the
//! root, CLI and API builds alike.

use std::path::{Path, PathBuf};

use yurta_build::cache::Key;
use yurta_images::{Digest, ImageRecord, Store};

use crate::fsutil;

pub struct Cache {
    dir: PathBuf,
    /// A `SOURCE_DATE_EPOCH` build's images differ from others': its
    /// entries are its own.
    salt: Option<i64>,
}

impl Cache {
    pub fn new(root: &Path, timestamp: Option<i64>) -> Cache {
        Cache {
            dir: root.join("build").join("cache"),
            salt: timestamp,
        }
    }

    fn file(&self, key: &Key) -> PathBuf {
        match self.salt {
            Some(t) => self.dir.join(format!("{}-{t}", key.0)),
            None => self.dir.join(&key.0),
        }
    }

    /// The image a step with `key` made, if it is still stored.
    pub fn get(&self, store: &Store, key: &Key) -> Option<ImageRecord> {
        let text = std::fs::read_to_string(self.file(key)).ok()?;
        let digest: Digest = text.trim().parse().ok()?;
        store.list().ok()?.images.get(&digest).cloned()
    }

    /// Remembers that the step with `key` made `image`.
    pub fn put(&self, key: &Key, image: &ImageRecord) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let text = format!("{}\n", image.manifest.digest);
        fsutil::write_atomic(&self.file(key), text.as_bytes())?;
        Ok(())
    }

    /// Forgets every entry (`builder prune`).
    pub fn clear(&self) -> std::io::Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
