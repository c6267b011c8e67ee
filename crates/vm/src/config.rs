//! A VM's configuration: what the user asked for, before anything is
//! resolved against the host (accelerator, machine type). Serializable so
//! that the CLI can persist it as the VM's state.
//!
//! Owns parsing of the small value types (accel, disk format, MAC, name)
//! and [`VmConfig::validate`], which checks names and that the files the VM
//! needs exist, so that bad input fails before any process or file is made.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::arch::Arch;
use crate::size::ByteSize;

/// Why a configuration value was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("bad VM name {0:?}: use 1-64 characters of letters, digits, '_', '.', '-', starting with a letter or digit")]
    Name(String),
    #[error("unknown accel {0:?}: use auto, kvm or tcg")]
    Accel(String),
    #[error("unknown disk format {0:?}: use qcow2 or raw")]
    DiskFormat(String),
    #[error("bad MAC address {0:?}: expected six hex pairs like 52:54:00:12:34:56")]
    Mac(String),
    #[error("bad interface name {0:?}: 1-15 characters, no '/', ',', ':' or whitespace")]
    Ifname(String),
    #[error("bad cpu count {0}: use 1-255")]
    Cpus(u32),
    #[error("{what} {path}: file not found")]
    Missing { what: &'static str, path: PathBuf },
    #[error("--initrd {0} needs --kernel")]
    InitrdWithoutKernel(PathBuf),
    #[error("--cmdline needs --kernel")]
    CmdlineWithoutKernel,
}

/// The accelerator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Accel {
    /// KVM when it works here, TCG otherwise (see [`crate::accel`]).
    #[default]
    Auto,
    Kvm,
    Tcg,
}

impl Accel {
    pub fn as_str(self) -> &'static str {
        match self {
            Accel::Auto => "auto",
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

impl FromStr for Accel {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "auto" => Ok(Accel::Auto),
            "kvm" => Ok(Accel::Kvm),
            "tcg" => Ok(Accel::Tcg),
            _ => Err(ConfigError::Accel(s.to_string())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskFormat {
    #[default]
    Qcow2,
    Raw,
}

impl DiskFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DiskFormat::Qcow2 => "qcow2",
            DiskFormat::Raw => "raw",
        }
    }
}

impl fmt::Display for DiskFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DiskFormat {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "qcow2" => Ok(DiskFormat::Qcow2),
            "raw" => Ok(DiskFormat::Raw),
            _ => Err(ConfigError::DiskFormat(s.to_string())),
        }
    }
}

/// A virtio-blk disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskConfig {
    pub path: PathBuf,
    pub format: DiskFormat,
    #[serde(default)]
    pub readonly: bool,
    /// yurta made this file (with qemu-img) and removes it with the VM.
    #[serde(default)]
    pub created: bool,
}

/// A MAC address, kept in its canonical lower-case text form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Mac(String);

impl Mac {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Mac {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let parts: Vec<&str> = s.split(':').collect();
        let ok = parts.len() == 6
            && parts
                .iter()
                .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
        if !ok {
            return Err(ConfigError::Mac(s.to_string()));
        }
        Ok(Mac(s.to_ascii_lowercase()))
    }
}

impl TryFrom<String> for Mac {
    type Error = ConfigError;
    fn try_from(s: String) -> Result<Self, ConfigError> {
        s.parse()
    }
}

impl From<Mac> for String {
    fn from(m: Mac) -> String {
        m.0
    }
}

/// A tap device (made by the caller, e.g. on a yurta bridge) given to the
/// guest as virtio-net-pci.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetConfig {
    pub ifname: String,
    pub mac: Option<Mac>,
}

/// Where VNC listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VncListen {
    /// A unix socket (the web console proxies it).
    Unix(PathBuf),
    /// A TCP port on 127.0.0.1, 5900 or above.
    Port(u16),
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Display {
    #[default]
    None,
    Vnc(VncListen),
}

/// Everything that describes one VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmConfig {
    pub name: String,
    pub arch: Arch,
    /// `None`: the arch table's default (or the host QEMU's, for e2k).
    #[serde(default)]
    pub machine: Option<String>,
    #[serde(default)]
    pub accel: Accel,
    pub cpus: u32,
    pub memory: ByteSize,
    #[serde(default)]
    pub kernel: Option<PathBuf>,
    #[serde(default)]
    pub initrd: Option<PathBuf>,
    /// Kernel command line; `None` with a kernel: `console=<arch console>`.
    #[serde(default)]
    pub cmdline: Option<String>,
    #[serde(default)]
    pub disks: Vec<DiskConfig>,
    #[serde(default)]
    pub cdrom: Option<PathBuf>,
    #[serde(default)]
    pub networks: Vec<NetConfig>,
    #[serde(default)]
    pub display: Display,
}

impl VmConfig {
    /// A config with the defaults: host arch (x86_64 if unknown), auto
    /// accel, 1 CPU, 512 MiB, no devices.
    pub fn new(name: &str) -> VmConfig {
        VmConfig {
            name: name.to_string(),
            arch: Arch::host().unwrap_or(Arch::X86_64),
            machine: None,
            accel: Accel::Auto,
            cpus: 1,
            memory: ByteSize(512 << 20),
            kernel: None,
            initrd: None,
            cmdline: None,
            disks: Vec::new(),
            cdrom: None,
            networks: Vec::new(),
            display: Display::None,
        }
    }

    /// The kernel command line QEMU gets: the given one, or the console.
    pub fn effective_cmdline(&self) -> Option<String> {
        self.kernel.as_ref()?;
        Some(
            self.cmdline
                .clone()
                .unwrap_or_else(|| format!("console={}", self.arch.info().console)),
        )
    }

    /// Checks values and that every file the VM reads exists.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_name(&self.name)?;
        if self.cpus == 0 || self.cpus > 255 {
            return Err(ConfigError::Cpus(self.cpus));
        }
        if self.kernel.is_none() {
            if let Some(i) = &self.initrd {
                return Err(ConfigError::InitrdWithoutKernel(i.clone()));
            }
            if self.cmdline.is_some() {
                return Err(ConfigError::CmdlineWithoutKernel);
            }
        }
        for n in &self.networks {
            validate_ifname(&n.ifname)?;
        }
        self.check_files()
    }

    fn check_files(&self) -> Result<(), ConfigError> {
        let mut files: Vec<(&'static str, &Path)> = Vec::new();
        files.extend(self.kernel.as_deref().map(|p| ("kernel", p)));
        files.extend(self.initrd.as_deref().map(|p| ("initrd", p)));
        files.extend(self.cdrom.as_deref().map(|p| ("cdrom", p)));
        files.extend(self.disks.iter().map(|d| ("disk", d.path.as_path())));
        match files.into_iter().find(|(_, p)| !p.is_file()) {
            Some((what, path)) => Err(ConfigError::Missing {
                what,
                path: path.to_path_buf(),
            }),
            None => Ok(()),
        }
    }
}

/// VM names go into file names, `-name` and socket paths.
pub fn validate_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Name(name.to_string()))
    }
}

fn validate_ifname(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 15
        && !name
            .chars()
            .any(|c| c == '/' || c == ',' || c == ':' || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Ifname(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!("tcg".parse::<Accel>().unwrap(), Accel::Tcg);
        assert!("hvf"
            .parse::<Accel>()
            .unwrap_err()
            .to_string()
            .contains("\"hvf\""));
        assert_eq!("raw".parse::<DiskFormat>().unwrap(), DiskFormat::Raw);
        assert!("vmdk".parse::<DiskFormat>().is_err());
        let m: Mac = "52:54:00:AB:cd:01".parse().unwrap();
        assert_eq!(m.as_str(), "52:54:00:ab:cd:01");
        for bad in ["52:54:00:ab:cd", "52-54-00-ab-cd-01", "52:54:00:ab:cd:0g"] {
            assert!(bad.parse::<Mac>().is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        for good in ["web", "vm-1", "a.b_c", "0x"] {
            validate_name(good).unwrap();
        }
        for bad in ["", "-x", "a b", "a,b", "a/b", &"x".repeat(65)] {
            let e = validate_name(bad).unwrap_err().to_string();
            assert!(e.starts_with("bad VM name"), "{e}");
        }
    }

    #[test]
    fn validate_reports_missing_file() {
        let mut c = VmConfig::new("t");
        c.kernel = Some("/nonexistent/vmlinuz".into());
        let e = c.validate().unwrap_err().to_string();
        assert_eq!(e, "kernel /nonexistent/vmlinuz: file not found");
        c.kernel = None;
        c.initrd = Some("/i".into());
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("needs --kernel"));
        c.initrd = None;
        c.cpus = 0;
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "bad cpu count 0: use 1-255"
        );
        c.cpus = 2;
        c.networks.push(NetConfig {
            ifname: "tap,x".into(),
            mac: None,
        });
        assert!(c.validate().unwrap_err().to_string().contains("\"tap,x\""));
    }

    #[test]
    fn serde_round_trip() {
        let mut c = VmConfig::new("t");
        c.display = Display::Vnc(VncListen::Port(5901));
        c.networks.push(NetConfig {
            ifname: "tap0".into(),
            mac: Some("52:54:00:00:00:01".parse().unwrap()),
        });
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<VmConfig>(&j).unwrap(), c);
        let bad = j.replace("52:54:00:00:00:01", "zz");
        assert!(serde_json::from_str::<VmConfig>(&bad).is_err());
    }

    #[test]
    fn default_cmdline_uses_arch_console() {
        let mut c = VmConfig::new("t");
        assert_eq!(c.effective_cmdline(), None);
        c.arch = Arch::Aarch64;
        c.kernel = Some("/k".into());
        assert_eq!(c.effective_cmdline().unwrap(), "console=ttyAMA0");
    }
}
