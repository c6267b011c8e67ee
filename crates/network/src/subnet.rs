//! IPv4 subnets: parsing, overlap, the host's routes, and picking a free
//! subnet for a new network from yurta's pools.
//!
//! Owns the arithmetic only; which subnets are taken is the caller's input
//! (the host's routes from `/proc/net/route` plus yurta's own networks).

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum SubnetError {
    #[error("bad subnet {0:?}: {1}")]
    Bad(String, &'static str),
    #[error("bad IPv4 address {0:?}")]
    BadAddress(String),
    #[error(
        "no free subnet left in yurta's pools (all of {0} overlap host routes or other networks)"
    )]
    PoolExhausted(String),
    #[error("read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// An IPv4 network: address with the host bits cleared, and prefix length.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Ipv4Net {
    addr: Ipv4Addr,
    prefix: u8,
}

impl Ipv4Net {
    /// The network of `addr/prefix` (host bits are cleared); prefix ≤ 32.
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Result<Self, SubnetError> {
        if prefix > 32 {
            return Err(SubnetError::Bad(
                format!("{addr}/{prefix}"),
                "prefix length must be 0-32",
            ));
        }
        let addr = Ipv4Addr::from(u32::from(addr) & mask(prefix));
        Ok(Ipv4Net { addr, prefix })
    }

    pub fn network(&self) -> Ipv4Addr {
        self.addr
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !mask(self.prefix))
    }

    /// Number of addresses, network and broadcast included.
    pub fn size(&self) -> u64 {
        1u64 << (32 - self.prefix)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == u32::from(self.addr)
    }

    pub fn overlaps(&self, other: &Ipv4Net) -> bool {
        let p = self.prefix.min(other.prefix);
        u32::from(self.addr) & mask(p) == u32::from(other.addr) & mask(p)
    }

    /// The `n`th address of the network (0 is the network address).
    pub fn nth(&self, n: u64) -> Option<Ipv4Addr> {
        (n < self.size()).then(|| Ipv4Addr::from(u32::from(self.addr).wrapping_add(n as u32)))
    }

    /// Offset of `ip` in the network, when it is inside.
    pub fn offset(&self, ip: Ipv4Addr) -> Option<u64> {
        self.contains(ip)
            .then(|| u64::from(u32::from(ip) - u32::from(self.addr)))
    }

    /// Usable host range: without network and broadcast (for /31 and /32
    /// every address is usable).
    pub fn hosts(&self) -> (u64, u64) {
        if self.prefix >= 31 {
            (0, self.size() - 1)
        } else {
            (1, self.size() - 2)
        }
    }

    /// The subnets of length `prefix` inside this one, in order.
    pub fn subnets(&self, prefix: u8) -> impl Iterator<Item = Ipv4Net> + '_ {
        let count = if prefix >= self.prefix {
            1u64 << (prefix - self.prefix)
        } else {
            0
        };
        let step = 1u64 << (32 - prefix);
        (0..count).map(move |i| Ipv4Net {
            addr: Ipv4Addr::from((u64::from(u32::from(self.addr)) + i * step) as u32),
            prefix,
        })
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Ipv4Net {
    type Err = SubnetError;
    fn from_str(s: &str) -> Result<Self, SubnetError> {
        let bad = |why| SubnetError::Bad(s.to_string(), why);
        let (a, p) = s
            .split_once('/')
            .ok_or_else(|| bad("expected ADDRESS/PREFIX"))?;
        let addr: Ipv4Addr = a.parse().map_err(|_| bad("not an IPv4 address"))?;
        let prefix: u8 = p.parse().map_err(|_| bad("prefix length must be 0-32"))?;
        if prefix > 32 {
            return Err(bad("prefix length must be 0-32"));
        }
        Ipv4Net::new(addr, prefix)
    }
}

impl Serialize for Ipv4Net {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ipv4Net {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses an IPv4 address, naming it on failure.
pub fn parse_ip(s: &str) -> Result<Ipv4Addr, SubnetError> {
    s.parse()
        .map_err(|_| SubnetError::BadAddress(s.to_string()))
}

/// A route of the host's main table (from `/proc/net/route`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRoute {
    pub dest: Ipv4Net,
    pub dev: String,
}

/// The host's IPv4 routes except the default route.
pub fn host_routes() -> Result<Vec<HostRoute>, SubnetError> {
    let path = "/proc/net/route";
    let text = std::fs::read_to_string(path).map_err(|source| SubnetError::Read {
        path: path.into(),
        source,
    })?;
    Ok(parse_proc_route(&text))
}

/// Parses `/proc/net/route` (addresses are hex in host byte order).
pub fn parse_proc_route(text: &str) -> Vec<HostRoute> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            continue;
        }
        // The kernel prints the raw 32-bit values, so their bytes in native
        // order are the address bytes in network order.
        let hex = |s: &str| u32::from_str_radix(s, 16).ok().map(u32::to_ne_bytes);
        let (Some(dest), Some(m)) = (hex(f[1]), hex(f[7])) else {
            continue;
        };
        let prefix = u32::from_be_bytes(m).count_ones() as u8;
        if prefix == 0 {
            continue;
        }
        let dest = Ipv4Addr::from(dest);
        if let Ok(dest) = Ipv4Net::new(dest, prefix) {
            out.push(HostRoute {
                dest,
                dev: f[0].to_string(),
            });
        }
    }
    out
}

/// Where new networks' subnets come from.
#[derive(Clone, Debug)]
pub struct Pools {
    /// Candidates for the default network, tried in order.
    pub default_candidates: Vec<Ipv4Net>,
    /// Ranges cut into `user_prefix` subnets for user networks.
    pub user_ranges: Vec<Ipv4Net>,
    pub user_prefix: u8,
    /// Never picked even when not routed now (docker's and podman's defaults).
    pub reserved: Vec<Ipv4Net>,
}

impl Default for Pools {
    /// Default network: 10.100.0.0/16 … 10.109.0.0/16; user networks: /24s of
    /// 10.110.0.0/15. Podman's 10.88.0.0/16 and 10.89.0.0/16 and docker's
    /// 172.17.0.0/16 are kept clear so that they can run on the same host.
    fn default() -> Self {
        let net = |a, b, p| Ipv4Net::new(Ipv4Addr::new(10, a, b, 0), p).expect("static subnet");
        Pools {
            default_candidates: (100..110).map(|b| net(b, 0, 16)).collect(),
            user_ranges: vec![net(110, 0, 15)],
            user_prefix: 24,
            reserved: vec![
                net(88, 0, 16),
                net(89, 0, 16),
                Ipv4Net::new(Ipv4Addr::new(172, 17, 0, 0), 16).expect("static subnet"),
            ],
        }
    }
}

impl Pools {
    /// The first default candidate that overlaps nothing in `taken`.
    pub fn pick_default(&self, taken: &[Ipv4Net]) -> Result<Ipv4Net, SubnetError> {
        self.default_candidates
            .iter()
            .copied()
            .find(|c| self.is_free(c, taken))
            .ok_or_else(|| SubnetError::PoolExhausted(list(&self.default_candidates)))
    }

    /// The first user-pool subnet that overlaps nothing in `taken`.
    pub fn pick_user(&self, taken: &[Ipv4Net]) -> Result<Ipv4Net, SubnetError> {
        for range in &self.user_ranges {
            if let Some(s) = range
                .subnets(self.user_prefix)
                .find(|c| self.is_free(c, taken))
            {
                return Ok(s);
            }
        }
        Err(SubnetError::PoolExhausted(list(&self.user_ranges)))
    }

    fn is_free(&self, c: &Ipv4Net, taken: &[Ipv4Net]) -> bool {
        !taken.iter().chain(&self.reserved).any(|t| t.overlaps(c))
    }
}

fn list(nets: &[Ipv4Net]) -> String {
    nets.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_normalises() {
        assert_eq!(n("10.1.2.3/16").to_string(), "10.1.0.0/16");
        assert_eq!(n("10.1.2.3/32").broadcast(), Ipv4Addr::new(10, 1, 2, 3));
        let e = "10.0.0.0/33".parse::<Ipv4Net>().unwrap_err().to_string();
        assert_eq!(e, r#"bad subnet "10.0.0.0/33": prefix length must be 0-32"#);
        assert!("10.0.0/8".parse::<Ipv4Net>().is_err());
        assert!("10.0.0.0".parse::<Ipv4Net>().is_err());
    }

    #[test]
    fn overlap_and_hosts() {
        assert!(n("10.0.0.0/8").overlaps(&n("10.5.0.0/16")));
        assert!(n("10.5.0.0/16").overlaps(&n("10.0.0.0/8")));
        assert!(!n("10.5.0.0/16").overlaps(&n("10.6.0.0/16")));
        assert_eq!(n("10.0.0.0/30").hosts(), (1, 2));
        assert_eq!(n("10.0.0.0/24").nth(1), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(n("10.0.0.0/24").nth(256), None);
        let subs: Vec<_> = n("10.0.0.0/23").subnets(24).collect();
        assert_eq!(subs, vec![n("10.0.0.0/24"), n("10.0.1.0/24")]);
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn proc_route() {
        let text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
br\t0000640A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
        let r = parse_proc_route(text);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].dest, n("192.0.2.0/24"));
        assert_eq!(r[1].dest, n("10.100.0.0/16"));
        assert_eq!(r[1].dev, "br");
    }

    #[test]
    fn picks_around_taken() {
        let p = Pools::default();
        assert_eq!(p.pick_default(&[]).unwrap(), n("10.100.0.0/16"));
        let d = p.pick_default(&[n("10.100.5.0/24")]).unwrap();
        assert_eq!(d, n("10.101.0.0/16"));
        assert_eq!(p.pick_user(&[]).unwrap(), n("10.110.0.0/24"));
        assert_eq!(
            p.pick_user(&[n("10.110.0.0/24")]).unwrap(),
            n("10.110.1.0/24")
        );
        let all: Vec<_> = p.default_candidates.clone();
        assert!(matches!(
            p.pick_default(&all),
            Err(SubnetError::PoolExhausted(_))
        ));
    }
}
