//! Addresses and bridges for users other than containers' veths: a VM's tap
//! joins the network's bridge and takes an address from the same IPAM.

use std::net::Ipv4Addr;

use crate::error::Error;
use crate::manage::{find, Networks};
use crate::record::Network;

impl Networks {
    /// The network with its bridge and rules in place (after a reboot
    /// too); a tap joins `Network::bridge`.
    pub fn ensure_bridge(&self, network: &str) -> Result<Network, Error> {
        let lock = self.lock()?;
        let mut net = find(&lock, network, self)?;
        self.ensure_plumbing(&lock, &mut net)?;
        Ok(net)
    }

    /// Allocates an address for `owner` (`want` if free). The network
    /// cannot be removed while the lease exists.
    pub fn lease(
        &self,
        network: &str,
        owner: &str,
        want: Option<Ipv4Addr>,
    ) -> Result<Ipv4Addr, Error> {
        let lock = self.lock()?;
        let mut net = find(&lock, network, self)?;
        let ip = net.allocate(owner, want)?;
        lock.save(&net)?;
        Ok(ip)
    }

    /// Releases every address `owner` holds in the network.
    pub fn release(&self, network: &str, owner: &str) -> Result<(), Error> {
        let lock = self.lock()?;
        let mut net = find(&lock, network, self)?;
        net.allocations.retain(|_, o| o != owner);
        Ok(lock.save(&net)?)
    }
}
