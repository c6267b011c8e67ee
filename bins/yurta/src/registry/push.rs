//! `yurta push IMAGE [DESTINATION]`: layers and config (in parallel; a blob
//! the registry has is skipped, one another repository of the same registry
//! has is mounted), then the manifest under the tag. The stored manifest is
//! sent byte for byte, so the image keeps its digest.

use anyhow::{bail, Context};
use yurta_images::spec::Descriptor;
use yurta_images::{ImageRecord, Provenance, Store};
use yurta_registry::{BlobPush, Client, PushedBlob, Reference, Repository};

use super::pool::{self, THREADS};
use super::registry_digest;
use super::report::Report;
use crate::cli::PushArgs;
use crate::Ctx;

pub fn push(ctx: &Ctx, a: PushArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let image = store
        .resolve(&a.image)
        .with_context(|| format!("push {}", a.image))?;
    let dest = destination(&a, &image)?;
    let client = super::client(&a.registry);
    let report = Report::new(a.quiet);
    let p = Pusher {
        client: &client,
        store: &store,
        dest: &dest,
        report: &report,
    };
    let digest = p.run(&image).with_context(|| format!("push {dest}"))?;
    if a.quiet {
        outln!("{digest}")?;
    }
    Ok(())
}

/// Where to push: DESTINATION, else IMAGE itself, which must then be a
/// name (not an ID); `latest` when no tag is given.
fn destination(a: &PushArgs, image: &ImageRecord) -> anyhow::Result<Reference> {
    let text = match &a.destination {
        Some(d) => d.as_str(),
        None => {
            let hex = a.image.strip_prefix("sha256:").unwrap_or(&a.image);
            if image.id.hex().starts_with(hex) || image.manifest.digest.hex().starts_with(hex) {
                bail!(
                    "push {}: an image ID names no repository; give a destination (push IMAGE NAME[:TAG])",
                    a.image
                );
            }
            a.image.as_str()
        }
    };
    let r = Reference::parse(text).context("push")?;
    if r.digest.is_some() {
        bail!("push {text}: push to a tag, not a digest");
    }
    Ok(r)
}

struct Pusher<'a> {
    client: &'a Client,
    store: &'a Store,
    dest: &'a Reference,
    report: &'a Report,
}

impl Pusher<'_> {
    fn run(&self, image: &ImageRecord) -> anyhow::Result<yurta_registry::Digest> {
        let repo = &self.dest.repo;
        self.report
            .line(&format!("The push refers to repository [{repo}]"));
        let mount_from = mount_source(image, repo);
        pool::for_each(image.layers.clone(), THREADS, |l| {
            self.blob(&l, mount_from.as_deref(), true)
        })?;
        let manifest = self.store.read_blob(&image.manifest.digest)?;
        let parsed: yurta_images::spec::Manifest = serde_json::from_slice(&manifest)
            .with_context(|| format!("manifest {}", image.manifest.digest))?;
        self.blob(&parsed.config, mount_from.as_deref(), false)?;
        let tag = self.dest.tag.as_deref().unwrap_or("latest");
        let digest = self
            .client
            .put_manifest(repo, tag, &image.manifest.media_type, &manifest)?;
        self.report
            .line(&format!("{tag}: digest: {digest} size: {}", manifest.len()));
        self.store.add_image(
            &image.manifest.digest,
            &Provenance {
                repo_digest: Some(format!("{repo}@{digest}")),
                ..Default::default()
            },
        )?;
        Ok(digest)
    }

    /// Makes sure the registry has one blob; `shown` gives it a line.
    fn blob(&self, desc: &Descriptor, mount_from: Option<&str>, shown: bool) -> anyhow::Result<()> {
        let line = match shown {
            true => self.report.blob(&desc.digest, "Preparing"),
            false => Report::new(true).blob(&desc.digest, ""),
        };
        let mut file = self.store.open_blob(&desc.digest)?;
        let mut progress = |done: u64, total: Option<u64>| line.bytes("Pushing", done, total);
        let pushed = self
            .client
            .push_blob(
                &self.dest.repo,
                &registry_digest(&desc.digest)?,
                desc.size,
                &mut file,
                BlobPush {
                    mount_from,
                    progress: Some(&mut progress),
                    ..BlobPush::default()
                },
            )
            .with_context(|| format!("blob {}", desc.digest))?;
        line.done(&match pushed {
            PushedBlob::Exists => "Layer already exists".to_string(),
            PushedBlob::Mounted => format!("Mounted from {}", mount_from.unwrap_or("")),
            PushedBlob::Uploaded => "Pushed".to_string(),
        });
        Ok(())
    }
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
