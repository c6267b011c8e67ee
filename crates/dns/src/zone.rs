//! The names the resolver answers, read from the network records
//! (`<root>/networks/*.json`): for each container namespace on a user
//! network (a client), the names of the containers on its networks, as
//! Docker scopes them — a container sees the names of its own networks
//! only. Also which servers a client's other names are forwarded to.
//!
//! Owns no sockets; [`crate::server`] asks it for every query.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use yurta_network::record::short;
use yurta_network::Network;

use crate::wire::{self, Answer, Query, Rcode};

/// A network namespace: its nsfs device and inode (what `stat` of a
/// bind-mounted namespace file, or `fstat` of an open one, gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NsId {
    pub dev: u64,
    pub ino: u64,
}

impl NsId {
    /// The namespace at `path` if it is a namespace file (a file left
    /// after a reboot, no longer a mount, is not).
    pub fn of_path(path: &Path) -> Option<NsId> {
        const NSFS_MAGIC: i64 = 0x6e73_6673;
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
        // SAFETY: an all-zero statfs is a valid value to be overwritten.
        let mut st: libc::statfs = unsafe { std::mem::zeroed() };
        // SAFETY: a NUL-terminated path and a statfs that lives for the call.
        if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 || st.f_type as i64 != NSFS_MAGIC {
            return None;
        }
        let m = std::fs::metadata(path).ok()?;
        Some(NsId {
            dev: m.dev(),
            ino: m.ino(),
        })
    }
}

/// A container namespace the resolver serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The namespace file (from the endpoint records).
    pub path: PathBuf,
    pub container_id: String,
    /// Indexes of its user networks in [`Zone::networks`].
    networks: Vec<usize>,
    /// `--dns` of its endpoints.
    pub servers: Vec<IpAddr>,
    /// Every network it is on is internal: nothing is forwarded from the
    /// host's namespace for it.
    pub internal_only: bool,
}

/// One container on a network, as names see it.
#[derive(Debug, Clone)]
struct Entry {
    /// Lower case: container name, aliases, short id.
    names: Vec<String>,
    ip: Ipv4Addr,
}

#[derive(Debug, Clone)]
struct NetNames {
    name: String,
    entries: Vec<Entry>,
}

/// What the resolver does with a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Reply(Rcode, Vec<Answer>),
    Forward,
}

/// The names of every client's networks.
#[derive(Debug, Default)]
pub struct Zone {
    clients: BTreeMap<NsId, Client>,
    networks: Vec<NetNames>,
}

impl Zone {
    /// The zone of the records under `<root>/networks` (unreadable or
    /// half-written files are skipped: the next change reloads).
    pub fn load(root: &Path) -> Zone {
        let dir = root.join("networks");
        let mut nets = Vec::new();
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            let parsed = std::fs::read(e.path())
                .ok()
                .and_then(|b| serde_json::from_slice::<Network>(&b).ok());
            nets.extend(parsed);
        }
        nets.sort_by(|a, b| a.name.cmp(&b.name));
        Zone::build(&nets, NsId::of_path)
    }

    /// The zone of `nets`; `ns_of` names the namespace behind a path.
    pub fn build(nets: &[Network], ns_of: impl Fn(&Path) -> Option<NsId>) -> Zone {
        let mut zone = Zone::default();
        // Container id → (namespace, on a user network, any non-internal).
        let mut owners: BTreeMap<&str, (NsId, bool, bool)> = BTreeMap::new();
        let mut servers: BTreeMap<&str, Vec<IpAddr>> = BTreeMap::new();
        for net in nets {
            let index = zone.networks.len();
            if !net.is_default {
                zone.networks.push(names_of(net));
            }
            for ep in net.endpoints.values() {
                let Some(ns) = ep.netns.as_deref().and_then(&ns_of) else {
                    continue;
                };
                let id = ep.container_id.as_str();
                let o = owners.entry(id).or_insert((ns, false, false));
                o.1 |= !net.is_default;
                o.2 |= !net.internal;
                let s = servers.entry(id).or_default();
                for ip in &ep.dns_servers {
                    if !s.contains(ip) {
                        s.push(*ip);
                    }
                }
                if net.is_default {
                    continue;
                }
                let path = ep.netns.clone().unwrap_or_default();
                let client = zone.clients.entry(ns).or_insert_with(|| Client {
                    path,
                    container_id: id.to_string(),
                    networks: Vec::new(),
                    servers: Vec::new(),
                    internal_only: true,
                });
                client.networks.push(index);
            }
        }
        for (id, (ns, _, open)) in owners {
            if let Some(c) = zone.clients.get_mut(&ns) {
                c.internal_only &= !open;
                c.servers = servers.remove(id).unwrap_or_default();
            }
        }
        zone
    }

    pub fn clients(&self) -> &BTreeMap<NsId, Client> {
        &self.clients
    }

    /// The addresses `name` has for the client: container names, aliases
    /// and short ids on its networks, also as `NAME.NETWORK`.
    pub fn lookup(&self, client: &Client, name: &str) -> Vec<Ipv4Addr> {
        let mut out = Vec::new();
        for net in client.networks.iter().filter_map(|i| self.networks.get(*i)) {
            let bare = name
                .strip_suffix(net.name.as_str())
                .and_then(|n| n.strip_suffix('.'));
            for e in &net.entries {
                let hit = e
                    .names
                    .iter()
                    .any(|n| n == name || Some(n.as_str()) == bare);
                if hit && !out.contains(&e.ip) {
                    out.push(e.ip);
                }
            }
        }
        out
    }

    /// `NAME.NETWORK` of the container with address `ip` on the client's
    /// networks.
    pub fn reverse(&self, client: &Client, ip: Ipv4Addr) -> Option<String> {
        client
            .networks
            .iter()
            .filter_map(|i| self.networks.get(*i))
            .find_map(|net| {
                let e = net.entries.iter().find(|e| e.ip == ip)?;
                Some(format!("{}.{}", e.names.first()?, net.name))
            })
    }

    /// The answer to `q` from the client's names, or Forward.
    pub fn resolve(&self, client: &Client, q: &Query) -> Outcome {
        if q.header.opcode() != 0 {
            return Outcome::Reply(Rcode::NotImp, Vec::new());
        }
        let Some(name) = q.name.as_deref() else {
            return Outcome::Forward;
        };
        if !matches!(q.qclass, wire::CLASS_IN | wire::CLASS_ANY) {
            return Outcome::Forward;
        }
        if q.qtype == wire::TYPE_PTR {
            return match wire::ptr_v4(name).and_then(|ip| self.reverse(client, ip)) {
                Some(n) => Outcome::Reply(Rcode::NoError, vec![Answer::Ptr(n)]),
                None => Outcome::Forward,
            };
        }
        let ips = self.lookup(client, name);
        if ips.is_empty() {
            return Outcome::Forward;
        }
        match q.qtype {
            wire::TYPE_A | wire::TYPE_ANY => {
                Outcome::Reply(Rcode::NoError, ips.into_iter().map(Answer::A).collect())
            }
            // AAAA and the rest: the name exists, without such records.
            _ => Outcome::Reply(Rcode::NoError, Vec::new()),
        }
    }
}

fn names_of(net: &Network) -> NetNames {
    let entries = net
        .endpoints
        .values()
        .map(|ep| {
            let mut names = Vec::new();
            if !ep.container_name.is_empty() {
                names.push(ep.container_name.to_ascii_lowercase());
            }
            names.extend(ep.aliases.iter().map(|a| a.to_ascii_lowercase()));
            names.push(short(&ep.container_id).to_ascii_lowercase());
            Entry { names, ip: ep.ip }
        })
        .collect();
    NetNames {
        name: net.name.to_ascii_lowercase(),
        entries,
    }
}

/// Where a forwarded query goes, and from which namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upstream {
    pub addr: SocketAddr,
    /// Sent from the host's namespace (a loopback server of the host's,
    /// such as systemd-resolved's 127.0.0.53); otherwise from the
    /// container's, as the container itself would.
    pub from_host: bool,
}

/// At most this many servers are tried for one query.
pub const MAX_UPSTREAMS: usize = 3;

/// Docker's servers when the host has none a container can use.
const FALLBACK: [Ipv4Addr; 2] = [Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(8, 8, 4, 4)];

/// The servers a client's other names go to: its `--dns` (from its
/// namespace); else the host's, loopback ones from the host's namespace
/// (not for internal networks: they reach nothing outside); else Docker's
/// public fallback. IPv6 servers only on the host's loopback (the
/// networks are IPv4).
pub fn upstreams(client: &Client, host: &[IpAddr]) -> Vec<Upstream> {
    let at = |ip: IpAddr, from_host| Upstream {
        addr: SocketAddr::new(ip, 53),
        from_host,
    };
    let mut out: Vec<Upstream> = if !client.servers.is_empty() {
        let v4 = client.servers.iter().filter(|ip| ip.is_ipv4());
        v4.map(|ip| at(*ip, false)).collect()
    } else {
        let usable = |ip: &&IpAddr| {
            if ip.is_loopback() {
                !client.internal_only
            } else {
                ip.is_ipv4()
            }
        };
        let hosts: Vec<Upstream> = host
            .iter()
            .filter(usable)
            .map(|ip| at(*ip, ip.is_loopback()))
            .collect();
        if hosts.is_empty() && !client.internal_only {
            FALLBACK.iter().map(|ip| at((*ip).into(), false)).collect()
        } else {
            hosts
        }
    };
    out.truncate(MAX_UPSTREAMS);
    out
}

/// The `nameserver` addresses of a resolv.conf.
pub fn nameservers(resolv_conf: &str) -> Vec<IpAddr> {
    resolv_conf
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("nameserver")).then(|| w.next())?
        })
        .filter_map(|s| s.parse().ok())
        .collect()
}

#[cfg(test)]
#[path = "zone_tests.rs"]
mod tests;
