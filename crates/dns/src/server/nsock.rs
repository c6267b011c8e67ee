//! The resolver's sockets inside a container's network namespace.
//!
//! A short-lived thread enters the namespace (`setns` affects that thread
//! only) and binds a UDP and a TCP socket on 127.0.0.11 with ports the
//! kernel picks, plus a UDP socket for forwarding (queries to the
//! container's `--dns` or the host's servers leave from the container's
//! own address, as they would without the resolver). Sockets keep the
//! namespace they were made in. Then, from the same thread, `nft` (which
//! inherits the thread's namespace) writes the namespace's table
//! `ip yurta_dns`: 127.0.0.11:53 is DNATed to those ports, as Docker does
//! with iptables, so that port 53 stays free for the container's own
//! servers (a DNS server binding 0.0.0.0:53 works). The table is replaced
//! whole each time and goes with the namespace.

use std::fs::File;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::zone::NsId;

use super::sys;

/// The address containers ask (Docker's).
pub const RESOLVER_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

/// The nft table in each served namespace.
pub const TABLE: &str = "yurta_dns";

/// What the resolver holds in one namespace.
pub struct NsSockets {
    /// The namespace, for TCP forwarding threads.
    pub ns: File,
    pub udp: UdpSocket,
    pub tcp: TcpListener,
    pub fwd: UdpSocket,
}

/// Opens the sockets in the namespace at `path`, which must still be
/// `id` (a container that restarted has a new namespace at the same path).
pub fn open(path: &Path, id: NsId) -> Result<NsSockets, String> {
    let ns = File::open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
    let m = ns
        .metadata()
        .map_err(|e| format!("stat {}: {e}", path.display()))?;
    if (m.dev(), m.ino()) != (id.dev, id.ino) {
        return Err(format!("{}: another namespace now", path.display()));
    }
    let inside = ns
        .try_clone()
        .map_err(|e| format!("dup {}: {e}", path.display()))?;
    let (udp, tcp, fwd) = std::thread::spawn(move || bind_inside(&inside))
        .join()
        .map_err(|_| "namespace thread panicked".to_string())?
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let nonblocking = udp
        .set_nonblocking(true)
        .and_then(|()| fwd.set_nonblocking(true))
        .and_then(|()| tcp.set_nonblocking(true));
    nonblocking.map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(NsSockets { ns, udp, tcp, fwd })
}

/// In the namespace's thread: the three sockets and the DNAT rules.
fn bind_inside(ns: &File) -> Result<(UdpSocket, TcpListener, UdpSocket), String> {
    sys::setns_net(ns).map_err(|e| format!("setns: {e}"))?;
    let on = SocketAddr::from((RESOLVER_IP, 0));
    let udp = UdpSocket::bind(on).map_err(|e| format!("bind udp {RESOLVER_IP}: {e}"))?;
    let tcp = TcpListener::bind(on).map_err(|e| format!("bind tcp {RESOLVER_IP}: {e}"))?;
    let fwd = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .map_err(|e| format!("bind the forwarding socket: {e}"))?;
    let port = |a: std::io::Result<SocketAddr>| a.map(|a| a.port()).unwrap_or(0);
    let (u, t) = (port(udp.local_addr()), port(tcp.local_addr()));
    yurta_fault::point("dns.netns.bound");
    nft(&rules(u, t))?;
    yurta_fault::point("dns.netns.rules");
    Ok((udp, tcp, fwd))
}

/// The namespace's table: 127.0.0.11:53 to the resolver's ports. The first
/// two lines make the `delete` succeed whether or not the table exists,
/// so the whole script is one transaction that replaces it.
pub fn rules(udp_port: u16, tcp_port: u16) -> String {
    format!(
        "table ip {TABLE}\ndelete table ip {TABLE}\ntable ip {TABLE} {{\n\
         \tchain output {{\n\
         \t\ttype nat hook output priority -100; policy accept;\n\
         \t\tip daddr {RESOLVER_IP} udp dport 53 dnat to {RESOLVER_IP}:{udp_port}\n\
         \t\tip daddr {RESOLVER_IP} tcp dport 53 dnat to {RESOLVER_IP}:{tcp_port}\n\
         \t}}\n}}\n"
    )
}

/// Runs `nft -f -` with `script` (in the calling thread's namespace).
fn nft(script: &str) -> Result<(), String> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("nft: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(script.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| format!("nft: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or_default();
        return Err(format!("nft: {}: {first}", out.status));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_dnats_port_53() {
        let r = rules(40001, 40002);
        assert!(r.starts_with("table ip yurta_dns\ndelete table ip yurta_dns\n"));
        assert!(r.contains("udp dport 53 dnat to 127.0.0.11:40001\n"));
        assert!(r.contains("tcp dport 53 dnat to 127.0.0.11:40002\n"));
    }
}
