//! Fixture for the root tests: a private root directory, nft table, bridge
//! and veth names and subnets derived from the test's pid and number, test
//! namespaces made with `ip netns add`, and a Drop guard that removes all of
//! it. Traffic only ever goes over loopback, the test's bridges and netns.

#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::sched::{setns, CloneFlags};
use yurta_network::{Config, Ipv4Net, Networks, Pools};

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Skips the test (returns None) unless running as root.
pub fn fixture(k: u32) -> Option<Fixture> {
    if !is_root() {
        eprintln!("skipped: needs root");
        return None;
    }
    Some(Fixture::new(k))
}

pub struct Fixture {
    pub tag: String,
    pub dir: tempfile::TempDir,
    pub nets: Networks,
    pub netns: Vec<String>,
    k: u32,
}

/// A /24 of 10.240.0.0/12 unique to this process and test.
pub fn test_subnet(k: u32, i: u32) -> Ipv4Net {
    let idx = (std::process::id() * 64 + k * 4 + i) % 4096;
    let ip = Ipv4Addr::new(10, 240 + (idx / 256) as u8, (idx % 256) as u8, 0);
    Ipv4Net::new(ip, 24).unwrap()
}

impl Fixture {
    fn new(k: u32) -> Self {
        let tag = format!("{:x}", (std::process::id() % 0x10000) * 16 + k);
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::new(dir.path());
        cfg.table = format!("yt{tag}");
        cfg.default_bridge = format!("yd{tag}");
        cfg.bridge_prefix = format!("yb{tag}");
        cfg.veth_prefix = format!("yv{tag}");
        cfg.tap_prefix = format!("yp{tag}");
        cfg.pools = Pools {
            default_candidates: vec![test_subnet(k, 3)],
            user_ranges: vec![test_subnet(k, 2)],
            user_prefix: 24,
            reserved: vec![],
        };
        let nets = Networks::open(cfg).unwrap();
        Fixture {
            tag,
            dir,
            nets,
            netns: Vec::new(),
            k,
        }
    }

    pub fn subnet(&self, i: u32) -> String {
        test_subnet(self.k, i).to_string()
    }

    /// A new named netns; returns its path.
    pub fn add_netns(&mut self) -> PathBuf {
        let name = format!("yn{}-{}", self.tag, self.netns.len());
        run("ip", &["netns", "add", &name]);
        self.netns.push(name.clone());
        PathBuf::from(format!("/run/netns/{name}"))
    }

    /// This test's links (they all have its tag in their name), sorted.
    pub fn own_links(&self) -> Vec<String> {
        let mut out: Vec<String> = links()
            .into_iter()
            .filter(|l| l.contains(&self.tag))
            .collect();
        out.sort();
        out
    }

    /// What of this test is left on the host: links, the table, netns.
    pub fn leftovers(&self) -> Vec<String> {
        let mut out: Vec<String> = links()
            .into_iter()
            .filter(|l| l.contains(&self.tag))
            .collect();
        if tables().iter().any(|t| *t == format!("yt{}", self.tag)) {
            out.push(format!("table yt{}", self.tag));
        }
        out.extend(netns_names().into_iter().filter(|n| n.contains(&self.tag)));
        out
    }

    /// Tears everything down and checks nothing is left.
    pub fn finish(mut self) {
        self.nets.destroy_all().unwrap();
        for n in std::mem::take(&mut self.netns) {
            run("ip", &["netns", "del", &n]);
        }
        let left = self.leftovers();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.nets.destroy_all();
        for n in &self.netns {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}

pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn succeeds(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Link names (`ip -j link`).
pub fn links() -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&run("ip", &["-j", "link"])).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["ifname"].as_str().map(String::from))
        .collect()
}

/// `ip -d -j link show dev NAME`: the link's details (`linkinfo`,
/// `master`, `flags`…), None when there is no such link.
pub fn link_details(name: &str) -> Option<serde_json::Value> {
    let out = Command::new("ip")
        .args(["-d", "-j", "link", "show", "dev", name])
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(v[0].take())
}

/// The link's flags (`UP`, `LOWER_UP`, `NO-CARRIER`…).
pub fn link_flags(details: &serde_json::Value) -> Vec<String> {
    details["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str().map(String::from))
        .collect()
}

mod tun {
    nix::ioctl_write_ptr_bad!(
        /// `TUNSETIFF` (`_IOW('T', 202, int)`, taking a `struct ifreq`).
        set_iff,
        nix::request_code_write!(b'T', 202, std::mem::size_of::<libc::c_int>()),
        libc::ifreq
    );
}

/// Opens an existing tap by name as QEMU does (`TUNSETIFF` with
/// `IFF_TAP | IFF_NO_PI | IFF_VNET_HDR`), non-blocking: frames are read
/// and written with a 10-byte `virtio_net_hdr` in front.
pub fn open_tap(name: &str) -> std::io::Result<File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/net/tun")?;
    // SAFETY: `ifreq` is plain C data; all zeroes is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes().take(15)) {
        *d = s as libc::c_char;
    }
    ifr.ifr_ifru.ifru_flags =
        (libc::IFF_TAP | libc::IFF_NO_PI | libc::IFF_VNET_HDR) as libc::c_short;
    // SAFETY: an open /dev/net/tun fd and a pointer from a unique borrow of
    // a live `ifreq`, read and written back by the kernel during the call.
    unsafe { tun::set_iff(f.as_raw_fd(), std::ptr::addr_of_mut!(ifr).cast_const()) }?;
    Ok(f)
}

/// Sends ARP "who has `gateway`" from `ip` (with a made-up MAC) through an
/// open tap and waits up to 3 s for the reply; true when the gateway
/// (the bridge) answered.
pub fn arp_through_tap(tap: &mut File, ip: Ipv4Addr, gateway: Ipv4Addr) -> bool {
    const VNET_HDR: usize = 10;
    let mac = [0x02, 0x54, 0x00, 0x12, 0x34, 0x56];
    let mut frame = vec![0u8; VNET_HDR];
    frame.extend_from_slice(&[0xff; 6]);
    frame.extend_from_slice(&mac);
    frame.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
    frame.extend_from_slice(&mac);
    frame.extend_from_slice(&ip.octets());
    frame.extend_from_slice(&[0; 6]);
    frame.extend_from_slice(&gateway.octets());
    frame.resize(VNET_HDR + 60, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let mut buf = vec![0u8; 65536];
    while std::time::Instant::now() < deadline {
        tap.write_all(&frame).unwrap();
        let resend = std::time::Instant::now() + Duration::from_millis(300);
        while std::time::Instant::now() < resend {
            let n = match tap.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                Err(e) => panic!("read tap: {e}"),
            };
            let eth = &buf[VNET_HDR.min(n)..n];
            let is_reply = eth.len() >= 42
                && eth[..6] == mac
                && eth[12..14] == [0x08, 0x06]
                && eth[20..22] == [0, 2]
                && eth[28..32] == gateway.octets()
                && eth[38..42] == ip.octets();
            if is_reply {
                return true;
            }
        }
    }
    false
}

/// nft table names (`nft -j list tables`).
pub fn tables() -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(&run("nft", &["-j", "list", "tables"])).unwrap();
    v["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["table"]["name"].as_str().map(String::from))
        .collect()
}

pub fn netns_names() -> Vec<String> {
    run("ip", &["netns", "list"])
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

/// The table's rules without handles and counters, for before/after checks.
pub fn table_rules(table: &str) -> Vec<String> {
    let out = Command::new("nft")
        .args(["-j", "list", "table", "ip", table])
        .output()
        .unwrap();
    if !out.status.success() {
        return Vec::new();
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i.get("rule"))
        .map(|r| format!("{} {} {}", r["chain"], r["expr"], r["comment"]))
        .collect()
}

/// Runs `f` in a thread that entered the namespace at `netns`.
pub fn in_netns<T: Send>(netns: &Path, f: impl FnOnce() -> T + Send) -> T {
    let file = File::open(netns).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            setns(&file, CloneFlags::CLONE_NEWNET).unwrap();
            f()
        })
        .join()
        .unwrap()
    })
}

/// A TCP server in the namespace answering every connection with `reply`.
pub fn tcp_server(netns: &Path, port: u16, reply: &'static str) {
    let l = in_netns(netns, || TcpListener::bind(("0.0.0.0", port)).unwrap());
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let _ = c.write_all(reply.as_bytes());
        }
    });
}

/// A UDP server in the namespace answering every datagram with `reply`.
pub fn udp_server(netns: &Path, port: u16, reply: &'static str) {
    let s = in_netns(netns, || UdpSocket::bind(("0.0.0.0", port)).unwrap());
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        while let Ok((_, from)) = s.recv_from(&mut buf) {
            let _ = s.send_to(reply.as_bytes(), from);
        }
    });
}

/// Connects and reads the whole reply.
pub fn tcp_get(addr: SocketAddr) -> std::io::Result<String> {
    let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
    c.set_read_timeout(Some(Duration::from_secs(3)))?;
    let mut s = String::new();
    c.read_to_string(&mut s)?;
    Ok(s)
}

pub fn udp_get(addr: SocketAddr) -> std::io::Result<String> {
    let s = UdpSocket::bind("127.0.0.1:0")?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    s.send_to(b"ping", addr)?;
    let mut buf = [0u8; 64];
    let (n, _) = s.recv_from(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// A host port that is free right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `ip netns exec NS busybox ping -c1 -W2 IP`.
pub fn ping(netns_name: &str, ip: Ipv4Addr) -> bool {
    succeeds(
        "ip",
        &[
            "netns",
            "exec",
            netns_name,
            "busybox",
            "ping",
            "-c1",
            "-W2",
            &ip.to_string(),
        ],
    )
}

/// Processes descending from this one, other than the tools the tests
/// themselves run (`ip`, `nft`, `ping`) in parallel threads: what is left
/// would be a helper the network code started (a userland proxy, say).
pub fn helper_processes() -> usize {
    let me = std::process::id().to_string();
    let mut count = 0;
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let mut cur = pid.to_string();
        for _ in 0..64 {
            let stat = std::fs::read_to_string(format!("/proc/{cur}/stat")).unwrap_or_default();
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().nth(1));
            match ppid {
                Some(p) if p == me => {
                    count += usize::from(!is_test_tool(pid));
                    break;
                }
                Some(p) if p != "0" && p != "1" => cur = p.to_string(),
                _ => break,
            }
        }
    }
    count
}

fn is_test_tool(pid: &str) -> bool {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    matches!(comm.trim_end(), "ip" | "nft" | "ping" | "")
}

pub fn process_count() -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()))
        })
        .count()
}
