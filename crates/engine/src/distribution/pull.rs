//! Pull: reference → manifest (the platform's entry of an index) → config
//! and layers (in parallel, resumable, unpacked) → image record, tag and
//! repo digest. Nothing is tagged or recorded until every blob is stored
//! and verified, so a killed pull leaves nothing half-visible.

use std::path::Path;

use anyhow::{bail, Context};
use yurta_images::spec::{ImageConfig, Index, Manifest};
use yurta_images::{chain_ids, platform, Digest, Platform, Provenance, Store};
use yurta_registry::{Client, Manifest as Fetched, Reference};

use super::fetch::{Fetcher, Layer};
use super::{registry_digest, DistributionError, Progress};
use crate::lifecycle::events;

/// What to pull.
pub struct PullRequest<'a> {
    /// The state root (its store and its event journal).
    pub root: &'a Path,
    /// `NAME[:TAG|@DIGEST]`; Docker Hub and `latest` when left out.
    pub image: &'a str,
    /// The platform wanted; the host's when none.
    pub platform: Option<&'a Platform>,
    pub client: &'a Client,
}

/// What a pull did.
#[derive(Debug)]
pub struct Pulled {
    /// The reference in full (`docker.io/library/busybox:latest`).
    pub reference: String,
    /// The manifest pulled (the platform's), the image's key in the store.
    pub digest: Digest,
    /// Anything was downloaded, unpacked or newly tagged.
    pub fresh: bool,
}

/// Pulls one image into `req.root`'s store, reporting to `progress`.
pub fn pull(req: &PullRequest, progress: &dyn Progress) -> Result<Pulled, DistributionError> {
    let r = Reference::parse(req.image).context("pull")?;
    let store = Store::open_root(req.root).context("pull")?;
    let p = Puller {
        client: req.client,
        store: &store,
        r: &r,
        progress,
    };
    let pulled = p.run(req.platform).with_context(|| format!("pull {r}"))?;
    events::image_ref(req.root, "pull", &r.familiar());
    Ok(pulled)
}

struct Puller<'a> {
    client: &'a Client,
    store: &'a Store,
    r: &'a Reference,
    progress: &'a dyn Progress,
}

impl Puller<'_> {
    fn run(&self, wanted: Option<&Platform>) -> anyhow::Result<Pulled> {
        let (store, r) = (self.store, self.r);
        let top = self.client.get_manifest(r)?;
        let pulling = format!("Pulling from {}", r.repo.name);
        self.progress.status(Some(&r.manifest_ref()), &pulling);
        let chosen = match top.is_index() {
            true => self.choose(&top, wanted)?,
            false => top.clone(),
        };
        let manifest: Manifest = serde_json::from_slice(&chosen.bytes)
            .with_context(|| format!("manifest {}", chosen.digest))?;
        yurta_fault::point("pull.manifest");
        let _lease = store.lease()?;
        let fetcher = Fetcher {
            client: self.client,
            store,
            repo: &r.repo,
            progress: self.progress,
        };
        let mut fresh = fetcher.quiet_blob(&manifest.config)?;
        let config: ImageConfig = store.read_json(&manifest.config.digest)?;
        if !top.is_index() {
            check_platform(wanted, &config.platform())?;
        }
        let fetched = fetcher.layers(layers(&manifest, &config)?)?;
        fresh |= fetched.fresh;
        yurta_fault::point("pull.layers");
        let digest = store.put_manifest(&chosen.bytes)?;
        let repo_digest = format!("{}@{}", r.repo, top.digest);
        store.add_image(
            &digest,
            &Provenance {
                repo_digest: Some(repo_digest),
                diff_sizes: fetched.diff_sizes,
                build_cache: false,
            },
        )?;
        yurta_fault::point("pull.recorded");
        if r.digest.is_none() {
            let tagged = r.to_string();
            let before = store.resolve(&tagged).ok().map(|i| i.manifest.digest);
            store.tag(&tagged, &digest)?;
            fresh |= before.as_ref() != Some(&digest);
        }
        self.progress
            .status(None, &format!("Digest: {}", top.digest));
        let status = match fresh {
            true => "Downloaded newer image for",
            false => "Image is up to date for",
        };
        self.progress
            .status(None, &format!("Status: {status} {}", r.familiar()));
        Ok(Pulled {
            reference: r.to_string(),
            digest,
            fresh,
        })
    }

    /// The index entry for the wanted platform (the host's by default),
    /// fetched by digest.
    fn choose(&self, index: &Fetched, wanted: Option<&Platform>) -> anyhow::Result<Fetched> {
        let parsed: Index = serde_json::from_slice(&index.bytes)
            .with_context(|| format!("index {}", index.digest))?;
        let want = wanted.cloned().unwrap_or_else(Platform::host);
        let entry = platform::select(&want, &self.r.to_string(), &parsed.manifests, |d| {
            d.platform.as_ref().and_then(|p| p.platform())
        })?;
        self.progress
            .debug(&format!("{want}: index entry {}", entry.digest));
        let by_digest = self.r.with_digest(registry_digest(&entry.digest)?);
        let m = self.client.get_manifest(&by_digest)?;
        if m.is_index() {
            bail!("index entry {} is itself an index", entry.digest);
        }
        Ok(m)
    }
}

/// A single-platform image must suit `--platform` when one is given.
fn check_platform(wanted: Option<&Platform>, actual: &Platform) -> anyhow::Result<()> {
    match wanted {
        Some(w) if w.rank(actual).is_none() => Err(DistributionError::invalid(format!(
            "image was found but does not match the specified platform: wanted {w}, actual {actual}"
        ))
        .0),
        _ => Ok(()),
    }
}

/// The manifest's layers with their diff and chain IDs from the config.
fn layers(m: &Manifest, config: &ImageConfig) -> anyhow::Result<Vec<Layer>> {
    let diff_ids = &config.rootfs.diff_ids;
    if diff_ids.len() != m.layers.len() {
        bail!(
            "config {} lists {} diff IDs for {} layers",
            m.config.digest,
            diff_ids.len(),
            m.layers.len()
        );
    }
    let chains = chain_ids(diff_ids);
    Ok(m.layers
        .iter()
        .zip(diff_ids.iter().zip(chains))
        .map(|(desc, (diff_id, chain_id))| Layer {
            desc: desc.clone(),
            diff_id: diff_id.clone(),
            chain_id,
        })
        .collect())
}
