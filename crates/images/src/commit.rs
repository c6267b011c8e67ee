//! `commit`: a container's changes become a new image. The overlay's upper
//! directory (or, for a flattened copy, what differs from the image) is
//! written as one gzip layer (whiteouts and opaque directories in AUFS
//! form, the runtime's mount points left out: see [`rwlayer`]) on top of
//! the image's layers; the config is the container's run
//! configuration with `--change` instructions applied, with the image's
//! history and one entry more (author, comment). No changes at all make no
//! layer, only the history entry (`empty_layer`), as Docker does.
//!
//! Crash safety is the store's: the layer is written to `ingest/` and
//! renamed into place complete, the image is recorded only once its config
//! and manifest are stored, and the tag moved last; a killed commit leaves
//! at most unreferenced blobs and ingest files, which garbage collection
//! removes.
//!
//! [`rwlayer`]: crate::rwlayer

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;

use crate::changes::{self, ChangeError};
use crate::digest::{Digest, HashingWriter};
use crate::layers::LayerError;
use crate::rwlayer::{self, Lowers, Selection, Source};
use crate::spec::{media, Descriptor, History, ImageConfig, Manifest, RootFs, RunConfig};
use crate::store::{ImageRecord, Provenance, Store, StoreError};
use crate::time::now_rfc3339;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("read the changes in {}: {error}", upper.display())]
    Read {
        upper: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Change(#[from] ChangeError),
    #[error(transparent)]
    Layer(#[from] LayerError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the new image gets besides the layer.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// The container's configuration (Cmd, Entrypoint, Env, ...).
    pub config: RunConfig,
    /// Dockerfile instructions applied over `config` (`CMD ["sh"]`).
    pub changes: Vec<String>,
    /// `--author`: the config's `author` and the history entry's.
    pub author: Option<String>,
    /// `--message`: the history entry's comment.
    pub comment: Option<String>,
    /// The history entry's `created_by` (Docker: the container's Cmd).
    pub created_by: String,
    /// `name[:tag]` to tag the image with.
    pub reference: Option<String>,
    /// A build step's image (see `ImageRecord::build_cache`).
    pub build_cache: bool,
    /// `SOURCE_DATE_EPOCH` (Unix seconds): the config's and history's
    /// time, and the latest mtime in the layer — reproducible images.
    pub timestamp: Option<i64>,
}

/// A container's root filesystem, as the store reads its changes.
#[derive(Debug, Clone, Copy)]
pub enum ContainerFs<'a> {
    /// The overlay's upper directory (missing when it never started).
    Upper(&'a Path),
    /// A flattened copy of the image (where overlayfs was unavailable),
    /// compared with the image.
    Copy(&'a Path),
}

impl ContainerFs<'_> {
    fn path(&self) -> &Path {
        match self {
            ContainerFs::Upper(p) | ContainerFs::Copy(p) => p,
        }
    }
}

/// Makes an image of `parent` plus the changes in `fs` and returns its
/// record.
pub fn commit(
    store: &Store,
    parent: &ImageRecord,
    fs: ContainerFs,
    opts: &CommitOptions,
) -> Result<ImageRecord, CommitError> {
    let mut run = opts.config.clone();
    for c in &opts.changes {
        changes::apply(&mut run, c)?;
    }
    let _lease = store.lease()?;
    let lowers = store.unpack_image(parent)?;
    let clamp = opts.timestamp.map(|t| t.max(0) as u64);
    let layer = write_layer(store, fs, &lowers, clamp)?;
    let base: ImageConfig = store.read_json(&parent.id)?;
    let config = image_config(&base, run, layer.as_ref().map(|l| &l.diff_id), opts);
    let mut layers: Vec<Descriptor> = parent
        .layers
        .iter()
        .map(|d| Descriptor::new(media::to_oci(&d.media_type), d.digest.clone(), d.size))
        .collect();
    let mut from = Provenance {
        build_cache: opts.build_cache,
        ..Provenance::default()
    };
    if let Some(l) = layer {
        from.diff_sizes.insert(l.diff_id.clone(), l.diff_size);
        layers.push(Descriptor::new(media::OCI_LAYER_GZIP, l.digest, l.size));
    }
    let record = store_image(store, &config, layers, &from)?;
    yurta_fault::point("commit.recorded");
    if let Some(r) = &opts.reference {
        store.tag(r, &record.manifest.digest)?;
    }
    Ok(record)
}

/// An image with no layers for `platform` (`FROM scratch`), recorded as
/// a build cache entry.
pub fn scratch(store: &Store, platform: &crate::Platform) -> Result<ImageRecord, StoreError> {
    let config = ImageConfig {
        architecture: platform.architecture.clone(),
        os: platform.os.clone(),
        variant: platform.variant.clone(),
        config: Some(RunConfig::default()),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: Vec::new(),
        },
        ..Default::default()
    };
    let from = Provenance {
        build_cache: true,
        ..Provenance::default()
    };
    store_image(store, &config, Vec::new(), &from)
}

/// A layer written into the store.
struct NewLayer {
    digest: Digest,
    size: u64,
    diff_id: Digest,
    diff_size: u64,
}

/// The changes as a gzip layer blob; None when there is none.
fn write_layer(
    store: &Store,
    fs: ContainerFs,
    lowers: &[std::path::PathBuf],
    clamp: Option<u64>,
) -> Result<Option<NewLayer>, CommitError> {
    let root = fs.path();
    let read = |error| CommitError::Read {
        upper: root.to_path_buf(),
        error,
    };
    let lowers = Lowers::open(lowers).map_err(read)?;
    let changes = match fs {
        ContainerFs::Upper(_) => rwlayer::changes(root, &lowers),
        ContainerFs::Copy(_) => rwlayer::copy_changes(root, &lowers),
    }
    .map_err(read)?;
    if changes.is_empty() {
        return Ok(None);
    }
    let wanted = Selection::of(&changes);
    let deleted = rwlayer::deleted(&changes);
    let source = match fs {
        ContainerFs::Upper(_) => Source::Upper(&wanted),
        ContainerFs::Copy(_) => Source::Copy(&wanted, &deleted),
    };
    let gz = GzEncoder::new(store.ingest()?, flate2::Compression::fast());
    let (sink, _) =
        rwlayer::write_tree_clamped(root, source, HashingWriter::new(gz), clamp).map_err(read)?;
    let (diff_id, diff_size, mut gz) = sink.finish();
    gz.flush().map_err(read)?;
    let blob = gz.finish().map_err(read)?;
    yurta_fault::point("commit.layer");
    let (digest, size) = blob.commit()?;
    Ok(Some(NewLayer {
        digest,
        size,
        diff_id,
        diff_size,
    }))
}

/// The new config: the parent's platform, rootfs and history, one layer
/// (or an empty-layer history entry) more, the container's run config.
fn image_config(
    base: &ImageConfig,
    run: RunConfig,
    diff_id: Option<&Digest>,
    opts: &CommitOptions,
) -> ImageConfig {
    let now = match opts.timestamp {
        Some(t) => crate::time::format_rfc3339(t, 0),
        None => now_rfc3339(),
    };
    let mut diff_ids = base.rootfs.diff_ids.clone();
    diff_ids.extend(diff_id.cloned());
    let mut history = base.history.clone();
    history.push(History {
        created: Some(now.clone()),
        created_by: Some(opts.created_by.clone()),
        author: opts.author.clone(),
        comment: opts.comment.clone(),
        empty_layer: diff_id.is_none().then_some(true),
    });
    ImageConfig {
        created: Some(now),
        author: opts.author.clone(),
        architecture: base.architecture.clone(),
        os: base.os.clone(),
        variant: base.variant.clone(),
        config: Some(run),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids,
        },
        history,
        ..Default::default()
    }
}

/// Stores config and manifest and records the image.
fn store_image(
    store: &Store,
    config: &ImageConfig,
    layers: Vec<Descriptor>,
    from: &Provenance,
) -> Result<ImageRecord, StoreError> {
    let config_bytes = serde_json::to_vec(config).expect("config serializes");
    let config_digest = store.put_blob(&config_bytes)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        config: Descriptor::new(media::OCI_CONFIG, config_digest, config_bytes.len() as u64),
        layers,
        annotations: None,
    };
    let bytes = serde_json::to_vec(&manifest).expect("manifest serializes");
    let digest = store.put_manifest(&bytes)?;
    yurta_fault::point("commit.stored");
    store.add_image(&digest, from)
}

#[cfg(test)]
#[path = "commit_tests.rs"]
mod tests;
