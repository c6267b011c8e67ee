//! Garbage collection and disk usage: what no image references (blobs,
//! snapshots) and what killed or failed writers left (ingest files, unpack
//! directories, scratch files, temporary catalogs).
//!
//! Leftovers are told from work in progress by locks, never by age: every
//! writer of an ingest file or unpack directory holds an exclusive flock on
//! it while it works, and collection removes only what it can lock. The
//! sweeps run under the exclusive GC lock (`Store::gc_lock`), so nothing a
//! pull, load or import has written but not yet recorded is touched.
//! Deciding what to remove and writing the catalog is `manage`'s.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::digest::{chain_ids, Digest};
use crate::layers::UNPACK_PREFIX;
use crate::store::{try_lock_unheld, Catalog, Store, StoreError};

/// Hex names of the blobs and snapshots the images of `c` reference.
pub(crate) fn referenced(c: &Catalog) -> (HashSet<String>, HashSet<String>) {
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

/// Removes the leftovers of killed or failed writers: ingest files
/// (`.partial` downloads included) and unpack directories nobody holds,
/// and scratch files in `tmp/`. Returns the bytes freed.
pub(crate) fn sweep_stale(store: &Store) -> Result<u64, StoreError> {
    let mut freed = 0;
    for path in entries(&store.ingest_dir())? {
        freed += remove_unheld(&path)?;
    }
    for path in entries(&store.snapshots_dir())?
        .into_iter()
        .filter(|p| is_unpack_dir(p))
    {
        freed += remove_unheld(&path)?;
    }
    for path in entries(&store.tmp_dir())? {
        freed += remove_tree(&path)?;
        yurta_fault::point("gc.stale");
    }
    Ok(freed)
}

/// Removes the snapshots not in `keep`. Each is first renamed to a
/// `tmp-rm-*` name, so a removal cut short never leaves a half-empty
/// directory under a snapshot's name (the next sweep removes the rest).
pub(crate) fn sweep_snapshots(store: &Store, keep: &HashSet<String>) -> Result<u64, StoreError> {
    let mut freed = 0;
    let dir = store.snapshots_dir();
    for path in entries(&dir)? {
        let name = file_name(&path);
        if is_unpack_dir(&path) || keep.contains(&name) {
            continue;
        }
        let doomed = dir.join(format!("{UNPACK_PREFIX}rm-{name}"));
        if doomed.exists() {
            remove_tree(&doomed)?;
        }
        fs::rename(&path, &doomed).map_err(StoreError::io("rename", &path))?;
        freed += remove_tree(&doomed)?;
        yurta_fault::point("gc.snapshot");
    }
    Ok(freed)
}

/// Removes the blobs not in `keep`.
pub(crate) fn sweep_blobs(store: &Store, keep: &HashSet<String>) -> Result<u64, StoreError> {
    let mut freed = 0;
    for path in entries(&store.blobs_dir())? {
        if !keep.contains(&file_name(&path)) {
            freed += remove_tree(&path)?;
            yurta_fault::point("gc.blob");
        }
    }
    Ok(freed)
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(StoreError::io("read directory", dir))? {
        out.push(entry.map_err(StoreError::io("read directory", dir))?.path());
    }
    out.sort();
    Ok(out)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn is_unpack_dir(path: &Path) -> bool {
    file_name(path).starts_with(UNPACK_PREFIX)
}

/// Removes `path` when no live process holds its lock (held while
/// removing, so a writer waiting for it finds it gone).
fn remove_unheld(path: &Path) -> Result<u64, StoreError> {
    let Some(_lock) = try_lock_unheld(path) else {
        return Ok(0);
    };
    let freed = remove_tree(path)?;
    yurta_fault::point("gc.stale");
    Ok(freed)
}

fn remove_tree(path: &Path) -> Result<u64, StoreError> {
    let size = disk_usage(path);
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(StoreError::io("stat", path)(e)),
    };
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

/// `system df` numbers. Reclaimable is what `image prune` (without `-a`)
/// frees: blobs and snapshots of dangling images no container uses, what
/// no image references, and the leftovers of killed or failed writers.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DiskUsage {
    pub images: usize,
    pub active_images: usize,
    /// Bytes of stored blobs (compressed layers, configs, manifests), of
    /// ingest files and of scratch files.
    pub images_size: u64,
    /// Bytes of those that `image prune` frees.
    pub reclaimable: u64,
    /// Complete snapshots.
    pub layers: usize,
    /// Bytes under `snapshots/` (unpack directories included).
    pub layers_size: u64,
    /// Bytes of those that `image prune` frees.
    pub layers_reclaimable: u64,
}

fn count(size: u64, reclaimable: bool, total: &mut u64, free: &mut u64) {
    *total += size;
    if reclaimable {
        *free += size;
    }
}

/// Counts images, blobs and snapshots, and what pruning would free.
pub fn disk_usage_report(store: &Store, in_use: &HashSet<Digest>) -> Result<DiskUsage, StoreError> {
    let c = store.list()?;
    let kept = Catalog {
        images: c
            .images
            .iter()
            .filter(|(d, i)| in_use.contains(&i.id) || !c.tags_of(d).is_empty())
            .map(|(d, i)| (d.clone(), i.clone()))
            .collect(),
        tags: c.tags.clone(),
    };
    let (kept_blobs, kept_snaps) = referenced(&kept);
    let mut u = DiskUsage {
        images: c.images.len(),
        active_images: c.images.values().filter(|i| in_use.contains(&i.id)).count(),
        ..Default::default()
    };
    for p in entries(&store.blobs_dir())? {
        let free = !kept_blobs.contains(&file_name(&p));
        count(disk_usage(&p), free, &mut u.images_size, &mut u.reclaimable);
    }
    for p in entries(&store.ingest_dir())? {
        let free = try_lock_unheld(&p).is_some();
        count(disk_usage(&p), free, &mut u.images_size, &mut u.reclaimable);
    }
    for p in entries(&store.tmp_dir())? {
        count(disk_usage(&p), true, &mut u.images_size, &mut u.reclaimable);
    }
    for p in entries(&store.snapshots_dir())? {
        let free = match is_unpack_dir(&p) {
            true => try_lock_unheld(&p).is_some(),
            false => {
                u.layers += 1;
                !kept_snaps.contains(&file_name(&p))
            }
        };
        count(
            disk_usage(&p),
            free,
            &mut u.layers_size,
            &mut u.layers_reclaimable,
        );
    }
    Ok(u)
}

#[cfg(test)]
#[path = "gc_tests.rs"]
mod tests;
