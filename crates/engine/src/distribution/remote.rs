//! What a registry holds under a name, without pulling it (`GET
//! /distribution/{name}/json`, docker-py's `images.get_registry_data`):
//! the top manifest's descriptor and the platforms it serves — every
//! entry of an index (e2k variants included), or the one platform of an
//! image's config; and the manifest itself, as stored.

use anyhow::Context;
use serde::Serialize;
use yurta_images::spec::{ImageConfig, Index, Manifest, PlatformSpec};
use yurta_registry::{BlobFetch, Client, Reference};

use super::{registry_digest, DistributionError};

/// A config larger than this is not an image config.
const MAX_CONFIG: u64 = 8 << 20;

/// Docker's `DistributionInspect`.
#[derive(Debug, Serialize)]
pub struct RemoteImage {
    #[serde(rename = "Descriptor")]
    pub descriptor: RemoteDescriptor,
    #[serde(rename = "Platforms")]
    pub platforms: Vec<PlatformSpec>,
}

#[derive(Debug, Serialize)]
pub struct RemoteDescriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

/// The manifest or index stored under `image`, byte for byte (`manifest
/// inspect` of a name with no local list, as docker and podman have it).
pub fn manifest(
    client: &Client,
    image: &str,
) -> Result<yurta_registry::Manifest, DistributionError> {
    let r = Reference::parse(image).context("inspect")?;
    Ok(client.get_manifest(&r).with_context(|| format!("{r}"))?)
}

/// Looks `image` up in its registry.
pub fn inspect(client: &Client, image: &str) -> Result<RemoteImage, DistributionError> {
    let r = Reference::parse(image).context("inspect")?;
    let top = client
        .get_manifest(&r)
        .with_context(|| format!("inspect {r}"))?;
    let platforms = match top.is_index() {
        true => {
            let index: Index = serde_json::from_slice(&top.bytes)
                .with_context(|| format!("inspect {r}: index {}", top.digest))?;
            let entries = index.manifests.into_iter().filter_map(|d| d.platform);
            entries.filter(|p| p.platform().is_some()).collect()
        }
        false => vec![config_platform(client, &r, &top.bytes)
            .with_context(|| format!("inspect {r}: manifest {}", top.digest))?],
    };
    Ok(RemoteImage {
        descriptor: RemoteDescriptor {
            media_type: top.media_type,
            digest: top.digest.to_string(),
            size: top.bytes.len() as u64,
        },
        platforms,
    })
}

/// The platform an image manifest's config names.
fn config_platform(
    client: &Client,
    r: &Reference,
    manifest: &[u8],
) -> anyhow::Result<PlatformSpec> {
    let m: Manifest = serde_json::from_slice(manifest)?;
    if m.config.size > MAX_CONFIG {
        anyhow::bail!("config {} of {} bytes", m.config.digest, m.config.size);
    }
    let mut bytes = Vec::with_capacity(m.config.size as usize);
    let fetch = BlobFetch {
        size: Some(m.config.size),
        resume: None,
        progress: None,
        writer_verifies: false,
    };
    client.get_blob(
        &r.repo,
        &registry_digest(&m.config.digest)?,
        &mut bytes,
        fetch,
    )?;
    let config: ImageConfig =
        serde_json::from_slice(&bytes).with_context(|| format!("config {}", m.config.digest))?;
    Ok(PlatformSpec {
        architecture: config.architecture,
        os: config.os,
        variant: config.variant,
        ..PlatformSpec::default()
    })
}
