//! The QEMU command line for a [`VmConfig`]: a pure function of the config,
//! the run-time files ([`VmPaths`]) and what was resolved against the host
//! ([`Resolved`]: the accelerator and the machine type).
//!
//! Owns argv only; it neither checks that files exist ([`VmConfig::validate`]
//! does) nor runs anything ([`crate::instance`] does).

use std::path::{Path, PathBuf};

use crate::arch::CdromBus;
use crate::config::{Display, VmConfig, VncListen};

/// Longest unix socket path (`sun_path` is 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;

/// Why a command line could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CmdlineError {
    #[error("path {0:?} is not UTF-8; QEMU options need text")]
    NotUtf8(PathBuf),
    #[error(
        "socket path {path} is {len} bytes, longer than the {MAX_SOCKET_PATH} a unix socket allows"
    )]
    SocketPathTooLong { path: PathBuf, len: usize },
    #[error("VNC port {0} is below 5900")]
    VncPort(u16),
}

/// The accelerator QEMU is started with (auto already decided).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccelKind {
    Kvm,
    Tcg,
}

impl AccelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccelKind::Kvm => "kvm",
            AccelKind::Tcg => "tcg",
        }
    }
}

/// What was decided about the host before building the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub accel: AccelKind,
    /// `None`: leave `-machine type=` out and let QEMU choose.
    pub machine: Option<String>,
    /// Start with the CPUs stopped (`-S`) so the serial console can be
    /// attached before the guest prints anything; `cont` over QMP starts it.
    pub paused: bool,
}

/// The files of a running VM, all in one run directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmPaths {
    pub dir: PathBuf,
    pub qmp: PathBuf,
    /// A second QMP monitor, for commands while another client (the
    /// supervisor) holds the first one for events.
    pub control: PathBuf,
    pub serial: PathBuf,
    pub pidfile: PathBuf,
    /// QEMU's own stdout and stderr.
    pub log: PathBuf,
}

impl VmPaths {
    pub fn in_dir(dir: &Path) -> VmPaths {
        VmPaths {
            dir: dir.to_path_buf(),
            qmp: dir.join("qmp.sock"),
            control: dir.join("control.sock"),
            serial: dir.join("serial.sock"),
            pidfile: dir.join("qemu.pid"),
            log: dir.join("qemu.log"),
        }
    }

    /// The files QEMU makes and should remove itself when it exits.
    pub fn runtime_files(&self) -> [&Path; 4] {
        [&self.qmp, &self.control, &self.serial, &self.pidfile]
    }
}

/// A program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QemuCommand {
    pub program: String,
    pub args: Vec<String>,
}

/// Builds the command line.
pub fn build(
    config: &VmConfig,
    paths: &VmPaths,
    resolved: &Resolved,
) -> Result<QemuCommand, CmdlineError> {
    let info = config.arch.info();
    let mut a = Args::default();
    a.push2(
        "-name",
        format!("{},process=yurta-vm-{}", config.name, config.name),
    );
    a.push1("-nodefaults");
    a.push1("-no-user-config");
    machine_args(&mut a, config, resolved);
    a.push2("-smp", config.cpus.to_string());
    a.push2("-m", format!("{}M", config.memory.mib_ceil()));
    kernel_args(&mut a, config)?;
    disk_args(&mut a, config)?;
    hotplug_args(&mut a, config);
    net_args(&mut a, config);
    display_args(&mut a, config)?;
    control_args(&mut a, paths)?;
    if resolved.paused {
        a.push1("-S");
    }
    Ok(QemuCommand {
        program: info.qemu_binary.to_string(),
        args: a.0,
    })
}

#[derive(Default)]
struct Args(Vec<String>);

impl Args {
    fn push1(&mut self, s: &str) {
        self.0.push(s.to_string());
    }
    fn push2(&mut self, opt: &str, value: String) {
        self.0.push(opt.to_string());
        self.0.push(value);
    }
}

/// A value inside a QEMU `key=value,...` option: commas are doubled.
fn opt_value(p: &Path) -> Result<String, CmdlineError> {
    let s = p
        .to_str()
        .ok_or_else(|| CmdlineError::NotUtf8(p.to_path_buf()))?;
    Ok(s.replace(',', ",,"))
}

fn socket_value(p: &Path) -> Result<String, CmdlineError> {
    let len = p.as_os_str().len();
    if len > MAX_SOCKET_PATH {
        return Err(CmdlineError::SocketPathTooLong {
            path: p.to_path_buf(),
            len,
        });
    }
    opt_value(p)
}

fn machine_args(a: &mut Args, config: &VmConfig, resolved: &Resolved) {
    let info = config.arch.info();
    let mut m = String::new();
    if let Some(t) = &resolved.machine {
        m.push_str(&format!("type={t},"));
    }
    m.push_str(&format!("accel={}", resolved.accel.as_str()));
    a.push2("-machine", m);
    let cpu = match resolved.accel {
        AccelKind::Kvm => Some(info.kvm_cpu),
        AccelKind::Tcg => info.tcg_cpu,
    };
    if let Some(cpu) = cpu {
        a.push2("-cpu", cpu.to_string());
    }
}

fn kernel_args(a: &mut Args, config: &VmConfig) -> Result<(), CmdlineError> {
    let Some(kernel) = &config.kernel else {
        return Ok(());
    };
    a.push2("-kernel", path_arg(kernel)?);
    if let Some(initrd) = &config.initrd {
        a.push2("-initrd", path_arg(initrd)?);
    }
    if let Some(cmdline) = config.effective_cmdline() {
        a.push2("-append", cmdline);
    }
    Ok(())
}

/// A whole-argument path (not inside `key=value`): no escaping.
fn path_arg(p: &Path) -> Result<String, CmdlineError> {
    p.to_str()
        .map(str::to_string)
        .ok_or_else(|| CmdlineError::NotUtf8(p.to_path_buf()))
}

fn disk_args(a: &mut Args, config: &VmConfig) -> Result<(), CmdlineError> {
    for (i, d) in config.disks.iter().enumerate() {
        let ro = if d.readonly { ",readonly=on" } else { "" };
        a.push2(
            "-drive",
            format!(
                "file={},format={},if=none,id=disk{i},cache=writeback{ro}",
                opt_value(&d.path)?,
                d.format
            ),
        );
        a.push2(
            "-device",
            format!("virtio-blk-pci,drive=disk{i},id=vblk{i}"),
        );
    }
    if let Some(iso) = &config.cdrom {
        a.push2(
            "-drive",
            format!(
                "file={},format=raw,if=none,id=cd0,media=cdrom,readonly=on",
                opt_value(iso)?
            ),
        );
        match config.arch.info().cdrom_bus {
            CdromBus::Ide => a.push2("-device", "ide-cd,drive=cd0,id=cdrom0".into()),
            CdromBus::VirtioScsi => {
                a.push2("-device", "virtio-scsi-pci,id=scsi0".into());
                a.push2("-device", "scsi-cd,drive=cd0,bus=scsi0.0,id=cdrom0".into());
            }
        }
    }
    Ok(())
}

/// Free slots for `yurta vm disk add`: the root ports hot-plugged disks
/// go on, `hp0`…
pub const HOTPLUG_SLOTS: usize = 4;

/// The bus id of hot-plug slot `i`.
pub fn hotplug_bus(i: usize) -> String {
    format!("hp{i}")
}

fn hotplug_args(a: &mut Args, config: &VmConfig) {
    let Some(port) = config.arch.info().hotplug_port else {
        return;
    };
    for i in 0..HOTPLUG_SLOTS {
        a.push2(
            "-device",
            format!("{port},id={},chassis={}", hotplug_bus(i), i + 1),
        );
    }
}

fn net_args(a: &mut Args, config: &VmConfig) {
    for (i, n) in config.networks.iter().enumerate() {
        a.push2(
            "-netdev",
            format!("tap,id=net{i},ifname={},script=no,downscript=no", n.ifname),
        );
        let mac = n.mac.as_ref().map(|m| format!(",mac={}", m.as_str()));
        a.push2(
            "-device",
            format!(
                "virtio-net-pci,netdev=net{i},id=nic{i}{}",
                mac.unwrap_or_default()
            ),
        );
    }
}

fn display_args(a: &mut Args, config: &VmConfig) -> Result<(), CmdlineError> {
    a.push2("-display", "none".into());
    let Display::Vnc(listen) = &config.display else {
        return Ok(());
    };
    a.push2("-device", config.arch.info().vga_device.to_string());
    let vnc = match listen {
        VncListen::Unix(p) => format!("unix:{}", socket_value(p)?),
        VncListen::Port(p) if *p < 5900 => return Err(CmdlineError::VncPort(*p)),
        VncListen::Port(p) => format!("127.0.0.1:{}", p - 5900),
    };
    a.push2("-vnc", vnc);
    Ok(())
}

/// A unix socket QEMU listens on, not waiting for a client.
fn socket_chardev(a: &mut Args, id: &str, path: &Path) -> Result<(), CmdlineError> {
    let path = socket_value(path)?;
    a.push2(
        "-chardev",
        format!("socket,id={id},path={path},server=on,wait=off"),
    );
    Ok(())
}

fn control_args(a: &mut Args, paths: &VmPaths) -> Result<(), CmdlineError> {
    socket_chardev(a, "qmp", &paths.qmp)?;
    a.push2("-mon", "chardev=qmp,mode=control".into());
    socket_chardev(a, "control", &paths.control)?;
    a.push2("-mon", "chardev=control,mode=control".into());
    socket_chardev(a, "serial0", &paths.serial)?;
    a.push2("-serial", "chardev:serial0".into());
    a.push2("-pidfile", path_arg(&paths.pidfile)?);
    Ok(())
}

#[cfg(test)]
#[path = "cmdline_tests.rs"]
mod tests;
