//! Choosing host ports: conflicts with other yurta containers' published
//! ports and with the host's own sockets (`/proc/net/{tcp,tcp6,udp,udp6}`),
//! and free ports for `-P` / `-p CONTAINERPORT`.
//!
//! Owns the decision only; the store supplies the ports already published.

use std::net::Ipv4Addr;

use crate::ports::{PortBinding, PortSpec, Protocol};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum HostPortError {
    #[error("port already in use {port}: published by container {owner}")]
    Published { port: PortBinding, owner: String },
    #[error("port already in use {port}: a host process listens on it")]
    Listening { port: PortBinding },
    #[error("no free host port in {start}-{end} for {spec}")]
    NoFreePort { start: u16, end: u16, spec: String },
}

/// A socket bound on the host.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HostSocket {
    pub protocol: Protocol,
    /// None: an IPv6 address that is not v4-mapped (matters only for 0.0.0.0).
    pub ip: Option<Ipv4Addr>,
    pub port: u16,
}

impl HostSocket {
    fn blocks(&self, b: &PortBinding) -> bool {
        if self.protocol != b.protocol || self.port != b.host_port {
            return false;
        }
        match self.ip {
            Some(ip) => ip.is_unspecified() || b.host_ip.is_unspecified() || ip == b.host_ip,
            None => b.host_ip.is_unspecified(),
        }
    }
}

/// Listening TCP sockets and bound UDP sockets of this network namespace.
pub fn host_sockets() -> Vec<HostSocket> {
    let mut out = Vec::new();
    for (file, protocol, v6) in [
        ("tcp", Protocol::Tcp, false),
        ("tcp6", Protocol::Tcp, true),
        ("udp", Protocol::Udp, false),
        ("udp6", Protocol::Udp, true),
    ] {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/net/{file}")) {
            out.extend(parse_proc_net(&text, protocol, v6));
        }
    }
    out
}

/// Parses one `/proc/net/{tcp,udp}[6]` table: TCP sockets in LISTEN (0A),
/// every UDP socket.
pub fn parse_proc_net(text: &str, protocol: Protocol, v6: bool) -> Vec<HostSocket> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 || (protocol == Protocol::Tcp && f[3] != "0A") {
            continue;
        }
        let Some((addr, port)) = f[1].split_once(':') else {
            continue;
        };
        let Ok(port) = u16::from_str_radix(port, 16) else {
            continue;
        };
        let ip = if v6 { v6_as_v4(addr) } else { hex_v4(addr) };
        out.push(HostSocket { protocol, ip, port });
    }
    out
}

fn hex_v4(s: &str) -> Option<Ipv4Addr> {
    // Printed as the raw 32-bit value: native byte order is network order.
    u32::from_str_radix(s, 16)
        .ok()
        .map(|v| Ipv4Addr::from(v.to_ne_bytes()))
}

/// `::` → 0.0.0.0, `::ffff:a.b.c.d` → a.b.c.d, anything else → None.
fn v6_as_v4(s: &str) -> Option<Ipv4Addr> {
    if s.len() != 32 {
        return None;
    }
    let words: Vec<u32> = (0..4)
        .filter_map(|i| u32::from_str_radix(&s[i * 8..i * 8 + 8], 16).ok())
        .collect();
    match words.as_slice() {
        [0, 0, 0, 0] => Some(Ipv4Addr::UNSPECIFIED),
        [0, 0, w, v] if w.to_ne_bytes() == [0, 0, 0xff, 0xff] => {
            Some(Ipv4Addr::from(v.to_ne_bytes()))
        }
        _ => None,
    }
}

/// What is already taken: other containers' bindings (with their owner's
/// name) and the host's sockets.
pub struct Taken<'a> {
    pub published: &'a [(PortBinding, String)],
    pub sockets: &'a [HostSocket],
    /// Range for ports picked by yurta (the kernel's ephemeral range).
    pub dynamic: (u16, u16),
}

impl Taken<'_> {
    fn check(&self, b: &PortBinding, mine: &[PortBinding]) -> Result<(), HostPortError> {
        if let Some((_, owner)) = self.published.iter().find(|(p, _)| p.conflicts(b)) {
            return Err(HostPortError::Published {
                port: *b,
                owner: owner.clone(),
            });
        }
        if mine.iter().any(|p| p.conflicts(b)) {
            return Err(HostPortError::Published {
                port: *b,
                owner: "being created (published twice)".into(),
            });
        }
        if self.sockets.iter().any(|s| s.blocks(b)) {
            return Err(HostPortError::Listening { port: *b });
        }
        Ok(())
    }

    fn free(&self, b: &PortBinding, mine: &[PortBinding]) -> bool {
        self.check(b, mine).is_ok()
    }
}

/// Expands specs into bindings, picking host ports where none are given and
/// failing on the first port that is taken.
pub fn resolve(specs: &[PortSpec], taken: &Taken) -> Result<Vec<PortBinding>, HostPortError> {
    let mut out: Vec<PortBinding> = Vec::new();
    for spec in specs {
        let host_ip = spec.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
        for i in 0..spec.container.len() {
            let container_port = spec.container.start + i as u16;
            let mut b = PortBinding {
                host_ip,
                host_port: 0,
                container_port,
                protocol: spec.protocol,
            };
            match spec.host {
                Some(h) if h.len() == spec.container.len() => {
                    b.host_port = h.start + i as u16;
                    taken.check(&b, &out)?;
                }
                Some(h) => b.host_port = pick(&b, (h.start, h.end), taken, &out)?,
                None => b.host_port = pick(&b, taken.dynamic, taken, &out)?,
            }
            out.push(b);
        }
    }
    Ok(out)
}

fn pick(
    b: &PortBinding,
    (start, end): (u16, u16),
    taken: &Taken,
    mine: &[PortBinding],
) -> Result<u16, HostPortError> {
    let span = u32::from(end - start) + 1;
    let first = seed() % span;
    (0..span)
        .map(|i| start + ((first + i) % span) as u16)
        .find(|&port| {
            taken.free(
                &PortBinding {
                    host_port: port,
                    ..*b
                },
                mine,
            )
        })
        .ok_or_else(|| HostPortError::NoFreePort {
            start,
            end,
            spec: format!("{}/{}", b.container_port, b.protocol),
        })
}

fn seed() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    t.subsec_nanos() ^ std::process::id()
}

/// The kernel's ephemeral port range, 32768-60999 when unreadable.
pub fn dynamic_range() -> (u16, u16) {
    let text =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut it = text
        .split_whitespace()
        .filter_map(|s| s.parse::<u16>().ok());
    match (it.next(), it.next()) {
        (Some(a), Some(b)) if a <= b && a > 0 => (a, b),
        _ => (32768, 60999),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue\n\
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000\n\
   1: 0100007F:0050 00000000:0000 0A 00000000:00000000\n\
   2: 0100007F:0051 0100007F:1234 01 00000000:00000000\n";
    const TCP6: &str = "  sl  local_address remote st\n\
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A\n\
   1: 0000000000000000FFFF00000100007F:0017 00000000000000000000000000000000:0000 0A\n";

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_proc_net() {
        let s = parse_proc_net(TCP, Protocol::Tcp, false);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].ip, s[0].port), (Some(Ipv4Addr::UNSPECIFIED), 8080));
        assert_eq!((s[1].ip, s[1].port), (Some(Ipv4Addr::LOCALHOST), 80));
        let s = parse_proc_net(TCP6, Protocol::Tcp, true);
        assert_eq!((s[0].ip, s[0].port), (Some(Ipv4Addr::UNSPECIFIED), 22));
        assert_eq!((s[1].ip, s[1].port), (Some(Ipv4Addr::LOCALHOST), 23));
    }

    fn spec(s: &str) -> PortSpec {
        PortSpec::parse(s).unwrap()
    }

    #[test]
    fn resolves_and_detects_conflicts() {
        let other = PortBinding {
            host_ip: Ipv4Addr::UNSPECIFIED,
            host_port: 8080,
            container_port: 80,
            protocol: Protocol::Tcp,
        };
        let published = [(other, "web".to_string())];
        let sockets = [HostSocket {
            protocol: Protocol::Udp,
            ip: Some(Ipv4Addr::LOCALHOST),
            port: 53,
        }];
        let taken = Taken {
            published: &published,
            sockets: &sockets,
            dynamic: (40000, 40002),
        };
        let e = resolve(&[spec("127.0.0.1:8080:80")], &taken).unwrap_err();
        assert_eq!(
            e.to_string(),
            "port already in use 127.0.0.1:8080/tcp: published by container web"
        );
        let e = resolve(&[spec("53:53/udp")], &taken).unwrap_err();
        assert_eq!(
            e.to_string(),
            "port already in use 53/udp: a host process listens on it"
        );
        assert!(resolve(&[spec("8080:80/udp"), spec("127.0.0.2:53:53/udp")], &taken).is_ok());
        let r = resolve(&[spec("9000-9099:80-179")], &taken).unwrap();
        assert_eq!(r.len(), 100);
        assert_eq!((r[99].host_port, r[99].container_port), (9099, 179));
        let r = resolve(&[spec("80-82")], &taken).unwrap();
        let mut ports: Vec<u16> = r.iter().map(|b| b.host_port).collect();
        ports.sort();
        assert_eq!(ports, vec![40000, 40001, 40002]);
        let e = resolve(&[spec("80-83")], &taken).unwrap_err();
        assert_eq!(e.to_string(), "no free host port in 40000-40002 for 83/tcp");
        let r = resolve(&[spec("8080-8081:80")], &taken).unwrap();
        assert_eq!(r[0].host_port, 8081);
    }
}
