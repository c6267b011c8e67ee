//! `yurta pull`: reference → manifest (the platform's entry of an index)
//! → config and layers (in parallel, resumable, unpacked) → image record,
//! tag and repo digest. Nothing is tagged or recorded until every blob is
//! stored and verified, so a killed pull leaves nothing half-visible.

use anyhow::{bail, Context};
use yurta_images::spec::{ImageConfig, Index, Manifest};
use yurta_images::{chain_ids, platform, Platform, Provenance, Store};
use yurta_registry::{Client, Manifest as Fetched, Reference};

use super::fetch::{Fetcher, Layer};
use super::registry_digest;
use super::report::Report;
use crate::cli::PullArgs;
use crate::Ctx;

pub fn pull(ctx: &Ctx, a: PullArgs) -> anyhow::Result<()> {
    let r = Reference::parse(&a.image).context("pull")?;
    let wanted = crate::platform::given(a.platform.as_deref())?;
    let store = ctx.store()?;
    let client = super::client(&a.registry);
    let report = Report::new(a.quiet);
    let p = Puller {
        client: &client,
        store: &store,
        r: &r,
        report: &report,
    };
    p.run(wanted.as_ref())
        .with_context(|| format!("pull {r}"))?;
    outln!("{r}")?;
    Ok(())
}

/// `run`/`create --pull`: the image pulled without progress output
/// (stdout belongs to the container).
pub fn pull_quiet(ctx: &Ctx, image: &str, platform: Option<&str>) -> anyhow::Result<()> {
    let r = Reference::parse(image).context("pull")?;
    let wanted = crate::platform::given(platform)?;
    let store = ctx.store()?;
    let client = super::client(&crate::cli::RegistryOpts {
        tls_verify: None,
        authfile: std::env::var_os("YURTA_AUTH_FILE").map(Into::into),
    });
    let report = Report::new(true);
    let p = Puller {
        client: &client,
        store: &store,
        r: &r,
        report: &report,
    };
    p.run(wanted.as_ref())
        .with_context(|| format!("Unable to find image '{image}' locally; pull {r}"))
}

struct Puller<'a> {
    client: &'a Client,
    store: &'a Store,
    r: &'a Reference,
    report: &'a Report,
}

impl Puller<'_> {
    fn run(&self, wanted: Option<&Platform>) -> anyhow::Result<()> {
        let (store, r) = (self.store, self.r);
        let top = self.client.get_manifest(r)?;
        self.report.line(&format!(
            "{}: Pulling from {}",
            r.manifest_ref(),
            r.repo.name
        ));
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
            report: self.report,
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
            },
        )?;
        yurta_fault::point("pull.recorded");
        if r.digest.is_none() {
            let tagged = r.to_string();
            let before = store.resolve(&tagged).ok().map(|i| i.manifest.digest);
            store.tag(&tagged, &digest)?;
            fresh |= before.as_ref() != Some(&digest);
        }
        self.report.line(&format!("Digest: {}", top.digest));
        let status = match fresh {
            true => "Downloaded newer image for",
            false => "Image is up to date for",
        };
        self.report
            .line(&format!("Status: {status} {}", r.familiar()));
        crate::events::image_ref("pull", &r.familiar());
        Ok(())
    }

    /// The index entry for the wanted platform (the host's by default),
    /// fetched by digest.
    fn choose(&self, index: &Fetched, wanted: Option<&Platform>) -> anyhow::Result<Fetched> {
        let parsed: Index = serde_json::from_slice(&index.bytes)
            .with_context(|| format!("index {}", index.digest))?;
        let want = crate::platform::or_host(wanted);
        let entry = platform::select(&want, &self.r.to_string(), &parsed.manifests, |d| {
            d.platform.as_ref().and_then(|p| p.platform())
        })?;
        crate::progress::debug(&format!("{want}: index entry {}", entry.digest));
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
        Some(w) if w.rank(actual).is_none() => bail!(
            "image was found but does not match the specified platform: wanted {w}, actual {actual}"
        ),
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
