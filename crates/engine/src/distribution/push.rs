//! Push: layers and config (in parallel; a blob the registry has is
//! skipped, one another repository of the same registry has is mounted),
//! then the manifest under the tag. The stored manifest is sent byte for
//! byte, so the image keeps its digest.

use std::path::Path;

use anyhow::Context;
use yurta_images::spec::Descriptor;
use yurta_images::{ImageRecord, Provenance, Store};
use yurta_registry::{BlobPush, Client, PushedBlob, Reference, Repository};

use super::pool::{self, THREADS};
use super::progress::Throttle;
use super::{registry_digest, short, DistributionError, Progress, Silent};
use crate::lifecycle::events;

/// What to push where.
pub struct PushRequest<'a> {
    /// The state root (its store and its event journal).
    pub root: &'a Path,
    /// The stored image: a name, an ID or a digest.
    pub image: &'a str,
    /// Where to: a name with an optional tag; `image` itself when none.
    pub destination: Option<&'a str>,
    pub client: &'a Client,
}

/// What a push did.
#[derive(Debug)]
pub struct Pushed {
    /// The tag pushed (`latest` when none was given).
    pub tag: String,
    /// The manifest's digest, as the registry has it.
    pub digest: String,
    /// The manifest's size in bytes.
    pub size: usize,
}

/// Pushes one stored image, reporting to `progress`.
pub fn push(req: &PushRequest, progress: &dyn Progress) -> Result<Pushed, DistributionError> {
    let store = Store::open_root(req.root).context("push")?;
    let image = store
        .resolve(req.image)
        .with_context(|| format!("push {}", req.image))?;
    let dest = destination(req.image, req.destination, &image)?;
    let p = Pusher {
        client: req.client,
        store: &store,
        dest: &dest,
        progress,
    };
    let tag = dest.tag.clone().unwrap_or_else(|| "latest".to_string());
    let pushed = p
        .run(&image, &tag)
        .with_context(|| format!("push {dest}"))?;
    events::image_ref(req.root, "push", &dest.familiar());
    Ok(pushed)
}

/// Where to push: `destination`, else `image` itself, which must then be
/// a name (not an ID); `latest` when no tag is given.
pub fn destination(
    image: &str,
    destination: Option<&str>,
    record: &ImageRecord,
) -> Result<Reference, DistributionError> {
    let text = match destination {
        Some(d) => d,
        None => {
            let hex = image.strip_prefix("sha256:").unwrap_or(image);
            if record.id.hex().starts_with(hex) || record.manifest.digest.hex().starts_with(hex) {
                return Err(DistributionError::invalid(format!(
                    "push {image}: an image ID names no repository; give a destination (push IMAGE NAME[:TAG])"
                )));
            }
            image
        }
    };
    let r = Reference::parse(text).context("push")?;
    if r.digest.is_some() {
        return Err(DistributionError::invalid(format!(
            "push {text}: push to a tag, not a digest"
        )));
    }
    Ok(r)
}

struct Pusher<'a> {
    client: &'a Client,
    store: &'a Store,
    dest: &'a Reference,
    progress: &'a dyn Progress,
}

impl Pusher<'_> {
    /// Pushes `image` and its manifest under `tag` (a tag, or the
    /// manifest's own digest for an image that a list names).
    fn run(&self, image: &ImageRecord, tag: &str) -> anyhow::Result<Pushed> {
        let repo = &self.dest.repo;
        self.progress
            .status(None, &format!("The push refers to repository [{repo}]"));
        let mount_from = mount_source(image, repo);
        pool::for_each(image.layers.clone(), THREADS, |l| {
            self.blob(&l, mount_from.as_deref(), self.progress)
        })?;
        let manifest = self.store.read_blob(&image.manifest.digest)?;
        let parsed: yurta_images::spec::Manifest = serde_json::from_slice(&manifest)
            .with_context(|| format!("manifest {}", image.manifest.digest))?;
        self.blob(&parsed.config, mount_from.as_deref(), &Silent)?;
        let digest = self
            .client
            .put_manifest(repo, tag, &image.manifest.media_type, &manifest)?;
        let size = manifest.len();
        self.progress
            .status(None, &format!("{tag}: digest: {digest} size: {size}"));
        self.store.add_image(
            &image.manifest.digest,
            &Provenance {
                repo_digest: Some(format!("{repo}@{digest}")),
                ..Default::default()
            },
        )?;
        Ok(Pushed {
            tag: tag.to_string(),
            digest: digest.to_string(),
            size,
        })
    }

    /// Makes sure the registry has one blob, reporting to `progress`.
    fn blob(
        &self,
        desc: &Descriptor,
        mount_from: Option<&str>,
        progress: &dyn Progress,
    ) -> anyhow::Result<()> {
        let id = short(&desc.digest);
        progress.blob(&id, "Preparing");
        let mut file = self.store.open_blob(&desc.digest)?;
        let throttle = Throttle::new();
        let mut report = |done: u64, total: Option<u64>| {
            let total = total.unwrap_or(0);
            if throttle.due(done, total) {
                progress.bytes(&id, "Pushing", done, total);
            }
        };
        let pushed = self
            .client
            .push_blob(
                &self.dest.repo,
                &registry_digest(&desc.digest)?,
                desc.size,
                &mut file,
                BlobPush {
                    mount_from,
                    progress: Some(&mut report),
                    ..BlobPush::default()
                },
            )
            .with_context(|| format!("blob {}", desc.digest))?;
        progress.blob_done(
            &id,
            &match pushed {
                PushedBlob::Exists => "Layer already exists".to_string(),
                PushedBlob::Mounted => format!("Mounted from {}", mount_from.unwrap_or("")),
                PushedBlob::Uploaded => "Pushed".to_string(),
            },
        );
        Ok(())
    }
}

/// What `manifest push` did.
#[derive(Debug)]
pub struct PushedList {
    pub tag: String,
    /// The index's digest.
    pub digest: String,
    pub size: usize,
    /// The images pushed with it (`--all`).
    pub images: usize,
}

/// Pushes the local manifest list `list` to `destination` (a name with an
/// optional tag): with `all`, each of its images first (by digest, no
/// tag), then the index under the tag. Without `all` the registry must
/// have the images already.
pub fn push_list(
    root: &Path,
    list: &str,
    destination: &str,
    all: bool,
    client: &Client,
    progress: &dyn Progress,
) -> Result<PushedList, DistributionError> {
    let rec = crate::manifest::ManifestLists::new(root).get(list)?;
    if rec.entries.is_empty() {
        return Err(DistributionError::invalid(format!(
            "manifest push {list}: the list is empty"
        )));
    }
    let dest = Reference::parse(destination).context("manifest push")?;
    if dest.digest.is_some() {
        return Err(DistributionError::invalid(format!(
            "manifest push {destination}: push to a tag, not a digest"
        )));
    }
    let store = Store::open_root(root).context("manifest push")?;
    let p = Pusher {
        client,
        store: &store,
        dest: &dest,
        progress,
    };
    if all {
        for e in &rec.entries {
            let image = store
                .resolve(&e.digest)
                .with_context(|| format!("manifest push {list}: its image {}", e.digest))?;
            p.run(&image, &e.digest)
                .with_context(|| format!("push {} to {destination}", e.digest))?;
        }
    }
    let index = crate::manifest::ManifestLists::index(&rec)?;
    let tag = dest.tag.clone().unwrap_or_else(|| "latest".to_string());
    let digest = client
        .put_manifest(
            &dest.repo,
            &tag,
            yurta_images::spec::media::OCI_INDEX,
            &index,
        )
        .with_context(|| format!("manifest push {destination}"))?;
    progress.status(
        None,
        &format!("{tag}: digest: {digest} size: {}", index.len()),
    );
    events::image_ref(root, "push", &dest.familiar());
    Ok(PushedList {
        tag,
        digest: digest.to_string(),
        size: index.len(),
        images: if all { rec.entries.len() } else { 0 },
    })
}

/// Another repository of the destination's registry the image came from
/// (its repo digests), to mount blobs from instead of uploading them.
fn mount_source(image: &ImageRecord, dest: &Repository) -> Option<String> {
    image.repo_digests.iter().find_map(|rd| {
        let name = rd.split_once('@')?.0;
        let repo = Repository::parse(name).ok()?;
        (repo.registry == dest.registry && repo.name != dest.name).then_some(repo.name)
    })
}
