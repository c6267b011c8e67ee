//! yurta's container engine core: what `run`, `create`, `ps`, `inspect`,
//! `rm` and `volume` need below the command line and above the runtime.
//!
//! It owns container records and names ([`containers`], [`record`]), the
//! translation of `run` flags into Docker's `Config`/`HostConfig`
//! ([`options`]) and of a record into an OCI config.json ([`spec`]),
//! named and anonymous volumes ([`volume`]), container root filesystems
//! ([`rootfs`]) and the per-container network files ([`etcfiles`]);
//! [`engine`] strings them together for create, prepare, cleanup and
//! remove. It does not start or supervise processes (the supervisor and
//! `yurta-runtime` do), and does not make networks (`yurta-network`
//! provides the namespace path and addresses).

pub mod binaries;
pub mod caps;
pub mod containers;
pub mod engine;
pub mod etcfiles;
pub mod fsutil;
pub mod ids;
mod kind;
pub mod options;
pub mod record;
pub mod rootfs;
pub mod spec;
pub mod system;
pub mod user;
pub mod volume;

pub use binaries::Binaries;
pub use containers::{ContainerError, ContainerStore};
pub use engine::{Engine, EngineError, PrepareOptions, Prepared};
pub use options::{CreateOptions, OptionError};
pub use record::ContainerRecord;
pub use spec::{generate, NetNs, SpecError, SpecInput};
pub use volume::{Volume, VolumeCreate, VolumeError, VolumeStore};
