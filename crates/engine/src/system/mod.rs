//! The system part of the engine: what `yurta version`, `yurta info`,
//! `yurta system df` and the Engine API's `/version`, `/info` and
//! `/system/df` answer, computed once for both front ends. It also holds
//! the queries that several front ends filter alike: the images that
//! containers use, and Docker's volume filters.
//!
//! It does not print, parse command lines or know HTTP: facts of the
//! build and of the host that a library cannot find itself (the
//! binaries' paths, the registries' configuration) are passed in.

pub mod df;
pub mod info;
mod kind;
pub mod version;
pub mod volumes;

pub use df::{images_in_use, report, DiskReport, DiskUsage};
pub use info::{info, Host};
pub use version::{host_platform, server_version, Build, API_VERSION, MIN_API_VERSION};
pub use volumes::{VolumeFilter, VolumeFilterError};

/// The error of a system query: the library's that failed.
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    #[error(transparent)]
    Engine(#[from] crate::EngineError),
    #[error(transparent)]
    Images(#[from] yurta_images::StoreError),
    #[error(transparent)]
    Volume(#[from] crate::VolumeError),
}
