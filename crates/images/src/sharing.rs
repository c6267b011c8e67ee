//! How the stored images share their layers, for `system df` (Docker's
//! `SharedSize` and `LayersSize`): a layer is its chain ID, its size the
//! uncompressed bytes of its tar (the measure of an image's `Size`).

use std::collections::{HashMap, HashSet};

use crate::store::{Catalog, ImageRecord};
use crate::{chain_ids, Digest};

/// See the module.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LayerSharing {
    /// Per image ID: the bytes of its layers that another listed image
    /// uses too.
    pub shared: HashMap<Digest, u64>,
    /// Every layer of the listed images, each once, and each image's
    /// config (which an image's `Size` counts too).
    pub layers_size: u64,
    /// Layers only the build cache's hidden images use, each once: what
    /// `builder prune` frees of the store.
    pub cache_only_size: u64,
    /// How many hidden build cache images there are.
    pub cache_images: usize,
    /// Each hidden build cache image and the bytes it alone adds (a layer
    /// several of them use is counted with the first), sorted by ID.
    pub cache: Vec<(ImageRecord, u64)>,
}

/// The layers of `image` with their sizes (the stored blob's size for a
/// record from before yurta kept uncompressed sizes).
fn layers(image: &ImageRecord) -> Vec<(Digest, u64)> {
    let chains = chain_ids(&image.diff_ids);
    chains
        .into_iter()
        .enumerate()
        .map(|(i, chain)| {
            let size = image
                .diff_sizes
                .get(i)
                .copied()
                .or_else(|| image.layers.get(i).map(|l| l.size))
                .unwrap_or(0);
            (chain, size)
        })
        .collect()
}

/// Counts the sharing of `catalog`'s layers.
pub fn layer_sharing(catalog: &Catalog) -> LayerSharing {
    // Distinct image IDs (several records may hold one ID), split into
    // listed images and hidden build cache.
    let mut listed: HashMap<&Digest, &ImageRecord> = HashMap::new();
    let mut hidden: HashMap<&Digest, &ImageRecord> = HashMap::new();
    for image in catalog.images.values() {
        match image.listed(catalog) {
            true => listed.insert(&image.id, image),
            false => hidden.insert(&image.id, image),
        };
    }
    hidden.retain(|id, _| !listed.contains_key(id));
    let mut users: HashMap<Digest, (usize, u64)> = HashMap::new();
    for image in listed.values() {
        let mine: HashSet<(Digest, u64)> = layers(image).into_iter().collect();
        for (chain, size) in mine {
            users.entry(chain).or_insert((0, size)).0 += 1;
        }
    }
    let configs: u64 = listed
        .values()
        .map(|i| {
            let layers: u64 = layers(i).iter().map(|(_, size)| size).sum();
            i.size.saturating_sub(layers)
        })
        .sum();
    let mut out = LayerSharing {
        layers_size: users.values().map(|(_, size)| size).sum::<u64>() + configs,
        cache_images: hidden.len(),
        ..LayerSharing::default()
    };
    for (id, image) in &listed {
        let shared = layers(image)
            .iter()
            .filter(|(chain, _)| users.get(chain).is_some_and(|(n, _)| *n > 1))
            .map(|(_, size)| size)
            .sum();
        out.shared.insert((*id).clone(), shared);
    }
    let mut hidden: Vec<&ImageRecord> = hidden.into_values().collect();
    hidden.sort_by(|a, b| a.id.cmp(&b.id));
    let mut counted: HashSet<Digest> = HashSet::new();
    for image in hidden {
        let own: u64 = layers(image)
            .into_iter()
            .filter(|(chain, _)| !users.contains_key(chain) && counted.insert(chain.clone()))
            .map(|(_, size)| size)
            .sum();
        out.cache_only_size += own;
        out.cache.push((image.clone(), own));
    }
    out
}

#[cfg(test)]
#[path = "sharing_tests.rs"]
mod tests;
