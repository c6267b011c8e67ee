//! `--accel auto|kvm|tcg`: which accelerator QEMU gets.
//!
//! KVM applies only when the guest's architecture is the host's and
//! `/dev/kvm` answers. That is not enough: under nested virtualization
//! (our CI machines) KVM runs real-mode code but 64-bit Linux guests hang
//! early in boot, silently and forever. So `auto` also boots a kernel under
//! KVM for a moment and waits for the first byte on its serial console; if
//! none comes within [`PROBE_DEADLINE`], it uses TCG and says why. The probe
//! boots the VM's own kernel, or the host's newest `/boot/vmlinuz-*`; with
//! neither there is nothing to boot and KVM is trusted (the reason says so).
//! A probe costs up to the deadline, so callers may cache the [`Decision`]
//! per host.
//!
//! `--accel kvm` checks the device and the architecture but does not probe:
//! the user asked for it.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::arch::Arch;
use crate::cmdline::AccelKind;
use crate::config::Accel;

/// How long the probe waits for the guest's first console byte. A kernel
/// under working KVM prints within a fraction of a second.
pub const PROBE_DEADLINE: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum AccelError {
    #[error("--accel kvm: {0}")]
    KvmUnusable(String),
    #[error("--accel kvm: a {guest} guest cannot use KVM on this host ({host})")]
    ArchMismatch { guest: Arch, host: String },
    #[error("KVM probe with {binary} and kernel {kernel}: {reason}")]
    Probe {
        binary: String,
        kernel: PathBuf,
        reason: String,
    },
}

/// The accelerator chosen and why, for the user and the VM's inspect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub accel: AccelKind,
    pub reason: String,
}

/// The questions `auto` asks of the host, behind a trait so the decision
/// is tested without a host.
pub trait KvmProbe {
    /// `Ok` when `/dev/kvm` opens and answers; else why not.
    fn device(&self) -> Result<(), String>;
    /// `Ok(true)`: a guest printed under KVM; `Ok(false)`: it hung;
    /// `Err`: nothing could be probed, and why.
    fn guest_boots(&self) -> Result<bool, String>;
}

/// Decides the accelerator for a guest of `arch`.
pub fn decide(requested: Accel, arch: Arch, probe: &dyn KvmProbe) -> Result<Decision, AccelError> {
    let decision = |accel, reason: &str| Decision {
        accel,
        reason: reason.to_string(),
    };
    match requested {
        Accel::Tcg => Ok(decision(AccelKind::Tcg, "asked for TCG")),
        Accel::Kvm => {
            if !arch.kvm_applies() {
                return Err(AccelError::ArchMismatch {
                    guest: arch,
                    host: std::env::consts::ARCH.into(),
                });
            }
            probe.device().map_err(AccelError::KvmUnusable)?;
            Ok(decision(AccelKind::Kvm, "asked for KVM"))
        }
        Accel::Auto => Ok(decide_auto(arch, probe)),
    }
}

fn decide_auto(arch: Arch, probe: &dyn KvmProbe) -> Decision {
    let tcg = |reason: String| Decision {
        accel: AccelKind::Tcg,
        reason,
    };
    if !arch.kvm_applies() {
        let host = std::env::consts::ARCH;
        return tcg(format!(
            "using TCG: a {arch} guest on a {host} host cannot use KVM"
        ));
    }
    if let Err(why) = probe.device() {
        return tcg(format!("using TCG: KVM is not usable here: {why}"));
    }
    match probe.guest_boots() {
        Ok(true) => Decision {
            accel: AccelKind::Kvm,
            reason: "using KVM: /dev/kvm works and a probe guest booted".into(),
        },
        Ok(false) => tcg(format!(
            "using TCG: /dev/kvm is there but a probe kernel printed nothing under KVM within {} s \
             (64-bit guests hang under some nested virtualization)",
            PROBE_DEADLINE.as_secs()
        )),
        Err(why) => Decision {
            accel: AccelKind::Kvm,
            reason: format!("using KVM: /dev/kvm works; guest boot not probed: {why}"),
        },
    }
}

/// The real host.
pub struct HostProbe {
    pub arch: Arch,
    /// The kernel to probe with; `None`: the host's newest `/boot/vmlinuz-*`.
    pub kernel: Option<PathBuf>,
    pub deadline: Duration,
}

impl HostProbe {
    pub fn new(arch: Arch, kernel: Option<&Path>) -> HostProbe {
        HostProbe {
            arch,
            kernel: kernel.map(Path::to_path_buf),
            deadline: PROBE_DEADLINE,
        }
    }
}

impl KvmProbe for HostProbe {
    fn device(&self) -> Result<(), String> {
        kvm_device_usable(Path::new("/dev/kvm"))
    }

    fn guest_boots(&self) -> Result<bool, String> {
        let kernel = match &self.kernel {
            Some(k) => k.clone(),
            None => host_kernel().ok_or("no kernel to boot (no /boot/vmlinuz-*)")?,
        };
        first_serial_byte(self.arch, AccelKind::Kvm, &kernel, self.deadline)
            .map(|t| t.is_some())
            .map_err(|e| e.to_string())
    }
}

/// A probe whose boot answer is remembered in a file, under a key saying
/// what it depends on: for the host, its kernel, QEMU and the probe kernel
/// ([`CachedProbe::for_host`]). A probe boot costs up to
/// [`PROBE_DEADLINE`].
pub struct CachedProbe<P: KvmProbe> {
    pub probe: P,
    /// `None`: never cached.
    pub key: Option<String>,
    /// A JSON object of answers, `{"<key>": bool, …}`: VMs with different
    /// probe kernels share it without overwriting each other's answer.
    pub cache: PathBuf,
}

/// Answers kept at most; beyond, the file starts over (keys of kernels and
/// QEMUs long gone would pile up otherwise).
const MAX_CACHED: usize = 32;

impl CachedProbe<HostProbe> {
    pub fn for_host(probe: HostProbe, cache: &Path) -> Self {
        let key = host_key(&probe);
        CachedProbe {
            probe,
            key,
            cache: cache.to_path_buf(),
        }
    }
}

/// Host kernel release, the probe kernel and the QEMU binary (path, size,
/// modification time).
fn host_key(probe: &HostProbe) -> Option<String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    let kernel = match &probe.kernel {
        Some(k) => k.clone(),
        None => host_kernel()?,
    };
    let qemu = find_in_path(probe.arch.info().qemu_binary)?;
    Some(format!(
        "{} {} {} {}",
        probe.arch,
        release.trim(),
        file_stamp(&kernel)?,
        file_stamp(&qemu)?
    ))
}

fn file_stamp(p: &Path) -> Option<String> {
    let m = std::fs::metadata(p).ok()?;
    let mtime = m
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{}:{}:{}", p.display(), m.len(), mtime.as_nanos()))
}

fn find_in_path(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(binary))
        .find(|p| p.is_file())
}

impl<P: KvmProbe> KvmProbe for CachedProbe<P> {
    fn device(&self) -> Result<(), String> {
        self.probe.device()
    }

    fn guest_boots(&self) -> Result<bool, String> {
        let Some(key) = &self.key else {
            return self.probe.guest_boots();
        };
        let mut answers: BTreeMap<String, bool> = std::fs::read(&self.cache)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        if let Some(&boots) = answers.get(key) {
            return Ok(boots);
        }
        let boots = self.probe.guest_boots()?;
        if answers.len() >= MAX_CACHED {
            answers.clear();
        }
        answers.insert(key.clone(), boots);
        if let Ok(doc) = serde_json::to_vec(&answers) {
            let unsynced = yurta_sysutil::Durability::Unsynced;
            let _ = yurta_sysutil::replace_file(&self.cache, &doc, 0o644, unsynced);
        }
        Ok(boots)
    }
}

const KVM_GET_API_VERSION: libc::c_ulong = 0xAE00;
const KVM_API_VERSION: libc::c_int = 12;

/// Opens the KVM device and checks its API version.
pub fn kvm_device_usable(dev: &Path) -> Result<(), String> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(dev)
        .map_err(|e| format!("open {}: {e}", dev.display()))?;
    // SAFETY: KVM_GET_API_VERSION takes no argument and only returns an
    // int; the fd is open for the whole call.
    let v = unsafe { libc::ioctl(f.as_raw_fd(), KVM_GET_API_VERSION as _, 0) };
    if v != KVM_API_VERSION {
        let err = io::Error::last_os_error();
        return Err(format!(
            "{}: KVM_GET_API_VERSION gave {v} ({err})",
            dev.display()
        ));
    }
    Ok(())
}

/// The newest `/boot/vmlinuz-*` by file name.
pub fn host_kernel() -> Option<PathBuf> {
    let mut kernels: Vec<PathBuf> = std::fs::read_dir("/boot")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
        })
        .collect();
    kernels.sort();
    kernels.pop()
}

/// Boots `kernel` with no disk and no initrd under `accel` and returns how
/// long its first serial byte took, or `None` if none came by `deadline`.
/// The QEMU process is killed either way.
pub fn first_serial_byte(
    arch: Arch,
    accel: AccelKind,
    kernel: &Path,
    deadline: Duration,
) -> Result<Option<Duration>, AccelError> {
    let info = arch.info();
    let err = |reason: String| AccelError::Probe {
        binary: info.qemu_binary.into(),
        kernel: kernel.to_path_buf(),
        reason,
    };
    let mut cmd = probe_command(arch, accel, kernel);
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| err(e.to_string()))?;
    let mut out = child.stdout.take().ok_or_else(|| err("no stdout".into()))?;
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut b = [0u8; 1];
        let _ = tx.send(matches!(out.read(&mut b), Ok(1)));
    });
    let got = rx.recv_timeout(deadline).unwrap_or(false);
    let elapsed = start.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    Ok(got.then_some(elapsed))
}

fn probe_command(arch: Arch, accel: AccelKind, kernel: &Path) -> Command {
    let info = arch.info();
    let mut append = format!("console={} panic=-1", info.console);
    if arch == Arch::X86_64 {
        append.push_str(" earlyprintk=serial,ttyS0,115200");
    }
    let machine = match info.default_machine {
        Some(m) => format!("type={m},accel={}", accel.as_str()),
        None => format!("accel={}", accel.as_str()),
    };
    let mut cmd = Command::new(info.qemu_binary);
    cmd.args(["-nodefaults", "-no-user-config", "-display", "none"])
        .args(["-machine", &machine])
        .args(["-m", "256M", "-no-reboot", "-serial", "stdio"])
        .arg("-kernel")
        .arg(kernel)
        .args(["-append", &append]);
    let cpu = match accel {
        AccelKind::Kvm => Some(info.kvm_cpu),
        AccelKind::Tcg => info.tcg_cpu,
    };
    if let Some(cpu) = cpu {
        cmd.args(["-cpu", cpu]);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake {
        device: Result<(), String>,
        boots: Result<bool, String>,
    }

    impl KvmProbe for Fake {
        fn device(&self) -> Result<(), String> {
            self.device.clone()
        }
        fn guest_boots(&self) -> Result<bool, String> {
            self.boots.clone()
        }
    }

    fn fake(device: Result<(), String>, boots: Result<bool, String>) -> Fake {
        Fake { device, boots }
    }

    fn host() -> Arch {
        Arch::host().unwrap()
    }

    /// Counts probe boots.
    struct Counting(std::cell::Cell<u32>, bool);

    impl KvmProbe for Counting {
        fn device(&self) -> Result<(), String> {
            Ok(())
        }
        fn guest_boots(&self) -> Result<bool, String> {
            self.0.set(self.0.get() + 1);
            Ok(self.1)
        }
    }

    #[test]
    fn cached_probe_boots_once_per_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("probe.json");
        let cached = |key: Option<&str>, boots: bool| CachedProbe {
            probe: Counting(Default::default(), boots),
            key: key.map(str::to_string),
            cache: cache.clone(),
        };
        let a = cached(Some("k1"), false);
        assert_eq!(a.guest_boots(), Ok(false));
        assert_eq!(a.guest_boots(), Ok(false));
        assert_eq!(a.probe.0.get(), 1, "second answer from the file");
        // Another key (a new kernel or QEMU) probes again.
        let b = cached(Some("k2"), true);
        assert_eq!(b.guest_boots(), Ok(true));
        assert_eq!(b.probe.0.get(), 1);
        // Without a key nothing is read or written.
        let c = cached(None, false);
        assert_eq!(c.guest_boots(), Ok(false));
        assert_eq!(c.guest_boots(), Ok(false));
        assert_eq!(c.probe.0.get(), 2);
        let d = cached(Some("k2"), false);
        assert_eq!(d.guest_boots(), Ok(true), "k2's answer is kept");
        assert_eq!(d.probe.0.get(), 0);
        // And k1's too: answers for different kernels live side by side.
        let e = cached(Some("k1"), true);
        assert_eq!(e.guest_boots(), Ok(false), "k1's answer is kept");
        assert_eq!(e.probe.0.get(), 0);
    }

    fn other() -> Arch {
        crate::ARCHES
            .iter()
            .find(|i| i.arch != host())
            .unwrap()
            .arch
    }

    #[test]
    fn explicit_choices() {
        let hung = fake(Ok(()), Ok(false));
        assert_eq!(
            decide(Accel::Tcg, host(), &hung).unwrap().accel,
            AccelKind::Tcg
        );
        assert_eq!(
            decide(Accel::Kvm, host(), &hung).unwrap().accel,
            AccelKind::Kvm
        );
        let none = fake(
            Err("open /dev/kvm: No such file or directory".into()),
            Ok(true),
        );
        let e = decide(Accel::Kvm, host(), &none).unwrap_err().to_string();
        assert_eq!(e, "--accel kvm: open /dev/kvm: No such file or directory");
        let e = decide(Accel::Kvm, other(), &hung).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("--accel kvm: a {} guest cannot use KVM", other())),
            "{e}"
        );
    }

    #[test]
    fn auto() {
        let d = decide(Accel::Auto, host(), &fake(Ok(()), Ok(true))).unwrap();
        assert_eq!(d.accel, AccelKind::Kvm);
        let d = decide(Accel::Auto, host(), &fake(Ok(()), Ok(false))).unwrap();
        assert_eq!(d.accel, AccelKind::Tcg);
        assert!(
            d.reason.contains("printed nothing under KVM within 3 s"),
            "{}",
            d.reason
        );
        let d = decide(Accel::Auto, host(), &fake(Err("EACCES".into()), Ok(true))).unwrap();
        assert_eq!(d.accel, AccelKind::Tcg);
        assert!(d.reason.ends_with("EACCES"));
        let d = decide(Accel::Auto, other(), &fake(Ok(()), Ok(true))).unwrap();
        assert_eq!(d.accel, AccelKind::Tcg);
        let d = decide(Accel::Auto, host(), &fake(Ok(()), Err("no kernel".into()))).unwrap();
        assert_eq!(d.accel, AccelKind::Kvm);
        assert!(d.reason.contains("not probed: no kernel"));
    }

    #[test]
    fn missing_device() {
        let e = kvm_device_usable(Path::new("/nonexistent/kvm")).unwrap_err();
        assert!(e.starts_with("open /nonexistent/kvm: "), "{e}");
    }
}
