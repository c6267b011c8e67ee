//! `yurta vm …`: the command line (clap only, no behaviour).

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum VmCommand {
    /// Create a virtual machine (QEMU; KVM when it works, TCG otherwise)
    Create(Box<CreateArgs>),
    /// Start virtual machines
    Start(NamesArgs),
    /// Stop virtual machines: ACPI power button, then quit when the time is up
    Stop(StopArgs),
    /// Kill virtual machines' QEMU (SIGKILL unless -s)
    Kill(KillArgs),
    /// Stop and start virtual machines
    Restart(StopArgs),
    /// Remove virtual machines and the disks yurta made for them
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// List virtual machines
    #[command(alias = "list", alias = "ps")]
    Ls(LsArgs),
    /// Show virtual machines as JSON (Docker's inspect layout)
    Inspect(InspectArgs),
    /// Print what a virtual machine's serial console printed
    Logs(LogsArgs),
    /// Attach to a virtual machine's serial console (detach with Ctrl-])
    Console(NameArg),
    /// Print where a virtual machine's VNC display listens
    Vnc(NameArg),
    /// Manage snapshots (whole VM while running, disks while stopped)
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Add or remove disks (hot-plugged when the virtual machine runs)
    #[command(subcommand)]
    Disk(DiskCommand),
    /// (internal) supervise one VM's QEMU; started by `vm start`
    #[command(name = "__supervise", hide = true)]
    Supervise(SuperviseArgs),
}

#[derive(Args)]
#[command(after_help = "Examples:
  yurta vm create --kernel /boot/vmlinuz --initrd initrd.img --disk 10G --memory 1G web
  yurta vm create --image debian-12-genericcloud-amd64.qcow2 --cloud-init user-data --display vnc --start deb
  yurta vm create --cdrom installer.iso --disk 20G --display vnc --accel kvm install")]
pub struct CreateArgs {
    /// Kernel for direct boot
    #[arg(long)]
    pub kernel: Option<PathBuf>,
    /// Initial ramdisk (with --kernel)
    #[arg(long)]
    pub initrd: Option<PathBuf>,
    /// Kernel command line (with --kernel; default: console=<the arch's serial port>)
    #[arg(long)]
    pub cmdline: Option<String>,
    /// Boot disk (qcow2 or raw), used through a copy-on-write overlay
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// Use --image itself, writing to it
    #[arg(long)]
    pub no_overlay: bool,
    /// ISO image attached as a CD-ROM
    #[arg(long)]
    pub cdrom: Option<PathBuf>,
    /// A new qcow2 disk of SIZE (e.g. 10G), or an existing disk FILE (repeatable)
    #[arg(long, value_name = "SIZE|PATH")]
    pub disk: Vec<String>,
    /// Memory, e.g. 512M or 2G (a bare number is MiB)
    #[arg(short, long, default_value = "512M")]
    pub memory: String,
    /// Virtual CPUs
    #[arg(long, default_value_t = 1)]
    pub cpus: u32,
    /// x86_64, aarch64, riscv64 or e2k (default: the host's)
    #[arg(long)]
    pub arch: Option<String>,
    /// QEMU machine type (default: the arch's)
    #[arg(long)]
    pub machine: Option<String>,
    /// auto (KVM when a probe boot works, else TCG), kvm or tcg
    #[arg(long, default_value = "auto")]
    pub accel: String,
    /// none, bridge (the default network) or a network's name (repeatable)
    #[arg(long, default_value = "bridge")]
    pub network: Vec<String>,
    /// MAC address of the (single) network interface
    #[arg(long)]
    pub mac: Option<String>,
    /// none or vnc (on 127.0.0.1; `yurta vm vnc NAME` tells the port)
    #[arg(long, default_value = "none")]
    pub display: String,
    /// cloud-init user-data; given to the guest as a NoCloud seed with the VM's
    /// hostname and network settings
    #[arg(long, value_name = "FILE")]
    pub cloud_init: Option<PathBuf>,
    /// Start it after creating it
    #[arg(long)]
    pub start: bool,
    pub name: String,
}

impl CreateArgs {
    /// The engine's request.
    pub fn request(&self) -> yurta_engine::vm::create::VmCreate {
        yurta_engine::vm::create::VmCreate {
            name: self.name.clone(),
            kernel: self.kernel.clone(),
            initrd: self.initrd.clone(),
            cmdline: self.cmdline.clone(),
            image: self.image.clone(),
            no_overlay: self.no_overlay,
            cdrom: self.cdrom.clone(),
            disk: self.disk.clone(),
            memory: self.memory.clone(),
            cpus: self.cpus,
            arch: self.arch.clone(),
            machine: self.machine.clone(),
            accel: self.accel.clone(),
            network: self.network.clone(),
            mac: self.mac.clone(),
            display: self.display.clone(),
            cloud_init: self.cloud_init.clone(),
        }
    }
}

#[derive(Args)]
pub struct NamesArgs {
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args)]
pub struct InspectArgs {
    /// A Go template over each VM, or json (default: indented JSON)
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args)]
pub struct NameArg {
    pub name: String,
}

#[derive(Args)]
pub struct StopArgs {
    /// Seconds to wait for the guest to power off before quitting QEMU
    #[arg(short = 't', long = "time", default_value_t = 30)]
    pub time: u64,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args)]
pub struct KillArgs {
    /// Signal for QEMU
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args)]
pub struct RmArgs {
    /// Kill a running VM first
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args)]
pub struct LsArgs {
    /// Only names
    #[arg(short, long)]
    pub quiet: bool,
    /// table, table TEMPLATE, json, or a Go template (docs/formats.md)
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args)]
pub struct LogsArgs {
    /// Keep printing until the VM stops
    #[arg(short, long)]
    pub follow: bool,
    /// Only the last N lines
    #[arg(long, value_name = "N")]
    pub tail: Option<String>,
    pub name: String,
}

#[derive(Subcommand)]
pub enum SnapshotCommand {
    /// Take a snapshot (memory and disks while running; disks while stopped)
    Create(SnapshotArgs),
    /// List snapshots
    #[command(alias = "list")]
    Ls(NameArg),
    /// Go back to a snapshot
    Restore(SnapshotArgs),
    /// Delete a snapshot
    #[command(alias = "remove")]
    Rm(SnapshotArgs),
}

#[derive(Args)]
pub struct SnapshotArgs {
    pub name: String,
    pub snapshot: String,
}

#[derive(Subcommand)]
pub enum DiskCommand {
    /// Add a new qcow2 disk of SIZE, or an existing disk FILE (hot-plugged into a running VM)
    Add(DiskAddArgs),
    /// Remove a disk (by its id from inspect, e.g. vblk2, or its path; unplugged from a running VM)
    #[command(alias = "remove")]
    Rm(DiskRmArgs),
}

#[derive(Args)]
pub struct DiskAddArgs {
    pub name: String,
    #[arg(value_name = "SIZE|PATH")]
    pub disk: String,
}

#[derive(Args)]
pub struct DiskRmArgs {
    pub name: String,
    #[arg(value_name = "ID|PATH")]
    pub disk: String,
}

#[derive(Args)]
pub struct SuperviseArgs {
    pub name: String,
    /// Descriptor the start report is written to
    #[arg(long)]
    pub sync_fd: i32,
}
