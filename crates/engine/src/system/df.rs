//! Disk usage (`system df`, `GET /system/df`): the image store's blobs and
//! layers, how the images share layers, the containers' writable layers,
//! the volumes and the build cache — one report for every front end.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use yurta_images::sharing::LayerSharing;
use yurta_images::Digest;

pub use yurta_images::manage::DiskUsage;

use super::SystemError;
use crate::record::ContainerRecord;
use crate::{Volume, VolumeStore};

/// Image IDs that containers use, each with one container naming it
/// (`0123456789ab (name)`), for `rmi`'s refusal and prune's keep-list.
pub fn images_in_use(root: &Path) -> Result<Vec<(Digest, String)>, SystemError> {
    let engine = crate::Engine::open(root)?;
    Ok(engine
        .list()?
        .into_iter()
        .filter_map(|r| {
            let id = r.image.parse::<Digest>().ok()?;
            let short = r.id.get(..12).unwrap_or(&r.id).to_string();
            Some((id, format!("{short} ({})", r.name.trim_start_matches('/'))))
        })
        .collect())
}

/// The image store's usage, with the images containers use as active.
pub fn disk_usage(root: &Path) -> Result<DiskUsage, SystemError> {
    let in_use: HashSet<Digest> = images_in_use(root)?.into_iter().map(|(d, _)| d).collect();
    let store = yurta_images::Store::open_root(root)?;
    Ok(yurta_images::manage::disk_usage_report(&store, &in_use)?)
}

/// A container and its sizes.
pub struct ContainerUsage {
    pub record: ContainerRecord,
    /// Its writable layer's bytes (Docker's `SizeRw`).
    pub size_rw: u64,
    /// The image's and that layer's (`SizeRootFs`).
    pub size_root_fs: u64,
}

/// A volume, its bytes (None for a volume that mounts a device) and how
/// many containers name it.
pub struct VolumeUsage {
    pub volume: Volume,
    pub size: Option<u64>,
    pub refs: usize,
}

/// Everything `system df` shows.
pub struct DiskReport {
    /// Blobs and layers on disk, and what `image prune` frees of them.
    pub store: DiskUsage,
    /// How the listed images share layers; the hidden build cache's own.
    pub sharing: LayerSharing,
    /// Containers per image ID.
    pub image_users: HashMap<Digest, usize>,
    pub containers: Vec<ContainerUsage>,
    pub volumes: Vec<VolumeUsage>,
    /// `RUN --mount=type=cache` directories (by name) and their bytes.
    pub cache_mounts: Vec<(String, u64)>,
}

impl DiskReport {
    /// The build cache as one figure: hidden step images and cache
    /// mounts, their count and bytes (all of it `builder prune` frees).
    pub fn build_cache(&self) -> (usize, u64) {
        let mounts: u64 = self.cache_mounts.iter().map(|(_, size)| size).sum();
        (
            self.sharing.cache_images + self.cache_mounts.len(),
            self.sharing.cache_only_size + mounts,
        )
    }
}

/// Measures everything under `root`.
pub fn report(root: &Path) -> Result<DiskReport, SystemError> {
    let engine = crate::Engine::open(root)?;
    let records = engine.list()?;
    let store = yurta_images::Store::open_root(root)?;
    let mut image_users: HashMap<Digest, usize> = HashMap::new();
    for r in &records {
        if let Ok(id) = r.image.parse::<Digest>() {
            *image_users.entry(id).or_default() += 1;
        }
    }
    let in_use: HashSet<Digest> = image_users.keys().cloned().collect();
    let usage = yurta_images::manage::disk_usage_report(&store, &in_use)?;
    let sharing = yurta_images::sharing::layer_sharing(&store.list()?);
    let containers = records
        .into_iter()
        .map(|record| {
            let (size_rw, size_root_fs) = crate::summary::container_sizes(root, &store, &record);
            ContainerUsage {
                record,
                size_rw,
                size_root_fs,
            }
        })
        .collect();
    let volumes = volume_usage(root)?;
    let cache_mounts = cache_mounts(&root.join("build/mounts/cache"));
    Ok(DiskReport {
        store: usage,
        sharing,
        image_users,
        containers,
        volumes,
        cache_mounts,
    })
}

fn cache_mounts(dir: &Path) -> Vec<(String, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, u64)> = entries
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, yurta_images::manage::disk_usage(&e.path()))
        })
        .collect();
    out.sort();
    out
}

fn volume_usage(root: &Path) -> Result<Vec<VolumeUsage>, SystemError> {
    let vols = VolumeStore::open_root(root)?;
    let mut out = Vec::new();
    for volume in vols.list()? {
        let refs = vols.users(&volume.name)?.len();
        let size = match volume.mounts_device() {
            true => None,
            false => Some(crate::fsutil::apparent_size(&vols.data_dir(&volume.name))),
        };
        out.push(VolumeUsage { volume, size, refs });
    }
    Ok(out)
}
