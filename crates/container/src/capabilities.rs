//! Linux capabilities: names, the five sets, and applying them.

use oci_spec::runtime::{Capability, LinuxCapabilities};

use crate::error::{Error, Result};

/// Capability names in kernel order (index = number), from linux/capability.h.
pub const NAMES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The number of a capability given as CAP_NAME or NAME, any case.
pub fn number(name: &str) -> Option<u32> {
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    NAMES.iter().position(|n| *n == full).map(|i| i as u32)
}

/// The highest capability the running kernel knows.
pub fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(NAMES.len() as u32 - 1)
}

/// A capability set as a bit mask, ignoring capabilities this kernel lacks
/// (runc does the same, so configs written for newer kernels still run).
pub fn mask<'a>(caps: impl IntoIterator<Item = &'a Capability>) -> u64 {
    let last = last_cap();
    caps.into_iter()
        .filter_map(|c| number(&c.to_string()))
        .filter(|n| *n <= last)
        .fold(0u64, |m, n| m | (1u64 << n))
}

/// The five sets as masks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapSets {
    pub bounding: u64,
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub ambient: u64,
}

impl CapSets {
    pub fn from_config(caps: &LinuxCapabilities) -> Self {
        let m = |s: &Option<oci_spec::runtime::Capabilities>| {
            s.as_ref().map(|s| mask(s.iter())).unwrap_or(0)
        };
        CapSets {
            bounding: m(caps.bounding()),
            effective: m(caps.effective()),
            permitted: m(caps.permitted()),
            inheritable: m(caps.inheritable()),
            ambient: m(caps.ambient()),
        }
    }
}

/// Drops every capability outside `keep` from the bounding set (needs CAP_SETPCAP).
pub fn drop_bounding(keep: u64) -> Result<()> {
    for cap in 0..=last_cap() {
        if keep & (1 << cap) != 0 {
            continue;
        }
        // SAFETY: prctl with integer arguments only.
        let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
        if rc < 0 {
            let err = nix::Error::last();
            if err == nix::Error::EINVAL {
                continue; // not supported by this kernel
            }
            return Err(Error::sys(
                format!("dropping {} from the bounding set", name(cap)),
                err,
            ));
        }
    }
    Ok(())
}

fn name(cap: u32) -> &'static str {
    NAMES.get(cap as usize).copied().unwrap_or("CAP_UNKNOWN")
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// Sets the effective, permitted and inheritable sets of this thread.
pub fn set(sets: &CapSets) -> Result<()> {
    let header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let split = |m: u64| [(m & 0xffff_ffff) as u32, (m >> 32) as u32];
    let (e, p, i) = (
        split(sets.effective),
        split(sets.permitted),
        split(sets.inheritable),
    );
    let data = [
        CapData {
            effective: e[0],
            permitted: p[0],
            inheritable: i[0],
        },
        CapData {
            effective: e[1],
            permitted: p[1],
            inheritable: i[1],
        },
    ];
    // SAFETY: header and data point at properly laid out structures for capset(2)
    // version 3, which reads two CapData entries.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &header as *const CapHeader, data.as_ptr()) };
    if rc < 0 {
        return Err(Error::sys(
            "capset (effective/permitted/inheritable)",
            nix::Error::last(),
        ));
    }
    Ok(())
}

/// This thread's permitted set (capget(2)); all bits set when the call
/// fails (the kernel then refuses what is not permitted anyway).
pub fn permitted() -> u64 {
    let header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [
        CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        },
        CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        },
    ];
    // SAFETY: header and data point at properly laid out structures for
    // capget(2) version 3, which writes two CapData entries.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &header as *const CapHeader,
            data.as_mut_ptr(),
        )
    };
    if rc < 0 {
        return u64::MAX;
    }
    u64::from(data[0].permitted) | u64::from(data[1].permitted) << 32
}

/// Replaces the ambient set (each must be permitted and inheritable).
pub fn set_ambient(ambient: u64) -> Result<()> {
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    };
    for cap in 0..=last_cap() {
        if ambient & (1 << cap) == 0 {
            continue;
        }
        // SAFETY: prctl with integer arguments only.
        let rc = unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_RAISE,
                cap as libc::c_ulong,
                0,
                0,
            )
        };
        if rc < 0 {
            return Err(Error::sys(
                format!("raising ambient {}", name(cap)),
                nix::Error::last(),
            ));
        }
    }
    Ok(())
}

/// Keeps permitted capabilities across setuid from root (PR_SET_KEEPCAPS).
pub fn keep_caps(on: bool) -> Result<()> {
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, libc::c_ulong::from(on), 0, 0, 0) };
    if rc < 0 {
        return Err(Error::sys("prctl(PR_SET_KEEPCAPS)", nix::Error::last()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permitted_is_what_proc_reports() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let hex = status
            .lines()
            .find_map(|l| l.strip_prefix("CapPrm:"))
            .unwrap()
            .trim();
        assert_eq!(permitted(), u64::from_str_radix(hex, 16).unwrap());
    }

    #[test]
    fn names_map_to_kernel_numbers() {
        assert_eq!(number("CAP_CHOWN"), Some(0));
        assert_eq!(number("net_admin"), Some(12));
        assert_eq!(number("SYS_ADMIN"), Some(21));
        assert_eq!(number("CAP_CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(number("CAP_NOPE"), None);
    }

    #[test]
    fn masks_collect_bits() {
        let caps = [Capability::Kill, Capability::NetBindService];
        assert_eq!(mask(caps.iter()), (1 << 5) | (1 << 10));
    }
}
