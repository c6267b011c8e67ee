//! IPAM: addresses of a network handed out and released, persisted in the
//! network's record (the store's lock makes it safe across processes).
//!
//! The gateway, the network address and the broadcast address are never
//! handed out.

use std::net::Ipv4Addr;

use crate::record::Network;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum IpamError {
    #[error("address {ip} is not in network {network} ({subnet})")]
    OutOfSubnet {
        ip: Ipv4Addr,
        network: String,
        subnet: String,
    },
    #[error("address {ip} is reserved in network {network} ({what})")]
    Reserved {
        ip: Ipv4Addr,
        network: String,
        what: &'static str,
    },
    #[error("address {ip} is already in use in network {network} (by {owner})")]
    InUse {
        ip: Ipv4Addr,
        network: String,
        owner: String,
    },
    #[error("no free address left in network {network} ({subnet})")]
    Exhausted { network: String, subnet: String },
}

impl Network {
    /// Allocates `want` when given and free, else the next free address.
    pub fn allocate(&mut self, owner: &str, want: Option<Ipv4Addr>) -> Result<Ipv4Addr, IpamError> {
        let ip = match want {
            Some(ip) => self.check_static(ip)?,
            None => self.next_free()?,
        };
        self.allocations.insert(ip, owner.to_string());
        if want.is_none() {
            self.last_ip = Some(ip);
        }
        Ok(ip)
    }

    /// Releases `ip`; releasing a free address is not an error.
    pub fn release(&mut self, ip: Ipv4Addr) {
        self.allocations.remove(&ip);
    }

    fn reserved(&self, ip: Ipv4Addr) -> Option<&'static str> {
        let (first, last) = self.subnet.hosts();
        let off = self.subnet.offset(ip)?;
        if ip == self.gateway {
            Some("gateway")
        } else if off < first {
            Some("network address")
        } else if off > last {
            Some("broadcast address")
        } else {
            None
        }
    }

    fn check_static(&self, ip: Ipv4Addr) -> Result<Ipv4Addr, IpamError> {
        if !self.subnet.contains(ip) {
            return Err(IpamError::OutOfSubnet {
                ip,
                network: self.name.clone(),
                subnet: self.subnet.to_string(),
            });
        }
        if let Some(what) = self.reserved(ip) {
            return Err(IpamError::Reserved {
                ip,
                network: self.name.clone(),
                what,
            });
        }
        if let Some(owner) = self.allocations.get(&ip) {
            return Err(IpamError::InUse {
                ip,
                network: self.name.clone(),
                owner: owner.clone(),
            });
        }
        Ok(ip)
    }

    fn next_free(&self) -> Result<Ipv4Addr, IpamError> {
        let (first, last) = self.subnet.hosts();
        let span = last - first + 1;
        let after = self
            .last_ip
            .and_then(|ip| self.subnet.offset(ip))
            .filter(|o| (first..=last).contains(o))
            .map_or(0, |o| o - first + 1);
        (0..span)
            .filter_map(|i| self.subnet.nth(first + (after + i) % span))
            .find(|ip| self.reserved(*ip).is_none() && !self.allocations.contains_key(ip))
            .ok_or_else(|| IpamError::Exhausted {
                network: self.name.clone(),
                subnet: self.subnet.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn net(subnet: &str, gw: [u8; 4]) -> Network {
        Network {
            name: "n".into(),
            id: String::new(),
            created: String::new(),
            driver: "bridge".into(),
            bridge: "b".into(),
            subnet: subnet.parse().unwrap(),
            gateway: gw.into(),
            internal: false,
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
            is_default: false,
            allocations: BTreeMap::new(),
            last_ip: None,
            endpoints: BTreeMap::new(),
            taps: BTreeMap::new(),
        }
    }

    #[test]
    fn slash30_has_one_address() {
        let mut n = net("10.0.0.0/30", [10, 0, 0, 1]);
        assert_eq!(n.allocate("a", None).unwrap(), Ipv4Addr::new(10, 0, 0, 2));
        let e = n.allocate("b", None).unwrap_err().to_string();
        assert_eq!(e, "no free address left in network n (10.0.0.0/30)");
        n.release(Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(n.allocate("b", None).unwrap(), Ipv4Addr::new(10, 0, 0, 2));
    }

    #[test]
    fn static_and_round_robin() {
        let mut n = net("10.0.0.0/24", [10, 0, 0, 1]);
        assert_eq!(
            n.allocate("a", Some([10, 0, 0, 9].into())).unwrap(),
            Ipv4Addr::new(10, 0, 0, 9)
        );
        let e = |n: &mut Network, ip: [u8; 4]| {
            n.allocate("x", Some(ip.into())).unwrap_err().to_string()
        };
        assert_eq!(
            e(&mut n, [10, 0, 0, 9]),
            "address 10.0.0.9 is already in use in network n (by a)"
        );
        assert_eq!(
            e(&mut n, [10, 0, 0, 1]),
            "address 10.0.0.1 is reserved in network n (gateway)"
        );
        assert_eq!(
            e(&mut n, [10, 0, 0, 255]),
            "address 10.0.0.255 is reserved in network n (broadcast address)"
        );
        assert_eq!(
            e(&mut n, [10, 0, 0, 0]),
            "address 10.0.0.0 is reserved in network n (network address)"
        );
        assert_eq!(
            e(&mut n, [10, 0, 1, 0]),
            "address 10.0.1.0 is not in network n (10.0.0.0/24)"
        );
        assert_eq!(n.allocate("b", None).unwrap(), Ipv4Addr::new(10, 0, 0, 2));
        n.release(Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(n.allocate("c", None).unwrap(), Ipv4Addr::new(10, 0, 0, 3));
    }

    #[test]
    fn gateway_elsewhere_is_skipped() {
        let mut n = net("10.0.0.0/29", [10, 0, 0, 2]);
        assert_eq!(n.allocate("a", None).unwrap(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(n.allocate("b", None).unwrap(), Ipv4Addr::new(10, 0, 0, 3));
    }
}
