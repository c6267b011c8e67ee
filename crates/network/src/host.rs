//! A network's objects on the host — its bridge and its nft rules — made,
//! repaired and removed so that several state roots (`--root`) can share
//! one host, and so that a `kill -9` at any step leaves only what the
//! record names.
//!
//! The host's objects are global while records are per root, so:
//! - everything of a network is marked with its id (`yurta net <id>`: the
//!   rules' comment and the bridge's alias); a bridge marked by another
//!   network is never taken over nor deleted;
//! - bridge names and subnets are decided under the host-wide lock
//!   ([`HostLock`]) from what the host has (links, routes), so that two
//!   roots never pick the same ones: a second root's default network gets
//!   the next free name (`yurta1`) and a subnet no route covers;
//! - the record is saved before the bridge and rules are made and deleted
//!   after they are removed: whatever a kill leaves is named by a record,
//!   which the next attach completes or `network rm`/`prune` removes;
//! - the shared table goes only when no rule of any root is left in it.
//!
//! Not here: the records' decisions (manage, attach), the objects' kernel
//! calls (links, nft).

use crate::error::{Error, TeardownError};
use crate::links::{self, LinkError, Owner};
use crate::manage::{gateway_of, taken, users, ManageError, Networks};
use crate::nft::{net_comment, NetRules};
use crate::record::Network;
use crate::store::{HostLock, Locked};
use crate::subnet::host_routes;

impl Networks {
    /// The host-wide lock, taken after the root's lock.
    pub(crate) fn host_lock(&self) -> Result<HostLock, Error> {
        Ok(HostLock::take(&self.cfg.host_lock)?)
    }

    /// Saves the new network's record, then makes its bridge and rules;
    /// on failure removes them and the record again. The caller holds the
    /// host lock (the subnet and bridge name were picked under it).
    pub(crate) fn materialize(&self, lock: &Locked, net: &Network) -> Result<(), Error> {
        lock.save(net)?;
        yurta_fault::point("network.create.recorded");
        let res = self.plumb(net);
        if res.is_err() {
            let _ = self.destroy(lock, net);
            let _ = self.fw.drop_if_unused();
        }
        res
    }

    /// The bridge and the network's rules (again after a reboot).
    /// Idempotent. When the bridge was missing and meanwhile another
    /// network took its name or subnet (after a reboot, or a kill between
    /// record and bridge), an unused default network moves to a free
    /// bridge and subnet; any other network fails naming the conflict.
    pub(crate) fn ensure_plumbing(&self, lock: &Locked, net: &mut Network) -> Result<(), Error> {
        let _host = self.host_lock()?;
        match self.plumb(net) {
            Err(e) if conflict(&e) && net.is_default && users(net).is_empty() => {
                self.move_default(lock, net)?;
                self.plumb(net)
            }
            res => res,
        }
    }

    fn plumb(&self, net: &Network) -> Result<(), Error> {
        links::enable_forwarding()?;
        let mark = net_comment(&net.id);
        if links::bridge_owner(&net.bridge, &mark)? == Owner::Missing {
            unrouted(net)?;
        }
        links::ensure_bridge(&net.bridge, &mark, net.gateway, net.subnet.prefix())?;
        yurta_fault::point("network.plumb.bridge");
        self.fw.add_network(&NetRules {
            id: &net.id,
            bridge: &net.bridge,
            subnet: net.subnet,
            internal: net.internal,
        })?;
        yurta_fault::point("network.plumb.rules");
        Ok(())
    }

    /// A new bridge name and subnet for the default network, saved.
    fn move_default(&self, lock: &Locked, net: &mut Network) -> Result<(), Error> {
        self.fw.remove_network(&net.id, None)?;
        let others: Vec<Network> = lock
            .load_all()?
            .into_iter()
            .filter(|n| n.name != net.name)
            .collect();
        net.subnet = self.cfg.pools.pick_default(&taken(&others)?)?;
        net.gateway = gateway_of(net.subnet, None)?;
        net.bridge = self.free_default_bridge()?;
        Ok(lock.save(net)?)
    }

    /// The first name for a default network's bridge that no link has.
    /// The caller holds the host lock.
    pub(crate) fn free_default_bridge(&self) -> Result<String, Error> {
        for name in default_bridge_names(&self.cfg.default_bridge) {
            if !links::exists(&name)? {
                return Ok(name);
            }
        }
        Err(ManageError::NoBridgeName(self.cfg.default_bridge.clone()).into())
    }

    /// Removes the network's rules and bridge (unless another network
    /// marked it), then its record; the record stays when a step failed,
    /// so that a retry finds what is left. The caller holds the host lock
    /// and drops the table afterwards if it is unused.
    pub(crate) fn destroy(&self, lock: &Locked, net: &Network) -> TeardownError {
        let mut errs = TeardownError::default();
        let owner = errs.note(links::bridge_owner(&net.bridge, &net_comment(&net.id)));
        let ours = matches!(owner, Some(Owner::Ours | Owner::Unmarked));
        // Rules an older yurta commented with the bridge's name go with a
        // bridge that is this network's (or gone), never with another's.
        let legacy = (ours || owner == Some(Owner::Missing)).then_some(net.bridge.as_str());
        errs.note(self.fw.remove_network(&net.id, legacy));
        yurta_fault::point("network.remove.rules");
        if ours {
            errs.note(links::delete_link(&net.bridge));
        }
        yurta_fault::point("network.remove.bridge");
        if errs.0.is_empty() {
            errs.note(lock.delete(&net.name));
            yurta_fault::point("network.remove.record");
        }
        errs
    }
}

/// The network's subnet is no host route of another link (checked before
/// its bridge is made again).
fn unrouted(net: &Network) -> Result<(), Error> {
    let clash = host_routes()?
        .into_iter()
        .find(|r| r.dest.overlaps(&net.subnet) && r.dev != net.bridge);
    match clash {
        Some(r) => Err(ManageError::Overlap {
            subnet: net.subnet,
            what: format!("host route {} dev {}", r.dest, r.dev),
        }
        .into()),
        None => Ok(()),
    }
}

/// The bridge's name or the subnet is another network's.
fn conflict(e: &Error) -> bool {
    matches!(
        e,
        Error::Link(LinkError::Taken { .. }) | Error::Manage(ManageError::Overlap { .. })
    )
}

/// Names for a default network's bridge, in order: `base`, then with the
/// number at its end counted up (`yurta0`, `yurta1`, …; `br`: `br1`,
/// `br2`, …), at most 15 characters (the kernel's limit).
pub fn default_bridge_names(base: &str) -> impl Iterator<Item = String> {
    let stem = base.trim_end_matches(|c: char| c.is_ascii_digit());
    let start: u64 = base[stem.len()..].parse().unwrap_or(0);
    let stem = stem.to_string();
    std::iter::once(base.to_string())
        .chain((1..100).map(move |i| format!("{stem}{}", start + i)))
        .filter(|n| n.len() <= 15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_names() {
        let first = |b: &str| default_bridge_names(b).take(3).collect::<Vec<_>>();
        assert_eq!(first("yurta0"), ["yurta0", "yurta1", "yurta2"]);
        assert_eq!(first("ytt123d"), ["ytt123d", "ytt123d1", "ytt123d2"]);
        assert_eq!(first("br9"), ["br9", "br10", "br11"]);
        assert_eq!(default_bridge_names("abcdefghijklmno").count(), 1);
    }
}
