//! Layers: detecting their compression, unpacking each one once into
//! `snapshots/<chainid>/fs` (whiteouts stored the overlayfs way), and giving
//! a container a root filesystem: an overlay stack of the snapshots, or a
//! flattened copy where overlayfs is not available.
//!
//! Extraction itself (and the rules that keep hostile layers inside their
//! snapshot) is in `extract`; descriptor-relative primitives in `fsops`.

mod extract;
pub(crate) mod fsops;
mod mount;

use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use nix::errno::Errno;

pub use extract::{Extractor, Whiteouts, OVERLAY_OPAQUE_XATTR};
pub use mount::{copy_rootfs, mount_overlay_only, mount_rootfs, unmount_rootfs, RootfsKind};

use crate::digest::{chain_ids, Digest, HashingReader};
use crate::store::{fsync_dir, hold, ImageRecord, Store, StoreError};

/// Errors of this module. Each names the layer entry or value involved.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("layer entry {0:?} leaves the root (\"..\")")]
    Traversal(String),
    #[error(
        "layer entry {entry:?} is a hardlink to {target:?}, which is not a file inside the layer"
    )]
    HardlinkOutside { entry: String, target: String },
    #[error("layer entry {0:?}: a parent is a symlink or not a directory")]
    Parent(String),
    #[error("layer entry {0:?} is a link without a target")]
    MissingLinkTarget(String),
    #[error("layer entry {0:?} has unsupported type {1:#04x}")]
    UnknownType(String, u8),
    #[error("layer entry {0:?}: invalid {1} in header")]
    BadHeader(String, String),
    #[error("{what} {entry:?}: {errno}")]
    Fs {
        what: String,
        entry: String,
        errno: Errno,
    },
    // The cause is in the message, not also a `source` (printed twice).
    #[error("{what} {entry:?}: {error}")]
    Io {
        what: String,
        entry: String,
        error: io::Error,
    },
    #[error("layer {layer} unpacks to {actual}, but the image config says {expected}")]
    DiffIdMismatch {
        layer: Digest,
        expected: Digest,
        actual: Digest,
    },
    #[error("image {image} has {layers} layers but {diff_ids} diff IDs")]
    LayerCount {
        image: Digest,
        layers: usize,
        diff_ids: usize,
    },
    #[error("mount overlay on {}: {errno}", target.display())]
    Mount { target: PathBuf, errno: Errno },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LayerError {
    pub(crate) fn fs(what: &str, entry: &str, errno: Errno) -> LayerError {
        LayerError::Fs {
            what: what.to_string(),
            entry: entry.to_string(),
            errno,
        }
    }

    pub(crate) fn io(what: &str, entry: &str, error: io::Error) -> LayerError {
        LayerError::Io {
            what: what.to_string(),
            entry: entry.to_string(),
            error,
        }
    }

    pub(crate) fn tar<'a>(
        what: &'a str,
        entry: &'a str,
    ) -> impl FnOnce(io::Error) -> LayerError + 'a {
        move |e| LayerError::io(what, entry, e)
    }

    pub(crate) fn parent(entry: &str, errno: Errno) -> LayerError {
        match errno {
            Errno::ELOOP | Errno::ENOTDIR => LayerError::Parent(entry.to_string()),
            _ => LayerError::fs("open parent of", entry, errno),
        }
    }
}

/// How a layer stream is compressed, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Looks at the magic bytes without consuming them.
pub fn detect(r: &mut impl BufRead) -> io::Result<Compression> {
    let head = r.fill_buf()?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    })
}

/// The uncompressed tar stream of a layer, whatever its compression.
pub fn decompress<'a>(r: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let mut r = BufReader::with_capacity(1 << 16, r);
    Ok(match detect(&mut r)? {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
    })
}

/// Extracts a (possibly compressed) layer stream into `dest` and returns
/// the digest of the uncompressed tar (its diff ID).
pub fn unpack(r: impl Read, dest: &Path, mode: Whiteouts) -> Result<Digest, LayerError> {
    unpack_counted(r, dest, mode).map(|(diff_id, _)| diff_id)
}

/// [`unpack`], also returning the length of the uncompressed tar stream.
pub fn unpack_counted(
    r: impl Read,
    dest: &Path,
    mode: Whiteouts,
) -> Result<(Digest, u64), LayerError> {
    let tarstream = decompress(r).map_err(LayerError::tar("decompress", "layer"))?;
    let mut archive = tar::Archive::new(HashingReader::new(tarstream));
    Extractor::new(dest, mode)?.extract(&mut archive)?;
    let (diff_id, size, _) = archive
        .into_inner()
        .finish()
        .map_err(LayerError::tar("read the end of", "layer"))?;
    Ok((diff_id, size))
}

impl Store {
    /// The directory a snapshot's files live in.
    pub fn snapshot_path(&self, chain_id: &Digest) -> PathBuf {
        self.snapshots_dir().join(chain_id.hex()).join("fs")
    }

    /// Unpacks every layer of `image` that is not unpacked yet and returns
    /// the snapshot directories, bottom layer first.
    pub fn unpack_image(&self, image: &ImageRecord) -> Result<Vec<PathBuf>, LayerError> {
        if image.layers.len() != image.diff_ids.len() {
            return Err(LayerError::LayerCount {
                image: image.id.clone(),
                layers: image.layers.len(),
                diff_ids: image.diff_ids.len(),
            });
        }
        let _lease = self.lease()?;
        let chains = chain_ids(&image.diff_ids);
        let mut dirs = Vec::with_capacity(chains.len());
        for ((layer, diff_id), chain) in image.layers.iter().zip(&image.diff_ids).zip(&chains) {
            dirs.push(self.unpack_layer(&layer.digest, diff_id, chain)?.0);
        }
        Ok(dirs)
    }

    /// Unpacks one layer blob into `snapshots/<chain>/fs` unless it is
    /// there; returns the directory and, when it unpacked now, the length
    /// of the uncompressed tar. The work happens in a `snapshots/tmp-*`
    /// directory, flock'ed while in use and renamed into place when
    /// complete and verified, so a crash or a hostile layer leaves no
    /// snapshot behind (only a directory garbage collection can lock and
    /// remove); two processes racing both succeed.
    pub fn unpack_layer(
        &self,
        blob: &Digest,
        diff_id: &Digest,
        chain: &Digest,
    ) -> Result<(PathBuf, Option<u64>), LayerError> {
        let done = self.snapshot_path(chain);
        if done.is_dir() {
            return Ok((done, None));
        }
        let _lease = self.lease()?;
        let snapshots = self.snapshots_dir();
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{UNPACK_PREFIX}{}-", chain.short()))
            .tempdir_in(&snapshots)
            .map_err(|e| StoreError::io("create temporary directory in", &snapshots)(e))?;
        let _held = hold(tmp.path())?;
        let fs_dir = tmp.path().join("fs");
        fs::create_dir(&fs_dir).map_err(|e| StoreError::io("create", &fs_dir)(e))?;
        yurta_fault::point("store.unpack.dir");
        let (actual, size) = unpack_counted(self.open_blob(blob)?, &fs_dir, Whiteouts::Overlay)?;
        if &actual != diff_id {
            return Err(LayerError::DiffIdMismatch {
                layer: blob.clone(),
                expected: diff_id.clone(),
                actual,
            });
        }
        yurta_fault::point("store.unpack.rename");
        let target = done.parent().expect("snapshot has a parent").to_path_buf();
        match fs::rename(tmp.path(), &target) {
            Ok(()) => {
                let _ = tmp.keep();
                fsync_dir(&snapshots)?;
            }
            // Another process finished the same snapshot first; ours is dropped.
            Err(e) if done.is_dir() => drop(e),
            Err(e) => return Err(StoreError::io("rename into", &target)(e).into()),
        }
        Ok((done, Some(size)))
    }
}

/// How directories under `snapshots/` that are not (yet, or any more) a
/// snapshot are named: unpacks in progress and snapshots being removed.
pub(crate) const UNPACK_PREFIX: &str = "tmp-";

#[cfg(test)]
#[path = "tests.rs"]
pub(crate) mod tests;
