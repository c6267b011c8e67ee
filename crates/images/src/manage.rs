//! Removing images and collecting garbage: `rmi`, `image prune` and
//! `system df`. Blobs and snapshots that no image references are removed
//! under the exclusive GC lock, so pulls, loads and imports in progress
//! (which hold a lease) never lose content they have not recorded yet.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use crate::digest::{chain_ids, Digest};
use crate::reference::Reference;
use crate::store::{Catalog, ImageRecord, Store, StoreError};

/// What a removal did, in Docker's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    Untagged(String),
    Deleted(Digest),
}

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("conflict: unable to delete {0} (must be forced) - image is referenced in multiple repositories")]
    MultipleTags(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `rmi`: a tag is untagged (the image goes with its last tag); an ID
/// deletes the image, which needs `force` when several tags point at it.
pub fn remove(store: &Store, query: &str, force: bool) -> Result<Vec<Removed>, ManageError> {
    let events = store.catalog().update(|c| {
        let image = c.find(query).map_err(ManageError::Store)?.clone();
        let tags = c.tags_of(&image.manifest.digest);
        let by_tag = named_tag(query).filter(|t| tags.contains(t));
        let mut events = Vec::new();
        match by_tag {
            Some(tag) if tags.len() > 1 => {
                c.tags.remove(&tag);
                return Ok(vec![Removed::Untagged(tag)]);
            }
            None if tags.len() > 1 && !force => {
                return Err(ManageError::MultipleTags(image.id.short().to_string()))
            }
            _ => {}
        }
        for t in tags {
            c.tags.remove(&t);
            events.push(Removed::Untagged(t));
        }
        c.images.remove(&image.manifest.digest);
        if !c.images.values().any(|i| i.id == image.id) {
            events.push(Removed::Deleted(image.id.clone()));
        }
        Ok::<_, ManageError>(events)
    })?;
    collect_garbage(store)?;
    Ok(events)
}

/// The `name:tag` key a query names, when it is a tag reference.
fn named_tag(query: &str) -> Option<String> {
    let r: Reference = query.parse().ok()?;
    r.digest
        .is_none()
        .then(|| r.with_default_tag().tagged())
        .flatten()
}

/// `image prune`: removes dangling images (no tag), or with `all` every
/// image not in `in_use` (image IDs used by containers). Returns what was
/// removed and the bytes reclaimed.
pub fn prune(
    store: &Store,
    all: bool,
    in_use: &HashSet<Digest>,
) -> Result<(Vec<Removed>, u64), ManageError> {
    let events = store.catalog().update(|c| {
        let victims: Vec<ImageRecord> = c
            .images
            .values()
            .filter(|i| !in_use.contains(&i.id))
            .filter(|i| all || c.tags_of(&i.manifest.digest).is_empty())
            .cloned()
            .collect();
        let mut events = Vec::new();
        for image in victims {
            for t in c.tags_of(&image.manifest.digest) {
                c.tags.remove(&t);
                events.push(Removed::Untagged(t));
            }
            c.images.remove(&image.manifest.digest);
            events.push(Removed::Deleted(image.id.clone()));
        }
        Ok::<_, StoreError>(events)
    })?;
    let reclaimed = collect_garbage(store)?;
    Ok((events, reclaimed))
}

/// Removes blobs and snapshots no image references (and leftovers of
/// killed operations in tmp/); returns the bytes freed.
pub fn collect_garbage(store: &Store) -> Result<u64, StoreError> {
    let _gc = store.gc_lock()?;
    let catalog = store.list()?;
    let (blobs, snaps) = referenced(&catalog);
    let mut freed = 0;
    for (dir, keep) in [
        (store.dir().join("blobs/sha256"), &blobs),
        (store.snapshots_dir(), &snaps),
    ] {
        for entry in fs::read_dir(&dir).map_err(StoreError::io("read directory", &dir))? {
            let entry = entry.map_err(StoreError::io("read directory", &dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !keep.contains(&name) {
                freed += remove_tree(&entry.path())?;
            }
        }
    }
    let tmp = store.tmp_dir();
    for entry in fs::read_dir(&tmp).map_err(StoreError::io("read directory", &tmp))? {
        let entry = entry.map_err(StoreError::io("read directory", &tmp))?;
        freed += remove_tree(&entry.path())?;
    }
    Ok(freed)
}

/// Hex names of referenced blobs and snapshots.
fn referenced(c: &Catalog) -> (HashSet<String>, HashSet<String>) {
    let mut blobs = HashSet::new();
    let mut snaps = HashSet::new();
    for i in c.images.values() {
        blobs.insert(i.manifest.digest.hex().to_string());
        blobs.insert(i.id.hex().to_string());
        blobs.extend(i.layers.iter().map(|l| l.digest.hex().to_string()));
        snaps.extend(chain_ids(&i.diff_ids).iter().map(|d| d.hex().to_string()));
    }
    (blobs, snaps)
}

fn remove_tree(path: &Path) -> Result<u64, StoreError> {
    let size = disk_usage(path);
    let meta = fs::symlink_metadata(path).map_err(StoreError::io("stat", path))?;
    let res = if meta.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    res.map_err(StoreError::io("remove", path))?;
    Ok(size)
}

/// Bytes a file or tree uses on disk (not following symlinks).
pub fn disk_usage(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    let own = meta.blocks() * 512;
    if !meta.is_dir() {
        return own;
    }
    let children = fs::read_dir(path).into_iter().flatten().flatten();
    own + children.map(|e| disk_usage(&e.path())).sum::<u64>()
}

/// `system df` numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DiskUsage {
    pub images: usize,
    pub active_images: usize,
    /// Bytes of stored blobs (compressed layers, configs, manifests).
    pub images_size: u64,
    /// Bytes only dangling images hold.
    pub reclaimable: u64,
    pub layers: usize,
    /// Bytes of unpacked snapshots.
    pub layers_size: u64,
}

/// Counts images and snapshots and their sizes.
pub fn disk_usage_report(store: &Store, in_use: &HashSet<Digest>) -> Result<DiskUsage, StoreError> {
    let c = store.list()?;
    let blobs_dir = store.dir().join("blobs/sha256");
    let mut report = DiskUsage {
        images: c.images.len(),
        active_images: c.images.values().filter(|i| in_use.contains(&i.id)).count(),
        images_size: disk_usage(&blobs_dir)
            .saturating_sub(fs::metadata(&blobs_dir).map(|m| m.len()).unwrap_or(0)),
        ..Default::default()
    };
    let tagged: Catalog = Catalog {
        images: c
            .images
            .iter()
            .filter(|(d, _)| !c.tags_of(d).is_empty())
            .map(|(d, i)| (d.clone(), i.clone()))
            .collect(),
        tags: c.tags.clone(),
    };
    let (all_blobs, _) = referenced(&c);
    let (kept, _) = referenced(&tagged);
    for hex in all_blobs.difference(&kept) {
        report.reclaimable += disk_usage(&blobs_dir.join(hex));
    }
    for entry in fs::read_dir(store.snapshots_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        report.layers += 1;
        report.layers_size += disk_usage(&entry.path());
    }
    Ok(report)
}
