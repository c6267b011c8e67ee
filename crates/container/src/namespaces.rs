//! Which namespaces a container gets: created new, or joined by path.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::PathBuf;

use nix::sched::CloneFlags;
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

use crate::error::{Error, Result};

/// CLONE_NEWTIME is missing from some libc/nix versions.
pub const CLONE_NEWTIME: i32 = 0x0000_0080;

/// The clone flag of a namespace type.
pub fn clone_flag(typ: LinuxNamespaceType) -> CloneFlags {
    match typ {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(CLONE_NEWTIME),
    }
}

/// The name of a namespace type under /proc/PID/ns.
pub fn proc_name(typ: LinuxNamespaceType) -> &'static str {
    match typ {
        LinuxNamespaceType::Mount => "mnt",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "net",
        LinuxNamespaceType::Time => "time",
    }
}

/// Every namespace type, user first (it must be joined before the others
/// so that they are owned by it).
pub const ALL: [LinuxNamespaceType; 8] = [
    LinuxNamespaceType::User,
    LinuxNamespaceType::Mount,
    LinuxNamespaceType::Cgroup,
    LinuxNamespaceType::Uts,
    LinuxNamespaceType::Ipc,
    LinuxNamespaceType::Pid,
    LinuxNamespaceType::Network,
    LinuxNamespaceType::Time,
];

/// The namespaces of a container, split into those to join and those to create.
#[derive(Debug, Clone)]
pub struct Plan {
    /// (type, path) to setns into, user first.
    pub join: Vec<(LinuxNamespaceType, PathBuf)>,
    /// Flags for unshare, without CLONE_NEWUSER.
    pub create: CloneFlags,
    /// Whether a new user namespace is created (its maps are written by the parent).
    pub new_user: bool,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            join: Vec::new(),
            create: CloneFlags::empty(),
            new_user: false,
        }
    }
}

impl Plan {
    /// Builds the plan from linux.namespaces, rejecting duplicates.
    pub fn from_config(namespaces: &[LinuxNamespace]) -> Result<Self> {
        let mut plan = Plan::default();
        let mut seen = Vec::new();
        for typ in ALL {
            let mut entries = namespaces.iter().filter(|n| n.typ() == typ);
            let Some(ns) = entries.next() else { continue };
            if entries.next().is_some() {
                return Err(Error::InvalidConfig(format!(
                    "namespace {} is listed twice",
                    proc_name(typ)
                )));
            }
            seen.push(typ);
            match ns.path() {
                Some(path) if !path.as_os_str().is_empty() => plan.join.push((typ, path.clone())),
                _ if typ == LinuxNamespaceType::User => plan.new_user = true,
                _ => plan.create |= clone_flag(typ),
            }
        }
        Ok(plan)
    }

    /// True when the container gets (or joins) a namespace of this type.
    pub fn has(&self, typ: LinuxNamespaceType) -> bool {
        (typ == LinuxNamespaceType::User && self.new_user)
            || self.create.contains(clone_flag(typ))
            || self.join.iter().any(|(t, _)| *t == typ)
    }
}

/// Opens every namespace file first (paths may become unreachable after the
/// first setns), then joins them in order.
pub fn join_all(entries: &[(LinuxNamespaceType, PathBuf)]) -> Result<()> {
    let mut files = Vec::with_capacity(entries.len());
    for (typ, path) in entries {
        let file = File::open(path).map_err(|e| Error::read(path, e))?;
        files.push((*typ, path, file));
    }
    for (typ, path, file) in &files {
        nix::sched::setns(file.as_fd(), clone_flag(*typ)).map_err(|e| {
            Error::sys(
                format!("joining {} namespace {}", proc_name(*typ), path.display()),
                e,
            )
        })?;
    }
    Ok(())
}

/// unshare(2) with a message naming the namespaces.
pub fn unshare(flags: CloneFlags) -> Result<()> {
    if flags.is_empty() {
        return Ok(());
    }
    nix::sched::unshare(flags).map_err(|e| {
        let names: Vec<&str> = ALL
            .iter()
            .filter(|t| flags.contains(clone_flag(**t)))
            .map(|t| proc_name(*t))
            .collect();
        Error::sys(format!("creating namespaces ({})", names.join(", ")), e)
    })
}

/// Brings `lo` up in the calling process's (new) network namespace, as runc
/// does for a network namespace it creates: an `ifreq` ioctl on a datagram
/// socket, no netlink. The engine's `--network none` relies on it.
pub fn loopback_up() -> Result<()> {
    // SAFETY: socket() with constant arguments; the descriptor is closed below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Error::sys("socket for lo", nix::Error::last()));
    }
    // SAFETY: `fd` is ours; OwnedFd closes it.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    // SAFETY: ifreq is plain data; all zeroes is valid.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS fills the flags of the ifreq that lives for the call.
    if unsafe { libc::ioctl(raw, libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(Error::sys("reading the flags of lo", nix::Error::last()));
    }
    // SAFETY: reading the union member SIOCGIFFLAGS just set.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    if flags & libc::IFF_UP as libc::c_short != 0 {
        return Ok(());
    }
    req.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    // SAFETY: SIOCSIFFLAGS reads the ifreq that lives for the call.
    if unsafe { libc::ioctl(raw, libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err(Error::sys("bringing lo up", nix::Error::last()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxNamespaceBuilder;

    fn ns(typ: LinuxNamespaceType, path: Option<&str>) -> LinuxNamespace {
        let mut b = LinuxNamespaceBuilder::default().typ(typ);
        if let Some(p) = path {
            b = b.path(p);
        }
        b.build().unwrap()
    }

    #[test]
    fn plan_splits_join_and_create_with_user_first() {
        let plan = Plan::from_config(&[
            ns(LinuxNamespaceType::Pid, None),
            ns(LinuxNamespaceType::Network, Some("/run/netns/x")),
            ns(LinuxNamespaceType::User, Some("/proc/1/ns/user")),
            ns(LinuxNamespaceType::Mount, None),
        ])
        .unwrap();
        assert_eq!(plan.join[0].0, LinuxNamespaceType::User);
        assert_eq!(plan.join[1].0, LinuxNamespaceType::Network);
        assert_eq!(
            plan.create,
            CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS
        );
        assert!(!plan.new_user);
        assert!(plan.has(LinuxNamespaceType::Network));
        assert!(!plan.has(LinuxNamespaceType::Ipc));
    }

    #[test]
    fn duplicate_namespaces_are_rejected() {
        let err = Plan::from_config(&[
            ns(LinuxNamespaceType::Uts, None),
            ns(LinuxNamespaceType::Uts, None),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("uts"));
    }
}
