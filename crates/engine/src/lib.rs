//! yurta's container engine core: what `run`, `create`, `ps`, `inspect`,
//! `rm` and `volume` need below the command line and above the runtime.
//!
//! It owns container records and names ([`containers`], [`record`]), the
//! translation of `run` flags into Docker's `Config`/`HostConfig`
//! ([`options`]) and of a record into an OCI config.json ([`spec`]),
//! named and anonymous volumes ([`volume`]), container root filesystems
//! ([`rootfs`]) and the per-container network files ([`etcfiles`]);
//! [`engine`] strings them together for create, prepare, cleanup and
//! remove; [`lifecycle`] starts, stops, kills, removes and waits for
//! containers through one `yurta-supervisor` each and `yurta-runtime`,
//! with the network namespace and addresses from `yurta-network`: the one
//! interface the CLI and the Engine API service both call. It never
//! prints, parses flags or speaks HTTP; that is the front ends'.

pub mod binaries;
pub mod build;
pub mod caps;
pub mod containers;
pub mod distribution;
pub mod engine;
pub mod etcfiles;
pub mod fetch;
pub mod fsutil;
pub mod ids;
mod kind;
pub mod lifecycle;
pub mod manifest;
pub mod options;
pub mod record;
pub mod rootfs;
pub mod spec;
pub mod summary;
pub mod system;
pub mod user;
pub mod vm;
pub mod volume;

pub use binaries::Binaries;
pub use containers::{ContainerError, ContainerStore};
pub use engine::{Engine, EngineError, PrepareOptions, Prepared};
pub use lifecycle::{Host, Paths};
pub use options::{CreateOptions, OptionError};
pub use record::ContainerRecord;
pub use spec::{generate, NetNs, SpecError, SpecInput};
pub use volume::{Volume, VolumeCreate, VolumeError, VolumeStore};
