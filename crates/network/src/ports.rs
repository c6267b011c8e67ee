//! Docker's `-p` syntax: `[ip:][host[-range]:]container[-range][/proto]`,
//! and the per-port bindings it expands to.
//!
//! Owns parsing and expansion only; which host ports are free is decided by
//! `hostports` and the network store.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("bad port {0:?}: {1}")]
    Bad(String, &'static str),
    #[error("bad publish spec {0:?}: {1}")]
    BadSpec(String, String),
}

/// Transport protocol of a published port.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        })
    }
}

impl FromStr for Protocol {
    type Err = PortError;
    fn from_str(s: &str) -> Result<Self, PortError> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            _ => Err(PortError::Bad(s.into(), "protocol must be tcp or udp")),
        }
    }
}

/// An inclusive port range; a single port has `start == end`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl PortRange {
    pub fn len(&self) -> u32 {
        u32::from(self.end - self.start) + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    fn parse(s: &str) -> Result<Self, PortError> {
        let (a, b) = s.split_once('-').unwrap_or((s, s));
        let (start, end) = (parse_port(a)?, parse_port(b)?);
        if end < start {
            return Err(PortError::Bad(s.into(), "range end is below its start"));
        }
        Ok(PortRange { start, end })
    }
}

fn parse_port(s: &str) -> Result<u16, PortError> {
    match s.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        _ => Err(PortError::Bad(s.into(), "ports are 1-65535")),
    }
}

/// One `-p` argument (or one exposed port for `-P`, with `host: None`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PortSpec {
    /// None: every host address (0.0.0.0).
    pub host_ip: Option<Ipv4Addr>,
    /// None: any free host port (one per container port).
    pub host: Option<PortRange>,
    pub container: PortRange,
    pub protocol: Protocol,
}

impl PortSpec {
    /// Parses Docker's `-p` syntax.
    pub fn parse(spec: &str) -> Result<Self, PortError> {
        let bad = |why: &str| PortError::BadSpec(spec.into(), why.into());
        let (rest, protocol) = match spec.rsplit_once('/') {
            Some((r, p)) => (r, p.parse()?),
            None => (spec, Protocol::Tcp),
        };
        if rest.starts_with('[') {
            return Err(bad(
                "IPv6 host addresses are not supported: ports are published on IPv4 only",
            ));
        }
        let parts: Vec<&str> = rest.split(':').collect();
        let (ip, host, container) = match parts.as_slice() {
            [c] => (None, None, *c),
            [h, c] => (None, Some(*h), *c),
            [ip, h, c] => (Some(*ip), Some(*h), *c),
            _ => return Err(bad("expected [ip:][hostport:]containerport[/proto]")),
        };
        let host_ip = match ip {
            None | Some("") | Some("0.0.0.0") => None,
            Some(ip) => Some(ip.parse().map_err(|_| bad("host address is not IPv4"))?),
        };
        let host = match host {
            // Docker: `-p 0:80` as `-p 80`, any free port.
            None | Some("") | Some("0") => None,
            Some(h) => Some(PortRange::parse(h)?),
        };
        let container = PortRange::parse(container)?;
        if let Some(h) = host {
            if container.len() > 1 && h.len() != container.len() {
                return Err(bad(
                    "host and container port ranges must have the same length",
                ));
            }
        }
        Ok(PortSpec {
            host_ip,
            host,
            container,
            protocol,
        })
    }
}

impl FromStr for PortSpec {
    type Err = PortError;
    fn from_str(s: &str) -> Result<Self, PortError> {
        PortSpec::parse(s)
    }
}

/// One published port: what the nft DNAT rule says.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct PortBinding {
    /// 0.0.0.0: every host address.
    pub host_ip: Ipv4Addr,
    pub host_port: u16,
    pub container_port: u16,
    pub protocol: Protocol,
}

impl PortBinding {
    /// Whether two bindings cannot both exist (same port and protocol on an
    /// overlapping address).
    pub fn conflicts(&self, other: &PortBinding) -> bool {
        self.protocol == other.protocol
            && self.host_port == other.host_port
            && (self.host_ip == other.host_ip
                || self.host_ip.is_unspecified()
                || other.host_ip.is_unspecified())
    }
}

impl fmt::Display for PortBinding {
    /// `8080/tcp` or `127.0.0.1:8080/tcp`: how conflicts are reported.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.host_ip.is_unspecified() {
            write!(f, "{}:", self.host_ip)?;
        }
        write!(f, "{}/{}", self.host_port, self.protocol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PortSpec {
        PortSpec::parse(s).unwrap()
    }

    fn r(start: u16, end: u16) -> Option<PortRange> {
        Some(PortRange { start, end })
    }

    #[test]
    fn docker_forms() {
        let s = p("80");
        assert_eq!((s.host_ip, s.host, s.protocol), (None, None, Protocol::Tcp));
        assert_eq!(s.container, r(80, 80).unwrap());
        assert_eq!(p("8080:80").host, r(8080, 8080));
        let s = p("127.0.0.1:8080:80/udp");
        assert_eq!(s.host_ip, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(s.protocol, Protocol::Udp);
        assert_eq!(p("127.0.0.1::80").host, None);
        assert_eq!(p("0.0.0.0:81:80").host_ip, None);
        assert_eq!(p("0:80").host, None);
        assert_eq!(p("127.0.0.1:0:80").host, None);
        assert_eq!(p("0:80").container, r(80, 80).unwrap());
        let s = p("8000-8099:9000-9099/TCP");
        assert_eq!(
            (s.host, s.container),
            (r(8000, 8099), r(9000, 9099).unwrap())
        );
        assert_eq!(p("8000-8010:80").host, r(8000, 8010));
    }

    #[test]
    fn rejects_with_the_value() {
        let e = |s: &str| PortSpec::parse(s).unwrap_err().to_string();
        assert_eq!(e("0"), r#"bad port "0": ports are 1-65535"#);
        assert_eq!(e("8080:0"), r#"bad port "0": ports are 1-65535"#);
        assert_eq!(e("70000"), r#"bad port "70000": ports are 1-65535"#);
        assert_eq!(
            e("80/sctp"),
            r#"bad port "sctp": protocol must be tcp or udp"#
        );
        assert!(e("8000-8001:80-82").contains("same length"));
        assert!(e("90-80").contains("below its start"));
        assert!(e("a:b:c:d").contains("expected"));
        assert!(e("x.y:80:80").contains("not IPv4"));
        assert_eq!(
            e("[::1]:8080:80"),
            r#"bad publish spec "[::1]:8080:80": IPv6 host addresses are not supported: ports are published on IPv4 only"#
        );
    }

    #[test]
    fn binding_conflicts() {
        let b = |ip: [u8; 4], port, protocol| PortBinding {
            host_ip: Ipv4Addr::from(ip),
            host_port: port,
            container_port: 80,
            protocol,
        };
        let any = b([0, 0, 0, 0], 8080, Protocol::Tcp);
        assert!(any.conflicts(&b([127, 0, 0, 1], 8080, Protocol::Tcp)));
        assert!(!any.conflicts(&b([127, 0, 0, 1], 8080, Protocol::Udp)));
        assert!(!b([127, 0, 0, 1], 1, Protocol::Tcp).conflicts(&b(
            [127, 0, 0, 2],
            1,
            Protocol::Tcp
        )));
        assert_eq!(any.to_string(), "8080/tcp");
        assert_eq!(
            b([127, 0, 0, 1], 1, Protocol::Udp).to_string(),
            "127.0.0.1:1/udp"
        );
    }
}
