//! Removing images: `rmi`, `image prune`, and the garbage collection they
//! end with (the sweeps and `system df` are in `gc`).
//!
//! One order serves crash safety and full disks alike, under the exclusive
//! GC lock (so pulls, loads and imports in progress, which hold a lease,
//! never lose content they have not recorded yet) and the catalog lock:
//!
//! 1. decide the new catalog;
//! 2. remove leftovers of killed writers, and the snapshots no remaining
//!    image uses — derived data, which an image can do without (it is
//!    unpacked again when needed), so a crash here loses nothing;
//! 3. write the catalog — small, last, and possible on a full disk;
//! 4. remove the blobs no remaining image references.
//!
//! A crash after 3 leaves only unreferenced blobs, which the next
//! collection removes; no record ever names a missing blob.

use std::collections::HashSet;

use crate::digest::Digest;
use crate::gc::{referenced, sweep_blobs, sweep_snapshots, sweep_stale};
use crate::reference::Reference;
use crate::store::{Catalog, ImageRecord, Store, StoreError};

pub use crate::gc::{disk_usage, disk_usage_report, DiskUsage};

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
    let (events, _) = change_and_collect(store, |c| {
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
        // Other records of the same ID (see `inspect::rows`) go with the
        // image once no tag is left on any of them.
        let tagged_elsewhere = c
            .images
            .iter()
            .any(|(d, i)| i.id == image.id && !c.tags_of(d).is_empty());
        if !tagged_elsewhere {
            c.images.retain(|_, i| i.id != image.id || i.build_cache);
        }
        if !c.images.values().any(|i| i.id == image.id) {
            events.push(Removed::Deleted(image.id.clone()));
        }
        Ok::<_, ManageError>(events)
    })?;
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

/// `image prune`: removes dangling images (no tag; build cache entries are
/// not dangling), or with `all` every image not in `in_use` (image IDs
/// used by containers). Returns what was
/// removed and the bytes reclaimed.
pub fn prune(
    store: &Store,
    all: bool,
    in_use: &HashSet<Digest>,
) -> Result<(Vec<Removed>, u64), ManageError> {
    remove_where(store, |c, i| {
        !in_use.contains(&i.id)
            && (all || (c.tags_of(&i.manifest.digest).is_empty() && !i.build_cache))
    })
}

/// `builder prune`: removes the build cache's untagged step images not
/// in `in_use`; returns what was removed and the bytes reclaimed.
pub fn prune_build_cache(
    store: &Store,
    in_use: &HashSet<Digest>,
) -> Result<(Vec<Removed>, u64), ManageError> {
    remove_where(store, |c, i| {
        i.build_cache && !in_use.contains(&i.id) && c.tags_of(&i.manifest.digest).is_empty()
    })
}

/// Removes the images `pick` chooses, and their tags, then collects
/// garbage; returns what was removed and the bytes reclaimed.
fn remove_where(
    store: &Store,
    pick: impl Fn(&Catalog, &ImageRecord) -> bool,
) -> Result<(Vec<Removed>, u64), ManageError> {
    change_and_collect(store, |c| {
        let victims: Vec<ImageRecord> = c.images.values().filter(|i| pick(c, i)).cloned().collect();
        let mut events = Vec::new();
        for image in victims {
            for t in c.tags_of(&image.manifest.digest) {
                c.tags.remove(&t);
                events.push(Removed::Untagged(t));
            }
            c.images.remove(&image.manifest.digest);
            // Another record of the same ID (see `inspect::rows`) keeps
            // the image: only its redundant record went.
            if !c.images.values().any(|i| i.id == image.id) {
                events.push(Removed::Deleted(image.id.clone()));
            }
        }
        Ok::<_, ManageError>(events)
    })
}

/// Removes blobs and snapshots no image references and the leftovers of
/// killed or failed operations; returns the bytes freed.
pub fn collect_garbage(store: &Store) -> Result<u64, StoreError> {
    change_and_collect(store, |_| Ok::<_, StoreError>(())).map(|((), freed)| freed)
}

/// Runs `change` on the catalog and collects garbage, in the order the
/// module documentation gives; returns `change`'s result and the bytes
/// freed.
fn change_and_collect<T, E: From<StoreError>>(
    store: &Store,
    change: impl FnOnce(&mut Catalog) -> Result<T, E>,
) -> Result<(T, u64), E> {
    let _gc = store.gc_lock()?;
    let file = store.catalog();
    let held = file.lock(true)?;
    let before = file.load()?;
    let mut after = before.clone();
    let out = change(&mut after)?;
    yurta_fault::point("gc.decided");
    let (blobs, snapshots) = referenced(&after);
    let mut freed = sweep_stale(store)? + file.remove_stale_temps();
    freed += sweep_snapshots(store, &snapshots)?;
    if after != before {
        file.save(&after)?;
        yurta_fault::point("gc.saved");
    }
    drop(held);
    freed += sweep_blobs(store, &blobs)?;
    Ok((out, freed))
}
