//! Disk images through `qemu-img`: new qcow2 disks, copy-on-write overlays
//! over a base image, what an image is, and removal of the disks yurta
//! made (and only those).

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::config::{DiskConfig, DiskFormat};
use crate::size::ByteSize;

/// The `qemu-img` binary (QEMU's own name on every architecture).
pub const QEMU_IMG: &str = "qemu-img";

#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("disk {0}: already exists; yurta does not overwrite disks")]
    Exists(PathBuf),
    #[error("base image {0}: file not found")]
    MissingBase(PathBuf),
    #[error("run {QEMU_IMG} for {path}: {source}")]
    Spawn { path: PathBuf, source: io::Error },
    #[error("{QEMU_IMG} {op} {path}: {message}")]
    Failed {
        op: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("{QEMU_IMG} info {path}: unknown format {format:?}")]
    Format { path: PathBuf, format: String },
    #[error("remove disk {path}: {source}")]
    Remove { path: PathBuf, source: io::Error },
}

/// What `qemu-img info` says about an image.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ImageInfo {
    pub format: String,
    #[serde(rename = "virtual-size")]
    pub virtual_size: u64,
    #[serde(rename = "backing-filename", default)]
    pub backing_filename: Option<String>,
}

/// A new, empty qcow2 disk of `size` at `path` (which must not exist).
pub fn create_qcow2(path: &Path, size: ByteSize) -> Result<DiskConfig, DiskError> {
    refuse_existing(path)?;
    let size = size.bytes().to_string();
    run(
        "create",
        path,
        &["create", "-q", "-f", "qcow2", path_str(path)?, &size],
    )?;
    Ok(created(path))
}

/// A qcow2 overlay at `path` whose reads fall through to `base`, which is
/// never written. The base's format is asked of qemu-img, and its path is
/// made absolute (qemu-img would resolve it against the overlay's folder).
pub fn create_overlay(path: &Path, base: &Path) -> Result<DiskConfig, DiskError> {
    refuse_existing(path)?;
    let base = base
        .canonicalize()
        .map_err(|_| DiskError::MissingBase(base.to_path_buf()))?;
    let fmt = image_format(&base)?;
    let args = [
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        path_str(&base)?,
        "-F",
        fmt.as_str(),
        path_str(path)?,
    ];
    run("create", path, &args)?;
    Ok(created(path))
}

/// `qemu-img info` of an image.
pub fn info(path: &Path) -> Result<ImageInfo, DiskError> {
    let out = run("info", path, &["info", "--output=json", path_str(path)?])?;
    serde_json::from_slice(&out).map_err(|e| DiskError::Failed {
        op: "info",
        path: path.to_path_buf(),
        message: format!("unreadable JSON: {e}"),
    })
}

/// The format of an existing image, as yurta names formats.
pub fn image_format(path: &Path) -> Result<DiskFormat, DiskError> {
    let i = info(path)?;
    i.format.parse().map_err(|_| DiskError::Format {
        path: path.to_path_buf(),
        format: i.format,
    })
}

/// Removes the disks marked `created`, keeping on after a failure; returns
/// every failure. A disk already gone is not a failure.
pub fn remove_created(disks: &[DiskConfig]) -> Vec<DiskError> {
    disks
        .iter()
        .filter(|d| d.created)
        .filter_map(|d| match std::fs::remove_file(&d.path) {
            Ok(()) => None,
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => Some(DiskError::Remove {
                path: d.path.clone(),
                source,
            }),
        })
        .collect()
}

fn created(path: &Path) -> DiskConfig {
    DiskConfig {
        path: path.to_path_buf(),
        format: DiskFormat::Qcow2,
        readonly: false,
        created: true,
    }
}

fn refuse_existing(path: &Path) -> Result<(), DiskError> {
    if path.symlink_metadata().is_ok() {
        return Err(DiskError::Exists(path.to_path_buf()));
    }
    Ok(())
}

fn path_str(p: &Path) -> Result<&str, DiskError> {
    p.to_str().ok_or_else(|| DiskError::Failed {
        op: "path",
        path: p.to_path_buf(),
        message: "not UTF-8".into(),
    })
}

fn run(op: &'static str, path: &Path, args: &[&str]) -> Result<Vec<u8>, DiskError> {
    let out = Command::new(QEMU_IMG)
        .args(args)
        .output()
        .map_err(|source| DiskError::Spawn {
            path: path.to_path_buf(),
            source,
        })?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("failed")
        .trim_start_matches("qemu-img: ")
        .to_string();
    Err(DiskError::Failed {
        op,
        path: path.to_path_buf(),
        message,
    })
}
