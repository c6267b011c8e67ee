//! Taking the store's lock, and finishing what a killed attach left.
//!
//! An attach makes its veth (or a VM's tap) and port rules before it saves
//! the endpoint's record, writing what it is about to make to the store's
//! journal first ([`Pending`]). Every verb takes the lock here: a journal
//! found under the lock was left by a process that died, and what it names
//! is removed unless the record has it (the writer died after saving).
//! Without it a kill would leave a veth on the bridge with an address the
//! IPAM hands out again, a `ethN` that the container's next attach cannot
//! create, port rules nobody removes, or a persistent tap.

use crate::error::Error;
use crate::netlink::Netlink;
use crate::record::Network;
use crate::store::{Locked, Pending};
use crate::Networks;

impl Networks {
    /// The store's lock, with a dead attach's leftovers removed.
    pub(crate) fn lock(&self) -> Result<Locked<'_>, Error> {
        let lock = self.store.lock()?;
        if let Some(p) = lock.pending()? {
            self.recover(&lock, &p);
        }
        Ok(lock)
    }

    /// Removes what `p` names unless its network records it; the journal
    /// stays when that fails (the next verb tries again).
    fn recover(&self, lock: &Locked, p: &Pending) {
        let net = lock.load(&p.network).ok().flatten();
        if !net.as_ref().is_some_and(|n| recorded(n, p)) {
            if let Some(e) = &p.endpoint_id {
                if self.fw.remove_ports(e).is_err() {
                    return;
                }
            }
            if delete_own_link(&p.link).is_err() {
                return;
            }
        }
        let _ = lock.done();
    }
}

fn recorded(n: &Network, p: &Pending) -> bool {
    n.taps.contains_key(&p.link) || n.endpoints.values().any(|e| e.host_veth == p.link)
}

/// Deletes the link if it is a veth or a tap (the kinds attaches make).
fn delete_own_link(name: &str) -> Result<(), Error> {
    let mut nl = Netlink::new()?;
    match nl.link_kind(name)? {
        Some((index, Some(kind))) if kind == "veth" || kind == "tun" => {
            match nl.delete_link(index, name) {
                Err(e) if e.errno() != Some(libc::ENODEV) => Err(e.into()),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}
