//! Writing docker-archive and oci-archive tars.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read, Seek, Write};

use super::{ArchiveError, ArchiveFormat, DockerEntry, NAME_ANNOTATION, REF_ANNOTATION};
use crate::digest::{Digest, HashingReader};
use crate::layers::decompress;
use crate::progress::{Progress, ProgressReader};
use crate::reference::{familiar, Reference};
use crate::spec::{media, Descriptor, Index, Manifest};
use crate::store::{ImageRecord, Store};

/// An image to save and the names (`name:tag`, full form) to save it under.
#[derive(Debug, Clone)]
pub struct SaveItem {
    pub image: ImageRecord,
    pub names: Vec<String>,
}

/// Writes `items` as one archive of `format` to `out`.
pub fn save<W: Write>(
    store: &Store,
    items: &[SaveItem],
    format: ArchiveFormat,
    out: W,
    progress: &dyn Progress,
) -> Result<W, ArchiveError> {
    let _lease = store.lease()?;
    let mut w = Writer {
        b: tar::Builder::new(out),
        store,
        progress,
        written: HashSet::new(),
    };
    match format {
        ArchiveFormat::DockerArchive => w.docker(items)?,
        ArchiveFormat::OciArchive => w.oci(items)?,
    }
    w.b.into_inner().map_err(ArchiveError::io("finish archive"))
}

struct Writer<'a, W: Write> {
    b: tar::Builder<W>,
    store: &'a Store,
    progress: &'a dyn Progress,
    written: HashSet<String>,
}

impl<W: Write> Writer<'_, W> {
    fn docker(&mut self, items: &[SaveItem]) -> Result<(), ArchiveError> {
        let mut manifest = Vec::new();
        let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for item in items {
            let img = &item.image;
            let config = format!("{}.json", img.id.hex());
            self.bytes(&config, &self.store.read_blob(&img.id)?)?;
            let mut layers = Vec::new();
            for (layer, diff_id) in img.layers.iter().zip(&img.diff_ids) {
                let path = format!("{}/layer.tar", diff_id.hex());
                self.uncompressed_layer(&path, &layer.digest, diff_id)?;
                layers.push(path);
            }
            let mut tags = Vec::new();
            for name in &item.names {
                let r: Reference = name.parse().map_err(crate::store::StoreError::from)?;
                let tag = r.tag.clone().unwrap_or_else(|| "latest".into());
                tags.push(format!("{}:{tag}", familiar(&r.name)));
                if let Some(top) = img.diff_ids.last() {
                    repositories
                        .entry(familiar(&r.name).to_string())
                        .or_default()
                        .insert(tag, top.hex().to_string());
                }
            }
            manifest.push(DockerEntry {
                config,
                repo_tags: Some(tags),
                layers,
            });
        }
        self.bytes(
            "manifest.json",
            &serde_json::to_vec(&manifest).expect("serializes"),
        )?;
        self.bytes(
            "repositories",
            &serde_json::to_vec(&repositories).expect("serializes"),
        )
    }

    fn oci(&mut self, items: &[SaveItem]) -> Result<(), ArchiveError> {
        let mut index = Index {
            schema_version: 2,
            media_type: Some(media::OCI_INDEX.into()),
            manifests: Vec::new(),
            annotations: None,
        };
        for item in items {
            let mut desc = self.oci_image(&item.image)?;
            let names = if item.names.is_empty() {
                vec![None]
            } else {
                item.names.iter().map(Some).collect()
            };
            for name in names {
                if let Some(name) = name {
                    let r: Reference = name.parse().map_err(crate::store::StoreError::from)?;
                    let full = r.with_default_tag().to_string();
                    let ann = BTreeMap::from([
                        (NAME_ANNOTATION.to_string(), full.clone()),
                        (REF_ANNOTATION.to_string(), full),
                    ]);
                    desc.annotations = Some(ann);
                }
                index.manifests.push(desc.clone());
            }
        }
        self.bytes("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        self.bytes(
            "index.json",
            &serde_json::to_vec(&index).expect("serializes"),
        )
    }

    /// Writes the image's blobs; Docker media types become OCI ones (the
    /// manifest is then rewritten, so its digest changes).
    fn oci_image(&mut self, img: &ImageRecord) -> Result<Descriptor, ArchiveError> {
        let mut m: Manifest = self.store.read_json(&img.manifest.digest)?;
        let docker = m.media_type.as_deref() == Some(media::DOCKER_MANIFEST);
        self.blob(&m.config.digest)?;
        for layer in &m.layers {
            self.blob(&layer.digest)?;
        }
        let bytes = if docker {
            m.media_type = Some(media::OCI_MANIFEST.into());
            m.config.media_type = media::to_oci(&m.config.media_type).to_string();
            for l in &mut m.layers {
                l.media_type = media::to_oci(&l.media_type).to_string();
            }
            serde_json::to_vec(&m).expect("serializes")
        } else {
            self.store.read_blob(&img.manifest.digest)?
        };
        let digest = Digest::of(&bytes);
        self.bytes(&format!("blobs/sha256/{}", digest.hex()), &bytes)?;
        let mut d = Descriptor::new(media::OCI_MANIFEST, digest, bytes.len() as u64);
        d.platform = Some((&img.platform).into());
        Ok(d)
    }

    fn blob(&mut self, digest: &Digest) -> Result<(), ArchiveError> {
        let path = format!("blobs/sha256/{}", digest.hex());
        let size = self.store.blob_size(digest)?;
        let file = self.store.open_blob(digest)?;
        self.file(&path, file, size)
    }

    /// docker-archive layers are uncompressed tars: decompress into a
    /// temporary file (the tar header needs the size first), checking the
    /// diff ID on the way.
    fn uncompressed_layer(
        &mut self,
        path: &str,
        blob: &Digest,
        diff_id: &Digest,
    ) -> Result<(), ArchiveError> {
        if self.written.contains(path) {
            return Ok(());
        }
        let dir = self.store.tmp_dir();
        let mut tmp = tempfile::tempfile_in(&dir).map_err(ArchiveError::io(format!(
            "create temporary file in {}",
            dir.display()
        )))?;
        let mut reader = HashingReader::new(
            decompress(self.store.open_blob(blob)?)
                .map_err(ArchiveError::io(format!("read layer {blob}")))?,
        );
        let size = io::copy(&mut reader, &mut tmp)
            .map_err(ArchiveError::io(format!("decompress layer {blob}")))?;
        let (actual, _, _) = reader
            .finish()
            .map_err(ArchiveError::io(format!("read layer {blob}")))?;
        if &actual != diff_id {
            return Err(ArchiveError::DiffId {
                path: path.to_string(),
                expected: diff_id.clone(),
                actual,
            });
        }
        tmp.rewind()
            .map_err(ArchiveError::io("rewind temporary file"))?;
        self.file(path, tmp, size)
    }

    fn file(&mut self, path: &str, r: impl Read, size: u64) -> Result<(), ArchiveError> {
        if !self.written.insert(path.to_string()) {
            return Ok(());
        }
        self.progress.begin(path, Some(size));
        let mut h = header(size);
        self.b
            .append_data(&mut h, path, ProgressReader::new(r, self.progress))
            .map_err(ArchiveError::io(format!("write {path} to archive")))?;
        self.progress.end(path);
        Ok(())
    }

    fn bytes(&mut self, path: &str, data: &[u8]) -> Result<(), ArchiveError> {
        if !self.written.insert(path.to_string()) {
            return Ok(());
        }
        let mut h = header(data.len() as u64);
        self.b
            .append_data(&mut h, path, data)
            .map_err(ArchiveError::io(format!("write {path} to archive")))
    }
}

fn header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h
}
