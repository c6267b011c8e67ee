//! Catalog records for unit tests: images made of named layers.

use crate::spec::Descriptor;
use crate::store::{Catalog, ImageRecord};
use crate::{Digest, Platform};

/// Each image's config bytes, in its `size`.
pub const CONFIG: u64 = 1000;

pub fn desc(seed: &str, size: u64) -> Descriptor {
    Descriptor {
        media_type: String::new(),
        digest: Digest::of(seed.as_bytes()),
        size,
        platform: None,
        annotations: None,
        urls: None,
    }
}

/// An image of layers named by seed, each `(seed, uncompressed size)`.
pub fn image(config: &str, layers: &[(&str, u64)], cache: bool) -> ImageRecord {
    ImageRecord {
        manifest: desc(&format!("manifest of {config}"), 1),
        id: Digest::of(config.as_bytes()),
        created: None,
        platform: Platform::new("linux", "amd64", None),
        layers: layers.iter().map(|(s, n)| desc(s, n / 2)).collect(),
        diff_ids: layers
            .iter()
            .map(|(s, _)| Digest::of(s.as_bytes()))
            .collect(),
        diff_sizes: layers.iter().map(|(_, n)| *n).collect(),
        size: CONFIG + layers.iter().map(|(_, n)| n).sum::<u64>(),
        repo_digests: vec![],
        added: String::new(),
        build_cache: cache,
    }
}

pub fn catalog(images: &[(&str, ImageRecord)]) -> Catalog {
    let mut c = Catalog::default();
    for (tag, image) in images {
        c.images
            .insert(image.manifest.digest.clone(), image.clone());
        if !tag.is_empty() {
            c.tags
                .insert(tag.to_string(), image.manifest.digest.clone());
        }
    }
    c
}
