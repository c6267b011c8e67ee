//! The resolver's loop: one thread, one epoll over the control socket,
//! the records' inotify, the host's forwarding sockets and the sockets of
//! every served namespace. Records are reread whenever the directory
//! changed (checked before each batch of queries, so a `rename`,
//! `connect` or `disconnect` that finished before a query is seen by it),
//! and the served namespaces follow the records. The loop ends when no
//! container needs the resolver any more.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Instant;

use crate::wire::{self, Rcode};
use crate::zone::{nameservers, upstreams, NsId, Outcome, Zone};

use super::control;
use super::forward::{Flight, Flights, Via, MAX_FLIGHTS, TIMEOUT};
use super::nsock::{self, NsSockets};
use super::sys::{Epoll, Inotify};
use super::tcp;

// Tokens: the kind in the top byte, a served namespace's key below.
const CONTROL: u64 = 1 << 56;
const INOTIFY: u64 = 2 << 56;
const HOST4: u64 = 3 << 56;
const HOST6: u64 = 4 << 56;
const NS_UDP: u64 = 5 << 56;
const NS_TCP: u64 = 6 << 56;
const NS_FWD: u64 = 7 << 56;
const KEY: u64 = (1 << 56) - 1;

/// A namespace the resolver answers in.
struct Served {
    ns: NsId,
    socks: NsSockets,
}

pub struct Worker {
    root: PathBuf,
    epoll: Epoll,
    control: UnixListener,
    inotify: Inotify,
    zone: Arc<Zone>,
    served: BTreeMap<u64, Served>,
    by_ns: BTreeMap<NsId, u64>,
    next_key: u64,
    /// Why a client's namespace could not be served, by path.
    failed: BTreeMap<PathBuf, String>,
    host4: Option<UdpSocket>,
    host6: Option<UdpSocket>,
    host_ns: Option<std::fs::File>,
    host_conf: HostConf,
    flights: Flights,
    tcp_active: Arc<AtomicUsize>,
    buf: Vec<u8>,
}

impl Worker {
    pub fn new(root: &Path, control: UnixListener) -> std::io::Result<Worker> {
        let epoll = Epoll::new()?;
        let inotify = Inotify::watch_dir(&root.join("networks"))?;
        control.set_nonblocking(true)?;
        epoll.add(control.as_raw_fd(), CONTROL)?;
        epoll.add(inotify.fd(), INOTIFY)?;
        let host4 = host_socket(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let host6 = host_socket(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        if let Some(s) = &host4 {
            epoll.add(s.as_raw_fd(), HOST4)?;
        }
        if let Some(s) = &host6 {
            epoll.add(s.as_raw_fd(), HOST6)?;
        }
        Ok(Worker {
            root: root.to_path_buf(),
            epoll,
            control,
            inotify,
            zone: Arc::new(Zone::default()),
            served: BTreeMap::new(),
            by_ns: BTreeMap::new(),
            next_key: 1,
            failed: BTreeMap::new(),
            host4,
            host6,
            host_ns: std::fs::File::open("/proc/thread-self/ns/net").ok(),
            host_conf: HostConf::new(),
            flights: Flights::default(),
            tcp_active: Arc::new(AtomicUsize::new(0)),
            buf: vec![0; 65536],
        })
    }

    /// Serves until no container needs the resolver; the exit code.
    pub fn run(mut self) -> i32 {
        self.reload();
        while !self.idle() {
            let timeout = self.flights.next_deadline().map_or(-1, |d| {
                let left = d.saturating_duration_since(Instant::now());
                left.as_millis().min(60_000) as i32 + 1
            });
            let tokens = match self.epoll.wait(timeout) {
                Ok(t) => t,
                Err(_) => return 1,
            };
            // Changes to the records first: a query sees every change that
            // was made before it.
            if self.inotify.drain() {
                self.reload();
            }
            for t in tokens {
                self.dispatch(t);
            }
            for f in self.flights.expired(Instant::now()) {
                self.retry(f);
            }
        }
        0
    }

    /// No client left in the records (and none half-served).
    fn idle(&self) -> bool {
        self.zone.clients().is_empty() && self.served.is_empty()
    }

    fn dispatch(&mut self, token: u64) {
        let key = token & KEY;
        match token & !KEY {
            CONTROL => self.control(),
            INOTIFY => {}
            HOST4 => self.upstream_replies(Via::Host4),
            HOST6 => self.upstream_replies(Via::Host6),
            NS_UDP => self.queries(key),
            NS_TCP => self.accept_tcp(key),
            NS_FWD => self.upstream_replies(Via::Ns(key)),
            _ => {}
        }
    }

    fn control(&mut self) {
        while let Ok((stream, _)) = self.control.accept() {
            let Some(req) = control::read_request(&stream) else {
                continue;
            };
            self.inotify.drain();
            self.reload();
            let err = req.path.as_ref().and_then(|p| self.failed.get(p).cloned());
            yurta_fault::point("dns.synced");
            control::reply(stream, err.as_deref());
        }
    }

    /// Rereads the records and serves exactly their clients' namespaces.
    fn reload(&mut self) {
        self.zone = Arc::new(Zone::load(&self.root));
        let gone: Vec<u64> = self
            .served
            .iter()
            .filter(|(_, s)| !self.zone.clients().contains_key(&s.ns))
            .map(|(k, _)| *k)
            .collect();
        for key in gone {
            if let Some(s) = self.served.remove(&key) {
                self.by_ns.remove(&s.ns);
            }
            self.flights.drop_client(key);
        }
        self.failed.clear();
        let zone = self.zone.clone();
        for (ns, client) in zone.clients() {
            if !self.by_ns.contains_key(ns) {
                if let Err(e) = self.serve(*ns, &client.path) {
                    self.failed.insert(client.path.clone(), e);
                }
            }
        }
    }

    fn serve(&mut self, ns: NsId, path: &Path) -> Result<(), String> {
        let socks = nsock::open(path, ns)?;
        let key = self.next_key;
        self.next_key += 1;
        let reg = |fd, kind| self.epoll.add(fd, kind | key).map_err(|e| e.to_string());
        reg(socks.udp.as_raw_fd(), NS_UDP)?;
        reg(socks.tcp.as_raw_fd(), NS_TCP)?;
        reg(socks.fwd.as_raw_fd(), NS_FWD)?;
        self.served.insert(key, Served { ns, socks });
        self.by_ns.insert(ns, key);
        Ok(())
    }

    /// Queries arrived on a namespace's 127.0.0.11.
    fn queries(&mut self, key: u64) {
        for _ in 0..64 {
            let Some(s) = self.served.get(&key) else {
                return;
            };
            let Ok((n, from)) = s.socks.udp.recv_from(&mut self.buf) else {
                return;
            };
            let msg = self.buf[..n].to_vec();
            self.query(key, &msg, from);
        }
    }

    fn query(&mut self, key: u64, msg: &[u8], from: SocketAddr) {
        let Some(s) = self.served.get(&key) else {
            return;
        };
        let q = match wire::parse_query(msg) {
            Ok(q) => q,
            Err(_) => {
                if let Some(h) = wire::Header::parse(msg).ok().filter(|h| !h.is_response()) {
                    let _ = s
                        .socks
                        .udp
                        .send_to(&wire::error_reply(&h, Rcode::FormErr), from);
                }
                return;
            }
        };
        let Some(client) = self.zone.clients().get(&s.ns) else {
            let r = wire::reply(&q, Rcode::Refused, &[], q.udp_limit());
            let _ = s.socks.udp.send_to(&r, from);
            return;
        };
        let (rcode, answers) = match self.zone.resolve(client, &q) {
            Outcome::Reply(rc, a) => (rc, a),
            Outcome::Forward => {
                let ups = upstreams(client, self.host_conf.servers());
                if !ups.is_empty() && self.flights.len() < MAX_FLIGHTS {
                    let f = Flight {
                        client: key,
                        client_addr: from,
                        client_id: q.header.id,
                        query: msg.to_vec(),
                        question_len: q.question.len(),
                        ups,
                        tried: 0,
                        deadline: Instant::now(),
                    };
                    self.send(f);
                    return;
                }
                (Rcode::Refused, Vec::new())
            }
        };
        let _ = s
            .socks
            .udp
            .send_to(&wire::reply(&q, rcode, &answers, q.udp_limit()), from);
    }

    /// Sends the query to its current server, or to the next ones when
    /// that fails; SERVFAIL to the client when none is left.
    fn send(&mut self, mut f: Flight) {
        while let Some(via) = f.via() {
            let addr = f.ups[f.tried].addr;
            let id = self.flights.fresh_id(via);
            wire::set_id(&mut f.query, id);
            let sent = self.socket(via).map(|s| s.send_to(&f.query, addr));
            if matches!(sent, Some(Ok(_))) {
                f.deadline = Instant::now() + TIMEOUT;
                self.flights.insert(via, id, f);
                return;
            }
            f.tried += 1;
        }
        self.servfail(f);
    }

    fn retry(&mut self, mut f: Flight) {
        f.tried += 1;
        self.send(f);
    }

    fn servfail(&mut self, mut f: Flight) {
        wire::set_id(&mut f.query, f.client_id);
        let (Some(s), Ok(q)) = (self.served.get(&f.client), wire::parse_query(&f.query)) else {
            return;
        };
        let r = wire::reply(&q, Rcode::ServFail, &[], q.udp_limit());
        let _ = s.socks.udp.send_to(&r, f.client_addr);
    }

    fn socket(&self, via: Via) -> Option<&UdpSocket> {
        match via {
            Via::Host4 => self.host4.as_ref(),
            Via::Host6 => self.host6.as_ref(),
            Via::Ns(key) => self.served.get(&key).map(|s| &s.socks.fwd),
        }
    }

    /// Replies from servers: relayed to the client with its own id.
    fn upstream_replies(&mut self, via: Via) {
        let mut buf = std::mem::take(&mut self.buf);
        self.relay(via, &mut buf);
        self.buf = buf;
    }

    fn relay(&mut self, via: Via, buf: &mut [u8]) {
        for _ in 0..64 {
            let Some(sock) = self.socket(via) else {
                return;
            };
            let Ok((n, from)) = sock.recv_from(buf) else {
                return;
            };
            let Some(f) = self.flights.take_reply(via, from, &buf[..n]) else {
                continue;
            };
            wire::set_id(&mut buf[..n], f.client_id);
            if let Some(s) = self.served.get(&f.client) {
                let _ = s.socks.udp.send_to(&buf[..n], f.client_addr);
            }
        }
    }

    fn accept_tcp(&mut self, key: u64) {
        let host_servers = self.host_conf.servers().to_vec();
        let Some(s) = self.served.get(&key) else {
            return;
        };
        let Some(client) = self.zone.clients().get(&s.ns).cloned() else {
            return;
        };
        while let Ok((stream, _)) = s.socks.tcp.accept() {
            let (Ok(ns), host_ns) = (
                s.socks.ns.try_clone(),
                self.host_ns.as_ref().and_then(|f| f.try_clone().ok()),
            ) else {
                continue;
            };
            tcp::spawn(tcp::Conn {
                stream,
                zone: self.zone.clone(),
                client: client.clone(),
                ns,
                host_ns,
                host_servers: host_servers.clone(),
                active: self.tcp_active.clone(),
            });
        }
    }
}

/// A UDP socket of the host's namespace for loopback servers.
fn host_socket(any: IpAddr) -> Option<UdpSocket> {
    let s = UdpSocket::bind(SocketAddr::new(any, 0)).ok()?;
    s.set_nonblocking(true).ok()?;
    Some(s)
}

/// The host's name servers, reread when its resolv.conf changes
/// (`YURTA_DNS_RESOLV_CONF` names another file, for tests).
struct HostConf {
    path: PathBuf,
    stamp: Option<(i64, i64, u64)>,
    servers: Vec<IpAddr>,
}

impl HostConf {
    fn new() -> HostConf {
        let path = std::env::var_os("YURTA_DNS_RESOLV_CONF")
            .map(PathBuf::from)
            .unwrap_or_else(|| "/etc/resolv.conf".into());
        HostConf {
            path,
            stamp: None,
            servers: Vec::new(),
        }
    }

    fn servers(&mut self) -> &[IpAddr] {
        use std::os::unix::fs::MetadataExt;
        let stamp = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.mtime(), m.mtime_nsec(), m.ino()));
        if stamp != self.stamp {
            self.stamp = stamp;
            let text = std::fs::read_to_string(&self.path).unwrap_or_default();
            self.servers = nameservers(&text);
        }
        &self.servers
    }
}
