//! Image archives: `save` writes docker-archive (manifest.json,
//! repositories, `<config>.json`, `<diffid>/layer.tar`) or oci-archive (an
//! OCI image layout in a tar); `load` reads either (told apart by their
//! files), verifies every digest, stores and tags. Archive paths are never
//! used as filesystem paths: files go into the store by digest only.

mod load;
mod save;

use std::io;

pub use load::{load, Loaded};
pub use save::{save, SaveItem};

use crate::digest::Digest;
use crate::layers::LayerError;
use crate::platform::PlatformError;
use crate::store::StoreError;

/// Archive formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// `docker save`'s format (also podman's default).
    DockerArchive,
    /// An OCI image layout in a tar.
    OciArchive,
}

impl std::str::FromStr for ArchiveFormat {
    type Err = ArchiveError;

    fn from_str(s: &str) -> Result<Self, ArchiveError> {
        match s {
            "docker-archive" | "docker" => Ok(ArchiveFormat::DockerArchive),
            "oci-archive" | "oci" => Ok(ArchiveFormat::OciArchive),
            _ => Err(ArchiveError::Format(s.to_string())),
        }
    }
}

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("unknown archive format {0:?}: expected docker-archive or oci-archive")]
    Format(String),
    // Causes are in the messages, not also `source`s (printed twice).
    #[error("{what}: {error}")]
    Io { what: String, error: io::Error },
    #[error("not a docker or OCI archive: it has neither manifest.json nor index.json")]
    Unknown,
    #[error("archive has no file {0:?}")]
    Missing(String),
    #[error("invalid {what} in archive: {error}")]
    Json {
        what: String,
        error: serde_json::Error,
    },
    #[error("archive file {path} has digest {actual}, not {expected}")]
    DigestMismatch {
        path: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("archive image {config}: {layers} layers but {diff_ids} diff IDs in its config")]
    LayerCount {
        config: String,
        layers: usize,
        diff_ids: usize,
    },
    #[error("archive layer {path} unpacks to {actual}, but the image config says {expected}")]
    DiffId {
        path: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("archive file {0:?} is too large for a JSON document")]
    TooLarge(String),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Layer(#[from] LayerError),
}

impl ArchiveError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> ArchiveError {
        let what = what.into();
        move |error| ArchiveError::Io { what, error }
    }

    pub(crate) fn json(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> ArchiveError {
        let what = what.into();
        move |error| ArchiveError::Json { what, error }
    }
}

/// One entry of docker-archive's manifest.json.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct DockerEntry {
    #[serde(rename = "Config")]
    pub config: String,
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    pub layers: Vec<String>,
}

/// Annotation holding the full image name in an OCI layout (containerd's).
pub(crate) const NAME_ANNOTATION: &str = "io.containerd.image.name";
/// The OCI annotation for the reference (podman and skopeo write it).
pub(crate) const REF_ANNOTATION: &str = "org.opencontainers.image.ref.name";

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
