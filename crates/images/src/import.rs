//! `import`: a root filesystem (a tar stream, possibly compressed, or a
//! directory) becomes a one-layer image: a gzip layer, an OCI config with
//! the platform, `--change` instructions and a history entry, an OCI
//! manifest, and optionally a tag.

use std::io::{self, Read, Write};
use std::path::Path;

use flate2::write::GzEncoder;

use crate::changes::{self, ChangeError};
use crate::digest::{Digest, HashingWriter};
use crate::layers::decompress;
use crate::platform::Platform;
use crate::progress::{Progress, ProgressReader};
use crate::spec::{media, Descriptor, History, ImageConfig, Manifest, RootFs, RunConfig};
use crate::store::{BlobWriter, ImageRecord, Provenance, Store, StoreError};
use crate::time::now_rfc3339;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("import {source_name}: {error}")]
    Read {
        source_name: String,
        error: io::Error,
    },
    #[error(transparent)]
    Change(#[from] ChangeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `import` makes of the root filesystem.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The image's platform; the host's when None.
    pub platform: Option<Platform>,
    /// Dockerfile instructions (`CMD ["sh"]`, `ENV A=1`, ...).
    pub changes: Vec<String>,
    /// The history comment.
    pub message: Option<String>,
    /// `name[:tag]` to tag the image with.
    pub reference: Option<String>,
}

/// Where the root filesystem comes from.
pub enum ImportSource<'a> {
    /// A tar stream (plain, gzip or zstd), named for messages (`-` for stdin).
    Tar {
        name: String,
        reader: Box<dyn Read + 'a>,
    },
    Dir(&'a Path),
}

impl ImportSource<'_> {
    fn name(&self) -> String {
        match self {
            ImportSource::Tar { name, .. } => name.clone(),
            ImportSource::Dir(p) => p.display().to_string(),
        }
    }
}

/// Imports `source` as a new image and returns its record.
pub fn import(
    store: &Store,
    source: ImportSource<'_>,
    opts: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImageRecord, ImportError> {
    let mut run = RunConfig::default();
    for c in &opts.changes {
        changes::apply(&mut run, c)?;
    }
    let name = source.name();
    let read_err = |error| ImportError::Read {
        source_name: name.clone(),
        error,
    };
    let _lease = store.lease()?;
    progress.begin(&format!("importing {name}"), None);
    let mut sink = HashingWriter::new(GzEncoder::new(store.ingest()?, flate2::Compression::fast()));
    match source {
        ImportSource::Tar { reader, .. } => {
            copy_tar(ProgressReader::new(reader, progress), &mut sink)
        }
        ImportSource::Dir(dir) => crate::dirtar::write_dir(dir, &mut sink).map(drop),
    }
    .map_err(read_err)?;
    let (diff_id, diff_size, gz) = sink.finish();
    let blob: BlobWriter = gz.finish().map_err(read_err)?;
    yurta_fault::point("import.layer");
    let (layer, layer_size) = blob.commit()?;
    progress.end(&format!("layer {layer}"));
    let platform = opts.platform.clone().unwrap_or_else(Platform::host);
    let comment = opts
        .message
        .clone()
        .unwrap_or_else(|| format!("Imported from {name}"));
    let from = Provenance {
        diff_sizes: [(diff_id.clone(), diff_size)].into(),
        ..Default::default()
    };
    let config = image_config(&platform, run, diff_id, comment);
    let record = store_image(
        store,
        &config,
        Descriptor::new(media::OCI_LAYER_GZIP, layer, layer_size),
        &from,
    )?;
    yurta_fault::point("import.recorded");
    if let Some(r) = &opts.reference {
        store.tag(r, &record.manifest.digest)?;
    }
    Ok(record)
}

/// Copies a tar stream, decompressing it and checking that it is a tar
/// (every header parses) while the bytes pass through unchanged.
fn copy_tar(reader: impl Read, out: &mut impl Write) -> io::Result<()> {
    let mut tee = Tee {
        inner: decompress(reader)?,
        out,
    };
    let mut archive = tar::Archive::new(&mut tee);
    for entry in archive.entries()? {
        io::copy(&mut entry?, &mut io::sink())?;
    }
    io::copy(&mut tee, &mut io::sink())?;
    Ok(())
}

struct Tee<'a, R, W> {
    inner: R,
    out: &'a mut W,
}

impl<R: Read, W: Write> Read for Tee<'_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out.write_all(&buf[..n])?;
        Ok(n)
    }
}

fn image_config(
    platform: &Platform,
    run: RunConfig,
    diff_id: Digest,
    comment: String,
) -> ImageConfig {
    let now = now_rfc3339();
    ImageConfig {
        created: Some(now.clone()),
        architecture: platform.architecture.clone(),
        os: platform.os.clone(),
        variant: platform.variant.clone(),
        config: Some(run),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![diff_id],
        },
        history: vec![History {
            created: Some(now),
            created_by: Some("yurta import".into()),
            comment: Some(comment),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Stores config and manifest for `layer` and records the image.
fn store_image(
    store: &Store,
    config: &ImageConfig,
    layer: Descriptor,
    from: &Provenance,
) -> Result<ImageRecord, StoreError> {
    let config_bytes = serde_json::to_vec(config).expect("config serializes");
    let config_digest = store.put_blob(&config_bytes)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        config: Descriptor::new(media::OCI_CONFIG, config_digest, config_bytes.len() as u64),
        layers: vec![layer],
        annotations: None,
    };
    let bytes = serde_json::to_vec(&manifest).expect("manifest serializes");
    let digest = store.put_manifest(&bytes)?;
    store.add_image(&digest, from)
}

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
