//! Manifest lists made locally (`yurta manifest`): one image name for
//! several platforms — amd64 next to e2k v3…v7 — as an OCI image index.
//! A list is a record under `<root>/manifests/` naming stored images by
//! their manifest digest, with each entry's platform (from the image,
//! overridden by `--os/--arch/--variant/--features`) and annotations;
//! [`ManifestLists::index`] renders the index that `manifest inspect`
//! prints and `manifest push` sends (distribution::push_list), whose
//! entries keep their digests because images are pushed byte for byte.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use yurta_error::{Error, ErrorKind};
use yurta_images::reference::Reference;
use yurta_images::spec::{media, Descriptor, Index, PlatformSpec};
use yurta_images::Store;

/// One image of a list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// The manifest's digest in the store.
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A list as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListRecord {
    /// The normalized name (`localhost/app:1`, `docker.io/library/x:latest`).
    pub name: String,
    pub created: String,
    pub entries: Vec<Entry>,
}

/// What `add` and `annotate` may set on an entry.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub os: Option<String>,
    pub arch: Option<String>,
    pub variant: Option<String>,
    pub features: Vec<String>,
    pub os_features: Vec<String>,
    /// `KEY=VALUE`.
    pub annotations: Vec<String>,
}

pub struct ManifestLists {
    dir: PathBuf,
    root: PathBuf,
}

fn fail(kind: ErrorKind, message: String) -> anyhow::Error {
    Error::new(kind, message).into()
}

impl ManifestLists {
    pub fn new(root: &Path) -> ManifestLists {
        ManifestLists {
            dir: root.join("manifests"),
            root: root.to_path_buf(),
        }
    }

    /// `name` normalized, with `latest` when it has no tag.
    pub fn normalize(name: &str) -> anyhow::Result<String> {
        let r: Reference = name.parse()?;
        if r.digest.is_some() {
            return Err(fail(
                ErrorKind::Invalid,
                format!("{name}: a manifest list is named by a tag, not a digest"),
            ));
        }
        let r = r.with_default_tag();
        Ok(r.tagged().unwrap_or(r.name))
    }

    fn path(&self, normalized: &str) -> PathBuf {
        let safe: String = normalized
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let digest = yurta_images::Digest::of(normalized.as_bytes());
        self.dir
            .join(format!("{safe}-{}.json", &digest.hex()[..12]))
    }

    /// The list `name`.
    pub fn get(&self, name: &str) -> anyhow::Result<ListRecord> {
        let n = Self::normalize(name)?;
        match fs::read(self.path(&n)) {
            Ok(b) => Ok(serde_json::from_slice(&b)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(fail(
                ErrorKind::NotFound,
                format!("{name}: no such manifest list"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub fn exists(&self, name: &str) -> bool {
        self.get(name).is_ok()
    }

    fn save(&self, rec: &ListRecord) -> anyhow::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let mut text = serde_json::to_vec_pretty(rec)?;
        text.push(b'\n');
        let path = self.path(&rec.name);
        yurta_sysutil::replace_file(&path, &text, 0o644, yurta_sysutil::Durability::Synced)?;
        Ok(())
    }

    /// Makes the list `name` of `images` (stored images: names, IDs or
    /// digests). A list of that name already there is a conflict unless
    /// `amend`, which adds to it.
    pub fn create(&self, name: &str, images: &[String], amend: bool) -> anyhow::Result<ListRecord> {
        let n = Self::normalize(name)?;
        let existing = self.get(name).ok();
        if existing.is_some() && !amend {
            let message =
                format!("{name}: a manifest list of that name exists (use --amend to add to it)");
            return Err(fail(ErrorKind::Conflict, message));
        }
        let mut rec = existing.unwrap_or_else(|| ListRecord {
            name: n,
            created: yurta_images::time::now_rfc3339(),
            entries: Vec::new(),
        });
        for image in images {
            let entry = self.entry(image, &Overrides::default())?;
            upsert(&mut rec.entries, entry);
        }
        self.save(&rec)?;
        Ok(rec)
    }

    /// Adds (or replaces, by digest) the stored `image` in `list`.
    pub fn add(&self, list: &str, image: &str, o: &Overrides) -> anyhow::Result<Entry> {
        let mut rec = self.get(list)?;
        let entry = self.entry(image, o)?;
        upsert(&mut rec.entries, entry.clone());
        self.save(&rec)?;
        Ok(entry)
    }

    /// Changes the entry of `image` (a stored image, or an entry's digest).
    pub fn annotate(&self, list: &str, image: &str, o: &Overrides) -> anyhow::Result<()> {
        let mut rec = self.get(list)?;
        let digest = self.entry_digest(&rec, image)?;
        let e = rec
            .entries
            .iter_mut()
            .find(|e| e.digest == digest)
            .ok_or_else(|| {
                fail(
                    ErrorKind::NotFound,
                    format!("{image} is not in the manifest list {list}"),
                )
            })?;
        apply(e, o)?;
        self.save(&rec)
    }

    /// Removes the entry of `image` from `list`.
    pub fn remove_entry(&self, list: &str, image: &str) -> anyhow::Result<()> {
        let mut rec = self.get(list)?;
        let digest = self.entry_digest(&rec, image)?;
        let before = rec.entries.len();
        rec.entries.retain(|e| e.digest != digest);
        if rec.entries.len() == before {
            return Err(fail(
                ErrorKind::NotFound,
                format!("{image} is not in the manifest list {list}"),
            ));
        }
        self.save(&rec)
    }

    /// Removes the list (not its images).
    pub fn remove(&self, name: &str) -> anyhow::Result<()> {
        let rec = self.get(name)?;
        fs::remove_file(self.path(&rec.name))?;
        Ok(())
    }

    /// Every list, by name.
    pub fn list(&self) -> Vec<ListRecord> {
        let mut out: Vec<ListRecord> = fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .filter_map(|e| serde_json::from_slice(&fs::read(e.path()).ok()?).ok())
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The OCI image index of the list, as pushed.
    pub fn index(rec: &ListRecord) -> anyhow::Result<Vec<u8>> {
        let manifests = rec
            .entries
            .iter()
            .map(|e| {
                Ok(Descriptor {
                    media_type: e.media_type.clone(),
                    digest: e.digest.parse()?,
                    size: e.size,
                    platform: Some(PlatformSpec {
                        architecture: e.architecture.clone(),
                        os: e.os.clone(),
                        variant: e.variant.clone(),
                        os_version: None,
                        os_features: (!e.os_features.is_empty()).then(|| e.os_features.clone()),
                        features: (!e.features.is_empty()).then(|| e.features.clone()),
                    }),
                    annotations: (!e.annotations.is_empty()).then(|| e.annotations.clone()),
                    urls: None,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let index = Index {
            schema_version: 2,
            media_type: Some(media::OCI_INDEX.to_string()),
            manifests,
            annotations: None,
        };
        Ok(serde_json::to_vec_pretty(&index)?)
    }

    /// The entry for stored `image`, its platform overridden by `o`.
    fn entry(&self, image: &str, o: &Overrides) -> anyhow::Result<Entry> {
        let store = Store::open_root(&self.root)?;
        let rec = store.resolve(image)?;
        let mut e = Entry {
            digest: rec.manifest.digest.to_string(),
            media_type: rec.manifest.media_type.clone(),
            size: rec.manifest.size,
            os: rec.platform.os.clone(),
            architecture: rec.platform.architecture.clone(),
            variant: rec.platform.variant.clone(),
            features: Vec::new(),
            os_features: Vec::new(),
            annotations: BTreeMap::new(),
        };
        apply(&mut e, o)?;
        Ok(e)
    }

    /// An entry's digest from what the user typed: a stored image, or a
    /// digest (or its prefix) of an entry.
    fn entry_digest(&self, rec: &ListRecord, image: &str) -> anyhow::Result<String> {
        let hex = image.strip_prefix("sha256:").unwrap_or(image);
        if hex.len() >= 12 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            if let Some(e) = rec
                .entries
                .iter()
                .find(|e| e.digest["sha256:".len()..].starts_with(hex))
            {
                return Ok(e.digest.clone());
            }
        }
        let store = Store::open_root(&self.root)?;
        Ok(store.resolve(image)?.manifest.digest.to_string())
    }
}

/// Replaces an entry of the same digest, or appends.
fn upsert(entries: &mut Vec<Entry>, entry: Entry) {
    match entries.iter_mut().find(|e| e.digest == entry.digest) {
        Some(e) => *e = entry,
        None => entries.push(entry),
    }
}

/// Applies the overrides: the platform goes through yurta's parser, so
/// `e2k/6` is `e2k` `v6` and an unknown e2k generation is refused.
fn apply(e: &mut Entry, o: &Overrides) -> anyhow::Result<()> {
    let os = o.os.clone().unwrap_or_else(|| e.os.clone());
    let arch = o.arch.clone().unwrap_or_else(|| e.architecture.clone());
    let variant = match (&o.variant, &o.arch) {
        (Some(v), _) => Some(v.clone()),
        // A new architecture drops the old one's variant.
        (None, Some(_)) => None,
        (None, None) => e.variant.clone(),
    };
    let text = match &variant {
        Some(v) => format!("{os}/{arch}/{v}"),
        None => format!("{os}/{arch}"),
    };
    let p = yurta_build::platform::Platform::parse(&text)
        .map_err(|err| fail(ErrorKind::Invalid, err))?;
    e.os = p.os;
    e.architecture = p.architecture;
    e.variant = p.variant;
    if !o.features.is_empty() {
        e.features = o.features.clone();
    }
    if !o.os_features.is_empty() {
        e.os_features = o.os_features.clone();
    }
    for a in &o.annotations {
        let Some((k, v)) = a.split_once('=') else {
            return Err(fail(
                ErrorKind::Invalid,
                format!("--annotation {a:?}: use KEY=VALUE"),
            ));
        };
        e.annotations.insert(k.to_string(), v.to_string());
    }
    Ok(())
}
