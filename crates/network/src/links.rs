//! Links yurta creates: a network's bridge (marked with the network's id
//! in its alias, up, gateway address, `route_localnet` for publishing on
//! 127.0.0.1) and a container's veth pair
//! (host side on the bridge, peer made inside the container's namespace and
//! configured there: address, up, default route, lo up).
//!
//! Owns nothing persistent; names and addresses come from the caller.

use std::fs::File;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::netlink::{Netlink, NetlinkError};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
    #[error("link {0} vanished right after it was created")]
    Vanished(String),
    #[error("bridge {0} does not exist")]
    NoBridge(String),
    #[error("bridge {bridge} belongs to another network (its alias is {alias:?})")]
    Taken { bridge: String, alias: String },
    #[error("open network namespace {path}: {source}")]
    Netns {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("write {value} to {path}: {source}")]
    Sysctl {
        path: String,
        value: &'static str,
        source: std::io::Error,
    },
}

fn sysctl(path: String, value: &'static str) -> Result<(), LinkError> {
    if std::fs::read_to_string(&path).is_ok_and(|v| v.trim() == value) {
        return Ok(());
    }
    std::fs::write(&path, value).map_err(|source| LinkError::Sysctl {
        path,
        value,
        source,
    })
}

/// Turns IPv4 forwarding on (the host routes between bridges and out).
pub fn enable_forwarding() -> Result<(), LinkError> {
    sysctl("/proc/sys/net/ipv4/ip_forward".into(), "1")
}

/// Whose a bridge is, by its alias (`IFLA_IFALIAS`): yurta marks the
/// bridges it makes with the network's mark (`yurta net <id>`), so that
/// two state roots on one host never take over or delete each other's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    /// No link of that name.
    Missing,
    /// Marked as this network's.
    Ours,
    /// No alias: made by an older yurta (or killed before it was marked);
    /// the network's record names it, so it is taken as the network's.
    Unmarked,
    /// Marked for something else (the alias).
    Other(String),
}

/// Who owns link `name`, for a network marked `mark`.
pub fn bridge_owner(name: &str, mark: &str) -> Result<Owner, LinkError> {
    let mut nl = Netlink::new()?;
    Ok(owner_of(nl.link_alias(name)?, mark))
}

fn owner_of(link: Option<(u32, String)>, mark: &str) -> Owner {
    match link {
        None => Owner::Missing,
        Some((_, alias)) if alias == mark => Owner::Ours,
        Some((_, alias)) if alias.is_empty() => Owner::Unmarked,
        Some((_, alias)) => Owner::Other(alias),
    }
}

/// Creates the bridge when missing, marks it with `mark` (its alias),
/// sets it up, gives it the gateway address (so its route appears with
/// the address) and allows DNAT of 127.0.0.1 towards it. Idempotent; a
/// bridge marked for someone else is refused.
pub fn ensure_bridge(
    name: &str,
    mark: &str,
    gateway: Ipv4Addr,
    prefix: u8,
) -> Result<(), LinkError> {
    let mut nl = Netlink::new()?;
    let mut link = nl.link_alias(name)?;
    if link.is_none() {
        match nl.add_bridge(name) {
            Err(e) if e.errno() != Some(libc::EEXIST) => return Err(e.into()),
            _ => {}
        }
        link = nl.link_alias(name)?;
    }
    let Some((index, _)) = link else {
        return Err(LinkError::Vanished(name.into()));
    };
    match owner_of(link, mark) {
        Owner::Other(alias) => {
            return Err(LinkError::Taken {
                bridge: name.into(),
                alias,
            })
        }
        Owner::Unmarked => nl.set_alias(index, mark)?,
        Owner::Ours | Owner::Missing => {}
    }
    nl.set_up(index, None)?;
    nl.add_address(index, gateway, prefix)?;
    sysctl(
        format!("/proc/sys/net/ipv4/conf/{name}/route_localnet"),
        "1",
    )
}

/// Deletes the network's bridge unless another owner marked it; returns
/// false when nothing was deleted.
pub fn delete_bridge(name: &str, mark: &str) -> Result<bool, LinkError> {
    match bridge_owner(name, mark)? {
        Owner::Ours | Owner::Unmarked => delete_link(name),
        Owner::Missing | Owner::Other(_) => Ok(false),
    }
}

/// Whether a link called `name` exists.
pub fn exists(name: &str) -> Result<bool, LinkError> {
    Ok(Netlink::new()?.link_index(name)?.is_some())
}

/// Deletes link `name`; returns false when it did not exist.
pub fn delete_link(name: &str) -> Result<bool, LinkError> {
    let mut nl = Netlink::new()?;
    let Some(index) = nl.link_index(name)? else {
        return Ok(false);
    };
    match nl.delete_link(index, name) {
        Err(e) if e.errno() == Some(libc::ENODEV) => Ok(false),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(true),
    }
}

/// One veth to make.
pub struct Veth<'a> {
    pub bridge: &'a str,
    pub host_name: &'a str,
    /// Name inside the namespace (`eth0`…).
    pub ifname: &'a str,
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    pub prefix: u8,
    /// Default route via this address (None: no default route, as on
    /// internal networks).
    pub gateway: Option<Ipv4Addr>,
    pub netns: &'a Path,
}

/// Creates and configures the veth pair; on failure nothing is left.
pub fn attach_veth(v: &Veth) -> Result<(), LinkError> {
    let mut host = Netlink::new()?;
    let bridge = host
        .link_index(v.bridge)?
        .ok_or_else(|| LinkError::NoBridge(v.bridge.into()))?;
    let ns = File::open(v.netns).map_err(|source| LinkError::Netns {
        path: v.netns.to_path_buf(),
        source,
    })?;
    host.add_veth(v.host_name, v.ifname, v.mac, &ns)?;
    let res = plug(&mut host, v, bridge);
    if res.is_err() {
        let _ = delete_link(v.host_name);
    }
    res
}

fn plug(host: &mut Netlink, v: &Veth, bridge: u32) -> Result<(), LinkError> {
    let index = host
        .link_index(v.host_name)?
        .ok_or_else(|| LinkError::Vanished(v.host_name.into()))?;
    host.set_up(index, Some(bridge))?;
    // With br_netfilter, a DNATed packet whose new destination is on the
    // same bridge is bridged, back out of the port it came in on: hairpin
    // (a container reaching its own published port) needs the port's
    // hairpin mode.
    sysctl(
        format!("/sys/class/net/{}/brport/hairpin_mode", v.host_name),
        "1",
    )?;
    let mut inside = Netlink::in_netns(v.netns)?;
    if let Some(lo) = inside.link_index("lo")? {
        inside.set_up(lo, None)?;
    }
    let index = inside
        .link_index(v.ifname)?
        .ok_or_else(|| LinkError::Vanished(v.ifname.into()))?;
    inside.add_address(index, v.ip, v.prefix)?;
    inside.set_up(index, None)?;
    if let Some(gw) = v.gateway {
        // A container on several networks keeps the first one's route.
        match inside.add_default_route(gw) {
            Err(e) if e.errno() != Some(libc::EEXIST) => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}
