//! yurta's virtual machines: QEMU driven the way libvirt and Incus drive
//! it — a command line built from a VM config, then QMP over a unix socket.
//!
//! - [`arch`]: the architecture table (binary, machine type, console, CPU).
//! - [`config`]: [`VmConfig`], what a VM is, serializable for the CLI's state.
//! - [`size`]: `512M`, `2G`.
//! - [`cmdline`]: the QEMU argv, a pure function.
//! - [`accel`]: `--accel auto` — KVM only if it is usable and a probe boot
//!   does not hang.
//! - [`plan`]: validation + accel + machine type + argv, in one call.
//! - [`qmp`]: the QMP client (typed commands and events, timeouts).
//! - [`disk`]: qcow2 disks and overlays through `qemu-img`.
//! - [`instance`]: a running QEMU: start, wait for QMP, stop with
//!   power-down then quit then kill, clean up.
//! - [`console`]: the serial console socket.
//! - [`state`]: per-VM directories, one per name.
//!
//! It does not make taps or bridges (yurta-network does) or keep a VM's
//! state across commands (the CLI does). See docs/vm.md.

pub mod accel;
pub mod arch;
pub mod cmdline;
pub mod config;
pub mod console;
pub mod disk;
pub mod instance;
pub mod plan;
pub mod qmp;
pub mod seed;
pub mod size;
mod sock;
pub mod state;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use arch::{Arch, ArchInfo, ARCHES};
pub use cmdline::{AccelKind, QemuCommand, Resolved, VmPaths};
pub use config::{Accel, DiskConfig, DiskFormat, Display, NetConfig, VmConfig, VncListen};
pub use instance::{Instance, StopHow};
pub use plan::{plan, Plan};
pub use qmp::{Event, EventKind, Qmp};
pub use size::ByteSize;

/// Any error of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Arch(#[from] arch::ArchError),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Size(#[from] size::SizeError),
    #[error(transparent)]
    Cmdline(#[from] cmdline::CmdlineError),
    #[error(transparent)]
    Accel(#[from] accel::AccelError),
    #[error(transparent)]
    Qmp(#[from] qmp::QmpError),
    #[error(transparent)]
    Disk(#[from] disk::DiskError),
    #[error(transparent)]
    Instance(#[from] instance::InstanceError),
    #[error(transparent)]
    Console(#[from] console::ConsoleError),
    #[error(transparent)]
    State(#[from] state::StateError),
}
