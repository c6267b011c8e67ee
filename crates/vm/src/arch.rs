//! The guest architectures yurta can run, as a data table: which
//! `qemu-system-*` binary runs each, its default machine type, the serial
//! device the kernel calls its console, the CPU model to ask for, and the
//! devices that differ between machine types.
//!
//! Owns the table and the host-architecture default; does not run QEMU
//! except in [`discover_default_machine`], which asks the host's QEMU
//! (`-machine help`) for the machine it marks as default — the e2k entry
//! relies on that, because MCST's QEMU builds name their machines
//! differently from release to release.

use std::fmt;
use std::process::Command;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why an architecture name or machine discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum ArchError {
    #[error("unknown arch {0:?}: known are x86_64 (amd64), aarch64 (arm64), riscv64, e2k")]
    Unknown(String),
    #[error("{binary} -machine help: {reason}")]
    Discover { binary: String, reason: String },
}

/// A guest architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    #[serde(rename = "x86_64")]
    X86_64,
    Aarch64,
    Riscv64,
    E2k,
}

/// How a CD-ROM is attached on a machine type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CdromBus {
    /// `ide-cd` on the machine's own IDE/AHCI controller (q35, pc).
    Ide,
    /// `scsi-cd` behind a `virtio-scsi-pci` controller (virt machines).
    VirtioScsi,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchInfo {
    pub arch: Arch,
    /// Canonical name, as `uname -m` prints it.
    pub name: &'static str,
    /// Other names accepted on input (Docker/Debian spellings).
    pub aliases: &'static [&'static str],
    pub qemu_binary: &'static str,
    /// `None`: ask the host's QEMU ([`discover_default_machine`]).
    pub default_machine: Option<&'static str>,
    /// The kernel's name for the first serial port (`console=` argument).
    pub console: &'static str,
    /// CPU model under TCG; `None` leaves QEMU's default.
    pub tcg_cpu: Option<&'static str>,
    /// CPU model under KVM.
    pub kvm_cpu: &'static str,
    pub cdrom_bus: CdromBus,
    /// A display adapter for `--display vnc` (`-nodefaults` removes QEMU's).
    pub vga_device: &'static str,
    /// A PCI Express root port for hot-plugged disks (a machine's root bus
    /// takes no hot-plug); `None`: devices are added without a bus.
    pub hotplug_port: Option<&'static str>,
}

/// The table. Adding an architecture is adding a row.
pub const ARCHES: &[ArchInfo] = &[
    ArchInfo {
        arch: Arch::X86_64,
        name: "x86_64",
        aliases: &["amd64", "x86-64"],
        qemu_binary: "qemu-system-x86_64",
        default_machine: Some("q35"),
        console: "ttyS0",
        tcg_cpu: None,
        kvm_cpu: "host",
        cdrom_bus: CdromBus::Ide,
        vga_device: "VGA",
        hotplug_port: Some("pcie-root-port"),
    },
    ArchInfo {
        arch: Arch::Aarch64,
        name: "aarch64",
        aliases: &["arm64"],
        qemu_binary: "qemu-system-aarch64",
        default_machine: Some("virt"),
        console: "ttyAMA0",
        // virt's default CPU is a 32-bit cortex-a15.
        tcg_cpu: Some("max"),
        kvm_cpu: "host",
        cdrom_bus: CdromBus::VirtioScsi,
        vga_device: "virtio-gpu-pci",
        hotplug_port: Some("pcie-root-port"),
    },
    ArchInfo {
        arch: Arch::Riscv64,
        name: "riscv64",
        aliases: &[],
        qemu_binary: "qemu-system-riscv64",
        default_machine: Some("virt"),
        console: "ttyS0",
        tcg_cpu: None,
        kvm_cpu: "host",
        cdrom_bus: CdromBus::VirtioScsi,
        vga_device: "virtio-gpu-pci",
        hotplug_port: Some("pcie-root-port"),
    },
    ArchInfo {
        arch: Arch::E2k,
        name: "e2k",
        aliases: &["elbrus"],
        qemu_binary: "qemu-system-e2k",
        default_machine: None,
        // MCST's kernels use the first serial port as ttyS0 (unverified
        // here: no e2k host in CI); `--cmdline` can always override.
        console: "ttyS0",
        tcg_cpu: None,
        kvm_cpu: "host",
        cdrom_bus: CdromBus::VirtioScsi,
        vga_device: "VGA",
        hotplug_port: None,
    },
];

impl Arch {
    pub fn info(self) -> &'static ArchInfo {
        ARCHES
            .iter()
            .find(|i| i.arch == self)
            .expect("every Arch has a row in ARCHES")
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The host's architecture, if yurta knows it.
    pub fn host() -> Option<Arch> {
        std::env::consts::ARCH.parse().ok()
    }

    /// KVM can run this guest only on a host of the same architecture.
    pub fn kvm_applies(self) -> bool {
        Arch::host() == Some(self)
    }
}

impl FromStr for Arch {
    type Err = ArchError;

    fn from_str(s: &str) -> Result<Self, ArchError> {
        let lower = s.trim().to_ascii_lowercase();
        ARCHES
            .iter()
            .find(|i| i.name == lower || i.aliases.contains(&lower.as_str()))
            .map(|i| i.arch)
            .ok_or_else(|| ArchError::Unknown(s.to_string()))
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The machine type `binary -machine help` marks `(default)`, or `None`
/// when it marks none (QEMU then picks one itself when `-machine` is left
/// out, which is what the e2k row does in that case).
pub fn discover_default_machine(binary: &str) -> Result<Option<String>, ArchError> {
    let err = |reason: String| ArchError::Discover {
        binary: binary.to_string(),
        reason,
    };
    let out = Command::new(binary)
        .args(["-machine", "help"])
        .output()
        .map_err(|e| err(e.to_string()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(err(format!(
            "{}: {}",
            out.status,
            stderr.lines().next().unwrap_or("")
        )));
    }
    Ok(parse_machine_help(&String::from_utf8_lossy(&out.stdout)))
}

/// Finds the `(default)` line of `-machine help` output.
pub fn parse_machine_help(text: &str) -> Option<String> {
    text.lines()
        .filter(|l| l.trim_end().ends_with("(default)"))
        .find_map(|l| l.split_whitespace().next().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases() {
        assert_eq!("x86_64".parse::<Arch>().unwrap(), Arch::X86_64);
        assert_eq!("amd64".parse::<Arch>().unwrap(), Arch::X86_64);
        assert_eq!("ARM64".parse::<Arch>().unwrap(), Arch::Aarch64);
        assert_eq!("riscv64".parse::<Arch>().unwrap(), Arch::Riscv64);
        assert_eq!("e2k".parse::<Arch>().unwrap(), Arch::E2k);
        let e = "mips".parse::<Arch>().unwrap_err().to_string();
        assert!(e.starts_with("unknown arch \"mips\""), "{e}");
    }

    #[test]
    fn table_rows() {
        let x = Arch::X86_64.info();
        assert_eq!(x.qemu_binary, "qemu-system-x86_64");
        assert_eq!(x.default_machine, Some("q35"));
        assert_eq!(Arch::Aarch64.info().console, "ttyAMA0");
        assert_eq!(Arch::Riscv64.info().default_machine, Some("virt"));
        assert_eq!(Arch::E2k.info().qemu_binary, "qemu-system-e2k");
        assert_eq!(Arch::E2k.info().default_machine, None);
        for a in ARCHES {
            assert_eq!(a.arch.info(), a, "one row per arch");
            assert_eq!(a.name.parse::<Arch>().unwrap(), a.arch);
        }
    }

    #[test]
    fn host_and_kvm() {
        let host = Arch::host().expect("CI hosts are in the table");
        assert!(host.kvm_applies());
        let other = ARCHES.iter().find(|i| i.arch != host).unwrap().arch;
        assert!(!other.kvm_applies());
    }

    #[test]
    fn serde_names() {
        assert_eq!(serde_json::to_string(&Arch::X86_64).unwrap(), "\"x86_64\"");
        assert_eq!(serde_json::to_string(&Arch::E2k).unwrap(), "\"e2k\"");
    }

    #[test]
    fn machine_help() {
        let text = "Supported machines are:\n\
            microvm              microvm (i386)\n\
            pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)\n\
            pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)\n\
            q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)\n";
        assert_eq!(parse_machine_help(text).as_deref(), Some("pc-i440fx-7.2"));
        assert_eq!(
            parse_machine_help("Supported machines are:\nvirt  x\n"),
            None
        );
    }
}
