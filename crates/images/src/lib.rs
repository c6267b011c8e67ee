//! yurta's image store: content-addressed blobs with OCI image-layout
//! semantics, the index of images and tags, layers unpacked once into
//! snapshots and stacked with overlayfs, platforms (e2k first class),
//! docker/OCI archives, rootfs import, and images committed from a
//! container's changes.
//!
//! It does not talk to registries (that is `yurta-registry`) and does not
//! run containers; it hands out root filesystems.

pub mod archive;
pub mod changes;
pub mod commit;
pub mod digest;
mod dirtar;
mod gc;
pub mod import;
pub mod inspect;
mod kind;
pub mod layers;
pub mod manage;
pub mod platform;
pub mod progress;
pub mod reference;
pub mod rwlayer;
pub mod service;
pub mod sharing;
pub mod spec;
pub mod store;
pub mod summary;
#[cfg(test)]
mod testing;
pub mod time;

pub use archive::{load, save, ArchiveError, ArchiveFormat, Loaded, SaveItem};
pub use digest::{chain_ids, Digest, DigestError};
pub use import::{import, ImportError, ImportOptions, ImportSource};
pub use layers::{LayerError, Whiteouts};
pub use platform::{Platform, PlatformError};
pub use progress::{Progress, Silent};
pub use reference::{Reference, ReferenceError};
pub use store::{BlobWriter, ImageRecord, Provenance, Store, StoreError, DEFAULT_ROOT};
