//! Reading docker-archive and oci-archive tars into the store. The archive
//! is read once: small JSON files into memory, everything else into
//! uncommitted store writers. Only what an image references is committed,
//! after its digest is checked; on any error nothing is committed and
//! nothing is tagged.

use std::collections::HashMap;
use std::io::{self, Read};

use super::{ArchiveError, DockerEntry, NAME_ANNOTATION, REF_ANNOTATION};
use crate::digest::{Digest, HashingReader};
use crate::layers::{decompress, detect, Compression};
use crate::platform::{select, Platform};
use crate::progress::{Progress, ProgressReader};
use crate::reference::Reference;
use crate::spec::{media, Descriptor, ImageConfig, Index, Manifest, Probe};
use crate::store::{BlobWriter, ImageRecord, Provenance, Store};

/// Files up to this size are kept in memory (JSON documents).
const SMALL: u64 = 1 << 20;

/// An image `load` stored, and the tags it got.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub image: ImageRecord,
    pub tags: Vec<String>,
}

/// Reads an archive (either format, optionally gzip/zstd-compressed) from
/// `input`. `platform` picks the entry of a multi-platform OCI index (the
/// host's by default).
pub fn load(
    store: &Store,
    input: impl Read,
    platform: Option<&Platform>,
    progress: &dyn Progress,
) -> Result<Vec<Loaded>, ArchiveError> {
    let _lease = store.lease()?;
    let mut files = Files::read(store, ProgressReader::new(input, progress), progress)?;
    let images = if files.small.contains_key("manifest.json") {
        files.docker()?
    } else if files.small.contains_key("index.json") {
        let wanted = platform.cloned().unwrap_or_else(Platform::host);
        files.oci(&wanted)?
    } else {
        return Err(ArchiveError::Unknown);
    };
    // Everything verified: now commit and record.
    yurta_fault::point("load.verified");
    let mut out = Vec::new();
    for (image, names) in images {
        out.push(files.commit(image, names)?);
    }
    Ok(out)
}

/// An image found in the archive, verified but not stored yet.
struct Pending {
    config: Vec<u8>,
    layers: Vec<(String, Descriptor)>,
    /// Uncompressed sizes learnt while checking diff IDs.
    diff_sizes: HashMap<Digest, u64>,
}

struct Files {
    store: Store,
    small: HashMap<String, Vec<u8>>,
    large: HashMap<String, BlobWriter>,
}

impl Files {
    fn read(
        store: &Store,
        input: impl Read,
        progress: &dyn Progress,
    ) -> Result<Files, ArchiveError> {
        let mut files = Files {
            store: store.clone(),
            small: HashMap::new(),
            large: HashMap::new(),
        };
        let stream = decompress(input).map_err(ArchiveError::io("read archive"))?;
        let mut archive = tar::Archive::new(stream);
        for entry in archive
            .entries()
            .map_err(ArchiveError::io("read archive"))?
        {
            let mut entry = entry.map_err(ArchiveError::io("read archive entry"))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let path = normalize(&String::from_utf8_lossy(&entry.path_bytes()));
            let size = entry.size();
            progress.begin(&path, Some(size));
            if size <= SMALL {
                let mut buf = Vec::with_capacity(size as usize);
                entry
                    .read_to_end(&mut buf)
                    .map_err(ArchiveError::io(format!("read {path} from archive")))?;
                files.small.insert(path.clone(), buf);
            } else {
                let mut w = store.ingest()?;
                io::copy(&mut entry, &mut w)
                    .map_err(ArchiveError::io(format!("read {path} from archive")))?;
                yurta_fault::point("load.ingested");
                files.large.insert(path.clone(), w);
            }
            progress.end(&path);
        }
        Ok(files)
    }

    /// The digest of an archive file, checked against `blobs/sha256/<hex>`
    /// names.
    fn digest_of(&self, path: &str) -> Result<Digest, ArchiveError> {
        let actual = match (self.small.get(path), self.large.get(path)) {
            (Some(b), _) => Digest::of(b),
            (None, Some(w)) => w.digest(),
            (None, None) => return Err(ArchiveError::Missing(path.to_string())),
        };
        let named = path
            .strip_prefix("blobs/sha256/")
            .and_then(|h| Digest::from_hex(h).ok());
        match named {
            Some(expected) if expected != actual => Err(ArchiveError::DigestMismatch {
                path: path.to_string(),
                expected,
                actual,
            }),
            _ => Ok(actual),
        }
    }

    fn json_bytes(&self, path: &str) -> Result<Vec<u8>, ArchiveError> {
        self.digest_of(path)?;
        match self.small.get(path) {
            Some(b) => Ok(b.clone()),
            None => Err(ArchiveError::TooLarge(path.to_string())),
        }
    }

    fn docker(&mut self) -> Result<Vec<(Pending, Vec<String>)>, ArchiveError> {
        let entries: Vec<DockerEntry> = serde_json::from_slice(&self.small["manifest.json"])
            .map_err(ArchiveError::json("manifest.json"))?;
        let mut out = Vec::new();
        for e in entries {
            let config = self.json_bytes(&e.config)?;
            if let Some(hex) = e.config.strip_suffix(".json").filter(|h| h.len() == 64) {
                self.check_named(&e.config, hex, &config)?;
            }
            let parsed: ImageConfig =
                serde_json::from_slice(&config).map_err(ArchiveError::json(e.config.clone()))?;
            let diff_ids = &parsed.rootfs.diff_ids;
            if diff_ids.len() != e.layers.len() {
                return Err(ArchiveError::LayerCount {
                    config: e.config.clone(),
                    layers: e.layers.len(),
                    diff_ids: diff_ids.len(),
                });
            }
            let mut layers = Vec::new();
            let mut diff_sizes = HashMap::new();
            for (path, diff_id) in e.layers.iter().zip(diff_ids) {
                let (desc, size) = self.docker_layer(path, diff_id)?;
                layers.push((path.clone(), desc));
                diff_sizes.insert(diff_id.clone(), size);
            }
            let p = Pending {
                config,
                layers,
                diff_sizes,
            };
            out.push((p, e.repo_tags.unwrap_or_default()));
        }
        Ok(out)
    }

    fn check_named(&self, path: &str, hex: &str, bytes: &[u8]) -> Result<(), ArchiveError> {
        let actual = Digest::of(bytes);
        match Digest::from_hex(hex) {
            Ok(expected) if expected != actual => Err(ArchiveError::DigestMismatch {
                path: path.to_string(),
                expected,
                actual,
            }),
            _ => Ok(()),
        }
    }

    /// A docker-archive layer: an uncompressed tar whose digest is its diff
    /// ID, or (newer Docker) a compressed blob that must unpack to it.
    /// Returns its descriptor and uncompressed size.
    fn docker_layer(
        &self,
        path: &str,
        diff_id: &Digest,
    ) -> Result<(Descriptor, u64), ArchiveError> {
        let digest = self.digest_of(path)?;
        let size = self.size_of(path);
        let compression = detect(&mut io::BufReader::new(self.open(path)?))
            .map_err(ArchiveError::io(format!("read {path}")))?;
        let media_type = match compression {
            Compression::None => media::OCI_LAYER,
            Compression::Gzip => media::OCI_LAYER_GZIP,
            Compression::Zstd => media::OCI_LAYER_ZSTD,
        };
        let (actual, diff_size) = if compression == Compression::None {
            (digest.clone(), size)
        } else {
            let r = decompress(self.open(path)?)
                .map_err(ArchiveError::io(format!("decompress {path}")))?;
            let (d, n, _) = HashingReader::new(r)
                .finish()
                .map_err(ArchiveError::io(format!("decompress {path}")))?;
            (d, n)
        };
        if &actual != diff_id {
            return Err(ArchiveError::DiffId {
                path: path.to_string(),
                expected: diff_id.clone(),
                actual,
            });
        }
        Ok((Descriptor::new(media_type, digest, size), diff_size))
    }

    fn size_of(&self, path: &str) -> u64 {
        match (self.small.get(path), self.large.get(path)) {
            (Some(b), _) => b.len() as u64,
            (None, Some(w)) => w.offset(),
            (None, None) => 0,
        }
    }

    fn open(&self, path: &str) -> Result<Box<dyn Read + '_>, ArchiveError> {
        match (self.small.get(path), self.large.get(path)) {
            (Some(b), _) => Ok(Box::new(&b[..])),
            (None, Some(w)) => {
                let f = std::fs::File::open(w.path())
                    .map_err(ArchiveError::io(format!("reopen {path}")))?;
                Ok(Box::new(f))
            }
            (None, None) => Err(ArchiveError::Missing(path.to_string())),
        }
    }

    fn oci(&mut self, wanted: &Platform) -> Result<Vec<(Pending, Vec<String>)>, ArchiveError> {
        let index: Index = serde_json::from_slice(&self.small["index.json"])
            .map_err(ArchiveError::json("index.json"))?;
        let mut out = Vec::new();
        for desc in &index.manifests {
            let names = oci_names(desc);
            let manifest = self.choose(desc, wanted)?;
            out.push((self.oci_image(&manifest)?, names));
        }
        Ok(out)
    }

    /// The manifest a descriptor leads to, through nested indexes.
    fn choose(&self, desc: &Descriptor, wanted: &Platform) -> Result<Manifest, ArchiveError> {
        let path = blob_path(&desc.digest);
        let bytes = self.json_bytes(&path)?;
        let probe: Probe =
            serde_json::from_slice(&bytes).map_err(ArchiveError::json(path.clone()))?;
        if !probe.is_index() {
            return serde_json::from_slice(&bytes).map_err(ArchiveError::json(path));
        }
        let index: Index = serde_json::from_slice(&bytes).map_err(ArchiveError::json(path))?;
        let name = oci_names(desc)
            .first()
            .cloned()
            .unwrap_or_else(|| desc.digest.to_string());
        let entry = select(wanted, &name, &index.manifests, |d| {
            d.platform.as_ref().and_then(|p| p.platform())
        })?;
        self.choose(entry, wanted)
    }

    fn oci_image(&self, m: &Manifest) -> Result<Pending, ArchiveError> {
        let config = self.json_bytes(&blob_path(&m.config.digest))?;
        let mut layers = Vec::new();
        for l in &m.layers {
            let path = blob_path(&l.digest);
            self.digest_of(&path)?;
            let mut d = l.clone();
            d.media_type = media::to_oci(&l.media_type).to_string();
            layers.push((path, d));
        }
        Ok(Pending {
            config,
            layers,
            diff_sizes: HashMap::new(),
        })
    }

    /// Stores a verified image: layers, config, a fresh OCI manifest; tags.
    fn commit(&mut self, p: Pending, names: Vec<String>) -> Result<Loaded, ArchiveError> {
        for (path, _) in &p.layers {
            if let Some(w) = self.large.remove(path) {
                w.commit()?;
            } else if let Some(b) = self.small.get(path) {
                self.store.put_blob(b)?;
            }
        }
        let config_digest = self.store.put_blob(&p.config)?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(media::OCI_MANIFEST.into()),
            config: Descriptor::new(media::OCI_CONFIG, config_digest, p.config.len() as u64),
            layers: p.layers.into_iter().map(|(_, d)| d).collect(),
            annotations: None,
        };
        let digest = self
            .store
            .put_manifest(&serde_json::to_vec(&manifest).expect("serializes"))?;
        let from = Provenance {
            diff_sizes: p.diff_sizes,
            ..Default::default()
        };
        let image = self.store.add_image(&digest, &from)?;
        yurta_fault::point("load.recorded");
        let mut tags = Vec::new();
        for n in names {
            tags.push(self.store.tag(&n, &digest)?);
        }
        Ok(Loaded { image, tags })
    }
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

/// `./a//b` → `a/b`.
fn normalize(path: &str) -> String {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// The image names an OCI index entry carries: containerd's full-name
/// annotation, or a ref.name that is a full reference (not just a tag).
fn oci_names(desc: &Descriptor) -> Vec<String> {
    let Some(ann) = &desc.annotations else {
        return Vec::new();
    };
    let full = ann.get(NAME_ANNOTATION).or_else(|| {
        ann.get(REF_ANNOTATION)
            .filter(|r| r.contains('/') || r.contains(':'))
    });
    full.filter(|n| n.parse::<Reference>().is_ok())
        .map(|n| vec![n.clone()])
        .unwrap_or_default()
}
