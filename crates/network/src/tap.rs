//! VMs on yurta's networks: a persistent tap device on the network's
//! bridge and an address from the network's IPAM, for QEMU's
//! `-netdev tap,ifname=NAME,script=no,downscript=no`.
//!
//! The tap is made here (`/dev/net/tun`, `TUNSETIFF` + `TUNSETPERSIST`) and
//! outlives the fd, so QEMU opens it by name later; it is recorded in the
//! network (`Network::taps`, tap → owner) beside the owner's lease, which
//! keeps the network from removal. One tap per owner and network.

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;

use nix::errno::Errno;
use serde::{Deserialize, Serialize};

use crate::error::{Error, TeardownError};
use crate::ids;
use crate::links::LinkError;
use crate::manage::{find, ifname, Networks};
use crate::netlink::{Netlink, NetlinkError};
use crate::store::{Locked, Pending};

const TUN_PATH: &str = "/dev/net/tun";

/// Taps are `prefix + hex`; a longer prefix leaves fewer than 4 hex digits.
const MAX_PREFIX: usize = 11;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum TapError {
    #[error("bad tap prefix {0:?}: at most 11 characters, no '/', ':' or white space")]
    BadPrefix(String),
    #[error("bad tap name {0:?}: 1-15 characters, no '/', ':' or white space")]
    BadName(String),
    #[error("a tap needs an owner (the VM's name)")]
    NoOwner,
    #[error("{owner} already has address {ip} in network {network}")]
    AlreadyLeased {
        owner: String,
        ip: Ipv4Addr,
        network: String,
    },
    #[error("open {TUN_PATH} for tap {tap}: {source}")]
    Open { tap: String, source: std::io::Error },
    #[error("create tap {tap}: {errno}")]
    Create { tap: String, errno: Errno },
    #[error("make tap {tap} persistent: {errno}")]
    Persist { tap: String, errno: Errno },
    #[error("no unused tap name with prefix {0:?}")]
    NoFreeName(String),
    #[error("put tap {tap} on bridge {bridge}: {source}")]
    Plug {
        tap: String,
        bridge: String,
        source: NetlinkError,
    },
    #[error("link {tap} is not a tap (kind {kind}); not deleting it")]
    NotTap { tap: String, kind: String },
    #[error(
        "tap {tap} in network {network} belongs to {recorded}, not to {owner}; not deleting it"
    )]
    OtherOwner {
        tap: String,
        network: String,
        recorded: String,
        owner: String,
    },
}

/// A VM's tap on a network: what QEMU's `-netdev tap,ifname=` and the
/// guest's network configuration need (kept in the VM's state).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapEndpoint {
    /// The network's name.
    pub network: String,
    /// The tap device (QEMU's `ifname=`).
    pub tap: String,
    /// The bridge the tap is on.
    pub bridge: String,
    /// The guest's address, leased to the owner.
    pub ip: Ipv4Addr,
    pub prefix: u8,
    /// The guest's default gateway (the bridge's address).
    pub gateway: Ipv4Addr,
}

impl Networks {
    /// Puts a new persistent tap for `owner` (a VM) on the network's bridge
    /// and leases it an address (`want_ip` if free). Bridge and network
    /// rules are ensured first (after a reboot too). On failure nothing is
    /// left: no tap, no lease.
    pub fn attach_tap(
        &self,
        network: &str,
        owner: &str,
        want_ip: Option<Ipv4Addr>,
    ) -> Result<TapEndpoint, Error> {
        if owner.is_empty() {
            return Err(TapError::NoOwner.into());
        }
        let lock = self.lock()?;
        let mut net = find(&lock, network, self)?;
        if let Some((ip, _)) = net.allocations.iter().find(|(_, o)| *o == owner) {
            return Err(TapError::AlreadyLeased {
                owner: owner.into(),
                ip: *ip,
                network: net.name,
            }
            .into());
        }
        self.ensure_plumbing(&lock, &mut net)?;
        // The lease exists only in memory until the record is saved last.
        let ip = net.allocate(owner, want_ip)?;
        let tap = self.new_tap(&lock, &net.name)?;
        net.taps.insert(tap.clone(), owner.into());
        let res = plug(&tap, &net.bridge).and_then(|()| Ok(lock.save(&net)?));
        if let Err(e) = res {
            let _ = delete_tap(&tap);
            let _ = lock.done();
            return Err(e);
        }
        yurta_fault::point("network.tap.saved");
        let _ = lock.done();
        Ok(TapEndpoint {
            network: net.name,
            tap,
            bridge: net.bridge,
            ip,
            prefix: net.subnet.prefix(),
            gateway: net.gateway,
        })
    }

    /// Deletes `owner`'s tap (run it after QEMU exited; a missing tap is
    /// fine: cleanup after a reboot) and releases `owner`'s address. Goes
    /// on after errors and reports all of them. Only tun/tap links are
    /// deleted; a tap a network records for another owner is refused (and
    /// nothing is done).
    pub fn detach_tap(&self, network: &str, owner: &str, tap: &str) -> Result<(), Error> {
        let lock = self.lock()?;
        // Another owner's tap, on this network or any other (a wrong
        // network name must not let it go either).
        for n in lock.load_all()? {
            if let Some(recorded) = n.taps.get(tap).filter(|o| *o != owner) {
                return Err(TapError::OtherOwner {
                    tap: tap.into(),
                    network: n.name,
                    recorded: recorded.clone(),
                    owner: owner.into(),
                }
                .into());
            }
        }
        let mut errs = TeardownError::default();
        let mut net = errs.note(find(&lock, network, self));
        let mut doomed = BTreeSet::new();
        if let Some(n) = &net {
            // Any other tap the record gives the owner goes too.
            let owned = n.taps.iter().filter(|(_, o)| *o == owner);
            doomed.extend(owned.map(|(t, _)| t.clone()));
        }
        if valid_ifname(tap) {
            doomed.insert(tap.to_string());
        } else {
            errs.0.push(TapError::BadName(tap.into()).into());
        }
        for t in &doomed {
            errs.note(delete_tap(t));
        }
        if let Some(n) = &mut net {
            n.taps.retain(|_, o| o != owner);
            // A container's address goes with its endpoint (`detach`).
            if !n.endpoints.contains_key(owner) {
                n.allocations.retain(|_, o| o != owner);
            }
            errs.note(lock.save(n));
        }
        Ok(errs.into_result()?)
    }

    /// Creates a persistent tap with a fresh name: prefix + random hex,
    /// each name journaled before it is tried (`journal`).
    fn new_tap(&self, lock: &Locked, network: &str) -> Result<String, Error> {
        let prefix = &self.cfg.tap_prefix;
        if prefix.len() > MAX_PREFIX || !valid_ifname(&format!("{prefix}0")) {
            return Err(TapError::BadPrefix(prefix.clone()).into());
        }
        for _ in 0..8 {
            let name = ifname(prefix, &ids::random_hex(8));
            lock.begin(&Pending {
                network: network.into(),
                link: name.clone(),
                endpoint_id: None,
            })?;
            match create_tap(&name) {
                // IFF_TUN_EXCL: a link of that name exists.
                Err(TapError::Create {
                    errno: Errno::EBUSY,
                    ..
                }) => continue,
                Ok(()) => {
                    yurta_fault::point("network.tap.made");
                    return Ok(name);
                }
                Err(e) => {
                    let _ = lock.done();
                    return Err(e.into());
                }
            }
        }
        lock.done()?;
        Err(TapError::NoFreeName(prefix.clone()).into())
    }
}

/// What the kernel accepts as an interface name (`dev_valid_name`).
fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace())
}

/// The tun driver's ioctls, with request numbers encoded by nix for the
/// target architecture (`_IOW`), as `<linux/if_tun.h>` defines them.
mod tun {
    nix::ioctl_write_ptr_bad!(
        /// `TUNSETIFF`, `_IOW('T', 202, int)`; it takes a `struct ifreq`
        /// all the same (and writes the name back into it).
        set_iff,
        nix::request_code_write!(b'T', 202, std::mem::size_of::<libc::c_int>()),
        libc::ifreq
    );
    nix::ioctl_write_int!(
        /// `TUNSETPERSIST`, `_IOW('T', 203, int)`; the argument is the value.
        set_persist,
        b'T',
        203
    );
}

/// Creates tap `name` (fails with EBUSY when a link of that name exists)
/// and makes it persistent, so that it stays after the fd is closed; QEMU
/// opens it again by name.
fn create_tap(name: &str) -> Result<(), TapError> {
    let tun = OpenOptions::new()
        .read(true)
        .write(true)
        .open(TUN_PATH)
        .map_err(|source| TapError::Open {
            tap: name.into(),
            source,
        })?;
    // SAFETY: `ifreq` is plain C data (byte arrays, integers and a union of
    // such and a pointer); all zeroes is a valid value of it.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    // At most 15 bytes (checked by the caller): the NUL stays.
    for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes().take(15)) {
        *d = s as libc::c_char;
    }
    let flags = libc::IFF_TAP | libc::IFF_NO_PI | libc::IFF_VNET_HDR | libc::IFF_TUN_EXCL;
    ifr.ifr_ifru.ifru_flags = flags as libc::c_short;
    let fd = tun.as_raw_fd();
    // SAFETY: `fd` is an open /dev/net/tun; the pointer comes from a unique
    // borrow of a live, initialized `ifreq`, the kernel reads and writes
    // back exactly one `struct ifreq` through it during the call only.
    unsafe { tun::set_iff(fd, std::ptr::addr_of_mut!(ifr).cast_const()) }.map_err(|errno| {
        TapError::Create {
            tap: name.into(),
            errno,
        }
    })?;
    // SAFETY: `fd` is the tun fd bound to the tap above; TUNSETPERSIST
    // takes its argument by value and touches no memory of ours.
    unsafe { tun::set_persist(fd, 1) }.map_err(|errno| TapError::Persist {
        tap: name.into(),
        errno,
    })?;
    // Closing the fd now leaves the persistent tap (without
    // TUNSETPERSIST it would go with the fd, as on the error path above).
    drop(tun);
    Ok(())
}

/// Enslaves the tap to the bridge and sets it up.
fn plug(tap: &str, bridge: &str) -> Result<(), Error> {
    let mut nl = Netlink::new()?;
    let master = nl
        .link_index(bridge)?
        .ok_or_else(|| LinkError::NoBridge(bridge.into()))?;
    let index = nl
        .link_index(tap)?
        .ok_or_else(|| LinkError::Vanished(tap.into()))?;
    nl.set_up(index, Some(master))
        .map_err(|source| TapError::Plug {
            tap: tap.into(),
            bridge: bridge.into(),
            source,
        })?;
    Ok(())
}

/// Deletes tap `name`; false when there is no such link. A link of another
/// kind is refused (the name may have been reused since).
pub(crate) fn delete_tap(name: &str) -> Result<bool, Error> {
    let mut nl = Netlink::new()?;
    match nl.link_kind(name)? {
        None => Ok(false),
        Some((index, Some(kind))) if kind == "tun" => match nl.delete_link(index, name) {
            Err(e) if e.errno() == Some(libc::ENODEV) => Ok(false),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(true),
        },
        Some((_, kind)) => Err(TapError::NotTap {
            tap: name.into(),
            kind: kind.unwrap_or_else(|| "none".into()),
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_ifname("ytap0123456789a"));
        assert!(!valid_ifname("ytap0123456789ab"), "16 characters");
        assert!(!valid_ifname("") && !valid_ifname("a/b") && !valid_ifname("a b"));
        assert!(!valid_ifname("a:1") && !valid_ifname(".."));
        assert_eq!(ifname("ytap", &"f".repeat(16)).len(), 15);
    }

    /// nix's `_IOW` encoding gives `<linux/if_tun.h>`'s numbers (the generic
    /// encoding, as on x86-64, arm64, riscv64 and e2k).
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[test]
    fn ioctl_numbers() {
        let int = std::mem::size_of::<libc::c_int>();
        assert_eq!(nix::request_code_write!(b'T', 202, int) as u64, 0x400454ca);
        assert_eq!(nix::request_code_write!(b'T', 203, int) as u64, 0x400454cb);
    }

    #[test]
    fn endpoint_round_trips() {
        let ep = TapEndpoint {
            network: "n".into(),
            tap: "ytap0a1b2c3d4e5".into(),
            bridge: "yt-0123456789ab".into(),
            ip: Ipv4Addr::new(10, 110, 0, 2),
            prefix: 24,
            gateway: Ipv4Addr::new(10, 110, 0, 1),
        };
        let text = serde_json::to_string(&ep).unwrap();
        assert_eq!(serde_json::from_str::<TapEndpoint>(&text).unwrap(), ep);
    }

    #[test]
    fn messages_name_the_values() {
        let e = TapError::Create {
            tap: "ytap1".into(),
            errno: Errno::EPERM,
        };
        assert_eq!(
            e.to_string(),
            "create tap ytap1: EPERM: Operation not permitted"
        );
        let e = TapError::NotTap {
            tap: "eth0".into(),
            kind: "none".into(),
        };
        assert_eq!(
            e.to_string(),
            "link eth0 is not a tap (kind none); not deleting it"
        );
    }
}
