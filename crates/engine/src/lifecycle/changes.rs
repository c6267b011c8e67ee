//! A container's changes to its image (`docker diff`, `GET
//! /containers/{id}/changes`), read from its overlay upper directory — or,
//! on the flattened-copy driver, by comparing the copy with the image; a
//! stopped container needs no mount for either.

use std::path::PathBuf;

use anyhow::Context;
use yurta_images::rwlayer::{self, Change, Lowers};
use yurta_images::ImageRecord;

use crate::record::ContainerRecord;
use crate::rootfs::RootfsPaths;
use crate::Engine;

/// The changes of `rec`, in Docker's order.
pub fn changes(engine: &Engine, rec: &ContainerRecord) -> anyhow::Result<Vec<Change>> {
    let image = image_of(engine, rec, "diff")?;
    let snapshots = engine.images.unpack_image(&image)?;
    let (fs, dir) = ReadFs::of(engine, rec);
    Lowers::open(&snapshots)
        .and_then(|lowers| match fs {
            ReadFs::Upper => rwlayer::changes(&dir, &lowers),
            ReadFs::Copy => rwlayer::copy_changes(&dir, &lowers),
        })
        .with_context(|| format!("diff {}: read {}", rec.bare_name(), dir.display()))
}

/// The container's image, which its changes are told from (`verb` names
/// the operation in the error).
pub fn image_of(engine: &Engine, rec: &ContainerRecord, verb: &str) -> anyhow::Result<ImageRecord> {
    engine
        .images
        .resolve(&rec.image)
        .with_context(|| format!("{verb} {}: its image {}", rec.bare_name(), rec.image))
}

/// Where a container's changes are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFs {
    /// The overlay's upper directory, `<container>/diff`.
    Upper,
    /// The flattened copy in `<container>/rootfs` (overlayfs was
    /// unavailable), compared with the image.
    Copy,
}

impl ReadFs {
    pub fn of(engine: &Engine, rec: &ContainerRecord) -> (ReadFs, PathBuf) {
        let paths = RootfsPaths::new(&engine.containers.container_dir(&rec.id));
        match rec.driver.as_str() {
            "copy" => (ReadFs::Copy, paths.rootfs),
            _ => (ReadFs::Upper, paths.upper),
        }
    }
}
