//! The OCI runtime library behind `yurta-runtime`.
//!
//! This crate owns everything between a bundle on disk and a process running
//! inside a container: the state directory, the three process roles that set a
//! container up (`process::parent` in the runtime, `process::intermediate` that
//! creates namespaces, `process::init` that becomes the container's pid 1), the
//! root filesystem, capabilities, user identity, hooks and consoles. It does
//! not parse command lines (see `yurta-oci-cli`), does not write cgroup files
//! (see `yurta-cgroups`) and does not compile seccomp filters (see
//! `yurta-seccomp`).

pub mod capabilities;
pub mod channel;
pub mod container;
pub mod error;
pub mod features;
pub mod hooks;
pub mod namespaces;
pub mod process;
pub mod rlimits;
pub mod rootfs;
pub mod signal;
pub mod spec;
pub mod state;
pub mod syscall;
pub mod time;
pub mod tty;
pub mod user;

pub use error::{Error, Result};
