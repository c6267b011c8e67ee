//! A container's read-write layer as the image side sees it: the changes
//! in an overlay's upper directory over the image's snapshots (`diff`), a
//! tar of them with AUFS whiteouts (`commit`'s new layer), and a tar of a
//! whole root filesystem (`export`). Every tree is read relative to
//! directory descriptors without following symlinks, since a running
//! container may change it while it is read.
//!
//! A container on the flattened-copy driver (no overlayfs) has no upper
//! directory: its copy is compared with the image instead
//! ([`copy_changes`]).
//!
//! It does not know containers (the engine's records and paths): callers
//! hand it directories.

mod changes;
mod copydiff;
mod lowers;
mod tarball;
mod tree;

pub use changes::{changes, Change, ChangeKind, Ignored, Selection, MOUNT_POINTS};
pub use copydiff::{copy_changes, deleted};
pub use lowers::{is_whiteout, Lowers};
pub use tarball::{write_tree, write_tree_clamped, Source};
pub use tree::{walk, Node, Visit};

#[cfg(test)]
pub(crate) mod tests;
